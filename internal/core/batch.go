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
	open atomic.Int32  // open batches, read without the lock
	low  atomic.Uint64 // lowest open ticket (0: none)
	high atomic.Uint64 // highest ticket issued

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
	batches.next++
	t := batches.next
	batches.tickets = append(batches.tickets, t)
	batches.high.Store(t)
	batches.low.Store(batches.tickets[0])
	batches.open.Add(1)
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
		batches.tickets = slices.Delete(batches.tickets, i, i+1)
		batches.open.Add(-1)
	}
	low := uint64(0)
	if len(batches.tickets) > 0 {
		low = batches.tickets[0]
	}
	batches.low.Store(low)
	var released []*domain
	batches.held = slices.DeleteFunc(batches.held, func(h heldDomain) bool {
		if low == 0 || h.mark < low {
			released = append(released, h.d)
			return true
		}
		return false
	})
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
				f = newFlush(report)
			}
			f.attach(d)
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
	if batches.open.Load() == 0 {
		return 0
	}
	return batches.high.Load()
}

// batchHeld reports whether a batch with a ticket at or below mark is open.
func batchHeld(mark uint64) bool {
	if mark == 0 || batches.open.Load() == 0 {
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
	defer batches.mu.Unlock()
	if len(batches.tickets) == 0 || batches.tickets[0] > mark {
		return false
	}
	for _, h := range batches.held {
		if h.d == d && h.mark >= mark {
			return true
		}
	}
	batches.held = append(batches.held, heldDomain{d, mark})
	return true
}
