package signals

// Readable is what both Signal and Computed satisfy: code that only reads a
// value can take either.
type Readable[T any] interface {
	// Get returns the current value and, if t is not nil, records a
	// dependency of t's computation.
	Get(t *Tracker) T
	// Peek returns the current value without recording a dependency.
	Peek() T
}
