// Package agentapi is the agents' HTTP API under /v1/: the case queue and each
// case's conversation, the customer's other cases, claiming and assigning cases,
// replies (and their dry run, which lints a reply while the agent writes it),
// internal notes, corrections of the classifier's labels, priority and
// department, resolving, agents' profiles, crisis mode, the reply templates, the
// queue messages the processor could not process (quarantined, and put back on
// the inbound queue once fixed) and the dead-letter queues (their depth, and
// moving their messages back).
// It is a plain net/http handler, served by the local dev system and, through an
// API Gateway adapter, by the agentapi Lambda function. Its routes (Routes) are
// described by an OpenAPI 3 document served at GET /v1/openapi.json.
//
// Every route needs a bearer credential. Behind API Gateway a JWT authorizer checks it
// first; the handler's Authenticator decides again (locally it compares the token from
// PAJARITO_AGENT_TOKEN in constant time). The first request of an agent creates
// their profile (display name from the credential); the profile's display name and
// signature then sign their replies.
//
// Errors are JSON {"error":{"code","message"}} with the status that fits: 400 for
// a request that is not valid (unknown JSON fields and query parameters included),
// 401 without a valid credential, 404 for an unknown route or case, 405 (with
// Allow) for a method a route does not serve, 409 for a case held by another agent
// (with who holds it), a draft id reused for another reply, or a draft another
// request is sending, 413 for a body over MaxBodyBytes, 415 for a body that is not
// application/json, 422 for a reply the linter refuses (with the rules broken), 500
// for a failure (logged, never detailed in the response), and 503 when the
// outbound queue cannot take a reply (send the same draft again).
package agentapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/health"
	"github.com/pajarito-care/pajarito/shared/httpjson"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/store"
)

// Store is what the API reads and writes (store.Store implements it).
type Store interface {
	GetCase(ctx context.Context, id string) (*care.Case, []care.StoredMessage, error)
	ListCases(ctx context.Context, q store.ListQuery) ([]care.CaseSummary, string, error)
	ListDecisions(ctx context.Context, caseID string) ([]care.DecisionRecord, error)
	ListReplies(ctx context.Context, caseID string) ([]care.ReplyStatus, error)
	// CustomerCases returns the ids of the customer's cases opened at or after
	// since, oldest first; GetCaseItem reads a case without its messages.
	CustomerCases(ctx context.Context, customerID string, since time.Time) ([]string, error)
	GetCaseItem(ctx context.Context, id string) (*care.Case, error)

	Assign(ctx context.Context, caseID string, a store.Assignment) (*care.Case, error)
	SetStatus(ctx context.Context, caseID string, status care.Status, at time.Time) (*care.Case, error)
	OverrideTriage(ctx context.Context, caseID string, t care.Triage) (*care.Case, error)
	AddCorrection(ctx context.Context, c store.Correction) error

	AddNote(ctx context.Context, n care.Note) (*care.Note, error)
	ListNotes(ctx context.Context, caseID string) ([]care.Note, error)

	GetDraft(ctx context.Context, caseID, draftID string) (*store.Draft, error)
	PutDraft(ctx context.Context, d store.Draft) (bool, error)
	// PendingApprovals, DecideDraft and CaseDrafts keep the replies that wait
	// for an approval.
	PendingApprovals(ctx context.Context, limit int) ([]store.Draft, error)
	DecideDraft(ctx context.Context, caseID, draftID string, a store.DraftApproval, req *care.ReplyRequest, leaseUntil time.Time) (bool, error)
	CaseDrafts(ctx context.Context, caseID string) ([]store.Draft, error)
	// CrisisPosts reads a crisis's statement thread.
	CrisisPosts(ctx context.Context, threadID string) ([]store.CrisisPost, error)
	// GetFollowUpText, SetFollowUpText and GetFollowUpJob read and write the
	// follow-ups of a crisis: the text an admin wrote, and their outcome.
	GetFollowUpText(ctx context.Context, topic string, opened time.Time) (*store.FollowUpText, error)
	SetFollowUpText(ctx context.Context, topic string, opened time.Time, t store.FollowUpText) error
	GetFollowUpJob(ctx context.Context, topic string, opened time.Time) (*store.FollowUpJob, error)
	// PastCrises reads the archived crises of a period, for the report.
	PastCrises(ctx context.Context, from, to time.Time) ([]store.FollowUpJob, error)
	// PutAudit, CaseAudit and PersonAudit keep and read the audit trail.
	PutAudit(ctx context.Context, e care.AuditEntry) (care.AuditEntry, error)
	CaseAudit(ctx context.Context, caseID string) ([]care.AuditEntry, error)
	PersonAudit(ctx context.Context, actor string, limit int) ([]care.AuditEntry, error)
	LeaseDraft(ctx context.Context, caseID, draftID string, from, until time.Time) (bool, error)
	MarkDraftQueued(ctx context.Context, caseID, draftID string, at time.Time) error

	GetAgent(ctx context.Context, id string) (*care.AgentProfile, error)
	EnsureAgent(ctx context.Context, p care.AgentProfile) (*care.AgentProfile, error)
	PutAgent(ctx context.Context, p care.AgentProfile) (*care.AgentProfile, error)
	ListAgents(ctx context.Context) ([]care.AgentProfile, error)

	// ListQuarantine returns up to limit quarantined queue messages, newest first.
	ListQuarantine(ctx context.Context, limit int) ([]store.Quarantined, error)
	// PendingQuarantine, ClaimQuarantined, RequeuedQuarantined and
	// ReleaseQuarantined put quarantined messages back on the inbound queue, each
	// once (POST /v1/quarantine/retry).
	PendingQuarantine(ctx context.Context, ids []string, after string, limit int) ([]store.Quarantined, string, error)
	ClaimQuarantined(ctx context.Context, q store.Quarantined, lease time.Duration) (string, error)
	RequeuedQuarantined(ctx context.Context, q store.Quarantined, token string) error
	ReleaseQuarantined(ctx context.Context, q store.Quarantined, token string) error
}

// Inbox is the inbound queue, where deliveries wait for the processor
// (*queue.Sender implements it). Quarantined deliveries go back through it.
type Inbox interface {
	SendBodies(ctx context.Context, bodies []string) error
}

// DeadLetters are the dead-letter queues of the inbound and outbound queues, named
// QueueInbound and QueueOutbound (*queue.Redrive implements it).
type DeadLetters interface {
	Depths(ctx context.Context) ([]queue.Depth, error)
	Redrive(ctx context.Context, name string) (queue.Redriven, error)
}

// The queues' names in the API (GET /v1/dlq, POST /v1/dlq/redrive).
const (
	QueueInbound  = "inbound"
	QueueOutbound = "outbound"
)

// CrisisMonitor reads and sets crisis mode (*protocol.Monitor implements it).
type CrisisMonitor interface {
	States(ctx context.Context) ([]care.CrisisState, error)
	Open(ctx context.Context, topic, by string, now time.Time) (bool, error)
	Close(ctx context.Context, topic, by string, now time.Time) (bool, error)
}

// Deps are what the API is built from. Log and Now are optional.
type Deps struct {
	Store Store
	// Engine is the care protocol: it signs and lints replies, and lists the
	// departments, crisis topics and templates.
	Engine *protocol.Engine
	Crisis CrisisMonitor
	// Outbox is the outbound queue, where agents' replies wait for the reply
	// sender.
	Outbox protocol.Outbox
	// Inbox is the inbound queue, where retried quarantined deliveries go.
	Inbox Inbox
	// DeadLetters moves dead letters back to their queues.
	DeadLetters DeadLetters
	// Health runs the operator's checks of GET /v1/health; nil answers 501. Its
	// WebhookURL, when empty, is the webhook on the request's origin.
	Health *health.Checker
	Auth   Authenticator
	// Log receives failures and an audit line per change; nil means slog.Default().
	Log *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Staffing is the staffing target and handle time of GET /v1/staffing and
	// GET /v1/report; zero means config.DefaultStaffing(). Brand is the brand's
	// X handle the report names (optional).
	Staffing config.Staffing
	Brand    string
}

// API serves the routes. Build it with New.
type API struct {
	Deps
	mux *http.ServeMux
}

// New returns the API over d, or an error naming the dependencies missing.
func New(d Deps) (*API, error) {
	var missing []string
	for _, dep := range []struct {
		name string
		nil  bool
	}{
		{"Store", d.Store == nil}, {"Engine", d.Engine == nil}, {"Crisis", d.Crisis == nil},
		{"Outbox", d.Outbox == nil}, {"Inbox", d.Inbox == nil}, {"DeadLetters", d.DeadLetters == nil},
		{"Auth", d.Auth == nil},
	} {
		if dep.nil {
			missing = append(missing, dep.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("agentapi: Deps.%s missing", strings.Join(missing, ", Deps."))
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	a := &API{Deps: d}
	a.mux = a.newMux()
	return a, nil
}

func (a *API) now() time.Time { return a.Now().UTC() }

// ServeHTTP authenticates the request, finds (or creates) the agent's profile and
// routes the request.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimLeft(token, " ") // RFC 7235: the scheme is followed by 1*SP
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pajarito"`)
		httpjson.WriteError(w, http.StatusUnauthorized, "unauthenticated", "send Authorization: Bearer <token>")
		return
	}
	agent, err := a.Auth.Authenticate(r, token)
	if err == nil && !validAgentID(agent.ID) {
		err = errors.New("the credential names no usable agent id")
	}
	if err != nil {
		a.Log.WarnContext(r.Context(), "agent API: authentication refused", "path", r.URL.Path, "reason", err.Error())
		w.Header().Set("WWW-Authenticate", `Bearer realm="pajarito", error="invalid_token"`)
		httpjson.WriteError(w, http.StatusUnauthorized, "unauthenticated", err.Error())
		return
	}
	if !agent.Role.Valid() {
		a.Log.WarnContext(r.Context(), "agent API: a person with no role", "agent", agent.ID, "path", r.URL.Path)
		httpjson.WriteError(w, http.StatusForbidden, "no_role", "your account has no Pajarito role: an admin adds you to one (admin, agent or contributor; README: Roles and approvals)")
		return
	}
	ctx := context.WithValue(r.Context(), agentKey{}, caller{Agent: agent})
	profile, err := a.profile(ctx, agent)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	c := caller{Agent: agent, DisplayName: profile.DisplayName, Signature: profile.Signature}
	a.mux.ServeHTTP(w, r.WithContext(context.WithValue(ctx, agentKey{}, c)))
}

// profile returns the agent's profile, creating it from the credential the first
// time the agent is seen.
func (a *API) profile(ctx context.Context, agent Agent) (*care.AgentProfile, error) {
	p, err := a.Store.GetAgent(ctx, agent.ID)
	if !errors.Is(err, store.ErrNotFound) {
		return p, err
	}
	name := strings.TrimSpace(agent.Name)
	if name == "" {
		name = agent.ID
	}
	return a.Store.EnsureAgent(ctx, care.AgentProfile{ID: agent.ID, DisplayName: name})
}
