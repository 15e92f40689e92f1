package monitor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/storetest"
	"github.com/pajarito-care/pajarito/shared/monitor"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/store"
)

// brandID is the brand of every test of the package; madrid its zone.
const brandID = "1590000000000000001"

var madrid = func() *time.Location {
	l, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		panic(err)
	}
	return l
}()

// madridTime is a time of November 2026 in Madrid (CET, UTC+1); the 20th is a
// Friday, the 23rd a Monday.
func madridTime(day, hh, mm int) time.Time { return time.Date(2026, 11, day, hh, mm, 0, 0, madrid) }

// slaFixture is a brand open Monday to Friday 09:00–18:00 in Madrid, answering
// priority 800 and above within 15 minutes and the rest within an hour of
// business time, 48 hours at the most, over a table of its own.
type slaFixture struct {
	t      *testing.T
	st     *store.Store
	eng    *protocol.Engine
	alerts *alerts
}

func newSLAFixture(t *testing.T) *slaFixture {
	t.Helper()
	st := storetest.New(t)
	cfg := protocol.DefaultConfig()
	cfg.Timezone = "Europe/Madrid"
	cfg.BusinessHours = map[string]string{"mon": "09:00-18:00", "tue": "09:00-18:00", "wed": "09:00-18:00", "thu": "09:00-18:00", "fri": "09:00-18:00"}
	cfg.Channels = map[string]string{"es": "el 910 000 000", "en": "+34 910 000 000"}
	cfg.SLA = protocol.SLAConfig{
		FirstResponse: []protocol.ResponseTarget{
			{MinPriority: 800, Within: protocol.ParseDuration("15m")},
			{MinPriority: 0, Within: protocol.ParseDuration("1h")},
		},
		BusinessHours: true,
		HardLimit:     protocol.ParseDuration("48h"),
	}
	eng, err := protocol.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &slaFixture{t: t, st: st, eng: eng, alerts: &alerts{}}
}

// ids of customer n's DM and of the brand's answer to it.
func customerID(n int) string { return fmt.Sprintf("29%017d", n) }
func messageID(n int) string  { return fmt.Sprintf("18%018d", n) }

// writes stores the first DM of customer n (handle, when not empty) at at, in a
// case of the given priority and department, and returns the case id.
func (f *slaFixture) writes(n int, handle string, at time.Time, priority int, department string) string {
	f.t.Helper()
	res := f.dm(n, n, handle, at)
	if !res.Created {
		f.t.Fatalf("message %d opened no case: %+v", n, res)
	}
	if _, err := f.st.SetPriority(f.t.Context(), res.CaseID, priority, department); err != nil {
		f.t.Fatal(err)
	}
	return res.CaseID
}

// dm stores DM m of customer n at at.
func (f *slaFixture) dm(n, m int, handle string, at time.Time) store.AppendResult {
	f.t.Helper()
	env := &care.Envelope{Version: care.EnvelopeVersion, Kind: care.KindMessage, Source: care.SourceXAA, ReceivedAt: at, Message: &care.Message{
		Channel: care.DM, Direction: care.Inbound, ID: messageID(m), AuthorID: customerID(n), AuthorHandle: handle,
		RecipientID: brandID, Text: "Hola, ¿me ayudáis con mi reserva?", Lang: "es", CreatedAt: at, Summoned: true,
	}}
	res, err := f.st.Append(f.t.Context(), env, "sqs-"+messageID(m))
	if err != nil || !res.Stored() {
		f.t.Fatalf("append: %+v, %v", res, err)
	}
	return res
}

// answers stores the brand's DM answer to customer n in case id at at.
func (f *slaFixture) answers(id string, n int, at time.Time) {
	f.t.Helper()
	env := &care.Envelope{Version: care.EnvelopeVersion, Kind: care.KindMessage, Source: care.SourceReply, ReceivedAt: at, Message: &care.Message{
		Channel: care.DM, Direction: care.Outbound, ID: messageID(500 + n), AuthorID: brandID, RecipientID: customerID(n),
		Text: "¡Hola! Claro, dinos tu localizador.", CreatedAt: at,
	}}
	if _, err := f.st.AppendOutbound(f.t.Context(), id, env, "reply-"+messageID(n)); err != nil {
		f.t.Fatal(err)
	}
}

// monitor returns a monitor of the fixture at now, alerting through n (the
// fixture's alerts when nil) and writing its metrics to w.
func (f *slaFixture) monitor(now time.Time, n care.Notifier, w *bytes.Buffer) *monitor.Monitor {
	if n == nil {
		n = f.alerts
	}
	return &monitor.Monitor{
		Crises:  f.eng.Monitor(f.st, f.alerts, nil),
		SLA:     &monitor.SLA{Protocol: f.eng, Cases: f.st, Notifier: n},
		Metrics: w,
		Now:     func() time.Time { return now },
	}
}

// slaRun is what a run reported and emitted.
type slaRun struct {
	unanswered, overHardLimit int
	escalated                 []string
	metrics                   string // the Unanswered EMF line
}

// run runs the monitor once at now.
func (f *slaFixture) run(now time.Time) slaRun {
	f.t.Helper()
	var w bytes.Buffer
	rep, err := f.monitor(now, nil, &w).Run(f.t.Context())
	if err != nil {
		f.t.Fatalf("run at %s: %v", now.In(madrid), err)
	}
	return f.result(rep, &w)
}

func (f *slaFixture) result(rep monitor.Report, w *bytes.Buffer) slaRun {
	f.t.Helper()
	if rep.SLA == nil {
		f.t.Fatal("no SLA report")
	}
	r := slaRun{unanswered: rep.SLA.Unanswered, overHardLimit: rep.SLA.OverHardLimit, escalated: rep.SLA.Escalated}
	for _, l := range strings.Split(strings.TrimSpace(w.String()), "\n") {
		if strings.Contains(l, `"Unanswered"`) {
			if r.metrics != "" {
				f.t.Errorf("two Unanswered lines in one run:\n%s\n%s", r.metrics, l)
			}
			r.metrics = l
		}
	}
	if r.metrics == "" {
		f.t.Errorf("the run emitted no Unanswered metric:\n%s", w.String())
	}
	var doc struct{ Unanswered, UnansweredOverHardLimit *float64 }
	if err := json.Unmarshal([]byte(r.metrics), &doc); err != nil || doc.Unanswered == nil || doc.UnansweredOverHardLimit == nil ||
		*doc.Unanswered != float64(r.unanswered) || *doc.UnansweredOverHardLimit != float64(r.overHardLimit) {
		f.t.Errorf("metrics %s (%v) disagree with the report: %d unanswered, %d over the hard limit", r.metrics, err, r.unanswered, r.overHardLimit)
	}
	return r
}

func (f *slaFixture) summaries() []string {
	f.alerts.mu.Lock()
	defer f.alerts.mu.Unlock()
	var out []string
	for _, a := range f.alerts.got {
		out = append(out, a.Kind+" "+a.CaseID+": "+a.Summary)
	}
	return out
}

func (f *slaFixture) check(name string, got slaRun, unanswered, overHardLimit int, escalated ...string) {
	f.t.Helper()
	if escalated == nil {
		escalated = []string{}
	}
	if got.unanswered != unanswered || got.overHardLimit != overHardLimit || !slices.Equal(got.escalated, escalated) {
		f.t.Errorf("%s: %d unanswered, %d over the hard limit, escalated %v; want %d, %d, %v",
			name, got.unanswered, got.overHardLimit, got.escalated, unanswered, overHardLimit, escalated)
	}
}

// On a Monday morning: a case is escalated once when it passes its target, by
// one of two concurrent runs, not again by a repeated run; cases answered in
// time, or late but before a run saw them, are never escalated; an escalated case
// counts as unanswered until it is answered.
func TestSLAEscalatesOnce(t *testing.T) {
	f := newSLAFixture(t)
	a := f.writes(1, "maria", madridTime(23, 9, 0), 850, "billing")        // due 09:15
	b := f.writes(2, "juan", madridTime(23, 9, 0), 100, "bookings")        // due 10:00
	c := f.writes(3, "ana", madridTime(23, 9, 0), 850, "billing")          // answered 09:10
	g := f.writes(4, "pablo", madridTime(23, 9, 0), 850, "billing")        // answered 09:05, wrote again 09:06
	e := f.writes(5, "elena", madridTime(23, 9, 0), 799, "technical")      // due 10:00, answered 10:05
	spam := f.writes(6, "ganadinero", madridTime(23, 9, 0), 850, "social") // spam: owed no answer
	if _, err := f.st.SetTriage(t.Context(), spam, care.Triage{Intent: "spam"}); err != nil {
		t.Fatal(err)
	}
	f.answers(c, 3, madridTime(23, 9, 10))
	f.answers(g, 4, madridTime(23, 9, 5))
	if res := f.dm(4, 600, "pablo", madridTime(23, 9, 6)); res.CaseID != g || res.Case.Status != care.Open {
		t.Fatalf("the customer's second DM: %+v", res)
	}

	got := f.run(madridTime(23, 9, 14))
	f.check("09:14", got, 0, 0)

	// Two runs at once at 09:30: case a is 15 minutes late.
	now := madridTime(23, 9, 30)
	var (
		wg   sync.WaitGroup
		runs [2]monitor.Report
		bufs [2]bytes.Buffer
		errs [2]error
	)
	for i := range runs {
		wg.Go(func() { runs[i], errs[i] = f.monitor(now, nil, &bufs[i]).Run(t.Context()) })
	}
	wg.Wait()
	var escalated []string
	for i := range runs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		r := f.result(runs[i], &bufs[i])
		if r.unanswered != 1 || r.overHardLimit != 0 {
			t.Errorf("09:30, run %d: %d unanswered, %d over the hard limit; want 1, 0", i, r.unanswered, r.overHardLimit)
		}
		escalated = append(escalated, r.escalated...)
	}
	if !slices.Equal(escalated, []string{a}) {
		t.Errorf("two runs at 09:30 escalated %v, want [%s] once", escalated, a)
	}
	// The line of a run, exactly: no dimension, namespace Pajarito, time 08:30 UTC.
	if got, want := f.result(runs[1], &bufs[1]).metrics, `{"Unanswered":1,"UnansweredOverHardLimit":0,"_aws":{"CloudWatchMetrics":[{"Dimensions":[[]],"Metrics":[{"Name":"Unanswered","Unit":"Count"},{"Name":"UnansweredOverHardLimit","Unit":"Count"}],"Namespace":"Pajarito"}],"Timestamp":1795422600000}}`; got != want {
		t.Errorf("metrics line\n%s\nwant\n%s", got, want)
	}

	got = f.run(now) // repeated
	f.check("09:30 again", got, 1, 0)

	f.answers(e, 5, madridTime(23, 10, 5))
	got = f.run(madridTime(23, 10, 10))
	f.check("10:10", got, 2, 0, b)

	f.answers(a, 1, madridTime(23, 10, 20))
	got = f.run(madridTime(23, 10, 30))
	f.check("10:30, a answered", got, 1, 0)

	want := []string{
		"sla_breach " + a + ": Case " + a + " (@maria, priority 850, billing) has no first response, 15m past its 15m target in business hours; waiting since Mon 23 Nov 09:00 CET.",
		"sla_breach " + b + ": Case " + b + " (@juan, priority 100, bookings) has no first response, 10m past its 1h target in business hours; waiting since Mon 23 Nov 09:00 CET.",
	}
	if got := f.summaries(); !slices.Equal(got, want) {
		t.Errorf("alerts\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
	for id, want := range map[string]time.Time{a: now, b: madridTime(23, 10, 10)} {
		got, err := f.st.GetCaseItem(t.Context(), id)
		if err != nil || got.EscalatedAt == nil || !got.EscalatedAt.Equal(want) {
			t.Errorf("case %s escalated at %v (%v), want %s", id, got.EscalatedAt, err, want)
		}
	}
	for _, id := range []string{c, g, e, spam} {
		if got, err := f.st.GetCaseItem(t.Context(), id); err != nil || got.EscalatedAt != nil {
			t.Errorf("answered or spam case %s escalated at %v (%v)", id, got.EscalatedAt, err)
		}
	}
}

// Business hours and the hard limit over a weekend: a Friday-evening case of
// priority 850 would be due on Monday at 09:05 in business time, but reaches the
// 48h hard limit on Sunday at 17:50; a Saturday case is due on Monday at 10:00.
func TestSLAWeekend(t *testing.T) {
	f := newSLAFixture(t)
	fri := f.writes(1, "luis", madridTime(20, 17, 50), 850, "")
	sat := f.writes(2, "", madridTime(21, 11, 0), 100, "social")

	f.check("Saturday noon", f.run(madridTime(21, 12, 0)), 0, 0)
	f.check("Sunday 17:49", f.run(madridTime(22, 17, 49)), 0, 0)
	f.check("Sunday 17:50", f.run(madridTime(22, 17, 50)), 1, 1, fri)
	f.check("Monday 09:59", f.run(madridTime(23, 9, 59)), 1, 1)
	f.check("Monday 10:30", f.run(madridTime(23, 10, 30)), 2, 1, sat)
	f.check("Monday 11:00", f.run(madridTime(23, 11, 0)), 2, 2)

	want := []string{
		"sla_breach " + fri + ": Case " + fri + " (@luis, priority 850, no department) has no first response, under a minute past the 48h hard limit; waiting since Fri 20 Nov 17:50 CET.",
		"sla_breach " + sat + ": Case " + sat + " (customer " + customerID(2) + ", priority 100, social) has no first response, 30m past its 1h target in business hours; waiting since Sat 21 Nov 11:00 CET.",
	}
	if got := f.summaries(); !slices.Equal(got, want) {
		t.Errorf("alerts\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

type failingNotifier struct{}

func (failingNotifier) Notify(context.Context, care.Alert) error {
	return errors.New("sns: throttled")
}

// An alert that cannot be sent takes the escalation back and fails the run; the
// next run escalates and alerts.
func TestSLAAlertFailure(t *testing.T) {
	f := newSLAFixture(t)
	id := f.writes(1, "maria", madridTime(23, 9, 0), 900, "billing")
	now := madridTime(23, 9, 20)
	var w bytes.Buffer
	rep, err := f.monitor(now, failingNotifier{}, &w).Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "alert on case "+id) || !strings.Contains(err.Error(), "throttled") {
		t.Errorf("run error = %v", err)
	}
	f.check("failed alert", f.result(rep, &w), 1, 0)
	if c, err := f.st.GetCaseItem(t.Context(), id); err != nil || c.EscalatedAt != nil {
		t.Errorf("escalated_at %v (%v) after the failed alert", c.EscalatedAt, err)
	}
	f.check("next run", f.run(now.Add(time.Minute)), 1, 0, id)
	if got := f.summaries(); len(got) != 1 || !strings.Contains(got[0], "6m past its 15m target") {
		t.Errorf("alerts %v", got)
	}
}

// A run reads at most MaxCases open cases, highest priority first.
func TestSLAMaxCases(t *testing.T) {
	f := newSLAFixture(t)
	high := f.writes(1, "a", madridTime(23, 9, 0), 900, "")
	mid := f.writes(2, "b", madridTime(23, 9, 0), 500, "")
	f.writes(3, "c", madridTime(23, 9, 0), 100, "")
	m := f.monitor(madridTime(23, 12, 0), nil, &bytes.Buffer{})
	m.SLA.MaxCases = 2
	rep, err := m.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if s := rep.SLA; s.Checked != 2 || !s.Truncated || s.Unanswered != 2 || !slices.Equal(s.Escalated, []string{high, mid}) {
		t.Errorf("report %+v", s)
	}
}
