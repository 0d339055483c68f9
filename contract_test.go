package signals_test

// One test per numbered item of the contract's single-goroutine semantics
// (../shared/CONTRACT.md), named after the item.

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosignals/signals"
)

// counted wraps a compute function and counts its runs.
func counted[T any](n *int, fn func(*signals.Tracker) T) *signals.Computed[T] {
	return signals.NewComputed(func(t *signals.Tracker) T { *n++; return fn(t) })
}

func TestItem01_Signals(t *testing.T) {
	s := signals.New(1)
	assert.Equal(t, 1, s.Get(nil))
	assert.Equal(t, 1, s.Peek())
	s.Set(2)
	assert.Equal(t, 2, s.Get(nil))
	assert.Equal(t, 2, s.Peek())

	t.Run("Peek and Get(nil) inside computations do not track", func(t *testing.T) {
		a, b := signals.New(1), signals.New(10)
		runs := 0
		c := counted(&runs, func(tr *signals.Tracker) int { return a.Get(tr) + b.Peek() + b.Get(nil) })
		effectRuns := 0
		e := signals.NewEffect(func(tr *signals.Tracker) { effectRuns++; _ = a.Get(tr) + b.Peek() + c.Get(nil) })
		defer e.Stop()
		assert.Equal(t, 21, c.Peek())
		b.Set(20)
		assert.Equal(t, 1, effectRuns, "an untracked read must not trigger the effect")
		assert.Equal(t, 21, c.Peek(), "an untracked read must not make the computed stale")
		a.Set(2)
		assert.Equal(t, 2, effectRuns)
		assert.Equal(t, 42, c.Peek())
	})

	t.Run("an equal Set changes nothing", func(t *testing.T) {
		s := signals.New(5)
		runs, effectRuns := 0, 0
		c := counted(&runs, func(tr *signals.Tracker) int { return s.Get(tr) * 2 })
		e := signals.NewEffect(func(tr *signals.Tracker) { effectRuns++; s.Get(tr) })
		defer e.Stop()
		c.Peek()
		s.Set(5)
		s.Update(func(v int) int { return v })
		c.Peek()
		assert.Equal(t, 1, runs)
		assert.Equal(t, 1, effectRuns)
	})

	t.Run("custom equality decides", func(t *testing.T) {
		s := signals.New("Go", signals.WithEqual(strings.EqualFold))
		effectRuns := 0
		e := signals.NewEffect(func(tr *signals.Tracker) { effectRuns++; s.Get(tr) })
		defer e.Stop()
		s.Set("GO")
		assert.Equal(t, "Go", s.Peek(), "an equal write must not store the value")
		assert.Equal(t, 1, effectRuns)
		s.Set("Rust")
		assert.Equal(t, 2, effectRuns)
	})
}

func TestItem01_DefaultEquality(t *testing.T) {
	t.Run("non-comparable types are never equal", func(t *testing.T) {
		s := signals.New([]int{1})
		runs := 0
		e := signals.NewEffect(func(tr *signals.Tracker) { runs++; s.Get(tr) })
		defer e.Stop()
		same := s.Peek()
		s.Set(same)
		assert.Equal(t, 2, runs)
		m := signals.New(map[string]int{})
		m.Set(m.Peek())
		f := signals.New(func() {})
		f.Set(nil)
	})
	t.Run("interfaces holding non-comparable values do not panic", func(t *testing.T) {
		s := signals.New[any]([]int{1})
		runs := 0
		e := signals.NewEffect(func(tr *signals.Tracker) { runs++; s.Get(tr) })
		defer e.Stop()
		assert.NotPanics(t, func() { s.Set([]int{1}) })
		assert.Equal(t, 2, runs)
		s.Set(3)
		s.Set(3)
		assert.Equal(t, 3, runs, "comparable dynamic values compare with ==")
		type box struct{ v any }
		b := signals.New(box{v: []int{1}})
		assert.NotPanics(t, func() { b.Set(box{v: []int{1}}) })
	})
	t.Run("comparable structs and pointers compare with ==", func(t *testing.T) {
		type point struct{ X, Y int }
		s := signals.New(point{1, 2})
		runs := 0
		e := signals.NewEffect(func(tr *signals.Tracker) { runs++; s.Get(tr) })
		defer e.Stop()
		s.Set(point{1, 2})
		assert.Equal(t, 1, runs)
		s.Set(point{2, 2})
		assert.Equal(t, 2, runs)
	})
}

func TestItem02_ComputedsAreLazyAndCached(t *testing.T) {
	a, b := signals.New(1), signals.New(2)
	runs := 0
	c := counted(&runs, func(tr *signals.Tracker) int { return a.Get(tr) + b.Get(tr) })
	assert.Equal(t, 0, runs, "must not run before the first read")
	a.Set(5)
	assert.Equal(t, 0, runs, "writes must not run an unread computed")
	assert.Equal(t, 7, c.Get(nil))
	assert.Equal(t, 7, c.Peek())
	assert.Equal(t, 1, runs, "a second read without changes must hit the cache")
	other := signals.New(0)
	other.Set(1)
	assert.Equal(t, 7, c.Peek())
	assert.Equal(t, 1, runs, "an unrelated write must not re-run it")
	b.Set(3)
	b.Set(4)
	assert.Equal(t, 1, runs, "still lazy after writes")
	assert.Equal(t, 9, c.Peek())
	assert.Equal(t, 2, runs, "two writes, one read, one run")
}

func TestItem03_EqualityCutoff(t *testing.T) {
	n := signals.New(3)
	parityRuns, labelRuns, effectRuns := 0, 0, 0
	parity := counted(&parityRuns, func(tr *signals.Tracker) int { return n.Get(tr) % 2 })
	label := counted(&labelRuns, func(tr *signals.Tracker) string {
		if parity.Get(tr) == 0 {
			return "even"
		}
		return "odd"
	})
	e := signals.NewEffect(func(tr *signals.Tracker) { effectRuns++; label.Get(tr) })
	defer e.Stop()
	n.Set(5)
	assert.Equal(t, 2, parityRuns)
	assert.Equal(t, 1, labelRuns, "parity kept its value: label must not re-run")
	assert.Equal(t, 1, effectRuns)
	n.Set(6)
	assert.Equal(t, 2, labelRuns)
	assert.Equal(t, 2, effectRuns)
	assert.Equal(t, "even", label.Peek())

	t.Run("custom equality on a computed", func(t *testing.T) {
		s := signals.New(1.04)
		downstream := 0
		rounded := signals.NewComputed(func(tr *signals.Tracker) float64 { return s.Get(tr) },
			signals.WithEqual(func(a, b float64) bool { return int(a*10) == int(b*10) }))
		d := counted(&downstream, func(tr *signals.Tracker) float64 { return rounded.Get(tr) * 2 })
		assert.InDelta(t, 2.08, d.Peek(), 1e-9)
		s.Set(1.06)
		assert.InDelta(t, 2.08, d.Peek(), 1e-9, "equal by custom equality: keeps the old value")
		assert.Equal(t, 1, downstream)
	})
}

func TestItem04_DynamicDependencies(t *testing.T) {
	useA, a, b := signals.New(true), signals.New("a"), signals.New("b")
	runs, effectRuns := 0, 0
	c := counted(&runs, func(tr *signals.Tracker) string {
		if useA.Get(tr) {
			return a.Get(tr)
		}
		return b.Get(tr)
	})
	e := signals.NewEffect(func(tr *signals.Tracker) { effectRuns++; c.Get(tr) })
	defer e.Stop()
	b.Set("b2")
	assert.Equal(t, 1, runs, "b was not read: writing it must not re-run c")
	useA.Set(false)
	assert.Equal(t, 2, runs)
	assert.Equal(t, "b2", c.Peek())
	a.Set("a2")
	assert.Equal(t, 2, runs, "the branch reading a is no longer taken")
	assert.Equal(t, 2, effectRuns)
	b.Set("b3")
	assert.Equal(t, 3, runs)
	assert.Equal(t, 3, effectRuns)

	t.Run("unobserved computed", func(t *testing.T) {
		runs := 0
		flag, x, y := signals.New(true), signals.New(1), signals.New(2)
		c := counted(&runs, func(tr *signals.Tracker) int {
			if flag.Get(tr) {
				return x.Get(tr)
			}
			return y.Get(tr)
		})
		c.Peek()
		flag.Set(false)
		c.Peek()
		x.Set(10)
		assert.Equal(t, 2, c.Peek())
		assert.Equal(t, 2, runs, "a dropped dependency must not make it stale")
	})
}

func TestItem05_GlitchFreedom(t *testing.T) {
	a := signals.New(1)
	b := signals.NewComputed(func(tr *signals.Tracker) int { return a.Get(tr) + 1 })
	c := signals.NewComputed(func(tr *signals.Tracker) int { return a.Get(tr) * 10 })
	var seen [][2]int
	d := signals.NewComputed(func(tr *signals.Tracker) int {
		x, y := b.Get(tr), c.Get(tr)
		seen = append(seen, [2]int{x, y})
		return x + y
	})
	var effectSaw [][3]int
	e := signals.NewEffect(func(tr *signals.Tracker) {
		effectSaw = append(effectSaw, [3]int{a.Get(tr), b.Get(tr), d.Get(tr)})
	})
	defer e.Stop()
	for _, v := range []int{2, 3, 7} {
		a.Set(v)
	}
	signals.Batch(func() { a.Set(4); a.Set(5) })
	for _, p := range seen {
		assert.Equal(t, (p[0]-1)*10, p[1], "d saw b and c from different states: %v", p)
	}
	for _, o := range effectSaw {
		assert.Equal(t, o[0]+1, o[1], "effect saw b inconsistent with a: %v", o)
		assert.Equal(t, o[0]+1+o[0]*10, o[2], "effect saw d inconsistent with a: %v", o)
	}
	assert.Len(t, effectSaw, 5, "one run at creation, one per write, one per batch")
}

func TestItem06_AtMostOnce(t *testing.T) {
	a := signals.New(1)
	var runsB, runsC, runsD int
	b := counted(&runsB, func(tr *signals.Tracker) int { return a.Get(tr) + 1 })
	c := counted(&runsC, func(tr *signals.Tracker) int { return a.Get(tr) + b.Get(tr) })
	d := counted(&runsD, func(tr *signals.Tracker) int { return b.Get(tr) + c.Get(tr) })
	effectRuns := 0
	e1 := signals.NewEffect(func(tr *signals.Tracker) { effectRuns++; d.Get(tr); c.Get(tr) })
	e2 := signals.NewEffect(func(tr *signals.Tracker) { b.Get(tr); d.Get(tr) })
	defer e1.Stop()
	defer e2.Stop()
	runsB, runsC, runsD, effectRuns = 0, 0, 0, 0
	a.Set(2)
	assert.Equal(t, [4]int{1, 1, 1, 1}, [4]int{runsB, runsC, runsD, effectRuns})
	signals.Batch(func() { a.Set(3); a.Set(4); a.Set(5) })
	assert.Equal(t, [4]int{2, 2, 2, 2}, [4]int{runsB, runsC, runsD, effectRuns})

	t.Run("a computed read mid-batch runs again after a later write", func(t *testing.T) {
		s := signals.New(1)
		runs := 0
		c := counted(&runs, func(tr *signals.Tracker) int { return s.Get(tr) * 2 })
		signals.Batch(func() {
			s.Set(2)
			assert.Equal(t, 4, c.Peek())
			assert.Equal(t, 4, c.Peek())
			s.Set(3)
			assert.Equal(t, 6, c.Peek())
		})
		assert.Equal(t, 2, runs)
	})
}

func TestItem07_Effects(t *testing.T) {
	s := signals.New(1)
	var log []string
	e := signals.NewEffect(func(tr *signals.Tracker) { log = append(log, fmt.Sprint("run ", s.Get(tr))) })
	require.Equal(t, []string{"run 1"}, log, "the first run happens inside NewEffect")
	s.Set(2)
	require.Equal(t, []string{"run 1", "run 2"}, log, "re-run before Set returns")
	e.Stop()
	s.Set(3)
	assert.Equal(t, []string{"run 1", "run 2"}, log, "no runs after Stop")
	assert.NotPanics(t, e.Stop, "Stop is idempotent")

	t.Run("creation order within a round", func(t *testing.T) {
		src := signals.New(0)
		mid := signals.NewComputed(func(tr *signals.Tracker) int { return src.Get(tr) })
		var order []int
		var effs []*signals.Effect
		for i := range 5 {
			// Alternate direct and indirect dependencies so that
			// propagation reaches them out of creation order.
			effs = append(effs, signals.NewEffect(func(tr *signals.Tracker) {
				if i%2 == 0 {
					mid.Get(tr)
				} else {
					src.Get(tr)
				}
				order = append(order, i)
			}))
		}
		order = nil
		src.Set(1)
		assert.Equal(t, []int{0, 1, 2, 3, 4}, order)
		for _, e := range effs {
			e.Stop()
		}
	})

	t.Run("Stop runs cleanups in reverse order", func(t *testing.T) {
		s := signals.New(0)
		var log []string
		e := signals.NewEffect(func(tr *signals.Tracker) {
			v := s.Get(tr)
			tr.OnCleanup(func() { log = append(log, fmt.Sprint("first ", v)) })
			tr.Untracked().OnCleanup(func() { log = append(log, fmt.Sprint("second ", v)) })
		})
		s.Set(1)
		assert.Equal(t, []string{"second 0", "first 0"}, log, "cleanups run before the next run")
		e.Stop()
		assert.Equal(t, []string{"second 0", "first 0", "second 1", "first 1"}, log)
		e.Stop()
		assert.Len(t, log, 4, "a second Stop runs nothing")
	})

	t.Run("Stop from inside the effect", func(t *testing.T) {
		s := signals.New(0)
		runs, cleanups := 0, 0
		var e *signals.Effect
		e = signals.NewEffect(func(tr *signals.Tracker) {
			runs++
			tr.OnCleanup(func() { cleanups++ })
			if s.Get(tr) == 1 {
				e.Stop()
				e.Stop()
			}
		})
		s.Set(1)
		assert.Equal(t, 2, runs)
		assert.Equal(t, 2, cleanups, "the previous run's cleanup and this run's, at stop")
		s.Set(2)
		assert.Equal(t, 2, runs)
	})
}

func TestItem08_Batch(t *testing.T) {
	a, b := signals.New(1), signals.New(2)
	sum := signals.NewComputed(func(tr *signals.Tracker) int { return a.Get(tr) + b.Get(tr) })
	var seen []int
	e := signals.NewEffect(func(tr *signals.Tracker) { seen = append(seen, sum.Get(tr)) })
	defer e.Stop()
	signals.Batch(func() {
		a.Set(10)
		assert.Equal(t, 10, a.Peek(), "reads inside a batch see new values")
		assert.Equal(t, 12, sum.Peek(), "computeds included")
		signals.Batch(func() { b.Set(20) })
		assert.Equal(t, []int{3}, seen, "the inner batch must not flush")
		b.Set(30)
	})
	assert.Equal(t, []int{3, 40}, seen, "one run after the outermost batch")

	t.Run("effects still run when the batch body panics", func(t *testing.T) {
		assert.PanicsWithValue(t, "boom", func() {
			signals.Batch(func() { a.Set(100); panic("boom") })
		})
		assert.Equal(t, []int{3, 40, 130}, seen)
	})
	assert.PanicsWithValue(t, "signals: Batch called with a nil function", func() { signals.Batch(nil) })
}

func TestItem09_EffectsMayWriteSignals(t *testing.T) {
	t.Run("writes inside an effect are batched", func(t *testing.T) {
		src, x, y := signals.New(0), signals.New(0), signals.New(0)
		w := signals.NewEffect(func(tr *signals.Tracker) {
			v := src.Get(tr)
			x.Set(v)
			y.Set(v * 2)
		})
		defer w.Stop()
		var seen [][2]int
		r := signals.NewEffect(func(tr *signals.Tracker) { seen = append(seen, [2]int{x.Get(tr), y.Get(tr)}) })
		defer r.Stop()
		src.Set(1)
		assert.Equal(t, [][2]int{{0, 0}, {1, 2}}, seen, "two writes, one downstream run, after the writer")
	})

	t.Run("an effect that writes what it read settles", func(t *testing.T) {
		s := signals.New(0)
		runs := 0
		e := signals.NewEffect(func(tr *signals.Tracker) {
			runs++
			if v := s.Get(tr); v < 10 {
				s.Set(v + 1)
			}
		})
		defer e.Stop()
		assert.Equal(t, 10, s.Peek())
		assert.Equal(t, 11, runs)
	})

	t.Run("a loop that never settles panics with ErrCycle", func(t *testing.T) {
		s := signals.New(0)
		var e *signals.Effect
		r := capturePanic(func() {
			e = signals.NewEffect(func(tr *signals.Tracker) { s.Set(s.Get(tr) + 1) })
		})
		require.NotNil(t, r)
		err, ok := r.(error)
		require.True(t, ok, "panic value %v is not an error", r)
		assert.ErrorIs(t, err, signals.ErrCycle)
		assert.GreaterOrEqual(t, s.Peek(), 100, "at least 100 rounds before giving up")
		assert.Less(t, s.Peek(), 10000, "bounded")
		// The graph stays usable.
		other := signals.New(1)
		c := signals.NewComputed(func(tr *signals.Tracker) int { return other.Get(tr) * 3 })
		other.Set(2)
		assert.Equal(t, 6, c.Peek())
		if e != nil {
			e.Stop()
		}
	})

	t.Run("a loop through two effects never settles either", func(t *testing.T) {
		a, b := signals.New(0), signals.New(0)
		e1 := signals.NewEffect(func(tr *signals.Tracker) { b.Set(a.Get(tr) + 1) })
		defer e1.Stop()
		var e2 *signals.Effect
		r := capturePanic(func() {
			e2 = signals.NewEffect(func(tr *signals.Tracker) { a.Set(b.Get(tr) + 1) })
		})
		require.NotNil(t, r)
		assert.ErrorIs(t, r.(error), signals.ErrCycle)
		if e2 != nil {
			e2.Stop()
		}
	})
}

func TestItem10_Panics(t *testing.T) {
	t.Run("a compute panic reaches every reader until a dependency changes", func(t *testing.T) {
		s := signals.New(0)
		runs := 0
		boom := errors.New("boom")
		c := counted(&runs, func(tr *signals.Tracker) int {
			if v := s.Get(tr); v < 0 {
				panic(boom)
			} else {
				return v
			}
		})
		d := signals.NewComputed(func(tr *signals.Tracker) int { return c.Get(tr) + 1 })
		s.Set(-1)
		assert.PanicsWithError(t, "boom", func() { c.Peek() })
		assert.PanicsWithError(t, "boom", func() { d.Peek() })
		assert.PanicsWithError(t, "boom", func() { c.Get(nil) })
		assert.Equal(t, 1, runs, "the panic is cached")
		r := capturePanic(func() { d.Peek() })
		assert.Same(t, boom, r, "the same panic value")
		s.Set(4)
		assert.Equal(t, 5, d.Peek())
		assert.Equal(t, 2, runs)
	})

	t.Run("a panicking effect does not stop the others", func(t *testing.T) {
		s := signals.New(0)
		var ran []string
		e1 := signals.NewEffect(func(tr *signals.Tracker) {
			if s.Get(tr) == 1 {
				panic("first")
			}
		})
		e2 := signals.NewEffect(func(tr *signals.Tracker) {
			if s.Get(tr) == 1 {
				panic("second")
			}
		})
		e3 := signals.NewEffect(func(tr *signals.Tracker) { ran = append(ran, fmt.Sprint(s.Get(tr))) })
		defer e1.Stop()
		defer e2.Stop()
		defer e3.Stop()
		assert.PanicsWithValue(t, "first", func() { s.Set(1) }, "the first panic is raised after the flush")
		assert.Equal(t, []string{"0", "1"}, ran, "later effects still ran")
		s.Set(2)
		assert.Equal(t, []string{"0", "1", "2"}, ran)
		assert.PanicsWithValue(t, "first", func() { s.Set(1) }, "the effect stayed subscribed")
	})

	t.Run("a panic in the first run stops the effect", func(t *testing.T) {
		s := signals.New(0)
		runs := 0
		assert.PanicsWithValue(t, "first run", func() {
			signals.NewEffect(func(tr *signals.Tracker) {
				runs++
				s.Get(tr)
				panic("first run")
			})
		})
		s.Set(1)
		assert.Equal(t, 1, runs, "stopped: never runs again")
	})

	t.Run("a cleanup panic is raised after the run", func(t *testing.T) {
		s := signals.New(0)
		runs := 0
		e := signals.NewEffect(func(tr *signals.Tracker) {
			runs++
			if s.Get(tr) == 0 {
				tr.OnCleanup(func() { panic("cleanup") })
			}
		})
		defer e.Stop()
		assert.PanicsWithValue(t, "cleanup", func() { s.Set(1) })
		assert.Equal(t, 2, runs, "the run after the failing cleanup still happened")
	})

	t.Run("equality reads are not tracked", func(t *testing.T) {
		s, tolerance := signals.New(1), signals.New(0)
		runs := 0
		c := signals.NewComputed(func(tr *signals.Tracker) int { return s.Get(tr) },
			signals.WithEqual(func(a, b int) bool { d := a - b; return d <= tolerance.Peek() && -d <= tolerance.Peek() }))
		e := signals.NewEffect(func(tr *signals.Tracker) { runs++; c.Get(tr) })
		defer e.Stop()
		s.Set(2)
		tolerance.Set(5)
		assert.Equal(t, 2, runs, "writing a signal the equality read must not re-run anything")
		s.Set(4)
		assert.Equal(t, 2, runs, "equal within tolerance")
	})
}

func TestItem11_Cycles(t *testing.T) {
	assertCycle := func(t *testing.T, read func()) {
		t.Helper()
		r := capturePanic(read)
		require.NotNil(t, r, "a cycle must panic")
		err, ok := r.(error)
		require.True(t, ok, "panic value %v is not an error", r)
		assert.ErrorIs(t, err, signals.ErrCycle)
	}
	t.Run("direct", func(t *testing.T) {
		var c *signals.Computed[int]
		c = signals.NewComputed(func(tr *signals.Tracker) int { return c.Get(tr) + 1 })
		assertCycle(t, func() { c.Peek() })
		assertCycle(t, func() { c.Peek() })
	})
	t.Run("through Untracked", func(t *testing.T) {
		var c *signals.Computed[int]
		c = signals.NewComputed(func(tr *signals.Tracker) int { return c.Get(tr.Untracked()) + 1 })
		assertCycle(t, func() { c.Peek() })
	})
	t.Run("through other computeds, from an effect", func(t *testing.T) {
		on := signals.New(false)
		var a, b *signals.Computed[int]
		a = signals.NewComputed(func(tr *signals.Tracker) int {
			if on.Get(tr) {
				return b.Get(tr) + 1
			}
			return 0
		})
		b = signals.NewComputed(func(tr *signals.Tracker) int { return a.Get(tr) + 1 })
		var seen []int
		e := signals.NewEffect(func(tr *signals.Tracker) {
			defer func() {
				if r := recover(); r != nil {
					seen = append(seen, -1)
					assert.ErrorIs(t, r.(error), signals.ErrCycle)
				}
			}()
			seen = append(seen, b.Get(tr))
		})
		defer e.Stop()
		on.Set(true)
		on.Set(false)
		assert.Equal(t, []int{1, -1, 1}, seen, "the cycle is reported, and the graph recovers once it is broken")
	})
}

func TestItem13_NestedEffectsAreNotOwned(t *testing.T) {
	outer, inner := signals.New(0), signals.New(0)
	innerRuns := 0
	var made []*signals.Effect
	e := signals.NewEffect(func(tr *signals.Tracker) {
		outer.Get(tr)
		made = append(made, signals.NewEffect(func(tr *signals.Tracker) { innerRuns++; inner.Get(tr) }))
	})
	outer.Set(1)
	e.Stop()
	require.Len(t, made, 2)
	innerRuns = 0
	inner.Set(1)
	assert.Equal(t, 2, innerRuns, "inner effects outlive the outer run and its Stop")
	for _, m := range made {
		m.Stop()
	}

	t.Run("tied explicitly with OnCleanup", func(t *testing.T) {
		outer, inner := signals.New(0), signals.New(0)
		innerRuns := 0
		e := signals.NewEffect(func(tr *signals.Tracker) {
			outer.Get(tr)
			in := signals.NewEffect(func(tr *signals.Tracker) { innerRuns++; inner.Get(tr) })
			tr.OnCleanup(in.Stop)
		})
		outer.Set(1)
		outer.Set(2)
		innerRuns = 0
		inner.Set(1)
		assert.Equal(t, 1, innerRuns, "only the latest inner effect is alive")
		e.Stop()
		inner.Set(2)
		assert.Equal(t, 1, innerRuns)
	})
}

func TestTrackerMisuse(t *testing.T) {
	var nilTracker *signals.Tracker
	assert.Nil(t, nilTracker.Untracked())
	assert.PanicsWithValue(t, "signals: OnCleanup called on a nil Tracker; only an effect's Tracker has cleanups",
		func() { nilTracker.OnCleanup(func() {}) })
	c := signals.NewComputed(func(tr *signals.Tracker) int { tr.OnCleanup(func() {}); return 1 })
	assert.PanicsWithValue(t, "signals: OnCleanup called from a compute function; only effects have cleanups", func() { c.Peek() })
	e := signals.NewEffect(func(tr *signals.Tracker) {
		assert.PanicsWithValue(t, "signals: OnCleanup called with a nil function", func() { tr.OnCleanup(nil) })
	})
	e.Stop()
	assert.Panics(t, func() { signals.NewComputed[int](nil) })
	assert.Panics(t, func() { signals.NewEffect(nil) })
	assert.Panics(t, func() { signals.WithEqual[int](nil) })
	assert.Panics(t, func() { signals.New(1).Update(nil) })
	assert.Panics(t, func() { signals.New(1, signals.Option[int]{}) })
}

// capturePanic returns what fn panicked with, or nil.
func capturePanic(fn func()) (r any) {
	defer func() { r = recover() }()
	fn()
	return nil
}

func TestItem10_FirstRunPanicStillFlushesItsWrites(t *testing.T) {
	s := signals.New(0)
	var seen []int
	e := signals.NewEffect(func(tr *signals.Tracker) { seen = append(seen, s.Get(tr)) })
	defer e.Stop()
	assert.PanicsWithValue(t, "after writing", func() {
		signals.NewEffect(func(tr *signals.Tracker) {
			s.Set(7)
			panic("after writing")
		})
	})
	assert.Equal(t, []int{0, 7}, seen, "the effect made due by the failed first run's write ran")
}

func TestItem09_WritesInAFirstRunAreBatched(t *testing.T) {
	x := signals.New(0)
	var seen []int
	r := signals.NewEffect(func(tr *signals.Tracker) { seen = append(seen, x.Get(tr)) })
	defer r.Stop()
	w := signals.NewEffect(func(tr *signals.Tracker) {
		x.Set(1)
		x.Set(2)
		assert.Equal(t, []int{0}, seen, "the reader must not run inside the writer's first run")
	})
	defer w.Stop()
	assert.Equal(t, []int{0, 2}, seen, "two writes, one run, after the first run returned")
}

// An effect's writes to another graph are batched with its flush only for
// the signals it wrote in its first run (doc.go: without goroutine identity
// the engine cannot tell a later run's writes from another goroutine's). A
// Batch around such writes still makes them cause one run downstream.
func TestItem09_ALaterRunsWritesToAnotherGraphInABatch(t *testing.T) {
	src, x, y := signals.New(0), signals.New(0), signals.New(0)
	w := signals.NewEffect(func(tr *signals.Tracker) {
		if v := src.Get(tr); v > 0 { // writes nothing in its first run
			signals.Batch(func() {
				x.Set(v)
				y.Set(v * 2)
			})
		}
	})
	defer w.Stop()
	var seen [][2]int
	r := signals.NewEffect(func(tr *signals.Tracker) { seen = append(seen, [2]int{x.Get(tr), y.Get(tr)}) })
	defer r.Stop()
	src.Set(1)
	src.Set(2)
	assert.Equal(t, [][2]int{{0, 0}, {1, 2}, {2, 4}}, seen, "two writes, one downstream run each time")
}
