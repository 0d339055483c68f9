package signals_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/gosignals/signals"
)

func Example() {
	count := signals.New(1)
	doubled := signals.NewComputed(func(t *signals.Tracker) int { return count.Get(t) * 2 })
	e := signals.NewEffect(func(t *signals.Tracker) {
		fmt.Println("count", count.Get(t), "doubled", doubled.Get(t))
	})
	defer e.Stop()

	count.Set(2)
	count.Set(2) // equal: nothing happens
	count.Update(func(n int) int { return n + 1 })
	// Output:
	// count 1 doubled 2
	// count 2 doubled 4
	// count 3 doubled 6
}

func ExampleNewComputed() {
	first, last := signals.New("Ada"), signals.New("Lovelace")
	runs := 0
	full := signals.NewComputed(func(t *signals.Tracker) string {
		runs++
		return first.Get(t) + " " + last.Get(t)
	})
	fmt.Println("before any read:", runs, "runs")
	fmt.Println(full.Peek())
	fmt.Println(full.Peek())
	last.Set("Byron")
	fmt.Println(full.Peek())
	fmt.Println(runs, "runs")
	// Output:
	// before any read: 0 runs
	// Ada Lovelace
	// Ada Lovelace
	// Ada Byron
	// 2 runs
}

func ExampleNewEffect() {
	user := signals.New("ann")
	e := signals.NewEffect(func(t *signals.Tracker) {
		name := user.Get(t)
		fmt.Println("subscribe", name)
		t.OnCleanup(func() { fmt.Println("unsubscribe", name) })
	})
	user.Set("bob")
	e.Stop()
	user.Set("cid") // stopped: no output
	// Output:
	// subscribe ann
	// unsubscribe ann
	// subscribe bob
	// unsubscribe bob
}

func ExampleBatch() {
	x, y := signals.New(0), signals.New(0)
	e := signals.NewEffect(func(t *signals.Tracker) { fmt.Println("point", x.Get(t), y.Get(t)) })
	defer e.Stop()
	signals.Batch(func() {
		x.Set(3)
		y.Set(4)
		fmt.Println("inside the batch x is", x.Peek())
	})
	// Output:
	// point 0 0
	// inside the batch x is 3
	// point 3 4
}

func ExampleWithEqual() {
	query := signals.New("Go", signals.WithEqual(strings.EqualFold))
	e := signals.NewEffect(func(t *signals.Tracker) { fmt.Println("search", query.Get(t)) })
	defer e.Stop()
	query.Set("GO") // equal ignoring case: no new search
	query.Set("Rust")
	// Output:
	// search Go
	// search Rust
}

func ExampleTracker_Untracked() {
	price, currency := signals.New(10), signals.New("EUR")
	e := signals.NewEffect(func(t *signals.Tracker) {
		// Reprint on price changes only; read the currency without tracking it.
		fmt.Println(price.Get(t), currency.Get(t.Untracked()))
	})
	defer e.Stop()
	currency.Set("USD") // not a dependency: no output
	price.Set(12)
	// Output:
	// 10 EUR
	// 12 USD
}

func ExampleSignal_Update() {
	views := signals.New(0)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				views.Update(func(n int) int { return n + 1 })
			}
		})
	}
	wg.Wait()
	fmt.Println(views.Peek())
	// Output: 8000
}

func ExampleErrCycle() {
	var a, b *signals.Computed[int]
	a = signals.NewComputed(func(t *signals.Tracker) int { return b.Get(t) + 1 })
	b = signals.NewComputed(func(t *signals.Tracker) int { return a.Get(t) + 1 })
	defer func() {
		err, _ := recover().(error)
		fmt.Println(errors.Is(err, signals.ErrCycle))
	}()
	a.Peek()
	// Output: true
}
