package signals

import (
	"context"
	"log/slog"
	"sync"
	"time"
	"unsafe"

	"github.com/gosignals/signals/internal/core"
)

// EventKind says what an Event reports.
type EventKind uint8

const (
	EventSet       EventKind = iota + 1 // a signal took a new value
	EventRecompute                      // a computed's function ran
	EventEffectRun                      // an effect's function ran
	EventLoad                           // a Resource's load finished
)

func (k EventKind) String() string {
	switch k {
	case EventSet:
		return "set"
	case EventRecompute:
		return "recompute"
	case EventEffectRun:
		return "effect"
	case EventLoad:
		return "load"
	}
	return "unknown"
}

// Event is what a Tracer receives.
type Event struct {
	Kind EventKind
	// Node identifies the node as NodeInfo.ID does; Name is its name.
	Node uintptr
	Name string
	// Duration is the run's time, if EnableTiming is on or a tracer is set.
	Duration time.Duration
	// Changed reports, for EventRecompute, whether the value changed; for
	// EventLoad, whether the outcome was committed (false for a load made
	// obsolete by a change of its parameters, Reload, Set or Stop).
	Changed bool
	// Err is, for EventLoad, the error the load ended with (after its
	// retries), or nil. Node and Name are then the resource's.
	Err error
	// Panicked and Panic report a run that panicked; PanicStack is the
	// stack of the goroutine that raised Panic (see NodeInfo.PanicStack).
	Panicked   bool
	Panic      any
	PanicStack string
}

// A Tracer receives an Event for every write that changes a signal, every
// run of a compute or effect function (except runs restarted because a
// value they read changed under them) and every load of a Resource,
// synchronously, on the goroutine doing the work, without any lock of this
// package held. It must be safe
// for concurrent use and should be fast; it may read signals.
type Tracer interface {
	Trace(Event)
}

// TracerFunc adapts a function to a Tracer.
type TracerFunc func(Event)

// Trace calls f(e).
func (f TracerFunc) Trace(e Event) { f(e) }

var tracer struct {
	sync.Mutex
	t     Tracer
	local int // scopes and effects with a tracer of their own
}

// SetTracer installs t and returns the previous tracer (nil if none).
// SetTracer(nil) removes it; without a tracer, tracing costs one atomic
// load per write and per run.
func SetTracer(t Tracer) (previous Tracer) {
	tracer.Lock()
	defer tracer.Unlock()
	previous, tracer.t = tracer.t, t
	installHooks()
	return previous
}

// signalName reads the name of the signal n heads.
func signalName(n *core.Node) string {
	if m := (*signalHead)(unsafe.Pointer(n)).meta; m != nil {
		return m.name
	}
	return ""
}

// SlogTracer returns a Tracer that logs events to l: writes, runs and loads
// at level Debug, loads that failed at level Warn, panics at level Error. A
// nil l logs to slog.Default().
func SlogTracer(l *slog.Logger) Tracer {
	return TracerFunc(func(e Event) {
		lg := l
		if lg == nil {
			lg = slog.Default()
		}
		level, msg := slog.LevelDebug, "signals: "+e.Kind.String()
		attrs := []slog.Attr{slog.String("name", e.Name), slog.Any("node", e.Node)}
		if e.Kind != EventSet {
			attrs = append(attrs, slog.Duration("duration", e.Duration))
		}
		switch e.Kind {
		case EventRecompute:
			attrs = append(attrs, slog.Bool("changed", e.Changed))
		case EventLoad:
			attrs = append(attrs, slog.Bool("committed", e.Changed))
			if e.Err != nil {
				level = slog.LevelWarn
				attrs = append(attrs, slog.Any("err", e.Err))
			}
		}
		if e.Panicked {
			level = slog.LevelError
			attrs = append(attrs, slog.Any("panic", e.Panic))
			if e.PanicStack != "" {
				attrs = append(attrs, slog.String("stack", e.PanicStack))
			}
		}
		lg.LogAttrs(context.Background(), level, msg, attrs...)
	})
}
