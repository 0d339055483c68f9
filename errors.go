package signals

import "github.com/gosignals/signals/internal/core"

// ErrCycle is the errors.Is target of every cycle and runaway-loop panic: a
// computed that reads itself through its Tracker, and effects that keep
// re-triggering themselves without settling.
var ErrCycle error = core.ErrCycle
