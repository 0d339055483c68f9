package signals_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosignals/signals"
)

func collect[K comparable, V any](seq func(func(K, V) bool)) map[K]V {
	out := map[K]V{}
	for k, v := range seq {
		out[k] = v
	}
	return out
}

func TestMapGetTracksOnlyItsKey(t *testing.T) {
	m := signals.NewMap[string, int]()
	m.Set("a", 1)
	m.Set("b", 2)
	runs := 0
	c := counted(&runs, func(tr *signals.Tracker) int { v, _ := m.Get(tr, "a"); return v * 10 })
	var seen []int
	e := signals.NewEffect(func(tr *signals.Tracker) { seen = append(seen, c.Get(tr)) })
	defer e.Stop()

	m.Set("b", 3)
	m.Delete("b")
	m.Set("z", 9)
	assert.Equal(t, 1, runs, "writes to other keys do not run it")
	m.Set("a", 1)
	m.Update("a", func(v int, _ bool) int { return v })
	assert.Equal(t, 1, runs, "an equal write changes nothing")
	m.Set("a", 4)
	m.Delete("a")
	assert.Equal(t, []int{10, 40, 0}, seen)
}

func TestMapAbsentKeyIsTracked(t *testing.T) {
	m := signals.NewMap[int, string]()
	var seen []string
	e := signals.NewEffect(func(tr *signals.Tracker) {
		v, ok := m.Get(tr, 7)
		seen = append(seen, fmt.Sprintf("%q %v", v, ok))
	})
	defer e.Stop()
	m.Set(7, "seven")
	m.Delete(7)
	m.Delete(7)
	m.Update(7, func(old string, ok bool) string { return fmt.Sprint("again ", old == "" && !ok) })
	assert.Equal(t, []string{`"" false`, `"seven" true`, `"" false`, `"again true" true`}, seen)

	// An unobserved computed that found the key absent sees it once set.
	c := signals.NewComputed(func(tr *signals.Tracker) bool { _, ok := m.Get(tr, 8); return ok })
	assert.False(t, c.Peek())
	m.Set(8, "eight")
	assert.True(t, c.Peek())
}

func TestMapLenAndKeysTrackMembership(t *testing.T) {
	m := signals.NewMap[string, int]()
	lenRuns, keysRuns := 0, 0
	var lens []int
	var keys [][]string
	e1 := signals.NewEffect(func(tr *signals.Tracker) { lenRuns++; lens = append(lens, m.Len(tr)) })
	defer e1.Stop()
	e2 := signals.NewEffect(func(tr *signals.Tracker) {
		keysRuns++
		keys = append(keys, slices.Sorted(m.Keys(tr)))
	})
	defer e2.Stop()
	m.Set("a", 1)
	m.Set("b", 1)
	m.Set("a", 2) // a value: not membership
	m.Update("b", func(v int, _ bool) int { return v + 1 })
	assert.Equal(t, 3, lenRuns)
	m.Delete("a")
	m.Delete("nope")
	signals.Batch(func() {
		m.Set("c", 1)
		m.Delete("b")
	})
	assert.Equal(t, []int{0, 1, 2, 1, 1}, lens, "one run for the batch, which changed the keys but not their number")
	assert.Equal(t, [][]string{nil, {"a"}, {"a", "b"}, {"b"}, {"c"}}, keys)
	assert.Equal(t, 1, m.Len(nil))
	assert.Equal(t, 5, keysRuns)
}

func TestMapAllTracksEveryWrite(t *testing.T) {
	m := signals.NewMap[string, int]()
	sum := signals.NewComputed(func(tr *signals.Tracker) int {
		s := 0
		for _, v := range m.All(tr) {
			s += v
		}
		return s
	})
	var sums []int
	e := signals.NewEffect(func(tr *signals.Tracker) { sums = append(sums, sum.Get(tr)) })
	defer e.Stop()
	m.Set("a", 1)
	m.Set("b", 2)
	m.Set("a", 5)
	m.Set("a", 5)
	m.Delete("b")
	assert.Equal(t, []int{0, 1, 3, 7, 5}, sums)
	assert.Equal(t, map[string]int{"a": 5}, collect(m.All(nil)))

	// Breaking out of the loop early.
	m.Set("b", 1)
	n := 0
	for range m.All(nil) {
		n++
		break
	}
	assert.Equal(t, 1, n)
}

func TestMapChanges(t *testing.T) {
	m := signals.NewMap[string, int](signals.MapLogSize(4))
	var c signals.Cursor
	keys, ok := m.Changes(nil, &c)
	assert.False(t, ok, "the zero cursor asks for a full scan")
	assert.Nil(t, keys)

	keys, ok = m.Changes(nil, &c)
	assert.True(t, ok)
	assert.Empty(t, keys, "nothing written since")

	m.Set("a", 1)
	m.Set("b", 1)
	m.Set("a", 2)
	m.Set("a", 2) // equal: not a write
	keys, ok = m.Changes(nil, &c)
	assert.True(t, ok)
	assert.Equal(t, []string{"b", "a"}, keys, "each key once, in the order of its latest write")

	m.Delete("b")
	m.Delete("b")
	keys, ok = m.Changes(nil, &c)
	assert.True(t, ok)
	assert.Equal(t, []string{"b"}, keys, "a deletion is a change")

	// Four writes fit in the log; five do not.
	for i := range 4 {
		m.Set("k", i+1)
	}
	keys, ok = m.Changes(nil, &c)
	assert.True(t, ok)
	assert.Equal(t, []string{"k"}, keys)
	for i := range 5 {
		m.Set("k", i+10)
	}
	keys, ok = m.Changes(nil, &c)
	assert.False(t, ok, "fell behind the log: rescan")
	assert.Nil(t, keys)
	keys, ok = m.Changes(nil, &c)
	assert.True(t, ok, "the cursor was moved to the present")
	assert.Empty(t, keys)

	other := signals.NewMap[string, int]()
	_, ok = other.Changes(nil, &c)
	assert.False(t, ok, "a cursor of another map")

	assert.PanicsWithValue(t, "signals: Map.Changes called with a nil *Cursor", func() { m.Changes(nil, nil) })
}

// mirror is a copy of a map kept up to date through Changes: what a
// computation that follows a map's changes looks like.
type mirror[K comparable, V any] struct {
	cur   signals.Cursor
	view  map[K]V
	scans int // full scans, when Changes could not tell
	runs  int
}

// changesMirror returns a computed holding a mirror of m.
func changesMirror[K comparable, V any](m *signals.Map[K, V]) *signals.Computed[mirror[K, V]] {
	return signals.NewComputedFrom(func(t *signals.Tracker, prev mirror[K, V], _ bool) mirror[K, V] {
		next := mirror[K, V]{cur: prev.cur, scans: prev.scans, runs: prev.runs + 1}
		keys, ok := m.Changes(t, &next.cur)
		if !ok {
			next.scans++
			next.view = collect(m.All(t))
			return next
		}
		next.view = maps.Clone(prev.view)
		for _, k := range keys {
			if v, present := m.Get(t.Untracked(), k); present {
				next.view[k] = v
			} else {
				delete(next.view, k)
			}
		}
		return next
	})
}

func TestMapChangesInAComputed(t *testing.T) {
	m := signals.NewMap[string, int](signals.MapLogSize(8))
	mirror := changesMirror(m)
	e := signals.NewEffect(func(tr *signals.Tracker) { mirror.Get(tr) })
	defer e.Stop()
	for i := range 20 {
		m.Set(fmt.Sprint("k", i%5), i)
		if i%7 == 0 {
			m.Delete("k1")
		}
	}
	st := mirror.Peek()
	assert.Equal(t, collect(m.All(nil)), st.view)
	assert.Equal(t, 1, st.scans, "only the first run scans")

	signals.Batch(func() {
		for i := range 9 { // more than the log holds, in one batch
			m.Set(fmt.Sprint("b", i), i)
		}
	})
	st = mirror.Peek()
	assert.Equal(t, collect(m.All(nil)), st.view)
	assert.Equal(t, 2, st.scans, "fell behind: one more scan")
}

func TestMapEqualAndOptions(t *testing.T) {
	type point struct{ x, y int }
	m := signals.NewMap[string, []int](signals.MapEqual(slices.Equal[[]int]), signals.MapName("lists"))
	runs := 0
	e := signals.NewEffect(func(tr *signals.Tracker) { runs++; m.Get(tr, "a") })
	defer e.Stop()
	m.Set("a", []int{1, 2})
	m.Set("a", []int{1, 2})
	assert.Equal(t, 2, runs, "equal by MapEqual")

	n := signals.NewMap[string, []int]()
	var seen int
	e2 := signals.NewEffect(func(tr *signals.Tracker) { seen++; n.Get(tr, "a") })
	defer e2.Stop()
	n.Set("a", []int{1})
	n.Set("a", []int{1})
	assert.Equal(t, 3, seen, "slices are never equal by default")

	p := signals.NewMap[int, point]()
	p.Set(1, point{1, 2})
	p.Set(1, point{1, 2})
	var cur signals.Cursor
	p.Changes(nil, &cur)
	p.Set(1, point{1, 2})
	keys, _ := p.Changes(nil, &cur)
	assert.Empty(t, keys, "comparable structs compare with ==")

	assert.PanicsWithValue(t, "signals: NewMap of int values given MapEqual of func(string, string) bool", func() {
		signals.NewMap[string, int](signals.MapEqual(func(a, b string) bool { return a == b }))
	})
	assert.Panics(t, func() { signals.NewMap[string, int](signals.MapOption{}) })
	assert.Panics(t, func() { signals.MapLogSize(0) })
	assert.Panics(t, func() { signals.MapEqual[int](nil) })
	assert.PanicsWithValue(t, "signals: Map.Update called with a nil function", func() { m.Update("a", nil) })

	// Named maps name their signals, for Graph and graphview.
	var names []string
	for _, info := range signals.Graph(e) {
		names = append(names, info.Name)
	}
	assert.Contains(t, names, "lists[a]")
}

func TestMapUpdateIsAtomic(t *testing.T) {
	m := signals.NewMap[int, int]()
	total := signals.NewComputed(func(tr *signals.Tracker) int {
		s := 0
		for _, v := range m.All(tr) {
			s += v
		}
		return s
	})
	var last atomic.Int64
	e := signals.NewEffect(func(tr *signals.Tracker) { last.Store(int64(total.Get(tr))) })
	defer e.Stop()
	const goroutines, perG, keys = 8, 500, 5
	withDeadline(t, 30*time.Second, func() {
		goN(goroutines, func(g int) {
			for i := range perG {
				m.Update((g+i)%keys, func(v int, _ bool) int { return v + 1 })
			}
		})
	})
	for k := range keys {
		v, ok := m.Get(nil, k)
		assert.True(t, ok)
		assert.Equal(t, goroutines*perG/keys, v, "key %d", k)
	}
	assert.Equal(t, int64(goroutines*perG), last.Load(), "the effect saw the final total")
	assert.Equal(t, keys, m.Len(nil))
}

func TestMapUpdateMayReadTheMap(t *testing.T) {
	m := signals.NewMap[string, int]()
	m.Set("base", 10)
	m.Update("x", func(v int, ok bool) int {
		b, _ := m.Get(nil, "base")
		return b + v
	})
	v, _ := m.Get(nil, "x")
	assert.Equal(t, 10, v)
	// And an equality that reads it.
	n := signals.NewMap[string, int](signals.MapEqual(func(a, b int) bool {
		tol, _ := m.Get(nil, "base")
		return a-b < tol && b-a < tol
	}))
	n.Set("a", 1)
	n.Set("a", 5)
	w, _ := n.Get(nil, "a")
	assert.Equal(t, 1, w, "within the tolerance the map read")
}

func TestMapDropsUnusedNodes(t *testing.T) {
	m := signals.NewMap[int, int]()
	// Tracked reads of absent keys from computeds that no effect observes.
	for i := range 5000 {
		c := signals.NewComputed(func(tr *signals.Tracker) bool { _, ok := m.Get(tr, i); return ok })
		c.Peek()
	}
	assert.Less(t, signals.MapNodeCount(m), 200, "absent, unobserved keys are dropped")

	// Keys set then deleted.
	for i := range 5000 {
		m.Set(i, i)
		m.Delete(i)
	}
	assert.Less(t, signals.MapNodeCount(m), 200)
	assert.Equal(t, 0, m.Len(nil))

	// Keys observed by effects are kept, present or not.
	var effects []*signals.Effect
	for i := range 300 {
		effects = append(effects, signals.NewEffect(func(tr *signals.Tracker) { m.Get(tr, -i) }))
	}
	for i := range 5000 {
		m.Set(i, i)
		m.Delete(i)
	}
	assert.GreaterOrEqual(t, signals.MapNodeCount(m), 300)
	for _, e := range effects {
		e.Stop()
	}
	for i := range 5000 {
		m.Set(i, i)
		m.Delete(i)
	}
	assert.Less(t, signals.MapNodeCount(m), 200, "dropped once their observers stopped")
}

func TestMapDroppedNodeDoesNotLeaveReadersStale(t *testing.T) {
	m := signals.NewMap[int, int]()
	// c read key 0 while absent, through a node that is dropped later.
	c := signals.NewComputed(func(tr *signals.Tracker) int { v, _ := m.Get(tr, 0); return v })
	require.Equal(t, 0, c.Peek())
	for i := 1; i < 2000; i++ {
		m.Set(i, i)
		m.Delete(i)
	}
	m.Set(0, 42) // a new node for key 0, if the old one was dropped
	assert.Equal(t, 42, c.Peek(), "the reader of the dropped node recomputes")
	all := signals.NewComputed(func(tr *signals.Tracker) int { return len(collect(m.All(tr))) })
	assert.Equal(t, 1, all.Peek())
}

func TestMapKeepsLoggedNodesUntilTheLogMovesOn(t *testing.T) {
	m := signals.NewMap[int, int](signals.MapLogSize(10000))
	var cur signals.Cursor
	m.Changes(nil, &cur)
	for i := range 3000 {
		m.Set(i, i)
		m.Delete(i)
	}
	keys, ok := m.Changes(nil, &cur)
	require.True(t, ok)
	assert.Len(t, keys, 3000, "each deleted key once")
	assert.Equal(t, 3000, signals.MapNodeCount(m), "the log still mentions them")
	for i := range 10001 {
		m.Set(-1, i)
	}
	assert.Less(t, signals.MapNodeCount(m), 200, "dropped once out of the log")
}

// TestMapComputationOutlastsItsWriters reads, under a stream of writes from
// many goroutines, a computation that keeps restarting (its writers
// invalidate it) until the engine's writer gate holds the writers back. The
// Map's writers used to write its map-wide signal while holding its lock,
// which the gated computation needed: both stalled until the gate gave up,
// and the computation panicked with ErrCycle though it wrote nothing.
func TestMapComputationOutlastsItsWriters(t *testing.T) {
	m := signals.NewMap[int, int](signals.MapLogSize(1 << 10))
	sum := signals.NewComputedFrom(func(tr *signals.Tracker, prev signals.Cursor, _ bool) signals.Cursor {
		m.Changes(tr, &prev)
		for range m.All(tr) {
		}
		return prev
	})
	e := signals.NewEffect(func(tr *signals.Tracker) { sum.Get(tr) })
	defer e.Stop()
	var stop atomic.Bool
	withDeadline(t, 60*time.Second, func() {
		var wg sync.WaitGroup
		wg.Go(func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("reading the computation panicked: %v", r)
				}
			}()
			for !stop.Load() {
				sum.Peek()
			}
		})
		goN(8, func(g int) {
			for i := range 1500 {
				m.Update((g*31+i*i)%500, func(v int, _ bool) int { return v + 1 })
			}
		})
		stop.Store(true)
		wg.Wait()
	})
	total := 0
	for _, v := range m.All(nil) {
		total += v
	}
	assert.Equal(t, 8*1500, total)
}

func TestMapConcurrentMixed(t *testing.T) {
	// Writers, readers, observers created and stopped, Changes consumers:
	// at the end every view agrees with the final contents.
	m := signals.NewMap[int, int](signals.MapLogSize(64))
	mirror := changesMirror(m)
	var lastLen atomic.Int64
	eLen := signals.NewEffect(func(tr *signals.Tracker) { lastLen.Store(int64(m.Len(tr))) })
	defer eLen.Stop()
	var mu sync.Mutex
	lastMirror := map[int]int{}
	eMirror := signals.NewEffect(func(tr *signals.Tracker) {
		top := mirror.Get(tr).view
		mu.Lock()
		lastMirror = top
		mu.Unlock()
	})
	defer eMirror.Stop()

	withDeadline(t, 60*time.Second, func() {
		goN(6, func(g int) {
			for i := range 400 {
				k := (i*7 + g) % 40
				switch (i + g) % 6 {
				case 0, 1:
					m.Update(k, func(v int, _ bool) int { return v + 1 })
				case 2:
					m.Set(k, i)
				case 3:
					m.Delete(k)
				case 4:
					e := signals.NewEffect(func(tr *signals.Tracker) { m.Get(tr, k) })
					m.Get(nil, k+1)
					e.Stop()
				case 5:
					signals.Batch(func() {
						m.Set(k, -i)
						m.Delete((k + 1) % 40)
					})
				}
			}
		})
	})
	final := collect(m.All(nil))
	for k := range 40 {
		v, ok := m.Get(nil, k)
		fv, fok := final[k]
		assert.Equal(t, fok, ok)
		assert.Equal(t, fv, v)
	}
	mu.Lock()
	assert.Equal(t, final, lastMirror, "the delta mirror followed every write")
	mu.Unlock()
	assert.Equal(t, int64(len(final)), lastLen.Load())
	assert.Equal(t, len(final), m.Len(nil))
}

// TestMapWritesRacingDrops hammers keys with writes and observers while
// idle nodes are dropped as eagerly as possible (every node creation
// sweeps): a write racing a drop must land on a live node, a drop must
// never take a value written but not yet recorded, and an effect that meets
// a dropped node must look again, or it would miss the next write.
func TestMapWritesRacingDrops(t *testing.T) {
	defer signals.SetMapMinSweep(signals.SetMapMinSweep(0))
	m := signals.NewMap[int, int](signals.MapLogSize(1))
	rounds := 2000
	if testing.Short() {
		rounds = 400
	}
	// The engine's false runaway panics (see engineRunaway) drop the
	// effects that were due, on any goroutine: count them, and nudge.
	var runaways atomic.Int32
	var maxRuns atomic.Uint64
	do := func(fn func()) {
		if p, r := engineRunaway(fn); p != nil {
			panic(p)
		} else if r {
			runaways.Add(1)
		}
	}
	withDeadline(t, 60*time.Second, func() {
		goN(4, func(g int) {
			for i := range rounds {
				k := 100*g + i%10 // this goroutine's keys: nobody else writes them
				var latest atomic.Pointer[slotOf]
				ran := make(chan struct{}, 1)
				var e *signals.Effect
				before := runaways.Load()
				do(func() {
					e = signals.NewEffect(func(tr *signals.Tracker) {
						v, ok := m.Get(tr, k)
						latest.Store(&slotOf{v, ok})
						select {
						case ran <- struct{}{}:
						default:
						}
					})
				})
				if e == nil {
					continue // NewEffect's flush raised the false runaway: no handle
				}
				do(func() { m.Set(k, i+1) })
				// The effect may run after Set returns: another goroutine's
				// Batch (every map write is one) holds effects back until
				// it ends (CONTRACT item 20). It must run then.
				deadline := time.After(10 * time.Second)
			wait:
				for {
					if *latest.Load() == (slotOf{i + 1, true}) {
						break wait
					}
					select {
					case <-ran:
					case <-time.After(50 * time.Millisecond):
						if runaways.Load() != before {
							// It dropped the due effects, maybe the run
							// that would have moved e off a dropped node:
							// nothing can tell e now. Not the Map's doing.
							break wait
						}
					case <-deadline:
						v, ok := m.Get(nil, k)
						info := signals.Inspect(e)
						t.Errorf("key %d: the effect never saw Set(%d) (the key is %d,%v; the effect: stale %v, stopped %v, runs %d, deps %d; runaways %d)",
							k, i+1, v, ok, info.Stale, info.Stopped, info.Runs, len(info.Deps), runaways.Load())
						break wait
					}
				}
				do(e.Stop)
				if r := signals.Inspect(e).Runs; r > maxRuns.Load() {
					maxRuns.Store(r)
				}
				if v, ok := m.Get(nil, k); v != i+1 || !ok {
					t.Errorf("key %d: Get = %d,%v after Set(%d)", k, v, ok, i+1)
				}
				do(func() { m.Update(k, func(v int, _ bool) int { return v * 2 }) })
				if v, ok := m.Get(nil, k); v != 2*(i+1) || !ok {
					t.Errorf("key %d: Get = %d,%v after Update", k, v, ok)
				}
				do(func() { m.Delete(k) })
				if _, ok := m.Get(nil, k); ok {
					t.Errorf("key %d: present after Delete", k)
				}
				// Writes to an idle node, which others may be dropping.
				for j := range 3 {
					do(func() { m.Set(k, -j-1) })
					if v, ok := m.Get(nil, k); v != -j-1 || !ok {
						t.Errorf("key %d: Get = %d,%v after Set(%d) of an idle key", k, v, ok, -j-1)
					}
					do(func() { m.Delete(k) })
				}
				// Idle nodes for the others to drop.
				c := signals.NewComputed(func(tr *signals.Tracker) int { v, _ := m.Get(tr, -k-1); return v })
				c.Peek()
				if t.Failed() {
					return
				}
			}
		})
	})
	assert.Equal(t, 0, m.Len(nil))
	assert.Empty(t, collect(m.All(nil)))
	if n := runaways.Load(); n > 0 {
		t.Logf("the engine raised %d false runaway panics (tolerated)", n)
	}
	// A dropped node makes its new observer run once more at most now and
	// then; before idle nodes had a grace sweep, effects chased nodes
	// hundreds of times here.
	t.Logf("at most %d runs of one iteration's effect (2 needed)", maxRuns.Load())
	assert.LessOrEqual(t, maxRuns.Load(), uint64(10), "an effect kept chasing dropped nodes")
}

func TestNilReceiversNameTheirType(t *testing.T) {
	var m *signals.Map[string, int]
	var c *signals.Clock
	var l *signals.Linked[int]
	var cur signals.Cursor
	for name, call := range map[string]func(){
		"Map.Get":      func() { m.Get(nil, "a") },
		"Map.Set":      func() { m.Set("a", 1) },
		"Map.Update":   func() { m.Update("a", func(int, bool) int { return 0 }) },
		"Map.Delete":   func() { m.Delete("a") },
		"Map.Len":      func() { m.Len(nil) },
		"Map.Keys":     func() { m.Keys(nil) },
		"Map.All":      func() { m.All(nil) },
		"Map.Changes":  func() { m.Changes(nil, &cur) },
		"Clock.Get":    func() { c.Get(nil) },
		"Clock.Peek":   func() { c.Peek() },
		"Clock.Period": func() { c.Period() },
		"Linked.Get":   func() { l.Get(nil) },
		"Linked.Peek":  func() { l.Peek() },
		"Linked.Set":   func() { l.Set(1) },
		"Linked.Update": func() {
			l.Update(func(v int) int { return v })
		},
		"Linked.Name": func() { l.Name() },
	} {
		typ := name[:strings.IndexByte(name, '.')]
		assert.PanicsWithValue(t, "signals: "+name+" called on a nil *"+typ, call)
	}
	// Nothing was left locked.
	s := signals.New(1)
	s.Set(2)
	assert.Equal(t, 2, s.Peek())
}
