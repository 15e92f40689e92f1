package store

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
)

func intp(n int) *int { return &n }

func TestSetTriage(t *testing.T) {
	s, _ := newStore(t)
	id := xid(3000)
	caseID := mustAppend(t, s, post(id, id, "", t0), "").CaseID

	c, err := s.SetTriage(t.Context(), caseID, care.Triage{Priority: intp(700), Department: "billing", Intent: "complaint", Sentiment: "negative", CrisisTopic: "delays"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Priority != 700 || c.Department != "billing" || c.Intent != "complaint" || c.Sentiment != "negative" || c.CrisisTopic != "delays" {
		t.Fatalf("after SetTriage: %+v", c)
	}
	// Empty fields leave the case's values; the crisis topic is kept.
	c, err = s.SetTriage(t.Context(), caseID, care.Triage{Intent: "incident"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Priority != 700 || c.Department != "billing" || c.Intent != "incident" || c.Sentiment != "negative" || c.CrisisTopic != "delays" {
		t.Fatalf("after a partial SetTriage: %+v", c)
	}

	// An agent overrides priority and intent: the protocol leaves those alone and
	// still sets the others.
	c, err = s.OverrideTriage(t.Context(), caseID, care.Triage{Priority: intp(100), Intent: "question"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Priority != 100 || c.Intent != "question" || !sameSet(c.Overridden, []string{care.FieldPriority, care.FieldIntent}) {
		t.Fatalf("after OverrideTriage: %+v", c)
	}
	c, err = s.SetTriage(t.Context(), caseID, care.Triage{Priority: intp(900), Department: "bookings", Intent: "complaint", Sentiment: "neutral"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Priority != 100 || c.Intent != "question" || c.Department != "bookings" || c.Sentiment != "neutral" {
		t.Fatalf("the protocol undid an agent's override: %+v", c)
	}
	if _, err := s.SetPriority(t.Context(), caseID, 999, ""); err != nil {
		t.Fatal(err)
	}
	// The queue index follows the agent's priority.
	list, _, err := s.ListCases(t.Context(), ListQuery{MinPriority: 101})
	if err != nil || len(list) != 0 {
		t.Errorf("queue above 100 = %+v, %v; want none", list, err)
	}
	list, _, err = s.ListCases(t.Context(), ListQuery{MinPriority: 100})
	if err != nil || len(list) != 1 || list[0].Intent != "question" {
		t.Errorf("queue from 100 = %+v, %v", list, err)
	}

	// Overriding more fields adds to Overridden.
	c, err = s.OverrideTriage(t.Context(), caseID, care.Triage{Department: "sales"})
	if err != nil || !sameSet(c.Overridden, []string{care.FieldPriority, care.FieldIntent, care.FieldDepartment}) || c.Department != "sales" {
		t.Fatalf("second override: %+v, %v", c, err)
	}

	bad := []struct {
		name string
		t    care.Triage
	}{
		{"priority above 999", care.Triage{Priority: intp(1000)}},
		{"negative priority", care.Triage{Priority: intp(-1)}},
		{"crisis topic", care.Triage{CrisisTopic: "delays"}},
		{"nothing", care.Triage{}},
	}
	for _, b := range bad {
		if _, err := s.OverrideTriage(t.Context(), caseID, b.t); err == nil {
			t.Errorf("%s: accepted", b.name)
		}
	}
	if _, err := s.OverrideTriage(t.Context(), "t1", care.Triage{Intent: "question"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown case: %v", err)
	}
}

// TestOverrideRacesProtocol runs the protocol's triage and agents' overrides at
// once: whatever the interleaving, the agents' values stand.
func TestOverrideRacesProtocol(t *testing.T) {
	s, _ := newStore(t)
	id := xid(3100)
	caseID := mustAppend(t, s, post(id, id, "", t0), "").CaseID
	// 4 protocol writers and 2 agents: each lost race is a write that won, so no
	// writer loses maxRaces times.
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			if _, err := s.SetTriage(t.Context(), caseID, care.Triage{Priority: intp(600 + i), Intent: "complaint", Sentiment: "negative"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Go(func() {
		if _, err := s.OverrideTriage(t.Context(), caseID, care.Triage{Intent: "praise"}); err != nil {
			t.Error(err)
		}
	})
	wg.Go(func() {
		if _, err := s.OverrideTriage(t.Context(), caseID, care.Triage{Sentiment: "positive"}); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	c, _ := mustGet(t, s, caseID)
	if c.Intent != "praise" || c.Sentiment != "positive" || !sameSet(c.Overridden, []string{care.FieldIntent, care.FieldSentiment}) {
		t.Errorf("after the race: intent %q sentiment %q overridden %v", c.Intent, c.Sentiment, c.Overridden)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestSetStatusKeepsAssignment(t *testing.T) {
	s, _ := newStore(t)
	id := xid(3200)
	caseID := mustAppend(t, s, post(id, id, "", t0), "").CaseID
	if _, err := s.Assign(t.Context(), caseID, Assignment{To: "a1", ToName: "Ana", By: "a1"}); err != nil {
		t.Fatal(err)
	}
	c, err := s.SetStatus(t.Context(), caseID, care.Resolved, t0.Add(time.Hour))
	if err != nil || c.Assignee != "a1" || c.Status != care.Resolved {
		t.Fatalf("resolved: %+v, %v", c, err)
	}
	list, _, err := s.ListCases(t.Context(), ListQuery{Status: care.Resolved, Assignee: "a1"})
	if err != nil || len(list) != 1 || list[0].AssigneeName != "Ana" {
		t.Errorf("resolved cases of a1 = %+v, %v", list, err)
	}
}
