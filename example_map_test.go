package signals_test

import (
	"fmt"
	"maps"
	"slices"

	"github.com/gosignals/signals"
)

func ExampleMap() {
	stock := signals.NewMap[string, int]()
	stock.Set("apples", 3)

	// Depends on "pears" alone, present or not.
	pears := signals.NewEffect(func(t *signals.Tracker) {
		n, ok := stock.Get(t, "pears")
		fmt.Println("pears:", n, ok)
	})
	defer pears.Stop()
	// Depends on which keys are present, not on their values.
	kinds := signals.NewEffect(func(t *signals.Tracker) {
		fmt.Println("kinds:", slices.Sorted(stock.Keys(t)))
	})
	defer kinds.Stop()

	stock.Update("apples", func(n int, _ bool) int { return n - 1 }) // neither effect runs
	stock.Set("pears", 5)
	stock.Delete("apples")
	// Output:
	// pears: 0 false
	// kinds: [apples]
	// pears: 5 true
	// kinds: [apples pears]
	// kinds: [pears]
}

func ExampleMap_Changes() {
	views := signals.NewMap[string, int]()
	views.Set("a", 1)

	// A total kept up to date from the keys written since the previous run:
	// the work is proportional to what changed, not to the map.
	type state struct {
		cur    signals.Cursor
		counts map[string]int
		total  int
	}
	total := signals.NewComputedFrom(func(t *signals.Tracker, prev state, ok bool) state {
		next := state{cur: prev.cur}
		keys, ok := views.Changes(t, &next.cur)
		if !ok { // the first run, or too far behind: scan everything
			fmt.Println("full scan")
			next.counts = maps.Collect(views.All(t))
			for _, n := range next.counts {
				next.total += n
			}
			return next
		}
		fmt.Println("changed:", keys)
		next.counts, next.total = maps.Clone(prev.counts), prev.total
		for _, k := range keys {
			next.total -= next.counts[k]
			n, _ := views.Get(t.Untracked(), k) // 0 if deleted
			next.counts[k] = n
			next.total += n
		}
		return next
	})
	fmt.Println(total.Peek().total)
	views.Update("a", func(n int, _ bool) int { return n + 1 })
	views.Set("b", 10)
	views.Set("a", 5)
	fmt.Println(total.Peek().total)
	// Output:
	// full scan
	// 1
	// changed: [b a]
	// 15
}
