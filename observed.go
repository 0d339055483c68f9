package signals

import (
	"unsafe"

	"github.com/gosignals/signals/internal/core"
)

// WithObserved makes a Signal or a Computed run onFirst when it gains its
// first live observer and onLast when it loses the last one, like Preact's
// watched and unwatched or MobX's onBecomeObserved and onBecomeUnobserved:
// to open a connection, start a ticker or subscribe to a feed only while
// something uses the value, and release it afterwards.
//
// A live observer is an effect that depends on the node, directly or
// through computeds: the node gains one when such an effect (or a computed
// an effect depends on) first reads it, and loses the last one when the
// last of them stops or no longer reads it. Reads from outside any effect,
// Peek, and computeds that no effect depends on do not count.
//
// The calls alternate, onFirst first; for one node they never run
// concurrently and always come in order. They run without any lock of this
// package held, on the goroutine whose call made the change (the Set,
// Update, read, NewEffect, Stop or Batch), after the effects that call
// runs and before it returns. If a Batch is open, on any goroutine, or
// another goroutine is running effects, they run at the end of that batch
// or flush instead, on its goroutine. When the node is observed and
// unobserved again before its hooks get to run, the two calls may be
// skipped: the hooks follow the node's state, not every step of it.
//
// The hooks may read and write signals (they must not wait for a call that
// is running on another goroutine into this package, since that call may be
// the one running them). A hook's panic goes to the package's panic
// handler (see SetPanicHandler, PanicInfo.Hook), not to the caller. Either
// hook may be nil; WithObserved(nil, nil) panics.
func WithObserved[T any](onFirst, onLast func()) Option[T] {
	if onFirst == nil && onLast == nil {
		panic("signals: WithObserved(nil, nil): pass at least one hook")
	}
	return withObservedFunc[T](func(on bool) {
		switch {
		case on && onFirst != nil:
			onFirst()
		case !on && onLast != nil:
			onLast()
		}
	})
}

// withObservedFunc sets the observation hook as one function. A later
// option adds to an earlier one: both run, earlier first.
func withObservedFunc[T any](fn func(on bool)) Option[T] {
	return Option[T]{apply: func(o options[T]) options[T] {
		if prev := o.observed; prev != nil {
			o.observed = func(on bool) { prev(on); fn(on) }
		} else {
			o.observed = fn
		}
		return o
	}}
}

func init() { core.WatchHook = runObserved }

// observable is what a computed's engine half offers to runObserved.
type observable interface {
	observedHook() (fn func(on bool), name string)
}

func (c *computedImpl[T]) observedHook() (func(on bool), string) {
	return c.observed, c.sub.Name
}

// runObserved is the engine's WatchHook: it runs the node's WithObserved
// hook and sends its panic to the panic handler.
func runObserved(n *core.Node, on bool) {
	var fn func(bool)
	var name string
	if s := n.Sub(); s != nil {
		if o, ok := s.Impl().(observable); ok {
			fn, name = o.observedHook()
		}
	} else if m := (*signalHead)(unsafe.Pointer(n)).meta; m != nil {
		fn, name = m.observed, m.name
	}
	if fn == nil {
		return
	}
	if p, panicked := core.Call(func() { fn(on) }); panicked {
		hook := "onLast"
		if on {
			hook = "onFirst"
		}
		handlePanic(PanicInfo{Effect: name, Value: p, Hook: hook}, nil)
	}
}
