package signalstest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosignals/signals"
	"github.com/gosignals/signals/signalstest"
)

func TestRecord(t *testing.T) {
	signalstest.Check(t)
	a, b := signals.New(1), signals.New(10)
	sum := signals.NewComputed(func(tr *signals.Tracker) int { return a.Get(tr) + b.Get(tr) })
	rec := signalstest.Record(t, sum)
	assert.Equal(t, []int{11}, rec.Values(), "the current value at once")
	a.Set(2)
	signals.Batch(func() { a.Set(3); b.Set(20) })
	b.Set(20) // equal: no run
	assert.Equal(t, []int{11, 12, 23}, rec.Values())
	assert.Equal(t, 3, rec.Len())
	last, ok := rec.Last()
	assert.True(t, ok)
	assert.Equal(t, 23, last)
	assert.Equal(t, []int{11, 12, 23}, rec.Take())
	assert.Empty(t, rec.Take(), "taken")
	a.Set(4)
	assert.Equal(t, []int{24}, rec.Values())
	rec.Stop()
	rec.Stop()
	a.Set(5)
	assert.Equal(t, []int{24}, rec.Values(), "stopped")
	assert.True(t, isClosed(rec.Effect().Done()))
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestRecordWaitsForRunsElsewhere(t *testing.T) {
	signalstest.Check(t)
	s := signals.New("a")
	rec := signalstest.Record(t, s, signals.Async())
	s.Set("b")
	got, err := rec.Wait(t.Context(), 2)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, got)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	_, err = rec.Wait(ctx, 3)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestRecordInAStoppedScope(t *testing.T) {
	scope := signals.NewScope(context.Background())
	scope.Stop()
	rec := signalstest.Record(t, signals.New(1), signals.WithScope(scope))
	_, ok := rec.Last()
	assert.False(t, ok, "an effect created stopped records nothing")
	assert.Panics(t, func() { signalstest.Record[int](t, nil) })
}

func TestRecordStopsAtTheEndOfTheTest(t *testing.T) {
	s := signals.New(0)
	var rec *signalstest.Recorder[int]
	t.Run("inner", func(t *testing.T) { rec = signalstest.Record(t, s) })
	s.Set(1)
	assert.Equal(t, []int{0}, rec.Values())
	assert.True(t, isClosed(rec.Effect().Done()))
}
