package signals_test

import (
	"runtime"
	"testing"
	"weak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosignals/signals"
)

// collected reports whether the object behind w is garbage-collected within
// a few cycles.
func collected[T any](w weak.Pointer[T]) bool {
	for range 10 {
		runtime.GC()
		if w.Value() == nil {
			return true
		}
	}
	return false
}

func TestItem12_Memory(t *testing.T) {
	src := signals.New(1)

	t.Run("an unobserved computed is collected after it was read", func(t *testing.T) {
		w := func() weak.Pointer[signals.Computed[int]] {
			c := signals.NewComputed(func(tr *signals.Tracker) int { return src.Get(tr) * 2 })
			mid := signals.NewComputed(func(tr *signals.Tracker) int { return c.Get(tr) + 1 })
			require.Equal(t, 3, mid.Peek())
			return weak.Make(c)
		}()
		assert.True(t, collected(w), "the source must not keep an unobserved computed alive")
		src.Set(2)
	})

	t.Run("a computed is collected once the effect observing it stops", func(t *testing.T) {
		wc, we := func() (weak.Pointer[signals.Computed[int]], weak.Pointer[signals.Effect]) {
			c := signals.NewComputed(func(tr *signals.Tracker) int { return src.Get(tr) * 2 })
			e := signals.NewEffect(func(tr *signals.Tracker) { c.Get(tr) })
			src.Set(src.Peek() + 1)
			e.Stop()
			return weak.Make(c), weak.Make(e)
		}()
		assert.True(t, collected(wc), "computed of a stopped effect")
		assert.True(t, collected(we), "stopped effect")
	})

	t.Run("a running effect stays alive without a reference to it", func(t *testing.T) {
		runs := 0
		we := func() weak.Pointer[signals.Effect] {
			c := signals.NewComputed(func(tr *signals.Tracker) int { return src.Get(tr) * 2 })
			return weak.Make(signals.NewEffect(func(tr *signals.Tracker) { runs++; c.Get(tr) }))
		}()
		runtime.GC()
		runtime.GC()
		src.Set(src.Peek() + 1)
		assert.Equal(t, 2, runs, "a live effect must keep running")
		e := we.Value()
		require.NotNil(t, e)
		e.Stop()
	})
}
