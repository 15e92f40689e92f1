package protocol

import (
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
)

// X's prices of a post (DESIGN.md): a reply costs $0.015 ($0.010 when the author
// summoned the brand) and $0.20 when it carries a link.
const (
	PricePostUSD         = 0.015
	PricePostSummonedUSD = 0.010
	PricePostLinkUSD     = 0.20
)

// Lint rules.
const (
	RuleEmpty           = "empty"
	RuleLength          = "length"
	RuleApologyFirst    = "apology_first"
	RuleApologyToPraise = "apology_to_praise"
	RuleForbiddenWord   = "forbidden_word"
	RulePII             = "pii_echo"
	RuleDMContent       = "dm_content"
	RuleLinksNotAllowed = "links_not_allowed"
	RuleLinkCost        = "link_cost"
)

// Severity of a lint issue: errors block a reply, warnings are shown to the agent.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// LintIssue is one thing wrong with a draft.
type LintIssue struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	// Message explains it in the draft's language (Spanish or English); Messages
	// holds it in both ("es", "en").
	Message  string            `json:"message"`
	Messages map[string]string `json:"messages"`
	// Start and End are the byte offsets of the offending text in the draft, when
	// there is one (End 0 otherwise).
	Start int `json:"start,omitempty"`
	End   int `json:"end,omitempty"`
}

// LintResult is the linter's verdict on a draft.
type LintResult struct {
	Errors   []LintIssue `json:"errors"`
	Warnings []LintIssue `json:"warnings"`
	// Length is the draft's length as X counts it (see Length); Links its links.
	Length int `json:"length"`
	Links  int `json:"links"`
}

// OK reports whether the draft may be sent (it has no errors).
func (r LintResult) OK() bool { return len(r.Errors) == 0 }

// Strings returns the issues as "rule: message" lines, errors first.
func (r LintResult) Strings() []string {
	return issueStrings(r.Errors, r.Warnings)
}

// WarningStrings returns the warnings alone as "rule: message" lines: what
// a reply request carries (care.ReplyRequest.Warnings).
func (r LintResult) WarningStrings() []string {
	return issueStrings(r.Warnings)
}

func issueStrings(lists ...[]LintIssue) []string {
	var out []string
	for _, l := range lists {
		for _, i := range l {
			out = append(out, i.Rule+": "+i.Message)
		}
	}
	return out
}

// ReplyDraft is a reply to check, automatic or written by an agent.
type ReplyDraft struct {
	// Text is the complete reply, signature included.
	Text    string
	Channel care.Channel
	// Lang is the reply's language ("es", "en"): the issues are explained in it.
	Lang string
	// Intent is the case's intent: complaints and incidents need an apology first;
	// praise must not get one.
	Intent classify.Intent
	// Automatic is true for the protocol's replies; AllowLinks when their template
	// (or the configuration) opted in to links.
	Automatic  bool
	AllowLinks bool
	// CustomerID is the customer's X user id: a DM may repeat the customer's own
	// personal data, nobody else's.
	CustomerID string
	// Messages of the case, oldest first: the linter looks in them for the
	// customer's personal data (never repeated in public) and for the text of DMs
	// (never posted in public).
	Messages []care.StoredMessage
	// Sensitive are more strings never to post in public.
	Sensitive []string
	// Known holds the classification of messages of Messages already classified,
	// by X id, so that the linter does not classify them again.
	Known map[string]*classify.Result
}

// Linter checks replies. Build it with NewLinter (or use Engine.Linter); it is
// read-only and safe for concurrent use.
type Linter struct {
	apology      *matcher
	forbidden    *matcher
	replacements map[string]string
	// classifier finds personal data; nil means classify.Default(), built on first
	// use (not when the configuration is validated: every function loads it).
	classifier *classify.Classifier
	// brandInfo is the brand's own contact data (channels, hours, signatures),
	// squeezed (see squeeze): personal data found there is the brand's.
	brandInfo string
	// boiler holds the shingles of the brand's templates: not DM content.
	boiler map[string]bool
}

// Built-in apology phrases (terms, see the package doc).
var builtinApologies = []string{
	// Spanish.
	"lo sentimos", "sentimos", "lo siento", "siento", "lamentamos", "lamento", "disculpa*",
	"disculpe", "disculpen", "perdon", "perdona*", "perdone", "pedimos perdon",
	// English.
	"sorry", "apologies", "apologise*", "apologize*", "we regret", "regret",
}

var defaultLinter = sync.OnceValue(func() *Linter {
	l, err := NewLinter(DefaultConfig())
	if err != nil {
		panic("protocol: default linter: " + err.Error())
	}
	return l
})

// Lint checks d with the default configuration's linter.
func Lint(d ReplyDraft) LintResult { return defaultLinter().Lint(d) }

func (l *Linter) labeler() *classify.Classifier {
	if l.classifier != nil {
		return l.classifier
	}
	return classify.Default()
}

// NewLinter returns the linter of configuration c.
func NewLinter(c Config) (*Linter, error) {
	cp, errs := compile(&c)
	if len(errs) > 0 {
		return nil, joinFieldErrors(errs)
	}
	return cp.linter, nil
}

// newLinter builds the linter from compiled parts.
func newLinter(c *Config, apology, forbidden *matcher) *Linter {
	l := &Linter{
		apology:      apology,
		forbidden:    forbidden,
		replacements: map[string]string{},
		boiler:       map[string]bool{},
	}
	for k, v := range c.Replacements {
		l.replacements[k] = v
	}
	var info []string
	for _, m := range []map[string]string{c.Channels, c.HoursText, c.Signature} {
		for _, k := range sortedKeys(m) {
			info = append(info, m[k])
		}
	}
	l.brandInfo = squeeze(strings.Join(info, " "))
	l.addBoilerplate(c)
	for _, text := range info {
		for _, sh := range shingles(words(text)) {
			l.boiler[sh] = true
		}
	}
	return l
}

// nameMarker stands for the customer's first name in the brand's boilerplate.
const nameMarker = "zzfirstnamezz"

// addBoilerplate adds the shingles of every template, rendered as it would be
// (with the hours, channels, signature and topic labels of its language, the
// first name as nameMarker): the brand's own wording in a DM is not DM content.
func (l *Linter) addBoilerplate(c *Config) {
	hours := parseHours(c, func(string, string, ...any) {})
	for _, k := range sortedKeys(c.Templates) {
		t := c.Templates[k]
		type text struct{ lang, s string }
		var texts []text
		for _, lang := range sortedKeys(t.Text) {
			texts = append(texts, text{lang, t.Text[lang]})
		}
		for _, tone := range sortedKeys(t.Tones) {
			for _, lang := range sortedKeys(t.Tones[tone]) {
				texts = append(texts, text{lang, t.Tones[tone][lang]})
			}
		}
		for _, x := range texts {
			hoursText := c.HoursText[x.lang]
			if hoursText == "" {
				hoursText = hours.Text(x.lang)
			}
			topics := []string{""}
			if strings.Contains(x.s, "{topic}") {
				for _, tp := range c.Crisis.Topics {
					topics = append(topics, tp.Label[x.lang])
				}
			}
			for _, topic := range topics {
				r := render(x.s, values{firstName: nameMarker, hours: hoursText, channels: c.Channels[x.lang], signature: c.Signature[x.lang], topic: topic})
				for _, sh := range shingles(words(r)) {
					l.boiler[sh] = true
				}
			}
		}
	}
}

// isBoilerplate reports whether a shingle of a draft is the brand's wording, the
// customer's first name taking any one of its words.
func (l *Linter) isBoilerplate(ws []word, i int) bool {
	parts := make([]string, shingleSize)
	for k := range parts {
		parts[k] = ws[i+k].w
	}
	if l.boiler[strings.Join(parts, " ")] {
		return true
	}
	for k := range parts {
		w := parts[k]
		parts[k] = nameMarker
		hit := l.boiler[strings.Join(parts, " ")]
		parts[k] = w
		if hit {
			return true
		}
	}
	return false
}

// squeeze keeps the letters and digits of s, folded: what personal data is compared on.
func squeeze(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(foldRune(r))
		}
	}
	return b.String()
}

// shingleSize is the run of words that, repeated from a DM, counts as DM content.
const shingleSize = 5

func shingles(ws []word) []string {
	var out []string
	for i := 0; i+shingleSize <= len(ws); i++ {
		parts := make([]string, shingleSize)
		for k := range parts {
			parts[k] = ws[i+k].w
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

// issue builds an issue with its message in both languages.
func issue(rule string, sev Severity, lang string, start, end int, es, en string) LintIssue {
	i := LintIssue{Rule: rule, Severity: sev, Messages: map[string]string{"es": es, "en": en}, Start: start, End: end}
	i.Message = en
	if lang == "es" {
		i.Message = es
	}
	return i
}

// Lint checks a draft. Rules (each explained in Spanish and English):
//
//   - empty (error): no text.
//   - length (error): a public reply longer than 280 as X counts it (see Length;
//     the signature included), a DM longer than 10,000 characters.
//   - apology_first (error): a reply to a complaint or an incident whose first
//     sentence has no apology ("Lo sentimos…", "We're sorry…").
//   - apology_to_praise: an apology in a reply to praise (error when automatic,
//     warning for agents).
//   - forbidden_word (error): a word the brand never writes ("problema"; whole
//     words, without regard to case or accents), with the word to use instead.
//   - pii_echo (error): personal data (found by the classifier, or the customer's
//     own found in the case's messages) in a public reply; in a DM, personal data
//     that is not the customer's. The brand's own contact data is allowed.
//   - dm_content (error): a public reply repeating five words in a row (or the
//     whole of a short DM) from the case's DMs; the brand's template text does not
//     count.
//   - links_not_allowed (error): a link in an automatic reply whose template did
//     not opt in.
//   - link_cost (warning): a link in a public reply ($0.20 instead of $0.015).
func (l *Linter) Lint(d ReplyDraft) LintResult {
	var res LintResult
	add := func(i LintIssue) {
		if i.Severity == SeverityError {
			res.Errors = append(res.Errors, i)
		} else {
			res.Warnings = append(res.Warnings, i)
		}
	}
	text := d.Text
	if strings.TrimSpace(text) == "" {
		add(issue(RuleEmpty, SeverityError, d.Lang, 0, 0, "La respuesta está vacía.", "The reply is empty."))
		return res
	}
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	public := d.Channel != care.DM
	res.Length = Length(text)
	urls := findURLs(text)
	res.Links = len(urls)

	ws := words(text)
	lintLength(&d, text, public, res.Length, add)
	l.lintApologies(&d, text, ws, add)
	l.lintForbidden(&d, text, ws, add)
	l.lintPII(&d, text, public, add)
	if public {
		l.lintDMContent(&d, text, ws, add)
	}
	lintLinks(&d, urls, public, add)
	return res
}

// lintLength checks the length of a reply: a public reply, length long as X
// counts it, fits in a post; a DM fits in a DM.
func lintLength(d *ReplyDraft, text string, public bool, length int, add func(LintIssue)) {
	lang := d.Lang
	if public && length > MaxPostLength {
		add(issue(RuleLength, SeverityError, lang, 0, 0,
			fmt.Sprintf("La respuesta ocupa %d caracteres con la firma y X admite %d (los enlaces cuentan 23): acórtala %d.", length, MaxPostLength, length-MaxPostLength),
			fmt.Sprintf("The reply is %d characters long with its signature and X allows %d (links count 23): cut %d.", length, MaxPostLength, length-MaxPostLength)))
	}
	if !public {
		if n := utf8.RuneCountInString(text); n > care.MaxDMLength {
			add(issue(RuleLength, SeverityError, lang, 0, 0,
				fmt.Sprintf("El mensaje directo ocupa %d caracteres y X admite %d.", n, care.MaxDMLength),
				fmt.Sprintf("The DM is %d characters long and X allows %d.", n, care.MaxDMLength)))
		}
	}
}

// lintApologies checks the apologies of a reply: first in a reply to a
// complaint or an incident, none in a reply to praise.
func (l *Linter) lintApologies(d *ReplyDraft, text string, ws []word, add func(LintIssue)) {
	lang := d.Lang
	switch d.Intent {
	case classify.IntentComplaint, classify.IntentIncident:
		first := firstSentence(text)
		if _, ok := l.apology.first(words(first)); !ok {
			add(issue(RuleApologyFirst, SeverityError, lang, 0, len(first),
				"Ante una queja o incidencia, empieza pidiendo disculpas (\"Lo sentimos…\") en la primera frase.",
				"A reply to a complaint or an incident starts with an apology (\"We're sorry…\") in its first sentence."))
		}
	case classify.IntentPraise:
		if m, ok := l.apology.first(ws); ok {
			sev := SeverityWarning
			if d.Automatic {
				sev = SeverityError
			}
			add(issue(RuleApologyToPraise, sev, lang, m.start, m.end,
				fmt.Sprintf("El cliente nos felicita: agradécelo, no pidas disculpas (%q).", text[m.start:m.end]),
				fmt.Sprintf("The customer is praising us: thank them, don't apologise (%q).", text[m.start:m.end])))
		}
	}
}

// lintForbidden checks a reply for forbidden words, each reported once, with
// its replacement.
func (l *Linter) lintForbidden(d *ReplyDraft, text string, ws []word, add func(LintIssue)) {
	seen := map[string]bool{}
	for _, m := range l.forbidden.all(ws) {
		if seen[m.term] {
			continue
		}
		seen[m.term] = true
		found := text[m.start:m.end]
		es := fmt.Sprintf("La marca no usa la palabra %q.", found)
		en := fmt.Sprintf("The brand never writes %q.", found)
		if r := l.replacements[m.term]; r != "" {
			es = fmt.Sprintf("La marca no usa la palabra %q: escribe %q.", found, r)
			en = fmt.Sprintf("The brand never writes %q: write %q instead.", found, r)
		}
		add(issue(RuleForbiddenWord, SeverityError, d.Lang, m.start, m.end, es, en))
	}
}

// lintLinks checks the links of a reply, urls: an automatic reply has none
// unless its template allows them, and one in public costs more.
func lintLinks(d *ReplyDraft, urls [][2]int, public bool, add func(LintIssue)) {
	if len(urls) == 0 {
		return
	}
	lang := d.Lang
	u := urls[0]
	if d.Automatic && !d.AllowLinks {
		add(issue(RuleLinksNotAllowed, SeverityError, lang, u[0], u[1],
			"Las respuestas automáticas no llevan enlaces salvo que su plantilla lo permita (allow_links).",
			"Automatic replies carry no links unless their template allows it (allow_links)."))
	}
	if public {
		add(issue(RuleLinkCost, SeverityWarning, lang, u[0], u[1],
			fmt.Sprintf("Una publicación con enlace cuesta %.2f $ en vez de %.3f $ (unas 13 veces más): ¿hace falta el enlace?", PricePostLinkUSD, PricePostUSD),
			fmt.Sprintf("A post with a link costs $%.2f instead of $%.3f (about 13 times more): is the link needed?", PricePostLinkUSD, PricePostUSD)))
	}
}

// customerPII returns the customer's personal data found in the case's messages,
// squeezed, and the raw text of each.
func (l *Linter) customerPII(d *ReplyDraft) map[string]string {
	out := map[string]string{}
	for _, s := range d.Sensitive {
		if q := squeeze(s); len(q) >= 4 {
			out[q] = s
		}
	}
	for i := range d.Messages {
		m := &d.Messages[i]
		if m.Direction != care.Inbound || m.DeletedAt != nil || m.Text == "" {
			continue
		}
		r := d.Known[m.ID]
		if r == nil || r.PII == nil {
			x := l.labeler().Classify(classify.InputFrom(&m.Message))
			r = &x
		}
		for _, p := range r.PII {
			if p.Start < 0 || p.End > len(m.Text) || p.Start >= p.End {
				continue
			}
			raw := m.Text[p.Start:p.End]
			if q := squeeze(raw); len(q) >= 4 {
				out[q] = raw
			}
		}
	}
	return out
}

// lintPII checks a reply for personal data: none in public, only the
// customer's own in a DM.
func (l *Linter) lintPII(d *ReplyDraft, text string, public bool, add func(LintIssue)) {
	lang := d.Lang
	own := l.customerPII(d)
	ch := care.Public
	if !public {
		ch = care.DM
	}
	r := l.labeler().Classify(classify.Input{Text: text, Lang: d.Lang, Channel: ch})
	reported := map[string]bool{}
	for _, p := range r.PII {
		if p.Start < 0 || p.End > len(text) || p.Start >= p.End {
			continue
		}
		raw := text[p.Start:p.End]
		q := squeeze(raw)
		if q == "" || strings.Contains(l.brandInfo, q) {
			continue // the brand's own phone or address
		}
		_, customers := own[q]
		if !public && customers {
			continue // a DM may repeat the customer's own data to them
		}
		reported[q] = true
		if public {
			add(issue(RulePII, SeverityError, lang, p.Start, p.End,
				fmt.Sprintf("No publiques datos personales (%s %s): pide al cliente que nos escriba por mensaje directo.", piiName(p.Kind, "es"), p.Masked),
				fmt.Sprintf("Never post personal data (%s %s) in public: ask the customer to send us a DM.", piiName(p.Kind, "en"), p.Masked)))
		} else {
			add(issue(RulePII, SeverityError, lang, p.Start, p.End,
				fmt.Sprintf("Estos datos personales (%s %s) no son del cliente de este caso.", piiName(p.Kind, "es"), p.Masked),
				fmt.Sprintf("This personal data (%s %s) is not this case's customer's.", piiName(p.Kind, "en"), p.Masked)))
		}
	}
	if !public {
		return
	}
	// The customer's data, even where the classifier would not recognise it (a
	// locator without the word "localizador").
	sq := squeeze(text)
	for _, q := range sortedKeys(own) {
		if reported[q] || len(q) < 5 || !strings.Contains(sq, q) || strings.Contains(l.brandInfo, q) {
			continue
		}
		reported[q] = true
		masked := maskTail(own[q])
		start, end := findSqueezed(text, q)
		add(issue(RulePII, SeverityError, lang, start, end,
			fmt.Sprintf("La respuesta repite datos personales del cliente (%s): no los publiques.", masked),
			fmt.Sprintf("The reply repeats the customer's personal data (%s): never post it in public.", masked)))
	}
}

// findSqueezed returns the byte span of text whose squeezed form is q (0, 0 when
// it cannot be located).
func findSqueezed(text, q string) (int, int) {
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		if !(unicode.IsLetter(r) || unicode.IsDigit(r)) || foldRune(r) != []rune(q)[0] {
			i += n
			continue
		}
		k := 0
		qr := []rune(q)
		j := i
		for j < len(text) && k < len(qr) {
			r2, n2 := utf8.DecodeRuneInString(text[j:])
			j += n2
			if !(unicode.IsLetter(r2) || unicode.IsDigit(r2)) {
				continue
			}
			if foldRune(r2) != qr[k] {
				break
			}
			k++
		}
		if k == len(qr) {
			return i, j
		}
		i += n
	}
	return 0, 0
}

func maskTail(s string) string {
	rs := []rune(s)
	if len(rs) <= 2 {
		return "**"
	}
	return strings.Repeat("*", len(rs)-2) + string(rs[len(rs)-2:])
}

func piiName(k classify.PIIKind, lang string) string {
	es := map[classify.PIIKind]string{
		classify.PIIEmail: "correo", classify.PIIPhone: "teléfono", classify.PIICard: "tarjeta",
		classify.PIIDNI: "DNI", classify.PIINIE: "NIE", classify.PIIIBAN: "IBAN", classify.PIIBooking: "localizador",
	}
	en := map[classify.PIIKind]string{
		classify.PIIEmail: "e-mail", classify.PIIPhone: "phone", classify.PIICard: "card",
		classify.PIIDNI: "DNI", classify.PIINIE: "NIE", classify.PIIIBAN: "IBAN", classify.PIIBooking: "booking reference",
	}
	if lang == "es" {
		if s := es[k]; s != "" {
			return s
		}
	} else if s := en[k]; s != "" {
		return s
	}
	return string(k)
}

// lintDMContent checks a public reply for DM content: text repeated from the
// case's DMs.
func (l *Linter) lintDMContent(d *ReplyDraft, text string, ws []word, add func(LintIssue)) {
	lang := d.Lang
	draft := map[string]int{} // shingle -> index of its first word
	for i, s := range shingles(ws) {
		if _, ok := draft[s]; !ok && !l.isBoilerplate(ws, i) {
			draft[s] = i
		}
	}
	for i := range d.Messages {
		m := &d.Messages[i]
		if m.Channel != care.DM || m.DeletedAt != nil || m.Text == "" {
			continue
		}
		mws := words(m.Text)
		hit := -1
		length := shingleSize
		if len(mws) >= 3 && len(mws) < shingleSize {
			// A short DM: repeated whole.
			for k := 0; k+len(mws) <= len(ws); k++ {
				same := true
				for j := range mws {
					if ws[k+j].w != mws[j].w {
						same = false
						break
					}
				}
				if same {
					hit, length = k, len(mws)
					break
				}
			}
		}
		for _, s := range shingles(mws) {
			if k, ok := draft[s]; ok {
				hit = k
				break
			}
		}
		if hit < 0 {
			continue
		}
		start, end := ws[hit].start, ws[hit+length-1].end
		add(issue(RuleDMContent, SeverityError, lang, start, end,
			fmt.Sprintf("La respuesta pública repite un mensaje directo del caso (%q): lo hablado por DM nunca se publica.", text[start:end]),
			fmt.Sprintf("The public reply repeats a DM of the case (%q): what was said by DM is never posted in public.", text[start:end])))
		return
	}
}
