package signals_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gosignals/signals"
)

func ExampleAsync() {
	views := signals.New(0)
	e := signals.NewEffect(func(t *signals.Tracker) {
		fmt.Println("views:", views.Get(t)) // e.g. an expensive cache refresh
	}, signals.Async())
	defer e.Stop()
	views.Set(1) // returns at once: the effect runs on another goroutine
	if err := signals.Idle(context.Background()); err != nil {
		panic(err)
	}
	// Output:
	// views: 0
	// views: 1
}

func ExampleDebounce() {
	query := signals.New("")
	e := signals.NewEffect(func(t *signals.Tracker) {
		if q := query.Get(t); q != "" {
			fmt.Println("search", q)
		}
	}, signals.Debounce(50*time.Millisecond))
	defer e.Stop()
	for _, q := range []string{"s", "si", "sig", "signals"} {
		query.Set(q) // typed quickly: one search, for the final query
	}
	if err := signals.Idle(context.Background()); err != nil {
		panic(err)
	}
	// Output: search signals
}

func ExampleThrottle() {
	score := signals.New(0)
	e := signals.NewEffect(func(t *signals.Tracker) {
		fmt.Println("publish", score.Get(t))
	}, signals.Throttle(100*time.Millisecond))
	defer e.Stop()
	score.Set(1) // the first change runs at once
	if err := signals.Idle(context.Background()); err != nil {
		panic(err)
	}
	for i := 2; i <= 5; i++ {
		score.Set(i) // within 100ms of that run: one run covers them
	}
	if err := signals.Idle(context.Background()); err != nil {
		panic(err)
	}
	// Output:
	// publish 0
	// publish 1
	// publish 5
}

func ExampleManual() {
	m := signals.NewManual()
	a := signals.New(1)
	e := signals.NewEffect(func(t *signals.Tracker) { fmt.Println("a =", a.Get(t)) }, signals.WithScheduler(m))
	defer e.Stop()
	a.Set(2)
	a.Set(3)
	fmt.Println("pending:", m.Pending())
	m.Flush()
	// Output:
	// a = 1
	// pending: 1
	// a = 3
}

func ExampleScope() {
	ctx, disconnect := context.WithCancel(context.Background())
	status := signals.New("online")
	client := signals.NewScope(ctx) // one scope per connected client
	client.Effect(func(t *signals.Tracker) {
		fmt.Println("push status:", status.Get(t))
		t.OnCleanup(func() { fmt.Println("unsubscribe status") })
	})
	client.Defer(func() { fmt.Println("close connection") })
	status.Set("away")
	disconnect()
	<-client.Done()
	status.Set("offline") // nobody listens any more
	// Output:
	// push status: online
	// unsubscribe status
	// push status: away
	// close connection
	// unsubscribe status
}

func ExampleSubscribe() {
	ctx, cancel := context.WithCancel(context.Background())
	temperature := signals.New(20)
	updates := signals.Subscribe(ctx, temperature)
	fmt.Println(<-updates)
	for t := 21; t <= 25; t++ {
		temperature.Set(t) // never blocks, even if nobody receives
	}
	fmt.Println(<-updates) // the latest value; the ones between were skipped
	cancel()
	for range updates { // drained and closed once ctx is done
	}
	fmt.Println("closed")
	// Output:
	// 20
	// 25
	// closed
}

func ExampleFeed() {
	readings := make(chan int)
	latest := signals.New(0)
	done := make(chan error)
	go func() { done <- signals.Feed(context.Background(), latest, readings) }()
	readings <- 7
	readings <- 9
	close(readings)
	fmt.Println(<-done, latest.Peek())
	// Output: <nil> 9
}
