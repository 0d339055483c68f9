package signals

import (
	"context"
	"sync"

	"github.com/gosignals/signals/internal/core"
)

// effectExtra is what ties an effect to the scope, contexts and scheduler
// given in its options. Only effects with any of them have one.
type effectExtra struct {
	// Fixed in NewEffect before the effect is shared:
	scope   *Scope          // the owner given with WithScope
	ctx     context.Context // the context given with WithContext
	onPanic func(PanicInfo) // WithPanicHandler
	tracer  Tracer          // WithTracer
	sched   stopper         // Async, Debounce or Throttle state, stopped with the effect
	idle    *idleCounter    // the effect's runs handed to sched
	onStop  func()          // called once the effect is stopped (Subscribe closes its channel)

	mu     sync.Mutex     // guards the fields below
	ended  bool           // end has run
	unbind [2]func() bool // the stop functions of context.AfterFunc
	entry  *deferred      // the registration with scope
}

// stopper is a scheduler state of this package that must let go of the
// effect when it stops: a pending timer, for one.
type stopper interface {
	Scheduler
	stop()
}

// bind makes e's extra state from the options and ties e to its contexts
// and scope. It reports false if one of them has already ended, in which
// case e must be stopped without running.
func (o *effectOptions) bind(e *Effect, sched Scheduler) bool {
	st, _ := sched.(stopper)
	if o.ctx == nil && o.subCtx == nil && o.scope == nil && o.onPanic == nil && o.tracer == nil &&
		o.onStop == nil && st == nil {
		return true
	}
	x := &effectExtra{scope: o.scope, ctx: o.ctx, onPanic: o.onPanic, tracer: o.tracer, sched: st, onStop: o.onStop}
	if st != nil {
		x.idle = &idleCounter{parent: &idle}
		if o.scope != nil {
			x.idle.parent = &o.scope.idle
		}
	}
	if o.tracer != nil {
		countLocalTracers(1)
	}
	e.x = x
	x.mu.Lock() // a context may stop e as soon as it is registered
	defer x.mu.Unlock()
	for i, ctx := range [...]context.Context{o.ctx, o.subCtx} {
		if ctx == nil {
			continue
		}
		if ctx.Err() != nil {
			return false
		}
		if ctx.Done() != nil {
			x.unbind[i] = context.AfterFunc(ctx, e.stopByContext)
		}
	}
	if o.scope != nil {
		if x.entry = o.scope.add(e.Stop); x.entry == nil {
			return false
		}
	}
	return true
}

// end lets go of everything that holds e or that e holds on to: its
// contexts, its scope, its scheduler's timer, its local tracer. It runs
// once, from Stop, before the engine stops e.
func (e *Effect) end() {
	x := e.x
	if x == nil {
		return
	}
	x.mu.Lock()
	if x.ended {
		x.mu.Unlock()
		return
	}
	x.ended = true
	unbind, entry := x.unbind, x.entry
	x.unbind, x.entry = [2]func() bool{}, nil
	x.mu.Unlock()
	for _, stop := range unbind {
		if stop != nil {
			stop()
		}
	}
	if entry != nil {
		x.scope.remove(entry)
	}
	if x.sched != nil {
		x.sched.stop()
	}
	if x.tracer != nil {
		countLocalTracers(-1)
	}
	if x.onStop != nil {
		x.onStop()
	}
}

// start runs e for the first time. If a panic leaves the engine, whether
// from that run (the engine stopped e) or from the flush that followed it
// (another effect's panic), no caller will get e: it is stopped, and the
// panic goes on.
func (e *Effect) start() {
	started := false
	defer func() {
		if !started {
			if p, ok := core.Call(e.Stop); ok {
				e.reportPanic(p) // the panic under way takes precedence
			}
		}
	}()
	core.StartEffect(&e.sub)
	started = true
}

// Bits of Effect.state.
const (
	disposed   uint32 = 1 << iota // the engine is done with the stopped effect
	doneClosed                    // Done's channel is closed
)

// Disposed is the engine telling that e is stopped, its last run over and
// its cleanups run. Graph lock held.
func (e *effectImpl) Disposed() {
	x := (*Effect)(e)
	x.state.Or(disposed)
	x.closeDone()
}

// closeDone closes Done's channel if it exists and e is disposed, once:
// Disposed and Done may race to make and see the two.
func (e *Effect) closeDone() {
	for {
		st := e.state.Load()
		ch := e.done.Load()
		if st&disposed == 0 || st&doneClosed != 0 || ch == nil {
			return
		}
		if e.state.CompareAndSwap(st, st|doneClosed) {
			close(*ch)
			return
		}
	}
}

// Done returns a channel closed once the effect is stopped and finished:
// its last run, if one was under way when it stopped, has returned and its
// cleanups have run. It is safe for concurrent use. Done on a nil *Effect
// panics.
func (e *Effect) Done() <-chan struct{} {
	if e == nil {
		panic("signals: Done called on a nil *Effect")
	}
	if ch := e.done.Load(); ch != nil {
		return *ch
	}
	ch := make(chan struct{})
	e.done.CompareAndSwap(nil, &ch)
	e.closeDone()
	return *e.done.Load()
}

// Idle waits until no run of the effect handed to Async, Debounce or
// Throttle is pending or in progress, or ctx is done, and returns ctx.Err()
// in the latter case. Runs the effect causes itself, by writing what it
// reads, are waited for too. For an effect run synchronously, or by a
// Manual or custom Scheduler, it returns nil at once. A stopped effect has
// nothing pending: Stop cancels a pending Debounce or Throttle run.
// Idle(nil) and Idle on a nil *Effect panic.
func (e *Effect) Idle(ctx context.Context) error {
	switch {
	case e == nil:
		panic("signals: Idle called on a nil *Effect")
	case ctx == nil:
		panic("signals: Effect.Idle(nil); use context.Background()")
	case e.x == nil || e.x.idle == nil:
		return nil
	}
	return e.x.idle.wait(ctx)
}

// idleCounter returns the counter of e's scheduled runs: its own, which
// counts towards its scope's and the package's, or the package's.
func (e *Effect) idleCounter() *idleCounter {
	if e.x != nil && e.x.idle != nil {
		return e.x.idle
	}
	return &idle
}

// Scope returns a scope owned by the current run of the effect: it is
// stopped before the effect's next run and when the effect stops. Effects
// created in it during the run (t.Scope().Effect, or WithScope) are owned by
// the run, as in Solid or alien-signals, instead of outliving it (the
// default, contract item 13). Calls during one run return the same scope.
//
// The scope is a child of the effect's own scope (WithScope), if it has
// one, so it shares its panic handler, tracer and Idle; its Context carries
// the values of the effect's WithContext context, if any. Calling Scope from
// a compute function (not an effect) or on a nil Tracker panics.
func (t *Tracker) Scope() *Scope {
	switch {
	case t == nil:
		panic("signals: Scope called on a nil Tracker; only an effect's Tracker has a run to own a scope")
	case !t.c.IsEffect():
		panic("signals: Scope called from a compute function; only effects own scopes")
	}
	e := (*Effect)(t.c.Impl().(*effectImpl))
	if e.run != nil {
		return e.run
	}
	base := context.Background()
	var owner *Scope
	if x := e.x; x != nil {
		owner = x.scope
		if x.ctx != nil {
			base = x.ctx
		} else if owner != nil {
			base = owner.base
		}
	}
	var s *Scope
	if owner != nil {
		s = owner.child(base)
	} else {
		s = newScope(base, &idle)
	}
	e.run = s
	core.OnCleanup(t.core(), func() {
		if e.run == s {
			e.run = nil
		}
		s.Stop()
	})
	return s
}

// withSubscription binds the effect that feeds a Subscribe channel to the
// context given to Subscribe, besides those of its options, and calls
// onStop once it is stopped, whatever stopped it.
func withSubscription(ctx context.Context, onStop func()) EffectOption {
	return EffectOption{apply: func(o *effectOptions) { o.subCtx, o.onStop = ctx, onStop }}
}
