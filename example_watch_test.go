package signals_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gosignals/signals"
)

func ExampleWatch() {
	status := signals.New("starting")
	w := signals.Watch(status, func(now, was string) {
		fmt.Printf("%s -> %s\n", was, now)
	})
	defer w.Stop()
	status.Set("ready") // the initial value is not a change
	status.Set("ready")
	status.Set("draining")
	// Output:
	// starting -> ready
	// ready -> draining
}

func ExampleWatch_options() {
	temp := signals.New(20)
	// Report moves of at least 5 degrees, the current value first, and
	// only the first move.
	w := signals.Watch(temp, func(now, was int) { fmt.Println("temperature", was, "->", now) },
		signals.WatchEqual(func(a, b int) bool { return a-b < 5 && b-a < 5 }),
		signals.Immediate(),
		signals.WatchEffect(signals.WithEffectName("temperature log")))
	defer w.Stop()
	temp.Set(22)
	temp.Set(26)
	// Output:
	// temperature 0 -> 20
	// temperature 20 -> 26
}

func ExampleWaitFor() {
	jobs := signals.New(3)
	worker := make(chan struct{})
	go func() {
		defer close(worker)
		for range 3 {
			time.Sleep(time.Millisecond)
			jobs.Update(func(n int) int { return n - 1 })
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	left, err := signals.WaitFor(ctx, jobs, func(n int) bool { return n == 0 })
	fmt.Println(left, err)
	<-worker
	// Output: 0 <nil>
}

func ExampleValues() {
	progress := signals.New(0)
	worker := make(chan struct{})
	defer func() { <-worker }()
	go func() {
		defer close(worker)
		for i := 1; i <= 100; i++ {
			progress.Set(i)
		}
	}()
	// Values conflates: a slow loop skips values, never the last one.
	for p := range signals.Values(context.Background(), progress) {
		if p == 100 {
			fmt.Println("done")
			break // stops the effect behind the iterator
		}
	}
	// Output: done
}
