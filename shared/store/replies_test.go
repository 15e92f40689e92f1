package store

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
)

// replyReq returns a valid public reply request to post inReplyTo of case caseID.
func replyReq(caseID, inReplyTo, trigger string) *care.ReplyRequest {
	return &care.ReplyRequest{
		Version:        care.ReplyVersion,
		IdempotencyKey: care.ReplyKey(caseID, trigger, care.ReplyAutoAck),
		CaseID:         caseID,
		TriggerID:      trigger,
		Channel:        care.Public,
		InReplyToID:    inReplyTo,
		Text:           "@ana_garcia Sorry about this, Ana. We're on it. ^Team",
		Lang:           "en",
		Kind:           care.ReplyAutoAck,
		Author:         care.AuthorAuto,
		TemplateID:     "incident.apology.en",
		Summoned:       true,
		CreatedAt:      t0.Add(time.Minute),
	}
}

func mustReply(t *testing.T, s *Store, caseID, key string) *Reply {
	t.Helper()
	r, err := s.GetReply(t.Context(), caseID, key)
	if err != nil {
		t.Fatal(err)
	}
	if r == nil {
		t.Fatalf("reply %s of case %s: no item", key, caseID)
	}
	return r
}

func TestReplyLifecycle(t *testing.T) {
	s, clk := newStore(t)
	ctx := t.Context()
	req := replyReq("t100", "100", "100")

	if r, err := s.GetReply(ctx, req.CaseID, req.IdempotencyKey); err != nil || r != nil {
		t.Fatalf("GetReply before anything = %+v, %v; want nil, nil", r, err)
	}

	// Waits for the budget, holding a send of a later window.
	slot := SendWindowStart(clk.Now()).Add(SendWindow)
	if ok, err := s.DeferReply(ctx, req, slot.Add(20*time.Second), slot, "budget"); err != nil || !ok {
		t.Fatalf("DeferReply = %v, %v", ok, err)
	}
	r := mustReply(t, s, req.CaseID, req.IdempotencyKey)
	if r.State != care.ReplyWaiting || !r.Slot.Equal(slot) || r.NotBefore == nil || r.Reason != "budget" || r.Text != req.Text {
		t.Fatalf("after DeferReply: %+v", r)
	}

	// First attempt: refused by a 429, released.
	clk.Advance(15 * time.Minute)
	claimed, won, err := s.ClaimReply(ctx, req)
	if err != nil || !won || claimed.Attempts != 1 || claimed.State != care.ReplySending || !claimed.Slot.IsZero() || claimed.NotBefore != nil {
		t.Fatalf("ClaimReply = %+v, %v, %v", claimed, won, err)
	}
	if _, won, err := s.ClaimReply(ctx, req); err != nil || won {
		t.Fatalf("a second ClaimReply while sending = %v, %v; want false", won, err)
	}
	if ok, err := s.ReleaseReply(ctx, req.CaseID, req.IdempotencyKey, 2, clk.Now(), "429"); err != nil || ok {
		t.Fatalf("ReleaseReply of another attempt = %v, %v; want false", ok, err)
	}
	if ok, err := s.ReleaseReply(ctx, req.CaseID, req.IdempotencyKey, 1, clk.Now().Add(time.Minute), "429"); err != nil || !ok {
		t.Fatalf("ReleaseReply = %v, %v", ok, err)
	}

	// Second attempt: sent.
	claimed, won, err = s.ClaimReply(ctx, req)
	if err != nil || !won || claimed.Attempts != 2 || claimed.Reason != "" {
		t.Fatalf("second ClaimReply = %+v, %v, %v", claimed, won, err)
	}
	sentAt := clk.Now().Add(-time.Second)
	if ok, err := s.FinishReply(ctx, req, 1, ReplyOutcome{State: care.ReplySent, XID: "200"}); err != nil || ok {
		t.Fatalf("FinishReply of a past attempt = %v, %v; want false", ok, err)
	}
	if ok, err := s.FinishReply(ctx, req, 2, ReplyOutcome{State: care.ReplySent, XID: "200", CostUSD: 0.01, SentAt: sentAt}); err != nil || !ok {
		t.Fatalf("FinishReply = %v, %v", ok, err)
	}
	r = mustReply(t, s, req.CaseID, req.IdempotencyKey)
	if r.State != care.ReplySent || r.XID != "200" || r.Attempts != 2 || r.CostUSD != 0.01 || r.SentAt == nil || !r.SentAt.Equal(sentAt) {
		t.Fatalf("after FinishReply: %+v", r)
	}
	// Nothing moves a sent reply.
	if _, won, _ := s.ClaimReply(ctx, req); won {
		t.Error("ClaimReply claimed a sent reply")
	}
	if ok, _ := s.DeferReply(ctx, req, clk.Now(), time.Time{}, "x"); ok {
		t.Error("DeferReply moved a sent reply")
	}
	if ok, _ := s.FinishReply(ctx, req, 0, ReplyOutcome{State: care.ReplyFailed, Reason: "x"}); ok {
		t.Error("FinishReply(attempt 0) failed a sent reply")
	}
}

func TestFinishReplyChecks(t *testing.T) {
	s, _ := newStore(t)
	req := replyReq("t100", "100", "100")
	for name, tc := range map[string]struct {
		attempt int
		o       ReplyOutcome
	}{
		"sent without id":         {1, ReplyOutcome{State: care.ReplySent}},
		"sent without an attempt": {0, ReplyOutcome{State: care.ReplySent, XID: "1"}},
		"not an end":              {1, ReplyOutcome{State: care.ReplyWaiting}},
		"negative attempt":        {-1, ReplyOutcome{State: care.ReplyFailed}},
	} {
		if _, err := s.FinishReply(t.Context(), req, tc.attempt, tc.o); err == nil {
			t.Errorf("%s: FinishReply accepted it", name)
		}
	}
	if _, _, err := s.ClaimReply(t.Context(), &care.ReplyRequest{CaseID: "t1"}); err == nil {
		t.Error("ClaimReply accepted a request without a key")
	}
}

func TestRejectAndUnknownReplies(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	bad := replyReq("t100", "100", "101")
	if ok, err := s.FinishReply(ctx, bad, 0, ReplyOutcome{State: care.ReplyFailed, Reason: "lint"}); err != nil || !ok {
		t.Fatalf("FinishReply(failed, 0) = %v, %v", ok, err)
	}
	if r := mustReply(t, s, bad.CaseID, bad.IdempotencyKey); r.State != care.ReplyFailed || r.Reason != "lint" || r.Attempts != 0 {
		t.Errorf("failed reply = %+v", r)
	}

	// An interrupted attempt: unknown, then X's copy turns up.
	req := replyReq("t100", "100", "102")
	if _, won, err := s.ClaimReply(ctx, req); err != nil || !won {
		t.Fatal(won, err)
	}
	if ok, err := s.FinishReply(ctx, req, 1, ReplyOutcome{State: care.ReplyUnknown, Reason: "interrupted"}); err != nil || !ok {
		t.Fatalf("FinishReply(unknown) = %v, %v", ok, err)
	}
	if ok, err := s.FinishReply(ctx, req, 1, ReplyOutcome{State: care.ReplySent, XID: "300"}); err != nil || !ok {
		t.Fatalf("FinishReply(sent) after unknown = %v, %v", ok, err)
	}
	if r := mustReply(t, s, req.CaseID, req.IdempotencyKey); r.State != care.ReplySent || r.XID != "300" || r.Reason != "" {
		t.Errorf("reconciled reply = %+v", r)
	}

	// Tasks are claimed once, and can be given back.
	for i, want := range []bool{true, false} {
		if won, err := s.ClaimReplyTask(ctx, req.CaseID, req.IdempotencyKey, TaskNotify); err != nil || won != want {
			t.Fatalf("ClaimReplyTask #%d = %v, %v; want %v", i+1, won, err, want)
		}
	}
	if err := s.ReleaseReplyTask(ctx, req.CaseID, req.IdempotencyKey, TaskNotify); err != nil {
		t.Fatal(err)
	}
	if won, err := s.ClaimReplyTask(ctx, req.CaseID, req.IdempotencyKey, TaskNotify); err != nil || !won {
		t.Fatalf("ClaimReplyTask after release = %v, %v", won, err)
	}
	if r := mustReply(t, s, req.CaseID, req.IdempotencyKey); r.NotifiedAt == nil || r.SpendAt != nil {
		t.Errorf("tasks = notified %v, spend %v", r.NotifiedAt, r.SpendAt)
	}
	if won, err := s.ClaimReplyTask(ctx, "t100", "no-such-key", TaskSpend); err != nil || won {
		t.Errorf("ClaimReplyTask of a missing reply = %v, %v; want false", won, err)
	}
}

func TestClaimReplyConcurrently(t *testing.T) {
	s, _ := newStore(t)
	req := replyReq("t100", "100", "100")
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, won, err := s.ClaimReply(t.Context(), req)
			if err != nil {
				t.Error(err)
			}
			if won {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d concurrent claims won; want 1", wins.Load())
	}
	if r := mustReply(t, s, req.CaseID, req.IdempotencyKey); r.Attempts != 1 {
		t.Errorf("attempts = %d; want 1", r.Attempts)
	}
}

func TestListReplies(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	var keys []string
	for i, trigger := range []string{"300", "100", "200"} {
		req := replyReq("t100", "100", trigger)
		req.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
		keys = append(keys, req.IdempotencyKey)
		if _, _, err := s.ClaimReply(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	other := replyReq("t999", "999", "999")
	if _, _, err := s.ClaimReply(ctx, other); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListReplies(ctx, "t100")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("ListReplies = %d replies; want 3", len(got))
	}
	for i, r := range got {
		if r.Key != keys[i] || r.State != care.ReplySending || r.Kind != care.ReplyAutoAck || r.Channel != care.Public || r.Author != care.AuthorAuto || r.SendingAt == nil {
			t.Errorf("reply %d = %+v; want key %s, sending", i, r, keys[i])
		}
	}
	if none, err := s.ListReplies(ctx, "t404"); err != nil || len(none) != 0 {
		t.Errorf("ListReplies of a case without replies = %v, %v", none, err)
	}
}

func TestReserveSend(t *testing.T) {
	s, clk := newStore(t)
	ctx := t.Context()
	now := clk.Now().Add(7 * time.Minute)
	w0 := SendWindowStart(now)
	const limit = 3

	var mu sync.Mutex
	got := map[time.Time]int{}
	var wg sync.WaitGroup
	for range 2*limit + 1 {
		wg.Go(func() {
			w, ok, err := s.ReserveSend(ctx, "dm", now, limit, 4)
			if err != nil || !ok {
				t.Errorf("ReserveSend = %v, %v, %v", w, ok, err)
				return
			}
			mu.Lock()
			got[w]++
			mu.Unlock()
		})
	}
	wg.Wait()
	want := map[time.Time]int{w0: limit, w0.Add(SendWindow): limit, w0.Add(2 * SendWindow): 1}
	if len(got) != len(want) {
		t.Errorf("reservations by window = %v; want %v", got, want)
	}
	for w, n := range want {
		if got[w] != n {
			t.Errorf("window %s: %d reservations; want %d", w, got[w], n)
		}
		if sends, err := s.SendsIn(ctx, "dm", w); err != nil || sends != n {
			t.Errorf("SendsIn(%s) = %d, %v; want %d", w, sends, err, n)
		}
	}
	// Other kinds have their own budget; a full horizon says so.
	if w, ok, err := s.ReserveSend(ctx, "post", now, limit, 1); err != nil || !ok || !w.Equal(w0) {
		t.Errorf("ReserveSend(post) = %v, %v, %v; want %v", w, ok, err, w0)
	}
	if _, ok, err := s.ReserveSend(ctx, "dm", now, limit, 2); err != nil || ok {
		t.Errorf("ReserveSend over two full windows = %v, %v; want not ok", ok, err)
	}
	if _, _, err := s.ReserveSend(ctx, "dm", now, 0, 2); err == nil {
		t.Error("ReserveSend accepted a limit of 0")
	}
}

// brandReply is the brand's reply xid to post replyTo, as the sender records it.
func brandReply(xid, conv, replyTo string, at time.Time) *care.Envelope {
	env := reply(xid, conv, replyTo, at)
	env.Source = care.SourceReply
	return env
}

func TestAppendOutbound(t *testing.T) {
	s, clk := newStore(t)
	ctx := t.Context()
	in := mustAppend(t, s, post("100", "100", "", t0), "sqs-1")
	if in.Case.Status != care.Open {
		t.Fatalf("case status %s; want open", in.Case.Status)
	}

	sentAt := t0.Add(3 * time.Minute)
	res, err := s.AppendOutbound(ctx, in.CaseID, brandReply("200", "100", "100", sentAt), "reply#k1")
	if err != nil || !res.Stored() {
		t.Fatalf("AppendOutbound = %+v, %v", res, err)
	}
	c, msgs := mustGet(t, s, in.CaseID)
	switch {
	case c.MessagesOut != 1 || c.MessagesIn != 1:
		t.Errorf("counters in %d out %d; want 1 and 1", c.MessagesIn, c.MessagesOut)
	case c.FirstResponseAt == nil || !c.FirstResponseAt.Equal(sentAt):
		t.Errorf("first response at %v; want %v", c.FirstResponseAt, sentAt)
	case c.Status != care.Pending:
		t.Errorf("status %s; want pending", c.Status)
	case len(msgs) != 2 || msgs[1].ID != "200" || msgs[1].Direction != care.Outbound || msgs[1].Source != care.SourceReply:
		t.Errorf("messages = %+v", msgs)
	}

	// The same post delivered back by X's webhook is a duplicate, and so is the
	// sender's redelivery.
	clk.Advance(time.Minute)
	hook := reply("200", "100", "100", sentAt)
	hook.Source = care.SourceXAA
	if res := mustAppend(t, s, hook, "sqs-2"); !res.Duplicate || res.CaseID != in.CaseID {
		t.Errorf("webhook copy: %+v; want a duplicate in %s", res, in.CaseID)
	}
	if res, err := s.AppendOutbound(ctx, in.CaseID, brandReply("200", "100", "100", sentAt), "reply#k1"); err != nil || !res.Duplicate {
		t.Errorf("second AppendOutbound = %+v, %v; want a duplicate", res, err)
	}
	if c, _ := mustGet(t, s, in.CaseID); c.MessagesOut != 1 {
		t.Errorf("messages out %d after duplicates; want 1", c.MessagesOut)
	}

	// The webhook's copy arriving first: the sender's append is a duplicate.
	second := mustAppend(t, s, reply("201", "100", "100", sentAt.Add(time.Minute)), "sqs-3")
	if !second.Stored() {
		t.Fatalf("webhook reply not stored: %+v", second)
	}
	if res, err := s.AppendOutbound(ctx, in.CaseID, brandReply("201", "100", "100", sentAt.Add(time.Minute)), "reply#k2"); err != nil || !res.Duplicate {
		t.Errorf("AppendOutbound after the webhook copy = %+v, %v; want a duplicate", res, err)
	}
	if c, _ := mustGet(t, s, in.CaseID); c.MessagesOut != 2 || !c.FirstResponseAt.Equal(sentAt) {
		t.Errorf("messages out %d, first response %v; want 2, %v", c.MessagesOut, c.FirstResponseAt, sentAt)
	}
}

func TestAppendOutboundErrors(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	if _, err := s.AppendOutbound(ctx, "t404", brandReply("200", "100", "100", t0), "d"); !errors.Is(err, ErrNotFound) {
		t.Errorf("AppendOutbound to a missing case: %v; want ErrNotFound", err)
	}
	if _, err := s.AppendOutbound(ctx, "t100", post("100", "100", "", t0), "d"); err == nil {
		t.Error("AppendOutbound accepted an inbound message")
	}
	if _, err := s.AppendOutbound(ctx, "", brandReply("200", "100", "100", t0), "d"); err == nil {
		t.Error("AppendOutbound accepted an empty case id")
	}
}

// TestFinishReplyClaimsSpend: a reply finished as sent with ClaimSpend holds its
// spend task (no claim of its own needed); given back, a redelivery claims it.
func TestFinishReplyClaimsSpend(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	req := replyReq("t200", "200", "202")
	if _, won, err := s.ClaimReply(ctx, req); err != nil || !won {
		t.Fatal(won, err)
	}
	if ok, err := s.FinishReply(ctx, req, 1, ReplyOutcome{State: care.ReplySent, XID: "301", CostUSD: 0.015, ClaimSpend: true}); err != nil || !ok {
		t.Fatalf("FinishReply(sent) = %v, %v", ok, err)
	}
	if r := mustReply(t, s, req.CaseID, req.IdempotencyKey); r.State != care.ReplySent || r.SpendAt == nil {
		t.Fatalf("finished reply = %+v, spend claimed %v", r.ReplyStatus, r.SpendAt)
	}
	if won, err := s.ClaimReplyTask(ctx, req.CaseID, req.IdempotencyKey, TaskSpend); err != nil || won {
		t.Fatalf("ClaimReplyTask(spend) after the finish claimed it = %v, %v; want false", won, err)
	}
	if err := s.ReleaseReplyTask(ctx, req.CaseID, req.IdempotencyKey, TaskSpend); err != nil {
		t.Fatal(err)
	}
	if won, err := s.ClaimReplyTask(ctx, req.CaseID, req.IdempotencyKey, TaskSpend); err != nil || !won {
		t.Fatalf("ClaimReplyTask(spend) after release = %v, %v; want true", won, err)
	}
}
