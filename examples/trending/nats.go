package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/gosignals/signals"
	"github.com/gosignals/signals/natsig"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsCounters keep the counts in a NATS JetStream key-value bucket, one
// natsig.Counter per item (keys item.<id>.<shard>): every instance connected
// to the same bucket counts the same views, and its signals follow the
// bucket, so its ranking reacts to the views that all instances record.
type natsCounters struct {
	nc       *nats.Conn
	url      string
	counters []*natsig.Counter
	mirrors  []mirror // one per counter, made by follow
}

// openNATS connects to url and opens the counters of items 1 to items in
// bucket, creating it if needed.
func openNATS(ctx context.Context, url, bucket string, items, shards int, stdout io.Writer) (*natsCounters, error) {
	nc, err := nats.Connect(url, nats.Name("examples/trending"),
		nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond), nats.RetryOnFailedConnect(false))
	if err != nil {
		return nil, fmt.Errorf("-nats %s: %w", url, err)
	}
	c := &natsCounters{nc: nc, url: url}
	openCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	js, err := jetstream.New(nc)
	if err != nil {
		c.close()
		return nil, err
	}
	// logStatus reports the connection's state: the bucket's watcher need not.
	b, err := natsig.CreateBucket(openCtx, js, jetstream.KeyValueConfig{
		Bucket:      bucket,
		Description: "view counts of examples/trending",
	}, natsig.WithErrorHandler(func(error) {}))
	if err != nil {
		c.close()
		return nil, fmt.Errorf("-nats %s (is JetStream enabled? nats-server -js): %w", url, err)
	}
	for id := 1; id <= items; id++ {
		counter, err := natsig.NewCounter(openCtx, b, "item."+strconv.Itoa(id), natsig.Shards(shards))
		if err != nil {
			c.close()
			return nil, err
		}
		c.counters = append(c.counters, counter)
	}
	fmt.Fprintf(stdout, "counting in bucket %q of %s (%d shards per item)\n", bucket, url, shards)
	return c, nil
}

func (c *natsCounters) len() int { return len(c.counters) }

// add counts a view in the bucket, and brings it into the map before it
// returns. The effect that follows the counter would bring it too, but not
// always in time: when the bucket's watcher wrote the counter's new value
// first, the effect runs on the watcher's goroutine (see the package
// signals documentation), maybe after Add returned.
func (c *natsCounters) add(ctx context.Context, s *server, id int) error {
	if err := c.counters[id-1].Add(ctx, 1); err != nil {
		return err
	}
	c.mirrors[id-1].sync(s, id, c.counters[id-1].Value().Peek())
	return nil
}

// follow mirrors every counter into s.views, until ctx is done: each
// increase as views of the current bucket. The counts found at the start
// are views of the past, outside the window.
func (c *natsCounters) follow(ctx context.Context, s *server) {
	c.mirrors = make([]mirror, len(c.counters))
	for i, counter := range c.counters {
		id := i + 1
		signals.NewEffect(func(t *signals.Tracker) {
			c.mirrors[i].sync(s, id, counter.Value().Get(t))
		}, signals.WithContext(ctx), signals.WithEffectName("mirror item "+strconv.Itoa(id)))
	}
}

// mirror brings one counter's value into s.views. Its effect and add both
// call sync, from any goroutine and with values read at any time: only the
// part of a value above the highest one synced before counts, so that a
// view is added once, and an older value comes too late to count again.
// The counters here only grow; a lower value (a bucket purged by hand) is
// ignored, as that older one.
type mirror struct {
	mu      sync.Mutex
	seen    int64 // the highest value synced
	started bool  // whether seen holds a value of the counter
}

// sync adds the views of v not synced yet to item id. The first value a
// mirror syncs is the past: it counts in the item's total only.
func (m *mirror) sync(s *server, id int, v int64) {
	m.mu.Lock()
	past := !m.started
	n := v - m.seen
	if n > 0 {
		m.seen = v
	}
	m.started = true
	m.mu.Unlock()
	// Written after unlocking: the write may run effects, mirrors among
	// them, on this goroutine.
	if n <= 0 {
		return
	}
	if past {
		s.views.Update(id, func(tl tally, _ bool) tally { tl.Total += n; return tl })
		return
	}
	s.addViews(id, n)
}

// logStatus prints the state of the link to NATS whenever it changes, until
// ctx is done or the effect returned is stopped: the worst state among the
// counters.
func (c *natsCounters) logStatus(ctx context.Context, stdout io.Writer) *signals.Effect {
	status := signals.NewComputed(func(t *signals.Tracker) natsig.State {
		worst := natsig.Connected
		for _, counter := range c.counters {
			if st := counter.Status().Get(t).State; st != natsig.Connected && (worst == natsig.Connected || st > worst) {
				worst = st
			}
		}
		return worst
	}, signals.WithName[natsig.State]("nats status"))
	// Watch skips the initial state (connected: openNATS said so).
	return signals.Watch[natsig.State](status, func(st, _ natsig.State) { fmt.Fprintf(stdout, "nats: %v\n", st) },
		signals.WatchEffect(signals.WithContext(ctx), signals.WithEffectName("log nats status")))
}

func (c *natsCounters) close() {
	for _, counter := range c.counters {
		counter.Close()
	}
	c.nc.Close()
}

// syncWriter serializes writes to w.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
