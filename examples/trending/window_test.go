package main

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosignals/signals"
)

func TestTallySlides(t *testing.T) {
	var tl tally
	tl = tl.add(100, 2)
	tl = tl.add(101, 1)
	tl = tl.add(103, 4)
	assert.Equal(t, int64(7), tl.Total)
	assert.Equal(t, int64(7), tl.recent(103))
	assert.Equal(t, int64(7), tl.recent(105), "bucket 100 is still the sixth")
	assert.Equal(t, int64(5), tl.recent(106), "bucket 100 slid out")
	assert.Equal(t, int64(4), tl.recent(107))
	assert.Equal(t, int64(0), tl.recent(109))
	assert.Equal(t, int64(7), tl.recent(99), "a writer ahead of the ranking's clock still counts")

	tl = tl.add(108, 1) // clears the buckets that slid out
	assert.Equal(t, int64(5), tl.recent(108))
	tl = tl.add(103, 10) // late, still in the window (102, 108]
	assert.Equal(t, int64(15), tl.recent(108))
	tl = tl.add(50, 3) // too old for the window: total only
	assert.Equal(t, int64(15), tl.recent(108))
	assert.Equal(t, int64(21), tl.Total)
	tl = tl.add(1000, 1) // far ahead: every old bucket is gone
	assert.Equal(t, int64(1), tl.recent(1000))
}

// bruteTop ranks every item from scratch.
func bruteTop(views *signals.Map[int, tally], now int64, n int) []entry {
	var all []entry
	for id, tl := range views.All(nil) {
		if v := tl.recent(now); v > 0 {
			all = append(all, entry{ID: id, Views: v})
		}
	}
	slices.SortFunc(all, before)
	return all[:min(n, len(all))]
}

// The incremental ranking equals a ranking from scratch after every step of
// random views, window slides and views from writers whose clock runs ahead.
func TestRankerAgreesWithAFullRanking(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	width := 10 * time.Second
	start := time.Unix(1_700_000_000, 0)
	clock := signals.New(start)
	views := signals.NewMap[int, tally](signals.MapLogSize(64))
	rk := newRanker(views, clock, width, 5)
	e := signals.NewEffect(func(t *signals.Tracker) { rk.ranking(t) })
	defer e.Stop()
	for step := range 3000 {
		now := bucketOf(clock.Peek(), width)
		switch op := r.IntN(100); {
		case op < 80: // a burst of views
			for range 1 + r.IntN(20) {
				id := 1 + int(r.ExpFloat64()*8)%40
				views.Update(id, func(tl tally, _ bool) tally { return tl.add(now, 1) })
			}
		case op < 90: // a writer whose clock is one bucket ahead
			views.Update(1+r.IntN(40), func(tl tally, _ bool) tally { return tl.add(now+1, 1) })
		case op < 97: // the window slides
			clock.Set(clock.Peek().Add(width))
		default: // more views than the log holds
			signals.Batch(func() {
				for id := range 70 {
					views.Update(id+1, func(tl tally, _ bool) tally { return tl.add(now, 1) })
				}
			})
		}
		got := rk.ranking(nil)
		want := bruteTop(views, bucketOf(clock.Peek(), width), 5)
		require.Equal(t, want, got, "step %d", step)
	}
	t.Logf("%d ranking runs, %d full scans", rk.runs.Load(), rk.scans.Load())
	assert.Less(t, rk.scans.Load()*3, rk.runs.Load(), "most runs follow the changes")
}

func TestRankingUnderConcurrentIncrements(t *testing.T) {
	width := time.Minute
	clock := signals.New(time.Unix(1_700_000_000, 0))
	now := bucketOf(clock.Peek(), width)
	views := signals.NewMap[int, tally](signals.MapLogSize(1 << 12))
	rk := newRanker(views, clock, width, 10)
	var published atomic.Pointer[[]entry]
	e := signals.NewEffect(func(t *signals.Tracker) {
		top := rk.ranking(t)
		published.Store(&top)
	})
	defer e.Stop()

	const goroutines, perG, items = 8, 2000, 500
	var wg sync.WaitGroup
	var stop atomic.Bool
	// A reader checks every ranking it sees: sorted, at most 10 items, and
	// no item ever loses views (there are only increments).
	wg.Go(func() {
		seen := map[int]int64{}
		for !stop.Load() {
			top := rk.ranking(nil)
			if !slices.IsSortedFunc(top, before) || len(top) > 10 {
				t.Errorf("bad ranking: %v", top)
				return
			}
			for _, e := range top {
				if e.Views < seen[e.ID] {
					t.Errorf("item %d went from %d to %d views", e.ID, seen[e.ID], e.Views)
					return
				}
				seen[e.ID] = e.Views
			}
		}
	})
	var writers sync.WaitGroup
	for g := range goroutines {
		writers.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 9))
			zipf := rand.NewZipf(r, 1.2, 1, items-1)
			for range perG {
				id := 1 + int(zipf.Uint64())
				views.Update(id, func(tl tally, _ bool) tally { return tl.add(now, 1) })
			}
		})
	}
	writers.Wait()
	stop.Store(true)
	wg.Wait()

	var total int64
	for _, tl := range views.All(nil) {
		total += tl.Total
	}
	assert.Equal(t, int64(goroutines*perG), total, "no view lost")
	want := bruteTop(views, now, 10)
	assert.Equal(t, want, rk.ranking(nil))
	assert.Equal(t, want, *published.Load(), "the effect saw the final ranking")
	t.Logf("%d views: %d ranking runs, %d full scans", total, rk.runs.Load(), rk.scans.Load())
}

// The window slides: views older than the window leave the ranking, in
// virtual time, while the all-time counts keep them.
func TestWindowExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer synctest.Wait() // the publisher and the clock's ticker stop
		defer cancel()
		s := newServerWith(ctx, localCounters(5), 3, 100*time.Millisecond, time.Minute) // 10s buckets
		view := func(id, n int) {
			for range n {
				rec := httptest.NewRecorder()
				s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/view/"+strconv.Itoa(id), nil))
				require.Equal(t, http.StatusNoContent, rec.Code)
			}
		}
		top := func() []entry {
			time.Sleep(200 * time.Millisecond) // let the throttled publisher run
			synctest.Wait()
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/trending.json", nil))
			var tr struct {
				Top    []entry `json:"top"`
				Window string  `json:"window"`
			}
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &tr))
			assert.Equal(t, "1m0s", tr.Window)
			return tr.Top
		}

		view(1, 3)
		view(2, 1)
		assert.Equal(t, []entry{{1, 3}, {2, 1}}, top())
		time.Sleep(30 * time.Second)
		view(3, 2)
		assert.Equal(t, []entry{{1, 3}, {3, 2}, {2, 1}}, top())
		time.Sleep(30 * time.Second) // the first views are a minute old
		assert.Equal(t, []entry{{3, 2}}, top())
		view(2, 5)
		assert.Equal(t, []entry{{2, 5}, {3, 2}}, top())
		time.Sleep(2 * time.Minute)
		assert.Empty(t, top(), "everything expired")

		assert.Equal(t, []int64{3, 6, 2, 0, 0}, s.counts.Peek(), "all-time counts keep every view")
		assert.Equal(t, []entry{{2, 6}, {1, 3}, {3, 2}}, s.allTime(3))
		assert.Greater(t, s.rank.scans.Load(), int64(3), "a scan per slide of the window")
	})
}
