// Package ok uses every option where it applies: it must compile, which
// shows that the other packages here fail for the reason they were written.
package ok

import (
	"context"

	"github.com/gosignals/signals"
	"github.com/gosignals/signals/natsig"
	"github.com/nats-io/nats.go/jetstream"
)

func use(ctx context.Context, js jetstream.JetStream, kv jetstream.KeyValue) {
	report := natsig.WithErrorHandler(func(error) {})
	b := natsig.NewBucket(js, kv, report)
	_, _ = natsig.CreateBucket(ctx, js, jetstream.KeyValueConfig{Bucket: "b"}, report)
	_, _ = natsig.Open[int](ctx, b, "k", natsig.WithCodec(natsig.JSON[int]()), natsig.WithInitial(1),
		natsig.WithSignalOptions(signals.WithName[int]("n")))
	_, _ = natsig.Open[float64](ctx, b, "f", natsig.WithInitial(1.0))
	_, _ = natsig.NewCounter(ctx, b, "c", natsig.Shards(2), natsig.AttemptTimeout(1), report)
}
