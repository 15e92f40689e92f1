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
	handle      func(*API, http.ResponseWriter, *http.Request)
}

// routes is the one table the mux is built from and the OpenAPI document is
// checked against.
var routes = []Route{
	{http.MethodGet, "/v1/cases", "listCases", (*API).listCases},
	{http.MethodGet, "/v1/cases/{id}", "getCase", (*API).getCase},
	{http.MethodPost, "/v1/cases/{id}/claim", "claimCase", (*API).claimCase},
	{http.MethodPost, "/v1/cases/{id}/assign", "assignCase", (*API).assignCase},
	{http.MethodPost, "/v1/cases/{id}/unassign", "unassignCase", (*API).unassignCase},
	{http.MethodPost, "/v1/cases/{id}/replies", "replyToCase", (*API).reply},
	{http.MethodPost, "/v1/cases/{id}/lint", "lintReply", (*API).lint},
	{http.MethodPost, "/v1/cases/{id}/notes", "addNote", (*API).addNote},
	{http.MethodPut, "/v1/cases/{id}/labels", "recategoriseCase", (*API).recategorise},
	{http.MethodPut, "/v1/cases/{id}/triage", "setTriage", (*API).setTriage},
	{http.MethodPost, "/v1/cases/{id}/resolve", "resolveCase", (*API).resolve},
	{http.MethodPost, "/v1/cases/{id}/reopen", "reopenCase", (*API).reopen},
	{http.MethodGet, "/v1/customers/{id}/cases", "listCustomerCases", (*API).listCustomerCases},
	{http.MethodGet, "/v1/agents", "listAgents", (*API).listAgents},
	{http.MethodGet, "/v1/agents/me", "getMyProfile", (*API).getMe},
	{http.MethodPut, "/v1/agents/me", "putMyProfile", (*API).putMe},
	{http.MethodGet, "/v1/crisis", "listCrises", (*API).listCrises},
	{http.MethodPut, "/v1/crisis/{topic}", "setCrisis", (*API).setCrisis},
	{http.MethodGet, "/v1/templates", "listTemplates", (*API).listTemplates},
	{http.MethodGet, "/v1/metrics", "getMetrics", (*API).getMetrics},
	{http.MethodGet, "/v1/staffing", "getStaffing", (*API).getStaffing},
	{http.MethodGet, "/v1/report", "getReport", (*API).getReport},
	{http.MethodGet, "/v1/quarantine", "listQuarantine", (*API).listQuarantine},
	{http.MethodPost, "/v1/quarantine/retry", "retryQuarantine", (*API).retryQuarantine},
	{http.MethodGet, "/v1/dlq", "listDLQ", (*API).listDLQ},
	{http.MethodPost, "/v1/dlq/redrive", "redriveDLQ", (*API).redriveDLQ},
	{http.MethodGet, "/v1/health", "getHealth", (*API).getHealth},
	{http.MethodGet, "/v1/openapi.json", "getOpenAPI", (*API).openAPI},
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
		mux.HandleFunc(rt.Method+" "+rt.Path, func(w http.ResponseWriter, r *http.Request) { rt.handle(a, w, r) })
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
