package xwebhook

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkHandleWebhookPeer is the peer of BenchmarkHandleWebhook, run beside
// it (go test -bench HandleWebhook): a plain Node.js handler doing the same work
// the way X's samples do (testdata/peer/handler.mjs: HMAC check, JSON.parse, the
// same fields and drops, JSON.stringify of the SQS batch entries). Its ns/op is
// the handler's own, measured by node after a warm-up (process start left out);
// its B/op and allocs/op are the Go side's, not node's. It fails when node is
// missing: the comparison is the point.
func BenchmarkHandleWebhookPeer(b *testing.B) {
	node, err := exec.LookPath("node")
	if err != nil {
		b.Fatalf("node is not installed (make setup installs the project's npm tools, which need it): %v", err)
	}
	for _, name := range []string{"xaa-mention-es.json", "aaa-tweet-es.json"} {
		b.Run(name, func(b *testing.B) {
			path := filepath.Join("..", "..", "events", name)
			readEvent(b, name) // fails loudly when the fixture is missing
			out, err := exec.Command(node, filepath.Join("testdata", "peer", "handler.mjs"), path, strconv.Itoa(max(b.N, 1000))).Output()
			if err != nil {
				b.Fatalf("node handler.mjs %s: %v", name, err)
			}
			ns, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
			if err != nil {
				b.Fatalf("node handler.mjs %s printed %q, not nanoseconds", name, out)
			}
			b.ReportMetric(ns, "ns/op")
		})
	}
}
