package wire_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/settings"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/wire/agentapi"
	"github.com/pajarito-care/pajarito/shared/wire/listen"
	"github.com/pajarito-care/pajarito/shared/wire/monitor"
	"github.com/pajarito-care/pajarito/shared/wire/process"
	"github.com/pajarito-care/pajarito/shared/wire/webhook"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// isolateAWS makes the AWS SDK configuration hermetic: fake static credentials and
// a region, and no shared configuration files from the machine.
func isolateAWS(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_REGION":                  "us-east-1",
		"AWS_ACCESS_KEY_ID":           "AKIDTEST",
		"AWS_SECRET_ACCESS_KEY":       "secret",
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
}

// repoConfig is the repository's pajarito.json.
func repoConfig(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "pajarito.json"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// builders are the functions' builders, with their environment variables.
var builders = []struct {
	name  string
	build func(ctx context.Context, getenv func(string) string, log *slog.Logger) (any, error)
	vars  []string
}{
	{"Webhook", func(ctx context.Context, getenv func(string) string, log *slog.Logger) (any, error) {
		return webhook.Build(ctx, getenv, log)
	}, []string{settings.EnvConsumerSecret, settings.EnvInboundQueue}},
	{"Processor", func(ctx context.Context, getenv func(string) string, log *slog.Logger) (any, error) {
		return process.Build(ctx, getenv, log)
	}, []string{settings.EnvTable, settings.EnvInboundDLQ, settings.EnvOutboundQueue, settings.EnvAlertTopic}},
	{"Monitor", func(ctx context.Context, getenv func(string) string, log *slog.Logger) (any, error) {
		return monitor.Build(ctx, getenv, log)
	}, []string{settings.EnvTable, settings.EnvOutboundQueue, settings.EnvAlertTopic}},
	{"AgentAPI", func(ctx context.Context, getenv func(string) string, log *slog.Logger) (any, error) {
		return agentapi.Build(ctx, getenv, log)
	}, []string{settings.EnvTable, settings.EnvOutboundQueue, settings.EnvAlertTopic, settings.EnvInboundQueue, settings.EnvInboundQueueARN,
		settings.EnvInboundDLQ, settings.EnvInboundDLQARN, settings.EnvOutboundQueueARN, settings.EnvOutboundDLQ, settings.EnvOutboundDLQARN}},
}

// allVars are every builder's variables, with values.
var allVars = map[string]string{
	settings.EnvConsumerSecret: "consumer-secret",
	settings.EnvInboundQueue:   "https://sqs.us-east-1.amazonaws.com/123456789012/inbound",
	settings.EnvInboundDLQ:     "https://sqs.us-east-1.amazonaws.com/123456789012/inbound-dlq",
	settings.EnvOutboundQueue:  "https://sqs.us-east-1.amazonaws.com/123456789012/outbound",
	settings.EnvTable:          "pajarito",
	settings.EnvAlertTopic:     "arn:aws:sns:us-east-1:123456789012:pajarito-alerts",

	settings.EnvOutboundDLQ:      "https://sqs.us-east-1.amazonaws.com/123456789012/outbound-dlq",
	settings.EnvInboundQueueARN:  "arn:aws:sqs:us-east-1:123456789012:inbound",
	settings.EnvInboundDLQARN:    "arn:aws:sqs:us-east-1:123456789012:inbound-dlq",
	settings.EnvOutboundQueueARN: "arn:aws:sqs:us-east-1:123456789012:outbound",
	settings.EnvOutboundDLQARN:   "arn:aws:sqs:us-east-1:123456789012:outbound-dlq",
}

func TestBuildersMissingSettings(t *testing.T) {
	isolateAWS(t)
	log := slog.New(slog.DiscardHandler)
	for _, b := range builders {
		// Every subset of the builder's variables left out (but the empty one) is
		// reported in full, and nothing else is. With all of them left out, the
		// environment holds nothing but PAJARITO_CONFIG.
		all := 1<<len(b.vars) - 1
		for mask := 1; mask <= all; mask++ {
			env := map[string]string{"PAJARITO_CONFIG": repoConfig(t)}
			var missing, set []string
			for i, v := range b.vars {
				if mask&(1<<i) != 0 {
					missing = append(missing, v)
					if mask != all && i%2 == 0 {
						env[v] = "  " // blank counts as missing
					}
				} else {
					set = append(set, v)
					env[v] = allVars[v]
				}
			}
			t.Run(b.name+" missing "+strings.Join(missing, ","), func(t *testing.T) {
				h, err := b.build(t.Context(), envOf(env), log)
				if err == nil {
					t.Fatalf("built %T with %v missing", h, missing)
				}
				for _, v := range missing {
					if !strings.Contains(err.Error(), v) {
						t.Errorf("error %q does not name %s", err, v)
					}
				}
				for _, v := range set {
					if strings.Contains(err.Error(), v) {
						t.Errorf("error %q names %s, which is set", err, v)
					}
				}
				// Only this builder's variables are asked for.
				for v := range allVars {
					if strings.Contains(err.Error(), v) && !strings.Contains(strings.Join(b.vars, " "), v) {
						t.Errorf("error %q names %s, which %s does not use", err, v, b.name)
					}
				}
			})
		}
	}
}

func TestProcessorBadAlertTopic(t *testing.T) {
	isolateAWS(t)
	env := map[string]string{"PAJARITO_CONFIG": repoConfig(t)}
	for k, v := range allVars {
		env[k] = v
	}
	env[settings.EnvAlertTopic] = "pajarito-alerts" // a name, not an ARN
	_, err := process.Build(t.Context(), envOf(env), slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), settings.EnvAlertTopic) || !strings.Contains(err.Error(), "ARN") {
		t.Errorf("error %v, want one naming %s and saying it needs an ARN", err, settings.EnvAlertTopic)
	}
}

func TestBuildersBadConfiguration(t *testing.T) {
	isolateAWS(t)
	log := slog.New(slog.DiscardHandler)
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"bad brand id", map[string]string{"PAJARITO_BRAND_ID": "PajaritoAir"}, []string{"brand.id", "PAJARITO_BRAND_ID"}},
		{"bad brand handle", map[string]string{"PAJARITO_BRAND_HANDLE": "not a handle"}, []string{"brand.handle", "PAJARITO_BRAND_HANDLE"}},
		{"bad retention", map[string]string{"PAJARITO_RAW_RETENTION_DAYS": "ten"}, []string{"PAJARITO_RAW_RETENTION_DAYS"}},
		{"missing config file", map[string]string{"PAJARITO_CONFIG": filepath.Join(t.TempDir(), "pajarito.json")}, []string{"PAJARITO_CONFIG"}},
	}
	for _, b := range builders {
		for _, tt := range tests {
			t.Run(b.name+" "+tt.name, func(t *testing.T) {
				env := map[string]string{"PAJARITO_CONFIG": repoConfig(t)}
				for k, v := range allVars {
					env[k] = v
				}
				for k, v := range tt.env {
					env[k] = v
				}
				h, err := b.build(t.Context(), envOf(env), log)
				if b.name == "Webhook" && tt.name == "bad retention" {
					// The webhook reads only the brand of the configuration
					// (config.BrandFromEnvironment): it keeps queueing what X
					// sends, and the other functions report the rest.
					if err != nil {
						t.Fatalf("the webhook refused a setting it does not read: %v", err)
					}
					return
				}
				if err == nil {
					t.Fatalf("built %T with %v", h, tt.env)
				}
				for _, w := range tt.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not name %s", err, w)
					}
				}
			})
		}
	}
}

// serve sends a request to h and returns the recorded response.
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

func TestBuildersWired(t *testing.T) {
	isolateAWS(t)
	log := slog.New(slog.DiscardHandler)
	env := map[string]string{"PAJARITO_CONFIG": repoConfig(t)}
	for k, v := range allVars {
		env[k] = v
	}
	bearer := http.Header{"Authorization": {"Bearer a.b.c"}}

	t.Run("Webhook", func(t *testing.T) {
		h, err := webhook.Build(t.Context(), envOf(env), log)
		if err != nil {
			t.Fatal(err)
		}
		// The CRC check answers with the configured consumer secret.
		w := serve(t, h, http.MethodGet, "/webhooks/x?crc_token=abc", nil)
		if w.Code != http.StatusOK {
			t.Fatalf("CRC: status %d; body %s", w.Code, w.Body)
		}
		var crc struct {
			ResponseToken string `json:"response_token"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &crc); err != nil {
			t.Fatal(err)
		}
		if want := xwebhook.CRCResponse([]byte(allVars[settings.EnvConsumerSecret]), "abc"); crc.ResponseToken != want {
			t.Errorf("response_token %q, want %q", crc.ResponseToken, want)
		}
		before := time.Now().UTC()
		w = serve(t, h, http.MethodGet, "/healthz", nil)
		var health boot.Health
		if err := json.Unmarshal(w.Body.Bytes(), &health); err != nil || w.Code != http.StatusOK {
			t.Errorf("/healthz: %d %s", w.Code, w.Body)
		}
		if health.ClockSpeed != 1 || health.Time.Before(before) || health.Time.After(time.Now()) {
			t.Errorf("/healthz = %+v, want the wall clock at speed 1", health)
		}
		// The agent API is another function's.
		wantError(t, serve(t, h, http.MethodGet, "/v1/cases", bearer), http.StatusNotFound, "not_found")
	})

	t.Run("Processor", func(t *testing.T) {
		p, err := process.Build(t.Context(), envOf(env), log)
		if err != nil {
			t.Fatal(err)
		}
		st, ok := p.Store.(*store.Store)
		if !ok || st.Table != allVars[settings.EnvTable] {
			t.Fatalf("store %+v, want table %s", p.Store, allVars[settings.EnvTable])
		}
		// pajarito.json keeps raw JSON 90 days.
		if st.RawRetention != 90*24*time.Hour {
			t.Errorf("raw retention %v, want 90 days", st.RawRetention)
		}
		if p.DeadLetter == nil {
			t.Error("no dead-letter queue")
		}
	})

	t.Run("AgentAPI", func(t *testing.T) {
		h, err := agentapi.Build(t.Context(), envOf(env), log)
		if err != nil {
			t.Fatal(err)
		}
		// Outside API Gateway there are no verified claims: every route is refused,
		// even with a bearer token.
		for _, path := range []string{"/v1/cases", "/v1/cases/t1", "/v1/nope"} {
			w := serve(t, h, http.MethodGet, path, bearer)
			wantError(t, w, http.StatusUnauthorized, "unauthenticated")
			if w.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("%s: no WWW-Authenticate", path)
			}
		}
		if w := serve(t, h, http.MethodGet, "/healthz", nil); w.Code != http.StatusOK {
			t.Errorf("/healthz: status %d", w.Code)
		}
		// The webhook is another function's.
		wantError(t, serve(t, h, http.MethodGet, "/webhooks/x?crc_token=abc", nil), http.StatusNotFound, "not_found")
	})
}

// marker is a handler that answers with its own status.

// secretsManager answers GetSecretValue like AWS Secrets Manager's JSON protocol
// (Secrets Manager has no local stand-in to run), counting the calls.
func secretsManager(t *testing.T, secrets map[string]string) (url string, calls *int) {
	t.Helper()
	n := new(int)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*n++
		if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" {
			http.Error(w, "unexpected "+r.Header.Get("X-Amz-Target"), http.StatusBadRequest)
			return
		}
		var in struct{ SecretId string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		v, ok := secrets[in.SecretId]
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"__type": "ResourceNotFoundException", "message": "Secrets Manager can't find the specified secret."})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + in.SecretId, "Name": in.SecretId, "SecretString": v, "VersionId": "v1"})
	}))
	t.Cleanup(srv.Close)
	return srv.URL, n
}

func TestWebhookSecretFromSecretsManager(t *testing.T) {
	isolateAWS(t)
	url, calls := secretsManager(t, map[string]string{
		"pajarito/x": `{"api_key":"k","api_secret":"from-secrets-manager","access_token":"1590000000000000001-t","access_token_secret":"ts"}`,
		"empty":      `{}`,
	})
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", url)
	log := slog.New(slog.DiscardHandler)
	base := map[string]string{"PAJARITO_CONFIG": repoConfig(t), settings.EnvInboundQueue: allVars[settings.EnvInboundQueue]}

	env := map[string]string{settings.EnvXSecretID: "pajarito/x"}
	for k, v := range base {
		env[k] = v
	}
	h, err := webhook.Build(t.Context(), envOf(env), log)
	if err != nil {
		t.Fatal(err)
	}
	w := serve(t, h, http.MethodGet, "/webhooks/x?crc_token=abc", nil)
	if want := xwebhook.CRCResponse([]byte("from-secrets-manager"), "abc"); !strings.Contains(w.Body.String(), want) {
		t.Errorf("CRC answered %s, want the token keyed by the secret's api_secret (%s)", w.Body, want)
	}
	if *calls != 1 {
		t.Errorf("Secrets Manager called %d times, want 1", *calls)
	}

	for id, wantErr := range map[string]string{"empty": "empty", "missing": "missing"} {
		env[settings.EnvXSecretID] = id
		if _, err := webhook.Build(t.Context(), envOf(env), log); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("secret %q: err = %v, want it to name the secret", id, err)
		}
	}
}

func TestListenerSettings(t *testing.T) {
	isolateAWS(t)
	log := slog.New(slog.DiscardHandler)
	env := map[string]string{"PAJARITO_CONFIG": repoConfig(t)}
	_, err := listen.Build(t.Context(), envOf(env), log)
	for _, v := range []string{settings.EnvTable, settings.EnvInboundQueue} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("Listener with no settings: err = %v, want it to name %s", err, v)
		}
	}
	env[settings.EnvTable], env[settings.EnvInboundQueue] = allVars[settings.EnvTable], allVars[settings.EnvInboundQueue]
	_, err = listen.Build(t.Context(), envOf(env), log)
	for _, v := range []string{"X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET", settings.EnvXSecretID} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("Listener without X credentials: err = %v, want it to name %s", err, v)
		}
	}
	for _, v := range []string{"X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET"} {
		env[v] = "local"
	}
	env[settings.EnvXBaseURL] = "http://127.0.0.1:1"
	l, err := listen.Build(t.Context(), envOf(env), log)
	if err != nil {
		t.Fatalf("Listener with every setting: %v", err)
	}
	if l.Reader == nil || l.Store == nil || l.Queue == nil || l.Config == nil {
		t.Errorf("Listener not fully wired: %+v", l)
	}
}

// TestConsoleSettings: PAJARITO_CONSOLE is the console's sign-in, and a wrong one
// is an error that names it and what is wrong.
func TestConsoleSettings(t *testing.T) {
	tests := []struct {
		name, value, wantErr, wantCSP string
	}{
		{"unset: a token", "", "", "connect-src 'self';"},
		{"Cognito", `{"issuer":"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc","client_id":"c1",` +
			`"authorization_endpoint":"https://p.auth.eu-west-1.amazoncognito.com/oauth2/authorize","token_endpoint":"https://p.auth.eu-west-1.amazoncognito.com/oauth2/token"}`,
			"", "connect-src 'self' https://cognito-idp.eu-west-1.amazonaws.com https://p.auth.eu-west-1.amazoncognito.com;"},
		{"not JSON", `issuer=x`, "PAJARITO_CONSOLE is not the console's settings", ""},
		{"unknown field", `{"issuer":"https://id.example.com","client_id":"c","secret":"s"}`, `unknown field "secret"`, ""},
		{"issuer without client", `{"issuer":"https://id.example.com"}`, "without the console's client id", ""},
		{"plain http", `{"issuer":"http://id.example.com","client_id":"c"}`, "is not an https URL", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := agentapi.Console(func(k string) string {
				if k == settings.EnvConsole {
					return tt.value
				}
				return ""
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), settings.EnvConsole) {
					t.Errorf("err = %v, want one naming %s and %q", err, settings.EnvConsole, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/console/config.json", nil))
			if csp := rec.Header().Get("Content-Security-Policy"); rec.Code != 200 || !strings.Contains(csp, tt.wantCSP) {
				t.Errorf("config.json: %d, CSP %q; want %q in it", rec.Code, csp, tt.wantCSP)
			}
		})
	}
}
