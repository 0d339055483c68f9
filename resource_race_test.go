package signals_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosignals/signals"
)

// A load that finishes just as its parameters change must never be
// committed after the change: once the write that changed them and the
// load's own commit have returned, the resource settles on the new
// parameters' value. (Only then: a Set may return while another goroutine,
// here the load's, is still running effects, contract item 18.)
func TestResourceLoadFinishingAsItsParametersChange(t *testing.T) {
	rounds := 300
	if testing.Short() {
		rounds = 50
	}
	loaded := make(chan int, 2*rounds)
	prev := signals.SetTracer(signals.TracerFunc(func(e signals.Event) {
		if e.Kind == signals.EventLoad && e.Name == "racing" {
			loaded <- 1
		}
	}))
	defer signals.SetTracer(prev)
	withDeadline(t, 30*time.Second, func() {
		for round := range rounds {
			id := signals.New(0)
			start := make(chan struct{})
			r := signals.NewResource(func(t *signals.Tracker) int { return id.Get(t) },
				func(ctx context.Context, p int) (int, error) {
					if p == 0 {
						<-start // finish together with the change below
					}
					return p, nil // whether or not ctx was cancelled
				}, signals.KeepStale(), signals.WithEffectName("racing"))
			changed := make(chan struct{})
			go func() {
				<-start
				id.Set(1)
				close(changed)
			}()
			close(start)
			<-changed
			<-loaded // the load of 0 is over, committed or not
			v, err := r.Wait(t.Context())
			require.NoError(t, err)
			require.Equal(t, 1, v, "round %d: a late result was committed after the change", round)
			<-loaded
			require.Equal(t, "ready: 1", r.Peek().String(), "round %d", round)
			r.Stop()
		}
	})
}

// 100 parameter changes in a burst leave exactly one committed load, the
// last, even though every obsolete load ignores its context and returns a
// result. With one writer, each change starts a load; with several, the
// effect following the parameters may see several changes at once.
func TestResourceBurstCommitsOnlyTheLastLoad(t *testing.T) {
	for _, writers := range []int{1, 4} {
		t.Run(fmt.Sprintf("%d writers", writers), func(t *testing.T) { burst(t, writers) })
	}
}

func burst(t *testing.T, writers int) {
	withDeadline(t, 30*time.Second, func() {
		const changes = 100
		var events sync.Mutex
		var committed, finished []int
		starts := 0 // writes of the state before release: each started a load
		var loads []context.Context
		release := make(chan struct{})
		id := signals.New(0)
		prev := signals.SetTracer(signals.TracerFunc(func(e signals.Event) {
			if e.Name != "burst" {
				return
			}
			events.Lock()
			defer events.Unlock()
			switch e.Kind {
			case signals.EventSet:
				starts++
			case signals.EventLoad:
				finished = append(finished, 0)
				if e.Changed {
					committed = append(committed, 0)
				}
			}
		}))
		defer signals.SetTracer(prev)
		r := signals.NewResource(func(t *signals.Tracker) int { return id.Get(t) },
			func(ctx context.Context, p int) (int, error) {
				events.Lock()
				loads = append(loads, ctx)
				events.Unlock()
				<-release
				return p, nil
			}, signals.WithEffectName("burst"))
		defer r.Stop()

		var readyMu sync.Mutex
		var ready []int
		watcher := signals.NewEffect(func(t *signals.Tracker) {
			if s := r.Get(t); s.Status == signals.ResourceReady {
				readyMu.Lock()
				ready = append(ready, s.Value)
				readyMu.Unlock()
			}
		})
		defer watcher.Stop()

		var wg sync.WaitGroup
		for range writers {
			wg.Go(func() {
				for range changes / writers {
					id.Update(func(n int) int { return n + 1 })
				}
			})
		}
		wg.Wait()
		events.Lock()
		n := starts
		events.Unlock()
		close(release)
		v, err := r.Wait(t.Context())
		require.NoError(t, err)
		assert.Equal(t, changes, v)

		// Until release, only the effect following the parameters wrote
		// the state, once for each load it started; every writer has
		// returned, so its runs are done (contract item 18). Wait for those
		// loads to finish.
		if writers == 1 {
			assert.Equal(t, changes+1, n, "one load per parameter value, the first one included")
		} else {
			assert.LessOrEqual(t, n, changes+1)
			assert.GreaterOrEqual(t, n, 2)
		}
		for {
			events.Lock()
			done := len(finished) >= n
			events.Unlock()
			if done {
				break
			}
			time.Sleep(time.Millisecond)
		}
		events.Lock()
		assert.Len(t, loads, n, "loads started")
		events.Unlock()
		events.Lock()
		defer events.Unlock()
		assert.Len(t, committed, 1, "exactly one load committed")
		for i, ctx := range loads[:n-1] {
			assert.ErrorIs(t, ctx.Err(), context.Canceled, "load %d", i)
		}
		readyMu.Lock()
		defer readyMu.Unlock()
		assert.Equal(t, []int{changes}, ready, "the only value ever ready is the last one")
	})
}

func TestResourceTraceAndInspect(t *testing.T) {
	withDeadline(t, 10*time.Second, func() {
		var mu sync.Mutex
		var loads []signals.Event
		var sets int
		prev := signals.SetTracer(signals.TracerFunc(func(e signals.Event) {
			mu.Lock()
			defer mu.Unlock()
			if e.Name != "traced" {
				return
			}
			switch e.Kind {
			case signals.EventLoad:
				loads = append(loads, e)
			case signals.EventSet:
				sets++
			}
		}))
		defer signals.SetTracer(prev)
		id := signals.New(1)
		l := newLoader(false)
		r := signals.NewResource(func(t *signals.Tracker) int { return id.Get(t) }, l.load, signals.WithEffectName("traced"))
		defer r.Stop()
		assert.Equal(t, "traced", r.Name())
		first := l.next(t)
		id.Set(2)
		second := l.next(t)
		first.reply("late", nil)
		second.reply("", context.DeadlineExceeded)
		_, err := r.Wait(t.Context())
		require.ErrorIs(t, err, context.DeadlineExceeded)
		for {
			mu.Lock()
			n := len(loads)
			mu.Unlock()
			if n == 2 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		byCommit := map[bool]signals.Event{loads[0].Changed: loads[0], loads[1].Changed: loads[1]}
		require.Len(t, byCommit, 2, "one obsolete load, one committed")
		assert.NoError(t, byCommit[false].Err)
		assert.ErrorIs(t, byCommit[true].Err, context.DeadlineExceeded)
		assert.Equal(t, "load", byCommit[true].Kind.String())
		assert.GreaterOrEqual(t, sets, 3, "loading, loading, failed")

		info := signals.Inspect(r)
		assert.Equal(t, "signal", info.Kind)
		assert.Equal(t, "traced", info.Name)
		assert.Equal(t, "failed: context deadline exceeded", info.Value)
		assert.Equal(t, info.ID, byCommit[true].Node)
	})
}

func TestResourceReadersPanickingOnTheLoadGoroutine(t *testing.T) {
	withDeadline(t, 10*time.Second, func() {
		got := make(chan signals.PanicInfo, 1)
		prev := signals.SetPanicHandler(func(p signals.PanicInfo) { got <- p })
		defer signals.SetPanicHandler(prev)
		l := newLoader(true)
		r := signals.NewResource(func(*signals.Tracker) int { return 1 }, l.load, signals.WithEffectName("res"))
		defer r.Stop()
		e := signals.NewEffect(func(t *signals.Tracker) {
			if r.Get(t).Status == signals.ResourceReady {
				panic("reader")
			}
		})
		defer e.Stop()
		l.next(t).reply("v", nil)
		info := <-got
		assert.Equal(t, "res", info.Effect)
		assert.Equal(t, "reader", info.Value)
		v, err := r.Wait(t.Context())
		assert.NoError(t, err)
		assert.Equal(t, "v", v)
	})
}

func TestResourceConcurrentUse(t *testing.T) {
	// Every method from several goroutines at once, under -race: the
	// resource ends settled on its final parameters.
	withDeadline(t, 30*time.Second, func() {
		id := signals.New(0)
		var loads atomic.Int64
		r := signals.NewResource(func(t *signals.Tracker) int { return id.Get(t) },
			func(ctx context.Context, p int) (int, error) {
				loads.Add(1)
				select {
				case <-time.After(time.Duration(p%3) * 100 * time.Microsecond):
				case <-ctx.Done():
				}
				return p * 10, nil
			}, signals.KeepStale())
		defer r.Stop()
		ops := 300
		if testing.Short() {
			ops = 60
		}
		var wg sync.WaitGroup
		for w := range 6 {
			wg.Go(func() {
				for i := range ops {
					switch (w + i) % 6 {
					case 0:
						id.Update(func(n int) int { return n + 1 })
					case 1:
						r.Reload()
					case 2:
						r.Set(-1)
					case 3:
						ctx, cancel := context.WithTimeout(t.Context(), 50*time.Microsecond)
						_, _ = r.Wait(ctx)
						cancel()
					default:
						_ = r.Peek()
					}
				}
			})
		}
		wg.Wait()
		// Settle on the final parameters, once every commit of a load
		// that was current has returned (Reload makes the others obsolete).
		deadline := time.Now().Add(10 * time.Second)
		for {
			r.Reload()
			v, err := r.Wait(t.Context())
			require.NoError(t, err)
			if v == id.Peek()*10 {
				break
			}
			require.True(t, time.Now().Before(deadline), "settled on %d, want %d", v, id.Peek()*10)
			time.Sleep(time.Millisecond)
		}
		assert.Positive(t, loads.Load())
	})
}

func TestSlogTracerLogsLoads(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "node" || a.Key == "duration" {
				return slog.Attr{}
			}
			return a
		}}))
	tr := signals.SlogTracer(logger)
	tr.Trace(signals.Event{Kind: signals.EventLoad, Name: "page", Changed: true})
	tr.Trace(signals.Event{Kind: signals.EventLoad, Name: "page", Err: errors.New("db down")})
	assert.Equal(t, `level=DEBUG msg="signals: load" name=page committed=true`+"\n"+
		`level=WARN msg="signals: load" name=page committed=false err="db down"`+"\n", buf.String())
}
