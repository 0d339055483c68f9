package signals_test

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
	"weak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosignals/signals"
)

// record is a slice that effects running on other goroutines append to.
type record[T any] struct {
	mu sync.Mutex
	s  []T
}

func (r *record[T]) add(v T) {
	r.mu.Lock()
	r.s = append(r.s, v)
	r.mu.Unlock()
}

func (r *record[T]) get() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]T(nil), r.s...)
}

// In a synctest bubble time is virtual: it advances only when every
// goroutine of the bubble is blocked, and the bubble fails if a goroutine
// (a ticker left running) is still blocked when the test function returns.

func TestClockTicksOnlyWhileObserved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		c := signals.NewClock(time.Second)
		assert.Equal(t, start, c.Peek())

		time.Sleep(5 * time.Second)
		synctest.Wait()
		assert.Equal(t, start, c.Peek(), "nothing observes the clock: it stands still")

		var seen record[time.Duration]
		e := signals.NewEffect(func(tr *signals.Tracker) { seen.add(c.Get(tr).Sub(start)) })
		assert.Equal(t, []time.Duration{0, 5 * time.Second}, seen.get(),
			"the first observer saw the old time, then the current time before NewEffect returned")

		time.Sleep(3*time.Second + time.Millisecond)
		synctest.Wait()
		assert.Equal(t, []time.Duration{0, 5 * time.Second, 6 * time.Second, 7 * time.Second, 8 * time.Second}, seen.get())

		e.Stop()
		time.Sleep(10 * time.Second)
		synctest.Wait()
		assert.Equal(t, start.Add(8*time.Second), c.Peek(), "stopped with its last observer")
		assert.Len(t, seen.get(), 5)

		// Observed again, through a computed: ticking again.
		minute := signals.NewComputed(func(tr *signals.Tracker) int { return int(c.Get(tr).Sub(start) / time.Minute) })
		var minutes record[int]
		e = signals.NewEffect(func(tr *signals.Tracker) { minutes.add(minute.Get(tr)) })
		time.Sleep(time.Minute)
		synctest.Wait()
		e.Stop()
		assert.Equal(t, []int{0, 1}, minutes.get(), "the computed cuts off 59 of 60 ticks")
		// The bubble ends only if the ticker goroutine has exited.
	})
}

func TestClockSeveralObservers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := signals.NewClock(time.Second, signals.WithName[time.Time]("now"))
		var runs [2]atomic.Int32
		e0 := signals.NewEffect(func(tr *signals.Tracker) { c.Get(tr); runs[0].Add(1) })
		e1 := signals.NewEffect(func(tr *signals.Tracker) { c.Get(tr); runs[1].Add(1) })
		time.Sleep(2*time.Second + time.Millisecond)
		synctest.Wait()
		assert.Equal(t, [2]int32{3, 3}, [2]int32{runs[0].Load(), runs[1].Load()}, "one ticker for both")
		e0.Stop()
		time.Sleep(time.Second)
		synctest.Wait()
		assert.Equal(t, [2]int32{3, 4}, [2]int32{runs[0].Load(), runs[1].Load()}, "still observed by the second effect")
		e1.Stop()
		assert.Equal(t, "now", signals.Inspect(c).Name)
	})
}

func TestClockUserObservedHookSeesItSet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var c *signals.Clock
		var atFirst time.Time
		c = signals.NewClock(time.Second, signals.WithObserved[time.Time](func() { atFirst = c.Peek() }, nil))
		time.Sleep(time.Hour)
		e := signals.NewEffect(func(tr *signals.Tracker) { c.Get(tr) })
		e.Stop()
		assert.Equal(t, start.Add(time.Hour), atFirst)
	})
}

func TestClockRejectsBadPeriod(t *testing.T) {
	assert.PanicsWithValue(t, "signals: NewClock(0s): the period must be positive", func() { signals.NewClock(0) })
	assert.Panics(t, func() { signals.NewClock(-time.Second) })
}

func TestClockUnobservedIsCollected(t *testing.T) {
	w := func() weak.Pointer[signals.Clock] {
		c := signals.NewClock(time.Millisecond)
		e := signals.NewEffect(func(tr *signals.Tracker) { c.Get(tr) })
		e.Stop()
		return weak.Make(c)
	}()
	for range 20 {
		runtime.GC()
		if w.Value() == nil {
			return
		}
		time.Sleep(time.Millisecond) // let the ticker goroutine see its stop
	}
	require.Nil(t, w.Value(), "a clock nothing observes (its ticker stopped) must be collectable")
}
