package natsig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Reads from the stream leader. nats.go's kv.Get is a direct get, which any
// replica may answer, a follower that lags behind included: after the hub
// delivered revision 10 of a key, a direct get may still return revision 8,
// and a key opened then would stay at 8 until its next write. The stream
// leader has every acknowledged write, so these reads are used where a
// stale answer would be wrong or costly: loading a key opened while the hub
// runs, and re-reading after a conflict or an unknown outcome.

// leaderReadTimeout bounds one read, whatever the caller's context.
const leaderReadTimeout = 5 * time.Second

// entry is one revision of a key as read from the stream.
type entry struct {
	key     string
	rev     uint64
	present bool // false for a deletion or purge marker
	value   []byte
}

type msgGetRequest struct {
	Seq     uint64 `json:"seq,omitempty"`
	LastFor string `json:"last_by_subj,omitempty"`
	NextFor string `json:"next_by_subj,omitempty"`
}

type msgGetResponse struct {
	Error   *jetstream.APIError `json:"error,omitempty"`
	Message *struct {
		Subject string `json:"subject"`
		Seq     uint64 `json:"seq"`
		Header  []byte `json:"hdrs,omitempty"`
		Data    []byte `json:"data,omitempty"`
	} `json:"message,omitempty"`
}

// jsNoMessageFound is the error code of a message get that found nothing.
const jsNoMessageFound = 10037

// msgGet asks the stream leader for one message; nil if there is none.
func (b *Bucket) msgGet(ctx context.Context, req msgGetRequest) (*entry, error) {
	ctx, cancel := context.WithTimeout(ctx, leaderReadTimeout)
	defer cancel()
	data, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	msg, err := b.nc.RequestWithContext(ctx, b.api+"STREAM.MSG.GET."+b.stream, data)
	if err != nil {
		return nil, err
	}
	var resp msgGetResponse
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return nil, fmt.Errorf("natsig: message get on %s: %w", b.stream, err)
	}
	if resp.Error != nil {
		if resp.Error.ErrorCode == jsNoMessageFound {
			return nil, nil
		}
		return nil, resp.Error
	}
	if resp.Message == nil {
		return nil, jetstream.ErrInvalidJetStreamResponse
	}
	m := resp.Message
	e := &entry{key: strings.TrimPrefix(m.Subject, b.subjects), rev: m.Seq, present: true, value: m.Data}
	if len(m.Header) > 0 {
		hdr, err := nats.DecodeHeadersMsg(m.Header)
		if err != nil {
			return nil, fmt.Errorf("natsig: message get on %s: %w", b.stream, err)
		}
		if hdr.Get("KV-Operation") != "" || hdr.Get(jetstream.MarkerReasonHeader) != "" {
			e.present, e.value = false, nil // a deletion, a purge or a server marker
		}
	}
	return e, nil
}

// lastEntry returns the latest revision of key, or nil if the stream holds
// none.
func (b *Bucket) lastEntry(ctx context.Context, key string) (*entry, error) {
	return b.msgGet(ctx, msgGetRequest{LastFor: b.subjects + key})
}

// scan calls fn with every message on the keys matching filter (a key with
// wildcards), in stream order: the latest one of a key comes last.
func (b *Bucket) scan(ctx context.Context, filter string, fn func(*entry)) error {
	for seq := uint64(1); ; {
		e, err := b.msgGet(ctx, msgGetRequest{Seq: seq, NextFor: b.subjects + filter})
		if err != nil || e == nil {
			return err
		}
		fn(e)
		seq = e.rev + 1
	}
}

// retryRead runs read until it succeeds, fails for good, or ctx ends.
func retryRead(ctx context.Context, what string, read func(context.Context) error) error {
	backoff := minBackoff
	for {
		err := read(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("natsig: %s not loaded (%v): %w", what, err, ctx.Err())
		}
		if isPermanent(err) && !isUnavailable(err) {
			return fmt.Errorf("natsig: load %s: %w", what, err)
		}
		if !sleep(ctx, backoff) {
			return fmt.Errorf("natsig: %s not loaded (%v): %w", what, err, ctx.Err())
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// isUnavailable reports a JetStream API error that a leader election or a
// recovering server causes, and that goes away.
func isUnavailable(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case 10008, // JetStream system temporarily unavailable (no leader)
			10023, // insufficient resources
			jetstream.JSErrCodeJetStreamNotEnabled:
			return true
		}
		return apiErr.Code == 503
	}
	return false
}
