// Command cache serves pages built from a movie catalog kept in an embedded
// SQLite database, a page per movie and a movies.json index, and shows how
// signals make an HTTP cache exact:
//
//   - the database is the source of truth. An edit (PUT) writes the row in a
//     transaction, then the signals that say what changed: the row's version,
//     and, if its title or year changed, the version of what the index shows;
//   - each response is a Resource that loads its rows from the database on
//     demand, with the values of the request that needs it (its request id),
//     and a computed that renders them with errors as values. A response is
//     loaded on the first request after a change of its rows, and then served
//     from memory, with 304 Not Modified for conditional GETs;
//   - editing a movie invalidates exactly the responses built from it: its
//     own page always, the index only if its title or year changed;
//   - concurrent requests for a stale response share one load, and a request
//     that gives up does not cancel it for the others;
//   - the database failing gives 503 naming the cause, a row that cannot be
//     rendered gives 500 naming it; the next good write of the row recovers;
//   - an effect per response notices when its rows change and logs a purge,
//     where a real deployment would call its CDN's purge API.
//
// Usage:
//
//	go run ./examples/cache [-addr :8080] [-db catalog.db] [-load-delay 0s]
//
// Without -db the database lives in a temporary directory removed at exit.
// Endpoints: GET /movies/{id} (HTML), GET /movies.json, PUT /movies/{id}
// (a JSON movie: title, year, director, synopsis) and GET /debug/builds (how
// many times each response was loaded and rendered).
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gosignals/signals"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "cache:", err)
		os.Exit(1)
	}
}

// run serves the catalog until ctx is done, then shuts down gracefully.
func run(ctx context.Context, args []string, stdout io.Writer) (err error) {
	fs := flag.NewFlagSet("cache", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", ":8080", "address to listen on")
	dbPath := fs.String("db", "", "SQLite database file, created and seeded if missing (default: one in a temporary directory, removed at exit)")
	delay := fs.Duration("load-delay", 0, "simulated cost of loading a response from the database, to make shared loads visible under concurrent requests")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *delay < 0 {
		return fmt.Errorf("-load-delay must not be negative, got %v", *delay)
	}
	if *dbPath == "" {
		dir, err := os.MkdirTemp("", "signals-cache-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*dbPath = filepath.Join(dir, "catalog.db")
	}
	st, err := openStore(ctx, *dbPath, seedCatalog)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	// The resources and purge effects outlive ctx until run returns, so that
	// requests and edits still in flight during the shutdown are served.
	life, end := context.WithCancel(context.Background())
	defer end()
	logger := slog.New(slog.NewTextHandler(stdout, nil))
	s, err := newServer(life, st, *delay, logger, func(path string) {
		logger.Info("purge", "path", path) // a real deployment calls its CDN here
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "database %s\n", *dbPath)
	fmt.Fprintf(stdout, "serving the movie catalog on %s/movies.json\n", baseURL(ln.Addr()))

	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
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

// Movie is one row of the catalog.
type Movie struct {
	ID       int    `json:"id"`
	Title    string `json:"title"`
	Year     int    `json:"year"`
	Director string `json:"director"`
	Synopsis string `json:"synopsis"`
}

func (m Movie) validate() error {
	switch {
	case strings.TrimSpace(m.Title) == "":
		return errors.New("title is required")
	case len(m.Title) > 200:
		return errors.New("title is longer than 200 bytes")
	case m.Year < 1888 || m.Year > 2100:
		return fmt.Errorf("year %d is not between 1888 and 2100", m.Year)
	case strings.TrimSpace(m.Director) == "":
		return errors.New("director is required")
	case len(m.Synopsis) > 4000:
		return errors.New("synopsis is longer than 4000 bytes")
	}
	return nil
}

var seedCatalog = []Movie{
	{1, "Metropolis", 1927, "Fritz Lang", "In a city of towers, the son of its master falls for a worker's prophet."},
	{2, "Casablanca", 1942, "Michael Curtiz", "A cynical nightclub owner meets the woman who left him, and her husband."},
	{3, "Seven Samurai", 1954, "Akira Kurosawa", "A village hires seven masterless samurai to defend it from bandits."},
	{4, "Vertigo", 1958, "Alfred Hitchcock", "A detective afraid of heights follows a woman who seems possessed."},
	{5, "Stalker", 1979, "Andrei Tarkovsky", "A guide leads two men into the Zone, towards a room that grants wishes."},
}

// listing is what the index shows of a movie. Keeping it apart from Movie is
// what lets an edit of a synopsis leave the index alone.
type listing struct {
	ID    int    `json:"id"`
	Title string `json:"title"`
	Year  int    `json:"year"`
	URL   string `json:"url"`
}

// response is a built artifact: the body and its ETag, a hash of the body.
type response struct {
	body []byte
	etag string
}

// artifact is one cacheable URL: a resource loading its data, a computed
// rendering it, and counters.
type artifact struct {
	path, contentType string
	wait              func(ctx context.Context) error // waits for the data to be loaded
	response          *signals.Computed[signals.Result[response]]
	loads, renders    atomic.Int64
}

// unavailableError is a failure of the database: the response is 503.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string { return "database unavailable: " + e.err.Error() }
func (e *unavailableError) Unwrap() error { return e.err }

// errChanged is a render that found its data being reloaded: a change came
// in after the request's wait, which waits again.
var errChanged = errors.New("changed while serving")

type server struct {
	mux       *http.ServeMux
	store     *store
	rows      map[string]*signals.Signal[uint64] // each row's version, by the id as written in URLs
	listing   *signals.Signal[uint64]            // version of what the index shows
	artifacts map[string]*artifact               // by URL path
	scope     *signals.Scope                     // owns the resources and the purge effects
	delay     time.Duration
	log       *slog.Logger
	purge     func(path string)
	requests  atomic.Uint64
}

// newServer serves the catalog in st until ctx is done. purge is called with
// the path of every response whose rows changed; it must be safe for
// concurrent use.
func newServer(ctx context.Context, st *store, delay time.Duration, log *slog.Logger, purge func(path string)) (*server, error) {
	ids, err := st.ids(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the catalog: %w", err)
	}
	s := &server{
		mux:       http.NewServeMux(),
		store:     st,
		rows:      make(map[string]*signals.Signal[uint64], len(ids)),
		listing:   signals.New(uint64(0), signals.WithName[uint64]("listing")),
		artifacts: make(map[string]*artifact, len(ids)+1),
		scope:     signals.NewScope(ctx),
		delay:     delay,
		log:       log,
		purge:     purge,
	}
	for _, id := range ids {
		key := strconv.Itoa(id)
		row := signals.New(uint64(0), signals.WithName[uint64]("row "+key))
		s.rows[key] = row
		addArtifact(s, "/movies/"+key, "text/html; charset=utf-8", row,
			func(ctx context.Context) (Movie, error) { return st.movie(ctx, id) }, renderPage)
	}
	addArtifact(s, "/movies.json", "application/json", s.listing, st.listings, renderIndex)

	s.mux.HandleFunc("GET /movies/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if a, ok := s.artifacts["/movies/"+id]; ok {
			s.serveArtifact(w, r, a)
		} else {
			http.Error(w, fmt.Sprintf("no movie %q", id), http.StatusNotFound)
		}
	})
	index := s.artifacts["/movies.json"]
	s.mux.HandleFunc("GET /movies.json", func(w http.ResponseWriter, r *http.Request) { s.serveArtifact(w, r, index) })
	s.mux.HandleFunc("PUT /movies/{id}", s.editMovie)
	s.mux.HandleFunc("GET /debug/builds", s.serveBuilds)
	return s, nil
}

type requestIDKey struct{}

// ServeHTTP gives every request an id (its X-Request-Id, or a new one),
// which the loads it starts log.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get("X-Request-Id")
	if id == "" || len(id) > 64 {
		id = "r" + strconv.FormatUint(s.requests.Add(1), 10)
	}
	w.Header().Set("X-Request-Id", id)
	s.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// addArtifact serves at path what render makes of the data load reads from
// the database, reloaded whenever version changes.
//
// The resource loads on demand: a change cancels a load in progress and
// waits for the next request, whose context's values the load gets (but
// not its cancellation: the other requests share the load). The purge
// effect watches the version, not the response: watching the response would
// load and render it again after every edit, whether anyone asks for it or
// not.
func addArtifact[D any](s *server, path, contentType string, version *signals.Signal[uint64],
	load func(context.Context) (D, error), render func(D) ([]byte, error)) {
	a := &artifact{path: path, contentType: contentType}
	data := signals.NewResource(func(t *signals.Tracker) uint64 { return version.Get(t) },
		func(ctx context.Context, _ uint64) (D, error) {
			n := a.loads.Add(1)
			s.log.InfoContext(ctx, "load", "path", path, "n", n, "request", requestID(ctx))
			var zero D
			select {
			case <-time.After(s.delay):
			case <-ctx.Done():
				return zero, ctx.Err()
			}
			d, err := load(ctx)
			if err != nil {
				return zero, &unavailableError{err}
			}
			return d, nil
		},
		signals.LoadOnDemand(),
		signals.WithRetry(2, signals.ExponentialBackoff(10*time.Millisecond, 50*time.Millisecond)),
		signals.WithScope(s.scope), signals.WithEffectName(path))
	a.wait = func(ctx context.Context) error {
		_, err := data.Wait(ctx)
		return err
	}
	a.response = signals.NewComputedErr(func(t *signals.Tracker) (response, error) {
		d := data.Get(t)
		if d.Status != signals.ResourceReady {
			return response{}, errChanged
		}
		a.renders.Add(1)
		body, err := render(d.Value)
		if err != nil {
			return response{}, fmt.Errorf("render %s: %w", path, err)
		}
		sum := sha256.Sum256(body)
		return response{body: body, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}, nil
	}, signals.WithName[signals.Result[response]](path))
	s.artifacts[path] = a

	// Watch skips the initial value: nothing is cached yet.
	signals.Watch(version, func(_, _ uint64) { s.purge(path) },
		signals.WatchEffect(signals.WithScope(s.scope), signals.WithEffectName("purge "+path)))
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{.Title}} ({{.Year}})</title></head>
<body>
<h1>{{.Title}}</h1>
<p>{{.Year}}, directed by {{.Director}}</p>
<p>{{.Synopsis}}</p>
<p><a href="/movies.json">All movies</a></p>
</body>
</html>
`))

// renderPage renders a movie's page. Rows may have been written by other
// programs, so they are checked like edits are.
func renderPage(m Movie) ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("movie %d: %w", m.ID, err)
	}
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, m); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func renderIndex(ls []listing) ([]byte, error) {
	body, err := json.MarshalIndent(ls, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(body, '\n'), nil
}

// serveArtifact answers from the cached response, waiting for its data to
// be loaded if a change made it stale.
func (s *server) serveArtifact(w http.ResponseWriter, r *http.Request, a *artifact) {
	for {
		if err := a.wait(r.Context()); err != nil {
			if r.Context().Err() != nil {
				return // the client is gone; the load goes on for the others
			}
			status := http.StatusInternalServerError
			if _, ok := errors.AsType[*unavailableError](err); ok || errors.Is(err, signals.ErrResourceStopped) {
				status = http.StatusServiceUnavailable
			}
			http.Error(w, err.Error(), status)
			return
		}
		resp := a.response.Peek()
		if errors.Is(resp.Err, errChanged) {
			continue
		}
		if resp.Err != nil {
			http.Error(w, resp.Err.Error(), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("ETag", resp.Value.etag)
		// Browsers revalidate every time, which costs a 304 from memory; a
		// CDN keeps the response until it is purged.
		h.Set("Cache-Control", "public, max-age=0, s-maxage=86400")
		// ServeContent answers If-None-Match (304) and Range from the ETag.
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(resp.Value.body))
		return
	}
}

// editMovie replaces a movie with the one in the request body: the row is
// written in a transaction, then the signals say what changed. A request
// that fails validation, or whose transaction fails, changes nothing.
func (s *server) editMovie(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	row, ok := s.rows[id]
	if !ok {
		http.Error(w, fmt.Sprintf("no movie %q", id), http.StatusNotFound)
		return
	}
	var m Movie
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		status := http.StatusBadRequest
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			status = http.StatusRequestEntityTooLarge
		}
		http.Error(w, "invalid movie: "+err.Error(), status)
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		http.Error(w, "invalid movie: the body must hold exactly one JSON object", http.StatusBadRequest)
		return
	}
	if m.ID != 0 && strconv.Itoa(m.ID) != id {
		http.Error(w, fmt.Sprintf("invalid movie: id %d in the body does not match %s in the URL", m.ID, id), http.StatusBadRequest)
		return
	}
	m.ID, _ = strconv.Atoi(id)
	if err := m.validate(); err != nil {
		http.Error(w, "invalid movie: "+err.Error(), http.StatusBadRequest)
		return
	}
	old, err := s.store.update(r.Context(), m)
	switch {
	case errors.Is(err, errNoMovie):
		http.Error(w, fmt.Sprintf("no movie %q", id), http.StatusNotFound)
		return
	case err != nil:
		http.Error(w, (&unavailableError{err}).Error(), http.StatusServiceUnavailable)
		return
	}
	if old != m {
		// Committed: now say which rows changed. The purge effects run
		// before Batch returns.
		signals.Batch(func() {
			row.Update(func(v uint64) uint64 { return v + 1 })
			if old.Title != m.Title || old.Year != m.Year {
				s.listing.Update(func(v uint64) uint64 { return v + 1 })
			}
		})
	}
	w.WriteHeader(http.StatusNoContent)
}

// build counts how many times a response was loaded and rendered.
type build struct {
	Loads   int64 `json:"loads"`
	Renders int64 `json:"renders"`
}

func (s *server) serveBuilds(w http.ResponseWriter, r *http.Request) {
	builds := make(map[string]build, len(s.artifacts))
	for path, a := range s.artifacts {
		builds[path] = build{a.loads.Load(), a.renders.Load()}
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(builds); err != nil {
		s.log.Warn("writing /debug/builds", "err", err)
	}
}
