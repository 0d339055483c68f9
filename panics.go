package signals

import (
	"log/slog"
	"sync/atomic"
)

// PanicInfo describes a panic that no caller could receive: one raised by an
// effect run by a Scheduler on a goroutine of its own, by a cleanup run
// when an effect's context ended, or by effects (or a Tracer) run by a
// Resource's load on its goroutine.
type PanicInfo struct {
	// Effect is the effect's name (WithEffectName), or "". For a panic
	// raised on a Resource's load goroutine, it is the resource's name.
	Effect string
	// Value is what the effect panicked with.
	Value any
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
// per-effect handler (WithPanicHandler) takes precedence.
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

func logPanic(info PanicInfo) {
	if info.Stack != "" {
		slog.Error("signals: effect panicked", "effect", info.Effect, "panic", info.Value, "stack", info.Stack)
		return
	}
	slog.Error("signals: effect panicked", "effect", info.Effect, "panic", info.Value)
}

func (e *Effect) reportPanic(p any) {
	info := PanicInfo{Effect: e.sub.Name, Value: p, Stack: e.origin.stackOf(p)}
	if e.onPanic != nil {
		e.onPanic(info)
		return
	}
	handlePanic(info)
}

// handlePanic hands info to the package's panic handler.
func handlePanic(info PanicInfo) {
	if h := panicHandler.Load(); h != nil {
		(*h)(info)
		return
	}
	logPanic(info)
}
