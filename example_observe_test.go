package signals_test

import (
	"fmt"
	"os"

	"github.com/gosignals/signals"
)

func ExampleGraph() {
	price := signals.New(10, signals.WithName[int]("price"))
	qty := signals.New(3, signals.WithName[int]("qty"))
	total := signals.NewComputed(func(t *signals.Tracker) int { return price.Get(t) * qty.Get(t) },
		signals.WithName[int]("total"))
	show := signals.NewEffect(func(t *signals.Tracker) { total.Get(t) }, signals.WithEffectName("show"))
	defer show.Stop()
	qty.Set(4)

	for _, n := range signals.Graph(show) {
		fmt.Printf("%-8s %-5s value=%-3s runs=%d reads=%d\n", n.Kind, n.Name, n.Value, n.Runs, len(n.Deps))
	}
	// Output:
	// effect   show  value=    runs=2 reads=1
	// computed total value=40  runs=2 reads=2
	// signal   price value=10  runs=0 reads=0
	// signal   qty   value=4   runs=0 reads=0
}

func ExampleSetTracer() {
	count := signals.New(1, signals.WithName[int]("count"))
	doubled := signals.NewComputed(func(t *signals.Tracker) int { return count.Get(t) * 2 },
		signals.WithName[int]("doubled"))
	prev := signals.SetTracer(signals.TracerFunc(func(e signals.Event) {
		fmt.Println(e.Kind, e.Name)
	}))
	defer signals.SetTracer(prev)
	doubled.Peek()
	count.Set(2)
	doubled.Peek()
	// Output:
	// recompute doubled
	// set count
	// recompute doubled
}

func ExampleWriteDOT() {
	a := signals.New(1, signals.WithName[int]("a"))
	b := signals.NewComputed(func(t *signals.Tracker) int { return a.Get(t) + 1 }, signals.WithName[int]("b"))
	b.Peek()
	// Pipe into `dot -Tsvg > graph.svg` to draw it.
	if err := signals.WriteDOT(os.Stdout, signals.Graph(b)); err != nil {
		panic(err)
	}
}
