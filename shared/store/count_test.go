package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
)

func TestCountCases(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 7 {
		id := fmt.Sprintf("18200000000000%05d", i)
		r := mustAppend(t, s, post(id, id, "", at.Add(time.Duration(i)*time.Minute)), "d"+id)
		ids = append(ids, r.Case.ID)
	}
	for _, id := range ids[:2] {
		if _, err := s.SetStatus(ctx, id, care.Resolved, at.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		status care.Status
		want   int
	}{{care.Open, 5}, {care.Resolved, 2}, {care.Pending, 0}} {
		if n, err := s.CountCases(ctx, tc.status); err != nil || n != tc.want {
			t.Errorf("CountCases(%s) = %d, %v; want %d", tc.status, n, err, tc.want)
		}
	}
}
