package core

import (
	"errors"
	"fmt"
	"time"
)

type status uint8

const (
	stOK      status = iota
	stChanged        // check: a dependency changed, run again
	stCycle          // the read closes a cycle
	stBlocked        // a flush would wait for a computation that may be its own caller
)

// Refresh brings computed c up to date for a read made outside any
// evaluation, and reports its cached panic, if that is its result. The
// caller then loads the value. Lock not held.
func Refresh(c *Sub) (p any, panicked bool) {
	d := lockDom(&c.Node)
	d, _ = refresh(d, c, nil) // no context: neither a cycle nor blocked
	p, panicked = c.failure()
	d.mu.Unlock()
	deliverWatches()
	return p, panicked
}

// RefreshFor brings computed c up to date for a read by the run behind t,
// and reports its cached panic. Lock not held. Panics with an ErrCycle error
// if the read closes a cycle, and aborts the run of the effect t's run
// belongs to if the read would wait for a computation that may be that
// effect's own caller.
func RefreshFor(t *Tracker, c *Sub) (p any, panicked bool) {
	s := t.sub
	if s.aborted {
		panic(&s.abort)
	}
	d := lockDom(&c.Node)
	d, st := refresh(d, c, s)
	p, panicked = c.failure()
	d.mu.Unlock()
	switch st {
	case stCycle:
		panic(cycleError(c))
	case stBlocked:
		abort(effectOf(s))
	}
	return p, panicked
}

// refreshFor is RefreshFor for the engine's own revalidation; it reports
// false instead of panicking.
func refreshFor(s, c *Sub) bool {
	d := lockDom(&c.Node)
	d, st := refresh(d, c, s)
	d.mu.Unlock()
	return st == stOK
}

// failure returns c's cached panic. Domain lock held.
func (c *Sub) failure() (any, bool) {
	if c.flags.Load()&fPanicked == 0 {
		return nil, false
	}
	return c.errp.Load().v, true
}

// Failure returns c's cached panic, if its current result is one. Lock
// not held.
func (c *Sub) Failure() (any, bool) {
	if b := c.errp.Load(); b != nil && c.flags.Load()&fPanicked != 0 {
		return b.v, true
	}
	return nil, false
}

// Current reports, without a lock, whether computed c's cached result may
// be used as is.
func (c *Sub) Current() bool { return c.current() }

// refresh brings computed c up to date: it returns at once if c is current,
// waits if another goroutine holds c's claim, and otherwise claims c, checks
// its dependencies in order and recomputes it if one of them changed. ctx
// is the evaluation on whose behalf c is read (nil for none). d is c's
// domain, locked; refresh returns it (or the domain it was merged into)
// locked. The lock is released around user code.
//
// No deferred call guards the claim: if user code further down calls
// runtime.Goexit (or an outer run's abort passes through), the run that
// was interrupted releases the claims of the evaluations above it that
// were only checking (see abandon).
func refresh(d *domain, c, ctx *Sub) (*domain, status) {
	f := c.flags.Load()
	if f&(fHasValue|fComputing|fLive|fPending) == fHasValue|fLive {
		return d, stOK // live and not marked
	}
	for f&fComputing != 0 {
		if inChain(ctx, c) || waitCloses(ctx, c) {
			return d, stCycle
		}
		if fl := flushOf(ctx); fl != nil && olderClaim(d, c, fl) {
			setBlocking(d, c)
			return d, stBlocked
		}
		d = wait(d, ctx, c)
		f = c.flags.Load()
	}
	if c.currentIn(d) {
		return d, stOK
	}
	claim(d, c, ctx)
	if f&fHasValue != 0 {
		var st status
		d, st = check(d, c)
		if st != stChanged {
			if st == stBlocked && c.flags.Load()&fLive != 0 {
				c.setFlags(fPending) // not verified: check again next time
			}
			return release(d, c), st
		}
	}
	return recompute(d, c), stOK
}

// currentIn is current with c's domain d locked.
func (c *Sub) currentIn(d *domain) bool {
	f := c.flags.Load()
	switch {
	case f&(fHasValue|fComputing) != fHasValue:
		return false
	case f&fLive != 0:
		return f&fPending == 0
	case c.checkedAt.Load() == d.epoch.Load():
		return true
	}
	if c.dom.Load() != d {
		c.dom.Store(d) // shorten its path for the lock-free check
	}
	return false
}

// claim marks c as being computed by the calling goroutine. Lock held.
func claim(d *domain, c, ctx *Sub) {
	c.flags.Store(c.flags.Load()&^fPending | fComputing)
	d.gen++
	c.claimGen = d.gen
	d.claims++
	c.parent = ctx
	if ctx != nil {
		ctx.child = c
	}
}

// release ends c's claim and wakes waiters. If a flush left effects waiting
// for the claim, it runs them, with the lock released meanwhile. Lock held;
// returns the domain, locked.
func release(d *domain, c *Sub) *domain {
	f := c.flags.Load()
	c.flags.Store(f &^ (fComputing | fBlocking))
	if f&fBlocking != 0 {
		d.blocking--
	}
	p := c.parent
	if p != nil && p.child == c {
		p.child = nil
	}
	c.parent = nil
	d.claims--
	if d.waiters > 0 {
		d.cond.Broadcast()
	}
	if f&fRelink != 0 {
		c.clearFlags(fRelink)
		resubscribe(d, c)
	}
	if f&fBlocking != 0 && len(d.blocked) > 0 && p != nil && !p.isEffect() && p.flags.Load()&fComputing != 0 {
		// c was read for p, whose claim this goroutine still holds: an
		// effect run here could wait for a computation that waits for p,
		// on another goroutine, and neither would go on. p's release
		// runs them instead (the outermost claim's, with none held).
		setBlocking(d, p)
		return d
	}
	if f&fBlocking != 0 && len(d.blocked) > 0 {
		d.queue = append(d.queue, d.blocked...)
		clear(d.blocked)
		d.blocked = d.blocked[:0]
		if d.flushers == 0 {
			startFlush(d, true).run(d)
			d = lockDom(&c.Node)
		}
	}
	return d
}

// check reports whether a dependency of s changed since s was last up to
// date, refreshing computed dependencies in the order s read them, so that a
// dependency the next run might no longer read is not recomputed needlessly
// once an earlier one is found changed. s is claimed; lock held.
func check(d *domain, s *Sub) (*domain, status) {
	start := d.epoch.Load()
	checked := s.checkedAt.Load()
	for l := s.deps; l != nil; l = l.nextDep {
		n := l.dep
		if n.kind() != kindSignal {
			if ds := n.asSub(); !ds.currentIn(d) {
				var st status
				d, st = refresh(d, ds, s)
				switch st {
				case stBlocked:
					return d, stBlocked
				case stCycle:
					return d, stChanged // the run meets the cycle and reports it
				}
			}
		}
		if n.changedAt.Load() > checked {
			return d, stChanged
		}
	}
	s.checkedAt.Store(start)
	return d, stOK
}

// The writer gate: after gateAfter restarts, a computation's attempts hold
// its domain's gate; writers wait for it at most a bound that starts at
// gateFirst and doubles with each gated attempt. After maxGated gated
// attempts the computation gives up with an ErrCycle panic.
const (
	gateAfter = 2
	gateFirst = time.Millisecond
	maxGated  = 8
)

// recompute runs c's function and caches its result or its panic. c is
// claimed; the claim is released on return. Lock held; released around
// user code; returns the domain locked. If the function calls
// runtime.Goexit, or an outer run's abort passes through it, runCompute
// abandons c and the evaluations above it that were only checking.
func recompute(d *domain, c *Sub) *domain {
	if c.attempts|c.gated != 0 {
		c.attempts, c.gated = 0, 0
	}
	for {
		gated := false
		if c.attempts >= gateAfter {
			if c.gated >= maxGated {
				d = commitCompute(d, c, false, true, starved(c))
				return release(d, c)
			}
			c.gated++
			holdGate(d, gateFirst<<(c.gated-1))
			gated = true
		}
		hadValue := c.flags.Load()&(fHasValue|fPanicked) == fHasValue
		beginRun(c, d)
		c.inRun = true
		if gated { // Track's slow path counts its progress
			c.gatedRun, c.plain = true, false
		}
		d.mu.Unlock()
		t0, obs := startObserving()
		changed, p, panicked := runCompute(c, hadValue, gated)
		if obs && !c.aborted {
			hookRun(c, t0, changed || panicked, panicked, p)
		}
		d = lockDom(&c.Node)
		c.inRun, c.gatedRun = false, false
		if gated {
			releaseGate(d)
		}
		if c.aborted {
			c.impl.Settle(false)
			c.attempts++
			continue
		}
		d = commitCompute(d, c, changed, panicked, p)
		return release(d, c)
	}
}

// runCompute calls computed c's function (and, if it held a value, its
// equality) without any lock. It reports a panic rather than raising it.
// If the function panics with its own run's abort, or recovered it,
// c.aborted is set and nothing is reported. If it calls runtime.Goexit, or
// another run's abort passes through, c is abandoned and runCompute does
// not return.
func runCompute(c *Sub, hadValue, gated bool) (changed bool, p any, panicked bool) {
	panicked = true
	defer func() {
		if !panicked {
			return
		}
		r := recover()
		if r == nil { // runtime.Goexit
			abandon(c, gated)
			return
		}
		if a, ok := r.(*abortRun); ok && a.s != c {
			abandon(c, gated)
			panic(r)
		}
		if c.aborted {
			panicked, p = false, nil
			return
		}
		p = r
		recordPanic(c, r)
	}()
	changed = c.impl.Compute(&c.tr, hadValue)
	panicked = false
	return
}

// starved is the panic of a computation that kept being invalidated.
func starved(c *Sub) error {
	return fmt.Errorf("%w: %s: values it read kept changing while it ran, for %d attempts (%d with writers held back); does it write a signal it reads?",
		ErrCycle, describe(c), c.attempts, c.gated)
}

// commitCompute caches the result of c's completed run. Lock held.
func commitCompute(d *domain, c *Sub, changed, panicked bool, p any) *domain {
	fixLinks(d, c)
	// Written after the run read its values, through links not yet
	// subscribed then, so that the writes' marks did not reach it? Mark it
	// (before its stamp moves, as writes do).
	stale := d.epoch.Load() != c.readEpoch && changedSince(d, c)
	if stale && c.flags.Load()&fLive != 0 {
		c.clearFlags(fPending)
		mark(d, c)
	}
	f := c.flags.Load()
	switch {
	case panicked:
		c.impl.Settle(false)
		c.errp.Store(&panicBox{p})
		c.flags.Store(f | fPanicked | fHasValue)
		stampChange(d, &c.Node)
	case changed || f&fPanicked != 0:
		c.impl.Settle(true)
		if f&fPanicked != 0 {
			c.errp.Store(nil)
		}
		if f&(fPanicked|fHasValue) != fHasValue {
			c.flags.Store(f&^fPanicked | fHasValue)
		}
		stampChange(d, &c.Node)
	default:
		c.impl.Settle(false)
	}
	if stale {
		c.checkedAt.Store(c.readEpoch)
	} else {
		c.checkedAt.Store(d.epoch.Load()) // what it used is still current
	}
	c.runs++
	if panicked {
		c.lastPanic, c.panicked = p, true
	}
	return d
}

func changedSince(d *domain, s *Sub) bool {
	_, possibly := usedChangedSince(d, s)
	return possibly
}

// stampChange records that computed n's result changed. Its stamp must
// increase: if it changed already in this epoch (a value committed stale,
// then recomputed), the epoch moves on first. Lock held.
func stampChange(d *domain, n *Node) {
	e := d.epoch.Load()
	if n.changedAt.Load() >= e {
		e++
		d.epoch.Store(e)
	}
	n.changedAt.Store(e)
}

// usedChangedSince reports whether a value s's latest run used changed after
// its readEpoch: definitely (a dependency's stamp moved), or possibly (a
// computed dependency is not known to be current). Lock held.
func usedChangedSince(d *domain, s *Sub) (definitely, possibly bool) {
	for l := s.deps; l != nil; l = l.nextDep {
		if l.stamp == s.runStamp {
			n := l.dep
			if n.changedAt.Load() > s.readEpoch {
				return true, true
			}
			if n.kind() != kindSignal && !n.asSub().currentIn(d) {
				possibly = true
			}
		}
	}
	return false, possibly
}

// abandon ends c's claim after its run was cut short by runtime.Goexit or
// by the abort of an outer run: c keeps no value, and is run again when
// next read. The evaluations above it on the same goroutine that were only
// checking their dependencies have no deferred call of their own: abandon
// releases their claims too, up to the first one running its function
// (whose runCompute does the same) or an effect (whose flush does). Lock
// not held.
func abandon(c *Sub, gated bool) {
	d := lockDom(&c.Node)
	if gated {
		releaseGate(d)
	}
	c.impl.Settle(false)
	fixLinks(d, c)
	c.errp.Store(nil)
	c.inRun, c.gatedRun = false, false
	c.clearFlags(fHasValue | fPanicked)
	if c.flags.Load()&fLive != 0 {
		c.clearFlags(fPending)
		mark(d, c)
	}
	d.epoch.Add(1) // whoever saw its previous value checks again
	p := c.parent
	d = releaseQuietly(d, c)
	for p != nil && !p.isEffect() {
		if p.flags.Load()&fComputing == 0 || p.inRun {
			break
		}
		next := p.parent
		d = releaseQuietly(d, p)
		p = next
	}
	d.mu.Unlock()
}

// releaseQuietly is release without running effects on this goroutine:
// it is called while runtime.Goexit or a panic unwinds. Effects that waited
// for the claim run on a new goroutine, unless a flush of the graph is
// under way. Lock held.
func releaseQuietly(d *domain, c *Sub) *domain {
	if c.flags.Load()&fBlocking != 0 {
		d.queue = append(d.queue, d.blocked...)
		clear(d.blocked)
		d.blocked = d.blocked[:0]
		c.clearFlags(fBlocking)
		d.blocking--
		if d.flushers == 0 && len(d.queue) > 0 {
			go startFlush(d, true).run(nil) // startFlush is evaluated here, under the lock
		}
	}
	return release(d, c)
}

// PanicRecorder is implemented by an Impl that wants to see the panics of
// its Compute (the user's function, or a computed's equality) while the
// frames that raised them are still on the stack, to record where they came
// from. The engine calls RecordPanic from its recovering deferred call, on
// the goroutine that ran Compute, without any lock, before the run ends;
// never for the engine's own unwinding of a run it restarts or blocks, nor
// for runtime.Goexit.
type PanicRecorder interface{ RecordPanic(p any) }

// recordPanic hands p, raised by s's function, to s's typed half if it
// asked for it.
func recordPanic(s *Sub, p any) {
	if r, ok := s.impl.(PanicRecorder); ok {
		r.RecordPanic(p)
	}
}

// wait blocks until a claim in d ends. ctx is the evaluation that waits,
// recorded so that other goroutines can see cycles through it. Lock held;
// returns the domain, locked (it may have been merged meanwhile).
func wait(d *domain, ctx, c *Sub) *domain {
	if ctx != nil {
		ctx.waitingFor = c
	}
	d.waiters++
	d.cond.Wait()
	d.waiters--
	if d.fwd.Load() != nil { // merged meanwhile
		d.mu.Unlock()
		d = lockDom(&c.Node)
	}
	if ctx != nil {
		ctx.waitingFor = nil
	}
	return d
}

// inChain reports whether x is ctx or one of the evaluations ctx runs inside.
func inChain(ctx, x *Sub) bool {
	for p := ctx; p != nil; p = p.parent {
		if p == x {
			return true
		}
	}
	return false
}

// waitCloses reports whether waiting for x, which another goroutine computes,
// would close a cycle: that goroutine waits, directly or through others, for
// an evaluation in ctx's chain. Lock held.
func waitCloses(ctx, x *Sub) bool {
	if ctx == nil {
		return false
	}
	y := x
	for range 1 << 16 {
		for y.child != nil {
			y = y.child
		}
		w := y.waitingFor
		if w == nil {
			return false
		}
		if inChain(ctx, w) {
			return true
		}
		y = w
	}
	return false
}

// effectOf returns the effect at the top of s's chain of evaluations, or nil.
func effectOf(s *Sub) *Sub {
	for ; s != nil; s = s.parent {
		if s.isEffect() {
			return s
		}
	}
	return nil
}

// flushOf returns the flush running the effect at the top of ctx's chain.
func flushOf(ctx *Sub) *flush {
	if e := effectOf(ctx); e != nil {
		return e.fl.Load()
	}
	return nil
}

// olderClaim reports whether c was claimed before flush f began on d, or
// before d's last merge: then c's computation may be running further up the
// stack of f's own goroutine, and f must not wait for it. Lock held.
func olderClaim(d *domain, c *Sub, f *flush) bool {
	if f.firstRun {
		return false // see StartEffect
	}
	return c.claimGen < d.mergeGen || c.claimGen < f.genOf(d)
}

// setBlocking marks claim c as one that effects wait for. Lock held.
func setBlocking(d *domain, c *Sub) {
	if c.flags.Load()&fBlocking == 0 {
		c.setFlags(fBlocking)
		d.blocking++
	}
}

// ErrCycle is wrapped by every cycle and runaway-loop panic. Package
// signals replaces it with its own at init.
var ErrCycle = errors.New("signals: cycle")

func cycleError(c *Sub) error {
	return fmt.Errorf("%w: %s reads itself through its Tracker (directly or via other computeds)", ErrCycle, describe(c))
}

func describe(s *Sub) string {
	kind := "computed"
	if s.isEffect() {
		kind = "effect"
	}
	if s.Name != "" {
		return fmt.Sprintf("%s %q", kind, s.Name)
	}
	return "a " + kind
}
