package signals

import (
	"errors"

	"github.com/gosignals/signals/internal/core"
)

// ErrCycle is wrapped by every cycle and runaway-loop panic: a computed that
// reads itself through its Tracker, and effects that keep re-triggering
// themselves without settling. Test for it with errors.Is.
var ErrCycle error = errors.New("signals: cycle")

// The engine wraps the public error, so that errors.Is works on its panics.
func init() { core.ErrCycle = ErrCycle }
