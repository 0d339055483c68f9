package signals_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosignals/signals"
)

type ctxKey string

func TestContextOfAnEffectRun(t *testing.T) {
	parent, cancelParent := context.WithCancel(context.WithValue(t.Context(), ctxKey("user"), "ann"))
	defer cancelParent()
	s := signals.New(0)
	var runs []context.Context
	e := signals.NewEffect(func(tr *signals.Tracker) {
		s.Get(tr)
		ctx := tr.Context()
		assert.Same(t, ctx, tr.Context(), "one context per run")
		assert.Same(t, ctx, tr.Untracked().Context(), "the untracked view shares it")
		assert.NoError(t, ctx.Err(), "live while the run is current")
		assert.Equal(t, "ann", ctx.Value(ctxKey("user")), "values of WithContext's context")
		runs = append(runs, ctx)
	}, signals.WithContext(parent))
	require.Len(t, runs, 1)

	s.Set(1)
	require.Len(t, runs, 2)
	assert.ErrorIs(t, runs[0].Err(), context.Canceled, "superseded by the next run")
	assert.NotSame(t, runs[0], runs[1])
	assert.NoError(t, runs[1].Err())

	s.Set(1) // equal: no run, nothing cancelled
	assert.NoError(t, runs[1].Err())

	e.Stop()
	assert.ErrorIs(t, runs[1].Err(), context.Canceled, "cancelled when the effect stops")
	assert.NoError(t, parent.Err(), "the parent is left alone")
}

func TestContextEndsWithWithContext(t *testing.T) {
	parent, cancelParent := context.WithCancel(t.Context())
	var ctx context.Context
	signals.NewEffect(func(tr *signals.Tracker) { ctx = tr.Context() }, signals.WithContext(parent))
	require.NoError(t, ctx.Err())
	cancelParent()
	<-ctx.Done()
	assert.ErrorIs(t, ctx.Err(), context.Canceled)
}

func TestContextWithoutWithContext(t *testing.T) {
	var ctx context.Context
	e := signals.NewEffect(func(tr *signals.Tracker) { ctx = tr.Context() })
	require.NotNil(t, ctx)
	assert.NoError(t, ctx.Err())
	assert.NotNil(t, ctx.Done(), "cancellable even without WithContext")
	e.Stop()
	assert.ErrorIs(t, ctx.Err(), context.Canceled)
	e.Stop() // idempotent
}

func TestContextOnlyWhenAskedFor(t *testing.T) {
	// Runs that do not ask for a context do not cancel an older one twice
	// or make one: a run that asked, then one that did not, then one that
	// asked again.
	s := signals.New(0)
	var got []context.Context
	e := signals.NewEffect(func(tr *signals.Tracker) {
		if s.Get(tr)%2 == 0 {
			got = append(got, tr.Context())
		}
	})
	defer e.Stop()
	s.Set(1)
	require.Len(t, got, 1)
	assert.Error(t, got[0].Err(), "cancelled by the next run, which did not ask for one")
	s.Set(2)
	require.Len(t, got, 2)
	assert.NoError(t, got[1].Err())
}

func TestContextOfComputeAndNilTrackers(t *testing.T) {
	var nilTracker *signals.Tracker
	assert.Equal(t, context.Background(), nilTracker.Context())
	c := signals.NewComputed(func(tr *signals.Tracker) context.Context { return tr.Context() })
	assert.Equal(t, context.Background(), c.Peek(), "compute functions are shared and pure: never cancelled")
	// Inside an effect too: the computed's tracker is its own.
	var fromEffect context.Context
	e := signals.NewEffect(func(tr *signals.Tracker) { fromEffect = c.Get(tr) }, signals.WithContext(t.Context()))
	defer e.Stop()
	assert.Equal(t, context.Background(), fromEffect)
}

func TestContextOfAStoppedOrFailedRun(t *testing.T) {
	// Stopped from inside its own run: cancelled once the run returns.
	s := signals.New(0)
	var ctx context.Context
	var e *signals.Effect
	e = signals.NewEffect(func(tr *signals.Tracker) {
		if s.Get(tr) == 1 {
			ctx = tr.Context()
			e.Stop()
			assert.NoError(t, ctx.Err(), "the run is still going")
		}
	})
	s.Set(1)
	require.NotNil(t, ctx)
	assert.ErrorIs(t, ctx.Err(), context.Canceled)

	// A first run that panics stops the effect, which cancels its context.
	boom := errors.New("boom")
	var first context.Context
	assert.Same(t, boom, capturePanic(func() {
		signals.NewEffect(func(tr *signals.Tracker) {
			first = tr.Context()
			panic(boom)
		})
	}))
	assert.ErrorIs(t, first.Err(), context.Canceled)
}

func TestContextOfScheduledRuns(t *testing.T) {
	drainScheduled(t) // this test waits for the whole process in a bubble
	synctest.Test(t, func(t *testing.T) {
		s := signals.New(0)
		started := make(chan context.Context, 10)
		e := signals.NewEffect(func(tr *signals.Tracker) {
			s.Get(tr)
			ctx := tr.Context()
			go func() { // work outliving the run, ended by the next one
				<-ctx.Done()
				started <- ctx
			}()
		}, signals.Async())
		s.Set(1)
		require.NoError(t, signals.Idle(t.Context()))
		synctest.Wait()
		first := <-started
		assert.ErrorIs(t, first.Err(), context.Canceled)
		select {
		case <-started:
			t.Fatal("the current run's context was cancelled")
		default:
		}
		e.Stop()
		synctest.Wait()
		assert.Error(t, (<-started).Err())
	})
}
