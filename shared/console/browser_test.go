package console_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/local/localdev"
	"github.com/pajarito-care/pajarito/shared/local/xfake"
	"github.com/pajarito-care/pajarito/shared/replay"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/xchat"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

// chromium returns Debian's Chromium (or $CHROMIUM). The browser tests are part
// of make test: a machine without it fails them, saying how to install it.
func chromium(t testing.TB) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Fatal("the console's browser tests need Debian's Chromium: sudo apt-get install -y chromium (or set CHROMIUM=/path/to/chromium)")
	return ""
}

// browser starts a headless Chromium for the test, with a fresh profile and no
// network but loopback's, and returns a context that drives its one tab.
func browser(t testing.TB) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return bctx
}

// until waits (up to 30 s) for the JavaScript expression to be true in the page,
// through the page's navigations (a sign-in leaves and comes back).
func until(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		deadline := time.Now().Add(60 * time.Second)
		for {
			_, err := chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(time.Until(deadline)), chromedp.WithPollingInterval(50*time.Millisecond))(ctx, tg)
			if err == nil || ctx.Err() != nil || time.Now().After(deadline) || !navigating(err) {
				return chromedp.Void{}, err
			}
		}
	}
}

// js runs a statement in the page for its effect.
func js(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[bool]("(() => { "+expr+"; return true })()")(ctx, tg)
		return chromedp.Void{}, err
	}
}

// eval returns the value of a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// do runs steps in the page, failing the test with what as the step's name.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("%s: %v\nthe page reads:\n%s", what, err, page)
	}
}

// click clicks the element sel selects.
func click(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }

// typeInto replaces a field's text as typing would, with the input event the
// console listens to.
func typeInto(sel, text string) chromedp.Action[chromedp.Void] {
	return js(fmt.Sprintf(`const el = document.querySelector(%q); el.focus(); el.value = %q; el.dispatchEvent(new Event('input', {bubbles: true}))`, sel, text))
}

// system starts the local system with the samples of events/ replayed into it,
// and one post that tries HTML on the console.
func system(t *testing.T) (*localdev.System, *config.Config, string) {
	t.Helper()
	return systemWith(t, func(*config.Config) {})
}

// systemWith is system with the configuration changed by change.
func systemWith(t *testing.T, change func(*config.Config)) (*localdev.System, *config.Config, string) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(root, config.FileName), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	change(cfg)
	const token = "browser-test-token"
	secret := []byte("browser-test-secret")
	sys, err := localdev.Start(t.Context(), localdev.Options{
		Addr: "127.0.0.1:0", Config: cfg, Secret: secret, AgentToken: token, Root: root,
		SeedEvents: filepath.Join(root, "events"), Log: slog.New(slog.DiscardHandler), Team: team,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sys.Close() })

	deliver := func(body []byte) {
		req, err := http.NewRequest(http.MethodPost, sys.URL+"/webhooks/x", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(xwebhook.SignatureHeader, xwebhook.Sign(secret, body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	files, err := filepath.Glob(filepath.Join(root, "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		deliver(b)
	}
	// María's X Chat message once more, as if from an impostor: its signature
	// does not verify.
	b, err := os.ReadFile(filepath.Join(root, "events", "xaa-chat-received-es.json"))
	if err != nil {
		t.Fatal(err)
	}
	forged := strings.NewReplacer(`"-6125093847203948811"`, `"-6125093847203948899"`, "7d2f4c1e-3b8a-4f6d-9e21-5a0c8b7e6d43", "7d2f4c1e-3b8a-4f6d-9e21-5a0c8b7e6d99",
		`"created_at_msec": "1787070121408"`, `"created_at_msec": "1787070999408"`).Replace(string(b))
	var d map[string]any
	if err := json.Unmarshal([]byte(forged), &d); err != nil {
		t.Fatal(err)
	}
	d["data"].(map[string]any)["payload"].(map[string]any)["message_event_signature"].(map[string]any)["signature"] = base64.StdEncoding.EncodeToString(make([]byte, 64))
	b, _ = json.Marshal(d)
	deliver(b)
	posts, err := replay.ReadCSV(strings.NewReader("tweet_id,author_id,inbound,created_at,text,in_response_to_tweet_id\n" +
		`1,900666,True,2026-12-01T10:00:00Z,"@PajaritoAir <img src=x onerror=""window.__xss=1""> <script>window.__xss=2</script> ¿y mi reembolso?",` + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	events, err := replay.Events(posts, cfg.Brand, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	deliver(events[0].Body)
	// One that nobody has answered for three hours: the protocol does not
	// acknowledge a bare mention, so it waits, overdue, in the open queue.
	posts, err = replay.ReadCSV(strings.NewReader("tweet_id,author_id,inbound,created_at,text,in_response_to_tweet_id\n" +
		"1,900777,True,2026-12-01T10:00:00Z,@PajaritoAir,\n"))
	if err != nil {
		t.Fatal(err)
	}
	if events, err = replay.Events(posts, cfg.Brand, time.Now().Add(-3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	deliver(events[0].Body)
	return sys, cfg, token
}

// openedByBrand opens, with the sample keys (events/xchat), the brand's
// messages in María's X Chat conversation as the fake X holds them.
func openedByBrand(t *testing.T, sys *localdev.System, root string) []string {
	t.Helper()
	keys, err := xfake.ReadSampleKeys(filepath.Join(root, "events"))
	if err != nil || keys == nil {
		t.Fatalf("sample keys: %v", err)
	}
	brand, err := keys.Identity()
	if err != nil {
		t.Fatal(err)
	}
	signers, err := keys.Signers()
	if err != nil {
		t.Fatal(err)
	}
	conv := xchat.OneToOne(brand.UserID, "1862954300111222333")
	ck := xchat.ConversationKeys{}
	var texts []string
	for _, e := range sys.XFake.ChatEvents(conv) {
		ev, err := xchat.ParseEventBase64(e)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == xchat.KindKeyChange {
			if k, err := brand.ConversationKeys(ev, signers); err == nil {
				maps.Copy(ck, k)
			}
			continue
		}
		m, err := xchat.Decrypt(ev, ck, signers)
		if err != nil {
			t.Fatalf("the brand's X Chat message %s does not open: %v", ev.MessageID, err)
		}
		if ev.SenderID == brand.UserID {
			texts = append(texts, m.Content.Text)
		}
	}
	return texts
}

// root is the repository's root.
func root(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The local team besides the operator: an agent and a contributor, each with
// their own token.
var team = []agentapi.Person{
	{Token: "browser-test-ana", Agent: agentapi.Agent{ID: "ana", Name: "Ana Martínez", Role: agentapi.RoleAgent}},
	{Token: "browser-test-carla", Agent: agentapi.Agent{ID: "carla", Name: "Carla Prácticas", Role: agentapi.RoleContributor}},
}

// TestConsoleRoles: a contributor signs in and the console offers her what
// her role allows (read, notes, the linter) and not the rest (claim, assign,
// resolve, relabel, triage, send, crisis); the server refuses those calls
// anyway, from her browser, naming the role needed.
func TestConsoleRoles(t *testing.T) {
	sys, _, _ := system(t)
	cases := waitCases(t, sys, care.Pending, 7)
	ctx := browser(t)
	do(t, ctx, "a contributor signs in",
		chromedp.Navigate(sys.URL+"/console/#token=browser-test-carla"),
		until(`document.querySelector('.bar .who .tag.role') !== null`))
	if role := eval[string](t, ctx, `document.querySelector('.bar .who .tag.role').textContent`); role != "contributor" {
		t.Errorf("the bar shows role %q, want contributor", role)
	}
	do(t, ctx, "a case, as a contributor",
		chromedp.Navigate(sys.URL+"/console/#/case/"+cases[0].ID),
		until(`document.getElementById('reply-text') !== null && document.getElementById('add-note') !== null`))
	offered := eval[map[string]bool](t, ctx, `(() => { const q = (s) => document.querySelector(s) !== null; return {claim: q('#claim'), resolve: q('#resolve') || q('#reopen'), assign: q('.assign'), relabel: q('#save-labels'), triage: q('#save-triage'), note: q('#add-note'), approval: q('#for-approval') && document.getElementById('send').textContent === 'Send for approval', approvals: q('#nav-approvals')} })()`)
	for _, b := range []string{"claim", "resolve", "assign", "relabel", "triage", "approvals"} {
		if offered[b] {
			t.Errorf("the console offers a contributor %s", b)
		}
	}
	if !offered["note"] || !offered["approval"] {
		t.Errorf("the console offers a contributor %v; want notes, and replies sent for approval", offered)
	}
	do(t, ctx, "a note, as a contributor",
		typeInto(`#note-text`, "Lo revisa Ana: el cliente ya escribió por DM."),
		click(`#add-note`),
		until(`[...document.querySelectorAll('.note .text')].some(p => p.textContent === 'Lo revisa Ana: el cliente ya escribió por DM.')`))
	// Called from her browser anyway, the server refuses, naming the role.
	refusal, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`fetch('/v1/cases/`+cases[0].ID+`/claim', {method: 'POST', headers: {Authorization: 'Bearer browser-test-carla'}}).then(async (r) => ({status: r.status, body: await r.json()}))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if refusal["status"] != float64(403) || !strings.Contains(fmt.Sprint(refusal["body"]), "role_needed:agent") {
		t.Errorf("a contributor's claim from the browser: %v; want 403 naming the agent role", refusal)
	}
	do(t, ctx, "the crisis panel, as a contributor",
		chromedp.Navigate(sys.URL+"/console/#/crisis"),
		until(`document.getElementById('crisis-status') !== null`))
	if n := eval[int](t, ctx, `document.querySelectorAll('.open-crisis, .close-crisis').length`); n != 0 {
		t.Errorf("the crisis panel offers a contributor %d crisis buttons", n)
	}
}

// TestConsoleApprovals: a contributor drafts a reply, which waits; an agent
// approves it and it goes out once, signed by its author, the approver
// recorded; another draft the agent rejects shows its reason to its author.
func TestConsoleApprovals(t *testing.T) {
	sys, _, _ := system(t)
	var dan, other, maria care.CaseSummary
	for _, c := range waitCases(t, sys, care.Pending, 7) {
		switch {
		case c.CustomerHandle == "dan_okafor":
			dan = c
		case c.Channel == care.Public && c.CustomerHandle == "mariagv_viajes":
			maria = c
		case c.Channel == care.Public && c.CustomerID != "900666":
			other = c
		}
	}
	if dan.ID == "" || other.ID == "" || maria.ID == "" {
		t.Fatal("no case for Dan, María, or another customer")
	}
	ctx := browser(t)
	const draft = "Sorry for the wait, Dan: your bag is on tomorrow's 09:10 flight and will be delivered to your hotel."
	signIn := func(who, token string) {
		do(t, ctx, "sign in as "+who, chromedp.Navigate(sys.URL+"/console/#token="+token),
			until(`document.querySelector('.bar .who') && document.querySelector('.bar .who').textContent.includes(`+jsString(who)+`)`))
	}
	send := func(caseID, text string) {
		do(t, ctx, "draft for approval on "+caseID,
			chromedp.Navigate(sys.URL+"/console/#/case/"+caseID),
			until(`document.getElementById('reply-text') !== null`),
			typeInto(`#reply-text`, text),
			until(`!document.getElementById('send').disabled`),
			click(`#send`),
			until(`[...document.querySelectorAll('.awaiting[data-approval="pending"] .text')].some(p => p.textContent.startsWith(`+jsString(text)+`))`))
	}
	signIn("Carla", "browser-test-carla")
	send(dan.ID, draft)
	send(other.ID, "Sorry for the trouble: please try again in the app later.")
	if replies, err := sys.Store.ListReplies(t.Context(), dan.ID); err != nil || hasReply(replies, draft) {
		t.Fatalf("a reply awaiting approval was queued: %+v, %v", replies, err)
	}

	signIn("Ana", "browser-test-ana")
	do(t, ctx, "the approvals",
		chromedp.Navigate(sys.URL+"/console/#/approvals"),
		until(`document.querySelectorAll('li.approval').length === 2`))
	// A reply drafted meanwhile shows up by itself (the view polls).
	req, _ := http.NewRequest(http.MethodPost, sys.URL+"/v1/cases/"+maria.ID+"/replies",
		strings.NewReader(`{"draft_id":"later-1","text":"Lo sentimos, María: lo revisamos ahora mismo."}`))
	req.Header.Set("Authorization", "Bearer browser-test-carla")
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("a later draft: %v, %v", resp, err)
	}
	do(t, ctx, "the later draft, without a reload",
		until(`document.querySelector('li.approval[data-case="`+maria.ID+`"]') !== null && document.querySelectorAll('li.approval').length === 3`),
		click(`li.approval[data-case="`+dan.ID+`"] button.approve`),
		until(`document.querySelector('li.approval[data-case="`+dan.ID+`"] .approval-status .ok') !== null`),
		typeInto(`li.approval[data-case="`+other.ID+`"] input.approval-reason`, "Give a date: the app is down until 18:00."),
		click(`li.approval[data-case="`+other.ID+`"] button.reject`),
		until(`document.querySelector('li.approval[data-case="`+other.ID+`"] .approval-status .ok') !== null`))
	do(t, ctx, "the approved reply, sent",
		chromedp.Navigate(sys.URL+"/console/#/case/"+dan.ID),
		until(`[...document.querySelectorAll('.msg.out')].some(m => m.querySelector('.text').textContent.startsWith(`+jsString(draft)+`) && m.querySelector('.reply-state[data-state="sent"]'))`),
		until(`document.querySelector('#history li[data-action="reply_approved"]') !== null`))
	if h := eval[string](t, ctx, `[...document.querySelectorAll('#history li')].map(li => li.textContent).join(' / ')`); !strings.Contains(h, "Carla") || !strings.Contains(h, "Ana Martínez (agent) · approved a reply") {
		t.Errorf("the case's history reads %q; want Carla's draft and Ana's approval", h)
	}
	sentOnce(t, sys, dan.ID, draft, "^Carla") // signed by its author
	drafts, err := sys.Store.CaseDrafts(t.Context(), dan.ID)
	if err != nil || len(drafts) != 1 || drafts[0].Approval.By != "ana" || drafts[0].Request.ApprovedBy != "ana" {
		t.Errorf("the approval recorded: %+v, %v; want Ana as the approver", drafts, err)
	}

	signIn("Carla", "browser-test-carla")
	do(t, ctx, "the rejection, as its author sees it",
		chromedp.Navigate(sys.URL+"/console/#/case/"+other.ID),
		until(`document.querySelector('.awaiting[data-approval="rejected"] .approval-state') !== null`))
	if why := eval[string](t, ctx, `document.querySelector('.awaiting[data-approval="rejected"] .approval-state').textContent`); !strings.Contains(why, "Ana Martínez") || !strings.Contains(why, "the app is down until 18:00") {
		t.Errorf("the rejected draft says %q; want who rejected it and why", why)
	}
}

// sentOnce checks that the case holds the reply starting with text once,
// signed signature.
func sentOnce(t *testing.T, sys *localdev.System, caseID, text, signature string) {
	t.Helper()
	// The sender records X's id, then the message: wait for the message.
	var msgs []care.StoredMessage
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var err error
		if _, msgs, err = sys.Store.GetCase(t.Context(), caseID); err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(msgs, func(m care.StoredMessage) bool {
			return m.Direction == care.Outbound && strings.HasPrefix(m.Text, text)
		}) ||
			time.Now().After(deadline) {
			break
		}
	}
	sent := 0
	for _, m := range msgs {
		if m.Direction == care.Outbound && strings.HasPrefix(m.Text, text) {
			sent++
			if !strings.HasSuffix(m.Text, signature) {
				t.Errorf("the reply went out as %q; want it signed %s", m.Text, signature)
			}
		}
	}
	if sent != 1 {
		t.Errorf("the reply is in case %s %d times, want once", caseID, sent)
	}
}

func hasReply(replies []care.ReplyStatus, prefix string) bool {
	for _, r := range replies {
		if strings.HasPrefix(r.Text, prefix) {
			return true
		}
	}
	return false
}

// waitCases waits until the store holds n cases in status.
func waitCases(t *testing.T, sys *localdev.System, status care.Status, n int) []care.CaseSummary {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		cases, _, err := sys.Store.ListCases(t.Context(), store.ListQuery{Status: status, Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		if len(cases) >= n {
			return cases
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d %s cases after 60 s, want %d", len(cases), status, n)
		}
	}
}

// TestConsole works a shift in a real browser: sign in through the link's
// fragment, the queue in the API's order, a complaint with its reasons, a claim,
// a reply the linter blocks and then sends, once, a note, a relabel, a resolve;
// a claim lost to a teammate; a stranger's HTML shown as text; a reply kept
// through an expired session.
func TestConsole(t *testing.T) {
	sys, _, token := system(t)
	// Six sample cases and the HTML one, each acknowledged by the protocol.
	cases := waitCases(t, sys, care.Pending, 7)
	var complaint, xss, other, dm care.CaseSummary
	for _, c := range cases {
		switch {
		case c.CustomerHandle == "mariagv_viajes" && c.Channel == care.Public:
			complaint = c
		case c.CustomerHandle == "mariagv_viajes" && c.Channel == care.DM:
			dm = c
		case c.CustomerID == "900666":
			xss = c
		case c.CustomerHandle == "dan_okafor":
			other = c
		}
	}
	if complaint.ID == "" || xss.ID == "" || other.ID == "" || dm.ID == "" {
		t.Fatalf("cases %+v lack María's public complaint, her DMs, Dan's case or the HTML post", cases)
	}

	ctx := browser(t)
	do(t, ctx, "sign in",
		chromedp.Navigate(sys.URL+"/console/#token="+token),
		until(`document.querySelector('.bar .who') && document.querySelector('.bar .who').textContent.includes('Local agent')`))
	if hash, stored := eval[string](t, ctx, `location.hash`), eval[string](t, ctx, `sessionStorage.getItem('pajarito.token')`); strings.Contains(hash, token) || stored != token {
		t.Errorf("after sign-in the address holds %q and the session %q: want the token out of the address, in the session", hash, stored)
	}

	// María's DMs hold her X Chat message, opened and verified, with her
	// name (X Chat events carry none: her other messages do); and the forged
	// one, whose text is never shown: the console says why, and what to do.
	do(t, ctx, "X Chat messages",
		chromedp.Navigate(sys.URL+"/console/#/case/"+dm.ID),
		until(`document.querySelector('.msg.in .tag.xchat.verified') !== null && document.querySelector('.msg.in .xchat-note') !== null`))
	opened := eval[map[string]any](t, ctx, `(() => { const m = document.querySelector('.msg.in .tag.xchat.verified').closest('.msg'); return {tag: m.querySelector('.tag.xchat').textContent, title: m.querySelector('.tag.xchat').title, who: m.querySelector('.meta strong').textContent, text: m.querySelector('.text').textContent} })()`)
	if opened["tag"] != "X Chat · verified" || opened["title"] == "" || opened["who"] != "María González" || !strings.Contains(fmt.Sprint(opened["text"]), "cobrado dos veces la reserva PJX4K2") {
		t.Errorf("María's X Chat message shows %v; want it verified, hers, with its text", opened)
	}
	note := eval[map[string]any](t, ctx, `(() => { const m = document.querySelector('.msg.in .xchat-note').closest('.msg'); return {note: m.querySelector('.xchat-note').textContent, tag: m.querySelector('.tag.xchat') ? m.querySelector('.tag.xchat').textContent : '', text: m.querySelector('.text') !== null} })()`)
	if !strings.HasPrefix(fmt.Sprint(note["note"]), "X Chat message that could not be verified") || note["tag"] != "X Chat" || note["text"] != false {
		t.Errorf("the forged X Chat message shows %v; want the X Chat tag and the note saying why and what to do, no text", note)
	}

	// The agent answers her in the console: the DM goes out in X Chat,
	// encrypted and signed by the brand, once.
	const xchatAnswer = "Lo sentimos de nuevo, María: ya hemos pedido la devolución del cargo repetido de la reserva PJX4K2."
	do(t, ctx, "answer in X Chat",
		typeInto(`#reply-text`, xchatAnswer),
		until(`!document.getElementById('send').disabled`),
		click(`#send`),
		until(`[...document.querySelectorAll('.msg.out')].some(m => m.querySelector('.text').textContent.startsWith(`+jsString(xchatAnswer)+`) && m.querySelector('.tag.xchat.verified') && m.querySelector('.reply-state[data-state="sent"]'))`))
	if got := openedByBrand(t, sys, root(t)); strings.Count(strings.Join(got, "\n"), xchatAnswer) != 1 {
		t.Errorf("X holds the brand's X Chat messages %q; want the answer once", got)
	}

	// The queue: pending cases in the API's order, highest priority first.
	do(t, ctx, "queue",
		chromedp.Navigate(sys.URL+"/console/#/queue/pending"),
		until(`document.querySelector('.views button.on') && document.querySelector('.views button.on').textContent === 'Pending'`),
		until(`document.querySelectorAll('li.case').length >= 7`))
	prios := eval[[]int](t, ctx, `[...document.querySelectorAll('li.case')].map(li => +li.dataset.priority)`)
	for i := 1; i < len(prios); i++ {
		if prios[i] > prios[i-1] {
			t.Errorf("queue priorities %v: not highest first", prios)
			break
		}
	}
	xssText := eval[string](t, ctx, `document.querySelector('li.case[data-id="`+xss.ID+`"] .subject').textContent`)
	xssRan := eval[any](t, ctx, `window.__xss || null`)
	made := eval[int](t, ctx, `document.querySelectorAll('#queue img, #queue script').length`)
	if !strings.Contains(xssText, `<img src=x onerror="window.__xss=1">`) || !strings.Contains(xssText, "<script>") || xssRan != nil || made != 0 {
		t.Errorf("the HTML post shows as %q (ran: %v, elements made: %d); want its characters as text", xssText, xssRan, made)
	}

	// The open queue: the unanswered mention counts down to its due time, or
	// shows it breached.
	do(t, ctx, "open queue",
		chromedp.Navigate(sys.URL+"/console/#/queue/open"),
		until(`document.querySelector('li.case time.due') !== null`))
	due := eval[map[string]any](t, ctx, `(() => { const d = document.querySelector('li.case time.due'); return {due: d.dataset.due, text: d.textContent, breached: d.classList.contains('breached'), past: Date.parse(d.dataset.due) <= Date.now()} })()`)
	if due["breached"] != due["past"] || due["text"] == "" {
		t.Errorf("the open case's due time shows %v; want a countdown, marked breached once past", due)
	}

	// The keyboard: j and k move through the queue, Enter opens the case, j
	// goes on to the next case, g back to the queue.
	do(t, ctx, "keyboard",
		chromedp.Navigate(sys.URL+"/console/#/queue/pending"),
		until(`document.querySelectorAll('li.case').length >= 7 && document.querySelector('li.case.selected') !== null`),
		js(`document.activeElement && document.activeElement.blur()`),
		chromedp.KeyEvent("j"), chromedp.KeyEvent("j"), chromedp.KeyEvent("k"),
		until(`document.querySelector('li.case.selected') === document.querySelectorAll('li.case')[1]`))
	ids := eval[[]string](t, ctx, `[...document.querySelectorAll('li.case')].map(li => li.dataset.id)`)
	do(t, ctx, "open with Enter",
		js(`document.activeElement && document.activeElement.blur()`),
		chromedp.KeyEvent("\r"),
		until(`location.hash === '#/case/`+ids[1]+`' && document.querySelector('.case-head') !== null`),
		chromedp.KeyEvent("j"),
		until(`location.hash === '#/case/`+ids[2]+`'`),
		chromedp.KeyEvent("g"),
		until(`document.querySelector('li.case') !== null`))

	// A complaint: its labels with their reasons; the agent claims it.
	do(t, ctx, "open and claim the complaint",
		chromedp.Navigate(sys.URL+"/console/#/queue/pending"),
		until(`document.querySelector('li.case[data-id="`+complaint.ID+`"] a') !== null`),
		click(`li.case[data-id="`+complaint.ID+`"] a`),
		until(`document.querySelector('.labels dl') !== null`))
	if reasons := eval[string](t, ctx, `document.querySelector('.labels dl').textContent`); !strings.Contains(reasons, "intent: complaint") || !strings.Contains(reasons, "sentiment:") {
		t.Errorf("the complaint's labels read %q; want each label with its reason", reasons)
	}
	// Its priority, factor by factor, in the console's words.
	if f := eval[string](t, ctx, `[...document.querySelectorAll('li[data-factor]')].map(li => li.textContent).join(' / ')`); !strings.Contains(f, "every case starts at") || !strings.Contains(f, "intent: complaint") {
		t.Errorf("the complaint's priority factors read %q; want each factor said in the console's language", f)
	}
	do(t, ctx, "claim", click(`#claim`), until(`document.getElementById('unassign') !== null`))
	// María wrote publicly and by DM: her other case is one click away.
	do(t, ctx, "the customer's other cases", until(`document.querySelector('#other-cases li[data-id] .chan.dm') !== null`))

	// A reply with "problema": the linter speaks and the send stays off.
	do(t, ctx, "lint",
		typeInto(`#reply-text`, "Lo sentimos mucho, María. Ya estamos mirando el problema de tu vuelo."),
		until(`document.querySelector('#lint .lint-error') !== null`))
	if blocked, rules := eval[bool](t, ctx, `document.getElementById('send').disabled`), eval[string](t, ctx, `[...document.querySelectorAll('#lint .lint-error')].map(e => e.dataset.rule).join(',')`); !blocked || rules == "" {
		t.Errorf("a reply with 'problema': send disabled %v, rules %q; want it blocked with the rule named", blocked, rules)
	}
	const fixed = "Lo sentimos mucho, María. Ya estamos revisando la incidencia de tu vuelo y te escribimos en cuanto sepamos más."
	do(t, ctx, "send the reply",
		typeInto(`#reply-text`, fixed),
		until(`!document.getElementById('send').disabled`),
		click(`#send`),
		until(`[...document.querySelectorAll('.msg.out')].some(m => m.querySelector('.text').textContent.startsWith(`+jsString(fixed)+`) && m.querySelector('.reply-state[data-state="sent"]'))`))
	sentOnce(t, sys, complaint.ID, fixed, "^Local")

	// A note, a relabel and a resolve.
	do(t, ctx, "note, relabel, resolve",
		typeInto(`#note-text`, "Llamar al cliente si no contesta por DM."),
		click(`#add-note`),
		until(`[...document.querySelectorAll('.note .text')].some(p => p.textContent === 'Llamar al cliente si no contesta por DM.')`),
		chromedp.SetValue(chromedp.CSS(`#relabel-intent`), "incident"),
		click(`#save-labels`),
		until(`document.querySelector('.case-head .intent-incident') !== null`),
		click(`#resolve`),
		until(`document.getElementById('reopen') !== null`))
	if c, _, err := sys.Store.GetCase(t.Context(), complaint.ID); err != nil || c.Status != care.Resolved || c.Intent != "incident" {
		t.Errorf("the case after the console: %+v (%v); want resolved, relabelled incident", c, err)
	}

	// A teammate claims the case the agent is looking at: the claim shows who.
	do(t, ctx, "open Dan's case",
		chromedp.Navigate(sys.URL+"/console/#/case/"+other.ID),
		until(`document.getElementById('claim') !== null`))
	if _, err := sys.Store.Assign(t.Context(), other.ID, store.Assignment{To: "beto", ToName: "Beto Ruiz", By: "beto"}); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "claim a case a teammate holds", click(`#claim`), until(`document.querySelector('#case-status .error') !== null`))
	if held := eval[string](t, ctx, `document.querySelector('#case-status .error').textContent`); !strings.Contains(held, "Beto Ruiz") {
		t.Errorf("the lost claim says %q; want who holds the case", held)
	}

	// Triage by hand: the priority the agent sets holds.
	do(t, ctx, "triage",
		chromedp.Navigate(sys.URL+"/console/#/case/"+xss.ID),
		until(`document.getElementById('triage-priority') !== null`),
		chromedp.SetValue(chromedp.CSS(`#triage-priority`), "950"),
		click(`#save-triage`),
		until(`[...document.querySelectorAll('.case-head .tag')].some(s => s.textContent.endsWith(' 950'))`))

	// A crisis opened by hand: the banner names it and shows the template
	// customers get; the panel closes it again.
	do(t, ctx, "open a crisis",
		chromedp.Navigate(sys.URL+"/console/#/crisis"),
		until(`document.querySelector('tr[data-topic="delays"] .open-crisis') !== null`),
		click(`tr[data-topic="delays"] .open-crisis`),
		until(`document.querySelector('#banner .crisis[data-topic="delays"]') !== null && document.querySelector('tr[data-topic="delays"] .close-crisis') !== null`))
	if text := eval[string](t, ctx, `document.querySelector('#banner .crisis').textContent`); !strings.Contains(text, "delays") || !strings.Contains(text, "Template for customers") {
		t.Errorf("the crisis banner reads %q; want the topic and the crisis template", text)
	}
	do(t, ctx, "close the crisis",
		click(`tr[data-topic="delays"] .close-crisis`),
		until(`document.querySelector('#banner .crisis') === null && document.querySelector('tr[data-topic="delays"] .open-crisis') !== null`))

	// The agent's profile: a new name and signature, shown in the bar.
	do(t, ctx, "profile",
		chromedp.Navigate(sys.URL+"/console/#/profile"),
		until(`document.getElementById('profile-name') !== null`),
		typeInto(`#profile-name`, "Lola Local"),
		typeInto(`#profile-signature`, "^Lola"),
		click(`#profile-save`),
		until(`document.querySelector('#profile-status .ok') !== null && document.querySelector('.bar .who').textContent.includes('Lola Local ^Lola')`))

	// The session expires while a reply is being written: the agent signs in
	// again and finds the reply where it was.
	const draft = "Hola, lo revisamos ahora mismo."
	do(t, ctx, "expired session",
		chromedp.Navigate(sys.URL+"/console/#/case/"+xss.ID),
		until(`document.getElementById('reply-text') !== null`),
		js(`sessionStorage.setItem('pajarito.token', 'expired')`),
		typeInto(`#reply-text`, draft),
		until(`document.querySelector('.signin .warn') !== null`),
		chromedp.Navigate(sys.URL+"/console/#token="+token),
		until(`document.getElementById('reply-text') !== null && document.getElementById('reply-text').value !== ''`))
	if kept := eval[string](t, ctx, `document.getElementById('reply-text').value`); kept != draft {
		t.Errorf("after signing in again the reply reads %q, want %q", kept, draft)
	}
}

// jsString quotes s as a JavaScript string.
func jsString(s string) string { return fmt.Sprintf("%q", s) }

// navigating reports whether err says the page went away under a script (a
// navigation), which waiting again gets past.
func navigating(err error) bool {
	for _, s := range []string{"navigated", "context was destroyed", "Cannot find context"} {
		if strings.Contains(err.Error(), s) {
			return true
		}
	}
	return false
}
