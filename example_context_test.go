package signals_test

import (
	"context"
	"fmt"

	"github.com/gosignals/signals"
)

func ExampleTracker_Context() {
	type requestID struct{}
	ctx := context.WithValue(context.Background(), requestID{}, "req-42")
	query := signals.New("go")
	done := make(chan string)
	e := signals.NewEffect(func(t *signals.Tracker) {
		q, ctx := query.Get(t), t.Context()
		fmt.Println("search", q, "for", ctx.Value(requestID{}))
		go func() { // work that outlives the run
			<-ctx.Done() // the next run, or Stop, ends it
			done <- q
		}()
	}, signals.WithContext(ctx))

	query.Set("golang")
	fmt.Println("cancelled:", <-done)
	e.Stop()
	fmt.Println("cancelled:", <-done)
	// Output:
	// search go for req-42
	// search golang for req-42
	// cancelled: go
	// cancelled: golang
}
