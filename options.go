package signals

// Option configures a Signal or a Computed.
type Option[T any] struct {
	apply func(*options[T])
}

type options[T any] struct {
	equal     func(a, b T) bool
	userEqual bool
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
	return Option[T]{apply: func(o *options[T]) { o.equal, o.userEqual = equal, true }}
}

func buildOptions[T any](opts []Option[T]) options[T] {
	var o options[T]
	for _, opt := range opts {
		if opt.apply == nil {
			panic("signals: zero Option; build options with WithEqual")
		}
		opt.apply(&o)
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

type effectOptions struct{}
