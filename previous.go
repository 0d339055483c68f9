package signals

// NewComputedFrom is NewComputed for incremental results: fn also receives
// what it returned in its previous run, prev, to build the next value from
// (like alien-signals' computed(previous => ...), or Vue's computed with its
// previous value). ok is false, and prev the zero value, on the first run
// and after a run that panicked.
//
// prev is fn's latest result even when the computed's equality (WithEqual)
// judged it equal to the value it held, and kept that older value for its
// readers: state carried in the value, such as a Map's Cursor, moves on
// while readers are not disturbed by runs that changed nothing they see.
//
// fn must not modify prev or anything it shares with the new value in
// place: a run may be stopped and started again (see NewComputed), and prev
// must then be what it was. Build a new value instead (copying a small part
// and sharing the rest unchanged is fine). Otherwise NewComputedFrom
// behaves as NewComputed. NewComputedFrom(nil) panics.
func NewComputedFrom[T any](fn func(t *Tracker, prev T, ok bool) T, opts ...Option[T]) *Computed[T] {
	if fn == nil {
		panic("signals: NewComputedFrom called with a nil function")
	}
	var c *Computed[T]
	// last is fn's latest result. Only c's runs touch it, and they never
	// overlap: a run is claimed and settled under the package lock. A run
	// stopped to be started again does not get here (it unwinds fn), and
	// one that panicked leaves c without a value, so ok is false next time.
	var last T
	c = NewComputed(func(t *Tracker) T {
		prev, ok := last, c.hasValue()
		if !ok {
			var zero T
			prev = zero
		}
		last = fn(t, prev, ok)
		return last
	}, opts...)
	return c
}

// hasValue reports whether c holds a value (not a panic).
func (c *Computed[T]) hasValue() bool { return c.sub.HasValue() }

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
