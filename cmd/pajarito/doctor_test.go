package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/config"
)

// doctor runs pajarito doctor against base and returns its output and exit
// status.
func doctor(t *testing.T, base, token string, args ...string) (string, int) {
	t.Helper()
	var out, errOut syncBuffer
	err := run(t.Context(), append([]string{"doctor", "--url", base, "--token", token, "--lang", "en"}, args...), &out, &errOut)
	code := 0
	if err != nil {
		code = exitCode(err)
	}
	return out.String() + errOut.String(), code
}

// TestDoctor: against the local system, every check is ok and doctor exits 0; a
// delivery the processor could not read shows up with the retry command.
func TestDoctor(t *testing.T) {
	const token = "doctor-test-token"
	t.Setenv("PAJARITO_AGENT_TOKEN", token)
	t.Setenv("X_CONSUMER_SECRET", "")
	t.Chdir("../..")
	base, _, stderr, _ := startDev(t, "--addr", "127.0.0.1:0", "--memory")

	// The listener's first run is under way as the system starts: until it ends
	// the listener check warns. Wait for it (doctor itself is not polled: it asks
	// X, whose rate limits are low).
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(stderr.String(), `"msg":"listen: run"`); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the listener did not run in 60 s:\n%s", stderr.String())
		}
	}
	out, code := doctor(t, base, token)
	if code != 0 {
		t.Fatalf("doctor against the local system exited %d:\n%s", code, out)
	}
	for _, check := range []string{"x_credentials", "x_authorization", "webhook", "webhook_crc", "subscriptions", "listener",
		"x_budget", "queues", "dead_letters", "quarantine", "unhandled", "replies", "crises"} {
		if !strings.Contains(out, "ok  "+check+" ") {
			t.Errorf("doctor does not say %s is ok:\n%s", check, out)
		}
	}
	if !strings.Contains(out, "doctor: 13 checks, 0 failures, 0 warnings") {
		t.Errorf("doctor's summary:\n%s", out)
	}

	cfg, err := config.Load("pajarito.json", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	postUnreadable(t, base, cfg.Brand.ID, []byte(devSecret))
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var q struct{ Count int }
		getJSON(t, base+"/v1/quarantine", token, &q)
		if q.Count > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the unreadable delivery was not quarantined in 60 s")
		}
	}
	out, code = doctor(t, base, token)
	if !strings.Contains(out, "warning  quarantine") {
		t.Errorf("doctor does not report the quarantined delivery:\n%s", out)
	}
	// The processor dead-letters what it quarantines (the alarm goes off in AWS):
	// a failure, whose fix names both ways back.
	if code != 1 || !strings.Contains(out, "FAILURE  dead_letters") || strings.Count(out, "pajarito quarantine retry --all") != 2 || !strings.Contains(out, "pajarito dlq redrive --queue inbound") {
		t.Errorf("doctor with a quarantined delivery exited %d, want 1 with the dead letter and the retry command:\n%s", code, out)
	}

	// The JSON report is the API's.
	if out, code := doctor(t, base, token, "--json"); code != 1 || !strings.HasPrefix(out, `{"status":"failure"`) {
		t.Errorf("doctor --json exited %d:\n%s", code, out)
	}
}

// TestDoctorCredentialsRefused: against a local system whose X API answers 401
// to everything, doctor exits 1 and names the credentials and the fix.
func TestDoctorCredentialsRefused(t *testing.T) {
	const token = "doctor-test-token"
	x := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}`))
	}))
	t.Cleanup(x.Close)
	t.Setenv("PAJARITO_AGENT_TOKEN", token)
	t.Setenv("X_CONSUMER_SECRET", "")
	t.Setenv("X_API_BASE_URL", x.URL)
	t.Chdir("../..")
	base, _, _, _ := startDev(t, "--addr", "127.0.0.1:0", "--memory")

	out, code := doctor(t, base, token)
	if code != 1 {
		t.Errorf("doctor exited %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{"FAILURE  x_credentials", "X rejected the credentials", "fix: regenerate the keys", "X_API_KEY", "FAILURE  webhook "} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor's output lacks %q:\n%s", want, out)
		}
	}
}

// TestDoctorUnreachable: without an API to ask, doctor fails with what to do.
func TestDoctorUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	tests := []struct {
		name, url, token string
		want             string
		code             int
	}{
		{"nothing listens", url, "t", "start the local system (make dev)", 1},
		{"no token", url, "", "no agent token", 1},
		{"not a URL", "ftp://x", "t", "is not an http(s) URL", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PAJARITO_AGENT_TOKEN", "")
			var out syncBuffer
			err := run(context.Background(), []string{"doctor", "--url", tt.url, "--token", tt.token}, &out, &out)
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != tt.code || !strings.Contains(out.String(), tt.want) || !strings.Contains(out.String(), "FAILURE  agent_api") {
				t.Errorf("doctor: %v (code %d), output:\n%s\nwant exit %d saying %q", err, exitCode(err), out.String(), tt.code, tt.want)
			}
		})
	}
	if err := run(context.Background(), []string{"doctor", "--lang", "fr"}, &syncBuffer{}, &syncBuffer{}); err == nil || exitCode(err) != 2 {
		t.Errorf("doctor --lang fr: %v, want a usage error (exit 2)", err)
	}
}
