package bench

import (
	"context"

	incr "github.com/wcharczuk/go-incr"
)

// GoIncrDiamond is the kairo diamond (WORKLOADS.md §3.4) on
// github.com/wcharczuk/go-incr, for comparison: the head is a Var, the five
// d_k and sum are Map nodes, the effect is an observer's OnUpdate handler,
// and every write is Set followed by Stabilize (go-incr's batch). Its
// counts are those of the lazy reference, since every write changes every
// node.
func GoIncrDiamond() *Workload {
	w := Diamond()
	w.Name = "diamond (go-incr)"
	w.Build = buildGoIncrDiamond
	return w
}

func buildGoIncrDiamond() *Graph {
	k := &kairo{}
	ctx := context.Background()
	g := incr.New()
	head := incr.Var(g, 0)
	var d [5]incr.Incr[int]
	for i := range d {
		d[i] = incr.Map(g, head, func(h int) int {
			k.n.Computed++
			return h + 1
		})
	}
	sum := incr.Map5(g, d[0], d[1], d[2], d[3], d[4], func(a, b, c, d, e int) int {
		k.n.Computed++
		return a + b + c + d + e
	})
	obs := incr.MustObserve(g, sum)
	obs.OnUpdate(func(_ context.Context, v int) {
		k.n.Effects++
		k.sink += v
		k.counter++
	})
	var err error
	write := func(v int) {
		head.Set(v)
		if e := g.Stabilize(ctx); e != nil && err == nil {
			err = e
		}
	}
	write(0)
	return &Graph{
		Counts:  &k.n,
		dispose: func() { obs.Unobserve(ctx) },
		step: func() error {
			k.sink = 0
			cs := 0
			write(1)
			v := obs.Value()
			if v != 10 {
				return errInt("sum", v, 10)
			}
			cs += v
			k.counter = 0
			for i := range 500 {
				write(i)
				v := obs.Value()
				if v != (i+1)*5 {
					return errInt("sum", v, (i+1)*5)
				}
				cs += v
			}
			if err != nil {
				return err
			}
			if k.counter != 500 {
				return errInt("effect runs", k.counter, 500)
			}
			return checkSum(cs+k.sink, 1252520)
		},
	}
}
