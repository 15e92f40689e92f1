package protocol_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/local/storetest"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/store"
)

// One dynalite serves the test binary; each test gets its own table.

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// The store implements what the protocol needs.
var (
	_ protocol.CaseStore   = (*store.Store)(nil)
	_ protocol.CrisisStore = (*store.Store)(nil)
)

const brandID = "1590000000000000001"

var madrid, _ = time.LoadLocation("Europe/Madrid")

// Monday 3 August 2026, 10:00 in Madrid: open.
var t0 = time.Date(2026, 8, 3, 10, 0, 0, 0, madrid).UTC()

// sampleEngine is the engine of the repository's pajarito.json (@PajaritoAir).
func sampleEngine(t *testing.T) *protocol.Engine {
	t.Helper()
	cfg, err := config.Load("../../pajarito.json", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	e, err := protocol.New(cfg.Protocol)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

type outbox struct {
	mu      sync.Mutex
	replies []care.ReplyRequest
}

func (o *outbox) EnqueueReplies(_ context.Context, rs []care.ReplyRequest) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range rs {
		if err := r.Validate(); err != nil {
			return err
		}
	}
	o.replies = append(o.replies, rs...)
	return nil
}

func (o *outbox) byKind() map[care.ReplyKind]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := map[care.ReplyKind]int{}
	for _, r := range o.replies {
		n[r.Kind]++
	}
	return n
}

type notifier struct {
	mu     sync.Mutex
	alerts []care.Alert
}

func (n *notifier) Notify(_ context.Context, a care.Alert) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.alerts = append(n.alerts, a)
	return nil
}

func (n *notifier) count(kind string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := 0
	for _, a := range n.alerts {
		if a.Kind == kind {
			c++
		}
	}
	return c
}

// labeler gives fixed labels to texts containing a key, and the real
// classifier's otherwise: the protocol's tests do not depend on the classifier's
// fine judgement.
type labeler map[string]classify.Result

func (l labeler) Classify(_ context.Context, in classify.Input) classify.Result {
	for k, r := range l {
		if strings.Contains(in.Text, k) {
			if r.Lang == "" {
				r.Lang = in.Lang
			}
			return r
		}
	}
	return classify.Default().Classify(in)
}

func result(intent classify.Intent, score float64, level classify.UrgencyLevel, kinds ...classify.UrgencyKind) classify.Result {
	if level == "" {
		level = classify.UrgencyNone
	}
	s := classify.Neutral
	if score < 0 {
		s = classify.Negative
	}
	return classify.Result{Intent: intent, Sentiment: s, Score: score, Urgency: classify.Urgency{Level: level, Kinds: kinds}, PII: []classify.PII{}}
}

// mention is a summoned public post by customer user.
func mention(id, user, text, lang string, at time.Time) *care.Envelope {
	return &care.Envelope{Version: care.EnvelopeVersion, Kind: care.KindMessage, Source: care.SourceXAA, ReceivedAt: at,
		Message: &care.Message{Channel: care.Public, Direction: care.Inbound, ID: id, AuthorID: user, AuthorHandle: "user" + user[len(user)-4:],
			AuthorName: "Marta López", Text: text, Lang: lang, CreatedAt: at, ConversationID: id, MentionedIDs: []string{brandID}, Summoned: true}}
}

// deliver stores env and runs the pipeline on it at its time, as the processor does.
func deliver(t testing.TB, s *store.Store, p protocol.Pipeline, env *care.Envelope) protocol.Decision {
	t.Helper()
	res, err := s.Append(context.Background(), env, "sqs-"+env.Message.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicate || res.InFlight {
		t.Fatalf("append %s: %+v", env.Message.ID, res)
	}
	at := env.Message.CreatedAt
	p.Now = func() time.Time { return at }
	d, err := p.Process(context.Background(), res.Case, res.Message)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestPipeline(t *testing.T) {
	s := storetest.New(t)
	out, alerts := &outbox{}, &notifier{}
	e := sampleEngine(t)
	var metrics bytes.Buffer
	p := protocol.Pipeline{
		Engine: e, Cases: s, Outbox: out, Notifier: alerts, Metrics: &metrics,
		Classifier: labeler{
			"maleta":   result(classify.IntentComplaint, -0.7, ""),
			"sigo":     result(classify.IntentComplaint, -0.8, classify.UrgencyLow, classify.KindLongWait),
			"humo":     result(classify.IntentComplaint, -0.6, classify.UrgencyCritical, classify.KindSafety),
			"asientos": result(classify.IntentQuestion, 0, ""),
		},
		Crisis: e.Monitor(s, alerts, nil),
	}
	ctx := t.Context()
	const ana = "2900000000000000001"

	// A complaint: acknowledged, prioritised, routed, recorded.
	d1 := deliver(t, s, p, mention("1820000000000000100", ana, "@PajaritoAir me habéis perdido la maleta en Barajas", "es", t0))
	if len(d1.Replies) != 1 || d1.Replies[0].Kind != care.ReplyAutoAck || !strings.HasPrefix(d1.Replies[0].Text, "Lo sentimos mucho, Marta.") {
		t.Fatalf("first reply = %+v (%s)", d1.Replies, d1.Withheld)
	}
	caseID := d1.Record.CaseID
	c, _, err := s.GetCase(ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Priority != d1.Priority.Score || c.Priority == care.DefaultPriority || c.Department != "baggage" {
		t.Errorf("case priority %d department %q, decision %d %s", c.Priority, c.Department, d1.Priority.Score, d1.Route.Department)
	}
	// The same customer writes again in the thread: within the cooldown, no second
	// automatic reply; the decision says why.
	env := mention("1820000000000000101", ana, "@PajaritoAir sigo esperando, ¿alguien me dice algo?", "es", t0.Add(10*time.Minute))
	env.Message.ConversationID, env.Message.InReplyToID = "1820000000000000100", "1820000000000000100"
	d2 := deliver(t, s, p, env)
	if len(d2.Replies) != 0 || !strings.Contains(d2.Withheld, "cooldown") || d2.Record.CaseID != caseID {
		t.Fatalf("second decision: replies %+v, withheld %q, case %s", d2.Replies, d2.Withheld, d2.Record.CaseID)
	}
	list, err := s.ListDecisions(ctx, caseID)
	if err != nil || len(list) != 2 || list[1].Labels.Intent != "complaint" || len(list[1].Explanation) == 0 {
		t.Fatalf("decisions = %+v, %v", list, err)
	}
	if len(out.replies) != 1 {
		t.Errorf("outbox = %+v", out.replies)
	}
	// The first message again, as after a crash between its reply's claim and
	// the reply's queueing: its own claim is no earlier reply, so it is decided
	// again, to the same reply (the same idempotency key: X gets it once).
	c, msgs, err := s.GetCase(ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	// Redelivered soon after, in business hours (on the wall's clock the
	// test would depend on when it runs: out of hours, the reply would be
	// the out-of-hours one).
	p.Now = func() time.Time { return t0.Add(12 * time.Minute) }
	again, err := p.Process(ctx, c, &msgs[0])
	if err != nil || len(again.Replies) != 1 || again.Replies[0].IdempotencyKey != d1.Replies[0].IdempotencyKey {
		t.Errorf("the first message redelivered: replies %+v (%s), %v; want its reply again, key %s", again.Replies, again.Withheld, err, d1.Replies[0].IdempotencyKey)
	}
	// The brand's own reply: skipped, no decision.
	brandReply := &care.Envelope{Version: care.EnvelopeVersion, Kind: care.KindMessage, Source: care.SourceReply, ReceivedAt: t0.Add(11 * time.Minute),
		Message: &care.Message{Channel: care.Public, Direction: care.Outbound, ID: "1820000000000000102", AuthorID: brandID, Text: "Lo sentimos, Marta. ^Equipo",
			CreatedAt: t0.Add(11 * time.Minute), ConversationID: "1820000000000000100", InReplyToID: "1820000000000000101", InReplyToUserID: ana}}
	res, err := s.Append(ctx, brandReply, "sqs-brand")
	if err != nil {
		t.Fatal(err)
	}
	if d, err := p.Process(ctx, res.Case, res.Message); err != nil || len(d.Actions) != 0 {
		t.Errorf("brand message: %+v %v", d, err)
	}
	if list, _ := s.ListDecisions(ctx, caseID); len(list) != 2 {
		t.Errorf("a decision was recorded for the brand's message")
	}
	// A new case of the same customer is a repeat contact; a grave one is escalated.
	d3 := deliver(t, s, p, mention("1820000000000000200", ana, "@PajaritoAir hay humo en la cabina del PJ123", "es", t0.Add(time.Hour)))
	repeat := false
	for _, f := range d3.Priority.Factors {
		repeat = repeat || f.Factor == "repeat_contact"
	}
	if !repeat || !d3.Escalate || alerts.count(care.AlertEscalation) != 1 || d3.Route.Department != "safety" {
		t.Errorf("grave repeat case: factors %+v, escalate %v, alerts %+v", d3.Priority.Factors, d3.Escalate, alerts.alerts)
	}
	if len(d3.Replies) != 1 || d3.Replies[0].Kind != care.ReplyMoveToDM || !strings.Contains(d3.Replies[0].TemplateID, "serious") {
		t.Errorf("grave reply = %+v", d3.Replies)
	}
	// The real classifier, end to end (English).
	p.Classifier = nil
	d4 := deliver(t, s, p, mention("1820000000000000300", "2900000000000000009", "@PajaritoAir thank you so much, the crew on PJ456 were wonderful!", "en", t0.Add(2*time.Hour)))
	if d4.Record.Labels.Lang != "en" || d4.Record.Labels.Intent != "praise" || len(d4.Replies) != 1 || !strings.HasPrefix(d4.Replies[0].Text, "Thanks so much, Marta!") {
		t.Errorf("praise end to end: labels %+v, replies %+v", d4.Record.Labels, d4.Replies)
	}
	// One Messages metric per decision, by intent; none for the brand's.
	var intents []string
	for _, line := range strings.Split(strings.TrimSpace(metrics.String()), "\n") {
		var m struct {
			Intent   string
			Messages float64
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil || m.Messages != 1 {
			t.Fatalf("metric line %q: %v", line, err)
		}
		intents = append(intents, m.Intent)
	}
	// (The redelivered first message counted again: a crash's redelivery is
	// decided, and counted, again.)
	if got := strings.Join(intents, ","); got != "complaint,complaint,complaint,complaint,praise" {
		t.Errorf("Messages metrics by intent: %s", got)
	}
}

// TestCaseIntent: a case keeps the most serious intent of its messages (a
// question that turns into a complaint is a complaint; a complaint that ends in
// thanks stays one), while its sentiment follows the latest message; it moves
// to the department of a message that matches a routing rule, and stays there
// when the next matches none.
func TestCaseIntent(t *testing.T) {
	s := storetest.New(t)
	e := sampleEngine(t)
	p := protocol.Pipeline{
		Engine: e, Cases: s, Outbox: &outbox{}, Metrics: io.Discard,
		Classifier: labeler{
			"horario":  result(classify.IntentQuestion, 0, ""),
			"otra vez": result(classify.IntentComplaint, -0.7, ""),
			"gracias":  {Intent: classify.IntentPraise, Sentiment: classify.Positive, Score: 0.8, Urgency: classify.Urgency{Level: classify.UrgencyNone}, PII: []classify.PII{}},
		},
	}
	const user = "2900000000000000002"
	tests := []struct {
		text                          string
		intent, sentiment, department string
	}{
		{"@PajaritoAir ¿qué horario tiene el mostrador?", "question", "neutral", "social"},
		{"@PajaritoAir otra vez cerrado el mostrador y sin mi maleta", "complaint", "negative", "baggage"},
		{"@PajaritoAir gracias, ya está", "complaint", "positive", "baggage"},
	}
	var caseID string
	for i, tt := range tests {
		id := fmt.Sprintf("18200000000000005%02d", i)
		env := mention(id, user, tt.text, "es", t0.Add(time.Duration(i)*time.Hour))
		env.Message.ConversationID = "1820000000000000500"
		if i > 0 {
			env.Message.InReplyToID = "1820000000000000500"
		}
		d := deliver(t, s, p, env)
		if caseID == "" {
			caseID = d.Record.CaseID
		}
		c, _, err := s.GetCase(t.Context(), caseID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Record.CaseID != caseID || c.Intent != tt.intent || c.Sentiment != tt.sentiment || c.Department != tt.department {
			t.Errorf("after %q: case %s is %s/%s in %s, want %s/%s in %s", tt.text, d.Record.CaseID, c.Intent, c.Sentiment, c.Department, tt.intent, tt.sentiment, tt.department)
		}
	}
}

// A burst of 500 complaints about delays in 5 minutes, processed by 8 concurrent
// workers: exactly one crisis-opened alert, every message stored and decided, the
// crisis template from the opening on; once the rate falls the crisis closes with
// exactly one alert, even with concurrent sweeps.
func TestCrisisBurst(t *testing.T) {
	s := storetest.New(t)
	out, alerts := &outbox{}, &notifier{}
	e := sampleEngine(t)
	cfg := e.Config().Crisis
	mon := e.Monitor(s, alerts, nil)
	p := protocol.Pipeline{
		Engine: e, Cases: s, Outbox: out, Notifier: alerts, Crisis: mon,
		Classifier: labeler{"retraso": result(classify.IntentComplaint, -0.8, ""), "delay": result(classify.IntentIncident, -0.7, "")},
	}
	ctx := t.Context()
	// A baseline: one delay complaint an hour for the last day.
	for h := 1; h <= 24; h++ {
		if err := s.AddCrisisCount(ctx, "delays", t0.Add(-time.Duration(h)*time.Hour), 1); err != nil {
			t.Fatal(err)
		}
	}
	// Enough for the concurrent part to race well past the window's crisis
	// replies (min_count 25, 30 replies a window): 125 deliveries on 8 workers.
	const n = 150
	texts := []struct{ text, lang string }{
		{"@PajaritoAir otra vez retraso en Barajas, llevo dos horas en la puerta", "es"},
		{"@PajaritoAir another delay on PJ123, this is a joke", "en"},
		{"@PajaritoAir ¿en serio? Retraso de 3 horas y nadie informa", "es"},
	}
	envs := make([]*care.Envelope, n)
	for i := range n {
		tx := texts[i%len(texts)]
		at := t0.Add(time.Duration(i) * 5 * time.Minute / n)
		envs[i] = mention(fmt.Sprintf("18200000000%08d", i), fmt.Sprintf("29000000000%08d", i), tx.text, tx.lang, at)
	}
	// The first min_count arrive in order: the last of them opens the crisis.
	decisions := make([]protocol.Decision, n)
	for i := range cfg.MinCount {
		decisions[i] = deliver(t, s, p, envs[i])
	}
	if got := alerts.count(care.AlertCrisisOpened); got != 1 {
		t.Fatalf("after %d complaints: %d opened alerts", cfg.MinCount, got)
	}
	// The rest, concurrently.
	var wg sync.WaitGroup
	next := atomic.Int64{}
	next.Store(int64(cfg.MinCount))
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				decisions[i] = deliver(t, s, p, envs[i])
			}
		})
	}
	wg.Wait()
	if got := alerts.count(care.AlertCrisisOpened); got != 1 {
		t.Errorf("%d crisis-opened alerts, want exactly 1", got)
	}
	// Acknowledgements before the opening; from it, crisis replies up to the
	// window's bound, then the cases wait for an agent (X's post rate limit).
	kinds := out.byKind()
	if kinds[care.ReplyAutoAck] != cfg.MinCount-1 || kinds[care.ReplyCrisis] != cfg.MaxRepliesPerWindow || len(out.replies) != cfg.MinCount-1+cfg.MaxRepliesPerWindow {
		t.Errorf("replies by kind = %v, want %d acknowledgements then %d crisis replies", kinds, cfg.MinCount-1, cfg.MaxRepliesPerWindow)
	}
	withheld := 0
	for i, d := range decisions {
		if d.Record.CaseID == "" || len(d.Record.Explanation) == 0 || !d.Record.Has(care.ActionQueue) {
			t.Fatalf("message %d has no complete decision: %+v", i, d.Record)
		}
		if i < cfg.MinCount-1 {
			continue
		}
		switch {
		case d.CrisisTopic != "delays":
			t.Fatalf("message %d after the opening is not in the crisis: %+v", i, d.Record.Explanation)
		case len(d.Replies) == 1:
			if !strings.Contains(d.Replies[0].Text, map[string]string{"es": "Estamos al tanto de la incidencia con los retrasos", "en": "aware of the issue with the delays"}[d.Replies[0].Lang]) {
				t.Fatalf("message %d: crisis reply %q", i, d.Replies[0].Text)
			}
		case strings.Contains(d.Withheld, "automatic crisis replies"):
			withheld++
		default:
			t.Fatalf("message %d: no reply, withheld %q", i, d.Withheld)
		}
	}
	if withheld != n-cfg.MinCount+1-cfg.MaxRepliesPerWindow {
		t.Errorf("%d crisis cases left to agents, want %d", withheld, n-cfg.MinCount+1-cfg.MaxRepliesPerWindow)
	}
	// Nothing dropped: every message is a case with its decision stored.
	for _, i := range []int{0, 1, cfg.MinCount, n / 2, n - 1} {
		list, err := s.ListDecisions(ctx, decisions[i].Record.CaseID)
		if err != nil || len(list) != 1 {
			t.Errorf("message %d: decisions %+v, %v", i, list, err)
		}
	}
	stored := 0
	for _, st := range []care.Status{care.Open, care.Pending} {
		cursor := ""
		for {
			page, next, err := s.ListCases(ctx, store.ListQuery{Status: st, Limit: 100, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			stored += len(page)
			if next == "" {
				break
			}
			cursor = next
		}
	}
	if stored != n {
		t.Errorf("%d cases stored, want %d", stored, n)
	}
	states, _ := mon.States(ctx)
	if len(states) != 1 || !states[0].Active || states[0].Threshold != int64(cfg.MinCount) || states[0].OpenedBy != "auto" {
		t.Fatalf("states = %+v", states)
	}
	opened := states[0].Since

	// Within min_duration, a quiet window does not close it.
	if act, err := mon.Sweep(ctx, opened.Add(cfg.MinDuration.Std()-time.Minute)); err != nil || len(act) != 1 {
		t.Fatalf("early sweep: %+v %v", act, err)
	}
	// Later, the rate has fallen: concurrent sweeps close it once.
	later := opened.Add(cfg.MinDuration.Std() + time.Minute)
	for range 10 {
		wg.Go(func() {
			if _, err := mon.Sweep(ctx, later); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := alerts.count(care.AlertCrisisClosed); got != 1 {
		t.Errorf("%d crisis-closed alerts, want exactly 1", got)
	}
	if act, _ := mon.Sweep(ctx, later); len(act) != 0 {
		t.Errorf("still active: %+v", act)
	}
	// The team's audit trail keeps what detection did by itself, once each.
	trail, err := s.CaseAudit(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range trail {
		if e.Actor != care.AuditSystem || e.Detail["topic"] != "delays" || e.Detail["reason"] == "" {
			t.Errorf("audit entry %+v; want the system's, on delays, with the reason", e)
		}
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, " "); got != "crisis_opened crisis_closed" {
		t.Errorf("the team's audit trail: %s; want crisis_opened crisis_closed", got)
	}
	// A new delay complaint gets an individual acknowledgement again.
	d := deliver(t, s, p, mention("1820000000099999999", "2900000000099999999", "@PajaritoAir retraso otra vez en el PJ900", "es", later.Add(time.Minute)))
	if len(d.Replies) != 1 || d.Replies[0].Kind != care.ReplyAutoAck || d.CrisisTopic != "" {
		t.Errorf("after the crisis: %+v", d.Replies)
	}
}

// A person opens and closes a crisis: one alert each; while it is open related
// cases get the crisis template; detection leaves the topic alone after a manual
// close, for the quiet period.
func TestCrisisManual(t *testing.T) {
	s := storetest.New(t)
	out, alerts := &outbox{}, &notifier{}
	e := sampleEngine(t)
	mon := e.Monitor(s, alerts, nil)
	p := protocol.Pipeline{
		Engine: e, Cases: s, Outbox: out, Notifier: alerts, Crisis: mon,
		Classifier: labeler{"maleta": result(classify.IntentComplaint, -0.7, ""), "luggage": result(classify.IntentComplaint, -0.7, "")},
	}
	ctx := t.Context()
	if _, err := mon.Open(ctx, "volcano", "agent-1", t0); err == nil {
		t.Error("unknown topic accepted")
	}
	for range 3 {
		if _, err := mon.Open(ctx, "baggage", "agent-1", t0); err != nil {
			t.Fatal(err)
		}
	}
	if got := alerts.count(care.AlertCrisisOpened); got != 1 {
		t.Fatalf("%d opened alerts, want 1", got)
	}
	d := deliver(t, s, p, mention("1820000000000000001", "2900000000000000001", "@PajaritoAir ¿dónde está mi maleta? Nadie sabe nada", "es", t0.Add(time.Minute)))
	if len(d.Replies) != 1 || d.Replies[0].Kind != care.ReplyCrisis || !strings.Contains(d.Replies[0].Text, "Estamos al tanto de la incidencia con el equipaje") {
		t.Fatalf("manual crisis reply = %+v", d.Replies)
	}
	d = deliver(t, s, p, mention("1820000000000000002", "2900000000000000002", "@PajaritoAir where is my luggage??", "en", t0.Add(2*time.Minute)))
	if len(d.Replies) != 1 || d.Replies[0].Kind != care.ReplyCrisis || !strings.Contains(d.Replies[0].Text, "aware of the issue with baggage") {
		t.Fatalf("manual crisis reply en = %+v", d.Replies)
	}
	// Sweeps do not close a manual crisis, however calm.
	if act, _ := mon.Sweep(ctx, t0.Add(6*time.Hour)); len(act) != 1 || !act[0].Manual {
		t.Fatalf("manual crisis closed by a sweep: %+v", act)
	}
	closeAt := t0.Add(6 * time.Hour)
	for range 2 {
		if _, err := mon.Close(ctx, "baggage", "agent-2", closeAt); err != nil {
			t.Fatal(err)
		}
	}
	if got := alerts.count(care.AlertCrisisClosed); got != 1 {
		t.Errorf("%d closed alerts, want 1", got)
	}
	// A spike right after: not reopened during the quiet period.
	for i := range 40 {
		at := closeAt.Add(time.Duration(i) * time.Second)
		deliver(t, s, p, mention(fmt.Sprintf("18200000001%08d", i), fmt.Sprintf("29000000001%08d", i), "@PajaritoAir mi maleta no ha llegado", "es", at))
	}
	if got := alerts.count(care.AlertCrisisOpened); got != 1 {
		t.Errorf("reopened during the quiet period: %d opened alerts", got)
	}
	// After it, the spike opens it automatically.
	quietEnd := closeAt.Add(e.Config().Crisis.QuietAfterManualOff.Std())
	for i := range 30 {
		at := quietEnd.Add(time.Duration(i) * time.Second)
		deliver(t, s, p, mention(fmt.Sprintf("18200000002%08d", i), fmt.Sprintf("29000000002%08d", i), "@PajaritoAir mi maleta no ha llegado", "es", at))
	}
	if got := alerts.count(care.AlertCrisisOpened); got != 2 {
		t.Errorf("%d opened alerts after the quiet period, want 2", got)
	}
}

// trackCounter counts the customer-case writes of the pipeline.
type trackCounter struct {
	protocol.CaseStore
	mu    sync.Mutex
	calls []string
}

func (c *trackCounter) TrackCustomerCase(ctx context.Context, customerID, caseID string, openedAt time.Time) error {
	c.mu.Lock()
	c.calls = append(c.calls, caseID)
	c.mu.Unlock()
	return c.CaseStore.TrackCustomerCase(ctx, customerID, caseID, openedAt)
}

// TestTrackCustomerCaseOnce: a case is written into its customer's cases by its
// first message only; the follow-ups find it there. A second case of the
// customer is written too, and counts as a repeat contact.
func TestTrackCustomerCaseOnce(t *testing.T) {
	s := storetest.New(t)
	e := sampleEngine(t)
	cases := &trackCounter{CaseStore: s}
	p := protocol.Pipeline{Engine: e, Cases: cases, Outbox: &outbox{}, Notifier: &notifier{}, Metrics: io.Discard,
		Classifier: labeler{"asientos": result(classify.IntentQuestion, 0, "")}}
	const ana, root = "2900000000000000001", "1820000000000000300"
	first := deliver(t, s, p, mention(root, ana, "@PajaritoAir ¿puedo elegir asientos?", "es", t0))
	for i := 1; i <= 3; i++ {
		env := mention(fmt.Sprint(1820000000000000300+i), ana, "@PajaritoAir ¿y los asientos de mi hijo?", "es", t0.Add(time.Duration(i)*time.Minute))
		env.Message.ConversationID, env.Message.InReplyToID = root, root
		deliver(t, s, p, env)
	}
	if len(cases.calls) != 1 || cases.calls[0] != first.Record.CaseID {
		t.Fatalf("customer-case writes = %v, want one, of case %s", cases.calls, first.Record.CaseID)
	}
	second := deliver(t, s, p, mention("1820000000000000400", ana, "@PajaritoAir otra cosa: ¿asientos en el vuelo de vuelta?", "es", t0.Add(time.Hour)))
	repeat := false
	for _, f := range second.Priority.Factors {
		repeat = repeat || f.Factor == "repeat_contact"
	}
	if len(cases.calls) != 2 || cases.calls[1] != second.Record.CaseID || !repeat {
		t.Errorf("second case: writes %v, factors %+v", cases.calls, second.Priority.Factors)
	}
}
