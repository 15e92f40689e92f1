package agentapi_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/store"
)

// recorder is a Store that remembers the agent each profile lookup and case read
// was made for.
type recorder struct {
	agentapi.Store
	mu     sync.Mutex
	agents []agentapi.Agent
}

func (r *recorder) record(ctx context.Context) {
	a, ok := agentapi.AgentFrom(ctx)
	if !ok {
		a = agentapi.Agent{ID: "<none>"}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.agents = append(r.agents, a)
}

func (r *recorder) seen() []agentapi.Agent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]agentapi.Agent(nil), r.agents...)
}

func (r *recorder) GetAgent(ctx context.Context, id string) (*care.AgentProfile, error) {
	r.record(ctx)
	return r.Store.GetAgent(ctx, id)
}

// concrete returns a route's path with its wildcards filled in: a customer's id
// is ana's, any other {id} a case's.
func concrete(path string) string {
	return strings.NewReplacer("/v1/customers/{id}/", "/v1/customers/"+ana+"/", "{id}", caseAnaPublic, "{topic}", "delays", "{draft}", "d-none").Replace(path)
}

// TestEveryRouteNeedsAToken sends every route of the table without a valid
// credential: 401, with WWW-Authenticate, and nothing reaches the store.
func TestEveryRouteNeedsAToken(t *testing.T) {
	s := newStore(t)
	seed(t, s)
	rec := &recorder{Store: s}
	e := serve(t, s, rec)
	creds := []struct{ name, auth string }{
		{"none", ""},
		{"basic scheme", "Basic " + token},
		{"bearer without token", "Bearer "},
		{"bearer alone", "Bearer"},
		{"bearer with only spaces", "Bearer    "},
		{"wrong token", "Bearer not-the-token"},
		{"token prefix", "Bearer " + token[:len(token)-1]},
		{"token with suffix", "Bearer " + token + "x"},
	}
	paths := []struct{ method, path string }{{http.MethodGet, "/v1/nope"}, {http.MethodDelete, "/v1/cases"}}
	for _, rt := range agentapi.Routes() {
		paths = append(paths, struct{ method, path string }{rt.Method, concrete(rt.Path)})
	}
	for _, p := range paths {
		for _, c := range creds {
			t.Run(p.method+" "+p.path+"/"+c.name, func(t *testing.T) {
				r := do(t, p.method, e.base+p.path, c.auth, `{"text":"x"}`)
				er := wantError(t, r, http.StatusUnauthorized, "unauthenticated")
				if h := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer ") || !strings.Contains(h, `realm="pajarito"`) {
					t.Errorf("WWW-Authenticate = %q", h)
				}
				if strings.Contains(er.Error.Message, token) {
					t.Errorf("error message %q echoes the token", er.Error.Message)
				}
			})
		}
	}
	if got := rec.seen(); len(got) != 0 {
		t.Errorf("unauthenticated requests reached the store for %v", got)
	}

	// Accepted credentials reach the store with the agent.
	for _, auth := range []string{"Bearer " + token, "bearer " + token, "Bearer   " + token} {
		r := do(t, http.MethodGet, e.base+"/v1/cases", auth, nil)
		ok(t, r, http.StatusOK, nil)
	}
	seen := rec.seen()
	if len(seen) != 3 {
		t.Fatalf("store called %d times, want 3", len(seen))
	}
	for _, a := range seen {
		if a != localAgent {
			t.Errorf("store called for agent %+v, want %+v", a, localAgent)
		}
	}
}

// gatewayEvent is an API Gateway HTTP API (payload 2.0) GET of path carrying the
// JWT claims (nil: no authorizer).
func gatewayEvent(path, auth string, claims map[string]string) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{
		Version:  "2.0",
		RouteKey: "GET " + path,
		RawPath:  path,
		Headers:  map[string]string{},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			DomainName: "api.example.com",
			Stage:      "$default",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: http.MethodGet, Path: path, Protocol: "HTTP/1.1", SourceIP: "203.0.113.7",
			},
		},
	}
	if auth != "" {
		ev.Headers["authorization"] = auth
	}
	if claims != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
		}
	}
	return ev
}

// gatewayAPI is the API with GatewayJWT over rec.
func gatewayAPI(t *testing.T, s *store.Store, rec *recorder) *agentapi.API {
	t.Helper()
	eng, err := protocol.New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	api, err := agentapi.New(agentapi.Deps{
		Store: rec, Engine: eng, Crisis: eng.Monitor(s, nil, nil), Outbox: &outbox{}, Inbox: &inbox{}, DeadLetters: &deadLetters{},
		Auth: agentapi.GatewayJWT{}, Log: slog.New(slog.DiscardHandler), Now: clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	return api
}

func TestGatewayJWT(t *testing.T) {
	s := newStore(t)
	seed(t, s)
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhMSJ9.c2lnbmF0dXJl"
	const groups = agentapi.DefaultRoleClaim

	tests := []struct {
		name   string
		path   string
		auth   string
		claims map[string]string
		status int
		agent  agentapi.Agent // when status is 200
		// display is the profile's display name created from the claims.
		display string
	}{
		{name: "claims with name", path: "/v1/cases", auth: "Bearer " + jwt,
			claims: map[string]string{"sub": "a1", "name": "Ana", groups: "[agent]"}, status: http.StatusOK, agent: agentapi.Agent{ID: "a1", Name: "Ana", Role: agentapi.RoleAgent}, display: "Ana"},
		{name: "detail", path: "/v1/cases/" + caseAnaDM, auth: "Bearer " + jwt,
			claims: map[string]string{"sub": "a1", "name": "Ana", groups: "[agent]"}, status: http.StatusOK, agent: agentapi.Agent{ID: "a1", Name: "Ana", Role: agentapi.RoleAgent}, display: "Ana"},
		{name: "cognito username", path: "/v1/cases", auth: "Bearer " + jwt,
			claims: map[string]string{"sub": "b2", "cognito:username": "beto", groups: "[contributor admin]"}, status: http.StatusOK, agent: agentapi.Agent{ID: "b2", Name: "beto", Role: agentapi.RoleAdmin}, display: "beto"},
		{name: "cognito access token", path: "/v1/cases", auth: "Bearer " + jwt,
			claims: map[string]string{"sub": "d4", "username": "dora@example.com", "client_id": "abc", "token_use": "access", groups: "[contributor]"}, status: http.StatusOK,
			agent: agentapi.Agent{ID: "d4", Name: "dora@example.com", Role: agentapi.RoleContributor}, display: "dora@example.com"},
		{name: "sub only", path: "/v1/cases", auth: "Bearer " + jwt,
			claims: map[string]string{"sub": "c3", groups: "[agent]"}, status: http.StatusOK, agent: agentapi.Agent{ID: "c3", Role: agentapi.RoleAgent}, display: "c3"},
		{name: "no group", path: "/v1/cases", auth: "Bearer " + jwt,
			claims: map[string]string{"sub": "e5", "name": "Eva"}, status: http.StatusForbidden},
		{name: "groups that are not roles", path: "/v1/cases", auth: "Bearer " + jwt,
			claims: map[string]string{"sub": "e5", "name": "Eva", groups: "[marketing us-east-1_AbC_Google]"}, status: http.StatusForbidden},
		{name: "claims without sub", path: "/v1/cases", auth: "Bearer " + jwt,
			claims: map[string]string{"name": "Ana"}, status: http.StatusUnauthorized},
		{name: "empty claims", path: "/v1/cases", auth: "Bearer " + jwt,
			claims: map[string]string{}, status: http.StatusUnauthorized},
		{name: "no authorizer", path: "/v1/cases", auth: "Bearer " + jwt, status: http.StatusUnauthorized},
		{name: "claims but no bearer", path: "/v1/cases",
			claims: map[string]string{"sub": "a1"}, status: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{Store: s}
			res, err := httpadapter.NewV2(gatewayAPI(t, s, rec)).ProxyWithContext(t.Context(), gatewayEvent(tt.path, tt.auth, tt.claims))
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body %s", res.StatusCode, tt.status, res.Body)
			}
			if tt.status == http.StatusForbidden {
				var e apiError
				if err := json.Unmarshal([]byte(res.Body), &e); err != nil || e.Error.Code != "no_role" {
					t.Errorf("body %s (%v), want error code no_role", res.Body, err)
				}
				if got := rec.seen(); len(got) != 0 {
					t.Errorf("a person with no role reached the store for %v", got)
				}
				return
			}
			if tt.status != http.StatusOK {
				if h := res.Headers[http.CanonicalHeaderKey("WWW-Authenticate")]; !strings.HasPrefix(h, "Bearer ") {
					t.Errorf("no WWW-Authenticate in %v", res.Headers)
				}
				var e apiError
				if err := json.Unmarshal([]byte(res.Body), &e); err != nil || e.Error.Code != "unauthenticated" {
					t.Errorf("body %s (%v), want error code unauthenticated", res.Body, err)
				}
				if got := rec.seen(); len(got) != 0 {
					t.Errorf("refused request reached the store for %v", got)
				}
				return
			}
			if got := rec.seen(); len(got) != 1 || got[0] != tt.agent {
				t.Errorf("store saw agents %+v, want [%+v]", got, tt.agent)
			}
			p, err := s.GetAgent(t.Context(), tt.agent.ID)
			if err != nil || p.DisplayName != tt.display {
				t.Errorf("profile %+v, %v; want display name %q", p, err, tt.display)
			}
		})
	}

	t.Run("outside API Gateway", func(t *testing.T) {
		rec := &recorder{Store: s}
		srv := httptest.NewServer(gatewayAPI(t, s, rec))
		t.Cleanup(srv.Close)
		for _, path := range []string{"/v1/cases", "/v1/cases/" + caseAnaDM, "/v1/nope"} {
			r := do(t, http.MethodGet, srv.URL+path, "Bearer "+jwt, nil)
			wantError(t, r, http.StatusUnauthorized, "unauthenticated")
			if !strings.Contains(r.header.Get("WWW-Authenticate"), "invalid_token") {
				t.Errorf("%s: WWW-Authenticate = %q", path, r.header.Get("WWW-Authenticate"))
			}
		}
		if got := rec.seen(); len(got) != 0 {
			t.Errorf("unauthenticated requests reached the store for %v", got)
		}
	})
}

func TestStaticToken(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/v1/cases", nil)
	// A StaticToken with no token configured must not accept the empty token.
	for _, tok := range []string{"", " ", "anything"} {
		if a, err := (agentapi.StaticToken{Agent: localAgent}).Authenticate(req, tok); err == nil {
			t.Errorf("token %q accepted as %+v by an unconfigured StaticToken", tok, a)
		}
	}
	st := agentapi.StaticToken{Token: token, Agent: localAgent}
	if a, err := st.Authenticate(req, token); err != nil || a != localAgent {
		t.Errorf("right token: %+v, %v", a, err)
	}
	operator := agentapi.StaticToken{Token: token, Agent: agentapi.Agent{ID: "local"}}
	if a, err := operator.Authenticate(req, token); err != nil || a.Role != agentapi.RoleAdmin {
		t.Errorf("a StaticToken without a role: %+v, %v; want the machine's operator, an admin", a, err)
	}
	for _, tok := range []string{"", token[1:], token + " ", strings.ToUpper(token)} {
		if _, err := st.Authenticate(req, tok); err == nil {
			t.Errorf("token %q accepted", tok)
		}
	}
}

// TestRoleFromClaim reads a role from the shapes a role or groups claim takes.
func TestRoleFromClaim(t *testing.T) {
	for _, tt := range []struct {
		claim string
		want  agentapi.Role
	}{
		{"[agent]", agentapi.RoleAgent},
		{"[contributor admin]", agentapi.RoleAdmin},
		{`["contributor","agent"]`, agentapi.RoleAgent},
		{"contributor", agentapi.RoleContributor},
		{"Agent, marketing", agentapi.RoleAgent},
		{"[marketing]", ""},
		{"", ""},
		{"administrator", ""},
	} {
		if got := agentapi.RoleFromClaim(tt.claim); got != tt.want {
			t.Errorf("RoleFromClaim(%q) = %q, want %q", tt.claim, got, tt.want)
		}
	}
}

func TestNewNamesMissingDependencies(t *testing.T) {
	_, err := agentapi.New(agentapi.Deps{Auth: testTokens})
	if err == nil {
		t.Fatal("New accepted no store, engine, crisis monitor, outbox, inbox or dead-letter queues")
	}
	for _, dep := range []string{"Store", "Engine", "Crisis", "Outbox", "Inbox", "DeadLetters"} {
		if !strings.Contains(err.Error(), "Deps."+dep) {
			t.Errorf("error %q does not name Deps.%s", err, dep)
		}
	}
	if strings.Contains(err.Error(), "Auth") {
		t.Errorf("error %q names Auth, which is set", err)
	}
}
