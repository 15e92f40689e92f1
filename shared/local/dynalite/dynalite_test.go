package dynalite

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// call sends one DynamoDB JSON request (dynalite checks that a signature is
// present, not that it is right).
func call(t *testing.T, endpoint, op, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00")
	req.Header.Set("X-Amz-Date", "20260101T000000Z")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestStartAnswersAndCloseStopsIt(t *testing.T) {
	s := ForTest(t)
	if !strings.HasPrefix(s.Endpoint, "http://127.0.0.1:") {
		t.Fatalf("Endpoint = %q", s.Endpoint)
	}
	if code, body := call(t, s.Endpoint, "ListTables", "{}"); code != http.StatusOK {
		t.Fatalf("ListTables: %d %s", code, body)
	}

	pid := s.cmd.Process.Pid
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("process %d still exists after Close (kill 0: %v)", pid, err)
	}
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(s.Endpoint, "http://"), time.Second); err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections after Close", s.Endpoint)
	}
}

func TestStartPersistsInDir(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Start(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const table = `{"TableName":"kept","BillingMode":"PAY_PER_REQUEST",` +
		`"AttributeDefinitions":[{"AttributeName":"PK","AttributeType":"S"}],` +
		`"KeySchema":[{"AttributeName":"PK","KeyType":"HASH"}]}`
	if code, body := call(t, s.Endpoint, "CreateTable", table); code != http.StatusOK {
		t.Fatalf("CreateTable: %d %s", code, body)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2, err := Start(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if code, body := call(t, s2.Endpoint, "ListTables", "{}"); code != http.StatusOK || !strings.Contains(body, `"kept"`) {
		t.Fatalf("ListTables after restart: %d %s", code, body)
	}
}

func TestStartErrors(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no node_modules", Options{Root: t.TempDir()}, "run `npm ci` in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Start(context.Background(), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Start error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestFindRoot(t *testing.T) {
	root, err := findRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"go.mod", "node_modules"} {
		if !exists(filepath.Join(root, name)) {
			t.Errorf("root %s has no %s", root, name)
		}
	}
}
