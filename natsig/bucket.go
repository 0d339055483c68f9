package natsig

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Bucket is a JetStream key-value bucket together with the connection it is
// reached through. It runs one watcher for all the keys opened through it
// (see DESIGN.md): open every key of a bucket through the same *Bucket.
// The connection's status is what Status reports.
type Bucket struct {
	js        jetstream.JetStream
	kv        jetstream.KeyValue
	nc        *nats.Conn
	name      string // the bucket's name
	stream    string // its stream, KV_<name>
	subjects  string // its keys' subject prefix, $KV.<name>.
	api       string // the JetStream API prefix, $JS.API.
	counters  bool   // a counter bucket (CreateCounterBucket)
	dupWindow time.Duration
	report    func(error)

	mu  sync.Mutex
	hub *hub // the watcher of the open keys, nil when none is open
}

// NewBucket returns the Bucket for kv, reached through js. Its options are
// BucketOptions (WithErrorHandler). NewBucket has no error result: it panics
// if js or kv is nil or an option is invalid. For a counter bucket, use
// CreateCounterBucket.
func NewBucket(js jetstream.JetStream, kv jetstream.KeyValue, opts ...BucketOption) *Bucket {
	if js == nil || kv == nil {
		panic("natsig: NewBucket needs a JetStream context and a key-value bucket")
	}
	b, err := newBucket(js, kv, opts)
	if err != nil {
		panic(err.Error())
	}
	return b
}

func newBucket(js jetstream.JetStream, kv jetstream.KeyValue, opts []BucketOption) (*Bucket, error) {
	name := kv.Bucket()
	cfg, err := buildBucketConfig(name, opts)
	if err != nil {
		return nil, err
	}
	api := jetstream.DefaultAPIPrefix
	if o := js.Options(); o.Domain != "" {
		api = "$JS." + o.Domain + ".API."
	} else if o.APIPrefix != "" {
		api = strings.TrimSuffix(o.APIPrefix, ".") + "."
	}
	return &Bucket{
		js: js, kv: kv, nc: js.Conn(), name: name, stream: "KV_" + name,
		subjects: "$KV." + name + ".", api: api, report: cfg.onError,
	}, nil
}

// CreateBucket creates the bucket described by cfg, or binds to it if it
// already exists (its configuration is left as it is), and returns it. Its
// options are BucketOptions (WithErrorHandler). A counter bucket is refused:
// use CreateCounterBucket.
func CreateBucket(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig, opts ...BucketOption) (*Bucket, error) {
	if _, err := buildBucketConfig(cfg.Bucket, opts); err != nil {
		return nil, err
	}
	kv, err := js.CreateKeyValue(ctx, cfg)
	if errors.Is(err, jetstream.ErrBucketExists) {
		kv, err = js.KeyValue(ctx, cfg.Bucket)
		if err == nil {
			var st jetstream.Stream
			if st, err = js.Stream(ctx, "KV_"+cfg.Bucket); err == nil && st.CachedInfo().Config.AllowMsgCounter {
				return nil, fmt.Errorf("natsig: bucket %q is a counter bucket: bind it with CreateCounterBucket", cfg.Bucket)
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("natsig: bucket %q: %w", cfg.Bucket, err)
	}
	return newBucket(js, kv, opts)
}

// DefaultDuplicateWindow is the duplicate window of a counter bucket (the
// server's default).
const DefaultDuplicateWindow = 2 * time.Minute

// DefaultCounterHistory is how many messages a counter bucket keeps per
// counter when its configuration's History is 0. Its duplicate detection
// depends on it: nats-server rebuilds it on restart from the messages the
// stream holds, so an add whose acknowledgement was lost is recognised when
// retried after a restart only if fewer than this many other adds to the
// same counter were stored meanwhile. With 1, the id of an overwritten add
// is forgotten, and its retry counted again (TestRetryAfterRestart).
const DefaultCounterHistory = 64

// CreateCounterBucket creates a counter bucket, or binds to it if it exists:
// a bucket whose keys are counters added to by the server (ADR-49), which
// NewCounter opens. It is a stream laid out like a key-value bucket (stream
// KV_<name>, subjects $KV.<name>.<key>, cfg.History messages per key,
// DefaultCounterHistory if unset) with AllowMsgCounter set, so that every
// message must be an increment: Open refuses it, and plain key-value writes
// to it fail. The
// fields of cfg used are Bucket, Description, History, TTL, MaxBytes,
// MaxValueSize, Storage, Replicas and Placement. The stream's duplicate
// window (DefaultDuplicateWindow) bounds how long an add whose
// acknowledgement was lost is retried: see Counter.Add.
func CreateCounterBucket(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig, opts ...BucketOption) (*Bucket, error) {
	if _, err := buildBucketConfig(cfg.Bucket, opts); err != nil {
		return nil, err
	}
	if !validBucket(cfg.Bucket) {
		return nil, fmt.Errorf("natsig: counter bucket %q: %w", cfg.Bucket, jetstream.ErrInvalidBucketName)
	}
	history := int64(cfg.History)
	if history < 1 {
		history = DefaultCounterHistory
	}
	maxBytes, maxValue := cfg.MaxBytes, cfg.MaxValueSize
	if maxBytes == 0 {
		maxBytes = -1
	}
	if maxValue == 0 {
		maxValue = -1
	}
	sc := jetstream.StreamConfig{
		Name:              "KV_" + cfg.Bucket,
		Description:       cfg.Description,
		Subjects:          []string{"$KV." + cfg.Bucket + ".>"},
		MaxMsgsPerSubject: history,
		MaxBytes:          maxBytes,
		MaxAge:            cfg.TTL,
		MaxMsgSize:        maxValue,
		MaxMsgs:           -1,
		MaxConsumers:      -1,
		Storage:           cfg.Storage,
		Replicas:          max(cfg.Replicas, 1),
		Placement:         cfg.Placement,
		Discard:           jetstream.DiscardOld,
		Retention:         jetstream.LimitsPolicy,
		Duplicates:        DefaultDuplicateWindow,
		AllowDirect:       true,
		AllowMsgCounter:   true,
	}
	st, err := js.CreateStream(ctx, sc)
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		st, err = js.Stream(ctx, sc.Name)
		if err == nil && !st.CachedInfo().Config.AllowMsgCounter {
			return nil, fmt.Errorf("natsig: bucket %q exists and is not a counter bucket", cfg.Bucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("natsig: counter bucket %q: %w", cfg.Bucket, err)
	}
	kv, err := js.KeyValue(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("natsig: counter bucket %q: %w", cfg.Bucket, err)
	}
	b, err := newBucket(js, kv, opts)
	if err != nil {
		return nil, err
	}
	b.counters = true
	b.dupWindow = st.CachedInfo().Config.Duplicates
	if b.dupWindow <= 0 {
		b.dupWindow = DefaultDuplicateWindow
	}
	return b, nil
}

// KeyValue returns the bucket's key-value handle.
func (b *Bucket) KeyValue() jetstream.KeyValue { return b.kv }

// IsCounterBucket reports whether b was made by CreateCounterBucket.
func (b *Bucket) IsCounterBucket() bool { return b.counters }

func validBucket(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

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
