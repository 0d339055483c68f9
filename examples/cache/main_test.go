package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// purges records the paths handed to the purge hook.
type purges struct {
	mu    sync.Mutex
	paths []string
}

func (p *purges) add(path string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paths = append(p.paths, path)
}

// take returns the paths recorded since the last call.
func (p *purges) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	paths := p.paths
	p.paths = nil
	return paths
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// client is the tests' HTTP client: no request waits for ever.
var client = &http.Client{
	Timeout:   20 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 64},
}

// watchdog makes a test that has not finished after d fail with every
// goroutine's stack, rather than hang until go test's own timeout.
func watchdog(t *testing.T, d time.Duration) {
	t.Helper()
	name := t.Name()
	timer := time.AfterFunc(d, func() {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		fmt.Fprintf(os.Stderr, "%s: not done after %v; goroutines:\n%s", name, d, buf)
		panic(name + " hung")
	})
	t.Cleanup(func() { timer.Stop() })
}

type fixture struct {
	ts     *httptest.Server
	srv    *server
	purged *purges
	logs   *syncBuffer
}

// testServer serves a fresh catalog, seeded into a database in a
// temporary directory, on loopback.
func testServer(t *testing.T, delay time.Duration) *fixture {
	t.Helper()
	watchdog(t, 15*time.Second)
	st, err := openStore(t.Context(), filepath.Join(t.TempDir(), "catalog.db"), seedCatalog)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	f := &fixture{purged: new(purges), logs: new(syncBuffer)}
	f.srv, err = newServer(t.Context(), st, delay, slog.New(slog.NewTextHandler(f.logs, nil)), f.purged.add)
	require.NoError(t, err)
	f.ts = httptest.NewServer(f.srv)
	t.Cleanup(f.ts.Close)
	return f
}

type reply struct {
	status int
	etag   string
	body   string
}

func do(t *testing.T, method, url, body string, header ...string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{resp.StatusCode, resp.Header.Get("ETag"), string(b)}
}

func get(t *testing.T, url string) reply {
	t.Helper()
	return do(t, http.MethodGet, url, "")
}

func (f *fixture) builds(t *testing.T) map[string]build {
	t.Helper()
	r := get(t, f.ts.URL+"/debug/builds")
	require.Equal(t, http.StatusOK, r.status)
	var b map[string]build
	require.NoError(t, json.Unmarshal([]byte(r.body), &b))
	return b
}

// exec runs SQL directly on the database, behind the server's back.
func (f *fixture) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	_, err := f.srv.store.db.ExecContext(t.Context(), query, args...)
	require.NoError(t, err)
}

func TestConditionalGet(t *testing.T) {
	f := testServer(t, 0)
	for _, path := range []string{"/movies/3", "/movies.json"} {
		first := get(t, f.ts.URL+path)
		require.Equal(t, http.StatusOK, first.status, path)
		require.NotEmpty(t, first.etag, path)

		again := do(t, http.MethodGet, f.ts.URL+path, "", "If-None-Match", first.etag)
		assert.Equal(t, http.StatusNotModified, again.status, path)
		assert.Empty(t, again.body, path)
		assert.Equal(t, first.etag, again.etag, path)

		other := do(t, http.MethodGet, f.ts.URL+path, "", "If-None-Match", `"something else"`)
		assert.Equal(t, http.StatusOK, other.status, path)
		assert.Equal(t, first.body, other.body, path)
	}
	assert.Contains(t, get(t, f.ts.URL+"/movies/3").body, "<h1>Seven Samurai</h1>")
	assert.Contains(t, get(t, f.ts.URL+"/movies.json").body, `"title": "Seven Samurai"`)
	// Four requests each, one load and one render each; the other movies
	// were never asked for, so never read from the database.
	one, none := build{1, 1}, build{}
	assert.Equal(t, map[string]build{
		"/movies/1": none, "/movies/2": none, "/movies/3": one, "/movies/4": none, "/movies/5": none, "/movies.json": one,
	}, f.builds(t))
}

func TestEditInvalidatesExactlyItsDependents(t *testing.T) {
	f := testServer(t, 0)
	paths := []string{"/movies/1", "/movies/2", "/movies/3", "/movies/4", "/movies/5", "/movies.json"}
	etags := map[string]string{}
	for _, path := range paths {
		r := get(t, f.ts.URL+path)
		require.Equal(t, http.StatusOK, r.status)
		etags[path] = r.etag
	}
	before := f.builds(t)

	// checkEdit makes an edit, then checks what was purged, which ETags
	// changed and what was loaded again when every path is requested.
	checkEdit := func(name, id, body string, changed ...string) {
		t.Helper()
		r := do(t, http.MethodPut, f.ts.URL+"/movies/"+id, body)
		require.Equal(t, http.StatusNoContent, r.status, "%s: %s", name, r.body)
		assert.ElementsMatch(t, changed, f.purged.take(), "%s: purged", name)
		for _, path := range paths {
			r := do(t, http.MethodGet, f.ts.URL+path, "", "If-None-Match", etags[path])
			if slices.Contains(changed, path) {
				assert.Equal(t, http.StatusOK, r.status, "%s: %s", name, path)
				assert.NotEqual(t, etags[path], r.etag, "%s: %s", name, path)
				b := before[path]
				b.Loads++
				b.Renders++
				before[path] = b
			} else {
				assert.Equal(t, http.StatusNotModified, r.status, "%s: %s", name, path)
				assert.Equal(t, etags[path], r.etag, "%s: %s", name, path)
			}
			etags[path] = r.etag
		}
		assert.Equal(t, before, f.builds(t), "%s: builds", name)
	}

	checkEdit("new title", "1",
		`{"title": "Metropolis (restored)", "year": 1927, "director": "Fritz Lang", "synopsis": "In a city of towers, the son of its master falls for a worker's prophet."}`,
		"/movies/1", "/movies.json")
	assert.Contains(t, get(t, f.ts.URL+"/movies/1").body, "<h1>Metropolis (restored)</h1>")
	assert.Contains(t, get(t, f.ts.URL+"/movies.json").body, `"title": "Metropolis (restored)"`)

	// The index shows no synopsis: it is neither purged nor loaded again.
	checkEdit("new synopsis", "2",
		`{"id": 2, "title": "Casablanca", "year": 1942, "director": "Michael Curtiz", "synopsis": "Of all the gin joints in all the towns in all the world."}`,
		"/movies/2")

	// Writing what is already there changes nothing at all.
	checkEdit("same movie", "4",
		`{"title": "Vertigo", "year": 1958, "director": "Alfred Hitchcock", "synopsis": "A detective afraid of heights follows a woman who seems possessed."}`)

	// The database has the edits.
	m, err := f.srv.store.movie(t.Context(), 2)
	require.NoError(t, err)
	assert.Equal(t, "Of all the gin joints in all the towns in all the world.", m.Synopsis)
}

// stale edits movie 5, so that its page is stale, and returns the loads of
// that page so far.
func (f *fixture) stale(t *testing.T) int64 {
	t.Helper()
	require.Equal(t, http.StatusOK, get(t, f.ts.URL+"/movies/5").status)
	r := do(t, http.MethodPut, f.ts.URL+"/movies/5",
		`{"title": "Stalker", "year": 1979, "director": "Andrei Tarkovsky", "synopsis": "Three men, one Zone."}`)
	require.Equal(t, http.StatusNoContent, r.status, r.body)
	return f.builds(t)["/movies/5"].Loads
}

// fetch GETs url and reports the status and body, or the error.
func fetch(ctx context.Context, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

func TestConcurrentRequestsShareOneLoad(t *testing.T) {
	// The delay keeps the load in progress while the requests arrive.
	f := testServer(t, 50*time.Millisecond)
	before := f.stale(t)

	const n = 32
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			<-start
			status, body, err := fetch(t.Context(), f.ts.URL+"/movies/5")
			if assert.NoError(t, err) {
				assert.Equal(t, http.StatusOK, status)
				assert.Contains(t, body, "Three men, one Zone.")
			}
		})
	}
	close(start)
	wg.Wait()
	assert.Equal(t, build{before + 1, before + 1}, f.builds(t)["/movies/5"], "%d concurrent requests for a stale page", n)
}

func TestCancelledRequestDoesNotCancelTheSharedLoad(t *testing.T) {
	f := testServer(t, 200*time.Millisecond)
	before := f.stale(t)

	// The first request starts the load, with its request id, then gives up.
	ctx, cancel := context.WithCancel(t.Context())
	gaveUp := make(chan error)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.ts.URL+"/movies/5", nil)
		req.Header.Set("X-Request-Id", "impatient")
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		gaveUp <- err
	}()
	// The load counts itself before it logs: wait for both.
	require.Eventually(t, func() bool {
		return f.builds(t)["/movies/5"].Loads == before+1 && strings.Contains(f.logs.String(), "msg=load path=/movies/5 n=2 ")
	}, 5*time.Second, time.Millisecond)
	assert.Contains(t, f.logs.String(), `msg=load path=/movies/5 n=2 request=impatient`,
		"the load runs with the values of the request that started it")

	var wg sync.WaitGroup
	for range 31 {
		wg.Go(func() {
			status, body, err := fetch(t.Context(), f.ts.URL+"/movies/5")
			if assert.NoError(t, err) {
				assert.Equal(t, http.StatusOK, status)
				assert.Contains(t, body, "Three men, one Zone.")
			}
		})
	}
	time.Sleep(20 * time.Millisecond) // the others are waiting for the load
	cancel()
	assert.ErrorIs(t, <-gaveUp, context.Canceled)
	wg.Wait()
	assert.Equal(t, build{before + 1, before + 1}, f.builds(t)["/movies/5"], "the load went on, once, for the others")
}

func TestDatabaseFailures(t *testing.T) {
	t.Run("query error", func(t *testing.T) {
		f := testServer(t, 0)
		require.Equal(t, http.StatusOK, get(t, f.ts.URL+"/movies/1").status)
		f.exec(t, `ALTER TABLE movies RENAME TO movies_elsewhere`)

		// A page never loaded, and an edit: both fail, naming the cause.
		r := get(t, f.ts.URL+"/movies/2")
		assert.Equal(t, http.StatusServiceUnavailable, r.status)
		assert.Equal(t, "database unavailable: sqlite3: SQL logic error: no such table: movies\n", r.body)
		edit := `{"title": "Casablanca", "year": 1942, "director": "Michael Curtiz", "synopsis": "Play it."}`
		r = do(t, http.MethodPut, f.ts.URL+"/movies/2", edit)
		assert.Equal(t, http.StatusServiceUnavailable, r.status)
		assert.Contains(t, r.body, "no such table: movies")
		assert.Empty(t, f.purged.take(), "a failed write invalidates nothing")
		// The page loaded before the failure is still served from memory.
		assert.Equal(t, http.StatusOK, get(t, f.ts.URL+"/movies/1").status)

		// Repaired: the failure is kept until the row changes, and the next
		// good write recovers.
		f.exec(t, `ALTER TABLE movies_elsewhere RENAME TO movies`)
		assert.Equal(t, http.StatusServiceUnavailable, get(t, f.ts.URL+"/movies/2").status)
		r = do(t, http.MethodPut, f.ts.URL+"/movies/2", edit)
		require.Equal(t, http.StatusNoContent, r.status, r.body)
		r = get(t, f.ts.URL+"/movies/2")
		assert.Equal(t, http.StatusOK, r.status)
		assert.Contains(t, r.body, "Play it.")
	})
	t.Run("closed", func(t *testing.T) {
		f := testServer(t, 0)
		require.NoError(t, f.srv.store.Close())
		r := get(t, f.ts.URL+"/movies/3")
		assert.Equal(t, http.StatusServiceUnavailable, r.status)
		assert.Equal(t, "database unavailable: sql: database is closed\n", r.body)
		r = do(t, http.MethodPut, f.ts.URL+"/movies/3", `{"title": "Ran", "year": 1985, "director": "Akira Kurosawa"}`)
		assert.Equal(t, http.StatusServiceUnavailable, r.status)
		assert.Equal(t, "database unavailable: sql: database is closed\n", r.body)
	})
}

func TestRowThatCannotBeRenderedIs500(t *testing.T) {
	f := testServer(t, 0)
	// Written behind the server's back, by a program that does not check.
	f.exec(t, `UPDATE movies SET year = 12 WHERE id = 4`)
	r := get(t, f.ts.URL+"/movies/4")
	assert.Equal(t, http.StatusInternalServerError, r.status)
	assert.Equal(t, "render /movies/4: movie 4: year 12 is not between 1888 and 2100\n", r.body)
	assert.Equal(t, http.StatusOK, get(t, f.ts.URL+"/movies.json").status, "the index shows no check")

	r = do(t, http.MethodPut, f.ts.URL+"/movies/4", `{"title": "Vertigo", "year": 1958, "director": "Alfred Hitchcock"}`)
	require.Equal(t, http.StatusNoContent, r.status, r.body)
	assert.Equal(t, http.StatusOK, get(t, f.ts.URL+"/movies/4").status)
}

func TestBadEdits(t *testing.T) {
	f := testServer(t, 0)
	page := get(t, f.ts.URL+"/movies/1")
	valid := `{"title": "M", "year": 1931, "director": "Fritz Lang"}`
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		message                  string
	}{
		{"unknown movie", http.MethodPut, "/movies/99", valid, http.StatusNotFound, `no movie "99"`},
		{"not an id", http.MethodPut, "/movies/one", valid, http.StatusNotFound, `no movie "one"`},
		{"id with leading zero", http.MethodPut, "/movies/01", valid, http.StatusNotFound, `no movie "01"`},
		{"truncated JSON", http.MethodPut, "/movies/1", `{"title": "M"`, http.StatusBadRequest, "invalid movie: unexpected EOF"},
		{"not an object", http.MethodPut, "/movies/1", `["M"]`, http.StatusBadRequest, "invalid movie: json: cannot unmarshal array"},
		{"unknown field", http.MethodPut, "/movies/1", `{"title": "M", "year": 1931, "director": "Fritz Lang", "rating": 5}`, http.StatusBadRequest, `unknown field "rating"`},
		{"two objects", http.MethodPut, "/movies/1", valid + valid, http.StatusBadRequest, "exactly one JSON object"},
		{"other id", http.MethodPut, "/movies/1", `{"id": 2, "title": "M", "year": 1931, "director": "Fritz Lang"}`, http.StatusBadRequest, "id 2 in the body does not match 1 in the URL"},
		{"no title", http.MethodPut, "/movies/1", `{"title": " ", "year": 1931, "director": "Fritz Lang"}`, http.StatusBadRequest, "invalid movie: title is required"},
		{"bad year", http.MethodPut, "/movies/1", `{"title": "M", "year": 31, "director": "Fritz Lang"}`, http.StatusBadRequest, "year 31 is not between 1888 and 2100"},
		{"no director", http.MethodPut, "/movies/1", `{"title": "M", "year": 1931}`, http.StatusBadRequest, "invalid movie: director is required"},
		{"too large", http.MethodPut, "/movies/1", `{"title": "M", "year": 1931, "director": "Fritz Lang", "synopsis": "` + strings.Repeat("x", 70_000) + `"}`, http.StatusRequestEntityTooLarge, "request body too large"},
		{"unknown page", http.MethodGet, "/movies/99", "", http.StatusNotFound, `no movie "99"`},
		{"wrong method", http.MethodDelete, "/movies/1", "", http.StatusMethodNotAllowed, "Method Not Allowed"},
	} {
		r := do(t, tc.method, f.ts.URL+tc.path, tc.body)
		assert.Equal(t, tc.status, r.status, tc.name)
		assert.Contains(t, r.body, tc.message, tc.name)
	}
	// Nothing was half-applied: no purge, the row is as it was, and the
	// page is the one cached.
	assert.Empty(t, f.purged.take())
	m, err := f.srv.store.movie(t.Context(), 1)
	require.NoError(t, err)
	assert.Equal(t, seedCatalog[0], m)
	r := do(t, http.MethodGet, f.ts.URL+"/movies/1", "", "If-None-Match", page.etag)
	assert.Equal(t, http.StatusNotModified, r.status)
	assert.Equal(t, build{1, 1}, f.builds(t)["/movies/1"])
}

func TestOpenStoreFailures(t *testing.T) {
	_, err := openStore(t.Context(), filepath.Join(t.TempDir(), "missing", "dir", "catalog.db"), seedCatalog)
	assert.ErrorContains(t, err, "unable to open database file")
	_, err = openStore(t.Context(), filepath.Join(t.TempDir(), "catalog.db"), []Movie{{ID: 7, Year: 2000, Director: "X"}})
	assert.ErrorContains(t, err, "seed movie 7: title is required")
	_, err = openStore(t.Context(), filepath.Join(t.TempDir(), "catalog.db"), []Movie{seedCatalog[0], seedCatalog[0]})
	assert.ErrorContains(t, err, "seed movie 1: sqlite3: constraint failed: UNIQUE constraint failed: movies.id")
}

// started runs the program with args and returns its base URL, a function
// that stops it and returns its output, and fails the test if it does not
// come up.
func started(t *testing.T, args ...string) (string, func() string) {
	t.Helper()
	watchdog(t, 15*time.Second)
	ctx, cancel := context.WithCancel(t.Context())
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), w)
		w.Close()
	}()
	lines := bufio.NewScanner(out)
	var url string
	var head strings.Builder
	for url == "" && lines.Scan() {
		head.WriteString(lines.Text() + "\n")
		if u, ok := strings.CutPrefix(lines.Text(), "serving the movie catalog on "); ok {
			url = u
		}
	}
	require.True(t, strings.HasPrefix(url, "http://127.0.0.1:"), "banner with the URL: %q", head.String())
	logs := make(chan string)
	go func() {
		var b strings.Builder
		for lines.Scan() {
			b.WriteString(lines.Text() + "\n")
		}
		logs <- b.String()
	}()
	return strings.TrimSuffix(url, "/movies.json"), func() string {
		cancel() // as SIGINT does
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Fatal("run did not return after its context was canceled")
		}
		return head.String() + <-logs
	}
}

func TestRun(t *testing.T) {
	base, stop := started(t)
	assert.Equal(t, http.StatusOK, get(t, base+"/movies.json").status)
	assert.Equal(t, http.StatusNoContent, do(t, http.MethodPut, base+"/movies/4",
		`{"title": "Vertigo", "year": 1958, "director": "Alfred Hitchcock"}`).status)
	log := stop()
	assert.Regexp(t, `(?m)^database .*signals-cache-.*catalog\.db$`, log)
	assert.Contains(t, log, "msg=load path=/movies.json n=1 request=r1")
	assert.Contains(t, log, "msg=purge path=/movies/4")
	assert.NotContains(t, log, "msg=purge path=/movies.json")

	assert.Error(t, run(t.Context(), []string{"-load-delay", "-1s"}, io.Discard))
	assert.Error(t, run(t.Context(), []string{"-nope"}, io.Discard))
}

func TestRestartServesTheEditedData(t *testing.T) {
	db := filepath.Join(t.TempDir(), "catalog.db")
	base, stop := started(t, "-db", db)
	r := do(t, http.MethodPut, base+"/movies/3",
		`{"title": "Seven Samurai", "year": 1954, "director": "Akira Kurosawa", "synopsis": "Edited before the restart."}`)
	require.Equal(t, http.StatusNoContent, r.status, r.body)
	first := get(t, base+"/movies/3")
	stop()

	base, stop = started(t, "-db", db)
	defer stop()
	again := get(t, base+"/movies/3")
	assert.Equal(t, http.StatusOK, again.status)
	assert.Contains(t, again.body, "Edited before the restart.")
	assert.Equal(t, first.etag, again.etag, "the same content has the same ETag across restarts")
	assert.Contains(t, get(t, base+"/movies/1").body, "<h1>Metropolis</h1>", "not seeded twice")
}
