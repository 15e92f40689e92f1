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
	"github.com/pajarito-care/pajarito/shared/metrics"
	"github.com/pajarito-care/pajarito/shared/monitor"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/store"
)

// local is a time of August 2026 in Madrid; the 3rd is a Monday.
func local(day, hh, mm int) time.Time { return time.Date(2026, 8, day, hh, mm, 0, 0, madrid) }

// rollupFixture is a brand open Monday to Friday 09:00–18:00 in Madrid, answering
// within an hour of business time, over a table of its own, with a settable
// store clock (cases are created at the store's time).
type rollupFixture struct {
	t   *testing.T
	st  *store.Store
	eng *protocol.Engine

	mu  sync.Mutex
	now time.Time
}

func newRollupFixture(t *testing.T) *rollupFixture {
	t.Helper()
	f := &rollupFixture{t: t}
	f.st = storetest.New(t)
	f.st.Now = func() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
	cfg := protocol.DefaultConfig()
	cfg.Timezone = "Europe/Madrid"
	cfg.BusinessHours = map[string]string{"mon": "09:00-18:00", "tue": "09:00-18:00", "wed": "09:00-18:00", "thu": "09:00-18:00", "fri": "09:00-18:00"}
	cfg.SLA = protocol.SLAConfig{
		FirstResponse: []protocol.ResponseTarget{{MinPriority: 0, Within: protocol.ParseDuration("1h")}},
		BusinessHours: true,
		HardLimit:     protocol.ParseDuration("48h"),
	}
	eng, err := protocol.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.eng = eng
	return f
}

func (f *rollupFixture) setClock(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t
}

// opens stores customer n's first message at at (a DM or a public post) in
// department, and records the new case in the day index as Append's caller will.
func (f *rollupFixture) opens(n int, ch care.Channel, at time.Time, department string) string {
	f.t.Helper()
	f.setClock(at)
	m := &care.Message{Channel: ch, Direction: care.Inbound, ID: messageID(n), AuthorID: customerID(n), AuthorHandle: fmt.Sprint("c", n),
		Text: "Hola, ¿me ayudáis con mi reserva?", Lang: "es", CreatedAt: at, Summoned: true}
	if ch == care.DM {
		m.RecipientID = brandID
	} else {
		m.ConversationID, m.MentionedIDs = m.ID, []string{brandID}
	}
	res, err := f.st.Append(f.t.Context(), &care.Envelope{Version: care.EnvelopeVersion, Kind: care.KindMessage, Source: care.SourceXAA, ReceivedAt: at, Message: m}, "sqs-"+m.ID)
	if err != nil || !res.Created {
		f.t.Fatalf("append: %+v, %v", res, err)
	}
	if err := f.st.RecordCaseDay(f.t.Context(), res.CaseID, res.Case.CreatedAt); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.st.SetPriority(f.t.Context(), res.CaseID, care.DefaultPriority, department); err != nil {
		f.t.Fatal(err)
	}
	return res.CaseID
}

// answers sends the brand's reply of kind to customer n in case id at at, as the
// reply sender does: the reply item, sent at a cost, then the outbound message.
func (f *rollupFixture) answers(id string, n int, ch care.Channel, kind care.ReplyKind, at time.Time, usd float64) {
	f.t.Helper()
	f.setClock(at)
	author := care.AuthorAuto
	if kind == care.ReplyAgent {
		author = "agent-ana"
	}
	req := &care.ReplyRequest{Version: care.ReplyVersion, IdempotencyKey: care.ReplyKey(id, messageID(n), kind), CaseID: id,
		TriggerID: messageID(n), Channel: ch, Text: "¡Hola! Dinos tu localizador.", Kind: kind, Author: author, CreatedAt: at}
	if _, won, err := f.st.ClaimReply(f.t.Context(), req); err != nil || !won {
		f.t.Fatalf("claim reply: %v, %v", won, err)
	}
	xid := messageID(500 + n)
	if ok, err := f.st.FinishReply(f.t.Context(), req, 1, store.ReplyOutcome{State: care.ReplySent, XID: xid, CostUSD: usd, SentAt: at}); err != nil || !ok {
		f.t.Fatalf("finish reply: %v, %v", ok, err)
	}
	m := &care.Message{Channel: ch, Direction: care.Outbound, ID: xid, AuthorID: brandID, Text: req.Text, CreatedAt: at}
	if ch == care.DM {
		m.RecipientID = customerID(n)
	} else {
		m.ConversationID, m.InReplyToID, m.InReplyToUserID = messageID(n), messageID(n), customerID(n)
	}
	env := &care.Envelope{Version: care.EnvelopeVersion, Kind: care.KindMessage, Source: care.SourceReply, ReceivedAt: at, Message: m}
	if _, err := f.st.AppendOutbound(f.t.Context(), id, env, "reply-"+xid); err != nil {
		f.t.Fatal(err)
	}
}

func (f *rollupFixture) monitor(now time.Time, st monitor.RollupStore, w *bytes.Buffer) *monitor.Monitor {
	if st == nil {
		st = f.st
	}
	return &monitor.Monitor{
		Crises:  noCrises{},
		Rollups: &monitor.Rollups{Store: st, Protocol: f.eng, Settle: 48 * time.Hour, MaxDays: 10, Workers: 2},
		Metrics: w,
		Now:     func() time.Time { return now },
	}
}

// run runs the monitor at now and returns what it rolled up ("day kind cases
// [written] [emitted]") and the figures it emitted.
func (f *rollupFixture) run(now time.Time) ([]string, []map[string]any) {
	f.t.Helper()
	var w bytes.Buffer
	rep, err := f.monitor(now, nil, &w).Run(f.t.Context())
	if err != nil {
		f.t.Fatalf("run at %s: %v", now, err)
	}
	return rolled(rep), figures(f.t, w.String())
}

func rolled(rep monitor.Report) []string {
	out := []string{}
	if rep.Rollups == nil {
		return out
	}
	for _, d := range rep.Rollups.Days {
		s := fmt.Sprintf("%s %s %d", d.Day, d.Kind, d.Cases)
		if !d.Written {
			s += " not-written"
		}
		if d.Emitted {
			s += " emitted"
		}
		out = append(out, s)
	}
	return out
}

// figures returns the EMF lines that hold the day's figures.
func figures(t *testing.T, lines string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(lines), "\n") {
		if !strings.Contains(l, "ReopenRate") && !strings.Contains(l, "FirstResponseSecondsP90") {
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(l), &doc); err != nil {
			t.Fatal(err)
		}
		out = append(out, doc)
	}
	return out
}

// stored returns the stored totals of day, as metrics.
func (f *rollupFixture) stored(day string) (store.Rollup, metrics.Metrics) {
	f.t.Helper()
	rs, err := f.st.ListRollups(f.t.Context(), metrics.AllDimension, day, day, true)
	if err != nil || len(rs) != 1 {
		f.t.Fatalf("roll-up of %s: %+v, %v", day, rs, err)
	}
	groups, err := metrics.DecodeGroups(rs[0].Body)
	if err != nil || len(groups) != 1 || groups[""] == nil {
		f.t.Fatalf("roll-up of %s: %v, %v", day, groups, err)
	}
	return rs[0], groups[""].Metrics("")
}

// A Monday in Madrid: case A (billing) is answered automatically after 10
// minutes and resolved after an hour; case C (billing) is never answered; case B
// (support) writes at 17:30 and an agent answers at 09:30 on Tuesday, 16 hours
// later but one business hour. The monitor rolls up today every hour, each day
// once it is over (emitting its figures once), and again once it has settled
// (here two days later), then no more.
func TestRollups(t *testing.T) {
	f := newRollupFixture(t)
	ctx := t.Context()
	a := f.opens(1, care.Public, local(3, 9, 0), "billing")
	f.answers(a, 1, care.Public, care.ReplyAutoAck, local(3, 9, 10), 0.015)
	f.setClock(local(3, 10, 0))
	if _, err := f.st.SetStatus(ctx, a, care.Resolved, local(3, 10, 0)); err != nil {
		t.Fatal(err)
	}
	f.opens(3, care.Public, local(3, 12, 0), "billing")

	steps := []struct {
		name string
		at   time.Time
		do   func()
		want []string
	}{
		{"the first run: the days not final yet, and today so far", local(3, 12, 30), nil, []string{
			"2026-08-02 closed 0", "2026-08-03 today 2", "2026-08-01 closed 0", "2026-07-31 closed 0"}},
		{"today was computed 15 minutes ago", local(3, 12, 45), nil, []string{}},
		{"an hour later, today again", local(3, 13, 31), nil, []string{"2026-08-03 today 2"}},
		{"Monday is over; 1 August has settled", local(4, 0, 5), func() {
			f.opens(2, care.DM, local(3, 17, 30), "support")
		}, []string{"2026-08-03 closed 3 emitted", "2026-08-04 today 0", "2026-08-01 final 0"}},
		{"nothing is due", local(4, 0, 6), nil, []string{}},
		{"Tuesday is over; 2 August has settled", local(5, 0, 10), func() {
			f.answers("d"+messageID(2), 2, care.DM, care.ReplyAgent, local(4, 9, 30), 0.015)
		}, []string{"2026-08-04 closed 0", "2026-08-05 today 0", "2026-08-02 final 0"}},
		{"Monday has settled", local(6, 0, 10), nil, []string{"2026-08-05 closed 0", "2026-08-06 today 0", "2026-08-03 final 3"}},
		{"and is kept", local(6, 12, 0), nil, []string{"2026-08-06 today 0"}},
	}
	var emitted []map[string]any
	for _, st := range steps {
		if st.do != nil {
			st.do()
		}
		got, figs := f.run(st.at)
		if !slices.Equal(got, st.want) {
			t.Errorf("%s: rolled up %q, want %q", st.name, got, st.want)
		}
		emitted = append(emitted, figs...)
		switch st.name {
		case "the first run: the days not final yet, and today so far":
			if _, m := f.stored("2026-08-03"); m.Cases != 2 || m.Unanswered != 0 {
				t.Errorf("Monday at 12:30: %d cases, %d unanswered; want 2, 0 (C is due at 13:00)", m.Cases, m.Unanswered)
			}
		case "an hour later, today again":
			if _, m := f.stored("2026-08-03"); m.Unanswered != 1 {
				t.Errorf("Monday at 13:31: %d unanswered, want 1 (C)", m.Unanswered)
			}
		}
	}

	// Monday's figures, emitted once at its local noon: A's first response (600
	// s) and resolution (3600 s), no reopening, one automatic reply of one; no
	// CSAT yet.
	if len(emitted) != 1 {
		t.Fatalf("emitted %d lines of figures, want 1: %v", len(emitted), emitted)
	}
	want := map[string]any{"FirstResponseSecondsP90": 600.0, "ResolutionSecondsMedian": 3600.0, "ReopenRate": 0.0, "AutomaticReplyShare": 1.0}
	for k, v := range want {
		if emitted[0][k] != v {
			t.Errorf("%s = %v, want %v", k, emitted[0][k], v)
		}
	}
	aws := emitted[0]["_aws"].(map[string]any)
	if _, ok := emitted[0]["CSATAverage"]; ok || aws["Timestamp"] != float64(local(3, 12, 0).UnixMilli()) {
		t.Errorf("figures %v", emitted[0])
	}
	if dims := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)["Dimensions"]; fmt.Sprint(dims) != "[[]]" {
		t.Errorf("dimensions %v, want none", dims)
	}

	// Monday, settled: B's answer counts (57,600 s, an hour of business time);
	// C is still unanswered.
	r, m := f.stored("2026-08-03")
	if !r.Final || !r.ComputedAt.Equal(local(6, 0, 10)) || r.Cases != 3 {
		t.Errorf("Monday's roll-up: final %v, computed at %v, %d cases", r.Final, r.ComputedAt, r.Cases)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"cases", m.Cases, int64(3)},
		{"inbound messages", m.InboundMessages, int64(3)},
		{"first responses", m.FirstResponse.Count, int64(2)},
		{"first-response mean", *m.FirstResponse.Mean, (600 + 57600) / 2.0},
		{"first-response median", *m.FirstResponse.Median, 600.0}, // rank 1 of 2
		{"first-response business mean", *m.FirstResponseBusiness.Mean, (600 + 3600) / 2.0},
		{"first-response business p90", *m.FirstResponseBusiness.P90, 3567.0}, // 3600's bin
		{"resolution median", *m.Resolution.Median, 3567.0},                   // 3600's bin
		{"unanswered", m.Unanswered, int64(1)},
		{"automatic share", *m.AutomaticShare, 0.5},
		{"reply cost", m.ReplyCostUSD, 0.030},
		{"posts per case", *m.Posts.Mean, 3 / 3.0}, // A 2, C 1, B 0
		{"DMs per case", *m.DMs.Mean, 2 / 3.0},     // B 2
		{"cases at 9, 12 and 17", []int64{m.CasesByHour[9], m.CasesByHour[12], m.CasesByHour[17]}, []int64{1, 1, 1}},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("Monday, %s: %v, want %v", c.name, c.got, c.want)
		}
	}
	rs, err := f.st.ListRollups(ctx, string(metrics.Department), "2026-08-03", "2026-08-03", true)
	if err != nil || len(rs) != 1 {
		t.Fatalf("departments: %v, %v", rs, err)
	}
	groups, err := metrics.DecodeGroups(rs[0].Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 || groups["billing"].Cases != 2 || groups["support"].Cases != 1 || groups["billing"].Unanswered != 1 {
		t.Errorf("departments: %s", rs[0].Body)
	}
}

// staleStore hides the stored roll-ups, as if read before another run wrote
// them, and fails the puts of one dimension.
type staleStore struct {
	*store.Store
	failDimension string
}

var errPut = errors.New("put failed")

func (s staleStore) ListRollups(context.Context, string, string, string, bool) ([]store.Rollup, error) {
	return nil, nil
}

func (s staleStore) PutRollup(ctx context.Context, r store.Rollup, before time.Time) (bool, error) {
	if r.Dimension == s.failDimension {
		return false, errPut
	}
	return s.Store.PutRollup(ctx, r, before)
}

// Two runs compute the same closed day: one writes it and emits its figures.
// A run that cannot store a dimension fails and leaves the day due.
func TestRollupsConcurrentAndFailing(t *testing.T) {
	f := newRollupFixture(t)
	a := f.opens(1, care.Public, local(3, 9, 0), "billing")
	f.answers(a, 1, care.Public, care.ReplyAgent, local(3, 9, 20), 0.015)

	now := local(4, 0, 5)
	var w bytes.Buffer
	if _, err := f.monitor(now, staleStore{Store: f.st, failDimension: "agent"}, &w).Run(t.Context()); !errors.Is(err, errPut) {
		t.Fatalf("a failing put: %v, want %v", err, errPut)
	}
	if rs, err := f.st.ListRollups(t.Context(), metrics.AllDimension, "2026-07-01", "2026-08-31", false); err != nil || len(rs) != 0 {
		t.Errorf("totals stored by a failed run: %+v, %v", rs, err)
	}
	if len(figures(t, w.String())) != 0 {
		t.Errorf("a failed run emitted %s", w.String())
	}

	got, figs := f.run(now)
	if want := []string{"2026-08-03 closed 1 emitted", "2026-08-04 today 0", "2026-08-02 closed 0", "2026-08-01 closed 0"}; !slices.Equal(got, want) {
		t.Errorf("first run: %q, want %q", got, want)
	}
	if len(figs) != 1 || figs[0]["FirstResponseSecondsP90"] != 1200.0 || figs[0]["AutomaticReplyShare"] != 0.0 {
		t.Errorf("first run emitted %v", figs)
	}

	w.Reset()
	rep, err := f.monitor(now.Add(time.Minute), staleStore{Store: f.st}, &w).Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rolled(rep), []string{
		"2026-08-03 closed 1 not-written", "2026-08-04 today 0 not-written", "2026-08-02 closed 0 not-written", "2026-08-01 closed 0 not-written",
	}; !slices.Equal(got, want) {
		t.Errorf("a run that read before the first wrote: %q, want %q", got, want)
	}
	if figs := figures(t, w.String()); len(figs) != 0 {
		t.Errorf("the second run emitted %v", figs)
	}
}

// One day per run (a new deployment catching up): yesterday first, then today,
// then the older days, newest first.
func TestRollupsOneDayPerRun(t *testing.T) {
	f := newRollupFixture(t)
	f.opens(1, care.Public, local(3, 9, 0), "billing")
	var got []string
	for i := range 4 {
		now := local(3, 12, 30).Add(time.Duration(i) * time.Minute)
		m := f.monitor(now, nil, &bytes.Buffer{})
		m.Rollups.MaxDays = 1
		rep, err := m.Run(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rolled(rep)...)
	}
	want := []string{"2026-08-02 closed 0", "2026-08-03 today 1", "2026-08-01 closed 0", "2026-07-31 closed 0"}
	if !slices.Equal(got, want) {
		t.Errorf("four runs rolled up %q, want %q", got, want)
	}
}
