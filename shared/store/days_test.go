package store

import (
	"slices"
	"testing"
	"time"
)

func TestCaseDays(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	// Madrid's 3 August 2026 is [2 Aug 22:00 UTC, 3 Aug 22:00 UTC): two UTC days.
	from := time.Date(2026, 8, 2, 22, 0, 0, 0, time.UTC)
	to := from.Add(24 * time.Hour)
	cases := []CaseDay{
		{"t1", from.Add(-time.Nanosecond)},                  // the day before: out
		{"t2", from},                                        // the first instant: in
		{"t3", from.Add(90 * time.Minute)},                  // 2 Aug 23:30 UTC: in
		{"d4", time.Date(2026, 8, 3, 0, 0, 0, 0, time.UTC)}, // in, next UTC partition
		{"t5", to.Add(-time.Nanosecond)},                    // the last instant: in
		{"t6", to},                                          // the next day: out
	}
	for _, c := range cases {
		if err := s.RecordCaseDay(ctx, c.CaseID, c.CreatedAt); err != nil {
			t.Fatal(err)
		}
	}
	// Recording again is harmless.
	if err := s.RecordCaseDay(ctx, "t3", cases[2].CreatedAt); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		from, to time.Time
		want     []string
	}{
		{"a local day over two UTC days", from, to, []string{"t2", "t3", "d4", "t5"}},
		{"one UTC day", time.Date(2026, 8, 3, 0, 0, 0, 0, time.UTC), time.Date(2026, 8, 4, 0, 0, 0, 0, time.UTC), []string{"d4", "t5", "t6"}},
		{"three days", from.Add(-time.Hour), to.Add(time.Hour), []string{"t1", "t2", "t3", "d4", "t5", "t6"}},
		{"an empty range", from, from, nil},
		{"a day without cases", from.Add(-72 * time.Hour), from.Add(-48 * time.Hour), nil},
		{"zones are instants", from.In(time.FixedZone("CEST", 2*3600)), to.In(time.FixedZone("CEST", 2*3600)), []string{"t2", "t3", "d4", "t5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.CaseDays(ctx, tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, c := range got {
				ids = append(ids, c.CaseID)
				want := slices.IndexFunc(cases, func(x CaseDay) bool { return x.CaseID == c.CaseID })
				if !c.CreatedAt.Equal(cases[want].CreatedAt) {
					t.Errorf("%s created at %v, want %v", c.CaseID, c.CreatedAt, cases[want].CreatedAt)
				}
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("cases %v, want %v", ids, tt.want)
			}
		})
	}
}

func TestRecordCaseDayOfAnAppendedCase(t *testing.T) {
	s, clk := newStore(t)
	res := mustAppend(t, s, post("1800000000000000001", "1800000000000000001", "", t0), "d1")
	if err := s.RecordCaseDay(t.Context(), res.CaseID, res.Case.CreatedAt); err != nil {
		t.Fatal(err)
	}
	got, err := s.CaseDays(t.Context(), clk.Now().Add(-time.Minute), clk.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].CaseID != res.CaseID || !got[0].CreatedAt.Equal(res.Case.CreatedAt) {
		t.Errorf("day index %+v, want case %s created at %v", got, res.CaseID, res.Case.CreatedAt)
	}
}

func TestRecordCaseDayNeedsItsKey(t *testing.T) {
	s, _ := newStore(t)
	for _, c := range []CaseDay{{"", t0}, {"t1", time.Time{}}} {
		if err := s.RecordCaseDay(t.Context(), c.CaseID, c.CreatedAt); err == nil {
			t.Errorf("RecordCaseDay(%q, %v): no error", c.CaseID, c.CreatedAt)
		}
	}
}
