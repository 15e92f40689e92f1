// Package dynalitetest runs a test binary's tests against one local DynamoDB
// (package dynalite), started from TestMain. It is apart from package dynalite so
// that what runs dynalite outside tests (pajarito dev) does not link package
// testing.
package dynalitetest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/local/dynalite"
)

// RunTests is a test binary's TestMain body for tests that share one dynalite: it
// starts it, calls ready with its endpoint (to build clients), runs the tests,
// stops it, and returns the exit code. A dynalite that cannot start fails the
// binary with a message saying what to install.
func RunTests(m *testing.M, ready func(endpoint string) error) int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	srv, err := dynalite.Start(ctx, dynalite.Options{})
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "these tests need a local DynamoDB (Node.js and `npm ci` at the repository root): %v\n", err)
		return 1
	}
	defer func() {
		if err := srv.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	if err := ready(srv.Endpoint); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}
