package graphview

import (
	"fmt"
	"html"
	"strings"

	"github.com/gosignals/signals"
)

// Geometry of the drawing, in SVG user units.
const (
	nodeW, nodeH = 170, 52
	colGap       = 90
	rowGap       = 22
	margin       = 20
)

// Placed is a node with its position in the drawing.
type Placed struct {
	signals.NodeInfo
	Layer, Row int
	X, Y       int
}

// Drawing is a laid-out graph.
type Drawing struct {
	Nodes         []Placed
	Edges         []Edge
	Width, Height int
	MaxRuns       uint64
}

// Edge runs from a dependency to a node that reads it, through Points: its
// start on the dependency's right side, one empty slot in each layer it
// crosses (so that it never passes behind a node), and its end on the
// reader's left side.
type Edge struct {
	From, To uintptr
	Points   [][2]int
}

// Layout places nodes in layers: a node's layer is one more than the
// largest layer of its dependencies (sources in layer 0), so every edge
// points right. Within a layer, nodes keep the order they were given in.
func Layout(nodes []signals.NodeInfo) Drawing {
	index := make(map[uintptr]int, len(nodes))
	for i, n := range nodes {
		index[n.ID] = i
	}
	layer := make([]int, len(nodes))
	state := make([]uint8, len(nodes)) // 0 new, 1 in progress, 2 done
	var place func(i int) int
	place = func(i int) int {
		switch state[i] {
		case 1:
			return 0 // a cycle in a snapshot taken mid-change: break it
		case 2:
			return layer[i]
		}
		state[i] = 1
		l := 0
		for _, d := range nodes[i].Deps {
			if j, ok := index[d]; ok {
				l = max(l, place(j)+1)
			}
		}
		layer[i], state[i] = l, 2
		return l
	}
	var d Drawing
	rows := map[int]int{}
	slot := func(l int) (x, y int) {
		x, y = margin+l*(nodeW+colGap), margin+rows[l]*(nodeH+rowGap)
		rows[l]++
		d.Width = max(d.Width, x+nodeW+margin)
		d.Height = max(d.Height, y+nodeH+margin)
		return x, y
	}
	for i, n := range nodes {
		l := place(i)
		p := Placed{NodeInfo: n, Layer: l, Row: rows[l]}
		p.X, p.Y = slot(l)
		d.MaxRuns = max(d.MaxRuns, n.Runs)
		d.Nodes = append(d.Nodes, p)
	}
	for _, p := range d.Nodes {
		for _, dep := range p.Deps {
			j, ok := index[dep]
			if !ok {
				continue
			}
			q := d.Nodes[j]
			e := Edge{From: q.ID, To: p.ID, Points: [][2]int{{q.X + nodeW, q.Y + nodeH/2}}}
			for l := q.Layer + 1; l < p.Layer; l++ {
				x, y := slot(l)
				e.Points = append(e.Points, [2]int{x, y + nodeH/2}, [2]int{x + nodeW, y + nodeH/2})
			}
			e.Points = append(e.Points, [2]int{p.X, p.Y + nodeH/2})
			d.Edges = append(d.Edges, e)
		}
	}
	return d
}

// fill colours a node by kind and, for functions, by how often it ran
// compared with the busiest node.
func fill(p Placed, maxRuns uint64) string {
	switch {
	case p.Kind == "signal":
		return "#dbe8f6"
	case p.Stopped:
		return "#eeeeee"
	case maxRuns == 0:
		return map[string]string{"computed": "#fff3c4", "effect": "#e3f4df"}[p.Kind]
	}
	// Pale yellow to deep orange; red stays reserved for panics.
	heat := float64(p.Runs) / float64(maxRuns)
	hue := 50 - 22*heat
	light := 92 - 34*heat
	return fmt.Sprintf("hsl(%.0f, 95%%, %.0f%%)", hue, light)
}

func svg(d Drawing) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="system-ui, sans-serif" font-size="12">`,
		max(d.Width, 200), max(d.Height, 80), max(d.Width, 200), max(d.Height, 80))
	b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#888"/></marker></defs>`)
	if len(d.Nodes) == 0 {
		b.WriteString(`<text x="20" y="40">no nodes</text>`)
	}
	for _, e := range d.Edges {
		// Curves between layers, straight through the slots within them.
		pts := e.Points
		fmt.Fprintf(&b, `<path d="M %d %d`, pts[0][0], pts[0][1])
		for i := 1; i < len(pts); i++ {
			a, c := pts[i-1], pts[i]
			if i%2 == 0 {
				fmt.Fprintf(&b, ` L %d %d`, c[0], c[1])
				continue
			}
			mid := (a[0] + c[0]) / 2
			fmt.Fprintf(&b, ` C %d %d, %d %d, %d %d`, mid, a[1], mid, c[1], c[0], c[1])
		}
		b.WriteString(`" fill="none" stroke="#888" stroke-width="1.3" marker-end="url(#arrow)"/>`)
	}
	for _, p := range d.Nodes {
		stroke, dash, width := "#555", "", 1.2
		if p.Panicked {
			stroke, width = "#c0392b", 2.5
		}
		if p.Stale || p.Stopped {
			dash = ` stroke-dasharray="5 3"`
		}
		fmt.Fprintf(&b, `<g class="node" id="n%x"><title>%s</title>`, p.ID, html.EscapeString(tooltip(p.NodeInfo)))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" rx="%d" fill="%s" stroke="%s" stroke-width="%.1f"%s/>`,
			p.X, p.Y, nodeW, nodeH, map[bool]int{true: 4, false: 14}[p.Kind == "signal"], fill(p, d.MaxRuns), stroke, width, dash)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="600">%s</text>`, p.X+8, p.Y+18, html.EscapeString(clip(label(p.NodeInfo), 24)))
		second := p.Kind
		if p.Value != "" {
			second = "= " + p.Value
		}
		if p.Kind != "signal" {
			second += fmt.Sprintf(" · %d runs", p.Runs)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#444">%s</text></g>`, p.X+8, p.Y+38, html.EscapeString(clip(second, 28)))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func label(n signals.NodeInfo) string {
	if n.Name != "" {
		return n.Name
	}
	return fmt.Sprintf("%s %x", n.Kind, n.ID&0xffffff)
}

func tooltip(n signals.NodeInfo) string {
	lines := []string{label(n) + " (" + n.Kind + ")"}
	if n.Value != "" {
		lines = append(lines, "value: "+clip(n.Value, 200))
	}
	if n.Kind != "signal" {
		lines = append(lines, fmt.Sprintf("runs: %d", n.Runs))
		if n.Time > 0 {
			lines = append(lines, fmt.Sprintf("time: %v", n.Time))
		}
	}
	if n.Panicked {
		lines = append(lines, fmt.Sprintf("last panic: %v", n.Panic))
		for i, f := range panicFrames(n.PanicStack, 3) {
			if i == 0 {
				lines = append(lines, "raised at:")
			}
			lines = append(lines, "  "+f)
		}
	}
	if n.Stale {
		lines = append(lines, "stale")
	}
	if n.Stopped {
		lines = append(lines, "stopped")
	}
	lines = append(lines, fmt.Sprintf("reads %d, read by %d live", len(n.Deps), len(n.Subs)))
	return strings.Join(lines, "\n")
}

// panicFrames returns up to max frames of a stack in NodeInfo.PanicStack
// (a goroutine header, then pairs of lines: function, then file:line), the
// frame that raised the panic first, each as "function (file:line)".
func panicFrames(stack string, max int) []string {
	lines := strings.Split(strings.TrimSpace(stack), "\n")
	var out []string
	for i := 1; i+1 < len(lines) && len(out) < max; i += 2 {
		fn := strings.TrimSpace(lines[i])
		at, _, _ := strings.Cut(strings.TrimSpace(lines[i+1]), " +0x")
		out = append(out, fmt.Sprintf("%s (%s)", clip(fn, 120), at))
	}
	return out
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
