package bench

import (
	"github.com/gosignals/signals"
)

// Tracker is the tracker type of package signals.
type Tracker = signals.Tracker

// write sets s to v inside its own batch, as every write of the workloads
// is (WORKLOADS.md §1).
func write[T any](s *signals.Signal[T], v T) {
	signals.Batch(func() { s.Set(v) })
}

// owner collects the effects of a graph, to stop them on Dispose.
type owner struct {
	effects []*signals.Effect
}

func (o *owner) effect(fn func(t *Tracker)) {
	o.effects = append(o.effects, signals.NewEffect(fn))
}

func (o *owner) dispose() {
	for _, e := range o.effects {
		e.Stop()
	}
	o.effects = nil
}

// kairo is the state every kairo graph shares: its counters, the sum of
// the values its effects read during one iter() (sink) and the effects'
// own run counter that iter() asserts on.
type kairo struct {
	owner
	n       Counts
	sink    int
	counter int
}

func (k *kairo) graph(iter func() error) *Graph {
	return &Graph{Counts: &k.n, step: iter, dispose: k.dispose}
}

// checkSum returns an error unless got equals want.
func checkSum(got, want int) error {
	if got != want {
		return errInt("checksum", got, want)
	}
	return nil
}

// AvoidablePropagation is kairo's avoidable.ts (WORKLOADS.md §3.1).
func AvoidablePropagation() *Workload {
	return &Workload{
		Name: "avoidablePropagation", Kind: KindIter,
		BuildCounts: Counts{5, 1}, StepCounts: Counts{2002, 0},
		Checksum: "6006", Writes: 1001,
		Build: func() *Graph {
			k := &kairo{}
			head := signals.New(0)
			c1 := signals.NewComputed(func(t *Tracker) int {
				k.n.Computed++
				return head.Get(t)
			})
			c2 := signals.NewComputed(func(t *Tracker) int {
				k.n.Computed++
				c1.Get(t)
				return 0
			})
			c3 := signals.NewComputed(func(t *Tracker) int {
				k.n.Computed++
				busy()
				return c2.Get(t) + 1
			})
			c4 := signals.NewComputed(func(t *Tracker) int {
				k.n.Computed++
				return c3.Get(t) + 2
			})
			c5 := signals.NewComputed(func(t *Tracker) int {
				k.n.Computed++
				return c4.Get(t) + 3
			})
			k.effect(func(t *Tracker) {
				k.n.Effects++
				k.sink += c5.Get(t)
				busy()
			})
			return k.graph(func() error {
				k.sink = 0
				cs := 0
				write(head, 1)
				v := c5.Get(nil)
				if v != 6 {
					return errInt("c5", v, 6)
				}
				cs += v
				for i := range 1000 {
					write(head, i)
					v := c5.Get(nil)
					if v != 6 {
						return errInt("c5", v, 6)
					}
					cs += v
				}
				return checkSum(cs+k.sink, 6006)
			})
		},
	}
}

// BroadPropagation is kairo's broad.ts (WORKLOADS.md §3.2).
func BroadPropagation() *Workload {
	return &Workload{
		Name: "broadPropagation", Kind: KindIter,
		BuildCounts: Counts{100, 50}, StepCounts: Counts{5100, 2550},
		Checksum: "130050", Writes: 51,
		Build: func() *Graph {
			k := &kairo{}
			head := signals.New(0)
			var last *signals.Computed[int]
			for i := range 50 {
				a := signals.NewComputed(func(t *Tracker) int {
					k.n.Computed++
					return head.Get(t) + i
				})
				b := signals.NewComputed(func(t *Tracker) int {
					k.n.Computed++
					return a.Get(t) + 1
				})
				k.effect(func(t *Tracker) {
					k.n.Effects++
					k.sink += b.Get(t)
					k.counter++
				})
				last = b
			}
			return k.graph(func() error {
				k.sink = 0
				cs := 0
				write(head, 1)
				k.counter = 0
				for i := range 50 {
					write(head, i)
					v := last.Get(nil)
					if v != i+50 {
						return errInt("last", v, i+50)
					}
					cs += v
				}
				if k.counter != 2500 {
					return errInt("effect runs", k.counter, 2500)
				}
				return checkSum(cs+k.sink, 130050)
			})
		},
	}
}

// DeepPropagation is kairo's deep.ts (WORKLOADS.md §3.3).
func DeepPropagation() *Workload {
	return &Workload{
		Name: "deepPropagation", Kind: KindIter,
		BuildCounts: Counts{50, 1}, StepCounts: Counts{2550, 51},
		Checksum: "7501", Writes: 51,
		Build: func() *Graph {
			k := &kairo{}
			head := signals.New(0)
			var cur signals.Readable[int] = head
			for range 50 {
				prev := cur
				cur = signals.NewComputed(func(t *Tracker) int {
					k.n.Computed++
					return prev.Get(t) + 1
				})
			}
			tail := cur
			k.effect(func(t *Tracker) {
				k.n.Effects++
				k.sink += tail.Get(t)
				k.counter++
			})
			return k.graph(func() error {
				k.sink = 0
				cs := 0
				write(head, 1)
				k.counter = 0
				for i := range 50 {
					write(head, i)
					v := tail.Get(nil)
					if v != 50+i {
						return errInt("tail", v, 50+i)
					}
					cs += v
				}
				if k.counter != 50 {
					return errInt("effect runs", k.counter, 50)
				}
				return checkSum(cs+k.sink, 7501)
			})
		},
	}
}

// Diamond is kairo's diamond.ts (WORKLOADS.md §3.4).
func Diamond() *Workload {
	return &Workload{
		Name: "diamond", Kind: KindIter,
		BuildCounts: Counts{6, 1}, StepCounts: Counts{3006, 501},
		Checksum: "1252520", Writes: 501,
		Build: func() *Graph {
			k := &kairo{}
			head := signals.New(0)
			var d [5]*signals.Computed[int]
			for i := range d {
				d[i] = signals.NewComputed(func(t *Tracker) int {
					k.n.Computed++
					return head.Get(t) + 1
				})
			}
			sum := signals.NewComputed(func(t *Tracker) int {
				k.n.Computed++
				s := 0
				for _, x := range d {
					s += x.Get(t)
				}
				return s
			})
			k.effect(func(t *Tracker) {
				k.n.Effects++
				k.sink += sum.Get(t)
				k.counter++
			})
			return k.graph(func() error {
				k.sink = 0
				cs := 0
				write(head, 1)
				v := sum.Get(nil)
				if v != 10 {
					return errInt("sum", v, 10)
				}
				cs += v
				k.counter = 0
				for i := range 500 {
					write(head, i)
					v := sum.Get(nil)
					if v != (i+1)*5 {
						return errInt("sum", v, (i+1)*5)
					}
					cs += v
				}
				if k.counter != 500 {
					return errInt("effect runs", k.counter, 500)
				}
				return checkSum(cs+k.sink, 1252520)
			})
		},
	}
}

// Mux is kairo's mux.ts (WORKLOADS.md §3.5). The mux node returns a fresh
// slice on every run; slices are never equal under the default equality,
// as a fresh JS array never is.
func Mux() *Workload {
	return &Workload{
		Name: "mux", Kind: KindIter,
		BuildCounts: Counts{201, 100}, StepCounts: Counts{1836, 18},
		Checksum: "308", Writes: 20,
		Build: func() *Graph {
			k := &kairo{}
			var heads [100]*signals.Signal[int]
			for i := range heads {
				heads[i] = signals.New(0)
			}
			mux := signals.NewComputed(func(t *Tracker) []int {
				k.n.Computed++
				vs := make([]int, len(heads))
				for i, h := range heads {
					vs[i] = h.Get(t)
				}
				return vs
			})
			var s1, s2 [100]*signals.Computed[int]
			for i := range s1 {
				s1[i] = signals.NewComputed(func(t *Tracker) int {
					k.n.Computed++
					return mux.Get(t)[i]
				})
			}
			for i := range s2 {
				x := s1[i]
				s2[i] = signals.NewComputed(func(t *Tracker) int {
					k.n.Computed++
					return x.Get(t) + 1
				})
			}
			for _, x := range s2 {
				k.effect(func(t *Tracker) {
					k.n.Effects++
					k.sink += x.Get(t)
				})
			}
			return k.graph(func() error {
				k.sink = 0
				cs := 0
				for i := range 10 {
					write(heads[i], i)
					v := s2[i].Get(nil)
					if v != i+1 {
						return errInt("s2", v, i+1)
					}
					cs += v
				}
				for i := range 10 {
					write(heads[i], 2*i)
					v := s2[i].Get(nil)
					if v != 2*i+1 {
						return errInt("s2", v, 2*i+1)
					}
					cs += v
				}
				return checkSum(cs+k.sink, 308)
			})
		},
	}
}

// RepeatedObservers is kairo's repeated.ts (WORKLOADS.md §3.6).
func RepeatedObservers() *Workload {
	return &Workload{
		Name: "repeatedObservers", Kind: KindIter,
		BuildCounts: Counts{1, 1}, StepCounts: Counts{101, 101},
		Checksum: "297060", Writes: 101,
		Build: func() *Graph {
			k := &kairo{}
			head := signals.New(0)
			current := signals.NewComputed(func(t *Tracker) int {
				k.n.Computed++
				r := 0
				for range 30 {
					r += head.Get(t)
				}
				return r
			})
			k.effect(func(t *Tracker) {
				k.n.Effects++
				k.sink += current.Get(t)
				k.counter++
			})
			return k.graph(func() error {
				k.sink = 0
				cs := 0
				write(head, 1)
				v := current.Get(nil)
				if v != 30 {
					return errInt("current", v, 30)
				}
				cs += v
				k.counter = 0
				for i := range 100 {
					write(head, i)
					v := current.Get(nil)
					if v != 30*i {
						return errInt("current", v, 30*i)
					}
					cs += v
				}
				if k.counter != 100 {
					return errInt("effect runs", k.counter, 100)
				}
				return checkSum(cs+k.sink, 297060)
			})
		},
	}
}

// Triangle is kairo's triangle.ts (WORKLOADS.md §3.7).
func Triangle() *Workload {
	return &Workload{
		Name: "triangle", Kind: KindIter,
		BuildCounts: Counts{10, 1}, StepCounts: Counts{1010, 101},
		Checksum: "108110", Writes: 101,
		Build: func() *Graph {
			k := &kairo{}
			head := signals.New(0)
			var cur signals.Readable[int] = head
			list := make([]signals.Readable[int], 0, 10)
			for range 10 {
				list = append(list, cur)
				prev := cur
				cur = signals.NewComputed(func(t *Tracker) int {
					k.n.Computed++
					return prev.Get(t) + 1
				})
			}
			sum := signals.NewComputed(func(t *Tracker) int {
				k.n.Computed++
				s := 0
				for _, x := range list {
					s += x.Get(t)
				}
				return s
			})
			k.effect(func(t *Tracker) {
				k.n.Effects++
				k.sink += sum.Get(t)
				k.counter++
			})
			return k.graph(func() error {
				k.sink = 0
				cs := 0
				write(head, 1)
				v := sum.Get(nil)
				if v != 55 {
					return errInt("sum", v, 55)
				}
				cs += v
				k.counter = 0
				for i := range 100 {
					write(head, i)
					v := sum.Get(nil)
					if v != 45+10*i {
						return errInt("sum", v, 45+10*i)
					}
					cs += v
				}
				if k.counter != 100 {
					return errInt("effect runs", k.counter, 100)
				}
				return checkSum(cs+k.sink, 108110)
			})
		},
	}
}

// Unstable is kairo's unstable.ts (WORKLOADS.md §3.8).
func Unstable() *Workload {
	return &Workload{
		Name: "unstable", Kind: KindIter,
		BuildCounts: Counts{2, 1}, StepCounts: Counts{202, 101},
		Checksum: "51080", Writes: 101,
		Build: func() *Graph {
			k := &kairo{}
			head := signals.New(0)
			double := signals.NewComputed(func(t *Tracker) int {
				k.n.Computed++
				return head.Get(t) * 2
			})
			inverse := signals.NewComputed(func(t *Tracker) int {
				k.n.Computed++
				return -head.Get(t)
			})
			current := signals.NewComputed(func(t *Tracker) int {
				k.n.Computed++
				r := 0
				for range 20 {
					if head.Get(t)%2 != 0 {
						r += double.Get(t)
					} else {
						r += inverse.Get(t)
					}
				}
				return r
			})
			k.effect(func(t *Tracker) {
				k.n.Effects++
				k.sink += current.Get(t)
				k.counter++
			})
			return k.graph(func() error {
				k.sink = 0
				cs := 0
				write(head, 1)
				v := current.Get(nil)
				if v != 40 {
					return errInt("current", v, 40)
				}
				cs += v
				k.counter = 0
				for i := range 100 {
					write(head, i)
				}
				if k.counter != 100 {
					return errInt("effect runs", k.counter, 100)
				}
				return checkSum(cs+k.sink, 51080)
			})
		},
	}
}

type molRecord struct{ x int }

// MolBench is kairo's molBench.ts (WORKLOADS.md §3.9).
func MolBench() *Workload {
	return &Workload{
		Name: "molBench", Kind: KindIter,
		BuildCounts: Counts{5, 3}, StepCounts: Counts{9, 4},
		Checksum: "9616", Writes: 4,
		Build: func() *Graph {
			k := &kairo{}
			var res []int
			a := signals.New(0)
			b := signals.New(0)
			c := signals.NewComputed(func(t *Tracker) int {
				k.n.Computed++
				return a.Get(t)%2 + b.Get(t)%2
			})
			d := signals.NewComputed(func(t *Tracker) []molRecord {
				k.n.Computed++
				rs := make([]molRecord, 5)
				for i := range rs {
					rs[i].x = i + a.Get(t)%2 - b.Get(t)%2
				}
				return rs
			})
			e := signals.NewComputed(func(t *Tracker) int {
				k.n.Computed++
				return hard(c.Get(t) + a.Get(t) + d.Get(t)[0].x)
			})
			f := signals.NewComputed(func(t *Tracker) int {
				k.n.Computed++
				if x := d.Get(t)[2].x; x != 0 {
					return hard(x)
				}
				return hard(b.Get(t))
			})
			g := signals.NewComputed(func(t *Tracker) int {
				k.n.Computed++
				r := c.Get(t)
				if cv := c.Get(t); cv != 0 {
					r += cv
				} else {
					r += e.Get(t) % 2
				}
				r += d.Get(t)[4].x
				return r + f.Get(t)
			})
			k.effect(func(t *Tracker) {
				k.n.Effects++
				res = append(res, hard(g.Get(t)))
			})
			k.effect(func(t *Tracker) {
				k.n.Effects++
				res = append(res, g.Get(t))
			})
			k.effect(func(t *Tracker) {
				k.n.Effects++
				res = append(res, hard(f.Get(t)))
			})
			i := 0
			return k.graph(func() error {
				i++
				res = res[:0]
				signals.Batch(func() {
					b.Set(1)
					a.Set(1 + 2*i)
				})
				signals.Batch(func() {
					a.Set(2 + 2*i)
					b.Set(2)
				})
				if len(res) != 4 {
					return errInt("len(res)", len(res), 4)
				}
				cs := 0
				for _, v := range res {
					cs += v
				}
				return checkSum(cs, 9616)
			})
		},
	}
}
