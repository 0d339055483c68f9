package signals_test

import (
	"context"
	"testing"

	"github.com/gosignals/signals"
)

// BenchmarkResourceRead: the cost of reading a resource whose value is
// current, next to reading a clean computed (both untracked, from outside
// any computation, and tracked from a compute function's run).
func BenchmarkResourceRead(b *testing.B) {
	src := signals.New(1)
	comp := signals.NewComputed(func(t *signals.Tracker) int { return src.Get(t) * 2 })
	load := func(_ context.Context, p int) (int, error) { return p * 2, nil }
	res := signals.NewResource(func(t *signals.Tracker) int { return src.Get(t) }, load)
	defer res.Stop()
	lazy := signals.NewResource(func(t *signals.Tracker) int { return src.Get(t) }, load, signals.LoadOnDemand())
	defer lazy.Stop()
	for _, r := range []*signals.Resource[int, int]{res, lazy} {
		if _, err := r.Wait(context.Background()); err != nil {
			b.Fatal(err)
		}
	}

	b.Run("Computed.Peek", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkInt = comp.Peek()
		}
	})
	b.Run("Resource.Peek", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkInt = res.Peek().Value
		}
	})
	b.Run("Resource.Peek/LoadOnDemand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkInt = lazy.Peek().Value
		}
	})
	b.Run("Resource.Wait", func(b *testing.B) {
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			sinkInt, _ = res.Wait(ctx)
		}
	})
	// Tracked reads: an effect that reads 100 times per run, run by a write
	// to a signal it also reads.
	tracked := func(b *testing.B, read func(t *signals.Tracker)) {
		tick := signals.New(0)
		e := signals.NewEffect(func(t *signals.Tracker) {
			tick.Get(t)
			for range 100 {
				read(t)
			}
		})
		defer e.Stop()
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			tick.Set(i + 1)
		}
	}
	b.Run("Computed.Get×100", func(b *testing.B) {
		tracked(b, func(t *signals.Tracker) { sinkInt = comp.Get(t) })
	})
	b.Run("Resource.Get×100", func(b *testing.B) {
		tracked(b, func(t *signals.Tracker) { sinkInt = res.Get(t).Value })
	})
}
