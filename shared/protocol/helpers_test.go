package protocol

import (
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
)

const (
	brandID  = "1590000000000000001"
	customer = "2900000000000000001"
)

var madrid = func() *time.Location {
	l, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		panic(err)
	}
	return l
}()

// Monday 3 August 2026, 10:00 in Madrid (CEST, UTC+2): open.
var monday10 = time.Date(2026, 8, 3, 10, 0, 0, 0, madrid)

// testConfig is a brand like the sample one: Spanish first, Madrid hours, three
// crisis topics.
func testConfig() Config {
	c := DefaultConfig()
	c.DefaultLang = "es"
	c.Timezone = "Europe/Madrid"
	c.BusinessHours = map[string]string{
		"mon": "08:00-20:00", "tue": "08:00-20:00", "wed": "08:00-20:00", "thu": "08:00-20:00", "fri": "08:00-20:00",
		"sat": "10:00-14:00", "sun": "closed",
	}
	c.Holidays = []string{"2026-12-25"}
	c.Channels = map[string]string{"es": "el chat de la app o el 910 000 000", "en": "the app chat or +34 910 000 000"}
	oh := c.Templates[TemplateOutOfHours]
	oh.Text = map[string]string{
		"es": "Hola, {first_name}. Atendemos {hours}; te respondemos en cuanto abramos. Si es urgente: {channels}. {signature}",
		"en": "Hi {first_name}. We're here {hours}; we'll answer as soon as we open. If it's urgent: {channels}. {signature}",
	}
	oh.Tones = map[string]map[string]string{ToneApology: {
		"es": "Lo sentimos, {first_name}: atendemos {hours} y te respondemos en cuanto abramos. Si es urgente: {channels}. {signature}",
		"en": "We're sorry, {first_name}: we're here {hours} and will answer as soon as we open. If it's urgent: {channels}. {signature}",
	}}
	c.Templates[TemplateOutOfHours] = oh
	c.ForbiddenWords = []string{"problema", "problemas", "problem"}
	c.Replacements = map[string]string{"problema": "incidencia", "problemas": "incidencias", "problem": "issue"}
	c.Crisis.Topics = []CrisisTopic{
		{Name: "delays", Keywords: []string{"retraso*|demora*|delay*"}, Label: map[string]string{"es": "los retrasos", "en": "the delays"}},
		{Name: "baggage", Keywords: []string{"equipaje*|maleta*|baggage|luggage"}, Label: map[string]string{"es": "el equipaje", "en": "baggage"}},
		{Name: "app", Keywords: []string{"app|web"}, Label: map[string]string{"es": "la app", "en": "the app"}},
	}
	return c
}

func newEngine(t testing.TB, edit func(*Config)) *Engine {
	t.Helper()
	c := testConfig()
	if edit != nil {
		edit(&c)
	}
	e, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// labels builds a classification.
func labels(lang string, intent classify.Intent, score float64, level classify.UrgencyLevel, kinds ...classify.UrgencyKind) classify.Result {
	s := classify.Neutral
	switch {
	case score < -0.05:
		s = classify.Negative
	case score > 0.25:
		s = classify.Positive
	}
	if level == "" {
		level = classify.UrgencyNone
	}
	return classify.Result{Lang: lang, LangSource: "x", Intent: intent, Sentiment: s, Score: score,
		Urgency: classify.Urgency{Level: level, Kinds: kinds}, PII: []classify.PII{},
		Reasons: []classify.Reason{{Label: "intent", Value: string(intent), Because: "test"}}}
}

// withPII adds personal data found at value in text.
func withPII(r classify.Result, text, value string, kind classify.PIIKind) classify.Result {
	i := strings.Index(text, value)
	if i < 0 {
		panic("no " + value + " in " + text)
	}
	r.PII = append(r.PII, classify.PII{Kind: kind, Start: i, End: i + len(value), Masked: "****" + value[len(value)-2:]})
	return r
}

// post is an inbound public post of the customer, summoned.
func post(id, text, lang string, at time.Time) care.StoredMessage {
	return care.StoredMessage{
		Message: care.Message{
			Channel: care.Public, Direction: care.Inbound, ID: id, AuthorID: customer,
			AuthorHandle: "ana_garcia", AuthorName: "Ana García", Text: text, Lang: lang,
			CreatedAt: at.UTC(), ConversationID: id, MentionedIDs: []string{brandID}, Summoned: true,
		},
		CaseID: "t" + id, Source: care.SourceXAA, StoredAt: at.UTC(),
	}
}

// dmIn is an inbound DM of the customer.
func dmIn(id, text, lang string, at time.Time) care.StoredMessage {
	m := post(id, text, lang, at)
	m.Channel, m.RecipientID, m.ConversationID, m.MentionedIDs, m.CaseID = care.DM, brandID, "", nil, "d"+id
	return m
}

func caseOf(m care.StoredMessage) care.Case {
	return care.Case{
		ID: m.CaseID, Channel: m.Channel, Status: care.Open, ThreadKey: care.ThreadKey(&m.Message, m.ID),
		CustomerID: customer, CustomerHandle: m.AuthorHandle, Lang: m.Lang, Priority: care.DefaultPriority,
		MessagesIn: 1, CreatedAt: m.CreatedAt, FirstInboundAt: m.CreatedAt, LastInboundAt: m.CreatedAt,
		UpdatedAt: m.CreatedAt, WaitingSince: m.CreatedAt, Summoned: m.Summoned,
	}
}

// input builds the input of a decision on m, decided at now.
func input(m care.StoredMessage, r classify.Result, now time.Time) Input {
	return Input{Case: caseOf(m), Message: m, Labels: r, Now: now.UTC(), History: History{Messages: []care.StoredMessage{m}}}
}

func hasAction(d Decision, k care.ActionKind) bool {
	for _, a := range d.Actions {
		if a.Kind == k {
			return true
		}
	}
	return false
}
