// Package classify labels customer messages for the care team: language, intent,
// sentiment (with a score), urgency, personal data posted in the open, and the
// reasons behind every label, so that an agent can see why.
//
// It is built in and deterministic: rules over lexicons written for this project
// (Spanish and English first-class), no network and no downloaded models. A
// Classifier is built once (New) from those lexicons and a brand's Config and is
// safe for concurrent use; Classify is a pure function of its input.
//
// Agents' corrections train a small per-deployment model (Train, Model) that is
// blended with the rules once it has seen enough examples (see WithModel).
package classify

import (
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/pajarito-care/pajarito/shared/care"
)

// Intent is what the customer wants.
type Intent string

const (
	IntentQuestion  Intent = "question"  // asks for information or help
	IntentComplaint Intent = "complaint" // unhappy with the service or treatment
	IntentIncident  Intent = "incident"  // something is broken now: outage, cancelled flight, lost bag, failed payment
	IntentPraise    Intent = "praise"    // thanks or compliments
	IntentSales     Intent = "sales"     // wants to buy or asks for prices: a lead
	IntentSpam      Intent = "spam"      // crypto, follow-back, links only
	IntentOther     Intent = "other"     // none of the above (news, chatter)
)

// Intents lists every intent, in the order the rules consider them.
var Intents = []Intent{IntentSpam, IntentIncident, IntentComplaint, IntentSales, IntentPraise, IntentQuestion, IntentOther}

// severities ranks the intents from the least to the most serious.
var severities = []Intent{IntentSpam, IntentOther, IntentPraise, IntentQuestion, IntentSales, IntentComplaint, IntentIncident}

// Severity ranks an intent by how much it asks of the team, from spam (0) to an
// incident (6); -1 for no intent or an unknown one. A case keeps the most serious
// intent of its messages: a complaint that ends in thanks is still a complaint.
func (i Intent) Severity() int {
	for n, x := range severities {
		if x == i {
			return n
		}
	}
	return -1
}

// Sentiment is the tone of a message.
type Sentiment string

const (
	Negative Sentiment = "negative"
	Neutral  Sentiment = "neutral"
	Positive Sentiment = "positive"
)

// Sentiments lists the three sentiments.
var Sentiments = []Sentiment{Negative, Neutral, Positive}

// UrgencyLevel says how soon someone must look at a message.
type UrgencyLevel string

const (
	UrgencyNone     UrgencyLevel = "none"
	UrgencyLow      UrgencyLevel = "low"
	UrgencyHigh     UrgencyLevel = "high"
	UrgencyCritical UrgencyLevel = "critical"
)

func (l UrgencyLevel) rank() int {
	switch l {
	case UrgencyLow:
		return 1
	case UrgencyHigh:
		return 2
	case UrgencyCritical:
		return 3
	}
	return 0
}

// UrgencyKind says why a message is urgent. Brands may configure kinds of their own.
type UrgencyKind string

const (
	KindSafety        UrgencyKind = "safety"              // fire, smoke, assault, emergency landing
	KindMedical       UrgencyKind = "medical"             // medication, ambulance, allergic reaction
	KindLegalThreat   UrgencyKind = "legal_threat"        // lawyer, lawsuit, consumer authority
	KindCancelAccount UrgencyKind = "cancel_account"      // wants to leave: churn risk
	KindStranded      UrgencyKind = "stranded"            // stuck far from home, no hotel, missed connection
	KindVulnerable    UrgencyKind = "vulnerable_customer" // wheelchair, baby, elderly, pregnant
	KindFraud         UrgencyKind = "fraud"               // unauthorised charges, hacked account
	KindLongWait      UrgencyKind = "long_wait"           // has waited hours or tried many times
	KindAskedUrgent   UrgencyKind = "asked_urgent"        // says it is urgent
)

// DefaultUrgencyLevels is the level each built-in kind raises a message to.
var DefaultUrgencyLevels = map[UrgencyKind]UrgencyLevel{
	KindSafety:        UrgencyCritical,
	KindMedical:       UrgencyCritical,
	KindLegalThreat:   UrgencyHigh,
	KindCancelAccount: UrgencyHigh,
	KindStranded:      UrgencyHigh,
	KindVulnerable:    UrgencyHigh,
	KindFraud:         UrgencyHigh,
	KindLongWait:      UrgencyLow,
	KindAskedUrgent:   UrgencyLow,
}

// PIIKind is a kind of personal data.
type PIIKind string

const (
	PIIEmail   PIIKind = "email"
	PIIPhone   PIIKind = "phone"
	PIICard    PIIKind = "card"    // payment card number that passes the Luhn check
	PIIDNI     PIIKind = "dni"     // Spanish national id with a correct check letter
	PIINIE     PIIKind = "nie"     // Spanish foreigner id with a correct check letter
	PIIIBAN    PIIKind = "iban"    // bank account that passes the mod-97 check
	PIIBooking PIIKind = "booking" // booking reference / locator / PNR
)

// PIIKindsAll lists every kind of personal data the classifier finds.
var PIIKindsAll = []PIIKind{PIIEmail, PIIPhone, PIICard, PIIDNI, PIINIE, PIIIBAN, PIIBooking}

// Input is one message to classify.
type Input struct {
	Text string `json:"text"`
	// Lang is X's language tag ("es", "en", …); "" or "und" when unknown.
	Lang string `json:"lang,omitempty"`
	// Channel is where it was posted (public or DM); personal data matter most in public.
	Channel care.Channel `json:"channel,omitempty"`
}

// InputFrom builds the input for a care message.
func InputFrom(m *care.Message) Input {
	return Input{Text: m.Text, Lang: m.Lang, Channel: m.Channel}
}

// Result holds the labels of one message.
type Result struct {
	// Lang is X's tag when it gave one, else the detected language: "es", "en" or "und".
	Lang string `json:"lang"`
	// LangSource is "x" when Lang is X's tag and "detected" otherwise.
	LangSource string    `json:"lang_source"`
	Intent     Intent    `json:"intent"`
	Sentiment  Sentiment `json:"sentiment"`
	// Score runs from -1 (most negative) to 1 (most positive).
	Score   float64 `json:"score"`
	Urgency Urgency `json:"urgency"`
	// PII lists the personal data found, in order of appearance.
	PII []PII `json:"pii"`
	// Forbidden lists the brand's forbidden words found in the text.
	Forbidden []string `json:"forbidden,omitempty"`
	// Reasons explain each label, for agents.
	Reasons []Reason `json:"reasons"`
}

// PIIKinds returns the distinct kinds of personal data found.
func (r *Result) PIIKinds() []PIIKind {
	var out []PIIKind
	for _, p := range r.PII {
		dup := false
		for _, k := range out {
			if k == p.Kind {
				dup = true
			}
		}
		if !dup {
			out = append(out, p.Kind)
		}
	}
	return out
}

// Reason returns the explanation of a label ("" when there is none).
func (r *Result) Reason(label string) string {
	for _, x := range r.Reasons {
		if x.Label == label {
			return x.Because
		}
	}
	return ""
}

// Urgency is how soon, and why.
type Urgency struct {
	Level UrgencyLevel  `json:"level"`
	Kinds []UrgencyKind `json:"kinds,omitempty"`
}

// PII is one piece of personal data. Start and End are byte offsets in the text
// (as given, when it is valid UTF-8) so that it can be redacted; Masked shows
// only its last characters, never the whole value.
type PII struct {
	Kind   PIIKind `json:"kind"`
	Start  int     `json:"start"`
	End    int     `json:"end"`
	Masked string  `json:"masked"`
}

// Reason explains one label: Label is "lang", "intent", "sentiment", "urgency" or
// "pii"; Value is the label's value; Because is for people.
type Reason struct {
	Label   string `json:"label"`
	Value   string `json:"value"`
	Because string `json:"because"`
}

// Config is a brand's vocabulary on top of the built-in lexicons. Terms are
// matched without regard to case or accents. A term is a word, a word ending in *
// (a prefix), or a phrase where "<n>" is a number, "..." skips up to three words,
// "_" is any one word, "a|b" are alternatives for one word and "+" joins the
// words of a longer alternative: "mi pedido|paquete ... no ha llegado",
// "fibra 1gb|fibra+simetrica".
type Config struct {
	// Intents adds cue terms per intent, e.g. {"sales": ["tarifa pyme", "fibra 1gb"]}.
	Intents map[Intent][]string `json:"intents,omitempty"`
	// Urgency adds cue terms per urgency kind; kinds of the brand's own are allowed.
	Urgency map[UrgencyKind][]string `json:"urgency,omitempty"`
	// UrgencyLevels sets the level of a kind (defaults: DefaultUrgencyLevels; a kind
	// of the brand's own with no level is "high").
	UrgencyLevels map[UrgencyKind]UrgencyLevel `json:"urgency_levels,omitempty"`
	// Sentiment adds or overrides terms with a valence from -4 to 4, e.g.
	// {"sin cobertura": -3, "puntos pajarito": 1}.
	Sentiment map[string]float64 `json:"sentiment,omitempty"`
	// Neutral terms carry no sentiment for this brand: product and brand names that
	// look like opinions ("Spirit", "Frontier", "Joy", "Genial Bank").
	Neutral []string `json:"neutral,omitempty"`
	// Forbidden words are reported in Result.Forbidden when a message uses them
	// (e.g. words the brand never writes in replies, or insults to flag); the reply
	// linter can use the same matcher through Classifier.FindForbidden.
	Forbidden []string `json:"forbidden,omitempty"`
	// MinPerClass is how many corrections each class needs before the corrections
	// model takes part (default 30); see WithModel.
	MinPerClass int `json:"min_per_class,omitempty"`
}

// Classifier labels messages. Build it once with New; it is read-only afterwards
// and safe for concurrent use.
type Classifier struct {
	lx       *lexicon
	levels   map[UrgencyKind]UrgencyLevel
	model    *Model
	minClass int
	pool     sync.Pool
}

var (
	defaultOnce sync.Once
	defaultC    *Classifier
)

// Default returns the classifier with the built-in lexicons and no brand
// configuration.
func Default() *Classifier {
	defaultOnce.Do(func() {
		c, err := New(Config{})
		if err != nil {
			panic("classify: built-in lexicon: " + err.Error())
		}
		defaultC = c
	})
	return defaultC
}

// Classify labels m with the default classifier.
func Classify(m Input) Result {
	return Default().Classify(m)
}

// New builds a classifier from the built-in lexicons and the brand's configuration.
func New(cfg Config) (*Classifier, error) {
	lx := newLexicon()
	for _, src := range []struct {
		lang int
		text string
		name string
	}{{langES, lexES, "es"}, {langES, lexESMore, "es+"}, {langES, lexESFix, "es!"}, {langES, lexESFix2, "es!!"}, {langES, lexESFix3, "es!!!"}, {langES, lexESCalm, "es-calm"}, {langES, lexESCare, "es-care"}, {langEN, lexEN, "en"}} {
		if err := lx.load(src.lang, src.text); err != nil {
			return nil, fmt.Errorf("lexicon %s: %w", src.name, err)
		}
	}
	for r, v := range emojiValence {
		lx.emoji[r] = v
	}
	c := &Classifier{lx: lx, levels: map[UrgencyKind]UrgencyLevel{}, minClass: 30}
	for k, v := range DefaultUrgencyLevels {
		c.levels[k] = v
	}
	if cfg.MinPerClass > 0 {
		c.minClass = cfg.MinPerClass
	}
	for intent, terms := range cfg.Intents {
		if !validIntent(intent) {
			return nil, fmt.Errorf("config: unknown intent %q", intent)
		}
		for _, t := range terms {
			if err := lx.addItem(langXX, header{cat: catIntent, tag: string(intent), flags: fBrand}, t); err != nil {
				return nil, fmt.Errorf("config: intent %s: %w", intent, err)
			}
		}
	}
	for kind, terms := range cfg.Urgency {
		if kind == "" {
			return nil, fmt.Errorf("config: urgency kind is empty")
		}
		if _, ok := c.levels[kind]; !ok {
			c.levels[kind] = UrgencyHigh
		}
		for _, t := range terms {
			if err := lx.addItem(langXX, header{cat: catUrgency, tag: string(kind), flags: fBrand}, t); err != nil {
				return nil, fmt.Errorf("config: urgency %s: %w", kind, err)
			}
		}
	}
	for kind, lvl := range cfg.UrgencyLevels {
		if lvl.rank() == 0 && lvl != UrgencyNone {
			return nil, fmt.Errorf("config: urgency level %q of %s is not none, low, high or critical", lvl, kind)
		}
		c.levels[kind] = lvl
	}
	for _, t := range cfg.Neutral {
		if err := lx.addBrandSentiment(t, 0, true); err != nil {
			return nil, fmt.Errorf("config: neutral %q: %w", t, err)
		}
	}
	for t, v := range cfg.Sentiment {
		if v < -4 || v > 4 {
			return nil, fmt.Errorf("config: sentiment %q: valence %v is outside -4..4", t, v)
		}
		if err := lx.addBrandSentiment(t, float32(v), false); err != nil {
			return nil, fmt.Errorf("config: sentiment %q: %w", t, err)
		}
	}
	for _, t := range cfg.Forbidden {
		if strings.TrimSpace(t) == "" {
			continue
		}
		if err := lx.addPhrase(langXX, header{cat: catForbid}, t); err != nil {
			return nil, fmt.Errorf("config: forbidden %q: %w", t, err)
		}
	}
	c.pool.New = func() any { return &scratch{} }
	return c, nil
}

func validIntent(i Intent) bool {
	for _, x := range Intents {
		if x == i {
			return true
		}
	}
	return false
}

// addBrandSentiment adds a brand term with valence v; neutral terms cover their
// words so that the built-in lexicon does not read them.
func (lx *lexicon) addBrandSentiment(t string, v float32, neutral bool) error {
	f := foldString(t)
	if f == "" {
		return fmt.Errorf("empty term")
	}
	if !strings.ContainsAny(f, " |<*") && f != "_" && f != "..." {
		// A single word: set it in both languages, replacing its built-in meaning.
		e := entry{val: v, set: true, flags: fBrand}
		lw := &lexWord{lang: [2]entry{e, e}}
		lx.words[f] = lw
		lx.dict[f] = true
		return nil
	}
	// A phrase: a sentiment phrase (weight 0 for neutral terms covers its words).
	return lx.addPhrase(langXX, header{cat: catSent, weight: v, hasWeight: true, flags: fBrand}, t)
}

// WithModel returns a copy of c that blends the corrections model m with the rules
// (m may be nil to drop it). See Model for how the blend works.
func (c *Classifier) WithModel(m *Model) *Classifier {
	c2 := &Classifier{lx: c.lx, levels: c.levels, model: m, minClass: c.minClass}
	c2.pool.New = func() any { return &scratch{} }
	return c2
}

// Model returns the corrections model in use, or nil.
func (c *Classifier) Model() *Model { return c.model }

// FindForbidden returns the brand's forbidden words found in text (as configured),
// matched without regard to case or accents. The reply linter can use it.
func (c *Classifier) FindForbidden(text string) []string {
	sc := c.pool.Get().(*scratch)
	defer c.pool.Put(sc)
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	sc.tokenize(text, c.lx)
	toks := sc.resolve()
	a := &sc.a
	a.reset(c.lx, text, toks)
	a.scan()
	a.lang = langXX
	a.prepare()
	a.matchPhrases()
	out := append([]string(nil), a.forbidden...)
	a.text, a.toks = "", nil
	return out
}
