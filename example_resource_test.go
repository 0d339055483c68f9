package signals_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gosignals/signals"
)

// A resource follows its parameters: a change in the middle of a load
// cancels that load's context, and only the load for the latest parameters
// is committed.
func ExampleNewResource() {
	id := signals.New(1)
	started := make(chan int)
	cancelled := make(chan string)
	release := make(chan struct{})
	movie := signals.NewResource(func(t *signals.Tracker) int { return id.Get(t) },
		func(ctx context.Context, id int) (string, error) {
			started <- id
			select {
			case <-release:
				return fmt.Sprintf("movie %d", id), nil
			case <-ctx.Done():
				cancelled <- fmt.Sprintf("load %d: %v", id, ctx.Err())
				return "", ctx.Err()
			}
		})
	defer movie.Stop()

	fmt.Println("load", <-started, "started:", movie.Peek())
	id.Set(2) // mid-load
	fmt.Println(<-cancelled)
	fmt.Println("load", <-started, "started:", movie.Peek())
	close(release)
	v, err := movie.Wait(context.Background())
	fmt.Println(v, err, "|", movie.Peek())
	// Output:
	// load 1 started: loading
	// load 1: context canceled
	// load 2 started: loading
	// movie 2 <nil> | ready: movie 2
}

// An effect shows every state of a resource: loading, the value, and a
// failure, which keeps the previous value on view with KeepStale.
func ExampleResource_Get() {
	query := signals.New("go")
	release := make(chan struct{})
	results := signals.NewResource(func(t *signals.Tracker) string { return query.Get(t) },
		func(ctx context.Context, q string) (int, error) {
			<-release
			if strings.Contains(q, "!") {
				return 0, errors.New("bad query")
			}
			return len(q) * 10, nil
		}, signals.KeepStale())
	defer results.Stop()
	shown := make(chan signals.ResourceStatus, 8)
	view := signals.NewEffect(func(t *signals.Tracker) {
		s := results.Get(t)
		fmt.Println("view:", s)
		shown <- s.Status
	})
	defer view.Stop()
	// The view runs on whichever goroutine changed the state, maybe after
	// the call that changed it returned: wait for it to show each state
	// before making the next, or it shows only the latest.
	waitFor := func(st signals.ResourceStatus) {
		for s := range shown {
			if s == st {
				return
			}
		}
	}

	release <- struct{}{}
	waitFor(signals.ResourceReady)
	query.Set("go!")
	waitFor(signals.ResourceReloading)
	release <- struct{}{}
	waitFor(signals.ResourceFailed)
	_, err := results.Wait(context.Background())
	fmt.Println("wait:", err)
	// Output:
	// view: loading
	// view: ready: 20
	// view: reloading (stale: 20)
	// view: failed: bad query (stale: 20)
	// wait: bad query
}

// An optimistic update: Set shows the new value at once, and Reload loads
// the stored one when the write is done.
func ExampleResource_Set() {
	stored := "draft"
	title := signals.NewResource(func(*signals.Tracker) int { return 1 },
		func(context.Context, int) (string, error) { return stored, nil })
	defer title.Stop()
	_, _ = title.Wait(context.Background())
	fmt.Println(title.Peek())

	title.Set("final") // the user sees it at once
	stored = "final"   // the write, however long it takes
	title.Reload()     // then the authoritative value
	v, _ := title.Wait(context.Background())
	fmt.Println(v)
	// Output:
	// ready: draft
	// final
}
