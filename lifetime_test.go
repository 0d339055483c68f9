package signals_test

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
	"weak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosignals/signals"
	"github.com/gosignals/signals/signalstest"
)

// closed reports whether ch is closed now.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// within fails t unless ch closes within d.
func within(t *testing.T, d time.Duration, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("%s: not within %v", what, d)
	}
}

func TestScopeDeferCancel(t *testing.T) {
	signalstest.Check(t)
	scope := signals.NewScope(context.Background())
	var log []int
	var cancels []func() bool
	for i := range 5 {
		cancels = append(cancels, scope.Defer(func() { log = append(log, i) }))
	}
	assert.True(t, cancels[1](), "the first cancel removes")
	assert.False(t, cancels[1](), "the second has nothing to remove")
	assert.True(t, cancels[4](), "the last one")
	assert.True(t, cancels[0](), "the first one")
	scope.Stop()
	assert.Equal(t, []int{3, 2}, log, "what was not cancelled runs, last registered first")
	assert.False(t, cancels[2](), "too late once stopped")
	assert.False(t, cancels[3]())

	t.Run("a cancel racing with Stop either removes or lets stop run, never both", func(t *testing.T) {
		for range 200 {
			scope := signals.NewScope(context.Background())
			var ran atomic.Int32
			cancel := scope.Defer(func() { ran.Add(1) })
			var removed atomic.Bool
			var wg sync.WaitGroup
			wg.Go(func() { removed.Store(cancel()) })
			wg.Go(scope.Stop)
			wg.Wait()
			<-scope.Done()
			if removed.Load() {
				require.Zero(t, ran.Load(), "removed, yet called")
			} else {
				require.Equal(t, int32(1), ran.Load(), "not removed, yet not called")
			}
		}
	})

	t.Run("misuse", func(t *testing.T) {
		var nilScope *signals.Scope
		assert.NotPanics(t, nilScope.Stop, "Stop on a nil scope does nothing")
		assert.PanicsWithValue(t, "signals: Defer called on a nil *Scope", func() { nilScope.Defer(func() {}) })
		assert.PanicsWithValue(t, "signals: Child called on a nil *Scope", func() { nilScope.Child() })
		assert.PanicsWithValue(t, "signals: Context called on a nil *Scope", func() { nilScope.Context() })
		assert.PanicsWithValue(t, "signals: Idle called on a nil *Scope", func() { _ = nilScope.Idle(t.Context()) })
		assert.PanicsWithValue(t, "signals: Scope.Idle(nil); use context.Background()", func() {
			_ = signals.NewScope(context.Background()).Idle(nil) //nolint:staticcheck
		})
		assert.PanicsWithValue(t, "signals: Scope.Defer(nil)", func() { signals.NewScope(context.Background()).TryDefer(nil) })
	})
}

func TestScopeStopsWhatStopsOnItsOwnNoMore(t *testing.T) {
	signalstest.Check(t)
	src := signals.New(0)
	scope := signals.NewScope(context.Background())
	stops := 0
	e := scope.Effect(func(tr *signals.Tracker) {
		src.Get(tr)
		tr.OnCleanup(func() { stops++ })
	})
	e.Stop()
	require.Equal(t, 1, stops)
	scope.Stop()
	assert.Equal(t, 1, stops, "the scope does not stop again an effect that left it")
}

func TestChildScopes(t *testing.T) {
	signalstest.Check(t)
	src := signals.New(0)
	parent := signals.NewScope(context.Background())
	var log []string
	parent.Defer(func() { log = append(log, "parent first") })
	child := parent.Child()
	child.Effect(func(tr *signals.Tracker) {
		src.Get(tr)
		tr.OnCleanup(func() { log = append(log, "child effect") })
	})
	grandchild := child.Child()
	grandchild.Defer(func() { log = append(log, "grandchild") })
	parent.Defer(func() { log = append(log, "parent last") })
	log = nil
	parent.Stop()
	assert.Equal(t, []string{"parent last", "grandchild", "child effect", "parent first"}, log,
		"children stop with their parent, in the order they were registered")
	assert.True(t, closed(child.Done()))
	assert.True(t, closed(grandchild.Done()))
	assert.True(t, closed(parent.Child().Done()), "a child of a stopped scope is stopped")

	t.Run("a child stopped first leaves its parent", func(t *testing.T) {
		parent := signals.NewScope(context.Background())
		child := parent.Child()
		ran := 0
		child.Defer(func() { ran++ })
		child.Stop()
		parent.Stop()
		assert.Equal(t, 1, ran, "stopped once")
		w := func() weak.Pointer[signals.Scope] {
			parent := signals.NewScope(context.Background())
			defer parent.Stop()
			c := parent.Child()
			c.Stop()
			return weak.Make(c)
		}()
		assert.True(t, collected(w))
	})

	t.Run("a panic in a child is raised from the parent's Stop after the rest stopped", func(t *testing.T) {
		parent := signals.NewScope(context.Background())
		ran := false
		parent.Defer(func() { ran = true })
		parent.Child().Defer(func() { panic("child stop") })
		assert.PanicsWithValue(t, "child stop", parent.Stop)
		assert.True(t, ran)
	})

	t.Run("children of a context-bound scope stop when the context ends", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		child := signals.NewScope(ctx).Child().Child()
		cancel()
		within(t, 10*time.Second, child.Done(), "grandchild stopped")
	})
}

type scopeKey struct{}

func TestScopeContext(t *testing.T) {
	signalstest.Check(t)
	base, cancelBase := context.WithCancel(context.WithValue(context.Background(), scopeKey{}, "request 7"))
	defer cancelBase()
	scope := signals.NewScope(base)
	ctx := scope.Context()
	assert.Same(t, ctx, scope.Context(), "one context per scope")
	assert.Equal(t, "request 7", ctx.Value(scopeKey{}), "it carries the values of the scope's context")
	child := scope.Child()
	childCtx := child.Context()
	assert.Equal(t, "request 7", childCtx.Value(scopeKey{}))
	require.NoError(t, ctx.Err())
	scope.Stop()
	assert.ErrorIs(t, ctx.Err(), context.Canceled, "cancelled by Stop")
	assert.ErrorIs(t, childCtx.Err(), context.Canceled, "and the children's with it")
	assert.ErrorIs(t, signals.NewScope(base).Child().Context().Err(), nil)

	stopped := signals.NewScope(context.Background())
	stopped.Stop()
	assert.Error(t, stopped.Context().Err(), "a stopped scope's context is done at once")

	t.Run("cancelled when the scope's context ends", func(t *testing.T) {
		base, cancel := context.WithCancel(context.Background())
		scope := signals.NewScope(base)
		ctx := scope.Context()
		cancel()
		within(t, 10*time.Second, ctx.Done(), "scope context cancelled")
		within(t, 10*time.Second, scope.Done(), "scope stopped")
	})
}

func TestNewScopeRacingWithItsContext(t *testing.T) {
	signalstest.Check(t)
	withDeadline(t, time.Minute, func() {
		for range 200 {
			ctx, cancel := context.WithCancel(context.Background())
			go cancel()
			scope := signals.NewScope(ctx)
			if ctx.Err() == nil {
				scope.Defer(func() {})
			}
			<-scope.Done()
			assert.Error(t, scope.Context().Err())
		}
	})
}

func TestEffectDone(t *testing.T) {
	signalstest.Check(t)
	src := signals.New(0)

	t.Run("closed by Stop after the cleanups", func(t *testing.T) {
		var cleaned atomic.Bool
		e := signals.NewEffect(func(tr *signals.Tracker) {
			src.Get(tr)
			tr.OnCleanup(func() { cleaned.Store(true) })
		})
		done := e.Done()
		assert.False(t, closed(done))
		src.Set(src.Peek() + 1)
		assert.False(t, closed(done), "not done while live")
		e.Stop()
		assert.True(t, closed(done))
		assert.True(t, cleaned.Load())
		assert.True(t, done == e.Done(), "one channel")
	})

	t.Run("after a run under way on another goroutine has returned", func(t *testing.T) {
		entered, release := make(chan struct{}), make(chan struct{})
		var cleaned atomic.Bool
		e := signals.NewEffect(func(tr *signals.Tracker) {
			if src.Get(tr) == -1 {
				close(entered)
				<-release
			}
			tr.OnCleanup(func() { cleaned.Store(true) })
		})
		go src.Set(-1)
		<-entered
		e.Stop() // returns at once: the run is on the other goroutine
		assert.False(t, closed(e.Done()), "done before the run returned")
		close(release)
		within(t, 10*time.Second, e.Done(), "Done")
		assert.True(t, cleaned.Load(), "the cleanups ran before Done closed")
		src.Set(0)
	})

	t.Run("whatever stopped it", func(t *testing.T) {
		scope := signals.NewScope(context.Background())
		byScope := scope.Effect(func(tr *signals.Tracker) { src.Get(tr) })
		ctx, cancel := context.WithCancel(context.Background())
		byCtx := signals.NewEffect(func(tr *signals.Tracker) { src.Get(tr) }, signals.WithContext(ctx))
		scope.Stop()
		cancel()
		never := signals.NewEffect(func(*signals.Tracker) { t.Error("ran") }, signals.WithContext(ctx))
		assert.True(t, closed(byScope.Done()))
		within(t, 10*time.Second, byCtx.Done(), "stopped by its context")
		assert.True(t, closed(never.Done()), "an effect that never ran")
	})

	t.Run("misuse", func(t *testing.T) {
		var e *signals.Effect
		assert.NotPanics(t, e.Stop)
		assert.PanicsWithValue(t, "signals: Done called on a nil *Effect", func() { e.Done() })
		assert.PanicsWithValue(t, "signals: Idle called on a nil *Effect", func() { _ = e.Idle(t.Context()) })
		live := signals.NewEffect(func(*signals.Tracker) {})
		defer live.Stop()
		assert.PanicsWithValue(t, "signals: Effect.Idle(nil); use context.Background()", func() {
			_ = live.Idle(nil) //nolint:staticcheck
		})
	})
}

// An effect stopped by a panic of NewEffect's flush has its Done closed and
// has left its scope.
func TestNewEffectPanicAfterItsFirstRunStopsIt(t *testing.T) {
	trigger := signals.New(0)
	bad := signals.NewEffect(func(tr *signals.Tracker) {
		if trigger.Get(tr) == 1 {
			panic("other effect")
		}
	})
	defer bad.Stop()
	scope := signals.NewScope(context.Background())
	defer scope.Stop()
	w := func() weak.Pointer[signals.Computed[int]] {
		c := signals.NewComputed(func(tr *signals.Tracker) int { return trigger.Get(tr) })
		r := capturePanic(func() {
			scope.Effect(func(tr *signals.Tracker) {
				c.Get(tr.Untracked())
				trigger.Set(1)
			})
		})
		require.Equal(t, "other effect", r)
		return weak.Make(c)
	}()
	assert.True(t, collected(w), "the stopped effect left its scope")
}

func TestTimedStopCancelsTheRun(t *testing.T) {
	drainScheduled(t) // this test waits for the whole process in a bubble
	for name, opt := range map[string]signals.EffectOption{
		"Debounce": signals.Debounce(time.Hour),
		"Throttle": signals.Throttle(time.Hour),
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := signals.New(0)
				runs := 0
				e := signals.NewEffect(func(tr *signals.Tracker) { runs++; s.Get(tr) }, opt)
				s.Set(1)
				if name == "Throttle" {
					require.NoError(t, e.Idle(t.Context()), "the first change runs at once")
					s.Set(2) // within the hour: pending
				}
				ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
				defer cancel()
				assert.ErrorIs(t, e.Idle(ctx), context.DeadlineExceeded, "a run is pending")
				before := runs
				start := time.Now()
				e.Stop()
				require.NoError(t, e.Idle(t.Context()))
				require.NoError(t, signals.Idle(t.Context()))
				assert.Equal(t, start, time.Now(), "no time passed: nothing was waited for")
				time.Sleep(2 * time.Hour)
				assert.Equal(t, before, runs, "the cancelled run never happens")
			})
		})
	}
}

func TestIdlePerEffectAndScope(t *testing.T) {
	signalstest.Check(t)
	withDeadline(t, time.Minute, func() {
		src := signals.New(0)
		busy := signals.NewScope(context.Background())
		defer busy.Stop()
		quiet := signals.NewScope(context.Background())
		defer quiet.Stop()
		entered, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		blocked := busy.Child().Effect(func(tr *signals.Tracker) {
			if src.Get(tr) == 1 {
				once.Do(func() { close(entered) })
				<-release
			}
		}, signals.Async())
		rec := signalstest.Record(t, src, signals.Async(), signals.WithScope(quiet))
		src.Set(1)
		<-entered
		timeout := func(d time.Duration) context.Context {
			ctx, cancel := context.WithTimeout(t.Context(), d)
			t.Cleanup(cancel)
			return ctx
		}
		// What must wait is given 20ms; what must not is given 10s, which
		// it would use up if it waited for the blocked run.
		short := func() context.Context { return timeout(20 * time.Millisecond) }
		long := func() context.Context { return timeout(10 * time.Second) }
		_, err := rec.Wait(t.Context(), 2)
		require.NoError(t, err)
		assert.NoError(t, quiet.Idle(long()), "a scope whose effects are done does not wait for another's")
		assert.NoError(t, rec.Effect().Idle(long()), "nor does an effect")
		assert.ErrorIs(t, busy.Idle(short()), context.DeadlineExceeded, "the parent waits for its child's effect")
		assert.ErrorIs(t, blocked.Idle(short()), context.DeadlineExceeded)
		assert.ErrorIs(t, signals.Idle(short()), context.DeadlineExceeded, "so does the process")
		close(release)
		assert.NoError(t, busy.Idle(t.Context()))
		assert.NoError(t, blocked.Idle(t.Context()))
		assert.NoError(t, signals.Idle(t.Context()))
		direct := signals.NewEffect(func(tr *signals.Tracker) { src.Get(tr) })
		defer direct.Stop()
		assert.NoError(t, direct.Idle(long()), "a synchronous effect has nothing scheduled")
	})
}

func TestScopeStopSurvivesGoexit(t *testing.T) {
	signalstest.Check(t)
	scope := signals.NewScope(context.Background())
	var ran atomic.Bool
	scope.Defer(func() { ran.Store(true) })
	scope.Defer(runtime.Goexit) // as t.FailNow in a stop would
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		scope.Stop()
	}()
	<-exited
	assert.True(t, ran.Load(), "the stops after the one that exited ran")
	assert.True(t, closed(scope.Done()))
}

func TestSubscribeThatFailsLeavesNothing(t *testing.T) {
	signalstest.Check(t)
	assert.Panics(t, func() { signals.Subscribe(context.Background(), signals.New(1), signals.EffectOption{}) })
	c := signals.NewComputed(func(*signals.Tracker) int { panic("no value") })
	assert.PanicsWithValue(t, "no value", func() { signals.Subscribe(context.Background(), c) })
}

func TestDoneRacingWithStop(t *testing.T) {
	src := signals.New(0)
	withDeadline(t, time.Minute, func() {
		for range 300 {
			e := signals.NewEffect(func(tr *signals.Tracker) { src.Get(tr) })
			var chans [3]<-chan struct{}
			goN(4, func(i int) {
				if i == 3 {
					e.Stop()
					return
				}
				chans[i] = e.Done()
			})
			for _, ch := range chans {
				<-ch // closed, and only once (a second close would panic)
				require.True(t, ch == e.Done(), "one channel")
			}
		}
	})
}

func TestScopePanicHandler(t *testing.T) {
	drainScheduled(t) // this test waits for the whole process in a bubble
	signalstest.Check(t)
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex // the handlers run on the effects' goroutines
		var global, mine, own []any
		collect := func(into *[]any, vs ...any) {
			mu.Lock()
			defer mu.Unlock()
			*into = append(*into, vs...)
		}
		prev := signals.SetPanicHandler(func(p signals.PanicInfo) { collect(&global, p.Value) })
		defer signals.SetPanicHandler(prev)
		src := signals.New(0)
		tenant := signals.NewScope(context.Background())
		defer tenant.Stop()
		assert.Nil(t, tenant.SetPanicHandler(func(p signals.PanicInfo) { collect(&mine, p.Effect, p.Value) }))
		boom := func(name string) func(*signals.Tracker) {
			return func(tr *signals.Tracker) {
				if src.Get(tr) == 1 {
					panic(name)
				}
			}
		}
		tenant.Effect(boom("in scope"), signals.Async(), signals.WithEffectName("a"))
		tenant.Child().Effect(boom("in child"), signals.Async(), signals.WithEffectName("b"))
		tenant.Effect(boom("own handler"), signals.Async(),
			signals.WithPanicHandler(func(p signals.PanicInfo) { collect(&own, p.Value) }))
		outside := signals.NewEffect(boom("outside"), signals.Async())
		defer outside.Stop()
		src.Set(1)
		require.NoError(t, signals.Idle(t.Context()))
		mu.Lock()
		defer mu.Unlock()
		assert.ElementsMatch(t, []any{"a", "in scope", "b", "in child"}, mine)
		assert.Equal(t, []any{"own handler"}, own, "an effect's own handler comes first")
		assert.Equal(t, []any{"outside"}, global, "the process-wide handler gets the rest")

		h := tenant.SetPanicHandler(nil)
		assert.NotNil(t, h, "the previous handler")
		mu.Unlock()
		src.Set(0)
		src.Set(1)
		require.NoError(t, signals.Idle(t.Context()))
		mu.Lock()
		assert.Len(t, global, 4, "without a scope handler, the process-wide one")
	})

	t.Run("a scope stopped by its context reports its stops' panics to its handler", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		scope := signals.NewScope(ctx)
		got := make(chan any, 2)
		scope.SetPanicHandler(func(p signals.PanicInfo) { got <- p.Value })
		src := signals.New(0)
		scope.Child().Effect(func(tr *signals.Tracker) {
			src.Get(tr)
			tr.OnCleanup(func() { panic("cleanup") })
		})
		cancel()
		within(t, 10*time.Second, scope.Done(), "scope stopped")
		assert.Equal(t, "cleanup", <-got)
	})
}

// tracerLog collects the names of effect runs.
type tracerLog struct {
	mu   sync.Mutex
	runs []string
}

func (l *tracerLog) Trace(e signals.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.Kind == signals.EventEffectRun {
		l.runs = append(l.runs, e.Name)
	}
}

func (l *tracerLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.runs
	l.runs = nil
	return r
}

func TestScopeAndEffectTracers(t *testing.T) {
	signalstest.Check(t)
	src := signals.New(0)
	var global, tenantLog, childLog, effectLog tracerLog
	prev := signals.SetTracer(&global)
	defer signals.SetTracer(prev)
	tenant := signals.NewScope(context.Background())
	child := tenant.Child()
	assert.Nil(t, tenant.SetTracer(&tenantLog))
	assert.Nil(t, child.SetTracer(&childLog))
	tenant.Effect(func(tr *signals.Tracker) { src.Get(tr) }, signals.WithEffectName("a"))
	child.Effect(func(tr *signals.Tracker) { src.Get(tr) }, signals.WithEffectName("b"),
		signals.WithTracer(&effectLog))
	other := signals.NewEffect(func(tr *signals.Tracker) { src.Get(tr) }, signals.WithEffectName("c"))
	defer other.Stop()
	global.take()
	tenantLog.take()
	childLog.take()
	effectLog.take()
	src.Set(1)
	assert.Equal(t, []string{"a", "b", "c"}, global.take(), "the process-wide tracer sees every run")
	assert.Equal(t, []string{"a", "b"}, tenantLog.take(), "a scope's tracer sees its effects and its children's")
	assert.Equal(t, []string{"b"}, childLog.take())
	assert.Equal(t, []string{"b"}, effectLog.take(), "an effect's own tracer")

	assert.Same(t, &childLog, child.SetTracer(nil))
	signals.SetTracer(nil)
	src.Set(2)
	assert.Equal(t, []string{"a", "b"}, tenantLog.take(), "without the process-wide tracer")
	assert.Empty(t, childLog.take())
	assert.Empty(t, global.take())
	assert.Equal(t, []string{"b"}, effectLog.take())
	tenant.Stop()
	src.Set(3)
	assert.Empty(t, tenantLog.take(), "a stopped scope has no tracer")
	assert.Nil(t, tenant.SetTracer(&tenantLog), "nor can it get one")
	assert.Empty(t, effectLog.take(), "a stopped effect does not run")
	assert.Panics(t, func() { signals.WithTracer(nil) })
}

func TestTrackerScopeOwnsTheRunsEffects(t *testing.T) {
	signalstest.Check(t)
	outer, inner := signals.New(0), signals.New(0)
	innerRuns := 0
	var scopes []*signals.Scope
	e := signals.NewEffect(func(tr *signals.Tracker) {
		outer.Get(tr)
		s := tr.Scope()
		assert.Same(t, s, tr.Scope(), "one scope per run")
		assert.Same(t, s, tr.Untracked().Scope())
		scopes = append(scopes, s)
		s.Effect(func(tr *signals.Tracker) { innerRuns++; inner.Get(tr) })
		signals.NewEffect(func(tr *signals.Tracker) { innerRuns++; inner.Get(tr) }, signals.WithScope(s))
	})
	outer.Set(1)
	require.Len(t, scopes, 2)
	assert.NotSame(t, scopes[0], scopes[1], "a new scope for each run")
	assert.True(t, closed(scopes[0].Done()), "stopped before the next run")
	innerRuns = 0
	inner.Set(1)
	assert.Equal(t, 2, innerRuns, "only the latest run's effects are alive")
	e.Stop()
	assert.True(t, closed(scopes[1].Done()), "stopped with the effect")
	inner.Set(2)
	assert.Equal(t, 2, innerRuns)

	t.Run("child of the effect's scope", func(t *testing.T) {
		owner := signals.NewScope(context.WithValue(context.Background(), scopeKey{}, "tenant"))
		got := make(chan signals.PanicInfo, 1)
		owner.SetPanicHandler(func(p signals.PanicInfo) { got <- p })
		src := signals.New(0)
		var run *signals.Scope
		owner.Effect(func(tr *signals.Tracker) {
			run = tr.Scope()
			assert.Equal(t, "tenant", run.Context().Value(scopeKey{}))
			run.Effect(func(tr *signals.Tracker) {
				if src.Get(tr) == 1 {
					panic("inner")
				}
			}, signals.Async())
		})
		src.Set(1)
		require.NoError(t, owner.Idle(t.Context()), "the owner's Idle waits for the run's effects")
		assert.Equal(t, "inner", (<-got).Value, "the run's effects use the owner's panic handler")
		owner.Stop()
		assert.True(t, closed(run.Done()))
	})

	t.Run("values of the effect's context", func(t *testing.T) {
		ctx := context.WithValue(context.Background(), scopeKey{}, "conn")
		var got any
		e := signals.NewEffect(func(tr *signals.Tracker) { got = tr.Scope().Context().Value(scopeKey{}) }, signals.WithContext(ctx))
		e.Stop()
		assert.Equal(t, "conn", got)
	})

	t.Run("misuse", func(t *testing.T) {
		var nilTracker *signals.Tracker
		assert.PanicsWithValue(t, "signals: Scope called on a nil Tracker; only an effect's Tracker has a run to own a scope",
			func() { nilTracker.Scope() })
		c := signals.NewComputed(func(tr *signals.Tracker) int { tr.Scope(); return 1 })
		assert.PanicsWithValue(t, "signals: Scope called from a compute function; only effects own scopes", func() { c.Peek() })
	})
}

// TestLifetimesUnderConcurrency attacks scopes, their children, contexts and
// effects from many goroutines at once: stops racing with creation, with
// each other and with the contexts' callbacks. Everything must end, once,
// with nothing left behind and no data race.
func TestLifetimesUnderConcurrency(t *testing.T) {
	signalstest.Check(t)
	src := signals.New(0)
	withDeadline(t, time.Minute, func() {
		for range 50 {
			ctx, cancel := context.WithCancel(context.Background())
			root := signals.NewScope(ctx)
			var made []*signals.Effect
			var checks []func() // run once root is done
			var mu sync.Mutex
			goN(6, func(w int) {
				for i := range 20 {
					var e *signals.Effect
					switch (w + i) % 5 {
					case 0:
						e = root.Child().Effect(func(tr *signals.Tracker) { src.Get(tr) }, signals.WithContext(ctx))
					case 1:
						child := root.Child()
						e = child.Effect(func(tr *signals.Tracker) { src.Get(tr) }, signals.Async())
						go child.Stop()
					case 2:
						var ran atomic.Int32
						cancelDefer, registered := root.TryDefer(func() { ran.Add(1) })
						removed := cancelDefer()
						mu.Lock()
						checks = append(checks, func() {
							want := int32(0)
							if registered && !removed {
								want = 1 // root stopped first
							}
							assert.Equal(t, want, ran.Load(), "registered %v, removed %v", registered, removed)
						})
						mu.Unlock()
					case 3:
						ch := signals.Subscribe(ctx, src, signals.WithScope(root.Child()))
						go drain(ch)
					case 4:
						e = signals.NewEffect(func(tr *signals.Tracker) {
							src.Get(tr)
							tr.Scope().Effect(func(tr *signals.Tracker) { src.Get(tr) })
						}, signals.WithScope(root), signals.Throttle(time.Millisecond))
						src.Update(func(v int) int { return v + 1 })
					}
					if e != nil {
						mu.Lock()
						made = append(made, e)
						mu.Unlock()
						if i%3 == 0 {
							go e.Stop()
						}
					}
				}
				if w == 0 {
					cancel() // the root ends while the others still work
				}
			})
			<-root.Done()
			for _, check := range checks {
				check()
			}
			for _, e := range made {
				select {
				case <-e.Done():
				case <-time.After(10 * time.Second):
					t.Fatalf("an effect of a stopped scope never finished")
				}
			}
			require.NoError(t, root.Idle(t.Context()))
			cancel()
		}
	})
}
