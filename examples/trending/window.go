package main

import (
	"cmp"
	"slices"
	"sync/atomic"
	"time"

	"github.com/gosignals/signals"
)

// buckets is the number of time buckets a sliding window is made of: a view
// counts while its bucket is one of the latest buckets, so the window slides
// by one bucket (window/buckets) at a time.
const buckets = 6

// tally is one item's views: all of them, and those of its latest buckets.
// It is a value (no pointers), so that a map Update that adds a view copies
// it and allocates nothing.
type tally struct {
	Total int64
	last  int64 // number of the latest bucket a view was added to
	// ring[b%buckets] counts the views of bucket b, for the buckets b of
	// (last-buckets, last].
	ring [buckets]int64
}

// bucketOf numbers the bucket of width w that holds t.
func bucketOf(t time.Time, w time.Duration) int64 { return t.UnixNano() / int64(w) }

// add returns t with n views added in bucket b.
func (t tally) add(b, n int64) tally {
	t.Total += n
	if b > t.last {
		for x := t.last + 1; x <= b && x <= t.last+buckets; x++ {
			t.ring[x%buckets] = 0 // buckets that slid out of the window
		}
		t.last = b
	}
	if b > t.last-buckets { // not older than the ring
		t.ring[b%buckets] += n
	}
	return t
}

// recent returns the views of the window that ends with bucket now: those
// of buckets (now-buckets, now], and any of later buckets (a writer's clock
// may run ahead of the ranking's).
func (t tally) recent(now int64) int64 {
	var n int64
	for x := max(now-buckets, t.last-buckets) + 1; x <= t.last; x++ {
		n += t.ring[x%buckets]
	}
	return n
}

// ranker keeps the top n items by views over a sliding window. It follows
// the map's changes: after k views it reads k items, not all of them. It
// scans the whole map only when the window slides (a new bucket), when a
// ranked item lost views, or when it fell behind the map's change log.
type ranker struct {
	views *signals.Map[int, tally]
	clock signals.Readable[time.Time] // the ranking's notion of now
	width time.Duration               // of a bucket
	n     int

	runs, scans atomic.Int64
	top         *signals.Computed[rankState]
}

// rankState is the ranking with what the next run builds it from.
type rankState struct {
	cur    signals.Cursor
	bucket int64
	top    []entry // best first; ties go to the lower id
}

func newRanker(views *signals.Map[int, tally], clock signals.Readable[time.Time], width time.Duration, n int) *ranker {
	r := &ranker{views: views, clock: clock, width: width, n: n}
	r.top = signals.NewComputedFrom(r.rank, signals.WithName[rankState]("ranking"),
		signals.WithEqual(func(a, b rankState) bool { return slices.Equal(a.top, b.top) }))
	return r
}

// ranking returns the current top n.
func (r *ranker) ranking(t *signals.Tracker) []entry { return r.top.Get(t).top }

func before(a, b entry) int { return cmp.Or(cmp.Compare(b.Views, a.Views), cmp.Compare(a.ID, b.ID)) }

func (r *ranker) rank(t *signals.Tracker, prev rankState, ok bool) rankState {
	r.runs.Add(1)
	now := bucketOf(r.clock.Get(t), r.width)
	next := rankState{cur: prev.cur, bucket: now}
	changed, fresh := r.views.Changes(t, &next.cur)
	if !ok || !fresh || now != prev.bucket {
		next.top = r.scan(t, now)
		return next
	}
	// Every item outside the previous top ranked below all of it. An item
	// that did not change still does, and so does one that changed but
	// stays below the previous last place; a ranked item that lost views
	// may now rank below one of them, which only a scan can tell.
	top := slices.Clone(prev.top)
	ut := t.Untracked()
	for _, id := range changed {
		tl, _ := r.views.Get(ut, id)
		e := entry{ID: id, Views: tl.recent(now)}
		if i := slices.IndexFunc(top, func(x entry) bool { return x.ID == id }); i >= 0 {
			if e.Views < top[i].Views {
				next.top = r.scan(t, now)
				return next
			}
			top[i] = e
			continue
		}
		full := len(prev.top) == r.n
		if e.Views > 0 && (!full || before(e, prev.top[r.n-1]) < 0) {
			top = append(top, e)
		}
	}
	slices.SortFunc(top, before)
	next.top = slices.Clip(top[:min(r.n, len(top))])
	return next
}

// scan ranks every item: when the window slid, a ranked item lost views, or
// the change log could not say what changed.
func (r *ranker) scan(t *signals.Tracker, now int64) []entry {
	r.scans.Add(1)
	var top []entry // sorted, at most n
	for id, tl := range r.views.All(t) {
		e := entry{ID: id, Views: tl.recent(now)}
		if e.Views == 0 || (len(top) == r.n && before(e, top[r.n-1]) > 0) {
			continue
		}
		i, _ := slices.BinarySearchFunc(top, e, before)
		top = slices.Insert(top, i, e)
		if len(top) > r.n {
			top = top[:r.n]
		}
	}
	return top
}
