//go:build race

package bench

// raceEnabled reports whether the tests run under the race detector,
// which slows the engine down some thirtyfold: the full-length dynamic
// runs are then left to a plain go test.
const raceEnabled = true
