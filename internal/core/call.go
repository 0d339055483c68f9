package core

// Call runs fn and returns what it panicked with, if it did, instead of
// raising it. If fn calls runtime.Goexit, Call does not return: the callers'
// deferred calls restore the engine's state (see DESIGN.md, Robustness).
func Call(fn func()) (p any, panicked bool) {
	panicked = true
	defer func() {
		if panicked {
			p = recover()
		}
	}()
	fn()
	panicked = false
	return
}

// PanicReporter receives panics that no caller can receive: those of
// effects run while another panic unwinds, and of tracers. The typed layer
// sets it to the package's panic handler.
var PanicReporter = func(p any) {}

// reportPanic hands p to PanicReporter, ignoring a panic of the reporter
// itself.
func reportPanic(p any) {
	_, _ = Call(func() { PanicReporter(p) })
}
