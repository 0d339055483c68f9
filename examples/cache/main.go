// Command cache serves artifacts derived from a movie catalog held in
// signals, a page per movie and a movies.json index, and shows how
// fine-grained invalidation makes an HTTP cache exact:
//
//   - each movie is a Signal; each response is a Computed holding its body
//     and ETag, built lazily by the first request after a change, so that
//     conditional GETs are answered with 304 Not Modified from memory;
//   - editing a movie invalidates exactly the responses built from it: its
//     own page always, the index only if its title or year changed;
//   - concurrent requests for a stale response share one build, so an edit
//     never causes a thundering herd;
//   - an effect per response notices when its source changes and logs a
//     purge, where a real deployment would call its CDN's purge API.
//
// Usage:
//
//	go run ./examples/cache [-addr :8080] [-render-delay 0s]
//
// Endpoints: GET /movies/{id} (HTML), GET /movies.json, PUT /movies/{id}
// (a JSON movie: title, year, director, synopsis) and GET /debug/builds (how
// many times each response was built).
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
	"slices"
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
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("cache", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", ":8080", "address to listen on")
	delay := fs.Duration("render-delay", 0, "simulated cost of building a response, to make shared builds visible under concurrent requests")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *delay < 0 {
		return fmt.Errorf("-render-delay must not be negative, got %v", *delay)
	}

	// The purge effects outlive ctx until run returns, so that edits still
	// in flight during the shutdown are purged too.
	life, end := context.WithCancel(context.Background())
	defer end()
	logger := slog.New(slog.NewTextHandler(stdout, nil))
	s, err := newServer(life, seedCatalog, *delay, logger, func(path string) {
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

// Movie is one entry of the catalog. It is comparable, so a Signal[Movie]
// ignores an edit that changes nothing, and no response is rebuilt or
// purged because of it.
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

// artifact is one cacheable URL: its response, built on demand, and how many
// times it was built.
type artifact struct {
	contentType string
	response    *signals.Computed[response]
	builds      atomic.Int64
}

type server struct {
	mux       *http.ServeMux
	movies    map[string]*signals.Signal[Movie] // by the id as written in URLs
	artifacts map[string]*artifact              // by URL path
	scope     *signals.Scope                    // owns the purge effects
	delay     time.Duration
	log       *slog.Logger
	purge     func(path string)
}

// newServer serves catalog until ctx is done. purge is called with the path
// of every response whose content changed; it must be safe for concurrent
// use.
func newServer(ctx context.Context, catalog []Movie, delay time.Duration, log *slog.Logger, purge func(path string)) (*server, error) {
	s := &server{
		mux:       http.NewServeMux(),
		movies:    make(map[string]*signals.Signal[Movie], len(catalog)),
		artifacts: make(map[string]*artifact, len(catalog)+1),
		scope:     signals.NewScope(ctx),
		delay:     delay,
		log:       log,
		purge:     purge,
	}
	ids := make([]string, 0, len(catalog))
	for _, m := range catalog {
		if err := m.validate(); err != nil {
			return nil, fmt.Errorf("movie %d: %w", m.ID, err)
		}
		id := strconv.Itoa(m.ID)
		if _, dup := s.movies[id]; dup {
			return nil, fmt.Errorf("movie %d appears twice in the catalog", m.ID)
		}
		movie := signals.New(m, signals.WithName[Movie]("movie "+id))
		s.movies[id] = movie
		ids = append(ids, id)
		addArtifact(s, "/movies/"+id, "text/html; charset=utf-8", movie, renderPage)
	}

	// The index depends on the listings only, compared as a whole, so an edit
	// that leaves every title and year as it was does not rebuild it.
	listings := signals.NewComputed(func(t *signals.Tracker) []listing {
		out := make([]listing, 0, len(ids))
		for _, id := range ids {
			m := s.movies[id].Get(t)
			out = append(out, listing{ID: m.ID, Title: m.Title, Year: m.Year, URL: "/movies/" + id})
		}
		return out
	}, signals.WithEqual(slices.Equal[[]listing]), signals.WithName[[]listing]("listings"))
	addArtifact(s, "/movies.json", "application/json", listings, renderIndex)

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

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// addArtifact serves at path the result of render applied to source.
//
// The purge effect watches the source, not the response: watching the
// response would make every edit rebuild it at once, whether anyone asks for
// it or not. Since render depends on nothing else and shows all of its
// source, a change of the source is a change of the response; the purge
// sends the CDN back to the origin, where the first request builds the new
// version, once.
func addArtifact[S any](s *server, path, contentType string, source signals.Readable[S], render func(S) []byte) {
	a := &artifact{contentType: contentType}
	a.response = signals.NewComputed(func(t *signals.Tracker) response {
		body := render(source.Get(t))
		time.Sleep(s.delay)
		// Counting and logging are the only side effects here; a build
		// restarted by a concurrent edit counts twice.
		n := a.builds.Add(1)
		s.log.Info("build", "path", path, "n", n)
		sum := sha256.Sum256(body)
		return response{body: body, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	}, signals.WithEqual(func(a, b response) bool { return a.etag == b.etag }), signals.WithName[response](path))
	s.artifacts[path] = a

	// Watch skips the initial value: nothing is cached yet.
	signals.Watch(source, func(S, S) { s.purge(path) },
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

func renderPage(m Movie) []byte {
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, m); err != nil {
		panic(err) // a bug in the template: the computed caches the panic, net/http logs it
	}
	return b.Bytes()
}

func renderIndex(ls []listing) []byte {
	body, err := json.MarshalIndent(ls, "", "  ")
	if err != nil {
		panic(err) // cannot happen: listings hold only strings and ints
	}
	return append(body, '\n')
}

// serveArtifact answers from the cached response, building it if an edit
// made it stale.
func (s *server) serveArtifact(w http.ResponseWriter, r *http.Request, a *artifact) {
	resp := a.response.Peek()
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", resp.etag)
	// Browsers revalidate every time, which costs a 304 from memory; a CDN
	// keeps the response until it is purged.
	h.Set("Cache-Control", "public, max-age=0, s-maxage=86400")
	// ServeContent answers If-None-Match (304) and Range from the ETag.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(resp.body))
}

// editMovie replaces a movie with the one in the request body. The movie is
// one signal, so readers see either the old movie or the new one, never a
// mix, and a request that fails validation changes nothing.
func (s *server) editMovie(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	movie, ok := s.movies[id]
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
	m.ID = movie.Peek().ID
	if err := m.validate(); err != nil {
		http.Error(w, "invalid movie: "+err.Error(), http.StatusBadRequest)
		return
	}
	movie.Set(m) // runs the purge effects before returning
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) serveBuilds(w http.ResponseWriter, r *http.Request) {
	builds := make(map[string]int64, len(s.artifacts))
	for path, a := range s.artifacts {
		builds[path] = a.builds.Load()
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(builds); err != nil {
		s.log.Warn("writing /debug/builds", "err", err)
	}
}
