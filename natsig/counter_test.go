package natsig_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gosignals/signals"
	"github.com/gosignals/signals/natsig"
	"github.com/gosignals/signals/natsig/natsigtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCounterCombinesConcurrentAdds(t *testing.T) {
	srv := natsigtest.Start(t)
	b, _ := bucket(t, srv, "t")
	c, err := natsig.NewCounter(ctx(t, 10*time.Second), b, "views")
	require.NoError(t, err)
	defer c.Close()

	var mu sync.Mutex
	var seen []int64
	e := signals.NewEffect(func(t *signals.Tracker) {
		v := c.Value().Get(t)
		mu.Lock()
		seen = append(seen, v)
		mu.Unlock()
	})
	defer e.Stop()

	const goroutines, perG = 8, 40
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range perG {
				assert.NoError(t, c.Add(ctx(t, 20*time.Second), 1))
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(goroutines*perG), c.Value().Peek(), "every add is in Value once Add returned")
	st := c.Stats()
	t.Logf("%d adds in %d writes, %d conflicts", goroutines*perG, st.Writes, st.Conflicts)
	assert.Less(t, st.Writes, uint64(goroutines*perG), "concurrent adds are combined")
	assert.Zero(t, st.Conflicts, "one writer: no conflict")
	require.NoError(t, c.Add(ctx(t, 5*time.Second), -20))
	require.NoError(t, c.Add(ctx(t, 5*time.Second), 0))
	assert.Equal(t, int64(goroutines*perG-20), c.Value().Peek())
	// The bucket's watcher may have applied the final value first, on its
	// goroutine, whose flush then runs the effect: Add returns once Value
	// holds the value, not once every effect has seen it.
	last := func() int64 {
		mu.Lock()
		defer mu.Unlock()
		return seen[len(seen)-1]
	}
	eventually(t, 10*time.Second, func() bool { return last() == int64(goroutines*perG-20) },
		"the effect saw %d, not the final value", last())
}

func TestCounterSumsShardsOfEveryShardCount(t *testing.T) {
	srv := natsigtest.Start(t)
	b1, _ := bucket(t, srv, "t")
	b2, _ := bucket(t, srv, "t")
	b3, _ := bucket(t, srv, "t")
	c2, err := natsig.NewCounter(ctx(t, 10*time.Second), b1, "views", natsig.Shards(2))
	require.NoError(t, err)
	defer c2.Close()
	c8, err := natsig.NewCounter(ctx(t, 10*time.Second), b2, "views", natsig.Shards(8))
	require.NoError(t, err)
	defer c8.Close()
	for range 30 {
		require.NoError(t, c2.Add(ctx(t, 5*time.Second), 1))
		require.NoError(t, c8.Add(ctx(t, 5*time.Second), 2))
	}
	// A bare number written by hand counts too.
	_, err = b3.KeyValue().Put(ctx(t, 5*time.Second), "views.20", []byte("1000"))
	require.NoError(t, err)
	// Keys that are not shards do not.
	_, err = b3.KeyValue().Put(ctx(t, 5*time.Second), "views.total", []byte("5"))
	require.NoError(t, err)

	late, err := natsig.NewCounter(ctx(t, 10*time.Second), b3, "views")
	require.NoError(t, err)
	defer late.Close()
	for i, c := range []*natsig.Counter{c2, c8, late} {
		eventually(t, 5*time.Second, func() bool { return c.Value().Peek() == 1090 }, "counter %d: %d", i, c.Value().Peek())
	}
	require.NoError(t, late.Add(ctx(t, 5*time.Second), 1))
	eventually(t, 5*time.Second, func() bool { return c8.Value().Peek() == 1091 }, "the bare-number shard was updated")
	keys, err := b3.KeyValue().Keys(ctx(t, 5*time.Second))
	require.NoError(t, err)
	for _, k := range keys {
		assert.Regexp(t, `^views\.([0-7]|20|total)$`, k)
	}
}

// TestShardingConflicts measures the conflict rate of writers in separate
// connections (as separate processes would be) adding to one counter, with
// 1 to 8 shards. Each writer keeps one write in flight: the worst case for
// conflicts, since its adds never wait for anything but the bucket.
func TestShardingConflicts(t *testing.T) {
	if testing.Short() {
		t.Skip("a measurement")
	}
	srv := natsigtest.Start(t)
	const writers, perW = 4, 60
	rates := map[int]float64{}
	for _, shards := range []int{1, 2, 4, 8} {
		key := fmt.Sprint("s", shards)
		var counters []*natsig.Counter
		for range writers {
			b, _ := bucket(t, srv, "t")
			c, err := natsig.NewCounter(ctx(t, 10*time.Second), b, key, natsig.Shards(shards))
			require.NoError(t, err)
			defer c.Close()
			counters = append(counters, c)
		}
		start := time.Now()
		var wg sync.WaitGroup
		for _, c := range counters {
			wg.Go(func() {
				for range perW {
					assert.NoError(t, c.Add(ctx(t, 20*time.Second), 1))
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		var st natsig.CounterStats
		for _, c := range counters {
			s := c.Stats()
			st.Writes += s.Writes
			st.Conflicts += s.Conflicts
		}
		for _, c := range counters {
			eventually(t, 5*time.Second, func() bool { return c.Value().Peek() == writers*perW }, "%d shards: %d", shards, c.Value().Peek())
		}
		rates[shards] = float64(st.Conflicts) / float64(st.Writes)
		t.Logf("%d writers, %d shards: %d adds, %d writes, %d conflicts (%.0f%% of writes), %v, %.0f adds/s",
			writers, shards, writers*perW, st.Writes, st.Conflicts, 100*rates[shards], elapsed.Round(time.Millisecond),
			float64(writers*perW)/elapsed.Seconds())
	}
	assert.Less(t, rates[8], rates[1], "sharding lowers the conflict rate")
}

func TestCounterAddOutlivesItsContext(t *testing.T) {
	srv := natsigtest.Start(t)
	b, _ := bucket(t, srv, "t")
	c, err := natsig.NewCounter(ctx(t, 10*time.Second), b, "views")
	require.NoError(t, err)
	defer c.Close()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	err = c.Add(done, 5)
	if err != nil {
		assert.ErrorIs(t, err, context.Canceled)
	}
	eventually(t, 5*time.Second, func() bool { return c.Value().Peek() == 5 }, "the add stays queued and is applied")
}

// Counters in a counter bucket are added to by the server: writers on
// separate connections never conflict, and every add counts once.
func TestServerCounterAcrossConnections(t *testing.T) {
	srv := natsigtest.Start(t)
	const conns, goroutines, perG = 3, 2, 30
	var counters []*natsig.Counter
	for range conns {
		b, _ := counterBucket(t, srv, "tc")
		c, err := natsig.NewCounter(ctx(t, 10*time.Second), b, "views")
		require.NoError(t, err)
		defer c.Close()
		counters = append(counters, c)
	}
	var mu sync.Mutex
	var seen []int64
	e := signals.NewEffect(func(t *signals.Tracker) {
		v := counters[0].Value().Get(t)
		mu.Lock()
		seen = append(seen, v)
		mu.Unlock()
	})
	defer e.Stop()
	var wg sync.WaitGroup
	for _, c := range counters {
		for range goroutines {
			wg.Go(func() {
				for range perG {
					assert.NoError(t, c.Add(ctx(t, 20*time.Second), 1))
				}
			})
		}
	}
	wg.Wait()
	want := int64(conns * goroutines * perG)
	var writes uint64
	for i, c := range counters {
		eventually(t, 5*time.Second, func() bool { return c.Value().Peek() == want }, "counter %d: %d", i, c.Value().Peek())
		st := c.Stats()
		assert.Zero(t, st.Conflicts, "the server adds: no conflict")
		writes += st.Writes
	}
	t.Logf("%d adds in %d writes", want, writes)
	require.NoError(t, counters[1].Add(ctx(t, 5*time.Second), -want-5))
	assert.Equal(t, int64(-5), counters[1].Value().Peek(), "negative adds; the writer's value is current once Add returns")
	eventually(t, 5*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return seen[len(seen)-1] == -5
	}, "the effect sees the final value")

	// The value is the server's: a counter opened later reads it, and the
	// bucket holds one key.
	b, _ := counterBucket(t, srv, "tc")
	late, err := natsig.NewCounter(ctx(t, 10*time.Second), b, "views")
	require.NoError(t, err)
	defer late.Close()
	assert.Equal(t, int64(-5), late.Value().Peek())
	keys, err := b.KeyValue().Keys(ctx(t, 5*time.Second))
	require.NoError(t, err)
	assert.Equal(t, []string{"views"}, keys)
}
