// Package storetest runs a test binary's tests against one local DynamoDB
// (dynalite), each test on a fresh table of its own (New), so that tests run in
// parallel without seeing each other's items. Dynalite starts with the first
// test that asks for a store, not before: the binary's tests that need none run
// without it (and without Node.js); Main stops it when the tests end.
package storetest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pajarito-care/pajarito/shared/local/dynalite"
	"github.com/pajarito-care/pajarito/shared/store"
)

var (
	mainRan bool // Main runs the binary's tests
	tables  atomic.Int64

	startOnce sync.Once
	server    *dynalite.Server
	client    *dynamodb.Client
	startErr  error
)

// Main is a test binary's TestMain body: it runs the tests, stops the local
// DynamoDB if one of them started it, and returns the exit code:
//
//	func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
func Main(m *testing.M) int {
	mainRan = true
	code := m.Run()
	if server != nil {
		if err := server.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "storetest:", err)
		}
	}
	return code
}

// start starts the binary's dynalite, once.
func start() {
	startOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		server, startErr = dynalite.Start(ctx, dynalite.Options{})
		if startErr != nil {
			startErr = fmt.Errorf("storetest: this test needs a local DynamoDB (Node.js and `npm ci` at the repository root): %w", startErr)
			return
		}
		client, startErr = store.NewClient(ctx, server.Endpoint)
	})
}

// Client returns the client of the binary's dynalite, for tests that build a
// store of their own (a table that does not exist, say).
func Client(t testing.TB) *dynamodb.Client {
	t.Helper()
	if !mainRan {
		t.Fatal("storetest: no local DynamoDB: call os.Exit(storetest.Main(m)) from TestMain")
	}
	if start(); startErr != nil {
		t.Fatal(startErr)
	}
	return client
}

// New returns a store on a fresh, empty table.
func New(t testing.TB) *store.Store {
	t.Helper()
	s := store.New(Client(t), fmt.Sprintf("test-%d", tables.Add(1)))
	if err := s.CreateTable(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}
