package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

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
}

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
	if d.CaseID == "" || d.DraftID == "" || d.Input == "" || d.Request.IdempotencyKey == "" || d.LeaseUntil.IsZero() {
		return false, fmt.Errorf("store: put draft: it needs the case id, the draft id, its input, its request and a lease")
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
	item["lease_until"] = str(stamp(d.LeaseUntil)) // compared as written by LeaseDraft
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
