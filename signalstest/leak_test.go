package signalstest_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosignals/signals"
	"github.com/gosignals/signals/signalstest"
)

// fakeT records the failures and cleanups of a check, so that the tests
// can see the check fail without failing themselves.
type fakeT struct {
	testing.TB
	mu       sync.Mutex
	errors   []string
	cleanups []func()
}

func (f *fakeT) Helper() {}

func (f *fakeT) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *fakeT) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

// end runs the cleanups, last registered first, and returns the failures.
func (f *fakeT) end() string {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.errors, "\n")
}

const quick = 100 * time.Millisecond

func TestCheckPassesWhenEverythingStopped(t *testing.T) {
	signalstest.Check(t)
	ft := &fakeT{TB: t}
	signalstest.Check(ft, signalstest.Timeout(quick))
	ctx, cancel := context.WithCancel(context.Background())
	src := signals.New(0)
	ch := signals.Subscribe(ctx, src, signals.Async())
	<-ch
	scope := signals.NewScope(ctx)
	scope.Effect(func(tr *signals.Tracker) { src.Get(tr) }, signals.Debounce(time.Hour))
	src.Set(1)
	cancel() // ends the subscription and the scope, on context goroutines
	assert.Empty(t, ft.end())
}

func TestCheckReportsWhatIsLeftRunning(t *testing.T) {
	signalstest.Check(t)
	src := signals.New(0)

	t.Run("a pending timer", func(t *testing.T) {
		ft := &fakeT{TB: t}
		signalstest.Check(ft, signalstest.Timeout(quick))
		e := signals.NewEffect(func(tr *signals.Tracker) { src.Get(tr) }, signals.Debounce(time.Hour))
		src.Set(src.Peek() + 1)
		assert.Contains(t, ft.end(), "runs handed to Async, Debounce or Throttle are still pending")
		e.Stop()
		assert.Empty(t, (&fakeT{TB: t}).verify(), "Stop cancelled it")
	})

	t.Run("an open subscription", func(t *testing.T) {
		ft := &fakeT{TB: t}
		signalstest.Check(ft, signalstest.Timeout(quick))
		ctx, cancel := context.WithCancel(context.Background())
		signals.Subscribe(ctx, src)
		assert.Contains(t, ft.end(), "1 channel(s) returned by signals.Subscribe are still open")
		cancel()
		assert.Empty(t, (&fakeT{TB: t}).verify())
	})

	t.Run("a blocked Async run and the goroutine running it", func(t *testing.T) {
		ft := &fakeT{TB: t}
		signalstest.Check(ft, signalstest.Timeout(quick))
		release := make(chan struct{})
		entered := make(chan struct{})
		e := signals.NewEffect(func(tr *signals.Tracker) {
			if src.Get(tr) == -1 {
				close(entered)
				<-release
			}
		}, signals.Async())
		src.Set(-1)
		<-entered
		out := ft.end()
		assert.Contains(t, out, "still pending or running")
		assert.Contains(t, out, "created by github.com/gosignals/signals.(*async).Schedule")
		close(release)
		e.Stop()
		assert.Empty(t, (&fakeT{TB: t}).verify())
	})

	t.Run("a stop blocked on a context's goroutine", func(t *testing.T) {
		ft := &fakeT{TB: t}
		signalstest.Check(ft, signalstest.Timeout(quick))
		ctx, cancel := context.WithCancel(context.Background())
		scope := signals.NewScope(ctx)
		release := make(chan struct{})
		scope.Defer(func() { <-release })
		cancel()
		out := ft.end()
		assert.Contains(t, out, "signals.(*Scope).stopByContext")
		assert.Contains(t, out, "created by context.")
		close(release)
		<-scope.Done()
		assert.Empty(t, (&fakeT{TB: t}).verify())
	})

	t.Run("what ran before Check is not counted", func(t *testing.T) {
		release := make(chan struct{})
		ctx, cancel := context.WithCancel(context.Background())
		scope := signals.NewScope(ctx)
		scope.Defer(func() { <-release })
		cancel()
		require.Eventually(t, func() bool { return strings.Contains((&fakeT{TB: t}).verifyIn(10*time.Millisecond), "stopByContext") },
			10*time.Second, time.Millisecond)
		ft := &fakeT{TB: t}
		signalstest.Check(ft, signalstest.Timeout(quick))
		assert.Empty(t, ft.end())
		close(release)
		<-scope.Done()
	})

	t.Run("others' goroutines are not counted", func(t *testing.T) {
		ft := &fakeT{TB: t}
		signalstest.Check(ft, signalstest.Timeout(quick))
		release := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { <-release })
		assert.Empty(t, ft.end())
		close(release)
		wg.Wait()
	})
}

func (f *fakeT) verify() string { return f.verifyIn(5 * time.Second) }

func (f *fakeT) verifyIn(d time.Duration) string {
	signalstest.VerifyNone(f, signalstest.Timeout(d))
	return f.end()
}

func TestOptionMisuse(t *testing.T) {
	assert.PanicsWithValue(t, "signalstest: Timeout(0s): the duration must be positive", func() { signalstest.Timeout(0) })
	assert.PanicsWithValue(t, "signalstest: nil Option", func() { signalstest.VerifyNone(t, nil) })
}
