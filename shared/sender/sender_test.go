package sender_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/xfake"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/sender"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

func TestPublicReplyRecorded(t *testing.T) {
	e := newEnv(t)
	post, caseID := e.customerPost("@PajaritoAir my bag did not arrive in Madrid")
	e.clk.Advance(3 * time.Minute)
	req := agentReply(caseID, post, "draft-1", "@mariagv_viajes Thanks for telling us, María. We're tracing your bag now. ^Ana")

	if failed := e.deliver(message(t, "m1", req, 1)); len(failed) != 0 {
		t.Fatalf("failed %v: %+v", failed, e.lastOutcome("m1"))
	}
	posts := e.posted("post")
	if len(posts) != 1 || posts[0].InReplyToID != post || posts[0].Text != req.Text || len(e.posted("dm")) != 0 {
		t.Fatalf("X got %+v; want one reply to %s", e.x.Posted(), post)
	}
	xid := posts[0].ID
	sentAt, _ := care.IDTime(xid)

	r := e.reply(caseID, req.IdempotencyKey)
	if r.State != care.ReplySent || r.XID != xid || r.Attempts != 1 || r.CostUSD != protocol.PricePostSummonedUSD || !r.SentAt.Equal(sentAt) {
		t.Errorf("reply item = %+v; want sent as %s at %v for $%.3f", r.ReplyStatus, xid, sentAt, protocol.PricePostSummonedUSD)
	}
	c, msgs, err := e.st.GetCase(t.Context(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	if c.MessagesOut != 1 || c.FirstResponseAt == nil || !c.FirstResponseAt.Equal(sentAt) || c.Status != care.Pending {
		t.Errorf("case = out %d, first response %v, %s; want 1, %v, pending", c.MessagesOut, c.FirstResponseAt, c.Status, sentAt)
	}
	out := msgs[len(msgs)-1]
	if out.ID != xid || out.Direction != care.Outbound || out.AuthorID != brandID || out.InReplyToID != post ||
		out.InReplyToUserID != customerID || out.Source != care.SourceReply || out.Text != req.Text {
		t.Errorf("outbound message = %+v", out)
	}
	spend, err := e.st.GetSpend(t.Context(), store.SpendMonth(e.clk.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if got := spend.Sources["reply.post"]; got.USD != protocol.PricePostSummonedUSD || got.Pages != 1 {
		t.Errorf("spend = %+v; want one post at $%.3f", got, protocol.PricePostSummonedUSD)
	}
	// Metrics: the first response time, once, and the reply's price.
	var frt, cost []string
	for _, line := range strings.Split(strings.TrimSpace(e.metrics.String()), "\n") {
		var m struct {
			Source                                 string
			FirstResponseSeconds, EstimatedCostUSD *float64
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		if m.FirstResponseSeconds != nil {
			frt = append(frt, fmt.Sprint(*m.FirstResponseSeconds))
		}
		if m.EstimatedCostUSD != nil {
			cost = append(cost, fmt.Sprintf("%s=%v", m.Source, *m.EstimatedCostUSD))
		}
	}
	wantFRT := sentAt.Sub(c.FirstInboundAt).Seconds()
	if len(frt) != 1 || frt[0] != fmt.Sprint(wantFRT) || len(cost) != 1 || cost[0] != fmt.Sprintf("reply.post=%v", protocol.PricePostSummonedUSD) {
		t.Errorf("metrics: FirstResponseSeconds %v (want %v), EstimatedCostUSD %v", frt, wantFRT, cost)
	}
	if list, err := e.st.ListReplies(t.Context(), caseID); err != nil || len(list) != 1 || list[0].State != care.ReplySent || list[0].XID != xid {
		t.Errorf("ListReplies = %+v, %v", list, err)
	}
	if l := e.lastOutcome("m1"); l.Outcome != sender.OutcomeSent || l.XID != xid || l.CaseID != caseID || l.Key != req.IdempotencyKey ||
		l.Kind != string(care.ReplyAgent) || l.Channel != string(care.Public) {
		t.Errorf("log line = %+v", l)
	}

	// X's webhook delivers the brand's post back: the processor finds it stored.
	hook := &care.Envelope{Version: care.EnvelopeVersion, Kind: care.KindMessage, Source: care.SourceXAA, ReceivedAt: e.clk.Now(),
		Message: &care.Message{Channel: care.Public, Direction: care.Outbound, ID: xid, AuthorID: brandID, Text: req.Text,
			CreatedAt: sentAt, ConversationID: post, InReplyToID: post, InReplyToUserID: customerID}}
	if res, err := e.st.Append(t.Context(), hook, "sqs-hook"); err != nil || !res.Duplicate {
		t.Errorf("webhook copy: %+v, %v; want a duplicate", res, err)
	}
	if c, _, _ := e.st.GetCase(t.Context(), caseID); c.MessagesOut != 1 {
		t.Errorf("messages out %d after the webhook copy; want 1", c.MessagesOut)
	}
}

func TestDuplicateDeliveries(t *testing.T) {
	e := newEnv(t)
	post, caseID := e.customerPost("@PajaritoAir is flight PJ123 on time?")
	req := agentReply(caseID, post, "draft-1", "@mariagv_viajes Yes, PJ123 leaves on time from gate B12. ^Ana")

	// Delivered three times, one after the other (SQS redeliveries, or the same
	// request enqueued three times).
	for i, id := range []string{"a1", "a2", "a3"} {
		if failed := e.deliver(message(t, id, req, 1)); len(failed) != 0 {
			t.Fatalf("delivery %d failed: %+v", i+1, e.lastOutcome(id))
		}
	}
	if n := len(e.posted("post")); n != 1 {
		t.Fatalf("%d posts for three deliveries; want 1", n)
	}
	for id, want := range map[string]string{"a1": sender.OutcomeSent, "a2": sender.OutcomeAlreadySent, "a3": sender.OutcomeAlreadySent} {
		if got := e.lastOutcome(id).Outcome; got != want {
			t.Errorf("delivery %s: %s; want %s", id, got, want)
		}
	}

	// Delivered three times at once.
	req2 := agentReply(caseID, post, "draft-2", "@mariagv_viajes And boarding starts at 9:20. ^Ana")
	ids := []string{"b1", "b2", "b3"}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() { e.deliver(message(t, id, req2, 1)) })
	}
	wg.Wait()
	if n := len(e.posted("post")); n != 2 {
		t.Fatalf("%d posts after three concurrent deliveries; want 2", n)
	}
	var waiting []string
	for _, id := range ids {
		switch got := e.lastOutcome(id).Outcome; got {
		case sender.OutcomeSent, sender.OutcomeAlreadySent:
		case sender.OutcomeInFlight:
			if d, ok := e.delays.of(id); !ok || d <= 0 || d > sender.DefaultLease+time.Minute {
				t.Errorf("%s waits %v; want up to the lease", id, d)
			}
			waiting = append(waiting, id)
		default:
			t.Errorf("concurrent delivery %s: %s", id, got)
		}
	}
	// The waiting deliveries come back after the lease and find it sent.
	e.clk.Advance(sender.DefaultLease + time.Minute)
	for _, id := range waiting {
		if failed := e.deliver(message(t, id, req2, 2)); len(failed) != 0 || e.lastOutcome(id).Outcome != sender.OutcomeAlreadySent {
			t.Errorf("redelivery of %s: %+v", id, e.lastOutcome(id))
		}
	}
	if n := len(e.posted("post")); n != 2 {
		t.Errorf("%d posts in all; want 2", n)
	}
	c, _, _ := e.st.GetCase(t.Context(), caseID)
	if c.MessagesOut != 2 {
		t.Errorf("messages out %d; want 2", c.MessagesOut)
	}
	spend, _ := e.st.GetSpend(t.Context(), store.SpendMonth(e.clk.Now()))
	if got := spend.Sources["reply.post"]; got.Pages != 2 {
		t.Errorf("spend counts %d posts; want 2", got.Pages)
	}
}

func TestDMGoesAsDM(t *testing.T) {
	e := newEnv(t)
	dmCase := e.customerDM("Hi, my booking ref is QX7Z2P and my card ends 4412")
	req := agentDM(dmCase, "draft-dm", "Thanks María, I found booking QX7Z2P: you're rebooked on PJ125. ^Ana")
	if failed := e.deliver(message(t, "d1", req, 1)); len(failed) != 0 {
		t.Fatalf("DM failed: %+v", e.lastOutcome("d1"))
	}
	dms := e.posted("dm")
	if len(dms) != 1 || dms[0].ParticipantID != customerID || dms[0].Text != req.Text || len(e.posted("post")) != 0 {
		t.Fatalf("X got %+v; want one DM to %s and no post", e.x.Posted(), customerID)
	}
	r := e.reply(dmCase, req.IdempotencyKey)
	if r.State != care.ReplySent || r.XID != dms[0].ID || r.CostUSD != sender.PriceDMUSD {
		t.Errorf("reply item = %+v", r.ReplyStatus)
	}
	_, msgs, _ := e.st.GetCase(t.Context(), dmCase)
	if last := msgs[len(msgs)-1]; last.ID != dms[0].ID || last.Channel != care.DM || last.RecipientID != customerID || last.Direction != care.Outbound {
		t.Errorf("outbound DM stored as %+v", last)
	}

	// What the customer said by DM is never posted in public, even in another
	// case's reply.
	post, pubCase := e.customerPost("@PajaritoAir still waiting for my rebooking")
	leak := agentReply(pubCase, post, "draft-leak", "@mariagv_viajes your booking ref is QX7Z2P and my card ends 4412, right? ^Ana")
	if failed := e.deliver(message(t, "d2", leak, 1)); len(failed) != 0 {
		t.Fatalf("a refused reply is not retried: failed %v", failed)
	}
	lr := e.reply(pubCase, leak.IdempotencyKey)
	if lr.State != care.ReplyFailed || !strings.Contains(lr.Reason, protocol.RuleDMContent) || lr.Attempts != 0 {
		t.Errorf("leaking reply = %+v; want failed by %s before any call", lr.ReplyStatus, protocol.RuleDMContent)
	}
	if len(e.posted("post")) != 0 {
		t.Errorf("X got a post: %+v", e.posted("post"))
	}
	if alerts := e.notes.list(); len(alerts) != 1 || alerts[0].Kind != care.AlertReplyFailed || alerts[0].CaseID != pubCase {
		t.Errorf("alerts = %+v; want one reply_failed for %s", alerts, pubCase)
	}
	// The operator's health check finds it without reading the case.
	issues, err := e.st.ListReplyIssues(t.Context(), time.Time{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(issues) != 1 || issues[0].CaseID != pubCase || issues[0].Key != leak.IdempotencyKey || issues[0].State != care.ReplyFailed || !strings.Contains(issues[0].Reason, protocol.RuleDMContent) {
		t.Errorf("reply issues = %+v; want the failed reply %s", issues, leak.IdempotencyKey)
	}
}

func TestBudgetExhaustion(t *testing.T) {
	e := newEnv(t)
	e.s.Limits = sender.Limits{DMs: 2}
	dmCase := e.customerDM("Hi, can you check my booking?")
	var reqs []care.ReplyRequest
	for i := range 4 {
		reqs = append(reqs, agentDM(dmCase, "draft-"+string(rune('a'+i)), "Checking it now, María (part "+string(rune('1'+i))+"). ^Ana"))
	}
	window := store.SendWindowStart(e.clk.Now())
	next := window.Add(store.SendWindow)
	for i, req := range reqs {
		e.deliver(message(t, "q"+string(rune('0'+i)), req, 1))
	}
	if n := len(e.posted("dm")); n != 2 {
		t.Fatalf("%d DMs sent in a window of 2; want 2", n)
	}
	for i, req := range reqs[2:] {
		id := "q" + string(rune('2'+i))
		l := e.lastOutcome(id)
		d, _ := e.delays.of(id)
		wait := next.Sub(e.clk.Now())
		if l.Outcome != sender.OutcomeDelayed || d < wait || d > wait+time.Minute {
			t.Errorf("%s: %s, delayed %v; want delayed until the next window (%v, plus up to a minute)", id, l.Outcome, d, wait)
		}
		if r := e.reply(dmCase, req.IdempotencyKey); r.State != care.ReplyWaiting || !r.Slot.Equal(next) || r.Attempts != 0 {
			t.Errorf("%s: reply item %+v, slot %v; want waiting with a send of %v", id, r.ReplyStatus, r.Slot, next)
		}
	}
	for w, want := range map[time.Time]int{window: 2, next: 2} {
		if n, err := e.st.SendsIn(t.Context(), sender.KindDM, w); err != nil || n != want {
			t.Errorf("sends in %v = %d, %v; want %d", w, n, err, want)
		}
	}

	// Early: they wait again, holding their sends.
	e.deliver(message(t, "q2", reqs[2], 2))
	if l := e.lastOutcome("q2"); l.Outcome != sender.OutcomeDelayed || len(e.posted("dm")) != 2 {
		t.Errorf("early redelivery: %+v", l)
	}
	// In their window they go, without taking another send.
	e.clk.Advance(next.Sub(e.clk.Now()) + 30*time.Second)
	e.deliver(message(t, "q2", reqs[2], 3), message(t, "q3", reqs[3], 2))
	if n := len(e.posted("dm")); n != 4 {
		t.Errorf("%d DMs after the window turned; want 4", n)
	}
	if n, _ := e.st.SendsIn(t.Context(), sender.KindDM, next); n != 2 {
		t.Errorf("sends in the next window = %d; want the 2 reserved", n)
	}
}

func TestPermanentRefusals(t *testing.T) {
	tests := []struct {
		name   string
		before func(e *env, post string)
		reason string
	}{
		{"post deleted on X", func(e *env, post string) { e.x.DeletePost(post) }, "403 Forbidden: You attempted to reply to a Tweet that is deleted"},
		{"blocked", func(e *env, post string) { e.x.Block(customerID) }, "blocked"},
		{"not found", func(e *env, post string) { e.x.FailNext(1, 404) }, "404 Not Found"},
		{"not summoned", func(e *env, post string) { e.x.RestrictReplies(true) }, "not been mentioned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			text := "@PajaritoAir where is my bag?"
			if tt.name == "not summoned" {
				text = "my bag is lost again"
			}
			post, caseID := e.customerPost(text)
			req := agentReply(caseID, post, "draft-1", "@mariagv_viajes We're looking into it. ^Ana")
			tt.before(e, post)
			e.notes.fail = true // the first notification fails: the record is retried for it

			if failed := e.deliver(message(t, "p1", req, 1)); len(failed) != 1 {
				t.Fatalf("failed %v; want the record back for its notification", failed)
			}
			r := e.reply(caseID, req.IdempotencyKey)
			if r.State != care.ReplyFailed || !strings.Contains(r.Reason, tt.reason) || r.Attempts != 1 {
				t.Fatalf("reply item = %+v; want failed with %q", r.ReplyStatus, tt.reason)
			}
			if l := e.lastOutcome("p1"); l.Outcome != sender.OutcomeFailed || !strings.Contains(l.Reason, tt.reason) {
				t.Errorf("log line = %+v", l)
			}
			calls := e.x.Calls(xapi.EndpointCreatePost)
			for i, id := range []string{"p1", "p2"} {
				if failed := e.deliver(message(t, id, req, 2+i)); len(failed) != 0 {
					t.Errorf("redelivery %s failed: %+v", id, e.lastOutcome(id))
				}
			}
			if alerts := e.notes.list(); len(alerts) != 1 || alerts[0].Kind != care.AlertReplyFailed || !strings.Contains(alerts[0].Summary, tt.reason) {
				t.Errorf("alerts = %+v; want one reply_failed", alerts)
			}
			if n := e.x.Calls(xapi.EndpointCreatePost); n != calls || len(e.posted("post")) != 0 {
				t.Errorf("X called again (%d → %d) or posted", calls, n)
			}
		})
	}
}

func TestInterruptedSend(t *testing.T) {
	e := newEnv(t)
	post, caseID := e.customerPost("@PajaritoAir my flight was cancelled")

	// A sender claimed the reply and stopped (no copy reaches the case).
	lost := agentReply(caseID, post, "draft-lost", "@mariagv_viajes We've rebooked you on PJ125. ^Ana")
	if _, won, err := e.st.ClaimReply(t.Context(), &lost); err != nil || !won {
		t.Fatal(won, err)
	}
	e.clk.Advance(time.Minute)
	e.deliver(message(t, "i1", lost, 1))
	if l := e.lastOutcome("i1"); l.Outcome != sender.OutcomeInFlight {
		t.Fatalf("within the lease: %+v; want in_flight", l)
	}
	if d, _ := e.delays.of("i1"); d < sender.DefaultLease-time.Minute || d > sender.DefaultLease {
		t.Errorf("waits %v; want the rest of the lease (%v)", d, sender.DefaultLease-time.Minute)
	}
	e.clk.Advance(sender.DefaultLease)
	if failed := e.deliver(message(t, "i1", lost, 2)); len(failed) != 0 {
		t.Fatalf("after the lease: failed %+v", e.lastOutcome("i1"))
	}
	if r := e.reply(caseID, lost.IdempotencyKey); r.State != care.ReplyUnknown || !strings.Contains(r.Reason, "check the conversation on X") {
		t.Errorf("reply item = %+v; want unknown", r.ReplyStatus)
	}
	if alerts := e.notes.list(); len(alerts) != 1 || alerts[0].Kind != care.AlertReplyUnknown {
		t.Errorf("alerts = %+v; want one reply_unknown", alerts)
	}
	e.deliver(message(t, "i1", lost, 3))
	if n := e.x.Calls(xapi.EndpointCreatePost); n != 0 || len(e.notes.list()) != 1 {
		t.Errorf("an unknown reply was sent again (%d calls) or notified twice", n)
	}

	// A sender claimed the reply, X created it, the sender stopped; X's webhook
	// delivered the copy, which the processor stored.
	found := agentReply(caseID, post, "draft-found", "@mariagv_viajes Your new boarding pass is in the app & by e-mail. ^Ana")
	if _, won, err := e.st.ClaimReply(t.Context(), &found); err != nil || !won {
		t.Fatal(won, err)
	}
	sent, err := e.client.Reply(t.Context(), post, found.Text)
	if err != nil {
		t.Fatal(err)
	}
	at, _ := care.IDTime(sent.ID)
	copyText := strings.ReplaceAll(found.Text, "&", "&amp;") // as X's payloads escape it
	hook := &care.Envelope{Version: care.EnvelopeVersion, Kind: care.KindMessage, Source: care.SourceXAA, ReceivedAt: e.clk.Now(),
		Message: &care.Message{Channel: care.Public, Direction: care.Outbound, ID: sent.ID, AuthorID: brandID, Text: copyText,
			CreatedAt: at, ConversationID: post, InReplyToID: post, InReplyToUserID: customerID}}
	if _, err := e.st.Append(t.Context(), hook, "sqs-hook"); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(sender.DefaultLease + time.Second)
	if failed := e.deliver(message(t, "i2", found, 2)); len(failed) != 0 {
		t.Fatalf("failed: %+v", e.lastOutcome("i2"))
	}
	r := e.reply(caseID, found.IdempotencyKey)
	if r.State != care.ReplySent || r.XID != sent.ID || e.lastOutcome("i2").Outcome != sender.OutcomeReconciled {
		t.Errorf("reply item = %+v (%s); want sent as %s, reconciled", r.ReplyStatus, e.lastOutcome("i2").Outcome, sent.ID)
	}
	if n := len(e.posted("post")); n != 1 {
		t.Errorf("%d posts; want the one X created, not sent again", n)
	}
	spend, _ := e.st.GetSpend(t.Context(), store.SpendMonth(e.clk.Now()))
	if got := spend.Sources["reply.post"]; got.Pages != 1 {
		t.Errorf("spend counts %d posts; want 1", got.Pages)
	}
}

func TestUncertainSendIsNotRepeated(t *testing.T) {
	e := newEnv(t)
	post, caseID := e.customerPost("@PajaritoAir hello?")
	slow := agentReply(caseID, post, "draft-slow", "@mariagv_viajes Hi María, how can we help? ^Ana")
	// X takes the request and answers too late.
	e.x.Slow(time.Second)
	e.s.X = e.newClient(200 * time.Millisecond)
	if failed := e.deliver(message(t, "u1", slow, 1)); len(failed) != 1 {
		t.Fatalf("failed %v", failed)
	}
	if l := e.lastOutcome("u1"); l.Outcome != sender.OutcomeUncertain {
		t.Fatalf("outcome %+v; want uncertain", l)
	}
	if r := e.reply(caseID, slow.IdempotencyKey); r.State != care.ReplySending {
		t.Errorf("state %s; want the claim kept", r.State)
	}
	e.x.Slow(0)
	calls := e.x.Calls(xapi.EndpointCreatePost)
	e.clk.Advance(sender.DefaultLease + time.Minute)
	e.deliver(message(t, "u1", slow, 2))
	if r := e.reply(caseID, slow.IdempotencyKey); r.State != care.ReplyUnknown || e.x.Calls(xapi.EndpointCreatePost) != calls {
		t.Errorf("after the lease: %+v, %d calls (was %d); want unknown and no new call", r.ReplyStatus, e.x.Calls(xapi.EndpointCreatePost), calls)
	}
}

func TestRetryableErrors(t *testing.T) {
	e := newEnv(t)
	post, caseID := e.customerPost("@PajaritoAir can I bring a guitar on board?")
	req := agentReply(caseID, post, "draft-1", "@mariagv_viajes Yes, as cabin baggage if it fits the sizer. ^Ana")
	e.x.FailNext(1, 503)
	e.deliver(message(t, "r1", req, 1))
	if l := e.lastOutcome("r1"); l.Outcome != sender.OutcomeDelayed || !strings.Contains(l.Reason, "503") {
		t.Fatalf("after a 503: %+v", l)
	}
	if d, _ := e.delays.of("r1"); d < sender.RetryFloor(1) || d > sender.RetryFloor(1)+time.Minute {
		t.Errorf("waits %v after a 503; want %v", d, sender.RetryFloor(1))
	}
	if r := e.reply(caseID, req.IdempotencyKey); r.State != care.ReplyWaiting || r.Attempts != 1 {
		t.Errorf("reply item %+v; want waiting after one attempt", r.ReplyStatus)
	}
	e.clk.Advance(3 * time.Minute)
	e.deliver(message(t, "r1", req, 2))
	if r := e.reply(caseID, req.IdempotencyKey); r.State != care.ReplySent || r.Attempts != 2 || len(e.posted("post")) != 1 {
		t.Errorf("after the retry: %+v", r.ReplyStatus)
	}
}

func TestBadRequests(t *testing.T) {
	e := newEnv(t)
	post, caseID := e.customerPost("@PajaritoAir hi")
	bad := agentReply(caseID, post, "draft-1", "@mariagv_viajes hi ^Ana")
	bad.Author = care.AuthorAuto // an agent reply signed by the protocol
	other := agentReply(caseID, "1234567890", "draft-2", "@mariagv_viajes hi again ^Ana")
	wrongDM := agentDM(caseID, "draft-3", "hi ^Ana")
	wrongDM.RecipientID = "999"

	failed := e.deliver(message(t, "x1", bad, 1), message(t, "x2", other, 1), message(t, "x3", wrongDM, 1),
		eventsMessage("x4", `{"v":1,"text":"no case"}`), eventsMessage("x5", `not json`))
	if !slices.Equal(failed, []string{"x4", "x5"}) {
		t.Errorf("failed %v; want only the unreadable x4 and x5 (to reach the DLQ)", failed)
	}
	for id, want := range map[string]string{"x1": "agent reply needs the agent's id", "x2": "is not a message of case", "x3": "is not the customer"} {
		if l := e.lastOutcome(id); l.Outcome != sender.OutcomeFailed || !strings.Contains(l.Reason, want) {
			t.Errorf("%s: %+v; want failed with %q", id, l, want)
		}
	}
	for _, id := range []string{"x4", "x5"} {
		if l := e.lastOutcome(id); l.Outcome != sender.OutcomeUnreadable {
			t.Errorf("%s: %+v; want unreadable", id, l)
		}
	}
	if n := e.x.Calls(xapi.EndpointCreatePost) + e.x.Calls(xapi.EndpointSendDM); n != 0 {
		t.Errorf("%d calls to X", n)
	}
	if n := len(e.notes.list()); n != 3 {
		t.Errorf("%d alerts; want 3", n)
	}
}

func TestRetryFloorKeepsStormsOutOfTheDLQ(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 2 * time.Minute, 2: 4 * time.Minute, 3: 8 * time.Minute, 4: 15 * time.Minute, 9: 15 * time.Minute} {
		if got := sender.RetryFloor(n); got != want {
			t.Errorf("RetryFloor(%d) = %v; want %v", n, got, want)
		}
	}
	// A 10-minute storm whose resets X reports too early (every 429 says "in a
	// second"): the receives it costs.
	const storm = 10 * time.Minute
	const maxReceiveCount = 5 // infra.MaxReceiveCount
	at, receives := time.Duration(0), 1
	for at < storm {
		at += sender.RetryFloor(receives) // waits at least the floor
		receives++
	}
	if receives > maxReceiveCount {
		t.Errorf("a 10-minute storm costs %d receives; the DLQ takes records after %d", receives, maxReceiveCount)
	}
}

// autoAck returns the automatic acknowledgement of post on case caseID.
func autoAck(caseID, post, text string) care.ReplyRequest {
	return care.ReplyRequest{
		Version: care.ReplyVersion, IdempotencyKey: care.ReplyKey(caseID, post, care.ReplyAutoAck),
		CaseID: caseID, TriggerID: post, Channel: care.Public, InReplyToID: post,
		Text: text, Lang: "es", Kind: care.ReplyAutoAck, Author: care.AuthorAuto,
		Summoned: true, CreatedAt: t0,
	}
}

// TestDuplicateContent: X refuses a text the brand has posted already, even to
// another customer. An automatic reply that others got word for word goes out
// once more with its own reference; an agent's reply, or a retry that may be X
// finding the reply's own earlier post, fails with X's reason as before.
func TestDuplicateContent(t *testing.T) {
	const ack = "Lo sentimos, ya lo estamos revisando. ^Equipo"
	e := newEnv(t)
	post1, case1 := e.customerPost("@PajaritoAir la app no funciona")
	post2, case2 := e.customerPost("@PajaritoAir no puedo pagar en la web")
	first, second := autoAck(case1, post1, ack), autoAck(case2, post2, ack)

	if failed := e.deliver(message(t, "a1", first, 1), message(t, "a2", second, 1)); len(failed) != 0 {
		t.Fatalf("failed %v: %+v %+v", failed, e.lastOutcome("a1"), e.lastOutcome("a2"))
	}
	varied := protocol.Distinct(ack, second.IdempotencyKey)
	var texts []string
	for _, p := range e.posted("post") {
		texts = append(texts, p.Text)
	}
	if len(texts) != 2 || !slices.Contains(texts, ack) || !slices.Contains(texts, varied) || varied == ack {
		t.Fatalf("posted %q; want %q once and %q once", texts, ack, varied)
	}
	// Which of the two went first is the batch's order; the other carries its
	// reference, in the case's conversation too.
	for _, tc := range []struct {
		req care.ReplyRequest
		id  string
	}{{first, "a1"}, {second, "a2"}} {
		r := e.reply(tc.req.CaseID, tc.req.IdempotencyKey)
		if r.State != care.ReplySent || r.Attempts != 1 || !slices.Contains(texts, r.Text) {
			t.Errorf("%s: reply item %+v, want sent at the first attempt with the text posted", tc.id, r.ReplyStatus)
		}
		_, msgs, err := e.st.GetCase(t.Context(), tc.req.CaseID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range msgs {
			if m.Direction == care.Outbound {
				out = append(out, m.Text)
			}
		}
		want := protocol.Distinct(ack, tc.req.IdempotencyKey)
		if l := e.lastOutcome(tc.id); !strings.Contains(l.Reason, "duplicate content") {
			want = ack
		}
		if len(out) != 1 || out[0] != want || r.Text != want {
			t.Errorf("%s: the case shows %q and the reply item %q, want %q", tc.id, out, r.Text, want)
		}
	}
	if alerts := e.notes.list(); len(alerts) != 0 {
		t.Errorf("alerts %+v, want none", alerts)
	}

	// An agent's words are theirs: X's refusal is the agent's to act on.
	post3, case3 := e.customerPost("@PajaritoAir tampoco me deja hacer el check-in")
	agent := agentReply(case3, post3, "draft-1", ack)
	e.deliver(message(t, "g1", agent, 1))
	if r := e.reply(case3, agent.IdempotencyKey); r.State != care.ReplyFailed || !strings.Contains(r.Reason, "duplicate content") {
		t.Errorf("agent's duplicate: %+v, want failed with X's reason", r.ReplyStatus)
	}

	// A retry after X's 503: X may have created the first attempt's post, so a
	// duplicate then is not sent again with a reference.
	post4, case4 := e.customerPost("@PajaritoAir web caída")
	retry := autoAck(case4, post4, ack)
	e.x.FailNext(1, http.StatusServiceUnavailable)
	e.deliver(message(t, "r1", retry, 1))
	e.clk.Advance(time.Hour)
	e.deliver(message(t, "r2", retry, 2))
	if r := e.reply(case4, retry.IdempotencyKey); r.State != care.ReplyFailed || r.Attempts != 2 || !strings.Contains(r.Reason, "duplicate content") {
		t.Errorf("retry's duplicate: %+v, want failed at attempt 2 with X's reason", r.ReplyStatus)
	}
	if n := len(e.posted("post")); n != 2 {
		t.Errorf("%d posts on X, want the 2 acknowledgements only", n)
	}

	// A sender posted an acknowledgement with its reference and stopped before
	// recording it; X's webhook delivered the copy: it settles the reply.
	post5, case5 := e.customerPost("@PajaritoAir sigue sin cargar")
	lost := autoAck(case5, post5, ack)
	if _, won, err := e.st.ClaimReply(t.Context(), &lost); err != nil || !won {
		t.Fatal(won, err)
	}
	sent, err := e.client.Reply(t.Context(), post5, protocol.Distinct(ack, lost.IdempotencyKey))
	if err != nil {
		t.Fatal(err)
	}
	at, _ := care.IDTime(sent.ID)
	hook := &care.Envelope{Version: care.EnvelopeVersion, Kind: care.KindMessage, Source: care.SourceXAA, ReceivedAt: e.clk.Now(),
		Message: &care.Message{Channel: care.Public, Direction: care.Outbound, ID: sent.ID, AuthorID: brandID, Text: sent.Text,
			CreatedAt: at, ConversationID: post5, InReplyToID: post5, InReplyToUserID: customerID}}
	if _, err := e.st.Append(t.Context(), hook, "sqs-hook-5"); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(sender.DefaultLease + time.Second)
	e.deliver(message(t, "l1", lost, 2))
	if r := e.reply(case5, lost.IdempotencyKey); r.State != care.ReplySent || r.XID != sent.ID || e.lastOutcome("l1").Outcome != sender.OutcomeReconciled {
		t.Errorf("interrupted send with a reference: %+v (%s), want reconciled as %s", r.ReplyStatus, e.lastOutcome("l1").Outcome, sent.ID)
	}
}

// TestDuplicateContentRetry: a retry of an automatic reply (after X's 503) that X
// refuses as duplicate content is looked for on X (Finder): X holds the first
// attempt's post after all → that is the reply, nothing more is posted; X holds
// none → it goes out with its reference, once.
func TestDuplicateContentRetry(t *testing.T) {
	const ack = "Lo sentimos, ya lo estamos revisando. ^Equipo"
	tests := []struct {
		name        string
		createdByX  bool // the 503'd attempt created the post
		wantOutcome string
		wantPosts   int // on X, the other customer's acknowledgement included
	}{
		{"X holds no copy", false, sender.OutcomeSent, 2},
		{"X created it despite the 503", true, sender.OutcomeReconciled, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.s.Finder = e.client
			other, otherCase := e.customerPost("@PajaritoAir la app no funciona")
			if failed := e.deliver(message(t, "o1", autoAck(otherCase, other, ack), 1)); len(failed) != 0 {
				t.Fatalf("the other customer's acknowledgement: failed %v", failed)
			}
			post, caseID := e.customerPost("@PajaritoAir web caída")
			retry := autoAck(caseID, post, ack)
			e.x.FailNext(1, http.StatusServiceUnavailable)
			e.deliver(message(t, "r1", retry, 1))
			var first string
			if tt.createdByX {
				// As the 503'd call would have (X refuses the same call now, the
				// text being the other customer's acknowledgement's).
				p := e.x.AddPost(xfake.Post{AuthorID: brandID, Text: ack, InReplyToUserID: customerID,
					ReferencedTweets: []xfake.Ref{{Type: "replied_to", ID: post}}, CreatedAt: e.clk.Now()})
				first = p.ID
			}
			e.clk.Advance(time.Hour)
			e.deliver(message(t, "r2", retry, 2))
			r := e.reply(caseID, retry.IdempotencyKey)
			want := protocol.Distinct(ack, retry.IdempotencyKey)
			if tt.createdByX {
				want = ack
			}
			if r.State != care.ReplySent || r.Attempts != 2 || r.Text != want || e.lastOutcome("r2").Outcome != tt.wantOutcome {
				t.Errorf("reply %+v (%s), want sent at attempt 2 as %q (%s)", r.ReplyStatus, e.lastOutcome("r2").Outcome, want, tt.wantOutcome)
			}
			if tt.createdByX && r.XID != first {
				t.Errorf("recorded as %s, want the post X created, %s", r.XID, first)
			}
			posts := e.posted("post")
			if tt.createdByX {
				posts = append(posts, xfake.Posted{}) // the one put in by hand
			}
			if len(posts) != tt.wantPosts {
				t.Errorf("%d posts on X, want %d", len(posts), tt.wantPosts)
			}
			if alerts := e.notes.list(); len(alerts) != 0 {
				t.Errorf("alerts %+v, want none", alerts)
			}
		})
	}
}

// TestRateLimitWindowSpent: X counts every call in its window, a refusal as
// duplicate content included, and says in each answer how many are left. When
// an answer says none, the sender records the window as a backoff: the next
// reply waits for X's reset instead of calling (and being answered 429), and an
// automatic reply refused as duplicate content is not retried with its
// reference inside the spent window.
func TestRateLimitWindowSpent(t *testing.T) {
	const ack = "Lo sentimos, ya lo estamos revisando. ^Equipo"
	tests := []struct {
		name       string
		remaining  int    // X's window, before the second reply
		secondText string // the second reply's text
		wantCalls  int    // X's create-post calls in all
		wantReason string // why the second reply waits
	}{
		{"the last call of the window", 1, "Gracias por avisarnos, lo revisamos ahora. ^Equipo", 1, "no requests left"},
		{"a duplicate refused with the last call", 2, ack, 2, "rate-limit window is spent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			reset := e.clk.Now().Add(10 * time.Minute)
			e.x.RateLimit(xapi.EndpointCreatePost, 100, tt.remaining, reset)
			post1, case1 := e.customerPost("@PajaritoAir la app no funciona")
			post2, case2 := e.customerPost("@PajaritoAir no puedo pagar en la web")
			first, second := autoAck(case1, post1, ack), autoAck(case2, post2, tt.secondText)
			if failed := e.deliver(message(t, "a1", first, 1)); len(failed) != 0 {
				t.Fatalf("first reply: %+v", e.lastOutcome("a1"))
			}
			e.deliver(message(t, "a2", second, 1))
			if r := e.reply(case1, first.IdempotencyKey); r.State != care.ReplySent {
				t.Errorf("first reply %+v, want sent", r.ReplyStatus)
			}
			r := e.reply(case2, second.IdempotencyKey)
			if r.State != care.ReplyWaiting || !strings.Contains(r.Reason, tt.wantReason) || r.NotBefore == nil || r.NotBefore.Before(reset) {
				t.Errorf("second reply %+v, want waiting until X's reset %s: %s", r.ReplyStatus, reset, tt.wantReason)
			}
			if n := e.x.Calls(xapi.EndpointCreatePost); n != tt.wantCalls {
				t.Errorf("X got %d create-post calls, want %d (none over the window: no 429)", n, tt.wantCalls)
			}
		})
	}
}

// TestAutomaticReplyAudited: an automatic reply that went out is kept in its
// case's audit trail as the system's, once, a redelivery included; an
// agent's reply is not (the agent API keeps it when it is queued).
func TestAutomaticReplyAudited(t *testing.T) {
	e := newEnv(t)
	post, caseID := e.customerPost("@PajaritoAir la app no funciona")
	ack := autoAck(caseID, post, "Lo sentimos, ya lo estamos revisando. ^Equipo")
	agent := agentReply(caseID, post, "draft-1", "@mariagv_viajes We've fixed it, sorry. ^Ana")
	for i := range 2 {
		if failed := e.deliver(message(t, "a1", ack, i+1), message(t, "g1", agent, i+1)); len(failed) != 0 {
			t.Fatalf("failed %v", failed)
		}
	}
	trail, err := e.st.CaseAudit(t.Context(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	r := e.reply(caseID, ack.IdempotencyKey)
	if len(trail) != 1 || trail[0].Actor != care.AuditSystem || trail[0].Action != "auto_reply_sent" ||
		trail[0].Detail["x_id"] != r.XID || trail[0].Detail["kind"] != string(care.ReplyAutoAck) || r.SentAt == nil || !trail[0].At.Equal(*r.SentAt) {
		t.Errorf("the case's trail: %+v; want the automatic reply %s once, as the system's", trail, r.XID)
	}
}
