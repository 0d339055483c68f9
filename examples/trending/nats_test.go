package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosignals/signals"
	"github.com/gosignals/signals/natsig/natsigtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func post(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Post(url, "", nil)
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
}

func countsOf(t *testing.T, url string) map[int]int64 {
	var counts []entry
	getJSON(t, url+"/counts", &counts)
	got := map[int]int64{}
	for _, e := range counts {
		got[e.ID] = e.Views
	}
	return got
}

// Two instances on one NATS server serve the same counts and rankings,
// whichever instance recorded the views.
func TestInstancesShareCountsThroughNATS(t *testing.T) {
	srv := natsigtest.Start(t)
	var urls []string
	for range 2 {
		c, err := openNATS(t.Context(), srv.URL(), "trending", 3, 2, io.Discard)
		require.NoError(t, err)
		defer c.close()
		ts := httptest.NewServer(newServerWith(t.Context(), c, 2, 20*time.Millisecond, time.Minute))
		defer ts.Close()
		urls = append(urls, ts.URL)
	}
	a, b := urls[0], urls[1]
	for range 3 {
		post(t, a+"/view/1")
	}
	post(t, a+"/view/2")
	for range 4 {
		post(t, b+"/view/2")
	}
	post(t, b+"/view/3")
	assert.GreaterOrEqual(t, countsOf(t, b)[2], int64(4), "b counts its own views at once")

	want := map[int]int64{1: 3, 2: 5, 3: 1}
	for _, url := range urls {
		deadline := time.Now().Add(5 * time.Second)
		for !assert.ObjectsAreEqual(want, countsOf(t, url)) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		assert.Equal(t, want, countsOf(t, url), url)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	require.NoError(t, signals.Idle(ctx))
	for _, url := range urls {
		var tr trending
		getJSON(t, url+"/trending.json", &tr)
		assert.Equal(t, []entry{{2, 5}, {1, 3}}, tr.Top, url)
	}
}

// Two runs of the program with -nats and a load generator share one total.
func TestRunTwoInstancesWithNATS(t *testing.T) {
	srv := natsigtest.Start(t)
	var wg sync.WaitGroup
	outs := make([]strings.Builder, 2)
	errs := make([]error, 2)
	for i := range outs {
		wg.Go(func() {
			errs[i] = run(t.Context(), []string{"-addr", "127.0.0.1:0", "-items", "4", "-n", "2",
				"-interval", "20ms", "-load", "1", "-duration", "400ms", "-nats", srv.URL(), "-shards", "2"}, &outs[i])
		})
	}
	wg.Wait()
	line := regexp.MustCompile(`load generator: sent (\d+) views; all instances counted (\d+)`)
	var sent int64
	for i, out := range outs {
		require.NoError(t, errs[i], out.String())
		assert.Contains(t, out.String(), `counting in bucket "trending" of `+srv.URL()+" (2 shards per item)\n")
		m := line.FindStringSubmatch(out.String())
		require.NotNil(t, m, out.String())
		n, _ := strconv.ParseInt(m[1], 10, 64)
		counted, _ := strconv.ParseInt(m[2], 10, 64)
		assert.Positive(t, n)
		assert.GreaterOrEqual(t, counted, n, "an instance counts at least its own views")
		sent += n
	}

	// A third instance, started afterwards, finds the total in the bucket.
	var out strings.Builder
	require.NoError(t, run(t.Context(), []string{"-addr", "127.0.0.1:0", "-items", "4", "-n", "4",
		"-duration", "10ms", "-nats", srv.URL(), "-shards", "2"}, &out))
	var total int64
	for _, m := range regexp.MustCompile(`views: (\d+)\)`).FindAllStringSubmatch(out.String(), -1) {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		total += n
	}
	assert.Equal(t, sent, total, "every view sent by either instance is counted once:\n%s", out.String())
}

func TestRunWithNATSFailsWithoutServer(t *testing.T) {
	srv := natsigtest.Start(t)
	url := srv.URL()
	srv.Shutdown()
	err := run(t.Context(), []string{"-addr", "127.0.0.1:0", "-nats", url}, io.Discard)
	assert.ErrorContains(t, err, "-nats "+url)
	assert.Error(t, run(t.Context(), []string{"-shards", "0"}, io.Discard))
}

// A view is counted in the instance that recorded it by the time the POST
// returns, even when the counter's new value reached the instance through
// the bucket's watcher first, whose goroutine then runs the effects.
func TestAViewIsCountedBeforeItsPostReturns(t *testing.T) {
	srv := natsigtest.Start(t)
	c, err := openNATS(t.Context(), srv.URL(), "trending", 1, 1, io.Discard)
	require.NoError(t, err)
	defer c.close()
	// Created before the server's mirrors, so that it runs before them in a
	// flush: it holds up whichever goroutine wrote the counter's new value.
	slow := signals.NewEffect(func(t *signals.Tracker) {
		if c.counters[0].Value().Get(t) > 0 {
			time.Sleep(50 * time.Millisecond)
		}
	})
	defer slow.Stop()
	ts := httptest.NewServer(newServerWith(t.Context(), c, 1, 20*time.Millisecond, time.Minute))
	defer ts.Close()
	for i := range 10 {
		post(t, ts.URL+"/view/1")
		require.Equal(t, int64(i+1), countsOf(t, ts.URL)[1], "after %d posts", i+1)
	}
}
