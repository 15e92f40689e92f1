package functions_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// linked are the project packages each function links (`go list -deps`), under
// shared/. A function links what it uses and nothing else: its builder is a
// package of its own (shared/wire/<function>), and no stand-in of shared/local
// nor package testing ships. A change that makes a function link more fails
// here: keep the import out, or add it here when the function does need it.
var linked = map[string][]string{
	"webhook": {"boot", "care", "classify", "config", "csat", "emf", "httpjson", "protocol", "queue", "settings",
		"wire/webhook", "xapi", "xwebhook"},
	"process": {"boot", "care", "classify", "config", "csat", "emf", "httpjson", "intake", "learn", "notify", "protocol",
		"queue", "settings", "store", "wire", "wire/process", "xapi", "xchat", "xchatopen", "xwebhook"},
	"reply": {"boot", "care", "classify", "config", "csat", "emf", "httpjson", "notify", "protocol", "queue", "sender",
		"settings", "store", "wire", "wire/reply", "xapi", "xchat", "xchatopen", "xwebhook"},
	"listen": {"boot", "care", "classify", "config", "csat", "emf", "httpjson", "listen", "protocol", "queue", "settings",
		"store", "wire", "wire/listen", "xapi", "xwebhook"},
	// The monitor keeps the brand's OAuth 2.0 token fresh (xapi.OAuth2Keeper).
	"monitor": {"boot", "care", "classify", "config", "csat", "emf", "httpjson", "learn", "metrics", "monitor", "notify",
		"protocol", "queue", "settings", "store", "wire", "wire/monitor", "xapi", "xwebhook"},
	"agentapi": {"agentapi", "boot", "care", "classify", "config", "console", "csat", "emf", "health", "httpjson", "metrics",
		"notify", "protocol", "queue", "report", "settings", "staffing", "store", "wire", "wire/agentapi", "xapi", "xwebhook"},
}

// deps returns the packages pkg links.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

func TestFunctionsLinkWhatTheyUse(t *testing.T) {
	const shared = "github.com/pajarito-care/pajarito/shared/"
	for name, want := range linked {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, p := range deps(t, "github.com/pajarito-care/pajarito/functions/"+name) {
				if p == "testing" {
					t.Errorf("functions/%s links package testing", name)
				}
				if rest, ok := strings.CutPrefix(p, shared); ok {
					got = append(got, rest)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("functions/%s links shared/ %v\nwant %v\n(more: %v; fewer: %v)", name, got, want, missing(got, want), missing(want, got))
			}
		})
	}
}

// TestCLILinksNoTesting: the operator's CLI runs the local stand-ins (pajarito
// dev) but not the test framework.
func TestCLILinksNoTesting(t *testing.T) {
	if slices.Contains(deps(t, "github.com/pajarito-care/pajarito/cmd/pajarito"), "testing") {
		t.Error("cmd/pajarito links package testing: a package it imports imports testing (test helpers belong in _test.go files or in packages only tests import)")
	}
}

// missing returns what of a is not in b.
func missing(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
