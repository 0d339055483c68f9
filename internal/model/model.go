// Package model is a deliberately naive reference model of package signals,
// used by the property, concurrency and fuzz tests at the repository root.
//
// The model knows nothing about caching, laziness, links or flushes. It keeps
// the specifications of a graph of int signals, computeds and effects, the
// current value of every signal, and which effects are live. Every computed
// value and every effect observation is evaluated from scratch from the
// signal values (see Snapshot). An operation (Op) changes the signal values
// as the contract says it must; at the end of each top-level operation the
// effects that write signals are run to their fixed point (Settle).
//
// The package also generates random valid operation sequences (Gen), decodes
// arbitrary bytes into such sequences (Decode) for fuzzing, and proposes
// smaller variants of an operation for shrinking (Shrink).
//
// Two rules keep the model exact although the engine caches values:
//
//   - A computed with a coarse equality (EqMod, EqDiv, EqSign) keeps an old
//     value while new results are equal to it, so the value it holds depends
//     on when it was read. Readers therefore see only its equivalence class
//     (Eq.Class), which does not depend on history.
//   - A signal written by an effect ("owned") has the default equality and is
//     never written by the user, and an effect only writes a signal created
//     after every signal it can read (or, for a normalizer, clamps the one
//     signal it reads). The effects' writes then have one fixed point.
package model

import (
	"fmt"
	"slices"
	"strings"
)

// EqKind selects the equality of a signal or computed.
type EqKind uint8

const (
	// EqDefault is the package default (== for int): no WithEqual option.
	EqDefault EqKind = iota
	// EqExact is WithEqual(a == b): the same relation as the default, but
	// through the code path of a user equality.
	EqExact
	// EqNever is WithEqual(false): every write and every recompute is a
	// change.
	EqNever
	// EqMod is WithEqual(a mod K == b mod K).
	EqMod
	// EqDiv is WithEqual(floor(a/K) == floor(b/K)).
	EqDiv
	// EqSign is WithEqual(sign(a) == sign(b)).
	EqSign
	numEqKinds
)

// Eq is an equality: a kind and, for EqMod and EqDiv, its modulus (K >= 1).
type Eq struct {
	Kind EqKind
	K    int
}

// Equal reports whether a and b are equal by q.
func (q Eq) Equal(a, b int) bool {
	switch q.Kind {
	case EqNever:
		return false
	case EqMod, EqDiv, EqSign:
		return q.Class(a) == q.Class(b)
	}
	return a == b
}

// Coarse reports whether q identifies different ints, so that the value a
// computed holds depends on history and readers see only its class.
func (q Eq) Coarse() bool { return q.Kind == EqMod || q.Kind == EqDiv || q.Kind == EqSign }

// Class returns v's equivalence class under a coarse equality, v otherwise.
func (q Eq) Class(v int) int {
	switch q.Kind {
	case EqMod:
		return floorMod(v, q.K)
	case EqDiv:
		return floorDiv(v, q.K)
	case EqSign:
		switch {
		case v < 0:
			return -1
		case v > 0:
			return 1
		}
		return 0
	}
	return v
}

// User reports whether q is implemented by a WithEqual option.
func (q Eq) User() bool { return q.Kind != EqDefault }

func (q Eq) valid() bool {
	switch q.Kind {
	case EqMod, EqDiv:
		return q.K >= 1
	}
	return q.Kind < numEqKinds
}

func (q Eq) String() string {
	switch q.Kind {
	case EqExact:
		return "eq=exact"
	case EqNever:
		return "eq=never"
	case EqMod:
		return fmt.Sprintf("eq=mod%d", q.K)
	case EqDiv:
		return fmt.Sprintf("eq=div%d", q.K)
	case EqSign:
		return "eq=sign"
	}
	return ""
}

func floorMod(v, k int) int {
	r := v % k
	if r < 0 {
		r += k
	}
	return r
}

func floorDiv(v, k int) int {
	q := v / k
	if v%k != 0 && (v < 0) != (k < 0) {
		q--
	}
	return q
}

// ExprKind is the operator of an expression node.
type ExprKind uint8

const (
	XConst ExprKind = iota // K
	XRead                  // the node named Node (a signal if Sig)
	XAdd                   // A + B
	XSub                   // A - B
	XMul                   // A * B
	XClamp                 // min(max(A, K), K2): the usual source of equality cutoff
	XIf                    // if A > K { B } else { C }: dynamic dependencies
	XMod                   // floorMod(A, K)
	XDiv                   // floorDiv(A, K)
	numExprKinds
)

// Expr is an integer expression over the values of other nodes. Operands
// are evaluated left to right, and only the taken branch of an XIf, so the
// sequence of reads is part of an expression's meaning.
type Expr struct {
	Kind  ExprKind
	K, K2 int
	Node  int  // XRead: the node's name in an Op, its id once resolved
	Sig   bool // XRead: the node is a signal
	A     *Expr
	B     *Expr
	C     *Expr
}

// Eval evaluates e, calling read for each node read, in order.
func Eval(e *Expr, read func(node int) int) int {
	switch e.Kind {
	case XConst:
		return e.K
	case XRead:
		return read(e.Node)
	case XAdd:
		a := Eval(e.A, read)
		return a + Eval(e.B, read)
	case XSub:
		a := Eval(e.A, read)
		return a - Eval(e.B, read)
	case XMul:
		a := Eval(e.A, read)
		return a * Eval(e.B, read)
	case XClamp:
		return min(max(Eval(e.A, read), e.K), e.K2)
	case XIf:
		if Eval(e.A, read) > e.K {
			return Eval(e.B, read)
		}
		return Eval(e.C, read)
	case XMod:
		return floorMod(Eval(e.A, read), e.K)
	case XDiv:
		return floorDiv(Eval(e.A, read), e.K)
	}
	panic(fmt.Sprintf("model: bad expression kind %d", e.Kind))
}

// walk calls fn for every XRead in e, in every branch.
func (e *Expr) walk(fn func(*Expr)) {
	if e == nil {
		return
	}
	if e.Kind == XRead {
		fn(e)
	}
	e.A.walk(fn)
	e.B.walk(fn)
	e.C.walk(fn)
}

func (e *Expr) arity() int {
	switch e.Kind {
	case XConst, XRead:
		return 0
	case XClamp, XMod, XDiv:
		return 1
	case XIf:
		return 3
	}
	return 2
}

func (e *Expr) valid() bool {
	if e == nil || e.Kind >= numExprKinds {
		return false
	}
	n := e.arity()
	kids := []*Expr{e.A, e.B, e.C}
	for i, k := range kids {
		if (i < n) != (k != nil) {
			return false
		}
		if k != nil && !k.valid() {
			return false
		}
	}
	switch e.Kind {
	case XClamp:
		return e.K <= e.K2
	case XMod, XDiv:
		return e.K >= 1
	}
	return true
}

func (e *Expr) clone() *Expr {
	if e == nil {
		return nil
	}
	c := *e
	c.A, c.B, c.C = e.A.clone(), e.B.clone(), e.C.clone()
	return &c
}

// NodeName formats a node name the way programs print it.
func NodeName(name int, sig bool) string {
	if sig {
		return fmt.Sprintf("s%d", name)
	}
	return fmt.Sprintf("c%d", name)
}

func (e *Expr) String() string {
	var b strings.Builder
	e.format(&b, true)
	return b.String()
}

func (e *Expr) format(b *strings.Builder, top bool) {
	bin := func(op string) {
		if !top {
			b.WriteByte('(')
		}
		e.A.format(b, false)
		b.WriteString(op)
		e.B.format(b, false)
		if !top {
			b.WriteByte(')')
		}
	}
	switch e.Kind {
	case XConst:
		fmt.Fprintf(b, "%d", e.K)
	case XRead:
		b.WriteString(NodeName(e.Node, e.Sig))
	case XAdd:
		bin(" + ")
	case XSub:
		bin(" - ")
	case XMul:
		bin(" * ")
	case XClamp:
		b.WriteString("clamp(")
		e.A.format(b, true)
		fmt.Fprintf(b, ", %d, %d)", e.K, e.K2)
	case XIf:
		b.WriteString("if(")
		e.A.format(b, true)
		fmt.Fprintf(b, " > %d, ", e.K)
		e.B.format(b, true)
		b.WriteString(", ")
		e.C.format(b, true)
		b.WriteByte(')')
	case XMod:
		b.WriteString("mod(")
		e.A.format(b, true)
		fmt.Fprintf(b, ", %d)", e.K)
	case XDiv:
		b.WriteString("div(")
		e.A.format(b, true)
		fmt.Fprintf(b, ", %d)", e.K)
	default:
		b.WriteString("?")
	}
}

// Kind tells signals from computeds.
type Kind uint8

const (
	Signal Kind = iota
	Computed
)

// Node is a signal or a computed of the model. Its id is its index in
// Model.Nodes (creation order); Name is what programs call it.
type Node struct {
	Name int
	Kind Kind
	Eq   Eq
	// Expr is a computed's expression, with reads resolved to node ids.
	Expr *Expr
	// Writer and Normalizer are the effect ids that write this signal, or
	// -1. A signal with a Writer is never written by the user.
	Writer, Normalizer int
}

// Seen returns what a reader of the node sees when its value is v: the
// class of v for a computed with a coarse equality, v otherwise.
func (n *Node) Seen(v int) int {
	if n.Kind == Computed {
		return n.Eq.Class(v)
	}
	return v
}

// Effect is an effect of the model. Its id is its index in Model.Effects.
type Effect struct {
	Name int
	// Body is evaluated by every run, reads resolved to node ids; the
	// effect observes the reads. With Target >= 0 the run then sets the
	// signal Target to the body's value.
	Body   *Expr
	Target int
	Live   bool
}

// Normalizer reports whether the effect clamps the signal it writes, which
// is the only signal it reads.
func (e *Effect) Normalizer() bool { return isNormalizerBody(e.Body, e.Target) }

func isNormalizerBody(body *Expr, target int) bool {
	return target >= 0 && body.Kind == XClamp && body.A.Kind == XRead && body.A.Sig && body.A.Node == target
}

// Model is the reference state: graph specifications, signal values and live
// effects. The zero value is not ready; use New.
type Model struct {
	Nodes []Node
	// Vals holds the value of each signal, by node id (0 for computeds).
	Vals    []int
	Effects []Effect

	nodeIDs  map[int]int // name → node id
	effIDs   map[int]int // name → effect id
	nextName int
}

// String summarizes m (gopter prints the initial state of a program).
func (m *Model) String() string {
	if len(m.Nodes) == 0 && len(m.Effects) == 0 {
		return "empty graph"
	}
	return fmt.Sprintf("graph of %d nodes and %d effects", len(m.Nodes), len(m.Effects))
}

// New returns an empty model.
func New() *Model {
	return &Model{nodeIDs: map[int]int{}, effIDs: map[int]int{}}
}

// Clone returns a deep copy of m.
func (m *Model) Clone() *Model {
	c := &Model{
		Nodes:    slices.Clone(m.Nodes),
		Vals:     slices.Clone(m.Vals),
		Effects:  slices.Clone(m.Effects),
		nodeIDs:  make(map[int]int, len(m.nodeIDs)),
		effIDs:   make(map[int]int, len(m.effIDs)),
		nextName: m.nextName,
	}
	for k, v := range m.nodeIDs {
		c.nodeIDs[k] = v
	}
	for k, v := range m.effIDs {
		c.effIDs[k] = v
	}
	return c
}

// NodeID returns the id of the node called name.
func (m *Model) NodeID(name int) (int, bool) {
	id, ok := m.nodeIDs[name]
	return id, ok
}

// EffectID returns the id of the effect called name.
func (m *Model) EffectID(name int) (int, bool) {
	id, ok := m.effIDs[name]
	return id, ok
}

// NextName returns a name no node or effect of m has used.
func (m *Model) NextName() int { return m.nextName }

// Label returns the printed name of node id.
func (m *Model) Label(id int) string {
	return NodeName(m.Nodes[id].Name, m.Nodes[id].Kind == Signal)
}

// EffectLabel returns the printed name of effect id.
func (m *Model) EffectLabel(id int) string { return fmt.Sprintf("e%d", m.Effects[id].Name) }

// Writable reports whether the user may write the node: a signal no writer
// effect owns.
func (m *Model) Writable(id int) bool {
	return m.Nodes[id].Kind == Signal && m.Nodes[id].Writer < 0
}

// LiveEffects returns the ids of the live effects.
func (m *Model) LiveEffects() []int {
	var ids []int
	for k := range m.Effects {
		if m.Effects[k].Live {
			ids = append(ids, k)
		}
	}
	return ids
}

// Write sets signal id to v unless v equals the current value by the
// signal's equality. It reports whether the value changed.
func (m *Model) Write(id, v int) bool {
	n := &m.Nodes[id]
	if n.Kind != Signal {
		panic("model: write to a computed")
	}
	if n.Eq.Equal(m.Vals[id], v) {
		return false
	}
	m.Vals[id] = v
	return true
}

// resolve returns a copy of e with node names replaced by ids, or false if
// a name is unknown or names a node of the other kind.
func (m *Model) resolve(e *Expr) (*Expr, bool) {
	c := e.clone()
	ok := true
	c.walk(func(r *Expr) {
		id, found := m.nodeIDs[r.Node]
		if !found || (m.Nodes[id].Kind == Signal) != r.Sig {
			ok = false
			return
		}
		r.Node = id
	})
	return c, ok
}

// AddSignal adds a signal and returns its id.
func (m *Model) AddSignal(name, value int, eq Eq) int {
	id := len(m.Nodes)
	m.Nodes = append(m.Nodes, Node{Name: name, Kind: Signal, Eq: eq, Writer: -1, Normalizer: -1})
	m.Vals = append(m.Vals, value)
	m.nodeIDs[name] = id
	m.nextName = max(m.nextName, name+1)
	return id
}

// AddComputed adds a computed with the (unresolved) expression e and
// returns its id.
func (m *Model) AddComputed(name int, e *Expr, eq Eq) int {
	r, ok := m.resolve(e)
	if !ok {
		panic("model: computed reads an unknown node")
	}
	id := len(m.Nodes)
	m.Nodes = append(m.Nodes, Node{Name: name, Kind: Computed, Eq: eq, Expr: r, Writer: -1, Normalizer: -1})
	m.Vals = append(m.Vals, 0)
	m.nodeIDs[name] = id
	m.nextName = max(m.nextName, name+1)
	return id
}

// AddEffect adds a live effect with the (unresolved) body and target
// signal name (-1: none) and returns its id. It does not run the effect.
func (m *Model) AddEffect(name int, body *Expr, target int) int {
	r, ok := m.resolve(body)
	if !ok {
		panic("model: effect reads an unknown node")
	}
	k := len(m.Effects)
	t := -1
	if target >= 0 {
		t = m.nodeIDs[target]
		if isNormalizerBody(r, t) {
			m.Nodes[t].Normalizer = k
		} else {
			m.Nodes[t].Writer = k
		}
	}
	m.Effects = append(m.Effects, Effect{Name: name, Body: r, Target: t, Live: true})
	m.effIDs[name] = k
	m.nextName = max(m.nextName, name+1)
	return k
}

// Obs is one read an evaluation made: the node id and the value seen.
type Obs struct {
	Node  int
	Value int
}

// Snapshot evaluates nodes from scratch from the signal values of a model
// at the moment it was taken. It memoizes within itself only.
type Snapshot struct {
	m    *Model
	val  []int
	done []bool
}

// Snapshot returns an evaluator of m's current state. It must not be used
// after m changes.
func (m *Model) Snapshot() *Snapshot {
	return &Snapshot{m: m, val: make([]int, len(m.Nodes)), done: make([]bool, len(m.Nodes))}
}

// Value returns node id's value: a signal's value, or a computed's
// expression evaluated from scratch.
func (s *Snapshot) Value(id int) int {
	n := &s.m.Nodes[id]
	if n.Kind == Signal {
		return s.m.Vals[id]
	}
	if !s.done[id] {
		s.val[id] = Eval(n.Expr, s.Seen)
		s.done[id] = true
	}
	return s.val[id]
}

// Seen returns what a reader of node id sees (see Node.Seen).
func (s *Snapshot) Seen(id int) int { return s.m.Nodes[id].Seen(s.Value(id)) }

// Observe evaluates a resolved expression and returns its value and the
// reads it made, in order.
func (s *Snapshot) Observe(e *Expr) (int, []Obs) {
	var obs []Obs
	v := Eval(e, func(id int) int {
		x := s.Seen(id)
		obs = append(obs, Obs{id, x})
		return x
	})
	return v, obs
}

// ObserveEffect returns what a run of effect k would see now.
func (s *Snapshot) ObserveEffect(k int) (int, []Obs) { return s.Observe(s.m.Effects[k].Body) }

// Demanded returns, by node id, the nodes that a read of the roots and a
// run of every live effect would read now, directly or through computeds:
// the only computeds a lazy engine may run at this moment.
func (s *Snapshot) Demanded(roots ...int) []bool {
	mark := make([]bool, len(s.m.Nodes))
	var visit func(id int) int
	visit = func(id int) int {
		if !mark[id] {
			mark[id] = true
			if n := &s.m.Nodes[id]; n.Kind == Computed {
				Eval(n.Expr, visit)
			}
		}
		return s.Seen(id)
	}
	for _, r := range roots {
		visit(r)
	}
	for k := range s.m.Effects {
		if s.m.Effects[k].Live {
			Eval(s.m.Effects[k].Body, visit)
		}
	}
	return mark
}

// maxSignal returns the largest signal id that e may read, in any
// branch, directly or through computeds, or -1.
func (m *Model) maxSignal(e *Expr) int {
	best := -1
	seen := map[int]bool{}
	var node func(id int)
	node = func(id int) {
		if seen[id] {
			return
		}
		seen[id] = true
		n := &m.Nodes[id]
		if n.Kind == Signal {
			best = max(best, id)
			return
		}
		n.Expr.walk(func(r *Expr) { node(r.Node) })
	}
	e.walk(func(r *Expr) { node(r.Node) })
	return best
}

// Settle runs the live effects that write signals until nothing changes,
// as the engine's flush must: each writes its body's value, evaluated from
// scratch, to its target.
func (m *Model) Settle() {
	for round := 0; ; round++ {
		if round > 4*len(m.Effects)+8 {
			panic("model: effects did not settle (the generator must not allow this)")
		}
		changed := false
		for k := range m.Effects {
			e := &m.Effects[k]
			if !e.Live || e.Target < 0 {
				continue
			}
			v, _ := m.Snapshot().Observe(e.Body)
			if m.Write(e.Target, v) {
				changed = true
			}
		}
		if !changed {
			return
		}
	}
}
