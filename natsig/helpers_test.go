package natsig_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/gosignals/signals/natsig"
	"github.com/gosignals/signals/natsig/natsigtest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
)

// bucket connects to srv and opens (creating it if needed) the bucket
// named name.
func bucket(t testing.TB, srv *natsigtest.Server, name string, opts ...natsig.BucketOption) (*natsig.Bucket, *nats.Conn) {
	t.Helper()
	return bucketWith(t, srv, jetstream.KeyValueConfig{Bucket: name}, opts...)
}

func bucketWith(t testing.TB, srv *natsigtest.Server, cfg jetstream.KeyValueConfig, opts ...natsig.BucketOption) (*natsig.Bucket, *nats.Conn) {
	t.Helper()
	nc := srv.Connect()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := natsig.CreateBucket(ctx, js, cfg, opts...)
	require.NoError(t, err)
	return b, nc
}

// counterBucket connects to srv and opens (creating it if needed) the
// counter bucket named name.
func counterBucket(t testing.TB, srv *natsigtest.Server, name string, opts ...natsig.BucketOption) (*natsig.Bucket, *nats.Conn) {
	t.Helper()
	nc := srv.Connect()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	b, err := natsig.CreateCounterBucket(ctx(t, 10*time.Second), js, jetstream.KeyValueConfig{Bucket: name}, opts...)
	require.NoError(t, err)
	return b, nc
}

// ctx returns a context that ends with the test or after d.
func ctx(t testing.TB, d time.Duration) context.Context {
	c, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return c
}

// eventually waits up to d for cond, polling.
func eventually(t testing.TB, d time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: "+format, append([]any{d}, args...)...)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// errorLog collects what an error handler receives.
type errorLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errorLog) handler() natsig.Option {
	return natsig.WithErrorHandler(func(err error) {
		l.mu.Lock()
		l.errs = append(l.errs, err)
		l.mu.Unlock()
	})
}

func (l *errorLog) all() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]error(nil), l.errs...)
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

var (
	jsonMarshal   = json.Marshal
	jsonUnmarshal = json.Unmarshal
)

// watchdog fails the test binary after d, printing every goroutine's stack,
// so that a deadlock fails in seconds rather than at go test's timeout.
func watchdog(t testing.TB, d time.Duration) {
	timer := time.AfterFunc(d, func() {
		fmt.Fprintf(os.Stderr, "watchdog: %s still running after %v; goroutines:\n", t.Name(), d)
		pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
		panic(fmt.Sprintf("watchdog: %s still running after %v", t.Name(), d))
	})
	t.Cleanup(func() { timer.Stop() })
}
