package protocol

import (
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
)

func TestLint(t *testing.T) {
	l := newEngine(t, nil).Linter()
	at := monday10
	publicPII := post("401", "@PajaritoAir mi localizador es QX7Z2P y mi email ana.garcia@example.com", "es", at)
	dmSecret := dmIn("402", "Te he pagado con la tarjeta que termina en 4242 el vuelo a Lima del martes", "es", at)
	dmOut := dmIn("403", "Tu nuevo vuelo sale el jueves 6 a las 7:15 desde la T4", "es", at)
	dmOut.Direction, dmOut.AuthorID, dmOut.RecipientID = care.Outbound, brandID, customer
	dmShort := dmIn("404", "vivo en Chamberí", "es", at)
	history := []care.StoredMessage{publicPII, dmSecret, dmOut, dmShort}
	long := strings.Repeat("a", 275)

	tests := []struct {
		name     string
		d        ReplyDraft
		errors   []string // rules
		warnings []string
		message  string // a substring of the first issue's message
	}{
		{name: "clean es", d: ReplyDraft{Text: "Lo sentimos, Ana. Te escribimos por DM. ^Equipo", Lang: "es", Intent: classify.IntentComplaint}},
		{name: "clean en", d: ReplyDraft{Text: "We're sorry, Ana. We'll DM you. ^Team", Lang: "en", Intent: classify.IntentIncident}},
		{name: "empty", d: ReplyDraft{Text: "  ", Lang: "es"}, errors: []string{RuleEmpty}, message: "vacía"},
		{name: "empty en", d: ReplyDraft{Text: "", Lang: "en"}, errors: []string{RuleEmpty}, message: "empty"},

		// Length: 280 as X counts, signature included; links count 23.
		{name: "280 with signature", d: ReplyDraft{Text: long + " ^Ana", Lang: "es"}},
		{name: "281 with signature es", d: ReplyDraft{Text: long + " ^Anas", Lang: "es"}, errors: []string{RuleLength}, message: "281 caracteres"},
		{name: "281 with signature en", d: ReplyDraft{Text: long + " ^Anas", Lang: "en"}, errors: []string{RuleLength}, message: "281 characters"},
		{name: "emoji count 2", d: ReplyDraft{Text: strings.Repeat("a", 279) + "👍🏽", Lang: "en"}, errors: []string{RuleLength}},
		{name: "280 with an emoji", d: ReplyDraft{Text: strings.Repeat("a", 278) + "👍🏽", Lang: "en"}},
		{name: "a long link counts 23", d: ReplyDraft{Text: strings.Repeat("a", 250) + " https://pajaritoair.com/" + strings.Repeat("x", 100), Lang: "en"}, warnings: []string{RuleLinkCost}},
		{name: "a long DM is fine", d: ReplyDraft{Text: strings.Repeat("hola ", 100), Channel: care.DM, Lang: "es"}},
		{name: "too long a DM", d: ReplyDraft{Text: strings.Repeat("a", care.MaxDMLength+1), Channel: care.DM, Lang: "es"}, errors: []string{RuleLength}, message: "mensaje directo"},

		// Apology first on complaints and incidents.
		{name: "no apology es", d: ReplyDraft{Text: "Hola Ana. Lo sentimos mucho. ^Equipo", Lang: "es", Intent: classify.IntentComplaint}, errors: []string{RuleApologyFirst}, message: "Lo sentimos"},
		{name: "no apology en", d: ReplyDraft{Text: "Hi Ana, we're looking into it. Sorry! ^Team", Lang: "en", Intent: classify.IntentIncident}, errors: []string{RuleApologyFirst}, message: "starts with an apology"},
		{name: "apology in the first sentence es", d: ReplyDraft{Text: "Hola Ana, lamentamos mucho el retraso. ^Equipo", Lang: "es", Intent: classify.IntentComplaint}},
		{name: "apology in the first sentence en", d: ReplyDraft{Text: "@ana_garcia Apologies for the wait, Ana. ^Team", Lang: "en", Intent: classify.IntentComplaint}},
		{name: "questions need no apology", d: ReplyDraft{Text: "Hola Ana, sí: 23 kg. ^Equipo", Lang: "es", Intent: classify.IntentQuestion}},

		// Praise is not apologised to.
		{name: "apology to praise by an agent es", d: ReplyDraft{Text: "¡Gracias, Ana! Perdona la tardanza. ^Luis", Lang: "es", Intent: classify.IntentPraise}, warnings: []string{RuleApologyToPraise}, message: "agradécelo"},
		{name: "apology to praise, automatic en", d: ReplyDraft{Text: "Sorry, and thanks! ^Team", Lang: "en", Intent: classify.IntentPraise, Automatic: true}, errors: []string{RuleApologyToPraise}, message: "thank them"},

		// Forbidden words.
		{name: "problema", d: ReplyDraft{Text: "Lo sentimos, Ana: hubo un Problema con tu reserva. ^Equipo", Lang: "es", Intent: classify.IntentComplaint}, errors: []string{RuleForbiddenWord}, message: `escribe "incidencia"`},
		{name: "problemas, accents and case", d: ReplyDraft{Text: "Lo sentimos: PROBLEMÁS técnicos. ^Equipo", Lang: "es"}, errors: []string{RuleForbiddenWord}, message: `"incidencias"`},
		{name: "problem en", d: ReplyDraft{Text: "Sorry about the problem, Ana. ^Team", Lang: "en"}, errors: []string{RuleForbiddenWord}, message: `write "issue" instead`},
		{name: "word boundaries", d: ReplyDraft{Text: "Hola, es problemático pero lo vemos. ^Equipo", Lang: "es"}},

		// Personal data.
		{name: "customer's locator in public es", d: ReplyDraft{Text: "Hola Ana, tu reserva QX7Z2P ya está cambiada. ^Equipo", Lang: "es", CustomerID: customer, Messages: history}, errors: []string{RulePII}, message: "datos personales"},
		{name: "customer's e-mail in public en", d: ReplyDraft{Text: "Hi Ana, we wrote to ana.garcia@example.com. ^Team", Lang: "en", CustomerID: customer, Messages: history}, errors: []string{RulePII}, message: "personal data"},
		{name: "bare locator in public", d: ReplyDraft{Text: "Hola Ana, QX7Z2P ok. ^Equipo", Lang: "es", CustomerID: customer, Messages: history}, errors: []string{RulePII}, message: "datos personales"},
		{name: "the customer's locator written so the classifier misses it", d: ReplyDraft{Text: "Hola Ana, Q-X-7-Z-2-P ok. ^Equipo", Lang: "es", CustomerID: customer, Messages: history}, errors: []string{RulePII}, message: "repite datos personales"},
		{name: "sensitive given by the caller", d: ReplyDraft{Text: "Hi Ana, we'll send it to Calle Mayor 5. ^Team", Lang: "en", Sensitive: []string{"Calle Mayor 5"}}, errors: []string{RulePII}, message: "repeats the customer's personal data"},
		{name: "customer's locator in a DM", d: ReplyDraft{Text: "Hola Ana, tu reserva QX7Z2P ya está cambiada. ^Equipo", Channel: care.DM, Lang: "es", CustomerID: customer, Messages: history}},
		{name: "someone else's locator in a DM", d: ReplyDraft{Text: "Hola Ana, tu localizador es ZZ9K4M. ^Equipo", Channel: care.DM, Lang: "es", CustomerID: customer, Messages: history}, errors: []string{RulePII}, message: "no son del cliente"},
		{name: "someone else's e-mail in a DM en", d: ReplyDraft{Text: "Hi Ana, write to pedro.ruiz@example.com. ^Team", Channel: care.DM, Lang: "en", CustomerID: customer, Messages: history}, errors: []string{RulePII}, message: "is not this case's customer's"},
		{name: "the brand's own phone", d: ReplyDraft{Text: "Hi Ana, call +34 910 000 000. ^Team", Lang: "en", Messages: history}},

		// DM content never in public.
		{name: "customer's DM in public es", d: ReplyDraft{Text: "Hola Ana: el vuelo a Lima del martes ya está pagado. ^Equipo", Lang: "es", Messages: history}, errors: []string{RuleDMContent}, message: "mensaje directo"},
		{name: "brand's DM in public en", d: ReplyDraft{Text: "Hi Ana, tu nuevo vuelo sale el jueves 6 a las 7:15. ^Team", Lang: "en", Messages: history}, errors: []string{RuleDMContent}, message: "repeats a DM"},
		{name: "a short DM repeated whole", d: ReplyDraft{Text: "Ana, que vivo en Chamberí no importa. ^Equipo", Lang: "es", Messages: history}, errors: []string{RuleDMContent}},
		{name: "DM content in a DM is fine", d: ReplyDraft{Text: "Ana, el vuelo a Lima del martes ya está pagado. ^Equipo", Channel: care.DM, Lang: "es", Messages: history}},
		{name: "template wording is not DM content", d: ReplyDraft{Text: "Lo sentimos, Ana. Para revisarlo sin exponer tus datos, escríbenos por mensaje directo y lo vemos allí. ^Equipo", Lang: "es", Intent: classify.IntentComplaint,
			Messages: append(history, func() care.StoredMessage {
				m := dmIn("405", "Lo sentimos, Ana. Para revisarlo sin exponer tus datos, escríbenos por mensaje directo y lo vemos allí. ^Equipo", "es", at)
				m.Direction, m.AuthorID, m.RecipientID = care.Outbound, brandID, customer
				return m
			}())}},

		// Links.
		{name: "link by an agent es", d: ReplyDraft{Text: "Hola Ana, aquí lo tienes: pajaritoair.com/equipaje ^Equipo", Lang: "es"}, warnings: []string{RuleLinkCost}, message: "0.20 $"},
		{name: "link by an agent en", d: ReplyDraft{Text: "Hi Ana, see https://pajaritoair.com/baggage ^Team", Lang: "en"}, warnings: []string{RuleLinkCost}, message: "$0.20 instead of $0.015"},
		{name: "link in an automatic reply", d: ReplyDraft{Text: "Hi, see https://pajaritoair.com/baggage ^Team", Lang: "en", Automatic: true}, errors: []string{RuleLinksNotAllowed}, warnings: []string{RuleLinkCost}, message: "allow_links"},
		{name: "link in an automatic reply es", d: ReplyDraft{Text: "Hola, mira pajaritoair.com/equipaje ^Equipo", Lang: "es", Automatic: true}, errors: []string{RuleLinksNotAllowed}, warnings: []string{RuleLinkCost}, message: "plantilla"},
		{name: "link allowed in an automatic reply", d: ReplyDraft{Text: "Hi, see https://pajaritoair.com/baggage ^Team", Lang: "en", Automatic: true, AllowLinks: true}, warnings: []string{RuleLinkCost}},
		{name: "a link in a DM costs the same", d: ReplyDraft{Text: "Hi, see https://pajaritoair.com/baggage ^Team", Channel: care.DM, Lang: "en"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := l.Lint(tt.d)
			rules := func(is []LintIssue) string {
				var out []string
				for _, i := range is {
					out = append(out, i.Rule)
				}
				return strings.Join(out, ",")
			}
			if got, want := rules(res.Errors), strings.Join(tt.errors, ","); got != want {
				t.Errorf("errors = %s, want %s: %+v", got, want, res.Errors)
			}
			if got, want := rules(res.Warnings), strings.Join(tt.warnings, ","); got != want {
				t.Errorf("warnings = %s, want %s: %+v", got, want, res.Warnings)
			}
			if res.OK() != (len(tt.errors) == 0) {
				t.Error("OK() disagrees with the errors")
			}
			all := append(append([]LintIssue{}, res.Errors...), res.Warnings...)
			if tt.message != "" && (len(all) == 0 || !strings.Contains(all[0].Message, tt.message)) {
				t.Errorf("first issue %+v does not say %q", all, tt.message)
			}
			for _, i := range all {
				if i.Messages["es"] == "" || i.Messages["en"] == "" || i.Messages["es"] == i.Messages["en"] {
					t.Errorf("issue %s lacks a message in both languages: %+v", i.Rule, i.Messages)
				}
				if i.End > len(tt.d.Text) || i.Start > i.End {
					t.Errorf("issue %s span %d-%d outside the draft", i.Rule, i.Start, i.End)
				}
			}
		})
	}
}

// The package-level Lint uses the default configuration.
func TestLintDefault(t *testing.T) {
	res := Lint(ReplyDraft{Text: "Hubo un problema. ^Equipo", Lang: "es", Intent: classify.IntentComplaint})
	if len(res.Errors) != 2 || res.Errors[0].Rule != RuleApologyFirst || res.Errors[1].Rule != RuleForbiddenWord {
		t.Errorf("errors = %+v", res.Errors)
	}
	if strs := res.Strings(); len(strs) != 2 || !strings.HasPrefix(strs[0], "apology_first: ") {
		t.Errorf("Strings() = %q", strs)
	}
	_ = time.Now
}

func BenchmarkLint(b *testing.B) {
	l := newEngine(b, nil).Linter()
	history := []care.StoredMessage{
		post("501", "@PajaritoAir mi localizador es QX7Z2P y llevo dos horas esperando", "es", monday10),
		dmIn("502", "Te he pagado con la tarjeta que termina en 4242 el vuelo a Lima", "es", monday10),
	}
	d := ReplyDraft{Text: "Lo sentimos mucho, Ana. Una persona del equipo revisa tu caso ahora mismo y te responde por aquí. ^Equipo",
		Lang: "es", Intent: classify.IntentComplaint, CustomerID: customer, Messages: history}
	b.ReportAllocs()
	for b.Loop() {
		if res := l.Lint(d); !res.OK() {
			b.Fatal(res.Errors)
		}
	}
}
