package signals

import (
	"fmt"
	"reflect"
	"sync"
	"time"
	"unsafe"

	"github.com/gosignals/signals/internal/core"
)

// Node is what Inspect and Graph accept: a *Signal, a *Computed or an
// *Effect.
type Node interface {
	coreNode() *core.Node
}

func (s *Signal[T]) coreNode() *core.Node   { return &s.node }
func (c *Computed[T]) coreNode() *core.Node { return &c.sub.Node }
func (e *Effect) coreNode() *core.Node      { return &e.sub.Node }

// NodeInfo describes one node of the graph at the time it was inspected.
type NodeInfo struct {
	// ID identifies the node for as long as it is alive.
	ID uintptr
	// Kind is "signal", "computed" or "effect".
	Kind string
	// Name is the name given with WithName or WithEffectName, or "".
	Name string
	// Value is the current value formatted with %v: the cached one for a
	// computed ("" if it never ran or panicked); "" for an effect.
	Value string
	// Runs counts completed runs of a computed's or an effect's function.
	Runs uint64
	// Time is the time spent in those runs while EnableTiming was on.
	Time time.Duration
	// Panic is the value of the latest panic of the node's function, if
	// Panicked.
	Panic    any
	Panicked bool
	// PanicStack is the stack of the goroutine that raised Panic, taken as
	// the panic unwound (for a panic that reached the function by reading
	// a computed that had panicked, the stack where that panic was first
	// raised); "" if unknown.
	PanicStack string
	// Stale reports a computed that must check its dependencies before its
	// value is used again, or an effect that is due to run.
	Stale bool
	// Stopped reports a stopped effect.
	Stopped bool
	// Deps are the IDs of what the node read in its latest run; Subs those
	// of the effects and observed computeds that read it. A computed that
	// no effect depends on is not listed among its sources' Subs.
	Deps, Subs []uintptr
}

// Inspect returns n's current description. It is safe for concurrent use
// and runs no compute function.
func Inspect(n Node) NodeInfo {
	info, _, _ := inspect(n.coreNode())
	return info
}

// Graph returns the nodes reachable from roots through dependencies and
// dependents, roots first, then in breadth-first order.
func Graph(roots ...Node) []NodeInfo {
	seen := map[*core.Node]bool{}
	var queue []*core.Node
	for _, r := range roots {
		if n := r.coreNode(); !seen[n] {
			seen[n] = true
			queue = append(queue, n)
		}
	}
	var out []NodeInfo
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		info, deps, subs := inspect(n)
		out = append(out, info)
		for _, m := range append(deps, subs...) {
			if !seen[m] {
				seen[m] = true
				queue = append(queue, m)
			}
		}
	}
	return out
}

func inspect(n *core.Node) (NodeInfo, []*core.Node, []*core.Node) {
	st, deps, subs := core.Inspect(n)
	info := NodeInfo{
		ID:       nodeID(n),
		Kind:     n.Kind(),
		Runs:     st.Runs,
		Time:     st.Spent,
		Panic:    st.Panic,
		Panicked: st.Panicked,
	}
	info.Stale, info.Stopped = core.State(n)
	if s := n.Sub(); s != nil {
		info.Name = s.Name
		if h, ok := s.Impl().(originHolder); ok && st.Panicked {
			info.PanicStack = h.originSlot().stackOf(st.Panic)
		}
		if d, ok := s.Impl().(describer); ok {
			info.Value = d.describe()
		}
	} else {
		info.Name = signalName(n)
		if n.Tag != 0 {
			info.Value = signalValue(n.Tag)(n)
		}
	}
	for _, d := range deps {
		info.Deps = append(info.Deps, nodeID(d))
	}
	for _, s := range subs {
		info.Subs = append(info.Subs, nodeID(s))
	}
	return info, deps, subs
}

func nodeID(n *core.Node) uintptr { return uintptr(unsafe.Pointer(n)) }

type describer interface{ describe() string }

func (c *computedImpl[T]) describe() string {
	if !c.sub.HasValue() {
		return ""
	}
	return fmt.Sprint((*Computed[T])(c).load()) // user String methods run without a lock
}

// Signals carry no pointer back to their typed selves; a per-type tag picks
// the function that views a *core.Node as the *Signal[T] it heads, to show
// its value. The same registry records whether a type's values fit a cell's
// word.
var typeInfos struct {
	sync.Mutex
	byType     sync.Map // reflect.Type → typeInfo
	describers []func(*core.Node) string
}

type typeInfo struct {
	tag  uint32
	form uint32 // the cell's form: flagInline, flagSeq or 0
}

func typeInfoFor[T any]() typeInfo {
	t := reflect.TypeFor[T]()
	if info, ok := typeInfos.byType.Load(t); ok {
		return info.(typeInfo)
	}
	typeInfos.Lock()
	defer typeInfos.Unlock()
	if info, ok := typeInfos.byType.Load(t); ok {
		return info.(typeInfo)
	}
	typeInfos.describers = append(typeInfos.describers, func(n *core.Node) string {
		s := (*Signal[T])(unsafe.Pointer(n)) // node is Signal's first field
		return fmt.Sprint(s.Peek())
	})
	info := typeInfo{tag: uint32(len(typeInfos.describers)), form: cellForm(t)}
	typeInfos.byType.Store(t, info)
	return info
}

func signalValue(tag uint32) func(*core.Node) string {
	typeInfos.Lock()
	defer typeInfos.Unlock()
	return typeInfos.describers[tag-1]
}

// EnableTiming turns on or off the measurement of the time spent in compute
// and effect functions (NodeInfo.Time, Event.Duration). It costs two clock
// reads per run while on.
func EnableTiming(on bool) { core.SetTiming(on) }
