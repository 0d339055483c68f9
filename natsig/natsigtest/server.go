// Package natsigtest runs NATS servers with JetStream inside a test, on
// loopback ports, for tests of code built on package natsig: one server
// (Start) or a cluster of them (StartCluster).
package natsigtest

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Server is an embedded nats-server with JetStream enabled, storing its
// streams in a directory that survives Restart.
type Server struct {
	tb   testing.TB
	mu   sync.Mutex
	opts server.Options
	srv  *server.Server
}

// Start starts a server on 127.0.0.1 and a free port, storing in
// tb.TempDir(), and shuts it down when the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{tb: tb, opts: server.Options{
		Host:               "127.0.0.1",
		Port:               server.RANDOM_PORT,
		JetStream:          true,
		StoreDir:           tb.TempDir(),
		JetStreamMaxMemory: 64 << 20,
		JetStreamMaxStore:  256 << 20,
		NoLog:              true,
		NoSigs:             true,
	}}
	s.start()
	tb.Cleanup(s.Shutdown)
	return s
}

func (s *Server) start() {
	s.tb.Helper()
	if err := s.startNoFatal(); err != nil {
		s.tb.Fatalf("natsigtest: %v", err)
	}
}

// startNoFatal starts the server; it may run on any goroutine.
func (s *Server) startNoFatal() error {
	opts := s.opts // NewServer keeps and modifies its argument
	srv, err := server.NewServer(&opts)
	if err != nil {
		return err
	}
	srv.Start()
	if !srv.ReadyForConnections(20 * time.Second) {
		srv.Shutdown()
		return fmt.Errorf("server %s is not ready after 20s", s.opts.ServerName)
	}
	if s.opts.Port == server.RANDOM_PORT {
		s.opts.Port = srv.Addr().(*net.TCPAddr).Port
	}
	s.srv = srv
	return nil
}

// URL returns the server's client URL.
func (s *Server) URL() string {
	return fmt.Sprintf("nats://%s:%d", s.opts.Host, s.opts.Port)
}

// Shutdown stops the server; the store stays for Restart. It is idempotent.
func (s *Server) Shutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.srv.Shutdown()
		s.srv.WaitForShutdown()
		s.srv = nil
	}
}

// Restart shuts the server down if it runs, and starts it again on the same
// port with the same store.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Shutdown()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.start()
}

// Running reports whether the server runs.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv != nil
}

// Name returns the server's name (empty for a server started by Start).
func (s *Server) Name() string { return s.opts.ServerName }

// with calls fn with the running server, and returns false if it is down.
func (s *Server) with(fn func(*server.Server)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return false
	}
	fn(s.srv)
	return true
}

// Connect returns a connection to the server that reconnects forever, and
// fast, closed when the test ends.
func (s *Server) Connect(opts ...nats.Option) *nats.Conn {
	s.tb.Helper()
	nc, err := nats.Connect(s.URL(), append([]nats.Option{
		nats.MaxReconnects(-1),
		nats.ReconnectWait(20 * time.Millisecond),
		nats.ReconnectJitter(10*time.Millisecond, 10*time.Millisecond),
	}, opts...)...)
	if err != nil {
		s.tb.Fatalf("natsigtest: connect: %v", err)
	}
	s.tb.Cleanup(nc.Close)
	return nc
}
