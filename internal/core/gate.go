package core

import (
	"sync/atomic"
	"time"
)

// The writer gate keeps a computation from starving under a steady stream
// of writes: see DESIGN.md and recompute. All of it is per domain, under
// the domain lock, except the holders' progress counter.

// gateProgress counts the reads made by computations holding a gate; a
// writer keeps waiting while it moves.
var gateProgress atomic.Uint64

// holdGate closes d's gate for a computation's attempt; a writer waits
// while the attempt makes progress, and gives up after bound without any.
func holdGate(d *domain, bound time.Duration) {
	if d.gate == 0 {
		d.gateCh = make(chan struct{})
	}
	d.gate++
	d.gateBound = max(d.gateBound, bound)
}

// releaseGate ends one hold of d's gate.
func releaseGate(d *domain) {
	d.gate--
	if d.gate == 0 {
		close(d.gateCh)
		d.gateCh = nil
		d.gateBound = 0
	}
}

// waitGate lets a writer of n wait while its domain's gate is closed, as
// long as the computations holding gates read something at least once per
// bound: a computation that stalls (one blocked in its own write, say)
// keeps nobody waiting longer than that. Lock held; released meanwhile;
// returns the domain locked.
func waitGate(d *domain, n *Node) *domain {
	timer := time.NewTimer(d.gateBound)
	defer timer.Stop()
	seen := gateProgress.Load()
	for d.gate > 0 {
		ch := d.gateCh
		d.mu.Unlock()
		select {
		case <-ch:
			d = lockDom(n)
		case <-timer.C:
			d = lockDom(n)
			if p := gateProgress.Load(); p != seen && d.gate > 0 {
				seen = p // still going: wait another bound
				timer.Reset(d.gateBound)
				continue
			}
			return d
		}
	}
	return d
}
