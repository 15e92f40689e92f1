package store

import (
	"crypto/rand"
	"errors"
	"testing"
	"time"
)

func TestPutRollupMovesForward(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	at := func(h int) time.Time { return time.Date(2026, 8, 4, h, 0, 0, 0, time.UTC) }
	r := func(h int, body string) Rollup {
		return Rollup{Day: "2026-08-03", Dimension: "all", ComputedAt: at(h), Cases: h, Body: []byte(body)}
	}
	steps := []struct {
		name     string
		r        Rollup
		before   time.Time
		want     bool
		wantBody string // stored afterwards
	}{
		{"the first", r(10, `{"v":10}`), time.Time{}, true, `{"v":10}`},
		{"the same computation again", r(10, `{"v":10}`), time.Time{}, false, `{"v":10}`},
		{"an older one", r(9, `{"v":9}`), time.Time{}, false, `{"v":10}`},
		{"a newer one", r(11, `{"v":11}`), time.Time{}, true, `{"v":11}`},
		{"newer, but the stored one is after before", r(12, `{"v":12}`), at(11), false, `{"v":11}`},
		{"newer, the stored one before before", r(13, `{"v":13}`), at(12), true, `{"v":13}`},
		{"before later than the computation counts as the computation", r(13, `{"v":13b}`), at(20), false, `{"v":13}`},
	}
	for _, st := range steps {
		won, err := s.PutRollup(ctx, st.r, st.before)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if won != st.want {
			t.Errorf("%s: wrote %v, want %v", st.name, won, st.want)
		}
		got, err := s.ListRollups(ctx, "all", "2026-08-03", "2026-08-03", true)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || string(got[0].Body) != st.wantBody {
			t.Fatalf("%s: stored %+v, want body %s", st.name, got, st.wantBody)
		}
	}
}

func TestListRollups(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	computed := time.Date(2026, 8, 9, 3, 4, 5, 6, time.UTC)
	for _, r := range []Rollup{
		{Day: "2026-07-31", Dimension: "agent", ComputedAt: computed, Body: []byte("a")},
		{Day: "2026-08-01", Dimension: "agent", ComputedAt: computed, Final: true, Cases: 12, Body: []byte(`{"groups":{}}`)},
		{Day: "2026-08-02", Dimension: "agent", ComputedAt: computed, Body: []byte("c")},
		{Day: "2026-08-01", Dimension: "lang", ComputedAt: computed, Body: []byte("other dimension")},
	} {
		if _, err := s.PutRollup(ctx, r, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ListRollups(ctx, "agent", "2026-08-01", "2026-08-31", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Day != "2026-08-01" || got[1].Day != "2026-08-02" {
		t.Fatalf("roll-ups %+v, want 2026-08-01 and 2026-08-02", got)
	}
	if r := got[0]; r.Dimension != "agent" || !r.ComputedAt.Equal(computed) || !r.Final || r.Cases != 12 || string(r.Body) != `{"groups":{}}` {
		t.Errorf("first roll-up %+v", r)
	}
	if got[1].Final || string(got[1].Body) != "c" {
		t.Errorf("second roll-up %+v", got[1])
	}
	bare, err := s.ListRollups(ctx, "agent", "2026-07-31", "2026-07-31", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(bare) != 1 || bare[0].Body != nil || !bare[0].ComputedAt.Equal(computed) {
		t.Errorf("without bodies: %+v", bare)
	}
	none, err := s.ListRollups(ctx, "intent", "2026-08-01", "2026-08-31", true)
	if err != nil || len(none) != 0 {
		t.Errorf("a dimension never rolled up: %+v, %v", none, err)
	}
}

func TestPutRollupRefuses(t *testing.T) {
	s, _ := newStore(t)
	big := make([]byte, 400<<10)
	rand.Read(big) // incompressible
	at := time.Date(2026, 8, 4, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		r    Rollup
		is   error
	}{
		{"too large", Rollup{Day: "2026-08-03", Dimension: "all", ComputedAt: at, Body: big}, ErrRollupTooLarge},
		{"no day", Rollup{Dimension: "all", ComputedAt: at}, nil},
		{"not a day", Rollup{Day: "3 Aug", Dimension: "all", ComputedAt: at}, nil},
		{"no dimension", Rollup{Day: "2026-08-03", ComputedAt: at}, nil},
		{"no time", Rollup{Day: "2026-08-03", Dimension: "all"}, nil},
	}
	for _, tt := range tests {
		won, err := s.PutRollup(t.Context(), tt.r, time.Time{})
		if err == nil || won || (tt.is != nil && !errors.Is(err, tt.is)) {
			t.Errorf("%s: wrote %v, error %v", tt.name, won, err)
		}
	}
}
