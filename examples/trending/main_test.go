package main

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosignals/signals"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}

type trending struct {
	Top       []entry   `json:"top"`
	UpdatedAt time.Time `json:"updated_at"`
}

func TestNoViewLostAndRankingMatches(t *testing.T) {
	const (
		items      = 12
		goroutines = 16
		perG       = 200
		views      = goroutines * perG
	)
	// Views per item: item 12 gets none, 3 and 8 tie, and so do 5 and 9,
	// right at the edge of a top 4.
	want := map[int]int64{1: 100, 2: 150, 3: 450, 4: 50, 5: 300, 6: 700, 7: 200, 8: 450, 9: 300, 10: 250, 11: 250, 12: 0}
	wantTop := []entry{{6, 700}, {3, 450}, {8, 450}, {5, 300}}

	var plan []int
	for id, n := range want {
		for range n {
			plan = append(plan, id)
		}
	}
	require.Len(t, plan, views)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(plan), func(i, j int) { plan[i], plan[j] = plan[j], plan[i] })

	s := newServer(t.Context(), items, len(wantTop), 100*time.Millisecond)
	ts := httptest.NewServer(s)
	defer ts.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: goroutines}}
	defer client.CloseIdleConnections()

	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for _, id := range plan[g*perG : (g+1)*perG] {
				resp, err := client.Post(ts.URL+"/view/"+strconv.Itoa(id), "", nil)
				if !assert.NoError(t, err) {
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if !assert.Equal(t, http.StatusNoContent, resp.StatusCode) {
					return
				}
			}
		})
	}
	wg.Wait()

	var counts []entry
	getJSON(t, ts.URL+"/counts", &counts)
	got := map[int]int64{}
	for _, e := range counts {
		got[e.ID] = e.Views
	}
	assert.Equal(t, want, got, "views counted per item")

	// Every view has been recorded; the throttled publication of the last
	// ones may still be pending.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, signals.Idle(ctx))
	var tr trending
	getJSON(t, ts.URL+"/trending.json", &tr)
	assert.Equal(t, wantTop, tr.Top)

	rankings := s.rank.runs.Load()
	t.Logf("%d views, ranking computed %d times", views, rankings)
	assert.Positive(t, rankings)
	assert.Less(t, rankings, int64(views/10), "the ranking is throttled, not computed once per view")
}

func TestBadRequests(t *testing.T) {
	ts := httptest.NewServer(newServer(t.Context(), 3, 2, time.Millisecond))
	defer ts.Close()

	var tr trending
	getJSON(t, ts.URL+"/trending.json", &tr)
	assert.NotNil(t, tr.Top, "an empty ranking is [], not null")
	assert.Empty(t, tr.Top)

	for _, tc := range []struct {
		method, path string
		status       int
		message      string
	}{
		{http.MethodPost, "/view/0", http.StatusNotFound, "no item 0: ids go from 1 to 3"},
		{http.MethodPost, "/view/4", http.StatusNotFound, "no item 4: ids go from 1 to 3"},
		{http.MethodPost, "/view/-1", http.StatusNotFound, "no item -1"},
		{http.MethodPost, "/view/abc", http.StatusBadRequest, `item id "abc" is not an integer`},
		{http.MethodPost, "/view/99999999999999999999", http.StatusBadRequest, "is not an integer"},
		{http.MethodGet, "/view/1", http.StatusMethodNotAllowed, "Method Not Allowed"},
		{http.MethodPost, "/trending.json", http.StatusMethodNotAllowed, "Method Not Allowed"},
	} {
		req, err := http.NewRequest(tc.method, ts.URL+tc.path, nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, tc.status, resp.StatusCode, "%s %s", tc.method, tc.path)
		assert.Contains(t, string(body), tc.message, "%s %s", tc.method, tc.path)
	}

	var counts []entry
	getJSON(t, ts.URL+"/counts", &counts)
	assert.Equal(t, []entry{{1, 0}, {2, 0}, {3, 0}}, counts, "rejected views are not counted")
}

func TestRunWithLoadGenerator(t *testing.T) {
	var out strings.Builder
	err := run(t.Context(), []string{"-addr", "127.0.0.1:0", "-items", "5", "-n", "3",
		"-interval", "20ms", "-load", "2", "-duration", "300ms"}, &out)
	require.NoError(t, err, out.String())

	m := regexp.MustCompile(`load generator: sent (\d+) views, counted (\d+)`).FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	assert.Equal(t, m[1], m[2], "views sent and counted")
	assert.NotEqual(t, "0", m[1], "the load generator sent views")
	assert.Regexp(t, `serving the ranking on http://127\.0\.0\.1:\d+/trending\.json\n`, out.String())
	assert.Regexp(t, `\n1\. item \d+ \(views: \d+\)\n2\. .*\n3\. .*\n$`, out.String())
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-items", "0"}, {"-n", "0"}, {"-interval", "0s"}, {"-load", "-1"}, {"-duration", "-1s"}, {"-nope"},
	} {
		assert.Error(t, run(t.Context(), args, io.Discard), "%v", args)
	}
}
