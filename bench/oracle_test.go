package bench

import "math"

// oracle is a reference model of the dynamic graphs, independent of
// package signals: a plain pull-based lazy evaluator with version numbers.
// A computed is re-evaluated when read only if one of its dependencies,
// checked in the order its last run read them (each brought up to date
// first), changed since it was last verified; a re-evaluation that yields
// an equal value does not count as a change; the effect re-runs after a
// write if one of the leaves it read changed. That is the work a lazy
// push-pull implementation does, so the oracle predicts sums and counts
// for runs of any length; its full runs are checked against WORKLOADS.md.
type oracle struct {
	cfg     DynamicConfig
	epoch   uint64
	nodes   []oNode // sources first, then the rows, row-major
	w       int
	leaves  []int // node indices of the read leaves
	effDeps []int
	counts  Counts
	dynamic int
	// touched[i] == epoch marks the nodes that the write of this epoch
	// may have changed: those reachable from the written source through
	// candidate edges (my), a superset of the actual dependencies.
	touched []uint64
	queue   []int
}

type oNode struct {
	value      float64
	changedAt  uint64
	verifiedAt uint64
	computed   bool
	hasValue   bool
	static     bool
	my         []int // candidate dependencies, in read order
	deps       []int // what the last evaluation read, in order
}

func newOracle(cfg DynamicConfig) *oracle {
	w := cfg.Width
	o := &oracle{cfg: cfg, w: w, epoch: 1}
	for i := range w {
		o.nodes = append(o.nodes, oNode{value: float64(i)})
	}
	rnd := pseudoRandom("seed")
	for row := 1; row < cfg.TotalLayers; row++ {
		for myDex := range w {
			n := oNode{computed: true}
			for k := range cfg.NSources {
				n.my = append(n.my, (row-1)*w+(myDex+k)%w)
			}
			n.static = rnd.Float() < cfg.StaticFraction
			if !n.static {
				o.dynamic++
			}
			o.nodes = append(o.nodes, n)
		}
	}
	skip := int(math.Round(float64(w) * (1 - cfg.ReadFraction)))
	rnd2 := pseudoRandom("seed")
	base := (cfg.TotalLayers - 1) * w
	var idx []int
	for i := range w {
		idx = append(idx, base+i)
	}
	for range skip {
		rm := int(math.Floor(rnd2.Float() * float64(len(idx))))
		idx = append(idx[:rm], idx[rm+1:]...)
	}
	o.leaves = idx
	o.touched = make([]uint64, len(o.nodes))
	o.runEffect()
	return o
}

func (o *oracle) read(i int, deps *[]int) float64 {
	if deps != nil {
		*deps = append(*deps, i)
	}
	o.update(i)
	return o.nodes[i].value
}

func (o *oracle) update(i int) {
	n := &o.nodes[i]
	if !n.computed || n.verifiedAt == o.epoch {
		return
	}
	if n.hasValue && n.verifiedAt == o.epoch-1 && o.touched[i] != o.epoch {
		// Current before this epoch's write, which cannot reach it:
		// checking its dependencies would find them all unchanged.
		n.verifiedAt = o.epoch
		return
	}
	if n.hasValue {
		changed := false
		for _, d := range n.deps {
			o.update(d)
			if o.nodes[d].changedAt > n.verifiedAt {
				changed = true
				break
			}
		}
		if !changed {
			n.verifiedAt = o.epoch
			return
		}
	}
	o.counts.Computed++
	deps := n.deps[:0]
	var sum float64
	if n.static {
		sum = 0.0
		for _, d := range n.my {
			sum += o.read(d, &deps)
		}
	} else {
		sum = o.read(n.my[0], &deps)
		tail := n.my[1:]
		drop := math.Mod(sum, 2) != 0
		dropDex := int(math.Mod(sum, float64(len(tail))))
		for k, d := range tail {
			if drop && k == dropDex {
				continue
			}
			sum += o.read(d, &deps)
		}
	}
	n = &o.nodes[i]
	n.deps = deps
	if !n.hasValue || sum != n.value {
		n.value = sum
		n.changedAt = o.epoch
	}
	n.hasValue = true
	n.verifiedAt = o.epoch
}

func (o *oracle) runEffect() {
	o.counts.Effects++
	o.effDeps = o.effDeps[:0]
	for _, l := range o.leaves {
		o.read(l, &o.effDeps)
	}
}

// flush runs the effect if a leaf it read changed since the last write.
func (o *oracle) flush(prev uint64) {
	for _, l := range o.effDeps {
		o.update(l)
		if o.nodes[l].changedAt > prev {
			o.runEffect()
			return
		}
	}
}

// runRange performs the writes of run() for i in [from, to) and returns
// the final sum, as DynamicGraph.RunRange does.
func (o *oracle) runRange(from, to int) float64 {
	for i := from; i < to; i++ {
		d := i % o.w
		v := float64(i + d)
		if o.nodes[d].value != v {
			prev := o.epoch
			o.epoch++
			o.nodes[d].value = v
			o.nodes[d].changedAt = o.epoch
			o.touch(d)
			o.flush(prev)
		}
		for _, l := range o.leaves {
			o.read(l, nil)
		}
	}
	sum := 0.0
	for _, l := range o.leaves {
		sum = o.read(l, nil) + sum
	}
	return sum
}

// touch marks the nodes reachable from source src through candidate edges.
func (o *oracle) touch(src int) {
	w, nSrc := o.w, o.cfg.NSources
	o.touched[src] = o.epoch
	q := append(o.queue[:0], src)
	for len(q) > 0 {
		i := q[0]
		q = q[1:]
		row, col := i/w, i%w
		if row == o.cfg.TotalLayers-1 {
			continue
		}
		// Node (row+1, j) lists (row, (j+k) mod w) for k < nSrc.
		for k := range nSrc {
			j := (row+1)*w + ((col-k)%w+w)%w
			if o.touched[j] != o.epoch {
				o.touched[j] = o.epoch
				q = append(q, j)
			}
		}
	}
	o.queue = q[:0]
}
