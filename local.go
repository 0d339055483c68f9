package signals

import (
	"time"

	"github.com/gosignals/signals/internal/core"
)

// Per-scope and per-effect panic handlers and tracers, in addition to the
// process-wide ones (SetPanicHandler, SetTracer).

// SetPanicHandler makes h receive the panics that no caller could receive
// (see PanicInfo) of the effects owned by s and by its child scopes (those
// with no handler of their own), and of s's stops run when its context
// ended; it returns the previous handler of s, or nil. An effect's own
// WithPanicHandler takes precedence; without a handler on s or its parents,
// panics go to the process-wide handler. SetPanicHandler(nil) removes s's
// handler. The handler applies to effects already created, and keeps
// applying after s stopped (cleanups that panic while s stops are reported
// to it).
func (s *Scope) SetPanicHandler(h func(PanicInfo)) (previous func(PanicInfo)) {
	s.check("SetPanicHandler")
	var p *func(PanicInfo)
	if h != nil {
		p = &h
	}
	if old := s.onPanic.Swap(p); old != nil {
		return *old
	}
	return nil
}

// panicHandler returns the nearest handler set on s or its parents, or nil.
func (s *Scope) panicHandler() func(PanicInfo) {
	for ; s != nil; s = s.parent {
		if h := s.onPanic.Load(); h != nil {
			return *h
		}
	}
	return nil
}

// reportPanic hands a panic of one of s's stops to the handler.
func (s *Scope) reportPanic(p any) {
	handlePanic(PanicInfo{Value: p}, s.panicHandler())
}

// SetTracer makes t receive an EventEffectRun for every run of an effect
// owned by s or by one of its child scopes, in addition to the process-wide
// tracer and to the tracers of s's parents, and returns the previous tracer
// of s, or nil. SetTracer(nil) removes it. Stop removes it too, and
// SetTracer on a stopped scope does nothing and returns nil. As with
// SetTracer, t is called synchronously, on the goroutine that ran the
// effect, without any lock of this package held; while any scope or effect
// has a tracer, every run in the process is timed (two clock reads).
func (s *Scope) SetTracer(t Tracer) (previous Tracer) {
	s.check("SetTracer")
	var p *Tracer
	if t != nil {
		p = &t
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil
	}
	old := s.tracer.Swap(p)
	switch {
	case old == nil && p != nil:
		countLocalTracers(1)
	case old != nil && p == nil:
		countLocalTracers(-1)
	}
	if old != nil {
		return *old
	}
	return nil
}

// dropTracer removes s's tracer as s stops.
func (s *Scope) dropTracer() {
	if s.tracer.Swap(nil) != nil {
		countLocalTracers(-1)
	}
}

// WithTracer makes t receive an EventEffectRun for every run of the effect,
// in addition to the tracers of its scope and of the process, until the
// effect stops. WithTracer(nil) panics.
func WithTracer(t Tracer) EffectOption {
	if t == nil {
		panic("signals: WithTracer(nil)")
	}
	return EffectOption{apply: func(o *effectOptions) { o.tracer = t }}
}

// traceLocal hands a run of e to its own tracer and to those of its scope
// and the scope's parents.
func (e *Effect) traceLocal(ev Event) {
	x := e.x
	if x == nil {
		return
	}
	if x.tracer != nil {
		x.tracer.Trace(ev)
	}
	for s := x.scope; s != nil; s = s.parent {
		if t := s.tracer.Load(); t != nil {
			(*t).Trace(ev)
		}
	}
}

// countLocalTracers adds d to the number of scope and effect tracers, and
// gives the engine hooks while there is any tracer at all.
func countLocalTracers(d int) {
	tracer.Lock()
	defer tracer.Unlock()
	tracer.local += d
	installHooks()
}

// installHooks gives the engine hooks that feed the process-wide tracer and
// the local ones, or none if there is no tracer. tracer lock held.
func installHooks() {
	g := tracer.t
	if g == nil && tracer.local == 0 {
		core.SetHooks(nil)
		return
	}
	h := &core.Hooks{
		Run: func(s *core.Sub, d time.Duration, changed, panicked bool, p any) {
			kind := EventRecompute
			if s.Kind() == "effect" {
				kind = EventEffectRun
			}
			ev := Event{Kind: kind, Node: nodeID(&s.Node), Name: s.Name, Duration: d,
				Changed: changed, Panicked: panicked, Panic: p}
			if h, ok := s.Impl().(originHolder); ok && panicked {
				ev.PanicStack = h.originSlot().stackOf(p)
			}
			if g != nil {
				g.Trace(ev)
			}
			if e, ok := s.Impl().(*effectImpl); ok {
				(*Effect)(e).traceLocal(ev)
			}
		},
	}
	if g != nil {
		h.Write = func(n *core.Node) {
			g.Trace(Event{Kind: EventSet, Node: nodeID(n), Name: signalName(n)})
		}
	}
	core.SetHooks(h)
}
