package signals_test

import (
	"context"
	"testing"
	"weak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosignals/signals"
)

// A binding is one way to create something (an effect, a subscription or a
// scope) tied to a long-lived scope and a long-lived context, and to end it
// while they live on. make returns a probe, which nothing but the thing
// made refers to, and a function that ends it and waits until it has
// ended.
type binding struct {
	name string
	make func(env *longLived, probe *signals.Computed[int]) (end func())
}

// longLived is what outlives everything the bindings make: a server's
// scope and context, and a signal every probe reads.
type longLived struct {
	scope *signals.Scope
	ctx   context.Context
	src   *signals.Signal[int]
}

// read is an effect function that keeps probe alive and depends on it.
func read(probe *signals.Computed[int]) func(*signals.Tracker) {
	return func(tr *signals.Tracker) { probe.Get(tr) }
}

// drain waits until ch is closed.
func drain[T any](ch <-chan T) {
	for range ch {
	}
}

// bindings covers every way of tying effects, subscriptions and scopes to
// scopes and contexts: by a scope, by a context, by both, by nested scopes,
// by a run, each ended on its own or by what it is bound to.
var bindings = []binding{
	// Effects.
	{"effect/scope/Stop", func(env *longLived, p *signals.Computed[int]) func() {
		e := env.scope.Effect(read(p))
		return e.Stop
	}},
	{"effect/context/Stop", func(env *longLived, p *signals.Computed[int]) func() {
		e := signals.NewEffect(read(p), signals.WithContext(env.ctx))
		return e.Stop
	}},
	{"effect/both/Stop", func(env *longLived, p *signals.Computed[int]) func() {
		e := env.scope.Effect(read(p), signals.WithContext(env.ctx))
		return e.Stop
	}},
	{"effect/both/own context ends", func(env *longLived, p *signals.Computed[int]) func() {
		ctx, cancel := context.WithCancel(env.ctx)
		e := env.scope.Effect(read(p), signals.WithContext(ctx))
		return func() { cancel(); <-e.Done() }
	}},
	{"effect/nested scopes/Stop", func(env *longLived, p *signals.Computed[int]) func() {
		outer := env.scope.Child()
		e := outer.Child().Effect(read(p))
		return func() { e.Stop(); outer.Stop() }
	}},
	{"effect/nested scopes/inner scope stops", func(env *longLived, p *signals.Computed[int]) func() {
		outer := env.scope.Child()
		inner := outer.Child()
		inner.Effect(read(p), signals.WithContext(env.ctx))
		return func() { inner.Stop(); outer.Stop() }
	}},
	{"effect/scheduled/Stop", func(env *longLived, p *signals.Computed[int]) func() {
		own := signals.New(0)
		e := env.scope.Effect(func(tr *signals.Tracker) { own.Get(tr); p.Get(tr) },
			signals.Debounce(1<<62), signals.WithContext(env.ctx))
		own.Set(1) // a run is pending, for a century
		return e.Stop
	}},
	{"effect/run scope/next run", func(env *longLived, p *signals.Computed[int]) func() {
		again := signals.New(0)
		outer := env.scope.Effect(func(tr *signals.Tracker) {
			if again.Get(tr) == 0 {
				tr.Scope().Effect(read(p))
			}
		})
		return func() { again.Set(1); outer.Stop() }
	}},
	// Subscriptions.
	{"subscription/scope/scope stops", func(env *longLived, p *signals.Computed[int]) func() {
		conn := env.scope.Child()
		ch := signals.Subscribe(env.ctx, p, signals.WithScope(conn))
		<-ch
		return func() { conn.Stop(); drain(ch) }
	}},
	{"subscription/context/WithContext ends", func(env *longLived, p *signals.Computed[int]) func() {
		conn, cancel := context.WithCancel(context.Background())
		ch := signals.Subscribe(env.ctx, p, signals.WithContext(conn))
		<-ch
		return func() { cancel(); drain(ch) }
	}},
	{"subscription/context/own context ends", func(env *longLived, p *signals.Computed[int]) func() {
		req, cancel := context.WithCancel(env.ctx)
		ch := signals.Subscribe(req, p)
		<-ch
		return func() { cancel(); drain(ch) }
	}},
	{"subscription/both/own context ends", func(env *longLived, p *signals.Computed[int]) func() {
		req, cancel := context.WithCancel(context.Background())
		ch := signals.Subscribe(req, p, signals.WithScope(env.scope), signals.WithContext(env.ctx))
		<-ch
		return func() { cancel(); drain(ch) }
	}},
	{"subscription/nested scopes/outer scope stops", func(env *longLived, p *signals.Computed[int]) func() {
		outer := env.scope.Child()
		ch := signals.Subscribe(env.ctx, p, signals.WithScope(outer.Child()), signals.Async())
		<-ch
		return func() { outer.Stop(); drain(ch) }
	}},
	// Scopes.
	{"scope/child/Stop", func(env *longLived, p *signals.Computed[int]) func() {
		s := env.scope.Child()
		s.Effect(read(p))
		return s.Stop
	}},
	{"scope/context/Stop", func(env *longLived, p *signals.Computed[int]) func() {
		s := signals.NewScope(env.ctx)
		s.Effect(read(p))
		_ = s.Context()
		return s.Stop
	}},
	{"scope/context/context ends", func(env *longLived, p *signals.Computed[int]) func() {
		ctx, cancel := context.WithCancel(env.ctx)
		s := signals.NewScope(ctx)
		s.Defer(func() { p.Peek() })
		return func() { cancel(); <-s.Done() }
	}},
	{"scope/both/Stop", func(env *longLived, p *signals.Computed[int]) func() {
		s := signals.NewScope(env.ctx)
		leave := env.scope.Defer(s.Stop) // owned by the long-lived scope too,
		s.Defer(func() { leave() })      // which it leaves when it stops first
		s.Effect(read(p))
		return s.Stop
	}},
	{"scope/nested scopes/Stop", func(env *longLived, p *signals.Computed[int]) func() {
		outer := env.scope.Child()
		s := outer.Child()
		s.Child().Defer(func() { p.Peek() })
		_ = s.Context()
		return func() { s.Stop(); outer.Stop() }
	}},
}

// TestStoppedIsCollectable checks contract item 12 for every binding: once
// ended, what was made is garbage, though the scope and context it was
// bound to live on.
func TestStoppedIsCollectable(t *testing.T) {
	env := &longLived{src: signals.New(0)}
	var cancel context.CancelFunc
	env.ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	env.scope = signals.NewScope(env.ctx)
	defer env.scope.Stop()
	for _, b := range bindings {
		t.Run(b.name, func(t *testing.T) {
			w := func() weak.Pointer[signals.Computed[int]] {
				p := signals.NewComputed(func(tr *signals.Tracker) int { return env.src.Get(tr) })
				b.make(env, p)()
				return weak.Make(p)
			}()
			assert.True(t, collected(w), "kept alive after it ended")
		})
	}
	require.NoError(t, env.ctx.Err(), "the long-lived context lived on")
	select {
	case <-env.scope.Done():
		t.Fatal("the long-lived scope lived on")
	default:
	}
}

// TestRunScopeLetsGo checks that the effects a run owned are let go at the
// next run while the effect that ran lives on.
func TestRunScopeLetsGo(t *testing.T) {
	src, again := signals.New(0), signals.New(0)
	box := &struct{ p *signals.Computed[int] }{}
	outer := signals.NewEffect(func(tr *signals.Tracker) {
		again.Get(tr)
		if p := box.p; p != nil {
			tr.Scope().Effect(read(p))
		}
	})
	defer outer.Stop()
	w := func() weak.Pointer[signals.Computed[int]] {
		box.p = signals.NewComputed(func(tr *signals.Tracker) int { return src.Get(tr) })
		again.Set(1) // a run that makes an inner effect
		w := weak.Make(box.p)
		box.p = nil
		again.Set(2) // the next run: the inner effect is stopped
		return w
	}()
	assert.True(t, collected(w))
}

// TestStoppedScopeIsCollectable checks that the scopes themselves, not only
// what they own, are let go.
func TestStoppedScopeIsCollectable(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	server := signals.NewScope(ctx)
	defer server.Stop()
	for name, make := range map[string]func() *signals.Scope{
		"child":            server.Child,
		"grandchild":       func() *signals.Scope { return server.Child().Child() },
		"context":          func() *signals.Scope { return signals.NewScope(ctx) },
		"context, Context": func() *signals.Scope { s := signals.NewScope(ctx); s.Context(); return s },
	} {
		t.Run(name, func(t *testing.T) {
			w := func() weak.Pointer[signals.Scope] {
				s := make()
				s.Stop()
				return weak.Make(s)
			}()
			assert.True(t, collected(w))
		})
	}
}
