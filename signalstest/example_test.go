package signalstest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gosignals/signals"
	"github.com/gosignals/signals/signalstest"
)

func ExampleRecord() {
	t := printer{} // in a test, the test's own t
	celsius := signals.New(20)
	fahrenheit := signals.NewComputed(func(tr *signals.Tracker) int { return celsius.Get(tr)*9/5 + 32 })
	rec := signalstest.Record(t, fahrenheit)
	celsius.Set(25)
	signals.Batch(func() {
		celsius.Set(30)
		celsius.Set(100) // batched: one run, on the final value
	})
	fmt.Println(rec.Values())
	rec.Stop()
	// Output: [68 77 212]
}

// printer is a testing.TB that prints failures, to show them here, and
// drops cleanups.
type printer struct{ testing.TB }

func (printer) Helper() {}

func (printer) Cleanup(func()) {}

func (printer) Errorf(format string, args ...any) { fmt.Printf(format+"\n", args...) }

func ExampleVerifyNone() {
	t := printer{} // in a test, the test's own t
	ctx, cancel := context.WithCancel(context.Background())
	updates := signals.Subscribe(ctx, signals.New("online"))
	fmt.Println(<-updates)
	signalstest.VerifyNone(t, signalstest.Timeout(50*time.Millisecond)) // fails: still subscribed
	cancel()
	signalstest.VerifyNone(t) // passes: nothing left running
	// Output:
	// online
	// signalstest: still running after 50ms:
	// - 1 channel(s) returned by signals.Subscribe are still open: cancel their context or stop their scope
}
