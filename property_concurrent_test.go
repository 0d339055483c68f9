package signals_test

// The concurrent property: a random graph is built and checked in one
// goroutine, then random operation logs run on 2 to 8 goroutines at once
// (Set, Update, nested Batch, Peek and Get(nil) of anything, Stop, and
// NewEffect). Afterwards:
//
//   - each signal only Updated with additions holds its value before the
//     logs plus the sum of the additions (Update is atomic);
//   - each other signal holds its value before the logs or a value written
//     to it (by a user or, for a normalized signal, its normalizer);
//   - every effect that writes a signal has reached its fixed point on the
//     final values: its target holds what its body gives now;
//   - every computed and every live effect's last observation equal the
//     model evaluated from scratch on the final signal values;
//   - no effect ran concurrently with itself, and no call panicked;
//   - nothing deadlocked: a watchdog dumps every goroutine (and the panics
//     recorded so far) and crashes the process if one case takes longer
//     than concurrentDeadline.
//
// A deadlock leaves the engine's lock held forever, so these tests run in a
// child process (inChild): a crash fails only the test that deadlocked.
// Run them under -race. GOSIGNALS_PROPERTY_SCALE scales the number of cases
// (see property_test.go).
//
// The last tests of this file are deterministic reproductions of engine
// bugs that the concurrent property found.

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/gosignals/signals"
	"github.com/gosignals/signals/internal/model"
)

// concurrentDeadline bounds one case; a case normally takes milliseconds.
const concurrentDeadline = 20 * time.Second

// childEnv names the test an isolated child process runs.
const childEnv = "GOSIGNALS_PROPERTY_CHILD"

// inChild runs t in a child process (this test binary, with -test.run
// selecting t alone) and reports whether the caller is that child. A
// deadlock leaves the engine's lock held forever, which would hang every
// later test in the process; in a child, the watchdog's crash (with its
// goroutine dump) fails only t.
func inChild(t *testing.T) bool {
	if os.Getenv(childEnv) == t.Name() {
		return true
	}
	args := []string{"-test.run=^" + t.Name() + "$", "-test.count=1", "-test.v"}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil {
		const max = 256 << 10
		if len(out) > max {
			out = append(out[:max:max], "\n[... output truncated ...]"...)
		}
		t.Fatalf("%s failed in its child process (%v):\n%s", t.Name(), err, out)
	}
	t.Logf("child process:\n%s", out)
	return false
}

func TestPropertyConcurrent(t *testing.T) {
	if !inChild(t) {
		return
	}
	params := propertyParams(t, 250)
	params.MaxShrinkCount = 10 // a smaller seed is a different program
	props := gopter.NewProperties(params)
	props.Property("after concurrent logs, values and effects agree with the model on the final signal values",
		prop.ForAll(func(seed int64, goroutines int) string {
			return runConcurrent(seed, goroutines)
		}, gen.Int64(), gen.IntRange(2, 8)))
	props.TestingRun(t)
}

// setupConfig builds graphs: signals, computeds, effects (writers and
// normalizers too) and a few writes.
func setupConfig() model.Config {
	cfg := model.DefaultConfig()
	cfg.MaxNodes, cfg.MaxEffects = 12, 6
	cfg.Weights = [8]int{
		model.OpNewSignal:   4,
		model.OpNewComputed: 6,
		model.OpNewEffect:   4,
		model.OpSet:         2,
		model.OpUpdate:      1,
		model.OpRead:        1,
		model.OpBatch:       1,
	}
	return cfg
}

// tally is what one goroutine wrote.
type tally struct {
	adds    map[int]int   // signal id → sum of Update additions
	written map[int][]int // signal id → values Set
}

// concOp is an operation with its node resolved before the goroutines start.
type concOp struct {
	op  model.Op
	id  int // node of Set, Update, Read
	sub []concOp
}

func runConcurrent(seed int64, goroutines int) string {
	r := rand.New(rand.NewSource(seed))
	src := model.RandSource{R: r}
	w := newWorld()
	defer w.close()
	m := model.New()

	// 1. Build a graph in one goroutine, checked step by step.
	sg := model.Gen{Cfg: setupConfig(), Src: src}
	for range 6 + r.Intn(14) {
		op := sg.Op(m)
		rep := w.step(op)
		m.Apply(op)
		if msg := rep.check(m); msg != "" {
			return fmt.Sprintf("seed %d, setup: %s", seed, msg)
		}
	}

	// 2. Generate the logs. Signals users write are split: "add-only"
	// ones are only Updated with additions (their final value is known
	// exactly), the others only Set.
	addOnly := map[int]bool{}
	for id, n := range m.Nodes {
		if m.Writable(id) && n.Normalizer < 0 && n.Writer < 0 &&
			(n.Eq.Kind == model.EqDefault || n.Eq.Kind == model.EqExact || n.Eq.Kind == model.EqNever) && r.Intn(2) == 0 {
			addOnly[id] = true
		}
	}
	setupEffects := len(m.Effects)
	cfg := model.DefaultConfig()
	cfg.NoWriters = true
	cfg.Weights = [8]int{
		model.OpNewEffect: 1,
		model.OpSet:       6,
		model.OpUpdate:    5,
		model.OpRead:      5,
		model.OpBatch:     3,
		model.OpStop:      1,
	}
	cfg.Writable = func(_ *model.Model, id int, update bool) bool { return addOnly[id] == update }
	cfg.UpdateFn = func(s model.Source, _ *model.Model, _ int) model.Fn {
		return model.Fn{Kind: model.FnAdd, K: []int{-1, 1, 2, 3}[s.Intn(4)]}
	}
	cfg.MayStop = func(_ *model.Model, k int) bool { return k < setupEffects }
	cg := model.Gen{Cfg: cfg, Src: src}
	cm := m.Clone()
	logs := make([][]model.Op, goroutines)
	perG := 10 + r.Intn(40)
	for range goroutines * perG {
		op := cg.Op(cm)
		cm.Apply(op)
		g := r.Intn(goroutines)
		logs[g] = append(logs[g], op)
	}
	var resolve func(op model.Op) concOp
	resolve = func(op model.Op) concOp {
		c := concOp{op: op, id: -1}
		switch op.Kind {
		case model.OpSet, model.OpUpdate, model.OpRead:
			c.id = w.nodeID(op.Ref)
		case model.OpBatch:
			for _, s := range op.Ops {
				c.sub = append(c.sub, resolve(s))
			}
		}
		return c
	}
	clogs := make([][]concOp, goroutines)
	for g, log := range logs {
		for _, op := range log {
			clogs[g] = append(clogs[g], resolve(op))
		}
	}
	describe := func() string {
		var b strings.Builder
		fmt.Fprintf(&b, "seed %d, %d goroutines\nsetup:\n%s", seed, goroutines, model.Format(w.ops))
		for g, log := range logs {
			fmt.Fprintf(&b, "goroutine %d:\n%s", g, model.Format(log))
		}
		return b.String()
	}

	// 3. Run them, under a watchdog.
	watchdog := time.AfterFunc(concurrentDeadline, func() {
		buf := make([]byte, 1<<22)
		buf = buf[:runtime.Stack(buf, true)]
		var errs []string
		if w.mu.TryLock() {
			errs = slices.Clone(w.errs)
			w.mu.Unlock()
		}
		panic(fmt.Sprintf("concurrent property: a case did not finish within %v: deadlock?\nerrors so far: %q\n%s\n--- all goroutines ---\n%s",
			concurrentDeadline, errs, describe(), buf))
	})
	defer watchdog.Stop()

	before := slices.Clone(m.Vals)
	w.concurrent = true
	tallies := make([]tally, goroutines)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range goroutines {
		tallies[g] = tally{adds: map[int]int{}, written: map[int][]int{}}
		wg.Go(func() {
			<-start // all at once, for more interleaving
			defer func() {
				if p := recover(); p != nil {
					w.mu.Lock()
					w.fail("goroutine %d panicked: %v\n%s", g, p, debug.Stack())
					w.mu.Unlock()
				}
			}()
			for i, c := range clogs[g] {
				w.execConcurrent(c, &tallies[g])
				if i%8 == 7 {
					runtime.Gosched()
				}
			}
		})
	}
	close(start)
	wg.Wait()

	// 4. Check the final state.
	w.mu.Lock()
	defer w.mu.Unlock()
	errs := slices.Clone(w.errs)
	fm := w.shadow.Clone()
	for id := range fm.Nodes {
		if fm.Nodes[id].Kind == model.Signal {
			fm.Vals[id] = w.sigs[id].Peek()
		}
	}
	for id := range fm.Nodes {
		n := &fm.Nodes[id]
		if n.Kind != model.Signal || n.Writer >= 0 {
			continue
		}
		got := fm.Vals[id]
		if addOnly[id] {
			want := before[id]
			for _, tl := range tallies {
				want += tl.adds[id]
			}
			if got != want {
				errs = append(errs, fmt.Sprintf("%s is %d, but its value before the logs plus the additions is %d", fm.Label(id), got, want))
			}
			continue
		}
		allowed := []int{before[id]}
		for _, tl := range tallies {
			allowed = append(allowed, tl.written[id]...)
		}
		if k := n.Normalizer; k >= 0 {
			for _, v := range slices.Clone(allowed) {
				x, _ := normalize(fm, k, id, v)
				allowed = append(allowed, x)
			}
		}
		if !slices.Contains(allowed, got) {
			errs = append(errs, fmt.Sprintf("%s is %d, which nobody wrote (written: %v)", fm.Label(id), got, allowed))
		}
	}
	snap := fm.Snapshot()
	for k := range fm.Effects {
		e := &fm.Effects[k]
		if !e.Live || e.Target < 0 {
			continue
		}
		if v, obs := snap.ObserveEffect(k); v != fm.Vals[e.Target] {
			errs = append(errs, fmt.Sprintf("%s writes %s, which is %d, but on the final values (%s) it would write %d: not settled",
				fm.EffectLabel(k), fm.Label(e.Target), fm.Vals[e.Target], fmtObs(fm, obs), v))
		}
	}
	for id := range fm.Nodes {
		if fm.Nodes[id].Kind != model.Computed {
			continue
		}
		if v := w.comps[id].Peek(); w.seen(id, v) != snap.Seen(id) {
			errs = append(errs, fmt.Sprintf("%s is %d, but on the final values the model says %d", fm.Label(id), v, snap.Value(id)))
		}
	}
	for k, rec := range w.eff {
		if !fm.Effects[k].Live {
			continue
		}
		if _, want := snap.ObserveEffect(k); !slices.Equal(rec.obs, want) {
			errs = append(errs, fmt.Sprintf("%s last saw %s, but on the final values it would see %s", fm.EffectLabel(k), fmtObs(fm, rec.obs), fmtObs(fm, want)))
		}
	}
	if len(errs) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n")
	for _, e := range errs {
		fmt.Fprintf(&b, "  - %s\n", e)
	}
	b.WriteString(describe())
	return b.String()
}

// normalize returns what normalizer effect k makes of value v of signal id.
func normalize(m *model.Model, k, id, v int) (int, []model.Obs) {
	c := m.Clone()
	c.Vals[id] = v
	return c.Snapshot().ObserveEffect(k)
}

// execConcurrent runs one operation from a goroutine's log.
func (w *world) execConcurrent(c concOp, tl *tally) {
	op := c.op
	switch op.Kind {
	case model.OpSet:
		tl.written[c.id] = append(tl.written[c.id], op.Value)
		w.sigs[c.id].Set(op.Value)
	case model.OpUpdate:
		tl.adds[c.id] += op.Fn.K
		w.sigs[c.id].Update(op.Fn.Apply)
	case model.OpRead:
		switch {
		case w.isSig[c.id] && op.Peek:
			w.sigs[c.id].Peek()
		case w.isSig[c.id]:
			w.sigs[c.id].Get(nil)
		case op.Peek:
			w.comps[c.id].Peek()
		default:
			w.comps[c.id].Get(nil)
		}
	case model.OpBatch:
		signals.Batch(func() {
			for _, s := range c.sub {
				w.execConcurrent(s, tl)
			}
		})
	case model.OpStop:
		w.mu.Lock()
		k := w.effectID(op.Ref)
		e := w.effs[k]
		w.mu.Unlock()
		e.Stop()
		w.mu.Lock()
		w.eff[k].stopped = true
		w.shadow.Effects[k].Live = false
		w.mu.Unlock()
	case model.OpNewEffect:
		w.newEffect(op)
	default:
		panic(fmt.Sprintf("harness: %v in a concurrent log", op))
	}
}

// running marks effects being run, to catch an effect running concurrently
// with itself.
type running struct{ n atomic.Int32 }

func (r *running) enter(w *world, name string) {
	if r.n.Add(1) != 1 {
		w.mu.Lock()
		w.fail("%s ran concurrently with itself", name)
		w.mu.Unlock()
	}
}

func (r *running) exit() { r.n.Add(-1) }

// TestFlushWhileAComputationIsClaimedElsewhere is the smallest reproduction
// of a livelock the concurrent property found (see the test report). One
// goroutine (B) reads a stale computed c6 outside any flush: it claims c6
// and, to check c6, runs c3's function. Meanwhile another goroutine's
// Batch ends and flushes an effect that reads c8 = f(c6): the flush's
// check of the effect refreshes c8, which finds c6 claimed by a
// computation older than the flush and reports "blocked". That check
// finished c8, so the flush counts it as progress and starts another round
// at once, forever, holding the lock: B can never commit c3 and the Batch
// never returns. Contract item 19 says nothing deadlocks.
func TestFlushWhileAComputationIsClaimedElsewhere(t *testing.T) {
	if !inChild(t) {
		return
	}
	x := signals.New(0)
	s := signals.New(0)
	entered, gate := make(chan struct{}), make(chan struct{})
	c3 := signals.NewComputed(func(t *signals.Tracker) int {
		v := x.Get(t)
		if v == 1 {
			close(entered) // B is inside c3's function and holds c6's claim
			<-gate
		}
		return v
	})
	c6 := signals.NewComputed(func(t *signals.Tracker) int { return c3.Get(t) })
	c8 := signals.NewComputed(func(t *signals.Tracker) int { return c6.Get(t) })
	e := signals.NewEffect(func(t *signals.Tracker) { _, _ = c8.Get(t), s.Get(t) })

	inBatch, batchDone, readDone := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() { // goroutine C
		signals.Batch(func() {
			x.Set(1)
			close(inBatch)
			<-entered
		})
		close(batchDone)
	}()
	<-inBatch
	go func() { // goroutine B
		_ = c6.Get(nil)
		close(readDone)
	}()
	select {
	case <-batchDone:
	case <-time.After(5 * time.Second):
		buf := make([]byte, 1<<20)
		// No deferred cleanup: it would need the lock the flush holds.
		t.Fatalf("the Batch did not return within 5s (the flush spins while c6 is claimed by another goroutine)\n--- all goroutines ---\n%s",
			buf[:runtime.Stack(buf, true)])
	}
	close(gate)
	<-readDone
	if got := c8.Peek(); got != 1 {
		t.Fatalf("c8 = %d, want 1", got)
	}
	e.Stop()
}

// TestStopWhileAFlushChecksTheEffect reproduces a use-after-free the
// concurrent property found. A flush checks effect e: it recomputes e's
// first dependency c, which runs c's function without the lock. Meanwhile
// another goroutine stops e: e is not running, so Stop disposes of it at
// once and its dependency links go back to the engine's pool. When c's
// function returns (same value: e is not due), the check moves on to the
// next link, which is now a free link: nil pointer dereference, raised from
// x.Set with the engine's lock still held, so every later call blocks.
func TestStopWhileAFlushChecksTheEffect(t *testing.T) {
	if !inChild(t) {
		return
	}
	a, b := signals.New(0), signals.New(0)
	other := signals.NewEffect(func(t *signals.Tracker) { _, _ = a.Get(t), b.Get(t) })

	x, s := signals.New(0), signals.New(0)
	entered, gate := make(chan struct{}), make(chan struct{})
	c := signals.NewComputed(func(t *signals.Tracker) int {
		if x.Get(t) == 1 {
			close(entered) // the flush is checking e
			<-gate
		}
		return 0 // unchanged: e is not due
	})
	e := signals.NewEffect(func(t *signals.Tracker) { _, _ = c.Get(t), s.Get(t) })
	other.Stop() // two links in the pool of free links

	setDone := make(chan any, 1)
	go func() {
		defer func() { setDone <- recover() }()
		x.Set(1)
	}()
	<-entered
	e.Stop()
	close(gate)
	var p any
	select {
	case p = <-setDone:
	case <-time.After(5 * time.Second):
		buf := make([]byte, 1<<20)
		t.Fatalf("x.Set did not return within 5s\n--- all goroutines ---\n%s", buf[:runtime.Stack(buf, true)])
	}
	peeked := make(chan struct{})
	go func() { s.Peek(); close(peeked) }()
	select {
	case <-peeked:
	case <-time.After(2 * time.Second):
		t.Errorf("after Stop during the flush's check, s.Peek() blocks: the engine's lock is still held")
	}
	if p != nil {
		t.Fatalf("x.Set panicked: %v", p)
	}
}

// TestNoEffectRunAfterStopReturns: as above, but the dependency changes, so
// the flush goes on to run the effect that Stop had already disposed of:
// the effect runs after Stop returned, although it was not running when
// Stop was called ("Stop ends all future runs").
func TestNoEffectRunAfterStopReturns(t *testing.T) {
	if !inChild(t) {
		return
	}
	x := signals.New(0)
	entered, gate := make(chan struct{}), make(chan struct{})
	c := signals.NewComputed(func(t *signals.Tracker) int {
		v := x.Get(t)
		if v == 1 {
			close(entered) // the flush is checking e
			<-gate
		}
		return v
	})
	var stopped atomic.Bool
	var late atomic.Int32
	e := signals.NewEffect(func(t *signals.Tracker) {
		_ = c.Get(t)
		if stopped.Load() {
			late.Add(1)
		}
	})
	done := make(chan struct{})
	go func() { x.Set(1); close(done) }()
	<-entered
	e.Stop()
	stopped.Store(true)
	close(gate)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		buf := make([]byte, 1<<20)
		t.Fatalf("x.Set did not return within 5s\n--- all goroutines ---\n%s", buf[:runtime.Stack(buf, true)])
	}
	if n := late.Load(); n > 0 {
		t.Fatalf("the effect ran %d time(s) after Stop returned (it was only being checked, not running, when Stop was called)", n)
	}
}

// TestEffectSeesAWriteMadeWhileItsRunComputes reproduces a lost update the
// concurrent property found. An effect's run reads computed c for the first
// time (c is not live yet). While c's function runs, after it read s,
// another goroutine writes s: c is not subscribed to s yet, so nothing is
// told. c's value is then stale; subscribing the effect makes c live and
// marks c as possibly changed, but not the effect, which is never run
// again. Worse, the next write to s finds c already marked and does not
// reach the effect either. Contract item 18: when every call that wrote has
// returned, every effect has run on the final values.
func TestEffectSeesAWriteMadeWhileItsRunComputes(t *testing.T) {
	s := signals.New(0)
	entered, gate := make(chan struct{}), make(chan struct{})
	var block atomic.Bool
	block.Store(true)
	c := signals.NewComputed(func(t *signals.Tracker) int {
		v := s.Get(t)
		if block.Swap(false) {
			close(entered) // c has read s and is still running
			<-gate
		}
		return v
	})
	var seen atomic.Int64
	created := make(chan *signals.Effect)
	go func() {
		created <- signals.NewEffect(func(t *signals.Tracker) { seen.Store(int64(c.Get(t))) })
	}()
	<-entered
	s.Set(1)
	close(gate)
	e := <-created
	defer e.Stop()
	if got := seen.Load(); got != 1 {
		t.Errorf("every call returned, but the effect last saw c=%d; s=1", got)
	}
	s.Set(2)
	if got := seen.Load(); got != 2 {
		t.Errorf("after s.Set(2) returned, the effect last saw c=%d", got)
	}
}
