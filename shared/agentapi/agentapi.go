// Package agentapi is the agents' HTTP API under /v1/: the case queue and the
// conversation of each case. It is a plain net/http handler, served by the local dev
// system and, through an API Gateway adapter, by the agentapi Lambda function.
//
// Every route needs a bearer credential. Behind API Gateway a JWT authorizer checks it
// first; the handler's Authenticator decides again (locally it compares the token from
// PAJARITO_AGENT_TOKEN in constant time).
package agentapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/httpjson"
	"github.com/pajarito-care/pajarito/shared/store"
)

// Cases is what the API reads cases from (store.Store implements it).
type Cases interface {
	GetCase(ctx context.Context, id string) (*care.Case, []care.StoredMessage, error)
	ListCases(ctx context.Context, q store.ListQuery) ([]care.CaseSummary, string, error)
	ListDecisions(ctx context.Context, caseID string) ([]care.DecisionRecord, error)
}

// Authenticator checks a request's bearer token and returns the agent it belongs to.
type Authenticator interface {
	Authenticate(r *http.Request, token string) (Agent, error)
}

// Agent is who is calling.
type Agent struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// StaticToken authenticates one shared token (the local system's PAJARITO_AGENT_TOKEN).
type StaticToken struct {
	Token string
	Agent Agent
}

// Authenticate implements Authenticator.
func (s StaticToken) Authenticate(_ *http.Request, token string) (Agent, error) {
	if s.Token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(s.Token)) != 1 {
		return Agent{}, errors.New("the bearer token is not valid")
	}
	return s.Agent, nil
}

// API serves the routes. Build it with New.
type API struct {
	cases Cases
	auth  Authenticator
	log   *slog.Logger
	mux   *http.ServeMux
}

// New returns the API; log may be nil.
func New(cases Cases, auth Authenticator, log *slog.Logger) *API {
	if log == nil {
		log = slog.Default()
	}
	a := &API{cases: cases, auth: auth, log: log, mux: http.NewServeMux()}
	a.mux.HandleFunc("GET /v1/cases", a.listCases)
	a.mux.HandleFunc("GET /v1/cases/{id}", a.getCase)
	a.mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		httpjson.WriteError(w, http.StatusNotFound, "not_found", "no route "+r.Method+" "+r.URL.Path)
	})
	return a
}

type agentKey struct{}

// AgentFrom returns the authenticated agent of a request served by the API.
func AgentFrom(ctx context.Context) (Agent, bool) {
	a, ok := ctx.Value(agentKey{}).(Agent)
	return a, ok
}

// ServeHTTP authenticates the request and routes it.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimLeft(token, " ") // RFC 7235: the scheme is followed by 1*SP
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pajarito"`)
		httpjson.WriteError(w, http.StatusUnauthorized, "unauthenticated", "send Authorization: Bearer <token>")
		return
	}
	agent, err := a.auth.Authenticate(r, token)
	if err != nil {
		a.log.WarnContext(r.Context(), "agent API: authentication refused", "path", r.URL.Path, "reason", err.Error())
		w.Header().Set("WWW-Authenticate", `Bearer realm="pajarito", error="invalid_token"`)
		httpjson.WriteError(w, http.StatusUnauthorized, "unauthenticated", err.Error())
		return
	}
	a.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), agentKey{}, agent)))
}

// CaseList is the body of GET /v1/cases.
type CaseList struct {
	Cases []care.CaseSummary `json:"cases"`
	// Next is the cursor of the next page; empty on the last one.
	Next string `json:"next,omitempty"`
}

func (a *API) listCases(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lq := store.ListQuery{Status: care.Open, Limit: 50, Cursor: q.Get("cursor")}
	if s := q.Get("status"); s != "" {
		switch st := care.Status(s); st {
		case care.Open, care.Pending, care.Resolved:
			lq.Status = st
		default:
			httpjson.WriteError(w, http.StatusBadRequest, "bad_status", "status must be open, pending or resolved")
			return
		}
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			httpjson.WriteError(w, http.StatusBadRequest, "bad_limit", "limit must be a whole number from 1 to 200")
			return
		}
		lq.Limit = n
	}
	cases, next, err := a.cases.ListCases(r.Context(), lq)
	if errors.Is(err, store.ErrBadCursor) {
		httpjson.WriteError(w, http.StatusBadRequest, "bad_cursor", "the cursor is not one this API returned; start again without it")
		return
	}
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if cases == nil {
		cases = []care.CaseSummary{}
	}
	httpjson.Write(w, http.StatusOK, CaseList{Cases: cases, Next: next})
}

// CaseDetail is the body of GET /v1/cases/{id}.
type CaseDetail struct {
	Case     *care.Case           `json:"case"`
	Messages []care.StoredMessage `json:"messages"`
	// Decisions are what the protocol decided on each inbound message, and why:
	// labels and their reasons, priority factors, department, actions, planned
	// replies.
	Decisions []care.DecisionRecord `json:"decisions"`
}

func (a *API) getCase(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	c, msgs, err := a.cases.GetCase(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		httpjson.WriteError(w, http.StatusNotFound, "case_not_found", "no case "+strconv.Quote(id))
		return
	}
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if msgs == nil {
		msgs = []care.StoredMessage{}
	}
	decisions, err := a.cases.ListDecisions(r.Context(), id)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if decisions == nil {
		decisions = []care.DecisionRecord{}
	}
	httpjson.Write(w, http.StatusOK, CaseDetail{Case: c, Messages: msgs, Decisions: decisions})
}

func (a *API) internal(w http.ResponseWriter, r *http.Request, err error) {
	a.log.ErrorContext(r.Context(), "agent API: request failed", "method", r.Method, "path", r.URL.Path, "error", err.Error())
	httpjson.WriteError(w, http.StatusInternalServerError, "internal", "the request could not be completed; it is logged, try again")
}

// GatewayJWT authenticates requests that API Gateway's JWT authorizer has already
// verified (signature, issuer, audience, expiry): it reads the agent from the
// verified claims that API Gateway passes along, and refuses requests that carry
// none (a route deployed without the authorizer must not be open).
type GatewayJWT struct{}

// Authenticate implements Authenticator.
func (GatewayJWT) Authenticate(r *http.Request, _ string) (Agent, error) {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || rc.Authorizer == nil || rc.Authorizer.JWT == nil || rc.Authorizer.JWT.Claims["sub"] == "" {
		return Agent{}, errors.New("no verified JWT claims on the request: the route must sit behind the API's JWT authorizer")
	}
	claims := rc.Authorizer.JWT.Claims
	a := Agent{ID: claims["sub"], Name: claims["name"]}
	if a.Name == "" {
		a.Name = claims["cognito:username"]
	}
	return a, nil
}
