package core

// Observation hooks: what the typed layer needs for Preact's watched /
// unwatched and MobX's onBecomeObserved / onBecomeUnobserved.
//
// A node marked with Watch has its observation reported: it is observed
// while it has a live subscriber (an effect that depends on it, directly or
// through computeds), that is while its subscriber list is not empty. When
// such a node gains its first live subscriber or loses its last one, the
// engine (in subscribe / unsubscribe, lock held) queues the node. The queue
// is delivered to WatchHook:
//
//   - without the lock held;
//   - where effects would be run, after them: by the call that made the
//     change (a write, a read from outside any evaluation, NewEffect, Stop,
//     the end of the outermost Batch, a scheduled run) before it returns,
//     unless a Batch is open or a flush is under way, in which case the end
//     of that batch or flush delivers it;
//   - for one node, in order and never concurrently: while a node is queued
//     or being delivered it is not queued again, and the deliverer loops
//     until the state it last reported equals the node's current state, so
//     calls alternate observed = true, false, true, ... starting with true,
//     and quick flips between deliveries may be coalesced (true, false,
//     true becomes nothing more if true was the last state reported).
//
// If WatchHook does not return normally (runtime.Goexit; it must not
// panic), the node is queued again if its state still differs from the
// state reported, and the delivery stops; a later delivery point carries on.

// WatchHook receives the observation changes of nodes marked with Watch.
// The typed layer sets it once, before any node is marked. It is called
// without the lock held and must not panic; it may call back into the
// engine.
var WatchHook func(n *Node, observed bool)

// watchQ holds, from watchHead on, the nodes whose observation changed and
// that no goroutine is delivering yet. Lock held.
var (
	watchQ    []*Node
	watchHead int
)

// Watch marks n so that its observation changes are reported to WatchHook.
// Call it before n is shared.
func (n *Node) Watch() { n.flags |= fWatched }

// noteWatch queues a marked node whose subscriber list just became empty or
// not empty. Lock held.
func noteWatch(n *Node) {
	if n.flags&fWatchQueued == 0 {
		n.flags |= fWatchQueued
		watchQ = append(watchQ, n)
	}
}

// unlockWatched releases the lock at the end of a call, delivering queued
// observation changes first if effects could run here (no batch open, no
// flush under way). Lock held on entry, released on return.
func unlockWatched() {
	if len(watchQ) > watchHead && batchDepth == 0 && !flushing {
		deliverWatched()
	}
	mu.Unlock()
}

// deliverWatched hands every queued node's changes to WatchHook. Lock held
// on entry and on return; released around the hook.
func deliverWatched() {
	for len(watchQ) > watchHead {
		n := watchQ[watchHead]
		watchQ[watchHead] = nil
		watchHead++
		if watchHead == len(watchQ) {
			watchQ, watchHead = watchQ[:0], 0
		}
		deliverNode(n)
	}
}

// deliverNode reports n's changes until the state last reported is its
// current state. Lock held on entry and on return; released around the
// hook.
func deliverNode(n *Node) {
	for {
		on := n.subs != nil
		if on == (n.flags&fWatchOn != 0) || WatchHook == nil {
			n.flags &^= fWatchQueued
			return
		}
		n.flags ^= fWatchOn
		callWatchHook(n, on)
	}
}

// callWatchHook calls WatchHook(n, on) with the lock released. If the hook
// unwinds the goroutine instead of returning (runtime.Goexit, or a panic),
// n is queued again when its state still differs from the one reported,
// and the unwinding continues with the lock released. Lock held on entry
// and on a normal return.
func callWatchHook(n *Node, on bool) {
	mu.Unlock()
	returned := false
	defer func() {
		if returned {
			return
		}
		mu.Lock()
		n.flags &^= fWatchQueued
		if (n.subs != nil) != (n.flags&fWatchOn != 0) {
			noteWatch(n)
		}
		mu.Unlock()
	}()
	WatchHook(n, on)
	returned = true
	mu.Lock()
}
