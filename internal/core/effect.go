package core

import (
	"sync"
	"sync/atomic"
)

// StartEffect runs a new effect for the first time, as NewEffect requires:
// at once, on the caller's goroutine, even inside a batch or a flush. Like
// any effect run it batches its writes: the effects they make due run
// after it, before StartEffect returns. If the run panics the effect is
// stopped and the panic is raised again, once those effects ran; if one of
// them panics, the new effect is stopped too and that panic is raised, so
// that nothing keeps running without a handle. An effect stopped before
// its first run does not run. Lock not held.
func StartEffect(e *Sub) {
	d := lockDom(&e.Node)
	if e.flags.Load()&fStopped != 0 {
		d.mu.Unlock()
		return
	}
	f := startFlush(d, false)
	running := false
	defer func() {
		if !running { // runtime.Goexit in the run or in a cleanup
			f.firstRun = false
			f.interrupted()
		}
	}()
	e.setFlags(fComputing)
	e.fl.Store(f)
	pushContext(e)
	popped := false
	defer func() {
		if !popped {
			popContext(e)
		}
	}()
	// The first run waits for any computation it reads, even one claimed
	// before it began: an effect created inside a compute function that
	// reads that very computed deadlocks, like item 11's Peek cycles.
	f.firstRun = true
	d, p, panicked := f.runEffect(d, e)
	f.firstRun = false
	d.mu.Unlock()
	popContext(e)
	popped = true
	f.note(p, panicked)
	if panicked {
		stopIn(e, f)
	}
	ok := false
	defer func() {
		if !ok { // another effect's panic leaves NewEffect: stop this one
			if p, panicked := Call(func() { Stop(e) }); panicked {
				reportPanic(p)
			}
		}
	}()
	running = true
	f.run(nil)
	ok = true
}

// Stop ends e's future runs and runs its cleanups, their writes batched. If
// e is claimed (running, or being checked), the goroutine holding the claim
// finishes the job when the claim ends. The first panic of a cleanup or of
// an effect the cleanups made due is raised after the others ran. Lock not
// held.
func Stop(e *Sub) {
	defer deliverWatches() // the observation its unsubscribing ended
	f := newFlush(false)
	running := false
	defer func() {
		if !running { // runtime.Goexit in a cleanup: domains it wrote joined f
			f.interrupted()
		}
	}()
	stopIn(e, f)
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
	p, panicked := f.p, f.panicked
	f.recycle()
	if panicked {
		panic(p)
	}
}

// stopIn stops e, its cleanups' writes batched with f. Lock not held.
func stopIn(e *Sub, f *flush) {
	d := lockDom(&e.Node)
	fl := e.flags.Load()
	if fl&fStopped != 0 {
		d.mu.Unlock()
		return
	}
	e.flags.Store(fl | fStopped)
	if fl&fComputing != 0 {
		d.mu.Unlock()
		return
	}
	d = f.dispose(d, e)
	d.mu.Unlock()
}

// OnCleanup registers fn with the effect behind t. Registered on an effect
// that is stopped and not running, fn runs at once. Lock not held.
func OnCleanup(t *Tracker, fn func()) {
	e := t.sub
	d := lockDom(&e.Node)
	if e.flags.Load()&(fStopped|fComputing) == fStopped {
		d.mu.Unlock()
		fn()
		return
	}
	e.cleanups = append(e.cleanups, fn)
	d.mu.Unlock()
}

// Attribution: writes made while an effect's first run, or the cleanups of
// its Stop, are in progress are batched with that effect's flush, and the
// signals they write are remembered as written by it (Node.writer), so that
// its later runs batch them too. See DESIGN.md.
var attribution struct {
	active atomic.Int32 // len(stack), read without the lock
	mu     sync.Mutex   // leaf; guards stack, Node.writer stores, Sub.written
	stack  []*Sub
}

func pushContext(e *Sub) {
	attribution.mu.Lock()
	attribution.stack = append(attribution.stack, e)
	attribution.active.Add(1)
	attribution.mu.Unlock()
}

func popContext(e *Sub) {
	attribution.mu.Lock()
	s := attribution.stack
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == e {
			attribution.stack = append(s[:i], s[i+1:]...)
			s[len(s)-1] = nil
			attribution.active.Add(-1)
			break
		}
	}
	attribution.mu.Unlock()
}

// maxWritten bounds how many signals one effect is remembered to write.
const maxWritten = 1 << 12

// attribute returns the innermost effect whose first run or Stop is in
// progress, and remembers signal n as written by it. Lock not held.
func attribute(n *Node) *Sub {
	attribution.mu.Lock()
	defer attribution.mu.Unlock()
	s := attribution.stack
	if len(s) == 0 {
		return nil
	}
	e := s[len(s)-1]
	if n.kind() == kindSignal && n.writer.Load() != e && len(e.written) < maxWritten {
		n.writer.Store(e)
		e.written = append(e.written, n)
	}
	return e
}

// forget drops what stopped effect e was remembered to write, so that it
// can be garbage-collected.
func forget(e *Sub) {
	attribution.mu.Lock()
	for _, n := range e.written {
		n.writer.CompareAndSwap(e, nil)
	}
	e.written = nil
	attribution.mu.Unlock()
}
