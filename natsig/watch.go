package natsig

import (
	"context"
	"errors"
	"fmt"
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
	createTimeout = 10 * time.Second // to start a watcher
	connPoll      = time.Second      // in case a status event was dropped
)

var errWatcherEnded = errors.New("natsig: the watcher ended unexpectedly")

// watch applies every entry of the keys matching filter, in stream order,
// for as long as it runs. It runs one KV watcher at a time. When the
// connection comes back after a loss, it replaces the watcher with one that
// resumes after the last stream sequence delivered, so that no revision is
// skipped (among those the bucket keeps) and none is delivered twice; the
// first watcher delivers the latest entry of every key, then new ones.
type watch struct {
	b      *Bucket
	filter string
	apply  func(jetstream.KeyValueEntry) // on the watch goroutine, in order
	report func(error)
	status *signals.Signal[Status]

	ready     chan struct{} // closed when first caught up
	readyOnce sync.Once
	cancel    context.CancelFunc
	done      chan struct{}
	applying  atomic.Bool // apply (and the effects it runs) in progress
}

func startWatch(b *Bucket, filter string, apply func(jetstream.KeyValueEntry), report func(error)) *watch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &watch{
		b:      b,
		filter: filter,
		apply:  apply,
		report: report,
		status: signals.New(Status{State: Connecting}, signals.WithName[Status]("natsig status of "+filter)),
		ready:  make(chan struct{}),
		cancel: cancel,
		done:   make(chan struct{}),
	}
	events := b.nc.StatusChanged() // before run reads the status: no change is missed
	go w.run(ctx, events)
	return w
}

// waitReady waits until the watcher has caught up for the first time.
func (w *watch) waitReady(ctx context.Context) error {
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		st := w.status.Peek()
		if st.Err != nil {
			return fmt.Errorf("natsig: %s not loaded (%v): %w", w.filter, st, ctx.Err())
		}
		return fmt.Errorf("natsig: %s not loaded: %w", w.filter, ctx.Err())
	}
}

// close stops the watch goroutine and waits for it to end, unless it is
// applying an entry: close may have been called by an effect that the entry
// triggered, on that very goroutine, which ends once the effect returns.
func (w *watch) close() {
	w.cancel()
	if !w.applying.Load() {
		<-w.done
	}
}

func (w *watch) setStatus(st Status) {
	prev := w.status.Peek()
	if prev.State == Closed {
		return
	}
	if st.State == Disconnected && prev.State != Disconnected {
		w.report(fmt.Errorf("%s: %w", w.filter, st.Err))
	}
	w.status.Set(st)
}

// watcher is a running KV watcher and what stops it.
type watcher struct {
	kw     jetstream.KeyWatcher
	cancel context.CancelFunc
}

// stop unsubscribes. Doing so deletes the consumer, a request that waits for
// the connection: while it is lost, that happens in the background.
func (kw *watcher) stop(connected bool) {
	if kw == nil {
		return
	}
	if connected {
		kw.kw.Stop()
		kw.cancel()
		return
	}
	go func() {
		kw.kw.Stop()
		kw.cancel()
	}()
}

func (w *watch) run(ctx context.Context, events chan nats.Status) {
	var (
		kw      *watcher
		seq     uint64 // last stream sequence delivered
		stale   bool   // the connection was lost since kw started
		backoff = minBackoff
		retry   = time.NewTimer(0) // start a watcher
		poll    = time.NewTicker(connPoll)
	)
	listener := events
	defer func() {
		retry.Stop()
		poll.Stop()
		kw.stop(w.b.nc.IsConnected())
		w.b.nc.RemoveStatusListener(listener)
		w.status.Set(Status{State: Closed})
		close(w.done)
	}()

	checkConn := func() {
		switch st := w.b.nc.Status(); st {
		case nats.CONNECTED:
			if stale {
				// Back after a loss: the consumer may be gone with the
				// server; start again where the last one stopped.
				kw.stop(true)
				kw, stale = nil, false
				backoff = minBackoff
				retry.Reset(0)
			}
		case nats.CLOSED:
			stale = true
			w.setStatus(Status{State: Disconnected, Err: fmt.Errorf("%w: %w", ErrDisconnected, nats.ErrConnectionClosed)})
		default:
			stale = true
			w.setStatus(Status{State: Disconnected, Err: ErrDisconnected})
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
		case <-retry.C:
			if kw != nil {
				break
			}
			if !w.b.nc.IsConnected() {
				checkConn() // the reconnection will start it
				break
			}
			stale = false
			w.setStatus(Status{State: Connecting, Err: w.status.Peek().Err})
			var err error
			kw, err = w.startWatcher(ctx, seq)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				err = fmt.Errorf("natsig: watch %s: %w", w.filter, err)
				w.report(err)
				w.setStatus(Status{State: Connecting, Err: err})
				retry.Reset(backoff)
				backoff = min(2*backoff, maxBackoff)
			}
		case e, ok := <-updates:
			switch {
			case !ok:
				// Not asked for: the library gave up on the consumer.
				kw.cancel()
				kw = nil
				w.report(fmt.Errorf("%s: %w", w.filter, errWatcherEnded))
				w.setStatus(Status{State: Connecting, Err: errWatcherEnded})
				retry.Reset(backoff)
				backoff = min(2*backoff, maxBackoff)
			case e == nil: // caught up
				backoff = minBackoff
				if !stale {
					w.setStatus(Status{State: Connected})
				}
				w.readyOnce.Do(func() { close(w.ready) })
			default:
				if ctx.Err() != nil {
					return // closed: apply nothing more
				}
				seq = max(seq, e.Revision())
				w.applying.Store(true)
				w.apply(e)
				w.applying.Store(false)
			}
		}
	}
}

// startWatcher starts a KV watcher that resumes after seq, or that delivers
// the latest entry of every key if seq is 0.
func (w *watch) startWatcher(ctx context.Context, seq uint64) (*watcher, error) {
	// The watcher's context must outlive its creation: it is used again
	// when the library recreates its consumer. Only the creation is bounded.
	wctx, cancel := context.WithCancel(ctx)
	timer := time.AfterFunc(createTimeout, cancel)
	var opts []jetstream.WatchOpt
	if seq > 0 {
		opts = append(opts, jetstream.ResumeFromRevision(seq+1))
	}
	kw, err := w.b.kv.Watch(wctx, w.filter, opts...)
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
