package signals_test

// Regression tests for issue 14 ("Lifetimes without leaks"): each one failed
// on the code before the fix it names.

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
	"weak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosignals/signals"
)

// A long-lived scope forgot nothing: Defer only appended, and an effect
// stopped on its own stayed registered until the scope stopped.
func TestRegressionScopeKeepsEffectsStoppedOnTheirOwn(t *testing.T) {
	scope := signals.NewScope(context.Background())
	defer scope.Stop()
	src := signals.New(0)
	w := func() weak.Pointer[signals.Effect] {
		e := scope.Effect(func(tr *signals.Tracker) { src.Get(tr) })
		e.Stop()
		return weak.Make(e)
	}()
	assert.True(t, collected(w), "an effect stopped on its own must leave its live scope")
}

// Subscribe dropped the stop functions of its context.AfterFunc calls, so a
// subscription ended by its scope or its WithContext stayed registered with
// the long-lived context given to Subscribe, with its mailbox and readable.
func TestRegressionSubscribeReleasesItsRegistrations(t *testing.T) {
	server, stopServer := context.WithCancel(context.Background())
	defer stopServer()
	src := signals.New(0)
	readable := func() *signals.Computed[int] {
		return signals.NewComputed(func(tr *signals.Tracker) int { return src.Get(tr) + 1 })
	}

	t.Run("ended by its scope", func(t *testing.T) {
		w := func() weak.Pointer[signals.Computed[int]] {
			perConn := signals.NewScope(context.Background())
			r := readable()
			ch := signals.Subscribe(server, r, signals.WithScope(perConn))
			assert.Equal(t, 1, <-ch)
			perConn.Stop()
			return weak.Make(r)
		}()
		assert.True(t, collected(w), "the server context must not keep an ended subscription")
	})

	t.Run("ended by its WithContext", func(t *testing.T) {
		w := func() weak.Pointer[signals.Computed[int]] {
			perConn, cancel := context.WithCancel(context.Background())
			r := readable()
			ch := signals.Subscribe(server, r, signals.WithContext(perConn))
			assert.Equal(t, 1, <-ch)
			cancel()
			for range ch { // closed once the subscription has ended
			}
			return weak.Make(r)
		}()
		assert.True(t, collected(w), "the server context must not keep an ended subscription")
	})

	t.Run("ended by its own context, in a live scope", func(t *testing.T) {
		longLived := signals.NewScope(context.Background())
		defer longLived.Stop()
		w := func() weak.Pointer[signals.Computed[int]] {
			req, cancel := context.WithCancel(context.Background())
			r := readable()
			ch := signals.Subscribe(req, r, signals.WithScope(longLived))
			assert.Equal(t, 1, <-ch)
			cancel()
			for range ch {
			}
			return weak.Make(r)
		}()
		assert.True(t, collected(w), "the live scope must not keep an ended subscription")
	})
}

// NewScope with a done context raced with the context.AfterFunc goroutine
// (go test -race reported it), and effects created at once in the scope
// still ran.
func TestRegressionNewScopeWithADoneContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 20 {
		scope := signals.NewScope(ctx)
		select {
		case <-scope.Done():
		default:
			t.Fatal("NewScope with a done context must return a stopped scope")
		}
		runs := 0
		scope.Effect(func(*signals.Tracker) { runs++ })
		require.Zero(t, runs, "an effect created in a scope whose context is done must not run")
	}
}

// Stop did not cancel a Debounce effect's timer: Idle waited for it, and the
// timer kept the stopped effect alive, for the whole period.
func TestRegressionStopCancelsTheTimer(t *testing.T) {
	drainScheduled(t) // this test waits for the whole process in a bubble
	synctest.Test(t, func(t *testing.T) {
		s := signals.New(0)
		e := signals.NewEffect(func(tr *signals.Tracker) { s.Get(tr) }, signals.Debounce(time.Hour))
		s.Set(1)
		e.Stop()
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		assert.NoError(t, signals.Idle(ctx), "a stopped effect's pending run must not keep Idle waiting")
	})
}

func TestRegressionStoppedTimedEffectIsCollectable(t *testing.T) {
	s := signals.New(0)
	w := func() weak.Pointer[signals.Effect] {
		e := signals.NewEffect(func(tr *signals.Tracker) { s.Get(tr) }, signals.Debounce(time.Hour))
		s.Set(1)
		e.Stop()
		return weak.Make(e)
	}()
	assert.True(t, collected(w), "the timer of a stopped effect must not keep it alive for its period")
}

// When the flush that NewEffect runs after a successful first run re-raised
// another effect's panic, the new effect stayed subscribed and running
// though the caller never got a handle to stop it.
func TestRegressionNewEffectPanicAfterItsFirstRun(t *testing.T) {
	trigger, input := signals.New(0), signals.New(0)
	bad := signals.NewEffect(func(tr *signals.Tracker) {
		if trigger.Get(tr) == 1 {
			panic("other effect")
		}
	})
	defer bad.Stop()
	runs, cleanups := 0, 0
	r := capturePanic(func() {
		signals.NewEffect(func(tr *signals.Tracker) {
			runs++
			input.Get(tr)
			tr.OnCleanup(func() { cleanups++ })
			trigger.Set(1) // makes bad due; NewEffect's flush raises its panic
		})
	})
	require.Equal(t, "other effect", r)
	assert.Equal(t, 1, runs)
	assert.Equal(t, 1, cleanups, "the effect no caller can stop must have been stopped")
	input.Set(1)
	assert.Equal(t, 1, runs, "an effect without a handle must not keep running")
}

// A scope stopped by its context ran its stops on the context's goroutine
// and re-raised their panic there, which crashed the program; an effect
// stopped by its context reports such a panic to the panic handler instead,
// and so does the scope now.
func TestRegressionScopeStoppedByItsContextDoesNotCrash(t *testing.T) {
	got := make(chan signals.PanicInfo, 1)
	prev := signals.SetPanicHandler(func(p signals.PanicInfo) { got <- p })
	defer signals.SetPanicHandler(prev)
	ctx, cancel := context.WithCancel(context.Background())
	scope := signals.NewScope(ctx)
	scope.Defer(func() { panic("stop failed") })
	cancel()
	select {
	case p := <-got:
		assert.Equal(t, "stop failed", p.Value)
	case <-time.After(10 * time.Second):
		t.Fatal("the panic of a stop run by the context never reached the panic handler")
	}
	<-scope.Done()
}
