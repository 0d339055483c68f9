package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosignals/signals"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wait is how long a test waits for an event or for resources to be
// released before it fails.
const wait = 10 * time.Second

// newClient returns a client that keeps no idle connection, so that
// finished requests leave no goroutine behind.
func newClient(t *testing.T) *http.Client {
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// newTestServer serves a new server until the test's cleanups, which
// close the test's streams first: Close waits for requests in flight.
func newTestServer(t *testing.T) (*server, *httptest.Server) {
	s := newServer()
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

// stream is an open GET /events connection.
type stream struct {
	events chan state // closed at the end of the stream
	close  context.CancelFunc
}

func openStream(t *testing.T, client *http.Client, base string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/events", nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	s := &stream{events: make(chan state, 100), close: cancel}
	go func() {
		defer close(s.events)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue // retry:, comments and the blank lines between events
			}
			var st state
			if !assert.NoError(t, json.Unmarshal([]byte(data), &st), data) {
				return
			}
			s.events <- st
		}
	}()
	t.Cleanup(cancel)
	return s
}

// next returns the next event, failing the test if none comes in time.
func (s *stream) next(t *testing.T) state {
	t.Helper()
	select {
	case st, ok := <-s.events:
		require.True(t, ok, "the stream ended")
		return st
	case <-time.After(wait):
		require.FailNow(t, "no event")
		panic("unreachable")
	}
}

func post(t *testing.T, client *http.Client, url string) {
	t.Helper()
	resp, err := client.Post(url, "", nil)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode, "POST %s: %s", url, body)
}

// liveEffects counts the effects that still read the page: one per stream.
func liveEffects(s *server) int {
	n := 0
	for _, node := range signals.Graph(s.page) {
		if node.Kind == "effect" && !node.Stopped {
			n++
		}
	}
	return n
}

// requireReleased waits until no stream holds anything: no client counted,
// no effect left on the page, and no more goroutines than baseline.
func requireReleased(t *testing.T, s *server, baseline int) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		clients, effects, goroutines := s.clients.Peek(), liveEffects(s), runtime.NumGoroutine()
		if clients == 0 && effects == 0 && goroutines <= baseline {
			return
		}
		if time.Now().After(deadline) {
			var stacks strings.Builder
			pprof.Lookup("goroutine").WriteTo(&stacks, 1)
			require.FailNow(t, "streams not released",
				"clients %d, live effects %d, goroutines %d (baseline %d)\n%s",
				clients, effects, goroutines, baseline, stacks.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// items returns the item list with the given views, in catalog order.
func items(views ...int64) []entry {
	out := make([]entry, len(catalog))
	for i, name := range catalog {
		out[i] = entry{ID: i + 1, Name: name, Views: views[i]}
	}
	return out
}

func TestEventsFollowWritesAndStopWithTheConnection(t *testing.T) {
	s, ts := newTestServer(t)
	client := newClient(t)
	baseline := runtime.NumGoroutine()

	a := openStream(t, client, ts.URL)
	assert.Equal(t, state{Clients: 1, Items: items(0, 0, 0, 0, 0), Top: []entry{}}, a.next(t),
		"the first event holds the whole state")
	assert.Equal(t, 1, liveEffects(s))

	// Each write is followed by one event with the state after it.
	post(t, client, ts.URL+"/counter/inc")
	assert.Equal(t, state{Count: 1, Doubled: 2, Clients: 1, Items: items(0, 0, 0, 0, 0), Top: []entry{}}, a.next(t))
	post(t, client, ts.URL+"/counter/dec")
	post(t, client, ts.URL+"/counter/dec") // conflated with the previous one, or not
	st := a.next(t)
	if st.Count == 0 {
		st = a.next(t)
	}
	assert.Equal(t, -1, st.Count)
	assert.Equal(t, -2, st.Doubled)

	for _, id := range []int{3, 1, 1, 5, 3} {
		post(t, client, ts.URL+"/view/"+strconv.Itoa(id))
		a.next(t)
	}
	post(t, client, ts.URL+"/view/1")
	want := state{Count: -1, Doubled: -2, Clients: 1, Items: items(3, 0, 2, 0, 1), TotalViews: 6,
		Top: []entry{{1, "apples", 3}, {3, "cherries", 2}, {5, "elderberries", 1}}}
	assert.Equal(t, want, a.next(t))

	// A second tab is seen by the first, and so is its departure: its
	// scope released its place in the count.
	b := openStream(t, client, ts.URL)
	want.Clients = 2
	assert.Equal(t, want, b.next(t))
	assert.Equal(t, want, a.next(t))
	assert.Equal(t, 2, liveEffects(s))
	b.close()
	want.Clients = 1
	assert.Equal(t, want, a.next(t))
	assert.Equal(t, 1, liveEffects(s))

	a.close()
	requireReleased(t, s, baseline)
	post(t, client, ts.URL+"/counter/inc") // runs no effect of a closed stream
	assert.Equal(t, 0, liveEffects(s))
}

func TestManyStreamsUnderWrites(t *testing.T) {
	const streams, writers, perWriter = 8, 4, 25
	s, ts := newTestServer(t)
	client := newClient(t)
	baseline := runtime.NumGoroutine()

	opened := make([]*stream, streams)
	for i := range opened {
		opened[i] = openStream(t, client, ts.URL)
		opened[i].next(t)
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for range perWriter {
				post(t, client, ts.URL+"/counter/inc")
				post(t, client, ts.URL+"/view/"+strconv.Itoa(1+w))
			}
		})
	}
	wg.Wait()
	// Conflation may skip states, but every stream ends on the last one.
	for i, st := range opened {
		for {
			got := st.next(t)
			if got.Count == writers*perWriter && got.TotalViews == writers*perWriter && got.Clients == streams {
				break
			}
			require.LessOrEqual(t, got.Count, writers*perWriter, "stream %d", i)
		}
	}
	for _, st := range opened {
		st.close()
	}
	requireReleased(t, s, baseline)
}

func TestIdleStreamGetsKeepAlives(t *testing.T) {
	s := newServer()
	s.keepAlive = 10 * time.Millisecond
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/events", nil)
	require.NoError(t, err)
	resp, err := newClient(t).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))

	// The stream opens with retry:, then the state; then, with nothing
	// changing, only comments.
	sc := bufio.NewScanner(resp.Body)
	var lines []string
	for len(lines) < 8 && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	require.NoError(t, sc.Err())
	require.Len(t, lines, 8)
	assert.Equal(t, "retry: 1000", lines[0])
	assert.True(t, strings.HasPrefix(lines[2], `data: {"count":0,`), lines[2])
	assert.Equal(t, []string{"", ": keep-alive", "", ": keep-alive", ""}, lines[3:])
}

func TestBadRequests(t *testing.T) {
	_, ts := newTestServer(t)
	client := newClient(t)

	for _, tc := range []struct {
		method, path string
		status       int
		message      string
	}{
		{http.MethodGet, "/counter/inc", http.StatusMethodNotAllowed, "Method Not Allowed"},
		{http.MethodPut, "/counter/dec", http.StatusMethodNotAllowed, "Method Not Allowed"},
		{http.MethodPost, "/counter/reset", http.StatusNotFound, "404 page not found"},
		{http.MethodPost, "/view/0", http.StatusNotFound, "no item 0: ids go from 1 to 5"},
		{http.MethodPost, "/view/6", http.StatusNotFound, "no item 6: ids go from 1 to 5"},
		{http.MethodPost, "/view/-1", http.StatusNotFound, "no item -1"},
		{http.MethodPost, "/view/apples", http.StatusBadRequest, `item id "apples" is not an integer`},
		{http.MethodPost, "/view/99999999999999999999", http.StatusBadRequest, "is not an integer"},
		{http.MethodGet, "/view/1", http.StatusMethodNotAllowed, "Method Not Allowed"},
		{http.MethodPost, "/events", http.StatusMethodNotAllowed, "Method Not Allowed"},
		{http.MethodPost, "/", http.StatusMethodNotAllowed, "Method Not Allowed"},
		{http.MethodGet, "/index.html", http.StatusNotFound, "404 page not found"},
	} {
		req, err := http.NewRequest(tc.method, ts.URL+tc.path, nil)
		require.NoError(t, err)
		resp, err := client.Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, tc.status, resp.StatusCode, "%s %s", tc.method, tc.path)
		assert.Contains(t, string(body), tc.message, "%s %s", tc.method, tc.path)
	}

	want := state{Clients: 1, Items: items(0, 0, 0, 0, 0), Top: []entry{}}
	assert.Equal(t, want, openStream(t, client, ts.URL).next(t), "rejected requests change nothing")
}

func get(t *testing.T, url string) (string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: %s", url, body)
	return string(body), resp.Header
}

func TestPageAndDebugPage(t *testing.T) {
	_, ts := newTestServer(t)

	page, h := get(t, ts.URL+"/")
	assert.Equal(t, "text/html; charset=utf-8", h.Get("Content-Type"))
	assert.Contains(t, page, "new EventSource('events')")
	for _, id := range []string{`id="count"`, `id="inc"`, `id="dec"`, `id="top"`, `id="items"`, `href="debug/signals/"`} {
		assert.Contains(t, page, id)
	}

	// With a stream open, the graph reaches its effect through the page.
	openStream(t, newClient(t), ts.URL).next(t)
	debug, h := get(t, ts.URL+"/debug/signals/")
	assert.Equal(t, "text/html; charset=utf-8", h.Get("Content-Type"))
	assert.Contains(t, debug, "<svg")
	var nodes []struct{ Kind, Name string }
	body, _ := get(t, ts.URL+"/debug/signals/graph.json")
	require.NoError(t, json.Unmarshal([]byte(body), &nodes))
	names := map[string]string{}
	for _, n := range nodes {
		names[n.Name] = n.Kind
	}
	for name, kind := range map[string]string{
		"count": "signal", "clients": "signal", "views of cherries": "signal",
		"doubled": "computed", "items": "computed", "top 3": "computed", "total views": "computed",
		"page": "computed", "sse client": "effect",
	} {
		assert.Equal(t, kind, names[name], "node %q", name)
		assert.Contains(t, debug, ">"+name+"<", "the drawing shows %q", name)
	}
}

func TestRunEndsStreamsOnShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, pw)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	go io.Copy(io.Discard, pr)
	m := regexp.MustCompile(`^serving the live UI on (http://127\.0\.0\.1:\d+)/ \(debug page: http://127\.0\.0\.1:\d+/debug/signals/\)\n$`).FindStringSubmatch(line)
	require.NotNil(t, m, line)

	client := newClient(t)
	st := openStream(t, client, m[1])
	assert.Equal(t, 1, st.next(t).Clients)
	post(t, client, m[1]+"/counter/inc")
	assert.Equal(t, 1, st.next(t).Count)

	// Shutdown must not wait for the open stream until its deadline.
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(wait):
		require.FailNow(t, "run did not return")
	}
	assert.Less(t, time.Since(start), 2*time.Second)
	select {
	case _, ok := <-st.events:
		assert.False(t, ok, "no event after the shutdown")
	case <-time.After(wait):
		assert.Fail(t, "the stream did not end")
	}
}

func TestRunRejectsBadArguments(t *testing.T) {
	var out strings.Builder
	assert.ErrorContains(t, run(t.Context(), []string{"extra"}, &out), `unexpected arguments ["extra"]`)
	assert.Error(t, run(t.Context(), []string{"-addr", "127.0.0.1:-1"}, &out))
	assert.Error(t, run(t.Context(), []string{"-nope"}, &out))
}
