package sender_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/sender"
	"github.com/pajarito-care/pajarito/shared/store"
)

// crisisSince is when the statements' crisis opened.
var crisisSince = t0.Add(-time.Hour)

// statementPost stores a post of the delays crisis's statement thread, as the
// agent API does, written at the clock's time; approval is "" (it needed
// none), or the approval state. It returns its request.
func (e *env) statementPost(draft, text, approval string) care.ReplyRequest {
	e.t.Helper()
	thread := care.CrisisThreadID("delays", crisisSince)
	req := care.ReplyRequest{
		Version: care.ReplyVersion, IdempotencyKey: care.ReplyKey(thread, draft, care.ReplyStatement),
		CaseID: thread, TriggerID: draft, Channel: care.Public, Text: text, Lang: "es",
		Kind: care.ReplyStatement, Author: agentID, AuthorName: "Ana", CreatedAt: e.clk.Now(),
	}
	d := store.Draft{CaseID: thread, DraftID: draft, Input: draft, Request: req, CreatedAt: e.clk.Now(), LeaseUntil: e.clk.Now().Add(time.Minute)}
	if approval != "" {
		d.LeaseUntil, d.Approval = time.Time{}, &store.DraftApproval{State: store.ApprovalPending, Why: "a crisis is open on delays"}
	}
	if ok, err := e.st.PutDraft(e.t.Context(), d); err != nil || !ok {
		e.t.Fatalf("PutDraft(%s) = %v, %v", draft, ok, err)
	}
	if approval != "" && approval != store.ApprovalPending {
		at := e.clk.Now()
		decision := store.DraftApproval{State: approval, Why: d.Approval.Why, By: "luis", ByName: "Luis", At: &at}
		if ok, err := e.st.DecideDraft(e.t.Context(), thread, draft, decision, nil, at.Add(time.Minute)); err != nil || !ok {
			e.t.Fatalf("DecideDraft(%s) = %v, %v", draft, ok, err)
		}
	}
	e.clk.Advance(time.Minute)
	return req
}

// openCrisis opens the delays crisis the statements are of.
func (e *env) openCrisis() {
	e.t.Helper()
	if ok, err := e.st.OpenCrisis(e.t.Context(), care.CrisisState{Topic: "delays", Active: true, Manual: true, Since: crisisSince, OpenedBy: "sara"}); !ok || err != nil {
		e.t.Fatalf("open the crisis: %v, %v", ok, err)
	}
}

// TestStatementThread: a crisis's statement goes out as a post of its own,
// and each update as a reply to the post before it, once that one is out; a
// rejected post is no part of the thread; nothing is appended to any case.
func TestStatementThread(t *testing.T) {
	e := newEnv(t)
	e.openCrisis()
	statement := e.statementPost("s1", "Lo sentimos: desde las 9:10 los embarques de Madrid van con retraso. Os contamos aquí cada avance. ^Ana", "")
	update := e.statementPost("u1", "10:05: el sistema de embarque vuelve a funcionar; los vuelos salen con 40 min de retraso. ^Ana", "")
	rejected := e.statementPost("u2", "Todo arreglado. ^Ana", store.ApprovalRejected)
	last := e.statementPost("u3", "11:00: todos los vuelos salen a su hora. Gracias por la paciencia. ^Ana", store.ApprovalApproved)

	// The update, queued before the statement went out, waits for it.
	if failed := e.deliver(message(t, "m-u1", update, 1)); len(failed) != 1 {
		t.Fatalf("the update went before the statement: %+v", e.lastOutcome("m-u1"))
	}
	if l := e.lastOutcome("m-u1"); l.Outcome != sender.OutcomeDelayed || !strings.Contains(l.Reason, "s1") {
		t.Errorf("logged %+v; want delayed, waiting for s1", l)
	}
	if len(e.posted("post")) != 0 {
		t.Fatalf("posted %+v before the statement", e.posted("post"))
	}

	if failed := e.deliver(message(t, "m-s1", statement, 1), message(t, "m-u1", update, 2)); len(failed) != 0 {
		t.Fatalf("failed %v: %+v %+v", failed, e.lastOutcome("m-s1"), e.lastOutcome("m-u1"))
	}
	if failed := e.deliver(message(t, "m-u2", rejected, 1), message(t, "m-u3", last, 1)); len(failed) != 0 {
		t.Fatalf("failed %v", failed)
	}
	if l := e.lastOutcome("m-u2"); l.Outcome != sender.OutcomeFailed || !strings.Contains(l.Reason, "rejected") {
		t.Errorf("the rejected post: logged %+v; want failed, not approved", l)
	}
	posts := e.posted("post")
	if len(posts) != 3 {
		t.Fatalf("X holds %+v; want the statement and two updates", posts)
	}
	if posts[0].Text != statement.Text || posts[0].InReplyToID != "" ||
		posts[1].Text != update.Text || posts[1].InReplyToID != posts[0].ID ||
		posts[2].Text != last.Text || posts[2].InReplyToID != posts[1].ID {
		t.Errorf("X holds %+v; want the statement, then each update a reply to the post before it", posts)
	}
	if r := e.reply(update.CaseID, update.IdempotencyKey); r.State != care.ReplySent || r.XID != posts[1].ID || r.InReplyToID != posts[0].ID {
		t.Errorf("the update's reply item = %+v", r.ReplyStatus)
	}
	thread, err := e.st.CrisisPosts(t.Context(), statement.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, p := range thread {
		states = append(states, p.DraftID+"="+p.State())
	}
	if got := strings.Join(states, " "); got != "s1=sent u1=sent u2=rejected u3=sent" {
		t.Errorf("the thread reads %s", got)
	}
	if _, _, err := e.st.GetCase(t.Context(), statement.CaseID); err == nil {
		t.Error("a case was made of the crisis's thread")
	}
	if c, err := e.st.GetCrisis(t.Context(), "delays"); err != nil || c.StatementID != posts[2].ID {
		t.Errorf("the crisis = %+v, %v; want its latest post out, %s", c, err, posts[2].ID)
	}
}

// TestStatementLinted: the statement starts with an apology (an update need
// not), and follows the protocol's words.
func TestStatementLinted(t *testing.T) {
	e := newEnv(t)
	cold := e.statementPost("s1", "Desde las 9:10 los embarques de Madrid van con retraso. ^Ana", "")
	if failed := e.deliver(message(t, "m-s1", cold, 1)); len(failed) != 0 {
		t.Fatalf("failed %v", failed)
	}
	if l := e.lastOutcome("m-s1"); l.Outcome != sender.OutcomeFailed || !strings.Contains(l.Reason, "apology_first") {
		t.Errorf("a statement without an apology: logged %+v; want failed by the linter", l)
	}
	// The failed statement is out of the thread: the next post is the statement.
	ok := e.statementPost("s2", "Lo sentimos: desde las 9:10 los embarques de Madrid van con retraso. ^Ana", "")
	update := e.statementPost("u1", "10:05: seguimos con el problema del embarque. ^Ana", "")
	if failed := e.deliver(message(t, "m-s2", ok, 1)); len(failed) != 0 {
		t.Fatalf("failed %+v", e.lastOutcome("m-s2"))
	}
	if failed := e.deliver(message(t, "m-u1", update, 1)); len(failed) != 0 {
		t.Fatalf("failed %v", failed)
	}
	if l := e.lastOutcome("m-u1"); l.Outcome != sender.OutcomeFailed || !strings.Contains(l.Reason, "forbidden_word") {
		t.Errorf("an update saying problema: logged %+v; want failed by the linter", l)
	}
	if posts := e.posted("post"); len(posts) != 1 || posts[0].Text != ok.Text || posts[0].InReplyToID != "" {
		t.Errorf("X holds %+v; want the second statement alone", posts)
	}
}

// TestStatementInterrupted: a statement whose send was interrupted after X
// created it is found among the brand's posts and recorded, not posted again.
func TestStatementInterrupted(t *testing.T) {
	e := newEnv(t)
	e.s.Finder = e.client
	req := e.statementPost("s1", "Lo sentimos: desde las 9:10 los embarques de Madrid van con retraso. ^Ana", "")
	if _, won, err := e.st.ClaimReply(t.Context(), &req); err != nil || !won {
		t.Fatalf("claim: %v, %v", won, err)
	}
	sent, err := e.client.Post(t.Context(), req.Text)
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(sender.DefaultLease)
	if failed := e.deliver(message(t, "m-s1", req, 2)); len(failed) != 0 {
		t.Fatalf("failed: %+v", e.lastOutcome("m-s1"))
	}
	if l := e.lastOutcome("m-s1"); l.Outcome != sender.OutcomeReconciled || l.XID != sent.ID {
		t.Errorf("logged %+v; want reconciled as %s", l, sent.ID)
	}
	if n := len(e.posted("post")); n != 1 {
		t.Errorf("X holds %d posts; want the statement once", n)
	}
}
