// Command counter is the classic signals demo: a count, a computed that
// doubles it, and an effect that logs both whenever they change.
//
//	go run ./examples/counter              # three increments, then exit
//	go run ./examples/counter -steps 10    # ten increments
//	go run ./examples/counter -steps 0     # read commands from stdin:
//	                                       #   + (increment), - (decrement),
//	                                       #   = N (set), q (quit)
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/gosignals/signals"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "counter:", err)
		os.Exit(2)
	}
}

func run(args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("counter", flag.ContinueOnError)
	fs.SetOutput(out)
	start := fs.Int("start", 0, "initial count")
	steps := fs.Int("steps", 3, "increments to make; 0 reads commands (+, -, = N, q) from stdin")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *steps < 0 {
		return fmt.Errorf("-steps must not be negative, got %d", *steps)
	}

	count := signals.New(*start)
	doubled := signals.NewComputed(func(t *signals.Tracker) int { return count.Get(t) * 2 })
	logger := signals.NewEffect(func(t *signals.Tracker) {
		fmt.Fprintf(out, "count=%d doubled=%d\n", count.Get(t), doubled.Get(t))
	})
	defer logger.Stop()

	increment := func(n int) int { return n + 1 }
	if *steps > 0 {
		for range *steps {
			count.Update(increment)
		}
		return nil
	}

	sc := bufio.NewScanner(in)
	for line := 1; sc.Scan(); line++ {
		cmd := strings.TrimSpace(sc.Text())
		switch {
		case cmd == "":
		case cmd == "+":
			count.Update(increment)
		case cmd == "-":
			count.Update(func(n int) int { return n - 1 })
		case cmd == "q":
			return nil
		case strings.HasPrefix(cmd, "="):
			n, err := strconv.Atoi(strings.TrimSpace(cmd[1:]))
			if err != nil {
				return fmt.Errorf("line %d: %q: want = followed by an integer", line, cmd)
			}
			count.Set(n)
		default:
			return fmt.Errorf("line %d: unknown command %q (want +, -, = N or q)", line, cmd)
		}
	}
	return sc.Err()
}
