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
// (the JWT's subject), Name what the credential calls them. The agent's profile
// (display name, signature) is stored by the API; see GET /v1/agents/me.
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
	a := Agent{ID: claims["sub"]}
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
