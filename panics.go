package signals

import (
	"log/slog"
	"sync/atomic"

	"github.com/gosignals/signals/internal/core"
)

// PanicInfo describes a panic that no caller could receive: one raised by an
// effect run by a Scheduler on a goroutine of its own, by a cleanup run
// when an effect's context ended, by what a scope stopped when its context
// ended (then Effect is ""), by a WithObserved hook, or by effects (or a
// Tracer) run by a Resource's load on its goroutine.
type PanicInfo struct {
	// Effect is the effect's name (WithEffectName), or "". For a panic of
	// an observation hook (Hook is not ""), it is the name (WithName) of
	// the signal or computed whose hook panicked. For a panic raised on a
	// Resource's load goroutine, it is the resource's name.
	Effect string
	// Value is what the effect or hook panicked with.
	Value any
	// Hook is "onFirst" or "onLast" for a panic of a WithObserved hook,
	// "" for an effect's panic.
	Hook string
	// Stack is the stack of the goroutine that raised Value, taken as the
	// panic unwound: inside the effect's function, or inside the compute
	// function whose cached panic the effect read. It is "" for a panic
	// raised elsewhere, such as in a cleanup.
	Stack string
}

var panicHandler atomic.Pointer[func(PanicInfo)]

// SetPanicHandler replaces the function that receives panics no caller could
// receive, and returns the previous one. The default logs them with
// log/slog at level Error. SetPanicHandler(nil) restores the default. A
// per-effect handler (WithPanicHandler) and a scope's (Scope.SetPanicHandler)
// take precedence.
func SetPanicHandler(h func(PanicInfo)) (previous func(PanicInfo)) {
	var p *func(PanicInfo)
	if h != nil {
		p = &h
	}
	if old := panicHandler.Swap(p); old != nil {
		return *old
	}
	return logPanic
}

// WithPanicHandler sends the effect's panics that no caller could receive
// to h instead of the package's handler. WithPanicHandler(nil) panics.
func WithPanicHandler(h func(PanicInfo)) EffectOption {
	if h == nil {
		panic("signals: WithPanicHandler(nil)")
	}
	return EffectOption{apply: func(o *effectOptions) { o.onPanic = h }}
}

// The engine reports panics that no caller can receive (a tracer's, or an
// effect's while another panic unwinds) to the package's handler.
func init() {
	core.PanicReporter = func(p any) {
		info := PanicInfo{Value: p}
		if h := panicHandler.Load(); h != nil {
			(*h)(info)
		} else {
			logPanic(info)
		}
	}
}

func logPanic(info PanicInfo) {
	if info.Hook != "" {
		slog.Error("signals: observation hook panicked", "node", info.Effect, "hook", info.Hook, "panic", info.Value)
		return
	}
	if info.Stack != "" {
		slog.Error("signals: effect panicked", "effect", info.Effect, "panic", info.Value, "stack", info.Stack)
		return
	}
	slog.Error("signals: effect panicked", "effect", info.Effect, "panic", info.Value)
}

func (e *Effect) reportPanic(p any) {
	var h func(PanicInfo)
	if x := e.x; x != nil {
		if h = x.onPanic; h == nil {
			h = x.scope.panicHandler()
		}
	}
	handlePanic(PanicInfo{Effect: e.sub.Name, Value: p, Stack: e.origin.stackOf(p)}, h)
}

// handlePanic hands info to h, or to the process-wide handler if h is nil.
func handlePanic(info PanicInfo, h func(PanicInfo)) {
	switch g := panicHandler.Load(); {
	case h != nil:
		h(info)
	case g != nil:
		(*g)(info)
	default:
		logPanic(info)
	}
}
