package natsig

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosignals/signals"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	minBackoff    = 20 * time.Millisecond
	maxBackoff    = time.Second
	createTimeout = 2 * time.Second // to start a watcher, doubled at each failure up to maxCreate
	maxCreate     = 10 * time.Second
	connPoll      = time.Second // in case a status event was dropped
	probeEvery    = time.Second // when quiet, look for entries not delivered
	maxProbeGap   = 8           // ticks between probes of an idle bucket

	// leaderElectedPrefix is the subject prefix of the advisory a stream
	// publishes when it has elected a leader.
	leaderElectedPrefix = "$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED."
)

var (
	errWatcherEnded  = errors.New("natsig: the watcher ended unexpectedly")
	errLeaderChanged = errors.New("natsig: the stream's leader changed")
	errStalled       = errors.New("natsig: the watcher stalled (its consumer may have gone with a server)")
)

// A listener is an open Shared or Counter: the hub delivers to it the
// revisions of the keys it registered for, in stream order, on the hub's
// goroutine. deliver must apply a revision only if it is newer than the
// local one, and nothing once the listener is closed.
type listener interface {
	deliver(key string, rev uint64, present bool, value []byte)
}

// hub is the one watcher of a Bucket (see DESIGN.md): a KV watcher on every
// key, whose entries it routes to the listeners of the keys. It runs from
// the first acquire to the last release, and is not reused after that.
type hub struct {
	b      *Bucket
	status *signals.Signal[Status]

	ready     chan struct{} // closed when first caught up
	readyOnce sync.Once
	cancel    context.CancelFunc
	done      chan struct{}
	applying  atomic.Bool   // delivering (and running the effects it triggers)
	written   atomic.Uint64 // the highest sequence this process's writes were acknowledged at

	// Guarded by b.mu. The slices are never modified, only replaced, so
	// that run can deliver to them without the lock.
	exact       map[string][]listener // by key
	prefixes    map[string][]listener // CAS counters, by key: they get key.N
	n           int                   // registrations
	loadStarted bool                  // the first watcher (latest of every key) was started
}

// acquire registers l for key (for the shards key.N of a CAS counter if
// shards is set), starting the hub if none runs. covered reports that the
// hub's first watcher has not started yet, and so will deliver key's latest
// revision; otherwise l must load it (see DESIGN.md).
func (b *Bucket) acquire(key string, shards bool, l listener) (h *hub, covered bool) {
	var err error
	b.mu.Lock()
	defer func() {
		b.mu.Unlock()
		if err != nil { // the handler may open keys: not under b.mu
			b.report(err)
		}
	}()
	h = b.hub
	if h == nil {
		h, err = b.startHub()
		b.hub = h
	}
	m := h.exact
	if shards {
		m = h.prefixes
	}
	m[key] = append(slices.Clip(m[key]), l)
	h.n++
	return h, !h.loadStarted
}

// release unregisters l, and stops the hub if it was the last listener.
func (b *Bucket) release(h *hub, key string, shards bool, l listener) {
	b.mu.Lock()
	m := h.exact
	if shards {
		m = h.prefixes
	}
	ls := m[key]
	i := slices.Index(ls, l)
	if i < 0 {
		b.mu.Unlock()
		return
	}
	if len(ls) == 1 {
		delete(m, key)
	} else {
		m[key] = slices.Delete(slices.Clone(ls), i, i+1)
	}
	h.n--
	last := h.n == 0
	if last && b.hub == h {
		b.hub = nil
	}
	b.mu.Unlock()
	if last {
		h.stop()
	}
}

// startHub starts a hub. The error, to report, says it could not subscribe
// to leader changes: it runs without.
func (b *Bucket) startHub() (*hub, error) {
	ctx, cancel := context.WithCancel(context.Background())
	h := &hub{
		b:        b,
		status:   signals.New(Status{State: Connecting}, signals.WithName[Status]("natsig status of bucket "+b.name)),
		ready:    make(chan struct{}),
		cancel:   cancel,
		done:     make(chan struct{}),
		exact:    map[string][]listener{},
		prefixes: map[string][]listener{},
	}
	events := b.nc.StatusChanged() // before run reads the status: no change is missed
	leaders := make(chan *nats.Msg, 16)
	sub, err := b.nc.ChanSubscribe(leaderElectedPrefix+b.stream, leaders)
	if err != nil {
		// Without it, a leader change is noticed by the lag probe.
		err = fmt.Errorf("natsig: bucket %s: subscribe to leader changes: %w", b.name, err)
		sub = nil
	}
	go h.run(ctx, events, sub, leaders)
	return h, err
}

// waitReady waits until the hub has caught up for the first time.
func (h *hub) waitReady(ctx context.Context, what string) error {
	select {
	case <-h.ready:
		return nil
	case <-ctx.Done():
		if st := h.status.Peek(); st.Err != nil {
			return fmt.Errorf("natsig: %s not loaded (%v): %w", what, st, ctx.Err())
		}
		return fmt.Errorf("natsig: %s not loaded: %w", what, ctx.Err())
	}
}

// stop ends the hub's goroutine and waits for it, unless it is delivering:
// stop may have been called by an effect that the delivery runs, on that
// very goroutine, which ends once the effect returns.
func (h *hub) stop() {
	h.cancel()
	if !h.applying.Load() {
		<-h.done
	}
}

func (h *hub) setStatus(st Status) {
	prev := h.status.Peek()
	if st.State == Disconnected && prev.State != Disconnected {
		h.b.report(fmt.Errorf("bucket %s: %w", h.b.name, st.Err))
	}
	h.status.Set(st)
}

// shardOf returns the counter key of a CAS counter's shard key (key.N).
func shardOf(key string) (string, bool) {
	i := strings.LastIndexByte(key, '.')
	if i <= 0 {
		return "", false
	}
	if _, err := strconv.ParseUint(key[i+1:], 10, 16); err != nil {
		return "", false
	}
	return key[:i], true
}

// route delivers e to the listeners of its key.
func (h *hub) route(e jetstream.KeyValueEntry) {
	key := e.Key()
	h.b.mu.Lock()
	exact := h.exact[key]
	var shards []listener
	if len(h.prefixes) > 0 {
		if c, ok := shardOf(key); ok {
			shards = h.prefixes[c]
		}
	}
	h.b.mu.Unlock()
	if len(exact) == 0 && len(shards) == 0 {
		return
	}
	present := e.Operation() == jetstream.KeyValuePut
	h.applying.Store(true)
	defer h.applying.Store(false)
	for _, l := range exact {
		h.deliver(l, key, e.Revision(), present, e.Value())
	}
	for _, l := range shards {
		h.deliver(l, key, e.Revision(), present, e.Value())
	}
}

// deliver hands one revision to l. A panic (an effect's, raised again by the
// signal's write) is reported: it must not end the watching of every key.
func (h *hub) deliver(l listener, key string, rev uint64, present bool, value []byte) {
	defer func() {
		if p := recover(); p != nil {
			h.b.report(fmt.Errorf("natsig: applying %q revision %d: panic: %v", key, rev, p))
		}
	}()
	l.deliver(key, rev, present, value)
}

// watcher is a running KV watcher and what stops it.
type watcher struct {
	kw     jetstream.KeyWatcher
	cancel context.CancelFunc
}

// stop unsubscribes. Doing so deletes the consumer, a request that waits for
// the connection and for the JetStream meta leader (up to the JetStream API
// timeout while there is none). If wait is not set, or the connection is
// lost, that happens in the background.
func (kw *watcher) stop(wait bool) {
	if kw == nil {
		return
	}
	if wait {
		kw.kw.Stop()
		kw.cancel()
		return
	}
	go func() {
		kw.kw.Stop()
		kw.cancel()
	}()
}

// run applies every entry of the bucket, in stream order, for as long as the
// hub runs. It runs one KV watcher at a time. The first one delivers the
// latest entry of every key, then new ones. When the connection comes back
// after a loss, or the stream gets a new leader, it replaces the watcher
// with one that resumes after the last stream sequence delivered, so that no
// revision is skipped (among those the bucket keeps) and none is delivered
// twice.
func (h *hub) run(ctx context.Context, events chan nats.Status, leaderSub *nats.Subscription, leaders chan *nats.Msg) {
	b := h.b
	var (
		kw       *watcher
		seq      uint64 // last stream sequence delivered
		stale    bool   // the connection was lost since kw started
		backoff  = minBackoff
		failures int                // consecutive failures to start a watcher
		retry    = time.NewTimer(0) // start a watcher
		poll     = time.NewTicker(connPoll)

		// The lag probe (see the tick case).
		tick     = time.NewTicker(probeEvery)
		active   bool   // an entry arrived since the last tick
		pending  uint64 // an entry past seq known to exist at the last tick, 0 if none
		patience = 1    // quiet ticks with pending entries before kw counts as stalled
		quiet    int    // quiet ticks with pending entries so far
		idle     int    // quiet ticks with nothing pending since the last probe
		gap      = 1    // idle ticks between probes: doubles up to maxProbeGap while idle
		probing  bool
		probes   = make(chan uint64, 1)
		probeWG  sync.WaitGroup
	)
	listener := events
	defer func() {
		retry.Stop()
		poll.Stop()
		tick.Stop()
		probeWG.Wait() // ctx is done: it returns at once
		kw.stop(b.nc.IsConnected())
		if leaderSub != nil {
			leaderSub.Unsubscribe()
		}
		b.nc.RemoveStatusListener(listener)
		h.status.Set(Status{State: Closed})
		close(h.done)
	}()

	// A watcher being replaced is stopped in the background: its consumer's
	// deletion must not delay the new one (during a meta leader election,
	// it waits for the API timeout). The one running when the hub stops is
	// stopped before run returns, unless the connection is lost.
	restart := func(st Status) {
		kw.stop(false)
		kw = nil
		active, pending, quiet = false, 0, 0
		h.setStatus(st)
		retry.Reset(backoff)
		backoff = min(2*backoff, maxBackoff)
	}
	checkConn := func() {
		switch st := b.nc.Status(); st {
		case nats.CONNECTED:
			if stale {
				// Back after a loss: the consumer may be gone with the
				// server; start again where the last one stopped.
				kw.stop(false)
				kw, stale = nil, false
				backoff = minBackoff
				retry.Reset(0)
			}
		case nats.CLOSED:
			stale = true
			h.setStatus(Status{State: Disconnected, Err: fmt.Errorf("%w: %w", ErrDisconnected, nats.ErrConnectionClosed)})
		default:
			stale = true
			h.setStatus(Status{State: Disconnected, Err: ErrDisconnected})
		}
	}

	for {
		var updates <-chan jetstream.KeyValueEntry
		if kw != nil {
			updates = kw.kw.Updates()
		}
		select {
		case <-ctx.Done():
			return
		case _, ok := <-events:
			if !ok { // not expected: the library keeps it open
				events = nil
			}
			checkConn()
		case <-poll.C:
			checkConn()
		case <-leaders:
			// The consumer may have gone with the old leader: nats.go would
			// notice after two missed heartbeats (10s). Resume now.
			if kw != nil && !stale {
				backoff = minBackoff
				restart(Status{State: Connecting, Err: errLeaderChanged})
			}
		case <-tick.C:
			// A consumer can vanish without a word: an R1 consumer on a
			// server that stops, while the stream keeps its leader. nats.go
			// notices after two missed idle heartbeats (10s or more). The
			// hub notices an entry known to exist that is not delivered
			// while nothing else is: known because this process's write
			// was acknowledged at its sequence, or because the stream
			// leader, asked when the watcher is quiet, has it. Asking backs
			// off while the bucket stays idle.
			switch {
			case kw == nil || stale:
				pending, quiet = 0, 0
			case active:
				active, pending, quiet, idle, gap = false, 0, 0, 0, 1
			case pending > seq:
				if quiet++; quiet >= patience {
					b.report(fmt.Errorf("bucket %s: %w", b.name, errStalled))
					patience = min(2*patience, 8) // in case it is only slow
					restart(Status{Connecting, errStalled})
				}
			case h.written.Load() > seq:
				pending, quiet = h.written.Load(), 0
			case !probing:
				if idle++; idle >= gap {
					idle, gap = 0, min(2*gap, maxProbeGap)
					probing = true
					from := seq
					probeWG.Go(func() { probes <- h.probe(ctx, from) })
				}
			}
		case p := <-probes:
			probing = false
			if kw != nil && !active && p > seq {
				pending, quiet = p, 0
			}
		case <-retry.C:
			if kw != nil {
				break
			}
			if !b.nc.IsConnected() {
				checkConn() // the reconnection will start it
				break
			}
			stale = false
			if st := h.status.Peek(); st.State != Connecting {
				h.setStatus(Status{State: Connecting, Err: st.Err})
			}
			if seq == 0 {
				b.mu.Lock()
				h.loadStarted = true // listeners registered from now on load themselves
				b.mu.Unlock()
			}
			var err error
			kw, err = h.startWatcher(ctx, seq, min(createTimeout<<min(failures, 3), maxCreate))
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				failures++
				err = fmt.Errorf("natsig: watch bucket %s: %w", b.name, err)
				b.report(err)
				h.setStatus(Status{State: Connecting, Err: err})
				retry.Reset(backoff)
				backoff = min(2*backoff, maxBackoff)
			}
		case e, ok := <-updates:
			switch {
			case !ok:
				// Not asked for: the library gave up on the consumer.
				kw.cancel()
				kw = nil
				b.report(fmt.Errorf("bucket %s: %w", b.name, errWatcherEnded))
				h.setStatus(Status{State: Connecting, Err: errWatcherEnded})
				retry.Reset(backoff)
				backoff = min(2*backoff, maxBackoff)
			case e == nil: // caught up
				backoff, failures, patience = minBackoff, 0, 1
				if !stale {
					h.setStatus(Status{State: Connected})
				}
				h.readyOnce.Do(func() { close(h.ready) })
			default:
				if ctx.Err() != nil {
					return // stopped: apply nothing more
				}
				seq = max(seq, e.Revision())
				active = true
				h.route(e)
			}
		}
	}
}

// wrote tells the hub that a write of this process was acknowledged at
// sequence rev, which the watcher must therefore deliver.
func (h *hub) wrote(rev uint64) {
	for {
		cur := h.written.Load()
		if rev <= cur || h.written.CompareAndSwap(cur, rev) {
			return
		}
	}
}

// probe returns the sequence of the first entry of the bucket after seq,
// as the stream leader has it, or 0 if there is none or it cannot tell.
func (h *hub) probe(ctx context.Context, seq uint64) uint64 {
	ctx, cancel := context.WithTimeout(ctx, probeEvery)
	defer cancel()
	e, err := h.b.msgGet(ctx, msgGetRequest{Seq: seq + 1, NextFor: h.b.subjects + ">"})
	if err != nil || e == nil {
		return 0
	}
	return e.rev
}

// startWatcher starts a KV watcher on every key that resumes after seq, or
// that delivers the latest entry of every key if seq is 0. Its creation
// must take less than timeout.
func (h *hub) startWatcher(ctx context.Context, seq uint64, timeout time.Duration) (*watcher, error) {
	// The watcher's context must outlive its creation: it is used again
	// when the library recreates its consumer. Only the creation is bounded.
	wctx, cancel := context.WithCancel(ctx)
	timer := time.AfterFunc(timeout, cancel)
	var opts []jetstream.WatchOpt
	if seq > 0 {
		opts = append(opts, jetstream.ResumeFromRevision(seq+1))
	}
	kw, err := h.b.kv.WatchAll(wctx, opts...)
	if !timer.Stop() && err == nil {
		kw.Stop()
		err = context.DeadlineExceeded
	}
	if err != nil {
		cancel()
		return nil, err
	}
	return &watcher{kw: kw, cancel: cancel}, nil
}
