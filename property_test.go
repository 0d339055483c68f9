// Property-based tests: the engine against the naive reference model of
// internal/model (see also property_concurrent_test.go and fuzz_test.go).
//
// Cost knob. The tests run bounded counts so that the whole suite stays fast
// in CI. Scale them with the environment:
//
//	GOSIGNALS_PROPERTY_SCALE=20 go test -race -run 'Property' .   # 20× the cases
//	GOSIGNALS_PROPERTY_SEED=1234 go test -run 'Property' .        # replay a seed
//
// GOSIGNALS_PROPERTY_SCALE multiplies the number of generated cases (a
// positive number, default 1; fractions are allowed); -short divides them by
// four. gopter prints the seed of a failing run, and the shrunk failing
// program, one numbered operation a line.
//
// What is checked after every operation (sequential property):
//
//   - Values: every signal (Peek), every computed that a live effect needs
//     (Peek), and every user read (Peek or Get(nil), also inside batches)
//     equal the model, evaluated from scratch. Computeds with a coarse custom
//     equality are compared by equivalence class (see internal/model).
//   - Effects: the last observation of each live effect equals what the
//     model says a run would see now; no effect runs inside a Batch (but for
//     the first run inside NewEffect), or after Stop; in a step in which no
//     effect wrote a signal, effects run in creation order, each at most once.
//   - Glitches: every read made by a compute or effect function equals the
//     model evaluated at the signal values of that very moment. That is
//     stronger than "a combination the model never produced": in one
//     goroutine there is exactly one current state.
//   - At most once / ran iff changed: a computed or an effect runs again only
//     if a value its previous run read has changed since that read (a change
//     event: an effective write of a signal, or a recompute of a computed
//     whose result was not equal to the value it held). Together with the
//     observation check this is "an effect ran if and only if the value of
//     something it read changed", and "no compute function ran twice for the
//     same state".
//   - Laziness: a computed runs only if it is needed now: the value being read
//     or a live effect reads it, directly or through other computeds, at the
//     current signal values. A computed nobody reads never runs.
//
// Writes that a batch reverts. Within one Batch a signal may be written and
// then written back (s: 1 → 2 → 1); effects that read s directly may then
// run once, seeing the same value, or not run (this engine runs them). The
// property accepts either: a signal's effective writes are change events
// even if a later write of the same step undoes them. The same holds for a
// computed that a read inside the batch recomputed to a different value
// before the revert. A computed that only recomputes after the batch, to
// the value it held, did not change (equality cutoff): an effect that reads
// only it must not run. TestBatchRevertPolicy pins both halves.
package signals_test

import (
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/commands"
	"github.com/stretchr/testify/require"

	"github.com/gosignals/signals"
	"github.com/gosignals/signals/internal/model"
)

// propertyScale returns the case-count multiplier (see the file comment).
func propertyScale(t testing.TB) float64 {
	scale := 1.0
	if s := os.Getenv("GOSIGNALS_PROPERTY_SCALE"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v <= 0 {
			t.Fatalf("GOSIGNALS_PROPERTY_SCALE=%q: want a positive number", s)
		}
		scale = v
	}
	if testing.Short() {
		scale /= 4
	}
	return scale
}

// propertyParams returns gopter parameters running about base·scale cases.
func propertyParams(t testing.TB, base int) *gopter.TestParameters {
	p := gopter.DefaultTestParameters()
	if s := os.Getenv("GOSIGNALS_PROPERTY_SEED"); s != "" {
		seed, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("GOSIGNALS_PROPERTY_SEED=%q: %v", s, err)
		}
		p = gopter.DefaultTestParametersWithSeed(seed)
	}
	p.MinSuccessfulTests = max(1, int(math.Round(float64(base)*propertyScale(t))))
	p.MaxShrinkCount = 2000
	return p
}

// readRec is one read made by a compute or effect function.
type readRec struct {
	node, val int
	tick      uint64 // w.tick right after the read returned
}

// effRec is what the harness knows of one effect.
type effRec struct {
	name    string
	running running
	reads   []readRec
	obs     []model.Obs
	runs    int
	started bool // first run done
	stopped bool // Stop was called
}

// world runs a program against the engine, instrumenting every compute and
// effect function, and checks it against a shadow model that follows every
// write as it happens (effect writes included).
type world struct {
	shadow *model.Model
	sigs   []*signals.Signal[int]   // by node id; nil for computeds
	comps  []*signals.Computed[int] // by node id; nil for signals
	eqs    []model.Eq               // by node id
	isSig  []bool
	effs   []*signals.Effect // by effect id
	eff    []*effRec

	// Sequential instrumentation.
	tick       uint64   // advances on every read and change event
	changeTick []uint64 // by node id: tick of its latest change event
	cached     []int    // by computed id: the value the engine holds
	hasRun     []bool
	lastReads  [][]readRec
	batchDepth int
	roots      []int // nodes the user is reading
	creating   int   // effect whose first run NewEffect is making, or -1
	stepRuns   []int // effects run by the flush of this step, in order
	wrote      bool  // an effect made an effective write in this step
	errs       []string
	ops        []model.Op
	failed     bool

	// Concurrent mode: no shadow checks; effect records under mu.
	concurrent bool
	mu         sync.Mutex
}

func newWorld() *world { return &world{shadow: model.New(), creating: -1} }

func (w *world) fail(format string, args ...any) {
	w.errs = append(w.errs, fmt.Sprintf(format, args...))
}

// close stops every effect, so that the graph can be collected.
func (w *world) close() {
	for _, e := range w.effs {
		if e != nil {
			func() {
				defer func() { _ = recover() }()
				e.Stop()
			}()
		}
	}
}

func (w *world) label(id int) string { return w.shadow.Label(id) }

func (w *world) fmtReads(reads []readRec) string {
	if len(reads) == 0 {
		return "nothing"
	}
	parts := make([]string, len(reads))
	for i, r := range reads {
		parts[i] = fmt.Sprintf("%s=%d", w.label(r.node), r.val)
	}
	return strings.Join(parts, " ")
}

func (w *world) fmtObs(obs []model.Obs) string { return fmtObs(w.shadow, obs) }

func fmtObs(m *model.Model, obs []model.Obs) string {
	if len(obs) == 0 {
		return "nothing"
	}
	parts := make([]string, len(obs))
	for i, o := range obs {
		parts[i] = fmt.Sprintf("%s=%d", m.Label(o.Node), o.Value)
	}
	return strings.Join(parts, " ")
}

func toObs(reads []readRec) []model.Obs {
	obs := make([]model.Obs, len(reads))
	for i, r := range reads {
		obs[i] = model.Obs{Node: r.node, Value: r.val}
	}
	return obs
}

// get reads node id through the engine as a compute or effect function
// does: what a reader sees (the class, for a coarse computed).
func (w *world) get(t *signals.Tracker, id int) int {
	if w.isSig[id] {
		return w.sigs[id].Get(t)
	}
	return w.eqs[id].Class(w.comps[id].Get(t))
}

// seen returns what a reader of node id sees when its value is v.
func (w *world) seen(id, v int) int {
	if w.isSig[id] {
		return v
	}
	return w.eqs[id].Class(v)
}

// justified reports whether a value one of reads returned has changed since.
func (w *world) justified(reads []readRec) bool {
	for _, r := range reads {
		if w.changeTick[r.node] > r.tick {
			return true
		}
	}
	return false
}

func (w *world) eval(t *signals.Tracker, e *model.Expr) (int, []readRec) {
	var reads []readRec
	v := model.Eval(e, func(d int) int {
		x := w.get(t, d)
		w.tick++
		reads = append(reads, readRec{d, x, w.tick})
		return x
	})
	return v, reads
}

func (w *world) computeFn(id int, e *model.Expr) func(*signals.Tracker) int {
	return func(t *signals.Tracker) int {
		if w.concurrent {
			return model.Eval(e, func(d int) int { return w.get(t, d) })
		}
		name := w.label(id)
		if !w.shadow.Snapshot().Demanded(w.roots...)[id] {
			w.fail("laziness: %s ran, but nothing needs it now (not the value being read, not read by any live effect)", name)
		}
		if w.hasRun[id] && !w.justified(w.lastReads[id]) {
			w.fail("%s ran again although no value its last run read has changed since (it read %s): twice for the same state", name, w.fmtReads(w.lastReads[id]))
		}
		v, reads := w.eval(t, e)
		snap := w.shadow.Snapshot()
		for _, r := range reads {
			if want := snap.Seen(r.node); r.val != want {
				w.fail("glitch: %s's function read %s = %d, but now %s = %d (it read %s)", name, w.label(r.node), r.val, w.label(r.node), want, w.fmtReads(reads))
				break
			}
		}
		w.lastReads[id] = reads
		if !w.hasRun[id] || !w.eqs[id].Equal(w.cached[id], v) {
			w.cached[id] = v
			w.tick++
			w.changeTick[id] = w.tick
		}
		w.hasRun[id] = true
		return v
	}
}

func (w *world) effectFn(k int, rec *effRec, body *model.Expr, target int) func(*signals.Tracker) {
	return func(t *signals.Tracker) {
		if w.concurrent {
			rec.running.enter(w, rec.name)
			defer rec.running.exit()
			var obs []model.Obs
			v := model.Eval(body, func(d int) int {
				x := w.get(t, d)
				obs = append(obs, model.Obs{Node: d, Value: x})
				return x
			})
			w.mu.Lock()
			rec.obs, rec.runs = obs, rec.runs+1
			w.mu.Unlock()
			if target >= 0 {
				w.sigs[target].Set(v)
			}
			return
		}
		name := w.shadow.EffectLabel(k)
		switch {
		case rec.stopped:
			w.fail("%s ran after Stop", name)
		case w.batchDepth > 0 && !(k == w.creating && !rec.started):
			w.fail("%s ran inside a Batch: effects must wait for the outermost Batch", name)
		}
		if rec.started {
			if !w.justified(rec.reads) {
				w.fail("%s ran although nothing it read has changed since its last run (it saw %s)", name, w.fmtReads(rec.reads))
			}
			w.stepRuns = append(w.stepRuns, k)
		} else if k != w.creating {
			w.fail("%s's first run did not happen inside NewEffect", name)
		}
		rec.started = true
		v, reads := w.eval(t, body)
		snap := w.shadow.Snapshot()
		for _, r := range reads {
			if want := snap.Seen(r.node); r.val != want {
				w.fail("glitch: %s read %s = %d, but now %s = %d (it saw %s)", name, w.label(r.node), r.val, w.label(r.node), want, w.fmtReads(reads))
				break
			}
		}
		rec.reads, rec.obs, rec.runs = reads, toObs(reads), rec.runs+1
		if target >= 0 {
			w.write(target, v, true)
		}
	}
}

// write sets signal id, first in the shadow (effects the Set runs check
// against it), then in the engine.
func (w *world) write(id, v int, fromEffect bool) {
	if w.shadow.Write(id, v) {
		w.tick++
		w.changeTick[id] = w.tick
		w.wrote = w.wrote || fromEffect
	}
	w.sigs[id].Set(v)
}

func (w *world) addNode(id int) {
	n := w.shadow.Nodes[id]
	w.eqs = append(w.eqs, n.Eq)
	w.isSig = append(w.isSig, n.Kind == model.Signal)
	w.sigs = append(w.sigs, nil)
	w.comps = append(w.comps, nil)
	w.changeTick = append(w.changeTick, 0)
	w.cached = append(w.cached, 0)
	w.hasRun = append(w.hasRun, false)
	w.lastReads = append(w.lastReads, nil)
}

func eqOpts(q model.Eq) []signals.Option[int] {
	if !q.User() {
		return nil
	}
	return []signals.Option[int]{signals.WithEqual(q.Equal)}
}

func (w *world) nodeID(name int) int {
	id, ok := w.shadow.NodeID(name)
	if !ok {
		panic(fmt.Sprintf("harness: unknown node %d", name))
	}
	return id
}

func (w *world) effectID(name int) int {
	k, ok := w.shadow.EffectID(name)
	if !ok {
		panic(fmt.Sprintf("harness: unknown effect %d", name))
	}
	return k
}

// newEffect creates effect op in the shadow and the engine. Lock w.mu in
// concurrent mode.
func (w *world) newEffect(op model.Op) {
	w.mu.Lock()
	k := w.shadow.AddEffect(op.Name, op.Expr, op.Target)
	e := w.shadow.Effects[k]
	rec := &effRec{name: w.shadow.EffectLabel(k)}
	w.eff = append(w.eff, rec)
	w.effs = append(w.effs, nil)
	w.mu.Unlock()
	fn := w.effectFn(k, rec, e.Body, e.Target)
	if w.concurrent {
		eff := signals.NewEffect(fn)
		w.mu.Lock()
		w.effs[k] = eff
		w.mu.Unlock()
		return
	}
	prev := w.creating
	w.creating = k
	w.effs[k] = signals.NewEffect(fn)
	w.creating = prev
	if !rec.started {
		w.fail("NewEffect returned before %s's first run", w.shadow.EffectLabel(k))
	}
}

// exec runs one operation (sequential mode).
func (w *world) exec(op model.Op) {
	switch op.Kind {
	case model.OpNewSignal:
		id := w.shadow.AddSignal(op.Name, op.Value, op.Eq)
		w.addNode(id)
		w.sigs[id] = signals.New(op.Value, eqOpts(op.Eq)...)
	case model.OpNewComputed:
		id := w.shadow.AddComputed(op.Name, op.Expr, op.Eq)
		w.addNode(id)
		w.comps[id] = signals.NewComputed(w.computeFn(id, w.shadow.Nodes[id].Expr), eqOpts(op.Eq)...)
	case model.OpNewEffect:
		w.newEffect(op)
	case model.OpSet:
		w.write(w.nodeID(op.Ref), op.Value, false)
	case model.OpUpdate:
		id := w.nodeID(op.Ref)
		if w.shadow.Write(id, op.Fn.Apply(w.shadow.Vals[id])) {
			w.tick++
			w.changeTick[id] = w.tick
		}
		w.sigs[id].Update(op.Fn.Apply)
	case model.OpRead:
		id := w.nodeID(op.Ref)
		w.roots = append(w.roots, id)
		var v int
		switch {
		case w.isSig[id] && op.Peek:
			v = w.sigs[id].Peek()
		case w.isSig[id]:
			v = w.sigs[id].Get(nil)
		case op.Peek:
			v = w.comps[id].Peek()
		default:
			v = w.comps[id].Get(nil)
		}
		w.roots = w.roots[:len(w.roots)-1]
		snap := w.shadow.Snapshot()
		if w.seen(id, v) != snap.Seen(id) {
			w.fail("%v returned %d, but the model says %d", op, v, snap.Value(id))
		}
	case model.OpBatch:
		signals.Batch(func() {
			w.batchDepth++
			defer func() { w.batchDepth-- }()
			for _, s := range op.Ops {
				w.exec(s)
			}
		})
	case model.OpStop:
		k := w.effectID(op.Ref)
		w.eff[k].stopped = true
		w.shadow.Effects[k].Live = false
		w.effs[k].Stop()
	}
}

// report is what one step showed of the engine, for checking against the
// model after the step.
type report struct {
	skipped  bool
	failure  string      // harness checks that failed, with the program
	sigs     map[int]int // node id → Peek
	comps    map[int]int // node id → Peek, computeds live effects need
	obs      map[int][]model.Obs
	live     []bool
	step     int
	op       model.Op
	describe func() string // the program so far
}

// step runs one top-level operation and the checks that follow it.
func (w *world) step(op model.Op) *report {
	if w.failed {
		return &report{skipped: true}
	}
	w.ops = append(w.ops, op)
	w.stepRuns, w.wrote, w.roots = w.stepRuns[:0], false, w.roots[:0]
	rep := &report{sigs: map[int]int{}, comps: map[int]int{}, obs: map[int][]model.Obs{}, step: len(w.ops), op: op}
	ops := slices.Clone(w.ops)
	rep.describe = func() string { return model.Format(ops) }
	guard := func(what string, fn func()) {
		defer func() {
			if p := recover(); p != nil {
				w.fail("panic during %s: %v\n%s", what, p, debug.Stack())
			}
		}()
		fn()
	}
	guard("the operation", func() { w.exec(op) })
	if len(w.errs) == 0 {
		guard("the checks after it", func() { w.afterStep(rep) })
	}
	if len(w.errs) > 0 {
		w.failed = true
		rep.failure = w.failure(len(w.ops), op, w.errs)
	}
	return rep
}

func (w *world) failure(step int, op model.Op, errs []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "after step %d, %v:\n", step, op)
	for _, e := range errs {
		fmt.Fprintf(&b, "  - %s\n", e)
	}
	fmt.Fprintf(&b, "program:\n%s", model.Format(w.ops))
	return b.String()
}

// afterStep checks the state the step left against the shadow and fills in
// the report.
func (w *world) afterStep(rep *report) {
	snap := w.shadow.Snapshot()
	for id := range w.shadow.Nodes {
		if !w.isSig[id] {
			continue
		}
		v := w.sigs[id].Peek()
		rep.sigs[id] = v
		if v != w.shadow.Vals[id] {
			w.fail("%s is %d, but the writes made so far give %d", w.label(id), v, w.shadow.Vals[id])
		}
	}
	// Every computed a live effect needs is up to date after the flush:
	// reading it must not run anything that the checks in computeFn reject.
	for id, need := range snap.Demanded() {
		if !need || w.isSig[id] {
			continue
		}
		w.roots = append(w.roots[:0], id)
		v := w.comps[id].Peek()
		w.roots = w.roots[:0]
		rep.comps[id] = v
		if got, want := w.eqs[id].Class(v), snap.Seen(id); got != want {
			w.fail("%s is %d, but the model says %d", w.label(id), v, snap.Value(id))
		}
	}
	rep.live = make([]bool, len(w.eff))
	for k, rec := range w.eff {
		rep.live[k] = !rec.stopped
		if rec.stopped {
			continue
		}
		rep.obs[k] = rec.obs
		if _, want := snap.ObserveEffect(k); !slices.Equal(rec.obs, want) {
			w.fail("%s last saw %s, but a run now would see %s: a run is missing", w.shadow.EffectLabel(k), w.fmtObs(rec.obs), w.fmtObs(want))
		}
	}
	if !w.wrote {
		for i := 1; i < len(w.stepRuns); i++ {
			if w.stepRuns[i] <= w.stepRuns[i-1] {
				names := make([]string, len(w.stepRuns))
				for j, k := range w.stepRuns {
					names[j] = w.shadow.EffectLabel(k)
				}
				w.fail("effects ran in the order %s: want creation order, each at most once", strings.Join(names, ", "))
				break
			}
		}
	}
}

// check compares the report with the model after the step (m), which is
// computed independently of the engine and of the shadow. It returns "" if
// they agree.
func (rep *report) check(m *model.Model) string {
	if rep.skipped {
		return ""
	}
	if rep.failure != "" {
		return rep.failure
	}
	var errs []string
	snap := m.Snapshot()
	for id, v := range rep.sigs {
		if v != m.Vals[id] {
			errs = append(errs, fmt.Sprintf("%s is %d, the model says %d", m.Label(id), v, m.Vals[id]))
		}
	}
	for id := range m.Nodes {
		if _, ok := rep.sigs[id]; m.Nodes[id].Kind == model.Signal && !ok {
			errs = append(errs, fmt.Sprintf("%s was not reported", m.Label(id)))
		}
	}
	for id, v := range rep.comps {
		if m.Nodes[id].Seen(v) != snap.Seen(id) {
			errs = append(errs, fmt.Sprintf("%s is %d, the model says %d", m.Label(id), v, snap.Value(id)))
		}
	}
	if len(rep.live) != len(m.Effects) {
		errs = append(errs, fmt.Sprintf("%d effects, the model has %d", len(rep.live), len(m.Effects)))
	} else {
		for k := range m.Effects {
			if rep.live[k] != m.Effects[k].Live {
				errs = append(errs, fmt.Sprintf("%s live=%v, the model says %v", m.EffectLabel(k), rep.live[k], m.Effects[k].Live))
				continue
			}
			if !m.Effects[k].Live {
				continue
			}
			if _, want := snap.ObserveEffect(k); !slices.Equal(rep.obs[k], want) {
				errs = append(errs, fmt.Sprintf("%s last saw %s, the model says a run now would see %s", m.EffectLabel(k), fmtObs(m, rep.obs[k]), fmtObs(m, want)))
			}
		}
	}
	if len(errs) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "after step %d, %v, the engine disagrees with the model:\n", rep.step, rep.op)
	for _, e := range errs {
		fmt.Fprintf(&b, "  - %s\n", e)
	}
	fmt.Fprintf(&b, "program:\n%s", rep.describe())
	return b.String()
}

// runProgram runs ops against a fresh graph, checking every step, and
// returns the first failure, or "".
func runProgram(ops []model.Op) string {
	w := newWorld()
	defer w.close()
	m := model.New()
	for _, op := range ops {
		rep := w.step(op)
		m.Apply(op)
		if msg := rep.check(m); msg != "" {
			return msg
		}
	}
	return ""
}

// opCmd is one operation as a gopter command. The state is the model.
type opCmd struct{ op model.Op }

func (c *opCmd) Run(sut commands.SystemUnderTest) commands.Result {
	return sut.(*world).step(c.op)
}

func (c *opCmd) NextState(state commands.State) commands.State {
	m := state.(*model.Model).Clone()
	m.Apply(c.op)
	return m
}

func (c *opCmd) PreCondition(state commands.State) bool {
	return state.(*model.Model).Valid(c.op)
}

func (c *opCmd) PostCondition(state commands.State, result commands.Result) *gopter.PropResult {
	if msg := result.(*report).check(state.(*model.Model)); msg != "" {
		return &gopter.PropResult{Status: gopter.PropFalse, Labels: []string{"\n" + msg}}
	}
	return &gopter.PropResult{Status: gopter.PropTrue}
}

// String puts each command of a printed sequence on its own line.
func (c *opCmd) String() string { return "\n    " + c.op.String() }

func shrinkCmd(v any) gopter.Shrink {
	cands := model.Shrink(v.(*opCmd).op)
	i := 0
	return func() (any, bool) {
		if i >= len(cands) {
			return nil, false
		}
		i++
		return &opCmd{cands[i-1]}, true
	}
}

// modelCommands is the gopter description of the sequential property.
func modelCommands(cfg model.Config) commands.Commands {
	return &commands.ProtoCommands{
		NewSystemUnderTestFunc:     func(commands.State) commands.SystemUnderTest { return newWorld() },
		DestroySystemUnderTestFunc: func(sut commands.SystemUnderTest) { sut.(*world).close() },
		InitialStateGen: func(*gopter.GenParameters) *gopter.GenResult {
			return gopter.NewGenResult(model.New(), gopter.NoShrinker)
		},
		GenCommandFunc: func(state commands.State) gopter.Gen {
			m := state.(*model.Model)
			return func(p *gopter.GenParameters) *gopter.GenResult {
				g := model.Gen{Cfg: cfg, Src: model.RandSource{R: p.Rng}}
				return gopter.NewGenResult(&opCmd{g.Op(m)}, shrinkCmd)
			}
		},
	}
}

// TestPropertyModel runs random programs (graph construction, Set, Update,
// nested batches with reverted writes, reads, NewEffect, Stop, effects that
// write signals) and checks every step against the model (file comment).
func TestPropertyModel(t *testing.T) {
	params := propertyParams(t, 800)
	params.MaxSize = 48 // operations per program grow from 0 to this
	props := gopter.NewProperties(params)
	props.Property("the engine agrees with the naive model after every operation",
		commands.Prop(modelCommands(model.DefaultConfig())))
	props.TestingRun(t)
}

// TestPropertyModelDeepGraphs favours building bigger graphs first, then
// writing: long chains, diamonds and many effects.
func TestPropertyModelDeepGraphs(t *testing.T) {
	cfg := model.DefaultConfig()
	cfg.MaxNodes, cfg.MaxEffects, cfg.ExprDepth = 22, 9, 3
	cfg.Weights[model.OpNewComputed] = 9
	cfg.Weights[model.OpRead] = 2
	params := propertyParams(t, 250)
	params.MaxSize = 70
	props := gopter.NewProperties(params)
	props.Property("bigger graphs agree with the naive model",
		commands.Prop(modelCommands(cfg)))
	props.TestingRun(t)
}

// TestBatchRevertPolicy pins the decision on writes that a batch reverts
// (file comment): an effect that reads the signal directly may run once,
// seeing the same value, or not at all; an effect that reads it only
// through a computed that recomputes to the same value must not run.
func TestBatchRevertPolicy(t *testing.T) {
	s := signals.New(1)
	c := signals.NewComputed(func(t *signals.Tracker) int { return s.Get(t) * 10 })
	var direct, viaComputed []int
	e1 := signals.NewEffect(func(t *signals.Tracker) { direct = append(direct, s.Get(t)) })
	defer e1.Stop()
	e2 := signals.NewEffect(func(t *signals.Tracker) { viaComputed = append(viaComputed, c.Get(t)) })
	defer e2.Stop()

	signals.Batch(func() {
		s.Set(2)
		s.Set(1)
	})
	require.LessOrEqual(t, len(direct), 2, "direct reader ran more than once for one batch")
	for _, v := range direct {
		require.Equal(t, 1, v, "direct reader saw an intermediate value")
	}
	require.Equal(t, []int{10}, viaComputed, "the computed recomputed to its old value: cutoff, its reader must not run")

	// A read inside the batch recomputes c to 20 before the revert: c
	// changed twice, so its reader may run once more, seeing 10 again.
	signals.Batch(func() {
		s.Set(2)
		require.Equal(t, 20, c.Peek())
		s.Set(1)
	})
	require.LessOrEqual(t, len(viaComputed), 2)
	require.Equal(t, 10, viaComputed[len(viaComputed)-1])
	require.Equal(t, 1, direct[len(direct)-1])
}

// TestPropertyHarnessCatchesMistakes checks that the checks can fail: a
// program run against a model that disagrees with it is reported.
func TestPropertyHarnessCatchesMistakes(t *testing.T) {
	ops := []model.Op{
		{Kind: model.OpNewSignal, Name: 0, Value: 1, Target: -1},
		{Kind: model.OpNewComputed, Name: 1, Target: -1, Expr: &model.Expr{Kind: model.XClamp, K: 0, K2: 5,
			A: &model.Expr{Kind: model.XRead, Node: 0, Sig: true}}},
		{Kind: model.OpNewEffect, Name: 2, Target: -1, Expr: &model.Expr{Kind: model.XRead, Node: 1}},
		{Kind: model.OpSet, Ref: 0, Sig: true, Value: 3, Target: -1},
	}
	require.Empty(t, runProgram(ops))

	w := newWorld()
	defer w.close()
	m := model.New()
	for _, op := range ops {
		rep := w.step(op)
		m.Apply(op)
		require.Empty(t, rep.check(m))
	}
	// A model that missed the last write must disagree.
	rep := w.step(model.Op{Kind: model.OpSet, Ref: 0, Sig: true, Value: 4, Target: -1})
	msg := rep.check(m)
	require.Contains(t, msg, "s0 is 4, the model says 3")
	require.Contains(t, msg, "e2 last saw")
	t.Logf("a failure reads like this:\n%s", msg)
}
