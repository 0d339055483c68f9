package graphview_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosignals/signals"
	"github.com/gosignals/signals/graphview"
)

// diamond builds a → (b, c) → d → effect, and runs it a few times.
func diamond(t *testing.T) (*signals.Signal[int], *signals.Effect) {
	a := signals.New(1, signals.WithName[int]("a"))
	b := signals.NewComputed(func(tr *signals.Tracker) int { return a.Get(tr) + 1 }, signals.WithName[int]("b"))
	c := signals.NewComputed(func(tr *signals.Tracker) int { return a.Get(tr) * 2 }, signals.WithName[int]("c <&>"))
	d := signals.NewComputed(func(tr *signals.Tracker) int { return b.Get(tr) + c.Get(tr) }, signals.WithName[int]("d"))
	e := signals.NewEffect(func(tr *signals.Tracker) { d.Get(tr) }, signals.WithEffectName("show"))
	t.Cleanup(e.Stop)
	for i := 2; i <= 4; i++ {
		a.Set(i)
	}
	return a, e
}

func get(t *testing.T, h http.Handler, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, err := io.ReadAll(rec.Result().Body)
	require.NoError(t, err)
	return rec.Result(), string(body)
}

func TestLayoutEdgesPointRight(t *testing.T) {
	a, _ := diamond(t)
	d := graphview.Layout(signals.Graph(a))
	require.Len(t, d.Nodes, 5)
	at := map[uintptr]graphview.Placed{}
	for _, p := range d.Nodes {
		at[p.ID] = p
	}
	layers := map[string]int{}
	for _, p := range d.Nodes {
		layers[p.Name] = p.Layer
		for _, dep := range p.Deps {
			assert.Less(t, at[dep].X, p.X, "edge %s -> %s must point right", at[dep].Name, p.Name)
		}
		assert.LessOrEqual(t, p.X+170, d.Width)
		assert.LessOrEqual(t, p.Y+52, d.Height)
	}
	assert.Equal(t, map[string]int{"a": 0, "b": 1, "c <&>": 1, "d": 2, "show": 3}, layers)
	assert.Equal(t, uint64(4), d.MaxRuns)
	b, c := at[signals.Inspect(a).Subs[0]], at[signals.Inspect(a).Subs[1]]
	assert.NotEqual(t, b.Y, c.Y, "nodes of one layer do not overlap")
}

func TestPage(t *testing.T) {
	a, e := diamond(t)
	h := graphview.Handler(e)
	res, body := get(t, h, "/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Contains(t, body, "5 nodes")
	assert.Contains(t, body, "<svg")
	assert.Equal(t, 5, strings.Count(body, `<g class="node"`))
	assert.Equal(t, 5, strings.Count(body, "marker-end"), "a→b, a→c, b→d, c→d, d→show")
	assert.Contains(t, body, "c &lt;&amp;&gt;", "names are escaped")
	assert.Contains(t, body, "<title>d (computed)\nvalue: 13\nruns: 4\nreads 2, read by 1 live</title>")
	assert.NotContains(t, body, "http-equiv")

	a.Set(5)
	_, body = get(t, h, "/?refresh=2")
	assert.Contains(t, body, `<meta http-equiv="refresh" content="2">`)
	assert.Contains(t, body, "value: 16", "the page shows the live state")

	for _, bad := range []string{"/?refresh=0", "/?refresh=x", "/?refresh=99999"} {
		res, body := get(t, h, bad)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, bad)
		assert.Contains(t, body, "refresh must be")
	}
	res, _ = get(t, h, "/nope")
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
}

func TestFormats(t *testing.T) {
	_, e := diamond(t)
	h := graphview.Handler(e)

	res, body := get(t, h, "/graph.svg")
	assert.Equal(t, "image/svg+xml", res.Header.Get("Content-Type"))
	assert.True(t, strings.HasPrefix(body, "<svg"), body)

	res, body = get(t, h, "/graph.dot")
	assert.Equal(t, "text/vnd.graphviz; charset=utf-8", res.Header.Get("Content-Type"))
	assert.True(t, strings.HasPrefix(body, "digraph signals {"))
	assert.Equal(t, 5, strings.Count(body, "->"))

	res, body = get(t, h, "/graph.json")
	assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
	var nodes []map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &nodes))
	require.Len(t, nodes, 5)
	assert.Equal(t, "show", nodes[0]["Name"])
	assert.Equal(t, "effect", nodes[0]["Kind"])
}

func TestPanickedNodeAndEmptyGraph(t *testing.T) {
	s := signals.New(0)
	bad := signals.NewComputed(func(tr *signals.Tracker) int {
		if s.Get(tr) > 0 {
			panic("too big")
		}
		return 0
	}, signals.WithName[int]("bad"))
	bad.Peek()
	s.Set(1)
	assert.Panics(t, func() { bad.Peek() })
	_, body := get(t, graphview.Handler(bad), "/")
	assert.Contains(t, body, "last panic: too big")
	assert.Regexp(t, `raised at:\n  [^\n]*TestPanickedNodeAndEmptyGraph[^\n]*graphview_test\.go:\d+\)`, body,
		"the tooltip names the function and line that raised the panic")
	assert.Contains(t, body, `stroke="#c0392b"`)
	_, body = get(t, graphview.Handler(bad), "/graph.json")
	assert.Contains(t, body, `"Panic": "too big"`)

	_, body = get(t, graphview.HandlerFunc(func() []signals.Node { return nil }), "/")
	assert.Contains(t, body, "no nodes")
}

func Example() {
	count := signals.New(1, signals.WithName[int]("count"))
	doubled := signals.NewComputed(func(t *signals.Tracker) int { return count.Get(t) * 2 }, signals.WithName[int]("doubled"))
	mux := http.NewServeMux()
	mux.Handle("/debug/signals/", http.StripPrefix("/debug/signals", graphview.Handler(doubled)))

	doubled.Peek()
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/debug/signals/graph.dot", nil))
	fmt.Println(rec.Code, strings.Count(rec.Body.String(), "->"), "edge")
	// Output: 200 1 edge
}

// TestLongEdgesAvoidNodes: an edge that skips a layer runs through an empty
// slot there, not behind the node in between (a → d must not look like
// a → c → d).
func TestLongEdgesAvoidNodes(t *testing.T) {
	a, b := signals.New(1, signals.WithName[int]("a")), signals.New(2, signals.WithName[int]("b"))
	c := signals.NewComputed(func(tr *signals.Tracker) int { return b.Get(tr) }, signals.WithName[int]("c"))
	d := signals.NewComputed(func(tr *signals.Tracker) int { return a.Get(tr) + c.Get(tr) }, signals.WithName[int]("d"))
	d.Peek()
	dr := graphview.Layout(signals.Graph(a, b, d))
	require.Len(t, dr.Edges, 3)
	for _, e := range dr.Edges {
		pts := e.Points
		for i := 1; i < len(pts); i++ {
			for _, n := range dr.Nodes {
				if n.ID == e.From || n.ID == e.To {
					continue
				}
				// Every segment's midpoint and ends stay outside other boxes.
				for _, p := range [][2]int{pts[i-1], pts[i], {(pts[i-1][0] + pts[i][0]) / 2, (pts[i-1][1] + pts[i][1]) / 2}} {
					inside := p[0] > n.X && p[0] < n.X+170 && p[1] > n.Y && p[1] < n.Y+52
					assert.False(t, inside, "edge to %x passes through %s at %v", e.To, n.Name, p)
				}
			}
		}
	}
}
