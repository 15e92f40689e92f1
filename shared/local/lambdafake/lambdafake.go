// Package lambdafake is a small fake of the AWS Lambda Runtime API, enough to run
// the real built bootstrap binaries (aws-lambda-go, built with -tags lambda.norpc) in
// tests, as Lambda would: Invoke queues an invocation, the function's runtime client
// takes it with GET …/invocation/next, and Invoke returns what the function posts to
// …/response or …/error.
//
// It implements the part of the Runtime API that aws-lambda-go v1.55 uses:
//
//	GET  /2018-06-01/runtime/invocation/next          blocks until an invocation is queued
//	POST /2018-06-01/runtime/invocation/{id}/response 202
//	POST /2018-06-01/runtime/invocation/{id}/error    202
//	POST /2018-06-01/runtime/init/error               202; every later Invoke fails with it
//
// The next invocation carries the headers Lambda-Runtime-Aws-Request-Id,
// Lambda-Runtime-Deadline-Ms, Lambda-Runtime-Invoked-Function-Arn and
// Lambda-Runtime-Trace-Id. A response streamed with an error trailer
// (Lambda-Runtime-Function-Error-Type/-Body, which aws-lambda-go sends when reading a
// streamed response fails) counts as an error.
//
// Like Lambda it fails an invocation that outlives the function timeout with
// "Sandbox.Timedout" (and kills the function it started), one whose function process
// exits with "Runtime.ExitError", and refuses payloads that are not JSON or exceed
// 6 MB. It does not do extensions, telemetry, response streaming or SnapStart.
//
// For fault-injection tests, CrashNext kills the function process a chosen time
// into its next invocation (the invocation fails with Runtime.ExitError) and
// Restart starts a new process from the same bootstrap, as Lambda replaces a
// crashed execution environment (crash.go).
//
// For cost measurements, Invocations lists each invocation a function took with
// how long it ran (Billed: rounded up to the millisecond, as Lambda bills), and
// Functions every process started, with its init (billing.go).
package lambdafake

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Limits and defaults.
const (
	// MaxPayloadBytes is Lambda's limit for a synchronous request or response.
	MaxPayloadBytes = 6 << 20
	// DefaultTimeout is the function timeout when Runtime.Timeout is 0 (Lambda's
	// default is 3 s; tests on a loaded machine want more).
	DefaultTimeout = 30 * time.Second
	// DefaultFunctionARN is the invoked function ARN when no Function was started.
	DefaultFunctionARN = "arn:aws:lambda:us-east-1:000000000000:function:function"

	apiPrefix = "/2018-06-01/runtime"
)

// InvokeError is a failed invocation: the error the function reported, or one the
// fake raised on Lambda's behalf (Sandbox.Timedout, Runtime.ExitError).
type InvokeError struct {
	RequestID string `json:"-"`
	// Type and Message are the error's errorType and errorMessage.
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
	// StackTrace is the stackTrace the function sent, if any.
	StackTrace json.RawMessage `json:"stackTrace,omitempty"`
	// Body is the error document as the function posted it.
	Body []byte `json:"-"`
}

func (e *InvokeError) Error() string {
	return fmt.Sprintf("lambda: %s: %s", e.Type, e.Message)
}

// Runtime is a fake Runtime API served on 127.0.0.1.
type Runtime struct {
	// Timeout is the function timeout: each invocation's deadline and the time
	// after which Invoke fails with Sandbox.Timedout (DefaultTimeout when 0). Set
	// it before the first Invoke.
	Timeout time.Duration

	ln     net.Listener
	srv    *http.Server
	queue  chan *invocation
	closed chan struct{}
	once   sync.Once

	mu      sync.Mutex
	calls   map[string]*invocation // by request id, until answered
	initErr *InvokeError
	fn      *Function // the function started last, if any
	arn     string
	crash   *crash // armed by CrashNext (crash.go)
	// fns are every function process started, in order (billing.go); finished
	// the invocations a function took, as they ended.
	fns      []*Function
	finished []Invocation
	// nexts counts the next calls waiting for an invocation (Restart waits for
	// a stopped process's own to end, so that it takes nothing).
	nexts int
}

type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	timeout  time.Duration
	done     chan result // buffered; receives exactly one result
	answered bool        // guarded by Runtime.mu
	// taken is when the function took it with a next call (zero while queued);
	// fn is that function. Guarded by Runtime.mu.
	taken time.Time
	fn    *Function
}

type result struct {
	body []byte
	err  error
}

// Start serves a Runtime API on 127.0.0.1 on a free port.
func Start() (*Runtime, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("lambdafake: listen: %w", err)
	}
	r := &Runtime{
		ln:     ln,
		queue:  make(chan *invocation, 1024),
		closed: make(chan struct{}),
		calls:  make(map[string]*invocation),
		arn:    DefaultFunctionARN,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+apiPrefix+"/invocation/next", r.next)
	mux.HandleFunc("POST "+apiPrefix+"/invocation/{id}/response", r.response)
	mux.HandleFunc("POST "+apiPrefix+"/invocation/{id}/error", r.invocationError)
	mux.HandleFunc("POST "+apiPrefix+"/init/error", r.initError)
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// Addr is the value for AWS_LAMBDA_RUNTIME_API: host:port.
func (r *Runtime) Addr() string {
	return r.ln.Addr().String()
}

// Close stops the function it started, if still running, fails the invocations in
// progress, and stops serving.
func (r *Runtime) Close() {
	r.once.Do(func() {
		close(r.closed)
		r.mu.Lock()
		fn := r.fn
		r.mu.Unlock()
		if fn != nil {
			fn.Stop()
		}
		r.failAll(errors.New("lambdafake: runtime closed"))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := r.srv.Shutdown(ctx); err != nil {
			_ = r.srv.Close()
		}
	})
}

// Invoke queues one invocation with payload (a JSON document) and waits for the
// function's answer. It returns the response body, or an *InvokeError when the
// function reported an error, failed to initialise, exited, or timed out.
func (r *Runtime) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if len(payload) > MaxPayloadBytes {
		return nil, fmt.Errorf("lambdafake: payload of %d bytes is over Lambda's %d", len(payload), MaxPayloadBytes)
	}
	if !json.Valid(payload) {
		return nil, errors.New("lambdafake: payload is not a JSON document (Lambda answers InvalidRequestContentException)")
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	inv := &invocation{
		id:       newRequestID(),
		payload:  bytes.Clone(payload),
		deadline: time.Now().Add(timeout),
		timeout:  timeout,
		done:     make(chan result, 1),
	}

	r.mu.Lock()
	select {
	case <-r.closed:
		r.mu.Unlock()
		return nil, errors.New("lambdafake: runtime closed")
	default:
	}
	if r.initErr != nil {
		e := *r.initErr
		r.mu.Unlock()
		e.RequestID = inv.id
		return nil, &e
	}
	fn := r.fn
	var exited <-chan struct{} // nil, never ready, when no Function was started
	if fn != nil {
		select {
		case <-fn.done:
			r.mu.Unlock()
			return nil, fn.exitError(inv.id)
		default:
		}
		exited = fn.done
	}
	r.calls[inv.id] = inv
	r.mu.Unlock()

	select {
	case r.queue <- inv:
	default:
		r.settle(inv, result{err: errors.New("lambdafake: too many invocations queued")})
	}

	timer := time.NewTimer(time.Until(inv.deadline))
	defer timer.Stop()
	select {
	case res := <-inv.done:
		return res.body, res.err
	case <-ctx.Done():
		r.settle(inv, result{err: ctx.Err()})
	case <-timer.C:
		r.expire(inv)
	case <-exited:
		r.settle(inv, result{err: fn.exitError(inv.id)})
	}
	res := <-inv.done
	return res.body, res.err
}

// expire fails inv with Lambda's timeout error and, as Lambda discards an
// environment whose invocation timed out, kills the function process.
func (r *Runtime) expire(inv *invocation) {
	r.settle(inv, result{err: &InvokeError{RequestID: inv.id, Type: "Sandbox.Timedout",
		Message: fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", inv.id, inv.timeout.Seconds())}})
	r.mu.Lock()
	fn := r.fn
	r.mu.Unlock()
	if fn != nil {
		fn.Stop()
	}
}

// settle gives inv its result unless it already has one; it reports whether it did.
func (r *Runtime) settle(inv *invocation, res result) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if inv.answered {
		return false
	}
	inv.answered = true
	delete(r.calls, inv.id)
	r.account(inv, res)
	inv.done <- res
	return true
}

func (r *Runtime) failAll(err error) {
	r.mu.Lock()
	pending := make([]*invocation, 0, len(r.calls))
	for _, inv := range r.calls {
		pending = append(pending, inv)
	}
	r.mu.Unlock()
	for _, inv := range pending {
		res := result{err: err}
		if ie, ok := err.(*InvokeError); ok {
			e := *ie
			e.RequestID = inv.id
			res.err = &e
		}
		r.settle(inv, res)
	}
}

// next hands the next unanswered invocation to the function.
func (r *Runtime) next(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	if fn := r.fn; fn != nil {
		fn.markReady()
	}
	r.nexts++
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.nexts--
		r.mu.Unlock()
	}()
	for {
		var inv *invocation
		select {
		case inv = <-r.queue:
		case <-req.Context().Done():
			return
		case <-r.closed:
			writeError(w, http.StatusInternalServerError, "Runtime.Closed", "the fake runtime was closed")
			return
		}
		r.mu.Lock()
		answered, arn := inv.answered, r.arn
		var c *crash
		if !answered {
			c, r.crash = r.crash, nil
			inv.taken, inv.fn = time.Now(), r.fn
		}
		r.mu.Unlock()
		if answered { // cancelled or timed out while queued
			continue
		}
		if c != nil {
			r.armCrash(c, inv)
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", arn)
		h.Set("Lambda-Runtime-Trace-Id", newTraceID())
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(inv.payload)
		return
	}
}

func (r *Runtime) lookup(w http.ResponseWriter, req *http.Request) (*invocation, bool) {
	id := req.PathValue("id")
	r.mu.Lock()
	inv, ok := r.calls[id]
	r.mu.Unlock()
	if !ok {
		writeError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation "+id+" is in progress")
		return nil, false
	}
	if !time.Now().Before(inv.deadline) {
		// Too late: the handler's context ended with the function timeout, and
		// Lambda has already failed the invocation.
		r.expire(inv)
		accepted(w)
		return nil, false
	}
	return inv, true
}

func (r *Runtime) response(w http.ResponseWriter, req *http.Request) {
	inv, ok := r.lookup(w, req)
	if !ok {
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, MaxPayloadBytes+1))
	switch {
	case err != nil:
		r.settle(inv, result{err: fmt.Errorf("lambdafake: read the response of %s: %w", inv.id, err)})
		writeError(w, http.StatusBadRequest, "InvalidResponse", err.Error())
		return
	case len(body) > MaxPayloadBytes:
		r.settle(inv, result{err: &InvokeError{RequestID: inv.id, Type: "Function.ResponseSizeTooLarge",
			Message: fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", MaxPayloadBytes)}})
		writeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "response over 6 MB")
		return
	}
	// A streamed response whose reading failed ends with error trailers.
	if typ := req.Trailer.Get("Lambda-Runtime-Function-Error-Type"); typ != "" {
		e := &InvokeError{RequestID: inv.id, Type: typ}
		if b, err := base64.StdEncoding.DecodeString(req.Trailer.Get("Lambda-Runtime-Function-Error-Body")); err == nil {
			e.Body = b
			_ = json.Unmarshal(b, e)
		}
		r.settle(inv, result{err: e})
	} else {
		r.settle(inv, result{body: body})
	}
	accepted(w)
}

func (r *Runtime) invocationError(w http.ResponseWriter, req *http.Request) {
	inv, ok := r.lookup(w, req)
	if !ok {
		return
	}
	e := readError(req)
	e.RequestID = inv.id
	r.settle(inv, result{err: e})
	accepted(w)
}

func (r *Runtime) initError(w http.ResponseWriter, req *http.Request) {
	e := readError(req)
	r.mu.Lock()
	r.initErr = e
	r.mu.Unlock()
	r.failAll(e)
	accepted(w)
}

// readError reads an error document; the Lambda-Runtime-Function-Error-Type header
// stands in for a missing errorType.
func readError(req *http.Request) *InvokeError {
	body, _ := io.ReadAll(io.LimitReader(req.Body, MaxPayloadBytes))
	e := &InvokeError{Body: body}
	if err := json.Unmarshal(body, e); err != nil {
		e.Message = string(body)
	}
	if e.Type == "" {
		e.Type = req.Header.Get("Lambda-Runtime-Function-Error-Type")
	}
	if e.Type == "" {
		e.Type = "Unhandled"
	}
	return e
}

func accepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

func writeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"errorType": typ, "errorMessage": msg})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newRequestID returns a random UUID, as Lambda's request ids are.
func newRequestID() string {
	h := randomHex(16)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

// newTraceID returns an X-Ray trace header like Lambda's.
func newTraceID() string {
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", time.Now().Unix(), randomHex(12), randomHex(8))
}
