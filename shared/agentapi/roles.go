package agentapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/pajarito-care/pajarito/shared/httpjson"
)

// Role is what a person may do in the agent API and the console. Each route
// needs one (Route.Role); a person's role comes from their credential
// (Authenticator), and one who has none gets no access.
type Role string

// The roles, from the most to the least allowed.
const (
	// RoleAdmin may do everything an agent may, plus the team's settings:
	// open and close crises, assign cases to anyone, retry quarantined
	// deliveries and redrive dead letters.
	RoleAdmin Role = "admin"
	// RoleAgent is a trained person: claims cases, answers customers, writes
	// notes, relabels, triages, resolves.
	RoleAgent Role = "agent"
	// RoleContributor reads cases, writes notes and checks drafts with the
	// linter; what they write to a customer waits for an agent's approval.
	RoleContributor Role = "contributor"
)

// Roles lists the roles, the most allowed first.
var Roles = []Role{RoleAdmin, RoleAgent, RoleContributor}

func (r Role) rank() int {
	switch r {
	case RoleAdmin:
		return 3
	case RoleAgent:
		return 2
	case RoleContributor:
		return 1
	}
	return 0
}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// Allows reports whether a person of role r may use what needs role need.
func (r Role) Allows(need Role) bool { return r.Valid() && r.rank() >= need.rank() }

// ParseRole returns the role named s (case and surrounding space aside).
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !r.Valid() {
		return "", fmt.Errorf("agentapi: %q is not a role: use admin, agent or contributor", s)
	}
	return r, nil
}

// RoleFromClaim returns the most allowed role named in a JWT claim: one role,
// or a list of groups as API Gateway passes a list claim along ("[admin
// agent]"), as JSON (["agent"]), or separated by commas or spaces. Names that
// are not roles are ignored; "" when none is a role.
func RoleFromClaim(v string) Role {
	v = strings.TrimSpace(v)
	var names []string
	if json.Unmarshal([]byte(v), &names) != nil {
		names = strings.FieldsFunc(strings.Trim(v, "[]"), func(c rune) bool { return c == ',' || c == ' ' })
	}
	var best Role
	for _, n := range names {
		if r := Role(strings.ToLower(strings.Trim(n, `" `))); r.rank() > best.rank() {
			best = r
		}
	}
	return best
}

// forbidden answers 403 for a route the caller's role does not allow,
// naming the role it needs.
func forbidden(w http.ResponseWriter, rt Route, have Role) {
	who := "your account has no Pajarito role: an admin adds you to one (admin, agent or contributor; README: Roles and approvals)"
	if have.Valid() {
		who = "you are " + article(have) + " " + string(have)
	}
	httpjson.Write(w, http.StatusForbidden, forbiddenError{Error: forbiddenDetail{
		Code:       "forbidden",
		Message:    fmt.Sprintf("%s %s needs the %s role or above; %s", rt.Method, rt.Path, rt.Role, who),
		RoleNeeded: rt.Role, Role: have,
	}})
}

// forbiddenError is a 403's body: httpjson's error, with the roles.
type forbiddenError struct {
	Error forbiddenDetail `json:"error"`
}

type forbiddenDetail struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	RoleNeeded Role   `json:"role_needed"`
	Role       Role   `json:"role,omitempty"`
}

func article(r Role) string {
	if r == RoleAdmin || r == RoleAgent {
		return "an"
	}
	return "a"
}
