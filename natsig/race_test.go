//go:build race

package natsig_test

// raceEnabled reports a test binary built with -race: commands the tests
// run build with it too, reusing what the build of the tests compiled.
const raceEnabled = true
