package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

// testServer serves seedCatalog on loopback.
func testServer(t *testing.T, delay time.Duration) (*httptest.Server, *purges) {
	t.Helper()
	p := new(purges)
	s, err := newServer(t.Context(), seedCatalog, delay, slog.New(slog.DiscardHandler), p.add)
	require.NoError(t, err)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts, p
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
	resp, err := http.DefaultClient.Do(req)
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

func builds(t *testing.T, ts *httptest.Server) map[string]int64 {
	t.Helper()
	r := get(t, ts.URL+"/debug/builds")
	require.Equal(t, http.StatusOK, r.status)
	var b map[string]int64
	require.NoError(t, json.Unmarshal([]byte(r.body), &b))
	return b
}

func TestConditionalGet(t *testing.T) {
	ts, _ := testServer(t, 0)
	for _, path := range []string{"/movies/3", "/movies.json"} {
		first := get(t, ts.URL+path)
		require.Equal(t, http.StatusOK, first.status, path)
		require.NotEmpty(t, first.etag, path)

		again := do(t, http.MethodGet, ts.URL+path, "", "If-None-Match", first.etag)
		assert.Equal(t, http.StatusNotModified, again.status, path)
		assert.Empty(t, again.body, path)
		assert.Equal(t, first.etag, again.etag, path)

		other := do(t, http.MethodGet, ts.URL+path, "", "If-None-Match", `"something else"`)
		assert.Equal(t, http.StatusOK, other.status, path)
		assert.Equal(t, first.body, other.body, path)
	}
	assert.Contains(t, get(t, ts.URL+"/movies/3").body, "<h1>Seven Samurai</h1>")
	assert.Contains(t, get(t, ts.URL+"/movies.json").body, `"title": "Seven Samurai"`)
	// Three requests each, one build each; the other movies were never asked for.
	assert.Equal(t, map[string]int64{
		"/movies/1": 0, "/movies/2": 0, "/movies/3": 1, "/movies/4": 0, "/movies/5": 0, "/movies.json": 1,
	}, builds(t, ts))
}

func TestEditInvalidatesExactlyItsDependents(t *testing.T) {
	ts, purged := testServer(t, 0)
	paths := []string{"/movies/1", "/movies/2", "/movies/3", "/movies/4", "/movies/5", "/movies.json"}
	etags := map[string]string{}
	for _, path := range paths {
		r := get(t, ts.URL+path)
		require.Equal(t, http.StatusOK, r.status)
		etags[path] = r.etag
	}
	before := builds(t, ts)

	// checkEdit makes an edit, then checks what was purged, which ETags
	// changed and what was rebuilt when every path is requested again.
	checkEdit := func(name, id, body string, changed ...string) {
		t.Helper()
		r := do(t, http.MethodPut, ts.URL+"/movies/"+id, body)
		require.Equal(t, http.StatusNoContent, r.status, "%s: %s", name, r.body)
		assert.ElementsMatch(t, changed, purged.take(), "%s: purged", name)
		for _, path := range paths {
			r := do(t, http.MethodGet, ts.URL+path, "", "If-None-Match", etags[path])
			if slices.Contains(changed, path) {
				assert.Equal(t, http.StatusOK, r.status, "%s: %s", name, path)
				assert.NotEqual(t, etags[path], r.etag, "%s: %s", name, path)
				before[path]++
			} else {
				assert.Equal(t, http.StatusNotModified, r.status, "%s: %s", name, path)
				assert.Equal(t, etags[path], r.etag, "%s: %s", name, path)
			}
			etags[path] = r.etag
		}
		assert.Equal(t, before, builds(t, ts), "%s: builds", name)
	}

	checkEdit("new title", "1",
		`{"title": "Metropolis (restored)", "year": 1927, "director": "Fritz Lang", "synopsis": "In a city of towers, the son of its master falls for a worker's prophet."}`,
		"/movies/1", "/movies.json")
	assert.Contains(t, get(t, ts.URL+"/movies/1").body, "<h1>Metropolis (restored)</h1>")
	assert.Contains(t, get(t, ts.URL+"/movies.json").body, `"title": "Metropolis (restored)"`)

	// The index shows no synopsis: it is neither purged nor rebuilt.
	checkEdit("new synopsis", "2",
		`{"id": 2, "title": "Casablanca", "year": 1942, "director": "Michael Curtiz", "synopsis": "Of all the gin joints in all the towns in all the world."}`,
		"/movies/2")

	// Writing what is already there changes nothing at all.
	checkEdit("same movie", "4",
		`{"title": "Vertigo", "year": 1958, "director": "Alfred Hitchcock", "synopsis": "A detective afraid of heights follows a woman who seems possessed."}`)
}

func TestConcurrentRequestsShareOneBuild(t *testing.T) {
	// The delay keeps the build in progress while the requests arrive.
	ts, _ := testServer(t, 50*time.Millisecond)
	require.Equal(t, http.StatusOK, get(t, ts.URL+"/movies/5").status)
	r := do(t, http.MethodPut, ts.URL+"/movies/5",
		`{"title": "Stalker", "year": 1979, "director": "Andrei Tarkovsky", "synopsis": "Three men, one Zone."}`)
	require.Equal(t, http.StatusNoContent, r.status, r.body)
	before := builds(t, ts)["/movies/5"]

	const n = 32
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	defer client.CloseIdleConnections()
	start := make(chan struct{})
	etags := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			resp, err := client.Get(ts.URL + "/movies/5")
			if !assert.NoError(t, err) {
				return
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			assert.NoError(t, err)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Contains(t, string(body), "Three men, one Zone.")
			etags[i] = resp.Header.Get("ETag")
		})
	}
	close(start)
	wg.Wait()

	assert.Equal(t, before+1, builds(t, ts)["/movies/5"], "%d concurrent requests for a stale page", n)
	for _, etag := range etags {
		assert.Equal(t, etags[0], etag)
	}
}

func TestBadEdits(t *testing.T) {
	ts, purged := testServer(t, 0)
	page := get(t, ts.URL+"/movies/1")
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
		r := do(t, tc.method, ts.URL+tc.path, tc.body)
		assert.Equal(t, tc.status, r.status, tc.name)
		assert.Contains(t, r.body, tc.message, tc.name)
	}
	// Nothing was half-applied: no purge, and the page is the one cached.
	assert.Empty(t, purged.take())
	r := do(t, http.MethodGet, ts.URL+"/movies/1", "", "If-None-Match", page.etag)
	assert.Equal(t, http.StatusNotModified, r.status)
	assert.Equal(t, int64(1), builds(t, ts)["/movies/1"])
}

func TestNewServerRejectsBadCatalogs(t *testing.T) {
	discard := slog.New(slog.DiscardHandler)
	_, err := newServer(t.Context(), []Movie{seedCatalog[0], seedCatalog[0]}, 0, discard, func(string) {})
	assert.EqualError(t, err, "movie 1 appears twice in the catalog")
	_, err = newServer(t.Context(), []Movie{{ID: 7, Year: 2000, Director: "X"}}, 0, discard, func(string) {})
	assert.EqualError(t, err, "movie 7: title is required")
}

func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, w)
		w.Close()
	}()

	lines := bufio.NewScanner(out)
	var url string
	for url == "" && lines.Scan() {
		url, _ = strings.CutPrefix(lines.Text(), "serving the movie catalog on ")
	}
	require.True(t, strings.HasPrefix(url, "http://127.0.0.1:"), "banner with the URL: %q", url)
	logs := make(chan string)
	go func() {
		var b strings.Builder
		for lines.Scan() {
			b.WriteString(lines.Text() + "\n")
		}
		logs <- b.String()
	}()

	assert.Equal(t, http.StatusOK, get(t, url).status)
	base := strings.TrimSuffix(url, "/movies.json")
	assert.Equal(t, http.StatusNoContent, do(t, http.MethodPut, base+"/movies/4",
		`{"title": "Vertigo", "year": 1958, "director": "Alfred Hitchcock"}`).status)

	cancel() // as SIGINT does
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after its context was canceled")
	}
	log := <-logs
	assert.Contains(t, log, "msg=build path=/movies.json n=1")
	assert.Contains(t, log, "msg=purge path=/movies/4")
	assert.NotContains(t, log, "msg=purge path=/movies.json")

	assert.Error(t, run(t.Context(), []string{"-render-delay", "-1s"}, io.Discard))
	assert.Error(t, run(t.Context(), []string{"-nope"}, io.Discard))
}
