package signals

import "context"

// Option configures a Signal or a Computed.
type Option[T any] struct {
	apply func(options[T]) options[T] // by value, so that options stay on the stack
}

type options[T any] struct {
	equal     func(a, b T) bool
	userEqual bool
	name      string
	observed  func(on bool) // WithObserved
}

// WithEqual replaces the default equality, which is == where T is comparable
// and "never equal" where it is not (slices, maps, funcs, and interface
// values whose dynamic types are not comparable; no panic). A write of a
// value equal to the current one changes nothing, and a computed whose new
// value equals its old one does not disturb its dependents.
//
// equal runs without any lock of this package held, so it may read other
// signals (untracked); it must be pure. WithEqual(nil) panics.
func WithEqual[T any](equal func(a, b T) bool) Option[T] {
	if equal == nil {
		panic("signals: WithEqual(nil): pass an equality function")
	}
	return Option[T]{apply: func(o options[T]) options[T] {
		o.equal, o.userEqual = equal, true
		return o
	}}
}

// WithName labels a Signal or Computed for error messages and debugging
// output.
func WithName[T any](name string) Option[T] {
	return Option[T]{apply: func(o options[T]) options[T] {
		o.name = name
		return o
	}}
}

func buildOptions[T any](opts []Option[T]) options[T] {
	var o options[T]
	for _, opt := range opts {
		if opt.apply == nil {
			panic("signals: zero Option; build options with WithEqual or WithName")
		}
		o = opt.apply(o)
	}
	if !o.userEqual {
		o.equal = defaultEqual[T]()
	}
	return o
}

// EffectOption configures an Effect.
type EffectOption struct {
	apply func(*effectOptions)
}

type effectOptions struct {
	name     string
	newSched func() Scheduler // one scheduler state per effect
	ctx      context.Context
	scope    *Scope
	onPanic  func(PanicInfo)
	tracer   Tracer
	subCtx   context.Context // Subscribe's own context
	onStop   func()          // Subscribe's: close the channel
}

func buildEffectOptions(opts []EffectOption) effectOptions {
	var o effectOptions
	for _, opt := range opts {
		if opt.apply == nil {
			panic("signals: zero EffectOption; build options with the functions of this package")
		}
		opt.apply(&o)
	}
	return o
}

// WithEffectName labels an effect for the panic handler, error messages and
// debugging output.
func WithEffectName(name string) EffectOption {
	return EffectOption{apply: func(o *effectOptions) { o.name = name }}
}
