package natsig

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosignals/signals"
	"github.com/nats-io/nats.go/jetstream"
)

// Shared is a value held in one key of a bucket and mirrored into a local
// signal in every process that opened it. Reads are local. Writes go to the
// bucket, and the bucket's watcher applies every revision, whoever wrote
// it, in revision order, so that computeds and effects everywhere react to
// it.
//
// Shared implements signals.Readable: Get and Peek read the local value,
// and never touch the network. All methods are safe for concurrent use.
type Shared[T any] struct {
	b       *Bucket
	key     string
	codec   Codec[T]
	initial T

	// st holds the latest revision applied; it only moves forward.
	st     *signals.Signal[state[T]]
	value  *signals.Computed[T]
	h      *hub
	status lazyStatus

	closing atomic.Bool
}

// state is a revision of a key as applied locally.
type state[T any] struct {
	rev     uint64 // stream sequence of the entry (0: none seen yet)
	present bool   // false if the key does not exist or was deleted
	raw     []byte // the stored bytes, if present
	v       T      // raw decoded; the initial value if !present
	err     error  // raw did not decode: v is the previous value
}

// Open opens key in bucket b and waits until its current value is loaded,
// or ctx is done. The value is decoded with JSON unless WithCodec says
// otherwise. The key is watched by the bucket's one watcher, which starts
// with the first key opened and stops when the last one is closed. Close
// releases the key.
func Open[T any](ctx context.Context, b *Bucket, key string, opts ...KeyOption[T]) (*Shared[T], error) {
	if b == nil {
		return nil, fmt.Errorf("natsig: Open %q: nil bucket", key)
	}
	if !validKey(key) {
		return nil, fmt.Errorf("natsig: %w: %q", jetstream.ErrInvalidKey, key)
	}
	if b.counters {
		return nil, fmt.Errorf("natsig: Open %q: bucket %q is a counter bucket, whose keys only NewCounter opens", key, b.name)
	}
	cfg, err := buildKeyConfig(key, opts)
	if err != nil {
		return nil, err
	}
	s := &Shared[T]{b: b, key: key, codec: cfg.codec, initial: cfg.initial}
	s.st = signals.New(state[T]{v: s.initial},
		signals.WithEqual(func(a, b state[T]) bool { return a.rev == b.rev }),
		signals.WithName[state[T]]("natsig revision of "+key))
	sigOpts := append([]signals.Option[T]{signals.WithName[T]("natsig " + key)}, cfg.signalOpts...)
	s.value = signals.NewComputed(func(t *signals.Tracker) T { return s.st.Get(t).v }, sigOpts...)
	h, covered := b.acquire(key, false, s)
	s.h = h
	if covered {
		err = h.waitReady(ctx, "key "+key)
	} else {
		err = retryRead(ctx, "key "+key, func(ctx context.Context) error {
			e, err := b.lastEntry(ctx, key)
			if err == nil && e != nil {
				s.applyRaw(e.rev, e.present, e.value)
			}
			return err
		})
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// lazyStatus is the Status of an instance: its hub's, until it is closed.
// Its signal and computed are made on the first call to Status: most keys
// never need them, and they would double their memory.
type lazyStatus struct {
	mu     sync.Mutex
	closed bool
	sig    *signals.Signal[bool] // closed, once Status was called
	c      *signals.Computed[Status]
}

func (l *lazyStatus) get(h *hub) *signals.Computed[Status] {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.c == nil {
		closed := signals.New(l.closed)
		l.sig = closed
		l.c = signals.NewComputed(func(t *signals.Tracker) Status {
			if closed.Get(t) {
				return Status{State: Closed}
			}
			return h.status.Get(t)
		})
	}
	return l.c
}

// close makes the Status Closed.
func (l *lazyStatus) close() {
	l.mu.Lock()
	l.closed = true
	sig := l.sig
	l.mu.Unlock()
	if sig != nil {
		sig.Set(true) // runs the effects that depend on it
	}
}

// Key returns the key.
func (s *Shared[T]) Key() string { return s.key }

// Signal returns the local value as a signals.Readable: s itself.
func (s *Shared[T]) Signal() signals.Readable[T] { return s }

// Get returns the local value and, if t is not nil, records it as a
// dependency of t's computation.
func (s *Shared[T]) Get(t *signals.Tracker) T { return s.value.Get(t) }

// Peek returns the local value without recording a dependency.
func (s *Shared[T]) Peek() T { return s.value.Peek() }

// Revision returns the revision of the local value: the stream sequence of
// the key's entry it comes from, 0 if none was seen. It only grows.
func (s *Shared[T]) Revision() uint64 { return s.st.Peek().rev }

// Status returns the state of the link to the bucket, as a readable that
// effects can depend on. It is the bucket's watcher's: every key open
// through one Bucket reports the same, until it is closed.
func (s *Shared[T]) Status() signals.Readable[Status] { return s.status.get(s.h) }

// Close releases the key: the bucket's watcher stops delivering to it, and
// stops altogether if it was the bucket's last open key (Close then waits
// for its goroutine, except when called from an effect that the watcher
// runs). A revision being applied when Close is called may still be
// applied; none is after Close returns. The local value stays readable, and
// no longer changes. Writes fail with ErrClosed. Close is idempotent.
func (s *Shared[T]) Close() {
	if s.closing.Swap(true) {
		return
	}
	s.status.close()
	s.b.release(s.h, s.key, false, s)
}

func (s *Shared[T]) isClosed() bool { return s.closing.Load() }

// deliver applies a revision from the bucket's watcher.
func (s *Shared[T]) deliver(_ string, rev uint64, present bool, value []byte) {
	if s.isClosed() {
		return
	}
	s.applyRaw(rev, present, value)
}

// applyRaw applies revision rev of the key unless a later one was applied.
func (s *Shared[T]) applyRaw(rev uint64, present bool, raw []byte) state[T] {
	next := state[T]{rev: rev, present: present, v: s.initial}
	if present {
		next.raw = bytes.Clone(raw)
		v, err := s.codec.Unmarshal(raw)
		if err != nil {
			next.err = fmt.Errorf("%w: decode %q revision %d: %w", ErrCodec, s.key, rev, err)
		} else {
			next.v = v
		}
	}
	if next.err != nil && s.Revision() < rev {
		s.b.report(next.err)
	}
	var applied state[T]
	s.st.Update(func(cur state[T]) state[T] {
		if cur.rev >= rev {
			applied = cur
			return cur
		}
		if next.err != nil {
			next.v = cur.v
		}
		applied = next
		return next
	})
	return applied
}

// fetch reads the key's latest revision from the stream leader and applies
// it.
func (s *Shared[T]) fetch(ctx context.Context) (state[T], error) {
	e, err := s.b.lastEntry(ctx, s.key)
	switch {
	case err != nil:
		return state[T]{}, fmt.Errorf("natsig: get %q: %w", s.key, err)
	case e == nil:
		// Never written, or purged from the stream: Create handles both.
		cur := s.st.Peek()
		if cur.present {
			return state[T]{v: s.initial}, nil
		}
		return cur, nil
	}
	return s.applyRaw(e.rev, e.present, e.value), nil
}

// Set writes v to the key, and returns once the bucket has acknowledged it;
// the local value is then v or a later revision. Set does not retry: after
// an error wrapping ErrUnknownOutcome, v may or may not have been written.
func (s *Shared[T]) Set(ctx context.Context, v T) error {
	if s.isClosed() {
		return ErrClosed
	}
	raw, err := s.codec.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: encode %q: %w", ErrCodec, s.key, err)
	}
	rev, err := s.b.kv.Put(ctx, s.key, raw)
	if err != nil {
		return wrapWriteErr("put", s.key, err)
	}
	s.h.wrote(rev)
	s.applyRaw(rev, true, raw)
	return nil
}

// Update replaces the value with fn(current) atomically across processes:
// it writes with a compare-and-set on the revision fn's argument came from,
// and when another writer got there first, it reads the latest revision and
// calls fn again. fn must therefore be pure. Update returns once the bucket
// has acknowledged the write; the local value is then the new one or a later
// revision. If fn's result encodes to the current bytes, nothing is written.
//
// An error wrapping ErrUnknownOutcome means the acknowledgement was lost: the
// write may have been applied. Retrying is safe only if fn is idempotent,
// as Counter.Add's updates are.
func (s *Shared[T]) Update(ctx context.Context, fn func(T) T) error {
	if s.isClosed() {
		return ErrClosed
	}
	cur, fresh := s.st.Peek(), false
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("natsig: update %q: %w", s.key, err)
		}
		if cur.err != nil && fresh {
			return cur.err
		}
		if cur.err == nil {
			next := fn(cur.v)
			raw, err := s.codec.Marshal(next)
			if err != nil {
				return fmt.Errorf("%w: encode %q: %w", ErrCodec, s.key, err)
			}
			if cur.present && bytes.Equal(raw, cur.raw) && fresh {
				return nil // no change, and cur was the latest revision
			}
			if !cur.present || !bytes.Equal(raw, cur.raw) {
				rev, err := cas(ctx, s.b.kv, s.key, cur.present, cur.rev, raw)
				if err == nil {
					s.h.wrote(rev)
					s.applyRaw(rev, true, raw)
					return nil
				}
				if !isConflict(err) {
					return wrapWriteErr("update", s.key, err)
				}
				jitter(attempt)
			}
		}
		var err error
		if cur, err = s.fetch(ctx); err != nil {
			return err
		}
		fresh = true
	}
}

// cas writes raw to key if its latest revision is rev (present), or if it
// does not exist or was deleted (!present), and returns the new revision.
func cas(ctx context.Context, kv jetstream.KeyValue, key string, present bool, rev uint64, raw []byte) (uint64, error) {
	if present {
		return kv.Update(ctx, key, raw, rev)
	}
	return kv.Create(ctx, key, raw)
}

// jitter sleeps a little after a conflict, so that writers that collided
// do not collide again in lockstep.
func jitter(attempt int) {
	d := time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 5)))
	time.Sleep(d)
}
