package signals

import (
	"sync/atomic"

	"github.com/gosignals/signals/internal/core"
)

// Effect runs a function for its side effects, once when created and again
// after every change to what it read. Its methods are safe for concurrent
// use.
type Effect struct {
	sub core.Sub
	fn  func(*Tracker)
	// x ties the effect to its scope, contexts, scheduler and handlers
	// (lifetime.go). Set in NewEffect before the effect is shared; nil if it
	// has none of them.
	x *effectExtra
	// state and done make Done (lifetime.go).
	state atomic.Uint32
	done  atomic.Pointer[chan struct{}]
	// run is the scope of the current run (Tracker.Scope), or nil. The
	// engine orders the runs and cleanups that use it.
	run *Scope
	// origin is where the function's latest panic was raised.
	origin originSlot
	// ctx holds the context of WithContext and the current run's context
	// (Tracker.Context); nil until needed.
	ctx *effectContext
}

// NewEffect creates an effect and runs fn once, synchronously, before
// returning, even inside a Batch. Afterwards fn runs again after each
// change to the values it read through its Tracker: by default before the
// Set, Update or outermost Batch that caused the change returns (or, if
// another goroutine is running effects at the time, on that goroutine; see
// the package documentation), or when its Scheduler says (see Async,
// Debounce, Throttle, WithScheduler). An effect never runs concurrently
// with itself.
//
// If that first run panics, the effect is stopped and the panic leaves
// NewEffect. If the first run succeeded but the flush that NewEffect then
// runs (for the effects that run's writes made due) raises another effect's
// panic, the new effect is stopped too, its cleanups run, before the panic
// leaves NewEffect: no effect is left running without a handle to stop it.
// NewEffect(nil) panics. With WithContext or WithScope, an effect whose
// context is already done or whose scope is stopped is returned stopped,
// without running.
//
// An effect created inside another effect's run is not owned by it; tie
// their lifetimes explicitly, for example with t.OnCleanup(inner.Stop), or
// create it in the run's own scope, t.Scope(). See the package
// documentation's "Lifetimes".
func NewEffect(fn func(t *Tracker), opts ...EffectOption) *Effect {
	if fn == nil {
		panic("signals: NewEffect called with a nil function")
	}
	o := buildEffectOptions(opts)
	e := &Effect{fn: fn}
	if o.ctx != nil {
		e.ctx = &effectContext{base: o.ctx}
	}
	var s Scheduler
	var sched func(func())
	var job func()
	if o.newSched != nil {
		s = o.newSched()
		sched = func(job func()) { s.Schedule(e, job) }
		job = func() {
			if p, ok := core.RunScheduled(&e.sub); ok {
				e.reportPanic(p)
			}
		}
	}
	core.InitEffect(&e.sub, (*effectImpl)(e), 0, sched, job)
	e.sub.Name = o.name
	if !o.bind(e, s) {
		e.Stop() // context done or scope stopped: never runs
		return e
	}
	e.start()
	return e
}

// Stop ends all future runs of the effect and runs its cleanups. It is
// idempotent and may be called from inside the effect itself. The effect
// does not start a run after Stop returns; if it is running (or being
// checked) on another goroutine, that run completes and that goroutine runs
// the cleanups. A panic from a cleanup is raised from Stop after the
// other cleanups ran.
//
// Stop also lets go of everything that held the effect: it leaves its
// scope, releases its contexts and cancels a pending Debounce or Throttle
// timer, so that the stopped effect can be garbage-collected whatever
// outlives it. Done is closed once the last run and the cleanups are over.
// Stop on a nil *Effect does nothing.
func (e *Effect) Stop() {
	if e == nil {
		return
	}
	e.end()
	core.Stop(&e.sub)
}

// Name returns the name given with WithEffectName, or "".
func (e *Effect) Name() string {
	if e == nil {
		panic("signals: Name called on a nil *Effect")
	}
	return e.sub.Name
}

// effectImpl is the engine's view of an Effect.
type effectImpl Effect

func (e *effectImpl) Compute(t *core.Tracker, _ bool) bool {
	e.fn(fromCore(t))
	return true
}

func (e *effectImpl) Settle(bool) {}

// stopByContext stops e when one of its contexts is done, on the context's
// goroutine, where no caller could receive a cleanup's panic.
func (e *Effect) stopByContext() {
	if p, ok := core.Call(e.Stop); ok {
		e.reportPanic(p)
	}
}
