package core

import "time"

// The writer gate keeps a computation from starving under a steady stream
// of writes: see DESIGN.md and recompute. All of it is per domain, under
// the domain lock.

// holdGate closes d's gate for a computation's attempt; writers wait at
// most bound.
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

// waitGate lets a writer of n wait while its domain's gate is closed, at
// most the gate's bound. Lock held; released meanwhile; returns the domain
// locked.
func waitGate(d *domain, n *Node) *domain {
	timer := time.NewTimer(d.gateBound)
	defer timer.Stop()
	for d.gate > 0 {
		ch := d.gateCh
		d.mu.Unlock()
		select {
		case <-ch:
			d = lockDom(n)
		case <-timer.C:
			return lockDom(n)
		}
	}
	return d
}
