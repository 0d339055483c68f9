package signals_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gosignals/signals"
)

func TestNewComputedErr(t *testing.T) {
	input := signals.New("42")
	runs := 0
	parsed := signals.NewComputedErr(func(t *signals.Tracker) (int, error) {
		runs++
		return strconv.Atoi(input.Get(t))
	}, signals.WithName[signals.Result[int]]("parsed"))
	assert.Equal(t, signals.Result[int]{Value: 42}, parsed.Peek())

	input.Set("x")
	r := parsed.Peek()
	assert.EqualError(t, r.Err, `strconv.Atoi: parsing "x": invalid syntax`)
	var numErr *strconv.NumError
	assert.True(t, errors.As(r.Err, &numErr))
	assert.Same(t, r.Err, parsed.Peek().Err, "the failure is cached like a value")
	assert.Equal(t, 2, runs)

	// Readers decide what a failure means; a good value again recovers.
	var seen []string
	e := signals.NewEffect(func(t *signals.Tracker) {
		if r := parsed.Get(t); r.Err != nil {
			seen = append(seen, "500: "+r.Err.Error())
		} else {
			seen = append(seen, "200: "+strconv.Itoa(r.Value))
		}
	})
	defer e.Stop()
	input.Set("7")
	assert.Equal(t, []string{`500: strconv.Atoi: parsing "x": invalid syntax`, "200: 7"}, seen)

	// Equal results cut the propagation off, like any value.
	input.Set("07")
	assert.Len(t, seen, 2, "07 parses to 7 again: the effect does not run")
	assert.Equal(t, "parsed", parsed.Name())

	assert.PanicsWithValue(t, "signals: NewComputedErr called with a nil function", func() {
		signals.NewComputedErr[int](nil)
	})
}

func TestNewComputedErrPanicsStayPanics(t *testing.T) {
	boom := errors.New("bug")
	c := signals.NewComputedErr(func(*signals.Tracker) (int, error) { panic(boom) })
	assert.Same(t, boom, capturePanic(func() { c.Peek() }))
	assert.Same(t, boom, capturePanic(func() { c.Peek() }))
}
