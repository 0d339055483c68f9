package natsig_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosignals/signals"
	"github.com/gosignals/signals/natsig"
	"github.com/gosignals/signals/natsig/natsigtest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const helperEnv = "NATSIG_TEST_HELPER_URL"

// TestMultiProcess starts copies of the test binary as separate processes.
// Each adds m to a Counter and m times 1 to a Shared[int] with Update, from
// three goroutines, then waits until an effect sees both at procs·m and
// prints what it observed.
func TestMultiProcess(t *testing.T) {
	watchdog(t, time.Duration(60*scale())*time.Second)
	srv := natsigtest.Start(t)
	b, _ := bucket(t, srv, "fleet")
	c, err := natsig.NewCounter(ctx(t, 10*time.Second), b, "views")
	require.NoError(t, err)
	defer c.Close()
	s, err := natsig.Open[int](ctx(t, 10*time.Second), b, "plain")
	require.NoError(t, err)
	defer s.Close()

	const procs, m = 3, 60
	want := procs * m
	outs := make([]bytes.Buffer, procs)
	var cmds []*exec.Cmd
	for i := range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1", "-test.timeout=60s")
		cmd.Env = append(os.Environ(), helperEnv+"="+srv.URL(), fmt.Sprintf("NATSIG_TEST_ADDS=%d", m),
			fmt.Sprintf("NATSIG_TEST_WANT=%d", want))
		cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
		require.NoError(t, cmd.Start())
		cmds = append(cmds, cmd)
	}
	observed := regexp.MustCompile(`observed counter=(\d+) update=(\d+) status=connected\n`)
	for i, cmd := range cmds {
		err := cmd.Wait()
		out := outs[i].String()
		require.NoError(t, err, "process %d:\n%s", i, out)
		mm := observed.FindStringSubmatch(out)
		require.NotNil(t, mm, "process %d:\n%s", i, out)
		assert.Equal(t, strconv.Itoa(want), mm[1], "process %d observed the counter's total", i)
		assert.Equal(t, strconv.Itoa(want), mm[2], "process %d observed the updates' total", i)
		if st := regexp.MustCompile(`counter: .*`).FindString(out); st != "" {
			t.Logf("process %d: %s", i, st)
		}
	}
	eventually(t, 5*time.Second, func() bool { return c.Value().Peek() == int64(want) && s.Peek() == want },
		"the parent observes %d: counter %d, update %d", want, c.Value().Peek(), s.Peek())
	assert.Equal(t, natsig.Connected, c.Status().Peek().State)
}

func TestHelperProcess(t *testing.T) {
	url := os.Getenv(helperEnv)
	if url == "" {
		t.Skip("run by TestMultiProcess as a separate process")
	}
	m, _ := strconv.Atoi(os.Getenv("NATSIG_TEST_ADDS"))
	want, _ := strconv.Atoi(os.Getenv("NATSIG_TEST_WANT"))
	c0 := ctx(t, 30*time.Second)
	nc, err := nats.Connect(url)
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	kv, err := js.KeyValue(c0, "fleet")
	require.NoError(t, err)
	b := natsig.NewBucket(js, kv)
	c, err := natsig.NewCounter(c0, b, "views")
	require.NoError(t, err)
	defer c.Close()
	s, err := natsig.Open[int](c0, b, "plain")
	require.NoError(t, err)
	defer s.Close()

	var wg sync.WaitGroup
	for g := range 3 {
		wg.Go(func() {
			for i := g; i < m; i += 3 {
				require.NoError(t, c.Add(c0, 1))
				require.NoError(t, s.Update(c0, func(n int) int { return n + 1 }))
			}
		})
	}
	wg.Wait()

	done := make(chan struct{})
	var once sync.Once
	e := signals.NewEffect(func(t *signals.Tracker) {
		if c.Value().Get(t) == int64(want) && s.Get(t) == want {
			once.Do(func() { close(done) })
		}
	})
	defer e.Stop()
	select {
	case <-done:
	case <-c0.Done():
		t.Fatalf("observed counter=%d update=%d, want %d", c.Value().Peek(), s.Peek(), want)
	}
	st := c.Stats()
	fmt.Printf("observed counter=%d update=%d status=%v\n", c.Value().Peek(), s.Peek(), c.Status().Peek())
	fmt.Printf("counter: %d writes, %d conflicts\n", st.Writes, st.Conflicts)
}

// TestServerRestart restarts the server while writers add to a counter and
// set a shared value, each through its own connection. Every add that Add
// acknowledged must be counted exactly once, and every instance must come
// back to Connected and converge.
func TestServerRestart(t *testing.T) {
	watchdog(t, time.Duration(60*scale())*time.Second)
	srv := natsigtest.Start(t)
	const instances = 3
	type instance struct {
		c            *natsig.Counter // compare-and-set
		sc           *natsig.Counter // server-side
		s            *natsig.Shared[string]
		errs         errorLog
		disconnected atomic.Bool
	}
	insts := make([]*instance, instances)
	for i := range insts {
		in := &instance{}
		b, _ := bucket(t, srv, "fault", in.errs.handler())
		var err error
		in.c, err = natsig.NewCounter(ctx(t, 10*time.Second), b, "views", natsig.Shards(2),
			natsig.AttemptTimeout(500*time.Millisecond))
		require.NoError(t, err)
		defer in.c.Close()
		in.s, err = natsig.Open[string](ctx(t, 10*time.Second), b, "last")
		require.NoError(t, err)
		defer in.s.Close()
		cb, _ := counterBucket(t, srv, "faultc", in.errs.handler())
		in.sc, err = natsig.NewCounter(ctx(t, 10*time.Second), cb, "views", natsig.AttemptTimeout(500*time.Millisecond))
		require.NoError(t, err)
		defer in.sc.Close()
		e := signals.NewEffect(func(t *signals.Tracker) {
			if in.s.Status().Get(t).State == natsig.Disconnected {
				in.disconnected.Store(true)
			}
		})
		defer e.Stop()
		insts[i] = in
	}

	var acked, sacked, sets atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, in := range insts {
		for range 2 {
			for _, c := range []struct {
				c     *natsig.Counter
				acked *atomic.Int64
			}{{in.c, &acked}, {in.sc, &sacked}} {
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						// Add retries until the add is acknowledged.
						if assert.NoError(t, c.c.Add(ctx(t, 30*time.Second), 1)) {
							c.acked.Add(1)
						}
					}
				})
			}
		}
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				c, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
				if in.s.Set(c, fmt.Sprint(i, "-", n)) == nil {
					sets.Add(1)
				}
				cancel()
			}
		})
	}

	time.Sleep(300 * time.Millisecond)
	before := acked.Load()
	srv.Shutdown()
	time.Sleep(300 * time.Millisecond)
	srv.Restart()
	eventually(t, 15*time.Second, func() bool { return acked.Load() > before+50 }, "adds resume after the restart")
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("%d adds acknowledged (%d before the restart), %d server-side, %d sets", acked.Load(), before, sacked.Load(), sets.Load())
	assert.Positive(t, before, "adds before the restart")

	// A final write that everyone must see.
	require.NoError(t, insts[0].s.Set(ctx(t, 10*time.Second), "final"))
	total, stotal := acked.Load(), sacked.Load()
	assert.Positive(t, stotal, "server-side adds")
	for i, in := range insts {
		eventually(t, 10*time.Second, func() bool {
			return in.c.Value().Peek() == total && in.sc.Value().Peek() == stotal && in.s.Peek() == "final" &&
				in.c.Status().Peek().State == natsig.Connected && in.s.Status().Peek().State == natsig.Connected &&
				in.sc.Status().Peek().State == natsig.Connected
		}, "instance %d: count %d of %d, server-side %d of %d, value %q, status %v / %v / %v", i,
			in.c.Value().Peek(), total, in.sc.Value().Peek(), stotal, in.s.Peek(),
			in.c.Status().Peek(), in.s.Status().Peek(), in.sc.Status().Peek())
		assert.True(t, in.disconnected.Load(), "instance %d reported Disconnected", i)
		var sawDisconnect bool
		for _, err := range in.errs.all() {
			sawDisconnect = sawDisconnect || errorsIs(err, natsig.ErrDisconnected)
		}
		assert.True(t, sawDisconnect, "instance %d: the error handler heard of the loss: %v", i, in.errs.all())
		st := in.c.Stats()
		t.Logf("instance %d: %d writes, %d conflicts", i, st.Writes, st.Conflicts)
	}

	// A newcomer reads the same total from the bucket.
	b, _ := bucket(t, srv, "fault")
	late, err := natsig.NewCounter(ctx(t, 10*time.Second), b, "views")
	require.NoError(t, err)
	defer late.Close()
	assert.Equal(t, total, late.Value().Peek(), "no acknowledged add lost, none counted twice")
	cb, _ := counterBucket(t, srv, "faultc")
	slate, err := natsig.NewCounter(ctx(t, 10*time.Second), cb, "views")
	require.NoError(t, err)
	defer slate.Close()
	assert.Equal(t, stotal, slate.Value().Peek(), "server-side: no acknowledged add lost, none counted twice")
}
