package signals

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteDOT writes nodes (as returned by Graph) to w as a Graphviz digraph:
// an edge from each dependency to what reads it, signals as boxes, computeds
// as ellipses, effects as double octagons, stale nodes dashed, nodes whose
// function panicked red. Render it with `dot -Tsvg`.
func WriteDOT(w io.Writer, nodes []NodeInfo) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "digraph signals {")
	fmt.Fprintln(bw, "\trankdir=LR;")
	known := map[uintptr]bool{}
	for _, n := range nodes {
		known[n.ID] = true
	}
	for _, n := range nodes {
		shape := map[string]string{"signal": "box", "computed": "ellipse", "effect": "doubleoctagon"}[n.Kind]
		var style []string
		if n.Stale || n.Stopped {
			style = append(style, "dashed")
		}
		attrs := fmt.Sprintf("label=%s, shape=%s", dotQuote(dotLabel(n)), shape)
		if len(style) > 0 {
			attrs += ", style=" + strings.Join(style, ",")
		}
		if n.Panicked {
			attrs += ", color=red"
		}
		fmt.Fprintf(bw, "\tn%x [%s];\n", n.ID, attrs)
	}
	for _, n := range nodes {
		for _, d := range n.Deps {
			if known[d] {
				fmt.Fprintf(bw, "\tn%x -> n%x;\n", d, n.ID)
			}
		}
	}
	fmt.Fprintln(bw, "}")
	return bw.Flush()
}

func dotLabel(n NodeInfo) string {
	name := n.Name
	if name == "" {
		name = fmt.Sprintf("%s %x", n.Kind, n.ID&0xffffff)
	}
	var b strings.Builder
	b.WriteString(name)
	if n.Value != "" {
		fmt.Fprintf(&b, "\n= %s", truncate(n.Value, 40))
	}
	if n.Kind != "signal" {
		fmt.Fprintf(&b, "\nruns %d", n.Runs)
	}
	return b.String()
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// dotQuote quotes s as a DOT string.
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
