package model

import (
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"
)

func read(name int, sig bool) *Expr { return &Expr{Kind: XRead, Node: name, Sig: sig} }
func konst(k int) *Expr             { return &Expr{Kind: XConst, K: k} }
func add(a, b *Expr) *Expr          { return &Expr{Kind: XAdd, A: a, B: b} }

func newSignal(name, v int, eq Eq) Op {
	return Op{Kind: OpNewSignal, Name: name, Value: v, Eq: eq, Target: -1}
}
func newComputed(name int, e *Expr, eq Eq) Op {
	return Op{Kind: OpNewComputed, Name: name, Expr: e, Eq: eq, Target: -1}
}
func newEffect(name int, body *Expr, target int) Op {
	return Op{Kind: OpNewEffect, Name: name, Expr: body, Target: target}
}
func set(name, v int) Op { return Op{Kind: OpSet, Ref: name, Sig: true, Value: v, Target: -1} }

func apply(t *testing.T, m *Model, ops ...Op) {
	t.Helper()
	for _, op := range ops {
		require.NoError(t, m.Check(op), "%v", op)
		m.Apply(op)
	}
}

func TestEq(t *testing.T) {
	cases := []struct {
		eq    Eq
		a, b  int
		equal bool
	}{
		{Eq{}, 3, 3, true},
		{Eq{}, 3, 4, false},
		{Eq{Kind: EqExact}, 3, 3, true},
		{Eq{Kind: EqNever}, 3, 3, false},
		{Eq{Kind: EqMod, K: 3}, -1, 2, true},
		{Eq{Kind: EqMod, K: 3}, -1, 1, false},
		{Eq{Kind: EqDiv, K: 2}, -1, -2, true},
		{Eq{Kind: EqDiv, K: 2}, -1, 0, false},
		{Eq{Kind: EqDiv, K: 2}, 0, 1, true},
		{Eq{Kind: EqSign}, -5, -1, true},
		{Eq{Kind: EqSign}, 0, 1, false},
	}
	for _, c := range cases {
		require.Equal(t, c.equal, c.eq.Equal(c.a, c.b), "%v: %d vs %d", c.eq, c.a, c.b)
		if c.eq.Coarse() {
			require.Equal(t, c.equal, c.eq.Class(c.a) == c.eq.Class(c.b))
		}
	}
	require.Equal(t, 2, Eq{Kind: EqMod, K: 3}.Class(-4))
	require.Equal(t, -2, Eq{Kind: EqDiv, K: 3}.Class(-4))
	require.Equal(t, 7, Eq{Kind: EqExact}.Class(7))
}

func TestEvalReadsOnlyTheTakenBranch(t *testing.T) {
	vals := map[int]int{1: 5, 2: 20, 3: 30}
	var order []int
	rd := func(n int) int { order = append(order, n); return vals[n] }
	e := &Expr{Kind: XIf, A: read(1, true), K: 3, B: read(2, true), C: read(3, true)}
	require.Equal(t, 20, Eval(e, rd))
	require.Equal(t, []int{1, 2}, order)

	order, vals[1] = nil, 0
	require.Equal(t, 30, Eval(e, rd))
	require.Equal(t, []int{1, 3}, order)

	order = nil
	c := &Expr{Kind: XClamp, A: &Expr{Kind: XSub, A: read(2, true), B: read(1, true)}, K: 0, K2: 4}
	require.Equal(t, 4, Eval(c, rd))
	require.Equal(t, []int{2, 1}, order, "operands are read left to right")
	require.Equal(t, -1, Eval(&Expr{Kind: XDiv, A: konst(-1), K: 2}, rd))
	require.Equal(t, 2, Eval(&Expr{Kind: XMod, A: konst(-1), K: 3}, rd))
}

func TestSnapshotDiamondAndCoarseComputeds(t *testing.T) {
	m := New()
	apply(t, m,
		newSignal(0, 1, Eq{}),
		newComputed(1, add(read(0, true), konst(1)), Eq{}),                     // b = a+1
		newComputed(2, &Expr{Kind: XMul, A: read(0, true), B: konst(2)}, Eq{}), // c = a*2
		newComputed(3, add(read(1, false), read(2, false)), Eq{}),              // d = b+c
		newComputed(4, read(3, false), Eq{Kind: EqDiv, K: 10}),                 // coarse: readers see d/10
		newComputed(5, add(read(4, false), konst(100)), Eq{}),
	)
	s := m.Snapshot()
	require.Equal(t, 4, s.Value(3))
	require.Equal(t, 4, s.Value(4))
	require.Equal(t, 0, s.Seen(4))
	require.Equal(t, 100, s.Value(5))

	apply(t, m, set(0, 5))
	s = m.Snapshot()
	require.Equal(t, 16, s.Value(3))
	require.Equal(t, 1, s.Seen(4))
	require.Equal(t, 101, s.Value(5))
	v, obs := s.Observe(&Expr{Kind: XAdd, A: read(5, false), B: read(0, true)})
	require.Equal(t, 106, v)
	require.Equal(t, []Obs{{5, 101}, {0, 5}}, obs)
}

func TestWritesFollowTheSignalsEquality(t *testing.T) {
	m := New()
	apply(t, m, newSignal(0, 1, Eq{Kind: EqMod, K: 3}), newSignal(1, 1, Eq{Kind: EqNever}))
	require.False(t, m.Write(0, 4), "4 ≡ 1 mod 3: no change")
	require.Equal(t, 1, m.Vals[0])
	require.True(t, m.Write(0, 5))
	require.Equal(t, 5, m.Vals[0])
	require.True(t, m.Write(1, 1), "never-equal: every write is a change")
	apply(t, m, Op{Kind: OpUpdate, Ref: 0, Sig: true, Fn: Fn{Kind: FnAdd, K: 3}, Target: -1})
	require.Equal(t, 5, m.Vals[0])
}

func TestSettleRunsWritersToTheirFixedPoint(t *testing.T) {
	m := New()
	apply(t, m,
		newSignal(0, 1, Eq{}),
		newSignal(1, 0, Eq{}),
		newSignal(2, 0, Eq{}),
		newSignal(3, 7, Eq{}),
		// e5 writes s2 from s1, e4 writes s1 from s0: created in the
		// "wrong" order, so settling takes two rounds.
		newEffect(5, &Expr{Kind: XMul, A: read(1, true), B: konst(10)}, 2),
		newEffect(4, add(read(0, true), konst(1)), 1),
		newEffect(6, &Expr{Kind: XClamp, A: read(3, true), K: 0, K2: 3}, 3),
	)
	require.Equal(t, []int{1, 2, 20, 3}, m.Vals)
	require.True(t, m.Effects[2].Normalizer())
	require.False(t, m.Effects[0].Normalizer())

	apply(t, m, Op{Kind: OpBatch, Ops: []Op{set(0, 4), set(3, -9)}})
	require.Equal(t, []int{4, 5, 50, 0}, m.Vals)

	// A batch sees its own writes unsettled: apply nested, then settle.
	c := m.Clone()
	c.ApplyNested(set(3, 9))
	require.Equal(t, 9, c.Vals[3])
	c.Settle()
	require.Equal(t, 3, c.Vals[3])

	apply(t, m, Op{Kind: OpStop, Ref: 4}, set(0, 0))
	require.Equal(t, []int{0, 5, 50, 0}, m.Vals, "a stopped writer writes no more")
}

func TestCheckRejectsInvalidOperations(t *testing.T) {
	m := New()
	apply(t, m,
		newSignal(0, 1, Eq{}),
		newSignal(1, 0, Eq{}),
		newSignal(2, 0, Eq{Kind: EqMod, K: 2}),
		newComputed(3, read(1, true), Eq{}),
	)
	bad := map[string]Op{
		"name in use":            newSignal(1, 0, Eq{}),
		"unknown node":           newComputed(9, read(8, true), Eq{}),
		"wrong kind":             newComputed(9, read(3, true), Eq{}),
		"bad clamp":              newComputed(9, &Expr{Kind: XClamp, A: konst(0), K: 2, K2: 1}, Eq{}),
		"mod zero":               newComputed(9, &Expr{Kind: XMod, A: konst(0), K: 0}, Eq{}),
		"missing operand":        newComputed(9, &Expr{Kind: XAdd, A: konst(0)}, Eq{}),
		"bad equality":           newSignal(9, 0, Eq{Kind: EqMod}),
		"target older than read": newEffect(9, read(3, false), 0),
		"target is read":         newEffect(9, read(1, true), 1),
		"target read via c3":     newEffect(9, read(3, false), 1),
		"coarse target":          newEffect(9, read(0, true), 2),
		"target not a signal":    newEffect(9, read(0, true), 3),
		"set a computed":         {Kind: OpSet, Ref: 3, Sig: true},
		"stop unknown":           {Kind: OpStop, Ref: 3},
		"bad batch":              {Kind: OpBatch, Ops: []Op{newSignal(9, 0, Eq{}), newSignal(9, 0, Eq{})}},
	}
	for why, op := range bad {
		require.Error(t, m.Check(op), why)
	}
	apply(t, m, newSignal(4, 0, Eq{}), newEffect(9, read(3, false), 4))
	require.Error(t, m.Check(set(4, 1)), "users never write a signal an effect writes")
	require.Error(t, m.Check(newEffect(10, read(0, true), 4)), "one writer per signal")
	apply(t, m, newEffect(10, &Expr{Kind: XClamp, A: read(1, true), K: 0, K2: 1}, 1))
	require.NoError(t, m.Check(set(1, 5)), "users may write a normalized signal")
	require.NoError(t, m.Check(Op{Kind: OpBatch, Ops: []Op{newSignal(11, 0, Eq{}), set(11, 1)}}))
}

func TestDemandedFollowsDynamicReads(t *testing.T) {
	m := New()
	apply(t, m,
		newSignal(0, 0, Eq{}),
		newComputed(1, konst(1), Eq{}),
		newComputed(2, konst(2), Eq{}),
		newComputed(3, &Expr{Kind: XIf, A: read(0, true), K: 0, B: read(1, false), C: read(2, false)}, Eq{}),
		newComputed(4, konst(4), Eq{}),
	)
	d := m.Snapshot().Demanded()
	require.Equal(t, []bool{false, false, false, false, false}, d, "no effect, no read: nothing is needed")
	d = m.Snapshot().Demanded(3)
	require.Equal(t, []bool{true, false, true, true, false}, d)
	apply(t, m, newEffect(5, read(3, false), -1), set(0, 1))
	require.Equal(t, []bool{true, true, false, true, false}, m.Snapshot().Demanded())
	apply(t, m, Op{Kind: OpStop, Ref: 5})
	require.Equal(t, []bool{false, false, false, false, false}, m.Snapshot().Demanded())
}

func TestGeneratedProgramsAreValidAndReproducible(t *testing.T) {
	for seed := range int64(50) {
		gen := func() ([]Op, []byte) {
			rec := &Recorder{Src: RandSource{R: rand.New(rand.NewSource(seed))}}
			g := &Gen{Cfg: DefaultConfig(), Src: rec}
			return g.Program(New(), 40), rec.Data // Program applies: panics if invalid
		}
		a, data := gen()
		b, _ := gen()
		require.Equal(t, Format(a), Format(b))
		require.Equal(t, Format(a), Format(Decode(data)), "Decode replays a recorded program")
		m := New()
		for _, op := range a {
			require.NoError(t, m.Check(op))
			m.Apply(op)
		}
	}
}

func TestDecodeAcceptsAnyBytes(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for range 200 {
		b := make([]byte, r.Intn(300))
		r.Read(b)
		ops := Decode(b)
		require.LessOrEqual(t, len(ops), 64)
		m := New()
		for _, op := range ops {
			require.NoError(t, m.Check(op))
			m.Apply(op)
		}
	}
	require.Empty(t, Decode(nil))
	require.NotEmpty(t, Decode(make([]byte, 50)))
}

func TestShrinkAndFormat(t *testing.T) {
	b := Op{Kind: OpBatch, Ops: []Op{set(0, 3), {Kind: OpRead, Ref: 1, Peek: true}}}
	require.Equal(t, "Batch{s0.Set(3); c1.Peek()}", b.String())
	cands := Shrink(b)
	require.Contains(t, cands, Op{Kind: OpBatch, Ops: []Op{{Kind: OpRead, Ref: 1, Peek: true}}})
	require.Contains(t, cands, Op{Kind: OpBatch, Ops: []Op{set(0, 0), {Kind: OpRead, Ref: 1, Peek: true}}})
	one := Shrink(Op{Kind: OpBatch, Ops: []Op{set(0, 3)}})
	require.Equal(t, set(0, 3), one[0], "a batch of one shrinks to its operation")

	e := newEffect(4, &Expr{Kind: XIf, A: read(0, true), K: 1, B: read(2, false), C: konst(3)}, 5)
	require.Equal(t, "e4 := Effect(s5.Set(if(s0 > 1, c2, 3)))", e.String())
	require.Equal(t, "c3 := Computed(clamp(s0 + c1, 0, 2), eq=mod2)",
		newComputed(3, &Expr{Kind: XClamp, A: add(read(0, true), read(1, false)), K: 0, K2: 2}, Eq{Kind: EqMod, K: 2}).String())
	require.Equal(t, "  1. s0 := New(1)\n  2. s0.Set(2)\n", Format([]Op{newSignal(0, 1, Eq{}), set(0, 2)}))
}
