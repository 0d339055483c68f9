package signals_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosignals/signals"
)

func TestComputedFromSeesItsPreviousValue(t *testing.T) {
	s := signals.New(3)
	type call struct {
		prev int
		ok   bool
	}
	var calls []call
	maxSeen := signals.NewComputedFrom(func(tr *signals.Tracker, prev int, ok bool) int {
		calls = append(calls, call{prev, ok})
		v := s.Get(tr)
		if v < 0 {
			panic("negative")
		}
		if ok && prev > v {
			return prev
		}
		return v
	})
	assert.Equal(t, 3, maxSeen.Peek())
	s.Set(1)
	assert.Equal(t, 3, maxSeen.Peek())
	s.Set(7)
	assert.Equal(t, 7, maxSeen.Peek())
	s.Set(-1)
	assert.PanicsWithValue(t, "negative", func() { maxSeen.Peek() })
	s.Set(2)
	assert.Equal(t, 2, maxSeen.Peek(), "after a panic it starts afresh")
	assert.Equal(t, []call{{0, false}, {3, true}, {3, true}, {7, true}, {0, false}}, calls)
}

func TestComputedFromPrevIsTheLatestResult(t *testing.T) {
	// With a coarse equality, the computed keeps an older equal value for
	// its readers; prev is still what fn returned last, so that state in
	// the value moves on.
	s := signals.New(10)
	var prevs []int
	c := signals.NewComputedFrom(func(tr *signals.Tracker, prev int, ok bool) int {
		prevs = append(prevs, prev)
		return s.Get(tr)
	}, signals.WithEqual(func(a, b int) bool { return a/10 == b/10 }))
	runs := 0
	e := signals.NewEffect(func(tr *signals.Tracker) { runs++; c.Get(tr) })
	defer e.Stop()
	s.Set(11)
	assert.Equal(t, 10, c.Peek(), "readers keep the older, equal value")
	assert.Equal(t, 1, runs, "and are not disturbed")
	s.Set(25)
	assert.Equal(t, 25, c.Peek())
	assert.Equal(t, []int{0, 10, 11}, prevs)
}

func TestComputedFromUnderConcurrentWrites(t *testing.T) {
	// The computed keeps the history of the values it saw as an immutable
	// slice. Restarted runs (a value read changed under them) must not leak
	// into prev: the history stays strictly increasing, as the source is.
	s := signals.New(0)
	hist := signals.NewComputedFrom(func(tr *signals.Tracker, prev []int, ok bool) []int {
		v := s.Get(tr)
		if ok && prev[len(prev)-1] == v {
			return prev
		}
		return append(slices.Clip(prev), v)
	})
	e := signals.NewEffect(func(tr *signals.Tracker) { hist.Get(tr) })
	defer e.Stop()
	withDeadline(t, 20*time.Second, func() {
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 300 {
					s.Update(func(v int) int { return v + 1 })
				}
			})
		}
		for range 2 {
			wg.Go(func() {
				for range 300 {
					h := hist.Peek()
					if !slices.IsSorted(h) || len(slices.Compact(slices.Clone(h))) != len(h) {
						t.Errorf("history not strictly increasing: %v", h)
						return
					}
				}
			})
		}
		wg.Wait()
	})
	h := hist.Peek()
	assert.Equal(t, 1200, h[len(h)-1])
	assert.True(t, slices.IsSorted(h))
}

func TestEffectFromCarriesState(t *testing.T) {
	s := signals.New(1)
	var got []int
	e := signals.NewEffectFrom(func(tr *signals.Tracker, runs int, ok bool) int {
		v := s.Get(tr)
		if v == 0 {
			panic(errors.New("zero"))
		}
		got = append(got, runs)
		return runs + 1
	})
	defer e.Stop()
	s.Set(2)
	s.Set(3)
	assert.Panics(t, func() { s.Set(0) })
	s.Set(4)
	assert.Equal(t, []int{0, 1, 2, 0}, got, "after a panic the state starts afresh")
}

func TestFromRejectsNil(t *testing.T) {
	assert.PanicsWithValue(t, "signals: NewComputedFrom called with a nil function", func() {
		signals.NewComputedFrom[int](nil)
	})
	assert.PanicsWithValue(t, "signals: NewEffectFrom called with a nil function", func() {
		signals.NewEffectFrom[int](nil)
	})
	assert.PanicsWithValue(t, "signals: NewLinked called with a nil function", func() {
		signals.NewLinked[int](nil)
	})
	assert.PanicsWithValue(t, "signals: Linked.Update called with a nil function", func() {
		signals.NewLinked(func(*signals.Tracker, int, bool) int { return 0 }).Update(nil)
	})
}

// selection follows a list of options: it keeps the selected option while
// the list still has it, and falls back to the first one otherwise.
func selection(options *signals.Signal[[]string]) *signals.Linked[string] {
	return signals.NewLinked(func(tr *signals.Tracker, prev string, ok bool) string {
		opts := options.Get(tr)
		if ok && slices.Contains(opts, prev) {
			return prev
		}
		if len(opts) == 0 {
			return ""
		}
		return opts[0]
	})
}

func TestLinked(t *testing.T) {
	options := signals.New([]string{"a", "b", "c"})
	sel := selection(options)
	var seen []string
	e := signals.NewEffect(func(tr *signals.Tracker) { seen = append(seen, sel.Get(tr)) })
	defer e.Stop()

	sel.Set("b")
	assert.Equal(t, "b", sel.Peek())
	sel.Set("b") // equal: nothing
	options.Set([]string{"b", "c"})
	assert.Equal(t, "b", sel.Peek(), "the function kept the selected option")
	options.Set([]string{"c", "d"})
	assert.Equal(t, "c", sel.Peek(), "gone: back to the first option")

	sel.Set("not an option") // a Linked accepts any value until the function runs
	assert.Equal(t, "not an option", sel.Peek())
	options.Set([]string{"c", "d", "e"})
	assert.Equal(t, "c", sel.Peek(), "a new run replaces what was set")

	sel.Update(func(s string) string { return s + "!" })
	assert.Equal(t, "c!", sel.Peek())
	assert.Equal(t, []string{"a", "b", "c", "not an option", "c", "c!"}, seen)
}

func TestLinkedResetsEvenToAnEqualResult(t *testing.T) {
	s := signals.New(1)
	parity := signals.NewLinked(func(tr *signals.Tracker, _ int, _ bool) int { return s.Get(tr) % 2 })
	require.Equal(t, 1, parity.Peek())
	parity.Set(5)
	require.Equal(t, 5, parity.Peek())
	s.Set(3) // the function runs again, and returns 1 again
	assert.Equal(t, 1, parity.Peek())
}

func TestLinkedUpdateIsAtomic(t *testing.T) {
	s := signals.New(0)
	l := signals.NewLinked(func(tr *signals.Tracker, _ int, _ bool) int { return s.Get(tr) })
	withDeadline(t, 20*time.Second, func() {
		goN(8, func(int) {
			for range 250 {
				l.Update(func(v int) int { return v + 1 })
			}
		})
	})
	assert.Equal(t, 2000, l.Peek(), "no Update lost")
	s.Set(7)
	assert.Equal(t, 7, l.Peek())
	assert.Equal(t, "", l.Name())
	info := signals.Inspect(l)
	assert.Equal(t, "computed", info.Kind)
}

func TestLinkedPanicsAreCached(t *testing.T) {
	s := signals.New(1)
	l := signals.NewLinked(func(tr *signals.Tracker, prev int, ok bool) int {
		v := s.Get(tr)
		if v == 0 {
			panic("zero")
		}
		if ok {
			return prev + v
		}
		return v
	}, signals.WithName[int]("acc"))
	assert.Equal(t, 1, l.Peek())
	l.Set(10)
	s.Set(0)
	assert.PanicsWithValue(t, "zero", func() { l.Peek() })
	s.Set(2)
	assert.Equal(t, 2, l.Peek(), "after a panic the function starts afresh")
	assert.Equal(t, "acc", l.Name())
}
