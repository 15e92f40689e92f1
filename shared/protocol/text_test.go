package protocol

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
)

func TestMatcher(t *testing.T) {
	tests := []struct {
		term, text string
		want       string // the matched text, "" for none
	}{
		{"problema", "Tuvimos un PROBLEMA con tu reserva", "PROBLEMA"},
		{"problema", "Tuvimos un Problemá", "Problemá"},
		{"problema", "Tuvimos problemas", ""}, // whole words
		{"problema*", "Tuvimos problemas", "problemas"},
		{"reembols*", "¿Cuándo me reembolsáis?", "reembolsáis"},
		{"lo sentimos", "Hola. Lo   Sentimos, Ana", "Lo   Sentimos"},
		{"lo sentimos", "lo, sentimos", "lo, sentimos"}, // punctuation is not a word
		{"retraso*|delay*", "Another DELAYED flight", "DELAYED"},
		{"retraso*|delay*", "Otro retrasó", "retrasó"},
		{"delay", "@delay_bot hola", ""},            // handles are not words
		{"web", "mira https://web.example.com", ""}, // nor links
		{"check-in online|online check-in", "the online check-in is down", "online check-in"},
		{"we're", "We’re sorry", "We’re"},
		{"niño", "mi NINO viaja solo", "NINO"},
		{"cafe", "un café, por favor", "café"},
	}
	for _, tt := range tests {
		m, err := compileTerms([]string{tt.term})
		if err != nil {
			t.Fatalf("%q: %v", tt.term, err)
		}
		got, ok := m.first(words(tt.text))
		switch {
		case tt.want == "" && ok:
			t.Errorf("%q in %q: found %q, want nothing", tt.term, tt.text, tt.text[got.start:got.end])
		case tt.want != "" && (!ok || tt.text[got.start:got.end] != tt.want):
			t.Errorf("%q in %q: found %v, want %q", tt.term, tt.text, got, tt.want)
		}
	}
	for _, bad := range []string{"", "  ", "@handle", "a||b", "***"} {
		if _, err := compileTerms([]string{bad}); err == nil {
			t.Errorf("term %q accepted", bad)
		}
	}
}

func TestLength(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"hola", 4},
		{"canción", 7},
		{"cancio\u0301n", 7}, // decomposed accent: NFC counts it once
		{"Nin\u0303o", 4},
		{"https://pajaritoair.com/ayuda/equipaje/perdido?ref=twitter", 23},
		{"Mira pajaritoair.com/ayuda.", 5 + 23 + 1},
		{"escríbenos a ayuda@pajaritoair.com", 34}, // an e-mail address is not a link
		{"✈", 2},
		{"👍🏽", 2},
		{"👨‍👩‍👧", 2},
		{"🇪🇸", 2},
		{"❤️", 2},
		{"日本", 4},
		{"“quoted” — ok", 13}, // typographic quotes and dashes count 1
		{"…", 2},              // the ellipsis (U+2026) is outside X's light ranges
		{strings.Repeat("a", 280), 280},
	}
	for _, tt := range tests {
		if got := Length(tt.text); got != tt.want {
			t.Errorf("Length(%q) = %d, want %d", tt.text, got, tt.want)
		}
	}
}

func TestFindURLs(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"sin enlaces, 8:00-20:00 y 910 000 000", nil},
		{"ver http://a.es/x, y www.pajarito.com.", []string{"http://a.es/x", "www.pajarito.com"}},
		{"(pajaritoair.com/ayuda)", []string{"pajaritoair.com/ayuda"}},
		{"ana.garcia@example.com", nil},
		{"Sr. Pérez. Gracias.", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, u := range findURLs(tt.text) {
			got = append(got, tt.text[u[0]:u[1]])
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("findURLs(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestFirstSentenceAndRender(t *testing.T) {
	for text, want := range map[string]string{
		"Lo sentimos, Ana. Te escribimos.":  "Lo sentimos, Ana",
		"¡Hola! Lo sentimos.":               "¡Hola",
		"Esperamos... lo sentimos. Adiós":   "Esperamos... lo sentimos",
		"Son 2.5 horas, lo sentimos. Adiós": "Son 2.5 horas, lo sentimos",
	} {
		if got := firstSentence(text); got != want {
			t.Errorf("firstSentence(%q) = %q, want %q", text, got, want)
		}
	}
	for _, tt := range []struct {
		tmpl string
		v    values
		want string
	}{
		{"¡Hola, {first_name}! Gracias. {signature}", values{firstName: "Ana", signature: "^Equipo"}, "¡Hola, Ana! Gracias. ^Equipo"},
		{"¡Hola, {first_name}! Gracias. {signature}", values{signature: "^Equipo"}, "¡Hola! Gracias. ^Equipo"},
		{"Hi {first_name}! Thanks.", values{signature: "^Team"}, "Hi! Thanks. ^Team"},
		{"Lo sentimos, {first_name}. Vale.", values{signature: "^Equipo"}, "Lo sentimos. Vale. ^Equipo"},
		{"Hola {handle}, atendemos {hours}: {channels}.", values{handle: "ana", hours: "8-20", channels: "app", signature: "^E"}, "Hola @ana, atendemos 8-20: app. ^E"},
	} {
		if got := render(tt.tmpl, tt.v); got != tt.want {
			t.Errorf("render(%q) = %q, want %q", tt.tmpl, got, tt.want)
		}
	}
	for name, want := range map[string]string{"Ana García": "Ana", "maría-josé ✈️": "maría-josé", "✈️ Viajero": "", "@ana": "", "J": "", "Juan123": "", "": ""} {
		if got := firstName(name); got != want {
			t.Errorf("firstName(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestDistinct(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"before the signature", "Lo sentimos, Ana. Escríbenos por DM. ^Equipo", "Lo sentimos, Ana. Escríbenos por DM. (%s) ^Equipo"},
		{"signature of two words", "We're sorry. DM us. ^Team Pajarito", "We're sorry. DM us. (%s) ^Team Pajarito"},
		{"no signature", "Gracias por escribirnos.", "Gracias por escribirnos. (%s)"},
	}
	refRE := regexp.MustCompile(`\(([0-9a-hjkmnp-tv-z]{6})\)`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Distinct(tt.text, "reply-1")
			ref := refRE.FindStringSubmatch(got)
			if ref == nil || got != fmt.Sprintf(tt.want, ref[1]) {
				t.Errorf("Distinct(%q) = %q, want %q with a 6-character reference", tt.text, got, tt.want)
			}
			if again := Distinct(tt.text, "reply-1"); again != got {
				t.Errorf("not stable: %q then %q", got, again)
			}
		})
	}
	// Every reply its own reference, and one the reply linter takes for what it
	// is, not a booking code or a phone: 2,000 seeds.
	eng, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	lint := eng.Linter()
	seen := map[string]string{}
	for i := range 2000 {
		seed := fmt.Sprintf("r%032x", i)
		for _, lang := range []string{"es", "en"} {
			text := "Lo sentimos, ya lo estamos revisando. ^Equipo"
			if lang == "en" {
				text = "We're sorry, we're looking into it. ^Team"
			}
			got := Distinct(text, seed)
			if res := lint.Lint(ReplyDraft{Text: got, Channel: care.Public, Lang: lang, Intent: classify.IntentComplaint, Automatic: true}); !res.OK() {
				t.Fatalf("the linter refuses %q: %+v", got, res.Errors)
			}
			if other, ok := seen[got]; ok {
				t.Fatalf("seeds %s and %s give the same text %q", other, seed, got)
			}
			seen[got] = seed
		}
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0m"}, {29 * time.Second, "0m"}, {45 * time.Minute, "45m"}, {time.Hour, "1h"},
		{65 * time.Minute, "1h05m"}, {2*time.Hour + 15*time.Minute + 31*time.Second, "2h16m"}, {48 * time.Hour, "48h"},
	}
	for _, tt := range tests {
		if got := FormatDuration(tt.d); got != tt.want {
			t.Errorf("FormatDuration(%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
