package agentapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
	"github.com/pajarito-care/pajarito/shared/httpjson"
	"github.com/pajarito-care/pajarito/shared/store"
)

// LabelsRequest is the body of PUT /v1/cases/{id}/labels: an agent's correction of
// the classifier. At least one label is required.
type LabelsRequest struct {
	Intent    classify.Intent    `json:"intent,omitempty"`
	Sentiment classify.Sentiment `json:"sentiment,omitempty"`
	// MessageID is the inbound message whose labels are corrected; empty means the
	// case's latest inbound message that has text.
	MessageID string `json:"message_id,omitempty"`
}

// LabelsResult is the body of PUT /v1/cases/{id}/labels.
type LabelsResult struct {
	Case *care.Case `json:"case"`
	// Correction is what the classifier learns from; null when the message has no
	// text left to learn from (deleted on X).
	Correction *store.Correction `json:"correction"`
}

// recategorise sets the case's intent and sentiment, pinned against the protocol's
// later decisions, and stores the correction the classifier learns from.
func (a *API) recategorise(w http.ResponseWriter, r *http.Request) {
	var req LabelsRequest
	if !decode(w, r, &req) {
		return
	}
	switch {
	case req.Intent == "" && req.Sentiment == "":
		badRequest(w, "bad_labels", "set intent, sentiment or both")
		return
	case req.Intent != "" && !slices.Contains(classify.Intents, req.Intent):
		badRequest(w, "bad_intent", "intent %q is not one of %s", req.Intent, labelList(classify.Intents))
		return
	case req.Sentiment != "" && !slices.Contains(classify.Sentiments, req.Sentiment):
		badRequest(w, "bad_sentiment", "sentiment %q is not one of %s", req.Sentiment, labelList(classify.Sentiments))
		return
	}
	id := r.PathValue("id")
	_, msgs, err := a.Store.GetCase(r.Context(), id)
	if err != nil {
		a.caseError(w, r, id, err)
		return
	}
	var msg *care.StoredMessage
	for i := len(msgs) - 1; i >= 0; i-- {
		m := &msgs[i]
		if req.MessageID != "" && m.ID == req.MessageID || req.MessageID == "" && m.Direction == care.Inbound && m.Text != "" {
			msg = m
			break
		}
	}
	if req.MessageID != "" && (msg == nil || msg.Direction != care.Inbound) {
		badRequest(w, "bad_message_id", "message_id %q is not an inbound message of case %s", req.MessageID, id)
		return
	}
	me := callerFrom(r.Context())
	c, err := a.Store.OverrideTriage(r.Context(), id, care.Triage{Intent: string(req.Intent), Sentiment: string(req.Sentiment)})
	if err != nil {
		a.caseError(w, r, id, err)
		return
	}
	res := LabelsResult{Case: c}
	if msg != nil && msg.Text != "" {
		corr := store.Correction{
			Correction: classify.Correction{Text: msg.Text, Lang: msg.Lang, Intent: req.Intent, Sentiment: req.Sentiment},
			CaseID:     id, MessageID: msg.ID, AgentID: me.ID, CorrectedAt: a.now(),
		}
		decisions, err := a.Store.ListDecisions(r.Context(), id)
		if err != nil {
			a.internal(w, r, err)
			return
		}
		for _, d := range decisions {
			if d.MessageID == msg.ID {
				if req.Intent != "" {
					corr.WasIntent = classify.Intent(d.Labels.Intent)
				}
				if req.Sentiment != "" {
					corr.WasSentiment = classify.Sentiment(d.Labels.Sentiment)
				}
			}
		}
		if err := a.Store.AddCorrection(r.Context(), corr); err != nil {
			a.internal(w, r, err)
			return
		}
		res.Correction = &corr
	}
	a.audit(r, "case recategorised", "case_id", id, "intent", req.Intent, "sentiment", req.Sentiment)
	httpjson.Write(w, http.StatusOK, res)
}

// TriageRequest is the body of PUT /v1/cases/{id}/triage. At least one field is
// required.
type TriageRequest struct {
	// Priority is 0–999.
	Priority *int `json:"priority,omitempty"`
	// Department is one of the protocol's departments.
	Department string `json:"department,omitempty"`
}

// setTriage sets the case's priority and department, pinned against the
// protocol's later decisions.
func (a *API) setTriage(w http.ResponseWriter, r *http.Request) {
	var req TriageRequest
	if !decode(w, r, &req) {
		return
	}
	switch {
	case req.Priority == nil && req.Department == "":
		badRequest(w, "bad_triage", "set priority, department or both")
		return
	case req.Priority != nil && (*req.Priority < 0 || *req.Priority > 999):
		badRequest(w, "bad_priority", "priority %d is outside 0 to 999", *req.Priority)
		return
	case req.Department != "" && !slices.Contains(a.Engine.Departments(), req.Department):
		badRequest(w, "bad_department", "department %q is not one of the protocol's: %s", req.Department, strings.Join(a.Engine.Departments(), ", "))
		return
	}
	id := r.PathValue("id")
	c, err := a.Store.OverrideTriage(r.Context(), id, care.Triage{Priority: req.Priority, Department: req.Department})
	if err != nil {
		a.caseError(w, r, id, err)
		return
	}
	a.audit(r, "case triaged", "case_id", id, "priority", c.Priority, "department", c.Department)
	httpjson.Write(w, http.StatusOK, CaseResult{Case: c})
}

func (a *API) resolve(w http.ResponseWriter, r *http.Request) { a.setStatus(w, r, care.Resolved) }

func (a *API) reopen(w http.ResponseWriter, r *http.Request) { a.setStatus(w, r, care.Open) }

// setStatus moves the case to status (a case already there is left as it is).
func (a *API) setStatus(w http.ResponseWriter, r *http.Request, status care.Status) {
	var body struct{}
	if !decode(w, r, &body) {
		return
	}
	id := r.PathValue("id")
	c, err := a.Store.SetStatus(r.Context(), id, status, a.now())
	if err != nil {
		a.caseError(w, r, id, err)
		return
	}
	a.audit(r, "case "+string(status), "case_id", id)
	httpjson.Write(w, http.StatusOK, CaseResult{Case: c})
}
