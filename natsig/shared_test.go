package natsig_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosignals/signals"
	"github.com/gosignals/signals/natsig"
	"github.com/gosignals/signals/natsig/natsigtest"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestSetIsSeenByEveryInstance(t *testing.T) {
	srv := natsigtest.Start(t)
	ba, _ := bucket(t, srv, "t")
	bb, _ := bucket(t, srv, "t")

	a, err := natsig.Open[string](ctx(t, 10*time.Second), ba, "greeting", natsig.WithInitial("none"))
	require.NoError(t, err)
	defer a.Close()
	b, err := natsig.Open[string](ctx(t, 10*time.Second), bb, "greeting", natsig.WithInitial("none"))
	require.NoError(t, err)
	defer b.Close()
	assert.Equal(t, "none", a.Peek(), "an absent key holds the initial value")
	assert.Equal(t, uint64(0), a.Revision())
	assert.Equal(t, natsig.Status{State: natsig.Connected}, a.Status().Peek())

	// A computed and an effect in b's process react to a's writes.
	shout := signals.NewComputed(func(t *signals.Tracker) string { return strings.ToUpper(b.Get(t)) })
	var mu sync.Mutex
	var seen []string
	e := signals.NewEffect(func(t *signals.Tracker) {
		v := shout.Get(t)
		mu.Lock()
		seen = append(seen, v)
		mu.Unlock()
	})
	defer e.Stop()

	require.NoError(t, a.Set(ctx(t, 5*time.Second), "hello"))
	assert.Equal(t, "hello", a.Peek(), "the writer reads its write once Set returns")
	rev := a.Revision()
	assert.NotZero(t, rev)
	eventually(t, 5*time.Second, func() bool { return b.Peek() == "hello" }, "b sees a's write")
	assert.Equal(t, rev, b.Revision())
	// b's watcher wrote it: its flush runs the effect, maybe after Peek
	// sees the value. Wait for it, or the next write may come first and
	// the effect see only that one.
	last := func() string {
		mu.Lock()
		defer mu.Unlock()
		return seen[len(seen)-1]
	}
	eventually(t, 5*time.Second, func() bool { return last() == "HELLO" }, "the effect saw %q", last())

	require.NoError(t, b.Set(ctx(t, 5*time.Second), "bye"))
	eventually(t, 5*time.Second, func() bool { return a.Peek() == "bye" }, "a sees b's write")
	assert.Greater(t, a.Revision(), rev)
	eventually(t, 5*time.Second, func() bool { return last() == "BYE" }, "the effect saw %q", last())

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"NONE", "HELLO", "BYE"}, seen)
}

func TestRevisionsApplyInOrder(t *testing.T) {
	srv := natsigtest.Start(t)
	// With the default History of 1, a revision overwritten before a
	// watcher reached it is gone from the stream, and skipped.
	cfg := jetstream.KeyValueConfig{Bucket: "t", History: 64}
	bw, _ := bucketWith(t, srv, cfg)
	br, _ := bucketWith(t, srv, cfg)
	w, err := natsig.Open[int](ctx(t, 10*time.Second), bw, "n")
	require.NoError(t, err)
	defer w.Close()
	r, err := natsig.Open[int](ctx(t, 10*time.Second), br, "n")
	require.NoError(t, err)
	defer r.Close()

	// Every revision reaches the signal, in order; an effect may skip some
	// (while another goroutine runs effects, writes are conflated), but
	// never goes backwards.
	var applied atomic.Int64
	prev := signals.SetTracer(signals.TracerFunc(func(e signals.Event) {
		if e.Kind == signals.EventSet && e.Name == "natsig revision of n" {
			applied.Add(1)
		}
	}))
	defer signals.SetTracer(prev)
	var mu sync.Mutex
	var seen []int
	var revs []uint64
	e := signals.NewEffect(func(t *signals.Tracker) {
		v := r.Get(t)
		mu.Lock()
		seen = append(seen, v)
		revs = append(revs, r.Revision())
		mu.Unlock()
	})
	defer e.Stop()

	const n = 60
	for i := 1; i <= n; i++ {
		require.NoError(t, w.Set(ctx(t, 5*time.Second), i))
	}
	eventually(t, 5*time.Second, func() bool { return r.Peek() == n }, "the reader reaches %d", n)
	// The watcher's flush runs the effect, maybe after Peek sees the value.
	eventually(t, 5*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return seen[len(seen)-1] == n
	}, "the effect sees %d", n)
	mu.Lock()
	defer mu.Unlock()
	assert.True(t, slices.IsSorted(seen), "values never go backwards: %v", seen)
	assert.True(t, slices.IsSorted(revs), "revisions never go backwards: %v", revs)
	// The tracer hears of a write just after it is visible.
	eventually(t, 5*time.Second, func() bool { return applied.Load() == 2*n },
		"every revision is applied, in both instances: %d of %d", applied.Load(), 2*n)
}

func TestUpdateIsAtomicAcrossConnections(t *testing.T) {
	srv := natsigtest.Start(t)
	const (
		conns = 3
		perG  = 25
	)
	var shared []*natsig.Shared[int]
	for range conns {
		b, _ := bucket(t, srv, "t")
		s, err := natsig.Open[int](ctx(t, 10*time.Second), b, "views")
		require.NoError(t, err)
		defer s.Close()
		shared = append(shared, s)
	}
	var wg sync.WaitGroup
	for _, s := range shared {
		for range 2 { // two goroutines per connection
			wg.Go(func() {
				for range perG {
					assert.NoError(t, s.Update(ctx(t, 20*time.Second), func(n int) int { return n + 1 }))
				}
			})
		}
	}
	wg.Wait()
	want := conns * 2 * perG
	for i, s := range shared {
		eventually(t, 5*time.Second, func() bool { return s.Peek() == want }, "instance %d: %d, want %d", i, s.Peek(), want)
	}
}

func TestUpdateWithoutChangeWritesNothing(t *testing.T) {
	srv := natsigtest.Start(t)
	b, _ := bucket(t, srv, "t")
	s, err := natsig.Open[int](ctx(t, 10*time.Second), b, "k")
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Set(ctx(t, 5*time.Second), 7))
	rev := s.Revision()
	require.NoError(t, s.Update(ctx(t, 5*time.Second), func(n int) int { return n }))
	assert.Equal(t, rev, s.Revision())
	e, err := b.KeyValue().Get(ctx(t, 5*time.Second), "k")
	require.NoError(t, err)
	assert.Equal(t, rev, e.Revision(), "no new revision")
}

func TestDeleteGoesBackToInitialValue(t *testing.T) {
	srv := natsigtest.Start(t)
	b, _ := bucket(t, srv, "t")
	s, err := natsig.Open[int](ctx(t, 10*time.Second), b, "k", natsig.WithInitial(-1))
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Update(ctx(t, 5*time.Second), func(n int) int { return n + 10 }), "Update creates the key")
	assert.Equal(t, 9, s.Peek())

	require.NoError(t, b.KeyValue().Delete(ctx(t, 5*time.Second), "k"))
	eventually(t, 5*time.Second, func() bool { return s.Peek() == -1 }, "the delete is applied")
	require.NoError(t, s.Update(ctx(t, 5*time.Second), func(n int) int { return n + 10 }), "Update recreates the key")
	assert.Equal(t, 9, s.Peek())

	require.NoError(t, b.KeyValue().Purge(ctx(t, 5*time.Second), "k"))
	eventually(t, 5*time.Second, func() bool { return s.Peek() == -1 }, "the purge is applied")
}

// upper stores strings in upper case and refuses to store empty ones.
var upper = natsig.NewCodec(
	func(s string) ([]byte, error) {
		if s == "" {
			return nil, errors.New("empty")
		}
		return []byte(strings.ToUpper(s)), nil
	},
	func(b []byte) (string, error) {
		if !utf8Upper(b) {
			return "", fmt.Errorf("not upper case: %q", b)
		}
		return strings.ToLower(string(b)), nil
	})

func utf8Upper(b []byte) bool { return strings.ToUpper(string(b)) == string(b) }

func TestCodec(t *testing.T) {
	srv := natsigtest.Start(t)
	var log errorLog
	b, _ := bucket(t, srv, "t", log.handler())
	s, err := natsig.Open[string](ctx(t, 10*time.Second), b, "word", natsig.WithCodec(upper))
	require.NoError(t, err)
	defer s.Close()

	require.NoError(t, s.Set(ctx(t, 5*time.Second), "abc"))
	e, err := b.KeyValue().Get(ctx(t, 5*time.Second), "word")
	require.NoError(t, err)
	assert.Equal(t, "ABC", string(e.Value()), "stored with the codec")
	assert.Equal(t, "abc", s.Peek(), "read back with the codec")

	err = s.Set(ctx(t, 5*time.Second), "")
	assert.ErrorIs(t, err, natsig.ErrCodec, "an encoding failure")
	assert.ErrorContains(t, err, "empty")
	err = s.Update(ctx(t, 5*time.Second), func(string) string { return "" })
	assert.ErrorIs(t, err, natsig.ErrCodec)

	// Another process writes something this codec cannot decode: reported,
	// the local value stays, and Update refuses to build on it.
	_, err = b.KeyValue().Put(ctx(t, 5*time.Second), "word", []byte("lower"))
	require.NoError(t, err)
	eventually(t, 5*time.Second, func() bool { return len(log.all()) > 0 }, "the decoding failure is reported")
	assert.ErrorIs(t, log.all()[0], natsig.ErrCodec)
	assert.ErrorContains(t, log.all()[0], `not upper case: "lower"`)
	assert.Equal(t, "abc", s.Peek())
	err = s.Update(ctx(t, 5*time.Second), func(v string) string { return v + "d" })
	assert.ErrorIs(t, err, natsig.ErrCodec)

	// Set overwrites it.
	require.NoError(t, s.Set(ctx(t, 5*time.Second), "xyz"))
	require.NoError(t, s.Update(ctx(t, 5*time.Second), func(v string) string { return v + "!" }))
	assert.Equal(t, "xyz!", s.Peek())
	// A codec of the wrong type does not compile: see TestOptionsAreTyped.
}

func TestInvalidKeys(t *testing.T) {
	srv := natsigtest.Start(t)
	b, _ := bucket(t, srv, "t")
	for _, key := range []string{"", "a b", "a.*", "a.>", ".a", "a.", "a..b"} {
		_, err := natsig.Open[int](ctx(t, 5*time.Second), b, key)
		assert.ErrorIs(t, err, jetstream.ErrInvalidKey, "%q", key)
		_, err = natsig.NewCounter(ctx(t, 5*time.Second), b, key)
		assert.ErrorIs(t, err, jetstream.ErrInvalidKey, "%q", key)
	}
}

func TestCloseReleasesGoroutines(t *testing.T) {
	watchdog(t, time.Duration(60*scale())*time.Second)
	srv := natsigtest.Start(t)
	b, nc := bucket(t, srv, "t")
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	cb, err := natsig.CreateCounterBucket(ctx(t, 10*time.Second), js, jetstream.KeyValueConfig{Bucket: "tc"})
	require.NoError(t, err)
	warmUp(t, nc)
	leaks := goleak.IgnoreCurrent()
	base := runtime.NumGoroutine()

	var closers []func()
	for i := range 4 {
		s, err := natsig.Open[int](ctx(t, 10*time.Second), b, fmt.Sprint("k", i))
		require.NoError(t, err)
		require.NoError(t, s.Update(ctx(t, 5*time.Second), func(n int) int { return n + 1 }))
		closers = append(closers, s.Close)
		c, err := natsig.NewCounter(ctx(t, 10*time.Second), b, fmt.Sprint("c", i), natsig.Shards(2))
		require.NoError(t, err)
		require.NoError(t, c.Add(ctx(t, 5*time.Second), 1))
		closers = append(closers, c.Close)
		sc, err := natsig.NewCounter(ctx(t, 10*time.Second), cb, fmt.Sprint("c", i))
		require.NoError(t, err)
		require.NoError(t, sc.Add(ctx(t, 5*time.Second), 1))
		closers = append(closers, sc.Close)
	}
	assert.Greater(t, runtime.NumGoroutine(), base)
	assert.Equal(t, 1, consumers(t, b))
	assert.Equal(t, 1, consumers(t, cb))
	for _, c := range closers {
		c()
		c() // idempotent
	}
	goleak.VerifyNone(t, leaks)
	eventually(t, 5*time.Second, func() bool { return consumers(t, b) == 0 && consumers(t, cb) == 0 }, "consumers deleted")
}

func TestClosedRefusesWritesAndKeepsValue(t *testing.T) {
	watchdog(t, time.Duration(60*scale())*time.Second)
	srv := natsigtest.Start(t)
	b, _ := bucket(t, srv, "t")
	s, err := natsig.Open[int](ctx(t, 10*time.Second), b, "k")
	require.NoError(t, err)
	require.NoError(t, s.Set(ctx(t, 5*time.Second), 3))
	s.Close()
	assert.Equal(t, natsig.Closed, s.Status().Peek().State)
	assert.ErrorIs(t, s.Set(context.Background(), 4), natsig.ErrClosed)
	assert.ErrorIs(t, s.Update(context.Background(), func(n int) int { return n }), natsig.ErrClosed)
	assert.Equal(t, 3, s.Peek())

	c, err := natsig.NewCounter(ctx(t, 10*time.Second), b, "c")
	require.NoError(t, err)
	require.NoError(t, c.Add(ctx(t, 5*time.Second), 2))
	c.Close()
	assert.ErrorIs(t, c.Add(context.Background(), 1), natsig.ErrClosed)
	assert.Equal(t, int64(2), c.Value().Peek())
}

func TestOpenWaitsForTheServer(t *testing.T) {
	watchdog(t, time.Duration(60*scale())*time.Second)
	srv := natsigtest.Start(t)
	b, _ := bucket(t, srv, "t", natsig.WithErrorHandler(func(error) {}))
	srv.Shutdown()
	c, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := natsig.Open[int](c, b, "k")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
