package signals

import (
	"sync/atomic"

	"github.com/gosignals/signals/internal/core"
)

// Linked is a writable derived value, like Angular's linkedSignal: it holds
// what its function computes, and Set or Update may override that value
// until something the function read changes, which makes it compute again
// and resets the value. A selection that follows a list of options is the
// classic use: the user picks an option, and when the options change the
// selection goes back to a default, or to the option the function keeps
// from the previous value.
//
// Linked satisfies Readable and Node; its methods are safe for concurrent
// use.
type Linked[T any] struct {
	src   *Computed[linkedSource[T]]
	over  *Signal[linkedOverride[T]]
	out   *Computed[T]
	equal func(a, b T) bool // nil: never equal
	gens  atomic.Uint64     // numbers the function's distinct results
}

// linkedSource is the function's latest result, numbered: each run gets a
// gen never used before.
type linkedSource[T any] struct {
	value T
	gen   uint64
}

// linkedOverride is the value last set and the gen of the result it was set
// against: it holds while the result keeps that gen. ver counts the stores.
type linkedOverride[T any] struct {
	value T
	gen   uint64
	ver   uint64
	set   bool
}

// NewLinked returns a Linked whose value is fn's result, computed lazily,
// as a Computed's, when first read and after something fn read changed.
// fn receives the Linked's previous value, prev: what Set or Update stored,
// if that came after fn's latest run, else fn's latest result (Angular's
// computation(source, previous)); ok is false on the first run and after a
// run that panicked. Each new run of fn resets the value to its result,
// replacing whatever was set, even when the result equals the previous one.
//
// fn must not modify prev in place (see NewComputedFrom). opts are those of
// a Computed (WithEqual, WithName, WithObserved); the equality also decides
// whether Set changes anything. NewLinked(nil) panics.
func NewLinked[T any](fn func(t *Tracker, prev T, ok bool) T, opts ...Option[T]) *Linked[T] {
	if fn == nil {
		panic("signals: NewLinked called with a nil function")
	}
	o := buildOptions(opts)
	l := &Linked[T]{equal: o.equal}
	l.over = New(linkedOverride[T]{}, WithEqual(func(a, b linkedOverride[T]) bool { return a.ver == b.ver }))
	l.src = NewComputedFrom(func(t *Tracker, p linkedSource[T], ok bool) linkedSource[T] {
		prev := p.value
		if ok {
			// The previous value the user saw: what was set, if that was
			// set against the latest result. Not a dependency: setting a
			// value does not run fn.
			if ov := l.over.Get(t.Untracked()); ov.set && ov.gen == p.gen {
				prev = ov.value
			}
		}
		return linkedSource[T]{value: fn(t, prev, ok), gen: l.gens.Add(1)}
	}, WithEqual(func(a, b linkedSource[T]) bool { return a.gen == b.gen }))
	l.out = NewComputed(func(t *Tracker) T {
		s := l.src.Get(t)
		if ov := l.over.Get(t); ov.set && ov.gen == s.gen {
			return ov.value
		}
		return s.value
	}, opts...)
	return l
}

// Get returns the current value, computing it first if needed, and, if t is
// not nil, records the Linked as a dependency of t's computation. If fn
// panicked, Get raises the same panic value.
func (l *Linked[T]) Get(t *Tracker) T {
	if l == nil {
		panic("signals: Linked.Get called on a nil *Linked")
	}
	return l.out.Get(t)
}

// Peek returns the current value without recording a dependency.
func (l *Linked[T]) Peek() T {
	if l == nil {
		panic("signals: Linked.Peek called on a nil *Linked")
	}
	return l.out.Peek()
}

// Set stores value until fn next runs. Like a signal's Set, a value equal
// to the current one changes nothing.
func (l *Linked[T]) Set(value T) {
	if l == nil {
		panic("signals: Linked.Set called on a nil *Linked")
	}
	l.Update(func(T) T { return value })
}

// Update replaces the value with fn(current), atomically with respect to
// other calls of Set and Update, and keeps it until the Linked's function
// next runs. fn runs without any lock of this package held and may run
// more than once, so it must be pure. If the Linked's function runs again
// meanwhile, its new result wins. Update(nil) panics.
func (l *Linked[T]) Update(fn func(T) T) {
	if l == nil {
		panic("signals: Linked.Update called on a nil *Linked")
	}
	if fn == nil {
		panic("signals: Linked.Update called with a nil function")
	}
	for {
		s := l.src.Peek()
		ov := l.over.Peek()
		cur := s.value
		if ov.set && ov.gen == s.gen {
			cur = ov.value
		}
		v := fn(cur)
		if l.equal != nil && l.equal(cur, v) {
			return
		}
		// Store it unless another Set or Update stored meanwhile; then
		// start again from the new value.
		stored := false
		l.over.Update(func(now linkedOverride[T]) linkedOverride[T] {
			if stored = now.ver == ov.ver; !stored {
				return now
			}
			return linkedOverride[T]{value: v, gen: s.gen, ver: ov.ver + 1, set: true}
		})
		if stored {
			return
		}
	}
}

// Name returns the name given with WithName, or "".
func (l *Linked[T]) Name() string {
	if l == nil {
		panic("signals: Linked.Name called on a nil *Linked")
	}
	return l.out.Name()
}

// A Linked is a Node: Inspect and Graph show the computed that holds its
// value.
func (l *Linked[T]) coreNode() *core.Node { return l.out.coreNode() }
