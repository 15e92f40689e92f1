package storetest_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/storetest"
	"github.com/pajarito-care/pajarito/shared/store"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// TestNewIsFresh: each store has a table of its own, empty.
func TestNewIsFresh(t *testing.T) {
	a, b := storetest.New(t), storetest.New(t)
	if a.Table == b.Table {
		t.Fatalf("two stores share table %s", a.Table)
	}
	at := time.Date(2026, 8, 3, 10, 0, 0, 0, time.UTC)
	env := &care.Envelope{Version: care.EnvelopeVersion, Kind: care.KindMessage, Source: care.SourceXAA, ReceivedAt: at,
		Message: &care.Message{Channel: care.Public, Direction: care.Inbound, ID: "1820000000000000001", AuthorID: "2900000000000000001",
			Text: "@PajaritoAir hola", CreatedAt: at, ConversationID: "1820000000000000001", Summoned: true}}
	res, err := a.Append(t.Context(), env, "sqs-1")
	if err != nil || !res.Stored() {
		t.Fatalf("append: %+v, %v", res, err)
	}
	if _, err := b.GetCaseItem(t.Context(), res.CaseID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the other store sees case %s: %v", res.CaseID, err)
	}
	if storetest.Client(t) == nil {
		t.Error("no client")
	}
}
