package store

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A table made by an older version, whose queue index projects fewer attributes,
// is refused with what to do, not used with filters that match nothing.
func TestCreateTableRefusesAnOlderQueueIndex(t *testing.T) {
	s, _ := newStore(t) // a table of this version: accepted again
	if err := s.CreateTable(t.Context()); err != nil {
		t.Fatalf("CreateTable on this version's table: %v", err)
	}
	old := New(s.Client, s.Table+"-old")
	in := TableInput(old.Table)
	in.GlobalSecondaryIndexes[0].Projection = &types.Projection{
		ProjectionType:   types.ProjectionTypeInclude,
		NonKeyAttributes: QueueProjection()[:13], // before intent, crisis topic and assignee
	}
	if _, err := old.Client.CreateTable(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	err := old.CreateTable(t.Context())
	if err == nil || !strings.Contains(err.Error(), "older Pajarito") || !strings.Contains(err.Error(), "intent") || !strings.Contains(err.Error(), "--data") {
		t.Errorf("CreateTable on an older table: %v", err)
	}
}
