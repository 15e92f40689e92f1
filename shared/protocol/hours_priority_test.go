package protocol

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
)

func TestBusinessHours(t *testing.T) {
	e := newEngine(t, func(c *Config) { c.Holidays = []string{"2026-12-25", "2027-01-01"} })
	h := e.Hours()
	utc := func(y int, mo time.Month, d, hh, mm int) time.Time {
		return time.Date(y, mo, d, hh, mm, 0, 0, time.UTC)
	}
	tests := []struct {
		name string
		at   time.Time
		open bool
	}{
		{"Monday 10:00 Madrid", monday10, true},
		{"Monday 07:59 Madrid", time.Date(2026, 8, 3, 7, 59, 0, 0, madrid), false},
		{"Monday 08:00 Madrid", time.Date(2026, 8, 3, 8, 0, 0, 0, madrid), true},
		{"Monday 19:59 Madrid", time.Date(2026, 8, 3, 19, 59, 0, 0, madrid), true},
		{"Monday 20:00 Madrid (end excluded)", time.Date(2026, 8, 3, 20, 0, 0, 0, madrid), false},
		{"Saturday 13:00", time.Date(2026, 8, 8, 13, 0, 0, 0, madrid), true},
		{"Saturday 15:00", time.Date(2026, 8, 8, 15, 0, 0, 0, madrid), false},
		{"Sunday noon", time.Date(2026, 8, 9, 12, 0, 0, 0, madrid), false},
		// Summer (CEST, UTC+2): 06:30 UTC is 08:30 in Madrid.
		{"summer 06:30 UTC", utc(2026, 8, 3, 6, 30), true},
		// Winter (CET, UTC+1): 06:30 UTC is 07:30 in Madrid.
		{"winter 06:30 UTC", utc(2026, 11, 2, 6, 30), false},
		{"winter 07:30 UTC", utc(2026, 11, 2, 7, 30), true},
		// DST ends on Sunday 25 October 2026; Monday 26 opens at 08:00 CET = 07:00 UTC.
		{"day after DST ends, 06:59 UTC", utc(2026, 10, 26, 6, 59), false},
		{"day after DST ends, 07:00 UTC", utc(2026, 10, 26, 7, 0), true},
		// DST starts on Sunday 29 March 2026 (02:00 → 03:00); Monday 30 opens at 06:00 UTC.
		{"day after DST starts, 06:00 UTC", utc(2026, 3, 30, 6, 0), true},
		{"Friday before DST starts, 06:00 UTC", utc(2026, 3, 27, 6, 0), false},
		// Holidays are Madrid dates: 23:30 UTC on 24 December is already the 25th there.
		{"Christmas Eve 22:30 UTC (23:30 Madrid, a Thursday, after hours)", utc(2026, 12, 24, 22, 30), false},
		{"Christmas Day noon", time.Date(2026, 12, 25, 12, 0, 0, 0, madrid), false},
		{"26 December, Saturday 11:00", time.Date(2026, 12, 26, 11, 0, 0, 0, madrid), true},
		{"New Year's Day (Friday) 10:00", time.Date(2027, 1, 1, 10, 0, 0, 0, madrid), false},
		{"Thursday 24 December 10:00", time.Date(2026, 12, 24, 10, 0, 0, 0, madrid), true},
	}
	for _, tt := range tests {
		if got := h.Open(tt.at); got != tt.open {
			t.Errorf("%s: Open(%s) = %v, want %v", tt.name, tt.at.UTC().Format(time.RFC3339), got, tt.open)
		}
	}
	if !h.Holiday(utc(2026, 12, 24, 23, 30)) || h.Holiday(utc(2026, 12, 24, 22, 30)) {
		t.Error("holiday boundary is not midnight in Madrid")
	}
	if got := h.Text("es"); got != "lun-vie 8:00-20:00, sáb 10:00-14:00 (hora de Madrid)" {
		t.Errorf("Text(es) = %q", got)
	}
	if got := h.Text("en"); got != "Mon-Fri 8:00-20:00, Sat 10:00-14:00 (Madrid time)" {
		t.Errorf("Text(en) = %q", got)
	}
	split := newEngine(t, func(c *Config) {
		c.Timezone = "America/Mexico_City"
		c.BusinessHours = map[string]string{"mon": "09:00-14:00, 16:00-19:00", "tue": "09:00-14:00,16:00-19:00", "wed": "09:00-14:00, 16:00-19:00",
			"thu": "09:00-14:00, 16:00-19:00", "fri": "09:00-14:00, 16:00-19:00", "sat": "09:00-14:00, 16:00-19:00", "sun": "09:00-14:00, 16:00-19:00"}
	}).Hours()
	if got := split.Text("es"); got != "todos los días 9:00-14:00 y 16:00-19:00 (hora de Mexico City)" {
		t.Errorf("split Text(es) = %q", got)
	}
	if got := split.Text("en"); got != "every day 9:00-14:00 and 16:00-19:00 (Mexico City time)" {
		t.Errorf("split Text(en) = %q", got)
	}
	if split.Open(time.Date(2026, 8, 3, 15, 0, 0, 0, split.Location())) {
		t.Error("open at lunch")
	}
	always := newEngine(t, func(c *Config) { c.BusinessHours = nil; c.Holidays = nil }).Hours()
	if !always.Open(time.Date(2026, 8, 9, 3, 0, 0, 0, time.UTC)) {
		t.Error("no business hours must mean always open")
	}
}

func TestPriorityOrdering(t *testing.T) {
	w := DefaultWeights()
	base := PriorityInput{Waiting: 0}
	with := func(f func(*PriorityInput)) PriorityInput { p := base; f(&p); return p }
	score := func(p PriorityInput) int { return w.Priority(p).Score }
	safety := with(func(p *PriorityInput) {
		p.Intent, p.Sentiment, p.Score = classify.IntentComplaint, classify.Negative, -0.5
		p.Urgency = classify.Urgency{Level: classify.UrgencyCritical, Kinds: []classify.UrgencyKind{classify.KindSafety}}
	})
	stranded := with(func(p *PriorityInput) {
		p.Intent, p.Sentiment, p.Score = classify.IntentIncident, classify.Negative, -0.6
		p.Urgency = classify.Urgency{Level: classify.UrgencyHigh, Kinds: []classify.UrgencyKind{classify.KindStranded}}
	})
	incident := with(func(p *PriorityInput) {
		p.Intent, p.Sentiment, p.Score = classify.IntentIncident, classify.Negative, -0.6
	})
	complaint := with(func(p *PriorityInput) {
		p.Intent, p.Sentiment, p.Score = classify.IntentComplaint, classify.Negative, -0.6
	})
	question := with(func(p *PriorityInput) { p.Intent, p.Sentiment = classify.IntentQuestion, classify.Neutral })
	sales := with(func(p *PriorityInput) { p.Intent, p.Sentiment = classify.IntentSales, classify.Neutral })
	other := with(func(p *PriorityInput) { p.Intent, p.Sentiment = classify.IntentOther, classify.Neutral })
	praise := with(func(p *PriorityInput) { p.Intent, p.Sentiment, p.Score = classify.IntentPraise, classify.Positive, 0.9 })
	spam := with(func(p *PriorityInput) { p.Intent, p.Sentiment, p.Score = classify.IntentSpam, classify.Positive, 0.4 })
	order := []struct {
		name string
		in   PriorityInput
	}{{"safety", safety}, {"stranded", stranded}, {"incident", incident}, {"complaint", complaint}, {"question", question},
		{"sales", sales}, {"other", other}, {"praise", praise}, {"spam", spam}}
	for i := 1; i < len(order); i++ {
		if a, b := score(order[i-1].in), score(order[i].in); a <= b {
			t.Errorf("%s (%d) should rank above %s (%d)", order[i-1].name, a, order[i].name, b)
		}
	}
	if s := score(spam); s != 0 {
		t.Errorf("spam = %d, want 0 (clamped)", s)
	}
	raises := []struct {
		name string
		f    func(*PriorityInput)
	}{
		{"verified", func(p *PriorityInput) { p.Verified = true }},
		{"10k followers", func(p *PriorityInput) { p.Followers = 10_000 }},
		{"waiting 2h", func(p *PriorityInput) { p.Waiting = 2 * time.Hour }},
		{"a previous case", func(p *PriorityInput) { p.PreviousCases = 1 }},
		{"personal data in public", func(p *PriorityInput) { p.PublicPII = true }},
		{"more negative", func(p *PriorityInput) { p.Score = -0.95 }},
	}
	for _, r := range raises {
		p := complaint
		r.f(&p)
		if score(p) <= score(complaint) {
			t.Errorf("%s does not raise the priority: %d <= %d", r.name, score(p), score(complaint))
		}
	}
	// Followers are log-scaled: a million followers is not 100 times ten thousand.
	p1, p2, p3 := complaint, complaint, complaint
	p1.Followers, p2.Followers, p3.Followers = 1_000, 10_000, 1_000_000
	if !(score(p1) < score(p2) && score(p2) < score(p3)) || score(p3)-score(p2) > 2*(score(p2)-score(p1))+1 {
		t.Errorf("followers 1k/10k/1M = %d/%d/%d", score(p1), score(p2), score(p3))
	}
	// Waiting grows with time, up to its maximum.
	q1, q2, q3 := question, question, question
	q1.Waiting, q2.Waiting, q3.Waiting = time.Hour, 3*time.Hour, 48*time.Hour
	if !(score(q1) < score(q2) && score(q2) < score(q3)) || score(q3)-score(question) != w.WaitMax {
		t.Errorf("waiting 1h/3h/48h = %d/%d/%d", score(q1), score(q2), score(q3))
	}
	// Repeat contacts are capped.
	r1, r9 := complaint, complaint
	r1.PreviousCases, r9.PreviousCases = 1, 9
	if score(r9)-score(complaint) != w.RepeatMax || score(r1)-score(complaint) != w.RepeatPerCase {
		t.Errorf("repeat 1/9 = %d/%d", score(r1), score(r9))
	}
	// Explained: the factors add up to the score (below the clamp), deterministically.
	p := w.Priority(stranded)
	sum := 0
	for _, f := range p.Factors {
		sum += f.Points
		if f.Because == "" || f.Factor == "" {
			t.Errorf("factor %+v unexplained", f)
		}
	}
	if sum != p.Score {
		t.Errorf("factors add up to %d, score %d", sum, p.Score)
	}
	if q := w.Priority(stranded); len(q.Factors) != len(p.Factors) || q.Score != p.Score {
		t.Error("not deterministic")
	}
	// A cap on the urgency kinds.
	many := safety
	many.Urgency.Kinds = []classify.UrgencyKind{classify.KindSafety, classify.KindMedical, classify.KindStranded}
	if f := w.Priority(many).Factors; !strings.Contains(describeFactors(f), "capped at 150") {
		t.Errorf("kinds not capped: %s", describeFactors(f))
	}
	// Each factor's values travel apart, for the console to say it in
	// Spanish or English.
	args := map[string]map[string]string{}
	for _, f := range w.Priority(many).Factors {
		args[f.Factor] = f.Args
	}
	if args["base"]["n"] != strconv.Itoa(w.Base) || args["urgency_kinds"]["kinds"] != "safety,medical,stranded" || args["urgency_kinds"]["max"] != "150" ||
		args["intent"]["intent"] == "" || args["urgency"]["level"] != "critical" {
		t.Errorf("factor args %v", args)
	}
	if s := w.Priority(many).Score; s > MaxPriority {
		t.Errorf("score %d above %d", s, MaxPriority)
	}
}

// Custom weights change the ranking: configurable, not hard-coded.
func TestPriorityConfigurable(t *testing.T) {
	w := DefaultWeights()
	w.Intent["sales"] = 400
	q := PriorityInput{Intent: classify.IntentQuestion}
	s := PriorityInput{Intent: classify.IntentSales}
	if w.Priority(s).Score <= w.Priority(q).Score+200 {
		t.Error("sales weight not applied")
	}
	e := newEngine(t, func(c *Config) { c.Priority.Verified = 300 })
	if got := e.Priority(PriorityInput{Intent: classify.IntentQuestion, Verified: true}).Score; got != 300+60+300 {
		t.Errorf("configured verified weight: %d", got)
	}
}

func TestRouting(t *testing.T) {
	e := newEngine(t, func(c *Config) {
		c.Routing = []RouteRule{
			{Name: "safety", Department: "safety", UrgencyKinds: []string{"safety", "medical"}},
			{Name: "card-data", Department: "billing", PII: []string{"card"}},
			{Name: "refunds", Department: "billing", Keywords: []string{"reembols*", "refund*"}},
			{Name: "bookings-es", Department: "bookings", Langs: []string{"es"}, Keywords: []string{"reserva*"}},
			{Name: "app-complaints", Department: "technical", Intents: []string{"complaint", "incident"}, Keywords: []string{"app"}},
			{Name: "dm-sales", Department: "sales", Intents: []string{"sales"}, Channel: "dm"},
		}
	})
	tests := []struct {
		name, text string
		ch         care.Channel
		r          classify.Result
		dept, rule string
		why        string
	}{
		{"urgency kind", "hay humo en cabina y quiero un reembolso", care.Public, labels("es", classify.IntentComplaint, -0.5, classify.UrgencyCritical, classify.KindSafety), "safety", "safety", "urgency safety"},
		{"first match wins", "quiero un reembolso de mi reserva", care.Public, labels("es", classify.IntentQuestion, 0, ""), "billing", "refunds", `keyword "reembols*" ("reembolso")`},
		{"accents and case", "¿REEMBOLSÁIS la reserva?", care.Public, labels("es", classify.IntentQuestion, 0, ""), "billing", "refunds", ""},
		{"english keyword", "when do I get my refund", care.Public, labels("en", classify.IntentQuestion, 0, ""), "billing", "refunds", ""},
		{"language condition", "mi reserva no aparece", care.Public, labels("es", classify.IntentQuestion, 0, ""), "bookings", "bookings-es", "language es"},
		{"language condition fails", "mi reserva no aparece", care.Public, labels("pt", classify.IntentQuestion, 0, ""), "social", "", "default department"},
		{"all conditions must hold", "la app va genial", care.Public, labels("es", classify.IntentPraise, 0.9, ""), "social", "", ""},
		{"all conditions hold", "la app no funciona", care.Public, labels("es", classify.IntentIncident, -0.5, ""), "technical", "app-complaints", "intent incident"},
		{"channel condition", "precio a Lima?", care.DM, labels("es", classify.IntentSales, 0, ""), "sales", "dm-sales", "channel dm"},
		{"channel condition fails", "precio a Lima?", care.Public, labels("es", classify.IntentSales, 0, ""), "social", "", ""},
		{"personal data", "mi tarjeta 4111 1111 1111 1111", care.Public, withPII(labels("es", classify.IntentQuestion, 0, ""), "mi tarjeta 4111 1111 1111 1111", "4111 1111 1111 1111", classify.PIICard), "billing", "card-data", "personal data card"},
		{"default", "hola", care.Public, labels("es", classify.IntentOther, 0, ""), "social", "", "no routing rule matched"},
	}
	for _, tt := range tests {
		r := tt.r
		got := e.Router().Route(RouteInput{Text: tt.text, Channel: tt.ch, Labels: &r})
		if got.Department != tt.dept || got.Rule != tt.rule || !strings.Contains(got.Why, tt.why) {
			t.Errorf("%s: route = %+v, want %s by %q (%s)", tt.name, got, tt.dept, tt.rule, tt.why)
		}
	}
}
