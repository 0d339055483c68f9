package core

// Subscriber lists and marking. Everything here runs under the domain lock.

// subscribe puts l into its dependency's subscriber list; a computed that
// gains its first subscriber becomes live and subscribes in turn.
func subscribe(d *domain, l *Link) {
	dep := l.dep
	l.nextSub = nil
	l.prevSub = dep.subsTail
	l.subscribed = true
	if dep.subsTail != nil {
		dep.subsTail.nextSub = l
	} else {
		dep.subs = l
		if dep.flags.Load()&fWatched != 0 {
			noteWatch(dep)
		}
		if dep.kind() != kindSignal {
			activate(d, dep.asSub())
		}
	}
	dep.subsTail = l
	if dep.kind() != kindSignal && dep.flags.Load()&fPending != 0 {
		// A marked dependency (made live not known to be current, or
		// claimed): marks stop at a marked node, so the next write would
		// not reach l.sub. Everything live above a marked node is marked.
		mark(d, l.sub)
	}
}

// activate makes c live: from now on writes mark it, so it must not be
// trusted before it checked its dependencies once more, unless it was
// current. A claimed c subscribes its links when its run commits.
func activate(d *domain, c *Sub) {
	f := c.flags.Load()
	if f&fComputing != 0 {
		c.flags.Store(f | fLive | fPending | fRelink)
		return
	}
	if !c.currentIn(d) {
		f |= fPending
	}
	c.flags.Store(f | fLive)
	for l := c.deps; l != nil; l = l.nextDep {
		if !l.subscribed {
			subscribe(d, l)
		}
	}
}

// unsubscribe takes l out of its dependency's subscriber list; a computed
// left without subscribers stops being live and lets go of its sources.
func unsubscribe(d *domain, l *Link) {
	dep := l.dep
	if l.prevSub != nil {
		l.prevSub.nextSub = l.nextSub
	} else {
		dep.subs = l.nextSub
	}
	if l.nextSub != nil {
		l.nextSub.prevSub = l.prevSub
	} else {
		dep.subsTail = l.prevSub
	}
	l.prevSub, l.nextSub, l.subscribed = nil, nil, false
	if dep.subs == nil {
		if dep.flags.Load()&fWatched != 0 {
			noteWatch(dep)
		}
		if dep.kind() != kindSignal {
			deactivate(d, dep.asSub())
		}
	}
}

// deactivate makes c unobserved: writes no longer reach it, so it keeps
// what it knew as the epoch at which it was checked. A claimed c
// unsubscribes its links when its run commits.
func deactivate(d *domain, c *Sub) {
	f := c.flags.Load()
	if f&fComputing != 0 {
		c.flags.Store(f&^fLive | fRelink)
		return
	}
	if f&(fPending|fHasValue) == fHasValue {
		c.checkedAt.Store(d.epoch.Load()) // it was current
	}
	c.flags.Store(f &^ (fLive | fPending))
	for l := c.deps; l != nil; l = l.nextDep {
		if l.subscribed {
			unsubscribe(d, l)
		}
	}
}

// fixLinks ends a run's dependency tracking: it drops the links past the
// cursor (read last time, not this time), then subscribes new links if s is
// live and unsubscribes every link if it no longer is. Claim held.
func fixLinks(d *domain, s *Sub) {
	var rest *Link
	if s.depsTail == nil {
		rest, s.deps = s.deps, nil
	} else {
		rest, s.depsTail.nextDep = s.depsTail.nextDep, nil
	}
	for l := rest; l != nil; {
		next := l.nextDep
		if l.subscribed {
			unsubscribe(d, l)
		}
		s.recycle(l)
		l = next
	}
	if f := s.flags.Load(); s.fresh > 0 || f&fRelink != 0 {
		s.flags.Store(f &^ fRelink)
		resubscribe(d, s)
	}
	s.fresh = 0
	s.seenOn = false
	if s.runs == 0 && s.seen != nil {
		// A first run indexes all its reads once they are many; the next
		// runs usually repeat its order and need no index. Runs after
		// the first that needed one keep it, so that functions whose
		// reads move do not allocate one per run.
		s.seen = nil
	}
}

// resubscribe puts every link of s in its dependency's subscriber list if s
// is live, and takes every one out if it is not.
func resubscribe(d *domain, s *Sub) {
	live := s.live()
	for l := s.deps; l != nil; l = l.nextDep {
		switch {
		case live && !l.subscribed:
			subscribe(d, l)
		case !live && l.subscribed:
			unsubscribe(d, l)
		}
	}
}

// dropDeps unlinks every dependency of s. s not claimed, or claimed by the
// caller.
func dropDeps(d *domain, s *Sub) {
	s.depsTail = nil
	fixLinks(d, s)
}

// propagate marks the live subscribers reachable from l as possibly changed
// and queues the effects among them. Nothing is recomputed here: values are
// pulled when read.
func propagate(d *domain, l *Link) {
	for ; l != nil; l = l.nextSub {
		mark(d, l.sub)
	}
}

// mark marks s as possibly changed, and everything live below it; an
// effect is queued unless it is claimed, stopped or queued already.
func mark(d *domain, s *Sub) {
	f := s.flags.Load()
	if f&fPending != 0 {
		return // already marked, and so is everything below it
	}
	if f&kindMask == kindEffect {
		if f&(fQueued|fComputing|fStopped) == 0 {
			s.flags.Store(f | fPending | fQueued)
			s.due = dueMark()
			d.queue = append(d.queue, s)
			return
		}
		s.flags.Store(f | fPending)
		return
	}
	s.flags.Store(f | fPending)
	if s.subs != nil {
		propagate(d, s.subs)
	}
}
