package signals_test

import (
	"context"
	"errors"
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
)

// call is one call of a test loader: its parameters and context, and the
// channel that makes it return.
type call struct {
	p      int
	ctx    context.Context
	result chan result
}

type result struct {
	v   string
	err error
}

// loader is a load function whose calls wait until the test tells each one
// what to return (or ignore their context, when told so).
type loader struct {
	calls chan call
	n     atomic.Int64
	// obeyCtx makes a call return ctx.Err() as soon as its context ends.
	obeyCtx bool
}

func newLoader(obeyCtx bool) *loader { return &loader{calls: make(chan call, 200), obeyCtx: obeyCtx} }

func (l *loader) load(ctx context.Context, p int) (string, error) {
	l.n.Add(1)
	c := call{p: p, ctx: ctx, result: make(chan result, 1)}
	l.calls <- c
	if l.obeyCtx {
		select {
		case r := <-c.result:
			return r.v, r.err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	r := <-c.result
	return r.v, r.err
}

// next returns the next call, failing the test if none comes in time.
func (l *loader) next(t *testing.T) call {
	t.Helper()
	select {
	case c := <-l.calls:
		return c
	case <-time.After(10 * time.Second):
		buf := make([]byte, 1<<20)
		t.Fatalf("no load started; goroutines:\n%s", buf[:runtime.Stack(buf, true)])
		return call{}
	}
}

func (c call) reply(v string, err error) { c.result <- result{v, err} }

func TestResourceLoadsAndFollowsItsParameters(t *testing.T) {
	id := signals.New(1)
	l := newLoader(true)
	r := signals.NewResource(func(t *signals.Tracker) int { return id.Get(t) }, l.load)
	defer r.Stop()

	first := l.next(t)
	assert.Equal(t, 1, first.p)
	s := r.Peek()
	assert.Equal(t, signals.ResourceLoading, s.Status, "the first load starts inside NewResource")
	assert.False(t, s.HasValue())
	assert.True(t, s.Loading())
	first.reply("one", nil)
	v, err := r.Wait(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "one", v)
	s = r.Peek()
	assert.Equal(t, signals.ResourceReady, s.Status)
	assert.True(t, s.HasValue())
	assert.Equal(t, signals.Result[string]{Value: "one"}, s.Result())

	// Equal parameters do not reload.
	id.Set(1)
	id.Update(func(n int) int { return n })
	assert.Equal(t, int64(1), l.n.Load())

	// A change drops the value, which belongs to other parameters.
	id.Set(2)
	second := l.next(t)
	assert.Equal(t, 2, second.p)
	s = r.Peek()
	assert.Equal(t, signals.ResourceLoading, s.Status)
	assert.False(t, s.HasValue())
	assert.Equal(t, "", s.Value)
	second.reply("two", nil)
	v, err = r.Wait(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "two", v)
	assert.Equal(t, int64(2), l.n.Load())
}

func TestResourceCancelsTheLoadItNoLongerNeeds(t *testing.T) {
	withDeadline(t, 10*time.Second, func() {
		id := signals.New(1)
		l := newLoader(false) // ignores its context: returns late
		r := signals.NewResource(func(t *signals.Tracker) int { return id.Get(t) }, l.load)
		defer r.Stop()
		first := l.next(t)

		id.Set(2) // cancels the first load's context at once
		assert.ErrorIs(t, first.ctx.Err(), context.Canceled)
		second := l.next(t)
		assert.NoError(t, second.ctx.Err())

		first.reply("late one", nil) // never committed
		second.reply("two", nil)
		v, err := r.Wait(t.Context())
		require.NoError(t, err)
		assert.Equal(t, "two", v)

		// Even when the late result arrives after the current one.
		id.Set(3)
		third := l.next(t)
		id.Set(4)
		fourth := l.next(t)
		fourth.reply("four", nil)
		_, _ = r.Wait(t.Context())
		third.reply("late three", nil)
		time.Sleep(10 * time.Millisecond) // give a wrong commit the time to happen
		assert.Equal(t, "four", r.Peek().Value)
		assert.Equal(t, signals.ResourceReady, r.Peek().Status)
	})
}

func TestResourceKeepStale(t *testing.T) {
	id := signals.New(1)
	l := newLoader(true)
	r := signals.NewResource(func(t *signals.Tracker) int { return id.Get(t) }, l.load, signals.KeepStale())
	defer r.Stop()
	l.next(t).reply("one", nil)
	_, _ = r.Wait(t.Context())

	id.Set(2)
	c := l.next(t)
	s := r.Peek()
	assert.Equal(t, signals.ResourceReloading, s.Status)
	assert.True(t, s.HasValue())
	assert.Equal(t, "one", s.Value)
	assert.Equal(t, `reloading (stale: one)`, s.String())

	errDown := errors.New("db down")
	c.reply("", errDown)
	v, err := r.Wait(t.Context())
	assert.Same(t, errDown, err)
	assert.Equal(t, "one", v, "the stale value comes with the error")
	s = r.Peek()
	assert.Equal(t, signals.ResourceFailed, s.Status)
	assert.True(t, s.HasValue())
	assert.Equal(t, `failed: db down (stale: one)`, s.String())
}

func TestResourceFailureIsKeptUntilTheParametersChange(t *testing.T) {
	id := signals.New(1)
	l := newLoader(true)
	r := signals.NewResource(func(t *signals.Tracker) int { return id.Get(t) }, l.load)
	defer r.Stop()
	errDown := errors.New("db down")
	l.next(t).reply("", errDown)
	v, err := r.Wait(t.Context())
	assert.Same(t, errDown, err)
	assert.Equal(t, "", v)
	assert.Equal(t, "failed: db down", r.Peek().String())

	id.Set(1) // equal: the failure stays, no new load
	assert.Equal(t, int64(1), l.n.Load())
	_, err = r.Wait(t.Context())
	assert.Same(t, errDown, err)

	r.Reload() // a reload tries again
	assert.Equal(t, signals.ResourceLoading, r.Peek().Status)
	assert.NoError(t, r.Peek().Err, "no error while loading")
	l.next(t).reply("", errDown)
	_, err = r.Wait(t.Context())
	assert.Same(t, errDown, err)

	id.Set(2) // and so does a change
	l.next(t).reply("two", nil)
	v, err = r.Wait(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "two", v)
}

func loadPanics(context.Context, int) (string, error) { panic(errors.New("db down")) }

func TestResourceLoadThatPanics(t *testing.T) {
	withDeadline(t, 10*time.Second, func() {
		r := signals.NewResource(func(*signals.Tracker) int { return 1 }, loadPanics,
			signals.WithEffectName("page"), signals.WithRetry(3, nil))
		defer r.Stop()
		_, err := r.Wait(t.Context())
		require.Error(t, err)
		assert.Equal(t, `signals: resource "page" load panicked: db down`, err.Error())
		pe, ok := errors.AsType[*signals.PanicError](err)
		require.True(t, ok)
		assert.EqualError(t, pe.Value.(error), "db down")
		assert.EqualError(t, errors.Unwrap(err), "db down", "errors.Is and As see the panic value")
		raisedIn(t, pe.Stack, "signals_test.loadPanics")

		// A load calling runtime.Goexit (t.FailNow does) fails too, and
		// nobody waits forever.
		r2 := signals.NewResource(func(*signals.Tracker) int { return 1 },
			func(context.Context, int) (int, error) { runtime.Goexit(); return 0, nil })
		defer r2.Stop()
		_, err = r2.Wait(t.Context())
		assert.EqualError(t, err, "signals: resource load exited through runtime.Goexit without returning")
	})
}

func TestResourceParametersThatPanic(t *testing.T) {
	id := signals.New(0)
	l := newLoader(true)
	r := signals.NewResource(func(t *signals.Tracker) int {
		if n := id.Get(t); n > 0 {
			return n
		}
		panic("no id yet")
	}, l.load, signals.WithEffectName("movie"))
	defer r.Stop()
	s := r.Peek()
	require.Equal(t, signals.ResourceFailed, s.Status)
	assert.EqualError(t, s.Err, `signals: resource "movie" parameters panicked: no id yet`)
	pe, ok := errors.AsType[*signals.PanicError](s.Err)
	require.True(t, ok)
	assert.Equal(t, "no id yet", pe.Value)
	assert.Nil(t, errors.Unwrap(s.Err))
	r.Reload() // no parameters to load with
	assert.Equal(t, signals.ResourceFailed, r.Peek().Status)
	assert.Equal(t, int64(0), l.n.Load())

	// A computed's panic reaching the parameters keeps its origin.
	broken := signals.NewComputed(func(t *signals.Tracker) int { return dbDown(errors.New("db down")) })
	r2 := signals.NewResource(func(t *signals.Tracker) int { return broken.Get(t) }, l.load)
	defer r2.Stop()
	pe, ok = errors.AsType[*signals.PanicError](r2.Peek().Err)
	require.True(t, ok)
	raisedIn(t, pe.Stack, "signals_test.dbDown")

	id.Set(7)
	c := l.next(t)
	assert.Equal(t, 7, c.p)
	c.reply("seven", nil)
	v, err := r.Wait(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "seven", v)
}

func TestResourceSetAndReload(t *testing.T) {
	withDeadline(t, 10*time.Second, func() {
		l := newLoader(false)
		r := signals.NewResource(func(*signals.Tracker) int { return 1 }, l.load)
		defer r.Stop()
		l.next(t).reply("v1", nil)
		_, _ = r.Wait(t.Context())

		r.Reload()
		reload := l.next(t)
		s := r.Peek()
		assert.Equal(t, signals.ResourceReloading, s.Status, "the value stays on view")
		assert.Equal(t, "v1", s.Value)

		// An optimistic update cancels the load in progress: its result
		// predates the change.
		r.Set("v2 (saving)")
		assert.ErrorIs(t, reload.ctx.Err(), context.Canceled)
		s = r.Peek()
		assert.Equal(t, signals.ResourceReady, s.Status)
		assert.Equal(t, "v2 (saving)", s.Value)
		reload.reply("v1 again", nil)
		time.Sleep(5 * time.Millisecond)
		assert.Equal(t, "v2 (saving)", r.Peek().Value, "the obsolete load is not committed")

		r.Reload() // once saved, load the authoritative value
		assert.Equal(t, signals.ResourceReloading, r.Peek().Status)
		l.next(t).reply("v2", nil)
		v, err := r.Wait(t.Context())
		require.NoError(t, err)
		assert.Equal(t, "v2", v)
	})
}

func TestResourceWait(t *testing.T) {
	withDeadline(t, 10*time.Second, func() {
		l := newLoader(true)
		r := signals.NewResource(func(*signals.Tracker) int { return 1 }, l.load)
		c := l.next(t)

		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
		defer cancel()
		v, err := r.Wait(ctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, "", v)

		// Concurrent waiters share the one load.
		var wg sync.WaitGroup
		got := make([]string, 32)
		for i := range got {
			wg.Go(func() {
				v, err := r.Wait(t.Context())
				assert.NoError(t, err)
				got[i] = v
			})
		}
		time.Sleep(5 * time.Millisecond)
		c.reply("one", nil)
		wg.Wait()
		for _, v := range got {
			assert.Equal(t, "one", v)
		}
		assert.Equal(t, int64(1), l.n.Load())

		// Stopped before it settles: the waiters are told.
		r.Reload()
		l.next(t)
		done := make(chan error)
		go func() { _, err := r.Wait(t.Context()); done <- err }()
		time.Sleep(5 * time.Millisecond)
		r.Stop()
		assert.ErrorIs(t, <-done, signals.ErrResourceStopped)
		s := r.Peek()
		assert.Equal(t, signals.ResourceIdle, s.Status)
		assert.Equal(t, "one", s.Value, "the value stays")
		assert.Equal(t, "idle (stale: one)", s.String())
		_, err = r.Wait(t.Context())
		assert.ErrorIs(t, err, signals.ErrResourceStopped)
		assert.Panics(t, func() { _, _ = r.Wait(nil) })
	})
}

func TestResourceStop(t *testing.T) {
	id := signals.New(1)
	l := newLoader(false)
	r := signals.NewResource(func(t *signals.Tracker) int { return id.Get(t) }, l.load)
	c := l.next(t)
	r.Stop()
	assert.ErrorIs(t, c.ctx.Err(), context.Canceled)
	c.reply("late", nil)
	id.Set(2) // no longer followed
	r.Reload()
	r.Stop() // idempotent
	time.Sleep(5 * time.Millisecond)
	assert.Equal(t, int64(1), l.n.Load())
	s := r.Peek()
	assert.Equal(t, signals.ResourceIdle, s.Status)
	assert.False(t, s.HasValue())
	r.Set("local") // still a place to put a value
	assert.Equal(t, "ready: local", r.Peek().String())
}

func TestResourceWithScopeAndContext(t *testing.T) {
	withDeadline(t, 10*time.Second, func() {
		type key struct{}
		ctx, cancel := context.WithCancel(context.WithValue(t.Context(), key{}, "req-7"))
		l := newLoader(true)
		var paramsCtx context.Context
		r := signals.NewResource(func(t *signals.Tracker) int {
			paramsCtx = t.Context()
			return 1
		}, l.load, signals.WithContext(ctx))
		c := l.next(t)
		assert.Equal(t, "req-7", c.ctx.Value(key{}), "the load's context has WithContext's values")
		assert.Equal(t, "req-7", paramsCtx.Value(key{}), "and so has the parameters function's")
		cancel()
		<-c.ctx.Done()
		for r.Peek().Status != signals.ResourceIdle {
			time.Sleep(time.Millisecond)
		}
		_, err := r.Wait(t.Context())
		assert.ErrorIs(t, err, signals.ErrResourceStopped)

		scope := signals.NewScope(t.Context())
		r2 := signals.NewResource(func(*signals.Tracker) int { return 2 }, l.load, signals.WithScope(scope))
		c2 := l.next(t)
		scope.Stop()
		assert.ErrorIs(t, c2.ctx.Err(), context.Canceled, "stopping the scope cancels the load")
		assert.Equal(t, signals.ResourceIdle, r2.Peek().Status)

		// Created in a stopped scope or a done context: never loads.
		r3 := signals.NewResource(func(*signals.Tracker) int { return 3 }, l.load, signals.WithScope(scope))
		r4 := signals.NewResource(func(*signals.Tracker) int { return 4 }, l.load, signals.WithContext(ctx))
		for _, r := range []*signals.Resource[int, string]{r3, r4} {
			assert.Equal(t, signals.ResourceIdle, r.Peek().Status)
			_, err := r.Wait(t.Context())
			assert.ErrorIs(t, err, signals.ErrResourceStopped)
		}
		assert.Equal(t, int64(2), l.n.Load())
	})
}

func TestResourceWithAScheduler(t *testing.T) {
	drainScheduled(t) // this test waits for the whole process in a bubble
	synctest.Test(t, func(t *testing.T) {
		query := signals.New("a")
		var loads []string
		var mu sync.Mutex
		r := signals.NewResource(func(t *signals.Tracker) string { return query.Get(t) },
			func(_ context.Context, q string) (string, error) {
				mu.Lock()
				defer mu.Unlock()
				loads = append(loads, q)
				return "results for " + q, nil
			}, signals.Debounce(100*time.Millisecond))
		defer r.Stop()
		_, _ = r.Wait(t.Context())
		for _, q := range []string{"ab", "abc", "abcd"} { // typing
			query.Set(q)
			time.Sleep(30 * time.Millisecond)
		}
		assert.Equal(t, "results for a", r.Peek().Value, "not taken up before the quiet period")
		time.Sleep(100 * time.Millisecond)
		require.NoError(t, signals.Idle(t.Context()))
		v, err := r.Wait(t.Context())
		require.NoError(t, err)
		assert.Equal(t, "results for abcd", v)
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, []string{"a", "abcd"}, loads)
	})
}

func TestResourceRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var attempts []time.Duration
		start := time.Now()
		fail := 2
		r := signals.NewResource(func(*signals.Tracker) int { return 1 },
			func(context.Context, int) (string, error) {
				attempts = append(attempts, time.Since(start))
				if len(attempts) <= fail {
					return "", fmt.Errorf("attempt %d failed", len(attempts))
				}
				return "ok", nil
			}, signals.WithRetry(3, signals.ExponentialBackoff(100*time.Millisecond, 150*time.Millisecond)))
		defer r.Stop()
		synctest.Wait()
		assert.Equal(t, signals.ResourceLoading, r.Peek().Status, "retrying is still loading")
		v, err := r.Wait(t.Context())
		require.NoError(t, err)
		assert.Equal(t, "ok", v)
		assert.Equal(t, []time.Duration{0, 100 * time.Millisecond, 250 * time.Millisecond}, attempts)

		// Out of retries: the last error.
		attempts, fail, start = nil, 10, time.Now()
		r.Reload()
		_, err = r.Wait(t.Context())
		assert.EqualError(t, err, "attempt 4 failed")
		assert.Equal(t, []time.Duration{0, 100 * time.Millisecond, 250 * time.Millisecond, 400 * time.Millisecond}, attempts)

		// A change of the parameters ends the waits between attempts.
		attempts, start = nil, time.Now()
		r.Reload()
		time.Sleep(50 * time.Millisecond)
		r.Set("local")
		time.Sleep(time.Second)
		assert.Len(t, attempts, 1, "no retry after the load was made obsolete")
		assert.Equal(t, "ready: local", r.Peek().String())
	})
}

func TestExponentialBackoff(t *testing.T) {
	b := signals.ExponentialBackoff(10*time.Millisecond, 50*time.Millisecond)
	var got []time.Duration
	for i := 1; i <= 5; i++ {
		got = append(got, b(i))
	}
	ms := time.Millisecond
	assert.Equal(t, []time.Duration{10 * ms, 20 * ms, 40 * ms, 50 * ms, 50 * ms}, got)
	assert.Equal(t, 50*ms, b(1000), "no overflow")
	assert.Panics(t, func() { signals.ExponentialBackoff(0, time.Second) })
	assert.Panics(t, func() { signals.ExponentialBackoff(time.Second, time.Millisecond) })
	assert.PanicsWithValue(t, "signals: WithRetry(-1, …): the number of retries must not be negative",
		func() { signals.WithRetry(-1, nil) })
}

func TestResourceBadArguments(t *testing.T) {
	p := func(*signals.Tracker) int { return 1 }
	load := func(context.Context, int) (int, error) { return 1, nil }
	assert.PanicsWithValue(t, "signals: NewResource called with a nil parameters function",
		func() { signals.NewResource(nil, load) })
	assert.PanicsWithValue(t, "signals: NewResource called with a nil load function",
		func() { signals.NewResource[int, int](p, nil) })
	assert.PanicsWithValue(t, "signals: NewResource called with a nil ResourceOption",
		func() { signals.NewResource(p, load, nil) })
	assert.Panics(t, func() { signals.NewResource(p, load, signals.EffectOption{}) })

	var nilResource *signals.Resource[int, int]
	for name, method := range map[string]func(){
		"Get":    func() { nilResource.Get(nil) },
		"Peek":   func() { nilResource.Peek() },
		"Wait":   func() { _, _ = nilResource.Wait(t.Context()) },
		"Reload": nilResource.Reload,
		"Set":    func() { nilResource.Set(1) },
		"Name":   func() { nilResource.Name() },
	} {
		assert.PanicsWithValue(t, "signals: method called on a nil *Resource", method, name)
	}
	assert.NotPanics(t, nilResource.Stop)
}

func TestResourceOnDemand(t *testing.T) {
	withDeadline(t, 10*time.Second, func() {
		type key struct{}
		id := signals.New(1)
		l := newLoader(true)
		r := signals.NewResource(func(t *signals.Tracker) int { return id.Get(t) }, l.load, signals.LoadOnDemand())
		defer r.Stop()
		assert.Equal(t, "idle", shown(r))
		assert.Equal(t, int64(0), l.n.Load(), "nothing asked yet")

		// 32 concurrent waiters share one load; the one that gives up does
		// not cancel it for the others, though its values reach the loader.
		first, cancelFirst := context.WithCancel(context.WithValue(t.Context(), key{}, "first"))
		firstDone := make(chan error)
		go func() { _, err := r.Wait(first); firstDone <- err }()
		c := l.next(t)
		assert.Equal(t, 1, c.p)
		assert.Equal(t, "first", c.ctx.Value(key{}))
		var wg sync.WaitGroup
		for range 31 {
			wg.Go(func() {
				v, err := r.Wait(t.Context())
				assert.NoError(t, err)
				assert.Equal(t, "one", v)
			})
		}
		cancelFirst()
		assert.ErrorIs(t, <-firstDone, context.Canceled)
		assert.NoError(t, c.ctx.Err(), "the shared load goes on")
		time.Sleep(5 * time.Millisecond)
		c.reply("one", nil)
		wg.Wait()
		assert.Equal(t, int64(1), l.n.Load())

		// A change cancels nothing that is not running, and loads nothing
		// until asked; a read asks too.
		id.Set(2)
		assert.Equal(t, "idle", shown(r))
		assert.Equal(t, int64(1), l.n.Load())
		assert.Equal(t, signals.ResourceLoading, r.Peek().Status, "a read starts the load")
		c = l.next(t)
		assert.Equal(t, 2, c.p)
		id.Set(3) // cancels the load in progress
		assert.ErrorIs(t, c.ctx.Err(), context.Canceled)
		assert.Equal(t, "idle", shown(r))
	})
}

// shown is the state as Inspect shows it: a read without the side effect
// of starting a load on demand.
func shown(n signals.Node) string { return signals.Inspect(n).Value }
