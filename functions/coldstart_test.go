package functions_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/local/lambdafake"
)

// BenchmarkColdStart measures each function's init, Lambda's Init phase: from
// its process's start to its first Runtime API next call, with the stack's
// environment (X credentials and an unreachable X for those that call X: init
// must not). It reports init-ms (the mean) and the bootstrap's size, built as
// TestMain builds them (this machine's architecture, no -s -w: make build's
// linux/arm64 binaries are smaller). Issue 14's target: the webhook's init ≤ 10 ms.
//
//	go test -run '^$' -bench ColdStart ./functions
func BenchmarkColdStart(b *testing.B) {
	names, err := os.ReadDir(system.bins)
	if err != nil || len(names) == 0 {
		b.Fatalf("no built functions in %s: %v", system.bins, err)
	}
	xEnv := []string{
		"X_API_KEY=k", "X_API_SECRET=s", "X_ACCESS_TOKEN=" + system.config.Brand.ID + "-t", "X_ACCESS_TOKEN_SECRET=ts",
		"X_API_BASE_URL=http://127.0.0.1:1",
	}
	for _, n := range names {
		name := n.Name()
		bin := filepath.Join(system.bins, name, "bootstrap")
		b.Run(name, func(b *testing.B) {
			info, err := os.Stat(bin)
			if err != nil {
				b.Fatal(err)
			}
			var total time.Duration
			runs := 0
			for b.Loop() {
				rt, err := lambdafake.Start()
				if err != nil {
					b.Fatal(err)
				}
				fn, err := rt.StartFunction(b.Context(), bin, functionEnv(xEnv...))
				if err != nil {
					b.Fatal(err)
				}
				select {
				case <-fn.Ready():
				case <-fn.Done():
					b.Fatalf("%s exited during its init: %v\n%s", name, fn.Err(), fn.Output())
				case <-time.After(30 * time.Second):
					b.Fatalf("%s did not finish its init in 30 s:\n%s", name, fn.Output())
				}
				d, _ := fn.InitDuration()
				total += d
				runs++
				fn.Stop()
				rt.Close()
			}
			b.ReportMetric(float64(total.Microseconds())/1000/float64(runs), "init-ms")
			b.ReportMetric(float64(info.Size())/1e6, "MB")
		})
	}
}
