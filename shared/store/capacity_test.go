package store

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The meter agrees with the store's own accounting of an append (package doc: 3
// write units for a message added to an existing case, 6 for a new case, none for
// a duplicate, found by reading its claim).
func TestCapacityMeter(t *testing.T) {
	s, _ := newStore(t)
	m := &CapacityMeter{API: s.Client}
	s.Client = m
	root := xid(7_000_000)
	for _, tc := range []struct {
		name      string
		append    func() AppendResult
		wantWrite float64
	}{
		{"new case", func() AppendResult { return mustAppend(t, s, post(root, root, "", t0), "d1") }, 6},
		{"existing case", func() AppendResult {
			return mustAppend(t, s, post(xid(7_000_001), root, root, t0.Add(time.Minute)), "d2")
		}, 3},
		{"duplicate", func() AppendResult {
			return mustAppend(t, s, post(xid(7_000_001), root, root, t0.Add(time.Minute)), "d3")
		}, 0},
	} {
		_, w0 := m.Units()
		res := tc.append()
		_, w1 := m.Units()
		if got := w1 - w0; got != tc.wantWrite {
			t.Errorf("%s: meter counted %v write units, want %v (the store's own count: %v)", tc.name, got, tc.wantWrite, res.WriteUnits)
		}
	}
	if r, _ := m.Units(); r <= 0 {
		t.Errorf("read units %v: the appends' reads were not counted", r)
	}
}

func TestItemSize(t *testing.T) {
	tests := []struct {
		name string
		item map[string]types.AttributeValue
		want int
	}{
		{"empty", nil, 0},
		{"string", map[string]types.AttributeValue{"PK": str("CASE#t1")}, 2 + 7},
		{"utf-8 string", map[string]types.AttributeValue{"text": str("ñandú")}, 4 + 7},
		{"binary", map[string]types.AttributeValue{"z1": &types.AttributeValueMemberB{Value: make([]byte, 400)}}, 2 + 400},
		{"numbers", map[string]types.AttributeValue{"a": num(0), "b": num(5), "c": num(561), "d": num(1200), "e": &types.AttributeValueMemberN{Value: "-0.950"}},
			5 + 1 + 2 + 3 + 2 + 2}, // significant digits "", "5", "561", "12", "95"
		{"bool and null", map[string]types.AttributeValue{"ok": &types.AttributeValueMemberBOOL{Value: true}, "no": &types.AttributeValueMemberNULL{Value: true}}, 2 + 1 + 2 + 1},
		{"list", map[string]types.AttributeValue{"counted": &types.AttributeValueMemberL{Value: []types.AttributeValue{str("18"), str("19")}}}, 7 + 3 + (1 + 2) + (1 + 2)},
		{"map", map[string]types.AttributeValue{"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": str("v")}}}, 1 + 3 + 1 + 1 + 1},
		{"string set", map[string]types.AttributeValue{"overridden": &types.AttributeValueMemberSS{Value: []string{"priority", "intent"}}}, 10 + 8 + 6},
	}
	for _, tt := range tests {
		if got := ItemSize(tt.item); got != tt.want {
			t.Errorf("%s: ItemSize = %d, want %d", tt.name, got, tt.want)
		}
	}
}
