package natsig_test

import (
	"sync"
	"testing"
	"time"

	"github.com/gosignals/signals"
	"github.com/gosignals/signals/natsig"
	"github.com/gosignals/signals/natsig/natsigtest"
	"github.com/stretchr/testify/require"
)

// An effect run by a revision's arrival may close what delivered it.
func TestCloseFromAnEffect(t *testing.T) {
	watchdog(t, time.Duration(60*scale())*time.Second)
	srv := natsigtest.Start(t)
	bw, _ := bucket(t, srv, "t")
	br, _ := bucket(t, srv, "t")
	w, err := natsig.Open[int](ctx(t, 10*time.Second), bw, "n")
	require.NoError(t, err)
	defer w.Close()
	r, err := natsig.Open[int](ctx(t, 10*time.Second), br, "n")
	require.NoError(t, err)
	c, err := natsig.NewCounter(ctx(t, 10*time.Second), br, "c")
	require.NoError(t, err)
	closed := make(chan struct{}, 2)
	var rOnce, cOnce sync.Once
	e := signals.NewEffect(func(t *signals.Tracker) {
		if r.Get(t) == 2 { // applied by r's watcher
			r.Close()
			rOnce.Do(func() { closed <- struct{}{} })
		}
		if c.Value().Get(t) == 1 { // applied by the caller of Add, or c's watcher
			c.Close()
			cOnce.Do(func() { closed <- struct{}{} })
		}
	})
	defer e.Stop()
	require.NoError(t, w.Set(ctx(t, 5*time.Second), 2))
	// The watcher may bring the add before its acknowledgement: then the
	// effect closes c while Add waits, and Add reports ErrClosed.
	if err := c.Add(ctx(t, 5*time.Second), 1); err != nil {
		require.ErrorIs(t, err, natsig.ErrClosed)
	}
	for range 2 {
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
			t.Fatal("Close called from an effect did not return")
		}
	}
	eventually(t, 5*time.Second, func() bool {
		return r.Status().Peek().State == natsig.Closed && c.Status().Peek().State == natsig.Closed
	}, "closed")
}

// An effect run by a counter's change may add to it, whichever goroutine
// runs the effect.
func TestAddFromAnEffect(t2 *testing.T) {
	watchdog(t2, time.Duration(60*scale())*time.Second)
	t := t2
	srv := natsigtest.Start(t)
	ba, _ := bucket(t, srv, "t")
	bb, _ := bucket(t, srv, "t")
	a, err := natsig.NewCounter(ctx(t, 10*time.Second), ba, "c")
	require.NoError(t, err)
	defer a.Close()
	b, err := natsig.NewCounter(ctx(t, 10*time.Second), bb, "c")
	require.NoError(t, err)
	defer b.Close()
	var once sync.Once
	e := signals.NewEffect(func(t *signals.Tracker) {
		if b.Value().Get(t) >= 3 { // b's watcher brings a's adds
			once.Do(func() { require.NoError(t2, b.Add(ctx(t2, 5*time.Second), 100)) })
		}
	})
	defer e.Stop()
	for range 3 {
		require.NoError(t, a.Add(ctx(t, 5*time.Second), 1))
	}
	eventually(t, 5*time.Second, func() bool { return a.Value().Peek() == 103 }, "a sees b's bonus: %d", a.Value().Peek())
}
