package signals

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gosignals/signals/internal/core"
)

// WithContext stops the effect when ctx is done. An effect created with a
// context that is already done is returned stopped, without running.
// WithContext(nil) panics.
func WithContext(ctx context.Context) EffectOption {
	if ctx == nil {
		panic("signals: WithContext(nil); use context.Background()")
	}
	return EffectOption{apply: func(o *effectOptions) { o.ctx = ctx }}
}

// WithScope makes s own the effect: s.Stop stops it. WithScope(nil) panics.
func WithScope(s *Scope) EffectOption {
	if s == nil {
		panic("signals: WithScope(nil)")
	}
	return EffectOption{apply: func(o *effectOptions) { o.scope = s }}
}

// A Scope owns effects and other things to stop together: one per connected
// client, one per request. Stopping a scope stops what it owns in reverse
// order of registration, like deferred calls, and its child scopes with it.
// A scope may be bound to a context. What is stopped, or unregistered, on
// its own leaves the scope at once, so a long-lived scope holds only what is
// still live. See the package documentation's "Lifetimes". Its methods are
// safe for concurrent use.
type Scope struct {
	mu         sync.Mutex
	head, tail *deferred // what Stop stops, in order of registration
	stopped    bool
	unbind     func() bool        // releases the binding to NewScope's context
	parent     *Scope             // the scope that owns this child scope
	entry      *deferred          // this child's registration in parent
	base       context.Context    // what Context derives from
	ctx        context.Context    // made by Context, cancelled by Stop
	cancel     context.CancelFunc //
	done       chan struct{}
	idle       idleCounter // scheduled runs of the effects in s and its children
	onPanic    atomic.Pointer[func(PanicInfo)]
	tracer     atomic.Pointer[Tracer]
}

// deferred is one registration with a scope: a node of its list, so that it
// leaves in constant time.
type deferred struct {
	fn         func() // nil once removed
	prev, next *deferred
}

// NewScope returns an empty scope, stopped when ctx is done. If ctx is
// already done, the scope is returned stopped (Done closed). NewScope(nil)
// panics; pass context.Background() for a scope that only Stop ends.
func NewScope(ctx context.Context) *Scope {
	if ctx == nil {
		panic("signals: NewScope(nil); use context.Background()")
	}
	s := newScope(ctx, &idle)
	if ctx.Err() != nil {
		s.stopped = true
		close(s.done)
		return s
	}
	if ctx.Done() != nil {
		s.mu.Lock()
		s.unbind = context.AfterFunc(ctx, s.stopByContext)
		s.mu.Unlock()
		if ctx.Err() != nil { // done meanwhile: stopped before we return
			s.Stop()
			<-s.done // the context's goroutine may be the one stopping it
		}
	}
	return s
}

func newScope(base context.Context, idleParent *idleCounter) *Scope {
	return &Scope{base: base, done: make(chan struct{}), idle: idleCounter{parent: idleParent}}
}

// Child returns a new scope owned by s: stopped when s stops, and removed
// from s when it is stopped first. Its Context carries the values of s's.
// Effects in the child use s's panic handler and tracer unless the child
// has its own, and s.Idle waits for them too. If s is stopped, the child is
// returned stopped.
func (s *Scope) Child() *Scope {
	s.check("Child")
	return s.child(s.base)
}

func (s *Scope) child(base context.Context) *Scope {
	c := newScope(base, &s.idle)
	c.parent = s
	c.mu.Lock() // s may stop c as soon as it is registered
	c.entry = s.add(c.Stop)
	if c.entry == nil {
		c.stopped = true
		close(c.done)
	}
	c.mu.Unlock()
	return c
}

// Effect is NewEffect with the effect owned by s. If s is stopped, the effect
// is returned stopped, without running.
func (s *Scope) Effect(fn func(t *Tracker), opts ...EffectOption) *Effect {
	return NewEffect(fn, append(slices.Clip(opts), WithScope(s))...)
}

// Defer registers stop to be called when s stops, and returns a function
// that unregisters it, like the stop function of context.AfterFunc. cancel
// reports true if it removed stop before s began stopping; it reports false
// if s has begun stopping (stop has been called or is being called), if
// cancel was called before, or if s was already stopping when Defer was
// called. Defer never calls stop itself: on a scope that has begun
// stopping, it registers nothing, and stop is never called. To learn
// whether stop was registered, use TryDefer. Defer(nil) panics.
func (s *Scope) Defer(stop func()) (cancel func() bool) {
	cancel, _ = s.TryDefer(stop)
	return cancel
}

// TryDefer is Defer that also reports whether stop was registered: ok is
// false if s had already begun stopping, in which case stop will never be
// called and cancel reports false. A caller that must release a resource
// either way calls stop itself when ok is false.
func (s *Scope) TryDefer(stop func()) (cancel func() bool, ok bool) {
	s.check("Defer")
	if stop == nil {
		panic("signals: Scope.Defer(nil)")
	}
	d := s.add(stop)
	if d == nil {
		return notRegistered, false
	}
	return func() bool { return s.remove(d) }, true
}

func notRegistered() bool { return false }

// add registers fn, or returns nil if s has begun stopping.
func (s *Scope) add(fn func()) *deferred {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil
	}
	d := &deferred{fn: fn, prev: s.tail}
	if s.tail != nil {
		s.tail.next = d
	} else {
		s.head = d
	}
	s.tail = d
	return d
}

// remove unregisters d in constant time. It reports false if d was removed
// before or s has begun stopping.
func (s *Scope) remove(d *deferred) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || d.fn == nil { // once stopped, only Stop touches the nodes
		return false
	}
	if d.prev != nil {
		d.prev.next = d.next
	} else {
		s.head = d.next
	}
	if d.next != nil {
		d.next.prev = d.prev
	} else {
		s.tail = d.prev
	}
	d.fn, d.prev, d.next = nil, nil, nil
	return true
}

// Stop stops everything s owns, last registered first, child scopes
// included, and cancels s's Context. It is idempotent; a Stop that finds s
// stopping returns at once (Done tells when it is over). A panic from one of
// the stops is raised after the others ran. Stop on a nil *Scope does
// nothing.
func (s *Scope) Stop() {
	if s == nil {
		return
	}
	if p, ok := s.stop(); ok {
		panic(p)
	}
}

func (s *Scope) stop() (first any, panicked bool) {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil, false
	}
	s.stopped = true
	last := s.tail
	s.head, s.tail = nil, nil
	unbind, entry, cancel := s.unbind, s.entry, s.cancel
	s.unbind, s.entry = nil, nil
	s.mu.Unlock()
	next := last
	defer func() {
		// A stop that called runtime.Goexit (t.FailNow, say) does not
		// keep the others from running, nor Done from closing.
		for next != nil {
			runStop(&next)
		}
		close(s.done)
	}()
	if unbind != nil {
		unbind()
	}
	if entry != nil {
		s.parent.remove(entry)
	}
	if cancel != nil {
		cancel()
	}
	s.dropTracer()
	for next != nil {
		if p, ok := runStop(&next); ok && !panicked {
			first, panicked = p, true
		}
	}
	return first, panicked
}

// runStop unlinks *d, moves *d to the one registered before it, and calls
// the stop, returning its panic.
func runStop(d **deferred) (any, bool) {
	cur := *d
	fn := cur.fn
	*d = cur.prev
	cur.fn, cur.prev, cur.next = nil, nil, nil
	return core.Call(fn)
}

// stopByContext stops s when its context is done, on the context's
// goroutine: a panic goes to the panic handler, since no caller could
// receive it.
func (s *Scope) stopByContext() {
	if p, ok := s.stop(); ok {
		s.reportPanic(p)
	}
}

// Done returns a channel closed once Stop has finished.
func (s *Scope) Done() <-chan struct{} {
	s.check("Done")
	return s.done
}

// Context returns a context that carries the values of the context s was
// made with (Background for a Tracker's scope without one) and is cancelled
// when s begins stopping, or at once if it has. Goroutines started on
// behalf of s should watch it.
func (s *Scope) Context() context.Context {
	s.check("Context")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil {
		s.ctx, s.cancel = context.WithCancel(s.base)
		if s.stopped {
			s.cancel()
		}
	}
	return s.ctx
}

// Idle waits until no run of an effect owned by s or by one of its child
// scopes that was handed to Async, Debounce or Throttle is pending or in
// progress, or ctx is done, and returns ctx.Err() in the latter case. Like
// the package's Idle, it does not count runs held by a Manual or custom
// Scheduler. Stopped effects have nothing pending.
func (s *Scope) Idle(ctx context.Context) error {
	s.check("Idle")
	if ctx == nil {
		panic("signals: Scope.Idle(nil); use context.Background()")
	}
	return s.idle.wait(ctx)
}

func (s *Scope) check(method string) {
	if s == nil {
		panic("signals: " + method + " called on a nil *Scope")
	}
}
