package localdev

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/health"
)

// TestNothingVanishes: through the whole local system — webhook, queue,
// processor, store, agent API — an X Chat message Pajarito cannot read becomes
// a waiting case that says what to do, and an event of a type Pajarito does not
// handle is counted; GET /v1/health (pajarito doctor) reports both.
func TestNothingVanishes(t *testing.T) {
	root, cfg := repoConfig(t)
	sys := startQuiet(t, root, cfg)
	for _, name := range []string{"xaa-chat-received-es.json", "xaa-unknown-type.json"} {
		body, err := os.ReadFile(filepath.Join(root, "events", name))
		if err != nil {
			t.Fatal(err)
		}
		deliver(t, sys, body)
	}

	var check health.Check
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var rep health.Report
		req, _ := http.NewRequest(http.MethodGet, sys.URL+"/v1/health", nil)
		req.Header.Set("Authorization", "Bearer "+quietToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&rep)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range rep.Checks {
			if c.Name == health.CheckUnhandled {
				check = c
			}
		}
		if s := check.Summary["en"]; strings.Contains(s, "like.create 1") && strings.Contains(s, "X Chat messages that arrived in the last 7 days and could not be read: 1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the health check %q reads %+v after 30 s; want the ignored like.create and the unread X Chat message", health.CheckUnhandled, check)
		}
	}
	if check.Status != health.Warning || check.Fix["en"] == "" || check.Fix["es"] == "" || check.Summary["es"] == "" {
		t.Errorf("check %+v: want a warning, with the fix, in English and Spanish", check)
	}

	// The X Chat message is María's DM case, waiting, with the reason in its
	// decision.
	cases, err := sys.Store.CustomerCases(t.Context(), "1862954300111222333", time.Time{})
	if err != nil || len(cases) != 1 {
		t.Fatalf("María's cases: %+v, %v", cases, err)
	}
	c, msgs, err := sys.Store.GetCase(t.Context(), cases[0])
	if err != nil {
		t.Fatal(err)
	}
	if c.Channel != care.DM || c.FirstResponseAt != nil || len(msgs) != 1 || !msgs[0].Encrypted() {
		t.Errorf("case %+v with messages %+v: want her DM case, unanswered, holding the encrypted message", c, msgs)
	}
}
