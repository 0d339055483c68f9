package core

import (
	"errors"
	"sync"
)

// All graph state is guarded by one mutex. It is never held while user code
// runs: every call into a compute, effect, equality or cleanup function
// releases it first, so such code may read and write freely.
var (
	mu   sync.Mutex
	cond = sync.Cond{L: &mu}
	// waiters counts goroutines blocked in cond for a computation.
	waiters int

	// epoch counts the writes that changed a value.
	epoch uint64 = 1
	// seq orders evaluation and flush starts.
	seq uint64
	// blocker is the computation that most recently kept a flush from
	// checking an effect.
	blocker *Sub

	batchDepth int
	flushing   bool
	flushSeq   uint64
	queue      []*Sub
	spare      []*Sub
	nextID     uint64

	freeLinks *Link
	nFree     int
)

// ErrCycle is wrapped by every cycle and runaway-loop panic. Package
// signals replaces it with its own at init.
var ErrCycle = errors.New("signals: cycle")

// Lock acquires the graph lock.
func Lock() { mu.Lock() }

// Unlock releases the graph lock.
func Unlock() { mu.Unlock() }

// finish ends a computation claimed with fComputing: waiters may proceed.
func finish(c *Sub) {
	c.flags &^= fComputing
	if p := c.parent; p != nil && p.child == c {
		p.child = nil
	}
	c.parent = nil
	if waiters > 0 {
		cond.Broadcast()
	}
}

// wait blocks until some computation finishes. ctx is the evaluation that
// waits, recorded so that other goroutines can see cycles through it.
func wait(ctx, x *Sub) {
	if ctx != nil {
		ctx.waitingFor = x
	}
	waiters++
	cond.Wait()
	waiters--
	if ctx != nil {
		ctx.waitingFor = nil
	}
}

// inChain reports whether x is ctx or one of the evaluations ctx runs inside.
func inChain(ctx, x *Sub) bool {
	for p := ctx; p != nil; p = p.parent {
		if p == x {
			return true
		}
	}
	return false
}

// waitCloses reports whether waiting for x, which another goroutine computes,
// would close a cycle: that goroutine waits, directly or through others, for
// an evaluation in ctx's chain.
func waitCloses(ctx, x *Sub) bool {
	if ctx == nil {
		return false
	}
	y := x
	for range 1 << 16 {
		for y.child != nil {
			y = y.child
		}
		w := y.waitingFor
		if w == nil {
			return false
		}
		if inChain(ctx, w) {
			return true
		}
		y = w
	}
	return false
}
