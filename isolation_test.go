package signals_test

// Tests for contract items 20 (batches on many goroutines) and 21
// (isolation of unrelated graphs). Each reproduces a failure of the engine
// that had one process-wide lock, flush and gate: see the comment on each.

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosignals/signals"
)

// While goroutine A's flush runs a slow effect of graph A, goroutine B
// writes unrelated graph B, whose effect panics. B's Set must run B's
// effect itself and raise its panic; A's Set must neither run it nor raise
// it. (The old engine queued B's effect for A's flush: A's Set raised B's
// panic and B's Set returned normally.)
func TestItem21_AWriteRunsOnlyItsOwnGraphsEffects(t *testing.T) {
	withDeadline(t, 30*time.Second, func() {
		a, b := signals.New(0), signals.New(0)
		inA, releaseA := make(chan struct{}), make(chan struct{})
		ea := signals.NewEffect(func(tr *signals.Tracker) {
			if a.Get(tr) == 1 {
				close(inA)
				<-releaseA
			}
		})
		defer ea.Stop()
		boom := errors.New("graph B's effect")
		var bRanOn atomic.Value
		eb := signals.NewEffect(func(tr *signals.Tracker) {
			if b.Get(tr) == 1 {
				bRanOn.Store("B")
				panic(boom)
			}
		})
		defer eb.Stop()

		aDone := make(chan any)
		go func() { aDone <- capturePanic(func() { a.Set(1) }) }()
		<-inA // A's flush is inside A's effect, and stays there
		assert.Equal(t, boom, capturePanic(func() { b.Set(1) }), "B's Set raises B's effect's panic")
		assert.Equal(t, "B", bRanOn.Load(), "B's effect ran before B's Set returned, while A's flush was busy")
		close(releaseA)
		assert.Nil(t, <-aDone, "A's Set must not raise the panic of an unrelated graph")
	})
}

// Four goroutines running short batches that overlap without pause on
// their own signals must not keep an unrelated effect from running: an
// effect waits only for the batches open when it became due. (The old
// engine held every effect back while any batch was open.)
func TestItem20_OverlappingBatchesDoNotStarveEffects(t *testing.T) {
	withDeadline(t, 30*time.Second, func() {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			s := signals.New(0)
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					signals.Batch(func() {
						s.Set(i)
						time.Sleep(200 * time.Microsecond) // some batch is always open
					})
				}
			})
		}
		defer func() { close(stop); wg.Wait() }()
		time.Sleep(10 * time.Millisecond) // the batches are going

		x := signals.New(0)
		var seen atomic.Int64
		e := signals.NewEffect(func(tr *signals.Tracker) { seen.Store(int64(x.Get(tr))) })
		defer e.Stop()
		x.Set(1)
		require.Eventually(t, func() bool { return seen.Load() == 1 }, 2*time.Second, time.Millisecond,
			"the effect must run while other goroutines keep batching")
	})
}

// A computation that holds its graph's writer gate (it was restarted by
// writes twice) must not hold back a writer of an unrelated graph. (The old
// engine had one gate: every writer in the process waited.) synctest makes
// the test exact: when everything in the bubble is blocked, the unrelated
// Set must have returned.
func TestItem21_AGatedComputationDoesNotHoldBackUnrelatedWriters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, a2 := signals.New(0), signals.New(0)
		var attempt atomic.Int32
		wantWrite, wrote := make(chan struct{}), make(chan struct{})
		gated, hold := make(chan struct{}), make(chan struct{})
		c := signals.NewComputed(func(tr *signals.Tracker) int {
			v := a.Get(tr)
			switch n := attempt.Add(1); {
			case n <= 2: // a writer invalidates what this attempt read
				wantWrite <- struct{}{}
				<-wrote
			case n == 3: // the third attempt holds the gate
				close(gated)
				<-hold
			}
			return v + a2.Get(tr)
		})
		result := make(chan int)
		go func() { result <- c.Peek() }()
		for range 2 {
			<-wantWrite
			a.Update(func(v int) int { return v + 1 })
			wrote <- struct{}{}
		}
		<-gated

		u := signals.New(0)
		var uSeen atomic.Int64
		eu := signals.NewEffect(func(tr *signals.Tracker) { uSeen.Store(int64(u.Get(tr))) })
		var uDone atomic.Bool
		go func() {
			u.Set(7)
			uDone.Store(true)
		}()
		synctest.Wait() // everything is blocked: the gated computation on hold
		assert.True(t, uDone.Load(), "a write to an unrelated graph waited for another graph's gate")
		assert.Equal(t, int64(7), uSeen.Load())
		close(hold)
		assert.Equal(t, 2, <-result)
		eu.Stop()
	})
}

// A Set on one graph never waits for a slow effect of another graph, even
// one that is running in a flush on another goroutine.
func TestItem21_ASlowEffectDoesNotDelayUnrelatedWriters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := signals.New(0), signals.New(0)
		hold := make(chan struct{})
		ea := signals.NewEffect(func(tr *signals.Tracker) {
			if a.Get(tr) > 0 {
				<-hold
			}
		})
		var bSeen atomic.Int64
		eb := signals.NewEffect(func(tr *signals.Tracker) { bSeen.Store(int64(b.Get(tr))) })
		go a.Set(1)
		synctest.Wait() // A's flush is blocked inside A's effect
		var done atomic.Bool
		go func() {
			b.Set(5)
			done.Store(true)
		}()
		synctest.Wait()
		assert.True(t, done.Load(), "B's Set waited for graph A's effect")
		assert.Equal(t, int64(5), bSeen.Load(), "B's effect ran on B's writer")
		close(hold)
		synctest.Wait()
		ea.Stop()
		eb.Stop()
	})
}

// Independent graphs on different goroutines proceed in parallel: a
// computation blocked in one graph does not keep readers of another from
// recomputing theirs. (The old engine passed this one too: it is here for
// the contract item.)
func TestItem21_ABlockedComputationDoesNotBlockUnrelatedReaders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := signals.New(1)
		hold := make(chan struct{})
		slow := signals.NewComputed(func(tr *signals.Tracker) int {
			v := a.Get(tr)
			<-hold
			return v
		})
		go slow.Peek()
		synctest.Wait()

		b := signals.New(1)
		double := signals.NewComputed(func(tr *signals.Tracker) int { return b.Get(tr) * 2 })
		var got atomic.Int64
		go func() {
			b.Set(21)
			got.Store(int64(double.Peek()))
		}()
		synctest.Wait()
		assert.Equal(t, int64(42), got.Load(), "a reader of graph B waited for graph A's computation")
		close(hold)
		synctest.Wait()
		assert.Equal(t, 1, slow.Peek())
	})
}

// An effect that wrote a signal in its first run has that signal's
// effects batched with its own runs, but only while it runs. A write to
// that signal from another goroutine at any other time runs its effects
// itself, even while the effect's graph is busy with a slow flush (here w
// does not write x in the run the flush made).
func TestItem21_AWriteIsAttributedOnlyToARunningEffect(t *testing.T) {
	withDeadline(t, 30*time.Second, func() {
		src, x := signals.New(0), signals.New(0)
		w := signals.NewEffect(func(tr *signals.Tracker) {
			if v := src.Get(tr); v%2 == 0 {
				x.Set(v) // written in the first run: x is remembered as w's
			}
		})
		defer w.Stop()
		inSlow, release := make(chan struct{}), make(chan struct{})
		slow := signals.NewEffect(func(tr *signals.Tracker) { // w's graph, after w
			if src.Get(tr) == 1 {
				close(inSlow)
				<-release
			}
		})
		defer slow.Stop()
		var seen atomic.Int64
		r := signals.NewEffect(func(tr *signals.Tracker) { seen.Store(int64(x.Get(tr))) })
		defer r.Stop()

		done := make(chan struct{})
		go func() { src.Set(1); close(done) }()
		<-inSlow // w ran without writing x; the flush of w's graph is busy in slow
		x.Set(5)
		assert.Equal(t, int64(5), seen.Load(), "x's effect ran before x.Set returned")
		close(release)
		<-done
	})
}

// An effect stopped while its Async run is under way is disposed of on
// that run's goroutine, which runs its cleanups with the effect on the
// attribution stack (their writes are batched with it). Done used to be
// closed before the effect left that stack, so a goroutine that waited for
// Done and then wrote an unrelated signal could find its write attributed
// to the stopped effect: its effects ran later, on the other goroutine,
// after its Set had returned. The window is short: the test repeats.
func TestItem21_AWriteAfterDoneIsNotAttributedToTheStoppedEffect(t *testing.T) {
	withDeadline(t, 60*time.Second, func() {
		for i := range 300 {
			job := signals.New(0)
			started, finish := make(chan struct{}), make(chan struct{})
			e := signals.NewEffect(func(tr *signals.Tracker) {
				if job.Get(tr) == 1 {
					close(started)
					<-finish
				}
				tr.OnCleanup(func() {})
			}, signals.Async())
			job.Set(1)
			<-started
			e.Stop() // the disposal happens on the Async goroutine
			close(finish)
			<-e.Done()

			x := signals.New(0)
			var seen atomic.Int64
			r := signals.NewEffect(func(tr *signals.Tracker) { seen.Store(int64(x.Get(tr))) })
			x.Set(1)
			ok := assert.Equal(t, int64(1), seen.Load(), "iteration %d: x's effect ran before x.Set returned", i)
			r.Stop()
			if !ok {
				return
			}
		}
	})
}
