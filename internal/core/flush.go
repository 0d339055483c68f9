package core

import (
	"fmt"
	"slices"
	"time"
)

// maxRounds is how many consecutive rounds of effects, each fed by writes
// made while the previous round ran, a flush runs before it suspects a loop
// that does not settle.
const maxRounds = 100

// flush runs queued effects round by round until none is due, then delivers
// observation changes (watch.go). One goroutine flushes at a time; writers
// that find a flush under way queue their effects for it and return. Lock
// held on entry, released on return. The first panic of an effect or
// cleanup is raised again once the flush is over.
func flush() {
	flushing = true
	seq++
	flushSeq = seq
	var first any
	panicked := false
	note := func(p any, ok bool) {
		if ok && !panicked {
			first, panicked = p, true
		}
	}
	rounds := 0
	var roundsStart time.Time
	for len(queue) > 0 && batchDepth == 0 {
		round := queue
		queue = spare[:0]
		if len(round) > 1 && !slices.IsSortedFunc(round, byID) {
			slices.SortFunc(round, byID)
		}
		ran, blocked := false, false
		blocker = nil
		for i, e := range round {
			if batchDepth > 0 {
				// A batch began on another goroutine: effects wait for it.
				queue = append(queue, round[i:]...)
				break
			}
			e.flags &^= fQueued | fPending
			if e.flags&fStopped != 0 {
				continue
			}
			if e.sched != nil {
				// Its scheduler decides when; the run checks what changed.
				toSchedule = append(toSchedule, e)
				continue
			}
			switch st := checkEffect(e, true); {
			case st == stOK || e.flags&fStopped != 0: // stopped during the check
				note(settle(e))
				continue
			case st == stBlocked:
				e.flags = e.flags&^fComputing | fQueued | fPending
				queue = append(queue, e)
				blocked = true
				continue
			}
			note(runEffect(e))
			ran = true
		}
		clear(round)
		spare = round[:0]
		if len(toSchedule) > 0 {
			note(handOver())
			ran = true
		}
		if !ran {
			if blocked && blocker != nil && blocker.flags&fComputing != 0 {
				// Only effects waiting for a computation still under way
				// are left; the call that started it flushes when done.
				blocker = nil
				break
			}
			continue
		}
		rounds++
		if rounds == 1 && len(queue) > 0 {
			// Timed from the second round on: most flushes need one.
			roundsStart = time.Now()
		}
		if rounds >= maxRounds && len(queue) > 0 {
			if !fedFromOutside(time.Since(roundsStart) / time.Duration(rounds-1)) {
				err := runaway()
				flushing = false
				unlockWatched()
				panic(err)
			}
			rounds = 0
		}
	}
	flushing = false
	blocker = nil
	unlockWatched()
	if panicked {
		panic(first)
	}
}

// toSchedule collects, during a flush, effects to hand to their schedulers.
var toSchedule []*Sub

// handOver passes due effects to their schedulers, which are user code.
// Lock held; released meanwhile.
func handOver() (p any, panicked bool) {
	mu.Unlock()
	for i, e := range toSchedule {
		if q, ok := Call(func() { e.sched(e.job) }); ok && !panicked {
			p, panicked = q, true
		}
		toSchedule[i] = nil
	}
	mu.Lock()
	toSchedule = toSchedule[:0]
	return p, panicked
}

// RunScheduled is a scheduler's call to run effect e: it runs e if
// something e read changed, unless e is stopped or running elsewhere (then
// it runs again after that run). Writes made by e flush as usual. It
// returns e's panic, if any, rather than raising it. Lock not held.
func RunScheduled(e *Sub) (p any, panicked bool) {
	mu.Lock()
	switch {
	case e.flags&fStopped != 0:
	case e.flags&fComputing != 0:
		// Running on another goroutine: it goes round again when done.
		e.flags |= fPending
	case checkEffect(e, false) != stOK && e.flags&fStopped == 0:
		p, panicked = runEffect(e)
	default:
		p, panicked = settle(e)
	}
	UnlockTop()
	return p, panicked
}

// checkEffect reports whether e is due, holding it busy meanwhile: the
// check may release the lock, and a concurrent Stop must not free the links
// it walks. Lock held; e not busy. Unless it returns stChanged (run e with
// runEffect), settle must follow.
func checkEffect(e *Sub, inFlush bool) status {
	e.flags |= fComputing
	return check(e, inFlush)
}

// settle ends a check that did not run e: it disposes of e if it was stopped
// meanwhile, or queues it if it was written to meanwhile. Lock held.
func settle(e *Sub) (any, bool) {
	e.flags &^= fComputing
	if e.flags&fStopped != 0 {
		return dispose(e)
	}
	if e.flags&(fPending|fQueued) == fPending {
		e.flags |= fQueued
		queue = append(queue, e)
	}
	return nil, false
}

func byID(a, b *Sub) int {
	switch {
	case a.id < b.id:
		return -1
	case a.id > b.id:
		return 1
	}
	return 0
}

// fedFromOutside tells an effect loop that does not settle from a flush kept
// busy by other goroutines, which this package cannot tell apart by who
// wrote. Every one of the last rounds was fed by writes made while the
// previous one ran. It pauses the effects for two average rounds (at least
// a millisecond), with the lock released, and reports whether something the
// due effects depend on was written meanwhile: writers from outside keep
// writing, effects feeding themselves do not while they are paused. Lock
// held.
func fedFromOutside(round time.Duration) bool {
	start := epoch
	mu.Unlock()
	time.Sleep(max(time.Millisecond, 2*round))
	mu.Lock()
	if epoch == start {
		return false
	}
	seen := map[*Node]bool{}
	for _, e := range queue {
		if writtenSince(&e.Node, start, seen) {
			return true
		}
	}
	return false
}

// writtenSince reports whether a signal that n depends on, directly or
// through computeds, changed after epoch since. Lock held.
func writtenSince(n *Node, since uint64, seen map[*Node]bool) bool {
	for l := n.sub.deps; l != nil; l = l.nextDep {
		d := l.dep
		if seen[d] {
			continue
		}
		seen[d] = true
		if d.sub == nil {
			if d.changedAt > since {
				return true
			}
		} else if writtenSince(d, since, seen) {
			return true
		}
	}
	return false
}

// runaway empties the queue of an effect loop that does not settle and
// returns the error to raise. Lock held.
func runaway() error {
	n := len(queue)
	for _, e := range queue {
		e.flags &^= fQueued | fPending
	}
	clear(queue)
	queue = queue[:0]
	return fmt.Errorf("%w: effects kept re-triggering themselves for %d rounds (%d still due); an effect that writes a signal it reads must reach a fixed point", ErrCycle, maxRounds, n)
}

// runEffect runs e's cleanups, then e's function. Lock held; released
// around user code. It returns the first panic.
func runEffect(e *Sub) (p any, panicked bool) {
	e.flags |= fComputing
	if len(e.cleanups) > 0 {
		p, panicked = runCleanups(e)
	}
	seq++
	e.seq = seq
	e.depsTail = nil
	e.readEpoch = epoch
	mu.Unlock()
	obs := observing.Load()
	var t0 time.Time
	if obs {
		t0 = time.Now()
	}
	_, p2, panicked2 := run(e, false)
	var d time.Duration
	if obs {
		d = observed(e, t0, true, panicked2, p2)
	}
	mu.Lock()
	e.runs++
	if obs || panicked2 {
		e.countSlow(d, panicked2, p2)
	}
	if panicked2 && !panicked {
		p, panicked = p2, true
	}
	purge(e)
	e.checkedAt = e.readEpoch
	e.flags = e.flags&^fComputing | fHasValue
	if e.flags&fStopped != 0 {
		if p3, ok := dispose(e); ok && !panicked {
			p, panicked = p3, true
		}
	} else if e.flags&(fPending|fQueued) == fPending {
		// Written to while it ran: due again.
		e.flags |= fQueued
		queue = append(queue, e)
	}
	return p, panicked
}

// runCleanups runs and forgets e's cleanups, last registered first. Lock
// held; released meanwhile.
func runCleanups(e *Sub) (p any, panicked bool) {
	cs := e.cleanups
	e.cleanups = nil
	mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		if q, ok := Call(cs[i]); ok && !panicked {
			p, panicked = q, true
		}
	}
	mu.Lock()
	if e.cleanups == nil {
		clear(cs)
		e.cleanups = cs[:0] // reuse the slice
	}
	return p, panicked
}

// Call runs fn and returns what it panicked with, if it did, instead of
// raising it.
func Call(fn func()) (p any, panicked bool) {
	panicked = true
	defer func() {
		if panicked {
			p = recover()
		}
	}()
	fn()
	panicked = false
	return
}

// dispose unlinks a stopped effect and runs its cleanups. Lock held;
// released meanwhile.
func dispose(e *Sub) (any, bool) {
	dropDeps(e)
	e.flags = e.flags&^(fPending|fQueued) | fDisposed
	if len(e.cleanups) == 0 {
		return nil, false
	}
	return runCleanups(e)
}

// StartEffect runs a new effect for the first time, as NewEffect requires:
// at once, on the caller's goroutine, even inside a batch or a flush. If
// the run panics the effect is stopped and the panic is raised again. Lock
// not held.
func StartEffect(e *Sub) {
	mu.Lock()
	// Like any effect run, the first one batches its writes: unless a flush
	// or batch is under way already, it holds the flush until it returns.
	own := !flushing && batchDepth == 0
	if own {
		flushing = true
	}
	p, panicked := runEffect(e)
	if own {
		flushing = false
	}
	if panicked {
		if e.flags&fStopped == 0 {
			e.flags |= fStopped
			e.flags &^= fQueued
			queue = slices.DeleteFunc(queue, func(x *Sub) bool { return x == e })
			dispose(e)
		}
		// Effects the run's writes made due still run; the first run's
		// panic is the one NewEffect raises.
		func() {
			defer func() { _ = recover() }()
			UnlockTop()
		}()
		panic(p)
	}
	UnlockTop()
}

// Stop ends e's future runs and runs its cleanups. If e is running, the
// goroutine running it finishes the job when the run returns. Lock not held.
func Stop(e *Sub) {
	mu.Lock()
	if e.flags&fStopped != 0 {
		mu.Unlock()
		return
	}
	e.flags |= fStopped
	if e.flags&fComputing != 0 {
		mu.Unlock()
		return
	}
	p, panicked := dispose(e)
	unlockWatched()
	if panicked {
		panic(p)
	}
}

// OnCleanup registers fn with the effect behind t. Lock not held.
func OnCleanup(t *Tracker, fn func()) {
	e := t.sub
	mu.Lock()
	if e.flags&(fStopped|fComputing) == fStopped {
		// Stopped and not running: nothing would run it later.
		mu.Unlock()
		fn()
		return
	}
	e.cleanups = append(e.cleanups, fn)
	mu.Unlock()
}

// BeginBatch enters a batch: effects wait until every batch has ended.
func BeginBatch() {
	mu.Lock()
	batchDepth++
	mu.Unlock()
}

// EndBatch leaves a batch and, if it was the last one, runs due effects.
func EndBatch() {
	mu.Lock()
	batchDepth--
	UnlockTop()
}
