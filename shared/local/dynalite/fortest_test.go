package dynalite

import (
	"context"
	"testing"
)

// ForTest starts an in-memory dynalite for a test and stops it when the test ends.
// It fails the test (it never skips) when Node.js or dynalite is missing: the
// message says to run `npm ci`.
func ForTest(tb testing.TB) *Server {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), defaultStartTimeout)
	defer cancel()
	s, err := Start(ctx, Options{})
	if err != nil {
		tb.Fatalf("local DynamoDB for tests: %v (tests need Node.js and `npm ci` at the repository root)", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("stop dynalite: %v", err)
		}
	})
	return s
}
