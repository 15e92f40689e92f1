package protocol

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
)

// want describes the expected decision.
type want struct {
	kind       care.ReplyKind // "" : no automatic reply
	channel    care.Channel
	prefix     string   // the reply starts with it
	contains   []string // the reply contains them
	absent     []string // the reply does not contain them
	template   string   // template id prefix
	actions    []care.ActionKind
	notActions []care.ActionKind
	withheld   string // a substring of why the reply was withheld
	dept       string
	escalate   bool
	explain    string // a substring of the explanation
}

func check(t *testing.T, d Decision, w want) {
	t.Helper()
	if w.kind == "" {
		if len(d.Replies) != 0 {
			t.Errorf("replies = %+v, want none", d.Replies)
		}
	} else {
		if len(d.Replies) != 1 {
			t.Fatalf("replies = %+v (withheld: %s), want one %s", d.Replies, d.Withheld, w.kind)
		}
		r := d.Replies[0]
		if err := r.Validate(); err != nil {
			t.Errorf("reply request invalid: %v", err)
		}
		if r.Kind != w.kind {
			t.Errorf("reply kind = %s, want %s", r.Kind, w.kind)
		}
		if w.channel != "" && r.Channel != w.channel {
			t.Errorf("reply channel = %s, want %s", r.Channel, w.channel)
		}
		if !strings.HasPrefix(r.Text, w.prefix) {
			t.Errorf("reply %q does not start with %q", r.Text, w.prefix)
		}
		for _, s := range w.contains {
			if !strings.Contains(r.Text, s) {
				t.Errorf("reply %q does not contain %q", r.Text, s)
			}
		}
		for _, s := range w.absent {
			if strings.Contains(r.Text, s) {
				t.Errorf("reply %q contains %q", r.Text, s)
			}
		}
		if w.template != "" && !strings.HasPrefix(r.TemplateID, w.template) {
			t.Errorf("template = %s, want %s…", r.TemplateID, w.template)
		}
		if Length(r.Text) > MaxPostLength {
			t.Errorf("reply is %d long", Length(r.Text))
		}
		if r.Author != care.AuthorAuto || r.IdempotencyKey != care.ReplyKey(r.CaseID, r.TriggerID, r.Kind) {
			t.Errorf("reply author %q key %q", r.Author, r.IdempotencyKey)
		}
	}
	for _, k := range w.actions {
		if !hasAction(d, k) {
			t.Errorf("actions %+v lack %s", d.Actions, k)
		}
	}
	for _, k := range w.notActions {
		if hasAction(d, k) {
			t.Errorf("actions %+v have %s", d.Actions, k)
		}
	}
	if w.withheld != "" && !strings.Contains(d.Withheld, w.withheld) {
		t.Errorf("withheld = %q, want it to mention %q", d.Withheld, w.withheld)
	}
	if w.dept != "" && d.Route.Department != w.dept {
		t.Errorf("department = %s (%s), want %s", d.Route.Department, d.Route.Why, w.dept)
	}
	if d.Escalate != w.escalate {
		t.Errorf("escalate = %v, want %v", d.Escalate, w.escalate)
	}
	all := strings.Join(d.Record.Explanation, "\n")
	if w.explain != "" && !strings.Contains(all, w.explain) {
		t.Errorf("explanation lacks %q:\n%s", w.explain, all)
	}
	if len(d.Record.Explanation) == 0 || d.Record.CaseID == "" || d.Record.MessageID == "" || len(d.Record.Actions) == 0 {
		t.Errorf("record incomplete: %+v", d.Record)
	}
}

func TestDecideRules(t *testing.T) {
	night := time.Date(2026, 8, 3, 23, 30, 0, 0, madrid)
	tests := []struct {
		name string
		m    care.StoredMessage
		r    classify.Result
		now  time.Time
		edit func(*Input)
		eng  func(*Config)
		want want
	}{
		// Acknowledgements by intent, with apology first on complaints and incidents.
		{name: "complaint es", m: post("101", "@PajaritoAir llevo dos horas esperando en el mostrador, vergüenza", "es", monday10),
			r: labels("es", classify.IntentComplaint, -0.7, classify.UrgencyLow, classify.KindLongWait), now: monday10,
			want: want{kind: care.ReplyAutoAck, channel: care.Public, prefix: "Lo sentimos mucho, Ana.", contains: []string{"^Equipo"}, template: "complaint.es",
				actions: []care.ActionKind{care.ActionAutoAck, care.ActionQueue}}},
		{name: "complaint en", m: post("102", "@PajaritoAir two hours waiting at the desk, disgraceful", "en", monday10),
			r: labels("en", classify.IntentComplaint, -0.7, classify.UrgencyLow, classify.KindLongWait), now: monday10,
			want: want{kind: care.ReplyAutoAck, prefix: "We're so sorry, Ana.", contains: []string{"^Team"}, template: "complaint.en",
				actions: []care.ActionKind{care.ActionAutoAck, care.ActionQueue}}},
		{name: "incident es", m: post("103", "@PajaritoAir mi vuelo PJ123 cancelado sin aviso", "es", monday10),
			r: labels("es", classify.IntentIncident, -0.6, classify.UrgencyNone), now: monday10,
			want: want{kind: care.ReplyAutoAck, prefix: "Lo sentimos, Ana.", contains: []string{"incidencia"}, absent: []string{"problema"}}},
		{name: "incident en", m: post("104", "@PajaritoAir my flight PJ123 got cancelled", "en", monday10),
			r: labels("en", classify.IntentIncident, -0.6, classify.UrgencyNone), now: monday10,
			want: want{kind: care.ReplyAutoAck, prefix: "We're sorry, Ana."}},
		{name: "question es", m: post("105", "@PajaritoAir ¿cuántas maletas puedo llevar?", "es", monday10),
			r: labels("es", classify.IntentQuestion, 0, classify.UrgencyNone), now: monday10,
			want: want{kind: care.ReplyAutoAck, prefix: "¡Hola, Ana!", template: "question.es"}},
		{name: "question en", m: post("106", "@PajaritoAir how many bags can I take?", "en", monday10),
			r: labels("en", classify.IntentQuestion, 0, classify.UrgencyNone), now: monday10,
			want: want{kind: care.ReplyAutoAck, prefix: "Hi Ana!"}},
		{name: "sales es", m: post("107", "@PajaritoAir ¿cuánto cuesta volar a Lima en diciembre?", "es", monday10),
			r: labels("es", classify.IntentSales, 0, classify.UrgencyNone), now: monday10,
			want: want{kind: care.ReplyAutoAck, prefix: "¡Hola, Ana!", dept: "sales"}},
		{name: "sales en", m: post("108", "@PajaritoAir how much is a flight to Lima in December?", "en", monday10),
			r: labels("en", classify.IntentSales, 0, classify.UrgencyNone), now: monday10,
			want: want{kind: care.ReplyAutoAck, prefix: "Hi Ana!", dept: "sales"}},

		// Praise is thanked, never apologised to: not even at night or in a crisis.
		{name: "praise es", m: post("111", "@PajaritoAir gracias, la tripulación genial", "es", monday10),
			r: labels("es", classify.IntentPraise, 0.9, classify.UrgencyNone), now: monday10,
			want: want{kind: care.ReplyAutoAck, prefix: "¡Muchas gracias, Ana!", absent: []string{"sentimos", "Lo siento", "disculp"}, template: "praise.es"}},
		{name: "praise en", m: post("112", "@PajaritoAir thanks, great crew!", "en", monday10),
			r: labels("en", classify.IntentPraise, 0.9, classify.UrgencyNone), now: monday10,
			want: want{kind: care.ReplyAutoAck, prefix: "Thank you so much, Ana!", absent: []string{"sorry", "apolog"}}},
		{name: "praise at night is thanked, not told the hours", m: post("113", "@PajaritoAir thanks for the upgrade!", "en", night),
			r: labels("en", classify.IntentPraise, 0.9, classify.UrgencyNone), now: night,
			want: want{kind: care.ReplyAutoAck, prefix: "Thank you so much", absent: []string{"sorry", "closed"}, notActions: []care.ActionKind{care.ActionOutOfHours}}},
		{name: "praise about a crisis topic is thanked", m: post("114", "@PajaritoAir gracias por avisar del retraso con tiempo", "es", monday10),
			r: labels("es", classify.IntentPraise, 0.8, classify.UrgencyNone), now: monday10,
			edit: func(in *Input) {
				in.Crises = []care.CrisisState{{Topic: "delays", Active: true, Since: monday10.Add(-time.Hour)}}
			},
			want: want{kind: care.ReplyAutoAck, prefix: "¡Muchas gracias", absent: []string{"sentimos"}}},

		// X rules: summoned only on self-serve; enterprise may answer anyone.
		{name: "self-serve, not summoned es", m: func() care.StoredMessage {
			m := post("121", "Pajarito Air me ha perdido la maleta otra vez", "es", monday10)
			m.Summoned, m.MentionedIDs = false, nil
			return m
		}(), r: labels("es", classify.IntentComplaint, -0.8, classify.UrgencyNone), now: monday10,
			want: want{withheld: "self-serve tier", actions: []care.ActionKind{care.ActionQueue}, notActions: []care.ActionKind{care.ActionAutoAck}, explain: "self-serve"}},
		{name: "self-serve, not summoned en", m: func() care.StoredMessage {
			m := post("122", "Pajarito Air lost my bag again", "en", monday10)
			m.Summoned, m.MentionedIDs = false, nil
			return m
		}(), r: labels("en", classify.IntentComplaint, -0.8, classify.UrgencyNone), now: monday10,
			want: want{withheld: "mention or quote", actions: []care.ActionKind{care.ActionQueue}}},
		{name: "enterprise, not summoned", m: func() care.StoredMessage {
			m := post("123", "Pajarito Air lost my bag again", "en", monday10)
			m.Summoned, m.MentionedIDs = false, nil
			return m
		}(), r: labels("en", classify.IntentComplaint, -0.8, classify.UrgencyNone), now: monday10,
			edit: func(in *Input) { in.Tier = Enterprise },
			want: want{kind: care.ReplyAutoAck, prefix: "We're so sorry"}},
		{name: "enterprise from the configuration", m: func() care.StoredMessage {
			m := post("124", "Pajarito Air me ha perdido la maleta", "es", monday10)
			m.Summoned = false
			return m
		}(), r: labels("es", classify.IntentComplaint, -0.8, classify.UrgencyNone), now: monday10,
			eng:  func(c *Config) { c.Tier = Enterprise },
			want: want{kind: care.ReplyAutoAck, prefix: "Lo sentimos"}},

		// Cooldown.
		{name: "cooldown es", m: post("131", "@PajaritoAir ¿y mi maleta? sigo esperando", "es", monday10),
			r: labels("es", classify.IntentComplaint, -0.6, classify.UrgencyNone), now: monday10,
			edit: func(in *Input) { in.History.LastAutoReplyAt = monday10.Add(-2 * time.Hour) },
			want: want{withheld: "within the 24h cooldown", actions: []care.ActionKind{care.ActionQueue}}},
		{name: "cooldown en", m: post("132", "@PajaritoAir still no news about my bag", "en", monday10),
			r: labels("en", classify.IntentComplaint, -0.6, classify.UrgencyNone), now: monday10,
			edit: func(in *Input) { in.History.LastAutoReplyAt = monday10.Add(-23 * time.Hour) },
			want: want{withheld: "cooldown"}},
		{name: "after the cooldown", m: post("133", "@PajaritoAir still no news about my bag", "en", monday10),
			r: labels("en", classify.IntentComplaint, -0.6, classify.UrgencyNone), now: monday10,
			edit: func(in *Input) { in.History.LastAutoReplyAt = monday10.Add(-25 * time.Hour) },
			want: want{kind: care.ReplyAutoAck}},

		// Found late: past auto_reply_max_age, a person answers; within it, or
		// with no limit set, the acknowledgement goes out.
		{name: "too old for an automatic reply", m: post("134", "@PajaritoAir still no news about my bag", "en", monday10.Add(-30*time.Hour)),
			r: labels("en", classify.IntentComplaint, -0.6, classify.UrgencyNone), now: monday10,
			eng:  func(c *Config) { c.AutoReplyMaxAge = DurationOf(24 * time.Hour) },
			want: want{withheld: "written 30h ago, longer than auto_reply_max_age (24h)", actions: []care.ActionKind{care.ActionQueue}, notActions: []care.ActionKind{care.ActionAutoAck}}},
		{name: "within auto_reply_max_age", m: post("135", "@PajaritoAir still no news about my bag", "en", monday10.Add(-23*time.Hour)),
			r: labels("en", classify.IntentComplaint, -0.6, classify.UrgencyNone), now: monday10,
			eng:  func(c *Config) { c.AutoReplyMaxAge = DurationOf(24 * time.Hour) },
			want: want{kind: care.ReplyAutoAck}},
		{name: "no age limit by default", m: post("136", "@PajaritoAir still no news about my bag", "en", monday10.Add(-30*24*time.Hour)),
			r: labels("en", classify.IntentComplaint, -0.6, classify.UrgencyNone), now: monday10,
			want: want{kind: care.ReplyAutoAck}},

		// Spam and the brand's own messages: no action.
		{name: "spam", m: post("141", "@PajaritoAir follow back! free crypto", "en", monday10),
			r: labels("en", classify.IntentSpam, 0.4, classify.UrgencyNone), now: monday10,
			want: want{actions: []care.ActionKind{care.ActionNone}, notActions: []care.ActionKind{care.ActionQueue, care.ActionAutoAck}, explain: "spam"}},
		{name: "spam es", m: post("142", "@PajaritoAir sígueme y te sigo, gana dinero", "es", monday10),
			r: labels("es", classify.IntentSpam, 0.4, classify.UrgencyNone), now: monday10,
			want: want{actions: []care.ActionKind{care.ActionNone}, notActions: []care.ActionKind{care.ActionQueue}}},
		{name: "outbound", m: func() care.StoredMessage {
			m := post("143", "Lo sentimos, Ana. Te escribimos por DM. ^Equipo", "es", monday10)
			m.Direction, m.AuthorID, m.InReplyToUserID = care.Outbound, brandID, customer
			return m
		}(), r: labels("es", classify.IntentComplaint, -0.2, classify.UrgencyNone), now: monday10,
			want: want{actions: []care.ActionKind{care.ActionNone}, notActions: []care.ActionKind{care.ActionQueue}, explain: "written by the brand"}},

		// Move to DM, never echoing personal data.
		{name: "PII es", m: post("151", "@PajaritoAir mi localizador es QX7Z2P y no me deja facturar", "es", monday10),
			r: withPII(labels("es", classify.IntentComplaint, -0.5, classify.UrgencyNone), "@PajaritoAir mi localizador es QX7Z2P y no me deja facturar", "QX7Z2P", classify.PIIBooking), now: monday10,
			want: want{kind: care.ReplyMoveToDM, channel: care.Public, prefix: "Lo sentimos, Ana.", contains: []string{"mensaje directo"}, absent: []string{"QX7Z2P", "7Z2P"},
				template: "move_to_dm.apology.es", actions: []care.ActionKind{care.ActionMoveToDM, care.ActionQueue}, explain: "personal data posted in public (booking)"}},
		{name: "PII en", m: post("152", "@PajaritoAir my email is ana.garcia@example.com, please call me", "en", monday10),
			r: withPII(labels("en", classify.IntentQuestion, 0, classify.UrgencyNone), "@PajaritoAir my email is ana.garcia@example.com, please call me", "ana.garcia@example.com", classify.PIIEmail), now: monday10,
			want: want{kind: care.ReplyMoveToDM, prefix: "Hi Ana.", contains: []string{"DM"}, absent: []string{"ana.garcia", "example.com"}, template: "move_to_dm.en"}},
		{name: "account matter en", m: post("153", "@PajaritoAir I was charged twice for my ticket", "en", monday10),
			r: labels("en", classify.IntentComplaint, -0.6, classify.UrgencyNone), now: monday10,
			want: want{kind: care.ReplyMoveToDM, prefix: "We're sorry", dept: "billing", explain: "private matter"}},
		{name: "payment matter es", m: post("154", "@PajaritoAir me habéis hecho un cobro doble", "es", monday10),
			r: labels("es", classify.IntentComplaint, -0.6, classify.UrgencyNone), now: monday10,
			want: want{kind: care.ReplyMoveToDM, prefix: "Lo sentimos", dept: "billing"}},
		{name: "praise for a refund es", m: post("158", "@PajaritoAir pedí un reembolso el lunes y hoy ya lo tengo. ¡Así da gusto!", "es", monday10),
			r: labels("es", classify.IntentPraise, 0.8, classify.UrgencyNone), now: monday10,
			want: want{kind: care.ReplyAutoAck, prefix: "¡Muchas gracias", dept: "billing", notActions: []care.ActionKind{care.ActionMoveToDM}}},
		{name: "praise with a payment word en", m: post("159", "@PajaritoAir thanks, the refund to my card came in two days!", "en", monday10),
			r: labels("en", classify.IntentPraise, 0.8, classify.UrgencyNone), now: monday10,
			want: want{kind: care.ReplyAutoAck, prefix: "Thank you so much", notActions: []care.ActionKind{care.ActionMoveToDM}}},
		{name: "the check-in desk is no invoice es", m: post("160", "@PajaritoAir en el mostrador de facturación me han tratado fatal", "es", monday10),
			r: labels("es", classify.IntentComplaint, -0.7, classify.UrgencyNone), now: monday10,
			want: want{kind: care.ReplyAutoAck, prefix: "Lo sentimos", dept: "social", notActions: []care.ActionKind{care.ActionMoveToDM}}},
		{name: "grave es", m: post("155", "@PajaritoAir hay humo en la cabina del vuelo PJ123", "es", monday10),
			r: labels("es", classify.IntentComplaint, -0.5, classify.UrgencyCritical, classify.KindSafety), now: monday10,
			want: want{kind: care.ReplyMoveToDM, prefix: "Lo sentimos mucho, Ana.", contains: []string{"en serio"}, template: "move_to_dm.serious.es", dept: "safety", escalate: true,
				actions: []care.ActionKind{care.ActionEscalate, care.ActionMoveToDM, care.ActionQueue}}},
		{name: "grave en", m: post("156", "@PajaritoAir my lawyer will hear about this", "en", monday10),
			r: labels("en", classify.IntentComplaint, -0.7, classify.UrgencyHigh, classify.KindLegalThreat), now: monday10,
			want: want{kind: care.ReplyMoveToDM, prefix: "We're very sorry, Ana.", escalate: true, actions: []care.ActionKind{care.ActionEscalate}}},
		{name: "PII in a DM stays in the DM", m: dmIn("157", "mi localizador es QX7Z2P, ¿me cambiáis el asiento?", "es", monday10),
			r: withPII(labels("es", classify.IntentQuestion, 0, classify.UrgencyNone), "mi localizador es QX7Z2P, ¿me cambiáis el asiento?", "QX7Z2P", classify.PIIBooking), now: monday10,
			want: want{kind: care.ReplyAutoAck, channel: care.DM, prefix: "¡Hola, Ana!", notActions: []care.ActionKind{care.ActionMoveToDM}}},

		// Out of hours: time zone, holidays, apology tone for complaints.
		{name: "out of hours es", m: post("161", "@PajaritoAir ¿a qué hora abre el mostrador de Barajas?", "es", night),
			r: labels("es", classify.IntentQuestion, 0, classify.UrgencyNone), now: night,
			want: want{kind: care.ReplyOutOfHours, prefix: "Hola, Ana.", contains: []string{"lun-vie 8:00-20:00, sáb 10:00-14:00 (hora de Madrid)", "910 000 000"}, template: "out_of_hours.es",
				actions: []care.ActionKind{care.ActionOutOfHours}, explain: "closed at Mon 23:30 Europe/Madrid"}},
		{name: "out of hours complaint en", m: post("162", "@PajaritoAir my bag never arrived, terrible", "en", night),
			r: labels("en", classify.IntentComplaint, -0.8, classify.UrgencyNone), now: night,
			want: want{kind: care.ReplyOutOfHours, prefix: "We're sorry, Ana:", contains: []string{"Mon-Fri 8:00-20:00, Sat 10:00-14:00 (Madrid time)", "+34 910 000 000"}, template: "out_of_hours.apology.en"}},
		{name: "holiday", m: post("163", "@PajaritoAir hola, ¿puedo llevar a mi perro?", "es", time.Date(2026, 12, 25, 12, 0, 0, 0, madrid)),
			r: labels("es", classify.IntentQuestion, 0, classify.UrgencyNone), now: time.Date(2026, 12, 25, 12, 0, 0, 0, madrid),
			want: want{kind: care.ReplyOutOfHours, explain: "(a holiday)"}},
		{name: "holiday is the Madrid date, not the UTC one", m: post("164", "@PajaritoAir hi, can I bring my dog?", "en", time.Date(2026, 12, 24, 23, 30, 0, 0, time.UTC)),
			r: labels("en", classify.IntentQuestion, 0, classify.UrgencyNone), now: time.Date(2026, 12, 24, 23, 30, 0, 0, time.UTC),
			want: want{kind: care.ReplyOutOfHours, explain: "Fri 00:30"}},
		{name: "Sunday closed", m: post("165", "@PajaritoAir hi, can I bring my dog?", "en", time.Date(2026, 8, 9, 12, 0, 0, 0, madrid)),
			r: labels("en", classify.IntentQuestion, 0, classify.UrgencyNone), now: time.Date(2026, 8, 9, 12, 0, 0, 0, madrid),
			want: want{kind: care.ReplyOutOfHours}},

		// Crisis: the crisis template for related cases, individual acks for others.
		{name: "crisis es", m: post("171", "@PajaritoAir otra vez retraso en Barajas, una vergüenza", "es", monday10),
			r: labels("es", classify.IntentComplaint, -0.8, classify.UrgencyNone), now: monday10,
			edit: func(in *Input) {
				in.Crises = []care.CrisisState{{Topic: "delays", Active: true, Since: monday10.Add(-time.Hour)}}
			},
			want: want{kind: care.ReplyCrisis, prefix: "Lo sentimos, Ana.", contains: []string{"Estamos al tanto de la incidencia con los retrasos", "Te mantenemos informado"},
				template: "crisis.es", actions: []care.ActionKind{care.ActionCrisisReply}, explain: `about "delays"`}},
		{name: "crisis en", m: post("172", "@PajaritoAir another delay, 3 hours at the gate", "en", monday10),
			r: labels("en", classify.IntentIncident, -0.8, classify.UrgencyNone), now: monday10,
			edit: func(in *Input) {
				in.Crises = []care.CrisisState{{Topic: "delays", Active: true, Since: monday10.Add(-time.Hour)}}
			},
			want: want{kind: care.ReplyCrisis, prefix: "We're sorry, Ana.", contains: []string{"aware of the issue with the delays"}}},
		{name: "crisis, its statement out", m: post("176", "@PajaritoAir otra vez retraso en Barajas", "es", monday10),
			r: labels("es", classify.IntentComplaint, -0.8, classify.UrgencyNone), now: monday10,
			edit: func(in *Input) {
				in.Crises = []care.CrisisState{{Topic: "delays", Active: true, Since: monday10.Add(-time.Hour),
					StatementID: "1890000000000000001", StatementAt: monday10.Add(-20 * time.Minute)}}
			},
			want: want{kind: care.ReplyCrisis, prefix: "Lo sentimos, Ana.", contains: []string{"en nuestro perfil qué pasa con los retrasos", "última actualización: 09:40"},
				absent: []string{"http", "x.com"}, template: "crisis_statement.es", actions: []care.ActionKind{care.ActionCrisisReply}, explain: "public statement"}},
		{name: "crisis, its statement out, no such template", m: post("177", "@PajaritoAir another delay", "en", monday10),
			r: labels("en", classify.IntentComplaint, -0.8, classify.UrgencyNone), now: monday10,
			eng: func(c *Config) { delete(c.Templates, TemplateCrisisStatement) },
			edit: func(in *Input) {
				in.Crises = []care.CrisisState{{Topic: "delays", Active: true, Since: monday10.Add(-time.Hour),
					StatementID: "1890000000000000001", StatementAt: monday10.Add(-20 * time.Minute)}}
			},
			want: want{kind: care.ReplyCrisis, template: "crisis.en"}},
		{name: "crisis replies of the window taken", m: post("175", "@PajaritoAir another delay, unbelievable", "en", monday10),
			r: labels("en", classify.IntentComplaint, -0.8, classify.UrgencyNone), now: monday10,
			edit: func(in *Input) {
				in.Crises = []care.CrisisState{{Topic: "delays", Active: true, Since: monday10.Add(-time.Hour)}}
				in.CrisisRepliesFull = true
			},
			want: want{withheld: "automatic crisis replies", actions: []care.ActionKind{care.ActionQueue}, notActions: []care.ActionKind{care.ActionCrisisReply, care.ActionAutoAck}, explain: "Crisis"}},
		{name: "crisis of another topic", m: post("173", "@PajaritoAir la app no funciona", "es", monday10),
			r: labels("es", classify.IntentIncident, -0.6, classify.UrgencyNone), now: monday10,
			edit: func(in *Input) {
				in.Crises = []care.CrisisState{{Topic: "delays", Active: true, Since: monday10.Add(-time.Hour)}}
			},
			want: want{kind: care.ReplyAutoAck, dept: "technical"}},
		{name: "closed crisis", m: post("174", "@PajaritoAir otro retraso", "es", monday10),
			r: labels("es", classify.IntentComplaint, -0.6, classify.UrgencyNone), now: monday10,
			edit: func(in *Input) { in.Crises = []care.CrisisState{{Topic: "delays", Active: false}} },
			want: want{kind: care.ReplyAutoAck}},

		// Languages: others fall back to the brand's default.
		{name: "French falls back to Spanish", m: post("181", "@PajaritoAir mon vol est annulé", "fr", monday10),
			r: labels("fr", classify.IntentIncident, -0.5, classify.UrgencyNone), now: monday10,
			want: want{kind: care.ReplyAutoAck, prefix: "Lo sentimos", explain: `Language "fr" has no templates`}},
		{name: "no display name", m: func() care.StoredMessage {
			m := post("182", "@PajaritoAir ¿tenéis wifi a bordo?", "es", monday10)
			m.AuthorName = "✈️ 🌍"
			return m
		}(), r: labels("es", classify.IntentQuestion, 0, classify.UrgencyNone), now: monday10,
			want: want{kind: care.ReplyAutoAck, prefix: "¡Hola! Gracias por escribirnos"}},

		// Links: none in automatic replies unless the template opts in.
		{name: "link in a template without allow_links", m: post("191", "@PajaritoAir how do I check in?", "en", monday10),
			r: labels("en", classify.IntentQuestion, 0, classify.UrgencyNone), now: monday10,
			eng: func(c *Config) {
				c.Templates[TemplateQuestion] = Template{Text: map[string]string{"es": "Hola. Mira pajaritoair.com/ayuda {signature}", "en": "Hi. See pajaritoair.com/help {signature}"}, AllowLinks: true}
			},
			edit: func(in *Input) {}, want: want{kind: care.ReplyAutoAck, contains: []string{"pajaritoair.com/help"}}},
		{name: "intent other is not acknowledged", m: post("192", "@PajaritoAir vi vuestro avión en Barajas", "es", monday10),
			r: labels("es", classify.IntentOther, 0, classify.UrgencyNone), now: monday10,
			want: want{actions: []care.ActionKind{care.ActionQueue}, explain: "no template answers intent other"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, tt.eng)
			in := input(tt.m, tt.r, tt.now)
			if tt.edit != nil {
				tt.edit(&in)
			}
			d, err := e.Decide(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			check(t, d, tt.want)
			if t.Failed() {
				t.Logf("explanation:\n%s", strings.Join(d.Record.Explanation, "\n"))
			}
		})
	}
}

// Deciding again on the same message gives the same decision and reply keys, so a
// redelivered decision is sent once.
func TestDecideDeterministic(t *testing.T) {
	e := newEngine(t, nil)
	m := post("201", "@PajaritoAir mi maleta no ha llegado", "es", monday10)
	in := input(m, labels("es", classify.IntentComplaint, -0.6, classify.UrgencyNone), monday10)
	a, _ := e.Decide(context.Background(), in)
	b, _ := e.Decide(context.Background(), in)
	if len(a.Replies) != 1 || a.Replies[0].IdempotencyKey != b.Replies[0].IdempotencyKey || a.Replies[0].Text != b.Replies[0].Text {
		t.Fatalf("decisions differ: %+v / %+v", a.Replies, b.Replies)
	}
	if strings.Join(a.Record.Explanation, "|") != strings.Join(b.Record.Explanation, "|") || a.Priority.Score != b.Priority.Score {
		t.Error("records differ")
	}
	other := care.ReplyKey(m.CaseID, m.ID, care.ReplyMoveToDM)
	if other == a.Replies[0].IdempotencyKey {
		t.Error("different kinds share a key")
	}
}

// The template linter blocks an automatic reply that would break a rule, and says
// why; the case is queued for an agent.
func TestDecideLinterBlocks(t *testing.T) {
	// A template that shows the handle, and a customer whose handle is their own
	// booking locator (which they gave by DM): the reply would echo it in public.
	e := newEngine(t, func(c *Config) {
		q := c.Templates[TemplateQuestion]
		q.Text = map[string]string{"es": "¡Hola, {handle}! Te respondemos en breve. {signature}", "en": "Hi {handle}! We'll answer shortly. {signature}"}
		c.Templates[TemplateQuestion] = q
	})
	earlier := dmIn("210", "hola, mi localizador es QX7Z2P", "es", monday10.Add(-time.Hour))
	m := post("211", "@PajaritoAir ¿tenéis wifi a bordo?", "es", monday10)
	m.AuthorHandle = "QX7Z2P"
	in := input(m, labels("es", classify.IntentQuestion, 0, classify.UrgencyNone), monday10)
	in.History.Messages = []care.StoredMessage{earlier, m}
	d, err := e.Decide(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Replies) != 0 || !strings.Contains(d.Withheld, "linter blocked") || !strings.Contains(d.Withheld, RulePII) || !hasAction(d, care.ActionQueue) {
		t.Fatalf("replies %+v, withheld %q", d.Replies, d.Withheld)
	}
}

func TestDecideBadInput(t *testing.T) {
	e := newEngine(t, nil)
	m := post("221", "hola", "es", monday10)
	in := input(m, labels("es", classify.IntentQuestion, 0, ""), monday10)
	for name, edit := range map[string]func(*Input){
		"no case":    func(in *Input) { in.Case.ID = "" },
		"no message": func(in *Input) { in.Message.ID = "" },
		"no time":    func(in *Input) { in.Now = time.Time{} },
	} {
		x := in
		edit(&x)
		if _, err := e.Decide(context.Background(), x); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Decide(ctx, in); err == nil {
		t.Error("cancelled context: no error")
	}
}

func TestAgentReply(t *testing.T) {
	e := newEngine(t, nil)
	m := post("231", "@PajaritoAir me habéis perdido la maleta", "es", monday10)
	c := caseOf(m)
	in := AgentReplyInput{Case: c, Messages: []care.StoredMessage{m}, ReplyTo: m, Channel: care.Public,
		Text: "Lo sentimos, Ana. Ya hemos localizado tu maleta: llega mañana a tu hotel.", AgentID: "agent-7", AgentName: "Ana Ruiz",
		DraftID: "draft-1", Intent: classify.IntentComplaint, Now: monday10}
	req, lint, err := e.AgentReply(in)
	if err != nil || req == nil {
		t.Fatalf("AgentReply: %v %+v", err, lint)
	}
	if !strings.HasSuffix(req.Text, " ^Ana") || req.Author != "agent-7" || req.Kind != care.ReplyAgent || req.InReplyToID != m.ID {
		t.Errorf("request = %+v", req)
	}
	if req.IdempotencyKey != care.ReplyKey(c.ID, "draft-1", care.ReplyAgent) {
		t.Error("key is not the draft's")
	}
	// Signing twice does not sign twice.
	if s := e.Sign(req.Text, "Ana Ruiz"); s != req.Text {
		t.Errorf("signed twice: %q", s)
	}
	// A draft without apology is refused, with the reason in Spanish.
	in.Text = "Ya hemos localizado tu maleta."
	req, lint, err = e.AgentReply(in)
	if err != nil || req != nil || lint.OK() || lint.Errors[0].Rule != RuleApologyFirst || !strings.Contains(lint.Errors[0].Message, "disculpas") {
		t.Fatalf("draft without apology: %+v %+v %v", req, lint, err)
	}
	// A DM goes to the customer.
	in.Text, in.Channel = "Lo sentimos, Ana. Tu localizador es QX7Z2P.", care.DM
	in.Messages = append(in.Messages, dmIn("232", "mi localizador es QX7Z2P", "es", monday10))
	req, lint, err = e.AgentReply(in)
	if err != nil || req == nil || req.RecipientID != customer || req.InReplyToID != "" {
		t.Fatalf("DM: %+v %+v %v", req, lint, err)
	}
	if _, _, err := e.AgentReply(AgentReplyInput{}); err == nil {
		t.Error("empty input accepted")
	}
}

func BenchmarkDecide(b *testing.B) {
	e := newEngine(b, nil)
	m := post("301", "@PajaritoAir llevo dos horas esperando mi maleta en Barajas, vergüenza", "es", monday10)
	in := input(m, labels("es", classify.IntentComplaint, -0.7, classify.UrgencyLow, classify.KindLongWait), monday10)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Decide(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}
