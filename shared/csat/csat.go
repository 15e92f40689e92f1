// Package csat is the customer satisfaction survey: the text of the one DM
// Pajarito sends after a case is resolved, in the case's language ("¿Del 1 al
// 5, cómo te atendimos?"), and the reading of the customer's reply into a score
// from 1 to 5, or into a wish to get no more surveys.
//
// # What Parse reads
//
// Explicit scores, wherever they are in the reply:
//
//   - a number on the survey's scale: "5", "un 4", "a 4", "nota: 3", "4️⃣", or in
//     letters, "cinco", "un cuatro", "five" ("uno", "una" and "one" only alone or
//     before stars or a scale, being also articles);
//   - a number on a stated scale: "4/5", "4 de 5", "4 sobre 5", "4 out of 5".
//     Ratings on 10 or 100 are scaled to 5 and rounded half up: "10/10" is 5,
//     "8 de 10" 4, "7/10" 4, "5/10" 3;
//   - stars: "⭐⭐⭐⭐", "★★★☆☆" (3: the full ones), "4 estrellas", "five stars".
//
// A bare number counts only in a short reply (at most 12 words) and outside a
// question; "un 4", a scale or stars count anywhere. Numbers that are quantities
// or references are not scores: "3 días", "2 maletas", "5 de mayo", "a las 5",
// "vuelo 3", "10€", "3:30", "12/03".
//
// When there is no explicit score, words and emoji, in a short reply without a
// question:
//
//   - words and phrases mapped to the scale (see sentiment in lexicon.go):
//     Spanish muy mal 1, mal 2, regular 3, bien 4, muy bien 5, with "fatal",
//     "pésimo" 1 and "excelente", "genial", "perfecto" 5; English terrible 1,
//     bad 2, fine 3, good 4, great, excellent, very good 5;
//   - emoji and emoticons with a clear sentiment: 😍 ❤️ 💯 5, 🙂 👍 :) 4, 😐 🤷 3,
//     🙁 👎 :( 2, 😡 🤬 💩 1. Emoji used both ways (😂 😭 🙏) are not read.
//
// Case, accents and elongation do not matter ("MUUUY BIEEEN", "cincooo").
//
// # When there is no score
//
// Score is 0, and Reason says why, when:
//
//   - the reply is not an answer ("¿y mi maleta?", "gracias");
//   - the score is negated ("no fue un 5", "not a 5"): no confident score. A
//     negated score beside another one leaves the other ("no un 5, un 4" is 4).
//     Fixed phrases such as "no está mal" (3), "no muy bien" (2) and "not great"
//     (2) are words of the scale, not negations;
//   - two different scores are given ("entre 3 y 4", "3 o 4", "5 ⭐⭐⭐"), or one
//     between two ("4,5"): no guess, not even the lower. Repeats of one score
//     agree ("5/5 ⭐⭐⭐⭐⭐"); words and emoji that disagree give none either;
//   - the number is outside 1–5 without a stated scale ("un 10", "0", "6"), or
//     has more than 5 stars: out of range is no score, left to the agent.
//
// # Opting out
//
// OptOut is set, with or without a score, when the reply asks for no more
// surveys or complains about them: a whole message such as "stop",
// "unsubscribe", "baja", "basta"; a phrase such as "darme de baja", "leave me
// alone", "dejad de escribirme"; or a sentence naming the survey with a refusal
// or complaint near it ("no me mandéis más encuestas", "basta de encuestas",
// "¿otra encuesta?", "don't send me surveys", "I hate surveys").
package csat

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Answer is what a customer's message says about the survey.
type Answer struct {
	Score  int    // 1–5, 0 when none
	OptOut bool   // the customer wants no more surveys
	Reason string // why, for agents: "digit '4'", "word 'cinco'", "4 stars", "opt-out phrase 'no más encuestas'"
}

// maxWords is the longest reply, in words, where a bare number, a word or an
// emoji is read as a score: a longer message is a conversation, not a rating.
const maxWords = 12

// Parse reads a reply to the survey in lang ("es", "en", "" or "und": both;
// any other language reads both too). It never fails: a message that says
// nothing about the survey has Score 0 and OptOut false.
func Parse(text, lang string) Answer {
	p := &parser{text: text, toks: tokenize(text), lang: langs(lang)}
	p.used = make([]bool, len(p.toks))
	p.opt = make([]bool, len(p.toks))
	p.questions = map[int]bool{}
	for _, t := range p.toks {
		switch {
		case t.kind == word:
			p.words++
		case t.kind == punct && (t.norm == "?" || t.norm == "¿"):
			p.questions[t.sent] = true
		}
	}
	optWhy := p.optOut()
	p.numbers()
	p.starRuns()
	if p.words <= maxWords && len(p.questions) == 0 {
		p.sentimentWords()
		p.emoji()
	}
	score, why := p.decide()
	a := Answer{Score: score, OptOut: optWhy != ""}
	switch {
	case optWhy == "":
		a.Reason = why
	case len(p.cands) == 0:
		a.Reason = optWhy
	default:
		a.Reason = why + "; " + optWhy
	}
	return a
}

// candidate is something in the message that may be the score.
type candidate struct {
	score    int    // 1–5; 0 when it cannot be a score (bad says why)
	implicit bool   // a word or an emoji rather than a number or stars
	why      string // the Reason when it is the score
	bad      string
	first    int // its first token
	last     int // its last token
	negator  int // the token that negates it, -1 when none
}

type parser struct {
	text      string
	toks      []token
	lang      int
	used      []bool // tokens read as part of a score or of the opt-out
	opt       []bool // tokens of the opt-out: their "no" negates nothing
	questions map[int]bool
	words     int
	cands     []candidate
}

// span returns the original text of tokens first to last.
func (p *parser) span(first, last int) string {
	return p.text[p.toks[first].start:p.toks[last].end]
}

func (p *parser) tok(i int) (token, bool) {
	if i < 0 || i >= len(p.toks) || p.used[i] {
		return token{}, false
	}
	return p.toks[i], true
}

// in reports whether token i is a word or symbol of set.
func (p *parser) in(i int, set map[string]bool) bool {
	t, ok := p.tok(i)
	if !ok || t.kind != word && t.kind != punct {
		return false
	}
	for _, f := range t.forms() {
		if set[f] {
			return true
		}
	}
	return false
}

func (p *parser) take(first, last int) {
	for k := first; k <= last; k++ {
		p.used[k] = true
	}
}

// phraseAt returns the longest phrase of up to max unused words from token i,
// in one sentence, that has accepts (read as written or without elongation),
// and how many words it has.
func (p *parser) phraseAt(i, max int, has func(string) bool) (string, int) {
	for n := max; n >= 1; n-- {
		if i+n > len(p.toks) {
			continue
		}
		ok, elongated := true, false
		for k := i; k < i+n && ok; k++ {
			t := p.toks[k]
			ok = !p.used[k] && t.kind == word && t.sent == p.toks[i].sent
			elongated = elongated || t.alt != ""
		}
		if !ok {
			continue
		}
		for _, alt := range []bool{false, true} {
			if alt && !elongated {
				break
			}
			var b strings.Builder
			for k := i; k < i+n; k++ {
				if k > i {
					b.WriteByte(' ')
				}
				if t := p.toks[k]; alt && t.alt != "" {
					b.WriteString(t.alt)
				} else {
					b.WriteString(t.norm)
				}
			}
			if key := b.String(); has(key) {
				return key, n
			}
		}
	}
	return "", 0
}

// optOut finds a wish to get no more surveys and returns its Reason, "" when
// there is none.
func (p *parser) optOut() string {
	// A whole message: "stop", "STOP!!!", "basta ya", "stop, please".
	var ws []int
	whole := true
	for i, t := range p.toks {
		switch t.kind {
		case word:
			ws = append(ws, i)
		case number, other:
			whole = false
		}
	}
	if whole && len(ws) > 0 && len(ws) <= 3 {
		for _, alt := range []bool{false, true} {
			forms := make([]string, len(ws))
			for k, i := range ws {
				forms[k] = p.toks[i].norm
				if alt && p.toks[i].alt != "" {
					forms[k] = p.toks[i].alt
				}
			}
			if stopMessages[strings.Join(forms, " ")] {
				p.optTake(ws[0], ws[len(ws)-1])
				return fmt.Sprintf("opt-out word '%s'", p.span(ws[0], ws[len(ws)-1]))
			}
		}
	}
	// A phrase anywhere: "darme de baja", "unsubscribe".
	for i := range p.toks {
		if _, n := p.phraseAt(i, 4, func(s string) bool { return stopPhrases[s] }); n > 0 {
			p.optTake(i, i+n-1)
			return fmt.Sprintf("opt-out phrase '%s'", p.span(i, i+n-1))
		}
	}
	// The survey named with a refusal or a complaint: the farthest cue before it
	// within reach, else the nearest after.
	for i, t := range p.toks {
		if !p.in(i, surveyWords) {
			continue
		}
		cue := -1
		for k := max(0, i-stopReach); k < i; k++ {
			if p.toks[k].sent == t.sent && p.in(k, stopCues) {
				cue = k
				break
			}
		}
		for k := i + 1; cue < 0 && k < len(p.toks) && k <= i+stopReach; k++ {
			if p.toks[k].sent == t.sent && p.in(k, stopCues) {
				cue = k
			}
		}
		if cue >= 0 {
			first, last := min(cue, i), max(cue, i)
			p.optTake(first, last)
			return fmt.Sprintf("opt-out phrase '%s'", p.span(first, last))
		}
	}
	return ""
}

func (p *parser) optTake(first, last int) {
	p.take(first, last)
	for k := first; k <= last; k++ {
		p.opt[k] = true
	}
}

// numberAt returns the number token i stands for: digits, or a number word of
// the reply's languages.
func (p *parser) numberAt(i int) (v int, ok bool) {
	t, ok := p.tok(i)
	switch {
	case !ok:
		return 0, false
	case t.kind == number:
		return t.val, true
	case t.kind == word:
		for _, f := range t.forms() {
			if e, ok := numberWords[f]; ok && e.lang&p.lang != 0 {
				return e.score, true
			}
		}
	}
	return 0, false
}

// weak reports a number word that is also an article or a pronoun.
func (p *parser) weak(i int) bool {
	t := p.toks[i]
	return t.kind == word && (weakNumberWords[t.norm] || weakNumberWords[t.alt])
}

func (p *parser) numbers() {
	for i := range p.toks {
		if v, ok := p.numberAt(i); ok {
			p.number(i, v)
		}
	}
}

// number reads the number at token i, worth v.
func (p *parser) number(i, v int) {
	t := p.toks[i]
	// The scale echoed from the survey: "del 1 al 5", "1-5", "from 1 to 5".
	if p.in(i+1, rangeWords) {
		if w, ok := p.numberAt(i + 2); ok && (v == 0 || v == 1) && (w == 5 || w == 10) {
			p.take(i, i+2)
			return
		}
	}
	// A stated scale: "4/5", "8 de 10", "four out of five".
	if k := p.scaleAt(i + 1); k > 0 {
		m, _ := p.numberAt(k)
		if p.in(k+1, slash) {
			if _, ok := p.numberAt(k + 2); ok { // a date: 4/5/2026
				p.take(i, k+2)
				return
			}
		}
		if !scales[m] { // "3/4", "3 de 4": a fraction or a date
			p.take(i, k)
			return
		}
		p.scaled(i, k, m)
		return
	}
	// Stars: "4 estrellas", "5-star", "4⭐".
	j := i + 1
	if p.in(j, dash) {
		j++
	}
	if p.in(j, starWords) || p.isStar(j) && !p.isStar(j+1) {
		p.stars(i, j, v, t.dec)
		return
	}
	// Quantities, dates, prices, references.
	if p.in(i+1, units) || p.in(i+1, deOf) && p.in(i+2, units) || p.in(i-1, symbols) || p.in(i-1, before) {
		p.take(i, i)
		return
	}
	strong := false
	prev := i - 1
	if p.in(prev, colon) {
		prev--
	}
	if pt, ok := p.tok(prev); ok && pt.kind == word {
		for _, f := range pt.forms() {
			if l, ok := strongBefore[f]; ok && l&p.lang != 0 {
				strong = true
			}
		}
	}
	if !strong && (p.words > maxWords || p.questions[t.sent] || p.weak(i) && p.words > 1) {
		return
	}
	what := fmt.Sprintf("digit '%s'", p.span(i, i))
	if t.kind == word {
		what = fmt.Sprintf("word '%s'", p.span(i, i))
	}
	c := candidate{score: v, why: what, first: i, last: i}
	switch {
	case t.dec:
		c.score, c.bad = 0, fmt.Sprintf("'%s' is not a whole score", p.span(i, i))
	case (v < 0 || v >= 100) && !strong:
		p.take(i, i) // an id or a year, not an answer
		return
	case v < 1 || v > 5:
		c.score, c.bad = 0, fmt.Sprintf("'%s' is outside 1–5", p.span(i, i))
	}
	p.add(c)
}

var (
	slash   = wordSet("/")
	dash    = wordSet("-", "–")
	colon   = wordSet(":")
	deOf    = wordSet("de", "del", "of")
	symbols = wordSet("€", "$", "£", "#", "+", "nº", "n")
	scaleBy = wordSet("/", "de", "sobre", "of")
)

// scaleAt returns the token of the scale when a scale starts at token i ("/5",
// "de 5", "out of 5"), 0 when none does.
func (p *parser) scaleAt(i int) int {
	if p.in(i, wordSet("out")) && p.in(i+1, wordSet("of")) {
		i++
	}
	if !p.in(i, scaleBy) {
		return 0
	}
	if _, ok := p.numberAt(i + 1); ok {
		return i + 1
	}
	return 0
}

func (p *parser) isStar(i int) bool {
	t, ok := p.tok(i)
	return ok && t.kind == star
}

// scaled reads the rating from token first to the scale m at token last.
func (p *parser) scaled(first, last, m int) {
	c := candidate{first: first, last: last}
	s := p.span(first, last)
	x := float64(p.toks[first].val)
	if t := p.toks[first]; t.kind == word {
		x = float64(numberWords[t.norm].score)
		if t.alt != "" {
			if e, ok := numberWords[t.alt]; ok {
				x = float64(e.score)
			}
		}
	} else if t.dec {
		x, _ = strconv.ParseFloat(strings.ReplaceAll(p.text[t.start:t.end], ",", "."), 64)
	}
	switch {
	case x < 0 || x > float64(m):
		c.bad = fmt.Sprintf("'%s' is more than its scale", s)
	case m == 5 && p.toks[first].dec:
		c.bad = fmt.Sprintf("'%s' is not a whole score", s)
	case m == 5 && x < 1:
		c.bad = fmt.Sprintf("'%s' is outside 1–5", s)
	case m == 5:
		c.score, c.why = int(x), fmt.Sprintf("rating '%s'", s)
	default:
		c.score = max(1, int(math.Floor(x*5/float64(m)+0.5)))
		c.why = fmt.Sprintf("rating '%s' scaled to %d", s, c.score)
	}
	p.add(c)
}

// stars reads v stars from token first to last.
func (p *parser) stars(first, last, v int, dec bool) {
	c := candidate{first: first, last: last}
	s := p.span(first, last)
	switch {
	case dec:
		c.bad = fmt.Sprintf("'%s' is not a whole score", s)
	case v < 1:
		c.bad = fmt.Sprintf("'%s' has no star", s)
	case v > 5:
		c.bad = fmt.Sprintf("'%s' is more than 5 stars", s)
	default:
		c.score, c.why = v, starsWhy(v)
	}
	p.add(c)
}

func starsWhy(n int) string {
	if n == 1 {
		return "1 star"
	}
	return fmt.Sprintf("%d stars", n)
}

// starRuns reads the runs of star emoji: "⭐⭐⭐⭐", "★★★☆☆".
func (p *parser) starRuns() {
	for i := 0; i < len(p.toks); i++ {
		if !p.isStar(i) {
			continue
		}
		j, full := i, 0
		for ; p.isStar(j); j++ {
			full += p.toks[j].val
		}
		p.stars(i, j-1, full, false)
	}
}

func (p *parser) sentimentWords() {
	has := func(s string) bool { e, ok := sentiment[s]; return ok && e.lang&p.lang != 0 }
	for i := range p.toks {
		key, n := p.phraseAt(i, maxPhrase, has)
		if n == 0 {
			continue
		}
		what := "word"
		if n > 1 {
			what = "phrase"
		}
		score := sentiment[key].score
		p.add(candidate{score: score, implicit: true, first: i, last: i + n - 1,
			why: fmt.Sprintf("%s '%s' means %d", what, p.span(i, i+n-1), score)})
	}
}

func (p *parser) emoji() {
	for i, t := range p.toks {
		if p.used[i] || t.kind != emoji {
			continue
		}
		what, score := "emoji", emojiScores[t.emo]
		if t.emo == 0 {
			what, score = "emoticon", emoticons[t.norm]
		}
		if score > 0 {
			p.add(candidate{score: score, implicit: true, first: i, last: i,
				why: fmt.Sprintf("%s '%s' means %d", what, p.span(i, i), score)})
		}
	}
}

// add records a candidate, noting the negator before it, if any.
func (p *parser) add(c candidate) {
	p.take(c.first, c.last)
	c.negator = -1
	clause := p.toks[c.first].clause
	for k := c.first - 1; k >= 0 && k >= c.first-negationReach && p.toks[k].clause == clause; k-- {
		if t := p.toks[k]; t.kind == word && !p.opt[k] && (negators[t.norm] || negators[t.alt]) {
			c.negator = k
			break
		}
	}
	p.cands = append(p.cands, c)
}

// decide returns the score and its reason: the explicit scores if they agree,
// else the words and emoji if they agree, else no score and why.
func (p *parser) decide() (int, string) {
	var explicit, implicit, bad, negated []candidate
	for _, c := range p.cands {
		switch {
		case c.negator >= 0:
			negated = append(negated, c)
		case c.score == 0:
			bad = append(bad, c)
		case c.implicit:
			implicit = append(implicit, c)
		default:
			explicit = append(explicit, c)
		}
	}
	for _, group := range [][]candidate{explicit, implicit} {
		if len(group) == 0 {
			continue
		}
		for _, c := range group[1:] {
			if c.score != group[0].score {
				return 0, fmt.Sprintf("different scores: '%s' and '%s'",
					p.span(group[0].first, group[0].last), p.span(c.first, c.last))
			}
		}
		return group[0].score, group[0].why
	}
	switch {
	case len(bad) > 0:
		return 0, bad[0].bad
	case len(negated) > 0:
		c := negated[0]
		return 0, fmt.Sprintf("negated: '%s'", p.span(c.negator, c.last))
	}
	return 0, "no rating found"
}
