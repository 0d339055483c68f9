package signals

import (
	"reflect"
	"runtime/debug"
	"strings"
	"sync/atomic"

	"github.com/gosignals/signals/internal/core"
)

// A panic raised by a compute or effect function is recovered by the engine
// and cached or re-raised elsewhere (contract item 10), so the stack of the
// goroutine that raised it is gone by the time anyone looks at it. The
// engine therefore hands each panic to the typed half (RecordPanic) from
// inside its recovering defer, while the frames that raised it are still on
// the stack, and the typed half keeps that stack with the value it belongs
// to, so that NodeInfo, PanicInfo and Event show a stack only beside the
// panic it was taken for. Nothing is re-raised or wrapped: readers get the
// value the function panicked with.

// panicOrigin is a panic value and the stack of the goroutine that raised it.
type panicOrigin struct {
	value any
	stack string
	// handed marks an origin that Computed.Get stored in the computation
	// reading it just before raising the cached panic there: when that
	// reader's panic is recorded, it adopts this stack instead of taking its
	// own, so that a panic that travels through several computeds keeps the
	// stack where it was first raised.
	handed bool
}

// originSlot holds the origin of a node's latest panic. It is written by the
// goroutine running the node's function and read from anywhere.
type originSlot struct{ p atomic.Pointer[panicOrigin] }

// originHolder is implemented by the typed halves of computeds and effects.
type originHolder interface{ originSlot() *originSlot }

func (c *computedImpl[T]) originSlot() *originSlot { return &c.origin }
func (e *effectImpl) originSlot() *originSlot      { return &e.origin }

// RecordPanic is the engine's report of a panic of the function, made while
// the frames that raised it are still on the stack (core.PanicRecorder).
func (c *computedImpl[T]) RecordPanic(p any) { c.origin.record(p) }

// RecordPanic is the engine's report of a panic of the function, made while
// the frames that raised it are still on the stack (core.PanicRecorder).
func (e *effectImpl) RecordPanic(p any) { e.origin.record(p) }

// record keeps the origin of p, a panic unwinding the node's function.
func (o *originSlot) record(p any) {
	if stack := o.handed(p); stack != "" {
		o.p.Store(&panicOrigin{value: p, stack: stack})
		return
	}
	o.p.Store(&panicOrigin{value: p, stack: trimStack(debug.Stack())})
}

// trimStack drops from a stack taken while a panic unwinds the frames above
// the panicking function's (debug.Stack, the recovering code and the
// runtime's panic), so that it reads like the stack of a crash: the
// goroutine's header line, then the frame that raised the panic first.
func trimStack(b []byte) string {
	s := string(b)
	header, frames, ok := strings.Cut(s, "\n")
	if !ok {
		return s
	}
	// Frames are pairs of lines: the function, then its file and line.
	for rest := frames; rest != ""; {
		fn, after, _ := strings.Cut(rest, "\n")
		_, after, _ = strings.Cut(after, "\n")
		if strings.HasPrefix(fn, "panic(") {
			return header + "\n" + after
		}
		rest = after
	}
	return s
}

// stackOf returns the stack recorded for panic value p, or "" if the latest
// recorded panic is another one.
func (o *originSlot) stackOf(p any) string {
	if cur := o.p.Load(); cur != nil && samePanic(cur.value, p) {
		return cur.stack
	}
	return ""
}

// handed returns the stack of p if Computed.Get handed it over with p, or "".
func (o *originSlot) handed(p any) string {
	if cur := o.p.Load(); cur != nil && cur.handed && samePanic(cur.value, p) {
		return cur.stack
	}
	return ""
}

// handTo gives the origin of p, the cached panic about to be raised from a
// read made through t, to the computation t belongs to.
func (o *originSlot) handTo(t *Tracker, p any) {
	cur := o.p.Load()
	if cur == nil || !samePanic(cur.value, p) {
		return
	}
	if h, ok := t.c.Impl().(originHolder); ok {
		h.originSlot().p.Store(&panicOrigin{value: p, stack: cur.stack, handed: true})
	}
}

// samePanic reports whether a and b are the same panic value; values whose
// dynamic type is not comparable are never the same.
func samePanic(a, b any) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// corePkg is the import path of the engine.
var corePkg = reflect.TypeFor[core.Tracker]().PkgPath()

// engineUnwind reports whether p is a value the engine panics with to unwind
// a user function it is going to run again, rather than a panic of the
// user's: its type belongs to the engine's package. Code of this package
// that recovers panics of user functions (a Resource's parameters) must let
// such a value pass through unchanged.
func engineUnwind(p any) bool {
	t := reflect.TypeOf(p)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t != nil && t.PkgPath() == corePkg
}
