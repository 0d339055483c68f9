package signals

import (
	"log/slog"
	"sync/atomic"
)

// PanicInfo describes a panic that no caller could receive: one raised by an
// effect run by a Scheduler on a goroutine of its own, by a cleanup run
// when an effect's context ended, or by a WithObserved hook.
type PanicInfo struct {
	// Effect is the effect's name (WithEffectName), or "". For a panic of
	// an observation hook (Hook is not ""), it is the name (WithName) of
	// the signal or computed whose hook panicked.
	Effect string
	// Value is what the effect or hook panicked with.
	Value any
	// Hook is "onFirst" or "onLast" for a panic of a WithObserved hook,
	// "" for an effect's panic.
	Hook string
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
	if info.Hook != "" {
		slog.Error("signals: observation hook panicked", "node", info.Effect, "hook", info.Hook, "panic", info.Value)
		return
	}
	slog.Error("signals: effect panicked", "effect", info.Effect, "panic", info.Value)
}

func (e *Effect) reportPanic(p any) {
	info := PanicInfo{Effect: e.sub.Name, Value: p}
	switch h := panicHandler.Load(); {
	case e.onPanic != nil:
		e.onPanic(info)
	case h != nil:
		(*h)(info)
	default:
		logPanic(info)
	}
}
