package signals_test

import (
	"runtime"
	"testing"

	"github.com/gosignals/signals"
)

func increment64(v int64, _ bool) int64 { return v + 1 }

// BenchmarkMapUpdate: Update of an existing key (1,000 keys), with the
// change log on, as a counter does. 0 allocs/op.
func BenchmarkMapUpdate(b *testing.B) {
	m := signals.NewMap[int, int64]()
	for i := range 1000 {
		m.Set(i, 0)
	}
	var c signals.Cursor
	m.Changes(nil, &c)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Update(i%1000, increment64)
		i++
	}
}

// BenchmarkMapUpdateObserved: the same with a live effect on every key
// (each Update runs one effect).
func BenchmarkMapUpdateObserved(b *testing.B) {
	m := signals.NewMap[int, int64]()
	for i := range 1000 {
		m.Set(i, 0)
		e := signals.NewEffect(func(t *signals.Tracker) { m.Get(t, i) })
		b.Cleanup(e.Stop)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Update(i%1000, increment64)
		i++
	}
}

// BenchmarkMapUpdateParallel: Updates from 8 goroutines over 1,000 keys.
func BenchmarkMapUpdateParallel(b *testing.B) {
	m := signals.NewMap[int, int64]()
	for i := range 1000 {
		m.Set(i, 0)
	}
	b.ReportAllocs()
	b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0))) // 8 goroutines
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.Update(i%1000, increment64)
			i += 7
		}
	})
}

// BenchmarkMapGet: an untracked Get of a present key.
func BenchmarkMapGet(b *testing.B) {
	m := signals.NewMap[int, int]()
	for i := range 1000 {
		m.Set(i, i)
	}
	b.ReportAllocs()
	for b.Loop() {
		v, _ := m.Get(nil, 500)
		_ = v
	}
}

// BenchmarkMapAbsentReads: tracked reads of ever new absent keys by
// computeds no effect observes, beside 100,000 present keys: each read
// makes a node that sweeps drop later. The sweeps' cost, amortized.
func BenchmarkMapAbsentReads(b *testing.B) {
	m := signals.NewMap[int, int]()
	for i := range 100_000 {
		m.Set(i, i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := -1 - i
		c := signals.NewComputed(func(t *signals.Tracker) bool { _, ok := m.Get(t, k); return ok })
		c.Peek()
		i++
	}
}
