package signals

import (
	"context"
	"slices"
	"sync"

	"github.com/gosignals/signals/internal/live"
)

// Subscribe returns a channel that receives r's value at once and then after
// every change, until ctx is done, when the channel is closed; the channel is
// also closed when a scope or context given in opts (WithScope, WithContext)
// ends, and at once, without a value, if one of them has already ended.
// Whichever ends first releases the others: an ended subscription is not
// kept, with r, by a context or scope that outlives it. It conflates:
// the channel holds at most one value, the latest, so a slow receiver skips
// intermediate values but always gets the last one, and writers never block
// on it. It is the bridge to select loops, pipelines and Server-Sent Events
// handlers. opts configure the effect that feeds the channel (for example
// Async, Throttle or WithEffectName). Subscribe(nil, …) panics.
func Subscribe[T any](ctx context.Context, r Readable[T], opts ...EffectOption) <-chan T {
	if ctx == nil {
		panic("signals: Subscribe with a nil context; use context.Background()")
	}
	if r == nil {
		panic("signals: Subscribe to a nil Readable")
	}
	m := &mailbox[T]{ch: make(chan T, 1)}
	live.Subscriptions.Add(1) // until close
	made := false
	defer func() {
		if !made { // bad options, or the first run panicked
			m.close()
		}
	}()
	// Whatever ends the effect (ctx, or a scope or context in opts) closes
	// the channel, or a receiver ranging over it would wait forever; and
	// stopping lets go of every registration, so that an ended subscription
	// is not kept by the contexts and scopes that outlive it.
	NewEffect(func(t *Tracker) { m.put(r.Get(t)) },
		append(slices.Clip(opts), withSubscription(ctx, m.close))...)
	made = true
	return m.ch
}

// mailbox is a one-slot channel whose sender replaces an unread value.
type mailbox[T any] struct {
	mu     sync.Mutex
	ch     chan T
	closed bool
}

func (m *mailbox[T]) put(v T) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	select {
	case m.ch <- v:
	default:
		select { // replace the unread value; only put sends
		case <-m.ch:
		default:
		}
		m.ch <- v
	}
}

func (m *mailbox[T]) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		close(m.ch)
		live.Subscriptions.Add(-1)
	}
}

// Feed sets s to every value received from ch, in order, until ch is closed
// (it returns nil) or ctx is done (it returns ctx.Err()). Run it on a
// goroutine of its own.
func Feed[T any](ctx context.Context, s *Signal[T], ch <-chan T) error {
	for {
		select {
		case v, ok := <-ch:
			if !ok {
				return nil
			}
			s.Set(v)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
