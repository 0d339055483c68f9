package core

import (
	"slices"
	"sync"
	"sync/atomic"
)

// Batches are process-wide, as contract item 20 allows: an effect made due
// while batches are open waits until those batches have ended, never for
// batches opened later. See DESIGN.md.
var batches struct {
	// state is the number of open batches (the low 16 bits) and the
	// highest ticket issued (the rest), read without the lock: one atomic
	// store per Begin and End instead of two.
	state atomic.Uint64
	low   atomic.Uint64 // lowest open ticket; valid while any is open

	mu      sync.Mutex // leaf
	next    uint64
	tickets []uint64 // open, ascending
	held    []heldDomain
}

// heldDomain is a domain whose queue waits for the batches with tickets up
// to mark.
type heldDomain struct {
	d    *domain
	mark uint64
}

// BeginBatch opens a batch and returns its ticket.
func BeginBatch() uint64 {
	batches.mu.Lock()
	if len(batches.tickets) == openMask {
		batches.mu.Unlock()
		panic("signals: more than 65535 batches open at once")
	}
	batches.next++
	t := batches.next
	batches.tickets = append(batches.tickets, t)
	if len(batches.tickets) == 1 {
		batches.low.Store(t) // before state says a batch is open
	}
	batches.state.Store(t<<openBits | uint64(len(batches.tickets)))
	batches.mu.Unlock()
	return t
}

// EndBatch closes the batch with ticket t and runs the effects that waited
// for it, unless a flush in progress will. If report is set (the batch's
// function did not return normally) their panics go to PanicReporter;
// otherwise the first one is raised. Lock not held.
func EndBatch(t uint64, report bool) {
	batches.mu.Lock()
	if i := slices.Index(batches.tickets, t); i >= 0 {
		n := copy(batches.tickets[i:], batches.tickets[i+1:])
		batches.tickets = batches.tickets[:i+n] // no pointers: nothing to clear
	}
	low := uint64(0)
	if len(batches.tickets) > 0 {
		low = batches.tickets[0]
		if batches.low.Load() != low {
			batches.low.Store(low)
		}
	}
	batches.state.Store(batches.next<<openBits | uint64(len(batches.tickets)))
	var buf [4]*domain
	released := buf[:0]
	kept := batches.held[:0]
	for _, h := range batches.held {
		if low == 0 || h.mark < low {
			released = append(released, h.d)
		} else {
			kept = append(kept, h)
		}
	}
	for i := len(kept); i < len(batches.held); i++ {
		batches.held[i] = heldDomain{} // fewer than clear's call costs
	}
	batches.held = kept
	batches.mu.Unlock()
	defer deliverWatches() // after the effects: the last batch to end
	if len(released) == 0 {
		return
	}
	var f *flush
	for _, d := range released {
		d = lockRoot(d)
		if d.flushers == 0 && len(d.queue) > 0 {
			if f == nil {
				f = reuseFlush(d, report)
				f.join(d, true)
			} else {
				f.attach(d)
			}
		}
		d.mu.Unlock()
	}
	if f != nil {
		f.run(nil)
	}
}

// dueMark is the mark of an effect made due now: the highest ticket issued
// while batches are open, 0 when none is.
func dueMark() uint64 {
	st := batches.state.Load()
	if st&openMask == 0 {
		return 0
	}
	return st >> openBits
}

const (
	openBits = 16
	openMask = 1<<openBits - 1
)

// batchesOpen reports whether any batch is open.
func batchesOpen() bool { return batches.state.Load()&openMask != 0 }

// batchHeld reports whether a batch with a ticket at or below mark is open.
func batchHeld(mark uint64) bool {
	if mark == 0 || !batchesOpen() {
		return false
	}
	low := batches.low.Load()
	return low != 0 && low <= mark
}

// holdForBatch registers d to be flushed when the batches with tickets up
// to mark have ended, and reports whether one is still open (if not, d's
// effects may run now). Domain lock held.
func holdForBatch(d *domain, mark uint64) bool {
	batches.mu.Lock()
	if len(batches.tickets) == 0 || batches.tickets[0] > mark {
		batches.mu.Unlock()
		return false
	}
	for _, h := range batches.held {
		if h.d == d && h.mark >= mark {
			batches.mu.Unlock()
			return true
		}
	}
	batches.held = append(batches.held, heldDomain{d, mark})
	batches.mu.Unlock()
	return true
}
