package signals

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/gosignals/signals/internal/core"
)

// ResourceStatus says where a Resource's value stands.
type ResourceStatus uint8

const (
	// ResourceIdle: no load for the current parameters has started, either
	// because the resource loads on demand (LoadOnDemand) and nobody asked
	// since the parameters changed, or because it is stopped. Value holds
	// the previous value if HasValue.
	ResourceIdle ResourceStatus = iota
	// ResourceLoading: a load runs and there is no value to show meanwhile.
	ResourceLoading
	// ResourceReloading: a load runs and Value holds the previous value:
	// after Reload, or after a parameter change with KeepStale.
	ResourceReloading
	// ResourceReady: Value is the result of the latest load for the
	// current parameters, or was given to Set.
	ResourceReady
	// ResourceFailed: the latest load for the current parameters failed,
	// or the parameters function panicked; Err says why. Value holds the
	// previous value if HasValue.
	ResourceFailed
)

func (s ResourceStatus) String() string {
	switch s {
	case ResourceIdle:
		return "idle"
	case ResourceLoading:
		return "loading"
	case ResourceReloading:
		return "reloading"
	case ResourceReady:
		return "ready"
	case ResourceFailed:
		return "failed"
	}
	return fmt.Sprintf("ResourceStatus(%d)", uint8(s))
}

// ResourceState is a snapshot of a Resource: its value, the error of its
// latest load and its status, always consistent with each other.
type ResourceState[T any] struct {
	// Value is the latest value (see HasValue), or T's zero value.
	Value T
	// Err is the reason of a failure; it is not nil exactly when Status is
	// ResourceFailed.
	Err    error
	Status ResourceStatus

	has bool
	seq uint64 // orders the states of one resource
}

// HasValue reports whether Value holds a value: one loaded or Set for the
// current parameters, or, while Status is not ResourceReady, a previous one
// kept on view (after Reload, with KeepStale, or when a load failed).
func (s ResourceState[T]) HasValue() bool { return s.has }

// Loading reports whether a load is running: ResourceLoading or
// ResourceReloading.
func (s ResourceState[T]) Loading() bool {
	return s.Status == ResourceLoading || s.Status == ResourceReloading
}

// Result returns Value and Err as a Result.
func (s ResourceState[T]) Result() Result[T] { return Result[T]{Value: s.Value, Err: s.Err} }

// String describes the state, for logs and Inspect: "loading",
// "ready: <value>", "failed: <error>", with " (stale: <value>)" after a
// status other than ready when a previous value is kept.
func (s ResourceState[T]) String() string {
	var b string
	switch s.Status {
	case ResourceReady:
		return fmt.Sprintf("ready: %v", s.Value)
	case ResourceFailed:
		b = fmt.Sprintf("failed: %v", s.Err)
	default:
		b = s.Status.String()
	}
	if s.has {
		b += fmt.Sprintf(" (stale: %v)", s.Value)
	}
	return b
}

// ErrResourceStopped is returned by Resource.Wait when the resource is
// stopped before a value for its current parameters settled.
var ErrResourceStopped = errors.New("signals: resource stopped")

// PanicError is the error a Resource reports when its load function (or its
// parameters function) panicked. errors.Is and errors.As see through it to
// the panic value when that is an error.
type PanicError struct {
	// Value is what the function panicked with.
	Value any
	// Stack is the stack of the goroutine that raised Value, taken as the
	// panic unwound.
	Stack string

	what string // "load" or "parameters", and the resource's name
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("signals: %s panicked: %v", e.what, e.Value)
}

// Unwrap returns Value if it is an error, else nil.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// errGoexit is the failure of a load that called runtime.Goexit.
var errGoexit = errors.New("exited through runtime.Goexit without returning")

// A ResourceOption configures a Resource: WithRetry, KeepStale,
// LoadOnDemand, or any EffectOption, which configures the effect that
// follows the parameters: WithContext and WithScope bound the resource's
// life, a Scheduler (Debounce, Throttle, Async, WithScheduler) decides
// when a change of the parameters is taken up, and WithEffectName names the
// resource.
type ResourceOption interface {
	applyResource(*resourceOptions)
}

type resourceOptions struct {
	effect    []EffectOption
	retries   int
	backoff   func(retry int) time.Duration
	keepStale bool
	onDemand  bool
}

func (o EffectOption) applyResource(r *resourceOptions) {
	if o.apply == nil {
		panic("signals: zero EffectOption; build options with the functions of this package")
	}
	r.effect = append(r.effect, o)
}

type resourceOption func(*resourceOptions)

func (f resourceOption) applyResource(r *resourceOptions) { f(r) }

// WithRetry retries a failed load up to n more times with the same
// parameters, waiting backoff(i) before retry i (1, 2, …, n); a nil
// backoff retries at once. The status stays loading meanwhile, and only the
// last attempt's error is reported. A load whose context was cancelled
// (the parameters changed, Reload, Set or Stop) and a load that panicked
// are not retried; the waits end when the load's context does.
// WithRetry panics if n is negative.
func WithRetry(n int, backoff func(retry int) time.Duration) ResourceOption {
	if n < 0 {
		panic(fmt.Sprintf("signals: WithRetry(%d, …): the number of retries must not be negative", n))
	}
	return resourceOption(func(o *resourceOptions) { o.retries, o.backoff = n, backoff })
}

// ExponentialBackoff returns a backoff for WithRetry that waits initial
// before the first retry and doubles the wait for each further retry, up to
// max. It panics unless 0 < initial <= max.
func ExponentialBackoff(initial, max time.Duration) func(retry int) time.Duration {
	if initial <= 0 || max < initial {
		panic(fmt.Sprintf("signals: ExponentialBackoff(%v, %v): need 0 < initial <= max", initial, max))
	}
	return func(retry int) time.Duration {
		d := initial
		for i := 1; i < retry && d < max; i++ {
			d *= 2
		}
		return min(d, max)
	}
}

// KeepStale keeps the previous value on view while a load for new
// parameters runs (status ResourceReloading instead of ResourceLoading) and
// after it fails (HasValue stays true). Without it, a change of the
// parameters drops the value, since it belongs to other parameters.
func KeepStale() ResourceOption {
	return resourceOption(func(o *resourceOptions) { o.keepStale = true })
}

// LoadOnDemand defers loads until the value is asked for: a change of the
// parameters cancels the load in progress and makes the resource idle, and
// the first Wait, Get or Peek after that starts the load, which every
// later reader shares. A load started by Wait(ctx) runs with the values of
// ctx (request-scoped values reach the loader) but not its cancellation: the
// waiter giving up does not cancel the load the others wait for.
func LoadOnDemand() ResourceOption {
	return resourceOption(func(o *resourceOptions) { o.onDemand = true })
}

// A Resource is a value loaded by a function that takes a context and may
// fail or take its time (a database query, a call to another service), from
// parameters derived reactively. It is Readable: Get and Peek return a
// ResourceState, whose value, error and status change together, so effects
// and computeds can show "loading", "stale but reloading" or "failed".
//
// An effect follows the parameters: whenever they change (by ==), the load
// in progress, if any, has its context cancelled at once, and a new load
// starts (at once, or on demand with LoadOnDemand) on a goroutine of its
// own. A load whose parameters changed, or that Reload, Set or Stop made
// obsolete, never has its result committed, even if it ignores its context.
// Equal parameters do not reload: the state, and any error, stay as they
// are. Readers share the one load in progress. A change is taken up when
// the effect runs: before the write that made it returns, unless another
// goroutine is running effects at that moment or a Scheduler defers it (see
// NewEffect), so a Wait right after such a write may still return the value
// for the previous parameters.
//
// Like an effect, a resource stays alive, following its parameters, until it
// is stopped (Stop, WithScope, WithContext), whether or not anything reads
// it.
//
// All methods are safe for concurrent use. Readers' effects run by a write
// of the state made on a load's goroutine report their panics to the panic
// handler (see SetPanicHandler), since no caller could receive them.
type Resource[P comparable, T any] struct {
	state   *Signal[*ResourceState[T]] // immutable snapshots: a pointer is cheaper to read than the struct
	params  func(*Tracker) P
	load    func(context.Context, P) (T, error)
	base    context.Context // WithContext's, or Background
	name    string
	retries int
	backoff func(int) time.Duration
	stale   bool // KeepStale
	demand  bool // LoadOnDemand
	cleanup func()

	mu      sync.Mutex
	eff     *Effect // the effect following the parameters, known from its first run
	cur     ResourceState[T]
	seq     uint64
	p       P
	hasP    bool   // p holds parameters; false until the first run, or after it panicked
	gen     uint64 // bumped whenever a load in progress becomes obsolete
	cancel  context.CancelFunc
	stopped bool
	wake    chan struct{} // closed and replaced after each state is published
}

// NewResource returns a resource that loads load(ctx, p) for the
// parameters p = params(t). params runs in an effect, so it is tracked like
// an effect's function and may use t.Context(); it runs once inside
// NewResource, and the first load starts before NewResource returns (unless
// LoadOnDemand). A panic in params or in load becomes a ResourceFailed
// state whose error, a *PanicError, names the panic.
//
// The context of a load carries the values of WithContext's context (or
// those of Wait's, see LoadOnDemand), and is cancelled when the parameters
// change, when Reload, Set or Stop makes the load obsolete, and when
// WithContext's context is done. P must be comparable; parameters whose
// comparison panics (interfaces holding slices) are taken as changed.
// NewResource panics if params or load is nil or an option is nil.
func NewResource[P comparable, T any](params func(t *Tracker) P, load func(ctx context.Context, p P) (T, error), opts ...ResourceOption) *Resource[P, T] {
	if params == nil {
		panic("signals: NewResource called with a nil parameters function")
	}
	if load == nil {
		panic("signals: NewResource called with a nil load function")
	}
	var o resourceOptions
	for _, opt := range opts {
		if opt == nil {
			panic("signals: NewResource called with a nil ResourceOption")
		}
		opt.applyResource(&o)
	}
	eo := buildEffectOptions(o.effect)
	r := &Resource[P, T]{
		params:  params,
		load:    load,
		base:    eo.ctx,
		name:    eo.name,
		retries: o.retries,
		backoff: o.backoff,
		stale:   o.keepStale,
		demand:  o.onDemand,
		wake:    make(chan struct{}),
	}
	if r.base == nil {
		r.base = context.Background()
	}
	r.cleanup = r.checkStopped
	r.state = New(&ResourceState[T]{}, WithName[*ResourceState[T]](eo.name))
	if NewEffect(r.follow, o.effect...).isStopped() {
		r.stop() // WithContext's context was done or WithScope's scope stopped
	}
	return r
}

func (e *Effect) isStopped() bool {
	_, stopped := core.State(&e.sub.Node)
	return stopped
}

// Get returns the current state and, if t is not nil, records the resource
// as a dependency of t's computation. With LoadOnDemand, a read that finds
// the resource idle starts the load first and returns the loading state.
func (r *Resource[P, T]) Get(t *Tracker) ResourceState[T] {
	if r == nil {
		panic(errNilResource)
	}
	s := r.state.Get(t)
	if r.demand && s.Status == ResourceIdle {
		r.startOnDemand(r.base)
		s = r.state.Get(t)
	}
	return *s
}

// Peek is Get(nil): the current state, without recording a dependency.
func (r *Resource[P, T]) Peek() ResourceState[T] { return r.Get(nil) }

// Name returns the name given with WithEffectName, or "".
func (r *Resource[P, T]) Name() string {
	if r == nil {
		panic(errNilResource)
	}
	return r.name
}

// errNilResource is what the methods of a nil *Resource panic with (but
// Stop, which does nothing).
const errNilResource = "signals: method called on a nil *Resource"

// Wait returns the value and error of the resource once it has settled
// (ResourceReady or ResourceFailed; at once if it has), starting the load
// if the resource loads on demand and is idle. On failure it returns Value
// (a previous value kept on view, or the zero value) with the error. If
// ctx is done first it returns the zero value and ctx.Err(); if the resource
// is stopped before it settles, the zero value and ErrResourceStopped.
// Wait returns once the settled state is published: effects that read the
// resource may still be running, on the goroutine that published it.
// Wait(nil) panics.
func (r *Resource[P, T]) Wait(ctx context.Context) (T, error) {
	if r == nil {
		panic(errNilResource)
	}
	if ctx == nil {
		panic("signals: Resource.Wait called with a nil context")
	}
	for {
		r.mu.Lock()
		wake, stopped := r.wake, r.stopped
		r.mu.Unlock()
		s := *r.state.Peek()
		switch s.Status {
		case ResourceReady:
			return s.Value, nil
		case ResourceFailed:
			return s.Value, s.Err
		case ResourceIdle:
			if stopped {
				var zero T
				return zero, ErrResourceStopped
			}
			if r.demand && r.startOnDemand(ctx) {
				continue
			}
		}
		select {
		case <-wake:
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
	}
}

// Reload starts a new load with the current parameters, cancelling the one
// in progress: status ResourceReloading if there is a value to keep on
// view, else ResourceLoading. It does nothing if the resource is stopped or
// its parameters function panicked in its latest run.
func (r *Resource[P, T]) Reload() {
	if r == nil {
		panic(errNilResource)
	}
	r.mu.Lock()
	if r.stopped || !r.hasP {
		r.mu.Unlock()
		return
	}
	r.obsolete()
	r.commitLocked(r.startLocked(r.base, r.cur))
}

// Set replaces the value locally, as an optimistic update: the state becomes
// ResourceReady with v, and a load in progress is cancelled, since its
// result, read before the change that v anticipates, must not overwrite v.
// Call Reload once the change is stored to load the authoritative value
// (or to roll back if storing it failed). A change of the parameters
// replaces v as usual. Set works on a stopped resource too.
func (r *Resource[P, T]) Set(v T) {
	if r == nil {
		panic(errNilResource)
	}
	r.mu.Lock()
	r.obsolete()
	r.commitLocked(ResourceState[T]{Value: v, Status: ResourceReady, has: true})
}

// Stop cancels the load in progress, whose result is then never committed,
// and stops following the parameters. The state keeps its value; a state
// that was loading becomes ResourceIdle. Stop is idempotent, and does
// nothing on a nil *Resource. Stopping the scope or ending the context given
// with WithScope or WithContext stops the resource too.
func (r *Resource[P, T]) Stop() {
	if r == nil {
		return
	}
	r.mu.Lock()
	e := r.eff // nil if it never ran: then it was stopped from the start
	r.mu.Unlock()
	if e != nil {
		e.Stop()
	}
	r.stop()
}

// coreNode makes a Resource a Node for Inspect and Graph: its state signal.
func (r *Resource[P, T]) coreNode() *core.Node { return &r.state.node }

// follow is the function of the effect that follows the parameters.
func (r *Resource[P, T]) follow(t *Tracker) {
	// Stopping the effect runs its cleanups: that is how a scope or a
	// context stopping the effect reaches the resource.
	t.OnCleanup(r.cleanup)
	p, err := r.callParams(t)
	r.mu.Lock()
	if r.eff == nil {
		r.eff = (*Effect)(t.c.Impl().(*effectImpl))
	}
	if r.stopped || (err == nil && r.hasP && sameParams(r.p, p)) {
		r.mu.Unlock()
		return
	}
	r.obsolete()
	s := r.cur
	if !r.stale {
		var zero T
		s.Value, s.has = zero, false
	}
	switch {
	case err != nil:
		var zero P
		r.p, r.hasP = zero, false
		s.Status, s.Err = ResourceFailed, err
	case r.demand:
		r.p, r.hasP = p, true
		s.Status, s.Err = ResourceIdle, nil
	default:
		r.p, r.hasP = p, true
		s = r.startLocked(r.base, s)
	}
	r.commitLocked(s)
}

func sameParams[P comparable](a, b P) (same bool) {
	defer func() {
		if recover() != nil {
			same = false // an interface holding an uncomparable value
		}
	}()
	return a == b
}

// callParams runs the parameters function, turning a panic into an error.
func (r *Resource[P, T]) callParams(t *Tracker) (p P, err error) {
	returned := false
	defer func() {
		if returned {
			return
		}
		v := recover()
		switch {
		case v == nil: // runtime.Goexit: let it go on
		case engineUnwind(v):
			panic(v)
		default:
			stack := trimStack(debug.Stack())
			if h, ok := t.c.Impl().(originHolder); ok {
				// A computed's panic, re-raised by its Get: keep its origin.
				if handed := h.originSlot().handed(v); handed != "" {
					stack = handed
				}
			}
			err = &PanicError{Value: v, Stack: stack, what: r.describe("parameters")}
		}
	}()
	p = r.params(t)
	returned = true
	return p, nil
}

func (r *Resource[P, T]) describe(what string) string {
	if r.name != "" {
		return fmt.Sprintf("resource %q %s", r.name, what)
	}
	return "resource " + what
}

// checkStopped is a cleanup of every run of the effect: if the effect was
// stopped (by Stop, its scope or its context), the resource stops too.
func (r *Resource[P, T]) checkStopped() {
	r.mu.Lock()
	e := r.eff
	r.mu.Unlock()
	if e != nil && e.isStopped() {
		r.stop()
	}
}

// stop cancels the load in progress and marks the resource stopped.
func (r *Resource[P, T]) stop() {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return
	}
	r.stopped = true
	r.obsolete()
	s := r.cur
	if s.Loading() {
		s.Status = ResourceIdle
	}
	r.commitLocked(s)
}

// obsolete makes the load in progress, if any, obsolete: its context is
// cancelled and its result will not be committed. r.mu held.
func (r *Resource[P, T]) obsolete() {
	r.gen++
	if r.cancel != nil {
		r.cancel()
		r.cancel = nil
	}
}

// startOnDemand starts a load if the resource is idle, not stopped, and has
// parameters, with the values of ctx. It reports whether the resource is
// loading now (started by this call or another).
func (r *Resource[P, T]) startOnDemand(ctx context.Context) bool {
	r.mu.Lock()
	if r.stopped || !r.hasP || r.cur.Status != ResourceIdle {
		loading := r.cur.Loading()
		r.mu.Unlock()
		return loading
	}
	parent := r.base
	if ctx != r.base {
		parent = valuesOf{Context: context.WithoutCancel(ctx), base: r.base}
	}
	r.commitLocked(r.startLocked(parent, r.cur))
	return true
}

// valuesOf is a context with the values of the context that asked for a
// load, then those of the resource's own, and no cancellation: the resource
// cancels the load itself.
type valuesOf struct {
	context.Context // context.WithoutCancel of the asker's
	base            context.Context
}

func (c valuesOf) Value(key any) any {
	if v := c.Context.Value(key); v != nil {
		return v
	}
	return c.base.Value(key)
}

// startLocked starts a load of the current parameters in a context derived
// from parent and returns s with a loading status. r.mu held; the caller
// has made the previous load obsolete.
func (r *Resource[P, T]) startLocked(parent context.Context, s ResourceState[T]) ResourceState[T] {
	ctx, cancel := context.WithCancel(parent)
	r.cancel = cancel
	go r.run(ctx, cancel, r.gen, r.p)
	s.Err = nil
	if s.has {
		s.Status = ResourceReloading
	} else {
		s.Status = ResourceLoading
	}
	return s
}

// run is a load's goroutine: it calls load, retrying as configured, and
// commits the outcome unless the load became obsolete meanwhile.
func (r *Resource[P, T]) run(ctx context.Context, cancel context.CancelFunc, gen uint64, p P) {
	start := time.Now()
	var v T
	var err error
	returned := false
	defer func() {
		if !returned {
			if x := recover(); x != nil {
				err = &PanicError{Value: x, Stack: trimStack(debug.Stack()), what: r.describe("load")}
			} else {
				err = fmt.Errorf("signals: %s %w", r.describe("load"), errGoexit)
			}
		}
		committed := r.finish(ctx, gen, v, err)
		cancel()
		r.traceLoad(time.Since(start), committed, err)
	}()
	v, err = r.attempts(ctx, p)
	returned = true
}

// attempts calls load, then retries while it fails, as WithRetry says.
func (r *Resource[P, T]) attempts(ctx context.Context, p P) (T, error) {
	v, err := r.load(ctx, p)
	for retry := 1; err != nil && retry <= r.retries && ctx.Err() == nil; retry++ {
		if r.backoff != nil {
			if d := r.backoff(retry); d > 0 {
				timer := time.NewTimer(d)
				select {
				case <-timer.C:
				case <-ctx.Done():
					timer.Stop()
					return v, err
				}
			}
		}
		v, err = r.load(ctx, p)
	}
	return v, err
}

// finish commits the outcome of the load of generation gen, unless it is
// obsolete, and reports whether it did. It runs on the load's goroutine,
// where no caller could receive a panic raised by the effects that the
// state's change runs: those go to the panic handler.
func (r *Resource[P, T]) finish(ctx context.Context, gen uint64, v T, err error) bool {
	r.mu.Lock()
	if gen != r.gen {
		r.mu.Unlock()
		return false // obsolete: never committed
	}
	r.cancel = nil
	s := r.cur
	switch {
	case ctx.Err() != nil:
		// The load's context ended without the resource cancelling it:
		// WithContext's context is done, and the resource is about to
		// stop. Whatever the load returned is not committed, and no load
		// is running any more.
		s.Status, s.Err = ResourceIdle, nil
		if p, ok := core.Call(func() { r.commitLocked(s) }); ok {
			handlePanic(PanicInfo{Effect: r.name, Value: p}, nil)
		}
		return false
	case err != nil:
		s.Status, s.Err = ResourceFailed, err
	default:
		s.Value, s.Err, s.Status, s.has = v, nil, ResourceReady, true
	}
	if p, ok := core.Call(func() { r.commitLocked(s) }); ok {
		handlePanic(PanicInfo{Effect: r.name, Value: p}, nil)
	}
	return true
}

// commitLocked makes s the current state and publishes it, then wakes the
// waiters. r.mu held on entry, released on return.
func (r *Resource[P, T]) commitLocked(s ResourceState[T]) {
	r.seq++
	s.seq = r.seq
	r.cur = s
	r.mu.Unlock()
	defer r.wakeWaiters()
	// Writes of the states race only with each other; the newest wins,
	// whatever the order in which they reach the signal.
	snap := &s
	r.state.Update(func(old *ResourceState[T]) *ResourceState[T] {
		if old.seq >= snap.seq {
			return old
		}
		return snap
	})
}

// wakeWaiters wakes the Waits that read a state older than the one just
// published.
func (r *Resource[P, T]) wakeWaiters() {
	r.mu.Lock()
	wake := r.wake
	r.wake = make(chan struct{})
	r.mu.Unlock()
	close(wake)
}

// traceLoad reports a finished load to the tracer.
func (r *Resource[P, T]) traceLoad(d time.Duration, committed bool, err error) {
	tracer.Lock()
	t := tracer.t
	tracer.Unlock()
	if t == nil {
		return
	}
	ev := Event{Kind: EventLoad, Node: nodeID(&r.state.node), Name: r.name, Duration: d, Changed: committed, Err: err}
	if pe, ok := errors.AsType[*PanicError](err); ok {
		ev.Panicked, ev.Panic, ev.PanicStack = true, pe.Value, pe.Stack
	}
	if p, ok := core.Call(func() { t.Trace(ev) }); ok {
		handlePanic(PanicInfo{Effect: r.name, Value: p}, nil)
	}
}
