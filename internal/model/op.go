package model

import (
	"errors"
	"fmt"
	"strings"
)

// OpKind is the kind of an operation.
type OpKind uint8

const (
	OpNewSignal   OpKind = iota // Name := New(Value, Eq)
	OpNewComputed               // Name := NewComputed(Expr, Eq)
	OpNewEffect                 // Name := NewEffect(Expr; if Target >= 0, Target.Set(result))
	OpSet                       // Ref.Set(Value)
	OpUpdate                    // Ref.Update(Fn)
	OpRead                      // Ref.Peek() or Ref.Get(nil)
	OpBatch                     // Batch(Ops...)
	OpStop                      // effect Ref .Stop()
	numOpKinds
)

// FnKind is the kind of an Update function.
type FnKind uint8

const (
	FnAdd   FnKind = iota // v + K
	FnMul                 // v * K
	FnNeg                 // -v
	FnClamp               // min(max(v, K), K2)
	numFnKinds
)

// Fn is a pure Update function.
type Fn struct {
	Kind  FnKind
	K, K2 int
}

// Apply returns f(v).
func (f Fn) Apply(v int) int {
	switch f.Kind {
	case FnAdd:
		return v + f.K
	case FnMul:
		return v * f.K
	case FnNeg:
		return -v
	case FnClamp:
		return min(max(v, f.K), f.K2)
	}
	panic("model: bad update function")
}

func (f Fn) String() string {
	switch f.Kind {
	case FnAdd:
		return fmt.Sprintf("v%+d", f.K)
	case FnMul:
		return fmt.Sprintf("v*%d", f.K)
	case FnNeg:
		return "-v"
	case FnClamp:
		return fmt.Sprintf("clamp(v, %d, %d)", f.K, f.K2)
	}
	return "?"
}

// Op is one operation of a program. Nodes and effects are referred to by
// name, so that removing an operation while shrinking leaves the others'
// meaning intact.
type Op struct {
	Kind OpKind
	// Name is the name of the node or effect a New* operation creates.
	Name int
	// Ref names the node of Set, Update and Read (a signal if Sig), and
	// the effect of Stop.
	Ref int
	Sig bool
	// Value is the initial value of New and the value of Set.
	Value int
	Eq    Eq
	// Expr is the expression of NewComputed and the body of NewEffect.
	Expr *Expr
	// Target names the signal a NewEffect writes, or is -1.
	Target int
	Fn     Fn
	// Peek selects Peek() over Get(nil) for Read.
	Peek bool
	// Ops are the operations of a Batch.
	Ops []Op
}

func (op Op) String() string {
	var b strings.Builder
	op.format(&b)
	return b.String()
}

func (op Op) format(b *strings.Builder) {
	eq := func() {
		if s := op.Eq.String(); s != "" {
			b.WriteString(", ")
			b.WriteString(s)
		}
	}
	switch op.Kind {
	case OpNewSignal:
		fmt.Fprintf(b, "s%d := New(%d", op.Name, op.Value)
		eq()
		b.WriteByte(')')
	case OpNewComputed:
		fmt.Fprintf(b, "c%d := Computed(%v", op.Name, op.Expr)
		eq()
		b.WriteByte(')')
	case OpNewEffect:
		if op.Target >= 0 {
			fmt.Fprintf(b, "e%d := Effect(s%d.Set(%v))", op.Name, op.Target, op.Expr)
		} else {
			fmt.Fprintf(b, "e%d := Effect(see %v)", op.Name, op.Expr)
		}
	case OpSet:
		fmt.Fprintf(b, "s%d.Set(%d)", op.Ref, op.Value)
	case OpUpdate:
		fmt.Fprintf(b, "s%d.Update(%v)", op.Ref, op.Fn)
	case OpRead:
		if op.Peek {
			fmt.Fprintf(b, "%s.Peek()", NodeName(op.Ref, op.Sig))
		} else {
			fmt.Fprintf(b, "%s.Get(nil)", NodeName(op.Ref, op.Sig))
		}
	case OpStop:
		fmt.Fprintf(b, "e%d.Stop()", op.Ref)
	case OpBatch:
		b.WriteString("Batch{")
		for i, s := range op.Ops {
			if i > 0 {
				b.WriteString("; ")
			}
			s.format(b)
		}
		b.WriteByte('}')
	default:
		b.WriteString("?")
	}
}

// Format prints a program one numbered operation a line.
func Format(ops []Op) string {
	var b strings.Builder
	for i, op := range ops {
		fmt.Fprintf(&b, "%3d. %v\n", i+1, op)
	}
	return b.String()
}

// Valid reports whether op may be applied to m (see Check).
func (m *Model) Valid(op Op) bool { return m.Check(op) == nil }

// Check returns why op may not be applied to m, or nil. Names must be
// fresh for New* and known, of the right kind, for references; expressions
// well formed; users never write a signal an effect writes; an effect only
// writes a signal of default equality that no other effect writes, created
// after every signal it can read, unless it is a normalizer (clamps the one
// signal it reads and writes).
func (m *Model) Check(op Op) error {
	fresh := func() error {
		if _, ok := m.nodeIDs[op.Name]; ok {
			return errors.New("name in use")
		}
		if _, ok := m.effIDs[op.Name]; ok {
			return errors.New("name in use")
		}
		if op.Name < 0 {
			return errors.New("negative name")
		}
		return nil
	}
	switch op.Kind {
	case OpNewSignal:
		if !op.Eq.valid() {
			return errors.New("bad equality")
		}
		return fresh()
	case OpNewComputed:
		if err := fresh(); err != nil {
			return err
		}
		if !op.Eq.valid() {
			return errors.New("bad equality")
		}
		if !op.Expr.valid() {
			return errors.New("bad expression")
		}
		if _, ok := m.resolve(op.Expr); !ok {
			return errors.New("expression reads an unknown node")
		}
		return nil
	case OpNewEffect:
		if err := fresh(); err != nil {
			return err
		}
		if !op.Expr.valid() {
			return errors.New("bad expression")
		}
		body, ok := m.resolve(op.Expr)
		if !ok {
			return errors.New("body reads an unknown node")
		}
		if op.Target < 0 {
			return nil
		}
		t, ok := m.nodeIDs[op.Target]
		switch {
		case !ok || m.Nodes[t].Kind != Signal:
			return errors.New("target is not a signal")
		case m.Nodes[t].Eq.Kind != EqDefault:
			return errors.New("target has a custom equality")
		case m.Nodes[t].Writer >= 0 || m.Nodes[t].Normalizer >= 0:
			return errors.New("target already written by an effect")
		}
		if isNormalizerBody(body, t) {
			return nil
		}
		if m.maxSignal(body) >= t {
			return errors.New("target not newer than every signal the body can read")
		}
		return nil
	case OpSet, OpUpdate:
		id, ok := m.nodeIDs[op.Ref]
		if !ok || m.Nodes[id].Kind != Signal || !op.Sig {
			return errors.New("not a signal")
		}
		if !m.Writable(id) {
			return errors.New("signal is written by an effect")
		}
		if op.Kind == OpUpdate && op.Fn.Kind >= numFnKinds {
			return errors.New("bad function")
		}
		return nil
	case OpRead:
		id, ok := m.nodeIDs[op.Ref]
		if !ok || (m.Nodes[id].Kind == Signal) != op.Sig {
			return errors.New("unknown node")
		}
		return nil
	case OpStop:
		if _, ok := m.effIDs[op.Ref]; !ok {
			return errors.New("unknown effect")
		}
		return nil
	case OpBatch:
		c := m.Clone()
		for i, s := range op.Ops {
			if err := c.Check(s); err != nil {
				return fmt.Errorf("batch op %d: %w", i+1, err)
			}
			c.apply(s)
		}
		return nil
	}
	return errors.New("bad operation kind")
}

// Apply applies a top-level operation: its writes, then the effects' writes
// until they settle. It panics if op is not valid.
func (m *Model) Apply(op Op) {
	if err := m.Check(op); err != nil {
		panic(fmt.Sprintf("model: invalid operation %v: %v", op, err))
	}
	m.apply(op)
	m.Settle()
}

// apply applies op without settling, as inside a batch: a new effect's first
// run writes at once, the effects it triggers wait.
func (m *Model) apply(op Op) {
	switch op.Kind {
	case OpNewSignal:
		m.AddSignal(op.Name, op.Value, op.Eq)
	case OpNewComputed:
		m.AddComputed(op.Name, op.Expr, op.Eq)
	case OpNewEffect:
		k := m.AddEffect(op.Name, op.Expr, op.Target)
		if e := &m.Effects[k]; e.Target >= 0 {
			v, _ := m.Snapshot().Observe(e.Body)
			m.Write(e.Target, v)
		}
	case OpSet:
		m.Write(m.nodeIDs[op.Ref], op.Value)
	case OpUpdate:
		id := m.nodeIDs[op.Ref]
		m.Write(id, op.Fn.Apply(m.Vals[id]))
	case OpRead:
	case OpStop:
		m.Effects[m.effIDs[op.Ref]].Live = false
	case OpBatch:
		for _, s := range op.Ops {
			m.apply(s)
		}
	}
}

// ApplyNested applies op as it would run inside a Batch (no settling). The
// harness uses it to follow a program step by step.
func (m *Model) ApplyNested(op Op) { m.apply(op) }
