package core

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// maxRounds is how many consecutive rounds of effects, each fed by writes
// made while the previous round ran, a flush runs before it suspects a loop
// that does not settle.
const maxRounds = 100

// probeMin is the shortest pause of fedFromOutside and selfFedLoop: long
// enough for an outside writer that a loaded machine left waiting for a
// CPU to write again (1 ms was not, under -race on 2 busy cores), short
// next to how long a real loop has already run.
const probeMin = 5 * time.Millisecond

// A flush runs the due effects of a set of domains, round by round, on the
// goroutine that started it. Each of its domains counts it in flushers, so
// writes to them leave their effects to it. See DESIGN.md.
type flush struct {
	mu   sync.Mutex // leaf; guards doms, gens, done
	doms []*domain
	gens []uint64 // the domain's gen when it joined: older claims came before
	done bool
	n    atomic.Int32 // len(doms), read without mu

	// The rest belongs to the flushing goroutine.
	local       []*domain // a copy of doms, refreshed when n moves
	held        *domain   // the domain whose lock the flush holds, if any
	released    int       // local[:released] no longer count this flush
	report      bool      // panics go to PanicReporter instead of being raised
	firstRun    bool      // running an effect's first run, which waits for any claim
	suspect     bool      // the last check of a long flush found no outside writes
	p           any
	panicked    bool
	round       []*Sub
	pos         int // next index of round to handle
	toSchedule  []*Sub
	rounds      int
	roundsStart time.Time
}

func newFlush(report bool) *flush {
	return &flush{report: report}
}

// reuseFlush returns d's spare flush, or a new one: a flush keeps its
// slices, and the queue it swaps with, so that steady updates allocate
// nothing. d locked.
func reuseFlush(d *domain, report bool) *flush {
	f := d.spare
	if f == nil {
		return newFlush(report)
	}
	d.spare = nil
	f.report = report
	return f
}

// startFlush returns a new flush responsible for d. d locked.
func startFlush(d *domain, report bool) *flush {
	f := reuseFlush(d, report)
	f.join(d, true)
	f.local = append(f.local, d) // as domains would copy it
	return f
}

// attach makes f responsible for d's queue too, unless f has finished.
// d locked.
func (f *flush) attach(d *domain) bool { return f.join(d, false) }

// join is attach; open starts f (new or reused) with d, its first domain:
// a writer holding a stale pointer to a reused f may still try to attach
// to it as it was, so done is reset under f.mu. d locked.
func (f *flush) join(d *domain, open bool) bool {
	f.mu.Lock()
	if open {
		f.done = false
	} else if f.done {
		f.mu.Unlock()
		return false
	}
	d.flushers++
	d.gen++
	f.doms = append(f.doms, d)
	f.gens = append(f.gens, d.gen)
	f.n.Store(int32(len(f.doms)))
	f.mu.Unlock()
	return true
}

// domains returns f's domains, as seen by the flushing goroutine.
func (f *flush) domains() []*domain {
	if int(f.n.Load()) != len(f.local) {
		f.mu.Lock()
		f.local = append(f.local[:0], f.doms...)
		f.mu.Unlock()
	}
	return f.local
}

// lockRoot locks the root of d's domain for the flushing goroutine, keeping
// the lock it holds if it is that one's.
func (f *flush) lockRoot(d *domain) *domain {
	if h := f.held; h != nil {
		if root(d) == h { // no merge can move h while it is locked
			return h
		}
		h.mu.Unlock()
		f.held = nil
	}
	d = lockRoot(d)
	f.held = d
	return d
}

// lockDom is lockRoot for n's domain.
func (f *flush) lockDom(n *Node) *domain {
	if h := f.held; h != nil && n.root() == h {
		return h
	}
	return f.lockRoot(n.root())
}

// unlock releases the lock f holds, if any.
func (f *flush) unlock() {
	if h := f.held; h != nil {
		f.held = nil
		h.mu.Unlock()
	}
}

// genOf returns the gen of root domain d when it joined f; claims before
// it are older than f. A domain f does not know counts as joined last.
// Lock of d held.
func (f *flush) genOf(d *domain) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, x := range f.doms {
		if root(x) == d {
			return f.gens[i]
		}
	}
	return ^uint64(0)
}

// note records the first panic of the flush.
func (f *flush) note(p any, panicked bool) {
	if panicked && !f.panicked {
		f.p, f.panicked = p, true
	}
}

// run runs the due effects of f's domains round by round until none can
// run, then raises the first panic of an effect, cleanup or scheduler (or
// reports it, if f.report). h is a domain whose lock the caller holds, or
// nil; run releases it. If user code calls runtime.Goexit, the rest of the
// flush continues on a new goroutine.
func (f *flush) run(h *domain) {
	f.held = h
	normal := false
	defer func() {
		if !normal {
			f.interrupted()
		}
	}()
	for {
		if f.rounds >= maxRounds {
			// Every one of the last rounds was fed by the one before. If
			// nothing the due effects read was written while they were
			// paused, the next round tells: effects that feed themselves
			// are due again after it; a flush whose outside writers just
			// stopped drains.
			f.unlock()
			switch {
			case f.fedFromOutside(time.Since(f.roundsStart) / time.Duration(f.rounds-1)):
				f.rounds, f.roundsStart, f.suspect = 1, time.Now(), false
			case !f.suspect:
				f.suspect = true
			default:
				if err := f.runaway(); err != nil {
					f.note(err, true)
				}
				f.suspect = false
			}
		}
		f.collect()
		if len(f.round) == 0 {
			if f.finish() {
				break
			}
			continue
		}
		if f.rounds == 1 {
			f.roundsStart = time.Now() // most flushes need one round: time only longer ones
		}
		progress := false
		for f.pos = 0; f.pos < len(f.round); f.pos++ {
			e := f.round[f.pos]
			f.round[f.pos] = nil // no stale reference keeps e alive
			if f.handle(e) {
				progress = true
			}
		}
		f.round = f.round[:0]
		if len(f.toSchedule) > 0 {
			f.unlock()
			f.handOver()
		}
		if progress {
			f.rounds++
		} else if f.finish() {
			break
		}
	}
	if watches.n.Load() > 0 { // observation changes, after the effects
		f.unlock()
		deliverWatches()
	}
	normal = true
	p, panicked, report := f.p, f.panicked, f.report
	f.recycle() // releases the lock it holds
	if panicked {
		if report {
			reportPanic(p)
			return
		}
		panic(p)
	}
}

// recycle keeps a finished f as the spare of the domain whose lock it
// holds, and releases that lock.
func (f *flush) recycle() {
	for i := range f.doms { // usually one: cheaper than clear's call
		f.doms[i] = nil
	}
	for i := range f.local {
		f.local[i] = nil
	}
	f.doms, f.gens, f.local = f.doms[:0], f.gens[:0], f.local[:0]
	// n stays: the next start sets it.
	f.released, f.p, f.panicked, f.rounds, f.pos, f.firstRun, f.suspect = 0, nil, false, 0, 0, false, false
	if h := f.held; h != nil {
		f.held = nil
		if h.spare == nil {
			h.spare = f
		}
		h.mu.Unlock()
	}
}

// interrupted hands the rest of a flush cut short by runtime.Goexit (or an
// engine panic) to a new goroutine. Lock not held.
func (f *flush) interrupted() {
	for _, e := range f.round[min(f.pos+1, len(f.round)):] {
		if e != nil {
			d := lockDom(&e.Node)
			d.queue = append(d.queue, e)
			d.mu.Unlock()
		}
	}
	clear(f.round)
	f.round = f.round[:0]
	for i, e := range f.toSchedule {
		if e != nil {
			d := lockDom(&e.Node)
			if e.flags.Load()&(fQueued|fStopped) == 0 {
				e.setFlags(fQueued | fPending)
				d.queue = append(d.queue, e)
			}
			d.mu.Unlock()
			f.toSchedule[i] = nil
		}
	}
	f.toSchedule = f.toSchedule[:0]
	f.report = true
	f.held = nil // user code ran without it
	go f.run(nil)
}

// collect takes the queues of f's domains as the next round, in creation
// order.
func (f *flush) collect() {
	for _, d := range f.domains()[f.released:] {
		d = f.lockRoot(d)
		switch q := d.queue; {
		case len(q) == 0:
		case len(f.round) == 0: // take the queue, give it the empty round
			f.round, d.queue = q, f.round[:0]
		default:
			f.round = append(f.round, q...)
			clear(q)
			d.queue = q[:0]
		}
	}
	if len(f.round) > 1 && !slices.IsSortedFunc(f.round, byID) {
		slices.SortFunc(f.round, byID)
	}
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

// finish releases f's domains that have nothing f can run, and reports
// whether f is done. Effects held back by a batch are registered with it.
func (f *flush) finish() bool {
	doms := f.domains()
	for ; f.released < len(doms); f.released++ {
		d := f.lockRoot(doms[f.released])
		if runnable(d) {
			return false
		}
		d.flushers--
	}
	f.mu.Lock()
	joined := len(f.doms) > len(doms) // a domain joined meanwhile
	f.done = !joined
	f.mu.Unlock()
	return !joined
}

// runnable reports whether d's queue holds an effect that no open batch
// holds back; those it holds are registered with the batches. Lock held.
func runnable(d *domain) bool {
	for _, e := range d.queue {
		if e.due == 0 || !holdForBatch(d, e.due) {
			return true
		}
	}
	return false
}

// handle runs e if it is due, and reports whether it took e off the queue
// (false: e waits for a batch). Lock not held.
func (f *flush) handle(e *Sub) bool {
	d := f.lockDom(&e.Node)
	fl := e.flags.Load()
	if fl&fQueued == 0 {
		return true
	}
	fl &^= fQueued
	switch {
	case fl&fStopped != 0:
		e.flags.Store(fl &^ fPending)
		if fl&fDisposed == 0 {
			// Stopped while claimed, by a claim that ended by
			// blocking (block queues it without disposing of it):
			// nobody else will unlink it and run its cleanups.
			f.held = nil
			f.held = f.dispose(d, e)
		}
		return true
	case fl&fComputing != 0:
		// Running elsewhere (a scheduled run): it goes round again when
		// done, if it was marked meanwhile.
		e.flags.Store(fl)
		return true
	case e.due != 0 && batchHeld(e.due):
		e.flags.Store(fl | fQueued)
		d.queue = append(d.queue, e) // the batches' end, or this flush, runs it
		return false
	case e.sched != nil:
		e.flags.Store(fl &^ fPending)
		f.toSchedule = append(f.toSchedule, e)
		return true
	}
	e.flags.Store(fl&^fPending | fComputing)
	if e.fl.Load() != f {
		e.fl.Store(f) // left set after the run: attribution checks fRunning
	}
	f.held = nil // the calls below may release it; they return it locked
	if fl&fHasValue != 0 {
		var st status
		d, st = f.checkEffect(d, e)
		switch st {
		case stOK:
			f.held = f.endCheck(d, e)
			return true
		case stBlocked:
			f.block(d, e)
			f.held = d
			return true
		}
	}
	var p any
	var panicked bool
	d, p, panicked = f.runEffect(d, e)
	f.held = d
	f.note(p, panicked)
	return true
}

// checkEffect reports whether e, claimed, must run: stChanged if a
// dependency changed, stBlocked if it depends on a computation that may be
// this flush's own caller. Lock held; may be released meanwhile.
func (f *flush) checkEffect(d *domain, e *Sub) (rd *domain, st status) {
	if d.claims > 0 && dependsOnOlderClaim(d, e, f) {
		return d, stBlocked
	}
	// Most effects read signals and current computeds: no user code runs,
	// so the deferred call below is not needed.
	checked := e.checkedAt.Load()
	for l := e.deps; l != nil; l = l.nextDep {
		n := l.dep
		if n.kind() != kindSignal && !n.asSub().currentIn(d) {
			return f.checkEffectSlow(d, e)
		}
		if n.changedAt.Load() > checked {
			return d, stChanged
		}
	}
	e.checkedAt.Store(d.epoch.Load())
	return d, stOK
}

// checkEffectSlow is checkEffect when computations may run.
func (f *flush) checkEffectSlow(d *domain, e *Sub) (rd *domain, st status) {
	checking := true
	defer func() {
		if !checking {
			return
		}
		r := recover()
		if isAbortOf(r, e) {
			// A computation the check ran would have waited for one
			// that may be this flush's caller.
			e.aborted = false
			rd, st = lockDom(&e.Node), stBlocked
			return
		}
		d := lockDom(&e.Node) // Goexit or panic in a computation the check ran
		d = f.endCheck(d, e)
		d.mu.Unlock()
		if r != nil {
			panic(r)
		}
	}()
	d, st = check(d, e)
	checking = false
	return d, st
}

// dependsOnOlderClaim reports whether e read a computation claimed before
// f began, which f must not wait for, and marks those claims so that their
// holders flush when they end. Lock held.
func dependsOnOlderClaim(d *domain, e *Sub, f *flush) bool {
	blocked := false
	for l := e.deps; l != nil; l = l.nextDep {
		if n := l.dep; n.kind() != kindSignal {
			if c := n.asSub(); c.flags.Load()&fComputing != 0 && olderClaim(d, c, f) {
				setBlocking(d, c)
				blocked = true
			}
		}
	}
	return blocked
}

// block leaves e, claimed, for the holders of the claims it waits for.
// Lock held.
func (f *flush) block(d *domain, e *Sub) {
	e.flags.Store(e.flags.Load()&^(fComputing|fRunning) | fQueued | fPending)
	d.blocked = append(d.blocked, e)
	if d.blocking == 0 { // the claims it waited for ended meanwhile
		d.queue = append(d.queue, d.blocked...)
		clear(d.blocked)
		d.blocked = d.blocked[:0]
	}
}

// endCheck ends e's claim when it did not run: it disposes of e if it was
// stopped meanwhile and queues it again if it was marked meanwhile. Lock
// held; may be released meanwhile.
func (f *flush) endCheck(d *domain, e *Sub) *domain {
	fl := e.flags.Load() &^ (fComputing | fRunning)
	e.flags.Store(fl) // e.fl stays: attribution checks fRunning
	if fl&fStopped != 0 {
		return f.dispose(d, e)
	}
	if fl&(fPending|fQueued) == fPending {
		requeue(d, e)
	}
	return d
}

func requeue(d *domain, e *Sub) {
	e.setFlags(fQueued)
	e.due = dueMark()
	d.queue = append(d.queue, e)
}

// runEffect runs e's cleanups, then e's function, and ends its claim. It
// returns the function's own panic. e claimed, e.fl set; lock held on
// entry, released around user code, and held on return (the domain is
// returned).
func (f *flush) runEffect(d *domain, e *Sub) (_ *domain, p any, panicked bool) {
	if e.flags.Load()&fStopped != 0 { // stopped while it was checked
		return f.endRun(d, e), nil, false
	}
	e.setFlags(fRunning)
	if len(e.cleanups) > 0 {
		var stopped bool
		if d, stopped = f.runCleanupsFirst(d, e); stopped {
			return f.endRun(d, e), nil, false
		}
	}
	beginRun(e, d)
	d.mu.Unlock()
	t0, obs := startObserving()
	p, panicked = f.runUser(e)
	if obs && !e.aborted {
		hookRun(e, t0, true, panicked, p)
	}
	d = lockDom(&e.Node)
	if e.aborted {
		// It read a computation that may be this flush's caller: it runs
		// again once that computation ends. It keeps the links it had not
		// reached: the change that made it due may be among them (its
		// next check must find it), and so may later writes.
		keepAllLinks(e)
		fixLinks(d, e)
		f.block(d, e)
		return d, nil, false
	}
	fixLinks(d, e)
	// Something it used may have changed while it ran, through links not
	// subscribed then, so that no mark reached it: if it did, it runs
	// again; if it may have, it checks again.
	var definitely, possibly bool
	if ep := d.epoch.Load(); e.rerun {
		definitely = true
	} else if ep != e.readEpoch {
		definitely, possibly = usedChangedSince(d, e)
	}
	if !definitely && e.flags.Load()&fPending != 0 {
		possibly = true // marked, perhaps by fixLinks (see subscribe): check again
	}
	add := uint32(fHasValue) // set with the run's end: one store
	switch {
	case definitely:
		e.checkedAt.Store(0)
		add |= fPending
	case possibly:
		e.checkedAt.Store(e.readEpoch)
		add |= fPending
	default:
		e.checkedAt.Store(d.epoch.Load())
	}
	e.runs++
	if panicked {
		e.lastPanic, e.panicked = p, true
	}
	return f.endRunWith(d, e, add), p, panicked
}

// runCleanupsFirst runs e's cleanups before its next run, and reports
// whether one of them stopped it. Lock held; released meanwhile.
func (f *flush) runCleanupsFirst(d *domain, e *Sub) (_ *domain, stopped bool) {
	cs := e.cleanups
	e.cleanups = nil
	d.mu.Unlock()
	done := false
	defer func() {
		if !done { // runtime.Goexit in a cleanup: the run is skipped
			d := lockDom(&e.Node)
			d = f.endRun(d, e)
			d.mu.Unlock()
		}
	}()
	f.note(runCleanups(cs))
	done = true
	d = lockDom(&e.Node)
	if e.cleanups == nil {
		clear(cs)
		e.cleanups = cs[:0] // reuse the slice
	}
	return d, e.flags.Load()&fStopped != 0
}

// runUser calls effect e's function without any lock. It reports a panic
// rather than raising it, except the abort of another run passing through.
// If the function panics with its own run's abort, or recovered it,
// e.aborted is set and nothing is reported. If the function calls
// runtime.Goexit, the run counts as done, e's claim ends, and runUser does
// not return (the flush's deferred call hands its rest to a new goroutine).
func (f *flush) runUser(e *Sub) (p any, panicked bool) {
	panicked = true
	defer func() {
		if !panicked {
			return
		}
		r := recover()
		if r == nil { // runtime.Goexit
			d := lockDom(&e.Node)
			fixLinks(d, e)
			e.checkedAt.Store(e.readEpoch)
			e.setFlags(fHasValue)
			d = f.endRun(d, e)
			d.mu.Unlock()
			return
		}
		if a, ok := r.(*abortRun); ok && a.s != e {
			panic(r)
		}
		if e.aborted {
			panicked, p = false, nil
			return
		}
		p = r
		recordPanic(e, r)
	}()
	e.impl.Compute(&e.tr, false)
	panicked = false
	return
}

// endRun ends the claim of e after its run: a stopped e is disposed of, one
// marked while it ran is queued again. Lock held; may be released meanwhile.
func (f *flush) endRun(d *domain, e *Sub) *domain { return f.endRunWith(d, e, 0) }

// endRunWith is endRun that also sets the flags add.
func (f *flush) endRunWith(d *domain, e *Sub, add uint32) *domain {
	fl := e.flags.Load() | add
	e.flags.Store(fl &^ (fComputing | fRunning)) // e.fl stays: attribution checks fRunning
	if e.sched != nil {
		if fl&fPending != 0 {
			e.selfFed++
		} else {
			e.selfFed = 0
		}
	}
	switch {
	case fl&fStopped != 0:
		return f.dispose(d, e)
	case fl&(fPending|fQueued) == fPending:
		requeue(d, e)
	}
	return d
}

// runCleanups runs cs, last registered first, and returns the first panic.
func runCleanups(cs []func()) (p any, panicked bool) {
	for i := len(cs) - 1; i >= 0; i-- {
		if q, ok := Call(cs[i]); ok && !panicked {
			p, panicked = q, true
		}
	}
	return p, panicked
}

// dispose unlinks a stopped effect, not claimed, and runs its cleanups, their
// writes batched with f, then tells the typed layer (Disposer). Lock held;
// may be released meanwhile.
func (f *flush) dispose(d *domain, e *Sub) *domain {
	e.clearFlags(fPending | fQueued)
	e.setFlags(fDisposed)
	dropDeps(d, e)
	cs := e.cleanups
	e.cleanups = nil
	if len(cs) == 0 {
		forget(e)
		disposed(e)
		return d
	}
	e.fl.Store(f)
	d.mu.Unlock()
	// Deferred in this order so that e leaves the attribution stack before
	// its typed half learns it is done (Effect.Done): a goroutine waiting
	// for that must not find its next writes attributed to e.
	defer disposed(e) // even if a cleanup calls runtime.Goexit
	pushContext(e)
	defer popContext(e)
	f.note(runCleanups(cs))
	forget(e)
	return lockDom(&e.Node)
}

// disposed tells e's typed half that e is done, if it asked to know.
func disposed(e *Sub) {
	if x, ok := e.impl.(Disposer); ok {
		x.Disposed()
	}
}

// handOver passes due effects to their schedulers, which are user code. An
// effect whose scheduler panicked is checked without running, so that the
// computations it depends on are not left marked. Lock not held.
func (f *flush) handOver() {
	for i, e := range f.toSchedule {
		f.toSchedule[i] = nil
		if p, ok := Call(func() { e.sched(e.job) }); ok {
			f.note(p, true)
			checkOnly(e)
		}
	}
	f.toSchedule = f.toSchedule[:0]
}

// checkOnly brings the dependencies of effect e up to date without running
// it: e stays due if one of them changed, and the next write to them
// reaches it again. Lock not held.
func checkOnly(e *Sub) {
	d := lockDom(&e.Node)
	fl := e.flags.Load()
	if fl&(fComputing|fStopped) != 0 || fl&fHasValue == 0 {
		d.mu.Unlock()
		return
	}
	e.flags.Store(fl&^(fPending|fQueued) | fComputing)
	f := newFlush(true)
	running := false
	defer func() {
		if !running { // runtime.Goexit in a cleanup of an effect stopped meanwhile
			f.interrupted()
		}
	}()
	e.fl.Store(f)
	d, _ = f.checkEffect(d, e)
	e.fl.Store(nil)
	// A write that marked e while the check held its claim left it to the
	// claim's end, and so did a Stop: endCheck queues or disposes of it.
	d = f.endCheck(d, e)
	if len(d.queue) > 0 && d.flushers == 0 {
		f.attach(d)
	}
	d.mu.Unlock()
	running = true
	f.mu.Lock()
	joined := len(f.doms) > 0
	if !joined {
		f.done = true
	}
	f.mu.Unlock()
	if joined {
		f.run(nil)
		return
	}
	f.recycle()
}

// RunScheduled is a scheduler's call to run effect e: it runs e if
// something e read changed, unless e is stopped or running elsewhere (then
// it runs again after that run). Writes made by e flush as usual. It
// returns e's panic, if any, rather than raising it. Lock not held.
func RunScheduled(e *Sub) (p any, panicked bool) {
	d := lockDom(&e.Node)
	fl := e.flags.Load()
	switch {
	case fl&fStopped != 0:
		d.mu.Unlock()
		return nil, false
	case fl&fComputing != 0:
		e.flags.Store(fl | fPending) // it goes round again when done
		d.mu.Unlock()
		return nil, false
	}
	f := startFlush(d, false)
	f.report = true // panics of other effects go to the handler
	running := false
	defer func() {
		if !running { // runtime.Goexit in the run: the flush goes on elsewhere
			f.interrupted()
		}
	}()
	e.flags.Store(fl&^(fPending|fQueued) | fComputing)
	e.fl.Store(f)
	st := stChanged
	if fl&fHasValue != 0 {
		d, st = f.checkEffect(d, e)
	}
	switch st {
	case stOK:
		d = f.endCheck(d, e)
	case stBlocked:
		f.block(d, e)
	default:
		d, p, panicked = f.runEffect(d, e)
		if e.selfFed >= maxSelfFed {
			d.mu.Unlock()
			if err := selfFedLoop(e); err != nil && !panicked {
				p, panicked = err, true
			}
			d = nil
		}
	}
	running = true
	f.run(d)
	return p, panicked
}

// maxSelfFed is how many consecutive scheduled runs of an effect, each made
// due by the one before, pass before the engine suspects a loop. It is above
// maxRounds so that a scheduler that runs effects in rounds of its own (as
// Manual does) reports the loop first.
const maxSelfFed = 2 * maxRounds

// selfFedLoop tells a scheduled effect that keeps re-triggering itself from
// one kept busy by other goroutines' writes: it pauses for two of its runs
// and, if nothing it read was written meanwhile, drops its pending run and
// returns an ErrCycle error. Lock not held.
func selfFedLoop(e *Sub) error {
	d := lockDom(&e.Node)
	start := d.epoch.Load()
	avg := e.spent / time.Duration(max(e.runs, 1))
	d.mu.Unlock()
	time.Sleep(max(probeMin, 2*avg))
	d = lockDom(&e.Node)
	outside := d.epoch.Load() != start && writtenSince(&e.Node, start, map[*Node]bool{})
	e.selfFed = 0 // under the lock: a concurrent scheduled run counts it too
	d.mu.Unlock()
	if outside {
		return nil
	}
	d = lockDom(&e.Node)
	e.clearFlags(fQueued)
	d.queue = slices.DeleteFunc(d.queue, func(x *Sub) bool { return x == e })
	d.mu.Unlock()
	checkOnly(e)
	return fmt.Errorf("%w: %s kept re-triggering itself for %d runs; an effect that writes a signal it reads must reach a fixed point", ErrCycle, describe(e), maxSelfFed)
}

// fedFromOutside tells an effect loop that does not settle from a flush kept
// busy by other goroutines, which this package cannot tell apart by who
// wrote. Every one of the last rounds was fed by writes made while the
// previous one ran. It pauses the effects for two average rounds (at least
// probeMin) and reports whether something the due effects depend on
// was written meanwhile: writers from outside keep writing, effects feeding
// themselves do not while they are paused. Lock not held.
func (f *flush) fedFromOutside(round time.Duration) bool {
	f.mu.Lock()
	doms := f.doms[f.released:]
	f.mu.Unlock()
	start := make(map[*domain]uint64, len(doms))
	for _, d := range doms {
		d = lockRoot(d)
		start[d] = d.epoch.Load()
		d.mu.Unlock()
	}
	time.Sleep(max(probeMin, 2*round))
	for d0, e0 := range start {
		d := lockRoot(d0)
		if d != d0 {
			d.mu.Unlock()
			return true // merged: another goroutine was at work
		}
		if d.epoch.Load() != e0 {
			seen := map[*Node]bool{}
			for _, e := range d.queue {
				if writtenSince(&e.Node, e0, seen) {
					d.mu.Unlock()
					return true
				}
			}
		}
		d.mu.Unlock()
	}
	return false
}

// writtenSince reports whether a signal that n depends on, directly or
// through computeds, changed after epoch since. A claimed node counts as
// written: its dependency list belongs to the goroutine running it, and a
// run in progress means someone is at work. Lock held.
func writtenSince(n *Node, since uint64, seen map[*Node]bool) bool {
	if n.flags.Load()&fComputing != 0 {
		return true
	}
	for l := n.asSub().deps; l != nil; l = l.nextDep {
		d := l.dep
		if seen[d] {
			continue
		}
		seen[d] = true
		if d.kind() == kindSignal {
			if d.changedAt.Load() > since {
				return true
			}
		} else if writtenSince(d, since, seen) {
			return true
		}
	}
	return false
}

// runaway empties the queues of an effect loop that does not settle, leaving
// its effects subscribed, and returns the error to raise; nil if no effect
// is due any more (the probe also finds no write when the effects stopped
// being due: the flush drained). Lock not held.
func (f *flush) runaway() error {
	f.mu.Lock()
	doms := f.doms[f.released:]
	f.mu.Unlock()
	var due []*Sub
	for _, d := range doms {
		d = lockRoot(d)
		for _, e := range d.queue {
			e.clearFlags(fQueued)
			due = append(due, e)
		}
		clear(d.queue)
		d.queue = d.queue[:0]
		d.mu.Unlock()
	}
	f.rounds = 0
	if len(due) == 0 {
		return nil
	}
	for _, e := range due {
		checkOnly(e)
	}
	return fmt.Errorf("%w: effects kept re-triggering themselves for %d rounds (%d still due); an effect that writes a signal it reads must reach a fixed point", ErrCycle, maxRounds, len(due))
}
