package signals_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gosignals/signals"
)

func ExampleScope_Defer() {
	server := signals.NewScope(context.Background()) // lives as long as the process
	for conn := 1; conn <= 3; conn++ {
		leave := server.Defer(func() { fmt.Println("server stops: close conn", conn) })
		if conn != 2 {
			continue
		}
		// Connection 2 closes on its own: it must not stay registered, or a
		// long-lived scope would keep every connection it ever had.
		fmt.Println("conn 2 closed, unregistered:", leave())
	}
	server.Stop()
	// Output:
	// conn 2 closed, unregistered: true
	// server stops: close conn 3
	// server stops: close conn 1
}

func ExampleScope_TryDefer() {
	scope := signals.NewScope(context.Background())
	scope.Stop()
	release := func() { fmt.Println("released") }
	if _, ok := scope.TryDefer(release); !ok {
		release() // the scope had stopped: nobody else will
	}
	// Output: released
}

func ExampleScope_Child() {
	server := signals.NewScope(context.Background())
	status := signals.New("online")
	for _, name := range []string{"ann", "bob"} {
		conn := server.Child() // one per connection, stopped with the server
		conn.Effect(func(t *signals.Tracker) { fmt.Println("to", name+":", status.Get(t)) })
		if name == "ann" {
			conn.Stop() // ann leaves; the server forgets her
		}
	}
	status.Set("away")
	server.Stop()
	status.Set("offline")
	// Output:
	// to ann: online
	// to bob: online
	// to bob: away
}

func ExampleScope_Context() {
	type userKey struct{}
	req := context.WithValue(context.Background(), userKey{}, "ann")
	scope := signals.NewScope(req)
	done := make(chan struct{})
	go func(ctx context.Context) { // work started on behalf of the scope
		<-ctx.Done()
		fmt.Println("stopped work for", ctx.Value(userKey{}))
		close(done)
	}(scope.Context())
	scope.Stop()
	<-done
	// Output: stopped work for ann
}

func ExampleScope_Idle() {
	tenant := signals.NewScope(context.Background())
	defer tenant.Stop()
	orders := signals.New(0)
	tenant.Effect(func(t *signals.Tracker) {
		fmt.Println("reindex", orders.Get(t))
	}, signals.Debounce(10*time.Millisecond))
	orders.Set(1)
	orders.Set(2)
	// Waits for this tenant's scheduled runs only, not the whole process's.
	if err := tenant.Idle(context.Background()); err != nil {
		panic(err)
	}
	// Output:
	// reindex 0
	// reindex 2
}

func ExampleEffect_Done() {
	job := signals.New("idle")
	started, finish := make(chan struct{}), make(chan struct{})
	e := signals.NewEffect(func(t *signals.Tracker) {
		if job.Get(t) == "export" {
			close(started)
			<-finish // a long run, on the Async goroutine
			fmt.Println("export finished")
		}
		t.OnCleanup(func() { fmt.Println("cleanup") })
	}, signals.Async())
	job.Set("export")
	<-started
	e.Stop() // returns at once: the run under way completes on its goroutine
	close(finish)
	<-e.Done() // the last run has returned and the cleanups ran
	fmt.Println("done")
	// Output:
	// cleanup
	// export finished
	// cleanup
	// done
}

func ExampleEffect_Idle() {
	hits := signals.New(0)
	e := signals.NewEffect(func(t *signals.Tracker) {
		fmt.Println("hits:", hits.Get(t))
	}, signals.Async())
	defer e.Stop()
	hits.Set(7)
	if err := e.Idle(context.Background()); err != nil { // this effect's runs only
		panic(err)
	}
	// Output:
	// hits: 0
	// hits: 7
}

func ExampleTracker_Scope() {
	room := signals.New("lobby")
	message := signals.New("hello")
	watcher := signals.NewEffect(func(t *signals.Tracker) {
		r := room.Get(t)
		// Owned by this run: stopped before the next run, so effects do not
		// pile up each time the room changes.
		t.Scope().Effect(func(t *signals.Tracker) { fmt.Println(r+":", message.Get(t)) })
	})
	room.Set("kitchen")
	message.Set("hi")
	watcher.Stop()
	message.Set("bye") // nobody listens any more
	// Output:
	// lobby: hello
	// kitchen: hello
	// kitchen: hi
}

func ExampleScope_SetPanicHandler() {
	tenant := signals.NewScope(context.Background())
	defer tenant.Stop()
	tenant.SetPanicHandler(func(p signals.PanicInfo) {
		fmt.Printf("tenant 7: effect %q panicked: %v\n", p.Effect, p.Value)
	})
	price := signals.New(1)
	tenant.Effect(func(t *signals.Tracker) {
		if price.Get(t) < 0 {
			panic("negative price")
		}
	}, signals.Async(), signals.WithEffectName("pricing"))
	price.Set(-1)
	if err := tenant.Idle(context.Background()); err != nil {
		panic(err)
	}
	// Output: tenant 7: effect "pricing" panicked: negative price
}

func ExampleScope_SetTracer() {
	tenant := signals.NewScope(context.Background())
	defer tenant.Stop()
	tenant.SetTracer(signals.TracerFunc(func(e signals.Event) {
		fmt.Println("tenant traced:", e.Kind, e.Name)
	}))
	stock := signals.New(3)
	tenant.Effect(func(t *signals.Tracker) { stock.Get(t) }, signals.WithEffectName("restock"))
	other := signals.NewEffect(func(t *signals.Tracker) { stock.Get(t) }, signals.WithEffectName("other tenant"))
	defer other.Stop()
	stock.Set(2)
	// Output:
	// tenant traced: effect restock
	// tenant traced: effect restock
}
