package natsig_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosignals/signals"
	"github.com/gosignals/signals/natsig"
	"github.com/gosignals/signals/natsig/natsigtest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// scale reads NATSIG_SOAK_SCALE (default 1), which multiplies the size of
// the tests that have one, for longer soaks.
func scale() int {
	n, err := strconv.Atoi(os.Getenv("NATSIG_SOAK_SCALE"))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// consumers returns the number of consumers on bucket b's stream.
func consumers(t testing.TB, b *natsig.Bucket) int {
	t.Helper()
	st, err := b.KeyValue().Status(ctx(t, 5*time.Second))
	require.NoError(t, err)
	info := st.(interface{ StreamInfo() *jetstream.StreamInfo }).StreamInfo()
	return info.State.Consumers
}

// clientGoroutines returns the stacks of the goroutines of this process
// that are not the embedded NATS servers'.
func clientGoroutines() []string {
	buf := make([]byte, 8<<20)
	var out []string
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if !strings.Contains(g, "nats-server/v2/server.") {
			out = append(out, g)
		}
	}
	return out
}

// warmUp opens and closes a key of another bucket on nc, so that what a
// connection starts once (and keeps) runs before a test counts goroutines.
// That bucket's watcher must be gone after it.
func warmUp(t *testing.T, nc *nats.Conn) {
	t.Helper()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	b, err := natsig.CreateBucket(ctx(t, 10*time.Second), js, jetstream.KeyValueConfig{Bucket: "warm"})
	require.NoError(t, err)
	s, err := natsig.Open[int](ctx(t, 10*time.Second), b, "warm")
	require.NoError(t, err)
	require.NoError(t, s.Set(ctx(t, 5*time.Second), 1))
	s.Close()
	eventually(t, 5*time.Second, func() bool { return consumers(t, b) == 0 }, "the warm-up's watcher is gone")
}

// TestManyKeysOneWatcher opens 10,000 keys in one process: they share one
// consumer and a bounded number of goroutines, writes from another process
// reach them, and closing them releases everything.
func TestManyKeysOneWatcher(t *testing.T) {
	watchdog(t, time.Duration(60*scale())*time.Second)
	srv := natsigtest.Start(t)
	b, nc := bucket(t, srv, "many")
	wb, _ := bucket(t, srv, "many")
	warmUp(t, nc)
	leaks := goleak.IgnoreCurrent()
	base := clientGoroutines()

	n := 10_000 * scale()
	if testing.Short() {
		n = 1000
	}
	// Some keys exist before the watcher starts, others are written later.
	for i := range 50 {
		_, err := wb.KeyValue().Put(ctx(t, 5*time.Second), fmt.Sprint("k", i*7), []byte(strconv.Itoa(-i*7)))
		require.NoError(t, err)
	}
	keys := make([]*natsig.Shared[int], n)
	start := time.Now()
	var wg sync.WaitGroup
	const openers = 8
	for g := range openers {
		wg.Go(func() {
			for i := g; i < n; i += openers {
				s, err := natsig.Open[int](ctx(t, 30*time.Second), b, fmt.Sprint("k", i), natsig.WithInitial(i))
				if !assert.NoError(t, err) {
					return
				}
				keys[i] = s
			}
		})
	}
	wg.Wait()
	require.False(t, t.Failed())
	t.Logf("opened %d keys in %v", n, time.Since(start).Round(time.Millisecond))
	for i := range 50 {
		assert.Equal(t, -i*7, keys[i*7].Peek(), "key k%d holds what was written before it was opened", i*7)
	}
	assert.Equal(t, 1, keys[1].Peek(), "an absent key holds its initial value")
	assert.Equal(t, 1, consumers(t, b), "one consumer for every key of the bucket")
	goroutines := clientGoroutines()
	t.Logf("%d goroutines for %d open keys", len(goroutines)-len(base), n)
	// The hub, and the watcher's subscription and context in nats.go.
	assert.LessOrEqual(t, len(goroutines)-len(base), 3, "a bounded number of goroutines:\n%s",
		strings.Join(goroutines, "\n\n"))

	// Writes from another connection reach the keys they were made to, and
	// effects on them.
	var hits atomic.Int64
	sample := rand.Perm(n)[:100]
	var effects []*signals.Effect
	for _, i := range sample {
		first := true
		effects = append(effects, signals.NewEffect(func(tr *signals.Tracker) {
			keys[i].Get(tr)
			if !first {
				hits.Add(1)
			}
			first = false
		}))
	}
	for _, i := range sample {
		_, err := wb.KeyValue().Put(ctx(t, 5*time.Second), fmt.Sprint("k", i), []byte(strconv.Itoa(10*n+i)))
		require.NoError(t, err)
	}
	for _, i := range sample {
		eventually(t, 10*time.Second, func() bool { return keys[i].Peek() == 10*n+i }, "key k%d: %d", i, keys[i].Peek())
	}
	eventually(t, 5*time.Second, func() bool { return hits.Load() == int64(len(sample)) }, "effects ran: %d", hits.Load())
	for _, e := range effects {
		e.Stop()
	}

	for _, s := range keys {
		s.Close()
	}
	assert.Equal(t, natsig.Closed, keys[0].Status().Peek().State)
	eventually(t, 5*time.Second, func() bool { return consumers(t, b) == 0 }, "the consumer is deleted with the last key")
	goleak.VerifyNone(t, leaks)
}

// The watcher stops with the bucket's last key and starts again with the
// next one, which then loads the current values.
func TestWatcherStopsWithLastKeyAndRestarts(t *testing.T) {
	watchdog(t, time.Duration(60*scale())*time.Second)
	srv := natsigtest.Start(t)
	b, nc := bucket(t, srv, "t")
	wb, _ := bucket(t, srv, "t")
	warmUp(t, nc)
	leaks := goleak.IgnoreCurrent()

	a, err := natsig.Open[string](ctx(t, 10*time.Second), b, "a")
	require.NoError(t, err)
	c, err := natsig.NewCounter(ctx(t, 10*time.Second), b, "c")
	require.NoError(t, err)
	assert.Equal(t, 1, consumers(t, b))
	a.Close()
	assert.Equal(t, natsig.Closed, a.Status().Peek().State, "a closed instance reports Closed")
	assert.Equal(t, natsig.Connected, c.Status().Peek().State, "the other keys stay connected")
	assert.Equal(t, 1, consumers(t, b), "the watcher runs while a key is open")
	c.Close()
	eventually(t, 5*time.Second, func() bool { return consumers(t, b) == 0 }, "the last Close stops the watcher")
	goleak.VerifyNone(t, leaks)

	// Written while nothing was open.
	_, err = wb.KeyValue().Put(ctx(t, 5*time.Second), "a", []byte(`"later"`))
	require.NoError(t, err)
	_, err = wb.KeyValue().Put(ctx(t, 5*time.Second), "c.3", []byte(`7`))
	require.NoError(t, err)
	a, err = natsig.Open[string](ctx(t, 10*time.Second), b, "a")
	require.NoError(t, err)
	defer a.Close()
	assert.Equal(t, "later", a.Peek())
	assert.Equal(t, natsig.Connected, a.Status().Peek().State)
	c, err = natsig.NewCounter(ctx(t, 10*time.Second), b, "c")
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, int64(7), c.Value().Peek())
	require.NoError(t, a.Set(ctx(t, 5*time.Second), "again"))
	eventually(t, 5*time.Second, func() bool { return consumers(t, b) == 1 }, "one watcher again")
}

// A key opened while the bucket's watcher runs loads its current value,
// whatever happened to it before: written, deleted, never written, or the
// shards of a counter, including shards beyond the opener's own count.
func TestOpenWhileTheWatcherRuns(t *testing.T) {
	watchdog(t, time.Duration(60*scale())*time.Second)
	srv := natsigtest.Start(t)
	b, _ := bucket(t, srv, "t")
	wb, _ := bucket(t, srv, "t")
	first, err := natsig.Open[int](ctx(t, 10*time.Second), b, "first")
	require.NoError(t, err)
	defer first.Close()

	kv := wb.KeyValue()
	_, err = kv.Put(ctx(t, 5*time.Second), "written", []byte("5"))
	require.NoError(t, err)
	_, err = kv.Put(ctx(t, 5*time.Second), "deleted", []byte("6"))
	require.NoError(t, err)
	require.NoError(t, kv.Delete(ctx(t, 5*time.Second), "deleted"))
	for _, k := range []string{"views.0", "views.3", "views.20"} {
		_, err = kv.Put(ctx(t, 5*time.Second), k, []byte("10"))
		require.NoError(t, err)
	}
	_, err = kv.Put(ctx(t, 5*time.Second), "views.total", []byte("1000"))
	require.NoError(t, err)

	w, err := natsig.Open[int](ctx(t, 10*time.Second), b, "written")
	require.NoError(t, err)
	defer w.Close()
	assert.Equal(t, 5, w.Peek())
	assert.NotZero(t, w.Revision())
	d, err := natsig.Open[int](ctx(t, 10*time.Second), b, "deleted", natsig.WithInitial(-1))
	require.NoError(t, err)
	defer d.Close()
	assert.Equal(t, -1, d.Peek())
	require.NoError(t, d.Update(ctx(t, 5*time.Second), func(n int) int { return n + 2 }), "Update recreates a deleted key")
	assert.Equal(t, 1, d.Peek())
	nw, err := natsig.Open[int](ctx(t, 10*time.Second), b, "never", natsig.WithInitial(3))
	require.NoError(t, err)
	defer nw.Close()
	assert.Equal(t, 3, nw.Peek())
	assert.Zero(t, nw.Revision())
	c, err := natsig.NewCounter(ctx(t, 10*time.Second), b, "views", natsig.Shards(2))
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, int64(30), c.Value().Peek(), "every shard, not just the opener's, and no other key")

	// And they follow later writes.
	_, err = kv.Put(ctx(t, 5*time.Second), "written", []byte("8"))
	require.NoError(t, err)
	_, err = kv.Put(ctx(t, 5*time.Second), "views.7", []byte("1"))
	require.NoError(t, err)
	eventually(t, 5*time.Second, func() bool { return w.Peek() == 8 && c.Value().Peek() == 31 },
		"written %d, views %d", w.Peek(), c.Value().Peek())
}

// Two instances of one key in one bucket both follow it, and closing one
// leaves the other.
func TestTwoInstancesOfOneKey(t *testing.T) {
	watchdog(t, time.Duration(60*scale())*time.Second)
	srv := natsigtest.Start(t)
	b, _ := bucket(t, srv, "t")
	x, err := natsig.Open[int](ctx(t, 10*time.Second), b, "k")
	require.NoError(t, err)
	y, err := natsig.Open[int](ctx(t, 10*time.Second), b, "k")
	require.NoError(t, err)
	defer y.Close()
	require.NoError(t, x.Set(ctx(t, 5*time.Second), 1))
	eventually(t, 5*time.Second, func() bool { return y.Peek() == 1 }, "y sees x's write")
	x.Close()
	require.NoError(t, y.Set(ctx(t, 5*time.Second), 2))
	_, err = b.KeyValue().Put(ctx(t, 5*time.Second), "k", []byte("3"))
	require.NoError(t, err)
	eventually(t, 5*time.Second, func() bool { return y.Peek() == 3 }, "y follows the key")
	assert.Equal(t, 1, x.Peek(), "a closed instance no longer changes")
}

// A panicking effect run by a revision is reported, and does not stop the
// watcher.
func TestPanickingEffectDoesNotStopTheWatcher(t *testing.T) {
	watchdog(t, time.Duration(60*scale())*time.Second)
	srv := natsigtest.Start(t)
	var log errorLog
	b, _ := bucket(t, srv, "t", log.handler())
	wb, _ := bucket(t, srv, "t")
	a, err := natsig.Open[int](ctx(t, 10*time.Second), b, "a")
	require.NoError(t, err)
	defer a.Close()
	other, err := natsig.Open[int](ctx(t, 10*time.Second), b, "other")
	require.NoError(t, err)
	defer other.Close()
	e := signals.NewEffect(func(t *signals.Tracker) {
		if a.Get(t) == 13 {
			panic("unlucky")
		}
	})
	defer e.Stop()
	_, err = wb.KeyValue().Put(ctx(t, 5*time.Second), "a", []byte("13"))
	require.NoError(t, err)
	_, err = wb.KeyValue().Put(ctx(t, 5*time.Second), "other", []byte("1"))
	require.NoError(t, err)
	eventually(t, 5*time.Second, func() bool { return other.Peek() == 1 }, "the watcher goes on")
	assert.Equal(t, 13, a.Peek())
	var found bool
	for _, err := range log.all() {
		found = found || strings.Contains(err.Error(), "unlucky")
	}
	assert.True(t, found, "the panic was reported: %v", log.all())
}

// A watcher whose consumer disappears without a word (as an R1 consumer
// does with the server that holds it) is replaced within seconds, not after
// nats.go's missed heartbeats (10s), whether this process writes (its
// acknowledged write is missing) or only reads (the stream leader has an
// entry it does not); Status shows it.
func TestStalledWatcherIsReplaced(t *testing.T) {
	watchdog(t, time.Duration(60*scale())*time.Second)
	for _, writer := range []bool{false, true} {
		t.Run(map[bool]string{false: "reader", true: "writer"}[writer], func(t *testing.T) {
			srv := natsigtest.Start(t)
			var log errorLog
			b, nc := bucket(t, srv, "t", log.handler())
			wb, _ := bucket(t, srv, "t")
			s, err := natsig.Open[int](ctx(t, 10*time.Second), b, "k")
			require.NoError(t, err)
			defer s.Close()
			var stalled atomic.Bool
			e := signals.NewEffect(func(t *signals.Tracker) {
				if st := s.Status().Get(t); st.State == natsig.Connecting {
					stalled.Store(true)
				}
			})
			defer e.Stop()

			js, err := jetstream.New(nc)
			require.NoError(t, err)
			st, err := js.Stream(ctx(t, 5*time.Second), "KV_t")
			require.NoError(t, err)
			names := st.ConsumerNames(ctx(t, 5*time.Second))
			var deleted int
			for name := range names.Name() {
				require.NoError(t, st.DeleteConsumer(ctx(t, 5*time.Second), name))
				deleted++
			}
			require.Equal(t, 1, deleted, "the hub's one consumer")

			start := time.Now()
			if writer {
				require.NoError(t, s.Set(ctx(t, 5*time.Second), 1)) // applied locally at once
				_, err = wb.KeyValue().Put(ctx(t, 5*time.Second), "k", []byte("2"))
			} else {
				_, err = wb.KeyValue().Put(ctx(t, 5*time.Second), "k", []byte("2"))
			}
			require.NoError(t, err)
			eventually(t, 6*time.Second, func() bool { return s.Peek() == 2 }, "the write arrives: %d", s.Peek())
			t.Logf("arrived after %v", time.Since(start).Round(time.Millisecond))
			assert.True(t, stalled.Load(), "Status showed the watcher restarting")
			eventually(t, 5*time.Second, func() bool { return s.Status().Peek().State == natsig.Connected }, "connected")
			var reported bool
			for _, err := range log.all() {
				reported = reported || strings.Contains(err.Error(), "stalled")
			}
			assert.True(t, reported, "the error handler heard of it: %v", log.all())
		})
	}
}
