package signals_test

import (
	"fmt"

	"github.com/gosignals/signals"
)

func ExampleNewComputedErr() {
	price := signals.New(12)
	page := signals.NewComputedErr(func(t *signals.Tracker) (string, error) {
		p := price.Get(t)
		if p < 0 {
			return "", fmt.Errorf("render: negative price %d", p)
		}
		return fmt.Sprintf("<p>%d €</p>", p), nil
	})
	serve := func() {
		if r := page.Peek(); r.Err != nil {
			fmt.Println("500", r.Err)
		} else {
			fmt.Println("200", r.Value)
		}
	}
	serve()
	price.Set(-1)
	serve()
	price.Set(15)
	serve()
	// Output:
	// 200 <p>12 €</p>
	// 500 render: negative price -1
	// 200 <p>15 €</p>
}
