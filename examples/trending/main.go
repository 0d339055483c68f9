// Command trending counts views of a fixed catalog of items and serves a
// ranking of the most viewed ones. It shows signals under write contention:
//
//   - every item has a Signal[int64] counter, incremented with Update by
//     whichever request goroutine records a view: no view is ever lost;
//   - a Computed snapshots all counters consistently, and another derives
//     the top-N ranking from that snapshot;
//   - an effect with Throttle publishes the ranking at most once per
//     interval, however fast views arrive: computing a ranking costs the
//     same whether one view or ten thousand happened since the last one.
//
// With -nats URL, the counters are natsig.Counters in a NATS JetStream
// key-value bucket instead (keys item.<id>.<shard>), so that every instance
// started with the same -nats and -bucket serves the same counts: each
// instance's signals follow the bucket, and its ranking reacts to the views
// recorded by all of them. The counts persist in the bucket across runs.
//
// Usage (examples/trending is a module of its own; run it from its
// directory, or with go run -C examples/trending . from the repository's):
//
//	go run . [-addr :8081] [-items 20] [-n 5] [-interval 250ms] [-load 0] [-duration 0s]
//	         [-nats nats://127.0.0.1:4222] [-bucket trending] [-shards 4]
//
// Endpoints: POST /view/{id} records a view of item id (1 to -items),
// GET /trending.json serves the last published ranking and GET /counts the
// current count of every item. With -load N, N goroutines of a built-in
// load generator post views over HTTP; with -duration D the program stops
// after D and prints how many views were sent and counted.
package main

import (
	"cmp"
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
	var c counters = newLocalCounters(*items)
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
	s := newServerWith(life, c, *topN, *interval)
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
			sent.Load(), s.total(), s.rankings.Load())
	case *load > 0:
		fmt.Fprintf(stdout, "load generator: sent %d views, counted %d; ranking computed %d times\n",
			sent.Load(), s.total(), s.rankings.Load())
	}
	for i, e := range s.ranking.Peek() {
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
	views    counters // views.get(i) counts item i+1
	counts   *signals.Computed[[]int64]
	ranking  *signals.Computed[[]entry]
	rankings atomic.Int64           // runs of the ranking's function
	trending atomic.Pointer[[]byte] // the /trending.json body last published
}

// counters count the views of items 0 to len()-1: in this process
// (localCounters), or in a NATS key-value bucket shared by every instance
// (natsCounters).
type counters interface {
	len() int
	// get returns the count of item i, read locally.
	get(i int) signals.Readable[int64]
	// add records a view of item i, and returns once it is counted.
	add(ctx context.Context, i int) error
}

// localCounters are signals: Update is atomic, so concurrent views of one
// item never overwrite each other, as a Get followed by a Set could.
type localCounters []*signals.Signal[int64]

func newLocalCounters(items int) localCounters {
	c := make(localCounters, items)
	for i := range c {
		c[i] = signals.New[int64](0, signals.WithName[int64]("views of "+strconv.Itoa(i+1)))
	}
	return c
}

func (c localCounters) len() int                          { return len(c) }
func (c localCounters) get(i int) signals.Readable[int64] { return c[i] }
func (c localCounters) add(_ context.Context, i int) error {
	c[i].Update(increment)
	return nil
}

// newServer serves counters for items 1 to items and publishes their top n
// at most once per interval, until ctx is done.
func newServer(ctx context.Context, items, n int, interval time.Duration) *server {
	return newServerWith(ctx, newLocalCounters(items), n, interval)
}

// newServerWith is newServer with the counters given.
func newServerWith(ctx context.Context, views counters, n int, interval time.Duration) *server {
	s := &server{mux: http.NewServeMux(), views: views}

	// Reading the counters one by one from a handler, while views keep
	// arriving, would give a mix of older and newer counts; a computed's
	// reads are one consistent state.
	s.counts = signals.NewComputed(func(t *signals.Tracker) []int64 {
		counts := make([]int64, s.views.len())
		for i := range counts {
			counts[i] = s.views.get(i).Get(t)
		}
		return counts
	}, signals.WithEqual(slices.Equal[[]int64]), signals.WithName[[]int64]("counts"))

	s.ranking = signals.NewComputed(func(t *signals.Tracker) []entry {
		s.rankings.Add(1)
		var top []entry
		for i, views := range s.counts.Get(t) {
			if views > 0 {
				top = append(top, entry{ID: i + 1, Views: views})
			}
		}
		// Ties go to the lower id, so that the ranking is a function of the
		// counts alone.
		slices.SortFunc(top, func(a, b entry) int {
			return cmp.Or(cmp.Compare(b.Views, a.Views), cmp.Compare(a.ID, b.ID))
		})
		return slices.Clip(top[:min(n, len(top))])
	}, signals.WithEqual(slices.Equal[[]entry]), signals.WithName[[]entry]("ranking"))

	// The effect is what pulls the ranking, so the ranking is computed only
	// as often as the throttle lets the effect run.
	signals.NewEffect(func(t *signals.Tracker) {
		top := s.ranking.Get(t)
		if top == nil {
			top = []entry{} // [], not null, before the first view
		}
		body, err := json.Marshal(struct {
			Top       []entry   `json:"top"`
			UpdatedAt time.Time `json:"updated_at"`
		}{top, time.Now().UTC()})
		if err != nil {
			panic(err) // cannot happen: only ints and a time
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

func increment(n int64) int64 { return n + 1 }

func (s *server) view(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil {
		http.Error(w, fmt.Sprintf("item id %q is not an integer", r.PathValue("id")), http.StatusBadRequest)
		return
	}
	if id < 1 || id > s.views.len() {
		http.Error(w, fmt.Sprintf("no item %d: ids go from 1 to %d", id, s.views.len()), http.StatusNotFound)
		return
	}
	if err := s.views.add(r.Context(), id-1); err != nil {
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
