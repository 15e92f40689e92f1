package lambdafake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	echoBin   string
	buildErr  error
	buildDir  string
)

// echoBootstrap builds testdata/echo as Lambda functions are built, once per test
// binary, and returns the path of its bootstrap.
func echoBootstrap(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		gobin, err := exec.LookPath("go")
		if err != nil {
			buildErr = err
			return
		}
		buildDir, err = os.MkdirTemp("", "lambdafake-echo-")
		if err != nil {
			buildErr = err
			return
		}
		echoBin = filepath.Join(buildDir, "echo", "bootstrap")
		cmd := exec.Command(gobin, "build", "-tags", "lambda.norpc", "-trimpath", "-o", echoBin, "./testdata/echo")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = errors.New(err.Error() + ": " + string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("build testdata/echo: %v", buildErr)
	}
	return echoBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

func start(t *testing.T, env ...string) (*Runtime, *Function) {
	t.Helper()
	bin := echoBootstrap(t)
	r, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	f, err := r.StartFunction(t.Context(), bin, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.Stop()
		if t.Failed() {
			t.Log(f.Output())
		}
	})
	return r, f
}

func invoke(t *testing.T, r *Runtime, payload string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	return r.Invoke(ctx, []byte(payload))
}

// waitFor polls cond every few milliseconds until it holds, and fails the test
// if it still does not after a deadline generous enough for a loaded machine.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	const deadline = 10 * time.Second
	for end := time.Now().Add(deadline); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("still waiting after %v for %s", deadline, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// pendingCalls is how many invocations are queued or in progress (not yet
// answered).
func (r *Runtime) pendingCalls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

type echoReply struct {
	Echo         json.RawMessage `json:"echo"`
	RequestID    string          `json:"request_id"`
	FunctionARN  string          `json:"function_arn"`
	FunctionName string          `json:"function_name"`
	DeadlineMS   int64           `json:"deadline_ms"`
}

func TestEcho(t *testing.T) {
	bin := echoBootstrap(t)
	r, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Timeout = 10 * time.Second

	began := time.Now()
	f, err := r.StartFunction(t.Context(), bin, []string{"AWS_REGION=eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop()
	out, err := invoke(t, r, `{"hola":"mundo"}`)
	cold := time.Since(began)
	<-f.Ready() // the invocation was handed out: the function asked for it
	if d, ok := f.InitDuration(); !ok || d <= 0 || d > cold {
		t.Errorf("init %v (%v), want more than 0 and less than the cold start's %v", d, ok, cold)
	}
	if err != nil {
		t.Fatalf("Invoke: %v\n%s", err, f.Output())
	}
	began = time.Now()
	if _, err := invoke(t, r, `{}`); err != nil {
		t.Fatalf("second Invoke: %v", err)
	}
	t.Logf("cold start (exec to first response): %v; warm invocation: %v", cold, time.Since(began))

	var got echoReply
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("response %s: %v", out, err)
	}
	if string(got.Echo) != `{"hola":"mundo"}` {
		t.Errorf("echo = %s", got.Echo)
	}
	if len(got.RequestID) != 36 || got.FunctionName != "echo" || got.FunctionARN != "arn:aws:lambda:eu-west-1:000000000000:function:echo" || f.ARN != got.FunctionARN {
		t.Errorf("context = %+v", got)
	}
	if left := time.Until(time.UnixMilli(got.DeadlineMS)); left < 8*time.Second || left > 10*time.Second {
		t.Errorf("deadline %v away, want about 10 s", left)
	}
	if !strings.Contains(f.Stderr(), "echo: cold start in eu-west-1") {
		t.Errorf("stderr not captured: %q", f.Stderr())
	}
}

func TestInvokeErrors(t *testing.T) {
	tests := []struct {
		name     string
		env      []string
		timeout  time.Duration
		payload  string
		wantType string
		wantMsg  string
		exits    bool // the process ends
	}{
		{name: "handler error", payload: `{"fail":"no thanks"}`, wantType: "refusedError", wantMsg: "refused: no thanks"},
		{name: "panic", payload: `{"panic":"boom"}`, wantType: "string", wantMsg: "boom", exits: true},
		{name: "timeout", payload: `{"sleep_ms":5000,"stubborn":true}`, timeout: 300 * time.Millisecond, wantType: "Sandbox.Timedout", wantMsg: "Task timed out after 0.30 seconds", exits: true},
		{name: "init failure", env: []string{"ECHO_INIT_FAIL=no config"}, payload: `{}`, wantType: "Runtime.ExitError", wantMsg: "exit status 1", exits: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, f := start(t, tt.env...)
			r.Timeout = tt.timeout
			_, err := invoke(t, r, tt.payload)
			var ie *InvokeError
			if !errors.As(err, &ie) {
				t.Fatalf("Invoke = %v, want an *InvokeError", err)
			}
			if ie.Type != tt.wantType || !strings.Contains(ie.Message, tt.wantMsg) || ie.RequestID == "" {
				t.Errorf("InvokeError = %+v, want type %q, message with %q", ie, tt.wantType, tt.wantMsg)
			}
			// One that exits is waited for; one that must not is given a moment
			// to do it wrongly (an exit later than that is caught by the next
			// invocation, which would fail).
			wait := 300 * time.Millisecond
			if tt.exits {
				wait = 10 * time.Second
			}
			select {
			case <-f.Done():
				if !tt.exits {
					t.Errorf("the function exited: %v", f.Err())
				}
			case <-time.After(wait):
				if tt.exits {
					t.Errorf("the function is still running %v after its fatal error", wait)
				}
			}
			if !tt.exits {
				if _, err := invoke(t, r, `{}`); err != nil {
					t.Errorf("Invoke after a handled error: %v", err)
				}
			} else if _, err := invoke(t, r, `{}`); !errors.As(err, &ie) || ie.Type != "Runtime.ExitError" {
				t.Errorf("Invoke after the function exited = %v, want Runtime.ExitError", err)
			}
		})
	}
	t.Run("init failure is in stderr", func(t *testing.T) {
		t.Parallel()
		_, f := start(t, "ECHO_INIT_FAIL=no config")
		<-f.Done()
		if !strings.Contains(f.Stderr(), "init: no config") {
			t.Errorf("stderr = %q", f.Stderr())
		}
	})
}

func TestRestartAfterExit(t *testing.T) {
	r, f := start(t)
	if _, err := r.StartFunction(t.Context(), echoBootstrap(t), nil); err == nil {
		t.Fatal("a second function started while the first runs")
	}
	f.Stop()
	g, err := r.StartFunction(t.Context(), echoBootstrap(t), []string{"AWS_LAMBDA_FUNCTION_NAME=again"})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	out, err := invoke(t, r, `{}`)
	if err != nil || !strings.Contains(string(out), `"function_name":"again"`) {
		t.Errorf("Invoke = %s, %v", out, err)
	}
}

// TestProtocol drives the Runtime API by hand, as a runtime other than
// aws-lambda-go would.
func TestProtocol(t *testing.T) {
	r, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	base := "http://" + r.Addr() + "/2018-06-01/runtime"
	post := func(path, body string) int {
		t.Helper()
		resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	type answer struct {
		out []byte
		err error
	}
	answers := make(chan answer, 2)
	go func() {
		out, err := r.Invoke(t.Context(), []byte(`{"n":1}`))
		answers <- answer{out, err}
	}()

	resp, err := http.Get(base + "/invocation/next")
	if err != nil {
		t.Fatal(err)
	}
	var payload bytes.Buffer
	payload.ReadFrom(resp.Body)
	resp.Body.Close()
	id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
	for _, h := range []string{"Lambda-Runtime-Aws-Request-Id", "Lambda-Runtime-Deadline-Ms", "Lambda-Runtime-Invoked-Function-Arn", "Lambda-Runtime-Trace-Id"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("next: header %s missing", h)
		}
	}
	if resp.StatusCode != http.StatusOK || payload.String() != `{"n":1}` {
		t.Fatalf("next = %d %q", resp.StatusCode, payload.String())
	}
	if code := post("/invocation/not-an-id/response", `{}`); code != http.StatusBadRequest {
		t.Errorf("response for an unknown id = %d, want 400", code)
	}
	if code := post("/invocation/"+id+"/response", `{"ok":true}`); code != http.StatusAccepted {
		t.Errorf("response = %d, want 202", code)
	}
	if a := <-answers; a.err != nil || string(a.out) != `{"ok":true}` {
		t.Errorf("Invoke = %s, %v", a.out, a.err)
	}

	// An init error fails the pending and every later invocation.
	go func() {
		out, err := r.Invoke(t.Context(), []byte(`{"n":2}`))
		answers <- answer{out, err}
	}()
	// The invocation must be pending when the init error comes, or this would
	// test only the later ones.
	waitFor(t, "the invocation to be queued", func() bool { return r.pendingCalls() == 1 })
	if code := post("/init/error", `{"errorType":"Runtime.ConfigError","errorMessage":"X_API_KEY is not set"}`); code != http.StatusAccepted {
		t.Errorf("init/error = %d, want 202", code)
	}
	for _, a := range []answer{<-answers, func() answer { out, err := r.Invoke(t.Context(), []byte(`{}`)); return answer{out, err} }()} {
		var ie *InvokeError
		if !errors.As(a.err, &ie) || ie.Type != "Runtime.ConfigError" || ie.Message != "X_API_KEY is not set" {
			t.Errorf("Invoke after init error = %v", a.err)
		}
	}

	if _, err := r.Invoke(t.Context(), []byte(`not json`)); err == nil {
		t.Error("Invoke accepted a payload that is not JSON")
	}
}

func TestCloseUnblocks(t *testing.T) {
	r, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 1)
	go func() {
		resp, err := http.Get("http://" + r.Addr() + "/2018-06-01/runtime/invocation/next")
		if err != nil {
			got <- 0
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	invoked := make(chan error, 1)
	waitFor(t, "the next call to block", func() bool { return r.pendingNexts() == 1 })
	go func() {
		// Never answered: Close must fail it.
		_, err := r.Invoke(context.Background(), []byte(`{}`))
		invoked <- err
	}()
	// Queued, or already handed to the blocked next (which then returns with
	// it): either way in progress, and Close must fail it.
	waitFor(t, "the invocation to be queued", func() bool { return r.pendingCalls() == 1 })
	start := time.Now()
	r.Close()
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("a blocked next was not released by Close")
	}
	select {
	case err := <-invoked:
		if err == nil {
			t.Error("Invoke of an invocation in progress at Close succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("an invocation in progress was not failed by Close")
	}
	if time.Since(start) > 10*time.Second { // milliseconds when it works; a hang otherwise
		t.Errorf("Close took %v", time.Since(start))
	}
}
