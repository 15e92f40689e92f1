package agentapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pajarito-care/pajarito/shared/httpjson"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/store"
)

// Bounds of GET /v1/quarantine.
const (
	// DefaultQuarantineLimit is how many records GET /v1/quarantine lists without
	// a limit; MaxPageSize is the largest limit.
	DefaultQuarantineLimit = store.DefaultListLimit
	// MaxQuarantineBodyShown is how many characters of a quarantined body the API
	// shows; the store keeps up to store.MaxQuarantineBody bytes.
	MaxQuarantineBodyShown = 2000
)

// QuarantineList is the body of GET /v1/quarantine.
type QuarantineList struct {
	// Quarantined are the records, newest first by when SQS accepted the message
	// (SentAt).
	Quarantined []QuarantinedDelivery `json:"quarantined"`
	Count       int                   `json:"count"`
}

// QuarantinedDelivery is a queue message the processor could not process: the
// store's record with the start of its body.
type QuarantinedDelivery struct {
	store.Quarantined
	// Body is the first MaxQuarantineBodyShown characters of the message body (a
	// normalised queue message). Bytes that are not UTF-8 show as U+FFFD.
	Body string `json:"body"`
	// BodyCut is set when Body is shorter than the stored body (the store's own
	// Truncated says the stored body is shorter than the message was).
	BodyCut bool `json:"body_cut"`
}

// listQuarantine lists the quarantined deliveries, so that an operator sees what
// the processor refused without reading the table by hand.
func (a *API) listQuarantine(w http.ResponseWriter, r *http.Request) {
	q, ok := query(w, r, "limit")
	if !ok {
		return
	}
	limit := DefaultQuarantineLimit
	if s, ok := q["limit"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPageSize {
			badRequest(w, "bad_limit", "limit must be a whole number from 1 to %d", MaxPageSize)
			return
		}
		limit = n
	}
	qs, err := a.Store.ListQuarantine(r.Context(), limit)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	out := make([]QuarantinedDelivery, 0, len(qs))
	for _, rec := range qs {
		body, cut := cutBody(rec.Body, MaxQuarantineBodyShown)
		rec.Body = ""
		out = append(out, QuarantinedDelivery{Quarantined: rec, Body: body, BodyCut: cut})
	}
	httpjson.Write(w, http.StatusOK, QuarantineList{Quarantined: out, Count: len(out)})
}

// cutBody returns the first max characters of s (a byte that is not UTF-8 counts
// as one), and whether it cut any.
func cutBody(s string, max int) (string, bool) {
	if len(s) <= max {
		return s, false
	}
	n := 0
	for i := 0; i < len(s); {
		if n == max {
			return s[:i], true
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return s, false
}

// Bounds of POST /v1/quarantine/retry.
const (
	// MaxRetryIDs is the most ids one retry names; MaxRetryBatch the most records
	// one retry of all takes (call again with after = next for the rest). Both keep
	// a retry well inside the function's timeout.
	MaxRetryIDs   = 50
	MaxRetryBatch = 50
	// RetryLease is how long a retry holds a record while it sends it: a retry that
	// dies meanwhile leaves it to the next one after that.
	RetryLease = time.Minute
	// maxRetryIDLength bounds an SQS message id (36 characters in AWS).
	maxRetryIDLength = 128
	// maxRetryCursor bounds the cursor (a quarantine record's sort key).
	maxRetryCursor = 300
)

// QuarantineRetryRequest is the body of POST /v1/quarantine/retry: ids, or all.
type QuarantineRetryRequest struct {
	// IDs are SQS message ids of quarantined deliveries (GET /v1/quarantine's
	// sqs_message_id), at most MaxRetryIDs.
	IDs []string `json:"ids,omitempty"`
	// All retries every quarantined delivery, oldest first, MaxRetryBatch at a time
	// (fewer when their bodies pass 1 MB) from After ("" from the oldest): call
	// again with the answer's next.
	All   bool   `json:"all,omitempty"`
	After string `json:"after,omitempty"`
}

// Outcomes of a retried delivery.
const (
	RetryRequeued     = "requeued"
	RetryNotFound     = "not_found"
	RetryNotRetryable = "not_retryable"
	RetryBusy         = "busy"
	RetryFailed       = "failed"
)

// QuarantineRetryResult is the answer of POST /v1/quarantine/retry: how many
// deliveries went back on the inbound queue, and why the others did not.
type QuarantineRetryResult struct {
	// Requeued went back on the inbound queue and left the quarantine.
	Requeued int `json:"requeued"`
	// NotFound are ids not in the quarantine: already requeued, expired, or never
	// quarantined.
	NotFound int `json:"not_found"`
	// NotRetryable stay quarantined: their stored body was truncated (the store
	// keeps store.MaxQuarantineBody bytes) or is not one SQS takes.
	NotRetryable int `json:"not_retryable"`
	// Busy are being requeued by another retry right now.
	Busy int `json:"busy"`
	// Failed stay quarantined: the inbound queue or the store failed (logged);
	// retry them again.
	Failed int `json:"failed"`
	// Deliveries are the outcome of each, by SQS message id.
	Deliveries []RetryOutcome `json:"deliveries"`
	// Next, with all, is the after of the next call: more records remain.
	Next string `json:"next,omitempty"`
}

// RetryOutcome is what a retry did with one delivery.
type RetryOutcome struct {
	SQSMessageID string `json:"sqs_message_id"`
	// Outcome is requeued, not_found, not_retryable, busy or failed.
	Outcome string `json:"outcome"`
	// Reason says why a delivery was not requeued.
	Reason string `json:"reason,omitempty"`
}

func (res *QuarantineRetryResult) add(id, outcome, reason string) {
	switch outcome {
	case RetryRequeued:
		res.Requeued++
	case RetryNotFound:
		res.NotFound++
	case RetryNotRetryable:
		res.NotRetryable++
	case RetryBusy:
		res.Busy++
	default:
		res.Failed++
	}
	res.Deliveries = append(res.Deliveries, RetryOutcome{SQSMessageID: id, Outcome: outcome, Reason: reason})
}

// retryQuarantine puts quarantined deliveries back on the inbound queue, once a
// fix is deployed: each is held (so that concurrent retries do not both send it),
// sent with the body the store kept, then marked requeued, which takes it out of
// the quarantine. A body that still cannot be read is quarantined again by the
// processor.
func (a *API) retryQuarantine(w http.ResponseWriter, r *http.Request) {
	var req QuarantineRetryRequest
	if !decode(w, r, &req) {
		return
	}
	ids, ok := retryIDs(w, req)
	if !ok {
		return
	}
	ctx := r.Context()
	var (
		recs []store.Quarantined
		res  = QuarantineRetryResult{Deliveries: []RetryOutcome{}}
		err  error
	)
	if req.All {
		recs, res.Next, err = a.Store.PendingQuarantine(ctx, nil, req.After, MaxRetryBatch)
	} else {
		recs, _, err = a.Store.PendingQuarantine(ctx, ids, "", 0)
	}
	if err != nil {
		a.internal(w, r, err)
		return
	}
	type held struct {
		q     store.Quarantined
		token string
	}
	var claimed []held
	found := map[string]bool{}
	for _, q := range recs {
		found[q.SQSMessageID] = true
		if q.Truncated {
			res.add(q.SQSMessageID, RetryNotRetryable, fmt.Sprintf("the store kept only the first %d bytes of its body, so it cannot be sent again; it stays quarantined: have the delivery sent again from its source (pajarito replay of the original, or X's own retry)", store.MaxQuarantineBody))
			continue
		}
		if err := queue.CheckBody(q.Body); err != nil {
			res.add(q.SQSMessageID, RetryNotRetryable, "SQS would refuse its body ("+err.Error()+"); it stays quarantined")
			continue
		}
		token, err := a.Store.ClaimQuarantined(ctx, q, RetryLease)
		switch {
		case errors.Is(err, store.ErrNotFound):
			res.add(q.SQSMessageID, RetryNotFound, "requeued meanwhile by another retry, or expired")
		case errors.Is(err, store.ErrQuarantineBusy):
			res.add(q.SQSMessageID, RetryBusy, "another retry is requeuing it now")
		case err != nil:
			a.Log.ErrorContext(ctx, "agent API: quarantine retry: claim failed", "sqs_message_id", q.SQSMessageID, "error", err.Error())
			res.add(q.SQSMessageID, RetryFailed, "the store failed (logged); retry it again")
		default:
			claimed = append(claimed, held{q, token})
		}
	}
	// One send per SQS batch, so that a failure leaves only its batch quarantined.
	for chunk := range slices.Chunk(claimed, queue.MaxBatchEntries) {
		bodies := make([]string, len(chunk))
		for i, h := range chunk {
			bodies[i] = h.q.Body
		}
		if err := a.Inbox.SendBodies(ctx, bodies); err != nil {
			a.Log.ErrorContext(ctx, "agent API: quarantine retry: the inbound queue failed", "deliveries", len(chunk), "error", err.Error())
			for _, h := range chunk {
				if err := a.Store.ReleaseQuarantined(context.WithoutCancel(ctx), h.q, h.token); err != nil {
					a.Log.WarnContext(ctx, "agent API: quarantine retry: release failed; the delivery can be retried once its lease ends", "sqs_message_id", h.q.SQSMessageID, "lease", RetryLease.String(), "error", err.Error())
				}
				res.add(h.q.SQSMessageID, RetryFailed, "the inbound queue did not take it (logged); it stays quarantined: retry it again")
			}
			continue
		}
		for _, h := range chunk {
			// Sent: a failure here leaves it listed, and a later retry sends it again,
			// which the processor deduplicates.
			if err := a.Store.RequeuedQuarantined(context.WithoutCancel(ctx), h.q, h.token); err != nil {
				a.Log.WarnContext(ctx, "agent API: quarantine retry: requeued, but still listed as quarantined", "sqs_message_id", h.q.SQSMessageID, "error", err.Error())
			}
			res.add(h.q.SQSMessageID, RetryRequeued, "")
		}
	}
	for _, id := range ids {
		if !found[id] {
			res.add(id, RetryNotFound, "not quarantined: requeued already, expired, or never quarantined (see GET /v1/quarantine)")
		}
	}
	a.audit(r, "quarantine retried", "requeued", res.Requeued, "not_found", res.NotFound, "not_retryable", res.NotRetryable, "busy", res.Busy, "failed", res.Failed, "all", req.All)
	httpjson.Write(w, http.StatusOK, res)
}

// retryIDs checks a retry request and returns its ids, deduplicated in order.
func retryIDs(w http.ResponseWriter, req QuarantineRetryRequest) ([]string, bool) {
	switch {
	case req.All && len(req.IDs) > 0:
		badRequest(w, "bad_selection", "give ids or all, not both")
		return nil, false
	case !req.All && len(req.IDs) == 0:
		badRequest(w, "bad_selection", `name the deliveries to retry: "ids" (their sqs_message_id, from GET /v1/quarantine) or "all": true`)
		return nil, false
	case !req.All && req.After != "":
		badRequest(w, "bad_after", "after goes with all")
		return nil, false
	case len(req.After) > maxRetryCursor || !utf8.ValidString(req.After):
		badRequest(w, "bad_after", "after is not a cursor this API gave (next)")
		return nil, false
	case len(req.IDs) > MaxRetryIDs:
		badRequest(w, "bad_ids", "%d ids: at most %d at a time", len(req.IDs), MaxRetryIDs)
		return nil, false
	}
	var ids []string
	for _, id := range req.IDs {
		if id == "" || len(id) > maxRetryIDLength || !utf8.ValidString(id) || strings.ContainsFunc(id, unicode.IsControl) {
			badRequest(w, "bad_ids", "%q is not an SQS message id", id)
			return nil, false
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, true
}
