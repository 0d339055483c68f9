package core

import (
	"sync"
	"sync/atomic"
)

// Observation hooks: what the typed layer needs for Preact's watched /
// unwatched and MobX's onBecomeObserved / onBecomeUnobserved.
//
// A node marked with Watch has its observation reported: it is observed
// while it has a live subscriber (an effect that depends on it, directly or
// through computeds), that is while its subscriber list is not empty. When
// such a node gains its first live subscriber or loses its last one, the
// engine (in subscribe and unsubscribe, domain lock held) queues the node.
// The queue is delivered to WatchHook:
//
//   - without any lock held;
//   - by the call that made the change, after the effects it runs, before it
//     returns: a write, a read from outside any evaluation, NewEffect, Stop,
//     a scheduled run; if a Batch is open, by the end of the last open one;
//     if a flush of that graph is under way on another goroutine, by that
//     flush when it ends;
//   - for one node, in order and never concurrently: while a node is queued
//     or being delivered it is not queued again, and the deliverer loops
//     until the state it last reported equals the node's current state, so
//     calls alternate observed = true, false, true, ... starting with true,
//     and quick flips between deliveries may be coalesced.
//
// If WatchHook does not return normally (runtime.Goexit), the node is
// queued again if its state still differs from the state reported, and a
// later delivery carries on.

// WatchHook receives the observation changes of nodes marked with Watch.
// The typed layer sets it once, before any node is marked. It is called
// without any lock held and must not panic; it may call into the engine.
var WatchHook func(n *Node, observed bool)

// watches queues the nodes whose observation changed, process-wide: such
// changes are rare, and a batch defers them like effects.
var watches struct {
	n  atomic.Int32 // len(q), read without the lock
	mu sync.Mutex   // leaf
	q  []*Node
}

// Watch marks n so that its observation changes are reported to WatchHook.
// Call it before n is shared.
func (n *Node) Watch() { n.flags.Or(fWatched) }

// noteWatch queues a marked node whose subscriber list just became empty
// or not empty. Domain lock held.
func noteWatch(n *Node) {
	if f := n.flags.Load(); f&fWatchQueued == 0 {
		n.flags.Store(f | fWatchQueued)
		watches.mu.Lock()
		watches.q = append(watches.q, n)
		watches.n.Store(int32(len(watches.q)))
		watches.mu.Unlock()
	}
}

// deliverWatches hands the queued observation changes to WatchHook, unless
// a batch is open (its end delivers them) or a flush of the node's graph is
// under way (its end does). A node left to a flush goes back to the queue
// at once, under its domain's lock: the flush's end then finds it, even
// while this call is in another node's hook. Passes repeat while they
// deliver something. Lock not held.
func deliverWatches() {
	for watches.n.Load() > 0 && !batchesOpen() {
		watches.mu.Lock()
		pass := watches.q
		watches.q = nil
		watches.n.Store(0)
		watches.mu.Unlock()
		if !deliverPass(pass) {
			return
		}
	}
}

// deliverPass delivers the nodes of pass, taken from the queue, and
// reports whether it delivered any. If a hook calls runtime.Goexit, the
// nodes after its own go back to the queue. Lock not held.
func deliverPass(pass []*Node) (delivered bool) {
	i := 0
	defer func() {
		if i < len(pass) { // runtime.Goexit in a hook
			for _, n := range pass[i+1:] {
				requeueWatch(n)
			}
			go deliverWatches() // this goroutine is ending
		}
	}()
	for ; i < len(pass); i++ {
		n := pass[i]
		d := lockDom(n)
		if d.flushers > 0 {
			requeueWatch(n)
		} else {
			d = deliverNode(d, n)
			delivered = true
		}
		d.mu.Unlock()
	}
	return delivered
}

// requeueWatch puts back a node taken from the queue, still marked queued.
func requeueWatch(n *Node) {
	watches.mu.Lock()
	watches.q = append(watches.q, n)
	watches.n.Store(int32(len(watches.q)))
	watches.mu.Unlock()
}

// deliverNode reports n's changes until the state last reported is its
// current state. d locked; released around the hook.
func deliverNode(d *domain, n *Node) *domain {
	for {
		on := n.subs != nil
		f := n.flags.Load()
		if on == (f&fWatchOn != 0) || WatchHook == nil {
			n.flags.Store(f &^ fWatchQueued)
			return d
		}
		n.flags.Store(f ^ fWatchOn)
		d.mu.Unlock()
		callWatchHook(n, on)
		d = lockDom(n)
	}
}

// callWatchHook calls WatchHook(n, on) without a lock. If the hook unwinds
// the goroutine instead of returning (runtime.Goexit), n is queued again
// when its state still differs from the one reported.
func callWatchHook(n *Node, on bool) {
	returned := false
	defer func() {
		if returned {
			return
		}
		d := lockDom(n)
		n.clearFlags(fWatchQueued)
		if (n.subs != nil) != (n.flags.Load()&fWatchOn != 0) {
			noteWatch(n)
		}
		d.mu.Unlock()
	}()
	WatchHook(n, on)
	returned = true
}
