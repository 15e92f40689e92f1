package agentapi

import (
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/httpjson"
)

// Bounds of an agent's profile.
const (
	MaxDisplayName = 80
	MaxLanguages   = 10
)

// AgentList is the body of GET /v1/agents.
type AgentList struct {
	Agents []care.AgentProfile `json:"agents"`
}

func (a *API) listAgents(w http.ResponseWriter, r *http.Request) {
	list, err := a.Store.ListAgents(r.Context())
	if err != nil {
		a.internal(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, AgentList{Agents: nonNil(list)})
}

// Me is the body of GET and PUT /v1/agents/me.
type Me struct {
	Agent *care.AgentProfile `json:"agent"`
	// SignsAs is the signature the agent's replies end with.
	SignsAs string `json:"signs_as"`
	// Role is what the agent may do, as their credential says (the console
	// offers what it allows; the server checks every call).
	Role Role `json:"role"`
}

func (a *API) getMe(w http.ResponseWriter, r *http.Request) {
	me := callerFrom(r.Context())
	p, err := a.Store.GetAgent(r.Context(), me.ID)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	a.writeMe(w, r, p)
}

func (a *API) writeMe(w http.ResponseWriter, r *http.Request, p *care.AgentProfile) {
	c := caller{Agent: Agent{ID: p.ID}, DisplayName: p.DisplayName, Signature: p.Signature}
	httpjson.Write(w, http.StatusOK, Me{Agent: p, SignsAs: a.Engine.AgentSignature(a.signatureName(r.Context(), c)), Role: callerFrom(r.Context()).Role})
}

// ProfileRequest is the body of PUT /v1/agents/me: the whole editable profile.
type ProfileRequest struct {
	// DisplayName is required: 1 to MaxDisplayName characters.
	DisplayName string `json:"display_name"`
	// Signature ends the agent's replies; it must have the protocol's form (its
	// agent_signature with a first name: "^Ana"). Empty: the protocol's form with
	// the display name's first word.
	Signature string `json:"signature,omitempty"`
	// Languages the agent answers in ("es", "en").
	Languages []string `json:"languages,omitempty"`
	// Department is one of the protocol's departments, or empty.
	Department string `json:"department,omitempty"`
}

func (a *API) putMe(w http.ResponseWriter, r *http.Request) {
	var req ProfileRequest
	if !decode(w, r, &req) {
		return
	}
	name := strings.TrimSpace(req.DisplayName)
	switch n := utf8.RuneCountInString(name); {
	case n == 0 || n > MaxDisplayName || !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		badRequest(w, "bad_display_name", "display_name is required: 1 to %d printable characters", MaxDisplayName)
		return
	case req.Department != "" && !slices.Contains(a.Engine.Departments(), req.Department):
		badRequest(w, "bad_department", "department %q is not one of the protocol's: %s", req.Department, strings.Join(a.Engine.Departments(), ", "))
		return
	case len(req.Languages) > MaxLanguages:
		badRequest(w, "bad_languages", "at most %d languages", MaxLanguages)
		return
	}
	for i, l := range req.Languages {
		if !langRE.MatchString(l) || slices.Contains(req.Languages[:i], l) {
			badRequest(w, "bad_languages", "languages must be distinct language tags like es or en; %q is not", l)
			return
		}
	}
	if req.Signature != "" {
		if _, err := a.Engine.SignatureName(req.Signature); err != nil {
			badRequest(w, "bad_signature", "%s", strings.TrimPrefix(err.Error(), "protocol: "))
			return
		}
	}
	me := callerFrom(r.Context())
	p, err := a.Store.PutAgent(r.Context(), care.AgentProfile{ID: me.ID, DisplayName: name, Signature: req.Signature, Languages: req.Languages, Department: req.Department})
	if err != nil {
		a.internal(w, r, err)
		return
	}
	a.audit(r, "profile updated")
	a.writeMe(w, r, p)
}

// AuditList is the body of GET /v1/agents/{id}/audit: what the person did,
// newest first.
type AuditList struct {
	Entries []care.AuditEntry `json:"entries"`
}

// maxAudit bounds GET /v1/agents/{id}/audit.
const maxAudit = 200

func (a *API) agentAudit(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !validAgentID(id) {
		badRequest(w, "bad_agent_id", "%q is not an agent id", id)
		return
	}
	entries, err := a.Store.PersonAudit(r.Context(), id, maxAudit)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, AuditList{Entries: nonNil(entries)})
}
