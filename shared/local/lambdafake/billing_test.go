package lambdafake

import (
	"testing"
	"time"
)

func TestBilledDuration(t *testing.T) {
	for _, tc := range []struct{ d, want time.Duration }{
		{0, 0},
		{-time.Millisecond, 0},
		{time.Nanosecond, time.Millisecond},
		{time.Millisecond, time.Millisecond},
		{time.Millisecond + 100*time.Nanosecond, 2 * time.Millisecond}, // 1.0001 ms bills 2 ms
		{32*time.Millisecond + 451*time.Microsecond, 33 * time.Millisecond},
		{time.Second, time.Second},
	} {
		if got := BilledDuration(tc.d); got != tc.want {
			t.Errorf("BilledDuration(%v) = %v, want %v", tc.d, got, tc.want)
		}
	}
}

// Every invocation a function took is listed once it ends, with its duration
// (at least what the function slept) and whether it failed; each process
// started is listed with its init.
func TestInvocations(t *testing.T) {
	r, f := start(t)
	r.Timeout = 5 * time.Second
	if _, err := invoke(t, r, `{"sleep_ms":30}`); err != nil {
		t.Fatal(err)
	}
	if _, err := invoke(t, r, `{"fail":"no"}`); err == nil {
		t.Fatal("want the function's error")
	}
	got := r.Invocations()
	if len(got) != 2 {
		t.Fatalf("%d invocations listed, want 2: %+v", len(got), got)
	}
	if d := got[0].Duration(); d < 30*time.Millisecond || got[0].Failed || got[0].Function != "echo" {
		t.Errorf("first invocation %+v (ran %v), want a success of echo that ran at least 30 ms", got[0], d)
	}
	if b := got[0].Billed(); b%time.Millisecond != 0 || b < got[0].Duration() || b-got[0].Duration() >= time.Millisecond {
		t.Errorf("billed %v for %v: want it rounded up to the millisecond", b, got[0].Duration())
	}
	if !got[1].Failed {
		t.Errorf("second invocation %+v, want failed", got[1])
	}
	fns := r.Functions()
	if len(fns) != 1 || fns[0] != f {
		t.Fatalf("functions %v, want the one started", fns)
	}
	if d, ok := fns[0].InitDuration(); !ok || d <= 0 {
		t.Errorf("init %v (%v), want > 0", d, ok)
	}
}
