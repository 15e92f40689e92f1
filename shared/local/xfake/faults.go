package xfake

import (
	"net"
	"net/http"
)

// Network faults: the connection of a request is reset (TCP RST, no answer), as
// when a load balancer or the network drops it. Two moments matter to a client
// that writes: before X acted on the request (ResetNext: nothing was created) and
// after (LoseAnswerNext: the post or DM exists, but its answer never arrives).
// Both apply to the next requests to any endpoint, after the authentication
// check, and are counted by Calls like any request. A request that
// Go's http.Transport may replay by itself (a GET on a reused connection) can
// spend more than one of them.

// connFaults are the armed network faults. s.mu guards them.
type connFaults struct {
	reset, lose int
}

type connFault int

const (
	faultNone connFault = iota
	faultReset
	faultLoseAnswer
)

// ResetNext makes the fake reset the connection of the next n requests without
// acting on them or answering (n <= 0 disarms it).
func (s *Server) ResetNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns.reset = max(n, 0)
}

// LoseAnswerNext makes the fake act on the next n requests as usual (a post or DM
// is created and recorded by Posted) and then reset their connection instead of
// answering (n <= 0 disarms it): the client cannot tell whether X did it.
func (s *Server) LoseAnswerNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns.lose = max(n, 0)
}

// connFault takes the network fault of the request starting now, if one is armed.
func (s *Server) connFault() connFault {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.conns.reset > 0:
		s.conns.reset--
		return faultReset
	case s.conns.lose > 0:
		s.conns.lose--
		return faultLoseAnswer
	}
	return faultNone
}

// resetConnection drops the request's connection with a TCP reset and no answer.
// A server whose connections cannot be taken over (HTTP/2) aborts the answer
// instead.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0) // close with RST, not FIN
	}
	_ = conn.Close()
}

// lostAnswer is a ResponseWriter whose answer goes nowhere.
type lostAnswer struct{ h http.Header }

func newLostAnswer() *lostAnswer { return &lostAnswer{h: http.Header{}} }

func (l *lostAnswer) Header() http.Header         { return l.h }
func (l *lostAnswer) Write(b []byte) (int, error) { return len(b), nil }
func (l *lostAnswer) WriteHeader(int)             {}
