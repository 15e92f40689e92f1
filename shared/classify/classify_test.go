package classify

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

func TestSentiment(t *testing.T) {
	tests := []struct {
		name string
		lang string
		text string
		want Sentiment
	}{
		// Spanish.
		{"es irony genial otra vez", "es", "@PajaritoAir genial, otra vez retrasado el vuelo", Negative},
		{"es irony gracias por nada", "es", "@PajaritoAir gracias por nada, de verdad", Negative},
		{"es sarcastic thanks for a delay", "es", "Gracias @PajaritoAir por retrasar mi vuelo tres horas 👏👏", Negative},
		{"es sincere thanks", "es", "@PajaritoAir muchas gracias por la ayuda, ya está todo solucionado", Positive},
		{"es negation no funciona", "es", "@PajaritoAir la app no funciona", Negative},
		{"es negated positive", "es", "@PajaritoAir no estoy nada contento con el trato", Negative},
		{"es negated negative", "es", "El vuelo no estuvo mal, la verdad", Positive},
		{"es ni siquiera", "es", "@PajaritoAir ni siquiera me contestan los correos", Negative},
		{"es nunca", "es", "@PajaritoAir nunca más vuelo con vosotros", Negative},
		{"es emoji only angry", "", "😡😡😡", Negative},
		{"es emoji only love", "", "😍", Positive},
		{"es elongation thanks", "es", "@PajaritoAir graciaaaaas!!", Positive},
		// Service failures told without opinion words.
		{"es exclamative que no puedas", "es", "@PajaritoAir Que no puedas cambiar el asiento desde la app…", Negative},
		{"es why do I have to", "es", "@PajaritoAir ¿por qué tengo que imprimir la tarjeta si ya hice el check-in?", Negative},
		{"es reported answer and file", "es", "@PajaritoAir me dicen que no consta la reclamación que envié", Negative},
		{"es waiting weeks", "es", "@PajaritoAir desde hace dos semanas esperando el reembolso", Negative},
		{"es annulled flight", "es", "@PajaritoAir vuelo anulado esta mañana por causas técnicas", Negative},
		{"es schedule change", "es", "@PajaritoAir tercer cambio de horario, cada vez más tarde", Negative},
		{"es gracias a is a cause", "es", "Seis horas en el aeropuerto gracias a @PajaritoAir", Negative},
		{"es strike called off", "es", "Los trabajadores de tierra desconvocan la huelga del día 30", Positive},
		{"es averting strikes", "es", "La aerolínea reconoce a los sindicatos para evitar huelgas", Positive},
		{"es thanks to the crew", "es", "Gracias a toda la tripulación del vuelo de hoy, un encanto", Positive},
		{"es elongation no", "es", "NOOOOOO, otra vez no", Negative},
		{"es caps", "es", "@PajaritoAir VERGÜENZA de servicio", Negative},
		{"es care phrase waiting", "es", "@PajaritoAir llevo dos horas esperando en el mostrador", Negative},
		{"es care phrase no news", "es", "@PajaritoAir sin noticias de mi maleta desde el lunes", Negative},
		{"es care phrase nobody answers", "es", "@PajaritoAir nadie contesta al teléfono", Negative},
		{"es slang", "es", "@PajaritoAir q fatal todo xq nadie responde", Negative},
		{"es no accents", "es", "@PajaritoAir pesimo servicio, una verguenza", Negative},
		{"es intensifier", "es", "@PajaritoAir el personal fue muy amable", Positive},
		{"es contrast", "es", "@PajaritoAir el vuelo bien, pero han perdido mi maleta", Negative},
		{"es question neutral", "es", "@PajaritoAir ¿a qué hora abre el mostrador de la T4? Gracias", Neutral},
		{"es info neutral", "es", "@PajaritoAir os he enviado los datos por mensaje directo", Neutral},
		{"es praise", "es", "Enhorabuena al equipo de @PajaritoAir, sois unos cracks 👏", Positive},
		// English.
		{"en thanks for nothing", "en", "@PajaritoAir thanks for nothing", Negative},
		{"en great job losing", "en", "@PajaritoAir great job losing my bag", Negative},
		{"en love waiting", "en", "@PajaritoAir love waiting 3 hours on the tarmac", Negative},
		{"en not happy", "en", "@PajaritoAir not happy with the service today", Negative},
		{"en never again", "en", "@PajaritoAir never again.", Negative},
		{"en cant get through", "en", "@PajaritoAir I can't get through to anyone on the phone", Negative},
		{"en still no refund", "en", "@PajaritoAir still no refund after six weeks", Negative},
		{"en no one answering", "en", "@PajaritoAir no one is answering the phone", Negative},
		{"en on hold", "en", "@PajaritoAir on hold for 2 hours now", Negative},
		{"en delayed flight neutral wording", "en", "@PajaritoAir flight 2471 delayed again", Negative},
		{"en lost luggage", "en", "@PajaritoAir lost luggage in Boston, who do I talk to", Negative},
		{"en emoji thumbs down", "", "👎", Negative},
		{"en caps", "en", "@PajaritoAir WORST AIRLINE EVER", Negative},
		{"en wtf", "en", "@PajaritoAir wtf is going on with boarding", Negative},
		{"en positive", "en", "@PajaritoAir thanks so much, the crew was amazing!", Positive},
		{"en you rock", "en", "@PajaritoAir you guys rock 👏", Positive},
		{"en elongated praise", "en", "@PajaritoAir sooooo good, thank youuu", Positive},
		{"en question neutral", "en", "@PajaritoAir what time does the lounge open at JFK?", Neutral},
		{"en wifi question", "en", "@PajaritoAir is there wifi on the A321?", Neutral},
		{"en emoticon sad", "en", "@PajaritoAir my bag is still missing :(", Negative},
		{"en emoticon happy", "en", "@PajaritoAir landed early :)", Positive},
		{"en hashtag camel", "en", "@PajaritoAir #NeverAgain", Negative},
		{"en hashtag lower", "en", "@PajaritoAir #worstairline", Negative},
		{"en not bad", "en", "@PajaritoAir not bad at all, smooth flight", Positive},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Classify(Input{Text: tc.text, Lang: tc.lang})
			if r.Sentiment != tc.want {
				t.Errorf("Classify(%q) sentiment = %s (score %.2f), want %s\nreason: %s", tc.text, r.Sentiment, r.Score, tc.want, r.Reason("sentiment"))
			}
			switch {
			case r.Score < -1 || r.Score > 1:
				t.Errorf("score %v outside -1..1", r.Score)
			case r.Sentiment == Negative && r.Score >= 0, r.Sentiment == Positive && r.Score <= 0:
				t.Errorf("score %v disagrees with %s", r.Score, r.Sentiment)
			}
		})
	}
}

func TestSentimentReasons(t *testing.T) {
	tests := []struct {
		text string
		want []string // substrings of the sentiment reason
	}{
		{"@PajaritoAir genial, otra vez retrasado", []string{"irony"}},
		{"@PajaritoAir la web no funciona", []string{"no funciona"}},
		{"@PajaritoAir llevo dos horas esperando", []string{"care phrase 'llevo dos horas esperando'"}},
		{"@PajaritoAir not happy", []string{"not happy"}},
		{"😡", []string{"emoji '😡'"}},
		{"@PajaritoAir VERGONZOSO", []string{"VERGONZOSO"}},
		{"@PajaritoAir graciaaas", []string{"elongated"}},
		{"@PajaritoAir no es nada amable", []string{"negated positive"}},
	}
	for _, tc := range tests {
		r := Classify(Input{Text: tc.text})
		why := r.Reason("sentiment")
		for _, w := range tc.want {
			if !strings.Contains(why, w) {
				t.Errorf("Classify(%q) sentiment reason %q lacks %q", tc.text, why, w)
			}
		}
	}
}

// TestRepeatedPunctuation: "??", "?!" and "!!!" read as agitation; one
// question mark per question, in a message of several, does not.
func TestRepeatedPunctuation(t *testing.T) {
	tests := []struct {
		text     string
		repeated bool
	}{
		{"@PajaritoAir ¿dónde está mi maleta??", true},
		{"@PajaritoAir en serio?!", true},
		{"@PajaritoAir otra vez!!!", true},
		{"@PajaritoAir Do you have a corporate programme? Who should I talk to?", false},
		{"@PajaritoAir Hola! puedo llevar a mi perrita en cabina?", false},
		{"@PajaritoAir ? ?", false},
	}
	for _, tc := range tests {
		r := Classify(Input{Text: tc.text})
		if got := strings.Contains(r.Reason("sentiment"), "repeated ?/!"); got != tc.repeated {
			t.Errorf("Classify(%q): repeated ?/! = %v, want %v (%s)", tc.text, got, tc.repeated, r.Reason("sentiment"))
		}
	}
	if r := Classify(Input{Text: "@PajaritoAir Our company flies Madrid-London a lot. Do you have a corporate programme? Who should I talk to?", Lang: "en"}); r.Sentiment == Negative {
		t.Errorf("a sales question reads %s: %s", r.Sentiment, r.Reason("sentiment"))
	}
}

func TestLanguage(t *testing.T) {
	tests := []struct {
		text, tag  string
		want, from string
	}{
		{"@PajaritoAir hola, ¿me podéis ayudar con mi reserva?", "", "es", "detected"},
		{"@PajaritoAir hi, can you help me with my booking?", "", "en", "detected"},
		{"Gracias!", "", "es", "detected"},
		{"Thanks!", "", "en", "detected"},
		{"hola", "und", "es", "detected"},
		{"help", "", "en", "detected"},
		{"¿Y mi maleta?", "", "es", "detected"},
		{"where is my bag", "", "en", "detected"},
		{"q pasa con el vuelo", "", "es", "detected"},
		{"ok", "", "und", "detected"},
		{"😀😀", "", "und", "detected"},
		{"https://t.co/abc", "", "und", "detected"},
		{"Bonjour, merci beaucoup pour votre aide", "", "und", "detected"},
		{"Obrigado pela ajuda", "pt", "pt", "x"},
		{"thanks", "es", "es", "x"}, // X's tag wins
		{"@PajaritoAir vuelo cancelado", "es-419", "es", "x"},
	}
	for _, tc := range tests {
		r := Classify(Input{Text: tc.text, Lang: tc.tag})
		if r.Lang != tc.want || r.LangSource != tc.from {
			t.Errorf("Classify(%q, lang %q) lang = %s (%s), want %s (%s); reason %q", tc.text, tc.tag, r.Lang, r.LangSource, tc.want, tc.from, r.Reason("lang"))
		}
	}
}

func TestIntent(t *testing.T) {
	tests := []struct {
		name, text string
		want       Intent
	}{
		{"sales es empresas", "@PajaritoAir ¿tenéis tarifa para empresas?", IntentSales},
		{"sales es grupo", "Hola, somos 30 personas, ¿cuánto cuesta una reserva de grupo a Lisboa?", IntentSales},
		{"sales es contratar", "@PajaritoAir quiero contratar el plan familiar, ¿cómo lo hago?", IntentSales},
		{"sales en group booking", "@PajaritoAir how much for a group booking", IntentSales},
		{"sales en corporate", "@PajaritoAir do you offer corporate rates for my company?", IntentSales},
		{"sales en corporate programme", "@PajaritoAir Our company flies Madrid-London a lot. Do you have a corporate programme? Who should I talk to?", IntentSales},
		{"spam es work from home", "@PajaritoAir 🔥 GANA 500€ AL DIA desde casa sin experiencia!! escríbeme por privado 💰 #trabajo", IntentSpam},
		{"spam es self-promotion", "@PajaritoAir Os dejo mi nuevo tema en todas las plataformas 🎧 apoyad el talento nacional!! RT RT", IntentSpam},
		{"complaint es call centre minutes", "@PajaritoAir Llevo 47 minutos al teléfono con vuestro call center escuchando la misma musiquita", IntentComplaint},
		{"complaint es ya van", "@PajaritoAir ya van 1h y 5 min. Increíble", IntentComplaint},
		{"spam crypto", "🚀 Free crypto airdrop! Claim your bitcoin now 👉 https://t.co/xyz", IntentSpam},
		{"spam follow back", "follow me and I follow back #f4f #followback", IntentSpam},
		{"spam es seguidores", "Sígueme y te sigo, consigue seguidores gratis https://t.co/abc", IntentSpam},
		{"spam links only", "https://t.co/abc https://t.co/def", IntentSpam},
		{"spam mention and link only", "@PajaritoAir https://t.co/abc", IntentSpam},
		{"not spam bitcoin question", "@PajaritoAir can I pay for my ticket with bitcoin?", IntentQuestion},
		{"incident es app", "@PajaritoAir la app no funciona, me da error al pagar", IntentIncident},
		{"incident es vuelo cancelado", "@PajaritoAir me han cancelado el vuelo y no me dicen nada", IntentIncident},
		{"incident en outage", "@PajaritoAir your website is down again", IntentIncident},
		{"incident en lost bag", "@PajaritoAir you lost my bag on flight 2471", IntentIncident},
		{"complaint es", "@PajaritoAir pésima atención, el personal fue muy borde", IntentComplaint},
		{"complaint as question", "@PajaritoAir ¿por qué nadie contesta al teléfono?", IntentComplaint},
		{"complaint en", "@PajaritoAir your staff were so rude to my mother", IntentComplaint},
		{"praise es", "@PajaritoAir gracias por todo, sois geniales ❤️", IntentPraise},
		{"praise en", "@PajaritoAir amazing crew today, thank you!", IntentPraise},
		{"question es", "@PajaritoAir ¿puedo llevar el carrito del bebé en cabina?", IntentQuestion},
		{"question en", "@PajaritoAir how do I add a bag to my booking?", IntentQuestion},
		{"question en no mark", "@PajaritoAir can you tell me the baggage allowance", IntentQuestion},
		{"other news", "Pajarito Air presenta su nuevo uniforme en Madrid", IntentOther},
		{"other emoji", "✈️", IntentOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Classify(Input{Text: tc.text})
			if r.Intent != tc.want {
				t.Errorf("Classify(%q) intent = %s, want %s\nintent: %s\nsentiment: %s", tc.text, r.Intent, tc.want, r.Reason("intent"), r.Reason("sentiment"))
			}
		})
	}
}

func TestUrgency(t *testing.T) {
	tests := []struct {
		name, text string
		level      UrgencyLevel
		kind       UrgencyKind
	}{
		{"safety es", "@PajaritoAir hay humo en la cabina del vuelo 2471", UrgencyCritical, KindSafety},
		{"safety en", "@PajaritoAir there is smoke in the cabin!!", UrgencyCritical, KindSafety},
		{"medical es", "@PajaritoAir mi hijo necesita su insulina y está en la maleta facturada", UrgencyCritical, KindMedical},
		{"medical en", "@PajaritoAir my wife is having an allergic reaction on board", UrgencyCritical, KindMedical},
		{"legal es", "@PajaritoAir voy a poner una denuncia en FACUA", UrgencyHigh, KindLegalThreat},
		{"legal en", "@PajaritoAir I will be contacting my lawyer about this", UrgencyHigh, KindLegalThreat},
		{"cancel es", "@PajaritoAir quiero darme de baja ya", UrgencyHigh, KindCancelAccount},
		{"cancel en", "@PajaritoAir please cancel my account", UrgencyHigh, KindCancelAccount},
		{"stranded es", "@PajaritoAir estamos tirados en el aeropuerto de Lima sin hotel", UrgencyHigh, KindStranded},
		{"stranded en", "@PajaritoAir stranded in Chicago, no hotel, no flights until Monday", UrgencyHigh, KindStranded},
		{"vulnerable es", "@PajaritoAir viajo con mi madre en silla de ruedas y nadie viene", UrgencyHigh, KindVulnerable},
		{"vulnerable en", "@PajaritoAir traveling with a 6 month old baby and no one will help", UrgencyHigh, KindVulnerable},
		{"fraud es", "@PajaritoAir tengo un cargo no reconocido en mi tarjeta", UrgencyHigh, KindFraud},
		{"fraud en", "@PajaritoAir there is an unauthorized charge on my card", UrgencyHigh, KindFraud},
		{"long wait es", "@PajaritoAir llevo tres horas esperando al teléfono", UrgencyLow, KindLongWait},
		{"long wait en", "@PajaritoAir been on hold for 90 minutes", UrgencyLow, KindLongWait},
		{"long wait es minutes", "@PajaritoAir llevo 47 minutos al teléfono con el call center", UrgencyLow, KindLongWait},
		{"none", "@PajaritoAir ¿a qué hora abre el mostrador?", UrgencyNone, ""},
		{"none praise", "@PajaritoAir thank you, great flight", UrgencyNone, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Classify(Input{Text: tc.text})
			if r.Urgency.Level != tc.level {
				t.Errorf("Classify(%q) urgency = %s %v, want %s; reason %q", tc.text, r.Urgency.Level, r.Urgency.Kinds, tc.level, r.Reason("urgency"))
			}
			if tc.kind != "" && !hasKind(r.Urgency.Kinds, tc.kind) {
				t.Errorf("Classify(%q) urgency kinds = %v, want %s", tc.text, r.Urgency.Kinds, tc.kind)
			}
			if tc.kind == "" && len(r.Urgency.Kinds) > 0 {
				t.Errorf("Classify(%q) urgency kinds = %v, want none", tc.text, r.Urgency.Kinds)
			}
		})
	}
}

func hasKind(ks []UrgencyKind, k UrgencyKind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

func TestPII(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []PIIKind // in order of appearance; nil: none
		raw  []string  // the matched text, when checked
	}{
		// Cards: Luhn.
		{"card visa valid", "mi tarjeta es 4111 1111 1111 1111", []PIIKind{PIICard}, []string{"4111 1111 1111 1111"}},
		{"card mastercard dashes", "card 5555-5555-5555-4444 was charged twice", []PIIKind{PIICard}, []string{"5555-5555-5555-4444"}},
		{"card amex", "amex 378282246310005", []PIIKind{PIICard}, nil},
		{"card invalid luhn", "mi tarjeta es 4111 1111 1111 1112", nil, nil},
		// DNI / NIE: check letter.
		{"dni valid", "mi DNI es 12345678Z", []PIIKind{PIIDNI}, []string{"12345678Z"}},
		{"dni valid dash lower", "dni 12345678-z", []PIIKind{PIIDNI}, nil},
		{"dni wrong letter", "mi DNI es 12345678A", nil, nil},
		{"nie valid X", "NIE X1234567L", []PIIKind{PIINIE}, []string{"X1234567L"}},
		{"nie valid Y", "mi nie: Y1234567X.", []PIIKind{PIINIE}, nil},
		{"nie wrong letter", "NIE X1234567T", nil, nil},
		// IBAN: mod 97.
		{"iban es spaced", "IBAN ES91 2100 0418 4502 0005 1332 para el reembolso", []PIIKind{PIIIBAN}, []string{"ES91 2100 0418 4502 0005 1332"}},
		{"iban es compact", "es9121000418450200051332", []PIIKind{PIIIBAN}, nil},
		{"iban gb", "GB82 WEST 1234 5698 7654 32", []PIIKind{PIIIBAN}, nil},
		{"iban bad checksum", "ES91 2100 0418 4502 0005 1333", nil, nil},
		// E-mails.
		{"email", "escribidme a ana.garcia@example.com por favor", []PIIKind{PIIEmail}, []string{"ana.garcia@example.com"}},
		{"email plus", "(juan+vuelos@correo.example.es)", []PIIKind{PIIEmail}, []string{"juan+vuelos@correo.example.es"}},
		{"mention is not email", "@PajaritoAir @ana_garcia hola", nil, nil},
		{"broken email", "correo@ sin dominio y a@b", nil, nil},
		// Phones.
		{"phone es mobile", "llamadme al 612 345 678", []PIIKind{PIIPhone}, []string{"612 345 678"}},
		{"phone es intl", "mi móvil +34 612345678", []PIIKind{PIIPhone}, nil},
		{"phone es 0034", "0034 612 34 56 78", []PIIKind{PIIPhone}, nil},
		{"phone mx intl", "mi cel +52 1 55 1234 5678", []PIIKind{PIIPhone}, nil},
		{"phone mx local", "márcame al 55 1234 5678", []PIIKind{PIIPhone}, nil},
		{"phone ar intl", "whatsapp +54 9 11 4123-4567", []PIIKind{PIIPhone}, nil},
		{"phone ar local", "llamame al 011 4123-4567", []PIIKind{PIIPhone}, nil},
		{"phone ar mobile", "cel 15-4123-4567", []PIIKind{PIIPhone}, nil},
		{"phone us", "call me at (555) 123-4567", []PIIKind{PIIPhone}, []string{"(555) 123-4567"}},
		{"phone us dashes", "my number is 555-123-4567", []PIIKind{PIIPhone}, nil},
		{"phone us intl", "+1 555 123 4567", []PIIKind{PIIPhone}, nil},
		{"service line is not pii", "he llamado al 901 111 500 tres veces", nil, nil},
		{"prices dates times", "2.990€ el 25/12/2018 a las 10:30, vuelo 2471", nil, nil},
		{"plain 9 digits not phone", "pedido 123456789", []PIIKind{PIIBooking}, nil},
		// Booking codes.
		{"locator es cue", "mi localizador es X7K2PQ", []PIIKind{PIIBooking}, []string{"X7K2PQ"}},
		{"locator letters cue", "localizador: ABCDEF", []PIIKind{PIIBooking}, []string{"ABCDEF"}},
		{"locator reserva lower", "reserva xk7p2q", []PIIKind{PIIBooking}, nil},
		{"locator en pnr", "PNR 8JK4LM please check", []PIIKind{PIIBooking}, nil},
		{"locator en booking ref", "booking ref ZQ9M4T", []PIIKind{PIIBooking}, nil},
		{"locator confirmation number", "confirmation number 12345678", []PIIKind{PIIBooking}, []string{"12345678"}},
		{"locator cue then flight-shaped code", "confirmation ABC123", []PIIKind{PIIBooking}, nil},
		{"locator no cue mixed code", "@PajaritoAir X7K2PQ no me deja facturar", []PIIKind{PIIBooking}, nil},
		{"no cue letters only", "@PajaritoAir ABCDEF no me deja facturar", nil, nil},
		{"flight number", "mi vuelo PJ2471 sale tarde", nil, nil},
		{"flight number near reserva", "tengo reserva en el vuelo PJ2471", nil, nil},
		{"flight number en", "flight UA647 to Denver, booking made", nil, nil},
		{"ordinary words near cue", "mi reserva para Madrid está confirmada", nil, nil},
		{"capital city near cue", "mi reserva para MADRID", nil, nil},
		{"url digits", "mira https://t.co/4111111111111111 y https://x.com/a/status/1234567890123456789", nil, nil},
		// Several.
		{"several", "DNI 12345678Z, email a@example.org y tel 612345678", []PIIKind{PIIDNI, PIIEmail, PIIPhone}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Classify(Input{Text: tc.text, Channel: "public"})
			var got []PIIKind
			for _, p := range r.PII {
				got = append(got, p.Kind)
			}
			if strings.Join(kindsStr(got), ",") != strings.Join(kindsStr(tc.want), ",") {
				t.Fatalf("Classify(%q) pii = %v, want %v (%+v)", tc.text, got, tc.want, r.PII)
			}
			for i, raw := range tc.raw {
				p := r.PII[i]
				if tc.text[p.Start:p.End] != raw {
					t.Errorf("pii %d = %q, want %q", i, tc.text[p.Start:p.End], raw)
				}
			}
			for _, p := range r.PII {
				if strings.Contains(p.Masked, tc.text[p.Start:p.End]) || !strings.Contains(p.Masked, "*") {
					t.Errorf("masked %q reveals %q", p.Masked, tc.text[p.Start:p.End])
				}
			}
			if len(tc.want) > 0 && !strings.Contains(r.Reason("pii"), "public") {
				t.Errorf("pii reason %q does not say it was public", r.Reason("pii"))
			}
		})
	}
}

func kindsStr(ks []PIIKind) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return out
}

func TestValidators(t *testing.T) {
	for _, d := range []string{"4111111111111111", "5555555555554444", "378282246310005", "6011111111111117", "79927398713"} {
		if !luhn(d) {
			t.Errorf("luhn(%s) = false", d)
		}
	}
	for _, d := range []string{"4111111111111112", "79927398710", "1234567812345678"} {
		if luhn(d) {
			t.Errorf("luhn(%s) = true", d)
		}
	}
	if got := dniLetter("12345678"); got != 'Z' {
		t.Errorf("dniLetter(12345678) = %c, want Z", got)
	}
	if got := dniLetter("00000000"); got != 'T' {
		t.Errorf("dniLetter(00000000) = %c, want T", got)
	}
	for _, s := range []string{"ES9121000418450200051332", "GB82WEST12345698765432", "DE89370400440532013000", "FR1420041010050500013M02606"} {
		if !ibanValid([]byte(s)) {
			t.Errorf("ibanValid(%s) = false", s)
		}
	}
	for _, s := range []string{"ES9121000418450200051333", "GB82WEST12345698765433", "XX00"} {
		if ibanValid([]byte(s)) {
			t.Errorf("ibanValid(%s) = true", s)
		}
	}
	for _, s := range []string{"PJ2471", "UA647", "IB3456", "U21234", "B6123", "IBE3456", "AA100A"} {
		if !flightNumber(s) {
			t.Errorf("flightNumber(%s) = false", s)
		}
	}
	for _, s := range []string{"X7K2PQ", "ABCDEF", "8JK4LM", "ZQ9M4T"} {
		if flightNumber(s) {
			t.Errorf("flightNumber(%s) = true", s)
		}
	}
}

func TestReasonsForEveryLabel(t *testing.T) {
	texts := []string{
		"@PajaritoAir llevo dos horas esperando y nadie contesta 😡",
		"@PajaritoAir thanks!",
		"",
		"✈️",
		"@PajaritoAir mi DNI es 12345678Z",
		"Gana dinero con bitcoin https://t.co/x",
	}
	for _, text := range texts {
		r := Classify(Input{Text: text})
		for _, label := range []string{"lang", "sentiment", "intent", "urgency", "pii"} {
			found := false
			for _, x := range r.Reasons {
				if x.Label == label {
					found = true
					if x.Because == "" || x.Value == "" {
						t.Errorf("Classify(%q) reason %s is empty: %+v", text, label, x)
					}
				}
			}
			if !found {
				t.Errorf("Classify(%q) has no %s reason: %+v", text, label, r.Reasons)
			}
		}
		if r.PII == nil {
			t.Errorf("Classify(%q).PII is nil, want empty", text)
		}
		if r.Intent == "" || r.Sentiment == "" || r.Urgency.Level == "" || r.Lang == "" {
			t.Errorf("Classify(%q) left a label empty: %+v", text, r)
		}
	}
}

func TestJSONShape(t *testing.T) {
	r := Classify(Input{Text: "@PajaritoAir mi email es ana@example.com y llevo dos horas esperando", Lang: "es"})
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"lang", "lang_source", "intent", "sentiment", "score", "urgency", "pii", "reasons"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	if !strings.Contains(string(b), `"because"`) || !strings.Contains(string(b), `"label"`) {
		t.Errorf("reasons are not snake_case label/value/because: %s", b)
	}
	if strings.Contains(string(b), "ana@example.com") && strings.Contains(string(b), `"masked":"ana@example.com"`) {
		t.Errorf("PII not masked: %s", b)
	}
}

func TestConfig(t *testing.T) {
	c, err := New(Config{
		Intents:       map[Intent][]string{IntentSales: {"fibra 1gb", "plan nube*"}},
		Urgency:       map[UrgencyKind][]string{"board_member": {"consejo de administración"}, KindSafety: {"cortocircuito"}},
		UrgencyLevels: map[UrgencyKind]UrgencyLevel{"board_member": UrgencyCritical},
		Sentiment:     map[string]float64{"sin cobertura": -3, "pajarazo": 3},
		Neutral:       []string{"Genial Bank", "Spirit"},
		Forbidden:     []string{"problema", "culpa suya"},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Classify(Input{Text: "Hola, me interesa la fibra 1GB"})
	if r.Intent != IntentSales || !strings.Contains(r.Reason("intent"), "brand keyword") {
		t.Errorf("brand intent: %s (%s)", r.Intent, r.Reason("intent"))
	}
	r = c.Classify(Input{Text: "¿Qué incluye el plan nubeplus?"})
	if r.Intent != IntentSales {
		t.Errorf("brand prefix intent: %s (%s)", r.Intent, r.Reason("intent"))
	}
	r = c.Classify(Input{Text: "Escribo como miembro del consejo de administración"})
	if r.Urgency.Level != UrgencyCritical || !hasKind(r.Urgency.Kinds, "board_member") {
		t.Errorf("brand urgency: %+v", r.Urgency)
	}
	r = c.Classify(Input{Text: "Hay un cortocircuito en el asiento 12C"})
	if r.Urgency.Level != UrgencyCritical || !hasKind(r.Urgency.Kinds, KindSafety) {
		t.Errorf("brand safety cue: %+v", r.Urgency)
	}
	r = c.Classify(Input{Text: "Otra vez sin cobertura en casa", Lang: "es"})
	if r.Sentiment != Negative {
		t.Errorf("brand sentiment term: %s (%s)", r.Sentiment, r.Reason("sentiment"))
	}
	r = c.Classify(Input{Text: "el nuevo check-in es un pajarazo", Lang: "es"})
	if r.Sentiment != Positive || !strings.Contains(r.Reason("sentiment"), "brand term") {
		t.Errorf("brand positive word: %s (%s)", r.Sentiment, r.Reason("sentiment"))
	}
	r = c.Classify(Input{Text: "Hola Genial Bank, ¿cuál es vuestro horario?", Lang: "es"})
	if r.Sentiment != Neutral {
		t.Errorf("neutral brand name: %s (%s)", r.Sentiment, r.Reason("sentiment"))
	}
	if d := Classify(Input{Text: "Hola Genial Bank", Lang: "es"}); d.Sentiment != Positive {
		t.Logf("without config 'Genial Bank' reads %s", d.Sentiment)
	}
	r = c.Classify(Input{Text: "Flying Spirit to Vegas tomorrow", Lang: "en"})
	if r.Sentiment != Neutral {
		t.Errorf("neutral single word: %s (%s)", r.Sentiment, r.Reason("sentiment"))
	}
	r = c.Classify(Input{Text: "Tengo un PROBLEMA con mi reserva, es culpa suya"})
	if strings.Join(r.Forbidden, "|") != "problema|culpa suya" {
		t.Errorf("forbidden = %v", r.Forbidden)
	}
	if got := c.FindForbidden("Sentimos el problemón... digo, el Problema"); len(got) != 1 || got[0] != "problema" {
		t.Errorf("FindForbidden = %v", got)
	}
	if got := Default().FindForbidden("problema"); len(got) != 0 {
		t.Errorf("default FindForbidden = %v", got)
	}

	for _, bad := range []Config{
		{Intents: map[Intent][]string{"gossip": {"x"}}},
		{UrgencyLevels: map[UrgencyKind]UrgencyLevel{KindSafety: "extreme"}},
		{Sentiment: map[string]float64{"x": 9}},
		{Intents: map[Intent][]string{IntentSales: {"... precio"}}},
		{Sentiment: map[string]float64{"  ": 1}},
	} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%+v) accepted a bad config", bad)
		}
	}
}

func TestConcurrent(t *testing.T) {
	c := Default()
	want := make([]Result, len(benchTweets))
	for i, in := range benchTweets {
		want[i] = c.Classify(in)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 50; n++ {
				for i, in := range benchTweets {
					got := c.Classify(in)
					a, _ := json.Marshal(got)
					b, _ := json.Marshal(want[i])
					if string(a) != string(b) {
						t.Errorf("Classify(%q) differs across calls:\n%s\n%s", in.Text, a, b)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestLongAndOddInputs(t *testing.T) {
	long := strings.Repeat("llevo dos horas esperando 😡 ", 5000)
	r := Classify(Input{Text: long})
	if r.Sentiment != Negative {
		t.Errorf("long text: %s", r.Sentiment)
	}
	for _, s := range []string{"", " ", "\n\n", "#", "@", "&amp;", "...", "¿?", "👍🏽", "🤦‍♂️", "#NuncaMás", "x@y", "+", "(", "12345678", "X"} {
		r := Classify(Input{Text: s})
		if r.Sentiment == "" || r.Intent == "" {
			t.Errorf("Classify(%q) = %+v", s, r)
		}
	}
}

func FuzzClassify(f *testing.F) {
	for _, in := range benchTweets {
		f.Add(in.Text, in.Lang)
	}
	for _, s := range []string{"\xff\xfe", "a\xc3", "@\x00#", "ES91 2100", "+34 6", "(555", "X123456", "jajajajaja", "🤦‍♂️🏽", "localizador ", "#aB_9c", "&amp", "12345678-", "nooooooooooooooooooooooo"} {
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, text, lang string) {
		r := Classify(Input{Text: text, Lang: lang})
		if r.Sentiment != Negative && r.Sentiment != Neutral && r.Sentiment != Positive {
			t.Fatalf("sentiment %q", r.Sentiment)
		}
		if !validIntent(r.Intent) {
			t.Fatalf("intent %q", r.Intent)
		}
		if r.Score < -1 || r.Score > 1 {
			t.Fatalf("score %v", r.Score)
		}
		if utf8.ValidString(text) && len(text) <= maxText {
			for _, p := range r.PII {
				if p.Start < 0 || p.End > len(text) || p.Start >= p.End {
					t.Fatalf("pii span %d..%d outside %d bytes", p.Start, p.End, len(text))
				}
			}
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatal(err)
		}
	})
}

func TestIntentSeverity(t *testing.T) {
	order := []Intent{IntentSpam, IntentOther, IntentPraise, IntentQuestion, IntentSales, IntentComplaint, IntentIncident}
	for i := 1; i < len(order); i++ {
		if order[i-1].Severity() >= order[i].Severity() {
			t.Errorf("%s (%d) is not less serious than %s (%d)", order[i-1], order[i-1].Severity(), order[i], order[i].Severity())
		}
	}
	if len(order) != len(Intents) {
		t.Errorf("Severity ranks %d intents of %d", len(order), len(Intents))
	}
	for _, i := range []Intent{"", "refund"} {
		if i.Severity() != -1 {
			t.Errorf("Severity(%q) = %d, want -1", i, i.Severity())
		}
	}
}
