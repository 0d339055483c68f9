// Command liveui serves a web page that shows live state: a counter with +
// and − buttons and a small trending list, pushed to every open tab by
// Server-Sent Events. The page is plain HTML and JavaScript embedded in the
// program; it only posts clicks and renders what the server pushes.
//
//   - The state is signals: a counter, one view count per item, and the
//     number of connected tabs. Computeds derive the doubled count, the total
//     views, the top 3 and, last, the page: one consistent snapshot of
//     everything, encoded as JSON once per change, however many tabs watch.
//   - Each GET /events connection gets a Scope, bound to the request's
//     context, that owns everything the tab holds: the subscription to the
//     page (signals.Subscribe) and its place in the tab count. Closing the
//     tab ends the request, which stops the scope and releases it all.
//   - /debug/signals/ is the graphview debug page: the graph, with one
//     "sse client" effect per open tab.
//
// Usage:
//
//	go run ./examples/liveui [-addr :8082]
//
// Then open http://localhost:8082/ in two windows and click. Endpoints:
// POST /counter/inc, POST /counter/dec, POST /view/{id} (ids 1 to 5),
// GET /events (the stream) and GET /debug/signals/.
package main

import (
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/gosignals/signals"
	"github.com/gosignals/signals/graphview"
)

//go:embed index.html
var indexHTML []byte

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "liveui:", err)
		os.Exit(1)
	}
}

// run serves the page until ctx is done, then shuts down gracefully.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("liveui", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", ":8082", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	signals.EnableTiming(true) // for the debug page's time spent

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           newServer(),
		ReadHeaderTimeout: 10 * time.Second,
		// Event streams never end by themselves, so Shutdown alone would
		// wait for them until its deadline. Deriving every request's
		// context from ctx ends them, and so stops their scopes, as soon
		// as ctx is done.
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	base := baseURL(ln.Addr())
	fmt.Fprintf(stdout, "serving the live UI on %s/ (debug page: %s/debug/signals/)\n", base, base)

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return hs.Shutdown(shutdownCtx)
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

// catalog names the items of the trending list; item i+1 is catalog[i].
var catalog = []string{"apples", "bananas", "cherries", "dates", "elderberries"}

// topN is the length of the ranking.
const topN = 3

// entry is one item with its view count.
type entry struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Views int64  `json:"views"`
}

// state is what the page shows, sent whole in every event: a tab that
// missed events (the stream conflates them) is still exactly up to date.
type state struct {
	Count      int     `json:"count"`
	Doubled    int     `json:"doubled"`
	Clients    int     `json:"clients"`
	Items      []entry `json:"items"` // in catalog order
	Top        []entry `json:"top"`   // most viewed first; viewed items only
	TotalViews int64   `json:"total_views"`
}

type server struct {
	mux     *http.ServeMux
	count   *signals.Signal[int]
	views   []*signals.Signal[int64] // views[i] counts catalog[i]
	clients *signals.Signal[int]     // open event streams
	page    *signals.Computed[string]

	// keepAlive is the time between two comments written on an idle
	// stream, so that proxies keep it open and a vanished client is
	// noticed by the failed write.
	keepAlive time.Duration
}

func increment[T int | int64](n T) T { return n + 1 }
func decrement[T int | int64](n T) T { return n - 1 }

func newServer() *server {
	s := &server{
		mux:       http.NewServeMux(),
		count:     signals.New(0, signals.WithName[int]("count")),
		views:     make([]*signals.Signal[int64], len(catalog)),
		clients:   signals.New(0, signals.WithName[int]("clients")),
		keepAlive: 20 * time.Second,
	}
	for i, name := range catalog {
		s.views[i] = signals.New[int64](0, signals.WithName[int64]("views of "+name))
	}

	doubled := signals.NewComputed(func(t *signals.Tracker) int {
		return 2 * s.count.Get(t)
	}, signals.WithName[int]("doubled"))

	// Reading the counters through one computed gives a consistent
	// snapshot even while views arrive from many requests at once.
	items := signals.NewComputed(func(t *signals.Tracker) []entry {
		items := make([]entry, len(s.views))
		for i, v := range s.views {
			items[i] = entry{ID: i + 1, Name: catalog[i], Views: v.Get(t)}
		}
		return items
	}, signals.WithEqual(slices.Equal[[]entry]), signals.WithName[[]entry]("items"))

	total := signals.NewComputed(func(t *signals.Tracker) int64 {
		var sum int64
		for _, e := range items.Get(t) {
			sum += e.Views
		}
		return sum
	}, signals.WithName[int64]("total views"))

	top := signals.NewComputed(func(t *signals.Tracker) []entry {
		top := []entry{} // [], not null, before the first view
		for _, e := range items.Get(t) {
			if e.Views > 0 {
				top = append(top, e)
			}
		}
		// Ties go to the lower id, so that the ranking does not flicker.
		slices.SortStableFunc(top, func(a, b entry) int { return cmp.Compare(b.Views, a.Views) })
		return top[:min(topN, len(top))]
	}, signals.WithEqual(slices.Equal[[]entry]), signals.WithName[[]entry]("top 3"))

	// The page is encoded here rather than in each stream: once per
	// change, for all tabs. As a string it compares with ==, so a
	// recomputation that yields the same JSON sends no event.
	s.page = signals.NewComputed(func(t *signals.Tracker) string {
		body, err := json.Marshal(state{
			Count:      s.count.Get(t),
			Doubled:    doubled.Get(t),
			Clients:    s.clients.Get(t),
			Items:      items.Get(t),
			Top:        top.Get(t),
			TotalViews: total.Get(t),
		})
		if err != nil {
			panic(err) // cannot happen: only ints and strings
		}
		return string(body)
	}, signals.WithName[string]("page"))

	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(indexHTML)
	})
	s.mux.HandleFunc("GET /events", s.events)
	// ServeMux answers other methods with 405 and an Allow header.
	s.mux.HandleFunc("POST /counter/inc", func(w http.ResponseWriter, r *http.Request) {
		s.count.Update(increment)
		w.WriteHeader(http.StatusNoContent)
	})
	s.mux.HandleFunc("POST /counter/dec", func(w http.ResponseWriter, r *http.Request) {
		s.count.Update(decrement)
		w.WriteHeader(http.StatusNoContent)
	})
	s.mux.HandleFunc("POST /view/{id}", s.view)
	// The roots reach every node; the streams' effects hang off the page.
	nodes := []signals.Node{s.count, s.clients, s.page}
	for _, v := range s.views {
		nodes = append(nodes, v)
	}
	s.mux.Handle("/debug/signals/", http.StripPrefix("/debug/signals", graphview.Handler(nodes...)))
	return s
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *server) view(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil {
		http.Error(w, fmt.Sprintf("item id %q is not an integer", r.PathValue("id")), http.StatusBadRequest)
		return
	}
	if id < 1 || id > len(s.views) {
		http.Error(w, fmt.Sprintf("no item %d: ids go from 1 to %d", id, len(s.views)), http.StatusNotFound)
		return
	}
	// Update is atomic: concurrent views of one item are all counted.
	s.views[id-1].Update(increment)
	w.WriteHeader(http.StatusNoContent)
}

// events streams the page to one tab: the current state at once, then
// every change, until the tab goes away or the server shuts down.
func (s *server) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	// retry: how long the browser waits before reconnecting, say after a
	// restart of the server.
	if _, err := io.WriteString(w, "retry: 1000\n\n"); err != nil {
		return
	}
	if err := rc.Flush(); err != nil {
		return // the ResponseWriter cannot stream
	}

	// One scope owns what this connection holds. The request's context
	// ends when the client disconnects (or the server shuts down), which
	// stops the scope; the deferred Stop covers a failed write.
	scope := signals.NewScope(r.Context())
	defer scope.Stop()
	s.clients.Update(increment)
	scope.Defer(func() { s.clients.Update(decrement) })
	// The subscription's effect runs on the writer's goroutine but only
	// drops the latest page into a one-slot channel: a slow client never
	// holds up a click, it skips to the newest state.
	pages := signals.Subscribe(r.Context(), s.page,
		signals.WithScope(scope), signals.WithEffectName("sse client"))

	ping := time.NewTicker(s.keepAlive)
	defer ping.Stop()
	for {
		var err error
		select {
		case page, ok := <-pages:
			if !ok {
				return // the request's context is done
			}
			// json.Marshal output has no newline, so it fits one data line.
			_, err = fmt.Fprintf(w, "data: %s\n\n", page)
		case <-ping.C:
			_, err = io.WriteString(w, ": keep-alive\n\n")
		case <-scope.Done():
			return
		}
		if err == nil {
			err = rc.Flush()
		}
		if err != nil {
			return
		}
	}
}
