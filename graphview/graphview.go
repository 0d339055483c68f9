// Package graphview serves a live picture of a signals graph over HTTP, as
// net/http/pprof serves profiles. The page is self-contained: an SVG drawing
// laid out by this package (no scripts, no Graphviz), sources on the left,
// effects on the right, each node coloured by how often its function ran
// (pale yellow to deep orange; a red outline marks a panic);
// hovering a node shows its value and counters.
//
//	mux.Handle("/debug/signals/", http.StripPrefix("/debug/signals", graphview.Handler(counter, ranking)))
//
// Paths under the handler: / (the page; ?refresh=N reloads it every N
// seconds), /graph.svg, /graph.dot (Graphviz) and /graph.json (the
// signals.NodeInfo list). Turn on signals.EnableTiming to see time spent.
package graphview

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strconv"

	"github.com/gosignals/signals"
)

// Handler serves the graph reachable from roots (see signals.Graph).
func Handler(roots ...signals.Node) http.Handler {
	return HandlerFunc(func() []signals.Node { return roots })
}

// HandlerFunc serves the graph reachable from the nodes roots returns at
// each request, for graphs whose nodes come and go.
func HandlerFunc(roots func() []signals.Node) http.Handler {
	mux := http.NewServeMux()
	graph := func() []signals.NodeInfo { return signals.Graph(roots()...) }
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		refresh := 0
		if s := r.URL.Query().Get("refresh"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 3600 {
				http.Error(w, "refresh must be a whole number of seconds from 1 to 3600", http.StatusBadRequest)
				return
			}
			refresh = n
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		nodes := graph()
		if err := page.Execute(w, pageData{Refresh: refresh, Count: len(nodes), SVG: template.HTML(svg(Layout(nodes)))}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("GET /graph.svg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		io.WriteString(w, svg(Layout(graph())))
	})
	mux.HandleFunc("GET /graph.dot", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/vnd.graphviz; charset=utf-8")
		signals.WriteDOT(w, graph())
	})
	mux.HandleFunc("GET /graph.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(jsonNodes(graph())); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	return mux
}

// jsonNode is NodeInfo with the panic value formatted, since it may not
// encode.
type jsonNode struct {
	signals.NodeInfo
	Panic string `json:"Panic,omitempty"`
}

func jsonNodes(nodes []signals.NodeInfo) []jsonNode {
	out := make([]jsonNode, len(nodes))
	for i, n := range nodes {
		out[i].NodeInfo = n
		if n.Panicked {
			out[i].Panic = fmt.Sprint(n.Panic)
		}
		out[i].NodeInfo.Panic = nil
	}
	return out
}

type pageData struct {
	Refresh, Count int
	SVG            template.HTML
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
{{if .Refresh}}<meta http-equiv="refresh" content="{{.Refresh}}">{{end}}
<title>signals graph</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.2em; margin: 0 0 .3em; }
p { margin: .2em 0 1em; color: #555; }
.legend span { display: inline-block; padding: 0 .5em; margin-right: .5em; border-radius: 3px; }
svg { border: 1px solid #ddd; background: #fcfcfc; }
svg g.node:hover rect { stroke-width: 3; }
</style></head><body>
<h1>signals graph</h1>
<p>{{.Count}} nodes, sources on the left, effects on the right. Colour: how often a function ran (pale: rarely, deep orange: most).
Dashed: stale or stopped. Hover a node for its value and counters.
Also: <a href="graph.svg">SVG</a>, <a href="graph.dot">DOT</a>, <a href="graph.json">JSON</a>.</p>
<p class="legend"><span style="background:#dbe8f6">signal</span><span style="background:#fff3c4">computed</span><span style="background:#e3f4df">effect</span><span style="outline:2px solid #c0392b">panicked</span></p>
{{.SVG}}
</body></html>
`))
