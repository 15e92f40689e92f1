package store

import (
	"testing"
	"time"
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
