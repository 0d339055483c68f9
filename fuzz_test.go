package signals_test

import (
	"testing"

	"github.com/gosignals/signals/internal/model"
)

// FuzzOps decodes bytes into a program (model.Decode: every byte string is
// a valid program of graph construction, writes, batches, reads, effects
// and stops) and checks it step by step against the naive model, with the
// same checks as TestPropertyModel (see property_test.go).
//
// Plain `go test` runs the seed corpus in testdata/fuzz/FuzzOps (and any
// failing inputs the fuzzer saved there). To fuzz:
//
//	go test -run '^$' -fuzz '^FuzzOps$' -fuzztime 10m .
func FuzzOps(f *testing.F) {
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		ops := model.Decode(data)
		if msg := runProgram(ops); msg != "" {
			t.Fatal(msg)
		}
	})
}
