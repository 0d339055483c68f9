package wronginitial

import (
	"context"

	"github.com/gosignals/signals/natsig"
)

func use(ctx context.Context, b *natsig.Bucket) {
	_, _ = natsig.Open[string](ctx, b, "k", natsig.WithInitial(1))
}
