package signals

import (
	"context"

	"github.com/gosignals/signals/internal/core"
)

// Context returns a context for the current run of the effect t belongs to.
// It carries the values of the context given with WithContext (if any; else
// of context.Background()) and is cancelled when the effect's next run starts
// and when the effect stops, or when the WithContext context is done. Hand it
// to work the run starts, so that the work ends once its result can no longer
// matter:
//
//	signals.NewEffect(func(t *signals.Tracker) {
//		id := selected.Get(t)
//		go prefetch(t.Context(), id) // cancelled when id changes
//	}, signals.WithContext(ctx))
//
// The context is made on the first call of a run; further calls in that run,
// also on t.Untracked(), return the same one, and runs that never call
// Context cost nothing. The run's end does not cancel it: a context for work
// that must stop with the run itself belongs in context.WithCancel with a
// deferred cancel.
//
// For a compute function's Tracker, Context returns context.Background():
// a computed's value is shared by all its readers and cached, so no reader's
// context may end it, and a compute function must be pure anyway (for I/O,
// use a Resource). For a nil Tracker it returns context.Background() too, so
// that code which takes a Tracker can always pass its Context on.
//
// Like the Tracker itself, Context must be called during the run, on the
// goroutine running it.
func (t *Tracker) Context() context.Context {
	if t == nil {
		return context.Background()
	}
	e, ok := t.c.Impl().(*effectImpl)
	if !ok {
		return context.Background()
	}
	return (*Effect)(e).runContext(t)
}

// effectContext is an effect's WithContext context and the context of its
// current run. Only the goroutine running the effect, or running its
// cleanups, touches it, one after the other.
type effectContext struct {
	base   context.Context
	run    context.Context
	cancel context.CancelFunc
	end    func() // endRun, made once
}

func (e *Effect) runContext(t *Tracker) context.Context {
	ec := e.ctx
	if ec == nil {
		ec = &effectContext{base: context.Background()}
		e.ctx = ec
	}
	if ec.run == nil {
		if ec.end == nil {
			ec.end = ec.endRun
		}
		ec.run, ec.cancel = context.WithCancel(ec.base)
		// Cleanups run before the next run and when the effect stops.
		core.OnCleanup(t.core(), ec.end)
	}
	return ec.run
}

// endRun cancels the context of the run that has ended.
func (ec *effectContext) endRun() {
	cancel := ec.cancel
	ec.run, ec.cancel = nil, nil
	cancel()
}
