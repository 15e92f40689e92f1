package agentapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/metrics"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/report"
	"github.com/pajarito-care/pajarito/shared/store"
)

type openAPIDoc struct {
	OpenAPI    string                                 `json:"openapi"`
	Paths      map[string]map[string]openAPIOperation `json:"paths"`
	Components struct {
		Schemas    map[string]openAPISchema `json:"schemas"`
		Parameters map[string]openAPIParam  `json:"parameters"`
	} `json:"components"`
}

type openAPIOperation struct {
	OperationID string                     `json:"operationId"`
	Parameters  []openAPIParam             `json:"parameters"`
	Responses   map[string]json.RawMessage `json:"responses"`
	RequestBody *struct {
		Content map[string]struct {
			Schema struct {
				Ref string `json:"$ref"`
			} `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
}

type openAPIParam struct {
	Ref  string `json:"$ref"`
	Name string `json:"name"`
	In   string `json:"in"`
}

type openAPISchema struct {
	Properties           map[string]json.RawMessage `json:"properties"`
	AdditionalProperties *bool                      `json:"additionalProperties"`
}

func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(agentapi.OpenAPI(), &doc); err != nil {
		t.Fatalf("the OpenAPI document is not JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi %q, want 3.x", doc.OpenAPI)
	}
	return doc
}

// TestOpenAPIMatchesRoutes checks both ways that the document describes exactly
// the routes the mux serves.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	served := map[string]string{} // "METHOD path" → operation id
	for _, rt := range agentapi.Routes() {
		served[rt.Method+" "+rt.Path] = rt.OperationID
	}
	documented := map[string]openAPIOperation{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented[strings.ToUpper(method)+" "+path] = op
		}
	}
	for k, id := range served {
		op, ok := documented[k]
		switch {
		case !ok:
			t.Errorf("route %s is not documented", k)
		case op.OperationID != id:
			t.Errorf("route %s: operationId %q, want %q", k, op.OperationID, id)
		}
	}
	for k := range documented {
		if _, ok := served[k]; !ok {
			t.Errorf("documented operation %s is not a route", k)
		}
	}

	wildcard := regexp.MustCompile(`\{([a-z]+)\}`)
	for k, op := range documented {
		for _, code := range []string{"401", "500"} {
			if _, ok := op.Responses[code]; !ok {
				t.Errorf("%s documents no %s response", k, code)
			}
		}
		// Every path wildcard is a documented path parameter.
		var params []string
		for _, p := range op.Parameters {
			if p.Ref != "" {
				p = doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
			}
			if p.In == "path" {
				params = append(params, p.Name)
			}
		}
		for _, m := range wildcard.FindAllStringSubmatch(strings.SplitN(k, " ", 2)[1], -1) {
			if !slices.Contains(params, m[1]) {
				t.Errorf("%s does not document path parameter %s", k, m[1])
			}
		}
		if op.RequestBody != nil {
			for _, code := range []string{"400", "413", "415"} {
				if _, ok := op.Responses[code]; !ok {
					t.Errorf("%s reads a body but documents no %s", k, code)
				}
			}
		}
	}
}

// TestOpenAPIRefsResolve checks every $ref names a component.
func TestOpenAPIRefsResolve(t *testing.T) {
	var raw any
	if err := json.Unmarshal(agentapi.OpenAPI(), &raw); err != nil {
		t.Fatal(err)
	}
	root := raw.(map[string]any)
	var walk func(v any)
	n := 0
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				n++
				var cur any = root
				for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
					m, _ := cur.(map[string]any)
					cur = m[part]
				}
				if cur == nil {
					t.Errorf("$ref %s resolves to nothing", ref)
				}
			}
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(root)
	if n == 0 {
		t.Error("no $ref checked")
	}
}

// jsonFields returns the JSON names of a struct type's fields, embedded structs
// flattened.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case f.Anonymous && name == "":
			out = append(out, jsonFields(f.Type)...)
		case name == "":
			out = append(out, f.Name)
		default:
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// TestOpenAPISchemasMatchTypes checks that each schema has exactly the JSON fields
// of the Go type it documents, and that request schemas are closed (the API
// refuses unknown fields).
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	doc := loadOpenAPI(t)
	types := map[string]any{
		"CaseSummary": care.CaseSummary{}, "QueueCase": agentapi.QueueCase{}, "Case": care.Case{}, "StoredMessage": care.StoredMessage{},
		"ReplyRequest": care.ReplyRequest{}, "DecisionRecord": care.DecisionRecord{}, "Note": care.Note{},
		"AgentProfile": care.AgentProfile{}, "LintIssue": protocol.LintIssue{}, "CrisisState": care.CrisisState{},
		"TemplateText": protocol.TemplateText{}, "Correction": store.Correction{}, "ReplyStatus": care.ReplyStatus{},
		"CaseList": agentapi.CaseList{}, "CaseDetail": agentapi.CaseDetail{}, "CaseResult": agentapi.CaseResult{},
		"CustomerCaseList": agentapi.CustomerCaseList{}, "ReplyResult": agentapi.ReplyResult{},
		"LintResult": agentapi.LintResult{}, "NoteResult": agentapi.NoteResult{}, "LabelsResult": agentapi.LabelsResult{},
		"AgentList": agentapi.AgentList{}, "Me": agentapi.Me{}, "CrisisList": agentapi.CrisisList{},
		"CrisisResult": agentapi.CrisisResult{}, "TemplateList": agentapi.TemplateList{},
		// GET /v1/metrics.
		"MetricsReport": agentapi.MetricsReport{}, "Metrics": metrics.Metrics{}, "Stats": metrics.Stats{},
		"RolledUpDay": agentapi.RolledUpDay{}, "MonthSpend": agentapi.MonthSpend{},
		// GET /v1/staffing and GET /v1/report.
		"StaffingPlan": agentapi.StaffingPlan{}, "StaffingHour": report.StaffingHour{}, "StaffingTarget": report.Target{},
		"ReportData": report.Data{}, "ReportSummary": report.Summary{}, "HourVolume": report.HourVolume{},
		"Histogram": report.Histogram{}, "HistogramBin": report.Bin{}, "DayCSAT": report.DayCSAT{},
		// GET /v1/quarantine.
		"QuarantineList": agentapi.QuarantineList{}, "QuarantinedDelivery": agentapi.QuarantinedDelivery{},
		// POST /v1/quarantine/retry.
		"QuarantineRetryResult": agentapi.QuarantineRetryResult{}, "RetryOutcome": agentapi.RetryOutcome{},
		// GET /v1/dlq and POST /v1/dlq/redrive.
		"DLQList": agentapi.DLQList{}, "DLQDepth": queue.Depth{}, "MoveTask": queue.MoveTask{},
		"DLQRedriveResult": agentapi.DLQRedriveResult{}, "DLQRedriven": agentapi.DLQRedriven{},
		// Approvals.
		"Approval": agentapi.Approval{}, "ApprovalList": agentapi.ApprovalList{},
		"AuditEntry": care.AuditEntry{}, "AuditList": agentapi.AuditList{},
		// Crisis statements.
		"Crisis": agentapi.Crisis{}, "Statement": agentapi.Statement{}, "StatementPost": agentapi.StatementPost{},
		"FollowUp": agentapi.FollowUp{}, "ReportCrisis": report.Crisis{}, "ReportCrisisEvent": report.CrisisEvent{},
		"ReportCrisisFollowUps": report.CrisisFollowUps{},
	}
	requests := map[string]any{
		"AssignRequest": agentapi.AssignRequest{}, "UnassignRequest": agentapi.UnassignRequest{},
		"ReplyBody": agentapi.ReplyRequest{}, "LintBody": agentapi.ReplyRequest{}, "NoteBody": agentapi.NoteRequest{}, "LabelsBody": agentapi.LabelsRequest{},
		"TriageBody": agentapi.TriageRequest{}, "ProfileBody": agentapi.ProfileRequest{}, "CrisisBody": agentapi.CrisisRequest{},
		"QuarantineRetryRequest": agentapi.QuarantineRetryRequest{}, "DLQRedriveBody": agentapi.DLQRedriveRequest{},
		"ApproveBody": agentapi.ApproveRequest{}, "RejectBody": agentapi.RejectRequest{},
		"StatementBody": agentapi.StatementRequest{}, "FollowUpBody": agentapi.FollowUpRequest{},
		"EmptyRequest": struct{}{},
	}
	check := func(name string, v any, request bool) {
		s, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("no schema %s", name)
			return
		}
		var props []string
		for p := range s.Properties {
			props = append(props, p)
		}
		slices.Sort(props)
		if want := jsonFields(reflect.TypeOf(v)); !slices.Equal(props, want) {
			t.Errorf("schema %s has %v, %T has %v", name, props, v, want)
		}
		if request && (s.AdditionalProperties == nil || *s.AdditionalProperties) {
			t.Errorf("request schema %s is not closed (additionalProperties false)", name)
		}
	}
	for name, v := range types {
		check(name, v, false)
	}
	for name, v := range requests {
		check(name, v, true)
	}
	// Every request body refers to one of the request schemas.
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if op.RequestBody == nil {
				continue
			}
			ref := op.RequestBody.Content["application/json"].Schema.Ref
			if _, ok := requests[strings.TrimPrefix(ref, "#/components/schemas/")]; !ok {
				t.Errorf("%s %s: request body %q is not a checked request schema", method, path, ref)
			}
		}
	}
}

func TestOpenAPIServed(t *testing.T) {
	e := seeded(t)
	r := e.get(t, "/v1/openapi.json")
	ok(t, r, http.StatusOK, nil)
	if r.header.Get("Content-Type") != "application/json" || !bytes.Equal(r.body, agentapi.OpenAPI()) {
		t.Errorf("served %s, %d bytes; want the embedded document", r.header.Get("Content-Type"), len(r.body))
	}
}

// TestEveryRouteIsServed sends every route, with a token, a request it may refuse:
// none may fall through to the 404 or 405 of unknown routes.
func TestEveryRouteIsServed(t *testing.T) {
	e := seeded(t)
	for _, rt := range agentapi.Routes() {
		r := e.as(t, token, rt.Method, concrete(rt.Path), nil)
		if r.status == http.StatusMethodNotAllowed {
			t.Errorf("%s %s: 405", rt.Method, rt.Path)
		}
		var er apiError
		if json.Unmarshal(r.body, &er) == nil && er.Error.Code == "not_found" {
			t.Errorf("%s %s: not routed: %s", rt.Method, rt.Path, r.body)
		}
	}
}

// TestEveryRouteChecksItsRole calls every route of the table as each role, and
// as a person with none: the server refuses exactly the roles below the
// route's (403, naming the role needed) and lets the others through to the
// handler; the OpenAPI document states each route's role.
func TestEveryRouteChecksItsRole(t *testing.T) {
	e := seeded(t)
	doc := loadOpenAPI(t)
	var raw struct {
		Paths map[string]map[string]struct {
			Role      agentapi.Role              `json:"x-pajarito-role"`
			Responses map[string]json.RawMessage `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(agentapi.OpenAPI(), &raw); err != nil || len(doc.Paths) == 0 {
		t.Fatal(err)
	}
	tokens := map[agentapi.Role]string{agentapi.RoleAdmin: tokenSuper, agentapi.RoleAgent: tokenAna, agentapi.RoleContributor: tokenCarla}
	for _, rt := range agentapi.Routes() {
		op := raw.Paths[rt.Path][strings.ToLower(rt.Method)]
		if !rt.Role.Valid() || op.Role != rt.Role || op.Responses["403"] == nil {
			t.Errorf("%s %s needs %q; the document says %q (403 documented: %v)", rt.Method, rt.Path, rt.Role, op.Role, op.Responses["403"] != nil)
		}
		for _, role := range agentapi.Roles {
			r := e.as(t, tokens[role], rt.Method, concrete(rt.Path), nil)
			var er struct {
				Error struct {
					Code       string
					RoleNeeded agentapi.Role `json:"role_needed"`
				}
			}
			_ = json.Unmarshal(r.body, &er)
			refused := r.status == http.StatusForbidden && er.Error.Code == "forbidden"
			switch {
			case role.Allows(rt.Role) && refused:
				t.Errorf("%s %s refuses %s, which it should allow: %s", rt.Method, rt.Path, role, r.body)
			case !role.Allows(rt.Role) && (!refused || er.Error.RoleNeeded != rt.Role):
				t.Errorf("%s %s as %s: %d %s; want 403 naming role %s", rt.Method, rt.Path, role, r.status, r.body, rt.Role)
			}
		}
		r := e.as(t, tokenNobody, rt.Method, concrete(rt.Path), nil)
		wantError(t, r, http.StatusForbidden, "no_role")
	}
}
