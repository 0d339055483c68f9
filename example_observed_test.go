package signals_test

import (
	"fmt"
	"time"

	"github.com/gosignals/signals"
)

func ExampleWithObserved() {
	// A feed that holds a connection open only while something shows it.
	var price *signals.Signal[int]
	price = signals.New(0, signals.WithObserved[int](
		func() { fmt.Println("connect"); price.Set(42) },
		func() { fmt.Println("disconnect") },
	))
	price.Peek() // reads from outside effects do not connect

	show := signals.NewEffect(func(t *signals.Tracker) { fmt.Println("price", price.Get(t)) })
	also := signals.NewEffect(func(t *signals.Tracker) { price.Get(t) })
	show.Stop()
	fmt.Println("one observer left")
	also.Stop()
	// Output:
	// price 0
	// connect
	// price 42
	// one observer left
	// disconnect
}

func ExampleNewClock() {
	clock := signals.NewClock(5 * time.Millisecond)
	start := clock.Peek()

	ticks := make(chan time.Time, 100)
	e := signals.NewEffect(func(t *signals.Tracker) { ticks <- clock.Get(t) })
	for range 3 {
		<-ticks
	}
	e.Stop() // the clock stops ticking with its last observer
	fmt.Println("advanced while observed:", clock.Peek().After(start))
	// Output: advanced while observed: true
}
