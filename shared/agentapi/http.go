package agentapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/httpjson"
	"github.com/pajarito-care/pajarito/shared/store"
)

// MaxBodyBytes is the largest request body the API reads.
const MaxBodyBytes = 64 << 10

// decode reads r's JSON body into v, refusing what is not exactly one JSON value
// of v's shape: a body over MaxBodyBytes (413), a content type other than
// application/json (415), malformed JSON, unknown fields, wrong types or trailing
// data (400). An empty body decodes as {}. It writes the error and reports false
// when the body is refused.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			httpjson.WriteError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the body is over %d bytes", MaxBodyBytes))
			return false
		}
		httpjson.WriteError(w, http.StatusBadRequest, "bad_body", "the body could not be read")
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		httpjson.WriteError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as Content-Type: application/json")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		httpjson.WriteError(w, http.StatusBadRequest, "bad_json", jsonProblem(err))
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		httpjson.WriteError(w, http.StatusBadRequest, "bad_json", "the body holds more than one JSON value")
		return false
	}
	return true
}

// jsonProblem explains a decoding error in terms of the request.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("the body is not JSON (at byte %d): %v", syntax.Offset, syntax)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("field %q must be a JSON %s, not %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.As(err, &typ):
		return fmt.Sprintf("the body must be a JSON object, not %s", typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the body ends in the middle of a JSON value"
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return "unknown field " + f + ": see GET /v1/openapi.json for the fields of this request"
	}
	return "the body is not valid JSON for this request: " + strings.TrimPrefix(err.Error(), "json: ")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int64", "float64":
		return "number"
	case "bool":
		return "boolean"
	case "slice":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	}
	return goKind
}

// query returns the query parameters, refusing (with a 400 written) a parameter
// not in allowed or given more than once.
func query(w http.ResponseWriter, r *http.Request, allowed ...string) (map[string]string, bool) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		httpjson.WriteError(w, http.StatusBadRequest, "bad_query", "the query string is malformed")
		return nil, false
	}
	out := make(map[string]string, len(q))
	for k, vs := range q {
		known := false
		for _, a := range allowed {
			known = known || k == a
		}
		switch {
		case !known:
			httpjson.WriteError(w, http.StatusBadRequest, "bad_query", fmt.Sprintf("unknown query parameter %q: this route takes %s", k, orNone(allowed)))
			return nil, false
		case len(vs) > 1:
			httpjson.WriteError(w, http.StatusBadRequest, "bad_query", fmt.Sprintf("query parameter %q is given %d times; give it once", k, len(vs)))
			return nil, false
		}
		out[k] = vs[0]
	}
	return out, true
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

// errorWith is an error body whose detail carries more than code and message.
type errorWith[T any] struct {
	Error T `json:"error"`
}

// assignedError is the 409 detail of a case held by another agent.
type assignedError struct {
	httpjson.ErrorDetail
	Assignee     string `json:"assignee,omitempty"`
	AssigneeName string `json:"assignee_name,omitempty"`
}

// writeAssigned writes the 409 of a case that another agent holds.
func writeAssigned(w http.ResponseWriter, e *store.AssignedError) {
	who := "nobody"
	if e.Assignee != "" {
		who = e.Assignee
		if e.AssigneeName != "" {
			who = e.AssigneeName + " (" + e.Assignee + ")"
		}
	}
	httpjson.Write(w, http.StatusConflict, errorWith[assignedError]{assignedError{
		ErrorDetail:  httpjson.ErrorDetail{Code: "case_assigned", Message: "case " + e.CaseID + " is held by " + who},
		Assignee:     e.Assignee,
		AssigneeName: e.AssigneeName,
	}})
}

// caseError writes the response of a store error about case id: 404 for an
// unknown case, 409 for one held by another agent, else 500.
func (a *API) caseError(w http.ResponseWriter, r *http.Request, id string, err error) {
	var held *store.AssignedError
	switch {
	case errors.Is(err, store.ErrNotFound):
		httpjson.WriteError(w, http.StatusNotFound, "case_not_found", "no case "+strconv.Quote(id))
	case errors.As(err, &held):
		writeAssigned(w, held)
	default:
		a.internal(w, r, err)
	}
}

// validAgentID reports whether id can name an agent: 1 to store.MaxAgentIDLength
// bytes, no control characters.
func validAgentID(id string) bool {
	return id != "" && len(id) <= store.MaxAgentIDLength && utf8.ValidString(id) && !strings.ContainsFunc(id, unicode.IsControl)
}

// badRequest writes a 400 with code and message.
func badRequest(w http.ResponseWriter, code, format string, args ...any) {
	httpjson.WriteError(w, http.StatusBadRequest, code, fmt.Sprintf(format, args...))
}

// internal logs err and writes a 500 that reveals nothing of it.
func (a *API) internal(w http.ResponseWriter, r *http.Request, err error) {
	a.Log.ErrorContext(r.Context(), "agent API: request failed", "method", r.Method, "path", r.URL.Path, "error", err.Error())
	httpjson.WriteError(w, http.StatusInternalServerError, "internal", "the request could not be completed; it is logged, try again")
}

// audit logs a change an agent made.
func (a *API) audit(r *http.Request, msg string, args ...any) {
	ctx := r.Context()
	c := callerFrom(ctx)
	a.Log.InfoContext(ctx, "agent API: "+msg, append([]any{"agent", c.ID}, args...)...)
	e := care.AuditEntry{Actor: c.ID, ActorName: c.DisplayName, Role: string(c.Role), Action: strings.ReplaceAll(msg, " ", "_"), At: a.now()}
	for i := 0; i+1 < len(args); i += 2 {
		k, v := fmt.Sprint(args[i]), fmt.Sprint(args[i+1])
		if k == "case_id" {
			e.CaseID = v
			continue
		}
		if e.Detail == nil {
			e.Detail = map[string]string{}
		}
		e.Detail[k] = v
	}
	// The action happened: a trail that cannot be written is an error in the
	// log, with what it would have kept, not a failed request.
	if _, err := a.Store.PutAudit(ctx, e); err != nil {
		a.Log.ErrorContext(ctx, "agent API: the audit trail could not keep an action", "action", e.Action, "case_id", e.CaseID, "agent", c.ID, "error", err.Error())
	}
}
