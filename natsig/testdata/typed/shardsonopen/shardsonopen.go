package shardsonopen

import (
	"context"

	"github.com/gosignals/signals/natsig"
)

func use(ctx context.Context, b *natsig.Bucket) {
	_, _ = natsig.Open[int](ctx, b, "k", natsig.Shards(2))
}
