package agentapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"
)

// Authenticator checks a request's bearer token and returns the agent it belongs to.
type Authenticator interface {
	Authenticate(r *http.Request, token string) (Agent, error)
}

// Agent is who is calling, as their credential says: ID is the stable identity
// (the JWT's subject), Name what the credential calls them, Role what they may
// do ("" when the credential names no role: no access). The agent's profile
// (display name, signature) is stored by the API; see GET /v1/agents/me.
type Agent struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	Role Role   `json:"role,omitempty"`
}

// StaticToken authenticates one shared token (the local system's
// PAJARITO_AGENT_TOKEN) as Agent, an admin when Agent.Role is unset: the
// operator of the machine.
type StaticToken struct {
	Token string
	Agent Agent
}

// Authenticate implements Authenticator.
func (s StaticToken) Authenticate(_ *http.Request, token string) (Agent, error) {
	if s.Token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(s.Token)) != 1 {
		return Agent{}, errors.New("the bearer token is not valid")
	}
	a := s.Agent
	if a.Role == "" {
		a.Role = RoleAdmin
	}
	return a, nil
}

// Person is one member of a local team: their own bearer token, and who they
// are (their role included).
type Person struct {
	Token string `json:"token"`
	Agent
}

// Tokens authenticates each person of a local team by their own token (pajarito
// dev --team), so that several people can work side by side.
type Tokens []Person

// Authenticate implements Authenticator.
func (ts Tokens) Authenticate(_ *http.Request, token string) (Agent, error) {
	for _, p := range ts {
		if p.Token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(p.Token)) == 1 {
			return p.Agent, nil
		}
	}
	return Agent{}, errors.New("the bearer token is not valid")
}

// GatewayJWT authenticates requests that API Gateway's JWT authorizer has already
// verified (signature, issuer, audience, expiry): it reads the agent from the
// verified claims that API Gateway passes along, and refuses requests that carry
// none (a route deployed without the authorizer must not be open). The role is
// the most allowed one among the groups of RoleClaim (RoleFromClaim).
type GatewayJWT struct {
	// RoleClaim is the claim that holds the person's role or groups;
	// DefaultRoleClaim when "".
	RoleClaim string
}

// DefaultRoleClaim is Cognito's claim of a user's groups, which the stack
// names after the roles.
const DefaultRoleClaim = "cognito:groups"

// Authenticate implements Authenticator.
func (g GatewayJWT) Authenticate(r *http.Request, _ string) (Agent, error) {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || rc.Authorizer == nil || rc.Authorizer.JWT == nil || rc.Authorizer.JWT.Claims["sub"] == "" {
		return Agent{}, errors.New("no verified JWT claims on the request: the route must sit behind the API's JWT authorizer")
	}
	claims := rc.Authorizer.JWT.Claims
	claim := g.RoleClaim
	if claim == "" {
		claim = DefaultRoleClaim
	}
	a := Agent{ID: claims["sub"], Role: RoleFromClaim(claims[claim])}
	// ID tokens carry "name" (or Cognito's "cognito:username"); Cognito access
	// tokens, what the deploy guide has agents send, carry "username" only.
	for _, c := range []string{"name", "cognito:username", "username", "email"} {
		if a.Name = claims[c]; a.Name != "" {
			break
		}
	}
	return a, nil
}

type agentKey struct{}

// caller is the authenticated agent and their profile.
type caller struct {
	Agent
	DisplayName string
	Signature   string
}

// AgentFrom returns the authenticated agent of a request served by the API.
func AgentFrom(ctx context.Context) (Agent, bool) {
	c, ok := ctx.Value(agentKey{}).(caller)
	return c.Agent, ok
}

// callerFrom returns the caller of a request that ServeHTTP authenticated.
func callerFrom(ctx context.Context) caller {
	c, _ := ctx.Value(agentKey{}).(caller)
	return c
}
