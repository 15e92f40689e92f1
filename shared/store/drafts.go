package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pajarito-care/pajarito/shared/care"
)

// An agent's reply is sent as a draft with an id of the agent's client: the draft
// item makes sending the same draft twice produce one reply request.
//
//	item       PK                   SK                        GSI1PK      GSI1SK                              attributes
//	draft      DRAFTS#<caseId>      <draft id>                -           -                                   Draft: case_id, draft_id, input,
//	                                                                                                          request (care.ReplyRequest),
//	                                                                                                          warnings, created_at, lease_until,
//	                                                                                                          queued_at
//
// The draft is put on condition that it does not exist (one writer wins), with a
// lease: its writer enqueues the request and then sets queued_at. A send of the
// same draft that finds it unqueued waits for the lease to end (its writer may
// still be enqueueing), then takes the lease over with a conditional update on
// lease_until (one taker wins) and enqueues it. A writer whose enqueue failed gives
// its lease back at once. So a draft is enqueued by one writer at a time, and once
// queued never again; should a lease end while its writer is still enqueueing (a
// stall longer than the lease), the request could be enqueued twice, and the reply
// sender, which posts once per idempotency key, still posts one reply.
//
// A draft that needs an approval before it goes (a contributor's, or an agent's
// where the protocol asks for it) is stored with Approval pending, no lease and
// the queue index keys GSI1PK "APPROVALS", GSI1SK "<created_at>|<case id>|<draft
// id>" (PendingApprovals lists them, oldest first). DecideDraft approves or
// rejects it once (a conditional update on approval_state), takes the index keys
// off, and, approving, leases the draft to the approver, who enqueues it as any
// draft. Who approved, when, and any edit stay on the draft.
//
//	approval   (on the draft)                                                 approval (DraftApproval), approval_state

func draftsPK(caseID string) string { return "DRAFTS#" + caseID }

// Draft is an agent's reply as accepted: the request it became.
type Draft struct {
	CaseID  string `json:"case_id"`
	DraftID string `json:"draft_id"`
	// Input identifies what the agent sent (a digest of the text, channel, message
	// replied to and language): the same draft id with another input is not the
	// same draft.
	Input   string            `json:"input"`
	Request care.ReplyRequest `json:"request"`
	// Warnings are the linter's warnings, as the API showed them (opaque JSON).
	Warnings  json.RawMessage `json:"warnings,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	// LeaseUntil is when the writer enqueueing the request gives up its turn.
	LeaseUntil time.Time `json:"lease_until"`
	// QueuedAt is when the outbound queue took the request (nil: not yet).
	QueuedAt *time.Time `json:"queued_at,omitempty"`
	// Approval is set on a draft that waits (or waited) for an approval.
	Approval *DraftApproval `json:"approval,omitempty"`
}

// The states of an approval.
const (
	ApprovalPending  = "pending"
	ApprovalApproved = "approved"
	ApprovalRejected = "rejected"
)

// DraftApproval is where a draft's approval stands.
type DraftApproval struct {
	State string `json:"state"`
	// Why says why the draft needs it (the author's role, a crisis, …).
	Why string `json:"why"`
	// By, ByName and At are who decided, and when.
	By     string     `json:"by,omitempty"`
	ByName string     `json:"by_name,omitempty"`
	At     *time.Time `json:"at,omitempty"`
	// Reason is a rejection's, for the author.
	Reason string `json:"reason,omitempty"`
	// Edited is set when the approver changed the text (Original is the
	// author's).
	Edited   bool   `json:"edited,omitempty"`
	Original string `json:"original,omitempty"`
}

// approvalsPK is the queue index partition of the drafts awaiting approval.
const approvalsPK = "APPROVALS"

// GetDraft returns a draft of a case; an error wrapping ErrNotFound when there is
// none.
func (s *Store) GetDraft(ctx context.Context, caseID, draftID string) (*Draft, error) {
	item, err := s.get(ctx, key(draftsPK(caseID), draftID))
	if err != nil {
		return nil, fmt.Errorf("store: get draft %s of case %s: %w", draftID, caseID, err)
	}
	if item == nil {
		return nil, fmt.Errorf("store: get draft %s of case %s: %w", draftID, caseID, ErrNotFound)
	}
	var d Draft
	if err := unmarshal(item, &d); err != nil {
		return nil, fmt.Errorf("store: get draft %s of case %s: decode: %w", draftID, caseID, err)
	}
	return &d, nil
}

// PutDraft stores a new draft (QueuedAt unset), leased to the caller until
// d.LeaseUntil, unless the case has one of that id; it reports whether this call
// stored it.
func (s *Store) PutDraft(ctx context.Context, d Draft) (bool, error) {
	pending := d.Approval != nil && d.Approval.State == ApprovalPending
	if d.CaseID == "" || d.DraftID == "" || d.Input == "" || d.Request.IdempotencyKey == "" || (d.LeaseUntil.IsZero() && !pending) {
		return false, fmt.Errorf("store: put draft: it needs the case id, the draft id, its input, its request and a lease (or a pending approval)")
	}
	if d.Approval != nil && d.Approval.State != ApprovalPending {
		return false, fmt.Errorf("store: put draft %s of case %s: a new draft's approval is pending, not %q", d.DraftID, d.CaseID, d.Approval.State)
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = s.now()
	}
	d.CreatedAt = d.CreatedAt.UTC()
	d.QueuedAt = nil
	item, err := marshal(d)
	if err != nil {
		return false, fmt.Errorf("store: put draft %s of case %s: %w", d.DraftID, d.CaseID, err)
	}
	dropZeroTimes(item)
	for k, v := range key(draftsPK(d.CaseID), d.DraftID) {
		item[k] = v
	}
	if pending {
		delete(item, "lease_until") // no one sends it before it is approved
		item["approval_state"] = str(ApprovalPending)
		item[KeyGSI1PK] = str(approvalsPK)
		item[KeyGSI1SK] = str(stamp(d.CreatedAt) + "|" + d.CaseID + "|" + d.DraftID)
	} else {
		item["lease_until"] = str(stamp(d.LeaseUntil)) // compared as written by LeaseDraft
	}
	var mt meter
	ok, err := s.put(ctx, &mt, &dynamodb.PutItemInput{Item: item, ConditionExpression: aws.String("attribute_not_exists(" + KeyPK + ")")}, false)
	if err != nil {
		return false, fmt.Errorf("store: put draft %s of case %s: %w", d.DraftID, d.CaseID, err)
	}
	return ok, nil
}

// LeaseDraft moves an unqueued draft's lease from from (its LeaseUntil as read) to
// until: a send takes over a lapsed lease (until in the future), a writer gives its
// own back (until now). It reports false when the draft is queued or its lease
// moved meanwhile (someone else took it).
func (s *Store) LeaseDraft(ctx context.Context, caseID, draftID string, from, until time.Time) (bool, error) {
	e := newExpr()
	lease := e.name("lease_until")
	cond := "attribute_exists(" + KeyPK + ") AND attribute_not_exists(" + e.name("queued_at") + ") AND " + lease + " = " + e.value(str(stamp(from)))
	e.set("lease_until", str(stamp(until)))
	var mt meter
	after, err := s.update(ctx, &mt, e.input(key(draftsPK(caseID), draftID), cond), nil, false)
	if err != nil {
		return false, fmt.Errorf("store: lease draft %s of case %s: %w", draftID, caseID, err)
	}
	return after != nil, nil
}

// MarkDraftQueued records that the draft's request is on the outbound queue.
func (s *Store) MarkDraftQueued(ctx context.Context, caseID, draftID string, at time.Time) error {
	e := newExpr()
	e.set("queued_at", str(stamp(at)))
	e.remove("lease_until")
	var mt meter
	after, err := s.update(ctx, &mt, e.input(key(draftsPK(caseID), draftID), "attribute_exists("+KeyPK+")"), nil, false)
	if err != nil {
		return fmt.Errorf("store: mark draft %s of case %s queued: %w", draftID, caseID, err)
	}
	if after == nil {
		return fmt.Errorf("store: mark draft %s of case %s queued: %w", draftID, caseID, ErrNotFound)
	}
	return nil
}

// PendingApprovals returns the drafts awaiting an approval, oldest first, at
// most limit.
func (s *Store) PendingApprovals(ctx context.Context, limit int) ([]Draft, error) {
	e := newExpr()
	out, err := s.Client.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		IndexName:                 aws.String(IndexQueue),
		KeyConditionExpression:    aws.String(e.name(KeyGSI1PK) + " = " + e.value(str(approvalsPK))),
		ExpressionAttributeNames:  e.names,
		ExpressionAttributeValues: e.values,
		ScanIndexForward:          aws.Bool(true),
		Limit:                     aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, fmt.Errorf("store: pending approvals: %w", err)
	}
	drafts := make([]Draft, 0, len(out.Items))
	for _, it := range out.Items {
		caseID := strings.TrimPrefix(stringAttr(it, KeyPK), "DRAFTS#")
		d, err := s.GetDraft(ctx, caseID, stringAttr(it, KeySK))
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if d.Approval != nil && d.Approval.State == ApprovalPending { // the index lags the table
			drafts = append(drafts, *d)
		}
	}
	return drafts, nil
}

// CaseDrafts returns the drafts of a case that wait or waited for an approval,
// in draft id order.
func (s *Store) CaseDrafts(ctx context.Context, caseID string) ([]Draft, error) {
	return s.drafts(ctx, caseID, true)
}

// drafts returns the drafts of a case in draft id order: those that wait or
// waited for an approval (approvals), or all.
func (s *Store) drafts(ctx context.Context, caseID string, approvals bool) ([]Draft, error) {
	var out []Draft
	err := s.queryPartition(ctx, draftsPK(caseID), true, func(it map[string]types.AttributeValue) (bool, error) {
		if _, ok := it["approval"]; approvals && !ok {
			return true, nil
		}
		var d Draft
		if err := unmarshal(it, &d); err != nil {
			return false, fmt.Errorf("decode: %w", err)
		}
		out = append(out, d)
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: drafts of case %s: %w", caseID, err)
	}
	return out, nil
}

// DecideDraft records the decision on a pending draft: a.State approved or
// rejected, with who and when. Approving, req (when not nil) replaces the
// request (an edited text) and the draft is leased to the approver until
// leaseUntil, who then enqueues it. It reports false when the draft was not
// pending any more (decided by someone else first).
func (s *Store) DecideDraft(ctx context.Context, caseID, draftID string, a DraftApproval, req *care.ReplyRequest, leaseUntil time.Time) (bool, error) {
	if a.State != ApprovalApproved && a.State != ApprovalRejected || a.By == "" || a.At == nil {
		return false, fmt.Errorf("store: decide draft %s of case %s: want approved or rejected, by someone, at a time", draftID, caseID)
	}
	av, err := marshalValue(a)
	if err != nil {
		return false, fmt.Errorf("store: decide draft %s of case %s: %w", draftID, caseID, err)
	}
	e := newExpr()
	cond := e.name("approval_state") + " = " + e.value(str(ApprovalPending))
	e.set("approval", av)
	e.set("approval_state", str(a.State))
	e.remove(KeyGSI1PK)
	e.remove(KeyGSI1SK)
	if a.State == ApprovalApproved {
		e.set("lease_until", str(stamp(leaseUntil)))
		if req != nil {
			rv, err := marshalValue(req)
			if err != nil {
				return false, fmt.Errorf("store: decide draft %s of case %s: %w", draftID, caseID, err)
			}
			e.set("request", rv)
		}
	}
	var mt meter
	after, err := s.update(ctx, &mt, e.input(key(draftsPK(caseID), draftID), cond), nil, false)
	if err != nil {
		return false, fmt.Errorf("store: decide draft %s of case %s: %w", draftID, caseID, err)
	}
	return after != nil, nil
}
