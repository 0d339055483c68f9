package bench

import (
	"fmt"

	"github.com/gosignals/signals"
)

type cellxLayer [4]signals.Readable[int]

func (l *cellxLayer) values() [4]int {
	return [4]int{l[0].Get(nil), l[1].Get(nil), l[2].Get(nil), l[3].Get(nil)}
}

var (
	cellxBefore = [4]int{-3, -6, -2, 2}
	cellxAfter  = [4]int{-2, -4, 2, 3}
)

// Cellx is cellxBench.ts with layers layers (WORKLOADS.md §4). Its Step
// is update(), the only timed part; build a fresh graph for every Step.
func Cellx(layers int) *Workload {
	n := int64(4 * layers)
	return &Workload{
		Name: fmt.Sprintf("cellx%d", layers), Kind: KindCellx,
		BuildCounts: Counts{n, n}, StepCounts: Counts{n, n},
		Checksum: "before (-3,-6,-2,2), after (-2,-4,2,3)", Writes: 4,
		Build: func() *Graph { return buildCellx(layers) },
	}
}

func buildCellx(layers int) *Graph {
	var o owner
	cnt := &Counts{}
	var start [4]*signals.Signal[int]
	var layer cellxLayer
	for i := range start {
		start[i] = signals.New(i + 1)
		layer[i] = start[i]
	}
	o.effects = make([]*signals.Effect, 0, 4*layers)
	for range layers {
		m := layer
		var s cellxLayer
		s[0] = signals.NewComputed(func(t *Tracker) int {
			cnt.Computed++
			return m[1].Get(t)
		})
		s[1] = signals.NewComputed(func(t *Tracker) int {
			cnt.Computed++
			return m[0].Get(t) - m[2].Get(t)
		})
		s[2] = signals.NewComputed(func(t *Tracker) int {
			cnt.Computed++
			return m[1].Get(t) + m[3].Get(t)
		})
		s[3] = signals.NewComputed(func(t *Tracker) int {
			cnt.Computed++
			return m[2].Get(t)
		})
		for _, x := range s {
			o.effect(func(t *Tracker) {
				cnt.Effects++
				x.Get(t)
			})
		}
		layer = s
	}
	end := layer
	return &Graph{
		Counts:  cnt,
		dispose: o.dispose,
		step: func() error {
			before := end.values()
			signals.Batch(func() {
				start[0].Set(4)
				start[1].Set(3)
				start[2].Set(2)
				start[3].Set(1)
			})
			after := end.values()
			if before != cellxBefore {
				return fmt.Errorf("before = %v, want %v", before, cellxBefore)
			}
			if after != cellxAfter {
				return fmt.Errorf("after = %v, want %v", after, cellxAfter)
			}
			return nil
		},
	}
}
