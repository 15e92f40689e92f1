package console_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pajarito-care/pajarito/shared/care"
)

// axeViolation is one rule that axe-core found broken on a page.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// TestConsoleAccessibility runs axe-core (pinned in package.json, loaded into
// the page by the test only) on each view of the console, at a desktop width
// and at a phone's 375 px, against WCAG 2.1 A and AA: labels, names, roles,
// contrast, landmarks, focusable controls.
func TestConsoleAccessibility(t *testing.T) {
	axe, err := os.ReadFile(filepath.Join("..", "..", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core is missing: run npm ci (make setup): %v", err)
	}
	sys, _, token := system(t)
	cases := waitCases(t, sys, care.Pending, 7)
	// A contributor's reply awaits approval: the approvals view and the case
	// show it.
	body := strings.NewReader(`{"draft_id":"a11y-1","text":"Lo sentimos mucho: lo revisamos y te escribimos en cuanto sepamos más."}`)
	req, _ := http.NewRequest(http.MethodPost, sys.URL+"/v1/cases/"+cases[0].ID+"/replies", body)
	req.Header.Set("Authorization", "Bearer browser-test-carla")
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("a contributor's reply: %v, %v", resp, err)
	}
	// A crisis with its public statement: the banner and the crisis panel
	// show it, with the forms of the next update and of the follow-up.
	for _, call := range []struct{ method, path, body string }{
		{http.MethodPut, "/v1/crisis/delays", `{"active":true}`},
		{http.MethodPost, "/v1/crisis/delays/statement", `{"draft_id":"a11y-s","text":"Lo sentimos: los embarques de Madrid van con retraso. Os contamos aquí cada avance."}`},
	} {
		req, _ := http.NewRequest(call.method, sys.URL+call.path, strings.NewReader(call.body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %v, %v", call.method, call.path, resp, err)
		}
	}
	ctx := browser(t)
	do(t, ctx, "sign in", chromedp.Navigate(sys.URL+"/console/#token="+token), until(`document.querySelector('.bar .who') !== null`))
	views := []struct{ name, hash, ready string }{
		{"queue", "#/queue/pending", `document.querySelectorAll('li.case').length >= 7`},
		{"case", "#/case/" + cases[0].ID, `document.querySelector('.labels dl') !== null && document.querySelector('#other-cases li') !== null && document.querySelector('.awaiting') !== null`},
		{"crisis panel", "#/crisis", `document.querySelector('table.crises tbody tr') !== null && document.querySelector('section.statement li.post') !== null && document.querySelector('form.followup') !== null`},
		{"profile", "#/profile", `document.getElementById('profile-name') !== null`},
		{"approvals", "#/approvals", `document.querySelector('li.approval button.approve') !== null`},
	}
	for _, width := range []int{1280, 375} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), 900)); err != nil {
			t.Fatal(err)
		}
		for _, v := range views {
			do(t, ctx, v.name, chromedp.Navigate(sys.URL+"/console/"+v.hash), until(v.ready))
			if !eval[bool](t, ctx, `typeof axe !== 'undefined'`) {
				do(t, ctx, "load axe", js(string(axe)))
			}
			res, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](
				`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}).then(r => r.violations)`,
				chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatalf("axe on %s: %v", v.name, err)
			}
			for _, viol := range res {
				var where []string
				for _, n := range viol.Nodes {
					where = append(where, fmt.Sprint(n.Target...))
				}
				t.Errorf("%s at %d px: %s (%s): %s — %s", v.name, width, viol.ID, viol.Impact, viol.Help, strings.Join(where, "; "))
			}
		}
	}
}
