package store

import (
	"context"
	"fmt"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
)

// The first-response service level (package monitor) reads open cases from the
// agent queue (ListCases), then the case items of those past their due time
// (GetCaseItem: the queue index does not hold first_response_at), and marks each
// case escalated once: escalated_at on the case item, set by an update on
// condition that the case is open, has no first response and was not escalated
// (Escalate). Of concurrent monitors exactly one sets it, and none sets it on a
// case answered meanwhile. escalated_at is not in the queue index, so the update
// writes the case item only. When the escalation's alert cannot be sent, the
// monitor takes the mark back (ClearEscalation) so that a later run escalates
// again.

// GetCaseItem returns a case without its messages: one strongly consistent
// GetItem of the case item. It returns an error wrapping ErrNotFound when the
// case does not exist.
func (s *Store) GetCaseItem(ctx context.Context, id string) (*care.Case, error) {
	item, err := s.get(ctx, caseKey(id))
	if err != nil {
		return nil, fmt.Errorf("store: get case item %s: %w", id, err)
	}
	if item == nil {
		return nil, fmt.Errorf("store: get case item %s: %w", id, ErrNotFound)
	}
	var c care.Case
	if err := unmarshal(item, &c); err != nil {
		return nil, fmt.Errorf("store: get case item %s: decode: %w", id, err)
	}
	return &c, nil
}

// Escalate sets the case's escalated_at to at, on condition that the case exists,
// is open, has no first response and was not escalated before. It reports whether
// this call set it; false, with no error, when any condition failed (the case was
// escalated by another run, answered, closed or is unknown).
func (s *Store) Escalate(ctx context.Context, caseID string, at time.Time) (bool, error) {
	e := newExpr()
	e.set("escalated_at", str(stamp(at)))
	e.set("updated_at", str(stamp(s.now())))
	cond := fmt.Sprintf("attribute_exists(%s) AND %s = %s AND attribute_not_exists(%s) AND attribute_not_exists(%s)",
		KeyPK, e.name("status"), e.value(str(string(care.Open))), e.name("escalated_at"), e.name("first_response_at"))
	var m meter
	item, err := s.update(ctx, &m, e.input(caseKey(caseID), cond), nil, false)
	if err != nil {
		return false, fmt.Errorf("store: escalate case %s: %w", caseID, err)
	}
	return item != nil, nil
}

// ClearEscalation removes the case's escalated_at when it is still at (the mark
// Escalate set with that time), so that the case can be escalated again. It
// reports whether this call removed it.
func (s *Store) ClearEscalation(ctx context.Context, caseID string, at time.Time) (bool, error) {
	e := newExpr()
	e.remove("escalated_at")
	cond := e.name("escalated_at") + " = " + e.value(str(stamp(at)))
	var m meter
	item, err := s.update(ctx, &m, e.input(caseKey(caseID), cond), nil, false)
	if err != nil {
		return false, fmt.Errorf("store: clear the escalation of case %s: %w", caseID, err)
	}
	return item != nil, nil
}
