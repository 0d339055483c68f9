package signals_test

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gosignals/signals"
)

// TestStress mixes every operation across goroutines: writes, updates,
// batches, reads, effects that write, effects created and stopped. It
// fails with a goroutine dump rather than hang, and checks at the end that
// every live effect's last observation matches a fresh read.
func TestStress(t *testing.T) {
	const workers = 8
	ops := 3000
	if testing.Short() {
		ops = 500
	}
	src := make([]*signals.Signal[int], 8)
	for i := range src {
		src[i] = signals.New(i)
	}
	pairs := make([]*signals.Computed[int], len(src))
	for i := range pairs {
		a, b := src[i], src[(i+1)%len(src)]
		pairs[i] = signals.NewComputed(func(tr *signals.Tracker) int { return a.Get(tr) + b.Get(tr) })
	}
	picks := make([]*signals.Computed[int], len(src))
	for i := range picks {
		sel, x, y := src[i], pairs[i], pairs[(i+3)%len(pairs)]
		picks[i] = signals.NewComputed(func(tr *signals.Tracker) int {
			if sel.Get(tr)%2 == 0 { // dynamic dependencies
				return x.Get(tr)
			}
			return y.Get(tr)
		})
	}
	total := signals.NewComputed(func(tr *signals.Tracker) int {
		s := 0
		for _, p := range picks {
			s += p.Get(tr)
		}
		return s
	})
	mirror := signals.New(0)
	// An effect that writes: mirror follows total.
	writer := signals.NewEffect(func(tr *signals.Tracker) { mirror.Set(total.Get(tr) % 1000) })
	defer writer.Stop()

	type watcher struct {
		read func() int
		last atomic.Int64
		eff  *signals.Effect
	}
	var watchers []*watcher
	watch := func(r signals.Readable[int]) {
		w := &watcher{read: r.Peek}
		w.eff = signals.NewEffect(func(tr *signals.Tracker) { w.last.Store(int64(r.Get(tr))) })
		watchers = append(watchers, w)
	}
	watch(total)
	watch(mirror)
	for _, p := range picks {
		watch(p)
	}

	var created, stopped atomic.Int64
	withDeadline(t, 2*time.Minute, func() {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(w), 7))
				for range ops {
					s := src[rng.IntN(len(src))]
					switch op := rng.IntN(10); op {
					case 0, 1:
						s.Set(rng.IntN(100))
					case 2, 3:
						s.Update(func(v int) int { return (v + 1) % 100 })
					case 4:
						signals.Batch(func() {
							for range 3 {
								src[rng.IntN(len(src))].Set(rng.IntN(100))
							}
							_ = total.Peek()
						})
					case 5, 6:
						_ = picks[rng.IntN(len(picks))].Peek() + total.Get(nil)
					case 7:
						// Effect bodies may run on another goroutine's flush:
						// they must not touch this worker's rng.
						p := pairs[rng.IntN(len(pairs))]
						e := signals.NewEffect(func(tr *signals.Tracker) {
							_ = p.Get(tr.Untracked()) + total.Get(tr)
						})
						created.Add(1)
						e.Stop()
						stopped.Add(1)
					case 8:
						// An effect that stops itself on its second run, which
						// may come before NewEffect returned.
						var runs atomic.Int32
						var self atomic.Pointer[signals.Effect]
						e := signals.NewEffect(func(tr *signals.Tracker) {
							s.Get(tr)
							if runs.Add(1) == 2 {
								if e := self.Load(); e != nil {
									e.Stop()
								}
							}
						})
						self.Store(e)
						s.Update(func(v int) int { return (v + 3) % 100 })
						e.Stop()
					case 9:
						_ = mirror.Peek()
					}
				}
			})
		}
		wg.Wait()
	})
	for i, w := range watchers {
		assert.Equal(t, int64(w.read()), w.last.Load(), "watcher %d did not see the final value", i)
		w.eff.Stop()
	}
	assert.Equal(t, total.Peek()%1000, mirror.Peek())
	assert.Equal(t, created.Load(), stopped.Load())
}
