package bench

import (
	"runtime"
	"testing"

	"github.com/gosignals/signals"
)

// The workload benchmarks follow the protocol of WORKLOADS.md §2 as far as
// testing.B allows. One benchmark op is one protocol sample, so ns/op
// compares directly with the milliseconds per sample of ANCHORS.md and of
// cmd/compare:
//
//   - kairo and molBench: 500 iter() calls on one graph (built, then warmed
//     up with 3 calls and one sample, before the timer starts);
//   - cellx: 10 updates, each on a freshly built graph; building,
//     disposing and the GC before each update are not timed;
//   - dynamic: one run() (Iterations writes), after 3 warm-up runs.
//
// A full GC, untimed, precedes every op. Every step's checksum is
// verified; computed/op and effects/op report the work done, and are
// checked against the reference counts. ns/write is the time per source
// write.

func benchWorkload(b *testing.B, w *Workload) {
	switch w.Kind {
	case KindIter:
		benchIter(b, w)
	case KindCellx, KindFanIn:
		benchCellx(b, w)
	case KindDynamic:
		benchDynamic(b, w)
	}
}

func steps(b *testing.B, g *Graph, n int) {
	for range n {
		if err := g.Step(); err != nil {
			b.Fatal(err)
		}
	}
}

func report(b *testing.B, w *Workload, total Counts) {
	ops := int64(b.N)
	per := Counts{total.Computed / ops, total.Effects / ops}
	steps := int64(w.StepsPerSample())
	want := Counts{w.StepCounts.Computed * steps, w.StepCounts.Effects * steps}
	if per != want || total.Computed%ops != 0 || total.Effects%ops != 0 {
		b.Errorf("counts per op: %d computed / %d effects over %d ops, want %v per op",
			total.Computed, total.Effects, ops, want)
	}
	b.ReportMetric(float64(total.Computed)/float64(ops), "computed/op")
	b.ReportMetric(float64(total.Effects)/float64(ops), "effects/op")
	if w.Writes > 0 {
		writes := float64(w.Writes) * float64(steps) * float64(ops)
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/writes, "ns/write")
	}
}

func benchIter(b *testing.B, w *Workload) {
	g := w.Build()
	defer g.Dispose()
	steps(b, g, 3)
	steps(b, g, IterStepsPerSample)
	*g.Counts = Counts{}
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		b.StartTimer()
		steps(b, g, IterStepsPerSample)
	}
	report(b, w, *g.Counts)
}

// cellxSample runs the Steps of one sample, each on a fresh graph (cellx
// and the fan-in workloads).
func cellxSample(b *testing.B, w *Workload, total *Counts) {
	for range w.StepsPerSample() {
		b.StopTimer()
		g := w.Build()
		*g.Counts = Counts{}
		runtime.GC()
		b.StartTimer()
		err := g.Step()
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		total.Computed += g.Counts.Computed
		total.Effects += g.Counts.Effects
		g.Dispose()
		b.StartTimer()
	}
}

func benchCellx(b *testing.B, w *Workload) {
	var total Counts
	cellxSample(b, w, &total)
	total = Counts{}
	for b.Loop() {
		cellxSample(b, w, &total)
	}
	report(b, w, total)
}

func benchDynamic(b *testing.B, w *Workload) {
	g := w.Build()
	defer g.Dispose()
	steps(b, g, 3)
	*g.Counts = Counts{}
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		b.StartTimer()
		steps(b, g, 1)
	}
	report(b, w, *g.Counts)
}

func BenchmarkAvoidablePropagation(b *testing.B) { benchWorkload(b, AvoidablePropagation()) }
func BenchmarkBroadPropagation(b *testing.B)     { benchWorkload(b, BroadPropagation()) }
func BenchmarkDeepPropagation(b *testing.B)      { benchWorkload(b, DeepPropagation()) }
func BenchmarkDiamond(b *testing.B)              { benchWorkload(b, Diamond()) }
func BenchmarkMux(b *testing.B)                  { benchWorkload(b, Mux()) }
func BenchmarkRepeatedObservers(b *testing.B)    { benchWorkload(b, RepeatedObservers()) }
func BenchmarkTriangle(b *testing.B)             { benchWorkload(b, Triangle()) }
func BenchmarkUnstable(b *testing.B)             { benchWorkload(b, Unstable()) }
func BenchmarkMolBench(b *testing.B)             { benchWorkload(b, MolBench()) }
func BenchmarkCellx1000(b *testing.B)            { benchWorkload(b, Cellx(1000)) }
func BenchmarkCellx2500(b *testing.B)            { benchWorkload(b, Cellx(2500)) }

func benchDynamicConfig(b *testing.B, i int) { benchWorkload(b, Dynamic(DynamicConfigs()[i])) }

func BenchmarkDyn2x10x5Lazy80(b *testing.B)       { benchDynamicConfig(b, 0) }
func BenchmarkDyn6x10x10Dyn25Lazy80(b *testing.B) { benchDynamicConfig(b, 1) }
func BenchmarkDyn4x1000x12Dyn5(b *testing.B)      { benchDynamicConfig(b, 2) }
func BenchmarkDyn25x1000x5(b *testing.B)          { benchDynamicConfig(b, 3) }
func BenchmarkDyn3x5x500(b *testing.B)            { benchDynamicConfig(b, 4) }
func BenchmarkDyn6x100x15Dyn50(b *testing.B)      { benchDynamicConfig(b, 5) }

// The fan-in workloads of sBench (fanin.go): one op creates the effects,
// runs the writes and disposes of the effects, on fresh sources.
func BenchmarkCreate1000to1(b *testing.B) { benchWorkload(b, Create1000to1()) }
func BenchmarkUpdate1000to1(b *testing.B) { benchWorkload(b, Update1000to1()) }

var (
	sinkSignal   *signals.Signal[int]
	sinkComputed *signals.Computed[int]
)

// BenchmarkCreateSignal: one op creates one signal.
func BenchmarkCreateSignal(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		sinkSignal = signals.New(i)
	}
}

// BenchmarkCreateComputed: one op creates a signal and a fan-out of K
// computeds that each read it, and evaluates each computed once (an
// untracked read), so that its dependency link exists. ns/computed is the
// cost per computed.
func BenchmarkCreateComputed(b *testing.B) {
	for _, k := range []int{1, 10, 100, 1000} {
		b.Run(fanoutName(k), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				src := signals.New(1)
				for range k {
					c := signals.NewComputed(func(t *Tracker) int { return src.Get(t) + 1 })
					c.Peek()
					sinkComputed = c
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*k), "ns/computed")
		})
	}
}

func fanoutName(k int) string {
	switch k {
	case 1:
		return "1to1"
	case 10:
		return "1to10"
	case 100:
		return "1to100"
	}
	return "1to1000"
}

// BenchmarkMemory reports the retained heap per signal, per evaluated
// computed without dependencies and per dependency link (computeds that
// read 10 signals each), measured with runtime.MemStats over 100,000
// creations. Its ns/op is meaningless.
func BenchmarkMemory(b *testing.B) {
	var m Memory
	for b.Loop() {
		m = MeasureMemory(100_000, 10)
	}
	b.ReportMetric(m.Signal, "B/signal")
	b.ReportMetric(m.Computed, "B/computed")
	b.ReportMetric(m.Link, "B/link")
}

// BenchmarkGoIncrDiamond is BenchmarkDiamond on github.com/wcharczuk/go-incr
// (Set + Stabilize per write), for comparison.
func BenchmarkGoIncrDiamond(b *testing.B) { benchWorkload(b, GoIncrDiamond()) }
