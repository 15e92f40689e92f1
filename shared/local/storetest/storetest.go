// Package storetest runs a test binary's tests against one local DynamoDB
// (dynalite, started by Main from TestMain), each test on a fresh table of its
// own (New), so that tests run in parallel without seeing each other's items.
package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pajarito-care/pajarito/shared/dynalite"
	"github.com/pajarito-care/pajarito/shared/store"
)

var (
	client *dynamodb.Client
	tables atomic.Int64
)

// Main is a test binary's TestMain body: it starts dynalite, runs the tests,
// stops it and returns the exit code (dynalite.RunTests):
//
//	func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
func Main(m *testing.M) int {
	return dynalite.RunTests(m, func(endpoint string) (err error) {
		client, err = store.NewClient(context.Background(), endpoint)
		return err
	})
}

// Client returns the client of the binary's dynalite, for tests that build a
// store of their own (a table that does not exist, say).
func Client() *dynamodb.Client { return client }

// New returns a store on a fresh, empty table.
func New(t testing.TB) *store.Store {
	t.Helper()
	if client == nil {
		t.Fatal("storetest: no local DynamoDB: call os.Exit(storetest.Main(m)) from TestMain")
	}
	s := store.New(client, fmt.Sprintf("test-%d", tables.Add(1)))
	if err := s.CreateTable(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}
