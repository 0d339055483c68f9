package core

// maxFree bounds the pool of unused links kept for reuse, so that a graph
// whose dependencies change from run to run does not allocate on every run.
const maxFree = 4096

func newLink(dep *Node, sub *Sub, next *Link) *Link {
	l := freeLinks
	if l == nil {
		return &Link{dep: dep, sub: sub, nextDep: next}
	}
	freeLinks = l.nextDep
	nFree--
	l.dep, l.sub, l.nextDep = dep, sub, next
	return l
}

func freeLink(l *Link) {
	if nFree >= maxFree {
		*l = Link{}
		return
	}
	*l = Link{nextDep: freeLinks}
	freeLinks = l
	nFree++
}

// link records that s's current run read n. Reads that repeat the previous
// run's order reuse its links; a dependency read earlier in this run is not
// linked twice. Lock held.
func link(s *Sub, n *Node) {
	cur := s.depsTail
	next := s.deps
	if cur != nil {
		if cur.dep == n {
			return
		}
		next = cur.nextDep
	}
	if next != nil {
		if next.dep == n {
			s.depsTail = next
			return
		}
		// Read out of the previous order: move the old link up.
		for p, l := next, next.nextDep; l != nil; p, l = l, l.nextDep {
			if l.dep == n {
				p.nextDep = l.nextDep
				l.nextDep = next
				setAfter(s, cur, l)
				return
			}
		}
	}
	for l := s.deps; l != next; l = l.nextDep {
		if l.dep == n {
			return // read before in this run
		}
	}
	l := newLink(n, s, next)
	setAfter(s, cur, l)
	if s.live() {
		subscribe(l)
	}
}

func setAfter(s *Sub, cur, l *Link) {
	if cur == nil {
		s.deps = l
	} else {
		cur.nextDep = l
	}
	s.depsTail = l
}

// purge drops the links past the cursor: what the previous run read and this
// one did not. Lock held.
func purge(s *Sub) {
	var l *Link
	if s.depsTail == nil {
		l, s.deps = s.deps, nil
	} else {
		l, s.depsTail.nextDep = s.depsTail.nextDep, nil
	}
	if l == nil {
		return
	}
	live := s.live()
	for l != nil {
		next := l.nextDep
		if live {
			unsubscribe(l)
		}
		freeLink(l)
		l = next
	}
}

// dropDeps unlinks every dependency of s. Lock held.
func dropDeps(s *Sub) {
	s.depsTail = nil
	purge(s)
}

// subscribe puts l into its dependency's subscriber list; a computed that
// gains its first subscriber becomes live and subscribes in turn.
func subscribe(l *Link) {
	d := l.dep
	l.nextSub = nil
	l.prevSub = d.subsTail
	if d.subsTail != nil {
		d.subsTail.nextSub = l
	} else {
		d.subs = l
		if d.flags&fWatched != 0 {
			noteWatch(d)
		}
		if c := d.sub; c != nil {
			activate(c)
		}
	}
	d.subsTail = l
}

func activate(c *Sub) {
	// Unobserved, c was not told of writes: from now on it must be.
	// Activation follows a fresh read, so c is normally current; if it is
	// not, it must check before its value is trusted again.
	if c.flags&fComputing != 0 || c.flags&fHasValue == 0 || c.checkedAt != epoch {
		c.flags |= fPending
	}
	for l := c.deps; l != nil; l = l.nextDep {
		subscribe(l)
	}
}

// unsubscribe takes l out of its dependency's subscriber list; a computed
// left without subscribers stops being live and lets go of its sources.
func unsubscribe(l *Link) {
	d := l.dep
	if l.prevSub != nil {
		l.prevSub.nextSub = l.nextSub
	} else {
		d.subs = l.nextSub
	}
	if l.nextSub != nil {
		l.nextSub.prevSub = l.prevSub
	} else {
		d.subsTail = l.prevSub
	}
	l.prevSub, l.nextSub = nil, nil
	if d.subs == nil {
		if d.flags&fWatched != 0 {
			noteWatch(d)
		}
		if c := d.sub; c != nil {
			deactivate(c)
		}
	}
}

func deactivate(c *Sub) {
	if c.flags&(fComputing|fPending) == 0 && c.flags&fHasValue != 0 {
		// It was current as a live node; keep that knowledge.
		c.checkedAt = epoch
	}
	c.flags &^= fPending
	for l := c.deps; l != nil; l = l.nextDep {
		unsubscribe(l)
	}
}
