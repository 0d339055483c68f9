package signals

import "github.com/gosignals/signals/internal/core"

// Effect runs a function for its side effects, once when created and again
// after every change to what it read. Its methods are safe for concurrent
// use.
type Effect struct {
	sub core.Sub
	fn  func(*Tracker)
}

// NewEffect creates an effect and runs fn once, synchronously, before
// returning, even inside a Batch. Afterwards fn runs again after each
// change to the values it read through its Tracker, before the Set, Update
// or outermost Batch that caused the change returns (or, if another
// goroutine is running effects at the time, on that goroutine; see the
// package documentation). An effect never runs concurrently with itself.
//
// If that first run panics, the effect is stopped and the panic leaves
// NewEffect. NewEffect(nil) panics.
//
// An effect created inside another effect's run is not owned by it; tie
// their lifetimes explicitly, for example with t.OnCleanup(inner.Stop).
func NewEffect(fn func(t *Tracker), opts ...EffectOption) *Effect {
	if fn == nil {
		panic("signals: NewEffect called with a nil function")
	}
	var o effectOptions
	for _, opt := range opts {
		if opt.apply == nil {
			panic("signals: zero EffectOption")
		}
		opt.apply(&o)
	}
	e := &Effect{fn: fn}
	core.InitEffect(&e.sub, (*effectImpl)(e), 0)
	core.StartEffect(&e.sub)
	return e
}

// Stop ends all future runs of the effect and runs its cleanups. It is
// idempotent and may be called from inside the effect itself; if the effect
// is running on another goroutine, that run completes and its goroutine
// runs the cleanups. A panic from a cleanup is raised from Stop after the
// other cleanups ran.
func (e *Effect) Stop() { core.Stop(&e.sub) }

// effectImpl is the engine's view of an Effect.
type effectImpl Effect

func (e *effectImpl) Compute(t *core.Tracker) { e.fn(fromCore(t)) }
func (e *effectImpl) Changed() bool           { return true }
func (e *effectImpl) Commit()                 {}
func (e *effectImpl) Discard()                {}
