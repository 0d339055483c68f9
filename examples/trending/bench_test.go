package main

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gosignals/signals"
)

// Trending at scale. Run with
//
//	go test -run '^$' -bench . -benchmem
//
// BenchmarkIncrement: views recorded from 8 goroutines (incr/s is the
// throughput, allocs/op must be 0). BenchmarkRefresh: the cost of bringing
// the top 10 up to date after 1,000 views spread uniformly over the items
// (the views themselves are not timed). BenchmarkRefreshSignalPerItem: the
// same on the design this example had before the keyed map, a Signal per
// item and a computed that reads them all.

var sizes = []int{1_000, 10_000, 100_000}

func sizeName(n int) string { return "items=" + strconv.Itoa(n) }

// filled returns a map of items 1 to n with random all-time and recent
// views, and the bucket they are in.
func filled(n int) (*signals.Map[int, tally], int64, time.Duration) {
	width := 10 * time.Second
	now := bucketOf(time.Unix(1_700_000_000, 0), width)
	views := signals.NewMap[int, tally](signals.MapLogSize(1 << 16))
	r := rand.New(rand.NewPCG(1, uint64(n)))
	for id := 1; id <= n; id++ {
		views.Set(id, tally{}.add(now, 1+r.Int64N(1000)))
	}
	return views, now, width
}

func BenchmarkIncrement(b *testing.B) {
	for _, n := range sizes {
		b.Run(sizeName(n), func(b *testing.B) {
			views, now, _ := filled(n)
			b.ReportAllocs()
			b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0))) // 8 goroutines
			b.ResetTimer()
			seed := 0
			b.RunParallel(func(pb *testing.PB) {
				seed++
				r := rand.New(rand.NewPCG(uint64(seed), 3))
				add := func(t tally, _ bool) tally { return t.add(now, 1) }
				for pb.Next() {
					views.Update(1+r.IntN(n), add)
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "incr/s")
		})
	}
}

func BenchmarkRefresh(b *testing.B) {
	for _, n := range sizes {
		b.Run(sizeName(n), func(b *testing.B) {
			views, now, width := filled(n)
			clock := signals.New(time.Unix(0, now*int64(width)))
			rk := newRanker(views, clock, width, 10)
			rk.ranking(nil) // the first run scans
			r := rand.New(rand.NewPCG(2, 3))
			add := func(t tally, _ bool) tally { return t.add(now, 1) }
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				for range 1000 {
					views.Update(1+r.IntN(n), add)
				}
				b.StartTimer()
				rk.ranking(nil)
			}
			if s := rk.scans.Load(); s != 1 {
				b.Fatalf("%d full scans, want 1: the refresh must follow the changes", s)
			}
		})
	}
}

// legacy is the design before the keyed map: a Signal per item, and a
// computed that reads every one of them and sorts.
type legacy struct {
	counts []*signals.Signal[int64]
	top    *signals.Computed[[]entry]
}

func newLegacy(n int) *legacy {
	l := &legacy{counts: make([]*signals.Signal[int64], n)}
	r := rand.New(rand.NewPCG(1, uint64(n)))
	for i := range l.counts {
		l.counts[i] = signals.New(1 + r.Int64N(1000))
	}
	snapshot := signals.NewComputed(func(t *signals.Tracker) []int64 {
		out := make([]int64, n)
		for i, c := range l.counts {
			out[i] = c.Get(t)
		}
		return out
	}, signals.WithEqual(slices.Equal[[]int64]))
	l.top = signals.NewComputed(func(t *signals.Tracker) []entry {
		var all []entry
		for i, v := range snapshot.Get(t) {
			all = append(all, entry{ID: i + 1, Views: v})
		}
		slices.SortFunc(all, before)
		return all[:10]
	}, signals.WithEqual(slices.Equal[[]entry]))
	return l
}

func BenchmarkRefreshSignalPerItem(b *testing.B) {
	for _, n := range sizes {
		b.Run(sizeName(n), func(b *testing.B) {
			l := newLegacy(n)
			l.top.Peek()
			r := rand.New(rand.NewPCG(2, 3))
			inc := func(v int64) int64 { return v + 1 }
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				for range 1000 {
					l.counts[r.IntN(n)].Update(inc)
				}
				b.StartTimer()
				l.top.Peek()
			}
		})
	}
}
