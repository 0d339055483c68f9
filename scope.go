package signals

import (
	"context"
	"slices"
	"sync"

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

// bind ties e to the options' context and scope. It reports false if either
// has already ended, in which case e must not run.
func (o *effectOptions) bind(e *Effect) bool {
	if o.ctx != nil {
		if o.ctx.Err() != nil {
			return false
		}
		e.unbind = context.AfterFunc(o.ctx, e.stopByContext)
	}
	if o.scope != nil && !o.scope.Defer(e.Stop) {
		if e.unbind != nil {
			e.unbind()
		}
		return false
	}
	return true
}

// A Scope owns effects and other things to stop together: one per connected
// client, one per request. Stopping a scope stops what it owns in reverse
// order of creation, like deferred calls. A scope may be bound to a context.
// Its methods are safe for concurrent use.
type Scope struct {
	mu      sync.Mutex
	stops   []func()
	stopped bool
	unbind  func() bool
	done    chan struct{}
}

// NewScope returns an empty scope, stopped when ctx is done.
// NewScope(nil) panics; pass context.Background() for a scope that only
// Stop ends.
func NewScope(ctx context.Context) *Scope {
	if ctx == nil {
		panic("signals: NewScope(nil); use context.Background()")
	}
	s := &Scope{done: make(chan struct{})}
	if ctx.Done() != nil {
		s.unbind = context.AfterFunc(ctx, s.Stop)
	}
	return s
}

// Effect is NewEffect with the effect owned by s. If s is stopped, the effect
// is returned stopped, without running.
func (s *Scope) Effect(fn func(t *Tracker), opts ...EffectOption) *Effect {
	return NewEffect(fn, append(slices.Clip(opts), WithScope(s))...)
}

// Defer registers stop to be called when s stops. If s is already stopped it
// calls nothing and reports false.
func (s *Scope) Defer(stop func()) bool {
	if stop == nil {
		panic("signals: Scope.Defer(nil)")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false
	}
	s.stops = append(s.stops, stop)
	return true
}

// Stop stops everything s owns, last registered first. It is idempotent.
// A panic from one of them is raised after the others were stopped.
func (s *Scope) Stop() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	stops := s.stops
	s.stops = nil
	s.mu.Unlock()
	if s.unbind != nil {
		s.unbind()
	}
	defer close(s.done)
	var first any
	for i := len(stops) - 1; i >= 0; i-- {
		if p, ok := core.Call(stops[i]); ok && first == nil {
			first = p
		}
	}
	if first != nil {
		panic(first)
	}
}

// Done returns a channel closed once Stop has finished.
func (s *Scope) Done() <-chan struct{} { return s.done }
