package core

import (
	"sync/atomic"
	"time"
)

// Observation is off unless asked for: then runs are timed, and hooks see
// writes and runs. Both are read without a lock, so that the hot paths pay
// one atomic load when nobody observes.
var (
	timing    atomic.Bool
	hooks     atomic.Pointer[Hooks]
	observing atomic.Bool // timing or hooks: the one check on hot paths
)

// Hooks receive events as they happen, on the goroutine doing the work and
// without any lock held. A panic in a hook goes to PanicReporter.
type Hooks struct {
	// Write follows a signal's change, before its effects run.
	Write func(n *Node)
	// Run follows a run of a computed's or an effect's function. For a
	// computed, changed reports whether the value changed.
	Run func(s *Sub, d time.Duration, changed, panicked bool, p any)
}

// SetHooks installs h; nil removes the hooks.
func SetHooks(h *Hooks) {
	hooks.Store(h)
	observing.Store(h != nil || timing.Load())
}

// SetTiming turns the timing of runs on or off.
func SetTiming(on bool) {
	timing.Store(on)
	observing.Store(on || hooks.Load() != nil)
}

// Stats are a node's counters.
type Stats struct {
	Runs     uint64        // completed runs of its function
	Spent    time.Duration // time in its function while timing was on
	Panic    any           // value of its latest panic
	Panicked bool          // whether any run panicked
}

// stats is embedded in Sub. Domain lock.
type stats struct {
	runs      uint64
	spent     time.Duration
	lastPanic any
	panicked  bool
}

func startObserving() (time.Time, bool) {
	if !observing.Load() {
		return time.Time{}, false
	}
	return time.Now(), true
}

// hookRun reports a run of s's function that started at t0. Lock not held.
func hookRun(s *Sub, t0 time.Time, changed, panicked bool, p any) {
	d := time.Since(t0)
	if timing.Load() {
		dm := lockDom(&s.Node)
		s.spent += d
		dm.mu.Unlock()
	}
	if h := hooks.Load(); h != nil && h.Run != nil {
		if q, ok := Call(func() { h.Run(s, d, changed, panicked, p) }); ok {
			reportPanic(q)
		}
	}
}

// hookWrite reports a write of n. Lock not held.
func hookWrite(n *Node) {
	if h := hooks.Load(); h != nil && h.Write != nil {
		if q, ok := Call(func() { h.Write(n) }); ok {
			reportPanic(q)
		}
	}
}

// Inspect returns n's counters, the nodes it read in its latest run (deps;
// none while it runs) and the live nodes that read it (subs). Lock not held.
func Inspect(n *Node) (st Stats, deps, subs []*Node) {
	if n.dom.Load() == nil {
		return st, nil, nil // a signal nothing ever tracked
	}
	d := lockDom(n)
	defer d.mu.Unlock()
	if s := n.Sub(); s != nil {
		st = Stats{Runs: s.runs, Spent: s.spent, Panic: s.lastPanic, Panicked: s.panicked}
		if s.flags.Load()&fComputing == 0 {
			for l := s.deps; l != nil; l = l.nextDep {
				deps = append(deps, l.dep)
			}
		}
	}
	for l := n.subs; l != nil; l = l.nextSub {
		subs = append(subs, &l.sub.Node)
	}
	return st, deps, subs
}

// Kind names what n is: "signal", "computed" or "effect".
func (n *Node) Kind() string {
	switch n.kind() {
	case kindSignal:
		return "signal"
	case kindEffect:
		return "effect"
	}
	return "computed"
}

// State reports a node's condition for display. Lock not held.
func State(n *Node) (stale, stopped bool) {
	s := n.Sub()
	if s == nil {
		return false, false
	}
	f := s.flags.Load()
	if f&kindMask == kindEffect {
		return f&fPending != 0, f&fStopped != 0
	}
	return !s.current(), false
}

// HasValue reports whether a computed holds a value that is not a panic.
func (s *Sub) HasValue() bool { return s.flags.Load()&(fHasValue|fPanicked) == fHasValue }
