package bench

import (
	"fmt"
	"runtime"
	"slices"
	"time"
)

// Protocol is the timing protocol of WORKLOADS.md §2.
type Protocol struct {
	Samples    int           // samples whose median is reported (5)
	WarmupCap  time.Duration // warm-up stops once it used this, after ≥ 1 run (3 s)
	SamplesCap time.Duration // sampling stops once samples used this, after ≥ 1 (15 s)
}

// DefaultProtocol is the protocol of WORKLOADS.md.
var DefaultProtocol = Protocol{Samples: 5, WarmupCap: 3 * time.Second, SamplesCap: 15 * time.Second}

// Result is the outcome of measuring one workload.
type Result struct {
	Name    string
	Kind    Kind
	Samples []time.Duration // in the order taken
	// Counts are the counts of one Step during the timed samples (for
	// dynamic graphs, of the last run); CountsOK reports whether every
	// timed Step matched the workload's StepCounts.
	Counts   Counts
	CountsOK bool
}

// Median, Min and Max summarise the samples.
func (r *Result) Median() time.Duration { return r.sorted()[len(r.Samples)/2] }
func (r *Result) Min() time.Duration    { return r.sorted()[0] }
func (r *Result) Max() time.Duration    { return r.sorted()[len(r.Samples)-1] }

func (r *Result) sorted() []time.Duration {
	s := slices.Clone(r.Samples)
	slices.Sort(s)
	return s
}

// Measure times w by the protocol: a full GC before every sample, warm-up
// as §2 prescribes for w's kind, every Step's checksum verified.
func (p Protocol) Measure(w *Workload) (*Result, error) {
	r := &Result{Name: w.Name, Kind: w.Kind, CountsOK: true}
	var sample func() (time.Duration, error)
	var warmup func() error
	var done func()
	switch w.Kind {
	case KindIter:
		g := w.Build()
		done = g.Dispose
		sample = func() (time.Duration, error) {
			runtime.GC()
			*g.Counts = Counts{}
			start := time.Now()
			for range IterStepsPerSample {
				if err := g.Step(); err != nil {
					return 0, err
				}
			}
			d := time.Since(start)
			r.note(w, g.Counts, IterStepsPerSample)
			return d, nil
		}
		warmup = func() error {
			for range 3 {
				if err := g.Step(); err != nil {
					return err
				}
			}
			_, err := sample()
			return err
		}
	case KindCellx, KindFanIn: // a fresh graph per Step
		sample = func() (time.Duration, error) {
			var total time.Duration
			for range w.StepsPerSample() {
				g := w.Build()
				*g.Counts = Counts{}
				runtime.GC()
				start := time.Now()
				err := g.Step()
				total += time.Since(start)
				r.note(w, g.Counts, 1)
				g.Dispose()
				if err != nil {
					return 0, err
				}
			}
			return total, nil
		}
		warmup = func() error { _, err := sample(); return err }
	case KindDynamic:
		g := w.Build()
		done = g.Dispose
		run := func() (time.Duration, error) {
			runtime.GC()
			*g.Counts = Counts{}
			start := time.Now()
			err := g.Step()
			return time.Since(start), err
		}
		sample = func() (time.Duration, error) {
			d, err := run()
			r.note(w, g.Counts, 1)
			return d, err
		}
		warmup = func() error {
			start := time.Now()
			for range 3 {
				if _, err := run(); err != nil {
					return err
				}
				if time.Since(start) >= p.WarmupCap {
					break
				}
			}
			return nil
		}
	default:
		return nil, fmt.Errorf("%s: unknown kind %v", w.Name, w.Kind)
	}
	if done != nil {
		defer done()
	}
	if err := warmup(); err != nil {
		return nil, fmt.Errorf("%s: warm-up: %w", w.Name, err)
	}
	r.CountsOK = true // warm-up runs include a fresh graph's first run
	var used time.Duration
	for i := 0; i < p.Samples; i++ {
		d, err := sample()
		if err != nil {
			return nil, fmt.Errorf("%s: sample %d: %w", w.Name, i, err)
		}
		r.Samples = append(r.Samples, d)
		used += d
		if used >= p.SamplesCap {
			break
		}
	}
	return r, nil
}

// note records the counts of a sample of steps Steps.
func (r *Result) note(w *Workload, c *Counts, steps int64) {
	per := Counts{c.Computed / steps, c.Effects / steps}
	r.Counts = per
	if per != w.StepCounts || c.Computed%steps != 0 || c.Effects%steps != 0 {
		r.CountsOK = false
	}
}
