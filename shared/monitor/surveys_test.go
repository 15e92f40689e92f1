package monitor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/csat"
	"github.com/pajarito-care/pajarito/shared/local/localsqs"
	"github.com/pajarito-care/pajarito/shared/local/storetest"
	"github.com/pajarito-care/pajarito/shared/local/xfake"
	"github.com/pajarito-care/pajarito/shared/monitor"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/sender"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

// The survey tests share one goaws (one per process) and its outbound queue,
// emptied by each test; they do not run in parallel.
const surveyQueue = "outbound-surveys"

var surveySQS = sync.OnceValues(func() (*localsqs.Server, error) {
	return localsqs.Start(localsqs.Queue{Name: surveyQueue})
})

// surveyT0 is when the tests' first messages are written (a Monday, 09:00 UTC).
var surveyT0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

type noCrises struct{}

func (noCrises) Sweep(context.Context, time.Time) ([]care.CrisisState, error) { return nil, nil }

type surveyFixture struct {
	t       *testing.T
	st      *store.Store
	sqs     *localsqs.Server
	cfg     *config.Config
	eng     *protocol.Engine
	outbox  *queue.Sender
	metrics lockedBuffer
	seq     int
}

// lockedBuffer is a bytes.Buffer safe for concurrent runs.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newSurveyFixture(t *testing.T) *surveyFixture {
	t.Helper()
	srv, err := surveySQS()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Purge(surveyQueue); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load("../../pajarito.json", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	eng, err := protocol.New(cfg.Protocol)
	if err != nil {
		t.Fatal(err)
	}
	f := &surveyFixture{t: t, sqs: srv, cfg: cfg, eng: eng}
	f.st = storetest.New(t)
	f.outbox = &queue.Sender{Client: srv.Client(t.Context()), URL: srv.QueueURL(surveyQueue), Log: slog.New(slog.DiscardHandler)}
	return f
}

// monitor returns a monitor running at now, as wired in AWS.
func (f *surveyFixture) monitor(now time.Time) *monitor.Monitor {
	p := f.cfg.Protocol
	return &monitor.Monitor{
		Crises: noCrises{},
		Surveys: &monitor.Surveys{
			Store: f.st, Outbox: f.outbox, Linter: f.eng.Linter(),
			Langs: p.Langs, DefaultLang: p.DefaultLang, Signature: p.Signature,
		},
		Metrics: &f.metrics,
		Now:     func() time.Time { return now },
		Log:     slog.New(slog.DiscardHandler),
	}
}

func (f *surveyFixture) run(now time.Time) monitor.Report {
	f.t.Helper()
	rep, err := f.monitor(now).Run(f.t.Context())
	if err != nil {
		f.t.Fatal(err)
	}
	return rep
}

// queued returns the survey requests on the outbound queue.
func (f *surveyFixture) queued() []care.ReplyRequest {
	f.t.Helper()
	bodies, err := f.sqs.Bodies(surveyQueue)
	if err != nil {
		f.t.Fatal(err)
	}
	out := make([]care.ReplyRequest, len(bodies))
	for i, b := range bodies {
		if err := json.Unmarshal([]byte(b), &out[i]); err != nil {
			f.t.Fatal(err)
		}
	}
	return out
}

func (f *surveyFixture) xid() string {
	f.seq++
	return fmt.Sprintf("18%018d", f.seq)
}

func (f *surveyFixture) append(m *care.Message) store.AppendResult {
	f.t.Helper()
	env := &care.Envelope{Version: care.EnvelopeVersion, Kind: care.KindMessage, Source: care.SourceXAA, ReceivedAt: m.CreatedAt, Message: m}
	res, err := f.st.Append(f.t.Context(), env, "")
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

// dm stores a DM between the brand and the customer; in tells the direction.
func (f *surveyFixture) dm(customer string, in bool, text string, at time.Time) store.AppendResult {
	m := &care.Message{Channel: care.DM, ID: f.xid(), Text: text, Lang: "es", CreatedAt: at}
	if in {
		m.Direction, m.AuthorID, m.AuthorHandle, m.RecipientID = care.Inbound, customer, "cliente", brandID
	} else {
		m.Direction, m.AuthorID, m.RecipientID = care.Outbound, brandID, customer
	}
	return f.append(m)
}

// post stores a public post of the customer mentioning the brand, or the brand's
// reply to post replyTo.
func (f *surveyFixture) post(customer, conv, replyTo string, in bool, at time.Time) store.AppendResult {
	id := f.xid()
	if conv == "" {
		conv = id
	}
	m := &care.Message{Channel: care.Public, ID: id, Lang: "es", CreatedAt: at, ConversationID: conv, InReplyToID: replyTo}
	if in {
		m.Direction, m.AuthorID, m.AuthorHandle, m.Text = care.Inbound, customer, "cliente", "@PajaritoAir mi vuelo PJ123 sale tarde"
		m.MentionedIDs, m.Summoned = []string{brandID}, true
	} else {
		m.Direction, m.AuthorID, m.Text, m.InReplyToUserID = care.Outbound, brandID, "Lo sentimos, ya lo miramos. ^Equipo", customer
	}
	return f.append(m)
}

// dmCase is a DM case of the customer answered by the brand and resolved at
// resolved.
func (f *surveyFixture) dmCase(customer string, resolved time.Time) string {
	id := f.dm(customer, true, "Hola, mi maleta no ha llegado", resolved.Add(-time.Hour)).CaseID
	f.dm(customer, false, "Lo sentimos, ya la hemos localizado. ^Equipo", resolved.Add(-30*time.Minute))
	f.resolve(id, resolved)
	return id
}

func (f *surveyFixture) publicCase(customer string, resolved time.Time) string {
	res := f.post(customer, "", "", true, resolved.Add(-time.Hour))
	f.post(customer, res.Message.ConversationID, res.Message.ID, false, resolved.Add(-30*time.Minute))
	f.resolve(res.CaseID, resolved)
	return res.CaseID
}

func (f *surveyFixture) resolve(id string, at time.Time) {
	f.t.Helper()
	if _, err := f.st.SetStatus(f.t.Context(), id, care.Resolved, at); err != nil {
		f.t.Fatal(err)
	}
}

func (f *surveyFixture) getCase(id string) *care.Case {
	f.t.Helper()
	c, _, err := f.st.GetCase(f.t.Context(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// surveysSent sums the SurveysSent metric lines.
func (f *surveyFixture) surveysSent() (lines int, total float64) {
	for _, line := range strings.Split(strings.TrimSpace(f.metrics.String()), "\n") {
		var m struct{ SurveysSent *float64 }
		if json.Unmarshal([]byte(line), &m) == nil && m.SurveysSent != nil {
			lines++
			total += *m.SurveysSent
		}
	}
	return lines, total
}

// A resolved DM case gets exactly one survey after the grace period, even when
// two runs overlap and when runs are repeated; the request is a DM to the
// customer in the case's language, which the reply sender accepts and sends.
func TestSurveyOncePerCase(t *testing.T) {
	f := newSurveyFixture(t)
	const customer = "2900000000000000101"
	resolved := surveyT0.Add(2 * time.Hour)
	id := f.dmCase(customer, resolved)

	if rep := f.run(resolved.Add(5 * time.Minute)); len(rep.Surveys.Sent) != 0 || len(f.queued()) != 0 {
		t.Fatalf("within the grace period: %+v", rep.Surveys)
	}
	at := resolved.Add(11 * time.Minute)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if _, err := f.monitor(at).Run(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, later := range []time.Duration{12 * time.Minute, time.Hour, 2 * 24 * time.Hour} {
		f.run(resolved.Add(later))
	}
	q := f.queued()
	if len(q) != 1 {
		t.Fatalf("%d surveys queued, want 1: %+v", len(q), q)
	}
	req := q[0]
	want := csat.Survey("es", "es", "^Equipo")
	switch {
	case req.Kind != care.ReplySurvey || req.Channel != care.DM || req.RecipientID != customer || req.CaseID != id:
		t.Errorf("request %+v", req)
	case req.IdempotencyKey != care.ReplyKey(id, monitor.SurveyTrigger, care.ReplySurvey) || req.TriggerID != monitor.SurveyTrigger:
		t.Errorf("key %s, trigger %s", req.IdempotencyKey, req.TriggerID)
	case req.Text != want || req.Lang != "es" || req.Author != care.AuthorAuto || req.Validate() != nil:
		t.Errorf("text %q lang %s author %s (%v); want %q", req.Text, req.Lang, req.Author, req.Validate(), want)
	}
	c := f.getCase(id)
	if c.SurveySentAt == nil || !c.SurveySentAt.Equal(at) || c.Status != care.Resolved {
		t.Errorf("case: survey sent at %v, %s", c.SurveySentAt, c.Status)
	}
	if lines, total := f.surveysSent(); lines != 6 || total != 1 {
		t.Errorf("SurveysSent: %d lines totalling %v, want one per run (6) totalling 1", lines, total)
	}

	// The reply sender takes the request as it takes any DM: linted again, sent
	// once, stored in the case.
	x := xfake.Start()
	defer x.Close()
	x.SetClock(func() time.Time { return at })
	x.SetUser(xfake.User{ID: brandID, Username: "PajaritoAir", Name: "Pajarito Air"}, xfake.User{ID: customer, Username: "cliente", Name: "Cliente"})
	brand := care.Brand{ID: brandID, Handle: "PajaritoAir"}
	xc, err := xapi.New(xapi.Credentials{APIKey: "ck", APISecret: "cs", AccessToken: brandID + "-at", AccessTokenSecret: "ats"},
		xapi.Options{Brand: brand, BaseURL: x.URL, HTTPClient: &http.Client{Timeout: 5 * time.Second}, Now: func() time.Time { return at },
			Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	snd := &sender.Sender{Store: f.st, X: xc, Engine: f.eng, Brand: brand, Now: func() time.Time { return at },
		Log: slog.New(slog.DiscardHandler), Metrics: &bytes.Buffer{}}
	body, _ := json.Marshal(req)
	for i := range 2 { // a redelivery sends nothing more
		resp, err := snd.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: fmt.Sprint("m", i), Body: string(body)}}})
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("sender: %+v, %v", resp, err)
		}
	}
	posted := x.Posted()
	if len(posted) != 1 || posted[0].Kind != "dm" || posted[0].ParticipantID != customer || posted[0].Text != want {
		t.Fatalf("X got %+v; want the survey DM", posted)
	}
	if c := f.getCase(id); c.MessagesOut != 2 || c.Status != care.Resolved {
		t.Errorf("after the survey DM: %d messages out, %s; want 2, still resolved", c.MessagesOut, c.Status)
	}
}

// Which resolved cases get a survey, and which wait or get none.
func TestSurveyEligibility(t *testing.T) {
	f := newSurveyFixture(t)
	ctx := t.Context()
	resolved := surveyT0.Add(time.Hour)
	cust := func(n int) string { return fmt.Sprintf("29%017d", 200+n) }

	reopened := f.dmCase(cust(1), resolved)
	f.dm(cust(1), true, "otra cosa más", resolved.Add(5*time.Minute)) // reopens within the grace period

	optedOut := f.dmCase(cust(2), resolved)
	if err := f.st.OptOutOfSurveys(ctx, cust(2), "1", surveyT0); err != nil {
		t.Fatal(err)
	}

	publicOnly := f.publicCase(cust(3), resolved)

	// A public case of a customer who has a (quiet) DM thread with the brand:
	// surveyed by DM.
	f.dmCase(cust(4), surveyT0.Add(-4*24*time.Hour)) // too old to be surveyed itself
	publicWithDM := f.publicCase(cust(4), resolved)

	// Never answered by the brand.
	unanswered := f.dm(cust(5), true, "¿hola?", resolved.Add(-time.Hour)).CaseID
	f.resolve(unanswered, resolved)

	// A public case while the customer's DM conversation is in progress: waits.
	f.dm(cust(6), true, "sigo sin maleta", resolved.Add(-2*time.Hour))
	dmActive := f.publicCase(cust(6), resolved)

	// A customer with another case that is an open complaint: waits.
	complaining := f.dmCase(cust(7), resolved)
	open := f.post(cust(7), "", "", true, resolved.Add(-3*time.Hour)).CaseID
	if err := f.st.TrackCustomerCase(ctx, cust(7), open, resolved.Add(-3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.SetTriage(ctx, open, care.Triage{Intent: "complaint"}); err != nil {
		t.Fatal(err)
	}

	eligible := f.dmCase(cust(8), resolved)

	rep := f.run(resolved.Add(15 * time.Minute))
	sent := map[string]bool{}
	for _, r := range f.queued() {
		sent[r.CaseID] = true
	}
	tests := []struct {
		name, id string
		want     bool
	}{
		{"reopened within the grace period", reopened, false},
		{"opted out", optedOut, false},
		{"public only, no DM thread", publicOnly, false},
		{"public, with a quiet DM thread", publicWithDM, true},
		{"never answered", unanswered, false},
		{"DM conversation in progress", dmActive, false},
		{"open complaint", complaining, false},
		{"eligible DM case", eligible, true},
	}
	for _, tt := range tests {
		if sent[tt.id] != tt.want {
			t.Errorf("%s (%s): surveyed %v, want %v", tt.name, tt.id, sent[tt.id], tt.want)
		}
	}
	s := rep.Surveys
	wantSkipped := map[string]int{monitor.SurveyReopened: 1, monitor.SurveyOptedOut: 1, monitor.SurveyNoDM: 1, monitor.SurveyUnanswered: 1}
	wantWaiting := map[string]int{monitor.SurveyDMActive: 1, monitor.SurveyOpenComplaint: 1}
	if len(s.Sent) != 2 || fmt.Sprint(s.Skipped) != fmt.Sprint(wantSkipped) || fmt.Sprint(s.Waiting) != fmt.Sprint(wantWaiting) {
		t.Errorf("report %+v; want 2 sent, skipped %v, waiting %v", s, wantSkipped, wantWaiting)
	}
	if c := f.getCase(reopened); c.SurveySentAt != nil {
		t.Errorf("reopened case marked surveyed")
	}

	// The reopened case, resolved again, is due again; the waiting ones are tried
	// again, and go out once their customer is free.
	f.resolve(reopened, resolved.Add(time.Hour))
	if _, err := f.st.SetStatus(ctx, open, care.Resolved, resolved.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	rep = f.run(resolved.Add(time.Hour + 11*time.Minute))
	sent = map[string]bool{}
	for _, r := range f.queued() {
		sent[r.CaseID] = true
	}
	if !sent[reopened] || !sent[complaining] || sent[dmActive] || len(f.queued()) != 4 {
		t.Errorf("second run sent %v (report %+v); want the re-resolved and the complaining customer's cases", sent, rep.Surveys)
	}
}

// A run that marked a survey sent and stopped before enqueueing it is finished by
// a later run once the lease has passed, and not before.
func TestSurveyInterruptedRun(t *testing.T) {
	f := newSurveyFixture(t)
	resolved := surveyT0.Add(time.Hour)
	id := f.dmCase("2900000000000000301", resolved)
	marked := resolved.Add(11 * time.Minute)
	if ok, err := f.st.MarkSurveySent(t.Context(), id, resolved, marked); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if rep := f.run(marked.Add(time.Minute)); len(f.queued()) != 0 || rep.Surveys.Waiting[monitor.SurveyInProgress] != 1 {
		t.Fatalf("within the lease: %+v, queued %d", rep.Surveys, len(f.queued()))
	}
	f.run(marked.Add(monitor.DefaultSurveyLease + time.Minute))
	f.run(marked.Add(monitor.DefaultSurveyLease + 2*time.Minute))
	q := f.queued()
	if len(q) != 1 || q[0].CaseID != id || !q[0].CreatedAt.Equal(marked) {
		t.Fatalf("queued %+v; want the survey once, dated when it was marked", q)
	}
	if caseID, _, _ := f.st.PendingSurvey(t.Context(), "2900000000000000301", marked.Add(time.Hour)); caseID != id {
		t.Errorf("pending survey %q, want %s", caseID, id)
	}
}

// Surveys leave the agents most of X's DM limit: none goes out while the current
// send window holds DMsPerWindow DMs; PerRun bounds a run.
func TestSurveyBudget(t *testing.T) {
	f := newSurveyFixture(t)
	resolved := surveyT0.Add(time.Hour)
	for i := range monitor.DefaultSurveysPerRun + 2 {
		f.dmCase(fmt.Sprintf("29%017d", 400+i), resolved)
	}
	now := resolved.Add(11 * time.Minute)
	for range monitor.DefaultSurveyDMsPerWindow {
		if _, ok, err := f.st.ReserveSend(t.Context(), "dm", now, sender.DefaultDMsPerWindow, 1); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	if rep := f.run(now); rep.Surveys.Paused == "" || len(f.queued()) != 0 {
		t.Fatalf("with the window's DMs in use: %+v, queued %d", rep.Surveys, len(f.queued()))
	}
	next := store.SendWindowStart(now).Add(store.SendWindow)
	if rep := f.run(next); len(rep.Surveys.Sent) != monitor.DefaultSurveysPerRun {
		t.Errorf("next window: sent %d, want %d", len(rep.Surveys.Sent), monitor.DefaultSurveysPerRun)
	}
	f.run(next.Add(time.Minute))
	if n := len(f.queued()); n != monitor.DefaultSurveysPerRun+2 {
		t.Errorf("after two runs: %d queued, want %d", n, monitor.DefaultSurveysPerRun+2)
	}
}
