package signals

import "github.com/gosignals/signals/internal/core"

// flagUserEqual marks a node whose equality is user code, which must run
// without the package's locks. (The cell's form takes the next bits; see
// cell.go.)
const flagUserEqual = core.FlagUser

// Signal is a mutable value that computeds and effects can depend on.
// All methods are safe for concurrent use. Calling a method on a nil
// *Signal panics.
type Signal[T any] struct {
	node  core.Node
	meta  *signalMeta // a pointer keeps the struct small; see signalHead
	cell  cell[T]
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
	s := &Signal[T]{equal: o.equal}
	info := typeInfoFor[T]()
	s.node.Tag = info.tag
	s.node.SetUserFlags(info.form)
	if o.name != "" || o.observed != nil {
		s.meta = &signalMeta{name: o.name, observed: o.observed}
	}
	if o.observed != nil {
		s.node.Watch()
	}
	if o.userEqual {
		s.node.SetUserFlags(flagUserEqual)
	}
	s.cell.init(value, info.form)
	return s
}

func (s *Signal[T]) load() T { return s.cell.load(s.node.Flags()) }

func (s *Signal[T]) store(v T) { s.cell.store(v, s.node.Flags()) }

// Get returns the current value and, if t is not nil, records the signal as
// a dependency of the computation t belongs to. It takes no lock, except
// the first time a computation reads the signal.
func (s *Signal[T]) Get(t *Tracker) T {
	if s == nil {
		panic("signals: Get called on a nil *Signal")
	}
	if t == nil {
		return s.load()
	}
	r := t.core()
	l := core.Retrack(r, &s.node)
	if l == nil {
		l = core.Track(r, &s.node)
	}
	for {
		v := s.load()
		if core.Checked(r, l) || core.Check(r, l) {
			return v
		}
	}
}

// Peek returns the current value without recording a dependency. It takes
// no lock.
func (s *Signal[T]) Peek() T {
	if s == nil {
		panic("signals: Peek called on a nil *Signal")
	}
	return s.load()
}

// Set stores value. If it equals the current value (by the signal's
// equality) nothing happens; otherwise dependents are marked and effects
// that became due run before Set returns, on the calling goroutine, unless
// they are left to a Batch, to a flush already running them, or to the
// effect whose run made this write (see the package documentation). A
// panic raised by such an effect is raised again from Set, after the other
// effects ran.
func (s *Signal[T]) Set(value T) {
	if s == nil {
		panic("signals: Set called on a nil *Signal")
	}
	if s.node.Flags()&flagUserEqual != 0 {
		s.Update(func(T) T { return value })
		return
	}
	var w core.Writer
	w.Lock(&s.node)
	if s.equal != nil && s.equal(s.load(), value) {
		w.Abort()
		return
	}
	w.Begin()
	s.store(value)
	w.Commit()
}

// Update replaces the value with fn(current) atomically: concurrent Updates
// never lose each other's changes. fn runs without any lock of this package
// held and may run more than once when writes to the signal race, so it must
// be pure. Otherwise Update behaves as Set. Update(nil) panics.
func (s *Signal[T]) Update(fn func(T) T) {
	if s == nil {
		panic("signals: Update called on a nil *Signal")
	}
	if fn == nil {
		panic("signals: Update called with a nil function")
	}
	for {
		// The value is stored before its stamp: if the stamp is unchanged
		// at the write below, old was the value it stamps.
		at := s.node.ChangedAt()
		old := s.load()
		v := fn(old)
		if s.equal != nil && s.equal(old, v) {
			return
		}
		var w core.Writer
		w.Lock(&s.node)
		if s.node.ChangedAt() != at {
			w.Abort() // written meanwhile: start again from the new value
			continue
		}
		w.Begin()
		s.store(v)
		w.Commit()
		return
	}
}

// Name returns the name given with WithName, or "".
func (s *Signal[T]) Name() string {
	if s == nil {
		panic("signals: Name called on a nil *Signal")
	}
	if s.meta == nil {
		return ""
	}
	return s.meta.name
}
