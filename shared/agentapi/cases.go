package agentapi

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
	"github.com/pajarito-care/pajarito/shared/httpjson"
	"github.com/pajarito-care/pajarito/shared/store"
)

// MaxPageSize is the largest page of GET /v1/cases.
const MaxPageSize = 200

// langRE matches the language tags X gives posts ("es", "en", "und", "zh-cn").
var langRE = regexp.MustCompile(`^[a-z]{2,3}(-[a-z0-9]{2,8})?$`)

// CaseList is the body of GET /v1/cases.
type CaseList struct {
	Cases []QueueCase `json:"cases"`
	// Next is the cursor of the next page; empty on the last one. With filters a
	// page may hold fewer cases than the limit (even none) and still have a next.
	Next string `json:"next,omitempty"`
}

func (a *API) listCases(w http.ResponseWriter, r *http.Request) {
	q, ok := query(w, r, "status", "limit", "cursor", "department", "intent", "priority", "assigned", "lang", "crisis")
	if !ok {
		return
	}
	lq := store.ListQuery{Status: care.Open, Limit: 50, Cursor: q["cursor"]}
	if s, ok := q["status"]; ok {
		switch st := care.Status(s); st {
		case care.Open, care.Pending, care.Resolved:
			lq.Status = st
		default:
			badRequest(w, "bad_status", "status must be open, pending or resolved")
			return
		}
	}
	if s, ok := q["limit"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPageSize {
			badRequest(w, "bad_limit", "limit must be a whole number from 1 to %d", MaxPageSize)
			return
		}
		lq.Limit = n
	}
	if s, ok := q["priority"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 999 {
			badRequest(w, "bad_priority", "priority (the minimum) must be a whole number from 0 to 999")
			return
		}
		lq.MinPriority = n
	}
	if s, ok := q["department"]; ok {
		if !slices.Contains(a.Engine.Departments(), s) {
			badRequest(w, "bad_department", "department %q is not one of the protocol's: %s", s, strings.Join(a.Engine.Departments(), ", "))
			return
		}
		lq.Department = s
	}
	if s, ok := q["intent"]; ok {
		if !slices.Contains(classify.Intents, classify.Intent(s)) {
			badRequest(w, "bad_intent", "intent %q is not one of %s", s, labelList(classify.Intents))
			return
		}
		lq.Intent = s
	}
	if s, ok := q["lang"]; ok {
		if !langRE.MatchString(s) {
			badRequest(w, "bad_lang", "lang %q is not a language tag like es or en", s)
			return
		}
		lq.Lang = s
	}
	if s, ok := q["crisis"]; ok {
		if !slices.Contains(a.topics(), s) {
			badRequest(w, "bad_crisis", "crisis %q is not one of the protocol's crisis topics: %s", s, orNone(a.topics()))
			return
		}
		lq.CrisisTopic = s
	}
	if s, ok := q["assigned"]; ok {
		switch s {
		case "":
			badRequest(w, "bad_assigned", `assigned must be an agent id, "me" or "none"`)
			return
		case "me":
			lq.Assignee = callerFrom(r.Context()).ID
		case "none":
			lq.Unassigned = true
		default:
			lq.Assignee = s
		}
	}
	cases, next, err := a.Store.ListCases(r.Context(), lq)
	if errors.Is(err, store.ErrBadCursor) {
		badRequest(w, "bad_cursor", "the cursor is not one this API returned for these filters; start again without it")
		return
	}
	if err != nil {
		a.internal(w, r, err)
		return
	}
	out := make([]QueueCase, len(cases))
	for i, c := range cases {
		out[i] = QueueCase{CaseSummary: c, Due: a.due(c)}
	}
	httpjson.Write(w, http.StatusOK, CaseList{Cases: out, Next: next})
}

// QueueCase is a case in the agents' queue: its summary and when an answer is
// due.
type QueueCase struct {
	care.CaseSummary
	// Due is, for an open case, when the team owes the customer an answer: the
	// protocol's first-response target for the case's priority (in business
	// hours, at most its hard limit) from when they started waiting. Nil for
	// other statuses and for spam, which is owed no answer.
	Due *time.Time `json:"due,omitempty"`
}

// due returns when an answer to the open case c is due (see QueueCase).
func (a *API) due(c care.CaseSummary) *time.Time {
	if c.Status != care.Open {
		return nil
	}
	// A summary has no first-response time: the case is seen as waiting since
	// its waiting_since, which is what the queue owes it.
	d := a.Engine.FirstResponseDue(care.Case{
		Status: c.Status, CreatedAt: c.CreatedAt, WaitingSince: c.WaitingSince, Intent: c.Intent, Priority: c.Priority,
	})
	if d.IsZero() {
		return nil
	}
	return &d
}

// labelList formats a label set for an error message.
func labelList[L ~string](labels []L) string {
	s := make([]string, len(labels))
	for i, l := range labels {
		s[i] = string(l)
	}
	return strings.Join(s, ", ")
}

// topics returns the protocol's crisis topics.
func (a *API) topics() []string {
	var out []string
	for _, t := range a.Engine.Config().Crisis.Topics {
		out = append(out, t.Name)
	}
	return out
}

// CaseDetail is the body of GET /v1/cases/{id}.
type CaseDetail struct {
	// Case holds the assignment (assignee, assigned_by, assigned_at) and the
	// labels, priority and department, with the fields an agent overrode.
	Case     *care.Case           `json:"case"`
	Messages []care.StoredMessage `json:"messages"`
	// Decisions are what the protocol decided on each inbound message, and why:
	// labels and their reasons, priority factors, department, actions, planned
	// replies.
	Decisions []care.DecisionRecord `json:"decisions"`
	// Notes are the agents' internal notes, oldest first; never sent to X.
	Notes []care.Note `json:"notes"`
	// Replies are where the case's replies stand on their way to X (waiting,
	// sending, sent, failed, unknown), oldest request first.
	Replies []care.ReplyStatus `json:"replies"`
	// Approvals are the case's replies that wait, or waited, for an approval:
	// pending, approved (then in Replies too) or rejected with the reason.
	Approvals []Approval `json:"approvals"`
	// Audit is what people and the system did on the case, oldest first.
	Audit []care.AuditEntry `json:"audit"`
}

func (a *API) getCase(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	c, msgs, err := a.Store.GetCase(r.Context(), id)
	if err != nil {
		a.caseError(w, r, id, err)
		return
	}
	decisions, err := a.Store.ListDecisions(r.Context(), id)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	notes, err := a.Store.ListNotes(r.Context(), id)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	replies, err := a.Store.ListReplies(r.Context(), id)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	drafts, err := a.Store.CaseDrafts(r.Context(), id)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	audit, err := a.Store.CaseAudit(r.Context(), id)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	approvals := make([]Approval, 0, len(drafts))
	for _, d := range drafts {
		approvals = append(approvals, approvalOf(d))
	}
	httpjson.Write(w, http.StatusOK, CaseDetail{
		Case: c, Messages: nonNil(msgs), Decisions: nonNil(decisions), Notes: nonNil(notes), Replies: nonNil(replies), Approvals: approvals, Audit: nonNil(audit),
	})
}

// nonNil returns s, or an empty slice for nil (so that JSON shows [], not null).
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
