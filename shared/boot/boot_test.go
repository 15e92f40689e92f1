package boot_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/settings"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLogger(t *testing.T) {
	tests := []struct {
		value   string
		level   slog.Level // the lowest level enabled
		wantErr bool
	}{
		{value: "", level: slog.LevelInfo},
		{value: "debug", level: slog.LevelDebug},
		{value: "info", level: slog.LevelInfo},
		{value: "WARN", level: slog.LevelWarn},
		{value: "error", level: slog.LevelError},
		{value: "verbose", wantErr: true},
		{value: "5", wantErr: true},
	}
	for _, tt := range tests {
		t.Run("level "+tt.value, func(t *testing.T) {
			var buf bytes.Buffer
			log, err := boot.Logger(&buf, envOf(map[string]string{settings.EnvLogLevel: tt.value}))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Logger accepted %s=%q", settings.EnvLogLevel, tt.value)
				}
				if !strings.Contains(err.Error(), settings.EnvLogLevel) || !strings.Contains(err.Error(), tt.value) {
					t.Errorf("error %q does not name %s and its value", err, settings.EnvLogLevel)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			if !log.Enabled(ctx, tt.level) || log.Enabled(ctx, tt.level-1) {
				t.Errorf("lowest enabled level is not %v", tt.level)
			}
			log.Log(ctx, tt.level, "hello", "k", "v")
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("log line %q is not JSON: %v", buf.String(), err)
			}
			if line["msg"] != "hello" || line["k"] != "v" {
				t.Errorf("log line %v", line)
			}
		})
	}
}

type marker int

func (m marker) ServeHTTP(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(int(m)) }

func TestRoutes(t *testing.T) {
	const (
		webhookStatus = 251
		apiStatus     = 252
	)
	tests := []struct {
		name         string
		webhook, api http.Handler
	}{
		{name: "both", webhook: marker(webhookStatus), api: marker(apiStatus)},
		{name: "webhook only", webhook: marker(webhookStatus)},
		{name: "api only", api: marker(apiStatus)},
		{name: "neither"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Date(2026, 8, 19, 9, 30, 0, 250e6, time.UTC)
			h := boot.Routes(tt.webhook, tt.api, nil, "", boot.Clock{Now: func() time.Time { return now }, Speed: 60})

			// Health, with the server's clock.
			w := serve(t, h, http.MethodGet, "/healthz", nil)
			if w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != `{"status":"ok","time":"2026-08-19T09:30:00.25Z","clock_speed":60}` {
				t.Errorf("/healthz: %d %s", w.Code, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("/healthz: Content-Type %q", ct)
			}

			// Unknown routes.
			for _, path := range []string{"/", "/nope", "/webhooks/x/extra", "/webhooks", "/healthz/x"} {
				wantError(t, serve(t, h, http.MethodGet, path, nil), http.StatusNotFound, "not_found")
			}

			// Mounted handlers, or 404 when left out.
			mounted := []struct {
				path    string
				handler http.Handler
				status  int
			}{
				{"/webhooks/x", tt.webhook, webhookStatus},
				{"/v1/cases", tt.api, apiStatus},
				{"/v1/cases/t1", tt.api, apiStatus},
				{"/v1/anything", tt.api, apiStatus},
			}
			for _, m := range mounted {
				for _, method := range []string{http.MethodGet, http.MethodPost} {
					w := serve(t, h, method, m.path, nil)
					if m.handler == nil {
						wantError(t, w, http.StatusNotFound, "not_found")
						continue
					}
					if w.Code != m.status {
						t.Errorf("%s %s: status %d, want %d (the mounted handler)", method, m.path, w.Code, m.status)
					}
				}
			}
		})
	}
}

func serve(t *testing.T, h http.Handler, method, target string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, target, nil)
	for k, vs := range header {
		req.Header[k] = vs
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// wantError checks that w is a JSON error with status and code.
func wantError(t *testing.T, w *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d; body %s", w.Code, status, w.Body)
	}
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("body %s: %v", w.Body, err)
	}
	if e.Error.Code != code || e.Error.Message == "" {
		t.Errorf("error %+v, want code %q and a message", e.Error, code)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
}
