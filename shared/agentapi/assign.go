package agentapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/httpjson"
	"github.com/pajarito-care/pajarito/shared/store"
)

// CaseResult is the body of the routes that change a case.
type CaseResult struct {
	Case *care.Case `json:"case"`
}

// claimCase gives the case to the caller if nobody holds it (or they do already);
// when another agent holds it, 409 names them.
func (a *API) claimCase(w http.ResponseWriter, r *http.Request) {
	var body struct{}
	if !decode(w, r, &body) {
		return
	}
	me := callerFrom(r.Context())
	a.assign(w, r, store.Assignment{To: me.ID, ToName: me.DisplayName, By: me.ID}, "case claimed")
}

// AssignRequest is the body of POST /v1/cases/{id}/assign.
type AssignRequest struct {
	// AgentID is who gets the case (an agent with a profile).
	AgentID string `json:"agent_id"`
	// Replace is the agent the caller knows holds the case: taking a case from
	// someone must name them. Empty: the case must be unassigned.
	Replace string `json:"replace,omitempty"`
}

// assignCase gives the case to an agent, explicitly: from nobody, or from the
// agent named by replace.
func (a *API) assignCase(w http.ResponseWriter, r *http.Request) {
	var req AssignRequest
	if !decode(w, r, &req) {
		return
	}
	switch {
	case !validAgentID(req.AgentID):
		badRequest(w, "bad_agent_id", "agent_id is required: the id of the agent who gets the case (GET /v1/agents lists them)")
		return
	case req.Replace != "" && !validAgentID(req.Replace):
		badRequest(w, "bad_replace", "replace %q is not an agent id", req.Replace)
		return
	}
	to, err := a.Store.GetAgent(r.Context(), req.AgentID)
	if errors.Is(err, store.ErrNotFound) {
		badRequest(w, "unknown_agent", "no agent %s: GET /v1/agents lists them", strconv.Quote(req.AgentID))
		return
	}
	if err != nil {
		a.internal(w, r, err)
		return
	}
	me := callerFrom(r.Context())
	a.assign(w, r, store.Assignment{From: req.Replace, To: to.ID, ToName: to.DisplayName, By: me.ID}, "case assigned")
}

// UnassignRequest is the body of POST /v1/cases/{id}/unassign.
type UnassignRequest struct {
	// Assignee is the agent the caller knows holds the case; empty means the
	// caller.
	Assignee string `json:"assignee,omitempty"`
}

// unassignCase releases the case from the caller (or from the agent named).
func (a *API) unassignCase(w http.ResponseWriter, r *http.Request) {
	var req UnassignRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Assignee != "" && !validAgentID(req.Assignee) {
		badRequest(w, "bad_assignee", "assignee %q is not an agent id", req.Assignee)
		return
	}
	me := callerFrom(r.Context())
	from := req.Assignee
	if from == "" {
		from = me.ID
	}
	a.assign(w, r, store.Assignment{From: from, By: me.ID}, "case released")
}

func (a *API) assign(w http.ResponseWriter, r *http.Request, as store.Assignment, what string) {
	id := r.PathValue("id")
	as.At = a.now()
	c, err := a.Store.Assign(r.Context(), id, as)
	if err != nil {
		a.caseError(w, r, id, err)
		return
	}
	a.audit(r, what, "case_id", id, "assignee", c.Assignee)
	httpjson.Write(w, http.StatusOK, CaseResult{Case: c})
}
