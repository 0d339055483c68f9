package wrongcodec

import (
	"context"

	"github.com/gosignals/signals/natsig"
)

func use(ctx context.Context, b *natsig.Bucket) {
	_, _ = natsig.Open[string](ctx, b, "k", natsig.WithCodec[int](natsig.JSON[int]()))
}
