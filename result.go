package signals

// Result is a value or the error that kept it from being made: what a
// computed built with NewComputedErr holds, and what ResourceState.Result
// returns. Exactly one of Value and Err is meaningful: Value when Err is nil.
//
// Results compare with == by default (Err by identity), so a computed whose
// function returns the same value with a nil error again does not disturb
// its dependents, while a new error value always does.
type Result[T any] struct {
	Value T
	Err   error
}

// NewComputedErr returns a computed whose function reports failure as an
// error rather than a panic: it holds fn's value and error as a Result, and
// a failure is cached like a value, until a dependency changes. Readers
// decide what a failure means for them, for example an HTTP handler answers
// 500 with the cause:
//
//	page := signals.NewComputedErr(func(t *signals.Tracker) ([]byte, error) {
//		return render(movie.Get(t)) // render returns ([]byte, error)
//	})
//	r := page.Peek()
//	if r.Err != nil {
//		http.Error(w, r.Err.Error(), http.StatusInternalServerError)
//		return
//	}
//
// It is NewComputed with a function returning Result[T], so the computed
// is an ordinary *Computed: Readable, usable with Subscribe, Inspect and
// WithEqual (which compares Results). A Go function that can fail returns
// (T, error), and this keeps that shape instead of a second computed type
// whose Get returned two values, which could not be a Readable. Panics stay
// panics (contract item 10): they are for bugs, and errors for failures a
// reader is expected to handle. NewComputedErr(nil) panics.
func NewComputedErr[T any](fn func(t *Tracker) (T, error), opts ...Option[Result[T]]) *Computed[Result[T]] {
	if fn == nil {
		panic("signals: NewComputedErr called with a nil function")
	}
	return NewComputed(func(t *Tracker) Result[T] {
		v, err := fn(t)
		return Result[T]{Value: v, Err: err}
	}, opts...)
}
