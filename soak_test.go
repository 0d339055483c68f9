package signals_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gosignals/signals"
	"github.com/gosignals/signals/signalstest"
)

// soakItems is how many effects, subscriptions and scopes TestSoak creates
// and ends: 100,000 times GOSIGNALS_SOAK_SCALE (default 1), divided by 10
// with -short.
func soakItems(t *testing.T) int {
	scale := 1.0
	if v := os.Getenv("GOSIGNALS_SOAK_SCALE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			t.Fatalf("GOSIGNALS_SOAK_SCALE=%q: want a positive number", v)
		}
		scale = f
	}
	n := int(100_000 * scale)
	if testing.Short() {
		n /= 10
	}
	return max(n, 10*len(bindings))
}

// heapInUse returns the bytes of live heap objects after a full collection.
func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestSoak creates and ends effects, subscriptions and scopes, in every
// binding of the table above (scope, context, both, nested scopes, a run's
// scope; ended on their own or by what they are bound to), inside one
// long-lived scope and one long-lived context that also hold live ones, and
// checks that they leave nothing behind: the heap is back at its baseline
// (within 5%) and no goroutine is left. A server does this all day.
func TestSoak(t *testing.T) {
	signalstest.Check(t)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	n := soakItems(t)
	env := &longLived{src: signals.New(0)}
	var cancel context.CancelFunc
	env.ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	env.scope = signals.NewScope(env.ctx)
	defer env.scope.Stop()

	newItem := func(i int) (end func()) {
		p := signals.NewComputed(func(tr *signals.Tracker) int { return env.src.Get(tr) })
		return bindings[i%len(bindings)].make(env, p)
	}
	round := func(count int) {
		for i := range count {
			newItem(i)()
		}
	}
	var goroutines int
	settle := func() {
		// Context callbacks and Async runs end on goroutines of their own.
		// (Not Idle: the live scheduled effects have a run pending.)
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > goroutines && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
	withDeadline(t, 5*time.Minute, func() {
		goroutines = runtime.NumGoroutine()
		// What the server holds meanwhile: live items of every kind, among
		// which the ended ones come and go.
		var live []func()
		for i := range 50 * len(bindings) {
			live = append(live, newItem(i))
		}
		// Warm up: the engine's free lists, and the runtime's own tables
		// (goroutines, which are never freed, for the context callbacks)
		// reach their high-water marks.
		round(max(n/10, 20*len(bindings)))
		settle()
		base := heapInUse()
		start := time.Now()
		round(n)
		settle()
		elapsed := time.Since(start)
		after := heapInUse()
		t.Logf("%d items in %v (%v each); heap %d → %d bytes (%+.2f%%)", n, elapsed.Round(time.Millisecond),
			(elapsed / time.Duration(n)).Round(time.Nanosecond), base, after, 100*(float64(after)/float64(base)-1))
		if float64(after) > 1.05*float64(base) {
			t.Errorf("heap grew from %d to %d bytes (%+d, %.0f bytes per item): ended effects, subscriptions or scopes are kept",
				base, after, int64(after)-int64(base), float64(after-base)/float64(n))
		}
		for _, end := range live {
			end()
		}
		settle()
		if err := signals.Idle(t.Context()); err != nil {
			t.Fatal(err)
		}
		if g := runtime.NumGoroutine(); g > goroutines {
			buf := make([]byte, 1<<20)
			t.Errorf("%d goroutines left, %d before:\n%s", g, goroutines, buf[:runtime.Stack(buf, true)])
		}
	})
	select {
	case <-env.scope.Done():
		t.Fatal("the long-lived scope ended")
	default:
	}
}
