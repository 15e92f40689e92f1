package dynalite

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestKillAndRestart(t *testing.T) {
	const table = `{"TableName":"kept","BillingMode":"PAY_PER_REQUEST",` +
		`"AttributeDefinitions":[{"AttributeName":"PK","AttributeType":"S"}],` +
		`"KeySchema":[{"AttributeName":"PK","KeyType":"HASH"}]}`
	tests := []struct {
		name     string
		dir      bool // keep the data in a directory
		kill     bool // Kill before Restart (else Restart kills it)
		wantKept bool
	}{
		{name: "killed then restarted, on disk", dir: true, kill: true, wantKept: true},
		{name: "restarted while running, on disk", dir: true, wantKept: true},
		{name: "killed then restarted, in memory", kill: true, wantKept: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts Options
			if tt.dir {
				opts.Dir = t.TempDir()
			}
			s, err := Start(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if code, body := call(t, s.Endpoint, "CreateTable", table); code != http.StatusOK {
				t.Fatalf("CreateTable: %d %s", code, body)
			}
			endpoint, pid := s.Endpoint, s.cmd.Process.Pid
			if tt.kill {
				if err := s.Kill(); err != nil {
					t.Fatalf("Kill: %v", err)
				}
				if c, err := net.DialTimeout("tcp", strings.TrimPrefix(endpoint, "http://"), time.Second); err == nil {
					c.Close()
					t.Fatalf("%s still accepts connections after Kill", endpoint)
				}
				if err := s.Kill(); err != nil {
					t.Errorf("second Kill: %v", err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := s.Restart(ctx); err != nil {
				t.Fatalf("Restart: %v", err)
			}
			if s.Endpoint != endpoint || s.cmd.Process.Pid == pid {
				t.Errorf("after Restart: endpoint %s (was %s), pid %d (was %d)", s.Endpoint, endpoint, s.cmd.Process.Pid, pid)
			}
			code, body := call(t, s.Endpoint, "ListTables", "{}")
			if code != http.StatusOK || strings.Contains(body, `"kept"`) != tt.wantKept {
				t.Errorf("ListTables after Restart: %d %s, want the table kept: %v", code, body, tt.wantKept)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := s.Restart(ctx); err == nil {
				t.Error("Restart after Close succeeded")
			}
		})
	}
}

// TestSurvivesClientsThatGoAway: a client that resets its connection in the middle
// of a request (a killed process) does not take the server down.
func TestSurvivesClientsThatGoAway(t *testing.T) {
	s := ForTest(t)
	addr := strings.TrimPrefix(s.Endpoint, "http://")
	tests := []struct{ name, sent string }{
		{"mid-body", "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: 1000\r\n\r\n{\"Lim"},
		{"mid-headers", "POST / HTTP/1.1\r\nHost: x\r\nContent-Le"},
		{"after the request", "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: 2\r\n\r\n{}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Write([]byte(tt.sent)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond) // let the server read it before the reset
			_ = c.(*net.TCPConn).SetLinger(0)
			c.Close()
			ok := false
			for range 50 { // the server may take a moment to see the reset
				if code, _ := call(t, s.Endpoint, "ListTables", "{}"); code == http.StatusOK {
					ok = true
				}
				time.Sleep(10 * time.Millisecond)
			}
			if !ok {
				t.Fatal("ListTables failed after a client went away")
			}
			select {
			case <-s.done:
				t.Fatalf("dynalite exited after a client went away mid-request: %v", s.waitErr)
			default:
			}
		})
	}
}
