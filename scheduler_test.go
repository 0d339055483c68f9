package signals_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosignals/signals"
	"github.com/gosignals/signals/signalstest"
)

// recorder collects what an effect saw, safe for effects on other goroutines.
type recorder struct {
	mu   sync.Mutex
	seen []int
	at   []time.Time
}

func (r *recorder) add(v int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, v)
	r.at = append(r.at, time.Now())
}

func (r *recorder) values() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.seen...)
}

func TestAsyncWritersDoNotRunEffects(t *testing.T) {
	drainScheduled(t) // this test waits for the whole process in a bubble
	synctest.Test(t, func(t *testing.T) {
		s := signals.New(0)
		var rec recorder
		release := make(chan struct{})
		e := signals.NewEffect(func(tr *signals.Tracker) {
			v := s.Get(tr)
			if v == 1 {
				<-release // a synchronous effect would block Set forever
			}
			rec.add(v)
		}, signals.Async())
		defer e.Stop()
		assert.Equal(t, []int{0}, rec.values(), "the first run is synchronous")
		s.Set(1)
		synctest.Wait() // the async run started, saw 1, and blocks
		s.Set(2)        // while it is blocked: runs after it
		synctest.Wait()
		assert.Equal(t, []int{0}, rec.values(), "Set returned without running the effect")
		close(release)
		require.NoError(t, signals.Idle(t.Context()))
		assert.Equal(t, []int{0, 1, 2}, rec.values(), "the run asked for during a run follows it")
	})
}

func TestDebounce(t *testing.T) {
	drainScheduled(t) // this test waits for the whole process in a bubble
	synctest.Test(t, func(t *testing.T) {
		s := signals.New(0)
		var rec recorder
		e := signals.NewEffect(func(tr *signals.Tracker) { rec.add(s.Get(tr)) }, signals.Debounce(100*time.Millisecond))
		defer e.Stop()
		start := time.Now()
		for i := 1; i <= 5; i++ {
			s.Set(i)
			time.Sleep(30 * time.Millisecond)
		}
		synctest.Wait()
		assert.Equal(t, []int{0}, rec.values(), "no run while writes keep coming")
		require.NoError(t, signals.Idle(t.Context()))
		assert.Equal(t, []int{0, 5}, rec.values(), "one run, on the final value")
		assert.Equal(t, start.Add(4*30*time.Millisecond+100*time.Millisecond), rec.at[1], "100ms after the last write")
	})
}

func TestThrottle(t *testing.T) {
	drainScheduled(t) // this test waits for the whole process in a bubble
	synctest.Test(t, func(t *testing.T) {
		s := signals.New(0)
		var rec recorder
		e := signals.NewEffect(func(tr *signals.Tracker) { rec.add(s.Get(tr)) }, signals.Throttle(100*time.Millisecond))
		defer e.Stop()
		for i := 1; i <= 50; i++ { // a write every 10ms for half a second
			s.Set(i)
			time.Sleep(10 * time.Millisecond)
		}
		require.NoError(t, signals.Idle(t.Context()))
		seen := rec.values()
		assert.Equal(t, 50, seen[len(seen)-1], "the last change is delivered")
		assert.InDelta(t, 6, len(seen), 1, "about one run per 100ms, plus the first: %v", seen)
		for i := 2; i < len(rec.at); i++ {
			assert.GreaterOrEqual(t, rec.at[i].Sub(rec.at[i-1]), 100*time.Millisecond, "runs %d and %d too close", i-1, i)
		}
		assert.Equal(t, 1, seen[1], "the first change runs at once")
	})
}

func TestManualScheduler(t *testing.T) {
	signalstest.Check(t)
	m := signals.NewManual()
	a, b := signals.New(1), signals.New(10)
	sum := signals.NewComputed(func(tr *signals.Tracker) int { return a.Get(tr) + b.Get(tr) })
	var seen []int
	e := signals.NewEffect(func(tr *signals.Tracker) { seen = append(seen, sum.Get(tr)) }, signals.WithScheduler(m))
	defer e.Stop()
	a.Set(2)
	b.Set(20)
	assert.Equal(t, []int{11}, seen, "nothing runs before Flush")
	assert.Equal(t, 1, m.Pending(), "one pending run covers both writes")
	assert.Equal(t, 1, m.Flush())
	assert.Equal(t, []int{11, 22}, seen)
	assert.Equal(t, 0, m.Flush())

	t.Run("a run whose inputs changed back does nothing", func(t *testing.T) {
		a.Set(3)
		a.Set(2)
		m.Flush()
		assert.Equal(t, []int{11, 22}, seen)
	})

	t.Run("runaway", func(t *testing.T) {
		m := signals.NewManual()
		n := signals.New(0)
		e := signals.NewEffect(func(tr *signals.Tracker) { n.Set(n.Get(tr) + 1) }, signals.WithScheduler(m))
		defer e.Stop()
		r := capturePanic(func() { m.Flush() })
		require.NotNil(t, r)
		assert.ErrorIs(t, r.(error), signals.ErrCycle)
	})
}

func TestIdleHonoursContext(t *testing.T) {
	drainScheduled(t) // this test waits for the whole process in a bubble
	synctest.Test(t, func(t *testing.T) {
		s := signals.New(0)
		e := signals.NewEffect(func(tr *signals.Tracker) { s.Get(tr) }, signals.Debounce(time.Hour))
		defer e.Stop()
		s.Set(1)
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		assert.ErrorIs(t, signals.Idle(ctx), context.DeadlineExceeded)
		e.Stop()
		require.NoError(t, signals.Idle(t.Context()), "Stop cancelled the pending run")
	})
}

func TestWithContext(t *testing.T) {
	signalstest.Check(t)
	s := signals.New(0)
	ctx, cancel := context.WithCancel(context.Background())
	var runs, cleanups atomic.Int32
	e := signals.NewEffect(func(tr *signals.Tracker) {
		runs.Add(1)
		s.Get(tr)
		tr.OnCleanup(func() { cleanups.Add(1) })
	}, signals.WithContext(ctx))
	s.Set(1)
	cancel()
	require.Eventually(t, func() bool { return cleanups.Load() == 2 }, 10*time.Second, time.Millisecond)
	s.Set(2)
	assert.Equal(t, int32(2), runs.Load(), "stopped when the context was cancelled")
	e.Stop()

	t.Run("already done", func(t *testing.T) {
		var runs int
		e := signals.NewEffect(func(tr *signals.Tracker) { runs++; s.Get(tr) }, signals.WithContext(ctx))
		s.Set(3)
		assert.Zero(t, runs, "an effect whose context is done never runs")
		e.Stop()
	})
}

func TestScope(t *testing.T) {
	signalstest.Check(t)
	s := signals.New(0)
	scope := signals.NewScope(context.Background())
	var log []string
	scope.Effect(func(tr *signals.Tracker) {
		s.Get(tr)
		tr.OnCleanup(func() { log = append(log, "first") })
	})
	_, registered := scope.TryDefer(func() { log = append(log, "deferred") })
	require.True(t, registered)
	signals.NewEffect(func(tr *signals.Tracker) {
		s.Get(tr)
		tr.OnCleanup(func() { log = append(log, "second") })
	}, signals.WithScope(scope), signals.WithEffectName("second"))
	s.Set(1)
	log = nil
	scope.Stop()
	assert.Equal(t, []string{"second", "deferred", "first"}, log, "stopped last first")
	select {
	case <-scope.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}
	scope.Stop()
	assert.Len(t, log, 3, "Stop is idempotent")
	s.Set(2)
	assert.Len(t, log, 3, "owned effects do not run after Stop")
	runs := 0
	scope.Effect(func(tr *signals.Tracker) { runs++ })
	assert.Zero(t, runs, "an effect created in a stopped scope never runs")
	cancel, registered := scope.TryDefer(func() { t.Error("registered with a stopped scope") })
	assert.False(t, registered, "nothing registers with a stopped scope")
	assert.False(t, cancel(), "and there is nothing to cancel")
	assert.False(t, scope.Defer(func() { t.Error("registered with a stopped scope") })())

	t.Run("bound to a context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		scope := signals.NewScope(ctx)
		var runs atomic.Int32
		scope.Effect(func(tr *signals.Tracker) { runs.Add(1); s.Get(tr) })
		cancel()
		<-scope.Done()
		s.Set(3)
		assert.Equal(t, int32(1), runs.Load())
	})

	t.Run("a panicking stop does not keep the others from stopping", func(t *testing.T) {
		scope := signals.NewScope(context.Background())
		var stopped []int
		scope.Defer(func() { stopped = append(stopped, 1) })
		scope.Defer(func() { panic("stop 2") })
		scope.Defer(func() { stopped = append(stopped, 3) })
		assert.PanicsWithValue(t, "stop 2", scope.Stop)
		assert.Equal(t, []int{3, 1}, stopped)
	})
}

func TestSubscribe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := signals.New(0)
		doubled := signals.NewComputed(func(tr *signals.Tracker) int { return s.Get(tr) * 2 })
		ctx, cancel := context.WithCancel(t.Context())
		ch := signals.Subscribe(ctx, doubled)
		assert.Equal(t, 0, <-ch, "the current value first")
		for i := 1; i <= 100; i++ {
			s.Set(i) // nobody receives: writers must not block
		}
		assert.Equal(t, 200, <-ch, "conflated to the latest value")
		select {
		case v := <-ch:
			t.Fatalf("unexpected extra value %d", v)
		default:
		}
		s.Set(101)
		assert.Equal(t, 202, <-ch)
		cancel()
		synctest.Wait()
		_, open := <-ch
		assert.False(t, open, "closed when the context is done")
		s.Set(102) // must not panic on the closed channel
	})
}

func TestFeed(t *testing.T) {
	signalstest.Check(t)
	s := signals.New("")
	var rec []string
	e := signals.NewEffect(func(tr *signals.Tracker) { rec = append(rec, s.Get(tr)) })
	defer e.Stop()
	ch := make(chan string, 3)
	ch <- "a"
	ch <- "b"
	ch <- "c"
	close(ch)
	require.NoError(t, signals.Feed(context.Background(), s, ch))
	assert.Equal(t, []string{"", "a", "b", "c"}, rec)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, signals.Feed(ctx, s, make(chan string)), context.Canceled)
}

func TestPanicHandler(t *testing.T) {
	drainScheduled(t) // this test waits for the whole process in a bubble
	synctest.Test(t, func(t *testing.T) {
		s := signals.New(0)
		got := make(chan signals.PanicInfo, 1)
		prev := signals.SetPanicHandler(func(p signals.PanicInfo) { got <- p })
		defer signals.SetPanicHandler(prev)
		var line int
		e := signals.NewEffect(func(tr *signals.Tracker) {
			if s.Get(tr) == 1 {
				_, _, line, _ = runtime.Caller(0)
				panic("async boom") // the line after Caller's
			}
		}, signals.Async(), signals.WithEffectName("ranker"))
		defer e.Stop()
		assert.NotPanics(t, func() { s.Set(1) })
		require.NoError(t, signals.Idle(t.Context()))
		info := <-got
		assert.Equal(t, "ranker", info.Effect)
		assert.Equal(t, "async boom", info.Value)
		assert.Regexp(t, fmt.Sprintf(`^goroutine \d+ .*\n.*TestPanicHandler.*\n\t.*scheduler_test.go:%d `, line+1), info.Stack,
			"the stack starts at the frame that panicked")

		var own []any
		e2 := signals.NewEffect(func(tr *signals.Tracker) {
			if s.Get(tr) == 2 {
				panic("own handler")
			}
		}, signals.Async(), signals.WithPanicHandler(func(p signals.PanicInfo) { own = append(own, p.Value) }))
		defer e2.Stop()
		s.Set(2)
		require.NoError(t, signals.Idle(t.Context()))
		assert.Equal(t, []any{"own handler"}, own)
	})
}

func TestNames(t *testing.T) {
	s := signals.New(1, signals.WithName[int]("count"))
	assert.Equal(t, "count", s.Name())
	assert.Equal(t, "", signals.New(1).Name())
	var c *signals.Computed[int]
	c = signals.NewComputed(func(tr *signals.Tracker) int { return c.Get(tr) }, signals.WithName[int]("loop"))
	assert.Equal(t, "loop", c.Name())
	r := capturePanic(func() { c.Peek() })
	require.NotNil(t, r)
	assert.Contains(t, r.(error).Error(), `computed "loop" reads itself`)
	e := signals.NewEffect(func(*signals.Tracker) {}, signals.WithEffectName("logger"))
	assert.Equal(t, "logger", e.Name())
	e.Stop()
}

func TestSchedulingMisuse(t *testing.T) {
	assert.PanicsWithValue(t, "signals: Debounce(0s): the duration must be positive", func() { signals.Debounce(0) })
	assert.PanicsWithValue(t, "signals: Throttle(-1s): the duration must be positive", func() { signals.Throttle(-time.Second) })
	assert.Panics(t, func() { signals.WithScheduler(nil) })
	//lint:ignore SA1012 testing the nil check
	assert.Panics(t, func() { signals.WithContext(nil) }) //nolint:staticcheck
	assert.Panics(t, func() { signals.WithScope(nil) })
	assert.Panics(t, func() { signals.NewScope(nil) }) //nolint:staticcheck
	assert.Panics(t, func() { signals.WithPanicHandler(nil) })
	assert.Panics(t, func() { signals.Subscribe[int](nil, signals.New(1)) }) //nolint:staticcheck
	assert.Panics(t, func() { signals.Subscribe[int](context.Background(), nil) })
	assert.Panics(t, func() { signals.NewEffect(func(*signals.Tracker) {}, signals.EffectOption{}) })
	assert.Panics(t, func() { signals.NewScope(context.Background()).Defer(nil) })
}

func TestSubscribeClosesWhenItsOwnerEnds(t *testing.T) {
	signalstest.Check(t)
	s := signals.New(1)
	drained := func(ch <-chan int) bool {
		select {
		case _, open := <-ch:
			for open {
				_, open = <-ch
			}
			return true
		case <-time.After(10 * time.Second):
			return false
		}
	}

	scope := signals.NewScope(context.Background())
	ch := signals.Subscribe(context.Background(), s, signals.WithScope(scope))
	assert.Equal(t, 1, <-ch)
	scope.Stop()
	assert.True(t, drained(ch), "closed when its scope stops")
	assert.True(t, drained(signals.Subscribe(context.Background(), s, signals.WithScope(scope))),
		"closed at once with a stopped scope")

	ctx, cancel := context.WithCancel(context.Background())
	ch = signals.Subscribe(context.Background(), s, signals.WithContext(ctx))
	assert.Equal(t, 1, <-ch)
	cancel()
	assert.True(t, drained(ch), "closed when its WithContext is done")
	s.Set(2) // no effect left to panic on the closed channel
}

// drainScheduled waits, outside any synctest bubble, until the runs that
// earlier tests handed to Async, Debounce or Throttle have finished. A test
// that calls the process-wide Idle inside a bubble needs it: a run pending
// outside the bubble would keep Idle waiting on a goroutine the bubble does
// not know, and synctest would report a deadlock.
func drainScheduled(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, signals.Idle(ctx), "runs scheduled by earlier tests are still pending")
}
