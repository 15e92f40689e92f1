package csat

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		text, lang string
		score      int
		optOut     bool
		reason     string
	}{
		// Spanish: numbers.
		{"5", "es", 5, false, "digit '5'"},
		{"5/5", "es", 5, false, "rating '5/5'"},
		{"4 de 5", "es", 4, false, "rating '4 de 5'"},
		{"Un 3 sobre 5", "es", 3, false, "rating '3 sobre 5'"},
		{"un 4", "es", 4, false, "digit '4'"},
		{"un 4 por la rapidez", "es", 4, false, "digit '4'"},
		{"nota: 3", "es", 3, false, "digit '3'"},
		{"No. 2", "es", 2, false, "digit '2'"},
		{"el nº 3", "es", 0, false, "no rating found"}, // a number sign, not a score
		{"vuelo nº 4512, un 5", "es", 5, false, "digit '5'"},
		{"Del 1 al 5? Un 4, muy amables", "es", 4, false, "digit '4'"},
		{"Laura se merece un 5 😍", "es", 5, false, "digit '5'"},
		{"Me atendió Laura, fue muy amable, 5, gracias por todo", "es", 5, false, "digit '5'"},
		{"cinco", "es", 5, false, "word 'cinco'"},
		{"¡CINCOOO!", "es", 5, false, "word 'CINCOOO'"},
		{"uno", "es", 1, false, "word 'uno'"},
		{"cuatro estrellas", "es", 4, false, "4 stars"},
		{"una estrella", "es", 1, false, "1 star"},
		{"8 de 10", "es", 4, false, "rating '8 de 10' scaled to 4"},
		// Spanish: words and emoji.
		{"excelente", "es", 5, false, "word 'excelente' means 5"},
		{"muy bien", "es", 5, false, "phrase 'muy bien' means 5"},
		{"MUUUY BIEEEN", "es", 5, false, "phrase 'MUUUY BIEEEN' means 5"},
		{"bien pero tardasteis mucho", "es", 4, false, "word 'bien' means 4"},
		{"regular", "es", 3, false, "word 'regular' means 3"},
		{"no está mal", "es", 3, false, "phrase 'no está mal' means 3"},
		{"nada mal, la verdad", "es", 4, false, "phrase 'nada mal' means 4"},
		{"fatal", "es", 1, false, "word 'fatal' means 1"},
		{"muy mal, fatal", "es", 1, false, "phrase 'muy mal' means 1"},
		{"😡😡😡", "es", 1, false, "emoji '😡' means 1"},
		// Spanish: no score.
		{"no fue un 5", "es", 0, false, "negated: 'no fue un 5'"},
		{"ni un 1 os merecéis", "es", 0, false, "negated: 'ni un 1'"},
		{"no un 5, un 4", "es", 4, false, "digit '4'"},
		{"no fue muy bien", "es", 0, false, "negated: 'no fue muy bien'"},
		{"entre 3 y 4", "es", 0, false, "different scores: '3' and '4'"},
		{"3 o 4", "es", 0, false, "different scores: '3' and '4'"},
		{"4,5", "es", 0, false, "'4,5' is not a whole score"},
		{"un 10", "es", 0, false, "'10' is outside 1–5"},
		{"¿y mi maleta?", "es", 0, false, "no rating found"},
		{"genial, gracias. ¿Y cuándo llega mi reembolso?", "es", 0, false, "no rating found"},
		{"llevo 3 días esperando mi maleta", "es", 0, false, "no rating found"},
		{"mi vuelo sale a las 5", "es", 0, false, "no rating found"},
		{"5 de mayo", "es", 0, false, "no rating found"},
		{"vuelo 3 cancelado", "es", 0, false, "no rating found"},
		{"2 maletas perdidas", "es", 0, false, "no rating found"},
		{"me cobrasteis 5€ de más", "es", 0, false, "no rating found"},
		{"gracias", "es", 0, false, "no rating found"},
		{"una pregunta", "es", 0, false, "no rating found"},
		{"no me resolvieron nada", "es", 0, false, "no rating found"},
		// Spanish: opting out.
		{"no me mandéis más encuestas", "es", 0, true, "opt-out phrase 'no me mandéis más encuestas'"},
		{"basta de encuestas", "es", 0, true, "opt-out phrase 'basta de encuestas'"},
		{"NO MÁS ENCUESTAS", "es", 0, true, "opt-out phrase 'NO MÁS ENCUESTAS'"},
		{"¿otra encuesta? qué pesados", "es", 0, true, "opt-out phrase 'otra encuesta'"},
		{"Baja", "es", 0, true, "opt-out word 'Baja'"},
		{"dejad de escribirme", "es", 0, true, "opt-out phrase 'dejad de escribirme'"},
		{"quiero darme de baja", "es", 0, true, "opt-out phrase 'darme de baja'"},
		{"un 5, pero no quiero más encuestas", "es", 5, true, "digit '5'; opt-out phrase 'no quiero más encuestas'"},
		{"la encuesta está bien: 5", "es", 5, false, "digit '5'"},

		// English: numbers.
		{"5", "en", 5, false, "digit '5'"},
		{"4 stars", "en", 4, false, "4 stars"},
		{"5 stars!! thank you so much", "en", 5, false, "5 stars"},
		{"5-star service", "en", 5, false, "5 stars"},
		{"one star", "en", 1, false, "1 star"},
		{"five", "en", 5, false, "word 'five'"},
		{"four out of five", "en", 4, false, "rating 'four out of five'"},
		{"I'd give you a 4", "en", 4, false, "digit '4'"},
		{"10/10", "en", 5, false, "rating '10/10' scaled to 5"},
		{"7/10", "en", 4, false, "rating '7/10' scaled to 4"},
		{"5 out of 10", "en", 3, false, "rating '5 out of 10' scaled to 3"},
		// English: words and emoji.
		{"great", "en", 5, false, "word 'great' means 5"},
		{"gooood", "en", 4, false, "word 'gooood' means 4"},
		{"so-so", "en", 3, false, "word 'so-so' means 3"},
		{"not great", "en", 2, false, "phrase 'not great' means 2"},
		{"terrible", "en", 1, false, "word 'terrible' means 1"},
		{"👍", "en", 4, false, "emoji '👍' means 4"},
		{":(", "en", 2, false, "emoticon ':(' means 2"},
		// English: no score.
		{"not a 5", "en", 0, false, "negated: 'not a 5'"},
		{"3-4", "en", 0, false, "different scores: '3' and '4'"},
		{"0", "en", 0, false, "'0' is outside 1–5"},
		{"4.5/5", "en", 0, false, "'4.5/5' is not a whole score"},
		{"excelente 👎", "", 0, false, "different scores: 'excelente' and '👎'"},
		{"3⭐⭐⭐⭐⭐", "", 0, false, "different scores: '3' and '⭐⭐⭐⭐⭐'"},
		{"where is my refund?", "en", 0, false, "no rating found"},
		{"great service but where is my bag?", "en", 0, false, "no rating found"},
		{"one question: where is my bag?", "en", 0, false, "no rating found"},
		{"3 hours on hold", "en", 0, false, "no rating found"},
		{"my flight at 5pm was cancelled", "en", 0, false, "no rating found"},
		{"the app won't stop crashing", "en", 0, false, "no rating found"},
		// English: opting out.
		{"stop", "en", 0, true, "opt-out word 'stop'"},
		{"STOP!!!", "en", 0, true, "opt-out word 'STOP'"},
		{"Stop, please", "en", 0, true, "opt-out word 'Stop, please'"},
		{"unsubscribe", "en", 0, true, "opt-out word 'unsubscribe'"},
		{"don't send me surveys", "en", 0, true, "opt-out phrase 'don't send me surveys'"},
		{"please leave me alone", "en", 0, true, "opt-out phrase 'leave me alone'"},
		{"I hate surveys, 3", "en", 3, true, "digit '3'; opt-out phrase 'hate surveys'"},

		// Either language.
		{"⭐⭐⭐⭐", "", 4, false, "4 stars"},
		{"★★★☆☆", "und", 3, false, "3 stars"},
		{"⭐ ⭐ ⭐ ⭐ ⭐ ⭐", "", 0, false, "'⭐ ⭐ ⭐ ⭐ ⭐ ⭐' is more than 5 stars"},
		{"5 ⭐⭐⭐⭐⭐", "", 5, false, "digit '5'"},
		{"4️⃣", "", 4, false, "digit '4️⃣'"},
		{"😍", "", 5, false, "emoji '😍' means 5"},
		{"😡", "", 1, false, "emoji '😡' means 1"},
		{"😂", "", 0, false, "no rating found"},
		{"12/03/2026", "", 0, false, "no rating found"},
		{"https://t.co/x5 @PajaritoAir #5", "", 0, false, "no rating found"},
		{"", "", 0, false, "no rating found"},
		// The languages read.
		{"cinco", "en", 0, false, "no rating found"},
		{"great", "es", 0, false, "no rating found"},
		{"bien", "en-GB", 0, false, "no rating found"},
		{"cinco", "und", 5, false, "word 'cinco'"},
		{"bien", "es-MX", 4, false, "word 'bien' means 4"},
		{"great", "pt", 5, false, "word 'great' means 5"},
	} {
		got := Parse(tc.text, tc.lang)
		if got.Score != tc.score || got.OptOut != tc.optOut || got.Reason != tc.reason {
			t.Errorf("Parse(%q, %q) = %+v, want score %d, opt-out %v, reason %q",
				tc.text, tc.lang, got, tc.score, tc.optOut, tc.reason)
		}
	}
}

// TestLongMessages: bare numbers and words count only in short replies; "un
// 4", scales and stars count anywhere.
func TestLongMessages(t *testing.T) {
	long := "os escribo porque el viernes pasado perdí el enlace en Madrid y nadie en el mostrador supo decirme nada"
	for _, tc := range []struct {
		text  string
		score int
	}{
		{long + ", excelente", 0},
		{long + ", 4", 0},
		{long + ", un 4", 4},
		{long + ", 4/5", 4},
		{long + ", ⭐⭐", 2},
		{"excelente, 4", 4}, // an explicit score wins over words
	} {
		if got := Parse(tc.text, "es"); got.Score != tc.score {
			t.Errorf("Parse(%q) = %+v, want score %d", tc.text, got, tc.score)
		}
	}
}

// FuzzParse checks what holds for any text: a score in 0–5, a reason always,
// quotes taken from the text.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"5", "un 4", "4 de 5", "★★★☆☆", "no fue un 5", "no más encuestas", "😍😡", "10/10", "4️⃣", "https://x.co :/", "del 1 al 5", "3:30", "1.000,5"} {
		f.Add(s, "es")
		f.Add(s, "en")
	}
	f.Fuzz(func(t *testing.T, text, lang string) {
		a := Parse(text, lang)
		if a.Score < 0 || a.Score > 5 || a.Reason == "" {
			t.Fatalf("Parse(%q, %q) = %+v", text, lang, a)
		}
		if utf8.ValidString(text) && !utf8.ValidString(a.Reason) {
			t.Fatalf("Parse(%q): reason %q is not UTF-8", text, a.Reason)
		}
		if a.Score > 0 && strings.HasPrefix(a.Reason, "no rating") {
			t.Fatalf("Parse(%q) = %+v: a score without its reason", text, a)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	replies := []string{"5", "un 4, muy amables", "⭐⭐⭐⭐", "no me mandéis más encuestas", "¿y mi maleta? llevo 3 días esperando", "great, thanks!"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		Parse(replies[i%len(replies)], "")
		i++
	}
}
