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
// two rounds (at least 5 ms) and carries on if something they
// read was written meanwhile, which only another goroutine can do.
//
// # Beyond single values
//
// A [Map] holds keyed values that computations depend on key by key, with
// a change log ([Map.Changes]) for results maintained from what changed.
// [NewComputedFrom] and [NewEffectFrom] hand a function its previous
// result; [NewLinked] is a writable derived value. [Watch], [WaitFor] and
// [Values] react to changes from outside the graph. [WithObserved] runs
// hooks when a node gains its first live observer and loses its last, and
// [NewClock] is a time signal that ticks only while observed.
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
// holds on to it; call [Effect.Stop] to release it, or bind it to a scope or
// a context (see Lifetimes).
//
// # Lifetimes
//
// An effect, a subscription ([Subscribe]) and a [Scope] live until something
// ends them. Once ended, each lets go of what it was tied to, and what it
// was tied to lets go of it, so that it can be garbage-collected however
// long those live: a server can create and end effects in one long-lived
// scope and context all day and keep only the live ones.
//
//   - An effect ends with [Effect.Stop], when a context given with
//     [WithContext] is done, when a scope given with [WithScope] (or
//     [Scope.Effect]) stops, or, created in [Tracker.Scope], before the next
//     run of the effect that created it. Whatever ends it, it leaves its
//     scope, releases its contexts and cancels a pending [Debounce] or
//     [Throttle] timer. [Effect.Done] is closed once its last run and its
//     cleanups are over.
//   - A [Subscribe] channel is fed by an effect tied to Subscribe's context
//     and to the scope and context in its options; the first of them to end
//     closes the channel and releases the others.
//   - A [Scope] stops what it owns ([Scope.Effect], [WithScope],
//     [Scope.Defer], child scopes from [Scope.Child]) in reverse order of
//     registration. What ends on its own leaves the scope at once; Defer
//     returns a function that unregisters, like the stop function of
//     context.AfterFunc. A scope made with [NewScope] stops when its context
//     is done (it is returned stopped if the context already is), and
//     [Scope.Context] is cancelled when it stops.
//   - Ownership is explicit. An effect created during another effect's run
//     is not owned by that run (contract item 13) unless it is created in
//     the run's scope, [Tracker.Scope], which is stopped before the next
//     run and when the effect stops.
//   - No effect is left running without a handle: if [NewEffect]'s first
//     run panics, or the flush it runs afterwards raises another effect's
//     panic, the new effect is stopped before the panic leaves NewEffect.
//
// Waiting and observing follow the same lines: [Effect.Idle] and
// [Scope.Idle] wait for one effect's or one scope's runs handed to Async,
// Debounce or Throttle ([Idle] for the whole process), and a scope's panic
// handler ([Scope.SetPanicHandler]) and tracer ([Scope.SetTracer]) see its
// effects and its children's, besides the per-effect [WithPanicHandler] and
// [WithTracer] and the process-wide [SetPanicHandler] and [SetTracer]. In
// tests, package signalstest checks that nothing is left running at the end
// of a test and records the values a Readable takes.
//
//	conn := server.Child()                 // one per connection; server is long-lived
//	defer conn.Stop()                      // ends everything below
//	for v := range signals.Subscribe(r.Context(), status, signals.WithScope(conn)) {
//		fmt.Fprintf(w, "data: %v\n\n", v)
//	}
//
// # Concurrency
//
// Every function and method is safe for concurrent use. There is no
// process-wide lock: nodes connected by dependencies form a graph, and each
// graph has its own lock, which is never held while user code runs
// (compute, effect, equality, cleanup, scheduler and tracer functions may
// read and write signals freely). Graphs that share no dependency never
// wait for, run the effects of, or raise the panics of each other, and
// proceed in parallel. Two graphs joined by a dependency stay one graph,
// even after the dependency goes away.
//
// Reads of current values take no lock: a Peek or Get of a signal, or of a
// computed that is up to date, is a few atomic loads, so many goroutines
// reading one value scale with the cores. Reads are linearizable: a Get or
// Peek that starts after a Set returned sees it, computeds included. A
// computed being recomputed is claimed; concurrent readers wait for that one
// run instead of starting their own. A read from a compute function whose
// tracker chain already contains the computed it waits for, or whose wait
// would close a cycle with another goroutine's, panics with ErrCycle.
//
// A compute function never combines values from before and after one write,
// even while other goroutines write: each read checks, against its graph's
// write counter, that the values read so far are still current, and when one
// changed the function is stopped (by a panic that this package recovers,
// even if the function recovers it first) and run again. After two such
// restarts a computation holds back the writers of its own graph for each
// further attempt, for as long as it makes progress, so that it completes
// under any stream of writes; after eight such attempts it panics with
// ErrCycle, which is what a compute function that reads a signal, writes it
// and reads it again gets. Held-back writers wait only while the
// computation makes progress: a writer that holds a lock of its own while it
// writes, when a compute function of the same graph waits for that lock,
// stalls the computation until the writer's wait runs out, so under a steady
// stream of such writes the computation also ends with ErrCycle. Write
// signals after releasing such locks ([Map] does).
// Compute functions must therefore be pure.
//
// The call that writes runs the effects its write made due, on its own
// goroutine, unless a flush of that graph is already running on another
// goroutine (then that flush runs them), or a Batch is open (see below).
// Writes made inside an effect are batched with its flush, so that two
// writes cause one run downstream: writes to the effect's own graph, and
// writes to the signals it wrote in its first run. Since Go has no goroutine
// identity, a write from another goroutine to one of those signals while the
// effect runs is batched with it too; a signal an effect first writes in a
// later run, outside its graph, has its effects run at once (wrap such
// writes in a Batch to have them cause one run downstream). For the same
// reason, while any effect's first run (inside NewEffect) or the cleanups of
// its Stop are in progress, every write in the process is batched with that
// effect: the effects it makes due run on that goroutine, right after, and
// their panics are raised there. This is the one exception to the isolation
// of unrelated graphs; keep first runs and cleanups short. An effect never
// runs concurrently with itself, and once every call that wrote has
// returned, every effect has run on the final values. An effect is not
// restarted, since it has side effects: each value it reads is current when
// read, and if a value it used changes while it runs, it runs again
// afterwards. To observe several values as one consistent state under
// another goroutine's writes, read them through one computed.
//
// A Batch defers effects; it is not a transaction, and other goroutines see
// its writes at once. Effects made due while batches are open, on any
// goroutine, wait until the batches open at that moment have returned,
// never for batches opened later, so batches that overlap without pause
// cannot starve them. Values that must change together belong in one
// signal.
//
// Whatever user code does (panics, runtime.Goexit, recovering panics it did
// not raise, blocking), it leaves nothing locked and no node stuck: the call
// that ran it fails or returns, and every other call keeps working. A
// computed whose function calls runtime.Goexit has no value and runs again
// when next read; an effect's run that calls it counts as done, and the rest
// of its flush continues on a new goroutine.
//
// The engine's protocol (what each lock guards, the order in which locks are
// taken and why nothing deadlocks) is in internal/core/DESIGN.md.
package signals
