package signals_test

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosignals/signals"
)

// hookLog records observation hook calls and fails on overlap or on two
// calls of the same kind in a row.
type hookLog struct {
	t        testing.TB
	mu       sync.Mutex
	calls    []bool // true: onFirst
	inFlight atomic.Int32
	onCall   func(on bool) // extra work inside the hook, if set
}

func (h *hookLog) hook(on bool) {
	if h.inFlight.Add(1) != 1 {
		h.t.Errorf("observation hooks of one node ran concurrently")
	}
	defer h.inFlight.Add(-1)
	h.mu.Lock()
	if n := len(h.calls); (n == 0 && !on) || (n > 0 && h.calls[n-1] == on) {
		h.t.Errorf("hooks do not alternate starting with onFirst: %v then %v", h.calls, on)
	}
	h.calls = append(h.calls, on)
	h.mu.Unlock()
	if h.onCall != nil {
		h.onCall(on)
	}
}

func (h *hookLog) opt() signals.Option[int] {
	return signals.WithObserved[int](func() { h.hook(true) }, func() { h.hook(false) })
}

func (h *hookLog) get() []bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]bool(nil), h.calls...)
}

func TestObservedSignal(t *testing.T) {
	h := &hookLog{t: t}
	s := signals.New(1, h.opt())

	// Reads from outside effects do not observe.
	s.Peek()
	s.Get(nil)
	c := signals.NewComputed(func(tr *signals.Tracker) int { return s.Get(tr) * 2 })
	require.Equal(t, 2, c.Peek())
	assert.Empty(t, h.get(), "a computed no effect depends on does not observe")

	e1 := signals.NewEffect(func(tr *signals.Tracker) { s.Get(tr) })
	assert.Equal(t, []bool{true}, h.get(), "onFirst runs before NewEffect returns")
	e2 := signals.NewEffect(func(tr *signals.Tracker) { c.Get(tr) })
	assert.Equal(t, []bool{true}, h.get(), "a second observer is not a first")
	e1.Stop()
	assert.Equal(t, []bool{true}, h.get(), "the effect through the computed still observes")
	e2.Stop()
	assert.Equal(t, []bool{true, false}, h.get(), "onLast runs before the last Stop returns")

	e3 := signals.NewEffect(func(tr *signals.Tracker) { s.Get(tr) })
	e3.Stop()
	assert.Equal(t, []bool{true, false, true, false}, h.get())
}

func TestObservedDynamicDependency(t *testing.T) {
	h := &hookLog{t: t}
	s := signals.New(10, h.opt())
	use := signals.New(true)
	c := signals.NewComputed(func(tr *signals.Tracker) int {
		if use.Get(tr) {
			return s.Get(tr)
		}
		return 0
	})
	e := signals.NewEffect(func(tr *signals.Tracker) { c.Get(tr) })
	defer e.Stop()
	assert.Equal(t, []bool{true}, h.get())
	use.Set(false)
	assert.Equal(t, []bool{true, false}, h.get(), "the Set that ends the last read runs onLast before returning")
	use.Set(true)
	assert.Equal(t, []bool{true, false, true}, h.get())
}

func TestObservedComputed(t *testing.T) {
	h := &hookLog{t: t}
	s := signals.New(1)
	var c *signals.Computed[int]
	c = signals.NewComputed(func(tr *signals.Tracker) int { return s.Get(tr) + 1 },
		signals.WithObserved[int](func() { h.hook(true) }, func() { h.hook(false) }))
	assert.Equal(t, 2, c.Peek())
	assert.Empty(t, h.get())
	outer := signals.NewComputed(func(tr *signals.Tracker) int { return c.Get(tr) * 10 })
	e := signals.NewEffect(func(tr *signals.Tracker) { outer.Get(tr) })
	assert.Equal(t, []bool{true}, h.get(), "observed through another computed")
	e.Stop()
	assert.Equal(t, []bool{true, false}, h.get())
}

func TestObservedHooksMayUseTheGraph(t *testing.T) {
	// onFirst writes the signal it belongs to (as a clock does) and reads
	// another; the effect that caused it sees the write before NewEffect
	// returns.
	other := signals.New(5)
	var s *signals.Signal[int]
	var seen []int
	s = signals.New(0, signals.WithObserved[int](func() { s.Set(other.Get(nil) * 100) }, func() { s.Set(-1) }))
	e := signals.NewEffect(func(tr *signals.Tracker) { seen = append(seen, s.Get(tr)) })
	assert.Equal(t, []int{0, 500}, seen)
	e.Stop()
	assert.Equal(t, -1, s.Peek(), "onLast ran before Stop returned")
}

func TestObservedWaitsForTheBatch(t *testing.T) {
	h := &hookLog{t: t}
	s := signals.New(1, h.opt())
	var e *signals.Effect
	signals.Batch(func() {
		e = signals.NewEffect(func(tr *signals.Tracker) { s.Get(tr) })
		assert.Empty(t, h.get(), "hooks wait for the outermost Batch, like effects")
	})
	assert.Equal(t, []bool{true}, h.get())
	signals.Batch(func() {
		e.Stop()
		assert.Equal(t, []bool{true}, h.get())
	})
	assert.Equal(t, []bool{true, false}, h.get())
}

func TestObservedQuickFlipMayCoalesceButNeverRepeats(t *testing.T) {
	h := &hookLog{t: t}
	s := signals.New(1, h.opt())
	signals.Batch(func() {
		e := signals.NewEffect(func(tr *signals.Tracker) { s.Get(tr) })
		e.Stop()
	})
	calls := h.get()
	assert.True(t, len(calls) == 0 || (len(calls) == 2 && calls[0] && !calls[1]), "got %v", calls)
	e := signals.NewEffect(func(tr *signals.Tracker) { s.Get(tr) })
	e.Stop()
	calls = h.get()
	require.NotEmpty(t, calls)
	assert.False(t, calls[len(calls)-1], "the last call reports the final state: unobserved")
}

func TestObservedPanicGoesToTheHandler(t *testing.T) {
	var got []signals.PanicInfo
	var mu sync.Mutex
	prev := signals.SetPanicHandler(func(info signals.PanicInfo) {
		mu.Lock()
		got = append(got, info)
		mu.Unlock()
	})
	defer signals.SetPanicHandler(prev)

	calls := 0
	s := signals.New(1, signals.WithName[int]("feed"), signals.WithObserved[int](func() {
		calls++
		panic("connect failed")
	}, nil))
	var e *signals.Effect
	require.NotPanics(t, func() { e = signals.NewEffect(func(tr *signals.Tracker) { s.Get(tr) }) })
	e.Stop()
	require.Len(t, got, 1)
	assert.Equal(t, signals.PanicInfo{Effect: "feed", Value: "connect failed", Hook: "onFirst"}, got[0])

	// The node keeps working, and its hooks run again.
	e = signals.NewEffect(func(tr *signals.Tracker) { s.Get(tr) })
	defer e.Stop()
	assert.Equal(t, 2, calls)
	s.Set(2)
	assert.Equal(t, 2, s.Peek())
}

func TestObservedGoexitLeavesNothingStuck(t *testing.T) {
	var goexit atomic.Bool
	goexit.Store(true)
	h := &hookLog{t: t}
	h.onCall = func(on bool) {
		if on && goexit.CompareAndSwap(true, false) {
			runtime.Goexit() // as t.FailNow does
		}
	}
	s := signals.New(1, h.opt())
	withDeadline(t, 5*time.Second, func() {
		var e *signals.Effect
		done := make(chan struct{})
		go func() {
			defer close(done)
			e = signals.NewEffect(func(tr *signals.Tracker) { s.Get(tr) })
		}()
		<-done // the goroutine exited inside onFirst
		// NewEffect did not return: nothing could stop the effect, so the
		// engine stopped it (as when NewEffect panics after the first run),
		// and the node lost its observer.
		require.Equal(t, []bool{true, false}, h.get())
		s.Set(2) // the graph is not locked
		if e != nil {
			t.Fatal("NewEffect returned although its goroutine exited in the hook")
		}
		// A later transition is delivered.
		e2 := signals.NewEffect(func(tr *signals.Tracker) { s.Get(tr) })
		e2.Stop()
	})
	assert.Equal(t, []bool{true, false, true, false}, h.get())
}

func TestObservedConcurrentObservers(t *testing.T) {
	h := &hookLog{t: t}
	s := signals.New(0, h.opt())
	src := signals.New(0)
	gate := signals.NewComputed(func(tr *signals.Tracker) int {
		if src.Get(tr)%2 == 0 {
			return s.Get(tr)
		}
		return -1
	})
	withDeadline(t, 20*time.Second, func() {
		goN(8, func(g int) {
			for i := range 300 {
				switch (g + i) % 3 {
				case 0:
					e := signals.NewEffect(func(tr *signals.Tracker) { s.Get(tr) })
					e.Stop()
				case 1:
					e := signals.NewEffect(func(tr *signals.Tracker) { gate.Get(tr) })
					src.Update(func(v int) int { return v + 1 })
					e.Stop()
				case 2:
					signals.Batch(func() {
						e := signals.NewEffect(func(tr *signals.Tracker) { s.Get(tr) })
						s.Update(func(v int) int { return v + 1 })
						e.Stop()
					})
				}
			}
		})
	})
	calls := h.get()
	require.NotEmpty(t, calls)
	assert.False(t, calls[len(calls)-1], "with every observer stopped, the last call is onLast")
	t.Logf("%d hook calls for 2400 observers", len(calls))
}

func TestWithObservedRejectsNoHook(t *testing.T) {
	assert.PanicsWithValue(t, "signals: WithObserved(nil, nil): pass at least one hook", func() {
		signals.WithObserved[int](nil, nil)
	})
}

// A node whose graph has a flush under way is left to that flush's end. If
// the deliverer kept it aside while it sat in another node's hook, the
// flush could end meanwhile, find nothing to deliver, and the node would
// wait for some unrelated later call. Found in review.
func TestObservedNotLeftBehindByABusyDeliverer(t *testing.T) {
	withDeadline(t, 30*time.Second, func() {
		trig := signals.New(0)
		inEA, releaseEA := make(chan struct{}), make(chan struct{})
		ea := signals.NewEffect(func(tr *signals.Tracker) {
			if trig.Get(tr) == 1 {
				close(inEA)
				<-releaseEA
			}
		})
		defer ea.Stop()
		var aObserved atomic.Bool
		a := signals.New(0, signals.WithObserved[int](func() { aObserved.Store(true) }, nil))
		bHookIn, releaseB := make(chan struct{}), make(chan struct{})
		b := signals.New(0, signals.WithObserved[int](func() { close(bHookIn); <-releaseB }, nil))

		setDone := make(chan struct{})
		go func() { trig.Set(1); close(setDone) }() // a flush of trig's graph, busy in ea
		<-inEA
		go func() {
			<-bHookIn // the batch's end is delivering, inside b's hook
			close(releaseEA)
			<-setDone // the flush of a's graph has ended
			close(releaseB)
		}()
		var ec, eb *signals.Effect
		signals.Batch(func() {
			ec = signals.NewEffect(func(tr *signals.Tracker) { trig.Get(tr); a.Get(tr) }) // a: observed, its graph busy
			eb = signals.NewEffect(func(tr *signals.Tracker) { b.Get(tr) })               // b: observed
		})
		defer ec.Stop()
		defer eb.Stop()
		require.Eventually(t, aObserved.Load, 5*time.Second, time.Millisecond,
			"a gained a live subscriber, but its hook was never called")
	})
}
