package agentapi_test

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/health"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

// TestHealth: GET /v1/health runs the checks and answers 200 with the report,
// whatever it found; the webhook it checks is the one on the request's origin.
func TestHealth(t *testing.T) {
	st := newStore(t)
	eng, err := protocol.New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.Brand.ID = "1500000000000000001"
	secret := []byte("health-consumer-secret")
	log := slog.New(slog.DiscardHandler)
	api, err := agentapi.New(agentapi.Deps{
		Store: st, Engine: eng, Crisis: eng.Monitor(st, nil, log), Outbox: &outbox{}, Inbox: &inbox{}, DeadLetters: &deadLetters{},
		Auth: testTokens, Log: log, Now: clock,
		Health: &health.Checker{Config: cfg, Store: st, XError: errors.New("X_API_KEY is not set"), ConsumerSecret: secret, Now: clock},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", api)
	var crcAsked string
	mux.HandleFunc("GET /webhooks/x", func(w http.ResponseWriter, r *http.Request) {
		crcAsked = r.Host
		w.Write([]byte(`{"response_token":"` + xwebhook.CRCResponse(secret, r.URL.Query().Get("crc_token")) + `"}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	if r := do(t, http.MethodGet, srv.URL+"/v1/health", "", nil); r.status != http.StatusUnauthorized {
		t.Errorf("without a token: %d, want 401", r.status)
	}
	if r := do(t, http.MethodGet, srv.URL+"/v1/health?verbose=1", "Bearer "+token, nil); r.status != http.StatusBadRequest {
		t.Errorf("with a query parameter: %d, want 400", r.status)
	}
	r := do(t, http.MethodGet, srv.URL+"/v1/health", "Bearer "+token, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /v1/health: %d %s", r.status, r.body)
	}
	var rep health.Report
	if err := json.Unmarshal(r.body, &rep); err != nil {
		t.Fatal(err)
	}
	status := map[string]health.Status{}
	for _, c := range rep.Checks {
		status[c.Name] = c.Status
		if c.Name == health.CheckXCredentials && (!strings.Contains(c.Summary["en"], "X_API_KEY is not set") || c.Fix["es"] == "") {
			t.Errorf("x_credentials = %+v; want the reason, and a fix in Spanish too", c)
		}
	}
	if rep.Status != health.Failure || status[health.CheckXCredentials] != health.Failure || status[health.CheckCRC] != health.OK || status[health.CheckQuarantine] != health.OK {
		t.Errorf("report %s, checks %v; want failure with x_credentials failed and the CRC of the origin's webhook ok", rep.Status, status)
	}
	if crcAsked != strings.TrimPrefix(srv.URL, "http://") {
		t.Errorf("the CRC check asked %q, want the request's origin %s", crcAsked, srv.URL)
	}

	// An API built without the checks says so.
	if r := seeded(t).get(t, "/v1/health"); r.status != http.StatusNotImplemented {
		t.Errorf("without health checks: %d %s, want 501", r.status, r.body)
	}
}

func TestWebhookURL(t *testing.T) {
	tests := []struct {
		host, proto, want string
	}{
		{"abc123.execute-api.eu-west-1.amazonaws.com", "", "https://abc123.execute-api.eu-west-1.amazonaws.com/webhooks/x"},
		{"care.example.com", "https", "https://care.example.com/webhooks/x"},
		{"127.0.0.1:8080", "", "http://127.0.0.1:8080/webhooks/x"},
		{"localhost:8080", "", "http://localhost:8080/webhooks/x"},
		{"[::1]:8080", "", "http://[::1]:8080/webhooks/x"},
		{"127.0.0.1:8443", "https", "https://127.0.0.1:8443/webhooks/x"},
		{"care.example.com", "gopher", "https://care.example.com/webhooks/x"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/v1/health", nil)
		r.Host = tt.host
		if tt.proto != "" {
			r.Header.Set("X-Forwarded-Proto", tt.proto)
		}
		if got := agentapi.WebhookURL(r); got != tt.want {
			t.Errorf("WebhookURL(host %s, proto %q) = %s, want %s", tt.host, tt.proto, got, tt.want)
		}
	}
}
