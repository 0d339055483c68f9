package signals_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosignals/signals"
)

func TestInspectAndGraph(t *testing.T) {
	price := signals.New(10, signals.WithName[int]("price"))
	qty := signals.New(3, signals.WithName[int]("qty"))
	total := signals.NewComputed(func(tr *signals.Tracker) int { return price.Get(tr) * qty.Get(tr) }, signals.WithName[int]("total"))
	unobserved := signals.NewComputed(func(tr *signals.Tracker) int { return price.Get(tr) + 1 })
	var shown int
	show := signals.NewEffect(func(tr *signals.Tracker) { shown = total.Get(tr) }, signals.WithEffectName("show"))
	defer show.Stop()
	unobserved.Peek()
	qty.Set(4)
	require.Equal(t, 40, shown)

	ti := signals.Inspect(total)
	assert.Equal(t, "computed", ti.Kind)
	assert.Equal(t, "total", ti.Name)
	assert.Equal(t, "40", ti.Value)
	assert.Equal(t, uint64(2), ti.Runs)
	assert.Equal(t, []uintptr{signals.Inspect(price).ID, signals.Inspect(qty).ID}, ti.Deps, "in read order")
	assert.Equal(t, []uintptr{signals.Inspect(show).ID}, ti.Subs)
	assert.False(t, ti.Stale)

	pi := signals.Inspect(price)
	assert.Equal(t, signals.NodeInfo{ID: pi.ID, Kind: "signal", Name: "price", Value: "10", Subs: []uintptr{ti.ID}}, pi,
		"an unobserved computed is not among its source's dependents")

	price.Set(11)
	assert.Equal(t, uint64(3), signals.Inspect(total).Runs)
	assert.False(t, signals.Inspect(total).Stale, "the effect pulled it")
	assert.True(t, signals.Inspect(unobserved).Stale, "nobody read it since the write")

	names := func(infos []signals.NodeInfo) []string {
		var out []string
		for _, i := range infos {
			out = append(out, i.Kind+":"+i.Name)
		}
		return out
	}
	assert.Equal(t, []string{"signal:qty", "computed:total", "signal:price", "effect:show"}, names(signals.Graph(qty)),
		"from qty: its dependent, then that one's other dependency and dependent")
	assert.Equal(t, []string{"computed:", "signal:price", "computed:total", "signal:qty", "effect:show"}, names(signals.Graph(unobserved)))

	show.Stop()
	si := signals.Inspect(show)
	assert.True(t, si.Stopped)
	assert.Empty(t, si.Deps, "a stopped effect let go of its dependencies")
	assert.Empty(t, signals.Inspect(total).Subs)
}

func TestInspectPanics(t *testing.T) {
	s := signals.New(0)
	c := signals.NewComputed(func(tr *signals.Tracker) int {
		if s.Get(tr) == 1 {
			panic("one")
		}
		return s.Get(tr)
	})
	c.Peek()
	s.Set(1)
	assert.Panics(t, func() { c.Peek() })
	ci := signals.Inspect(c)
	assert.True(t, ci.Panicked)
	assert.Equal(t, "one", ci.Panic)
	assert.Equal(t, "", ci.Value, "a panicked computed shows no value")
	s.Set(2)
	c.Peek()
	ci = signals.Inspect(c)
	assert.Equal(t, "2", ci.Value)
	assert.True(t, ci.Panicked, "the latest panic is remembered")
}

func TestTiming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		signals.EnableTiming(true)
		defer signals.EnableTiming(false)
		s := signals.New(1)
		slow := signals.NewComputed(func(tr *signals.Tracker) int {
			time.Sleep(3 * time.Millisecond)
			return s.Get(tr)
		})
		slow.Peek()
		s.Set(2)
		slow.Peek()
		assert.Equal(t, 6*time.Millisecond, signals.Inspect(slow).Time)
		signals.EnableTiming(false)
		s.Set(3)
		slow.Peek()
		assert.Equal(t, 6*time.Millisecond, signals.Inspect(slow).Time, "not timed while off")
	})
}

func TestTracer(t *testing.T) {
	var mu sync.Mutex
	var events []string
	prev := signals.SetTracer(signals.TracerFunc(func(e signals.Event) {
		mu.Lock()
		defer mu.Unlock()
		line := e.Kind.String() + " " + e.Name
		if e.Kind == signals.EventRecompute {
			line += map[bool]string{true: " changed", false: " same"}[e.Changed]
		}
		if e.Panicked {
			line += " panic"
		}
		events = append(events, line)
	}))
	defer signals.SetTracer(prev)
	a := signals.New(1, signals.WithName[int]("a"))
	parity := signals.NewComputed(func(tr *signals.Tracker) int {
		if a.Get(tr) < 0 {
			panic("negative")
		}
		return a.Get(tr) % 2
	}, signals.WithName[int]("parity"))
	e := signals.NewEffect(func(tr *signals.Tracker) {
		defer func() { _ = recover() }()
		parity.Get(tr)
	}, signals.WithEffectName("log"))
	defer e.Stop()
	a.Set(3)
	a.Set(4)
	a.Set(-1)
	a.Set(-1) // equal: no event
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{
		"recompute parity changed", "effect log",
		"set a", "recompute parity same",
		"set a", "recompute parity changed", "effect log",
		"set a", "recompute parity changed panic", "effect log",
	}, events)
}

func TestSetTracerReturnsPrevious(t *testing.T) {
	first := signals.TracerFunc(func(signals.Event) {})
	assert.Nil(t, signals.SetTracer(first))
	got := signals.SetTracer(nil)
	require.NotNil(t, got)
	assert.Nil(t, signals.SetTracer(nil))
}

func TestSlogTracer(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "node" || a.Key == "duration" {
				return slog.Attr{}
			}
			if a.Key == "stack" { // shown below only where the panic came from
				first := strings.SplitN(a.Value.String(), "\n", 3) // header, then the panicking frame
				if len(first) == 3 && strings.Contains(first[1], "TestSlogTracer.func") {
					return slog.String("stack", "TestSlogTracer")
				}
				return slog.String("stack", "elsewhere: "+a.Value.String())
			}
			return a
		}}))
	prev := signals.SetTracer(signals.SlogTracer(logger))
	defer signals.SetTracer(prev)
	s := signals.New(1, signals.WithName[int]("s"))
	c := signals.NewComputed(func(tr *signals.Tracker) int {
		if s.Get(tr) == 2 {
			panic("two")
		}
		return s.Get(tr)
	}, signals.WithName[int]("c"))
	c.Peek()
	s.Set(2)
	assert.Panics(t, func() { c.Peek() })
	assert.Equal(t, strings.Join([]string{
		`level=DEBUG msg="signals: recompute" name=c changed=true`,
		`level=DEBUG msg="signals: set" name=s`,
		`level=ERROR msg="signals: recompute" name=c changed=true panic=two stack=TestSlogTracer`,
	}, "\n")+"\n", buf.String())
}

func TestWriteDOT(t *testing.T) {
	a := signals.New(`say "hi"`, signals.WithName[string]("a"))
	b := signals.NewComputed(func(tr *signals.Tracker) int { return len(a.Get(tr)) }, signals.WithName[int]("b"))
	e := signals.NewEffect(func(tr *signals.Tracker) { b.Get(tr) }, signals.WithEffectName("e"))
	defer e.Stop()
	nodes := signals.Graph(e)
	var buf bytes.Buffer
	require.NoError(t, signals.WriteDOT(&buf, nodes))
	out := buf.String()
	id := func(i int) string { return fmt.Sprintf("n%x", nodes[i].ID) }
	assert.True(t, strings.HasPrefix(out, "digraph signals {\n"), out)
	assert.Contains(t, out, id(0)+` [label="e\nruns 1", shape=doubleoctagon];`)
	assert.Contains(t, out, id(1)+` [label="b\n= 8\nruns 1", shape=ellipse];`)
	assert.Contains(t, out, id(2)+` [label="a\n= say \"hi\"", shape=box];`)
	assert.Contains(t, out, id(2)+" -> "+id(1)+";")
	assert.Contains(t, out, id(1)+" -> "+id(0)+";")
	assert.Equal(t, 2, strings.Count(out, "->"))
}
