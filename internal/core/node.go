package core

// Flag bits of Node.flags. The low bits are the engine's; FlagUser and above
// belong to the typed layer, which may use them for per-node options.
const (
	kindSignal   uint32 = 0
	kindComputed uint32 = 1
	kindEffect   uint32 = 2
	kindMask     uint32 = 3

	// fPending: a live subscriber was told that a dependency may have
	// changed; it must check its dependencies before it is current again.
	fPending uint32 = 1 << 2
	// fComputing: a computed is being checked or recomputed (readers from
	// other goroutines wait), or an effect is running.
	fComputing uint32 = 1 << 3
	// fHasValue: the node has completed at least one run.
	fHasValue uint32 = 1 << 4
	// fPanicked: the cached result of a computed is a panic value.
	fPanicked uint32 = 1 << 5
	// fQueued: the effect is in the flush queue.
	fQueued uint32 = 1 << 6
	// fStopped: the effect was stopped.
	fStopped uint32 = 1 << 7
	// fDisposed: the stopped effect let go of its dependencies.
	fDisposed uint32 = 1 << 8

	// FlagUser is the first bit the typed layer may use.
	FlagUser uint32 = 1 << 16
)

// Node is what every dependency is: a signal, or the head of a computed.
// Subscribers that are live (effects, and computeds that something live
// depends on) are linked from subs; other readers are not, so that an
// unobserved computed can be garbage-collected while its sources live on.
type Node struct {
	subs, subsTail *Link
	// changedAt is the epoch of the write after which the node's value
	// last changed. A subscriber verified at epoch e is out of date with
	// respect to this node exactly when changedAt > e.
	changedAt uint64
	flags     uint32
	// Tag is the typed layer's: for signals, which describer shows it.
	Tag uint32
	// sub is the Sub that embeds this Node, nil for signals.
	sub *Sub
}

// Flags returns the node's flag word. Lock held.
func (n *Node) Flags() uint32 { return n.flags }

// SetUserFlags sets flag bits at or above FlagUser. Call it before the node is
// shared.
func (n *Node) SetUserFlags(f uint32) { n.flags |= f &^ (FlagUser - 1) }

// Link is one edge: sub read dep during its latest run. It sits in sub's
// dependency list (singly linked, in read order) and, while sub is live, in
// dep's subscriber list (doubly linked).
type Link struct {
	dep              *Node
	sub              *Sub
	nextDep          *Link
	prevSub, nextSub *Link
}

// Impl is the typed half of a computed or an effect. The engine calls its
// methods without holding the lock unless a method says otherwise.
type Impl interface {
	// Compute runs the user's function. A computed keeps the result as a
	// pending value until Settle, and if compare is set reports whether it
	// differs from the committed value (the user's equality); otherwise
	// changed is true.
	Compute(t *Tracker, compare bool) (changed bool)
	// Settle makes the pending value current if keep is set, and drops it
	// either way. Lock held.
	Settle(keep bool)
}

// Sub is a node that reads others: a computed or an effect.
type Sub struct {
	Node
	// deps lists what the latest run read, in order. During a run,
	// depsTail is the cursor: the last link confirmed by this run.
	deps, depsTail *Link
	// checkedAt is the epoch at which the node was last known to be up
	// to date with all of its dependencies.
	checkedAt uint64
	// readEpoch is, during a run, the epoch at which every value read so
	// far was verified to be current.
	readEpoch uint64
	// seq orders the starts of evaluations and flushes.
	seq  uint64
	impl Impl
	// parent is the evaluation this one was started from, child the one
	// started from it, and waitingFor the computation it waits for: the
	// chains in which cycles are looked for.
	parent, child, waitingFor *Sub
	tr, utr                   Tracker
	// err is the cached panic value of a computed.
	err any
	// id orders effects by creation.
	id       uint64
	cleanups []func()
	// sched, if set, decides when a due effect runs; job is what it calls.
	sched func(job func())
	job   func()
	// Name is an optional label for messages and debugging output.
	Name     string
	attempts uint8
	aborted  bool
	noVerify bool
	stats
}

// Tracker is the evaluation context handed to user functions.
type Tracker struct {
	sub       *Sub
	untracked bool
	effect    bool // immutable copy of the kind, readable without the lock
}

// IsEffect reports whether t belongs to an effect.
func (t *Tracker) IsEffect() bool { return t.effect }

// Untracked returns the untracked view of the same evaluation.
func (t *Tracker) Untracked() *Tracker { return &t.sub.utr }

// Impl returns the typed half of the computed or effect whose evaluation t
// belongs to. It is fixed when the node is initialized, so it needs no lock.
func (t *Tracker) Impl() Impl { return t.sub.impl }

// Impl returns the typed half of the node.
func (s *Sub) Impl() Impl { return s.impl }

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
	mu.Lock()
	nextID++
	s.id = nextID
	mu.Unlock()
}

func initSub(s *Sub, impl Impl, flags uint32) {
	s.flags = flags
	s.sub = s
	s.impl = impl
	effect := flags&kindMask == kindEffect
	s.tr = Tracker{sub: s, effect: effect}
	s.utr = Tracker{sub: s, untracked: true, effect: effect}
}

// live reports whether s's links sit in its dependencies' subscriber lists.
func (s *Sub) live() bool {
	if s.flags&kindMask == kindEffect {
		return s.flags&fDisposed == 0
	}
	return s.subs != nil
}

// liveCurrent is the cheap, inlinable part of current: a live computed
// that nothing marked and nobody computes. Lock held.
func (s *Sub) liveCurrent() bool {
	return s.flags&(fHasValue|fPending|fComputing) == fHasValue && s.subs != nil
}

// current reports whether a computed's cached result may be returned as is.
func (s *Sub) current() bool {
	if s.flags&fHasValue == 0 {
		return false
	}
	if s.subs != nil {
		return s.flags&fPending == 0
	}
	return s.checkedAt == epoch
}

// ChangedAt returns the epoch of the node's latest change. Lock held.
func (n *Node) ChangedAt() uint64 { return n.changedAt }
