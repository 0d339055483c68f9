package core

import "time"

// The writer gate keeps a computation from starving. A computation restarts
// when a value it read changes before it finishes, so under a steady stream
// of writes from other goroutines it could restart forever. After gateAfter
// attempts it closes the gate: writers wait, at most gateMaxWait, until it
// has finished. The bound keeps a compute function that itself writes (or
// waits for a goroutine that writes) from deadlocking.
const gateMaxWait = 20 * time.Millisecond

var (
	gate   int           // computations holding the gate
	gateCh chan struct{} // closed when the gate opens again
)

func holdGate() {
	if gate == 0 {
		gateCh = make(chan struct{})
	}
	gate++
}

func releaseGate() {
	gate--
	if gate == 0 {
		close(gateCh)
		gateCh = nil
	}
}

// WaitGate lets a writer wait while the gate is closed. Lock held; released
// meanwhile.
func WaitGate() {
	if gate > 0 {
		waitGate()
	}
}

func waitGate() {
	timer := time.NewTimer(gateMaxWait)
	defer timer.Stop()
	for gate > 0 {
		ch := gateCh
		mu.Unlock()
		select {
		case <-ch:
			mu.Lock()
		case <-timer.C:
			mu.Lock()
			return
		}
	}
}
