package bench

import (
	"fmt"
	"slices"
	"testing"
)

func TestPseudoRandom(t *testing.T) {
	h := xmur3a("seed")
	words := []uint32{h(), h(), h(), h()}
	if want := []uint32{0x0eab8c28, 0x91222c94, 0x2cddb444, 0x367a6269}; !slices.Equal(words, want) {
		t.Fatalf("xmur3a(\"seed\") words = %#x, want %#x", words, want)
	}
	r := pseudoRandom("seed")
	var ts []uint32
	for range 6 {
		ts = append(ts, r.next())
	}
	if want := []uint32{3595049766, 1538291281, 523797495, 2091590326, 1224444238, 2865563924}; !slices.Equal(ts, want) {
		t.Fatalf("sfc32 outputs = %v, want %v", ts, want)
	}
	r = pseudoRandom("seed")
	for i, want := range []float64{0.8370377509854734, 0.35816134908236563, 0.12195610790513456} {
		if got := r.Float(); got != want {
			t.Fatalf("output %d = %v, want %v", i, got, want)
		}
	}
}

func TestRegistry(t *testing.T) {
	ws := Workloads()
	if len(ws) != 19 {
		t.Fatalf("%d workloads, want 19", len(ws))
	}
	seen := map[string]bool{}
	for _, w := range ws {
		if seen[w.Name] {
			t.Errorf("duplicate workload %q", w.Name)
		}
		seen[w.Name] = true
		if Lookup(w.Name) == nil {
			t.Errorf("Lookup(%q) = nil", w.Name)
		}
	}
}

// checkCounts fails t unless got equals want.
func checkCounts(t *testing.T, what string, got, want Counts) {
	t.Helper()
	if got != want {
		t.Errorf("%s: %v, want %v", what, got, want)
	}
}

// TestIterWorkloads verifies the kairo workloads and molBench: build
// counts, then several iter() calls on the same graph, each with its
// checksum and the reference computed/effect counts.
func TestIterWorkloads(t *testing.T) {
	for _, w := range Workloads() {
		if w.Kind != KindIter {
			continue
		}
		t.Run(w.Name, func(t *testing.T) {
			g := w.Build()
			defer g.Dispose()
			checkCounts(t, "build", *g.Counts, w.BuildCounts)
			for i := range 5 {
				*g.Counts = Counts{}
				if err := g.Step(); err != nil {
					t.Fatalf("iter %d: %v", i, err)
				}
				checkCounts(t, fmt.Sprintf("iter %d", i), *g.Counts, w.StepCounts)
			}
		})
	}
}

// TestCellx verifies both cellx sizes on fresh graphs: build counts, the
// values before and after update(), and the counts of update().
func TestCellx(t *testing.T) {
	for _, w := range Workloads() {
		if w.Kind != KindCellx {
			continue
		}
		t.Run(w.Name, func(t *testing.T) {
			for i := range 2 {
				g := w.Build()
				checkCounts(t, "build", *g.Counts, w.BuildCounts)
				*g.Counts = Counts{}
				if err := g.Step(); err != nil {
					t.Fatalf("update on graph %d: %v", i, err)
				}
				checkCounts(t, "update", *g.Counts, w.StepCounts)
				// A second update starts from the values the first left.
				if err := g.Step(); err == nil {
					t.Errorf("second update on one graph passed the check meant for a fresh graph")
				}
				g.Dispose()
			}
		})
	}
}

// TestDynamicBuild verifies the shape of the six dynamic graphs.
func TestDynamicBuild(t *testing.T) {
	for _, c := range DynamicConfigs() {
		t.Run(c.Title, func(t *testing.T) {
			g := BuildDynamic(c)
			defer g.Stop()
			checkCounts(t, "build", g.Counts, c.BuildCounts)
			if g.Dynamic != c.DynamicNodes {
				t.Errorf("%d dynamic nodes, want %d", g.Dynamic, c.DynamicNodes)
			}
			var want []int
			if c.ReadFraction == 1 {
				for i := range c.Width {
					want = append(want, i)
				}
			} else {
				want = []int{1, 4}
			}
			if !slices.Equal(g.ReadLeaves, want) {
				t.Errorf("read leaves %v, want %v", g.ReadLeaves, want)
			}
		})
	}
}

// shortRun is the number of writes of the shortened runs, chosen so that
// each config takes about a second under the race detector.
var shortRun = map[string]int{
	"2-10x5 - lazy80%":           20000,
	"6-10x10 - dyn25% - lazy80%": 600,
	"4-1000x12 - dyn5%":          150,
	"25-1000x5":                  60,
	"3-5x500":                    30,
	"6-100x15 - dyn50%":          60,
}

// TestDynamicShort runs every dynamic graph for a few writes, from a
// fresh graph and then over the last writes of a full run, and compares
// the sums and the computed/effect counts with the reference model
// (oracle_test.go), which TestDynamicFull checks against WORKLOADS.md.
func TestDynamicShort(t *testing.T) {
	for _, c := range DynamicConfigs() {
		t.Run(c.Title, func(t *testing.T) {
			n := shortRun[c.Title]
			if n == 0 {
				t.Fatal("no short run length")
			}
			g := BuildDynamic(c)
			defer g.Stop()
			o := newOracle(c)
			checkCounts(t, "build (oracle)", o.counts, c.BuildCounts)
			for _, r := range [][2]int{{0, n}, {c.Iterations - n, c.Iterations}} {
				g.Counts, o.counts = Counts{}, Counts{}
				got, want := g.RunRange(r[0], r[1]), o.runRange(r[0], r[1])
				if got != want {
					t.Errorf("writes %d..%d: sum %v, want %v", r[0], r[1]-1, got, want)
				}
				checkCounts(t, fmt.Sprintf("writes %d..%d", r[0], r[1]-1), g.Counts, o.counts)
			}
		})
	}
}

// TestDynamicFull runs every dynamic graph as the benchmark does, twice
// on one graph, and verifies the sums and, for the second run, the counts
// of WORKLOADS.md §5.3; the first run must match the reference model. The
// reference model's own full runs are checked against the spec too. It
// takes about 10 s, and is skipped with -short and under the race
// detector (TestDynamicShort covers that case).
func TestDynamicFull(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("full dynamic runs take minutes under the race detector; run without -race or -short")
	}
	for _, w := range Workloads() {
		if w.Kind != KindDynamic {
			continue
		}
		c := *w.Dyn
		t.Run(c.Title, func(t *testing.T) {
			o := newOracle(c)
			o.counts = Counts{}
			if s := o.runRange(0, c.Iterations); s != c.Sum {
				t.Errorf("oracle first run: sum %v, want %v", s, c.Sum)
			}
			oFirst := o.counts
			checkCounts(t, "oracle first run (alien-signals' counts)", oFirst, c.FirstRun)
			o.counts = Counts{}
			if s := o.runRange(0, c.Iterations); s != c.Sum {
				t.Errorf("oracle second run: sum %v, want %v", s, c.Sum)
			}
			checkCounts(t, "oracle second run", o.counts, w.StepCounts)

			g := w.Build()
			defer g.Dispose()
			checkCounts(t, "build", *g.Counts, w.BuildCounts)
			*g.Counts = Counts{}
			if err := g.Step(); err != nil {
				t.Errorf("first run: %v", err)
			}
			checkCounts(t, "first run (vs oracle)", *g.Counts, oFirst)
			*g.Counts = Counts{}
			if err := g.Step(); err != nil {
				t.Errorf("second run: %v", err)
			}
			checkCounts(t, "second run", *g.Counts, w.StepCounts)
		})
	}
}

// TestGoIncrDiamond verifies the go-incr port of the diamond.
func TestGoIncrDiamond(t *testing.T) {
	w := GoIncrDiamond()
	g := w.Build()
	defer g.Dispose()
	checkCounts(t, "build", *g.Counts, w.BuildCounts)
	for i := range 3 {
		*g.Counts = Counts{}
		if err := g.Step(); err != nil {
			t.Fatalf("iter %d: %v", i, err)
		}
		checkCounts(t, fmt.Sprintf("iter %d", i), *g.Counts, w.StepCounts)
	}
}

// TestFanIn verifies sBench's fan-in workloads on fresh sources: the sums
// the effects saw and how often they ran; and that a check can fail.
func TestFanIn(t *testing.T) {
	for _, w := range []*Workload{Create1000to1(), Update1000to1()} {
		t.Run(w.Name, func(t *testing.T) {
			g := w.Build()
			checkCounts(t, "build", *g.Counts, w.BuildCounts)
			if err := g.Step(); err != nil {
				t.Fatal(err)
			}
			checkCounts(t, "run", *g.Counts, w.StepCounts)
			g.Dispose()
		})
	}
	// The sources keep the writes of a run: on them, a second run makes
	// all 400 writes count, and its counts differ from a fresh graph's.
	w := Update1000to1()
	g := w.Build()
	if err := g.Step(); err != nil {
		t.Fatal(err)
	}
	*g.Counts = Counts{}
	if err := g.Step(); err != nil {
		t.Fatal(err)
	}
	if *g.Counts == w.StepCounts {
		t.Errorf("a second run on the same sources counted %v, as a fresh graph does", *g.Counts)
	}
}
