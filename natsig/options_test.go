package natsig_test

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/gosignals/signals/natsig"
	"github.com/gosignals/signals/natsig/natsigtest"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOptionsAreTyped builds the packages in testdata/typed: ok uses every
// option where it applies and must compile; each of the others gives an
// option where it does not apply, and must fail to compile, for that reason.
func TestOptionsAreTyped(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	wantErr := map[string]string{
		"ok":                 "",
		"wrongcodec":         `natsig.KeyOption\[int\] does not implement natsig.KeyOption\[string\]`,
		"wronginitial":       `natsig.KeyOption\[int\] does not implement natsig.KeyOption\[string\]`,
		"shardsonopen":       `natsig.CounterOption does not implement natsig.KeyOption\[int\]`,
		"keyoptiononcounter": `natsig.KeyOption\[int64\] does not implement natsig.CounterOption`,
	}
	for name, want := range wantErr {
		t.Run(name, func(t *testing.T) {
			args := []string{"build"}
			if raceEnabled {
				args = append(args, "-race")
			}
			cmd := exec.Command(goCmd, append(args, "./"+filepath.ToSlash(filepath.Join("testdata", "typed", name)))...)
			out, err := cmd.CombinedOutput()
			if want == "" {
				assert.NoError(t, err, "%s", out)
				return
			}
			require.Error(t, err, "%s compiled", name)
			assert.Regexp(t, regexp.MustCompile(want), string(out))
		})
	}
}

// Values that are wrong, and options that do not apply to what is opened,
// are errors that name them.
func TestOptionErrors(t *testing.T) {
	srv := natsigtest.Start(t)
	b, nc := bucket(t, srv, "t")
	cb, _ := counterBucket(t, srv, "tc")
	js, err := jetstream.New(nc)
	require.NoError(t, err)

	_, err = natsig.NewCounter(ctx(t, 5*time.Second), b, "c", natsig.Shards(0))
	assert.ErrorContains(t, err, `natsig: NewCounter c: Shards(0): want 1 to 1024`)
	_, err = natsig.NewCounter(ctx(t, 5*time.Second), b, "c", natsig.AttemptTimeout(-time.Second))
	assert.ErrorContains(t, err, `AttemptTimeout(-1s): want a positive duration`)
	_, err = natsig.NewCounter(ctx(t, 5*time.Second), b, "c", natsig.WithErrorHandler(nil), natsig.Shards(2000))
	assert.ErrorContains(t, err, "WithErrorHandler(nil)")
	assert.ErrorContains(t, err, "Shards(2000)", "every wrong option is named")
	_, err = natsig.NewCounter(ctx(t, 5*time.Second), b, "c", nil)
	assert.ErrorContains(t, err, "option 0 is nil")
	_, err = natsig.NewCounter(ctx(t, 5*time.Second), cb, "c", natsig.Shards(2))
	assert.ErrorContains(t, err, `Shards does not apply to counter bucket "tc"`)

	_, err = natsig.Open[int](ctx(t, 5*time.Second), b, "k", natsig.WithCodec[int](nil))
	assert.ErrorContains(t, err, "natsig: Open k: WithCodec(nil)")
	_, err = natsig.Open[int](ctx(t, 5*time.Second), b, "k", natsig.WithInitial(1), nil)
	assert.ErrorContains(t, err, "option 1 is nil")
	_, err = natsig.Open[int](ctx(t, 5*time.Second), cb, "k")
	assert.ErrorContains(t, err, `bucket "tc" is a counter bucket`)
	_, err = natsig.Open[int](ctx(t, 5*time.Second), nil, "k")
	assert.ErrorContains(t, err, "nil bucket")

	_, err = natsig.CreateBucket(ctx(t, 5*time.Second), js, jetstream.KeyValueConfig{Bucket: "t"}, natsig.WithErrorHandler(nil))
	assert.ErrorContains(t, err, "natsig: bucket t: WithErrorHandler(nil)")
	_, err = natsig.CreateBucket(ctx(t, 5*time.Second), js, jetstream.KeyValueConfig{Bucket: "tc"})
	assert.ErrorContains(t, err, `bucket "tc" is a counter bucket`)
	_, err = natsig.CreateCounterBucket(ctx(t, 5*time.Second), js, jetstream.KeyValueConfig{Bucket: "t"})
	assert.ErrorContains(t, err, `bucket "t" exists and is not a counter bucket`)
	_, err = natsig.CreateCounterBucket(ctx(t, 5*time.Second), js, jetstream.KeyValueConfig{Bucket: "a.b"})
	assert.ErrorIs(t, err, jetstream.ErrInvalidBucketName)
	assert.PanicsWithValue(t, "natsig: bucket t: WithErrorHandler(nil)", func() {
		natsig.NewBucket(js, b.KeyValue(), natsig.WithErrorHandler(nil))
	})
	assert.True(t, cb.IsCounterBucket())
	assert.False(t, b.IsCounterBucket())
}
