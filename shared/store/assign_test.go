package store

import (
	"errors"
	"strconv"
	"sync"
	"testing"
)

func TestAssign(t *testing.T) {
	s, _ := newStore(t)
	id := xid(3300)
	caseID := mustAppend(t, s, post(id, id, "", t0), "").CaseID

	// Each step runs on the case as the previous steps left it.
	steps := []struct {
		name     string
		a        Assignment
		holder   string // "" : nobody, after the step
		heldBy   string // when the step is refused: who holds the case
		refused  bool
		notFound bool
	}{
		{name: "ana claims", a: Assignment{To: "ana", ToName: "Ana", By: "ana"}, holder: "ana"},
		{name: "ana claims again", a: Assignment{To: "ana", ToName: "Ana", By: "ana"}, holder: "ana"},
		{name: "ben claims", a: Assignment{To: "ben", By: "ben"}, holder: "ana", refused: true, heldBy: "ana"},
		{name: "ben releases a case he does not hold", a: Assignment{From: "ben", By: "ben"}, holder: "ana", refused: true, heldBy: "ana"},
		{name: "a supervisor hands it from ana to ben", a: Assignment{From: "ana", To: "ben", ToName: "Ben", By: "sup"}, holder: "ben"},
		{name: "a stale hand-over from ana", a: Assignment{From: "ana", To: "cam", By: "sup"}, holder: "ben", refused: true, heldBy: "ben"},
		{name: "ben releases it", a: Assignment{From: "ben", By: "ben"}, holder: ""},
		{name: "releasing again", a: Assignment{From: "ben", By: "ben"}, holder: ""},
		{name: "a hand-over from somebody when nobody holds it", a: Assignment{From: "ben", To: "cam", By: "sup"}, holder: "", refused: true, heldBy: ""},
		{name: "assigning to cam when nobody holds it", a: Assignment{To: "cam", ToName: "Cam", By: "sup"}, holder: "cam"},
	}
	for _, st := range steps {
		c, err := s.Assign(t.Context(), caseID, st.a)
		var ae *AssignedError
		switch {
		case st.refused:
			if !errors.As(err, &ae) || !errors.Is(err, ErrAssigned) || ae.Assignee != st.heldBy || ae.CaseID != caseID {
				t.Fatalf("%s: error %v, want an AssignedError naming %q", st.name, err, st.heldBy)
			}
		case err != nil:
			t.Fatalf("%s: %v", st.name, err)
		case c.Assignee != st.holder:
			t.Fatalf("%s: assignee %q, want %q", st.name, c.Assignee, st.holder)
		}
		got, _ := mustGet(t, s, caseID)
		if got.Assignee != st.holder {
			t.Fatalf("%s: stored assignee %q, want %q", st.name, got.Assignee, st.holder)
		}
		if st.holder == "" && (got.AssigneeName != "" || got.AssignedAt != nil || got.AssignedBy != "") {
			t.Fatalf("%s: released case keeps %+v", st.name, got)
		}
	}
	c, _ := mustGet(t, s, caseID)
	if c.AssigneeName != "Cam" || c.AssignedBy != "sup" || c.AssignedAt == nil {
		t.Errorf("assignment = %q %q %v", c.AssigneeName, c.AssignedBy, c.AssignedAt)
	}

	if _, err := s.Assign(t.Context(), "t1", Assignment{To: "ana", By: "ana"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown case: %v", err)
	}
	if _, err := s.Assign(t.Context(), caseID, Assignment{By: "ana"}); err == nil {
		t.Error("a release naming nobody accepted")
	}
}

func TestAssignConcurrentClaims(t *testing.T) {
	s, _ := newStore(t)
	id := xid(3400)
	caseID := mustAppend(t, s, post(id, id, "", t0), "").CaseID
	const n = 8
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []string
		losers  []*AssignedError
	)
	for i := range n {
		agent := "agent-" + strconv.Itoa(i)
		wg.Go(func() {
			c, err := s.Assign(t.Context(), caseID, Assignment{To: agent, By: agent})
			mu.Lock()
			defer mu.Unlock()
			var ae *AssignedError
			switch {
			case err == nil && c.Assignee == agent:
				winners = append(winners, agent)
			case errors.As(err, &ae):
				losers = append(losers, ae)
			default:
				t.Errorf("%s: %+v, %v", agent, c, err)
			}
		})
	}
	wg.Wait()
	if len(winners) != 1 || len(losers) != n-1 {
		t.Fatalf("%d winners %v and %d losers, want 1 and %d", len(winners), winners, len(losers), n-1)
	}
	for _, l := range losers {
		if l.Assignee != winners[0] {
			t.Errorf("a loser was told %q holds the case, want %q", l.Assignee, winners[0])
		}
	}
}
