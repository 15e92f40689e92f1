package dynalite

import (
	"net/http"
	"runtime"
	"testing"
	"time"
)

// The main goroutine keeps the main thread, which the Go runtime never ends: the
// goroutines below run on other threads, which end with them when locked.
func init() { runtime.LockOSThread() }

// TestOutlivesTheThreadThatAskedForIt: a server started from a goroutine locked
// to its OS thread, which ends with the goroutine, keeps running (the child's
// parent-death signal is tied to the spawner's thread, not to the caller's).
func TestOutlivesTheThreadThatAskedForIt(t *testing.T) {
	var (
		s   *Server
		err error
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		s, err = Start(t.Context(), Options{})
	}()
	<-done
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	// The thread ends just after the goroutine; a child tied to it dies at once.
	// Ask a few times over a second: a dead server cannot answer them all.
	for i := range 10 {
		select {
		case <-s.done:
			t.Fatalf("the server exited after the thread that asked for it ended: %v", s.waitErr)
		case <-time.After(100 * time.Millisecond):
		}
		if code, body := call(t, s.Endpoint, "ListTables", "{}"); code != http.StatusOK {
			t.Fatalf("request %d after the starting thread ended: %d %s", i, code, body)
		}
	}
}
