package classify

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// syntheticCorrections writes agent corrections for a brand whose customers say
// "pajarazo" for something great and "plan nube" when they want to buy a
// product: neither is in the built-in lexicons. perClass corrections are made for
// each class, from templates and fillers generated here.
func syntheticCorrections(perClass int, seed int64) []Correction {
	rng := rand.New(rand.NewSource(seed))
	pick := func(xs []string) string { return xs[rng.Intn(len(xs))] }
	openers := []string{"", "hola", "buenas", "oye", "@PajaritoAir", "ey"}
	things := []string{"el check-in", "la app", "el vuelo de hoy", "el embarque", "la sala vip", "el cambio de asiento", "la tripulación", "el menú"}
	closers := []string{"", "!", "!!", " de verdad", " 😀", ", repetiré", " hoy"}
	cities := []string{"Bilbao", "Lisboa", "Roma", "Sevilla", "Lima", "Bogotá", "París"}
	var out []Correction
	for i := 0; i < perClass; i++ {
		// Positive: the brand's slang.
		out = append(out, Correction{
			Text:      strings.TrimSpace(fmt.Sprintf("%s %s ha sido un pajarazo%s", pick(openers), pick(things), pick(closers))),
			Lang:      "es",
			Sentiment: Positive,
			Intent:    IntentPraise,
		})
		// Neutral: plain information requests.
		out = append(out, Correction{
			Text:      strings.TrimSpace(fmt.Sprintf("%s a qué hora sale el vuelo a %s el %d", pick(openers), pick(cities), 1+rng.Intn(28))),
			Lang:      "es",
			Sentiment: Neutral,
			Intent:    IntentQuestion,
		})
		// Negative: complaints.
		out = append(out, Correction{
			Text:      strings.TrimSpace(fmt.Sprintf("%s %s fue un desastre, %d horas de retraso%s", pick(openers), pick(things), 1+rng.Intn(6), pick(closers))),
			Lang:      "es",
			Sentiment: Negative,
			Intent:    IntentComplaint,
		})
		// Sales: the brand's product name.
		out = append(out, Correction{
			Text:   strings.TrimSpace(fmt.Sprintf("%s me apunto al plan nube para %s", pick(openers), pick(cities))),
			Lang:   "es",
			Intent: IntentSales,
		})
	}
	return out
}

func TestCorrectionsModelLearnsBrandTerms(t *testing.T) {
	const text = "el nuevo programa de puntos es un pajarazo"
	rules := Classify(Input{Text: text, Lang: "es"})
	if rules.Sentiment == Positive {
		t.Fatalf("precondition: the rules already read %q as positive", text)
	}
	m := Train(syntheticCorrections(40, 1))
	c := Default().WithModel(m)
	got := c.Classify(Input{Text: text, Lang: "es"})
	if got.Sentiment != Positive {
		t.Errorf("with the model, %q = %s; reason %q", text, got.Sentiment, got.Reason("sentiment"))
	}
	why := got.Reason("sentiment")
	for _, want := range []string{"blend", "rules " + string(rules.Sentiment), "corrections model positive", "pajarazo"} {
		if !strings.Contains(why, want) {
			t.Errorf("sentiment reason %q lacks %q", why, want)
		}
	}
	if got.Score <= rules.Score {
		t.Errorf("blended score %v not above the rules' %v", got.Score, rules.Score)
	}

	const lead = "me apunto al plan nube"
	if r := Classify(Input{Text: lead, Lang: "es"}); r.Intent == IntentSales {
		t.Fatalf("precondition: rules already read %q as sales", lead)
	}
	gi := c.Classify(Input{Text: lead, Lang: "es"})
	if gi.Intent != IntentSales || !strings.Contains(gi.Reason("intent"), "blend") {
		t.Errorf("with the model, %q intent = %s (%s)", lead, gi.Intent, gi.Reason("intent"))
	}

	// What the rules know well is not overturned by an unrelated model.
	for _, tc := range []struct {
		text string
		want Sentiment
	}{
		{"llevo dos horas esperando y nadie contesta, una vergüenza", Negative},
		{"muchísimas gracias por la ayuda, sois geniales", Positive},
	} {
		if r := c.Classify(Input{Text: tc.text, Lang: "es"}); r.Sentiment != tc.want {
			t.Errorf("with the model, %q = %s (%s)", tc.text, r.Sentiment, r.Reason("sentiment"))
		}
	}
}

func TestCorrectionsModelWaitsForEnoughExamples(t *testing.T) {
	m := Train(syntheticCorrections(10, 2)) // 10 per class: below the default 30
	c := Default().WithModel(m)
	const text = "el nuevo programa de puntos es un pajarazo"
	r := c.Classify(Input{Text: text, Lang: "es"})
	if r.Sentiment != Classify(Input{Text: text, Lang: "es"}).Sentiment {
		t.Errorf("a model with 10 corrections per class changed the label: %s", r.Reason("sentiment"))
	}
	if !strings.Contains(r.Reason("sentiment"), "waiting for 30 corrections in each of two classes") {
		t.Errorf("reason does not say the model is waiting: %q", r.Reason("sentiment"))
	}
	// A brand may lower the bar.
	c2, err := New(Config{MinPerClass: 5})
	if err != nil {
		t.Fatal(err)
	}
	// The bar is a training setting: a model trained with it takes part.
	if r := c2.WithModel(c2.Train(syntheticCorrections(10, 2))).Classify(Input{Text: text, Lang: "es"}); !strings.Contains(r.Reason("sentiment"), "blend") || r.Score <= 0 {
		t.Errorf("MinPerClass 5: %s %.2f (%s)", r.Sentiment, r.Score, r.Reason("sentiment"))
	}
}

func TestModelJSONRoundTrip(t *testing.T) {
	cs := syntheticCorrections(35, 3)
	m := Train(cs)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(Train(cs))
	if string(b) != string(b2) {
		t.Error("training twice on the same corrections gives different JSON")
	}
	var back Model
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Version != ModelVersion || back.Trained.Corrections != len(cs) {
		t.Errorf("round trip: version %d, corrections %d", back.Version, back.Trained.Corrections)
	}
	for _, text := range []string{"todo un pajarazo", "a qué hora sale el vuelo a Roma", "me apunto al plan nube", ""} {
		p1, p2 := m.Predict(text, "es"), back.Predict(text, "es")
		a, _ := json.Marshal(p1)
		z, _ := json.Marshal(p2)
		if string(a) != string(z) {
			t.Errorf("Predict(%q) differs after a JSON round trip:\n%s\n%s", text, a, z)
		}
	}
	p := back.Predict("todo un pajarazo!", "es")
	if p.Sentiment == nil || p.Sentiment.Label != string(Positive) || p.Sentiment.Prob < 0.8 {
		t.Errorf("Predict sentiment = %+v", p.Sentiment)
	}
	if p.Sentiment != nil && (len(p.Sentiment.Evidence) == 0 || !strings.Contains(strings.Join(p.Sentiment.Evidence, " "), "pajarazo")) {
		t.Errorf("evidence %v lacks pajarazo", p.Sentiment.Evidence)
	}
}

func TestModelEdgeCases(t *testing.T) {
	if m := Train(nil); m.Intent != nil || m.Sentiment != nil {
		t.Errorf("Train(nil) = %+v", m)
	}
	var nilModel *Model
	if p := nilModel.Predict("hola", "es"); p.Intent != nil || p.Sentiment != nil {
		t.Errorf("nil model predicted %+v", p)
	}
	// Only sentiment corrections: the intent head stays empty and intent is the rules'.
	var cs []Correction
	for _, c := range syntheticCorrections(40, 4) {
		c.Intent = ""
		cs = append(cs, c)
	}
	m := Train(cs)
	if m.Intent != nil {
		t.Errorf("intent head trained without intent corrections")
	}
	r := Default().WithModel(m).Classify(Input{Text: "¿puedo llevar una maleta de 10 kilos?", Lang: "es"})
	if r.Intent != IntentQuestion {
		t.Errorf("intent = %s (%s)", r.Intent, r.Reason("intent"))
	}
	// Invalid UTF-8 and empty texts do not break training or prediction.
	m = Train([]Correction{{Text: "\xff\xfe pajarazo", Sentiment: Positive}, {Text: "", Sentiment: Negative}, {Text: "  ", Intent: IntentSpam}})
	if m.Trained.Corrections != 1 {
		t.Errorf("trained on %d corrections, want 1", m.Trained.Corrections)
	}
	_ = m.Predict("\xff", "")
	if Default().WithModel(nil).Model() != nil {
		t.Error("WithModel(nil) kept a model")
	}
}

// Corrections that carry no signal (labels at random) must not change what the
// rules say: the validation on held-out corrections keeps such a model off.
func TestCorrectionsModelStaysOffWhenItDoesNotHelp(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	labels := []Sentiment{Negative, Neutral, Positive}
	var cs []Correction
	for _, c := range syntheticCorrections(60, 6) {
		if c.Sentiment == "" {
			continue
		}
		c.Sentiment = labels[rng.Intn(len(labels))]
		c.Intent = ""
		cs = append(cs, c)
	}
	m := Train(cs)
	v := m.Sentiment.Validation
	if v == nil || v.Active || m.Sentiment.Combiner != nil {
		t.Fatalf("random labels: validation %+v, combiner %v; want an inactive model", v, m.Sentiment.Combiner != nil)
	}
	c := Default().WithModel(m)
	for _, text := range []string{"el check-in ha sido un pajarazo", "el embarque fue un desastre, 3 horas de retraso", "a qué hora sale el vuelo a Roma el 3"} {
		rules, got := Classify(Input{Text: text, Lang: "es"}), c.Classify(Input{Text: text, Lang: "es"})
		if got.Sentiment != rules.Sentiment || got.Score != rules.Score {
			t.Errorf("%q: with an inactive model %s %.3f, rules %s %.3f", text, got.Sentiment, got.Score, rules.Sentiment, rules.Score)
		}
		if !strings.Contains(got.Reason("sentiment"), "corrections model off: validated on") {
			t.Errorf("%q: reason %q does not say the model is off and why", text, got.Reason("sentiment"))
		}
	}
}
