package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
)

// Assignment is held on the case item (care.Case's assignee, assignee_name,
// assigned_by, assigned_at; assignee and assignee_name are projected into GSI1, so
// that the queue shows and filters who holds a case). It changes by a single
// conditional update on the assignee the caller expects: of agents claiming the
// same case at once, exactly one wins.

// ErrAssigned is returned (wrapped, by an *AssignedError) when a case is not held by
// the agent the caller expected.
var ErrAssigned = errors.New("the case is held by another agent")

// AssignedError says who holds a case.
type AssignedError struct {
	CaseID string
	// Assignee holds the case ("" : nobody), AssigneeName is their name.
	Assignee     string
	AssigneeName string
}

func (e *AssignedError) Error() string {
	if e.Assignee == "" {
		return fmt.Sprintf("case %s is held by nobody", e.CaseID)
	}
	return fmt.Sprintf("case %s is held by %s", e.CaseID, e.Assignee)
}

// Unwrap makes errors.Is(err, ErrAssigned) true.
func (e *AssignedError) Unwrap() error { return ErrAssigned }

// Assignment is a change of who holds a case.
type Assignment struct {
	// From is the agent who must hold the case for the change to happen; "" means
	// nobody may hold it.
	From string
	// To is the agent who gets the case, ToName their display name; To "" releases
	// it (then From must be set).
	To, ToName string
	// By is the agent making the change; At is when (zero: now).
	By string
	At time.Time
}

// Assign changes who holds a case, on condition that it is held by a.From: a claim
// is {From: "", To: me}, a hand-over {From: holder, To: other}, a release {From:
// holder, To: ""}. When the case is already where a sends it (held by a.To, or by
// nobody for a release) nothing is written and the case is returned as it is, so
// that repeating a request is harmless. Otherwise, when another agent holds it, the
// error is an *AssignedError (ErrAssigned) naming them; an unknown case yields
// ErrNotFound. It returns the case as updated.
func (s *Store) Assign(ctx context.Context, caseID string, a Assignment) (*care.Case, error) {
	if a.To == "" && a.From == "" {
		return nil, fmt.Errorf("store: assign case %s: a release needs the agent who holds the case", caseID)
	}
	for _, id := range []string{a.From, a.To, a.By} {
		if id == "" {
			continue
		}
		if err := checkAgentID(id); err != nil {
			return nil, fmt.Errorf("store: assign case %s: %w", caseID, err)
		}
	}
	at := a.At
	if at.IsZero() {
		at = s.now()
	}
	for range maxRaces {
		e := newExpr()
		assignee := e.name("assignee")
		cond := "attribute_exists(" + KeyPK + ") AND "
		if a.From == "" {
			cond += "attribute_not_exists(" + assignee + ")"
		} else {
			cond += assignee + " = " + e.value(str(a.From))
		}
		if a.To == "" {
			for _, attr := range []string{"assignee", "assignee_name", "assigned_by", "assigned_at"} {
				e.remove(attr)
			}
		} else {
			e.set("assignee", str(a.To))
			if a.ToName != "" {
				e.set("assignee_name", str(a.ToName))
			} else {
				e.remove("assignee_name")
			}
			e.set("assigned_by", str(a.By))
			e.set("assigned_at", str(stamp(at)))
		}
		e.set("updated_at", str(stamp(s.now())))
		var mt meter
		after, err := s.update(ctx, &mt, e.input(caseKey(caseID), cond), nil, true)
		if err != nil {
			return nil, fmt.Errorf("store: assign case %s: %w", caseID, err)
		}
		if after != nil {
			var rec caseRecord
			if err := unmarshal(after, &rec); err != nil {
				return nil, fmt.Errorf("store: assign case %s: decode: %w", caseID, err)
			}
			return &rec.Case, nil
		}
		// The condition failed: the case is missing, already where a sends it, or
		// held by someone else; or it changed hands since (then try again).
		item, err := s.get(ctx, caseKey(caseID))
		if err != nil {
			return nil, fmt.Errorf("store: assign case %s: %w", caseID, err)
		}
		if item == nil {
			return nil, fmt.Errorf("store: assign case %s: %w", caseID, ErrNotFound)
		}
		var rec caseRecord
		if err := unmarshal(item, &rec); err != nil {
			return nil, fmt.Errorf("store: assign case %s: decode: %w", caseID, err)
		}
		switch rec.Assignee {
		case a.To:
			return &rec.Case, nil
		case a.From:
			continue // it was released or handed back meanwhile
		}
		return nil, &AssignedError{CaseID: caseID, Assignee: rec.Assignee, AssigneeName: rec.AssigneeName}
	}
	return nil, fmt.Errorf("store: assign case %s: lost %d races with concurrent writers", caseID, maxRaces)
}
