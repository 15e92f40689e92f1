package csat

import (
	"strings"
	"testing"
)

func TestSurvey(t *testing.T) {
	es := "¿Del 1 al 5, cómo te atendimos? Responde con un número: 1 es muy mal y 5, muy bien. " +
		"Si no quieres más encuestas, responde «no más encuestas»."
	en := "From 1 to 5, how did we do? Reply with a number: 1 is very bad and 5 is very good. " +
		"To get no more surveys, reply \"stop\"."
	for _, tc := range []struct {
		lang, fallback, signature, want string
	}{
		{"es", "en", "", es},
		{"en", "es", "", en},
		{"es-MX", "en", "", es},
		{"EN_us", "es", "", en},
		{"pt", "es", "", es},
		{"und", "en", "", en},
		{"", "es", "^Ana", es + " ^Ana"},
		{"fr", "de", " ^Equipo ", en + " ^Equipo"},
	} {
		if got := Survey(tc.lang, tc.fallback, tc.signature); got != tc.want {
			t.Errorf("Survey(%q, %q, %q) = %q, want %q", tc.lang, tc.fallback, tc.signature, got, tc.want)
		}
	}
}

// TestSurveyAndParseAgree: what each survey tells customers to write is read as
// it says: the ends of the scale and the opt-out.
func TestSurveyAndParseAgree(t *testing.T) {
	for _, tc := range []struct {
		lang, low, high, optOut string
	}{
		{"es", "muy mal", "muy bien", "no más encuestas"},
		{"en", "very bad", "very good", "stop"},
	} {
		text := Survey(tc.lang, "", "")
		for _, phrase := range []string{tc.low, tc.high, tc.optOut} {
			if !strings.Contains(text, phrase) {
				t.Errorf("the %s survey does not say %q: %q", tc.lang, phrase, text)
			}
		}
		if a := Parse(tc.low, tc.lang); a.Score != 1 {
			t.Errorf("%s: %q reads as %+v, the survey calls it 1", tc.lang, tc.low, a)
		}
		if a := Parse(tc.high, tc.lang); a.Score != 5 {
			t.Errorf("%s: %q reads as %+v, the survey calls it 5", tc.lang, tc.high, a)
		}
		if a := Parse(tc.optOut, tc.lang); !a.OptOut {
			t.Errorf("%s: %q does not opt out", tc.lang, tc.optOut)
		}
	}
}
