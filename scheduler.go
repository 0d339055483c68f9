package signals

import "github.com/gosignals/signals/internal/core"

// Batch runs fn and defers effects until the outermost Batch returns, so that
// several writes cause one run of each affected effect. Reads inside fn see
// the new values, computeds included. Batches nest. Effects are also held
// back while any other goroutine is inside a Batch: a Batch defers effects,
// it is not a transaction, and its writes are visible to other goroutines at
// once. If fn panics, the effects still run before the panic continues.
// Batch(nil) panics.
func Batch(fn func()) {
	if fn == nil {
		panic("signals: Batch called with a nil function")
	}
	core.BeginBatch()
	defer core.EndBatch()
	fn()
}
