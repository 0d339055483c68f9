package core

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// A domain is the unit of locking: the nodes of one connected component of
// the dependency graph. See DESIGN.md.
type domain struct {
	mu   sync.Mutex
	cond sync.Cond // claims released; L is &mu
	// fwd is the domain this one was merged into.
	fwd atomic.Pointer[domain]
	// epoch is bumped by every change in the domain; maxEpoch once merged.
	epoch atomic.Uint64
	id    uint64 // lock order
	size  int
	// gen orders claims and flush starts; mergeGen is gen at the last merge.
	gen, mergeGen uint64
	queue         []*Sub // effects due
	// blocked holds effects a flush left until a claim older than it ends.
	blocked  []*Sub
	flushers int    // flushes responsible for queue
	waiters  int    // goroutines in cond.Wait
	spare    *flush // a finished flush, for the next one
	claims   int    // computations claimed
	blocking int    // claims with fBlocking
	// gate counts computations holding the writer gate; gateCh is closed
	// when it opens again; gateBound is how long a writer waits at most.
	gate      int
	gateCh    chan struct{}
	gateBound time.Duration
}

const maxEpoch = math.MaxUint64

var domainIDs atomic.Uint64

func newDomain() *domain {
	d := &domain{id: domainIDs.Add(1), size: 1}
	d.cond.L = &d.mu
	d.epoch.Store(1)
	return d
}

// root follows forwarding pointers to the domain d was merged into.
func root(d *domain) *domain {
	for {
		f := d.fwd.Load()
		if f == nil {
			return d
		}
		d = f
	}
}

// root returns n's domain, nil if it has none, and shortens n's path to it.
func (n *Node) root() *domain {
	d := n.dom.Load()
	if d == nil {
		return nil
	}
	if r := root(d); r != d {
		n.dom.Store(r) // a racing store writes another ancestor of the same root
		return r
	}
	return d
}

// lockRoot locks the root of d's domain and returns it.
func lockRoot(d *domain) *domain {
	for {
		d = root(d)
		d.mu.Lock()
		if d.fwd.Load() == nil {
			return d
		}
		d.mu.Unlock()
	}
}

// lockDom locks n's domain, giving n one if it has none, and returns it.
func lockDom(n *Node) *domain {
	if d := n.dom.Load(); d != nil && d.fwd.Load() == nil {
		d.mu.Lock()
		if d.fwd.Load() == nil {
			return d
		}
		d.mu.Unlock()
	}
	d := n.root()
	if d == nil {
		d = ensureDom(n)
	}
	return lockRoot(d)
}

// ensureDom gives a node without a domain a new one (a signal goes through
// adopt instead, under its stripe).
func ensureDom(n *Node) *domain {
	if n.kind() == kindSignal {
		return adopt(n, newDomain())
	}
	nd := newDomain()
	if n.dom.CompareAndSwap(nil, nd) {
		return nd
	}
	return n.root()
}

// merge joins the domains of x and y and returns the root, unlocked.
func merge(x, y *domain) *domain {
	for {
		x, y = root(x), root(y)
		if x == y {
			return x
		}
		lo, hi := x, y
		if lo.id > hi.id {
			lo, hi = hi, lo
		}
		lo.mu.Lock()
		hi.mu.Lock()
		if lo.fwd.Load() != nil || hi.fwd.Load() != nil {
			hi.mu.Unlock()
			lo.mu.Unlock()
			continue
		}
		big, small := x, y
		if big.size < small.size {
			big, small = small, big
		}
		absorb(big, small)
		hi.mu.Unlock()
		lo.mu.Unlock()
		small.cond.Broadcast() // its waiters wait again on big
		return big
	}
}

// absorb moves small's state into big. Both locked.
func absorb(big, small *domain) {
	big.size += small.size
	big.epoch.Store(max(big.epoch.Load(), small.epoch.Load()) + 1)
	small.epoch.Store(maxEpoch)
	g := max(big.gen, small.gen) + 1
	big.gen, big.mergeGen = g, g
	big.queue = append(big.queue, small.queue...)
	big.blocked = append(big.blocked, small.blocked...)
	small.queue, small.blocked = nil, nil
	big.claims += small.claims
	big.blocking += small.blocking
	small.claims, small.blocking = 0, 0
	big.flushers += small.flushers
	small.flushers = 0
	big.gate += small.gate
	big.gateBound = max(big.gateBound, small.gateBound)
	if small.gateCh != nil {
		if big.gateCh == nil {
			big.gateCh = small.gateCh
		} else {
			close(small.gateCh) // its writers wait again on big's
		}
		small.gateCh = nil
	}
	small.gate = 0
	small.fwd.Store(big)
}

// stripes guard writes to signals that have no domain yet, and their
// adoption into one.
var stripes [64]struct {
	sync.Mutex
	_ [56]byte // one cache line each
}

func stripe(n *Node) *sync.Mutex {
	return &stripes[(uintptr(unsafe.Pointer(n))>>4)%nStripes].Mutex
}

const nStripes = uintptr(len(stripes))

// adopt puts signal n, which may have no domain, into d's and returns the
// root, unlocked.
func adopt(n *Node, d *domain) *domain {
	st := stripe(n)
	st.Lock()
	if cur := n.dom.Load(); cur != nil {
		st.Unlock()
		return merge(cur, d)
	}
	d = lockRoot(d)
	// A computed takes a domain of its own (ensureDom) without the stripe.
	if !n.dom.CompareAndSwap(nil, d) {
		d.mu.Unlock()
		st.Unlock()
		return merge(n.dom.Load(), d)
	}
	// Keep changedAt at or below the epoch, so that it stays increasing.
	if c := n.changedAt.Load(); c > d.epoch.Load() {
		d.epoch.Store(c)
	}
	d.size++
	d.mu.Unlock()
	st.Unlock()
	return d
}

// join makes sure n is in s's domain, merging or adopting if not, and
// returns the root, unlocked.
func join(s *Sub, n *Node) *domain {
	sd := s.root()
	if sd == nil {
		sd = ensureDom(&s.Node)
	}
	nd := n.root()
	switch {
	case nd == sd:
		return sd
	case nd == nil:
		return adopt(n, sd)
	}
	return merge(sd, nd)
}
