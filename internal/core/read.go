package core

import "fmt"

// TrackSignal records that the evaluation behind t read signal n. The caller
// reads the value after it returns, under the same lock. Lock held; t not
// nil. Panics, with the lock released, if the evaluation must restart.
func TrackSignal(t *Tracker, n *Node) {
	s := t.sub
	if s.readEpoch != epoch && s.verifying() && !verifyPrefix(s) {
		abort(s)
	}
	if !t.untracked {
		link(s, n)
	}
}

// ReadComputed brings c up to date for a reader and, for a tracked read,
// records the dependency. The caller then reads c's value or panic under the
// same lock. t may be nil. Lock held on entry and return; panics with the
// lock released if the read closes a cycle or the evaluation must restart.
func ReadComputed(t *Tracker, c *Sub) {
	if t == nil {
		if refresh(c, nil, false) == stCycle {
			panic("unreachable: cycle outside any evaluation")
		}
		return
	}
	s := t.sub
	if c.liveCurrent() && (s.readEpoch == epoch || !s.verifying()) {
		if !t.untracked {
			link(s, &c.Node)
		}
		return
	}
	for tries := 0; ; tries++ {
		if refresh(c, s, false) == stCycle {
			if !t.untracked {
				link(s, &c.Node) // so that s is retried once c changes
			}
			mu.Unlock()
			panic(cycleError(c))
		}
		if !s.verifying() {
			// Remember the oldest state a value read came from, so that
			// any later change to it makes s out of date.
			if !c.current() && c.checkedAt < s.readEpoch {
				s.readEpoch = c.checkedAt
			}
			break
		}
		if !c.current() {
			if tries < 3 {
				continue
			}
			abort(s)
		}
		if s.readEpoch == epoch {
			break
		}
		if !verifyPrefix(s) {
			abort(s)
		}
		if c.current() {
			break
		}
	}
	if !t.untracked {
		link(s, &c.Node)
		if !c.current() && s.live() {
			// Written to since it was computed, before s subscribed (only
			// under concurrent writes): the write's marks did not reach s.
			mark(s)
		}
	}
}

func cycleError(c *Sub) error {
	if c.Name != "" {
		return fmt.Errorf("%w: computed %q reads itself through its Tracker (directly or via other computeds)", ErrCycle, c.Name)
	}
	return fmt.Errorf("%w: a computed reads itself through its Tracker (directly or via other computeds)", ErrCycle)
}

// Panicked reports whether c's cached result is a panic. Lock held.
func (c *Sub) Panicked() bool { return c.flags&fPanicked != 0 }

// Err returns c's cached panic value. Lock held.
func (c *Sub) Err() any { return c.err }

// UnlockTop releases the lock at the end of a call made from outside any
// evaluation, first running effects that an earlier flush had to leave
// for later, if nothing else will, and delivering observation changes.
func UnlockTop() {
	if len(queue) > 0 && batchDepth == 0 && !flushing {
		flush()
		return
	}
	unlockWatched()
}
