package natsigtest

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Cluster is n embedded nats-servers with JetStream, routed to each other
// on loopback ports: a real JetStream cluster, with a meta leader and
// replicated streams, whose servers can be shut down and restarted.
type Cluster struct {
	tb      testing.TB
	Servers []*Server
}

// Account is the account that clients of these servers use.
const Account = server.DEFAULT_GLOBAL_ACCOUNT

// StartCluster starts n servers named n1 to n<n>, each storing in its own
// tb.TempDir(), waits until they have elected a meta leader, and shuts
// them down when the test ends. The ports are picked free just before the
// servers bind them; if another process takes one meanwhile (an outgoing
// connection's ephemeral port, say), it starts again on new ports.
func StartCluster(tb testing.TB, n int) *Cluster {
	tb.Helper()
	const attempts = 3
	var errs []error
	for range attempts {
		c, err := startCluster(tb, n)
		if err == nil {
			c.WaitReady(60 * time.Second)
			return c
		}
		errs = append(errs, err)
	}
	tb.Fatalf("natsigtest: the cluster did not start in %d attempts: %v", attempts, errors.Join(errs...))
	return nil
}

// startCluster makes one attempt of StartCluster. On failure it shuts down
// the servers it started.
func startCluster(tb testing.TB, n int) (*Cluster, error) {
	ports := freePorts(tb, 2*n)
	var routes []string
	for i := range n {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", ports[n+i]))
	}
	c := &Cluster{tb: tb}
	for i := range n {
		s := &Server{tb: tb, opts: server.Options{
			ServerName:         fmt.Sprintf("n%d", i+1),
			Host:               "127.0.0.1",
			Port:               ports[i],
			JetStream:          true,
			StoreDir:           tb.TempDir(),
			JetStreamMaxMemory: 64 << 20,
			JetStreamMaxStore:  256 << 20,
			Cluster:            server.ClusterOpts{Name: "natsig", Host: "127.0.0.1", Port: ports[n+i]},
			Routes:             server.RoutesFromStr(strings.Join(routes, ",")),
			NoLog:              true,
			NoSigs:             true,
		}}
		c.Servers = append(c.Servers, s)
	}
	// Start them together: each waits for the others' routes.
	errc := make(chan error, n)
	for _, s := range c.Servers {
		go func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			errc <- s.startNoFatal()
		}()
	}
	var errs []error
	for range c.Servers {
		if err := <-errc; err != nil {
			errs = append(errs, err)
		}
	}
	for _, s := range c.Servers {
		if !s.Running() {
			errs = append(errs, fmt.Errorf("server %s did not start", s.Name()))
		}
	}
	if len(errs) > 0 {
		for _, s := range c.Servers {
			s.Shutdown()
		}
		return nil, errors.Join(errs...)
	}
	tb.Cleanup(func() {
		for _, s := range c.Servers {
			s.Shutdown()
		}
	})
	return c, nil
}

// freePorts returns n loopback ports that were free a moment ago.
func freePorts(tb testing.TB, n int) []int {
	tb.Helper()
	var lns []net.Listener
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatalf("natsigtest: %v", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

// URLs returns the client URLs of every server, comma-separated, starting
// with server first's (an index), as nats.Connect takes them.
func (c *Cluster) URLs(first int) string {
	var urls []string
	for i := range c.Servers {
		urls = append(urls, c.Servers[(first+i)%len(c.Servers)].URL())
	}
	return strings.Join(urls, ",")
}

// Connect returns a connection to server first (an index) that fails over
// to the others, reconnects forever and fast, and is closed when the test
// ends.
func (c *Cluster) Connect(first int, opts ...nats.Option) *nats.Conn {
	c.tb.Helper()
	nc, err := nats.Connect(c.URLs(first), append([]nats.Option{
		nats.DontRandomize(),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(20 * time.Millisecond),
		nats.ReconnectJitter(10*time.Millisecond, 10*time.Millisecond),
	}, opts...)...)
	if err != nil {
		c.tb.Fatalf("natsigtest: connect: %v", err)
	}
	c.tb.Cleanup(nc.Close)
	return nc
}

// MetaLeader returns the index of the server that leads the JetStream
// meta group, or -1 if none does.
func (c *Cluster) MetaLeader() int {
	for i, s := range c.Servers {
		var leader bool
		if s.with(func(srv *server.Server) { leader = srv.JetStreamIsLeader() }) && leader {
			return i
		}
	}
	return -1
}

// StreamLeader returns the index of the server that leads stream, or -1 if
// none does.
func (c *Cluster) StreamLeader(stream string) int {
	for i, s := range c.Servers {
		var leader bool
		if s.with(func(srv *server.Server) { leader = srv.JetStreamIsStreamLeader(Account, stream) }) && leader {
			return i
		}
	}
	return -1
}

// WaitReady waits up to d until a meta leader is elected and every running
// server's view of the meta group is current.
func (c *Cluster) WaitReady(d time.Duration) {
	c.tb.Helper()
	c.waitFor(d, "a meta leader that sees every running server, and current servers", func() bool {
		leader := c.MetaLeader()
		if leader < 0 {
			return false
		}
		running := 0
		for _, s := range c.Servers {
			var current bool
			if s.with(func(srv *server.Server) { current = srv.JetStreamIsCurrent() }) {
				if !current {
					return false
				}
				running++
			}
		}
		// Placing a replicated stream needs the leader to know its peers
		// online (their statistics arrive after the election): until
		// then, creating a bucket fails with "no suitable peers".
		peers := 0
		c.Servers[leader].with(func(srv *server.Server) { peers = len(srv.JetStreamClusterPeers()) })
		return peers >= running
	})
}

// WaitStream waits up to d until stream has a leader and every running
// server's replica of it is current.
func (c *Cluster) WaitStream(stream string, d time.Duration) {
	c.tb.Helper()
	c.waitFor(d, "stream "+stream+" to have a leader and current replicas", func() bool {
		if c.StreamLeader(stream) < 0 {
			return false
		}
		for _, s := range c.Servers {
			var current bool
			if s.with(func(srv *server.Server) { current = srv.JetStreamIsStreamCurrent(Account, stream) }) && !current {
				return false
			}
		}
		return true
	})
}

func (c *Cluster) waitFor(d time.Duration, what string, cond func() bool) {
	c.tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			c.tb.Fatalf("natsigtest: no %s after %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
