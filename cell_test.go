package signals_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gosignals/signals"
)

// quad fills a 32-byte cell held as a sequence of atomic words: a torn
// read would break its invariant.
type quad struct{ a, b, c, d int64 }

func (q quad) valid() bool { return q.b == q.a*2 && q.c == q.a*3 && q.d == -q.a }

func mkQuad(i int64) quad { return quad{i, 2 * i, 3 * i, -i} }

// TestCellsAreNeverTorn writes values of each cell form (one word, a
// sequence of words, a box) while other goroutines read them, directly and
// through a computed: every read must see a whole value.
func TestCellsAreNeverTorn(t *testing.T) {
	small := signals.New(int64(0))                                  // one word
	mid := signals.New(mkQuad(0))                                   // words under a sequence counter
	big := signals.New([]int64{0, 0})                               // a box
	derived := signals.NewComputed(func(tr *signals.Tracker) quad { // a computed's cell
		return mkQuad(mid.Get(tr).a)
	})
	var torn atomic.Int32
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if q := mid.Peek(); !q.valid() {
					torn.Add(1)
				}
				if q := derived.Peek(); !q.valid() {
					torn.Add(1)
				}
				if s := big.Peek(); s[0] != s[1] {
					torn.Add(1)
				}
				_ = small.Peek()
			}
		})
	}
	withDeadline(t, time.Minute, func() {
		for i := int64(1); i <= 20_000; i++ {
			small.Set(i)
			mid.Set(mkQuad(i))
			big.Set([]int64{i, i})
		}
	})
	close(stop)
	wg.Wait()
	assert.Zero(t, torn.Load(), "a read saw part of one value and part of another")
	assert.Equal(t, mkQuad(20_000), derived.Peek())
	assert.Equal(t, int64(20_000), small.Peek())
}
