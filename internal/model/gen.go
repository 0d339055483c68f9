package model

import "math/rand"

// Source is where a generator takes its choices from.
type Source interface {
	// Intn returns a choice in [0, n); 0 if n <= 1.
	Intn(n int) int
}

// RandSource draws choices from a math/rand generator.
type RandSource struct{ R *rand.Rand }

// Intn implements Source.
func (s RandSource) Intn(n int) int {
	if n <= 1 {
		return 0
	}
	return s.R.Intn(n)
}

// ByteSource draws choices from a byte string, one byte a choice (two when
// n > 256), and 0 once the bytes run out. Every byte string is a valid
// source, which is what a fuzzer needs.
type ByteSource struct {
	Data []byte
	pos  int
}

// Intn implements Source.
func (s *ByteSource) Intn(n int) int {
	if n <= 1 {
		return 0
	}
	v := s.next()
	if n > 256 {
		v = v<<8 | s.next()
	}
	return v % n
}

func (s *ByteSource) next() int {
	if s.pos >= len(s.Data) {
		return 0
	}
	v := int(s.Data[s.pos])
	s.pos++
	return v
}

// Exhausted reports whether every byte was used.
func (s *ByteSource) Exhausted() bool { return s.pos >= len(s.Data) }

// Recorder passes on the choices of Src and records them as the bytes from
// which a ByteSource makes the same choices: Decode(recorded bytes) gives
// the program generated through the Recorder. It builds fuzz seed corpora.
type Recorder struct {
	Src  Source
	Data []byte
}

// Intn implements Source.
func (r *Recorder) Intn(n int) int {
	v := r.Src.Intn(n)
	if n <= 1 {
		return v
	}
	if n > 256 {
		r.Data = append(r.Data, byte(v>>8))
	}
	r.Data = append(r.Data, byte(v))
	return v
}

// Config bounds what a generator produces.
type Config struct {
	MaxNodes   int // nodes (signals and computeds) created
	MaxEffects int // effects created
	MaxBatch   int // operations in one batch
	MaxNesting int // batch nesting depth
	ExprDepth  int // expression depth of computeds; effect bodies use one less
	// Weights of the operation kinds, by OpKind. A kind with weight 0 is
	// never generated.
	Weights [numOpKinds]int
	// NoWriters forbids effects that write signals.
	NoWriters bool
	// Writable, if set, restricts the signals Set (update false) and
	// Update (update true) may write, by node id.
	Writable func(m *Model, id int, update bool) bool
	// UpdateFn, if set, chooses the function of an Update of signal id.
	UpdateFn func(src Source, m *Model, id int) Fn
	// MayStop, if set, restricts the effects Stop may name (by effect id).
	MayStop func(m *Model, k int) bool
}

// DefaultConfig is the configuration of the sequential property and of the
// fuzz target.
func DefaultConfig() Config {
	return Config{
		MaxNodes:   14,
		MaxEffects: 7,
		MaxBatch:   5,
		MaxNesting: 2,
		ExprDepth:  3,
		Weights: [numOpKinds]int{
			OpNewSignal:   3,
			OpNewComputed: 5,
			OpNewEffect:   3,
			OpSet:         8,
			OpUpdate:      3,
			OpRead:        5,
			OpBatch:       4,
			OpStop:        1,
		},
	}
}

// Gen generates random valid operations.
type Gen struct {
	Cfg Config
	Src Source
}

func (g *Gen) n(n int) int { return g.Src.Intn(n) }

func (g *Gen) chance(num, den int) bool { return g.n(den) < num }

func (g *Gen) between(lo, hi int) int { return lo + g.n(hi-lo+1) }

// Program generates n operations, applying each to m.
func (g *Gen) Program(m *Model, n int) []Op {
	ops := make([]Op, 0, n)
	for range n {
		op := g.Op(m)
		m.Apply(op)
		ops = append(ops, op)
	}
	return ops
}

// Op returns an operation valid in m. It does not apply it.
func (g *Gen) Op(m *Model) Op { return g.op(m, 0) }

func (g *Gen) op(m *Model, nesting int) Op {
	for range 8 {
		var feasible [numOpKinds]bool
		feasible[OpNewSignal] = len(m.Nodes) < g.Cfg.MaxNodes
		feasible[OpNewComputed] = len(m.Nodes) < g.Cfg.MaxNodes && len(m.Nodes) > 0
		feasible[OpNewEffect] = len(m.Effects) < g.Cfg.MaxEffects && len(m.Nodes) > 0
		feasible[OpSet] = len(g.writable(m, false)) > 0
		feasible[OpUpdate] = len(g.writable(m, true)) > 0
		feasible[OpRead] = len(m.Nodes) > 0
		feasible[OpBatch] = nesting < g.Cfg.MaxNesting && len(m.Nodes) > 0
		feasible[OpStop] = len(g.stoppable(m)) > 0
		total := 0
		for k, w := range g.Cfg.Weights {
			if feasible[k] {
				total += w
			}
		}
		if total == 0 {
			break
		}
		r := g.n(total)
		kind := OpKind(0)
		for k, w := range g.Cfg.Weights {
			if !feasible[k] {
				continue
			}
			if r < w {
				kind = OpKind(k)
				break
			}
			r -= w
		}
		op := g.build(m, kind, nesting)
		if m.Check(op) == nil {
			return op
		}
	}
	// Always valid (Check does not enforce the size bounds).
	return Op{Kind: OpNewSignal, Name: m.NextName(), Value: g.between(-3, 3)}
}

func (g *Gen) writable(m *Model, update bool) []int {
	var ids []int
	for id := range m.Nodes {
		if !m.Writable(id) {
			continue
		}
		if g.Cfg.Writable != nil && !g.Cfg.Writable(m, id, update) {
			continue
		}
		ids = append(ids, id)
	}
	return ids
}

func (g *Gen) stoppable(m *Model) []int {
	var ks []int
	for k := range m.Effects {
		if g.Cfg.MayStop == nil || g.Cfg.MayStop(m, k) {
			ks = append(ks, k)
		}
	}
	return ks
}

func (g *Gen) eq(computed bool) Eq {
	switch g.n(10) {
	case 0:
		return Eq{Kind: EqExact}
	case 1:
		return Eq{Kind: EqNever}
	case 2:
		return Eq{Kind: EqMod, K: g.between(2, 3)}
	case 3:
		if computed {
			return Eq{Kind: EqDiv, K: g.between(2, 4)}
		}
		return Eq{Kind: EqSign}
	}
	return Eq{}
}

func (g *Gen) build(m *Model, kind OpKind, nesting int) Op {
	op := Op{Kind: kind, Target: -1}
	switch kind {
	case OpNewSignal:
		op.Name = m.NextName()
		op.Value = g.between(-3, 3)
		op.Eq = g.eq(false)
	case OpNewComputed:
		op.Name = m.NextName()
		op.Expr = g.expr(m, g.Cfg.ExprDepth)
		op.Eq = g.eq(true)
	case OpNewEffect:
		op.Name = m.NextName()
		g.effect(m, &op)
	case OpSet:
		ids := g.writable(m, false)
		id := ids[g.n(len(ids))]
		op.Ref, op.Sig = m.Nodes[id].Name, true
		switch g.n(6) {
		case 0:
			op.Value = m.Vals[id] // no change
		case 1:
			op.Value = m.Vals[id] + g.between(-1, 1)
		default:
			op.Value = g.between(-5, 5)
		}
	case OpUpdate:
		ids := g.writable(m, true)
		id := ids[g.n(len(ids))]
		op.Ref, op.Sig = m.Nodes[id].Name, true
		if g.Cfg.UpdateFn != nil {
			op.Fn = g.Cfg.UpdateFn(g.Src, m, id)
			break
		}
		switch g.n(5) {
		case 0, 1:
			op.Fn = Fn{Kind: FnAdd, K: []int{-2, -1, 1, 2}[g.n(4)]}
		case 2:
			op.Fn = Fn{Kind: FnMul, K: []int{-1, 0, 2}[g.n(3)]}
		case 3:
			op.Fn = Fn{Kind: FnNeg}
		default:
			lo := g.between(-2, 1)
			op.Fn = Fn{Kind: FnClamp, K: lo, K2: lo + g.n(3)}
		}
	case OpRead:
		id := g.node(m, false)
		op.Ref, op.Sig = m.Nodes[id].Name, m.Nodes[id].Kind == Signal
		op.Peek = g.chance(1, 2)
	case OpStop:
		ks := g.stoppable(m)
		// Prefer live effects: stopping a stopped one is a no-op.
		k := ks[g.n(len(ks))]
		for range 2 {
			if m.Effects[k].Live {
				break
			}
			k = ks[g.n(len(ks))]
		}
		op.Ref = m.Effects[k].Name
	case OpBatch:
		c := m.Clone()
		n := 1 + g.n(g.Cfg.MaxBatch)
		written := map[int]int{} // signal id → value before the batch
		for range n {
			var s Op
			if len(written) > 0 && g.chance(1, 4) {
				// Revert an earlier write of this batch.
				ids := make([]int, 0, len(written))
				for id := range written {
					ids = append(ids, id)
				}
				id := minIDs(ids, g.n(len(ids)))
				s = Op{Kind: OpSet, Ref: c.Nodes[id].Name, Sig: true, Value: written[id], Target: -1}
				if c.Check(s) != nil {
					s = g.op(c, nesting+1)
				}
			} else {
				s = g.op(c, nesting+1)
			}
			if s.Kind == OpSet || s.Kind == OpUpdate {
				id := c.nodeIDs[s.Ref]
				if _, ok := written[id]; !ok && (g.Cfg.Writable == nil || g.Cfg.Writable(c, id, false)) {
					written[id] = c.Vals[id]
				}
			}
			c.apply(s)
			op.Ops = append(op.Ops, s)
		}
	}
	return op
}

// minIDs returns the i-th smallest of ids (map order is random; choices must
// not be).
func minIDs(ids []int, i int) int {
	for a := range ids {
		for b := a + 1; b < len(ids); b++ {
			if ids[b] < ids[a] {
				ids[a], ids[b] = ids[b], ids[a]
			}
		}
	}
	return ids[i]
}

// node picks a node id, favouring recent ones (deep chains) and, if
// preferComputed, computeds.
func (g *Gen) node(m *Model, preferComputed bool) int {
	n := len(m.Nodes)
	if preferComputed && g.chance(2, 3) {
		var cs []int
		for id := range m.Nodes {
			if m.Nodes[id].Kind == Computed {
				cs = append(cs, id)
			}
		}
		if len(cs) > 0 {
			if g.chance(1, 2) {
				return cs[len(cs)-1-g.n(min(2, len(cs)))]
			}
			return cs[g.n(len(cs))]
		}
	}
	if g.chance(1, 2) {
		return n - 1 - g.n(min(3, n))
	}
	return g.n(n)
}

func (g *Gen) read(m *Model, preferComputed bool) *Expr {
	id := g.node(m, preferComputed)
	return &Expr{Kind: XRead, Node: m.Nodes[id].Name, Sig: m.Nodes[id].Kind == Signal}
}

// expr returns an expression over m's nodes, by name.
func (g *Gen) expr(m *Model, depth int) *Expr {
	if depth <= 0 || len(m.Nodes) == 0 {
		if len(m.Nodes) == 0 || g.chance(1, 8) {
			return &Expr{Kind: XConst, K: g.between(-2, 2)}
		}
		return g.read(m, false)
	}
	switch g.n(14) {
	case 0, 1, 2, 3:
		return g.read(m, false)
	case 4, 5:
		return &Expr{Kind: XAdd, A: g.expr(m, depth-1), B: g.expr(m, depth-1)}
	case 6:
		return &Expr{Kind: XSub, A: g.expr(m, depth-1), B: g.expr(m, depth-1)}
	case 7:
		return &Expr{Kind: XMul, A: g.expr(m, depth-1), B: g.expr(m, depth-1)}
	case 8, 9:
		lo := g.between(-2, 1)
		return &Expr{Kind: XClamp, A: g.expr(m, depth-1), K: lo, K2: lo + g.n(3)}
	case 10, 11:
		return &Expr{Kind: XIf, A: g.expr(m, depth-1), K: g.between(-1, 2), B: g.expr(m, depth-1), C: g.expr(m, depth-1)}
	case 12:
		return &Expr{Kind: XMod, A: g.expr(m, depth-1), K: g.between(2, 3)}
	default:
		return &Expr{Kind: XDiv, A: g.expr(m, depth-1), K: g.between(2, 3)}
	}
}

// effect fills in the body and target of a NewEffect: a plain observer, a
// writer of a newer signal, or a normalizer of a signal users write.
func (g *Gen) effect(m *Model, op *Op) {
	if !g.Cfg.NoWriters && g.chance(1, 5) {
		var cands []int
		for id := range m.Nodes {
			n := &m.Nodes[id]
			if n.Kind == Signal && n.Eq.Kind == EqDefault && n.Writer < 0 && n.Normalizer < 0 {
				cands = append(cands, id)
			}
		}
		if len(cands) > 0 {
			id := cands[g.n(len(cands))]
			lo := g.between(-2, 1)
			op.Expr = &Expr{Kind: XClamp, K: lo, K2: lo + g.n(3),
				A: &Expr{Kind: XRead, Node: m.Nodes[id].Name, Sig: true}}
			op.Target = m.Nodes[id].Name
			return
		}
	}
	depth := max(1, g.Cfg.ExprDepth-1)
	if g.chance(1, 3) {
		op.Expr = g.read(m, true)
	} else {
		op.Expr = g.exprPrefer(m, depth)
	}
	if g.Cfg.NoWriters || !g.chance(2, 5) {
		return
	}
	body, ok := m.resolve(op.Expr)
	if !ok {
		return
	}
	lowest := m.maxSignal(body)
	var cands []int
	for id := lowest + 1; id < len(m.Nodes); id++ {
		n := &m.Nodes[id]
		if n.Kind == Signal && n.Eq.Kind == EqDefault && n.Writer < 0 && n.Normalizer < 0 {
			cands = append(cands, id)
		}
	}
	if len(cands) > 0 {
		op.Target = m.Nodes[cands[g.n(len(cands))]].Name
	}
}

// exprPrefer is expr whose reads favour computeds, for effect bodies.
func (g *Gen) exprPrefer(m *Model, depth int) *Expr {
	if depth <= 0 {
		return g.read(m, true)
	}
	switch g.n(6) {
	case 0, 1:
		return &Expr{Kind: XAdd, A: g.exprPrefer(m, depth-1), B: g.exprPrefer(m, depth-1)}
	case 2:
		return &Expr{Kind: XIf, A: g.read(m, true), K: g.between(-1, 2), B: g.exprPrefer(m, depth-1), C: g.exprPrefer(m, depth-1)}
	case 3:
		lo := g.between(-2, 1)
		return &Expr{Kind: XClamp, A: g.exprPrefer(m, depth-1), K: lo, K2: lo + g.n(3)}
	}
	return g.read(m, true)
}

// Decode turns arbitrary bytes into a valid program (at most 64 top-level
// operations) under DefaultConfig. The same bytes always give the same
// program.
func Decode(data []byte) []Op {
	src := &ByteSource{Data: data}
	g := &Gen{Cfg: DefaultConfig(), Src: src}
	m := New()
	var ops []Op
	for !src.Exhausted() && len(ops) < 64 {
		op := g.Op(m)
		m.Apply(op)
		ops = append(ops, op)
	}
	return ops
}

// Shrink returns simpler variants of op, for shrinking a failing program.
// They need not be valid; callers filter them with Check.
func Shrink(op Op) []Op {
	var out []Op
	switch op.Kind {
	case OpBatch:
		if len(op.Ops) == 1 {
			out = append(out, op.Ops[0])
		}
		for i := range op.Ops {
			c := op
			c.Ops = append(append([]Op(nil), op.Ops[:i]...), op.Ops[i+1:]...)
			if len(c.Ops) > 0 {
				out = append(out, c)
			}
		}
		for i, s := range op.Ops {
			for _, t := range Shrink(s) {
				c := op
				c.Ops = append([]Op(nil), op.Ops...)
				c.Ops[i] = t
				out = append(out, c)
			}
		}
	case OpNewSignal, OpNewComputed:
		if op.Eq != (Eq{}) {
			c := op
			c.Eq = Eq{}
			out = append(out, c)
		}
		if op.Kind == OpNewSignal && op.Value != 0 {
			c := op
			c.Value = 0
			out = append(out, c)
		}
		for _, e := range shrinkExpr(op.Expr) {
			c := op
			c.Expr = e
			out = append(out, c)
		}
	case OpNewEffect:
		if op.Target >= 0 {
			c := op
			c.Target = -1
			out = append(out, c)
		}
		for _, e := range shrinkExpr(op.Expr) {
			c := op
			c.Expr = e
			out = append(out, c)
		}
	case OpSet:
		if op.Value != 0 {
			c := op
			c.Value = 0
			out = append(out, c)
		}
	case OpUpdate:
		c := op
		c.Kind, c.Value = OpSet, 0
		out = append(out, c)
	}
	return out
}

func shrinkExpr(e *Expr) []*Expr {
	if e == nil || e.Kind == XConst {
		return nil
	}
	out := []*Expr{}
	for _, k := range []*Expr{e.A, e.B, e.C} {
		if k != nil {
			out = append(out, k)
		}
	}
	if e.Kind == XRead {
		return []*Expr{{Kind: XConst}}
	}
	for i, k := range []*Expr{e.A, e.B, e.C} {
		for _, s := range shrinkExpr(k) {
			c := *e
			switch i {
			case 0:
				c.A = s
			case 1:
				c.B = s
			default:
				c.C = s
			}
			out = append(out, &c)
		}
	}
	return out
}
