package signals

import "github.com/gosignals/signals/internal/core"

// Effect runs a function for its side effects, once when created and again
// after every change to what it read. Its methods are safe for concurrent
// use.
type Effect struct {
	sub     core.Sub
	fn      func(*Tracker)
	onPanic func(PanicInfo)
	unbind  func() bool // releases a context binding
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
// NewEffect. NewEffect(nil) panics. With WithContext or WithScope, an effect
// whose context is already done or whose scope is stopped is returned
// stopped, without running.
//
// An effect created inside another effect's run is not owned by it; tie
// their lifetimes explicitly, for example with t.OnCleanup(inner.Stop), or
// create both in one Scope.
func NewEffect(fn func(t *Tracker), opts ...EffectOption) *Effect {
	if fn == nil {
		panic("signals: NewEffect called with a nil function")
	}
	o := buildEffectOptions(opts)
	e := &Effect{fn: fn, onPanic: o.onPanic}
	if o.ctx != nil {
		e.ctx = &effectContext{base: o.ctx}
	}
	var sched func(func())
	var job func()
	if o.newSched != nil {
		s := o.newSched()
		sched = func(job func()) { s.Schedule(e, job) }
		job = func() {
			if p, ok := core.RunScheduled(&e.sub); ok {
				e.reportPanic(p)
			}
		}
	}
	core.InitEffect(&e.sub, (*effectImpl)(e), 0, sched, job)
	e.sub.Name = o.name
	if !o.bind(e) {
		core.Stop(&e.sub) // context done or scope stopped: never runs
		return e
	}
	core.StartEffect(&e.sub)
	return e
}

// Stop ends all future runs of the effect and runs its cleanups. It is
// idempotent and may be called from inside the effect itself. The effect
// does not start a run after Stop returns; if it is running (or being
// checked) on another goroutine, that run completes and that goroutine runs
// the cleanups. A panic from a cleanup is raised from Stop after the
// other cleanups ran.
func (e *Effect) Stop() {
	if e.unbind != nil {
		e.unbind()
	}
	core.Stop(&e.sub)
}

// Name returns the name given with WithEffectName, or "".
func (e *Effect) Name() string { return e.sub.Name }

// effectImpl is the engine's view of an Effect.
type effectImpl Effect

func (e *effectImpl) Compute(t *core.Tracker, _ bool) bool {
	e.fn(fromCore(t))
	return true
}

func (e *effectImpl) Settle(bool) {}

// stopByContext stops e when its context is done. The context binding has
// fired, so unlike Stop it has nothing to release.
func (e *Effect) stopByContext() {
	if p, ok := core.Call(func() { core.Stop(&e.sub) }); ok {
		e.reportPanic(p)
	}
}
