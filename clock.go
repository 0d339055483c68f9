package signals

import (
	"fmt"
	"sync"
	"time"

	"github.com/gosignals/signals/internal/core"
)

// Clock is a signal holding the time that advances only while something
// observes it: for values that decay, such as counts over a sliding window,
// without a ticker running when nothing shows them. It satisfies Readable
// and Node.
// Its methods are safe for concurrent use.
//
// While an effect depends on the clock, directly or through computeds (see
// WithObserved), a goroutine sets it to the current time every d. When it
// gains its first observer it is set to the current time at once, so an
// observer that read an older time runs again right away; when it loses
// the last one the goroutine ends. While nothing observes it the clock
// stands still: Get and Peek return the time of its latest tick.
type Clock struct {
	sig *Signal[time.Time]
	d   time.Duration

	mu   sync.Mutex
	stop chan struct{} // closed to end the running ticker, nil when none runs
}

// NewClock returns a clock that ticks every d while observed, holding the
// current time until then. opts are those of a Signal[time.Time] (WithName,
// WithEqual; a WithObserved hook runs after the clock's own). d must be
// positive.
func NewClock(d time.Duration, opts ...Option[time.Time]) *Clock {
	if d <= 0 {
		panic(fmt.Sprintf("signals: NewClock(%v): the period must be positive", d))
	}
	c := &Clock{d: d}
	// The clock's hook comes first, so that a user's onFirst sees it set.
	all := append([]Option[time.Time]{withObservedFunc[time.Time](c.observed)}, opts...)
	c.sig = New(time.Now(), all...)
	return c
}

// Get returns the time of the latest tick and, if t is not nil, records the
// clock as a dependency of t's computation: the clock starts ticking when
// that makes an effect depend on it.
func (c *Clock) Get(t *Tracker) time.Time {
	if c == nil {
		panic("signals: Clock.Get called on a nil *Clock")
	}
	return c.sig.Get(t)
}

// Peek returns the time of the latest tick without recording a dependency.
func (c *Clock) Peek() time.Time {
	if c == nil {
		panic("signals: Clock.Peek called on a nil *Clock")
	}
	return c.sig.Peek()
}

// Period returns d, the time between two ticks.
func (c *Clock) Period() time.Duration {
	if c == nil {
		panic("signals: Clock.Period called on a nil *Clock")
	}
	return c.d
}

// A Clock is a Node: Inspect and Graph show it as the signal it is.
func (c *Clock) coreNode() *core.Node { return &c.sig.node }

// observed starts the ticker when the clock gains its first observer and
// stops it when it loses the last. The calls alternate and never overlap.
func (c *Clock) observed(on bool) {
	c.mu.Lock()
	if !on {
		if c.stop != nil {
			close(c.stop)
			c.stop = nil
		}
		c.mu.Unlock()
		return
	}
	if c.stop != nil { // cannot happen: the calls alternate
		c.mu.Unlock()
		return
	}
	stop := make(chan struct{})
	c.stop = stop
	c.mu.Unlock()
	c.sig.Set(time.Now())
	go c.tick(stop)
}

func (c *Clock) tick(stop <-chan struct{}) {
	t := time.NewTicker(c.d)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			select {
			case <-stop: // stopped while the tick was pending: stand still
				return
			default:
			}
			c.sig.Set(now)
		}
	}
}
