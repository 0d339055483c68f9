package bench

import (
	"fmt"

	"github.com/gosignals/signals"
)

// The fan-in workloads of sBench.ts (js-reactivity-benchmark, derived from
// S.js's bench; upstream commit 56eb45e84b3f6fcfa867840725e66b59a9b7467a,
// packages/core/src/benches/sBench.ts), which WORKLOADS.md does not cover:
// one effect that reads 1,000 signals.
//
//   - create1000to1: 100,000 signals i = 0..99999 (untimed, each read three
//     times untimed); then, timed: 100 effects, effect j summing signals
//     1000j to 1000j+999, and the disposal of every effect. Each effect
//     runs once: 0 computed / 100 effects per Step.
//   - update1000to1: 1,000 signals i = 0..999 (untimed, likewise); then,
//     timed: one effect summing all 1,000, 400 writes signal[0] = i for
//     i = 0..399 (the first equals the current value and changes nothing),
//     and the disposal. The effect runs 1 + 399 times.
//
// Upstream times one run of each and reports the fastest of ten; here one
// sample is one run (kind KindFanIn: sources built and a GC untimed before
// it) and, as for every workload, the median of five is reported.

const (
	// sbenchCount is COUNT of sBench.ts.
	sbenchCount = 100_000
	fanIn       = 1000
)

// Create1000to1 is sBench's create1000to1 (see above).
func Create1000to1() *Workload {
	n := sbenchCount / fanIn
	return &Workload{
		Name: "create1000to1", Kind: KindFanIn,
		StepCounts: Counts{0, int64(n)},
		Checksum:   fmt.Sprintf("sum of all effects' sums %d", sbenchCount*(sbenchCount-1)/2),
		Build:      func() *Graph { return buildCreate1000to1(n) },
	}
}

// fanInSources makes count signals holding 0 to count-1, each read three
// times (untracked), as sBench's run does before it starts timing.
func fanInSources(count int) []*signals.Signal[int] {
	sources := make([]*signals.Signal[int], count)
	for i := range sources {
		sources[i] = signals.New(i)
	}
	for _, s := range sources {
		s.Get(nil)
		s.Get(nil)
		s.Get(nil)
	}
	return sources
}

func buildCreate1000to1(n int) *Graph {
	sources := fanInSources(n * fanIn)
	cnt := &Counts{}
	return &Graph{
		Counts: cnt,
		step: func() error {
			var o owner
			sums := make([]int, n)
			for j := range n {
				ss := sources[j*fanIn : (j+1)*fanIn]
				o.effect(func(t *Tracker) {
					cnt.Effects++
					sum := 0
					for _, s := range ss {
						sum += s.Get(t)
					}
					sums[j] = sum
				})
			}
			o.dispose()
			total := 0
			for _, s := range sums {
				total += s
			}
			if want := len(sources) * (len(sources) - 1) / 2; total != want {
				return errInt("sum of the effects' sums", total, want)
			}
			return nil
		},
	}
}

// Update1000to1 is sBench's update1000to1 (see above).
func Update1000to1() *Workload {
	writes := sbenchCount / 250
	return &Workload{
		Name: "update1000to1", Kind: KindFanIn,
		StepCounts: Counts{0, int64(writes)},
		Checksum:   fmt.Sprintf("the effect's last sum %d", fanIn*(fanIn-1)/2+writes-1),
		Writes:     writes,
		Build:      func() *Graph { return buildUpdate1000to1(writes) },
	}
}

func buildUpdate1000to1(writes int) *Graph {
	sources := fanInSources(fanIn)
	cnt := &Counts{}
	return &Graph{
		Counts: cnt,
		step: func() error {
			var o owner
			last := 0
			o.effect(func(t *Tracker) {
				cnt.Effects++
				sum := 0
				for _, s := range sources {
					sum += s.Get(t)
				}
				last = sum
			})
			for i := range writes {
				sources[0].Set(i)
			}
			o.dispose()
			if want := fanIn*(fanIn-1)/2 + writes - 1; last != want {
				return errInt("the effect's last sum", last, want)
			}
			return nil
		},
	}
}
