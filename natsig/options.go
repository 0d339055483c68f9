package natsig

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gosignals/signals"
)

// Options are typed by what they configure, so that an option that does not
// apply does not compile: Open[T] takes KeyOption[T] (a Codec[int] given to
// Open[string] is a compile error), NewCounter takes CounterOption, and
// NewBucket, CreateBucket and CreateCounterBucket take BucketOption. Values
// that are wrong (Shards(0), a nil codec or handler) make the constructor
// return an error naming the option.

// KeyOption configures Open[T].
type KeyOption[T any] interface {
	applyKey(*keyConfig[T])
}

// CounterOption configures NewCounter.
type CounterOption interface {
	applyCounter(*counterConfig)
}

// BucketOption configures NewBucket, CreateBucket and CreateCounterBucket.
type BucketOption interface {
	applyBucket(*bucketConfig)
}

// Option is an option that applies both to a bucket and to a counter:
// WithErrorHandler.
type Option interface {
	BucketOption
	CounterOption
}

type keyConfig[T any] struct {
	codec      Codec[T]
	initial    T
	signalOpts []signals.Option[T]
	errs       []error
}

type counterConfig struct {
	shards         int
	shardsSet      bool
	attemptTimeout time.Duration
	onError        func(error)
	errs           []error
}

type bucketConfig struct {
	onError func(error)
	errs    []error
}

type keyOptionFunc[T any] func(*keyConfig[T])

func (f keyOptionFunc[T]) applyKey(c *keyConfig[T]) { f(c) }

type counterOptionFunc func(*counterConfig)

func (f counterOptionFunc) applyCounter(c *counterConfig) { f(c) }

// WithCodec makes Open encode values with c instead of JSON.
func WithCodec[T any](c Codec[T]) KeyOption[T] {
	return keyOptionFunc[T](func(o *keyConfig[T]) {
		if c == nil {
			o.errs = append(o.errs, errors.New("WithCodec(nil)"))
			return
		}
		o.codec = c
	})
}

// WithInitial sets the value a Shared holds while its key does not exist or
// has been deleted (by default T's zero value). The type of v must be T:
// for Open[float64], write WithInitial(1.0), not WithInitial(1).
func WithInitial[T any](v T) KeyOption[T] {
	return keyOptionFunc[T](func(o *keyConfig[T]) { o.initial = v })
}

// WithSignalOptions passes opts (for example signals.WithEqual or
// signals.WithName) to the computed that holds a Shared's local value.
func WithSignalOptions[T any](opts ...signals.Option[T]) KeyOption[T] {
	return keyOptionFunc[T](func(o *keyConfig[T]) { o.signalOpts = append(o.signalOpts, opts...) })
}

// WithErrorHandler sends what goes wrong in the background to h instead of
// logging it with log/slog at level Warn. h must not block.
//
// Given to NewBucket, CreateBucket or CreateCounterBucket, it receives the
// bucket's failures (a lost connection, a watcher that cannot start) and
// the revisions of its keys that do not decode. Given to NewCounter, it
// receives that counter's revisions that do not decode, instead of the
// bucket's handler.
func WithErrorHandler(h func(error)) Option { return errorHandler{h} }

type errorHandler struct{ h func(error) }

func (e errorHandler) applyBucket(c *bucketConfig) {
	if e.h == nil {
		c.errs = append(c.errs, errors.New("WithErrorHandler(nil)"))
		return
	}
	c.onError = e.h
}

func (e errorHandler) applyCounter(c *counterConfig) {
	if e.h == nil {
		c.errs = append(c.errs, errors.New("WithErrorHandler(nil)"))
		return
	}
	c.onError = e.h
}

// DefaultShards is the number of shards of a compare-and-set Counter without
// the Shards option.
const DefaultShards = 4

// Shards makes a compare-and-set Counter write to n keys, key.0 to key.n-1
// (default 4, see the package documentation for why); n must be 1 to 1024.
// Counters with different shard counts can share a key: every instance sums
// all the shards it finds, and writes to one of its own n. On a counter
// bucket (CreateCounterBucket), where the server adds, NewCounter refuses it.
func Shards(n int) CounterOption {
	return counterOptionFunc(func(o *counterConfig) {
		if n < 1 || n > 1024 {
			o.errs = append(o.errs, fmt.Errorf("Shards(%d): want 1 to 1024", n))
			return
		}
		o.shards, o.shardsSet = n, true
	})
}

// AttemptTimeout bounds each write attempt of a Counter (default 2s); an
// attempt that times out is retried, exactly once semantics included.
func AttemptTimeout(d time.Duration) CounterOption {
	return counterOptionFunc(func(o *counterConfig) {
		if d <= 0 {
			o.errs = append(o.errs, fmt.Errorf("AttemptTimeout(%v): want a positive duration", d))
			return
		}
		o.attemptTimeout = d
	})
}

// errOptions joins the errors of invalid options into one that names what
// was being configured.
func errOptions(what string, errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("natsig: %s: %w", what, errors.Join(errs...))
}

func buildKeyConfig[T any](key string, opts []KeyOption[T]) (keyConfig[T], error) {
	c := keyConfig[T]{codec: JSON[T]()}
	for i, o := range opts {
		if o == nil {
			c.errs = append(c.errs, fmt.Errorf("option %d is nil", i))
			continue
		}
		o.applyKey(&c)
	}
	return c, errOptions("Open "+key, c.errs)
}

func buildCounterConfig(key string, opts []CounterOption) (counterConfig, error) {
	c := counterConfig{shards: DefaultShards, attemptTimeout: 2 * time.Second}
	for i, o := range opts {
		if o == nil {
			c.errs = append(c.errs, fmt.Errorf("option %d is nil", i))
			continue
		}
		o.applyCounter(&c)
	}
	return c, errOptions("NewCounter "+key, c.errs)
}

func buildBucketConfig(bucket string, opts []BucketOption) (bucketConfig, error) {
	var c bucketConfig
	for i, o := range opts {
		if o == nil {
			c.errs = append(c.errs, fmt.Errorf("option %d is nil", i))
			continue
		}
		o.applyBucket(&c)
	}
	if c.onError == nil {
		c.onError = func(err error) { slog.Warn("natsig", "bucket", bucket, "err", err) }
	}
	return c, errOptions("bucket "+bucket, c.errs)
}
