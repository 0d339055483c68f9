package signals

import "github.com/gosignals/signals/internal/core"

// flagUserEqual marks a node whose equality is user code, which must run
// without the package lock.
const flagUserEqual = core.FlagUser

// Signal is a mutable value that computeds and effects can depend on.
// All methods are safe for concurrent use.
type Signal[T any] struct {
	node  core.Node
	meta  *signalMeta // a pointer keeps Signal[int] at 64 bytes; see signalHead
	value T
	equal func(a, b T) bool // nil: never equal
}

// signalHead is the part of every Signal[T] whose layout does not depend on
// T, so that code holding only the *core.Node can read the name and hooks.
type signalHead struct {
	node core.Node
	meta *signalMeta
}

// signalMeta holds a signal's rarely used options.
type signalMeta struct {
	name     string
	observed func(on bool) // WithObserved, or nil
}

// New returns a signal holding value.
func New[T any](value T, opts ...Option[T]) *Signal[T] {
	o := buildOptions(opts)
	s := &Signal[T]{value: value, equal: o.equal}
	s.node.Tag = signalTag[T]()
	if o.name != "" || o.observed != nil {
		s.meta = &signalMeta{name: o.name, observed: o.observed}
	}
	if o.observed != nil {
		s.node.Watch()
	}
	if o.userEqual {
		s.node.SetUserFlags(flagUserEqual)
	}
	return s
}

// Get returns the current value and, if t is not nil, records the signal as
// a dependency of the computation t belongs to.
func (s *Signal[T]) Get(t *Tracker) T {
	core.Lock()
	if t != nil {
		core.TrackSignal(t.core(), &s.node)
	}
	v := s.value
	core.Unlock()
	return v
}

// Peek returns the current value without recording a dependency.
func (s *Signal[T]) Peek() T {
	core.Lock()
	v := s.value
	core.Unlock()
	return v
}

// Set stores value. If it equals the current value (by the signal's
// equality) nothing happens; otherwise dependents are marked and, unless a
// Batch or a flush on another goroutine is under way, effects that became
// due run before Set returns. A panic raised by such an effect is raised
// again from Set, after the other effects ran.
func (s *Signal[T]) Set(value T) {
	core.Lock()
	// Under the lock: the engine changes other bits of the flag word
	// (observation state, see WithObserved) at run time.
	if s.node.Flags()&flagUserEqual != 0 {
		core.Unlock()
		s.Update(func(T) T { return value })
		return
	}
	core.WaitGate()
	if s.equal != nil && s.equal(s.value, value) {
		core.Unlock()
		return
	}
	s.value = value
	core.WriteAndUnlock(&s.node)
}

// Update replaces the value with fn(current) atomically: concurrent Updates
// never lose each other's changes. fn runs without any lock of this package
// held and may run more than once when writes to the signal race, so it must
// be pure. Otherwise Update behaves as Set.
func (s *Signal[T]) Update(fn func(T) T) {
	if fn == nil {
		panic("signals: Update called with a nil function")
	}
	for {
		core.Lock()
		old, at := s.value, s.node.ChangedAt()
		core.Unlock()
		v := fn(old)
		if s.equal != nil && s.equal(old, v) {
			return
		}
		core.Lock()
		core.WaitGate()
		if s.node.ChangedAt() == at {
			s.value = v
			core.WriteAndUnlock(&s.node)
			return
		}
		core.Unlock() // written meanwhile: start again from the new value
	}
}

// Name returns the name given with WithName, or "".
func (s *Signal[T]) Name() string {
	if s.meta == nil {
		return ""
	}
	return s.meta.name
}
