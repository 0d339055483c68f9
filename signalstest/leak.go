// Package signalstest helps test code that uses package signals: Check and
// VerifyNone fail a test that leaves something of the package running, and
// Record keeps the successive values of a Readable.
//
// It is a test helper: import it from _test.go files only. It imports
// package testing and nothing outside the standard library and package
// signals.
//
// The leak check is process-wide, like the package's Idle: it cannot tell
// which test started what, so it is meant for tests that do not run in
// parallel with others using package signals (no t.Parallel).
package signalstest

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosignals/signals"
	"github.com/gosignals/signals/internal/live"
)

// An Option configures Check and VerifyNone.
type Option func(*config)

type config struct {
	timeout time.Duration
	ignore  map[uint64]bool // goroutines that existed before
	subs    int64           // subscriptions open before
}

// Timeout sets how long Check and VerifyNone wait for what is still running
// to finish before they fail the test. The default is 5 seconds. d must be
// positive.
func Timeout(d time.Duration) Option {
	if d <= 0 {
		panic(fmt.Sprintf("signalstest: Timeout(%v): the duration must be positive", d))
	}
	return func(c *config) { c.timeout = d }
}

// Check makes t fail, once it has finished and its other cleanups (those
// registered after Check) have run, if something that package signals
// started during the test is still running when Timeout has passed:
//
//   - a run handed to Async, Debounce or Throttle, pending (its timer
//     included) or in progress (see signals.Idle);
//   - a channel returned by Subscribe that is not closed;
//   - a goroutine started by package signals or one of its packages, or
//     running their code for a context.AfterFunc or a timer.
//
// What was running when Check was called is not counted. Stop effects,
// stop scopes and cancel contexts before the test ends (t.Context() is
// cancelled before cleanups run) and Check passes.
func Check(t testing.TB, opts ...Option) {
	t.Helper()
	c := newConfig(opts)
	c.ignore = map[uint64]bool{}
	for _, g := range goroutines() {
		c.ignore[g.id] = true
	}
	c.subs = live.Subscriptions.Load()
	t.Cleanup(func() {
		t.Helper()
		c.verify(t)
	})
}

// VerifyNone fails t if something started by package signals is still
// running when Timeout has passed, as Check does, counting everything that
// runs when it is called: use it at the end of a test, or from TestMain
// after m.Run (with a testing.TB of your own).
func VerifyNone(t testing.TB, opts ...Option) {
	t.Helper()
	newConfig(opts).verify(t)
}

func newConfig(opts []Option) *config {
	c := &config{timeout: 5 * time.Second}
	for _, o := range opts {
		if o == nil {
			panic("signalstest: nil Option")
		}
		o(c)
	}
	return c
}

// verify polls until nothing is left or the timeout passes, then reports
// what is left.
func (c *config) verify(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(c.timeout)
	delay := time.Millisecond
	for {
		left := c.leftovers(time.Until(deadline))
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("signalstest: still running after %v:\n%s", c.timeout, strings.Join(left, "\n"))
			return
		}
		time.Sleep(delay)
		delay = min(2*delay, 50*time.Millisecond)
	}
}

// leftovers describes what is still running, waiting at most wait for
// scheduled runs.
func (c *config) leftovers(wait time.Duration) []string {
	var left []string
	ctx, cancel := context.WithTimeout(context.Background(), max(wait, time.Millisecond))
	err := signals.Idle(ctx)
	cancel()
	if err != nil {
		left = append(left, "- runs handed to Async, Debounce or Throttle are still pending or running (signals.Idle did not return)")
	}
	if n := live.Subscriptions.Load() - c.subs; n > 0 {
		left = append(left, fmt.Sprintf("- %d channel(s) returned by signals.Subscribe are still open: cancel their context or stop their scope", n))
	}
	for _, g := range goroutines() {
		if !c.ignore[g.id] && g.ours() {
			left = append(left, "- "+g.stack)
		}
	}
	return left
}

// goroutine is one entry of a full stack dump.
type goroutine struct {
	id        uint64
	stack     string
	funcs     []string // the functions on its stack, innermost first
	createdBy string   // the function that started it
}

const module = "github.com/gosignals/signals"

// ours reports whether the package started g, or g runs the package's code
// for a context or a timer.
func (g goroutine) ours() bool {
	if inModule(g.createdBy) {
		return true
	}
	if strings.HasPrefix(g.createdBy, "context.") || strings.HasPrefix(g.createdBy, "time.") {
		for _, f := range g.funcs {
			if inModule(f) {
				return true
			}
		}
	}
	return false
}

// inModule reports whether the function named fn belongs to one of the
// module's packages, other than this one and test packages.
func inModule(fn string) bool {
	rest, ok := strings.CutPrefix(fn, module)
	if !ok || rest == "" || (rest[0] != '.' && rest[0] != '/') {
		return false // another module, or package signals_test
	}
	pkg := module + rest
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		if j := strings.Index(pkg[i:], "."); j >= 0 {
			pkg = pkg[:i+j]
		}
	}
	return !strings.HasSuffix(pkg, "_test") && pkg != module+"/signalstest"
}

// goroutines parses runtime.Stack's dump of every goroutine but the
// caller.
func goroutines() []goroutine {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var gs []goroutine
	for i, block := range bytes.Split(buf, []byte("\n\n")) {
		if i == 0 {
			continue // the caller's own
		}
		if g, ok := parse(string(block)); ok {
			gs = append(gs, g)
		}
	}
	return gs
}

// parse reads one goroutine's block: a "goroutine N [state]:" line, then a
// function line and a file line per frame, maybe a "created by" pair.
func parse(block string) (goroutine, bool) {
	lines := strings.Split(strings.TrimSpace(block), "\n")
	head, ok := strings.CutPrefix(lines[0], "goroutine ")
	if !ok {
		return goroutine{}, false
	}
	idText, _, _ := strings.Cut(head, " ")
	id, err := strconv.ParseUint(idText, 10, 64)
	if err != nil {
		return goroutine{}, false
	}
	g := goroutine{id: id, stack: block}
	for _, line := range lines[1:] {
		if strings.HasPrefix(line, "\t") {
			continue // file and line
		}
		if by, ok := strings.CutPrefix(line, "created by "); ok {
			by, _, _ = strings.Cut(by, " in goroutine ")
			g.createdBy = by
			continue
		}
		g.funcs = append(g.funcs, funcName(line))
	}
	return g, true
}

// funcName strips the arguments from a frame's function line.
func funcName(line string) string {
	if i := strings.LastIndex(line, "("); i > 0 {
		return line[:i]
	}
	return line
}
