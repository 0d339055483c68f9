package signals

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/gosignals/signals/internal/core"
)

// WatchOption configures Watch.
type WatchOption struct {
	apply func(*watchConfig)
}

type watchConfig struct {
	immediate bool
	once      bool
	equal     any // func(a, b T) bool for Watch's T, or nil
	effect    []EffectOption
}

// Immediate makes Watch call its function once at the start too, with the
// current value as new and the zero value as old.
func Immediate() WatchOption {
	return WatchOption{apply: func(c *watchConfig) { c.immediate = true }}
}

// Once makes Watch stop after its function's first call (the immediate one,
// with Immediate).
func Once() WatchOption {
	return WatchOption{apply: func(c *watchConfig) { c.once = true }}
}

// WatchEqual replaces the equality by which Watch decides that the value
// changed: its function is called only when equal(new, old) is false, old
// being the value of the previous call. equal's type must match the watched
// value's, or Watch panics. WatchEqual(nil) panics.
func WatchEqual[T any](equal func(a, b T) bool) WatchOption {
	if equal == nil {
		panic("signals: WatchEqual(nil): pass an equality function")
	}
	return WatchOption{apply: func(c *watchConfig) { c.equal = equal }}
}

// WatchEffect passes options to the effect that Watch creates: a name, a
// Scheduler (Async, Debounce, Throttle), a context or a scope.
func WatchEffect(opts ...EffectOption) WatchOption {
	return WatchOption{apply: func(c *watchConfig) { c.effect = append(c.effect, opts...) }}
}

// Watch calls fn(new, old) each time r's value changes, old being the value
// it had at the previous call (or when Watch started), like Vue's watch and
// MobX's reaction: the way to act on a change without acting on the initial
// value. By default the value changed when it is not == to the old one
// (never equal for types that are not comparable: every change r reports
// then calls fn); WatchEqual replaces that. With Immediate, fn is also
// called once at the start, with the zero value as old; with Once, Watch
// stops after the first call.
//
// fn runs untracked: it receives no Tracker, and its reads record nothing.
// It runs as an effect's function would, in the effect Watch creates and
// returns (WatchEffect configures it), so its writes are batched and a
// panic reaches the writer, as an effect's does. Stop the returned effect
// to stop watching; it may be stopped from inside fn. Watch(nil, …) or a
// nil fn panics, as does a WatchEqual for another type than T.
func Watch[T any](r Readable[T], fn func(new, old T), opts ...WatchOption) *Effect {
	if r == nil {
		panic("signals: Watch of a nil Readable")
	}
	if fn == nil {
		panic("signals: Watch called with a nil function")
	}
	var cfg watchConfig
	for _, o := range opts {
		if o.apply == nil {
			panic("signals: zero WatchOption; build options with Immediate, Once, WatchEqual or WatchEffect")
		}
		o.apply(&cfg)
	}
	equal := defaultEqual[T]()
	if cfg.equal != nil {
		eq, ok := cfg.equal.(func(a, b T) bool)
		if !ok {
			panic(fmt.Sprintf("signals: Watch of a Readable[%T] given WatchEqual of %T", *new(T), cfg.equal))
		}
		equal = eq
	}

	var (
		self    atomic.Pointer[Effect]
		started bool
		done    atomic.Bool // Once: fn was called
		old     T
	)
	call := func(v, prev T) {
		if cfg.once {
			done.Store(true)
			if e := self.Load(); e != nil {
				defer e.Stop()
			}
		}
		fn(v, prev)
	}
	e := NewEffect(func(t *Tracker) {
		v := r.Get(t)
		if done.Load() {
			return
		}
		if !started {
			started, old = true, v
			if cfg.immediate {
				var zero T
				call(v, zero)
			}
			return
		}
		if equal != nil && equal(v, old) {
			return
		}
		prev := old
		old = v
		call(v, prev)
	}, cfg.effect...)
	self.Store(e)
	if done.Load() {
		e.Stop() // Once and Immediate: called inside NewEffect
	}
	return e
}

// WaitFor waits until pred holds for r's value and returns that value, or
// returns ctx.Err() once ctx is done, whichever comes first: MobX's when,
// in place of sleep-and-poll loops. pred is first called with the current
// value, then after each change of r; it runs in an effect (untracked, and
// not concurrently with itself) and must be quick. If pred or r's Get
// panics, WaitFor raises that panic on its caller's goroutine, not the
// writer's. The effect is stopped before WaitFor returns. A nil ctx, r or
// pred panics.
func WaitFor[T any](ctx context.Context, r Readable[T], pred func(T) bool) (T, error) {
	switch {
	case ctx == nil:
		panic("signals: WaitFor with a nil context; use context.Background()")
	case r == nil:
		panic("signals: WaitFor of a nil Readable")
	case pred == nil:
		panic("signals: WaitFor called with a nil predicate")
	}
	type outcome struct {
		v        T
		p        any
		panicked bool
	}
	got := make(chan outcome, 1)
	var once sync.Once
	finish := func(o outcome) { once.Do(func() { got <- o }) }
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	e := NewEffect(func(t *Tracker) {
		var v T
		var ok bool
		p, panicked := core.Call(func() {
			v = r.Get(t)
			ok = pred(v)
		})
		switch {
		case panicked:
			finish(outcome{p: p, panicked: true})
		case ok:
			finish(outcome{v: v})
		}
	}, WithEffectName("WaitFor"))
	defer e.Stop()
	select {
	case o := <-got:
		if o.panicked {
			panic(o.p)
		}
		return o.v, nil
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// Values returns an iterator over r's successive values: the current one
// first, then the value after each change, until ctx is done or the loop
// ends. It conflates, as Subscribe does: while the loop body runs, changes
// accumulate and the next iteration gets the latest value, so a slow body
// skips intermediate values but never misses the last one, and writers
// never wait for it. The body runs on the ranging goroutine, outside any
// effect.
//
// Each range over the iterator creates an effect that follows r, and stops
// it before the loop statement completes, however it ends (break, return,
// panic, ctx). A nil ctx or r panics.
func Values[T any](ctx context.Context, r Readable[T]) iter.Seq[T] {
	if ctx == nil {
		panic("signals: Values with a nil context; use context.Background()")
	}
	if r == nil {
		panic("signals: Values of a nil Readable")
	}
	return func(yield func(T) bool) {
		if ctx.Err() != nil {
			return
		}
		m := &mailbox[T]{ch: make(chan T, 1)}
		e := NewEffect(func(t *Tracker) { m.put(r.Get(t)) }, WithEffectName("Values"))
		defer e.Stop()
		for {
			select {
			case v := <-m.ch:
				if !yield(v) {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}
}
