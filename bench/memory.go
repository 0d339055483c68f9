package bench

import (
	"math"
	"runtime"
	"time"

	"github.com/gosignals/signals"
)

// Memory is the retained heap per node and per dependency link.
type Memory struct {
	Signal   float64 // bytes per signals.New[int]
	Computed float64 // bytes per evaluated computed[int] without dependencies
	Link     float64 // bytes per dependency recorded by an evaluated computed
}

// heapDelta returns the growth of the live heap caused by make, whose
// result stays reachable until the second measurement.
func heapDelta(make func() any) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	keep := make()
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(keep)
	return float64(after.HeapAlloc) - float64(before.HeapAlloc)
}

// MeasureMemory creates n nodes of each kind (and n computeds reading
// linksPer signals each) and reports the retained bytes per node and per
// link, from runtime.MemStats. Computeds are evaluated once by an
// untracked read, so their dependency links exist; nothing observes them.
func MeasureMemory(n, linksPer int) Memory {
	var m Memory
	m.Signal = heapDelta(func() any {
		ss := make([]*signals.Signal[int], n)
		for i := range ss {
			ss[i] = signals.New(i)
		}
		return ss
	}) / float64(n)
	// The slices holding the nodes are part of the growth; subtract them.
	slots := heapDelta(func() any { return make([]*signals.Signal[int], n) }) / float64(n)
	m.Signal -= slots

	constant := func(*Tracker) int { return 1 }
	m.Computed = heapDelta(func() any {
		cs := make([]*signals.Computed[int], n)
		for i := range cs {
			cs[i] = signals.NewComputed(constant)
			cs[i].Peek()
		}
		return cs
	})/float64(n) - slots

	srcs := make([]*signals.Signal[int], linksPer)
	for i := range srcs {
		srcs[i] = signals.New(i)
	}
	readAll := func(t *Tracker) int {
		s := 0
		for _, x := range srcs {
			s += x.Get(t)
		}
		return s
	}
	withLinks := heapDelta(func() any {
		cs := make([]*signals.Computed[int], n)
		for i := range cs {
			cs[i] = signals.NewComputed(readAll)
			cs[i].Peek()
		}
		return cs
	})/float64(n) - slots
	m.Link = (withLinks - m.Computed) / float64(linksPer)
	runtime.KeepAlive(srcs)
	return m
}

// Creation is the wall-clock cost of creating nodes.
type Creation struct {
	Signal  float64 // ns per signals.New
	Fanouts []Fanout
}

// Fanout is the cost per computed of a 1→K fan-out: K computeds reading
// one signal, each created and evaluated once by an untracked read.
type Fanout struct {
	K             int
	NsPerComputed float64
}

// MeasureCreation times node creation over about 100,000 nodes of each
// kind (after a GC), best of 3 rounds.
func MeasureCreation() Creation {
	const total = 100_000
	best := func(f func()) float64 {
		b := math.Inf(1)
		for range 3 {
			runtime.GC()
			start := time.Now()
			f()
			b = min(b, float64(time.Since(start).Nanoseconds()))
		}
		return b / total
	}
	var c Creation
	keep := make([]*signals.Signal[int], total)
	c.Signal = best(func() {
		for i := range keep {
			keep[i] = signals.New(i)
		}
	})
	runtime.KeepAlive(keep)
	for _, k := range []int{1, 10, 100, 1000} {
		cs := make([]*signals.Computed[int], 0, total)
		ns := best(func() {
			cs = cs[:0]
			for range total / k {
				src := signals.New(1)
				for range k {
					c := signals.NewComputed(func(t *Tracker) int { return src.Get(t) + 1 })
					c.Peek()
					cs = append(cs, c)
				}
			}
		})
		runtime.KeepAlive(cs)
		c.Fanouts = append(c.Fanouts, Fanout{k, ns})
	}
	return c
}
