package bench

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/gosignals/signals"
)

// xmur3a returns the hash generator of the seed string (WORKLOADS.md §5.1).
func xmur3a(str string) func() uint32 {
	h := uint32(2166136261)
	units := utf16Units(str)
	for _, ch := range units {
		k := uint32(ch) * 0xcc9e2d51
		k = bits.RotateLeft32(k, 15)
		h ^= k * 0x1b873593
		h = bits.RotateLeft32(h, 13)
		h = h*5 + 0xe6546b64
	}
	h ^= uint32(len(units))
	return func() uint32 {
		h ^= h >> 16
		h *= 0x85ebca6b
		h ^= h >> 13
		h *= 0xc2b2ae35
		h ^= h >> 16
		return h
	}
}

func utf16Units(s string) []uint16 {
	var us []uint16
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			us = append(us, uint16(0xd800+(r>>10)), uint16(0xdc00+(r&0x3ff)))
		} else {
			us = append(us, uint16(r))
		}
	}
	return us
}

// sfc32 is a small fast counting generator; next returns t as a uint32.
type sfc32 struct{ a, b, c, d uint32 }

func (s *sfc32) next() uint32 {
	t := s.a + s.b
	s.a = s.b ^ (s.b >> 9)
	s.b = s.c + (s.c << 3)
	s.c = bits.RotateLeft32(s.c, 21)
	s.d++
	t += s.d
	s.c += t
	return t
}

// Float returns the next number in [0, 1).
func (s *sfc32) Float() float64 { return float64(s.next()) / 4294967296 }

// pseudoRandom is upstream's pseudoRandom(seed): sfc32 seeded with four
// words of xmur3a(seed).
func pseudoRandom(seed string) *sfc32 {
	h := xmur3a(seed)
	a := h()
	b := h()
	c := h()
	d := h()
	return &sfc32{a, b, c, d}
}

// DynamicConfig is one configuration of the dynamic dependency graph
// (WORKLOADS.md §5.3), with its expected results.
type DynamicConfig struct {
	Title          string
	Width          int     // W: sources, and nodes per row
	TotalLayers    int     // T: rows including the sources
	StaticFraction float64 // S
	NSources       int     // N: dependencies per node
	ReadFraction   float64 // R
	Iterations     int     // I: writes per run

	Sum          float64 // expected run() result
	Count        int64   // expected computed evaluations per run
	EffectRuns   int64   // expected effect runs per run
	BuildCounts  Counts
	DynamicNodes int
	// FirstRun are the counts of the first run on a fresh graph, whose
	// first write is a no-op (informational: alien-signals' numbers).
	FirstRun Counts
}

// DynamicConfigs returns the six configurations of WORKLOADS.md §5.3.
func DynamicConfigs() []DynamicConfig {
	return []DynamicConfig{
		{"2-10x5 - lazy80%", 10, 5, 1, 2, 0.2, 600000,
			19199968, 3480000, 480000, Counts{19, 1}, 0, Counts{3480000, 480000}},
		{"6-10x10 - dyn25% - lazy80%", 10, 10, 0.75, 6, 0.2, 15000,
			302310782860, 1155000, 15000, Counts{81, 1}, 20, Counts{1154923, 14999}},
		{"4-1000x12 - dyn5%", 1000, 12, 0.95, 4, 1, 7000,
			29355933696000, 1463000, 7000, Counts{11000, 1}, 595, Counts{1462791, 6999}},
		{"25-1000x5", 1000, 5, 1, 25, 1, 3000,
			1171484375000, 732000, 3000, Counts{4000, 1}, 0, Counts{731756, 2999}},
		{"3-5x500", 5, 500, 1, 3, 1, 500,
			3.0239642676898464e+241, 1246500, 500, Counts{2495, 1}, 0, Counts{1244007, 499}},
		{"6-100x15 - dyn50%", 100, 15, 0.5, 6, 1, 2000,
			15664996402790400, 1078000, 2000, Counts{1400, 1}, 666, Counts{1077273, 1999}},
	}
}

// DynamicGraph is a built dynamic dependency graph.
type DynamicGraph struct {
	Cfg     DynamicConfig
	Counts  Counts
	Sources []*signals.Signal[float64]
	// Rows are the computed rows, Rows[len-1] the leaves.
	Rows [][]*signals.Computed[float64]
	// ReadLeaves are the indices, in the last row, of the leaves read.
	ReadLeaves []int
	// Dynamic is the number of dynamic nodes.
	Dynamic int

	leaves []*signals.Computed[float64]
	effect *signals.Effect
}

// BuildDynamic builds the graph of cfg (WORKLOADS.md §5.2) with its effect.
func BuildDynamic(cfg DynamicConfig) *DynamicGraph {
	g := &DynamicGraph{Cfg: cfg}
	w := cfg.Width
	g.Sources = make([]*signals.Signal[float64], w)
	prev := make([]signals.Readable[float64], w)
	for i := range g.Sources {
		g.Sources[i] = signals.New(float64(i))
		prev[i] = g.Sources[i]
	}
	rnd := pseudoRandom("seed")
	for range cfg.TotalLayers - 1 {
		row := make([]*signals.Computed[float64], w)
		for myDex := range w {
			my := make([]signals.Readable[float64], cfg.NSources)
			for k := range my {
				my[k] = prev[(myDex+k)%w]
			}
			if rnd.Float() < cfg.StaticFraction {
				row[myDex] = signals.NewComputed(func(t *Tracker) float64 {
					g.Counts.Computed++
					sum := 0.0
					for _, x := range my {
						sum += x.Get(t)
					}
					return sum
				})
			} else {
				g.Dynamic++
				first, tail := my[0], my[1:]
				row[myDex] = signals.NewComputed(func(t *Tracker) float64 {
					g.Counts.Computed++
					sum := first.Get(t)
					drop := isOddFloat(sum)
					dropDex := int(math.Mod(sum, float64(len(tail))))
					for k, x := range tail {
						if drop && k == dropDex {
							continue
						}
						sum += x.Get(t)
					}
					return sum
				})
			}
		}
		g.Rows = append(g.Rows, row)
		next := make([]signals.Readable[float64], w)
		for i, c := range row {
			next[i] = c
		}
		prev = next
	}
	last := g.Rows[len(g.Rows)-1]
	skip := int(math.Round(float64(w) * (1 - cfg.ReadFraction)))
	rnd2 := pseudoRandom("seed")
	idx := make([]int, w)
	for i := range idx {
		idx[i] = i
	}
	for range skip {
		rm := int(math.Floor(rnd2.Float() * float64(len(idx))))
		idx = append(idx[:rm], idx[rm+1:]...)
	}
	g.ReadLeaves = idx
	for _, i := range idx {
		g.leaves = append(g.leaves, last[i])
	}
	leaves := g.leaves
	g.effect = signals.NewEffect(func(t *Tracker) {
		g.Counts.Effects++
		for _, l := range leaves {
			l.Get(t)
		}
	})
	return g
}

// Run is upstream's run(): Iterations writes, each in its own batch and
// followed by an untracked read of every read leaf, then the sum of the
// read leaves.
func (g *DynamicGraph) Run() float64 {
	return g.RunRange(0, g.Cfg.Iterations)
}

// RunRange is Run restricted to the writes of iterations from to to-1
// (Run is RunRange(0, Iterations)). Tests use it for shorter runs.
func (g *DynamicGraph) RunRange(from, to int) float64 {
	w := len(g.Sources)
	for i := from; i < to; i++ {
		d := i % w
		src, v := g.Sources[d], float64(i+d)
		signals.Batch(func() { src.Set(v) })
		for _, l := range g.leaves {
			l.Get(nil)
		}
	}
	sum := 0.0
	for _, l := range g.leaves {
		sum = l.Get(nil) + sum
	}
	return sum
}

// Stop stops the graph's effect.
func (g *DynamicGraph) Stop() { g.effect.Stop() }

// Dynamic is the workload of one dynamic configuration. Its Step is one
// run() and verifies the sum; a fresh graph's first Step does slightly
// less work than StepCounts, which hold for every later Step.
func Dynamic(cfg DynamicConfig) *Workload {
	return &Workload{
		Name: cfg.Title, Kind: KindDynamic,
		BuildCounts: cfg.BuildCounts, StepCounts: Counts{cfg.Count, cfg.EffectRuns},
		Checksum: fmt.Sprint(cfg.Sum), Writes: cfg.Iterations, Dyn: &cfg,
		Build: func() *Graph {
			g := BuildDynamic(cfg)
			return &Graph{
				Counts:  &g.Counts,
				dispose: g.Stop,
				step: func() error {
					if s := g.Run(); s != cfg.Sum {
						return errFloat("sum", s, cfg.Sum)
					}
					return nil
				},
			}
		},
	}
}
