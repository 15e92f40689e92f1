package classify

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Thresholds on the score (-1..1). They lean negative on purpose: missing an
// unhappy customer costs more than reading a neutral message twice.
const (
	negThreshold = -0.08
	posThreshold = 0.25
)

// maxText bounds the bytes analysed per message (X posts and DMs are far shorter).
const maxText = 16 << 10

// Classify labels one message. It is deterministic and safe for concurrent use.
func (c *Classifier) Classify(in Input) Result {
	sc := c.pool.Get().(*scratch)
	defer c.pool.Put(sc)
	text := clip(in.Text)
	sc.tokenize(text, c.lx)
	toks := sc.resolve()
	a := &sc.a
	a.reset(c.lx, text, toks)
	a.scan()

	res := Result{PII: []PII{}}
	reasons := make([]Reason, 0, 6)

	// Language.
	reasons = append(reasons, a.language(in.Lang, &res))
	a.prepare()
	a.matchPhrases()

	// Sentiment.
	raw := a.sentiment()
	score := compound(raw)
	label := sentimentLabel(score)
	sentWhy := a.sentimentReason(score)

	// Intent.
	intent, intentWhy := a.intent(label, score)

	// Corrections model.
	if c.model != nil {
		label, score, intent, sentWhy, intentWhy = c.blend(text, res.Lang, label, score, intent, sentWhy, intentWhy)
	}
	res.Sentiment, res.Score, res.Intent = label, round3(score), intent
	reasons = append(reasons,
		Reason{Label: "sentiment", Value: string(label), Because: sentWhy},
		Reason{Label: "intent", Value: string(intent), Because: intentWhy})

	// Urgency.
	res.Urgency = c.urgency(a, label, score, &reasons)

	// Personal data.
	res.PII = a.findPII(res.PII)
	reasons = append(reasons, piiReason(&res, in.Channel == "public"))
	if len(a.forbidden) > 0 {
		res.Forbidden = append([]string(nil), a.forbidden...)
	}
	res.Reasons = reasons
	// Do not keep references to the text in the pooled scratch.
	a.text = ""
	a.toks = nil
	return res
}

// clip cuts text to maxText bytes, at a rune boundary, and replaces invalid
// UTF-8.
func clip(text string) string {
	if len(text) > maxText {
		cut := maxText
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	return text
}

// language sets the language of the message in res and a: X's tag (inLang) if
// it names one, else the detected one. It returns the reason.
func (a *analysis) language(inLang string, res *Result) Reason {
	tag, lang := normLang(inLang)
	if tag != "" {
		res.Lang, res.LangSource, a.lang = tag, "x", lang
		if lang == langXX {
			// Read other languages with both lexicons, but say which one the words resemble.
			_, a.lang, _ = a.detectLang()
		}
		return Reason{Label: "lang", Value: tag, Because: "X's language tag"}
	}
	var why string
	res.Lang, a.lang, why = a.detectLang()
	res.LangSource = "detected"
	if inLang == "und" {
		why = "X said und; " + why
	}
	return Reason{Label: "lang", Value: res.Lang, Because: why}
}

// sentimentLabel labels a score (-1..1).
func sentimentLabel(score float64) Sentiment {
	label := Neutral
	switch {
	case score <= negThreshold:
		label = Negative
	case score >= posThreshold:
		label = Positive
	}
	return label
}

// piiReason explains the personal data found in res, a message posted in public
// or not.
func piiReason(res *Result, public bool) Reason {
	if len(res.PII) == 0 {
		return Reason{Label: "pii", Value: "none", Because: "no e-mail, phone, card, DNI/NIE, IBAN or booking code found"}
	}
	var b strings.Builder
	for i, p := range res.PII {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(piiWhy(p.Kind))
		b.WriteString(" ")
		b.WriteString(p.Masked)
	}
	if public {
		b.WriteString(" — posted in public")
	}
	kinds := res.PIIKinds()
	ks := make([]string, len(kinds))
	for i, k := range kinds {
		ks[i] = string(k)
	}
	return Reason{Label: "pii", Value: strings.Join(ks, ","), Because: b.String()}
}

func round3(x float64) float64 {
	if x < 0 {
		return -float64(int64(-x*1000+0.5)) / 1000
	}
	return float64(int64(x*1000+0.5)) / 1000
}

func piiWhy(k PIIKind) string {
	switch k {
	case PIIEmail:
		return "e-mail"
	case PIIPhone:
		return "phone number"
	case PIICard:
		return "card number (Luhn check passes)"
	case PIIDNI:
		return "DNI (check letter correct)"
	case PIINIE:
		return "NIE (check letter correct)"
	case PIIIBAN:
		return "IBAN (mod-97 check passes)"
	case PIIBooking:
		return "booking code"
	}
	return string(k)
}

var contribNames = [...]string{
	cWord:              "word",
	cNegated:           "negated",
	cFail:              "negated action",
	cPhrase:            "phrase",
	cCare:              "care phrase",
	cIrony:             "irony",
	cEmoji:             "emoji",
	cEmoticon:          "emoticon",
	cShout:             "written in capitals",
	cPunct:             "repeated ?/!",
	cBrand:             "brand term",
	cLaugh:             "laughter",
	cThanksInComplaint: "thanks inside a complaint (not praise)",
	cContrast:          "praise before",
	cPoliteThanks:      "thanks closing a question (politeness)",
	cUrgency:           "urgency cue",
}

// sentimentReason lists the strongest evidence, strongest first.
func (a *analysis) sentimentReason(score float64) string {
	cs := a.contribs
	sort.SliceStable(cs, func(i, j int) bool { return abs32(cs[i].v) > abs32(cs[j].v) })
	var b strings.Builder
	fmt.Fprintf(&b, "score %.2f", score)
	n := 0
	for _, c := range cs {
		if c.v == 0 && c.kind != cThanksInComplaint {
			continue
		}
		if n == 4 {
			break
		}
		if n == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		n++
		name := contribNames[c.kind]
		switch c.kind {
		case cWord:
			if c.v > 0 {
				name = "positive word"
			} else {
				name = "negative word"
			}
		case cNegated:
			if c.v < 0 {
				name = "negated positive"
			} else {
				name = "negated negative"
			}
		case cPhrase:
			if c.v > 0 {
				name = "positive phrase"
			} else {
				name = "negative phrase"
			}
		}
		b.WriteString(name)
		if c.to > c.from {
			b.WriteString(" '")
			b.WriteString(a.quote(c.from, c.to))
			b.WriteString("'")
		}
		if c.note != "" {
			b.WriteString(" (")
			b.WriteString(c.note)
			b.WriteString(")")
		}
	}
	if n == 0 {
		b.WriteString(": no opinion words, emoji or complaint phrases")
	}
	return b.String()
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

// cueText returns the words of a cue match as written.
func (a *analysis) cueText(m pmatch) string {
	from, to := a.span(m.from, m.to)
	return a.quote(from, to)
}

// isQuestion reports whether the message asks something, and how we know.
func (a *analysis) isQuestion() (bool, string) {
	if a.quest > 0 || a.qopen > 0 {
		return true, "question mark"
	}
	prev := -1
	for i := range a.ws {
		s := a.sentOf(i)
		if s != prev {
			prev = s
			if a.info[i].flags()&fQWord != 0 && !a.toks[a.ws[i]].hashtag {
				t := a.toks[a.ws[i]]
				return true, "starts with '" + a.quote(t.start, t.end) + "'"
			}
		}
	}
	for _, m := range a.cues {
		if m.p.cat == catIntent && m.p.tag == string(IntentQuestion) {
			return true, "asks '" + a.cueText(m) + "'"
		}
	}
	return false, ""
}

// intent decides what the customer wants, in order: spam, a brand's own cues,
// incident, sales lead, complaint, praise, question, other.
func (a *analysis) intent(label Sentiment, score float64) (Intent, string) {
	first, spamCues := a.intentCues()
	cue := func(in Intent) *pmatch {
		for i, x := range Intents {
			if x == in {
				return first[i]
			}
		}
		return nil
	}
	// Spam.
	if why, ok := a.spam(spamCues, score); ok {
		return IntentSpam, why
	}
	// A brand's own cues win over the built-in rules.
	for _, in := range Intents {
		if m := cue(in); m != nil && m.p.flags&fBrand != 0 {
			return in, "brand keyword '" + a.cueText(*m) + "'"
		}
	}
	q, qwhy := a.isQuestion()
	if m := cue(IntentIncident); m != nil && label != Positive {
		return IntentIncident, "reports a failure: '" + a.cueText(*m) + "'"
	}
	if m := cue(IntentSales); m != nil && score > -0.5 {
		w := "asks about buying: '" + a.cueText(*m) + "'"
		if q {
			w += " (" + qwhy + ")"
		}
		return IntentSales, w
	}
	if label == Negative {
		w := fmt.Sprintf("negative sentiment (score %.2f)", score)
		if q {
			w += ", phrased as a question (" + qwhy + ")"
		}
		return IntentComplaint, w
	}
	if m := cue(IntentComplaint); m != nil && label != Positive {
		return IntentComplaint, "complaint word '" + a.cueText(*m) + "'"
	}
	if label == Positive && (!q || score >= 0.5) {
		return IntentPraise, fmt.Sprintf("positive sentiment (score %.2f)", score)
	}
	if q {
		return IntentQuestion, qwhy
	}
	if a.words == 0 && a.urls == 0 && a.emojis > 0 {
		return IntentOther, "emoji only"
	}
	return IntentOther, "no question, request, complaint or praise found"
}

// intentCues returns the first cue of each intent, in the order of Intents (a
// brand's own cue wins over a built-in one), and the distinct spam terms.
func (a *analysis) intentCues() ([8]*pmatch, []string) {
	var first [8]*pmatch // first cue per intent
	var spamCues []string
	for k := range a.cues {
		m := &a.cues[k]
		switch m.p.cat {
		case catIntent:
			for i, in := range Intents {
				if string(in) == m.p.tag {
					if first[i] == nil || (m.p.flags&fBrand != 0 && first[i].p.flags&fBrand == 0) {
						first[i] = m
					}
				}
			}
		case catSpam:
			t := a.cueText(*m)
			dup := false
			for _, x := range spamCues {
				if strings.EqualFold(x, t) || strings.Contains(strings.ToLower(x), strings.ToLower(t)) {
					dup = true
				}
			}
			if !dup {
				spamCues = append(spamCues, t)
			}
		}
	}
	return first, spamCues
}

// spam reports whether the message is spam, and why: spam terms, nothing but
// links, many hashtags, or many mentions and few words. A strongly negative
// message with at most one spam term is a complaint, not spam.
func (a *analysis) spam(spamCues []string, score float64) (string, bool) {
	spamScore := 2 * len(spamCues)
	var why []string
	if len(spamCues) > 0 {
		why = append(why, "spam terms '"+strings.Join(spamCues, "', '")+"'")
	}
	linksOnly := a.urls > 0 && a.words == 0 && len(a.ws) == 0
	if linksOnly {
		spamScore += 3
		why = append(why, "only links")
	}
	if a.urls > 0 && len(spamCues) > 0 {
		spamScore++
		why = append(why, "with a link")
	}
	if a.hashtags >= 5 {
		spamScore++
		why = append(why, fmt.Sprintf("%d hashtags", a.hashtags))
	}
	if a.mentions >= 5 && a.words < 8 {
		spamScore++
		why = append(why, fmt.Sprintf("%d mentions and few words", a.mentions))
	}
	if spamScore >= 3 && !(score <= -0.5 && len(spamCues) <= 1) {
		return strings.Join(why, "; "), true
	}
	return "", false
}

// urgency collects the urgency kinds the cues name and the level they raise.
func (c *Classifier) urgency(a *analysis, label Sentiment, score float64, reasons *[]Reason) Urgency {
	u := Urgency{Level: UrgencyNone}
	var why []string
	for k := range a.cues {
		m := &a.cues[k]
		if m.p.cat != catUrgency {
			continue
		}
		kind := UrgencyKind(m.p.tag)
		dup := false
		for _, x := range u.Kinds {
			if x == kind {
				dup = true
			}
		}
		if dup {
			continue
		}
		// A negated cue ("no es urgente", "not a lawyer") does not count, nor one
		// inside slang ("on fire").
		if (a.negator(m.from) >= 0 && m.to-m.from == 1) || a.insideNonNegative(*m) {
			continue
		}
		lvl, ok := c.levels[kind]
		if !ok {
			lvl = UrgencyHigh
		}
		if lvl == UrgencyNone {
			continue
		}
		u.Kinds = append(u.Kinds, kind)
		if lvl.rank() > u.Level.rank() {
			u.Level = lvl
		}
		why = append(why, strings.ReplaceAll(string(kind), "_", " ")+" '"+a.cueText(*m)+"'")
	}
	sort.SliceStable(u.Kinds, func(i, j int) bool { return c.levels[u.Kinds[i]].rank() > c.levels[u.Kinds[j]].rank() })
	if u.Level == UrgencyNone && label == Negative && score <= -0.8 {
		u.Level = UrgencyLow
		why = append(why, fmt.Sprintf("strongly negative (score %.2f)", score))
	}
	because := strings.Join(why, "; ")
	if because == "" {
		because = "no safety, medical, legal, churn, stranded, vulnerable-customer, fraud or waiting cues"
	}
	*reasons = append(*reasons, Reason{Label: "urgency", Value: string(u.Level), Because: because})
	return u
}
