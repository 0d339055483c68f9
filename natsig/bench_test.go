package natsig_test

// Measurements of what the bridge costs, side by side with bare nats.go in
// the same run (README.md reports them). Readers, adders and key openers
// run as separate processes (copies of the test binary running
// TestBenchHelper), so that latencies are measured across processes and a
// client's memory apart from the embedded server's:
//
//	go test -run '^$' -bench . -benchtime 2000x ./natsig      # latency: b.N writes
//
// BenchmarkCounterAdds and BenchmarkOpenKeys do a fixed amount of work per
// iteration and report their own metrics; run them with -benchtime 1x.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"slices"
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
	benchURLEnv  = "NATSIG_BENCH_URL"
	benchModeEnv = "NATSIG_BENCH_MODE"
)

// benchRuns numbers the runs of a benchmark, for fresh bucket names.
var benchRuns atomic.Int64

// topology is where a benchmark runs: one server, or a 3-node cluster with
// buckets of 3 replicas.
type topology struct {
	name     string
	url      string // for the processes: every server, comma-separated
	replicas int
	js       jetstream.JetStream
}

func topologies(b *testing.B) []topology {
	srv := natsigtest.Start(b)
	js1, err := jetstream.New(srv.Connect())
	require.NoError(b, err)
	cl := natsigtest.StartCluster(b, 3)
	js3, err := jetstream.New(cl.Connect(0))
	require.NoError(b, err)
	return []topology{
		{name: "single", url: srv.URL(), replicas: 1, js: js1},
		{name: "r3", url: cl.URLs(0), replicas: 3, js: js3},
	}
}

// create makes a bucket of the topology's replicas, before the processes
// bind to it. With a History of 1, a revision overwritten before a watcher
// delivered it is skipped, and the slowest deliveries would go missing from
// a latency measurement: history > 1 keeps them.
func (tp topology) create(b *testing.B, name string, counter bool, history uint8) {
	cfg := jetstream.KeyValueConfig{Bucket: name, Replicas: tp.replicas, History: history}
	var err error
	if counter {
		_, err = natsig.CreateCounterBucket(ctx(b, 30*time.Second), tp.js, cfg)
	} else {
		_, err = natsig.CreateBucket(ctx(b, 30*time.Second), tp.js, cfg)
	}
	require.NoError(b, err)
}

// stamp is the value written by the latency benchmarks: the writer's wall
// clock, which the reader, on the same machine, subtracts from its own.
type stamp struct {
	I int   `json:"i"`
	T int64 `json:"t"`
}

// BenchmarkPropagation measures the latency from a write in one process to
// its arrival in another: through natsig, a Shared.Set to an effect on a
// Shared; bare, a kv.Put to a KV watcher's entry. Both run at the same
// time, each with its writer and its reader process, so that they see the
// same load (the machine is shared); the servers run in this process: one
// server, or a 3-node cluster (3 replicas), buckets with a History of 64
// (see topology.create). Each writer makes b.N writes, each once the
// previous one is acknowledged, 200µs apart. Metrics: p50
// and p99 of each, the ratio natsig/bare of the p99s, and the fraction of
// writes each reader saw.
func BenchmarkPropagation(b *testing.B) {
	for _, tp := range topologies(b) {
		b.Run(tp.name, func(b *testing.B) {
			type pair struct{ reader, writer *child }
			pairs := map[string]pair{}
			for _, mode := range []string{"bare", "natsig"} {
				bucketName := fmt.Sprintf("lat%s%d", mode, benchRuns.Add(1))
				tp.create(b, bucketName, false, 64)
				env := []string{benchURLEnv + "=" + tp.url, "NATSIG_BENCH_BUCKET=" + bucketName}
				pairs[mode] = pair{
					reader: startChild(b, "^TestBenchHelper$", append(env, benchModeEnv+"=read-"+mode)...),
					writer: startChild(b, "^TestBenchHelper$", append(env, benchModeEnv+"=write-"+mode)...),
				}
			}
			for _, p := range pairs {
				p.reader.expect(b, "ready", 30*time.Second)
				p.writer.expect(b, "ready", 30*time.Second)
			}
			b.ResetTimer()
			for _, p := range pairs {
				p.writer.send(b, fmt.Sprintf("go %d", b.N))
			}
			for _, p := range pairs {
				p.writer.expect(b, "written", 10*time.Minute)
			}
			b.StopTimer()
			m := map[string]map[string]int64{}
			for mode, p := range pairs {
				p.writer.wait(b)
				p.reader.send(b, fmt.Sprintf("stop %d", b.N))
				m[mode] = parseFields(b, p.reader.expect(b, "latency", 30*time.Second))
				p.reader.wait(b)
				if m[mode]["errors"] > 0 {
					b.Logf("%s reader's error handler:\n%s", mode, p.reader.output())
				}
				b.ReportMetric(float64(m[mode]["p50"])/1e3, mode+"-p50-µs")
				b.ReportMetric(float64(m[mode]["p99"])/1e3, mode+"-p99-µs")
				b.ReportMetric(float64(m[mode]["n"])/float64(b.N), mode+"-seen/write")
			}
			b.ReportMetric(float64(m["natsig"]["p99"])/float64(m["bare"]["p99"]), "p99-natsig/bare")
		})
	}
}

// BenchmarkCounterAdds measures adds per second to one counter from 3
// processes, each adding 1 from 4 goroutines, for 2s (×NATSIG_SOAK_SCALE):
// compare-and-set with 1 and 4 shards, and the server-side counter, on one
// server and on a 3-node cluster (3 replicas).
// Metrics: adds/s, writes/s (writes to the server: adds are combined) and
// conflicts/write.
func BenchmarkCounterAdds(b *testing.B) {
	for _, tp := range topologies(b) {
		for _, mode := range []string{"cas-1-shard", "cas-4-shards", "server"} {
			b.Run(tp.name+"/"+mode, func(b *testing.B) {
				for range b.N {
					bucketName := fmt.Sprintf("add%s%d", strings.ReplaceAll(mode, "-", ""), benchRuns.Add(1))
					tp.create(b, bucketName, mode == "server", 0) // the defaults
					var procs []*child
					for range 3 {
						procs = append(procs, startChild(b, "^TestBenchHelper$", benchURLEnv+"="+tp.url,
							benchModeEnv+"=add-"+mode, "NATSIG_BENCH_BUCKET="+bucketName))
					}
					for _, p := range procs {
						p.expect(b, "ready", 30*time.Second)
					}
					d := time.Duration(scale()) * 2 * time.Second
					for _, p := range procs {
						p.send(b, "go "+d.String())
					}
					var adds, writes, conflicts int64
					for _, p := range procs {
						m := parseFields(b, p.expect(b, "added", 30*time.Second))
						adds += m["adds"]
						writes += m["writes"]
						conflicts += m["conflicts"]
					}
					for _, p := range procs {
						p.send(b, fmt.Sprintf("expect %d", adds))
					}
					for _, p := range procs {
						p.expect(b, "exact", 30*time.Second)
						p.wait(b)
					}
					b.ReportMetric(float64(adds)/d.Seconds(), "adds/s")
					b.ReportMetric(float64(writes)/d.Seconds(), "writes/s")
					b.ReportMetric(float64(conflicts)/float64(max(writes, 1)), "conflicts/write")
				}
			})
		}
	}
}

// BenchmarkOpenKeys measures a process that opens 10,000 keys (written
// before, small values) of one bucket: the heap it gains per key and the
// goroutines it gains, measured in that process; and, for comparison, the
// same for a bare KV watcher on the bucket that keeps every entry in a map.
func BenchmarkOpenKeys(b *testing.B) {
	srv := natsigtest.Start(b)
	const keys = 10_000
	wb, _ := bucket(b, srv, "open")
	kv := wb.KeyValue()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := g; i < keys; i += 8 {
				_, err := kv.Put(context.Background(), fmt.Sprint("k", i), []byte(strconv.Itoa(i)))
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, mode := range []string{"bare-watch-map", "natsig"} {
		b.Run(mode, func(b *testing.B) {
			for range b.N {
				p := startChild(b, "^TestBenchHelper$", benchURLEnv+"="+srv.URL(), benchModeEnv+"=open-"+mode,
					"NATSIG_BENCH_BUCKET=open", fmt.Sprintf("NATSIG_BENCH_KEYS=%d", keys))
				m := parseFields(b, p.expect(b, "opened", 120*time.Second))
				p.wait(b)
				b.ReportMetric(float64(m["heap"])/keys, "B/key")
				b.ReportMetric(float64(m["goroutines"]), "goroutines")
				b.ReportMetric(float64(m["ns"])/keys/1e3, "open-µs/key")
			}
		})
	}
}

// TestBenchHelper is a process of the benchmarks.
func TestBenchHelper(t *testing.T) {
	url, mode := os.Getenv(benchURLEnv), os.Getenv(benchModeEnv)
	if url == "" {
		t.Skip("run by the benchmarks as a separate process")
	}
	bucketName := os.Getenv("NATSIG_BENCH_BUCKET")
	c0 := ctx(t, 60*time.Second)
	nc, err := nats.Connect(url)
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	commands := make(chan string)
	go func() {
		buf := make([]byte, 4096)
		var line []byte
		for {
			n, err := os.Stdin.Read(buf)
			line = append(line, buf[:n]...)
			for {
				i := slices.Index(line, '\n')
				if i < 0 {
					break
				}
				commands <- string(line[:i])
				line = line[i+1:]
			}
			if err != nil {
				close(commands)
				return
			}
		}
	}()

	switch {
	case strings.HasPrefix(mode, "write-"):
		benchWrite(t, c0, js, bucketName, strings.TrimPrefix(mode, "write-"), commands)
	case strings.HasPrefix(mode, "read-"):
		benchRead(t, c0, js, bucketName, strings.TrimPrefix(mode, "read-"), commands)
	case strings.HasPrefix(mode, "add-"):
		benchAdd(t, c0, js, bucketName, strings.TrimPrefix(mode, "add-"), commands)
	case strings.HasPrefix(mode, "open-"):
		n, _ := strconv.Atoi(os.Getenv("NATSIG_BENCH_KEYS"))
		benchOpen(t, c0, js, bucketName, strings.TrimPrefix(mode, "open-"), n)
	default:
		t.Fatalf("mode %q", mode)
	}
}

func benchWrite(t *testing.T, c0 context.Context, js jetstream.JetStream, bucketName, mode string, commands chan string) {
	b, err := natsig.CreateBucket(c0, js, jetstream.KeyValueConfig{Bucket: bucketName})
	require.NoError(t, err)
	var set func(context.Context, stamp) error
	if mode == "natsig" {
		s, err := natsig.Open[stamp](c0, b, "k")
		require.NoError(t, err)
		defer s.Close()
		set = s.Set
	} else {
		kv := b.KeyValue()
		set = func(c context.Context, v stamp) error {
			raw, err := json.Marshal(v)
			if err == nil {
				_, err = kv.Put(c, "k", raw)
			}
			return err
		}
	}
	fmt.Println("natsig-child ready")
	n, err := strconv.Atoi(strings.TrimPrefix(<-commands, "go "))
	require.NoError(t, err)
	for i := range n {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := set(c, stamp{I: i + 1, T: time.Now().UnixNano()})
		cancel()
		require.NoError(t, err)
		time.Sleep(200 * time.Microsecond) // let the reader work between writes
	}
	fmt.Println("natsig-child written")
}

func benchRead(t *testing.T, c0 context.Context, js jetstream.JetStream, bucketName, mode string, commands chan string) {
	var mu sync.Mutex
	var lat []time.Duration
	record := func(v stamp) {
		d := time.Duration(time.Now().UnixNano() - v.T)
		mu.Lock()
		lat = append(lat, d)
		mu.Unlock()
	}
	var errs []string
	b, err := natsig.CreateBucket(c0, js, jetstream.KeyValueConfig{Bucket: bucketName}, natsig.WithErrorHandler(func(err error) {
		mu.Lock()
		errs = append(errs, err.Error())
		mu.Unlock()
	}))
	require.NoError(t, err)
	if mode == "natsig" {
		s, err := natsig.Open[stamp](c0, b, "k")
		require.NoError(t, err)
		defer s.Close()
		e := signals.NewEffect(func(t *signals.Tracker) {
			if v := s.Get(t); v.I > 0 {
				record(v)
			}
		})
		defer e.Stop()
	} else {
		w, err := b.KeyValue().Watch(c0, "k", jetstream.UpdatesOnly())
		require.NoError(t, err)
		defer w.Stop()
		go func() {
			for e := range w.Updates() {
				var v stamp
				if e != nil && json.Unmarshal(e.Value(), &v) == nil {
					record(v)
				}
			}
		}()
	}
	fmt.Println("natsig-child ready")
	cmd := <-commands
	want, _ := strconv.Atoi(strings.TrimPrefix(cmd, "stop "))
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(lat)
		mu.Unlock()
		if n >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	for _, e := range errs {
		fmt.Fprintln(os.Stderr, "error handler:", e)
	}
	fmt.Printf("natsig-child latency p50=%d p99=%d n=%d errors=%d\n", pct(0.50).Nanoseconds(), pct(0.99).Nanoseconds(), len(lat), len(errs))
}

func benchAdd(t *testing.T, c0 context.Context, js jetstream.JetStream, bucketName, mode string, commands chan string) {
	var b *natsig.Bucket
	var opts []natsig.CounterOption
	var err error
	switch mode {
	case "server":
		b, err = natsig.CreateCounterBucket(c0, js, jetstream.KeyValueConfig{Bucket: bucketName})
	case "cas-1-shard":
		b, err = natsig.CreateBucket(c0, js, jetstream.KeyValueConfig{Bucket: bucketName})
		opts = append(opts, natsig.Shards(1))
	case "cas-4-shards":
		b, err = natsig.CreateBucket(c0, js, jetstream.KeyValueConfig{Bucket: bucketName})
		opts = append(opts, natsig.Shards(4))
	}
	require.NoError(t, err)
	c, err := natsig.NewCounter(c0, b, "n", opts...)
	require.NoError(t, err)
	defer c.Close()
	fmt.Println("natsig-child ready")
	d, err := time.ParseDuration(strings.TrimPrefix(<-commands, "go "))
	require.NoError(t, err)
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var adds int64
	for range 4 {
		wg.Go(func() {
			var n int64
			for time.Now().Before(end) {
				if !assert.NoError(t, c.Add(c0, 1)) {
					break
				}
				n++
			}
			mu.Lock()
			adds += n
			mu.Unlock()
		})
	}
	wg.Wait()
	st := c.Stats()
	fmt.Printf("natsig-child added adds=%d writes=%d conflicts=%d\n", adds, st.Writes, st.Conflicts)
	want, _ := strconv.ParseInt(strings.TrimPrefix(<-commands, "expect "), 10, 64)
	eventually(t, 10*time.Second, func() bool { return c.Value().Peek() == want }, "counter %d, want %d", c.Value().Peek(), want)
	fmt.Println("natsig-child exact")
}

func benchOpen(t *testing.T, c0 context.Context, js jetstream.JetStream, bucketName, mode string, n int) {
	b, err := natsig.CreateBucket(c0, js, jetstream.KeyValueConfig{Bucket: bucketName})
	require.NoError(t, err)
	// Warm up what the connection starts once, on another bucket.
	wb, err := natsig.CreateBucket(c0, js, jetstream.KeyValueConfig{Bucket: bucketName + "warm"})
	require.NoError(t, err)
	w, err := natsig.Open[int](c0, wb, "warm")
	require.NoError(t, err)
	require.NoError(t, w.Set(c0, 1))
	w.Close()

	heap := func() int64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	heap0, goroutines0 := heap(), runtime.NumGoroutine()
	start := time.Now()
	var keep any
	switch mode {
	case "natsig":
		keys := make([]*natsig.Shared[int], n)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := g; i < n; i += 8 {
					var err error
					keys[i], err = natsig.Open[int](c0, b, fmt.Sprint("k", i))
					if !assert.NoError(t, err) {
						return
					}
				}
			})
		}
		wg.Wait()
		require.False(t, t.Failed())
		for i, s := range keys {
			require.Equal(t, i, s.Peek())
		}
		keep = keys
	case "bare-watch-map":
		// What a hand-made multiplexer would keep: the latest entry of
		// every key, from one watcher.
		kw, err := b.KeyValue().WatchAll(c0)
		require.NoError(t, err)
		defer kw.Stop()
		entries := map[string]jetstream.KeyValueEntry{}
		for e := range kw.Updates() {
			if e == nil {
				break
			}
			entries[e.Key()] = e
		}
		require.Len(t, entries, n)
		keep = entries
	}
	elapsed := time.Since(start)
	heap1, goroutines1 := heap(), runtime.NumGoroutine()
	runtime.KeepAlive(keep)
	fmt.Printf("natsig-child opened keys=%d heap=%d goroutines=%d ns=%d\n", n, heap1-heap0, goroutines1-goroutines0, elapsed.Nanoseconds())
}
