package core

// WriteAndUnlock records that signal n took a new value, marks everything
// live downstream of it, releases the lock and, unless a batch or another
// flush is under way, runs the effects that became due. Lock held on entry.
func WriteAndUnlock(n *Node) {
	epoch++
	n.changedAt = epoch
	if n.subs != nil {
		propagate(n.subs)
	}
	if observing.Load() {
		if h := hooks.Load(); h != nil && h.Write != nil {
			mu.Unlock()
			h.Write(n)
			mu.Lock()
		}
	}
	if len(queue) > 0 && batchDepth == 0 && !flushing {
		flush() // releases the lock
		return
	}
	unlockWatched()
}

// propagate marks the live subscribers reachable from l as possibly changed
// and queues the effects among them. Nothing is recomputed here: values are
// pulled when read.
func propagate(l *Link) {
	for ; l != nil; l = l.nextSub {
		mark(l.sub)
	}
}

// mark marks s as possibly changed, and everything live below it; an
// effect is queued unless it is running, stopped or queued already.
func mark(s *Sub) {
	f := s.flags
	if f&fPending != 0 {
		return // already marked, and so is everything below it
	}
	s.flags = f | fPending
	if f&kindMask == kindEffect {
		if f&(fQueued|fComputing|fStopped) == 0 {
			s.flags |= fQueued
			queue = append(queue, s)
		}
	} else if s.subs != nil {
		propagate(s.subs)
	}
}
