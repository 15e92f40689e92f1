package monitor_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/local/storetest"
	"github.com/pajarito-care/pajarito/shared/local/testclock"
	"github.com/pajarito-care/pajarito/shared/monitor"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/store"
)

// outboxOf records what is queued; fail, while set, refuses it.
type outboxOf struct {
	mu     sync.Mutex
	queued []care.ReplyRequest
	fail   error
}

func (o *outboxOf) EnqueueReplies(_ context.Context, rs []care.ReplyRequest) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail != nil {
		return o.fail
	}
	o.queued = append(o.queued, rs...)
	return nil
}

// followUpFixture is a closed crisis on "delays" and its customers.
type followUpFixture struct {
	t       *testing.T
	st      *store.Store
	eng     *protocol.Engine
	clk     *testclock.Clock
	out     *outboxOf
	since   time.Time
	closed  time.Time
	seq     int
	brandID string
}

func newFollowUpFixture(t *testing.T) *followUpFixture {
	cfg, err := config.Load("../../pajarito.json", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	eng, err := protocol.New(cfg.Protocol)
	if err != nil {
		t.Fatal(err)
	}
	since := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	f := &followUpFixture{t: t, st: storetest.New(t), eng: eng, clk: testclock.New(since.Add(2 * time.Hour)), out: &outboxOf{},
		since: since, closed: since.Add(90 * time.Minute), brandID: cfg.Brand.ID}
	ctx := t.Context()
	open := care.CrisisState{Topic: "delays", Active: true, Since: since, OpenedBy: "auto", Threshold: 25, UpdatedAt: since}
	if ok, err := f.st.OpenCrisis(ctx, open); err != nil || !ok {
		t.Fatalf("open crisis: %v, %v", ok, err)
	}
	closed := open
	closed.Active, closed.ClosedAt, closed.ClosedBy, closed.UpdatedAt = false, f.closed, "auto", f.closed
	if ok, err := f.st.CloseCrisis(ctx, "delays", since, false, closed); err != nil || !ok {
		t.Fatalf("close crisis: %v, %v", ok, err)
	}
	return f
}

// wrote stores a message of customer about the delays at at, in public or by
// DM, and returns its case.
func (f *followUpFixture) wrote(customer string, ch care.Channel, at time.Time) string {
	f.t.Helper()
	f.seq++
	id := strconv.FormatUint(1830000000000000000+uint64(f.seq), 10)
	m := &care.Message{Channel: ch, Direction: care.Inbound, ID: id, AuthorID: customer, AuthorHandle: "c" + customer[len(customer)-3:],
		AuthorName: "Cliente " + customer[len(customer)-3:], Text: "Mi vuelo lleva tres horas de retraso", Lang: "es", CreatedAt: at, Summoned: true}
	if ch == care.Public {
		m.MentionedIDs, m.ConversationID = []string{f.brandID}, id
	} else {
		m.RecipientID = f.brandID
	}
	res, err := f.st.Append(f.t.Context(), &care.Envelope{Version: care.EnvelopeVersion, Kind: care.KindMessage, Source: care.SourceXAA, ReceivedAt: at, Message: m}, "sqs-"+id)
	if err != nil || !res.Stored() {
		f.t.Fatalf("store: %+v, %v", res, err)
	}
	if _, err := f.st.SetTriage(f.t.Context(), res.CaseID, care.Triage{CrisisTopic: "delays", Intent: "complaint"}); err != nil {
		f.t.Fatal(err)
	}
	return res.CaseID
}

func (f *followUpFixture) monitor(max int) *monitor.Monitor {
	return &monitor.Monitor{Crises: noCrises{}, FollowUps: &monitor.FollowUps{Store: f.st, Protocol: f.eng, Outbox: f.out, MaxPerRun: max},
		Metrics: &bytes.Buffer{}, Now: f.clk.Now, Log: slog.New(slog.DiscardHandler)}
}

// TestCrisisFollowUps: when a crisis closes, every customer who wrote about it
// while it was open gets one follow-up (by DM in a DM case, on their latest
// case), spread over runs by the cap, and never twice; a customer a person
// answered after it opened gets none; one who wrote before it opened is not
// affected; a run cut short between the claim and the queue loses no one and
// queues no one twice.
func TestCrisisFollowUps(t *testing.T) {
	f := newFollowUpFixture(t)
	ana := f.wrote("2900000000000000001", care.Public, f.since.Add(10*time.Minute))
	ben := f.wrote("2900000000000000002", care.Public, f.since.Add(20*time.Minute))
	f.wrote("2900000000000000003", care.Public, f.since.Add(5*time.Minute))
	carlaDM := f.wrote("2900000000000000003", care.DM, f.since.Add(40*time.Minute))
	f.wrote("2900000000000000004", care.Public, f.since.Add(-2*time.Hour)) // before the crisis
	// A person answered Ben after the crisis opened.
	req := care.ReplyRequest{Version: care.ReplyVersion, IdempotencyKey: care.ReplyKey(ben, "d-1", care.ReplyAgent), CaseID: ben, TriggerID: "d-1",
		Channel: care.Public, InReplyToID: "1830000000000000002", Text: "Lo sentimos, Ben: ya sale. ^Ana", Kind: care.ReplyAgent, Author: "ana",
		CreatedAt: f.since.Add(30 * time.Minute)}
	if _, won, err := f.st.ClaimReply(t.Context(), &req); err != nil || !won {
		t.Fatal(err)
	}
	if ok, err := f.st.FinishReply(t.Context(), &req, 1, store.ReplyOutcome{State: care.ReplySent, XID: "1830000000000000099", SentAt: f.since.Add(31 * time.Minute)}); err != nil || !ok {
		t.Fatal(err)
	}

	// The first run is cut short: the outbox refuses, after the claim.
	f.out.fail = errors.New("SQS unreachable")
	if _, err := f.monitor(1).Run(t.Context()); err == nil {
		t.Fatal("a run whose queue refused the follow-up reports no error")
	}
	f.out.fail = nil
	// Cap 1 per run: three runs to queue the two follow-ups and finish.
	var rep monitor.Report
	for i := range 3 {
		var err error
		if rep, err = f.monitor(1).Run(t.Context()); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	if len(f.out.queued) != 2 {
		t.Fatalf("queued %+v; want Ana's and Carla's follow-ups", f.out.queued)
	}
	byCase := map[string]care.ReplyRequest{}
	for _, r := range f.out.queued {
		byCase[r.CaseID] = r
		if r.Kind != care.ReplyCrisisFollowUp || !strings.HasPrefix(r.Text, "Lo sentimos de nuevo") || !strings.Contains(r.Text, "retrasos") {
			t.Errorf("follow-up %+v", r)
		}
	}
	if a, ok := byCase[ana]; !ok || a.Channel != care.Public || a.InReplyToID == "" {
		t.Errorf("Ana's follow-up %+v; want a public reply to her post", a)
	}
	if c, ok := byCase[carlaDM]; !ok || c.Channel != care.DM || c.RecipientID != "2900000000000000003" {
		t.Errorf("Carla's follow-up %+v; want a DM on her latest case", c)
	}
	got := rep.FollowUps.Crises
	if len(got) != 1 || !got[0].Done || got[0].Customers != 3 || got[0].Queued != 2 || got[0].Skipped[monitor.SkipAnswered] != 1 {
		t.Fatalf("report %+v; want 3 customers, 2 followed up, Ben skipped (answered), done", got)
	}
	// Later runs queue nothing more.
	if _, err := f.monitor(10).Run(t.Context()); err != nil || len(f.out.queued) != 2 {
		t.Errorf("a later run: %v, queued %d", err, len(f.out.queued))
	}
	keys := map[string]bool{}
	for _, r := range f.out.queued {
		if keys[r.IdempotencyKey] {
			t.Errorf("follow-up %s queued twice", r.IdempotencyKey)
		}
		keys[r.IdempotencyKey] = true
	}
}

// TestCrisisFollowUpText: the follow-ups wait the protocol's
// crisis.followup_after once the crisis closed, the time an admin has to
// write their text (checked by the template's rules); they go with it, and
// from then on it is not changed.
func TestCrisisFollowUpText(t *testing.T) {
	f := newFollowUpFixture(t)
	f.clk = testclock.New(f.closed.Add(5 * time.Minute))
	ana := f.wrote("2900000000000000001", care.Public, f.since.Add(10*time.Minute))
	carla := f.wrote("2900000000000000003", care.DM, f.since.Add(40*time.Minute))

	rep, err := f.monitor(10).Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := rep.FollowUps.Crises
	if len(f.out.queued) != 0 || len(got) != 1 || got[0].Done || !got[0].StartsAt.Equal(f.closed.Add(10*time.Minute)) {
		t.Fatalf("before followup_after: queued %d, report %+v; want nothing yet, starting 10 minutes after the close", len(f.out.queued), got)
	}

	for _, bad := range []struct{ text, want string }{
		{"Ya está arreglado el problema de {topic}. {signature}", "apolog"},
		{"Lo sentimos, {first_name}: el problema de {topic} está resuelto. {signature}", "problema"},
		{"Lo sentimos, {first_name}: mira https://pajarito.example/estado {signature}", "link"},
		{"Lo sentimos, {first_name}: {hora}. {signature}", "placeholder"},
	} {
		if p := f.eng.CheckFollowUpText("es", bad.text); !strings.Contains(strings.Join(p, "; "), bad.want) {
			t.Errorf("CheckFollowUpText(%q) = %q; want it to say %q", bad.text, p, bad.want)
		}
	}
	const text = "Lo sentimos, {first_name}: {topic} vuelven a la normalidad y hemos ampliado el plazo de cambios gratis a 7 días. {signature}"
	if p := f.eng.CheckFollowUpText("es", text); len(p) != 0 {
		t.Fatalf("CheckFollowUpText = %q; want none", p)
	}
	if err := f.st.SetFollowUpText(t.Context(), "delays", f.since, store.FollowUpText{Texts: map[string]string{"es": text}, By: "sara", ByName: "Sara"}); err != nil {
		t.Fatal(err)
	}

	f.clk.Advance(6 * time.Minute)
	if rep, err = f.monitor(10).Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(f.out.queued) != 2 || !rep.FollowUps.Crises[0].Done {
		t.Fatalf("after followup_after: queued %+v, report %+v", f.out.queued, rep.FollowUps.Crises)
	}
	for _, r := range f.out.queued {
		if r.CaseID != ana && r.CaseID != carla || !strings.HasPrefix(r.Text, "Lo sentimos, Cliente:") ||
			!strings.Contains(r.Text, "los retrasos vuelven a la normalidad") || r.TemplateID != "crisis_followup.custom.es" {
			t.Errorf("follow-up %+v; want the admin's text", r)
		}
	}
	if err := f.st.SetFollowUpText(t.Context(), "delays", f.since, store.FollowUpText{Texts: map[string]string{"es": text + " Ya."}}); !errors.Is(err, store.ErrFollowUpsStarted) {
		t.Errorf("SetFollowUpText after the start = %v; want ErrFollowUpsStarted", err)
	}
}

// TestCrisisFollowUpsOfAReplacedCrisis: a topic's crisis that closed and was
// replaced by a new one before its follow-ups went (an outage that flaps)
// still gets them: the new state keeps it among its Previous.
func TestCrisisFollowUpsOfAReplacedCrisis(t *testing.T) {
	f := newFollowUpFixture(t) // closed at since+90m; the clock at since+2h
	ana := f.wrote("2900000000000000001", care.Public, f.since.Add(10*time.Minute))
	again := care.CrisisState{Topic: "delays", Active: true, Since: f.closed.Add(5 * time.Minute), OpenedBy: "auto", Threshold: 25}
	if ok, err := f.st.OpenCrisis(t.Context(), again); err != nil || !ok {
		t.Fatalf("open the next crisis: %v, %v", ok, err)
	}
	st, err := f.st.GetCrisis(t.Context(), "delays")
	if err != nil || !st.Active || len(st.Previous) != 1 || !st.Previous[0].Since.Equal(f.since) || !st.Previous[0].ClosedAt.Equal(f.closed) {
		t.Fatalf("the new crisis = %+v, %v; want the closed one among its Previous", st, err)
	}
	rep, err := f.monitor(10).Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(f.out.queued) != 1 || f.out.queued[0].CaseID != ana || len(rep.FollowUps.Crises) != 1 || !rep.FollowUps.Crises[0].Done {
		t.Errorf("queued %+v, report %+v; want Ana's follow-up of the replaced crisis, done", f.out.queued, rep.FollowUps.Crises)
	}
}
