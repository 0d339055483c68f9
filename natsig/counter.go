package natsig

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosignals/signals"
	"github.com/nats-io/nats.go/jetstream"
)

// markTTL is how long a writer's mark stays in a shard after its last add:
// far longer than any retry of an add whose acknowledgement was lost.
const markTTL = time.Hour

// Counter is an int64 shared by every process that opens the same key.
// In a bucket made by CreateBucket, it is stored in shards key.0, key.1, …,
// written with compare-and-set: its value is the sum of all of them. In a
// counter bucket (CreateCounterBucket), it is the server-side counter at key,
// which the server adds to. Either way, an add whose acknowledgement is lost
// with the connection is retried without being counted twice: always with
// CAS shards, and with a counter bucket as long as the servers' duplicate
// detection holds (see the package documentation for when it does not).
//
// Within one process, concurrent adds are combined: a CAS Counter keeps one
// write in flight, which carries all the adds made while the previous one
// was in flight; a server-side Counter keeps up to 4, since its increments
// commute. All methods are safe for concurrent use.
type Counter struct {
	b      *Bucket
	key    string
	server bool // a server-side counter: adds are Nats-Incr messages
	shards int
	writer string // this instance's id in the shards' marks and message ids
	report func(error)
	tmo    time.Duration

	st     *signals.Signal[*shardSet] // replaced, never modified, on write
	value  *signals.Computed[int64]
	h      *hub
	status lazyStatus

	home     atomic.Int64 // shard written to first
	writes   atomic.Uint64
	conflict atomic.Uint64
	resent   atomic.Uint64 // adds sent again after an attempt that may have been stored

	mu       sync.Mutex
	pending  int64
	batch    *batch // the adds in pending, waiting for the next write
	op       uint64 // number of the last write started
	flushers int    // goroutines writing batches: at most 1 (CAS) or serverInFlight
	isClosed bool
	life     context.Context
	end      context.CancelFunc
	wg       sync.WaitGroup

	// known is the flusher's own view of the shards it wrote or read: it
	// never writes the signal, whose effects could call Add or Close and
	// wait for it. Only the flusher (one at a time, ordered by mu) uses it.
	known map[string]shard
}

// shardSet holds the shards known locally, by key.
type shardSet struct{ m map[string]shard }

// shard is a revision of one shard key as applied locally.
type shard struct {
	rev     uint64
	present bool
	raw     []byte
	v       shardValue
	err     error // raw did not decode; v is the previous value
}

// shardValue is what a shard key holds: the shard's part of the count, and
// for each writer that added to it in the last markTTL, the number of its
// last add. Reading a bare JSON number is also accepted.
type shardValue struct {
	N     int64           `json:"n"`
	Marks map[string]mark `json:"w,omitempty"`
}

type mark struct {
	Op uint64 `json:"op"`
	At int64  `json:"at"` // Unix seconds, to expire the mark
}

func (v *shardValue) UnmarshalJSON(data []byte) error {
	if n, err := strconv.ParseInt(string(bytes.TrimSpace(data)), 10, 64); err == nil {
		*v = shardValue{N: n}
		return nil
	}
	type plain shardValue
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*v = shardValue(p)
	return nil
}

// batch is a group of adds written together.
type batch struct {
	done chan struct{}
	err  error
	// The revision written, for the callers to apply: effects run on their
	// goroutines, as for Shared.Set.
	key string
	rev uint64
	raw []byte
}

// NewCounter opens the counter at key in b and waits until its current
// value is loaded, or ctx is done. Options: Shards (not on a counter
// bucket), AttemptTimeout, WithErrorHandler. Close releases it.
func NewCounter(ctx context.Context, b *Bucket, key string, opts ...CounterOption) (*Counter, error) {
	if b == nil {
		return nil, fmt.Errorf("natsig: NewCounter %q: nil bucket", key)
	}
	if !validKey(key) {
		return nil, fmt.Errorf("natsig: %w: %q", jetstream.ErrInvalidKey, key)
	}
	cfg, err := buildCounterConfig(key, opts)
	if err != nil {
		return nil, err
	}
	if b.counters && cfg.shardsSet {
		return nil, fmt.Errorf("natsig: NewCounter %q: Shards does not apply to counter bucket %q, where the server adds to one key", key, b.name)
	}
	if cfg.onError == nil {
		cfg.onError = b.report
	}
	var id [8]byte
	rand.Read(id[:])
	c := &Counter{
		b: b, key: key, server: b.counters, shards: cfg.shards, writer: hex.EncodeToString(id[:]),
		report: cfg.onError, tmo: cfg.attemptTimeout, known: map[string]shard{},
	}
	if c.server {
		c.shards = 1
	}
	c.life, c.end = context.WithCancel(context.Background())
	c.home.Store(mrand.Int64N(int64(c.shards)))
	c.st = signals.New(&shardSet{}, signals.WithName[*shardSet]("natsig shards of "+key))
	c.value = signals.NewComputed(func(t *signals.Tracker) int64 {
		var sum int64
		for _, s := range c.st.Get(t).m {
			sum += s.v.N
		}
		return sum
	}, signals.WithName[int64]("natsig counter "+key))
	h, covered := b.acquire(key, !c.server, c)
	c.h = h
	switch {
	case covered:
		err = h.waitReady(ctx, "counter "+key)
	case c.server:
		err = retryRead(ctx, "counter "+key, func(ctx context.Context) error {
			e, err := b.lastEntry(ctx, key)
			if err == nil && e != nil {
				c.applyShard(e.key, e.rev, e.present, e.value)
			}
			return err
		})
	default:
		err = retryRead(ctx, "counter "+key, func(ctx context.Context) error {
			return b.scan(ctx, key+".*", func(e *entry) {
				if _, ok := shardOf(e.key); ok {
					c.applyShard(e.key, e.rev, e.present, e.value)
				}
			})
		})
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Key returns the counter's key (a CAS counter's shards are key.0, key.1, …).
func (c *Counter) Key() string { return c.key }

// Value returns the count as a readable: the sum of the shards as known
// locally. Reading it never touches the network.
func (c *Counter) Value() signals.Readable[int64] { return c.value }

// Status returns the state of the link to the bucket: its watcher's, until
// the counter is closed.
func (c *Counter) Status() signals.Readable[Status] { return c.status.get(c.h) }

// CounterStats counts a Counter's writes to the bucket.
type CounterStats struct {
	Writes    uint64 // write attempts: compare-and-sets, or increments on a counter bucket
	Conflicts uint64 // attempts rejected because another writer got there first (CAS only)
	// Resent is the sum of the adds that a counter bucket's Counter sent
	// again after an attempt that may have been stored (its acknowledgement
	// was lost). The server drops such a retry as a duplicate, except in
	// the cases the README lists (a server that rebuilt its duplicate
	// detection); only these adds can ever count twice. Always 0 with CAS
	// shards, whose retries are exact.
	Resent uint64
}

// Stats returns how many writes this instance attempted and how many
// conflicted.
func (c *Counter) Stats() CounterStats {
	return CounterStats{Writes: c.writes.Load(), Conflicts: c.conflict.Load(), Resent: c.resent.Load()}
}

// Add adds n to the counter, and returns once the bucket has acknowledged
// it; Value then includes it. If ctx ends first, Add returns ctx's error but
// the add stays queued, and is applied exactly once unless the Counter is
// closed first. Errors other than ctx's and ErrClosed are permanent (an
// encoding failure, a closed connection); transient ones are retried.
func (c *Counter) Add(ctx context.Context, n int64) error {
	c.mu.Lock()
	if c.isClosed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.pending += n
	if c.batch == nil {
		c.batch = &batch{done: make(chan struct{})}
		// A new batch: every flusher is busy writing one. A CAS counter
		// waits for its one flusher (its writes would conflict with each
		// other); a server-side one, whose increments commute, keeps up to
		// serverInFlight writes in flight.
		if limit := c.maxFlushers(); c.flushers < limit {
			c.flushers++
			c.wg.Add(1)
			go c.flush()
		}
	}
	b := c.batch
	c.mu.Unlock()
	select {
	case <-b.done:
		if b.err == nil && b.rev != 0 {
			c.h.wrote(b.rev)
			c.applyShard(b.key, b.rev, true, b.raw)
		}
		return b.err
	case <-ctx.Done():
		return fmt.Errorf("natsig: add to %q (still queued): %w", c.key, ctx.Err())
	}
}

// Close fails the adds not yet written with ErrClosed (the write in flight,
// if any, is abandoned: it may or may not be applied), waits for the
// goroutine that writes, and releases the key as Shared.Close does. Value
// stays readable, and no longer changes.
func (c *Counter) Close() {
	c.mu.Lock()
	if c.isClosed {
		c.mu.Unlock()
		return
	}
	c.isClosed = true
	c.mu.Unlock()
	c.end()
	c.wg.Wait()
	c.status.close()
	c.b.release(c.h, c.key, !c.server, c)
}

// serverInFlight is how many writes a server-side Counter keeps in flight.
const serverInFlight = 4

func (c *Counter) maxFlushers() int {
	if c.server {
		return serverInFlight
	}
	return 1
}

// flush writes the pending adds, one batch at a time, until none is left.
func (c *Counter) flush() {
	defer c.wg.Done()
	for {
		c.mu.Lock()
		b, delta := c.batch, c.pending
		if b == nil {
			c.flushers--
			c.mu.Unlock()
			return
		}
		c.batch, c.pending = nil, 0
		c.op++
		op := c.op
		c.mu.Unlock()
		switch {
		case delta == 0:
		case c.server:
			b.key, b.rev, b.raw, b.err = c.increment(delta, op)
		default:
			b.key, b.rev, b.raw, b.err = c.write(delta, op)
		}
		close(b.done)
	}
}

// write adds delta to one shard, exactly once. It writes with a
// compare-and-set, marking the shard with (writer, op). After a conflict it
// may move to another shard; after an attempt whose outcome is unknown it
// stays on that shard, where the mark tells whether the attempt landed.
func (c *Counter) write(delta int64, op uint64) (key string, rev uint64, raw []byte, err error) {
	i := int(c.home.Load())
	pinned := false
	backoff := minBackoff
	for attempt := 0; ; attempt++ {
		if c.life.Err() != nil {
			return "", 0, nil, ErrClosed
		}
		key = c.key + "." + strconv.Itoa(i)
		rev, raw, err = c.tryWrite(key, delta, op)
		switch {
		case err == nil:
			return key, rev, raw, nil
		case isConflict(err):
			c.conflict.Add(1)
			if !pinned && c.shards > 1 {
				// Someone else writes here: go elsewhere, and stay there.
				i = (i + 1 + mrand.IntN(c.shards-1)) % c.shards
				c.home.Store(int64(i))
			}
			jitter(attempt)
		case isPermanent(err):
			return "", 0, nil, err
		default:
			if !notSent(err) {
				pinned = true
			}
			if !sleep(c.life, backoff) {
				return "", 0, nil, ErrClosed
			}
			backoff = min(2*backoff, maxBackoff)
		}
		// Read the shard again: the conflict's winner, or our own write.
		ctx, cancel := context.WithTimeout(c.life, c.tmo)
		c.fetch(ctx, key)
		cancel()
	}
}

// tryWrite makes one compare-and-set attempt on shard key, from the latest
// revision known locally, unless that revision shows op already applied. It
// returns the revision written, or the one found to include op.
func (c *Counter) tryWrite(key string, delta int64, op uint64) (uint64, []byte, error) {
	cur := c.st.Peek().m[key]
	if k := c.known[key]; k.rev > cur.rev {
		cur = k
	}
	if cur.err != nil {
		return 0, nil, cur.err // the shard's latest revision does not decode
	}
	if cur.v.Marks[c.writer].Op >= op {
		// An attempt whose acknowledgement was lost landed: cur includes it.
		return cur.rev, cur.raw, nil
	}
	now := time.Now()
	next := shardValue{N: cur.v.N + delta, Marks: make(map[string]mark, len(cur.v.Marks)+1)}
	for w, m := range cur.v.Marks {
		if now.Sub(time.Unix(m.At, 0)) < markTTL {
			next.Marks[w] = m
		}
	}
	next.Marks[c.writer] = mark{Op: op, At: now.Unix()}
	raw, err := json.Marshal(next)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: encode %q: %w", ErrCodec, key, err)
	}
	ctx, cancel := context.WithTimeout(c.life, c.tmo)
	defer cancel()
	c.writes.Add(1)
	rev, err := cas(ctx, c.b.kv, key, cur.present, cur.rev, raw)
	if err != nil {
		if c.life.Err() != nil {
			return 0, nil, ErrClosed
		}
		return 0, nil, err
	}
	c.known[key] = shard{rev: rev, present: true, raw: raw, v: next}
	return rev, raw, nil
}

// fetch reads shard key's latest revision from the stream leader into the
// flusher's view. Errors are left to the next attempt.
func (c *Counter) fetch(ctx context.Context, key string) {
	e, err := c.b.lastEntry(ctx, key)
	switch {
	case err != nil:
	case e == nil || !e.present:
		// Never written, deleted or purged: Create (present false) works,
		// from a revision higher than any known.
		rev := max(c.known[key].rev, c.st.Peek().m[key].rev) + 1
		if e != nil {
			rev = max(rev, e.rev)
		}
		c.known[key] = shard{rev: rev}
	default:
		k := shard{rev: e.rev, present: true, raw: bytes.Clone(e.value)}
		if err := json.Unmarshal(k.raw, &k.v); err != nil {
			k.err = fmt.Errorf("%w: decode %q revision %d: %w", ErrCodec, key, k.rev, err)
		}
		c.known[key] = k
	}
}

// deliver applies a revision from the bucket's watcher: of a shard, or of
// the key of a server-side counter.
func (c *Counter) deliver(key string, rev uint64, present bool, value []byte) {
	c.mu.Lock()
	closed := c.isClosed
	c.mu.Unlock()
	if closed {
		return
	}
	c.applyShard(key, rev, present, value)
}

// applyShard applies revision rev of shard key unless a later one was.
func (c *Counter) applyShard(key string, rev uint64, present bool, raw []byte) {
	next := shard{rev: rev, present: present}
	if present {
		next.raw = bytes.Clone(raw)
		var err error
		if c.server {
			next.v.N, err = decodeServerCounter(raw)
		} else {
			err = json.Unmarshal(raw, &next.v)
		}
		if err != nil {
			next.err = fmt.Errorf("%w: decode %q revision %d: %w", ErrCodec, key, rev, err)
		}
	}
	if next.err != nil && c.st.Peek().m[key].rev < rev {
		c.report(next.err)
	}
	c.st.Update(func(s *shardSet) *shardSet {
		cur := s.m[key]
		if cur.rev >= rev {
			return s // the same pointer: no change
		}
		n := next
		if n.err != nil {
			n.v = cur.v
		}
		m := maps.Clone(s.m)
		if m == nil {
			m = map[string]shard{}
		}
		m[key] = n
		return &shardSet{m}
	})
}
