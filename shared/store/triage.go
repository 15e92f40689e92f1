package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pajarito-care/pajarito/shared/care"
)

// SetPriority sets a case's priority (clamped to 0–999) and, when department is not
// empty, its department, keeping the agent queue index in step. It returns the case
// as updated.
func (s *Store) SetPriority(ctx context.Context, caseID string, priority int, department string) (*care.Case, error) {
	priority = min(max(priority, 0), 999)
	c, err := s.changeCase(ctx, caseID, func(c *caseRecord, e *expr) bool {
		if c.Priority == priority && (department == "" || department == c.Department) {
			return false
		}
		e.set("priority", num(int64(priority)))
		if department != "" {
			e.set("department", str(department))
		}
		e.set(KeyGSI1SK, str(queueSK(priority, c.WaitingSince, c.ID)))
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("store: set priority of case %s: %w", caseID, err)
	}
	return c, nil
}

// SetStatus moves a case to status at time at (an agent resolved it, reopened it, or
// marked it answered): the case's waiting time restarts at at, and resolving sets
// resolved_at. Setting the status a case already has changes nothing. It returns the
// case as updated.
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
	c, err := s.changeCase(ctx, caseID, func(c *caseRecord, e *expr) bool {
		if c.Status == status {
			return false
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
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("store: set status of case %s: %w", caseID, err)
	}
	return c, nil
}

// changeCase reads a case, lets change fill an update (or report false for no
// change) and writes it on condition that the fields the queue index is built from
// did not change meanwhile, retrying when they did.
func (s *Store) changeCase(ctx context.Context, caseID string, change func(*caseRecord, *expr) bool) (*care.Case, error) {
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
		if !change(&c, e) {
			return &c.Case, nil
		}
		e.set("updated_at", str(stamp(s.now())))
		var mt meter
		after, err := s.update(ctx, &mt, e.input(caseKey(caseID), unchanged(e, item, "status", "priority", "waiting_since")), item, true)
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
