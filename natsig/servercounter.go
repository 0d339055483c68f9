package natsig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// incrHeader is the header of a message that adds to a server-side counter
// (ADR-49).
const incrHeader = "Nats-Incr"

// increment adds delta to a server-side counter, exactly once: every attempt
// carries the same message id, and the server drops an attempt whose id it
// has already stored as a duplicate, within the stream's duplicate window.
// An attempt that may have reached the stream is therefore retried only
// while that window, counted from the first such attempt, still covers it;
// after that, increment gives up with ErrUnknownOutcome rather than risk
// counting twice.
func (c *Counter) increment(delta int64, op uint64) (key string, rev uint64, raw []byte, err error) {
	key = c.key
	id := c.writer + "-" + strconv.FormatUint(op, 10)
	margin := min(c.b.dupWindow/10, 10*time.Second)
	var firstSent time.Time // of the first attempt that may have been stored
	backoff := minBackoff
	for {
		if c.life.Err() != nil {
			return "", 0, nil, ErrClosed
		}
		now := time.Now()
		if !firstSent.IsZero() && now.Sub(firstSent) > c.b.dupWindow-margin {
			return "", 0, nil, fmt.Errorf("natsig: add to %q: %w: not retried past the bucket's duplicate window (%v)",
				key, ErrUnknownOutcome, c.b.dupWindow)
		}
		msg := nats.NewMsg(c.b.subjects + key)
		msg.Header.Set(incrHeader, strconv.FormatInt(delta, 10))
		msg.Header.Set(jetstream.MsgIDHeader, id)
		ctx, cancel := context.WithTimeout(c.life, c.tmo)
		c.writes.Add(1)
		if !firstSent.IsZero() {
			c.resent.Add(uint64(max(delta, -delta)))
		}
		ack, err := c.b.js.PublishMsg(ctx, msg)
		cancel()
		switch {
		case err == nil && !ack.Duplicate && ack.Value != "":
			return key, ack.Sequence, fmt.Appendf(nil, `{"val":%q}`, ack.Value), nil
		case err == nil:
			// An earlier attempt was stored (or the acknowledgement had no
			// value): read the counter, which includes it, from the leader.
			var e *entry
			rerr := retryRead(c.life, "counter "+key, func(ctx context.Context) error {
				var err error
				e, err = c.b.lastEntry(ctx, key)
				return err
			})
			if rerr != nil || e == nil {
				return key, 0, nil, nil // the watcher brings it
			}
			return key, e.rev, e.value, nil
		case c.life.Err() != nil:
			return "", 0, nil, ErrClosed
		case isPermanent(err):
			return "", 0, nil, fmt.Errorf("natsig: add to %q: %w", key, err)
		}
		if firstSent.IsZero() && !notSent(err) {
			firstSent = now
		}
		if !sleep(c.life, backoff) {
			return "", 0, nil, ErrClosed
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// decodeServerCounter reads the value of a server-side counter,
// {"val":"<integer>"}.
func decodeServerCounter(raw []byte) (int64, error) {
	var v struct {
		Val string `json:"val"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, err
	}
	var n big.Int
	if _, ok := n.SetString(v.Val, 10); !ok {
		return 0, fmt.Errorf("not a counter value: %q", raw)
	}
	if !n.IsInt64() {
		return 0, errors.New("counter value out of int64 range: " + v.Val)
	}
	return n.Int64(), nil
}
