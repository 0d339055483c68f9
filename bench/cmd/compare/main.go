// Command compare runs the js-reactivity-benchmark workloads of package
// bench by the protocol of WORKLOADS.md (a full GC before every sample,
// warm-up, median of 5 samples, every checksum verified) and prints a
// markdown table of the median milliseconds per sample. When the Node
// harness in bench/js is installed (npm install there), it runs it too,
// back to back, and adds alien-signals, Preact signals and the TC39
// signal polyfill with the ratio of each to this library.
//
// Run it from the bench module:
//
//	cd bench && go run ./cmd/compare [-run REGEXP] [-js auto|on|off] [-mem]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/gosignals/signals/bench"
)

// jsResult is one workload's entry in the harness's JSON.
type jsResult struct {
	Median   float64 `json:"median"`
	Min      float64 `json:"min"`
	Max      float64 `json:"max"`
	Samples  int     `json:"samples"`
	Computed int64   `json:"computed"`
	Effects  int64   `json:"effects"`
	CountsOK bool    `json:"countsOK"`
	Error    string  `json:"error,omitempty"`
}

type jsLibrary struct {
	Name    string              `json:"name"`
	Version string              `json:"version"`
	Results map[string]jsResult `json:"results"`
}

type jsOutput struct {
	Node      string      `json:"node"`
	Libraries []jsLibrary `json:"libraries"`
}

func main() {
	runRe := flag.String("run", "", "only workloads whose name matches this regular expression")
	samples := flag.Int("samples", 5, "samples per workload (the median is reported)")
	jsMode := flag.String("js", "auto", "run the Node harness: auto (if bench/js/node_modules exists), on, off")
	jsDir := flag.String("jsdir", "", "directory of the Node harness (default: found from the working directory)")
	mem := flag.Bool("mem", true, "also print creation cost and memory per node")
	goincr := flag.Bool("goincr", true, "also run the diamond on github.com/wcharczuk/go-incr")
	jsonOut := flag.String("json", "", "also write the Go results as JSON to this file")
	flag.Parse()

	var re *regexp.Regexp
	if *runRe != "" {
		re = regexp.MustCompile(*runRe)
	}
	var ws []*bench.Workload
	for _, w := range bench.Workloads() {
		if re == nil || re.MatchString(w.Name) {
			ws = append(ws, w)
		}
	}
	if len(ws) == 0 {
		fatalf("no workload matches %q", *runRe)
	}

	p := bench.DefaultProtocol
	p.Samples = *samples
	var results []*bench.Result
	failed := false
	for _, w := range ws {
		fmt.Fprintf(os.Stderr, "go: %s ...", w.Name)
		r, err := p.Measure(w)
		if err != nil {
			fmt.Fprintf(os.Stderr, " FAILED: %v\n", err)
			failed = true
			results = append(results, nil)
			continue
		}
		fmt.Fprintf(os.Stderr, " %s\n", ms(r.Median()))
		results = append(results, r)
	}

	var incrDiamond *bench.Result
	if *goincr && (re == nil || re.MatchString("diamond")) {
		fmt.Fprintf(os.Stderr, "go-incr: diamond ...")
		r, err := p.Measure(bench.GoIncrDiamond())
		if err != nil {
			fmt.Fprintf(os.Stderr, " FAILED: %v\n", err)
			failed = true
		} else {
			fmt.Fprintf(os.Stderr, " %s\n", ms(r.Median()))
			incrDiamond = r
		}
	}

	var js *jsOutput
	dir := findJSDir(*jsDir)
	switch *jsMode {
	case "off":
	case "on", "auto":
		_, err := os.Stat(filepath.Join(dir, "node_modules"))
		if dir == "" || err != nil {
			if *jsMode == "on" {
				fatalf("Node harness not installed: run npm install in bench/js")
			}
			fmt.Fprintln(os.Stderr, "js: bench/js/node_modules not found; Go results only (npm install in bench/js to compare)")
			break
		}
		js, err = runJS(dir, *runRe, *samples)
		if err != nil {
			fmt.Fprintf(os.Stderr, "js: %v\n", err)
			failed = true
		}
	default:
		fatalf("-js must be auto, on or off")
	}

	printTable(os.Stdout, ws, results, js, incrDiamond, *samples)
	if *mem {
		printCreation(os.Stdout)
	}
	if *jsonOut != "" {
		writeJSON(*jsonOut, ws, results)
	}
	if failed {
		os.Exit(1)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "compare: "+format+"\n", args...)
	os.Exit(2)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/1e6) }

// findJSDir returns the harness directory: the flag, else js or bench/js
// below the working directory, else the one next to this source file.
func findJSDir(flagDir string) string {
	if flagDir != "" {
		return flagDir
	}
	cands := []string{"js", filepath.Join("bench", "js")}
	if _, file, _, ok := runtime.Caller(0); ok {
		cands = append(cands, filepath.Join(filepath.Dir(file), "..", "..", "js"))
	}
	for _, c := range cands {
		if _, err := os.Stat(filepath.Join(c, "run.mjs")); err == nil {
			return c
		}
	}
	return ""
}

func runJS(dir, only string, samples int) (*jsOutput, error) {
	args := []string{"--expose-gc", "run.mjs", "--samples", fmt.Sprint(samples)}
	if only != "" {
		args = append(args, "--only", only)
	}
	cmd := exec.Command("node", args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("node %s: %w", strings.Join(args, " "), err)
	}
	var js jsOutput
	if err := json.Unmarshal(out.Bytes(), &js); err != nil {
		return nil, fmt.Errorf("reading the harness's JSON: %w", err)
	}
	return &js, nil
}

func printTable(w io.Writer, ws []*bench.Workload, rs []*bench.Result, js *jsOutput, incrDiamond *bench.Result, samples int) {
	fmt.Fprintf(w, "\nMedian milliseconds per sample (WORKLOADS.md §2), %s %s/%s, GOMAXPROCS=%d",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0))
	if js != nil {
		fmt.Fprintf(w, "; node %s", js.Node)
	}
	fmt.Fprint(w, ".\n\n")
	hdr := "| workload | samples | signals (ms) | min–max | counts |"
	sep := "|---|---:|---:|---:|:---:|"
	if js != nil {
		for _, l := range js.Libraries {
			hdr += fmt.Sprintf(" %s %s (ms) | ×signals |", l.Name, l.Version)
			sep += "---:|---:|"
		}
	}
	if incrDiamond != nil {
		hdr += " go-incr v1.4.13 (ms) | ×signals |"
		sep += "---:|---:|"
	}
	fmt.Fprintln(w, hdr)
	fmt.Fprintln(w, sep)
	for i, wl := range ws {
		r := rs[i]
		row := fmt.Sprintf("| %s | %d×%d |", wl.Name, wl.StepsPerSample(), wl.Writes)
		var goMs float64
		if r == nil {
			row += " FAILED | | |"
		} else {
			goMs = float64(r.Median()) / 1e6
			counts := "ok"
			if !r.CountsOK {
				counts = fmt.Sprintf("%d/%d (want %d/%d)", r.Counts.Computed, r.Counts.Effects,
					wl.StepCounts.Computed, wl.StepCounts.Effects)
			}
			row += fmt.Sprintf(" %s | %s–%s | %s |", ms(r.Median()), ms(r.Min()), ms(r.Max()), counts)
		}
		if js != nil {
			for _, l := range js.Libraries {
				jr, ok := l.Results[wl.Name]
				switch {
				case !ok:
					row += " – | |"
				case jr.Error != "":
					row += " FAILED | |"
				default:
					cell := fmt.Sprintf("%.1f", jr.Median)
					if jr.Samples < samples {
						cell += fmt.Sprintf(" (n=%d)", jr.Samples)
					}
					if !jr.CountsOK {
						cell += fmt.Sprintf(" [counts %d/%d]", jr.Computed, jr.Effects)
					}
					ratio := ""
					if goMs > 0 {
						ratio = fmt.Sprintf("%.2f", jr.Median/goMs)
					}
					row += fmt.Sprintf(" %s | %s |", cell, ratio)
				}
			}
		}
		if incrDiamond != nil {
			if wl.Name == "diamond" {
				im := float64(incrDiamond.Median()) / 1e6
				cell := fmt.Sprintf("%.1f", im)
				if !incrDiamond.CountsOK {
					cell += " [counts differ]"
				}
				ratio := ""
				if goMs > 0 {
					ratio = fmt.Sprintf("%.2f", im/goMs)
				}
				row += fmt.Sprintf(" %s | %s |", cell, ratio)
			} else {
				row += " | |"
			}
		}
		fmt.Fprintln(w, row)
	}
	fmt.Fprintln(w, "\nsamples: steps per sample × source writes per step. counts: computed evaluations and")
	fmt.Fprintln(w, "effect runs per step equal the reference counts of WORKLOADS.md.")
	if js != nil || incrDiamond != nil {
		fmt.Fprintln(w, "×signals: the library's median divided by this library's (above 1: signals is faster).")
	}
	if incrDiamond != nil {
		fmt.Fprintln(w, "go-incr: the diamond with Set + Stabilize per write (no batches), same checksum and counts.")
	}
}

func printCreation(w io.Writer) {
	fmt.Fprintln(w, "\nCreation cost and retained memory (one run; ns from the wall clock):")
	fmt.Fprintln(w, "\n| what | ns per node | bytes |")
	fmt.Fprintln(w, "|---|---:|---:|")
	m := bench.MeasureMemory(100_000, 10)
	c := bench.MeasureCreation()
	fmt.Fprintf(w, "| signal | %.0f | %.0f |\n", c.Signal, m.Signal)
	for _, f := range c.Fanouts {
		fmt.Fprintf(w, "| computed, 1→%d fan-out (created + evaluated) | %.0f | |\n", f.K, f.NsPerComputed)
	}
	fmt.Fprintf(w, "| computed without dependencies (evaluated) | | %.0f |\n", m.Computed)
	fmt.Fprintf(w, "| dependency link | | %.0f |\n", m.Link)
}

func writeJSON(path string, ws []*bench.Workload, rs []*bench.Result) {
	out := map[string]jsResult{}
	for i, wl := range ws {
		r := rs[i]
		if r == nil {
			out[wl.Name] = jsResult{Error: "failed"}
			continue
		}
		out[wl.Name] = jsResult{
			Median: float64(r.Median()) / 1e6, Min: float64(r.Min()) / 1e6, Max: float64(r.Max()) / 1e6,
			Samples: len(r.Samples), Computed: r.Counts.Computed, Effects: r.Counts.Effects, CountsOK: r.CountsOK,
		}
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err == nil {
		err = os.WriteFile(path, append(b, '\n'), 0o644)
	}
	if err != nil {
		fatalf("%v", err)
	}
}
