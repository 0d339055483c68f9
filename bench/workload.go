// Package bench ports the js-reactivity-benchmark workloads (kairo,
// molBench, cellx and the dynamic dependency graphs) to package signals, as
// specified in WORKLOADS.md: the same graphs, update loops, iteration
// counts and checksums, so that Go timings can be set beside those of
// alien-signals, Preact signals and the TC39 polyfill running the same work
// in Node (see ./js).
//
// Every workload is a [Workload]: Build returns a [Graph] whose Step runs
// one unit of the update loop and verifies its checksum, and whose Counts
// record how many times compute functions and effects ran. The expected
// counts are those of a lazy push-pull implementation (identical in
// alien-signals, Preact, signal-polyfill and Angular); a port that matches
// the checksums but not the counts does a different amount of work.
//
// One Step is, per kind (WORKLOADS.md §2):
//
//   - KindIter (8 kairo workloads and molBench): one call of iter().
//     A timed sample is 500 Steps on the same graph.
//   - KindCellx: update(), on a freshly built graph (one Step per graph).
//     A timed sample is 10 updates on 10 fresh graphs, build untimed.
//   - KindDynamic: run(), that is Iterations source writes and the final
//     sum. A timed sample is one Step.
//   - KindFanIn (sBench's create1000to1 and update1000to1, see fanin.go):
//     creating the effects, the writes, and disposing of the effects, on
//     freshly built sources. A timed sample is one Step on a fresh graph.
package bench

import (
	"fmt"
	"math"
)

// Kind is the timing protocol a workload follows.
type Kind int

const (
	KindIter Kind = iota
	KindCellx
	KindDynamic
	KindFanIn
)

func (k Kind) String() string {
	switch k {
	case KindIter:
		return "iter"
	case KindCellx:
		return "cellx"
	case KindDynamic:
		return "dynamic"
	case KindFanIn:
		return "fan-in"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Counts are the evaluations of compute functions and runs of effect
// functions a graph performed.
type Counts struct {
	Computed int64
	Effects  int64
}

func (c Counts) String() string {
	return fmt.Sprintf("%d computed / %d effects", c.Computed, c.Effects)
}

// Graph is one built workload.
type Graph struct {
	// Counts is incremented by the graph's compute and effect functions;
	// reset it (Counts = Counts{}) to count one Step.
	Counts  *Counts
	step    func() error
	dispose func()
}

// Step runs one unit of the workload's update loop (see the package
// documentation) and verifies every value it must observe. It returns an
// error describing the first wrong value.
func (g *Graph) Step() error { return g.step() }

// Dispose stops the graph's effects.
func (g *Graph) Dispose() {
	if g.dispose != nil {
		g.dispose()
		g.dispose = nil
	}
}

// Workload is one benchmark: how to build it and what it must produce.
type Workload struct {
	// Name is the name used in WORKLOADS.md and by the JS harness.
	Name string
	Kind Kind
	// Build constructs the graph; its effects run once.
	Build func() *Graph
	// BuildCounts are the counts expected from Build.
	BuildCounts Counts
	// StepCounts are the counts expected from one Step. For dynamic
	// graphs they hold for every Step but the first on a fresh graph.
	StepCounts Counts
	// Checksum describes the value every Step verifies.
	Checksum string
	// Writes is the number of source writes one Step performs.
	Writes int
	// Dyn holds the parameters of a dynamic graph (KindDynamic only).
	Dyn *DynamicConfig
}

// StepsPerSample is how many Steps one timed sample runs.
func (w *Workload) StepsPerSample() int {
	switch w.Kind {
	case KindIter:
		return IterStepsPerSample
	case KindCellx:
		return CellxUpdatesPerSample
	}
	return 1
}

const (
	// IterStepsPerSample is the number of iter() calls in one sample of a
	// kairo or molBench workload.
	IterStepsPerSample = 500
	// CellxUpdatesPerSample is the number of timed updates (each on its own
	// fresh graph) in one cellx sample.
	CellxUpdatesPerSample = 10
)

// Workloads returns every workload of WORKLOADS.md, in its order, then the
// fan-in workloads of sBench (fanin.go).
func Workloads() []*Workload {
	ws := []*Workload{
		AvoidablePropagation(),
		BroadPropagation(),
		DeepPropagation(),
		Diamond(),
		Mux(),
		RepeatedObservers(),
		Triangle(),
		Unstable(),
		MolBench(),
		Cellx(1000),
		Cellx(2500),
	}
	for _, c := range DynamicConfigs() {
		ws = append(ws, Dynamic(c))
	}
	return append(ws, Create1000to1(), Update1000to1())
}

// Lookup returns the workload with the given name, or nil.
func Lookup(name string) *Workload {
	for _, w := range Workloads() {
		if w.Name == name {
			return w
		}
	}
	return nil
}

func errInt(what string, got, want int) error {
	return fmt.Errorf("%s = %d, want %d", what, got, want)
}

func errFloat(what string, got, want float64) error {
	return fmt.Errorf("%s = %v, want %v", what, got, want)
}

// busyN is a variable so that the compiler cannot fold busy's loop.
var busyN = 100

// BusySink receives busy's result, so that its loop is not removed.
var BusySink int

// busy is the kairo workloads' busy(): 100 increments of a local counter
// whose result is discarded (kept here in BusySink).
func busy() {
	a := 0
	for i := 0; i < busyN; i++ {
		a++
	}
	BusySink = a
}

// fib is molBench's naive Fibonacci; fibN is a variable so that calls of
// hard are not folded.
func fib(n int) int {
	if n < 2 {
		return 1
	}
	return fib(n-1) + fib(n-2)
}

var fibN = 16

func hard(n int) int { return n + fib(fibN) }

// isOddFloat reports whether the integral value x is odd.
func isOddFloat(x float64) bool { return math.Mod(x, 2) != 0 }
