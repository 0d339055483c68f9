package core

import "time"

type status uint8

const (
	stOK      status = iota
	stChanged        // check: a dependency changed, recompute
	stCycle          // the read closes a cycle
	stBlocked        // a flush would have to wait for a computation that may be its own caller
)

// maxAttempts bounds how often a computation restarts because a value it had
// read changed under it (writes from other goroutines). From attempt
// gateAfter on it holds the writer gate; the last attempt runs without the
// check, so readers always make progress.
const (
	maxAttempts = 6
	gateAfter   = 2
)

// refresh brings computed c up to date: it returns at once if c is current,
// waits if another goroutine is computing c, and otherwise checks c's
// dependencies in order and recomputes c if one of them changed. ctx is the
// evaluation on whose behalf c is read (nil for a read from outside any).
// inFlush marks the dependency checks of a flush, which must not wait for a
// computation that may be running further up their own goroutine's stack.
// Lock held; released and reacquired around user code.
func refresh(c, ctx *Sub, inFlush bool) status {
	for {
		if c.flags&fComputing == 0 {
			if c.current() {
				return stOK
			}
			break
		}
		if inChain(ctx, c) || waitCloses(ctx, c) {
			return stCycle
		}
		if inFlush && c.seq < flushSeq {
			blocker = c
			return stBlocked
		}
		wait(ctx, c)
	}
	claim(c, ctx)
	if c.flags&fHasValue != 0 {
		switch check(c, inFlush) {
		case stOK:
			finish(c)
			return stOK
		case stBlocked:
			if c.subs != nil {
				c.flags |= fPending
			}
			finish(c)
			return stBlocked
		}
	}
	recompute(c)
	return stOK
}

// claim marks c as being computed by the calling goroutine.
func claim(c, ctx *Sub) {
	c.flags = c.flags&^fPending | fComputing
	seq++
	c.seq = seq
	c.parent = ctx
	if ctx != nil {
		ctx.child = c
	}
}

// check reports whether a dependency of s changed since s was last up to
// date, refreshing computed dependencies in the order s read them, so that a
// dependency the next run might no longer read is not recomputed needlessly
// once an earlier one is found changed.
func check(s *Sub, inFlush bool) status {
	start := epoch
	for l := s.deps; l != nil; l = l.nextDep {
		d := l.dep
		if ds := d.sub; ds != nil && !ds.liveCurrent() {
			switch refresh(ds, s, inFlush) {
			case stBlocked:
				return stBlocked
			case stCycle:
				return stChanged // the run will meet the cycle and report it
			}
		}
		if d.changedAt > s.checkedAt {
			return stChanged
		}
	}
	s.checkedAt = start
	return stOK
}

// recompute runs c's function and caches its result or its panic. The
// claim on c is held throughout. Lock held; released around user code.
func recompute(c *Sub) {
	c.attempts = 0
	gated := false
	for {
		if c.attempts >= gateAfter && !gated {
			holdGate()
			gated = true
		}
		hadValue := c.flags&(fHasValue|fPanicked) == fHasValue
		c.depsTail = nil
		c.readEpoch = epoch
		c.aborted = false
		c.noVerify = c.attempts >= maxAttempts-1
		mu.Unlock()
		obs := observing.Load()
		var t0 time.Time
		if obs {
			t0 = time.Now()
		}
		changed, p, panicked := run(c, hadValue)
		var d time.Duration
		if obs && !c.aborted {
			d = observed(c, t0, changed || panicked, panicked, p) // a panic replaces the value
		}
		mu.Lock()
		if c.aborted {
			c.impl.Settle(false)
			c.attempts++
			continue
		}
		c.runs++
		if obs || panicked {
			c.countSlow(d, panicked, p)
		}
		purge(c)
		c.checkedAt = c.readEpoch
		switch {
		case panicked:
			c.impl.Settle(false)
			c.err = p
			c.flags |= fPanicked | fHasValue
			c.changedAt = epoch
		case changed:
			c.impl.Settle(true)
			if c.err != nil {
				c.err = nil
			}
			c.flags = c.flags&^fPanicked | fHasValue
			c.changedAt = epoch
		default:
			c.impl.Settle(false)
		}
		if gated {
			releaseGate()
		}
		finish(c)
		return
	}
}

// abortRun is the panic value that unwinds a computation whose earlier reads
// went stale; its evaluator restarts it.
type abortRun struct{}

var errAbort any = abortRun{}

// PanicRecorder is implemented by an Impl that wants to see the panics of
// its Compute (the user's function, or a computed's equality) while the
// frames that raised them are still on the stack, to record where they came
// from. run calls RecordPanic from its recovering defer, on the goroutine
// that ran Compute, without the lock, before run returns; never for the
// engine's own unwinding of a computation it restarts, nor for
// runtime.Goexit.
type PanicRecorder interface{ RecordPanic(p any) }

// run calls the user's function, and for a computed that held a value the
// user's equality, without the lock. It reports a panic rather than raising
// it, except the abort of an outer evaluation passing through.
func run(s *Sub, hadValue bool) (changed bool, p any, panicked bool) {
	panicked = true
	defer func() {
		if !panicked {
			return
		}
		p = recover()
		switch {
		case p == errAbort:
			if !s.aborted {
				panic(p)
			}
			panicked = false
		case p != nil:
			if r, ok := s.impl.(PanicRecorder); ok {
				r.RecordPanic(p)
			}
		}
	}()
	changed = s.impl.Compute(&s.tr, hadValue)
	panicked = false
	return
}

// abort unwinds s's function so that recompute starts it again.
func abort(s *Sub) {
	s.aborted = true
	mu.Unlock()
	panic(errAbort)
}

// verifying reports whether s's reads must be checked for consistency: the
// function of a computed, unless it exhausted its attempts. Effects are not
// restarted, since they have side effects; they run again instead.
func (s *Sub) verifying() bool {
	return s.flags&kindMask == kindComputed && !s.noVerify
}

// verifyPrefix checks that every value s read so far is still current, so
// that s never combines values from before and after one write. It reports
// false if one changed. Lock held; may be released meanwhile.
func verifyPrefix(s *Sub) bool {
	for tries := 0; s.readEpoch != epoch; tries++ {
		if tries == 3 {
			return false
		}
		e := epoch
		for l := s.deps; l != nil && s.depsTail != nil; l = l.nextDep {
			d := l.dep
			if ds := d.sub; ds != nil && !ds.current() {
				if refresh(ds, s, false) == stCycle {
					return false
				}
			}
			if d.changedAt > s.readEpoch {
				return false
			}
			if l == s.depsTail {
				break
			}
		}
		s.readEpoch = e
	}
	return true
}
