package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultRun(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(nil, strings.NewReader(""), &out))
	assert.Equal(t, "count=0 doubled=0\ncount=1 doubled=2\ncount=2 doubled=4\ncount=3 doubled=6\n", out.String())
}

func TestFlags(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run([]string{"-start", "10", "-steps", "1"}, strings.NewReader(""), &out))
	assert.Equal(t, "count=10 doubled=20\ncount=11 doubled=22\n", out.String())
}

func TestCommands(t *testing.T) {
	var out strings.Builder
	in := strings.NewReader("+\n+\n-\n= 7\n= 7\n\nq\n+\n")
	require.NoError(t, run([]string{"-steps", "0"}, in, &out))
	assert.Equal(t, strings.Join([]string{
		"count=0 doubled=0",
		"count=1 doubled=2",
		"count=2 doubled=4",
		"count=1 doubled=2",
		"count=7 doubled=14", // the second "= 7" changes nothing; q stops before the last +
	}, "\n")+"\n", out.String())
}

func TestBadInput(t *testing.T) {
	var out strings.Builder
	err := run([]string{"-steps", "0"}, strings.NewReader("+\n*\n"), &out)
	assert.EqualError(t, err, `line 2: unknown command "*" (want +, -, = N or q)`)
	err = run([]string{"-steps", "0"}, strings.NewReader("= x\n"), &out)
	assert.EqualError(t, err, `line 1: "= x": want = followed by an integer`)
	err = run([]string{"-steps", "-1"}, strings.NewReader(""), &out)
	assert.EqualError(t, err, "-steps must not be negative, got -1")
	assert.Error(t, run([]string{"-nope"}, strings.NewReader(""), &out))
}
