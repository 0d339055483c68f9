package signals

import "github.com/gosignals/signals/internal/core"

// Computed is a value derived from signals and other computeds by a pure
// function. It is lazy: the function first runs when the value is first
// read, and again only when read after one of the values it read last time
// changed. Concurrent readers of a stale computed share one run; readers of
// a current one take no lock. All methods are safe for concurrent use.
// Calling a method on a nil *Computed panics.
type Computed[T any] struct {
	sub   core.Sub
	fn    func(*Tracker) T
	cell  cell[T]
	next  T // result of the run in progress, until committed
	equal func(a, b T) bool
	// observed is the WithObserved hook, or nil.
	observed func(on bool)
	// origin is where the function's latest panic was raised.
	origin originSlot
}

// NewComputed returns a computed whose value is fn's result. fn must be pure:
// it may run again at any time, and when other goroutines write a value it
// read while it runs, it is restarted so that it never combines values from
// before and after one write. A panic in fn is cached and raised to every
// reader until a dependency changes. NewComputed(nil) panics.
func NewComputed[T any](fn func(t *Tracker) T, opts ...Option[T]) *Computed[T] {
	if fn == nil {
		panic("signals: NewComputed called with a nil function")
	}
	o := buildOptions(opts)
	c := &Computed[T]{fn: fn, equal: o.equal}
	flags := typeInfoFor[T]().form
	core.InitComputed(&c.sub, (*computedImpl[T])(c), flags)
	c.sub.Name = o.name
	var zero T
	c.cell.init(zero, flags)
	if o.observed != nil {
		c.observed = o.observed
		c.sub.Node.Watch()
	}
	return c
}

func (c *Computed[T]) load() T { return c.cell.load(c.sub.Flags()) }

// Get returns the current value, recomputing it first if needed, and, if t
// is not nil, records the computed as a dependency of t's computation. If
// the function panicked, Get raises the same panic value.
func (c *Computed[T]) Get(t *Tracker) T {
	if c == nil {
		panic("signals: Get called on a nil *Computed")
	}
	if t == nil {
		return c.Peek()
	}
	r := t.core()
	l := core.Retrack(r, &c.sub.Node)
	if l == nil {
		l = core.Track(r, &c.sub.Node)
	}
	for {
		var p any
		var failed bool
		if c.sub.Current() {
			p, failed = c.sub.Failure()
		} else {
			p, failed = core.RefreshFor(r, &c.sub)
		}
		v := c.load()
		if core.Checked(r, l) || core.Check(r, l) {
			if failed {
				c.origin.handTo(t, p) // a reading computation keeps the origin
				panic(p)
			}
			return v
		}
	}
}

// Peek is Get(nil): it returns the current value without recording a
// dependency.
func (c *Computed[T]) Peek() T {
	if c == nil {
		panic("signals: Peek called on a nil *Computed")
	}
	var p any
	var failed bool
	if c.sub.Current() {
		p, failed = c.sub.Failure()
	} else {
		p, failed = core.Refresh(&c.sub)
	}
	if failed {
		panic(p)
	}
	return c.load()
}

// Name returns the name given with WithName, or "".
func (c *Computed[T]) Name() string {
	if c == nil {
		panic("signals: Name called on a nil *Computed")
	}
	return c.sub.Name
}

// computedImpl is the engine's view of a Computed.
type computedImpl[T any] Computed[T]

func (c *computedImpl[T]) Compute(t *core.Tracker, compare bool) bool {
	c.next = c.fn(fromCore(t))
	// A panic in the user's equality is the computed's panic, like one in
	// its function.
	return !compare || c.equal == nil || !c.equal((*Computed[T])(c).load(), c.next)
}

func (c *computedImpl[T]) Settle(keep bool) {
	if keep {
		c.cell.store(c.next, c.sub.Flags())
	}
	var zero T
	c.next = zero
}
