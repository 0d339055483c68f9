package natsig_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
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

const (
	clusterURLsEnv = "NATSIG_CLUSTER_URLS"
	clusterIDEnv   = "NATSIG_CLUSTER_ID"
	clusterProcs   = 3
	clusterKV      = "fleet"  // Set, Update, CAS counter
	clusterCounter = "fleetc" // server-side counter
)

// TestClusterFailover runs a 3-node JetStream cluster in this process, with
// buckets of 3 replicas, and 3 OS processes that write and watch them: each
// sets its own key, updates a shared one, and adds to a CAS counter and to
// a server-side counter, while every process watches every key. Mid-load,
// it shuts down the leader of each bucket's stream and the meta leader,
// one at a time, and brings each back. Then:
//   - no acknowledged Set, Update or Add is lost: the counters are exactly
//     the number of adds acknowledged, the shared key holds at least the
//     updates acknowledged (at most those plus the ones of unknown outcome),
//     and each own key holds at least its last acknowledged value;
//   - every process's local values converge to the bucket's, and never went
//     backwards;
//   - every process's Status reported the outage and then Connected.
//
// NATSIG_SOAK_SCALE=n repeats the faults n times, for a longer soak.
func TestClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster and 3 processes")
	}
	rounds := scale()
	watchdog(t, time.Duration(120+60*rounds)*time.Second)
	start := time.Now()
	cl := natsigtest.StartCluster(t, 3)
	t.Logf("cluster started in %v", time.Since(start).Round(time.Millisecond))
	nc := cl.Connect(0)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	// A stream's creation on a young cluster can get no answer (its request
	// reached a meta leader that was losing its place, under load): ask
	// again; a bucket created meanwhile is bound.
	retryCreate(t, func(c context.Context) error {
		_, err := natsig.CreateBucket(c, js, jetstream.KeyValueConfig{Bucket: clusterKV, Replicas: 3})
		return err
	})
	retryCreate(t, func(c context.Context) error {
		_, err := natsig.CreateCounterBucket(c, js, jetstream.KeyValueConfig{Bucket: clusterCounter, Replicas: 3})
		return err
	})
	cl.WaitStream("KV_"+clusterKV, 30*time.Second)
	cl.WaitStream("KV_"+clusterCounter, 30*time.Second)
	t.Logf("cluster ready in %v", time.Since(start).Round(time.Millisecond))

	// Process i connects to server i first, so that every shutdown cuts
	// some process's connection.
	children := make([]*child, clusterProcs)
	for i := range children {
		children[i] = startChild(t, "^TestClusterHelper$", clusterURLsEnv+"="+cl.URLs(i), fmt.Sprintf("%s=%d", clusterIDEnv, i))
	}
	for _, c := range children {
		c.expect(t, "ready", 60*time.Second)
	}
	t.Logf("processes ready at %v", time.Since(start).Round(time.Millisecond))

	// The parent watches the counter bucket too, to see the load go on.
	pb, err := natsig.CreateCounterBucket(ctx(t, 10*time.Second), js, jetstream.KeyValueConfig{Bucket: clusterCounter},
		natsig.WithErrorHandler(func(error) {}))
	require.NoError(t, err)
	progress, err := natsig.NewCounter(ctx(t, 10*time.Second), pb, "srv")
	require.NoError(t, err)
	defer progress.Close()
	loadGoesOn := func(what string) {
		t.Helper()
		from := progress.Value().Peek()
		eventually(t, 30*time.Second, func() bool { return progress.Value().Peek() >= from+20 },
			"adds go on %s: %d, from %d", what, progress.Value().Peek(), from)
	}
	loadGoesOn("before the faults")

	kill := func(what string, idx int) {
		t.Helper()
		require.GreaterOrEqual(t, idx, 0, "no %s", what)
		srv := cl.Servers[idx]
		t0 := time.Now()
		srv.Shutdown()
		down := time.Since(t0)
		loadGoesOn("without " + what + " " + srv.Name())
		resumed := time.Since(t0)
		time.Sleep(300 * time.Millisecond)
		srv.Restart()
		cl.WaitReady(30 * time.Second)
		cl.WaitStream("KV_"+clusterKV, 30*time.Second)
		cl.WaitStream("KV_"+clusterCounter, 30*time.Second)
		t.Logf("%s %s: shut down in %v, adds resumed at %v, back and current at %v", what, srv.Name(),
			down.Round(time.Millisecond), resumed.Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))
	}
	for range rounds {
		kill("leader of KV_"+clusterKV, cl.StreamLeader("KV_"+clusterKV))
		loadGoesOn("after the restart")
		kill("leader of KV_"+clusterCounter, cl.StreamLeader("KV_"+clusterCounter))
		loadGoesOn("after the restart")
		kill("meta leader", cl.MetaLeader())
		loadGoesOn("after the restart")
	}

	// Stop the writers; each reports what was acknowledged.
	acks := make([]map[string]int64, len(children))
	for i, c := range children {
		c.send(t, "stop")
		acks[i] = parseFields(t, c.expect(t, "acked", 60*time.Second))
		t.Logf("process %d: %v", i, acks[i])
	}

	// The bucket's values, read by a watcher started now: from the leader.
	truth := map[string]int64{}
	fb, err := natsig.CreateBucket(ctx(t, 10*time.Second), js, jetstream.KeyValueConfig{Bucket: clusterKV})
	require.NoError(t, err)
	for i := range clusterProcs {
		s, err := natsig.Open[int64](ctx(t, 20*time.Second), fb, fmt.Sprint("p", i))
		require.NoError(t, err)
		truth[fmt.Sprint("p", i)] = s.Peek()
		defer s.Close()
	}
	u, err := natsig.Open[int64](ctx(t, 20*time.Second), fb, "u")
	require.NoError(t, err)
	defer u.Close()
	truth["u"] = u.Peek()
	cas, err := natsig.NewCounter(ctx(t, 20*time.Second), fb, "cas")
	require.NoError(t, err)
	defer cas.Close()
	truth["cas"] = cas.Value().Peek()
	fcb, err := natsig.CreateCounterBucket(ctx(t, 10*time.Second), js, jetstream.KeyValueConfig{Bucket: clusterCounter})
	require.NoError(t, err)
	srvc, err := natsig.NewCounter(ctx(t, 20*time.Second), fcb, "srv")
	require.NoError(t, err)
	defer srvc.Close()
	truth["srv"] = srvc.Value().Peek()
	t.Logf("bucket: %v", truth)

	var sum = map[string]int64{}
	for _, a := range acks {
		for k, v := range a {
			sum[k] += v
		}
	}
	assert.Equal(t, sum["cas"], truth["cas"], "CAS counter: exactly the acknowledged adds")
	// A counter bucket relies on the servers' duplicate detection, which a
	// server that rebuilt it may lack (README, "Counters"): an add that was
	// resent may count twice, about once in ten runs here. Every
	// acknowledged add counts; no add that was not resent counts twice.
	assert.GreaterOrEqual(t, truth["srv"], sum["srv"], "server-side counter: no acknowledged add lost")
	assert.LessOrEqual(t, truth["srv"], sum["srv"]+sum["srvresent"], "server-side counter: only resent adds may count twice")
	if extra := truth["srv"] - sum["srv"]; extra > 0 {
		t.Logf("server-side counter: %d adds counted twice, of %d resent", extra, sum["srvresent"])
	}
	assert.GreaterOrEqual(t, truth["u"], sum["upd"], "no acknowledged update lost")
	assert.LessOrEqual(t, truth["u"], sum["upd"]+sum["updunknown"], "no update applied that was not attempted")
	for i, a := range acks {
		p := truth[fmt.Sprint("p", i)]
		assert.GreaterOrEqual(t, p, a["set"], "process %d: its last acknowledged Set is kept", i)
		assert.LessOrEqual(t, p, a["setmax"], "process %d: no value it did not write", i)
		assert.Positive(t, a["set"], "process %d: sets were acknowledged", i)
		assert.Zero(t, a["backwards"], "process %d: values never went backwards", i)
		assert.Positive(t, a["outages"], "process %d: Status reported the outage", i)
	}

	// Every process converges to the bucket's values, and to Connected.
	var expect []string
	for k, v := range truth {
		expect = append(expect, fmt.Sprintf("%s=%d", k, v))
	}
	for _, c := range children {
		c.send(t, "expect "+strings.Join(expect, " "))
	}
	for i, c := range children {
		line := c.expect(t, "converged", 60*time.Second)
		t.Logf("process %d: %s", i, line)
		c.wait(t)
	}
	t.Logf("done in %v", time.Since(start).Round(time.Millisecond))
}

// TestClusterHelper is one process of TestClusterFailover.
func TestClusterHelper(t *testing.T) {
	urls := os.Getenv(clusterURLsEnv)
	if urls == "" {
		t.Skip("run by TestClusterFailover as a separate process")
	}
	id, _ := strconv.Atoi(os.Getenv(clusterIDEnv))
	c0 := ctx(t, 30*time.Second)
	nc, err := nats.Connect(urls, nats.DontRandomize(), nats.MaxReconnects(-1),
		nats.ReconnectWait(20*time.Millisecond), nats.ReconnectJitter(10*time.Millisecond, 10*time.Millisecond))
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	quiet := natsig.WithErrorHandler(func(error) {})
	b, err := natsig.CreateBucket(c0, js, jetstream.KeyValueConfig{Bucket: clusterKV}, quiet)
	require.NoError(t, err)
	cb, err := natsig.CreateCounterBucket(c0, js, jetstream.KeyValueConfig{Bucket: clusterCounter}, quiet)
	require.NoError(t, err)

	keys := map[string]*natsig.Shared[int64]{}
	for i := range clusterProcs {
		keys[fmt.Sprint("p", i)], err = natsig.Open[int64](c0, b, fmt.Sprint("p", i))
		require.NoError(t, err)
	}
	keys["u"], err = natsig.Open[int64](c0, b, "u")
	require.NoError(t, err)
	cas, err := natsig.NewCounter(c0, b, "cas", natsig.Shards(3))
	require.NoError(t, err)
	srv, err := natsig.NewCounter(c0, cb, "srv")
	require.NoError(t, err)
	defer func() {
		for _, s := range keys {
			s.Close()
		}
		cas.Close()
		srv.Close()
	}()
	mine := keys[fmt.Sprint("p", id)]

	// Watch: values never go backwards; Status reports outages.
	var backwards, outages atomic.Int64
	var effects []*signals.Effect
	for _, s := range keys { // every key's value only grows
		last := int64(-1)
		effects = append(effects, signals.NewEffect(func(t *signals.Tracker) {
			v := s.Get(t)
			if v < last {
				backwards.Add(1)
			}
			last = v
		}))
	}
	for _, st := range []signals.Readable[natsig.Status]{mine.Status(), srv.Status()} {
		connected := true
		effects = append(effects, signals.NewEffect(func(t *signals.Tracker) {
			now := st.Get(t).State == natsig.Connected
			if connected && !now {
				outages.Add(1)
			}
			connected = now
		}))
	}
	defer func() {
		for _, e := range effects {
			e.Stop()
		}
	}()

	commands := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		sc.Buffer(make([]byte, 1<<16), 1<<20)
		for sc.Scan() {
			commands <- sc.Text()
		}
		close(commands)
	}()
	fmt.Println("natsig-child ready")

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var set, setMax, upd, updUnknown, casAdds, srvAdds atomic.Int64
	var failures sync.Map
	fail := func(what string, err error) {
		v, _ := failures.LoadOrStore(what+": "+err.Error(), new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
	}
	every := func(d time.Duration, fn func()) {
		wg.Go(func() {
			tick := time.NewTicker(d)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					fn()
				}
			}
		})
	}
	every(5*time.Millisecond, func() {
		n := setMax.Add(1)
		c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := mine.Set(c, n); err != nil {
			fail("set", err)
			return
		}
		set.Store(max(set.Load(), n))
	})
	every(5*time.Millisecond, func() {
		c, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		switch err := keys["u"].Update(c, func(n int64) int64 { return n + 1 }); {
		case err == nil:
			upd.Add(1)
		case errors.Is(err, natsig.ErrUnknownOutcome):
			updUnknown.Add(1)
			fail("update", err)
		default:
			fail("update", err) // not applied
		}
	})
	for range 2 {
		// An Add is retried until acknowledged: it must not fail.
		every(time.Millisecond, func() {
			if err := cas.Add(context.Background(), 1); err != nil {
				fail("cas add (FATAL)", err)
				return
			}
			casAdds.Add(1)
		})
		every(time.Millisecond, func() {
			if err := srv.Add(context.Background(), 1); err != nil {
				fail("server add (FATAL)", err)
				return
			}
			srvAdds.Add(1)
		})
	}

	if cmd := <-commands; cmd != "stop" {
		t.Fatalf("unexpected command %q", cmd)
	}
	close(stop)
	wg.Wait()
	failures.Range(func(k, v any) bool {
		fmt.Fprintf(os.Stderr, "%d× %s\n", v.(*atomic.Int64).Load(), k)
		assert.NotContains(t, k, "FATAL")
		return true
	})
	fmt.Printf("natsig-child acked set=%d setmax=%d upd=%d updunknown=%d cas=%d srv=%d srvresent=%d backwards=%d outages=%d\n",
		set.Load(), setMax.Load(), upd.Load(), updUnknown.Load(), casAdds.Load(), srvAdds.Load(), srv.Stats().Resent,
		backwards.Load(), outages.Load())

	cmd, ok := <-commands
	require.True(t, ok, "no expected values")
	want := parseFields(t, strings.TrimPrefix(cmd, "expect "))
	local := func() map[string]int64 {
		m := map[string]int64{"cas": cas.Value().Peek(), "srv": srv.Value().Peek()}
		for k, s := range keys {
			m[k] = s.Peek()
		}
		return m
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		l := local()
		st := []natsig.Status{mine.Status().Peek(), srv.Status().Peek()}
		ok := st[0].State == natsig.Connected && st[1].State == natsig.Connected
		for k, v := range want {
			ok = ok && l[k] == v
		}
		if ok {
			fmt.Printf("natsig-child converged %v status=%v\n", l, st[0])
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("diverged: local %v, bucket %v, status %v", l, want, st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// parseFields reads "a=1 b=2" into a map, after the first word if it has
// no '='.
func parseFields(t testing.TB, line string) map[string]int64 {
	m := map[string]int64{}
	for _, f := range strings.Fields(line) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		require.NoError(t, err, "field %q of %q", f, line)
		m[k] = n
	}
	return m
}

// child is a copy of the test binary running one test as another process,
// driven through its stdin, and printing "natsig-child <word> …" lines.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // the natsig-child lines, without the prefix
	mu    sync.Mutex
	out   bytes.Buffer // everything it printed
	done  chan struct{}
	err   error
}

func startChild(t testing.TB, run string, env ...string) *child {
	t.Helper()
	c := &child{lines: make(chan string, 16), done: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], "-test.run="+run, "-test.count=1", "-test.v", "-test.timeout=5m")
	c.cmd.Env = append(os.Environ(), env...)
	var err error
	c.stdin, err = c.cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := c.cmd.StdoutPipe()
	require.NoError(t, err)
	c.cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.out.Write(p)
	})
	require.NoError(t, c.cmd.Start())
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			c.mu.Lock()
			c.out.WriteString(line + "\n")
			c.mu.Unlock()
			if rest, ok := strings.CutPrefix(line, "natsig-child "); ok {
				c.lines <- rest
			}
		}
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		c.stdin.Close() // the child stops when its stdin ends
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			c.cmd.Process.Kill()
		}
	})
	return c
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func (c *child) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

// expect waits up to d for a line that starts with word, and returns it.
func (c *child) expect(t testing.TB, word string, d time.Duration) string {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case line := <-c.lines:
			if strings.HasPrefix(line, word) {
				return line
			}
		case <-c.done:
			for { // lines it printed before it ended
				select {
				case line := <-c.lines:
					if strings.HasPrefix(line, word) {
						return line
					}
					continue
				default:
				}
				break
			}
			t.Fatalf("process ended (%v) before %q:\n%s", c.err, word, c.output())
		case <-timeout:
			t.Fatalf("no %q after %v:\n%s", word, d, c.output())
		}
	}
}

func (c *child) send(t testing.TB, line string) {
	t.Helper()
	_, err := io.WriteString(c.stdin, line+"\n")
	require.NoError(t, err, "process output:\n%s", c.output())
}

// wait waits for the process to end, and fails if it failed.
func (c *child) wait(t testing.TB) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("process still running:\n%s", c.output())
	}
	require.NoError(t, c.err, "process output:\n%s", c.output())
}

// retryCreate calls create with a 15-second context until it succeeds, at
// most four times.
func retryCreate(t *testing.T, create func(context.Context) error) {
	t.Helper()
	var errs []error
	for range 4 {
		err := create(ctx(t, 15*time.Second))
		if err == nil {
			return
		}
		errs = append(errs, err)
		t.Logf("creating a bucket: %v (asking again)", err)
	}
	t.Fatalf("a bucket could not be created: %v", errors.Join(errs...))
}
