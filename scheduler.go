package signals

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gosignals/signals/internal/core"
)

// Batch runs fn and defers effects until the outermost Batch returns, so that
// several writes cause one run of each affected effect. Reads inside fn see
// the new values, computeds included. Batches nest. Effects made due while
// any goroutine is inside a Batch wait until the batches open at that moment
// have returned, never for batches opened later: a Batch defers effects, it
// is not a transaction, and its writes are visible to other goroutines at
// once. If fn panics or calls runtime.Goexit, the effects still run, and
// their panics go to the panic handler (see SetPanicHandler) while fn's
// continues. Batch(nil) panics.
func Batch(fn func()) {
	if fn == nil {
		panic("signals: Batch called with a nil function")
	}
	t := core.BeginBatch()
	ok := false
	defer func() { core.EndBatch(t, !ok) }()
	fn()
	ok = true
}

// A Scheduler decides when an effect's runs happen. Each time a change
// reaches the effect, the package calls Schedule(e, run) instead of running
// e itself. run, called later on any goroutine and any number of times, runs
// e if something it read changed since its previous run, so one call covers
// every change made before it: the latest values are always delivered, and
// a scheduler may drop repeated requests for the same effect until it calls
// run. Schedule is called without any lock of this package held, from the
// goroutine that flushed, and must not block.
//
// The first run of every effect happens inside NewEffect, whatever its
// scheduler. An effect never runs concurrently with itself; a run asked for
// while one is in progress happens after it. Writes made by an effect run
// by a scheduler are not batched with the flush that scheduled it; they flush
// as any other write on that goroutine. A panic in such a run goes to the
// panic handler (see SetPanicHandler) instead of a caller.
type Scheduler interface {
	Schedule(e *Effect, run func())
}

// SchedulerFunc adapts a function to a Scheduler.
type SchedulerFunc func(e *Effect, run func())

// Schedule calls f(e, run).
func (f SchedulerFunc) Schedule(e *Effect, run func()) { f(e, run) }

// WithScheduler makes s decide when the effect runs. All effects created
// with this option share s. WithScheduler(nil) panics.
func WithScheduler(s Scheduler) EffectOption {
	if s == nil {
		panic("signals: WithScheduler(nil)")
	}
	return EffectOption{apply: func(o *effectOptions) { o.newSched = func() Scheduler { return s } }}
}

// Async runs the effect on a goroutine of its own rather than on the writer's:
// a Set never executes the effect's side effects. Use Idle, or the effect's
// or its scope's Idle, to wait for such runs to finish.
func Async() EffectOption {
	return EffectOption{apply: func(o *effectOptions) {
		o.newSched = func() Scheduler { return new(async) }
	}}
}

// async is the per-effect state of Async: at most one goroutine waits to run
// the effect.
type async struct {
	mu      sync.Mutex
	pending bool
	stopped bool
}

func (a *async) Schedule(e *Effect, run func()) {
	a.mu.Lock()
	if a.pending || a.stopped {
		a.mu.Unlock()
		return
	}
	a.pending = true
	a.mu.Unlock()
	idle := e.idleCounter()
	idle.add(1)
	go func() {
		defer idle.add(-1)
		a.mu.Lock()
		a.pending = false // changes from now on need another run
		a.mu.Unlock()
		run()
	}()
}

// stop ignores what is scheduled from now on: the effect is stopped. A run
// already started does nothing.
func (a *async) stop() {
	a.mu.Lock()
	a.stopped = true
	a.mu.Unlock()
}

// Debounce runs the effect once d has passed without a further change, on a
// timer goroutine: a burst of writes causes one run, after the burst, which
// sees the final values. d must be positive.
func Debounce(d time.Duration) EffectOption {
	if d <= 0 {
		panic(fmt.Sprintf("signals: Debounce(%v): the duration must be positive", d))
	}
	return EffectOption{apply: func(o *effectOptions) {
		o.newSched = func() Scheduler { return &timed{d: d, debounce: true} }
	}}
}

// Throttle runs the effect at most once per d, on a timer goroutine: the
// first change runs it at once, changes during the following d are
// delivered together by one run when d has passed. The last change is
// always delivered. d must be positive.
func Throttle(d time.Duration) EffectOption {
	if d <= 0 {
		panic(fmt.Sprintf("signals: Throttle(%v): the duration must be positive", d))
	}
	return EffectOption{apply: func(o *effectOptions) {
		o.newSched = func() Scheduler { return &timed{d: d} }
	}}
}

// timed is the per-effect state of Debounce and Throttle.
type timed struct {
	d        time.Duration
	debounce bool

	mu      sync.Mutex
	timer   *time.Timer
	armed   bool // a run is pending
	stopped bool
	lastRun time.Time
	run     func()
	idle    *idleCounter // where the pending run is counted
}

func (s *timed) Schedule(e *Effect, run func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.run = run
	if s.armed {
		if s.debounce {
			s.timer.Reset(s.d) // quiet period starts again
		}
		return
	}
	s.armed = true
	s.idle = e.idleCounter()
	s.idle.add(1)
	wait := s.d
	if !s.debounce {
		wait = max(0, s.d-time.Since(s.lastRun))
	}
	if s.timer == nil {
		s.timer = time.AfterFunc(wait, s.fire)
	} else {
		s.timer.Reset(wait)
	}
}

func (s *timed) fire() {
	s.mu.Lock()
	if !s.armed { // a Reset raced with a firing timer: nothing is pending
		s.mu.Unlock()
		return
	}
	s.armed = false
	s.lastRun = time.Now()
	run, idle := s.run, s.idle
	s.mu.Unlock()
	defer idle.add(-1)
	if run != nil { // nil once stopped
		run()
	}
}

// stop cancels the pending run, if any, and forgets the effect: a stopped
// Debounce(time.Hour) effect neither keeps Idle waiting nor stays in memory
// for an hour.
func (s *timed) stop() {
	s.mu.Lock()
	s.stopped = true
	s.run = nil
	cancelled := s.armed && s.timer.Stop()
	if cancelled {
		s.armed = false
	}
	idle := s.idle
	s.mu.Unlock()
	if cancelled {
		idle.add(-1)
	}
}

// Manual is a Scheduler whose runs wait until Flush: for tests that need to
// decide exactly when effects run. One Manual may serve many effects. It is
// safe for concurrent use.
type Manual struct {
	mu      sync.Mutex
	pending []func()
	due     map[*Effect]bool
}

// NewManual returns a Manual scheduler with nothing pending.
func NewManual() *Manual { return &Manual{due: map[*Effect]bool{}} }

// Schedule records a run of e until the next Flush; a run of e already
// pending covers it.
func (m *Manual) Schedule(e *Effect, run func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.due[e] {
		m.due[e] = true
		m.pending = append(m.pending, run)
	}
}

// Pending returns how many runs wait for Flush.
func (m *Manual) Pending() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pending)
}

// Flush runs the pending runs on the calling goroutine, and the runs they
// cause in turn, until none is pending, and returns how many it ran. If runs
// keep causing runs for 100 rounds it panics with an error wrapping
// ErrCycle.
func (m *Manual) Flush() int {
	n := 0
	for range 100 {
		m.mu.Lock()
		runs := m.pending
		m.pending = nil
		clear(m.due)
		m.mu.Unlock()
		if len(runs) == 0 {
			return n
		}
		for _, run := range runs {
			run()
		}
		n += len(runs)
	}
	panic(fmt.Errorf("%w: Manual.Flush: effects kept scheduling each other for 100 rounds", ErrCycle))
}

// idle counts runs handed to Async, Debounce and Throttle that have not
// finished, for Idle. Each such effect has a counter of its own whose
// parent is its scope's, whose parent is its parent scope's, up to this one.
var idle idleCounter

type idleCounter struct {
	mu     sync.Mutex
	n      int
	zero   chan struct{} // closed when n drops to 0
	parent *idleCounter  // counts everything this one counts
}

func (c *idleCounter) add(d int) {
	for ; c != nil; c = c.parent {
		c.mu.Lock()
		c.n += d
		if c.n == 0 && c.zero != nil {
			close(c.zero)
			c.zero = nil
		}
		c.mu.Unlock()
	}
}

// wait waits until c is zero or ctx is done.
func (c *idleCounter) wait(ctx context.Context) error {
	for {
		c.mu.Lock()
		if c.n == 0 {
			c.mu.Unlock()
			return nil
		}
		if c.zero == nil {
			c.zero = make(chan struct{})
		}
		zero := c.zero
		c.mu.Unlock()
		select {
		case <-zero:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Idle waits until no run handed to Async, Debounce or Throttle is pending
// or in progress, or ctx is done, and returns ctx.Err() in the latter case.
// Runs caused by the runs it waits for are waited for too. Runs held by a
// Manual scheduler or a custom Scheduler are not counted, and a stopped
// effect has none pending. It waits for the whole process; Effect.Idle and
// Scope.Idle wait for one effect or one scope.
func Idle(ctx context.Context) error {
	return idle.wait(ctx)
}
