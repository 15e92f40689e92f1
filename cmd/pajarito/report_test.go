package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const reportFixture = "../../shared/report/testdata/sample.json"

// reportAPI is a fake agent API serving GET <prefix>/v1/report from the fixture
// and recording the requests it got.
type reportAPI struct {
	prefix string
	token  string
	status int    // when not 0, the status to answer
	body   string // with status
	mu     sync.Mutex
	got    []*http.Request
}

func (a *reportAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.got = append(a.got, r.Clone(r.Context()))
	a.mu.Unlock()
	switch {
	case r.URL.Path != a.prefix+"/v1/report" || r.Method != http.MethodGet:
		http.Error(w, `{"error":{"code":"not_found","message":"no route"}}`, http.StatusNotFound)
	case r.Header.Get("Authorization") != "Bearer "+a.token:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":{"code":"unauthenticated","message":"the bearer token is not valid"}}`))
	case a.status != 0:
		w.WriteHeader(a.status)
		w.Write([]byte(a.body))
	case r.Header.Get("Accept") != "application/json":
		http.Error(w, "want Accept: application/json", http.StatusNotAcceptable)
	default:
		b, err := os.ReadFile(reportFixture)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}
}

func (a *reportAPI) requests() []*http.Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.got
}

func TestReport(t *testing.T) {
	t.Setenv("PAJARITO_AGENT_TOKEN", "")
	tests := []struct {
		name      string
		api       *reportAPI
		args      []string // after the URL flag; "OUT" is replaced by the output file
		wantQuery url.Values
		wantPage  []string // substrings of the page written
		wantErr   string
	}{
		{
			name:      "Spanish by default",
			api:       &reportAPI{token: "tok"},
			args:      []string{"--token", "tok", "-o", "OUT"},
			wantQuery: url.Values{"lang": {"es"}},
			wantPage:  []string{`<html lang="es">`, "@PajaritoAir", "Casos nuevos por hora e intención", "Agentes necesarios por hora"},
		},
		{
			name:      "English, a period, an API behind a stage path",
			api:       &reportAPI{prefix: "/prod", token: "tok"},
			args:      []string{"--token", "tok", "--lang", "en", "--from", "2026-08-01", "--to", "2026-08-28", "-o", "OUT"},
			wantQuery: url.Values{"lang": {"en"}, "from": {"2026-08-01"}, "to": {"2026-08-28"}},
			wantPage:  []string{`<html lang="en">`, "New cases by hour and intent", "Agents needed per hour"},
		},
		{
			name:    "wrong token",
			api:     &reportAPI{token: "tok"},
			args:    []string{"--token", "nope", "-o", "OUT"},
			wantErr: "401 Unauthorized: unauthenticated: the bearer token is not valid (check --token",
		},
		{
			name:    "server failure",
			api:     &reportAPI{token: "tok", status: http.StatusInternalServerError, body: `{"error":{"code":"internal","message":"it is logged"}}`},
			args:    []string{"--token", "tok", "-o", "OUT"},
			wantErr: "500 Internal Server Error: internal: it is logged",
		},
		{
			name:    "not report data",
			api:     &reportAPI{token: "tok", status: http.StatusOK, body: `<html>`},
			args:    []string{"--token", "tok", "-o", "OUT"},
			wantErr: "is not report data",
		},
		{
			name:    "no token",
			api:     &reportAPI{token: "tok"},
			args:    []string{"-o", "OUT"},
			wantErr: "PAJARITO_AGENT_TOKEN",
		},
		{
			name:    "bad language",
			api:     &reportAPI{token: "tok"},
			args:    []string{"--token", "tok", "--lang", "fr"},
			wantErr: `--lang "fr"`,
		},
		{
			name:    "bad day",
			api:     &reportAPI{token: "tok"},
			args:    []string{"--token", "tok", "--from", "1/8/2026"},
			wantErr: `--from "1/8/2026" is not a day`,
		},
		{
			name:    "an instant is not a day",
			api:     &reportAPI{token: "tok"},
			args:    []string{"--token", "tok", "--to", "2026-08-28T22:00:00Z"},
			wantErr: `--to "2026-08-28T22:00:00Z" is not a day`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.api)
			defer srv.Close()
			out := filepath.Join(t.TempDir(), "report.html")
			args := []string{"report", "--url", srv.URL + tt.api.prefix + "/"}
			for _, a := range tt.args {
				args = append(args, strings.ReplaceAll(a, "OUT", out))
			}
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), args, &stdout, &stderr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				if _, err := os.Stat(out); err == nil {
					t.Error("a page was written despite the error")
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			reqs := tt.api.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			if q := reqs[0].URL.Query(); q.Encode() != tt.wantQuery.Encode() {
				t.Errorf("query %v, want %v", q, tt.wantQuery)
			}
			page, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.wantPage {
				if !bytes.Contains(page, []byte(w)) {
					t.Errorf("the page does not contain %q", w)
				}
			}
			if !strings.Contains(stdout.String(), "wrote "+out) {
				t.Errorf("stdout %q does not say where the page went", stdout.String())
			}
		})
	}
}

func TestReportFromFileAndUnreachable(t *testing.T) {
	t.Setenv("PAJARITO_AGENT_TOKEN", "tok")
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"report", "--data", reportFixture, "--lang", "en", "-o", "-"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if page := stdout.String(); !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.Contains(page, "Customer care on X · @PajaritoAir") {
		t.Errorf("standard output is not the English page of the fixture: %.200s", page)
	}

	bad := filepath.Join(t.TempDir(), "data.json")
	if err := os.WriteFile(bad, []byte(`{"brand":"x","cases":3}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(t.Context(), []string{"report", "--data", bad, "-o", "-"}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Errorf("a file with an unknown field: %v, want it refused", err)
	}

	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens there now
	err := run(t.Context(), []string{"report", "--url", srv.URL, "-o", filepath.Join(t.TempDir(), "r.html")}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "cannot reach the agent API") {
		t.Errorf("unreachable API: %v, want it said", err)
	}
}
