package core

import "sync"

// A Writer is a write to a signal in progress: the typed layer calls
// Lock, compares, and then either Abort or Begin, stores the value,
// and Commit.
type Writer struct {
	n   *Node
	d   *domain     // locked, or nil with st locked
	st  *sync.Mutex // the stripe of a signal without a domain
	ctx *Sub        // the innermost first run or Stop in progress
	e   uint64      // the write's epoch
}

// Lock starts a write to signal n with w, a zero Writer: it locks what
// guards writes to n, its domain once its gate lets writers through, or
// its stripe if it has no domain. Lock not held on entry; held on return.
// (w is filled in place: returning the Writer by value costs a
// store-forwarding stall on every write.)
func (w *Writer) Lock(n *Node) {
	w.n = n
	if attribution.active.Load() > 0 {
		w.ctx = attribute(n)
	}
	if n.dom.Load() == nil {
		st := stripe(n)
		st.Lock()
		if n.dom.Load() == nil {
			w.st = st
			return
		}
		st.Unlock()
	}
	d := lockDom(n)
	if d.gate > 0 {
		d = waitGate(d, n)
	}
	w.d = d
}

// Abort releases the lock without writing.
func (w *Writer) Abort() {
	if w.d != nil {
		w.d.mu.Unlock()
	} else {
		w.st.Unlock()
	}
}

// Begin starts the change: call it, then store the value, then Commit. It
// marks everything live downstream of n before it moves the epoch on, so
// that a reader who sees the new epoch also sees the marks (DESIGN.md).
func (w *Writer) Begin() {
	if d := w.d; d != nil {
		if w.n.subs != nil {
			propagate(d, w.n.subs)
		}
		w.e = d.epoch.Load() + 1
		d.epoch.Store(w.e)
	}
}

// Commit records that n took a new value, releases the lock and runs the
// effects that became due, unless a
// flush, a running effect this write is attributed to, or an open batch
// will run them. It raises the first panic of those effects, after all ran.
func (w *Writer) Commit() {
	n := w.n
	d := w.d
	if d == nil {
		n.changedAt.Store(n.changedAt.Load() + 1)
		w.st.Unlock()
		if observing.Load() {
			hookWrite(n)
		}
		return
	}
	n.changedAt.Store(w.e)
	var f *flush
	if len(d.queue) > 0 && d.flushers == 0 && !w.attach(d) {
		if m := dueMark(); m == 0 || !holdForBatch(d, m) {
			f = startFlush(d, false)
		}
	}
	if observing.Load() {
		d.mu.Unlock()
		d = nil
		if f != nil {
			hookBeforeRun(f, n)
		} else {
			hookWrite(n)
		}
	}
	if f != nil {
		f.run(d) // the flush starts with the lock the write holds
	} else if d != nil {
		d.mu.Unlock()
	}
}

// hookBeforeRun reports a write of n to the tracer before f, which it
// started, runs: if the tracer calls runtime.Goexit, f runs on a new
// goroutine, so that its domains do not wait for it forever. Lock not held.
func hookBeforeRun(f *flush, n *Node) {
	returned := false
	defer func() {
		if !returned {
			f.interrupted()
		}
	}()
	hookWrite(n)
	returned = true
}

// attach hands d's queue to the flush of the running effect this write is
// attributed to, if any, and reports whether it did. Lock held.
func (w *Writer) attach(d *domain) bool {
	e := w.ctx
	if e == nil {
		// The effect that wrote n during its first run, if it runs now.
		if e = w.n.writer.Load(); e == nil || e.flags.Load()&fRunning == 0 {
			return false
		}
	}
	f := e.fl.Load()
	return f != nil && f.attach(d)
}
