package xfake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestQueryChecks pins X's wording for an unknown query parameter and for an
// unknown value of a list parameter, which every endpoint of the fake shares.
func TestQueryChecks(t *testing.T) {
	tests := []struct {
		name    string
		query   string
		ok      bool
		param   string
		value   string
		message string
	}{
		{"known parameter and values", "user.fields=id,username", true, "", "", ""},
		{"no query", "", true, "", "", ""},
		{"unknown parameter", "max_results=5", false, "max_results", "5",
			"The query parameter [max_results] is not one of [expansions,tweet.fields,user.fields]"},
		{"unknown value", "user.fields=id,shoe_size", false, "user.fields", "shoe_size",
			"The `user.fields` query parameter value [shoe_size] is not one of [" + "affiliation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			ok := knownParams(w, q, meParams)
			if ok {
				_, ok = listParam(w, q, "user.fields", userFields)
			}
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v (body %s)", ok, tt.ok, w.Body)
			}
			if ok {
				if w.Body.Len() != 0 {
					t.Fatalf("answered %s on a valid query", w.Body)
				}
				return
			}
			if w.Code != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400", w.Code)
			}
			var body struct {
				Errors []struct {
					Parameters map[string][]string `json:"parameters"`
					Message    string              `json:"message"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if len(body.Errors) != 1 {
				t.Fatalf("errors = %+v, want one", body.Errors)
			}
			e := body.Errors[0]
			if got := e.Parameters[tt.param]; len(got) != 1 || got[0] != tt.value {
				t.Errorf("parameters = %v, want %s=[%s]", e.Parameters, tt.param, tt.value)
			}
			if !strings.HasPrefix(e.Message, tt.message) {
				t.Errorf("message = %q, want it to start %q", e.Message, tt.message)
			}
		})
	}
}
