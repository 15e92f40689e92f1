package store

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
)

func TestGetCaseItem(t *testing.T) {
	s, _ := newStore(t)
	id := mustAppend(t, s, post(xid(1), xid(1), "", t0), "sqs-1").CaseID
	mustAppend(t, s, post(xid(2), xid(1), xid(1), t0.Add(time.Minute)), "sqs-2")
	full, _ := mustGet(t, s, id)
	got, err := s.GetCaseItem(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, full) {
		t.Errorf("GetCaseItem =\n%+v\nGetCase =\n%+v", got, full)
	}
	if _, err := s.GetCaseItem(t.Context(), "t404"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown case: %v, want ErrNotFound", err)
	}
}

// Escalate marks an open case without a first response once, whoever else tries
// at the same time; the mark survives later messages and is never set on a case
// answered, resolved or unknown.
func TestEscalate(t *testing.T) {
	ctx := t.Context()
	s, clk := newStore(t)
	id := mustAppend(t, s, post(xid(1), xid(1), "", t0), "sqs-1").CaseID
	at := t0.Add(2 * time.Hour)

	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		won int
	)
	for range 8 {
		wg.Go(func() {
			ok, err := s.Escalate(ctx, id, at)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d of 8 concurrent escalations won, want 1", won)
	}
	c, _ := mustGet(t, s, id)
	if c.EscalatedAt == nil || !c.EscalatedAt.Equal(at) || !c.UpdatedAt.Equal(clk.Now()) {
		t.Fatalf("escalated case: escalated_at %v, updated_at %v", c.EscalatedAt, c.UpdatedAt)
	}
	if ok, err := s.Escalate(ctx, id, at.Add(time.Minute)); ok || err != nil {
		t.Errorf("second escalation = %v, %v; want false", ok, err)
	}
	// The queue still lists it as before (escalated_at is not in the index).
	cases, _, err := s.ListCases(ctx, ListQuery{})
	if err != nil || len(cases) != 1 || cases[0].ID != id || !cases[0].WaitingSince.Equal(t0) {
		t.Errorf("queue after the escalation: %+v, %v", cases, err)
	}

	// The customer writes again, then the brand answers: the mark stays.
	mustAppend(t, s, post(xid(2), xid(1), xid(1), t0.Add(3*time.Hour)), "sqs-2")
	mustAppend(t, s, reply(xid(3), xid(1), xid(2), t0.Add(4*time.Hour)), "sqs-3")
	c, _ = mustGet(t, s, id)
	if c.EscalatedAt == nil || !c.EscalatedAt.Equal(at) || c.FirstResponseAt == nil || c.Status != care.Pending {
		t.Errorf("answered case: status %s, escalated_at %v, first_response_at %v", c.Status, c.EscalatedAt, c.FirstResponseAt)
	}

	// Never on an answered case (reopened by the customer, still answered once),
	// a resolved one, or an unknown one.
	answered := mustAppend(t, s, post(xid(10), xid(10), "", t0), "sqs-10").CaseID
	mustAppend(t, s, reply(xid(11), xid(10), xid(10), t0.Add(time.Hour)), "sqs-11")
	mustAppend(t, s, post(xid(12), xid(10), xid(11), t0.Add(2*time.Hour)), "sqs-12")
	resolved := mustAppend(t, s, dm(xid(20), other, true, t0), "sqs-20").CaseID
	if _, err := s.SetStatus(ctx, resolved, care.Resolved, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{answered, resolved, "t404"} {
		if ok, err := s.Escalate(ctx, id, at); ok || err != nil {
			t.Errorf("Escalate(%s) = %v, %v; want false", id, ok, err)
		}
	}
	for _, id := range []string{answered, resolved} {
		if c, err := s.GetCaseItem(ctx, id); err != nil || c.EscalatedAt != nil {
			t.Errorf("case %s: escalated_at %v (%v)", id, c.EscalatedAt, err)
		}
	}
}

// ClearEscalation takes back only the mark it is given, and the case can then be
// escalated again.
func TestClearEscalation(t *testing.T) {
	ctx := t.Context()
	s, _ := newStore(t)
	id := mustAppend(t, s, dm(xid(1), customer, true, t0), "sqs-1").CaseID
	at := t0.Add(2 * time.Hour)
	if ok, err := s.ClearEscalation(ctx, id, at); ok || err != nil {
		t.Errorf("clearing a case never escalated = %v, %v", ok, err)
	}
	if ok, err := s.Escalate(ctx, id, at); !ok || err != nil {
		t.Fatalf("Escalate = %v, %v", ok, err)
	}
	if ok, err := s.ClearEscalation(ctx, id, at.Add(time.Second)); ok || err != nil {
		t.Errorf("clearing another run's mark = %v, %v; want false", ok, err)
	}
	if ok, err := s.ClearEscalation(ctx, id, at); !ok || err != nil {
		t.Errorf("ClearEscalation = %v, %v", ok, err)
	}
	if c, _ := s.GetCaseItem(ctx, id); c.EscalatedAt != nil {
		t.Errorf("escalated_at %v after clearing", c.EscalatedAt)
	}
	later := at.Add(time.Minute)
	if ok, err := s.Escalate(ctx, id, later); !ok || err != nil {
		t.Errorf("escalating again = %v, %v", ok, err)
	}
	if c, _ := s.GetCaseItem(ctx, id); c.EscalatedAt == nil || !c.EscalatedAt.Equal(later) {
		t.Errorf("escalated_at %v, want %s", c.EscalatedAt, later)
	}
}
