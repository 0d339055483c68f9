package signals

import (
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
)

// Map is a keyed collection that computeds and effects can depend on key by
// key: Get(t, k) makes t's computation depend on key k alone, so a write to
// another key does not run it again. Len and Keys depend on which keys are
// present, All on every write, and Changes tells a computation which keys
// were written since its previous run, so that a result over many keys (a
// ranking, a total, an index) can be updated in time proportional to the
// keys that changed rather than to the map.
//
// Keys that are read and absent can be depended on too: a computation that
// found k absent runs again when k is set. Writes of an existing key
// allocate nothing. A Map is safe for concurrent use; the zero Map is not
// usable, create one with NewMap.
//
// # Memory
//
// A key's node (a Signal) exists while the key is present, or while an
// effect depends on it, directly or through computeds (WithObserved tells
// the map), or while the change log still mentions it. Other nodes, made
// by tracked reads of absent keys and left behind by deletions, are
// dropped in sweeps whose cost is amortized over the writes and reads that
// made them, so a Map holds at most about twice as many nodes as that. A
// dropped node is written once more, so that computations that depended on
// it (without being live) run again and look the key up afresh. Rarely, an
// effect that has just started to depend on an absent key on one goroutine
// has its node dropped by another before the map learns of the effect; it
// then runs once more than needed.
//
// # Consistency
//
// Each key behaves as a Signal: Set, Update and Delete of one key are
// linearizable, Update is atomic, and a write equal to the current value
// (by == where V is comparable, or MapEqual) changes nothing. A computation
// never combines values of one key from before and after a write.
//
// A write of key k is made of two steps: k's new value, then the map-wide
// record of it (the change log read by Changes and All, and for a key added
// or removed the membership read by Len and Keys). Within one goroutine
// nothing observes the state between them: they are made in one Batch, so
// no effect runs in between. Across goroutines, as with any two signals
// written in one Batch (a Batch is not a transaction), a computation may
// find k's new value while Len, Keys, All or Changes do not show that write
// yet. It then depends on both and runs again once the record is made; and
// since a key's value always comes first, a computation that learns of a
// change through Changes always reads the new value (or a newer one), never
// an older one.
type Map[K comparable, V any] struct {
	id    uint64
	equal func(a, b V) bool // nil: never equal
	name  string

	ver     *Signal[uint64]     // seq of the latest logged write: everything
	members *Signal[membership] // which keys are present

	mu       sync.RWMutex
	nodes    map[K]*mapNode[K, V]
	count    int    // present keys, as recorded
	memVer   uint64 // membership changes recorded
	idle     int    // nodes neither present nor observed
	sweepAt  int    // sweep idle nodes when idle exceeds this
	sweepMin int    // minSweep when the map was made
	// sweepSeq, if not 0, is the seq at which the idle nodes that the last
	// sweep kept for the change log are out of it: sweep then.
	sweepSeq uint64
	// sweepGen counts sweeps. A node idle since the current one may not be
	// dropped yet: its observer's hook may not have run.
	sweepGen uint64
	seq      uint64 // writes logged
	log      []logEntry[K, V]
	logSize  int
	// logStart is the seq of the first write recorded in log (which exists
	// from the first call of Changes).
	logStart uint64
}

// membership is the value behind Len and Keys.
type membership struct {
	n   int    // present keys
	ver uint64 // counts membership changes, so that +1-1 is a change
}

// mapNode is the Signal behind one key, created when the key is set or a
// tracked read finds it absent, and dropped when it is absent, nothing live
// observes it and the change log no longer mentions it. Its fields other
// than key and sig are guarded by the Map's mu.
type mapNode[K comparable, V any] struct {
	key      K
	sig      *Signal[mapSlot[V]]
	present  bool   // as recorded by the map (the signal leads)
	observed bool   // an effect depends on sig (WithObserved)
	retired  bool   // dropped from the map
	lastSeq  uint64 // seq of the key's latest logged write
	// idleGen is the map's sweepGen when the node last became idle.
	idleGen uint64
}

// mapSlot is a key's state. gen changes with every write that changes it,
// so that the signal's equality is a cheap comparison of gens; the value's
// own equality runs once, when the write is made.
type mapSlot[V any] struct {
	v       V
	gen     uint64
	ok      bool // present
	retired bool // the node was dropped: look the key up again
}

func sameGen[V any](a, b mapSlot[V]) bool { return a.gen == b.gen }

// logEntry is one logged write; its seq is known from its position in the
// ring. next is the seq of the key's next logged write, 0 if none yet, so
// that Changes reports each key once.
type logEntry[K comparable, V any] struct {
	n    *mapNode[K, V]
	next uint64
}

// Cursor marks a position in a Map's change log, for Changes. The zero
// Cursor marks no position: Changes then asks for a full scan.
type Cursor struct {
	id, seq uint64
}

// MapOption configures a Map.
type MapOption struct {
	apply func(*mapConfig)
}

type mapConfig struct {
	equal   any
	name    string
	logSize int
}

// DefaultLogSize is the number of writes a Map's change log holds unless
// MapLogSize says otherwise.
const DefaultLogSize = 4096

// MapEqual replaces the equality of a Map's values, which is == where V is
// comparable and "never equal" otherwise. equal runs without any lock held
// and must be pure. Its type must match the Map's V, or NewMap panics.
// MapEqual(nil) panics.
func MapEqual[V any](equal func(a, b V) bool) MapOption {
	if equal == nil {
		panic("signals: MapEqual(nil): pass an equality function")
	}
	return MapOption{apply: func(c *mapConfig) { c.equal = equal }}
}

// MapName labels a Map and the signals it is made of for debugging output
// (Inspect, Graph, tracers).
func MapName(name string) MapOption {
	return MapOption{apply: func(c *mapConfig) { c.name = name }}
}

// MapLogSize sets how many writes the change log holds (see Changes): a
// computation that falls further behind than that rescans the whole map.
// The log is allocated on the first call of Changes, n entries of two words
// each. n must be at least 1.
func MapLogSize(n int) MapOption {
	if n < 1 {
		panic(fmt.Sprintf("signals: MapLogSize(%d): the log must hold at least one write", n))
	}
	return MapOption{apply: func(c *mapConfig) { c.logSize = n }}
}

var mapIDs atomic.Uint64

// NewMap returns an empty Map. It panics if an option is the zero
// MapOption or if MapEqual's type does not match V.
func NewMap[K comparable, V any](opts ...MapOption) *Map[K, V] {
	cfg := mapConfig{logSize: DefaultLogSize}
	for _, o := range opts {
		if o.apply == nil {
			panic("signals: zero MapOption; build options with MapEqual, MapName or MapLogSize")
		}
		o.apply(&cfg)
	}
	m := &Map[K, V]{
		id:       mapIDs.Add(1),
		equal:    defaultEqual[V](),
		name:     cfg.name,
		nodes:    map[K]*mapNode[K, V]{},
		logSize:  cfg.logSize,
		sweepAt:  minSweep,
		sweepMin: minSweep,
	}
	if cfg.equal != nil {
		eq, ok := cfg.equal.(func(a, b V) bool)
		if !ok {
			panic(fmt.Sprintf("signals: NewMap of %T values given MapEqual of %T", *new(V), cfg.equal))
		}
		m.equal = eq
	}
	var verOpts []Option[uint64]
	var memOpts []Option[membership]
	if m.name != "" {
		verOpts = append(verOpts, WithName[uint64](m.name+" (writes)"))
		memOpts = append(memOpts, WithName[membership](m.name+" (keys)"))
	}
	m.ver = New[uint64](0, verOpts...)
	m.members = New(membership{}, memOpts...)
	return m
}

// Get returns the value of key k and whether k is present, and, if t is
// not nil, makes t's computation depend on k: it runs again after a write
// that changes k's value or presence, and only then.
func (m *Map[K, V]) Get(t *Tracker, k K) (V, bool) {
	if m == nil {
		panic("signals: Map.Get called on a nil *Map")
	}
	for {
		m.mu.RLock()
		n := m.nodes[k]
		m.mu.RUnlock()
		if n == nil {
			if t == nil {
				var zero V
				return zero, false
			}
			n = m.node(k) // so that a later Set of k reaches t
		}
		s := n.sig.Get(t)
		if !s.retired {
			return s.v, s.ok
		}
		// Dropped meanwhile (absent and unobserved): look it up again.
	}
}

// Set stores v under k. If k is present with a value equal to v, nothing
// happens.
func (m *Map[K, V]) Set(k K, v V) {
	if m == nil {
		panic("signals: Map.Set called on a nil *Map")
	}
	m.write(k, true, func(old mapSlot[V]) (mapSlot[V], bool) {
		if old.ok && m.equal != nil && m.equal(old.v, v) {
			return old, false
		}
		return mapSlot[V]{v: v, ok: true, gen: old.gen + 1}, true
	})
}

// Update stores fn(old, ok) under k, atomically: concurrent Updates of one
// key never lose each other's changes. old is k's current value and ok
// whether k is present (old is the zero value if not). fn runs without any
// lock of this package held and may run more than once when writes to k
// race, so it must be pure; it may read the map. If the result equals the
// current value, nothing happens. Update(k, nil) panics.
func (m *Map[K, V]) Update(k K, fn func(old V, ok bool) V) {
	if m == nil {
		panic("signals: Map.Update called on a nil *Map")
	}
	if fn == nil {
		panic("signals: Map.Update called with a nil function")
	}
	m.write(k, true, func(old mapSlot[V]) (mapSlot[V], bool) {
		v := fn(old.v, old.ok)
		if old.ok && m.equal != nil && m.equal(old.v, v) {
			return old, false
		}
		return mapSlot[V]{v: v, ok: true, gen: old.gen + 1}, true
	})
}

// Delete removes k. If k is absent, nothing happens.
func (m *Map[K, V]) Delete(k K) {
	if m == nil {
		panic("signals: Map.Delete called on a nil *Map")
	}
	m.write(k, false, func(old mapSlot[V]) (mapSlot[V], bool) {
		if !old.ok {
			return old, false
		}
		return mapSlot[V]{gen: old.gen + 1}, true
	})
}

// Len returns the number of keys present and, if t is not nil, makes t's
// computation depend on which keys are present: it runs again when a key
// is added or removed, not when a value changes.
func (m *Map[K, V]) Len(t *Tracker) int {
	if m == nil {
		panic("signals: Map.Len called on a nil *Map")
	}
	return m.members.Get(t).n
}

// Keys returns the keys present, in no particular order, and, if t is not
// nil, makes t's computation depend on which keys are present (as Len). The
// keys are those of one moment, taken when Keys is called.
func (m *Map[K, V]) Keys(t *Tracker) iter.Seq[K] {
	if m == nil {
		panic("signals: Map.Keys called on a nil *Map")
	}
	nodes := m.snapshot(t, true)
	return func(yield func(K) bool) {
		for _, n := range nodes {
			if !yield(n.key) {
				return
			}
		}
	}
}

// All returns an iterator over the keys present and their values, in no
// particular order, and, if t is not nil, makes t's computation depend on
// every write to the map. The keys are those of the moment All is called;
// each value is read when the iteration reaches it (a key removed by then
// is skipped), through t untracked, so a computation never combines values
// from before and after a write. Range over it within the function that
// received t.
func (m *Map[K, V]) All(t *Tracker) iter.Seq2[K, V] {
	if m == nil {
		panic("signals: Map.All called on a nil *Map")
	}
	nodes := m.snapshot(t, false)
	ut := t.Untracked()
	return func(yield func(K, V) bool) {
		for _, n := range nodes {
			s := n.sig.Get(ut)
			if !s.ok || s.retired {
				continue
			}
			if !yield(n.key, s.v) {
				return
			}
		}
	}
}

// Changes reports the keys written (set to a different value, added or
// deleted) since the position c marks, each once, in the order of their
// latest write, and moves c to the present; if t is not nil, it makes t's
// computation depend on every write to the map. Read the keys' values with
// Get (through t.Untracked() when the computation need not depend on each).
//
// ok is false, and keys nil, when the log cannot tell: c is the zero Cursor
// or comes from another Map, or more writes than the log holds (MapLogSize)
// were made since c. The caller must then rescan everything, with All; c is
// moved to the present all the same. The first call of Changes on a Map
// starts its log, so it always returns ok == false.
//
// Keep the cursor in the computation's previous value (NewComputedFrom,
// whose prev is the latest run's result even when an equality kept an older
// value for readers), not in a variable it shares with its other runs: a
// run may be stopped and started again, and must then start from the same
// cursor. Changes(t, nil) panics.
func (m *Map[K, V]) Changes(t *Tracker, c *Cursor) (keys []K, ok bool) {
	if m == nil {
		panic("signals: Map.Changes called on a nil *Map")
	}
	if c == nil {
		panic("signals: Map.Changes called with a nil *Cursor")
	}
	head := m.ver.Get(t)
	m.mu.RLock()
	if m.log == nil {
		m.mu.RUnlock()
		m.mu.Lock()
		if m.log == nil {
			m.log = make([]logEntry[K, V], m.logSize)
			m.logStart = m.seq + 1
		}
		m.mu.Unlock()
		m.mu.RLock()
	}
	defer m.mu.RUnlock()
	id, from := c.id, c.seq
	c.id, c.seq = m.id, head
	// Entries from+1 .. head must all be in the ring: logged after the log
	// started, and not yet overwritten by the m.seq writes made so far.
	if id != m.id || from > head || from+1 < m.logStart || m.seq-from > uint64(len(m.log)) {
		return nil, false
	}
	size := uint64(len(m.log))
	for s := from + 1; s <= head; s++ {
		e := &m.log[s%size]
		if e.next == 0 || e.next > head {
			keys = append(keys, e.n.key)
		}
	}
	return keys, true
}

// write applies f to k's slot atomically and records the change. f returns
// the new slot and whether it differs; it may run more than once. create
// says whether an absent key needs a node (not for Delete).
func (m *Map[K, V]) write(k K, create bool, f func(old mapSlot[V]) (mapSlot[V], bool)) {
	Batch(func() {
		for {
			m.mu.RLock()
			n := m.nodes[k]
			m.mu.RUnlock()
			if n == nil {
				if !create {
					return
				}
				n = m.node(k)
			}
			changed, retired := false, false
			n.sig.Update(func(old mapSlot[V]) mapSlot[V] {
				if retired = old.retired; retired {
					changed = false
					return old
				}
				var s mapSlot[V]
				s, changed = f(old)
				return s
			})
			if retired {
				continue // dropped meanwhile: a fresh node takes the write
			}
			if changed {
				m.record(n)
			}
			return
		}
	})
}

// record logs a write of n's key that changed it, and updates the
// membership if its presence changed. Inside the write's Batch.
//
// The map-wide signals are written after mu is released: a computation
// that the engine's writer gate protects may be waiting for mu (in Changes
// or All), and a writer holding mu while the gate holds it back would stall
// them both until the gate gave up. Writers racing here may publish their
// seqs out of order, so each raises the signals to its value, never lowers
// them: every entry up to the published head is logged before it is
// published.
func (m *Map[K, V]) record(n *mapNode[K, V]) {
	m.mu.Lock()
	var mem membership
	if present := n.sig.Peek().ok; present != n.present {
		// The signal's current state, which may already include a later
		// write: records of racing writes converge on it.
		wasIdle := m.isIdle(n)
		n.present = present
		m.noteIdle(n, wasIdle)
		if present {
			m.count++
		} else {
			m.count--
		}
		m.memVer++
		mem = membership{n: m.count, ver: m.memVer}
	}
	m.seq++
	if size := uint64(len(m.log)); size > 0 {
		if p := n.lastSeq; p >= m.logStart && p+size > m.seq {
			m.log[p%size].next = m.seq // p is still in the ring
		}
		m.log[m.seq%size] = logEntry[K, V]{n: n}
	}
	n.lastSeq = m.seq
	seq := m.seq
	sweep := m.sweepDue()
	m.mu.Unlock()
	if mem.ver != 0 {
		m.members.Update(func(old membership) membership {
			if mem.ver > old.ver {
				return mem
			}
			return old
		})
	}
	m.ver.Update(func(old uint64) uint64 { return max(old, seq) })
	if sweep {
		m.sweepNow()
	}
}

// node returns k's node, creating an absent one if there is none.
func (m *Map[K, V]) node(k K) *mapNode[K, V] {
	m.mu.Lock()
	n := m.nodes[k]
	if n == nil && m.idle >= m.sweepAt {
		// Sweep before adding: the new node is idle too, and must not
		// be dropped before its caller uses it.
		m.mu.Unlock()
		m.sweepNow()
		m.mu.Lock()
		n = m.nodes[k]
	}
	if n != nil {
		m.mu.Unlock()
		return n
	}
	n = &mapNode[K, V]{key: k, idleGen: m.sweepGen}
	opts := []Option[mapSlot[V]]{
		WithEqual(sameGen[V]),
		withObservedFunc[mapSlot[V]](func(on bool) { m.observed(n, on) }),
	}
	if m.name != "" {
		opts = append(opts, WithName[mapSlot[V]](fmt.Sprintf("%s[%v]", m.name, k)))
	}
	n.sig = New(mapSlot[V]{}, opts...)
	m.nodes[k] = n
	m.idle++
	m.mu.Unlock()
	return n
}

// observed follows n's observation (WithObserved hook).
func (m *Map[K, V]) observed(n *mapNode[K, V], on bool) {
	m.mu.Lock()
	if n.retired {
		m.mu.Unlock()
		return
	}
	wasIdle := m.isIdle(n)
	n.observed = on
	m.noteIdle(n, wasIdle)
	sweep := m.idle > m.sweepAt
	m.mu.Unlock()
	if sweep {
		m.sweepNow()
	}
}

func (m *Map[K, V]) isIdle(n *mapNode[K, V]) bool { return !n.present && !n.observed }

// noteIdle updates the idle count after n's state changed from wasIdle.
func (m *Map[K, V]) noteIdle(n *mapNode[K, V], wasIdle bool) {
	switch idle := m.isIdle(n); {
	case idle && !wasIdle:
		m.idle++
		n.idleGen = m.sweepGen
	case !idle && wasIdle:
		m.idle--
	}
}

// minSweep is the number of idle nodes a Map keeps without sweeping (a
// variable for tests, which make it small to drop nodes often).
var minSweep = 64

// sweepDue reports whether the writes call for a sweep. mu held.
func (m *Map[K, V]) sweepDue() bool {
	return m.idle > m.sweepAt || (m.sweepSeq != 0 && m.seq >= m.sweepSeq && m.idle > m.sweepMin)
}

// sweepNow sweeps if the idle nodes (still) call for it.
func (m *Map[K, V]) sweepNow() {
	Batch(func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.idle >= m.sweepAt || m.sweepDue() {
			m.sweep()
		}
	})
}

// sweep drops the idle nodes that the change log no longer mentions and
// that were idle before the previous sweep already: a node read by a new
// effect is idle until the effect's WithObserved hook runs, which a Batch
// on another goroutine may delay; dropping it then would make the effect
// run again for nothing. Each node dropped is marked retired by a write,
// so that computations that depend on it (but are not live, or the hooks
// would have said so) run again and look the key up afresh. Lock held,
// inside a Batch: the writes run no user code and nothing is flushed
// before the Batch ends. Unlike record's, these writes are made under mu
// (a write racing a drop must find the node either live or gone); a
// computation that holds the writer gate and waits for mu can lose one
// attempt to a sweep, which is rare enough (amortized) not to starve it.
func (m *Map[K, V]) sweep() {
	size := uint64(len(m.log))
	var kept uint64 // latest seq of the nodes kept for the log
	for k, n := range m.nodes {
		if !m.isIdle(n) || n.idleGen == m.sweepGen {
			continue // in use, or idle only since the previous sweep
		}
		if size > 0 && n.lastSeq >= m.logStart && n.lastSeq+size > m.seq {
			kept = max(kept, n.lastSeq) // Changes may still report it through this node
			continue
		}
		dropped := false
		n.sig.Update(func(old mapSlot[V]) mapSlot[V] {
			// Only if still absent: a write may have made it present
			// without being recorded yet.
			if dropped = !old.ok && !old.retired; !dropped {
				return old
			}
			return mapSlot[V]{gen: old.gen + 1, retired: true}
		})
		if dropped {
			n.retired = true
			delete(m.nodes, k)
			m.idle--
		}
	}
	// Amortized: a sweep visits every node, so the next one comes after
	// the idle nodes doubled and grew to a quarter of all nodes, or once
	// the log has moved past all those kept for it.
	m.sweepGen++
	m.sweepAt = max(m.sweepMin, 2*m.idle, len(m.nodes)/4)
	m.sweepSeq = 0
	if kept != 0 {
		m.sweepSeq = kept + size
	}
}

// snapshot returns the nodes of the keys present, as recorded at a moment
// when the map-wide signal t depends on (membership if keysOnly, every write
// otherwise) held the value read.
func (m *Map[K, V]) snapshot(t *Tracker, keysOnly bool) []*mapNode[K, V] {
	for tries := 0; ; tries++ {
		var want uint64
		if keysOnly {
			want = m.members.Get(t).ver
		} else {
			want = m.ver.Get(t)
		}
		m.mu.RLock()
		got := m.seq
		if keysOnly {
			got = m.memVer
		}
		if got != want && tries < 3 {
			// Written since the read: read again, so that the keys match
			// what t depends on (a computation would be restarted anyway).
			m.mu.RUnlock()
			continue
		}
		nodes := make([]*mapNode[K, V], 0, m.count)
		for _, n := range m.nodes {
			if n.present {
				nodes = append(nodes, n)
			}
		}
		m.mu.RUnlock()
		return nodes
	}
}
