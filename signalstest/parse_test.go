package signalstest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestInModule(t *testing.T) {
	for fn, want := range map[string]bool{
		"github.com/gosignals/signals.(*Scope).stop":                     true,
		"github.com/gosignals/signals.Subscribe[...]":                    true,
		"github.com/gosignals/signals/internal/core.flush":               true,
		"github.com/gosignals/signals/natsig.(*Shared[...]).watch.func1": true,
		"github.com/gosignals/signals_test.TestScope":                    false,
		"github.com/gosignals/signals/natsig_test.TestOpen.func2":        false,
		"github.com/gosignals/signals/signalstest.(*config).verify":      false,
		"github.com/gosignals/signalsx.Foo":                              false,
		"github.com/gosignals/signals":                                   false,
		"context.AfterFunc.func1":                                        false,
		"main.main":                                                      false,
	} {
		assert.Equal(t, want, inModule(fn), fn)
	}
}

func TestParse(t *testing.T) {
	g, ok := parse(`goroutine 22 [chan receive]:
github.com/gosignals/signals_test.TestX.func1()
	/src/x_test.go:10 +0x1f
github.com/gosignals/signals.(*Scope).stop(0xc000123456)
	/src/scope.go:117 +0x190
github.com/gosignals/signals.(*Scope).stopByContext(...)
	/src/scope.go:130
created by context.(*afterFuncCtx).cancel.func1 in goroutine 21
	/usr/local/go/src/context/context.go:358 +0x1b`)
	assert.True(t, ok)
	assert.Equal(t, uint64(22), g.id)
	assert.Equal(t, "context.(*afterFuncCtx).cancel.func1", g.createdBy)
	assert.Equal(t, []string{
		"github.com/gosignals/signals_test.TestX.func1",
		"github.com/gosignals/signals.(*Scope).stop",
		"github.com/gosignals/signals.(*Scope).stopByContext",
	}, g.funcs)
	assert.True(t, g.ours())

	g, ok = parse("goroutine 5 [select]:\nnet/http.(*Server).Serve(0x1)\n\t/x.go:1\ncreated by main.main in goroutine 1\n\t/m.go:3")
	assert.True(t, ok)
	assert.False(t, g.ours())
	_, ok = parse("not a goroutine")
	assert.False(t, ok)
}
