package signals_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/gosignals/signals"
)

var sinkInt int

// BenchmarkDiamond: a → b = a+1, c = a*2, d = b+c, one effect on d; one Set per op.
func BenchmarkDiamond(b *testing.B) {
	a := signals.New(0)
	bb := signals.NewComputed(func(t *signals.Tracker) int { return a.Get(t) + 1 })
	c := signals.NewComputed(func(t *signals.Tracker) int { return a.Get(t) * 2 })
	d := signals.NewComputed(func(t *signals.Tracker) int { return bb.Get(t) + c.Get(t) })
	e := signals.NewEffect(func(t *signals.Tracker) { sinkInt = d.Get(t) })
	defer e.Stop()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		a.Set(i + 1)
	}
	if sinkInt != 3*b.N+1 && b.N > 0 {
		// the effect must have seen the last write
		if d.Peek() != sinkInt {
			b.Fatalf("effect saw %d, d is %d", sinkInt, d.Peek())
		}
	}
}

// BenchmarkChain1000: a 1000-deep chain of computeds under one effect.
func BenchmarkChain1000(b *testing.B) {
	head := signals.New(0)
	var cur signals.Readable[int] = head
	for range 1000 {
		prev := cur
		cur = signals.NewComputed(func(t *signals.Tracker) int { return prev.Get(t) + 1 })
	}
	tail := cur
	e := signals.NewEffect(func(t *signals.Tracker) { sinkInt = tail.Get(t) })
	defer e.Stop()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		head.Set(i + 1)
	}
	if got, want := sinkInt, tail.Peek(); got != want {
		b.Fatalf("effect saw %d, tail is %d", got, want)
	}
}

// BenchmarkFanOut1000: one signal read by 1000 effects.
func BenchmarkFanOut1000(b *testing.B) {
	src := signals.New(0)
	var total int
	for range 1000 {
		e := signals.NewEffect(func(t *signals.Tracker) { total += src.Get(t) })
		defer e.Stop()
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		src.Set(i + 1)
	}
}

// BenchmarkPeekClean: Peek of an up-to-date computed.
func BenchmarkPeekClean(b *testing.B) {
	a := signals.New(1)
	c := signals.NewComputed(func(t *signals.Tracker) int { return a.Get(t) * 2 })
	c.Peek()
	b.ReportAllocs()
	for b.Loop() {
		sinkInt = c.Peek()
	}
}

// BenchmarkGetStale: Set then Get of an unobserved computed; the read recomputes.
func BenchmarkGetStale(b *testing.B) {
	a := signals.New(0)
	c := signals.NewComputed(func(t *signals.Tracker) int { return a.Get(t) * 2 })
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		a.Set(i + 1)
		sinkInt = c.Get(nil)
	}
}

// BenchmarkUpdateContended: Update by 2 goroutines.
func BenchmarkUpdateContended(b *testing.B) {
	s := signals.New(0)
	inc := func(v int) int { return v + 1 }
	b.ReportAllocs()
	b.SetParallelism(1)
	var wg sync.WaitGroup
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Update(inc)
		}
	})
	wg.Wait()
}

// BenchmarkDiamondTraced is BenchmarkDiamond with a tracer that does nothing
// and timing on: the cost of observation while in use.
func BenchmarkDiamondTraced(b *testing.B) {
	prev := signals.SetTracer(signals.TracerFunc(func(signals.Event) {}))
	signals.EnableTiming(true)
	defer func() {
		signals.SetTracer(prev)
		signals.EnableTiming(false)
	}()
	BenchmarkDiamond(b)
}

// BenchmarkFanInFirstRead: the first evaluation of a computed over n
// distinct signals, which links n dependencies. Its cost should grow
// linearly with n.
func BenchmarkFanInFirstRead(b *testing.B) {
	for _, n := range []int{10_000, 40_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			srcs := make([]*signals.Signal[int], n)
			for i := range srcs {
				srcs[i] = signals.New(i)
			}
			b.ReportAllocs()
			for b.Loop() {
				sum := signals.NewComputed(func(t *signals.Tracker) int {
					total := 0
					for _, s := range srcs {
						total += s.Get(t)
					}
					return total
				})
				sinkInt = sum.Peek()
			}
		})
	}
}

// BenchmarkRecompute100 is the tracked-read path: a computed over 100
// signals, recomputed after each write, reads them in the previous run's
// order.
func BenchmarkRecompute100(b *testing.B) {
	srcs := make([]*signals.Signal[int], 100)
	for i := range srcs {
		srcs[i] = signals.New(i)
	}
	sum := signals.NewComputed(func(t *signals.Tracker) int {
		total := 0
		for _, s := range srcs {
			total += s.Get(t)
		}
		return total
	})
	sum.Peek()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		srcs[0].Set(i)
		sinkInt = sum.Peek()
	}
}
