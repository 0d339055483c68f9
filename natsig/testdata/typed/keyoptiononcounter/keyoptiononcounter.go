package keyoptiononcounter

import (
	"context"

	"github.com/gosignals/signals/natsig"
)

func use(ctx context.Context, b *natsig.Bucket) {
	_, _ = natsig.NewCounter(ctx, b, "c", natsig.WithInitial[int64](1))
}
