package core

// Reads made by a running compute or effect function. The run's dependency
// list belongs to the goroutine running it (it holds the claim), so tracking
// takes no lock; only the first read of a node from another domain does.

// Retrack is Track's common cases, small enough to be inlined in the typed
// Get methods: a read that repeats the previous run's order, or the node
// just read, read again. It returns nil otherwise; then call Track.
func Retrack(t *Tracker, n *Node) *Link {
	s := t.sub
	cur := s.depsTail
	if cur == nil || !s.plain || t.untracked || n.dom.Load() != s.readDom {
		return nil
	}
	if next := cur.nextDep; next != nil && next.dep == n {
		s.depsTail = next
		return next
	}
	if cur.dep == n {
		return cur
	}
	return nil
}

// Track records that the run behind t reads n: it makes n part of the run's
// domain and, for a tracked read, links it as a dependency. It returns the
// link, nil for an untracked read; pass it to Check once the value is
// loaded. It handles every case; callers on a hot path try Retrack first
// and call Track only if that returns nil, so Track does not try it again.
// Lock not held. Panics with the run's abort value if the run was aborted.
func Track(t *Tracker, n *Node) *Link {
	s := t.sub
	if s.aborted {
		panic(&s.abort)
	}
	if s.gatedRun {
		gateProgress.Add(1) // writers held back by the gate keep waiting
	}
	if d := n.dom.Load(); d == nil || d != s.readDom {
		if r := join(s, n); r != s.readDom {
			s.readDom = r // a new epoch: the next Check revalidates
		}
	}
	if t.untracked {
		return nil
	}
	return link(s, n)
}

// Check reports whether the value that the run behind t loaded after Track
// may be used: every value the run used so far, and this one, were current
// at one moment. If it reports false, load the value again and call Check
// again. A computed's run whose used values changed is aborted (Check
// panics with its abort value, and the engine runs it again); an effect
// whose used values changed runs again after this run. Lock not held.
func Check(t *Tracker, l *Link) bool {
	return Checked(t, l) || check2(t, l)
}

// Checked is Check's common case, small enough to be inlined: no write
// happened in the run's domain since its reads were last validated. If it
// reports false, call Check.
func Checked(t *Tracker, l *Link) bool {
	s := t.sub
	if l != nil && s.readDom.epoch.Load() == s.readEpoch {
		l.stamp = s.runStamp
		return true
	}
	return false
}

// check2 is Check for an untracked read, or when the domain's epoch moved.
func check2(t *Tracker, l *Link) bool {
	s := t.sub
	if s.readDom.epoch.Load() == s.readEpoch {
		return true // l is nil
	}
	if t.effect {
		catchUp(s)
	} else {
		revalidate(s)
	}
	return false
}

// catchUp moves an effect's readEpoch to the present after its domain
// changed (a write or a merge), noting whether a value it used changed
// meanwhile: it then runs again. Effects are not restarted: they have side
// effects. Lock not held.
func catchUp(s *Sub) {
	d := root(s.readDom)
	e := d.epoch.Load()
	d = settle(d)
	if !s.rerun && !usedStillCurrent(s) {
		s.rerun = true
	}
	s.readDom, s.readEpoch = d, e
}

// link records that s's current run read n. Reads that repeat the previous
// run's order reuse its links; a dependency read earlier in this run is not
// linked twice.
func link(s *Sub, n *Node) *Link {
	cur := s.depsTail
	next := s.deps
	if cur != nil {
		if cur.dep == n {
			return cur
		}
		next = cur.nextDep
	}
	if next != nil && next.dep == n {
		s.depsTail = next
		if s.seenOn {
			s.seen[n] = next
		}
		return next
	}
	if l := s.findRead(n, cur); l != nil {
		return l
	}
	l := s.newLink(n, next)
	if cur == nil {
		s.deps = l
	} else {
		cur.nextDep = l
	}
	s.depsTail = l
	s.fresh++
	if s.seenOn {
		s.seen[n] = l
	}
	return l
}

// indexAfter is how many links a run reads before duplicates are looked up
// in a map rather than by scanning.
const indexAfter = 8

// findRead returns the link through which this run already read n, or nil.
// cur is the last link of the run so far.
func (s *Sub) findRead(n *Node, cur *Link) *Link {
	switch {
	case cur == nil:
		return nil
	case s.seenOn:
		return s.seen[n]
	}
	k := 0
	for l := s.deps; ; l = l.nextDep {
		if l.dep == n {
			return l
		}
		if l == cur {
			break
		}
		if k++; k == indexAfter {
			return s.index(n, cur)
		}
	}
	return nil
}

// index builds the map of this run's links, up to cur, and looks n up.
func (s *Sub) index(n *Node, cur *Link) *Link {
	if s.seen == nil {
		s.seen = make(map[*Node]*Link, 4*indexAfter)
	} else {
		clear(s.seen)
	}
	for l := s.deps; ; l = l.nextDep {
		s.seen[l.dep] = l
		if l == cur {
			break
		}
	}
	s.seenOn, s.plain = true, false
	return s.seen[n]
}

// maxSpare bounds the links a sub keeps for its next runs.
const maxSpare = 16

func (s *Sub) newLink(n *Node, next *Link) *Link {
	if l := s.spare; l != nil {
		s.spare, s.nSpare = l.nextDep, s.nSpare-1
		l.dep, l.nextDep, l.stamp = n, next, 0
		return l
	}
	return &Link{dep: n, sub: s, nextDep: next}
}

// recycle keeps l, no longer subscribed, for s's next runs.
func (s *Sub) recycle(l *Link) {
	if s.nSpare >= maxSpare {
		l.dep, l.nextDep = nil, nil
		return
	}
	l.dep, l.nextDep = nil, s.spare
	s.spare = l
	s.nSpare++
}

// beginRun prepares s's dependency list for a run. Claim held.
func beginRun(s *Sub, d *domain) {
	s.depsTail = nil
	s.runStamp++
	s.seenOn = false // fresh counts on until fixLinks: an aborted attempt's links stay
	s.aborted = false
	s.plain = true
	s.rerun = false
	s.readDom = d
	s.readEpoch = d.epoch.Load()
}

// keepAllLinks moves the cursor of s's unwound run to the end of its
// dependency list, so that fixLinks keeps the links the run had not reached
// yet. Claim held.
func keepAllLinks(s *Sub) {
	l := s.depsTail
	if l == nil {
		l = s.deps
	}
	for l != nil && l.nextDep != nil {
		l = l.nextDep
	}
	s.depsTail = l
}

// revalidate makes sure that every value s's run used is still current,
// and moves its readEpoch to the present; if one changed it aborts the run.
// Lock not held.
func revalidate(s *Sub) {
	for range 4 {
		d := root(s.readDom)
		e := d.epoch.Load()
		s.readDom = settle(d)
		if !usedStillCurrent(s) {
			abort(s)
		}
		if d.fwd.Load() == nil && d.epoch.Load() == e {
			s.readEpoch = e
			return
		}
	}
	abort(s) // writes keep coming: start again, the gate will help
}

// settle waits until the writes that moved d's epoch so far have ended,
// and returns d's root. A writer moves the epoch on before it stores the
// value and then the node's stamp, all under the domain lock: a run that
// saw the new epoch (or the new value) but checked the stamps before the
// writer stored them would find nothing changed, move its readEpoch past
// the write, and keep a value from before it. Lock not held.
func settle(d *domain) *domain {
	d = lockRoot(d)
	d.mu.Unlock()
	return d
}

// usedStillCurrent reports whether no value s's run used changed since its
// readEpoch, refreshing the computeds among them first. Lock not held.
func usedStillCurrent(s *Sub) bool {
	for l := s.deps; l != nil; l = l.nextDep {
		if l.stamp == s.runStamp {
			n := l.dep
			if n.kind() != kindSignal {
				if c := n.asSub(); !c.current() && !refreshFor(s, c) {
					return false
				}
			}
			if n.changedAt.Load() > s.readEpoch {
				return false
			}
		}
		if l == s.depsTail {
			break
		}
	}
	return true
}

// abort unwinds s's run; the engine starts it again (a computed) or leaves
// it queued (an effect).
func abort(s *Sub) {
	s.aborted, s.plain = true, false
	panic(&s.abort)
}

// isAbortOf reports whether p is the abort of s's run.
func isAbortOf(p any, s *Sub) bool {
	a, ok := p.(*abortRun)
	return ok && a.s == s
}

// current reports, without a lock, whether computed c's cached result may be
// used as is.
func (c *Sub) current() bool {
	f := c.flags.Load()
	if f&(fHasValue|fComputing) != fHasValue {
		return false
	}
	if f&fLive != 0 {
		return f&fPending == 0
	}
	d := c.dom.Load()
	return c.checkedAt.Load() == d.epoch.Load()
}
