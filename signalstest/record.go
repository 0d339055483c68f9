package signalstest

import (
	"context"
	"sync"
	"testing"

	"github.com/gosignals/signals"
)

// A Recorder keeps the successive values of a Readable, as an effect sees
// them: the value at once, then one value per run of the effect (so values
// conflated by a Batch, or by Debounce or Throttle, appear once). Its
// methods are safe for concurrent use.
type Recorder[T any] struct {
	effect *signals.Effect

	mu     sync.Mutex
	values []T
	more   chan struct{} // closed and replaced when a value is added
}

// Record starts an effect that records r's value, and stops it when t ends
// (t.Cleanup) unless Stop did before. opts configure the effect, for
// example signals.Async, signals.Debounce or signals.WithScope. Record
// panics if t or r is nil.
func Record[T any](t testing.TB, r signals.Readable[T], opts ...signals.EffectOption) *Recorder[T] {
	if t == nil || r == nil {
		panic("signalstest: Record needs a testing.TB and a Readable")
	}
	rec := &Recorder[T]{more: make(chan struct{})}
	rec.effect = signals.NewEffect(func(tr *signals.Tracker) { rec.add(r.Get(tr)) }, opts...)
	t.Cleanup(rec.effect.Stop)
	return rec
}

func (r *Recorder[T]) add(v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.values = append(r.values, v)
	close(r.more)
	r.more = make(chan struct{})
}

// Values returns a copy of the values recorded so far, oldest first.
func (r *Recorder[T]) Values() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]T(nil), r.values...)
}

// Len returns how many values were recorded.
func (r *Recorder[T]) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.values)
}

// Last returns the latest value recorded, and false if there is none (the
// effect was created stopped, say in a stopped scope).
func (r *Recorder[T]) Last() (v T, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.values) == 0 {
		return v, false
	}
	return r.values[len(r.values)-1], true
}

// Take returns the values recorded so far and forgets them, so that the
// next call returns only the values recorded after this one.
func (r *Recorder[T]) Take() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	vs := r.values
	r.values = nil
	return vs
}

// Wait waits until at least n values are held (recorded and not taken), or
// ctx is done, and returns a copy of them, or ctx.Err(). It is meant for
// effects that run on other goroutines (signals.Async and the like).
func (r *Recorder[T]) Wait(ctx context.Context, n int) ([]T, error) {
	for {
		r.mu.Lock()
		if len(r.values) >= n {
			vs := append([]T(nil), r.values...)
			r.mu.Unlock()
			return vs, nil
		}
		more := r.more
		r.mu.Unlock()
		select {
		case <-more:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Effect returns the effect that records.
func (r *Recorder[T]) Effect() *signals.Effect { return r.effect }

// Stop stops recording. It is idempotent.
func (r *Recorder[T]) Stop() { r.effect.Stop() }
