package console_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/local/localdev"
	"github.com/pajarito-care/pajarito/shared/local/xfake"
)

// TestConsoleStatement: in a real browser, the admin opens a crisis and
// writes its public statement; the linter's refusal (no apology first) is
// shown; the statement waits for another agent's approval (the protocol's
// approval.during_crisis), Ana approves it in the approvals view, and it is
// posted once from the brand account; an update follows as a reply to it.
// The banner shows the latest word (the update, the statement before it in
// the panel); the panel shows both.
func TestConsoleStatement(t *testing.T) {
	sys, _, token := systemWith(t, func(c *config.Config) { c.Protocol.Approval.DuringCrisis = true })
	ctx := browser(t)
	signIn := func(who, tok string) {
		do(t, ctx, "sign in as "+who, chromedp.Navigate(sys.URL+"/console/#token="+tok),
			until(`document.querySelector('.bar .who') && document.querySelector('.bar .who').textContent.includes(`+jsString(who)+`)`))
	}
	write := func(what, text string) {
		do(t, ctx, what,
			chromedp.Navigate(sys.URL+"/console/#/crisis"),
			until(`document.querySelector('section.statement[data-topic="delays"] textarea.statement-text') !== null`),
			js(`document.querySelector('section.statement[data-topic="delays"] textarea.statement-text').value = ''`),
			typeInto(`section.statement[data-topic="delays"] textarea.statement-text`, text),
			click(`section.statement[data-topic="delays"] form button[type="submit"]`),
			until(`document.querySelector('section.statement[data-topic="delays"] .statement-status .ok, section.statement[data-topic="delays"] .statement-status .error') !== null`))
	}
	approve := func(what string) {
		signIn("Ana", "browser-test-ana")
		do(t, ctx, "approve "+what,
			chromedp.Navigate(sys.URL+"/console/#/approvals"),
			until(`[...document.querySelectorAll('li.approval .meta a')].some(a => a.getAttribute('href') === '#/crisis')`),
			click(`li.approval button.approve`),
			until(`document.querySelector('li.approval .approval-status .ok') !== null`))
	}

	signIn("Local agent", token)
	do(t, ctx, "open the delays crisis",
		chromedp.Navigate(sys.URL+"/console/#/crisis"),
		until(`document.querySelector('tr[data-topic="delays"] button.open-crisis') !== null`),
		click(`tr[data-topic="delays"] button.open-crisis`),
		until(`document.querySelector('section.statement[data-topic="delays"] textarea.statement-text') !== null`))

	write("a statement without an apology", "Boarding in Madrid is delayed since 9:10.")
	if msg := eval[string](t, ctx, `document.querySelector('section.statement[data-topic="delays"] .statement-status').textContent`); !strings.Contains(msg, "apolog") && !strings.Contains(msg, "disculpas") {
		t.Errorf("the refused statement says %q; want the linter's apology rule", msg)
	}
	const statement = "Lo sentimos: desde las 9:10 los embarques de Madrid van con retraso. Os contamos aquí cada avance."
	write("the statement", statement)
	do(t, ctx, "the statement, awaiting approval",
		until(`document.querySelector('section.statement[data-topic="delays"] li.post[data-state="pending"]') !== null`))
	if n := len(brandPosts(sys)); n != 0 {
		t.Fatalf("%d posts went out before the approval", n)
	}
	approve("the statement")
	posts := waitBrandPosts(t, sys, 1)
	if !strings.HasPrefix(posts[0].Text, statement) || posts[0].InReplyToID != "" {
		t.Fatalf("X holds %+v; want the statement, a post of its own", posts)
	}

	signIn("Local agent", token)
	const update = "10:05: el embarque vuelve a funcionar; los vuelos salen con unos 40 minutos de retraso."
	write("the update", update)
	approve("the update")
	posts = waitBrandPosts(t, sys, 2)
	if !strings.HasPrefix(posts[1].Text, update) || posts[1].InReplyToID != posts[0].ID {
		t.Fatalf("X holds %+v; want the update, a reply to the statement", posts)
	}
	do(t, ctx, "the banner shows the update, out, and the panel both",
		chromedp.Navigate(sys.URL+"/console/#/crisis"),
		until(`document.querySelector('.crisis[data-topic="delays"] .statement-thread li.post[data-state="sent"]') !== null`),
		until(`document.querySelectorAll('section.statement[data-topic="delays"] li.post[data-state="sent"]').length === 2`))
	if got := eval[string](t, ctx, `document.querySelector('.crisis[data-topic="delays"] .statement-thread').textContent`); strings.Contains(got, statement) || !strings.Contains(got, update) || !strings.Contains(got, "1 before") {
		t.Errorf("the banner reads %q; want the update, and that 1 post came before it", got)
	}
	if got := eval[string](t, ctx, `document.querySelector('section.statement[data-topic="delays"] .statement-thread').textContent`); !strings.Contains(got, statement) || !strings.Contains(got, update) {
		t.Errorf("the panel reads %q; want the statement and the update", got)
	}
	if n := len(brandPosts(sys)); n != 2 {
		t.Errorf("X holds %d posts of the brand's own; want 2, each once", n)
	}
	// Customers now get the template that points to the statement.
	do(t, ctx, "the banner's template points to the statement",
		until(`document.querySelector('.crisis[data-topic="delays"] .template[data-template^="crisis_statement."]') !== null`))

	// The follow-up every affected customer gets when it is over: the
	// template's text, which the admin rewrites before it goes.
	signIn("Local agent", token)
	const followUp = "Lo sentimos de nuevo, {first_name}: {topic} han terminado y los cambios de vuelo son gratis hasta el domingo. {signature}"
	do(t, ctx, "write the follow-up",
		chromedp.Navigate(sys.URL+"/console/#/crisis"),
		until(`document.querySelector('form.followup textarea[data-lang="es"]') !== null && document.querySelector('form.followup textarea[data-lang="es"]').value.includes('{topic}')`),
		js(`document.querySelector('form.followup textarea[data-lang="es"]').value = `+jsString(followUp)),
		click(`form.followup button[type="submit"]`),
		until(`document.querySelector('.followup-status .ok') !== null`))
	c, err := sys.Store.ListCrises(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, cr := range c {
		if cr.Topic != "delays" {
			continue
		}
		text, err := sys.Store.GetFollowUpText(t.Context(), "delays", cr.Since)
		if err != nil || text == nil || text.Texts["es"] != followUp || text.ByName != "Local agent" {
			t.Errorf("the follow-up text kept: %+v, %v", text, err)
		}
	}
}

// brandPosts are the brand's posts the fake X holds that answer no customer
// (a post of its own, or a reply to one of its own posts): its statements
// and their updates.
func brandPosts(sys *localdev.System) []xfake.Posted {
	var out []xfake.Posted
	own := map[string]bool{}
	for _, p := range sys.XFake.Posted() {
		if p.Kind == "post" && (p.InReplyToID == "" || own[p.InReplyToID]) {
			out = append(out, p)
			own[p.ID] = true
		}
	}
	return out
}

// waitBrandPosts waits until the fake X holds n of the brand's own posts.
func waitBrandPosts(t *testing.T, sys *localdev.System, n int) []xfake.Posted {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if posts := brandPosts(sys); len(posts) >= n {
			return posts
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fake X holds %+v after 60 s; want %d posts of the brand's own", brandPosts(sys), n)
		}
	}
}
