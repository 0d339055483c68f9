package natsig

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gosignals/signals"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Bucket is a JetStream key-value bucket together with the connection it is
// reached through: the connection's status is what Status reports.
type Bucket struct {
	kv jetstream.KeyValue
	nc *nats.Conn
}

// NewBucket returns the Bucket for kv, reached through js.
func NewBucket(js jetstream.JetStream, kv jetstream.KeyValue) *Bucket {
	if js == nil || kv == nil {
		panic("natsig: NewBucket needs a JetStream context and a key-value bucket")
	}
	return &Bucket{kv: kv, nc: js.Conn()}
}

// CreateBucket creates the bucket described by cfg, or binds to it if it
// already exists (its configuration is left as it is), and returns it.
func CreateBucket(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (*Bucket, error) {
	kv, err := js.CreateKeyValue(ctx, cfg)
	if errors.Is(err, jetstream.ErrBucketExists) {
		kv, err = js.KeyValue(ctx, cfg.Bucket)
	}
	if err != nil {
		return nil, fmt.Errorf("natsig: bucket %q: %w", cfg.Bucket, err)
	}
	return NewBucket(js, kv), nil
}

// KeyValue returns the bucket's key-value handle.
func (b *Bucket) KeyValue() jetstream.KeyValue { return b.kv }

var (
	// ErrClosed is returned by writes to a closed Shared or Counter.
	ErrClosed = errors.New("natsig: closed")
	// ErrDisconnected is the Status.Err of an instance whose connection to
	// NATS is lost, and what the error handler receives when that happens.
	ErrDisconnected = errors.New("natsig: disconnected from NATS")
	// ErrCodec wraps every encoding and decoding failure.
	ErrCodec = errors.New("natsig: codec")
	// ErrUnknownOutcome wraps the error of a write whose acknowledgement was
	// lost (a timeout, a connection lost while waiting): the write may or may
	// not have been applied.
	ErrUnknownOutcome = errors.New("natsig: outcome of the write unknown")
)

// State is the condition of a Shared's or Counter's link to its bucket.
type State uint8

const (
	// Connecting: the watcher is starting, or catching up after a
	// reconnection; the local value may lag behind the bucket.
	Connecting State = iota
	// Connected: the watcher has caught up with the bucket, and applies
	// every new revision as it arrives.
	Connected
	// Disconnected: the connection to NATS is lost; the local value is the
	// last one received, and writes fail or wait for the reconnection.
	Disconnected
	// Closed: Close was called.
	Closed
)

func (s State) String() string {
	switch s {
	case Connecting:
		return "connecting"
	case Connected:
		return "connected"
	case Disconnected:
		return "disconnected"
	case Closed:
		return "closed"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Status is the State of a Shared or Counter, with the error that caused
// it when it is not Connected (ErrDisconnected, a failure to start the
// watcher), or nil.
type Status struct {
	State State
	Err   error
}

func (s Status) String() string {
	if s.Err != nil {
		return s.State.String() + ": " + s.Err.Error()
	}
	return s.State.String()
}

// DefaultShards is the number of shards of a Counter without the Shards
// option.
const DefaultShards = 4

// Option configures Open and NewCounter.
type Option func(*options)

type options struct {
	codec          any // a Codec[T], checked by Open
	initial        any // a T, checked by Open
	signalOpts     any // a []signals.Option[T], checked by Open
	onError        func(error)
	shards         int
	attemptTimeout time.Duration
}

// WithCodec makes Open encode values with c instead of JSON.
func WithCodec[T any](c Codec[T]) Option {
	return func(o *options) { o.codec = c }
}

// WithInitial sets the value a Shared holds while its key does not exist or
// has been deleted (by default T's zero value).
func WithInitial[T any](v T) Option {
	return func(o *options) { o.initial = v }
}

// WithSignalOptions passes opts (for example signals.WithEqual or
// signals.WithName) to the computed that holds a Shared's local value.
func WithSignalOptions[T any](opts ...signals.Option[T]) Option {
	return func(o *options) { o.signalOpts = opts }
}

// WithErrorHandler sends what goes wrong in the background (a lost
// connection, a watcher that cannot start, a revision that does not decode)
// to h instead of logging it with log/slog at level Warn. h must not block.
func WithErrorHandler(h func(error)) Option {
	if h == nil {
		panic("natsig: WithErrorHandler(nil)")
	}
	return func(o *options) { o.onError = h }
}

// Shards makes a Counter write to n keys, key.0 to key.n-1 (default 4, see
// the package documentation for why). It only applies to NewCounter.
// Counters with different shard counts can share a key: every instance sums
// all the shards it finds, and writes to one of its own n.
func Shards(n int) Option {
	if n < 1 || n > 1024 {
		panic(fmt.Sprintf("natsig: Shards(%d): want 1 to 1024", n))
	}
	return func(o *options) { o.shards = n }
}

// AttemptTimeout bounds each write attempt of a Counter (default 2s); an
// attempt that times out is retried, exactly once semantics included.
func AttemptTimeout(d time.Duration) Option {
	if d <= 0 {
		panic("natsig: AttemptTimeout must be positive")
	}
	return func(o *options) { o.attemptTimeout = d }
}

func buildOptions(what string, opts []Option) *options {
	o := &options{shards: DefaultShards, attemptTimeout: 2 * time.Second}
	for _, opt := range opts {
		opt(o)
	}
	if o.onError == nil {
		o.onError = func(err error) { slog.Warn("natsig", "on", what, "err", err) }
	}
	return o
}

// validKey reports whether key is a valid, literal key: tokens of letters,
// digits and -/_= separated by dots.
func validKey(key string) bool {
	if key == "" || key[0] == '.' || key[len(key)-1] == '.' || strings.Contains(key, "..") {
		return false
	}
	for _, c := range key {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '/', c == '_', c == '=', c == '.':
		default:
			return false
		}
	}
	return true
}

// isConflict reports a compare-and-set rejected because the key's revision
// was not the one expected (or the key existed, for a create).
func isConflict(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
		return true
	}
	return errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch)
}

// notSent reports an error after which the write certainly did not happen:
// no stream received it.
func notSent(err error) bool {
	return errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders)
}

// isPermanent reports an error that retrying cannot cure.
func isPermanent(err error) bool {
	switch {
	case errors.Is(err, ErrCodec), errors.Is(err, ErrClosed),
		errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrConnectionDraining),
		errors.Is(err, jetstream.ErrInvalidKey), errors.Is(err, nats.ErrBadSubject),
		errors.Is(err, nats.ErrMaxPayload):
		return true
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case jetstream.JSErrCodeJetStreamNotEnabled, jetstream.JSErrCodeJetStreamNotEnabledForAccount,
			10008, // JetStream temporarily unavailable
			10023: // insufficient resources (a server still recovering)
			return false
		}
		return true
	}
	return false
}

// wrapWriteErr marks err as of unknown outcome when the write may have been
// applied.
func wrapWriteErr(op, key string, err error) error {
	if isConflict(err) || notSent(err) || isPermanent(err) {
		return fmt.Errorf("natsig: %s %q: %w", op, key, err)
	}
	return fmt.Errorf("natsig: %s %q: %w: %w", op, key, ErrUnknownOutcome, err)
}

// sleep waits for d or until ctx is done, and reports whether ctx is alive.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
