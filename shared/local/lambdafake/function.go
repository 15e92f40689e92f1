package lambdafake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Function is a bootstrap process running against a Runtime.
type Function struct {
	// Name and ARN are the function's name and the invoked function ARN its
	// invocations carry.
	Name, ARN string

	cmd    *exec.Cmd
	binary string   // as given to StartFunction, for Runtime.Restart
	env    []string // as given to StartFunction, for Runtime.Restart
	stdout syncBuffer
	stderr syncBuffer
	done   chan struct{}
	err    error // the process's exit error; set before done is closed
	stop   sync.Once

	started   time.Time     // just before the process started
	ready     chan struct{} // closed at the function's first Runtime API next call
	readyOnce sync.Once
	readyAt   time.Time // set before ready is closed
}

// Ready is closed when the function first asks the Runtime API for an
// invocation: its init (Lambda's Init phase) is over.
func (f *Function) Ready() <-chan struct{} { return f.ready }

// InitDuration is how long the function took from its process's start to its
// first Runtime API next call; false until then.
func (f *Function) InitDuration() (time.Duration, bool) {
	select {
	case <-f.ready:
		return f.readyAt.Sub(f.started), true
	default:
		return 0, false
	}
}

// markReady records the function's first next call.
func (f *Function) markReady() {
	f.readyOnce.Do(func() {
		f.readyAt = time.Now()
		close(f.ready)
	})
}

// StartFunction runs binary (a Lambda bootstrap built for this machine) as Lambda
// would, with AWS_LAMBDA_RUNTIME_API pointing at r and the rest of Lambda's
// environment, followed by env ("KEY=value" entries, which win). The process does
// not inherit this process's environment. By default the function is named after
// binary's directory (or binary itself when it is not called bootstrap), runs in
// us-east-1 with fake static credentials, and has binary's directory as its working
// directory and LAMBDA_TASK_ROOT.
//
// One Function runs per Runtime at a time, as in one Lambda execution environment;
// start another after the previous one has stopped. The process is killed when ctx
// is done, on Stop, when an invocation times out, and on Runtime.Close.
func (r *Runtime) StartFunction(ctx context.Context, binary string, env []string) (*Function, error) {
	bin, err := filepath.Abs(binary)
	if err != nil {
		return nil, fmt.Errorf("lambdafake: %w", err)
	}
	dir := filepath.Dir(bin)
	name := filepath.Base(bin)
	if name == "bootstrap" {
		name = filepath.Base(dir)
	}
	region := "us-east-1"
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "AWS_LAMBDA_FUNCTION_NAME":
			name = v
		case "AWS_REGION":
			region = v
		}
	}

	f := &Function{
		Name:   name,
		ARN:    "arn:aws:lambda:" + region + ":000000000000:function:" + name,
		binary: binary,
		env:    append([]string(nil), env...),
		done:   make(chan struct{}),
		ready:  make(chan struct{}),
	}
	base := []string{
		"AWS_LAMBDA_RUNTIME_API=" + r.Addr(),
		"AWS_LAMBDA_FUNCTION_NAME=" + name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + name,
		"AWS_LAMBDA_LOG_STREAM_NAME=" + time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + randomHex(16),
		"AWS_REGION=" + region,
		"AWS_DEFAULT_REGION=" + region,
		// Fake credentials, so an SDK never goes looking for real ones.
		"AWS_ACCESS_KEY_ID=lambdafake",
		"AWS_SECRET_ACCESS_KEY=lambdafake",
		"AWS_SESSION_TOKEN=lambdafake",
		"AWS_EC2_METADATA_DISABLED=true",
		"_HANDLER=bootstrap",
		"LAMBDA_TASK_ROOT=" + dir,
		"LAMBDA_RUNTIME_DIR=" + dir,
		"PATH=/usr/local/bin:/usr/bin:/bin:/opt/bin",
		"LANG=en_US.UTF-8",
		"TZ=:UTC",
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-r.closed:
		return nil, errors.New("lambdafake: runtime closed")
	default:
	}
	if r.fn != nil {
		select {
		case <-r.fn.done:
		default:
			return nil, fmt.Errorf("lambdafake: function %s is still running; Stop it first", r.fn.Name)
		}
	}

	f.cmd = exec.CommandContext(ctx, bin)
	f.cmd.Env = append(base, env...)
	f.cmd.Dir = dir
	f.cmd.Stdout = &f.stdout
	f.cmd.Stderr = &f.stderr
	f.cmd.WaitDelay = time.Second
	f.started = time.Now()
	if err := f.cmd.Start(); err != nil {
		return nil, fmt.Errorf("lambdafake: start %s: %w", bin, err)
	}
	go func() {
		f.err = f.cmd.Wait()
		close(f.done)
	}()
	r.fn, r.arn, r.initErr = f, f.ARN, nil
	r.fns = append(r.fns, f)
	return f, nil
}

// Stop kills the process and waits for it to end. It is safe to call more than
// once and after the process ended.
func (f *Function) Stop() {
	f.stop.Do(func() {
		select {
		case <-f.done:
		default:
			_ = f.cmd.Process.Kill()
		}
	})
	<-f.done
}

// Done is closed when the process has ended.
func (f *Function) Done() <-chan struct{} { return f.done }

// Err is the process's exit error (nil for a clean exit) once Done is closed, and
// nil before.
func (f *Function) Err() error {
	select {
	case <-f.done:
		return f.err
	default:
		return nil
	}
}

// Stdout returns what the process has written to stdout so far.
func (f *Function) Stdout() string { return f.stdout.String() }

// Stderr returns what the process has written to stderr so far (aws-lambda-go and
// the standard log package write there).
func (f *Function) Stderr() string { return f.stderr.String() }

// Output returns stdout and stderr, labelled, for test failure messages.
func (f *Function) Output() string {
	return fmt.Sprintf("--- %s stdout ---\n%s--- %s stderr ---\n%s", f.Name, f.Stdout(), f.Name, f.Stderr())
}

// exitError is the error of an invocation cut short by the process's exit.
func (f *Function) exitError(requestID string) error {
	status := "exit status 0"
	if f.err != nil {
		status = f.err.Error()
	}
	return &InvokeError{RequestID: requestID, Type: "Runtime.ExitError",
		Message: fmt.Sprintf("RequestId: %s Error: Runtime exited with error: %s", requestID, status)}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var _ io.Writer = (*syncBuffer)(nil)
