// Package signals provides fine-grained reactive state: signals hold values,
// computeds derive values from them, and effects react to changes. It is
// safe for concurrent use from any number of goroutines, and glitch-free: no
// computation ever sees a mix of values from before and after one write.
//
// # Signals, computeds, effects
//
// A [Signal] is a mutable value. A [Computed] is a value derived by a pure
// function from signals and other computeds. An [Effect] runs a function for
// its side effects whenever something it read changes.
//
//	count := signals.New(1)
//	doubled := signals.NewComputed(func(t *signals.Tracker) int {
//		return count.Get(t) * 2
//	})
//	signals.NewEffect(func(t *signals.Tracker) {
//		fmt.Println("doubled is", doubled.Get(t))
//	}) // prints "doubled is 2"
//	count.Set(5) // prints "doubled is 10"
//
// # Tracking is explicit
//
// Compute and effect functions receive a [*Tracker]. Reading x.Get(t)
// records x as a dependency of that computation; Peek, Get(nil) and
// x.Get(t.Untracked()) read without recording. Go has no goroutine-local
// state, so implicit tracking could not be made goroutine-safe; an explicit
// tracker also makes every dependency visible in the code.
//
// Dependencies are dynamic: they are exactly what the latest run read, so a
// branch no longer taken stops triggering the computation.
//
// # Push, then pull
//
// A write marks what depends on it, transitively, as possibly stale, and
// queues the effects among them; nothing is recomputed then. Values are
// pulled when read: a computed re-runs only if one of the values it read
// last time changed, checking them in the order it read them, and at most
// once per write. When a computed's new value equals the old one (by ==, or
// by [WithEqual]), it keeps the old value and nothing downstream re-runs.
// A computed that nothing reads never runs.
//
// Effects run once inside [NewEffect], then after each change to what they
// read, before the [Signal.Set], [Signal.Update] or outermost [Batch] that
// caused it returns, in the order in which they were created. Writes made
// inside an effect are batched: the effects they trigger run after it, in
// the same flush. An effect that keeps re-triggering itself without
// settling panics with an error wrapping [ErrCycle] after 100 rounds.
// Writes from other goroutines do not count: since the package cannot tell
// who wrote, a flush that reaches 100 rounds pauses its effects for about
// two rounds (at least a millisecond) and carries on if something they
// read was written meanwhile, which only another goroutine can do.
//
// # Panics and cycles
//
// A compute function's panic is cached: every reader gets the same panic
// value until a dependency changes. A panicking effect does not keep the
// other effects from running; the first panic is raised again, after the
// flush, from the call that ran it. A computed that reads itself through
// its Tracker, directly or via other computeds, on one goroutine or across
// several, panics with an error wrapping [ErrCycle]. The stack where a
// function panicked is kept beside the panic value: [NodeInfo].PanicStack,
// [PanicInfo].Stack and [Event].PanicStack.
//
// # Loading data, errors and contexts
//
// A [Resource] holds a value loaded by a function that takes a context and
// may fail (a query, a call to another service), from parameters derived
// reactively; it is read as a [ResourceState] whose value, error and status
// change together. A change of the parameters cancels the load in progress,
// whose result is then never committed. A compute function that can fail
// returns (T, error) with [NewComputedErr], and its failure is cached and
// read as a value. An effect's run gets a context, [Tracker.Context], that
// ends when the next run starts or the effect stops.
//
// # Memory
//
// Sources refer only to subscribers that something live observes: effects,
// and the computeds effects depend on. A computed that no effect depends on
// is referenced only by its readers, and is garbage-collected with them.
// A running effect is kept alive by its sources, whether or not the program
// holds on to it; call [Effect.Stop] to release it.
//
// # Concurrency
//
// All graph state sits under one mutex, which is never held while user code
// runs: compute, effect, equality and cleanup functions are called with it
// released, so they may read and write signals freely.
//
// A computed being recomputed is marked as such; concurrent readers wait for
// that one run instead of starting their own. A read from a compute function
// whose tracker chain already contains the computed it waits for, or whose
// wait would close a cycle with another goroutine's, panics with ErrCycle.
//
// Effects are run by one goroutine at a time: the writer that finds nothing
// running them. A writer that finds another goroutine running effects, or a
// Batch open on any goroutine, queues the effects it made due and returns at
// once; the running flush, or the end of the last Batch, runs them. An
// effect never runs concurrently with itself, and once every call that wrote
// has returned, every effect has run on the final values.
//
// Reads are linearizable: a Get or Peek that starts after a Set returned sees
// it, computeds included. A compute function never combines values from
// before and after one write, even while other goroutines write: when a value
// it has read changes before it finishes, it is stopped (by a panic that
// this package recovers) and run again. After two such restarts it closes a
// gate that holds back writers until it is done, for at most 20ms, so that a
// computation completes under any stream of writes. Compute functions must
// therefore be pure; a compute function that writes signals works, but
// slowly, and should be avoided.
//
// An effect is not restarted, since it has side effects: each value it reads
// is current at the moment it is read, and if a value it read changes while
// it runs, it runs again afterwards. To observe several values as one
// consistent state from another goroutine's writes, read them through one
// computed. A Batch defers effects; it is not a transaction, and other
// goroutines see its writes at once. Values that must change together belong
// in one signal.
package signals
