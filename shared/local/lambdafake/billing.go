package lambdafake

import (
	"slices"
	"time"
)

// What Lambda would bill, for cost measurements (package cost): each invocation a
// function took, how long it ran, and each function process's init.
//
// An invocation's duration runs from the moment the function takes it (its
// Runtime API next call returns it) to the moment its answer is settled: the
// function's response or error, the kill of its process, or the timeout, as
// Lambda's Duration runs from the handler's start to its return. Lambda bills it
// rounded up to the millisecond (Billed). An invocation the function never took
// (cancelled or timed out while queued) ran nothing and is not listed. The init
// (Function.InitDuration) is billed too for the OS-only runtimes the functions
// run on (provided.al2023), and since August 2025 for every runtime.

// Invocation is one invocation a function took, once it ended.
type Invocation struct {
	RequestID string
	// Function is the name of the function that ran it.
	Function string
	// Start is when the function took it, End when its answer was settled.
	Start, End time.Time
	// Failed is true when it did not end with a response (an error, a crash, a
	// timeout).
	Failed bool
}

// Duration is how long the invocation ran.
func (i Invocation) Duration() time.Duration { return i.End.Sub(i.Start) }

// Billed is Duration rounded up to the millisecond, as Lambda bills it.
func (i Invocation) Billed() time.Duration { return BilledDuration(i.Duration()) }

// BilledDuration rounds d up to the next millisecond (1.0001 ms bills 2 ms).
func BilledDuration(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return (d + time.Millisecond - 1) / time.Millisecond * time.Millisecond
}

// account records inv's end; the caller holds r.mu.
func (r *Runtime) account(inv *invocation, res result) {
	if inv.taken.IsZero() {
		return // never taken by a function: nothing ran
	}
	name := ""
	if inv.fn != nil {
		name = inv.fn.Name
	}
	r.finished = append(r.finished, Invocation{RequestID: inv.id, Function: name, Start: inv.taken, End: time.Now(), Failed: res.err != nil})
}

// Invocations returns the invocations the functions of r took and that ended,
// in the order they ended.
func (r *Runtime) Invocations() []Invocation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.finished)
}

// Functions returns every function process started on r (by StartFunction and
// Restart), oldest first: their output and init durations.
func (r *Runtime) Functions() []*Function {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.fns)
}
