package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pajarito-care/pajarito/shared/care"
)

// SetPriority sets a case's priority (clamped to 0–999) and, when department is not
// empty, its department, keeping the agent queue index in step. It is SetTriage
// with those two fields. It returns the case as updated.
func (s *Store) SetPriority(ctx context.Context, caseID string, priority int, department string) (*care.Case, error) {
	c, err := s.setTriage(ctx, caseID, care.Triage{Priority: &priority, Department: department})
	if err != nil {
		return nil, fmt.Errorf("store: set priority of case %s: %w", caseID, err)
	}
	return c, nil
}

// SetTriage applies the care protocol's triage of a case's newest message: the
// priority (clamped to 0–999), and the department, intent, sentiment and crisis
// topic that are not empty. Fields an agent overrode (the case's Overridden) keep
// the agent's value; the write is conditional on that, so an agent's concurrent
// override is never undone. The agent queue index is kept in step. It returns the
// case as updated.
func (s *Store) SetTriage(ctx context.Context, caseID string, t care.Triage) (*care.Case, error) {
	c, err := s.setTriage(ctx, caseID, t)
	if err != nil {
		return nil, fmt.Errorf("store: set triage of case %s: %w", caseID, err)
	}
	return c, nil
}

func (s *Store) setTriage(ctx context.Context, caseID string, t care.Triage) (*care.Case, error) {
	return s.changeCase(ctx, caseID, func(c *caseRecord, e *expr) (string, bool) {
		cond := ""
		set := func(field string, v types.AttributeValue) {
			e.set(field, v)
			o := e.name("overridden")
			cond += fmt.Sprintf(" AND (attribute_not_exists(%s) OR NOT contains(%s, %s))", o, o, e.value(str(field)))
		}
		if t.Priority != nil && !slices.Contains(c.Overridden, care.FieldPriority) {
			if p := min(max(*t.Priority, 0), 999); p != c.Priority {
				set(care.FieldPriority, num(int64(p)))
				e.set(KeyGSI1SK, str(queueSK(p, c.WaitingSince, c.ID)))
			}
		}
		for _, f := range []struct{ field, value, old string }{
			{care.FieldDepartment, t.Department, c.Department},
			{care.FieldIntent, t.Intent, c.Intent},
			{care.FieldSentiment, t.Sentiment, c.Sentiment},
		} {
			if f.value != "" && f.value != f.old && !slices.Contains(c.Overridden, f.field) {
				set(f.field, str(f.value))
			}
		}
		if t.CrisisTopic != "" && t.CrisisTopic != c.CrisisTopic {
			e.set("crisis_topic", str(t.CrisisTopic))
		}
		if len(e.sets) == 0 {
			return "", false
		}
		return cond, true
	})
}

// OverrideTriage sets what an agent decided about a case: the priority (0–999, not
// clamped: anything else is an error), and the department, intent and sentiment
// that are not empty. The fields set are added to the case's Overridden, so that
// the protocol's later decisions leave them alone. It returns the case as updated.
func (s *Store) OverrideTriage(ctx context.Context, caseID string, t care.Triage) (*care.Case, error) {
	switch {
	case t.Priority != nil && (*t.Priority < 0 || *t.Priority > 999):
		return nil, fmt.Errorf("store: override triage of case %s: priority %d is outside 0..999", caseID, *t.Priority)
	case t.CrisisTopic != "":
		return nil, fmt.Errorf("store: override triage of case %s: the crisis topic is the protocol's to set", caseID)
	case t.Priority == nil && t.Department == "" && t.Intent == "" && t.Sentiment == "":
		return nil, fmt.Errorf("store: override triage of case %s: nothing to set", caseID)
	}
	c, err := s.changeCase(ctx, caseID, func(c *caseRecord, e *expr) (string, bool) {
		var fields []string
		if t.Priority != nil {
			fields = append(fields, care.FieldPriority)
			if *t.Priority != c.Priority {
				e.set(care.FieldPriority, num(int64(*t.Priority)))
				e.set(KeyGSI1SK, str(queueSK(*t.Priority, c.WaitingSince, c.ID)))
			}
		}
		for _, f := range []struct{ field, value, old string }{
			{care.FieldDepartment, t.Department, c.Department},
			{care.FieldIntent, t.Intent, c.Intent},
			{care.FieldSentiment, t.Sentiment, c.Sentiment},
		} {
			if f.value == "" {
				continue
			}
			fields = append(fields, f.field)
			if f.value != f.old {
				e.set(f.field, str(f.value))
			}
		}
		var added []string
		for _, f := range fields {
			if !slices.Contains(c.Overridden, f) {
				added = append(added, f)
			}
		}
		if len(e.sets) == 0 && len(added) == 0 {
			return "", false
		}
		if len(added) > 0 {
			// ADD to a string set: concurrent overrides of other fields add up.
			e.adds = append(e.adds, e.name("overridden")+" "+e.value(&types.AttributeValueMemberSS{Value: added}))
		}
		return "", true
	})
	if err != nil {
		return nil, fmt.Errorf("store: override triage of case %s: %w", caseID, err)
	}
	return c, nil
}

// SetStatus moves a case to status at time at (an agent resolved it, reopened it, or
// marked it answered): the case's waiting time restarts at at, and resolving sets
// resolved_at. Reopening a resolved case adds 1 to its reopens. Setting the status
// a case already has changes nothing. A resolved case is then due for a
// satisfaction survey (MarkSurveyDue, also when it was resolved already, so that
// a retried resolve records it). It returns the case as updated.
func (s *Store) SetStatus(ctx context.Context, caseID string, status care.Status, at time.Time) (*care.Case, error) {
	switch status {
	case care.Open, care.Pending, care.Resolved:
	default:
		return nil, fmt.Errorf("store: set status of case %s: unknown status %q", caseID, status)
	}
	if at.IsZero() {
		at = s.now()
	}
	at = at.UTC()
	c, err := s.changeCase(ctx, caseID, func(c *caseRecord, e *expr) (string, bool) {
		if c.Status == status {
			return "", false
		}
		e.set("status", str(string(status)))
		e.set("waiting_since", str(stamp(at)))
		e.set(KeyGSI1PK, str(queuePK(status)))
		e.set(KeyGSI1SK, str(queueSK(c.Priority, at, c.ID)))
		if status == care.Resolved {
			e.set("resolved_at", str(stamp(at)))
		} else {
			e.remove("resolved_at")
		}
		if c.Status == care.Resolved && status == care.Open {
			e.add("reopens", 1)
		}
		if c.ReopenedFrom != nil {
			e.remove("reopened_from")
		}
		return "", true
	})
	if err != nil {
		return nil, fmt.Errorf("store: set status of case %s: %w", caseID, err)
	}
	if c.Status == care.Resolved && c.ResolvedAt != nil {
		if err := s.MarkSurveyDue(ctx, c.ID, *c.ResolvedAt); err != nil {
			return nil, fmt.Errorf("store: set status of case %s: %w", caseID, err)
		}
	}
	return c, nil
}

// changeCase reads a case, lets change fill an update and return an extra
// condition (" AND …", built with e; "" for none), or write false for no write, and
// writes the update on condition that the fields the queue index is built from did
// not change meanwhile, retrying when they did or when the extra condition failed.
func (s *Store) changeCase(ctx context.Context, caseID string, change func(*caseRecord, *expr) (cond string, write bool)) (*care.Case, error) {
	for range maxRaces {
		item, err := s.get(ctx, caseKey(caseID))
		if err != nil {
			return nil, err
		}
		if item == nil {
			return nil, ErrNotFound
		}
		var c caseRecord
		if err := unmarshal(item, &c); err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
		e := newExpr()
		extra, write := change(&c, e)
		if !write {
			return &c.Case, nil
		}
		e.set("updated_at", str(stamp(s.now())))
		var mt meter
		after, err := s.update(ctx, &mt, e.input(caseKey(caseID), unchanged(e, item, "status", "priority", "waiting_since")+extra), item, true)
		if err != nil {
			return nil, err
		}
		if after == nil {
			continue
		}
		var out caseRecord
		if err := unmarshal(after, &out); err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
		return &out.Case, nil
	}
	return nil, fmt.Errorf("lost %d races with concurrent writers", maxRaces)
}

// unchanged returns a condition that the attributes still have their values in item
// (or are still missing).
func unchanged(e *expr, item map[string]types.AttributeValue, attrs ...string) string {
	cond := "attribute_exists(" + KeyPK + ")"
	for _, a := range attrs {
		if v, ok := item[a]; ok {
			cond += " AND " + e.name(a) + " = " + e.value(v)
		} else {
			cond += " AND attribute_not_exists(" + e.name(a) + ")"
		}
	}
	return cond
}

// Recount recomputes a case's counters from its message items, repairing the double
// count a crash can leave (see the package doc). A message being appended while it
// runs may be counted but not yet stored, so run it on a case without traffic. It
// returns the case as updated.
func (s *Store) Recount(ctx context.Context, caseID string) (*care.Case, error) {
	for range maxRaces {
		c, msgs, item, err := s.readCase(ctx, caseID)
		if err != nil {
			return nil, fmt.Errorf("store: recount case %s: %w", caseID, err)
		}
		in, out := 0, 0
		for _, m := range msgs {
			if m.Direction == care.Inbound {
				in++
			} else {
				out++
			}
		}
		if in == c.MessagesIn && out == c.MessagesOut {
			return &c.Case, nil
		}
		e := newExpr()
		e.set("messages_in", num(int64(in)))
		e.set("messages_out", num(int64(out)))
		var mt meter
		after, err := s.update(ctx, &mt, e.input(caseKey(caseID), unchanged(e, item, "messages_in", "messages_out")), item, true)
		if err != nil {
			return nil, fmt.Errorf("store: recount case %s: %w", caseID, err)
		}
		if after == nil {
			continue
		}
		var rec caseRecord
		if err := unmarshal(after, &rec); err != nil {
			return nil, fmt.Errorf("store: recount case %s: decode: %w", caseID, err)
		}
		return &rec.Case, nil
	}
	return nil, fmt.Errorf("store: recount case %s: lost %d races with concurrent writers", caseID, maxRaces)
}
