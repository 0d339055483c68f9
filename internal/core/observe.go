package core

import (
	"sync/atomic"
	"time"
)

// Observation is off unless asked for: then runs are timed, and hooks see
// writes and runs. Both are read without the lock, so that the hot paths pay
// one atomic load when nobody observes.
var (
	timing    atomic.Bool
	hooks     atomic.Pointer[Hooks]
	observing atomic.Bool // timing or hooks: the one check on hot paths
)

// Hooks receive events as they happen, on the goroutine doing the work and
// without the lock held.
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

// stats is embedded in Sub.
type stats struct {
	runs      uint64
	spent     time.Duration
	lastPanic any
	panicked  bool
}

// observed reports a run of user code that started at t0 to the hooks and
// returns its duration. Lock not held.
func observed(s *Sub, t0 time.Time, changed, panicked bool, p any) time.Duration {
	d := time.Since(t0)
	if h := hooks.Load(); h != nil && h.Run != nil {
		h.Run(s, d, changed, panicked, p)
	}
	return d
}

// countSlow records the time and panic of a completed run. Lock held.
func (s *Sub) countSlow(d time.Duration, panicked bool, p any) {
	s.spent += d
	if panicked {
		s.lastPanic, s.panicked = p, true
	}
}

// Inspect returns n's counters and the nodes it read in its latest run
// (deps) and the live nodes that read it (subs). Lock not held.
func Inspect(n *Node) (st Stats, deps, subs []*Node) {
	mu.Lock()
	defer mu.Unlock()
	if s := n.sub; s != nil {
		st = Stats{Runs: s.runs, Spent: s.spent, Panic: s.lastPanic, Panicked: s.panicked}
		for l := s.deps; l != nil; l = l.nextDep {
			deps = append(deps, l.dep)
		}
	}
	for l := n.subs; l != nil; l = l.nextSub {
		subs = append(subs, &l.sub.Node)
	}
	return st, deps, subs
}

// Kind names what n is: "signal", "computed" or "effect". It reads only
// fields fixed at creation, so it needs no lock.
func (n *Node) Kind() string {
	switch {
	case n.sub == nil:
		return "signal"
	case n.sub.tr.effect:
		return "effect"
	}
	return "computed"
}

// Sub returns the Sub n heads, or nil for a signal.
func (n *Node) Sub() *Sub { return n.sub }

// State reports a node's condition for display. Lock not held.
func State(n *Node) (stale, stopped bool) {
	mu.Lock()
	defer mu.Unlock()
	if s := n.sub; s != nil {
		if s.flags&kindMask == kindEffect {
			return s.flags&fPending != 0, s.flags&fStopped != 0
		}
		return !s.current(), false
	}
	return false, false
}

// HasValue reports whether a computed holds a value that is not a panic.
// Lock held.
func (s *Sub) HasValue() bool { return s.flags&(fHasValue|fPanicked) == fHasValue }
