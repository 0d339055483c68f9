// Package core is the untyped engine under package signals: nodes, links,
// domains, propagation, refresh, flushes and batches. Its synchronization
// protocol is described in DESIGN.md, next to this file.
package core

import (
	"sync/atomic"
	"unsafe"
)

// Flag bits of Node.flags. Writes happen under the node's domain lock (or,
// for a signal without a domain, its stripe lock); reads may be lock-free.
// The low bits are the engine's; FlagUser and above belong to the typed
// layer, fixed before the node is shared.
const (
	kindSignal   uint32 = 0
	kindComputed uint32 = 1
	kindEffect   uint32 = 2
	kindMask     uint32 = 3

	// fPending: a live subscriber was told that a dependency may have
	// changed; it must check its dependencies before it is current again.
	fPending uint32 = 1 << 2
	// fComputing: the node is claimed: a computed being checked or
	// recomputed, an effect being checked or run. Its dependency list
	// belongs to the claim's holder.
	fComputing uint32 = 1 << 3
	// fHasValue: the node has completed at least one run.
	fHasValue uint32 = 1 << 4
	// fPanicked: the cached result of a computed is a panic value.
	fPanicked uint32 = 1 << 5
	// fQueued: the effect is in its domain's queue.
	fQueued uint32 = 1 << 6
	// fStopped: the effect was stopped.
	fStopped uint32 = 1 << 7
	// fDisposed: the stopped effect let go of its dependencies.
	fDisposed uint32 = 1 << 8
	// fLive: the computed's links sit in its dependencies' subscriber
	// lists, because something live depends on it; writes mark it.
	fLive uint32 = 1 << 9
	// fBlocking: a flush left effects queued until this claim ends; the
	// claim's holder flushes the domain when it releases it.
	fBlocking uint32 = 1 << 10
	// fRunning: the claimed effect's cleanups or function are running (as
	// opposed to its dependencies being checked).
	fRunning uint32 = 1 << 11
	// fRelink: the computed became live, or stopped being live, while it
	// was claimed; the claim's end subscribes or unsubscribes its links.
	fRelink uint32 = 1 << 12
	// fWatched: gaining the first live subscriber and losing the last are
	// reported to WatchHook (watch.go); fWatchOn: the state last reported
	// was "observed"; fWatchQueued: the node is in its domain's watch
	// queue or being delivered.
	fWatched     uint32 = 1 << 13
	fWatchOn     uint32 = 1 << 14
	fWatchQueued uint32 = 1 << 15

	// FlagUser is the first bit the typed layer may use.
	FlagUser uint32 = 1 << 16
)

// Node is what every dependency is: a signal, or the head of a Sub.
type Node struct {
	// subs lists the live subscribers (effects, and computeds something
	// live depends on). Domain lock.
	subs, subsTail *Link
	// dom is the node's domain, nil for a signal nothing ever read
	// through a Tracker. Changed only by adoption and path compression.
	dom atomic.Pointer[domain]
	// changedAt is the domain epoch of the node's latest change; it
	// strictly increases.
	changedAt atomic.Uint64
	flags     atomic.Uint32
	// Tag is the typed layer's: for signals, which describer shows it.
	Tag uint32
	// writer is the effect that wrote this signal during its first run or
	// its Stop's cleanups: its later writes are batched with its flush.
	writer atomic.Pointer[Sub]
}

// Link is one edge: sub read dep during its latest run. It sits in sub's
// dependency list (singly linked, in read order) and, while sub is live, in
// dep's subscriber list (doubly linked). A link always belongs to the same
// sub; it is recycled only within it.
type Link struct {
	dep     *Node
	sub     *Sub
	nextDep *Link // claim holder (or domain lock when unclaimed)
	// prevSub, nextSub: dep's subscriber list. Domain lock.
	prevSub, nextSub *Link
	// stamp is the run stamp of the sub's latest run that used the
	// value read through this link. Claim holder.
	stamp uint32
	// subscribed: the link is in dep's subscriber list. Domain lock.
	subscribed bool
}

// Impl is the typed half of a computed or an effect. The engine calls its
// methods without holding any lock unless a method says otherwise.
type Impl interface {
	// Compute runs the user's function. A computed keeps the result as a
	// pending value until Settle, and if compare is set reports whether it
	// differs from the committed value (the user's equality); otherwise
	// changed is true.
	Compute(t *Tracker, compare bool) (changed bool)
	// Settle makes the pending value current if keep is set, and drops it
	// either way. Domain lock held.
	Settle(keep bool)
}

// Disposer is implemented by an effect's Impl that wants to know when the
// effect is done: the engine calls Disposed exactly once per effect, after
// the effect was stopped, its last run (or check) returned and its cleanups
// ran (even if they panicked). It may be called with a domain lock held, so
// it must not block or call into the engine.
type Disposer interface {
	Disposed()
}

// Sub is a node that reads others: a computed or an effect.
type Sub struct {
	Node
	// deps lists what the latest run read, in order. During a run,
	// depsTail is the cursor: the last link confirmed by this run.
	deps, depsTail *Link
	// spare holds unused links for reuse by this sub's next runs.
	spare  *Link
	nSpare int32
	// runStamp numbers this sub's runs, for Link.stamp.
	runStamp uint32
	// checkedAt is the epoch at which the node was last known to be up to
	// date with all of its dependencies. Written under the domain lock.
	checkedAt atomic.Uint64
	// readEpoch is, during a run, an epoch at which every value used so
	// far was current; readDom is the domain it is an epoch of.
	readEpoch uint64
	readDom   *domain
	// seen indexes this run's links by dependency once they are many,
	// so that duplicate reads are found in constant time.
	seen   map[*Node]*Link
	seenOn bool
	// plain: the run is not aborted and does not index its links, so
	// Track may take its fast path.
	plain bool
	fresh int32 // links made since the last commit, not yet subscribed
	// claimGen orders this claim among the domain's claims and flushes.
	claimGen uint64
	// parent is the evaluation this one was started from, child the one
	// started from it, and waitingFor the computation it waits for: the
	// chains in which cycles are looked for. Domain lock.
	parent, child, waitingFor *Sub
	impl                      Impl
	tr, utr                   Tracker
	// errp is the cached panic of a computed.
	errp atomic.Pointer[panicBox]
	// id orders effects by creation.
	id uint64
	// due is the highest batch ticket open when the effect was queued.
	due uint64
	// cleanups run before the effect's next run and at its end. Domain
	// lock.
	cleanups []func()
	// sched, if set, decides when a due effect runs; job is what it calls.
	sched func(job func())
	job   func()
	// fl is the flush running the effect, while it runs: writes
	// attributed to the effect join it.
	fl atomic.Pointer[flush]
	// written lists the signals whose writer is this effect. Attribution
	// registry lock.
	written []*Node
	// Name is an optional label for messages and debugging output.
	Name string
	// abort is the panic value that unwinds this sub's run; aborted says
	// the run must not continue.
	abort    abortRun
	aborted  bool
	rerun    bool // an effect's run used a value that changed meanwhile
	inRun    bool // a claimed computed is running its function. Domain lock.
	gatedRun bool // its run holds the writer gate (owner)
	attempts uint8
	gated    uint8
	// selfFed counts consecutive scheduled runs that made the effect due
	// again.
	selfFed int32
	stats
}

// panicBox holds a cached panic value.
type panicBox struct{ v any }

// abortRun is the panic value that unwinds a run that must start again
// (its reads went stale) or leave the effect queued (it would wait for a
// computation that may be its own caller).
type abortRun struct{ s *Sub }

// Tracker is the evaluation context handed to user functions.
type Tracker struct {
	sub       *Sub
	untracked bool
	effect    bool // immutable copy of the kind
}

// IsEffect reports whether t belongs to an effect.
func (t *Tracker) IsEffect() bool { return t.effect }

// Impl returns the typed half of the computation t belongs to. It reads a
// field fixed at creation, so it needs no lock.
func (t *Tracker) Impl() Impl { return t.sub.impl }

// Untracked returns the untracked view of the same evaluation.
func (t *Tracker) Untracked() *Tracker { return &t.sub.utr }

// Impl returns the typed half of the node.
func (s *Sub) Impl() Impl { return s.impl }

// asSub returns the Sub that n heads. n must not be a signal.
func (n *Node) asSub() *Sub { return (*Sub)(unsafe.Pointer(n)) }

func (n *Node) kind() uint32 { return n.flags.Load() & kindMask }

// Sub returns the Sub n heads, or nil for a signal.
func (n *Node) Sub() *Sub {
	if n.kind() == kindSignal {
		return nil
	}
	return n.asSub()
}

// Flags returns the node's flag word.
func (n *Node) Flags() uint32 { return n.flags.Load() }

// SetUserFlags sets flag bits at or above FlagUser. Call it before the node is
// shared.
func (n *Node) SetUserFlags(f uint32) { n.flags.Or(f &^ (FlagUser - 1)) }

// ChangedAt returns the node's change stamp: it differs after every change.
func (n *Node) ChangedAt() uint64 { return n.changedAt.Load() }

// setFlags and clearFlags change flags. Domain lock held.
func (n *Node) setFlags(f uint32)   { n.flags.Store(n.flags.Load() | f) }
func (n *Node) clearFlags(f uint32) { n.flags.Store(n.flags.Load() &^ f) }

// InitComputed prepares a zero Sub as a computed backed by impl.
func InitComputed(s *Sub, impl Impl, flags uint32) {
	initSub(s, impl, kindComputed|flags)
}

// InitEffect prepares a zero Sub as an effect backed by impl. If sched is
// not nil, the effect's runs after the first are handed to it instead of
// running in the flush; job must call RunScheduled.
func InitEffect(s *Sub, impl Impl, flags uint32, sched func(job func()), job func()) {
	initSub(s, impl, kindEffect|flags)
	s.sched, s.job = sched, job
	s.id = effectIDs.Add(1)
	s.dom.Store(newDomain())
}

// effectIDs numbers effects in creation order.
var effectIDs atomic.Uint64

func initSub(s *Sub, impl Impl, flags uint32) {
	s.flags.Store(flags)
	s.impl = impl
	s.abort.s = s
	effect := flags&kindMask == kindEffect
	s.tr = Tracker{sub: s, effect: effect}
	s.utr = Tracker{sub: s, untracked: true, effect: effect}
}

func (s *Sub) isEffect() bool { return s.flags.Load()&kindMask == kindEffect }

// live reports whether s's links sit in its dependencies' subscriber lists.
// Domain lock held.
func (s *Sub) live() bool {
	f := s.flags.Load()
	if f&kindMask == kindEffect {
		return f&fDisposed == 0
	}
	return f&fLive != 0
}
