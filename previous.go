package signals

import "github.com/gosignals/signals/internal/core"

// NewComputedFrom is NewComputed for incremental results: fn also receives
// the value the computed holds, prev, to build the next value from (like
// alien-signals' computed(previous => ...), or Vue's computed with its
// previous value). ok is false, and prev the zero value, on the first run
// and after a run that panicked.
//
// prev is the value readers currently get: after a run whose result was
// equal to it (WithEqual), it is that older, equal value. fn must not modify
// prev or anything it shares with the new value in place: a run may be
// stopped and started again (see NewComputed), and prev must then be what it
// was. Build a new value instead (copying a small part and sharing the rest
// unchanged is fine). Otherwise NewComputedFrom behaves as NewComputed.
// NewComputedFrom(nil) panics.
func NewComputedFrom[T any](fn func(t *Tracker, prev T, ok bool) T, opts ...Option[T]) *Computed[T] {
	if fn == nil {
		panic("signals: NewComputedFrom called with a nil function")
	}
	var c *Computed[T]
	c = NewComputed(func(t *Tracker) T {
		prev, ok := c.held()
		return fn(t, prev, ok)
	}, opts...)
	return c
}

// held returns the value c holds and whether it holds one (not a panic).
// Called by c's own run, which no other run of c overlaps.
func (c *Computed[T]) held() (T, bool) {
	core.Lock()
	v, ok := c.value, c.sub.HasValue()
	core.Unlock()
	if !ok {
		var zero T
		return zero, false
	}
	return v, true
}

// NewEffectFrom is NewEffect for effects that carry state from one run to
// the next, like Solid's createEffect(prev => ...): fn receives what its
// previous run returned, prev, and returns what the next run receives. ok
// is false, and prev the zero value, on the first run and after a run that
// panicked. The runs never overlap, so no locking is needed for that state.
// Otherwise NewEffectFrom behaves as NewEffect. NewEffectFrom(nil) panics.
func NewEffectFrom[T any](fn func(t *Tracker, prev T, ok bool) T, opts ...EffectOption) *Effect {
	if fn == nil {
		panic("signals: NewEffectFrom called with a nil function")
	}
	var prev T
	ok := false
	return NewEffect(func(t *Tracker) {
		p, had := prev, ok
		var zero T
		prev, ok = zero, false // stays so if fn panics
		prev, ok = fn(t, p, had), true
	}, opts...)
}
