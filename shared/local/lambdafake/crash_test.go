package lambdafake

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCrashNextAndRestart(t *testing.T) {
	tests := []struct {
		name    string
		crashIn time.Duration
		payload string
		killed  bool // the process dies with the invocation in progress
	}{
		{name: "crash mid-invocation", crashIn: 50 * time.Millisecond, payload: `{"sleep_ms":5000}`, killed: true},
		{name: "crash at once", crashIn: 0, payload: `{"sleep_ms":5000,"stubborn":true}`, killed: true},
		{name: "answered before the crash", crashIn: 3 * time.Second, payload: `{}`, killed: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, f := start(t)
			hit := r.CrashNext(tt.crashIn)
			_, err := invoke(t, r, tt.payload)
			var ie *InvokeError
			if tt.killed != (errors.As(err, &ie) && ie.Type == "Runtime.ExitError") {
				t.Fatalf("Invoke = %v; want a Runtime.ExitError: %v", err, tt.killed)
			}
			select {
			case got := <-hit:
				if got != tt.killed {
					t.Errorf("CrashNext reported %v, want %v", got, tt.killed)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("CrashNext never reported")
			}
			if tt.killed {
				<-f.Done()
			} else if f.Err() != nil {
				t.Fatalf("the function ended: %v", f.Err())
			}

			// Restart: a new process (a cold start), the old one gone.
			g, err := r.Restart(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer g.Stop()
			select {
			case <-f.Done():
			default:
				t.Error("Restart left the old process running")
			}
			if g == f || r.Function() != g {
				t.Errorf("Restart returned %p (function now %p), want a new one in place of %p", g, r.Function(), f)
			}
			if out, err := invoke(t, r, `{"n":2}`); err != nil || !strings.Contains(string(out), `"echo":{"n":2}`) {
				t.Errorf("Invoke after Restart = %s, %v", out, err)
			}
		})
	}
	t.Run("restart without a function", func(t *testing.T) {
		r, err := Start()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if _, err := r.Restart(t.Context()); err == nil {
			t.Error("Restart with no function started succeeded")
		}
	})
}
