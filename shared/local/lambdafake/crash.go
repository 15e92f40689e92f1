package lambdafake

import (
	"context"
	"errors"
	"time"
)

// Fault hooks, for tests that crash a function the way Lambda's execution
// environments crash (out of memory, a segfault, a host lost):
//
//   - CrashNext arms a kill of the function process a chosen time after it takes
//     its next invocation: the invocation, if still unanswered then, fails with
//     Runtime.ExitError, as Lambda reports it, and whatever the function was
//     doing stops half-way.
//   - Restart starts a new process from the same bootstrap and environment, as
//     Lambda starts a new execution environment (a cold start) for the next
//     invocation after one died.

// crash is a kill armed by CrashNext.
type crash struct {
	after time.Duration
	hit   chan bool // buffered; receives once
}

// CrashNext arms a crash: the function process is killed (SIGKILL) after d from
// the moment it takes the next invocation with GET …/invocation/next, provided
// that invocation is still unanswered then. The channel returned receives, once,
// true when the process was killed with that invocation in progress (Invoke
// returns a Runtime.ExitError), false when the function answered first (nothing is
// killed). A later CrashNext replaces one that has not fired yet, whose channel
// then never receives. Restart brings the function back after a crash.
func (r *Runtime) CrashNext(d time.Duration) <-chan bool {
	c := &crash{after: max(d, 0), hit: make(chan bool, 1)}
	r.mu.Lock()
	r.crash = c
	r.mu.Unlock()
	return c.hit
}

// armCrash kills the function c.after from now if inv is still unanswered then.
func (r *Runtime) armCrash(c *crash, inv *invocation) {
	time.AfterFunc(c.after, func() {
		r.mu.Lock()
		fn := r.fn
		hit := !inv.answered && fn != nil
		if hit {
			// Under r.mu, so the function cannot answer in between: the
			// invocation surely dies with the process.
			select {
			case <-fn.done:
				hit = false // already gone
			default:
				hit = fn.cmd.Process.Kill() == nil
			}
		}
		r.mu.Unlock()
		c.hit <- hit
	})
}

// Restart stops the function started last, if it still runs, and starts a new
// process from the same bootstrap and environment (see StartFunction), as Lambda
// starts a new execution environment after one crashed or timed out. ctx bounds
// the new process's life, as StartFunction's. It returns the new Function.
func (r *Runtime) Restart(ctx context.Context) (*Function, error) {
	r.mu.Lock()
	old := r.fn
	r.mu.Unlock()
	if old == nil {
		return nil, errors.New("lambdafake: no function to restart: start one with StartFunction")
	}
	old.Stop()
	// The stopped process may have been waiting in a next call: the server
	// sees its connection close a moment later. Until then that call could take
	// the next invocation and lose it with the dead connection.
	for deadline := time.Now().Add(10 * time.Second); r.pendingNexts() > 0 && time.Now().Before(deadline); {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return r.StartFunction(ctx, old.binary, old.env)
}

func (r *Runtime) pendingNexts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.nexts
}

// Function returns the function started last (nil when none was), running or not.
func (r *Runtime) Function() *Function {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fn
}
