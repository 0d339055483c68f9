package signals_test

import (
	"context"
	"testing"

	"github.com/gosignals/signals"
)

// BenchmarkEffectCreateStop creates and stops an effect, unbound.
func BenchmarkEffectCreateStop(b *testing.B) {
	src := signals.New(0)
	fn := func(tr *signals.Tracker) { src.Get(tr) }
	b.ReportAllocs()
	for b.Loop() {
		signals.NewEffect(fn).Stop()
	}
}

// BenchmarkScopeEffectCreateStop creates and stops an effect in a
// long-lived scope and context, as a server does per request.
func BenchmarkScopeEffectCreateStop(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	scope := signals.NewScope(ctx)
	defer scope.Stop()
	src := signals.New(0)
	fn := func(tr *signals.Tracker) { src.Get(tr) }
	ctxOpt := signals.WithContext(ctx)
	b.ReportAllocs()
	for b.Loop() {
		scope.Effect(fn, ctxOpt).Stop()
	}
}

// BenchmarkScopeDeferCancel registers with a long-lived scope and
// unregisters.
func BenchmarkScopeDeferCancel(b *testing.B) {
	scope := signals.NewScope(context.Background())
	defer scope.Stop()
	stop := func() {}
	b.ReportAllocs()
	for b.Loop() {
		scope.Defer(stop)()
	}
}

// BenchmarkChildScope makes a child of a long-lived scope and stops it.
func BenchmarkChildScope(b *testing.B) {
	scope := signals.NewScope(context.Background())
	defer scope.Stop()
	b.ReportAllocs()
	for b.Loop() {
		scope.Child().Stop()
	}
}
