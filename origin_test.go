package signals_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosignals/signals"
)

// raisedIn reports whether stack, as NodeInfo.PanicStack and the like show
// it, names fn as the frame that raised the panic: the first frame after the
// goroutine's header line.
func raisedIn(t *testing.T, stack, fn string) {
	t.Helper()
	lines := strings.SplitN(stack, "\n", 3)
	require.Len(t, lines, 3, "a stack with a header and a frame: %q", stack)
	assert.Regexp(t, `^goroutine \d+ `, lines[0])
	assert.Contains(t, lines[1], fn, "first frame of:\n%s", stack)
}

// dbDown panics with err: a named function, so that stacks can be checked.
func dbDown(err error) int { panic(err) }

func TestPanicStackOfACachedPanic(t *testing.T) {
	errDown := errors.New("db down")
	s := signals.New(0)
	c := signals.NewComputed(func(tr *signals.Tracker) int {
		if s.Get(tr) == 1 {
			return dbDown(errDown)
		}
		return s.Get(tr)
	})
	assert.Equal(t, 0, c.Peek())
	assert.Empty(t, signals.Inspect(c).PanicStack, "no panic yet")

	s.Set(1)
	for range 2 { // the same value each time: contract item 10
		assert.Same(t, errDown, capturePanic(func() { c.Peek() }))
	}
	info := signals.Inspect(c)
	require.True(t, info.Panicked)
	assert.Same(t, errDown, info.Panic)
	raisedIn(t, info.PanicStack, "signals_test.dbDown")
	assert.Contains(t, info.PanicStack, "TestPanicStackOfACachedPanic", "the caller of dbDown is listed too")

	// The latest panic stays on view after a good run, with its stack.
	s.Set(2)
	assert.Equal(t, 2, c.Peek())
	info = signals.Inspect(c)
	assert.Same(t, errDown, info.Panic)
	raisedIn(t, info.PanicStack, "signals_test.dbDown")
}

func TestPanicStackTravelsThroughComputeds(t *testing.T) {
	errDown := errors.New("db down")
	s := signals.New(0)
	source := signals.NewComputed(func(tr *signals.Tracker) int {
		if s.Get(tr) == 1 {
			return dbDown(errDown)
		}
		return s.Get(tr)
	})
	middle := signals.NewComputed(func(tr *signals.Tracker) int { return source.Get(tr) + 1 })
	top := signals.NewComputed(func(tr *signals.Tracker) int { return middle.Get(tr) * 2 })
	assert.Equal(t, 2, top.Peek())
	s.Set(1)
	assert.Same(t, errDown, capturePanic(func() { top.Peek() }))
	for _, c := range []*signals.Computed[int]{source, middle, top} {
		info := signals.Inspect(c)
		assert.Same(t, errDown, info.Panic)
		raisedIn(t, info.PanicStack, "signals_test.dbDown") // not Computed.Get, which re-raised it
	}

	// A reader that panics on its own, after having carried another's
	// panic, shows its own stack.
	own := errors.New("own")
	s.Set(2)
	sel := signals.New(false)
	reader := signals.NewComputed(func(tr *signals.Tracker) int {
		if sel.Get(tr) {
			return dbDown(own)
		}
		return source.Get(tr)
	})
	s.Set(1)
	assert.Same(t, errDown, capturePanic(func() { reader.Peek() }))
	sel.Set(true)
	assert.Same(t, own, capturePanic(func() { reader.Peek() }))
	info := signals.Inspect(reader)
	assert.Same(t, own, info.Panic)
	raisedIn(t, info.PanicStack, "signals_test.dbDown")
	assert.Contains(t, info.PanicStack, "TestPanicStackTravelsThroughComputeds.func")
}

func TestPanicStackOfAnEquality(t *testing.T) {
	s := signals.New(1)
	c := signals.NewComputed(func(tr *signals.Tracker) int { return s.Get(tr) },
		signals.WithEqual(func(a, b int) bool {
			if b == 2 {
				panic("equality")
			}
			return a == b
		}))
	c.Peek()
	s.Set(2)
	assert.Equal(t, "equality", capturePanic(func() { c.Peek() }))
	raisedIn(t, signals.Inspect(c).PanicStack, "TestPanicStackOfAnEquality.func")
}

func TestPanicStackInPanicInfoAndEvents(t *testing.T) {
	drainScheduled(t) // this test waits for the whole process in a bubble
	synctest.Test(t, func(t *testing.T) {
		errDown := errors.New("db down")
		s := signals.New(0)
		c := signals.NewComputed(func(tr *signals.Tracker) int {
			if s.Get(tr) == 1 {
				return dbDown(errDown)
			}
			return s.Get(tr)
		}, signals.WithName[int]("c"))

		var mu sync.Mutex
		var events []signals.Event
		prev := signals.SetTracer(signals.TracerFunc(func(e signals.Event) {
			mu.Lock()
			defer mu.Unlock()
			if e.Panicked {
				events = append(events, e)
			}
		}))
		defer signals.SetTracer(prev)

		got := make(chan signals.PanicInfo, 2)
		e := signals.NewEffect(func(tr *signals.Tracker) { c.Get(tr) }, signals.Async(),
			signals.WithEffectName("reader"),
			signals.WithPanicHandler(func(p signals.PanicInfo) { got <- p }))
		defer e.Stop()
		s.Set(1)
		require.NoError(t, signals.Idle(t.Context()))
		info := <-got
		assert.Same(t, errDown, info.Value)
		raisedIn(t, info.Stack, "signals_test.dbDown")

		mu.Lock()
		defer mu.Unlock()
		require.Len(t, events, 2, "the computed's run and the effect's run panicked")
		for _, ev := range events {
			assert.Same(t, errDown, ev.Panic)
			raisedIn(t, ev.PanicStack, "signals_test.dbDown")
		}
		assert.Equal(t, signals.EventRecompute, events[0].Kind)
		assert.Equal(t, signals.EventEffectRun, events[1].Kind)
	})
}

func TestPanicStackOfAnEffect(t *testing.T) {
	s := signals.New(0)
	e := signals.NewEffect(func(tr *signals.Tracker) {
		if s.Get(tr) == 1 {
			dbDown(errors.New("effect"))
		}
	})
	defer e.Stop()
	assert.NotNil(t, capturePanic(func() { s.Set(1) }))
	info := signals.Inspect(e)
	require.True(t, info.Panicked)
	raisedIn(t, info.PanicStack, "signals_test.dbDown")
}

// A computation the engine restarts, because a value it read changed under
// it, unwinds through the same frame as a panic; that is not a panic of the
// function's, and must not replace the stack of the latest one.
func TestRestartsDoNotReplaceThePanicStack(t *testing.T) {
	errDown := errors.New("db down")
	a, b := signals.New(0), signals.New(0)
	reached, proceed := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	block, runs := false, 0
	c := signals.NewComputed(func(tr *signals.Tracker) int {
		mu.Lock()
		runs++
		wait := block
		block = false
		mu.Unlock()
		x := a.Get(tr)
		if x == 0 {
			return dbDown(errDown)
		}
		if wait {
			reached <- struct{}{}
			<-proceed
		}
		return x + b.Get(tr) // a changed since it was read: the run restarts
	})
	assert.Same(t, errDown, capturePanic(func() { c.Peek() }))
	raisedIn(t, signals.Inspect(c).PanicStack, "signals_test.dbDown")

	a.Set(1)
	mu.Lock()
	block = true
	mu.Unlock()
	done := make(chan int)
	go func() { done <- c.Peek() }()
	<-reached
	a.Set(2)
	close(proceed)
	assert.Equal(t, 2, <-done)
	mu.Lock()
	assert.Equal(t, 3, runs, "the second run was restarted")
	mu.Unlock()
	info := signals.Inspect(c)
	assert.Same(t, errDown, info.Panic)
	raisedIn(t, info.PanicStack, "signals_test.dbDown")
}
