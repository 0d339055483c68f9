package signals

import (
	"unsafe"

	"github.com/gosignals/signals/internal/core"
)

// Tracker is handed to every compute and effect function. Reads made through
// it, x.Get(t), become dependencies of that computation. A nil *Tracker is
// valid everywhere a *Tracker is taken: Get(nil) is an untracked read.
//
// A Tracker belongs to one run of one function; do not keep it after the
// function returns or hand it to another goroutine.
type Tracker struct {
	c core.Tracker
}

// The engine hands out *core.Tracker; Tracker has the same layout.
func (t *Tracker) core() *core.Tracker { return (*core.Tracker)(unsafe.Pointer(t)) }

func fromCore(t *core.Tracker) *Tracker { return (*Tracker)(unsafe.Pointer(t)) }

// OnCleanup registers fn to run before the effect's next run and when it
// stops. Cleanups run in reverse order of registration, like deferred calls.
// Calling it from a compute function (not an effect), on a nil Tracker, or
// with a nil fn panics. Registered on an effect that is already stopped and
// not running, fn runs at once.
func (t *Tracker) OnCleanup(fn func()) {
	switch {
	case t == nil:
		panic("signals: OnCleanup called on a nil Tracker; only an effect's Tracker has cleanups")
	case !t.c.IsEffect():
		panic("signals: OnCleanup called from a compute function; only effects have cleanups")
	case fn == nil:
		panic("signals: OnCleanup called with a nil function")
	}
	core.OnCleanup(&t.c, fn)
}

// Untracked returns a Tracker for reads inside a compute or effect function
// that must not become dependencies: x.Get(t.Untracked()). It keeps the
// evaluation context, so a cycle closed through it is still detected, and
// OnCleanup on it registers with the same effect. On a nil Tracker it
// returns nil.
func (t *Tracker) Untracked() *Tracker {
	if t == nil {
		return nil
	}
	return fromCore(t.c.Untracked())
}
