package signals_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosignals/signals"
)

type change[T any] struct{ new, old T }

func TestWatch(t *testing.T) {
	s := signals.New(1)
	var got []change[int]
	w := signals.Watch(s, func(n, o int) { got = append(got, change[int]{n, o}) })
	defer w.Stop()
	assert.Empty(t, got, "no call for the initial value")
	s.Set(2)
	s.Set(2)
	s.Set(5)
	assert.Equal(t, []change[int]{{2, 1}, {5, 2}}, got)
	w.Stop()
	s.Set(6)
	assert.Len(t, got, 2, "stopped")
}

func TestWatchRunsUntracked(t *testing.T) {
	s, other := signals.New(1), signals.New(100)
	calls := 0
	w := signals.Watch(s, func(n, _ int) { calls++; _ = other.Get(nil) + other.Peek() })
	defer w.Stop()
	s.Set(2)
	other.Set(200)
	assert.Equal(t, 1, calls, "reads inside fn are not dependencies")
}

func TestWatchImmediateAndOnce(t *testing.T) {
	s := signals.New(1)
	var got []change[int]
	record := func(n, o int) { got = append(got, change[int]{n, o}) }

	w := signals.Watch(s, record, signals.Immediate())
	s.Set(2)
	w.Stop()
	assert.Equal(t, []change[int]{{1, 0}, {2, 1}}, got)

	got = nil
	w = signals.Watch(s, record, signals.Once())
	s.Set(3)
	s.Set(4)
	assert.Equal(t, []change[int]{{3, 2}}, got)
	assert.True(t, signals.Inspect(w).Stopped, "Once stops the watcher")

	got = nil
	w = signals.Watch(s, record, signals.Once(), signals.Immediate())
	s.Set(5)
	assert.Equal(t, []change[int]{{4, 0}}, got)
	assert.True(t, signals.Inspect(w).Stopped)
}

func TestWatchEqual(t *testing.T) {
	s := signals.New(0)
	var got []change[int]
	// Only moves of 10 or more count; old is the value of the last call.
	w := signals.Watch(s, func(n, o int) { got = append(got, change[int]{n, o}) },
		signals.WatchEqual(func(a, b int) bool { return a-b < 10 && b-a < 10 }))
	defer w.Stop()
	for _, v := range []int{3, 9, 12, 15, 25} {
		s.Set(v)
	}
	assert.Equal(t, []change[int]{{12, 0}, {25, 12}}, got)

	assert.PanicsWithValue(t, "signals: Watch of a Readable[int] given WatchEqual of func(string, string) bool", func() {
		signals.Watch(s, func(int, int) {}, signals.WatchEqual(func(a, b string) bool { return a == b }))
	})
}

func TestWatchNotComparable(t *testing.T) {
	s := signals.New([]int{1})
	calls := 0
	w := signals.Watch(s, func(n, o []int) { calls++ })
	defer w.Stop()
	s.Set([]int{1})
	s.Update(func(v []int) []int { return v })
	assert.Equal(t, 2, calls, "a slice never equals another: every change calls fn")
}

func TestWatchComputedAndEffectOptions(t *testing.T) {
	s := signals.New(1)
	sign := signals.NewComputed(func(tr *signals.Tracker) string {
		if s.Get(tr) < 0 {
			return "negative"
		}
		return "positive"
	})
	scope := signals.NewScope(context.Background())
	var got []change[string]
	w := signals.Watch[string](sign, func(n, o string) { got = append(got, change[string]{n, o}) },
		signals.WatchEffect(signals.WithEffectName("sign watcher"), signals.WithScope(scope)))
	s.Set(2)
	s.Set(-1)
	s.Set(-3)
	assert.Equal(t, []change[string]{{"negative", "positive"}}, got)
	assert.Equal(t, "sign watcher", w.Name())
	scope.Stop()
	assert.True(t, signals.Inspect(w).Stopped)
	s.Set(5)
	assert.Len(t, got, 1)
}

func TestWatchStopFromInside(t *testing.T) {
	s := signals.New(0)
	calls := 0
	var w *signals.Effect
	w = signals.Watch(s, func(n, _ int) {
		calls++
		if n >= 2 {
			w.Stop()
		}
	})
	for v := range 5 {
		s.Set(v + 1)
	}
	assert.Equal(t, 2, calls)
}

func TestWatchBadArguments(t *testing.T) {
	s := signals.New(0)
	assert.PanicsWithValue(t, "signals: Watch of a nil Readable", func() { signals.Watch[int](nil, func(int, int) {}) })
	assert.PanicsWithValue(t, "signals: Watch called with a nil function", func() { signals.Watch(s, nil) })
	assert.Panics(t, func() { signals.Watch(s, func(int, int) {}, signals.WatchOption{}) })
	assert.PanicsWithValue(t, "signals: WatchEqual(nil): pass an equality function", func() { signals.WatchEqual[int](nil) })
}

func TestWaitFor(t *testing.T) {
	s := signals.New(0)
	v, err := signals.WaitFor(context.Background(), s, func(v int) bool { return v == 0 })
	require.NoError(t, err)
	assert.Equal(t, 0, v, "already true: returns at once")

	withDeadline(t, 10*time.Second, func() {
		var wg sync.WaitGroup
		wg.Go(func() {
			for range 100 {
				s.Update(func(v int) int { return v + 1 })
			}
		})
		v, err := signals.WaitFor(context.Background(), s, func(v int) bool { return v >= 50 })
		require.NoError(t, err)
		assert.GreaterOrEqual(t, v, 50)
	})
}

func TestWaitForContext(t *testing.T) {
	s := signals.New(0)
	var calls atomic.Int32
	pred := func(v int) bool { calls.Add(1); return v < 0 }

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := signals.WaitFor(ctx, s, pred)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	n := calls.Load()
	s.Set(1)
	assert.Equal(t, n, calls.Load(), "the effect is stopped once WaitFor returned")

	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	_, err = signals.WaitFor(done, s, pred)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, n, calls.Load(), "a done context: pred never runs")
}

func TestWaitForPanicReachesTheWaiter(t *testing.T) {
	s := signals.New(0)
	withDeadline(t, 10*time.Second, func() {
		writerPanicked := make(chan any, 1)
		go func() {
			time.Sleep(5 * time.Millisecond)
			defer func() { writerPanicked <- recover() }()
			s.Set(-1)
		}()
		boom := errors.New("negative")
		assert.PanicsWithValue(t, boom, func() {
			signals.WaitFor(context.Background(), s, func(v int) bool {
				if v < 0 {
					panic(boom)
				}
				return false
			})
		})
		assert.Nil(t, <-writerPanicked, "the writer does not get the predicate's panic")
	})
	assert.Panics(t, func() { signals.WaitFor(nil, s, func(int) bool { return true }) })
	assert.Panics(t, func() { signals.WaitFor[int](context.Background(), nil, func(int) bool { return true }) })
	assert.Panics(t, func() { signals.WaitFor(context.Background(), s, nil) })
}

func TestValues(t *testing.T) {
	var observed atomic.Int32
	s := signals.New(0, signals.WithObserved[int](func() { observed.Add(1) }, func() { observed.Add(-1) }))
	withDeadline(t, 10*time.Second, func() {
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := range 1000 {
				s.Set(i + 1)
				if i%10 == 0 {
					time.Sleep(100 * time.Microsecond)
				}
			}
		})
		var got []int
		for v := range signals.Values(context.Background(), s) {
			assert.Equal(t, int32(1), observed.Load(), "observed while the loop runs")
			got = append(got, v)
			if v >= 500 {
				break
			}
		}
		// The writer's flush may be the one delivering the hooks (the
		// observed hooks run at the end of a flush in progress): once its
		// writes returned, every hook has run.
		wg.Wait()
		assert.Equal(t, int32(0), observed.Load(), "the effect stopped when the loop broke")
		assert.True(t, slices.IsSorted(got), "values come in order: %v", got)
		assert.GreaterOrEqual(t, got[len(got)-1], 500)
	})
}

func TestValuesContextAndPanic(t *testing.T) {
	var observed atomic.Int32
	s := signals.New(0, signals.WithObserved[int](func() { observed.Add(1) }, func() { observed.Add(-1) }))
	ctx, cancel := context.WithCancel(context.Background())
	withDeadline(t, 10*time.Second, func() {
		n := 0
		var wg sync.WaitGroup
		for v := range signals.Values(ctx, s) {
			n++
			if v == 0 {
				wg.Go(func() { s.Set(1); cancel() })
			}
		}
		wg.Wait()
		assert.GreaterOrEqual(t, n, 1)
		assert.Equal(t, int32(0), observed.Load())

		assert.PanicsWithValue(t, "body", func() {
			for range signals.Values(context.Background(), s) {
				panic("body")
			}
		})
		assert.Equal(t, int32(0), observed.Load(), "a panicking body stops the effect too")
	})
	for range signals.Values(ctx, s) {
		t.Fatal("a done context yields nothing")
	}
	assert.Panics(t, func() { signals.Values[int](nil, s) })
	assert.Panics(t, func() { signals.Values[int](context.Background(), nil) })
}

func TestValuesConflates(t *testing.T) {
	s := signals.New(0)
	var got []int
	for v := range signals.Values(context.Background(), s) {
		got = append(got, v)
		if v == 0 {
			for i := range 10 {
				s.Set(i + 1) // while the body runs
			}
			continue
		}
		break
	}
	assert.Equal(t, []int{0, 10}, got, "the latest value, not every one")
}
