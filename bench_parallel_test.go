package signals_test

// Benchmarks of the package under parallel use, with hand-written baselines
// in the same run. Run them with several CPU counts and compare each
// benchmark's throughput at -cpu 2 with that at -cpu 1:
//
//	go test -run '^$' -bench 'Parallel' -cpu 1,2 -count 5 .
//
// ns/op falls as throughput scales: ns/op at -cpu 1 divided by ns/op at
// -cpu 2 is the speedup.

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gosignals/signals"
)

// Many goroutines read one current computed.
func BenchmarkParallel_PeekCurrentComputed(b *testing.B) {
	s := signals.New(21)
	c := signals.NewComputed(func(t *signals.Tracker) int { return s.Get(t) * 2 })
	c.Peek()
	b.RunParallel(func(pb *testing.PB) {
		n := 0
		for pb.Next() {
			n += c.Peek()
		}
		sinkParallel.Add(int64(n))
	})
}

// Many goroutines read one signal.
func BenchmarkParallel_PeekSignal(b *testing.B) {
	s := signals.New(21)
	b.RunParallel(func(pb *testing.PB) {
		n := 0
		for pb.Next() {
			n += s.Peek()
		}
		sinkParallel.Add(int64(n))
	})
}

// Each goroutine has its own graph, a signal and a computed over it: it
// writes the signal and reads the computed.
func BenchmarkParallel_IndependentGraphs(b *testing.B) {
	b.RunParallel(func(pb *testing.PB) {
		s := signals.New(0)
		c := signals.NewComputed(func(t *signals.Tracker) int { return s.Get(t) + 1 })
		n := 0
		for i := 0; pb.Next(); i++ {
			s.Set(i)
			n += c.Peek()
		}
		sinkParallel.Add(int64(n))
	})
}

// Each goroutine increments a counter of its own.
func BenchmarkParallel_DistinctCounters(b *testing.B) {
	b.RunParallel(func(pb *testing.PB) {
		s := signals.New(0)
		for pb.Next() {
			s.Update(inc)
		}
		sinkParallel.Add(int64(s.Peek()))
	})
}

// Every goroutine increments one counter.
func BenchmarkParallel_ContendedCounter(b *testing.B) {
	s := signals.New(0)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Update(inc)
		}
	})
	sinkParallel.Add(int64(s.Peek()))
}

// Baseline for the reads: an atomic load.
func BenchmarkParallel_BaselineAtomicLoad(b *testing.B) {
	var v atomic.Int64
	v.Store(21)
	b.RunParallel(func(pb *testing.PB) {
		var n int64
		for pb.Next() {
			n += v.Load()
		}
		sinkParallel.Add(n)
	})
}

// Baseline for independent graphs: a value and its derived value behind a
// mutex of their own, recomputed on read when stale.
func BenchmarkParallel_BaselineMutexPerGraph(b *testing.B) {
	b.RunParallel(func(pb *testing.PB) {
		var g struct {
			sync.Mutex
			v, derived int
			stale      bool
		}
		n := 0
		for i := 0; pb.Next(); i++ {
			g.Lock()
			g.v, g.stale = i, true
			g.Unlock()
			g.Lock()
			if g.stale {
				g.derived, g.stale = g.v+1, false
			}
			n += g.derived
			g.Unlock()
		}
		sinkParallel.Add(int64(n))
	})
}

var sinkParallel atomic.Int64

func inc(v int) int { return v + 1 }
