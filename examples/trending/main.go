// Command trending counts views of a catalog of items and serves a ranking
// of the most viewed ones over a sliding window. It shows signals under
// write contention and at scale:
//
//   - the views live in a signals.Map from item id to a tally (all-time
//     views, and views per time bucket), updated with Map.Update by
//     whichever request goroutine records a view: no view is ever lost, and
//     an increment allocates nothing;
//   - the ranking is a computed that follows the map's changes
//     (Map.Changes): after k views it reads k items, not the whole catalog,
//     and it rescans only when the window slides by one bucket, driven by a
//     signals.Clock that ticks only while the ranking is observed;
//   - an effect with Throttle publishes the ranking at most once per
//     interval, however fast views arrive.
//
// With -nats URL, the counters are natsig.Counters in a NATS JetStream
// key-value bucket instead (keys item.<id>.<shard>), so that every instance
// started with the same -nats and -bucket serves the same counts: each
// instance mirrors the counters into its map, and its ranking reacts to the
// views recorded by all of them. The counts persist in the bucket across
// runs; the window of an instance holds the views it saw arrive.
//
// Usage (examples/trending is a module of its own; run it from its
// directory, or with go run -C examples/trending . from the repository's):
//
//	go run . [-addr :8081] [-items 20] [-n 5] [-interval 250ms] [-window 1m] [-load 0] [-duration 0s]
//	         [-nats nats://127.0.0.1:4222] [-bucket trending] [-shards 4]
//
// Endpoints: POST /view/{id} records a view of item id (1 to -items),
// GET /trending.json serves the last published ranking (views within the
// window) and GET /counts the all-time count of every item. With -load N,
// N goroutines of a built-in load generator post views over HTTP; with
// -duration D the program stops after D and prints how many views were sent
// and counted, and the all-time top.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gosignals/signals"
	"github.com/gosignals/signals/natsig"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "trending:", err)
		os.Exit(1)
	}
}

// run serves the counters until ctx is done or -duration has passed, then
// stops the load generator, shuts down gracefully and prints a summary.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("trending", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", ":8081", "address to listen on")
	items := fs.Int("items", 20, "number of items, with ids 1 to items")
	topN := fs.Int("n", 5, "length of the ranking")
	interval := fs.Duration("interval", 250*time.Millisecond, "minimum time between two publications of the ranking")
	window := fs.Duration("window", time.Minute, "the ranking counts the views of the last window, which slides by window/6")
	load := fs.Int("load", 0, "goroutines of the built-in load generator (0: none)")
	duration := fs.Duration("duration", 0, "stop after this long (0: run until interrupted)")
	natsURL := fs.String("nats", "", "share the counts through this NATS server (JetStream enabled) with every instance using the same bucket (empty: count in this process)")
	bucket := fs.String("bucket", "trending", "with -nats, the key-value bucket holding the counts")
	shards := fs.Int("shards", natsig.DefaultShards, "with -nats, keys per item counter (about the number of instances that count at once)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *items < 1:
		return fmt.Errorf("-items must be at least 1, got %d", *items)
	case *topN < 1:
		return fmt.Errorf("-n must be at least 1, got %d", *topN)
	case *interval <= 0:
		return fmt.Errorf("-interval must be positive, got %v", *interval)
	case *window < buckets*time.Millisecond:
		return fmt.Errorf("-window must be at least %v, got %v", buckets*time.Millisecond, *window)
	case *load < 0:
		return fmt.Errorf("-load must not be negative, got %d", *load)
	case *duration < 0:
		return fmt.Errorf("-duration must not be negative, got %v", *duration)
	case *shards < 1 || *shards > 1024:
		return fmt.Errorf("-shards must be from 1 to 1024, got %d", *shards)
	}

	// The publisher outlives ctx until run returns, so that the ranking
	// served stays current while the shutdown drains requests in flight.
	life, end := context.WithCancel(context.Background())
	defer end()
	stdout = &syncWriter{w: stdout} // effects write from other goroutines
	var c counters = localCounters(*items)
	if *natsURL != "" {
		nc, err := openNATS(ctx, *natsURL, *bucket, *items, *shards, stdout)
		if err != nil {
			return err
		}
		defer nc.close()
		defer nc.logStatus(life, stdout).Stop() // before nc.close: "closed" is no news
		c = nc
	}
	if *duration > 0 { // from now on: the connection to NATS is not part of it
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	s := newServerWith(life, c, *topN, *interval, *window)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	base := baseURL(ln.Addr())
	fmt.Fprintf(stdout, "serving the ranking on %s/trending.json\n", base)

	var sent atomic.Int64
	loadErrs := make([]error, *load)
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var wg sync.WaitGroup
	if *load > 0 {
		// One idle connection per goroutine: without it, most requests
		// would open a new connection and exhaust ephemeral ports.
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *load}}
		defer client.CloseIdleConnections()
		for g := range *load {
			wg.Go(func() { loadErrs[g] = generate(loadCtx, client, base, *items, uint64(g), &sent) })
		}
	}

	select {
	case err = <-served:
	case <-ctx.Done():
	}
	stopLoad() // also when the server failed before ctx ended
	wg.Wait()
	if err == nil {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = hs.Shutdown(shutdownCtx)
	}
	switch {
	case *load > 0 && *natsURL != "":
		fmt.Fprintf(stdout, "load generator: sent %d views; all instances counted %d; ranking computed %d times\n",
			sent.Load(), s.total(), s.rank.runs.Load())
	case *load > 0:
		fmt.Fprintf(stdout, "load generator: sent %d views, counted %d; ranking computed %d times\n",
			sent.Load(), s.total(), s.rank.runs.Load())
	}
	fmt.Fprintf(stdout, "all-time top %d:\n", *topN)
	for i, e := range s.allTime(*topN) {
		fmt.Fprintf(stdout, "%d. item %d (views: %d)\n", i+1, e.ID, e.Views)
	}
	return errors.Join(append(loadErrs, err)...)
}

// baseURL turns a listener's address into a URL a browser can open.
func baseURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// generate posts views of items drawn from a Zipf distribution, as real
// popularity is, until ctx is done, and counts those the server accepted.
func generate(ctx context.Context, client *http.Client, base string, items int, seed uint64, sent *atomic.Int64) error {
	zipf := rand.NewZipf(rand.New(rand.NewPCG(seed, 1)), 1.1, 1, uint64(items-1))
	// A request canceled midway may or may not have been counted, so the
	// last one is allowed to finish: that keeps sent exact.
	reqCtx := context.WithoutCancel(ctx)
	for ctx.Err() == nil {
		url := base + "/view/" + strconv.FormatUint(1+zipf.Uint64(), 10)
		req, err := http.NewRequestWithContext(reqCtx, http.MethodPost, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body) // so that the connection is reused
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusNoContent {
			return fmt.Errorf("POST %s: %s", url, resp.Status)
		}
		sent.Add(1)
	}
	return nil
}

// entry is one line of the ranking.
type entry struct {
	ID    int   `json:"id"`
	Views int64 `json:"views"`
}

type server struct {
	mux      *http.ServeMux
	counters counters
	views    *signals.Map[int, tally] // item id → its views
	now      func() time.Time         // the time of a view
	rank     *ranker
	counts   *signals.Computed[[]int64] // all-time views of items 1 to len()
	trending atomic.Pointer[[]byte]     // the /trending.json body last published
}

// counters record views: in this process (localCounters), or in a NATS
// key-value bucket shared by every instance (natsCounters). Either way the
// views end up in the server's map.
type counters interface {
	// len returns the number of items, with ids 1 to len().
	len() int
	// add records a view of item id, and returns once it is counted.
	add(ctx context.Context, s *server, id int) error
	// follow starts what brings views recorded elsewhere into s.views,
	// until ctx is done.
	follow(ctx context.Context, s *server)
}

// localCounters count in the server's map: Update is atomic, so concurrent
// views of one item never overwrite each other, as a Get followed by a Set
// could.
type localCounters int

func (c localCounters) len() int { return int(c) }
func (c localCounters) add(_ context.Context, s *server, id int) error {
	s.addViews(id, 1)
	return nil
}
func (localCounters) follow(context.Context, *server) {}

// addViews adds n views of item id, now.
func (s *server) addViews(id int, n int64) {
	b := bucketOf(s.now(), s.rank.width)
	s.views.Update(id, func(t tally, _ bool) tally { return t.add(b, n) })
}

// newServer serves counters for items 1 to items and publishes their top n
// over a window of one minute at most once per interval, until ctx is done.
func newServer(ctx context.Context, items, n int, interval time.Duration) *server {
	return newServerWith(ctx, localCounters(items), n, interval, time.Minute)
}

// newServerWith is newServer with the counters and window given.
func newServerWith(ctx context.Context, c counters, n int, interval, window time.Duration) *server {
	width := window / buckets
	// A Clock ticks only while observed: here, while the publisher runs.
	return newServerClock(ctx, c, n, interval, width, signals.NewClock(width, signals.WithName[time.Time]("now")), time.Now)
}

// newServerClock is newServerWith with buckets of the given width, the
// clock that slides the window and the time of views given.
func newServerClock(ctx context.Context, c counters, n int, interval, width time.Duration,
	clock signals.Readable[time.Time], now func() time.Time) *server {
	s := &server{mux: http.NewServeMux(), counters: c, now: now,
		// The log must hold the views of one publication interval, or
		// the ranking rescans everything.
		views: signals.NewMap[int, tally](signals.MapName("views"), signals.MapLogSize(1<<16))}
	s.rank = newRanker(s.views, clock, width, n)

	// Computed only when /counts asks: one consistent state of all the
	// counts, although views keep arriving.
	s.counts = signals.NewComputed(func(t *signals.Tracker) []int64 {
		counts := make([]int64, s.counters.len())
		for id, tl := range s.views.All(t) {
			if id >= 1 && id <= len(counts) {
				counts[id-1] = tl.Total
			}
		}
		return counts
	}, signals.WithName[[]int64]("counts"))

	c.follow(ctx, s)

	// The effect is what pulls the ranking, so the ranking is computed only
	// as often as the throttle lets the effect run.
	signals.NewEffect(func(t *signals.Tracker) {
		top := s.rank.ranking(t)
		if top == nil {
			top = []entry{} // [], not null, before the first view
		}
		body, err := json.Marshal(struct {
			Top       []entry   `json:"top"`
			Window    string    `json:"window"`
			UpdatedAt time.Time `json:"updated_at"`
		}{top, (width * buckets).String(), time.Now().UTC()})
		if err != nil {
			panic(err) // cannot happen: only ints, a string and a time
		}
		s.trending.Store(&body)
	}, signals.Throttle(interval), signals.WithContext(ctx), signals.WithEffectName("publish trending"))

	s.mux.HandleFunc("POST /view/{id}", s.view)
	s.mux.HandleFunc("GET /trending.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(*s.trending.Load())
	})
	s.mux.HandleFunc("GET /counts", s.serveCounts)
	return s
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *server) view(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil {
		http.Error(w, fmt.Sprintf("item id %q is not an integer", r.PathValue("id")), http.StatusBadRequest)
		return
	}
	if id < 1 || id > s.counters.len() {
		http.Error(w, fmt.Sprintf("no item %d: ids go from 1 to %d", id, s.counters.len()), http.StatusNotFound)
		return
	}
	if err := s.counters.add(r.Context(), s, id); err != nil {
		http.Error(w, fmt.Sprintf("view of item %d: %v", id, err), http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) serveCounts(w http.ResponseWriter, r *http.Request) {
	counts := s.counts.Peek()
	all := make([]entry, len(counts))
	for i, views := range counts {
		all[i] = entry{ID: i + 1, Views: views}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(all)
}

// total returns the number of views counted.
func (s *server) total() int64 {
	var sum int64
	for _, views := range s.counts.Peek() {
		sum += views
	}
	return sum
}

// allTime returns the n items with the most views of all time.
func (s *server) allTime(n int) []entry {
	var all []entry
	for i, views := range s.counts.Peek() {
		if views > 0 {
			all = append(all, entry{ID: i + 1, Views: views})
		}
	}
	slices.SortFunc(all, before)
	return all[:min(n, len(all))]
}
