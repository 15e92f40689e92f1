package sender_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/xfake"
	"github.com/pajarito-care/pajarito/shared/sender"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

// interruption is a reply request on a case of its channel, whose send the test
// interrupts.
type interruption struct {
	req  care.ReplyRequest
	kind string // what X posts for it: "post" or "dm"
	read string // the endpoint that finds it on X
}

// interrupted makes a public reply (channel care.Public) or a DM to the customer
// with text, on a new case, and claims it as a sender that stops while calling
// X would.
func (e *env) interrupted(channel care.Channel, draft, text string) interruption {
	e.t.Helper()
	var in interruption
	if channel == care.DM {
		in = interruption{req: agentDM(e.customerDM("Hi, my flight PJ124 was cancelled"), draft, text), kind: "dm", read: xapi.EndpointDMEvents}
	} else {
		post, caseID := e.customerPost("@PajaritoAir my flight PJ124 was cancelled")
		in = interruption{req: agentReply(caseID, post, draft, text), kind: "post", read: xapi.EndpointUserPosts}
	}
	if _, won, err := e.st.ClaimReply(e.t.Context(), &in.req); err != nil || !won {
		e.t.Fatalf("claim: %v, %v", won, err)
	}
	return in
}

// xCreates makes X create the interrupted reply with text, as the stopped sender's
// call did, and returns X's id; its copy does not reach the case.
func (e *env) xCreates(in interruption, text string) string {
	e.t.Helper()
	if in.req.Channel == care.DM {
		sent, err := e.client.SendDM(e.t.Context(), in.req.RecipientID, text)
		if err != nil {
			e.t.Fatal(err)
		}
		return sent.ID
	}
	sent, err := e.client.Reply(e.t.Context(), in.req.InReplyToID, text)
	if err != nil {
		e.t.Fatal(err)
	}
	return sent.ID
}

// caseHas reports whether the case holds the outbound message id.
func (e *env) caseHas(caseID, id string) bool {
	e.t.Helper()
	_, msgs, err := e.st.GetCase(e.t.Context(), caseID)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range msgs {
		if m.ID == id && m.Direction == care.Outbound {
			return true
		}
	}
	return false
}

var channels = []care.Channel{care.Public, care.DM}

// TestInterruptedSendFoundOnX: X created the reply but its copy never reached the
// case (the local system has no webhook of the brand's own replies): the Finder
// finds it on X and it is recorded sent, not posted again.
func TestInterruptedSendFoundOnX(t *testing.T) {
	for _, ch := range channels {
		t.Run(string(ch), func(t *testing.T) {
			e := newEnv(t)
			e.s.Finder = e.client
			in := e.interrupted(ch, "draft-1", "@mariagv_viajes We've rebooked you on PJ125 & sent the boarding pass. ^Ana")
			e.clk.Advance(time.Minute)
			xid := e.xCreates(in, in.req.Text)
			if ch == care.Public {
				// The brand's later post of the same text (but for the mentions X
				// refuses as duplicate), answering another post, is not its copy.
				other, _ := e.customerPost("@PajaritoAir me too, PJ124")
				if _, err := e.client.Reply(t.Context(), other, "@mariagv_viajes "+in.req.Text); err != nil {
					t.Fatal(err)
				}
			}
			e.clk.Advance(sender.DefaultLease)
			if failed := e.deliver(message(t, "f1", in.req, 2)); len(failed) != 0 {
				t.Fatalf("failed: %+v", e.lastOutcome("f1"))
			}
			l := e.lastOutcome("f1")
			if l.Outcome != sender.OutcomeReconciled || l.XID != xid || !strings.Contains(l.Reason, "found on X") {
				t.Errorf("logged %+v; want reconciled as %s, found on X", l, xid)
			}
			r := e.reply(in.req.CaseID, in.req.IdempotencyKey)
			if r.State != care.ReplySent || r.XID != xid || r.Attempts != 1 {
				t.Errorf("reply item = %+v; want sent as %s by attempt 1", r.ReplyStatus, xid)
			}
			if !e.caseHas(in.req.CaseID, xid) {
				t.Errorf("the case lacks X's copy %s", xid)
			}
			want := 1
			if ch == care.Public {
				want = 2 // and the other customer's
			}
			if n := len(e.posted(in.kind)); n != want || e.x.Calls(in.read) == 0 {
				t.Errorf("%d %ss on X (want %d: not sent again), %d reads of %s", n, in.kind, want, e.x.Calls(in.read), in.read)
			}
			if len(e.notes.list()) != 0 {
				t.Errorf("alerts %+v; want none", e.notes.list())
			}
		})
	}
}

// TestInterruptedSendMissingOnX: X answered that it holds no copy: the
// interrupted attempt never created it, and it is sent, once.
func TestInterruptedSendMissingOnX(t *testing.T) {
	for _, ch := range channels {
		t.Run(string(ch), func(t *testing.T) {
			e := newEnv(t)
			e.s.Finder = e.client
			in := e.interrupted(ch, "draft-1", "@mariagv_viajes We've rebooked you on PJ125. ^Ana")
			e.clk.Advance(sender.DefaultLease + time.Second)
			if failed := e.deliver(message(t, "m1", in.req, 2)); len(failed) != 0 {
				t.Fatalf("failed: %+v", e.lastOutcome("m1"))
			}
			sent := e.posted(in.kind)
			if len(sent) != 1 || e.x.Calls(in.read) == 0 {
				t.Fatalf("X got %+v after %d reads of %s; want the reply once", e.x.Posted(), e.x.Calls(in.read), in.read)
			}
			l := e.lastOutcome("m1")
			if l.Outcome != sender.OutcomeSent || l.XID != sent[0].ID || !strings.Contains(l.Reason, "interrupted before X created it") || !strings.Contains(l.Reason, "sent again") {
				t.Errorf("logged %+v; want sent as %s, interrupted before X created it, sent again", l, sent[0].ID)
			}
			r := e.reply(in.req.CaseID, in.req.IdempotencyKey)
			if r.State != care.ReplySent || r.XID != sent[0].ID || r.Attempts != 2 {
				t.Errorf("reply item = %+v; want sent as %s by attempt 2", r.ReplyStatus, sent[0].ID)
			}
			if !e.caseHas(in.req.CaseID, sent[0].ID) {
				t.Errorf("the case lacks the reply %s", sent[0].ID)
			}
			// A redelivery changes nothing.
			e.deliver(message(t, "m1", in.req, 3))
			if n := len(e.posted(in.kind)); n != 1 || e.lastOutcome("m1").Outcome != sender.OutcomeAlreadySent {
				t.Errorf("after a redelivery: %d %ss, %+v", n, in.kind, e.lastOutcome("m1"))
			}
		})
	}
}

// TestInterruptedSendReadFails: while X's reads fail, the record waits and reads
// again; on its 4th receive (or at once after an error not worth retrying) the
// reply is marked unknown for the team, and nothing is sent without X's answer.
func TestInterruptedSendReadFails(t *testing.T) {
	tests := []struct {
		name   string
		ch     care.Channel
		status int
		fails  int             // reads that fail
		waits  int             // receives that wait
		want   care.ReplyState // the reply's state at the end
	}{
		{"public 429", care.Public, http.StatusTooManyRequests, 10, 2, care.ReplyUnknown},
		{"public 503", care.Public, http.StatusServiceUnavailable, 10, 2, care.ReplyUnknown},
		{"DM 500", care.DM, http.StatusInternalServerError, 10, 2, care.ReplyUnknown},
		{"DM 429", care.DM, http.StatusTooManyRequests, 10, 2, care.ReplyUnknown},
		{"public 403", care.Public, http.StatusForbidden, 1, 0, care.ReplyUnknown},
		{"public 503 once", care.Public, http.StatusServiceUnavailable, 1, 1, care.ReplySent},
		{"DM 503 twice", care.DM, http.StatusServiceUnavailable, 2, 2, care.ReplySent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.s.Finder = e.client
			in := e.interrupted(tt.ch, "draft-1", "@mariagv_viajes We've rebooked you on PJ125. ^Ana")
			e.clk.Advance(sender.DefaultLease + time.Second)
			e.x.FailNext(tt.fails, tt.status)
			floor := func(int) time.Duration { return 0 }
			if tt.status == http.StatusTooManyRequests {
				// X's reset, later than the retry floor, is waited for.
				reset := e.clk.Now().Add(12 * time.Minute)
				e.x.RateLimit(in.read, 300, 300, reset)
				floor = func(receive int) time.Duration {
					if receive == 2 {
						return reset.Sub(e.clk.Now())
					}
					return 0
				}
			}
			receive := 2 // the first ended with the stopped sender
			for range tt.waits {
				if failed := e.deliver(message(t, "w1", in.req, receive)); len(failed) != 1 {
					t.Fatalf("receive %d: not failed: %+v", receive, e.lastOutcome("w1"))
				}
				l := e.lastOutcome("w1")
				if l.Outcome != sender.OutcomeRetry || !strings.Contains(l.Reason, "looking for it on X failed") {
					t.Errorf("receive %d: logged %+v; want retry, the read failed", receive, l)
				}
				d, _ := e.delays.of("w1")
				if least := max(sender.RetryFloor(receive), floor(receive)); d < least || d > 16*time.Minute {
					t.Errorf("receive %d: waits %v; want at least %v", receive, d, least)
				}
				if r := e.reply(in.req.CaseID, in.req.IdempotencyKey); r.State != care.ReplySending {
					t.Errorf("receive %d: state %s; want the claim kept", receive, r.State)
				}
				e.clk.Advance(d)
				receive++
			}
			e.deliver(message(t, "w1", in.req, receive))
			r := e.reply(in.req.CaseID, in.req.IdempotencyKey)
			if r.State != tt.want {
				t.Fatalf("receive %d: state %s (%+v); want %s", receive, r.State, e.lastOutcome("w1"), tt.want)
			}
			posted := len(e.posted(in.kind))
			alerts := e.notes.list()
			if tt.want == care.ReplyUnknown {
				if posted != 0 || len(alerts) != 1 || alerts[0].Kind != care.AlertReplyUnknown || !strings.Contains(r.Reason, "check the conversation on X") {
					t.Errorf("%d sent, alerts %+v, reason %q; want nothing sent and one reply_unknown", posted, alerts, r.Reason)
				}
			} else if posted != 1 || len(alerts) != 0 {
				t.Errorf("%d sent, alerts %+v; want the reply sent once", posted, alerts)
			}
		})
	}
}

// TestEpoch: a claim made before the sender's Epoch belongs to a process that is
// gone and is settled at once; without Epoch, or for a claim made since, the
// lease is waited as before.
func TestEpoch(t *testing.T) {
	tests := []struct {
		name  string
		epoch time.Duration // after the claim; 0: none
		found bool          // X holds the reply
		want  string        // the outcome of the delivery a minute after the claim
	}{
		{"after the claim, on X", time.Second, true, sender.OutcomeReconciled},
		{"after the claim, missing", time.Second, false, sender.OutcomeSent},
		{"zero", 0, false, sender.OutcomeInFlight},
		{"before the claim", -time.Second, false, sender.OutcomeInFlight},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.s.Finder = e.client
			in := e.interrupted(care.Public, "draft-1", "@mariagv_viajes We've rebooked you on PJ125. ^Ana")
			if tt.epoch != 0 {
				e.s.Epoch = e.clk.Now().Add(tt.epoch)
			}
			if tt.found {
				e.xCreates(in, in.req.Text)
			}
			e.clk.Advance(time.Minute)
			e.deliver(message(t, "e1", in.req, 2))
			l := e.lastOutcome("e1")
			if l.Outcome != tt.want {
				t.Fatalf("logged %+v; want %s", l, tt.want)
			}
			if n := len(e.posted("post")); n != 1 && tt.want != sender.OutcomeInFlight || n != 0 && !tt.found && tt.want == sender.OutcomeInFlight {
				t.Errorf("%d posts on X; want one when settled", n)
			}
			if tt.want != sender.OutcomeInFlight {
				return
			}
			// Waits the rest of the lease, then settles it.
			if d, _ := e.delays.of("e1"); d < sender.DefaultLease-time.Minute || d > sender.DefaultLease {
				t.Errorf("waits %v; want the rest of the lease (%v)", d, sender.DefaultLease-time.Minute)
			}
			e.clk.Advance(sender.DefaultLease)
			e.deliver(message(t, "e1", in.req, 3))
			if l := e.lastOutcome("e1"); l.Outcome != sender.OutcomeSent || len(e.posted("post")) != 1 {
				t.Errorf("after the lease: %+v, %d posts; want sent once", l, len(e.posted("post")))
			}
		})
	}
}

// TestInterruptedSendPages: the brand's posts on X are read from the attempt's
// start, at most 3 pages of 100; when the copy could lie beyond them, X's answer
// is not taken as "no copy".
func TestInterruptedSendPages(t *testing.T) {
	tests := []struct {
		name         string
		older, newer int // the brand's other posts, before the attempt and since
		want         care.ReplyState
	}{
		{"older posts are not read", 400, 0, care.ReplySent},
		{"3 pages", 0, 250, care.ReplySent},
		{"more than 3 pages", 0, 301, care.ReplyUnknown},
	}
	brandPosts := func(e *env, n int) {
		for i := range n {
			e.x.AddPost(xfake.Post{AuthorID: brandID, Text: fmt.Sprintf("Our summer timetable, part %d", i), Lang: "en"})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.s.Finder = e.client
			e.clk.Advance(-time.Hour)
			brandPosts(e, tt.older)
			e.clk.Advance(time.Hour)
			in := e.interrupted(care.Public, "draft-1", "@mariagv_viajes We've rebooked you on PJ125. ^Ana")
			e.clk.Advance(time.Minute)
			brandPosts(e, tt.newer)
			e.clk.Advance(sender.DefaultLease)
			e.deliver(message(t, "p1", in.req, 2))
			if r := e.reply(in.req.CaseID, in.req.IdempotencyKey); r.State != tt.want {
				t.Fatalf("state %s (%+v); want %s", r.State, e.lastOutcome("p1"), tt.want)
			}
			if n, want := e.x.Calls(xapi.EndpointUserPosts), min(1+tt.newer/100, 3); n != want {
				t.Errorf("%d reads of X; want %d", n, want)
			}
			want := 0
			if tt.want == care.ReplySent {
				want = 1
			}
			if n := len(e.posted("post")); n != want {
				t.Errorf("%d posts; want %d", n, want)
			}
		})
	}
}
