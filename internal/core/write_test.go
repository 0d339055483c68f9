package core

import (
	"sync/atomic"
	"testing"
	"time"
)

// pairImpl is a computed that reads signal a twice, with a pause between
// the reads, and records whether it ever combined two different values.
type pairImpl struct {
	a           *Node
	val         *atomic.Int64 // a's value, stored the way the typed layer does
	first       chan struct{} // closed after the first read of the first run
	resume      chan struct{}
	once        atomic.Bool
	mixed, last atomic.Int64 // last: 10*first read + second read
}

func (p *pairImpl) read(t *Tracker) int64 {
	l := Track(t, p.a)
	for {
		v := p.val.Load()
		if Check(t, l) {
			return v
		}
	}
}

func (p *pairImpl) Compute(t *Tracker, compare bool) bool {
	x := p.read(t)
	if p.once.CompareAndSwap(false, true) {
		close(p.first)
		<-p.resume
	}
	y := p.read(t)
	if x != y {
		p.mixed.Add(1)
	}
	p.last.Store(x*10 + y)
	return true
}

func (p *pairImpl) Settle(bool) {}

// TestAReadDuringAWriteWaitsForItsStamp pauses a write between the epoch
// bump and the stamp (where the typed layer stores the value) while a run
// reads the written signal for the second time. The run sees the new epoch
// and must not take its first read for still current before the writer
// has stamped the signal: a computed would combine the values from before
// and after one write (contract items 5 and 6), an effect would not run
// again after a run that saw both.
func TestAReadDuringAWriteWaitsForItsStamp(t *testing.T) {
	for _, effect := range []bool{false, true} {
		name := map[bool]string{false: "computed", true: "effect"}[effect]
		t.Run(name, func(t *testing.T) {
			var a Node
			var val atomic.Int64
			val.Store(1)
			p := &pairImpl{a: &a, val: &val, first: make(chan struct{}), resume: make(chan struct{})}
			var s Sub
			if effect {
				InitEffect(&s, p, 0, nil, nil)
			} else {
				InitComputed(&s, p, 0)
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				if effect {
					StartEffect(&s)
				} else if _, panicked := Refresh(&s); panicked {
					t.Error("the computation panicked")
				}
			}()
			<-p.first // the run read a = 1 and waits

			var w Writer
			w.Lock(&a)
			w.Begin() // the epoch moved on; a's stamp not yet
			val.Store(2)
			close(p.resume) // the run reads a again: 2, under a new epoch
			select {
			case <-done: // without waiting for the writer it ends at once
			case <-time.After(100 * time.Millisecond):
			}
			w.Commit()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the run did not finish after the write")
			}
			if effect {
				Stop(&s)
			} else if n := p.mixed.Load(); n != 0 {
				t.Fatalf("a run combined a's values from before and after one write (%d times)", n)
			}
			if got := p.last.Load(); got != 22 {
				t.Fatalf("the last run read a = %d, then %d; want 2 both times", got/10, got%10)
			}
		})
	}
}
