package agentapi

import (
	_ "embed"
	"net/http"
	"slices"
	"strings"

	"github.com/pajarito-care/pajarito/shared/httpjson"
)

// Route is one operation of the API.
type Route struct {
	Method string
	// Path is the net/http pattern path, which is also the OpenAPI path:
	// "/v1/cases/{id}".
	Path string
	// OperationID names the operation in the OpenAPI document.
	OperationID string
	// Role is the least role that may call it (the OpenAPI document's
	// x-pajarito-role); the server refuses the others, 403.
	Role   Role
	handle func(*API, http.ResponseWriter, *http.Request)
}

// routes is the one table the mux is built from and the OpenAPI document is
// checked against.
var routes = []Route{
	{http.MethodGet, "/v1/cases", "listCases", RoleContributor, (*API).listCases},
	{http.MethodGet, "/v1/cases/{id}", "getCase", RoleContributor, (*API).getCase},
	{http.MethodPost, "/v1/cases/{id}/claim", "claimCase", RoleAgent, (*API).claimCase},
	{http.MethodPost, "/v1/cases/{id}/assign", "assignCase", RoleAdmin, (*API).assignCase},
	{http.MethodPost, "/v1/cases/{id}/unassign", "unassignCase", RoleAgent, (*API).unassignCase},
	{http.MethodPost, "/v1/cases/{id}/replies", "replyToCase", RoleContributor, (*API).reply},
	{http.MethodGet, "/v1/approvals", "listApprovals", RoleAgent, (*API).listApprovals},
	{http.MethodPost, "/v1/cases/{id}/approvals/{draft}/approve", "approveReply", RoleAgent, (*API).approve},
	{http.MethodPost, "/v1/cases/{id}/approvals/{draft}/reject", "rejectReply", RoleAgent, (*API).reject},
	{http.MethodPost, "/v1/cases/{id}/lint", "lintReply", RoleContributor, (*API).lint},
	{http.MethodPost, "/v1/cases/{id}/notes", "addNote", RoleContributor, (*API).addNote},
	{http.MethodPut, "/v1/cases/{id}/labels", "recategoriseCase", RoleAgent, (*API).recategorise},
	{http.MethodPut, "/v1/cases/{id}/triage", "setTriage", RoleAgent, (*API).setTriage},
	{http.MethodPost, "/v1/cases/{id}/resolve", "resolveCase", RoleAgent, (*API).resolve},
	{http.MethodPost, "/v1/cases/{id}/reopen", "reopenCase", RoleAgent, (*API).reopen},
	{http.MethodGet, "/v1/customers/{id}/cases", "listCustomerCases", RoleContributor, (*API).listCustomerCases},
	{http.MethodGet, "/v1/agents", "listAgents", RoleContributor, (*API).listAgents},
	{http.MethodGet, "/v1/agents/me", "getMyProfile", RoleContributor, (*API).getMe},
	{http.MethodGet, "/v1/agents/{id}/audit", "getAgentAudit", RoleAdmin, (*API).agentAudit},
	{http.MethodPut, "/v1/agents/me", "putMyProfile", RoleContributor, (*API).putMe},
	{http.MethodGet, "/v1/crisis", "listCrises", RoleContributor, (*API).listCrises},
	{http.MethodPut, "/v1/crisis/{topic}", "setCrisis", RoleAdmin, (*API).setCrisis},
	{http.MethodPost, "/v1/crisis/{topic}/statement", "postStatement", RoleAdmin, (*API).postStatement},
	{http.MethodPut, "/v1/crisis/{topic}/followup", "setFollowUp", RoleAdmin, (*API).setFollowUp},
	{http.MethodGet, "/v1/templates", "listTemplates", RoleContributor, (*API).listTemplates},
	{http.MethodGet, "/v1/metrics", "getMetrics", RoleContributor, (*API).getMetrics},
	{http.MethodGet, "/v1/staffing", "getStaffing", RoleContributor, (*API).getStaffing},
	{http.MethodGet, "/v1/report", "getReport", RoleContributor, (*API).getReport},
	{http.MethodGet, "/v1/quarantine", "listQuarantine", RoleAgent, (*API).listQuarantine},
	{http.MethodPost, "/v1/quarantine/retry", "retryQuarantine", RoleAdmin, (*API).retryQuarantine},
	{http.MethodGet, "/v1/dlq", "listDLQ", RoleAgent, (*API).listDLQ},
	{http.MethodPost, "/v1/dlq/redrive", "redriveDLQ", RoleAdmin, (*API).redriveDLQ},
	{http.MethodGet, "/v1/health", "getHealth", RoleAgent, (*API).getHealth},
	{http.MethodGet, "/v1/openapi.json", "getOpenAPI", RoleContributor, (*API).openAPI},
}

// Routes returns the API's routes.
func Routes() []Route { return slices.Clone(routes) }

// newMux registers every route, a 405 (with Allow) for the other methods of each
// route's path, and a 404 for every other path under /v1/.
func (a *API) newMux() *http.ServeMux {
	mux := http.NewServeMux()
	allow := map[string][]string{}
	var paths []string
	for _, rt := range routes {
		mux.HandleFunc(rt.Method+" "+rt.Path, func(w http.ResponseWriter, r *http.Request) {
			if role := callerFrom(r.Context()).Role; !role.Allows(rt.Role) {
				forbidden(w, rt, role)
				return
			}
			rt.handle(a, w, r)
		})
		if _, ok := allow[rt.Path]; !ok {
			paths = append(paths, rt.Path)
		}
		allow[rt.Path] = append(allow[rt.Path], rt.Method)
		if rt.Method == http.MethodGet {
			allow[rt.Path] = append(allow[rt.Path], http.MethodHead) // a GET pattern serves HEAD
		}
	}
	for _, p := range paths {
		methods := strings.Join(allow[p], ", ")
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", methods)
			httpjson.WriteError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not served on "+r.URL.Path+"; use "+methods)
		})
	}
	mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		httpjson.WriteError(w, http.StatusNotFound, "not_found", "no route "+r.Method+" "+r.URL.Path+"; see GET /v1/openapi.json")
	})
	return mux
}

//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI returns the API's OpenAPI 3 document (JSON).
func OpenAPI() []byte { return slices.Clone(openAPIDocument) }

func (a *API) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openAPIDocument)
}
