package store

import (
	"sync"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
)

// answerText sets the text of a DM envelope.
func answerText(env *care.Envelope, text string) *care.Envelope {
	env.Message.Text = text
	return env
}

func mustResolve(t *testing.T, s *Store, caseID string, at time.Time) *care.Case {
	t.Helper()
	c, err := s.SetStatus(t.Context(), caseID, care.Resolved, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Reopens counts both ways a resolved case goes back to open: an inbound message
// (Append) and an agent (SetStatus); a reply, a pending case answered by the
// customer and a status set twice do not count.
func TestReopens(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	root := xid(300)
	caseID := "t" + root
	mustAppend(t, s, post(root, root, "", t0), "")
	mustAppend(t, s, reply(xid(301), root, root, t0.Add(time.Minute)), "") // pending
	mustAppend(t, s, post(xid(302), root, xid(301), t0.Add(2*time.Minute)), "")
	mustResolve(t, s, caseID, t0.Add(time.Hour))

	res := mustAppend(t, s, post(xid(303), root, root, t0.Add(2*time.Hour)), "")
	if res.Case.Status != care.Open || res.Case.Reopens != 1 || res.Case.ResolvedAt != nil {
		t.Fatalf("after an inbound message: status %s, reopens %d, resolved at %v; want open, 1, nil", res.Case.Status, res.Case.Reopens, res.Case.ResolvedAt)
	}
	if res.WriteUnits != 5 {
		t.Errorf("a message reopening a case cost %v write units, want 5 (claim, case, index key change, message)", res.WriteUnits)
	}
	// The next message removes the reopen mark and costs what it did before.
	res = mustAppend(t, s, post(xid(304), root, root, t0.Add(2*time.Hour+time.Minute)), "")
	if res.WriteUnits != 3 {
		t.Errorf("a message to a reopened open case cost %v write units, want 3", res.WriteUnits)
	}
	if item, _ := s.get(ctx, caseKey(caseID)); item["reopened_from"] != nil {
		t.Error("reopened_from survived the next message")
	}

	mustResolve(t, s, caseID, t0.Add(3*time.Hour))
	mustResolve(t, s, caseID, t0.Add(3*time.Hour)) // twice: no change
	c, err := s.SetStatus(ctx, caseID, care.Open, t0.Add(4*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if c.Reopens != 2 {
		t.Errorf("after an agent's reopen: reopens %d, want 2", c.Reopens)
	}
	if c, err = s.SetStatus(ctx, caseID, care.Pending, t0.Add(5*time.Hour)); err != nil || c.Reopens != 2 {
		t.Errorf("open → pending: reopens %d, %v; want 2", c.Reopens, err)
	}
	if c, err = s.SetStatus(ctx, caseID, care.Open, t0.Add(6*time.Hour)); err != nil || c.Reopens != 2 {
		t.Errorf("pending → open: reopens %d, %v; want 2 (only resolved → open counts)", c.Reopens, err)
	}
	if got, _ := mustGet(t, s, caseID); got.Reopens != 2 {
		t.Errorf("stored reopens %d, want 2", got.Reopens)
	}
}

// Every resolution is due once; DueSurveys returns the unhandled ones of its range,
// oldest first, and a repeated resolve does not make a handled item due again.
func TestDueSurveys(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	var ids []string
	for i := range 4 {
		ids = append(ids, mustAppend(t, s, dm(xid(310+i), customer[:len(customer)-1]+string(rune('0'+i)), true, t0), "").CaseID)
	}
	resolved := []time.Time{t0.Add(3 * time.Hour), t0.Add(time.Hour), t0.Add(2 * time.Hour), t0.Add(10 * time.Hour)}
	for i, id := range ids {
		mustResolve(t, s, id, resolved[i])
	}
	due, err := s.DueSurveys(ctx, t0, t0.Add(5*time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []DueSurvey{{ids[1], resolved[1]}, {ids[2], resolved[2]}, {ids[0], resolved[0]}}
	if !sameDue(due, want) {
		t.Fatalf("DueSurveys = %+v, want %+v", due, want)
	}
	if due, _ := s.DueSurveys(ctx, t0, t0.Add(5*time.Hour), 2); len(due) != 2 {
		t.Errorf("limit 2 returned %d", len(due))
	}
	if err := s.FinishDueSurvey(ctx, want[0], "sent", t0.Add(6*time.Hour)); err != nil {
		t.Fatal(err)
	}
	mustResolve(t, s, ids[1], t0.Add(7*time.Hour)) // resolved already: the same resolution
	due, err = s.DueSurveys(ctx, t0, t0.Add(5*time.Hour), 10)
	if err != nil || !sameDue(due, want[1:]) {
		t.Errorf("after finishing one: %+v, %v; want %+v", due, err, want[1:])
	}
	// Reopened and resolved again: a new resolution, due on its own.
	if _, err := s.SetStatus(ctx, ids[0], care.Open, t0.Add(11*time.Hour)); err != nil {
		t.Fatal(err)
	}
	mustResolve(t, s, ids[0], t0.Add(12*time.Hour))
	due, err = s.DueSurveys(ctx, t0.Add(5*time.Hour), t0.Add(13*time.Hour), 10)
	if w := []DueSurvey{{ids[3], resolved[3]}, {ids[0], t0.Add(12 * time.Hour)}}; err != nil || !sameDue(due, w) {
		t.Errorf("later range: %+v, %v; want %+v", due, err, w)
	}
}

func sameDue(got, want []DueSurvey) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].CaseID != want[i].CaseID || !got[i].ResolvedAt.Equal(want[i].ResolvedAt) {
			return false
		}
	}
	return true
}

// Of concurrent markers exactly one sends the survey; none on a case reopened
// since the resolution the survey is about.
func TestMarkSurveySent(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	id := mustAppend(t, s, dm(xid(320), customer, true, t0), "").CaseID
	resolvedAt := t0.Add(time.Hour)
	mustResolve(t, s, id, resolvedAt)

	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 8 {
		wg.Go(func() {
			ok, err := s.MarkSurveySent(ctx, id, resolvedAt, t0.Add(2*time.Hour))
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if won != 1 {
		t.Errorf("%d concurrent markers won, want 1", won)
	}
	if c, _ := mustGet(t, s, id); c.SurveySentAt == nil || !c.SurveySentAt.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("survey_sent_at = %v", c.SurveySentAt)
	}

	other := mustAppend(t, s, dm(xid(321), "2900000000000000077", true, t0), "").CaseID
	mustResolve(t, s, other, resolvedAt)
	if _, err := s.SetStatus(ctx, other, care.Open, t0.Add(90*time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{resolvedAt, t0.Add(90 * time.Minute)} {
		if ok, err := s.MarkSurveySent(ctx, other, at, t0.Add(2*time.Hour)); ok || err != nil {
			t.Errorf("reopened case marked (resolved at %v): %v, %v", at, ok, err)
		}
	}
	if ok, err := s.MarkSurveySent(ctx, "d404", resolvedAt, t0); ok || err != nil {
		t.Errorf("unknown case marked: %v, %v", ok, err)
	}
}

func TestPendingSurveyAndOptOut(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	sent := t0.Add(time.Hour)
	if id, _, err := s.PendingSurvey(ctx, customer, sent); id != "" || err != nil {
		t.Fatalf("no survey: %q, %v", id, err)
	}
	if err := s.RecordSurveySent(ctx, SentSurvey{CustomerID: customer, CaseID: "d1", Lang: "es", SentAt: sent}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		at   time.Time
		want string
	}{
		{sent.Add(-time.Minute), ""},
		{sent, "d1"},
		{sent.Add(SurveyAnswerWindow - time.Minute), "d1"},
		{sent.Add(SurveyAnswerWindow), ""},
	}
	for _, tt := range tests {
		id, lang, err := s.PendingSurvey(ctx, customer, tt.at)
		if err != nil || id != tt.want || (id != "" && lang != "es") {
			t.Errorf("PendingSurvey at %v = %q, %q, %v; want %q", tt.at, id, lang, err, tt.want)
		}
	}

	ok, err := s.OptedOut(ctx, customer)
	if ok || err != nil {
		t.Fatalf("OptedOut before = %v, %v", ok, err)
	}
	for _, msg := range []string{"m1", "m2"} {
		if err := s.OptOutOfSurveys(ctx, customer, msg, sent); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err = s.OptedOut(ctx, customer); !ok || err != nil {
		t.Errorf("OptedOut after = %v, %v", ok, err)
	}
	if item, _ := s.get(ctx, optOutKey(customer)); stringAttr(item, "message_id") != "m1" {
		t.Errorf("the first opt-out is not kept: %v", item)
	}
	if ok, _ = s.OptedOut(ctx, other); ok {
		t.Error("another customer is opted out")
	}
}

func TestDMThreadCase(t *testing.T) {
	s, _ := newStore(t)
	if c, err := s.DMThreadCase(t.Context(), customer); c != nil || err != nil {
		t.Fatalf("no DM thread: %+v, %v", c, err)
	}
	id := mustAppend(t, s, dm(xid(330), customer, true, t0), "").CaseID
	c, err := s.DMThreadCase(t.Context(), customer)
	if err != nil || c == nil || c.ID != id || c.Status != care.Open {
		t.Errorf("DMThreadCase = %+v, %v; want open case %s", c, err, id)
	}
}

// A survey answer that reopened the surveyed DM case is recorded on it and puts
// it back as it was; one that opened a new case resolves it; one in a
// conversation in progress is no answer; the first answer wins.
func TestAnswerSurvey(t *testing.T) {
	ctx := t.Context()
	setup := func(t *testing.T) (*Store, string, time.Time) {
		s, _ := newStore(t)
		id := mustAppend(t, s, dm(xid(340), customer, true, t0), "").CaseID
		mustAppend(t, s, dm(xid(341), customer, false, t0.Add(time.Minute)), "")
		resolvedAt := t0.Add(time.Hour)
		mustResolve(t, s, id, resolvedAt)
		if ok, err := s.MarkSurveySent(ctx, id, resolvedAt, resolvedAt.Add(10*time.Minute)); !ok || err != nil {
			t.Fatal(ok, err)
		}
		if err := s.RecordSurveySent(ctx, SentSurvey{CustomerID: customer, CaseID: id, Lang: "en", SentAt: resolvedAt.Add(10 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
		return s, id, resolvedAt
	}

	t.Run("reopened", func(t *testing.T) {
		s, id, resolvedAt := setup(t)
		at := resolvedAt.Add(time.Hour)
		res := mustAppend(t, s, answerText(dm(xid(342), customer, true, at), "5"), "")
		if res.Case.Status != care.Open || res.Case.Reopens != 1 {
			t.Fatalf("append: %s, reopens %d", res.Case.Status, res.Case.Reopens)
		}
		answer, recorded, err := s.AnswerSurvey(ctx, id, res.Case, res.Message, 5)
		if err != nil || !answer || !recorded {
			t.Fatalf("AnswerSurvey = %v, %v, %v", answer, recorded, err)
		}
		c, msgs := mustGet(t, s, id)
		switch {
		case c.Status != care.Resolved || c.ResolvedAt == nil || !c.ResolvedAt.Equal(resolvedAt) || !c.WaitingSince.Equal(resolvedAt):
			t.Errorf("case not put back: %s, resolved at %v, waiting since %v", c.Status, c.ResolvedAt, c.WaitingSince)
		case c.Reopens != 0:
			t.Errorf("reopens %d, want 0", c.Reopens)
		case c.CSAT == nil || *c.CSAT != 5 || c.CSATAt == nil || !c.CSATAt.Equal(at):
			t.Errorf("csat %v at %v", c.CSAT, c.CSATAt)
		case len(msgs) != 3 || c.MessagesIn != 2:
			t.Errorf("the answer is not kept in the case: %d messages, %d in", len(msgs), c.MessagesIn)
		}
		if open, _, _ := s.ListCases(ctx, ListQuery{Status: care.Open}); len(open) != 0 {
			t.Errorf("open queue = %+v", open)
		}
		if pid, _, _ := s.PendingSurvey(ctx, customer, at.Add(time.Minute)); pid != "" {
			t.Errorf("the survey is still pending: %s", pid)
		}
		// A second answer is kept by the pipeline as a normal message: here it
		// would not overwrite the score.
		res = mustAppend(t, s, answerText(dm(xid(343), customer, true, at.Add(time.Minute)), "1"), "")
		if answer, recorded, err := s.AnswerSurvey(ctx, id, res.Case, res.Message, 1); !answer || recorded || err != nil {
			t.Errorf("second answer = %v, %v, %v; want an answer not recorded", answer, recorded, err)
		}
		if c, _ := mustGet(t, s, id); *c.CSAT != 5 {
			t.Errorf("csat %d, want the first answer's 5", *c.CSAT)
		}
	})

	t.Run("in a conversation", func(t *testing.T) {
		s, id, resolvedAt := setup(t)
		mustAppend(t, s, answerText(dm(xid(342), customer, true, resolvedAt.Add(time.Hour)), "my bag is lost"), "")
		res := mustAppend(t, s, answerText(dm(xid(343), customer, true, resolvedAt.Add(2*time.Hour)), "5"), "")
		answer, recorded, err := s.AnswerSurvey(ctx, id, res.Case, res.Message, 5)
		if answer || recorded || err != nil {
			t.Fatalf("AnswerSurvey = %v, %v, %v; want no answer", answer, recorded, err)
		}
		if c, _ := mustGet(t, s, id); c.Status != care.Open || c.CSAT != nil || c.Reopens != 1 {
			t.Errorf("case %s, csat %v, reopens %d", c.Status, c.CSAT, c.Reopens)
		}
	})

	t.Run("new case", func(t *testing.T) {
		s, id, resolvedAt := setup(t)
		at := resolvedAt.Add(DefaultReopenWindow + time.Hour)
		res := mustAppend(t, s, answerText(dm(xid(342), customer, true, at), "4"), "")
		if !res.Created {
			t.Fatal("the answer did not open a case")
		}
		answer, recorded, err := s.AnswerSurvey(ctx, id, res.Case, res.Message, 4)
		if !answer || !recorded || err != nil {
			t.Fatalf("AnswerSurvey = %v, %v, %v", answer, recorded, err)
		}
		if c, _ := mustGet(t, s, res.CaseID); c.Status != care.Resolved || c.ResolvedAt == nil || !c.ResolvedAt.Equal(at) {
			t.Errorf("new case %s resolved at %v", c.Status, c.ResolvedAt)
		}
		if c, _ := mustGet(t, s, id); c.CSAT == nil || *c.CSAT != 4 || c.Status != care.Resolved {
			t.Errorf("surveyed case: csat %v, %s", c.CSAT, c.Status)
		}
	})

	t.Run("a message since", func(t *testing.T) {
		s, id, resolvedAt := setup(t)
		res := mustAppend(t, s, answerText(dm(xid(342), customer, true, resolvedAt.Add(time.Hour)), "5"), "")
		mustAppend(t, s, answerText(dm(xid(343), customer, true, resolvedAt.Add(61*time.Minute)), "and my refund?"), "")
		answer, _, err := s.AnswerSurvey(ctx, id, res.Case, res.Message, 5)
		if answer || err != nil {
			t.Fatalf("AnswerSurvey = %v, %v; want no answer", answer, err)
		}
		if c, _ := mustGet(t, s, id); c.Status != care.Open || c.Reopens != 1 {
			t.Errorf("case %s, reopens %d; want it left open for the agents", c.Status, c.Reopens)
		}
	})
}
