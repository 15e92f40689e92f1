// Package dynalite runs dynalite, a DynamoDB-compatible server written for Node.js,
// as a child process: the local DynamoDB of Pajarito's tests and of the local dev
// system.
//
// dynalite is an npm development dependency of the repository; `npm ci` at the
// repository root installs it in node_modules. Start runs
//
//	node -e <guard; require(<root>/node_modules/dynalite/cli.js)> -- --host 127.0.0.1 --port <free port> --createTableMs 0 [--path <dir>]
//
// and returns once the server answers. The guard (guardJS) keeps dynalite running
// when a client goes away in the middle of a request, as DynamoDB does. dynalite@4 implements the single-item and
// batch APIs, Query and Scan, but not TransactWriteItems, TransactGetItems, PartiQL
// or UpdateTimeToLive; it ignores ReturnValuesOnConditionCheckFailure, and the
// consumed capacity it reports covers the table only, never index writes.
//
// The child is stopped by Server.Close. On Linux it is also killed by the kernel if
// the parent dies, so an interrupted `go test` leaves no server behind.
//
// For fault-injection tests, Server.Kill stops the server as a crash would
// (SIGKILL) and Server.Restart starts it again on the same port, with its data when
// it keeps it in Options.Dir.
package dynalite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configures Start.
type Options struct {
	// Dir, when set, makes dynalite keep its data in that directory (LevelDB), so it
	// survives restarts. Empty keeps everything in memory.
	Dir string
	// Root is the repository root: the directory holding node_modules. Empty means
	// the nearest directory, walking up from the working directory, that holds both
	// go.mod and node_modules.
	Root string
	// Stderr, when set, receives dynalite's standard error and standard output
	// after start-up.
	Stderr io.Writer
}

// Server is a running dynalite.
type Server struct {
	// Endpoint is the server's base URL, e.g. "http://127.0.0.1:41234".
	Endpoint string

	// mu guards cmd and done, which Restart replaces.
	mu        sync.Mutex
	cmd       *exec.Cmd
	done      chan struct{} // closed when the child has exited
	waitErr   error         // the child's exit status, valid once done is closed
	closeOnce sync.Once
	closeErr  error
	closed    bool // guarded by mu

	// How it was started, for Restart.
	node, cli string
	port      int
	opts      Options
}

// startAttempts is how many ports Start tries when another process takes the free
// port it picked before dynalite binds it.
const startAttempts = 5

// defaultStartTimeout bounds start-up when the context has no deadline.
const defaultStartTimeout = 30 * time.Second

// stopGrace is how long Close waits after SIGTERM before it kills the server.
const stopGrace = 5 * time.Second

// Start launches dynalite and waits until it accepts connections. ctx bounds the
// start-up only: the server runs until Close.
func Start(ctx context.Context, opts Options) (*Server, error) {
	root := opts.Root
	if root == "" {
		var err error
		if root, err = findRoot(); err != nil {
			return nil, err
		}
	}
	cli := filepath.Join(root, "node_modules", "dynalite", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		return nil, fmt.Errorf("dynalite: %s is missing: run `npm ci` in %s to install the development tools", cli, root)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("dynalite: node (Node.js 20 or newer) is not on PATH: install it, then run `npm ci` in %s: %w", root, err)
	}
	if opts.Dir != "" {
		if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("dynalite: data directory: %w", err)
		}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultStartTimeout)
		defer cancel()
	}
	var errs []error
	for range startAttempts {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s, retry, err := start(ctx, node, cli, port, opts)
		if err == nil {
			s.node, s.cli, s.port, s.opts = node, cli, port, opts
			return s, nil
		}
		errs = append(errs, err)
		if !retry || ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// start runs one attempt on port. retry reports whether the failure looks like a
// lost race for the port.
func start(ctx context.Context, node, cli string, port int, opts Options) (s *Server, retry bool, err error) {
	args := []string{"--host", "127.0.0.1", "--port", strconv.Itoa(port), "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"}
	if opts.Dir != "" {
		args = append(args, "--path", opts.Dir)
	}
	args = evalArgs(cli, args...)
	cmd := exec.Command(node, args...)
	cmd.Dir = filepath.Dir(cli)
	cmd.SysProcAttr = sysProcAttr()
	var stderr tail
	cmd.Stderr = &stderr
	if opts.Stderr != nil {
		cmd.Stderr = io.MultiWriter(&stderr, opts.Stderr)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, false, fmt.Errorf("dynalite: %w", err)
	}
	if err := startChild(cmd); err != nil {
		return nil, false, fmt.Errorf("dynalite: start %s: %w", node, err)
	}
	s = &Server{
		Endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		cmd:      cmd,
		done:     make(chan struct{}),
	}

	// Read stdout until dynalite says it listens, then keep draining it; once the
	// child has closed it (it exited), reap the child. exec.Cmd requires reads from
	// the pipe to finish before Wait.
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			if !signalled && strings.Contains(sc.Text(), "listening") {
				close(ready)
				signalled = true
				continue
			}
			if opts.Stderr != nil {
				fmt.Fprintln(opts.Stderr, sc.Text())
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		s.waitErr = cmd.Wait()
		close(s.done)
	}()

	select {
	case <-ready:
	case <-s.done:
		msg := strings.TrimSpace(stderr.String())
		return nil, strings.Contains(msg, "EADDRINUSE"), fmt.Errorf("dynalite: exited during start-up on port %d (%v): %s", port, s.waitErr, msg)
	case <-ctx.Done():
		_ = s.Close()
		return nil, false, fmt.Errorf("dynalite: waiting for start-up on port %d: %w", port, ctx.Err())
	}
	// It said it listens; make sure it accepts connections.
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			c.Close()
			return s, false, nil
		}
		select {
		case <-s.done:
			return nil, false, fmt.Errorf("dynalite: exited during start-up on port %d (%v): %s", port, s.waitErr, strings.TrimSpace(stderr.String()))
		case <-ctx.Done():
			_ = s.Close()
			return nil, false, fmt.Errorf("dynalite: connecting to port %d: %w", port, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// guardJS runs before dynalite in its node. dynalite@4 throws from a request's
// 'error' event, so a client that goes away in the middle of a request (a killed
// process, a reset connection) ends the whole server; DynamoDB carries on, and so
// does dynalite with this guard: such errors are ignored (the request is simply
// not answered), anything else still ends the process.
const guardJS = `process.on('uncaughtException', function (err) {
  if (err && (err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.message === 'aborted')) return
  console.error((err && err.stack) || err)
  process.exit(1)
})
`

// evalArgs are node's arguments that run the guard, then dynalite's cli with
// args, from the command line alone (node -e): nothing is written to disk.
func evalArgs(cli string, args ...string) []string {
	q := strconv.Quote(cli) // a Go string literal is a valid JavaScript one for a path
	script := guardJS + "process.argv.splice(1, 0, " + q + ")\nrequire(" + q + ")\n"
	return append([]string{"-e", script, "--"}, args...)
}

// Close stops the server: SIGTERM to its process group, then SIGKILL if it has not
// exited within a few seconds. It waits for the process to be gone. Closing twice is
// harmless.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		cmd, done := s.cmd, s.done
		s.mu.Unlock()
		select {
		case <-done:
			return // already exited
		default:
		}
		_ = terminate(cmd.Process)
		select {
		case <-done:
		case <-time.After(stopGrace):
			if err := kill(cmd.Process); err != nil {
				s.closeErr = fmt.Errorf("dynalite: kill pid %d: %w", cmd.Process.Pid, err)
			}
			<-done
		}
	})
	return s.closeErr
}

// Kill stops the server at once with SIGKILL to its process group, as a crash
// would (requests in progress get no answer), and waits for it to be gone. With
// Options.Dir its data directory keeps what it had written, for Restart. Killing a
// server that is not running does nothing. It is a fault hook for tests.
func (s *Server) Kill() error {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	select {
	case <-done:
		return nil
	default:
	}
	if err := kill(cmd.Process); err != nil {
		select {
		case <-done: // it exited meanwhile
			return nil
		default:
		}
		return fmt.Errorf("dynalite: kill pid %d: %w", cmd.Process.Pid, err)
	}
	<-done
	return nil
}

// Restart starts the server again on the same port (so Endpoint stays valid) with
// the same options, killing it first if it still runs: with Options.Dir it comes
// back with its data, as DynamoDB after an outage; in memory it comes back empty.
// ctx bounds the start-up (30 s when it has no deadline); a port still held for a
// moment after the kill is retried until then. Do not call it concurrently with
// Close; it fails once the server is closed. It is a fault hook for tests.
func (s *Server) Restart(ctx context.Context) error {
	if err := s.Kill(); err != nil {
		return err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultStartTimeout)
		defer cancel()
	}
	for {
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return errors.New("dynalite: restart of a closed server")
		}
		ns, retry, err := start(ctx, s.node, s.cli, s.port, s.opts)
		if err == nil {
			s.mu.Lock()
			s.cmd, s.done = ns.cmd, ns.done
			s.mu.Unlock()
			return nil
		}
		if !retry || ctx.Err() != nil {
			return fmt.Errorf("dynalite: restart on port %d: %w", s.port, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("dynalite: restart on port %d: %w", s.port, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// findRoot walks up from the working directory to the first directory holding both
// go.mod and node_modules.
func findRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("dynalite: %w", err)
	}
	firstModule := ""
	for dir := wd; ; dir = filepath.Dir(dir) {
		if exists(filepath.Join(dir, "go.mod")) {
			if firstModule == "" {
				firstModule = dir
			}
			if exists(filepath.Join(dir, "node_modules")) {
				return dir, nil
			}
		}
		if parent := filepath.Dir(dir); parent == dir {
			break
		}
	}
	if firstModule != "" {
		return "", fmt.Errorf("dynalite: %s has no node_modules: run `npm ci` in %s to install dynalite", firstModule, firstModule)
	}
	return "", fmt.Errorf("dynalite: no directory holding go.mod above %s: run from the repository, or set Options.Root, and run `npm ci` there", wd)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// freePort asks the kernel for a free port on 127.0.0.1. Another process may take
// it before dynalite binds it; Start retries on that.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("dynalite: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail keeps the last few kilobytes written to it, for error messages.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailSize = 4 << 10

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*tailSize {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailSize:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	if len(b) > tailSize {
		b = b[len(b)-tailSize:]
	}
	return string(b)
}
