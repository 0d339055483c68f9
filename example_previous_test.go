package signals_test

import (
	"fmt"
	"slices"

	"github.com/gosignals/signals"
)

func ExampleNewComputedFrom() {
	// A log of the distinct temperatures seen, built from the previous log
	// instead of being recomputed from scratch.
	temp := signals.New(20)
	history := signals.NewComputedFrom(func(t *signals.Tracker, prev []int, ok bool) []int {
		v := temp.Get(t)
		if ok && prev[len(prev)-1] == v {
			return prev
		}
		return append(slices.Clip(prev), v) // never modify prev in place
	})
	fmt.Println(history.Peek())
	temp.Set(22)
	temp.Set(19)
	fmt.Println(history.Peek())
	// Output:
	// [20]
	// [20 19]
}

func ExampleNewEffectFrom() {
	count := signals.New(1)
	e := signals.NewEffectFrom(func(t *signals.Tracker, prev int, ok bool) int {
		v := count.Get(t)
		if ok {
			fmt.Printf("count went from %d to %d\n", prev, v)
		}
		return v
	})
	defer e.Stop()
	count.Set(5)
	count.Set(2)
	// Output:
	// count went from 1 to 5
	// count went from 5 to 2
}

func ExampleNewLinked() {
	options := signals.New([]string{"small", "medium", "large"})
	size := signals.NewLinked(func(t *signals.Tracker, prev string, ok bool) string {
		opts := options.Get(t)
		if ok && slices.Contains(opts, prev) {
			return prev // keep the choice while it is still offered
		}
		return opts[0]
	})
	fmt.Println(size.Peek())
	size.Set("large") // the user picks
	fmt.Println(size.Peek())
	options.Set([]string{"medium", "large"})
	fmt.Println(size.Peek())
	options.Set([]string{"s", "m"})
	fmt.Println(size.Peek())
	// Output:
	// small
	// large
	// large
	// s
}
