package classify

import (
	"math"
	"strings"
)

// tinfo is what the lexicon says about one word of the message.
type tinfo struct {
	e       entry
	covered bool    // its valence is part of a sentiment phrase
	mod     uint32  // flags given by a modifier phrase ("por favor", "no one")
	mult    float32 // multiplier given by a modifier phrase
}

func (ti *tinfo) flags() uint32 { return ti.e.flags | ti.mod }

// modFlags are the flags a weightless phrase can give to a word.
const modFlags = fNeg | fIntens | fDimin | fContrast | fQWord | fWish | fPolite | fThanks | fNumWord | fFirst | fBlockNeg | fTimeUnit

// pmatch is a phrase found in the message, over words [from, to).
type pmatch struct {
	p        *phrase
	from, to int
}

// Contribution kinds, for the reasons.
const (
	cWord uint8 = iota
	cNegated
	cFail
	cPhrase
	cCare
	cIrony
	cEmoji
	cEmoticon
	cShout
	cPunct
	cBrand
	cLaugh
	cThanksInComplaint
	cContrast
	cPoliteThanks
	cUrgency
)

// contrib is one piece of evidence for the sentiment.
type contrib struct {
	v        float32
	kind     uint8
	from, to int    // byte offsets in the text
	note     string // extra detail ("in capitals", "intensified")
	wi, wj   int    // the words it covers ([wi, wj)), for phrases; wj == 0 otherwise
}

// analysis is the state of one Classify call. It lives in a pooled scratch.
type analysis struct {
	lx        *lexicon
	text      string
	toks      []token
	lang      int
	ws        []int // indices of word and number tokens
	info      []tinfo
	sent      []pmatch // chosen sentiment phrases
	cues      []pmatch // intent, urgency and spam cues
	forbidden []string
	contribs  []contrib
	factor    []float32 // contrast weight per word

	excl, quest, qopen int
	punctRuns          int // runs of two or more ? and ! ("??", "?!", "!!!"), not one ? per sentence
	urls, mentions     int
	hashtags, emojis   int
	words, capsWords   int
	allCaps            bool
	lexWords           int // words the lexicon knows
}

func (a *analysis) reset(lx *lexicon, text string, toks []token) {
	a.lx, a.text, a.toks = lx, text, toks
	a.ws = a.ws[:0]
	a.info = a.info[:0]
	a.sent = a.sent[:0]
	a.cues = a.cues[:0]
	a.forbidden = nil
	a.contribs = a.contribs[:0]
	a.excl, a.quest, a.qopen, a.punctRuns, a.urls, a.mentions, a.hashtags, a.emojis = 0, 0, 0, 0, 0, 0, 0, 0
	a.words, a.capsWords, a.allCaps, a.lexWords = 0, 0, false, 0
}

// scan counts the tokens and collects the words.
func (a *analysis) scan() {
	lastHash := -1
	run, runEnd := 0, -1 // the run of ? and ! being read: its length, where it ends
	for k := range a.toks {
		t := &a.toks[k]
		if t.kind == tPunct && (t.emo == '!' || t.emo == '?') {
			if t.start != runEnd {
				run = 0
			}
			if run++; run == 2 {
				a.punctRuns++
			}
			runEnd = t.end
		}
		switch t.kind {
		case tWord, tNum:
			a.ws = append(a.ws, k)
			if t.kind == tWord && !t.hashtag {
				a.words++
				if t.caps {
					a.capsWords++
				}
			}
			if t.hashtag && t.start != lastHash {
				a.hashtags++
				lastHash = t.start
			}
		case tPunct:
			switch t.emo {
			case '!', '¡':
				a.excl++
			case '?':
				a.quest++
			case '¿':
				a.qopen++
			}
		case tURL:
			a.urls++
		case tMention:
			a.mentions++
		case tEmoji:
			a.emojis++
		}
	}
	a.allCaps = a.words >= 3 && a.capsWords*10 >= a.words*7
}

// prepare looks every word up in the lexicon for the message's language.
func (a *analysis) prepare() {
	if cap(a.info) < len(a.ws) {
		a.info = make([]tinfo, len(a.ws), 2*len(a.ws))
	}
	a.info = a.info[:len(a.ws)]
	for i, k := range a.ws {
		t := &a.toks[k]
		e, l := a.lx.lookup(t.norm, a.lang)
		if l < 0 && t.alt != "" {
			e, l = a.lx.lookup(t.alt, a.lang)
		}
		if t.kind == tNum {
			e.flags |= fNumWord
		}
		if l >= 0 {
			a.lexWords++
			if a.lang != langXX && l != a.lang && e.val != 0 {
				// A word of the other language: code-switching ("fail", "gracias") is
				// common, but short capitals are codes (MAD, SAD) and short words
				// collide ("pay", "red"), so borrowed words count less.
				if len(t.norm) < 4 || (t.caps && len(t.norm) <= 4) {
					e.val = 0
				} else {
					e.val *= 0.7
				}
			}
		}
		a.info[i] = tinfo{e: e}
	}
}

// matchPhrases finds every phrase of the lexicon in the message. Sentiment
// phrases are chosen longest-first from left to right and cover their words;
// modifier phrases give their flags to a word; cues are all kept.
func (a *analysis) matchPhrases() {
	lx := a.lx
	for i := range a.ws {
		t := &a.toks[a.ws[i]]
		var best *phrase
		bestEnd := -1
		try := func(list []*phrase) {
			for _, p := range list {
				end := a.matchFrom(p.slots, i, t.sent)
				if end < 0 {
					continue
				}
				switch p.cat {
				case catSent:
					if p.weight == 0 && p.flags&modFlags != 0 && p.flags&^modFlags&^fBrand&^fCalm == 0 {
						at := end - 1
						if p.flags&fQWord != 0 {
							at = i
						}
						a.info[at].mod |= p.flags & modFlags
						if p.mult != 0 {
							a.info[at].mult = p.mult
						}
						continue
					}
					if end > bestEnd || (end == bestEnd && p.flags&fBrand != 0) {
						best, bestEnd = p, end
					}
				case catForbid:
					dup := false
					for _, f := range a.forbidden {
						if f == p.text {
							dup = true
						}
					}
					if !dup {
						a.forbidden = append(a.forbidden, p.text)
					}
				default:
					a.cues = append(a.cues, pmatch{p: p, from: i, to: end})
				}
			}
		}
		try(lx.pexact[t.norm])
		if t.alt != "" {
			try(lx.pexact[t.alt])
		}
		if len(t.norm) >= 4 {
			try(lx.pstem[t.norm[:4]])
		}
		if t.kind == tNum || a.info[i].e.flags&fNumWord != 0 {
			try(lx.pnum)
		}
		if best != nil && !a.info[i].covered {
			a.sent = append(a.sent, pmatch{p: best, from: i, to: bestEnd})
			for k := i; k < bestEnd; k++ {
				a.info[k].covered = true
				if best.weight == 0 {
					// A neutral phrase ("buenos días", "good morning", a brand name):
					// its words mean nothing else.
					a.info[k].e = entry{}
					a.info[k].mod = 0
				}
			}
		}
	}
}

// matchFrom matches slots against the words from position pos, all in sentence
// sent. It returns the end position or -1.
func (a *analysis) matchFrom(slots []slot, pos, sent int) int {
	if len(slots) == 0 {
		return pos
	}
	s := &slots[0]
	if s.kind == sGap {
		for skip := 0; skip <= 3; skip++ {
			if pos+skip > len(a.ws) {
				break
			}
			if skip > 0 && a.toks[a.ws[pos+skip-1]].sent != sent {
				break
			}
			if r := a.matchFrom(slots[1:], pos+skip, sent); r >= 0 {
				return r
			}
		}
		return -1
	}
	if pos >= len(a.ws) {
		return -1
	}
	k := a.ws[pos]
	t := &a.toks[k]
	if t.sent != sent {
		return -1
	}
	switch s.kind {
	case sLit:
		ok := false
		for _, w := range s.words {
			if t.norm == w || (t.alt != "" && t.alt == w) {
				ok = true
				break
			}
		}
		if !ok {
			return -1
		}
		if s.q && !(k+1 < len(a.toks) && a.toks[k+1].kind == tPunct && a.toks[k+1].emo == '?') {
			return -1
		}
	case sStem:
		st := s.words[0]
		if !strings.HasPrefix(t.norm, st) && !(t.alt != "" && strings.HasPrefix(t.alt, st)) {
			return -1
		}
	case sNum:
		if t.kind != tNum && a.info[pos].e.flags&fNumWord == 0 {
			return -1
		}
	}
	return a.matchFrom(slots[1:], pos+1, sent)
}

func (a *analysis) sentOf(i int) int { return a.toks[a.ws[i]].sent }

// negator returns the position of a negator that governs word i, or -1.
func (a *analysis) negator(i int) int {
	s := a.sentOf(i)
	for j := i - 1; j >= 0 && j >= i-3; j-- {
		if a.sentOf(j) != s {
			break
		}
		inf := &a.info[j]
		f := inf.flags()
		if f&fNeg != 0 && (!inf.covered || inf.mod&fNeg != 0) {
			n := a.toks[a.ws[j]].norm
			if (n == "poco" || n == "poca") && j > 0 && a.toks[a.ws[j-1]].norm == "un" {
				return -1 // "un poco": a diminisher
			}
			return j
		}
		if f&(fBlockNeg|fContrast) != 0 {
			break
		}
	}
	return -1
}

// multiplier returns the product of the intensifiers/diminishers right before i.
func (a *analysis) multiplier(i int) float32 {
	m := float32(1)
	s := a.sentOf(i)
	for j := i - 1; j >= 0 && j >= i-2; j-- {
		if a.sentOf(j) != s {
			break
		}
		inf := &a.info[j]
		f := inf.flags()
		if f&(fIntens|fDimin) == 0 {
			break
		}
		mm := inf.e.mult
		if inf.mult != 0 {
			mm = inf.mult
		}
		if mm == 0 {
			mm = 1.3
		}
		m *= mm
	}
	return m
}

// contrastFactors weighs words around "pero"/"but": what comes after counts
// more, what comes before counts less. A sentence that starts with the contrast
// word ("Gracias. Pero …") discounts the sentence before it.
func (a *analysis) contrastFactors() {
	if cap(a.factor) < len(a.ws) {
		a.factor = make([]float32, len(a.ws))
	}
	a.factor = a.factor[:len(a.ws)]
	for i := range a.factor {
		a.factor[i] = 1
	}
	for j := range a.ws {
		inf := &a.info[j]
		if inf.flags()&fContrast == 0 || (inf.covered && inf.mod&fContrast == 0) {
			continue
		}
		s := a.sentOf(j)
		starts := j == 0 || a.sentOf(j-1) != s
		for i := range a.ws {
			si := a.sentOf(i)
			switch {
			case si == s && i > j:
				a.factor[i] = 1.5
			case si == s && i < j:
				a.factor[i] = 0.5
			case starts && i < j && j > 0 && si == a.sentOf(j-1):
				a.factor[i] = 0.5
			}
		}
	}
}

func (a *analysis) contrastFactor(i int) float32 { return a.factor[i] }

func (a *analysis) span(from, to int) (int, int) {
	return a.toks[a.ws[from]].start, a.toks[a.ws[to-1]].end
}

// sentiment adds up the evidence and returns the raw sum.
func (a *analysis) sentiment() float32 {
	var total float32
	a.contrastFactors()
	total = a.wordSentiment(total)
	total = a.phraseSentiment(total)
	total = a.cueSentiment(total)
	total = a.emojiSentiment(total)
	// Irony: a generic positive word or a thanks next to a service failure.
	a.irony(&total)
	// "Gracias, pero …", "Thanks but …": praise that prefaces a complaint.
	if c, ok := a.contrastAfterPraise(); ok {
		total = a.add(total, c)
	}
	// Shouting and punctuation.
	if a.allCaps && a.words >= 4 {
		total = a.add(total, contrib{v: -1.5, kind: cShout, from: 0, to: 0})
	}
	if a.punctRuns > 0 {
		total = a.add(total, contrib{v: -0.5, kind: cPunct})
	}
	if a.excl > 0 && total != 0 {
		total *= 1 + 0.08*float32(min(a.excl, 4))
	}
	return total
}

// add records c and returns total plus its value.
func (a *analysis) add(total float32, c contrib) float32 {
	a.contribs = append(a.contribs, c)
	return total + c.v
}

// wordSentiment adds the evidence of the words that no phrase covers.
func (a *analysis) wordSentiment(total float32) float32 {
	for i := range a.ws {
		inf := &a.info[i]
		t := &a.toks[a.ws[i]]
		if inf.covered {
			continue
		}
		v := inf.e.val
		f := inf.flags()
		if t.elong && t.alt == "no" && v == 0 {
			// "NOOOOO": dismay.
			total = a.add(total, contrib{v: -1.5, kind: cWord, from: t.start, to: t.end, note: "elongated"})
			continue
		}
		if v == 0 && f&fFail == 0 {
			continue
		}
		if f&fLaugh != 0 {
			total = a.add(total, contrib{v: v, kind: cLaugh, from: t.start, to: t.end})
			continue
		}
		v, note := a.wordWeight(i, v)
		kind := cWord
		from := t.start
		if f&fBrand != 0 {
			kind = cBrand
		}
		if n := a.negator(i); n >= 0 {
			from = a.toks[a.ws[n]].start
			v, kind = negated(v, f, kind)
		} else if v == 0 {
			continue
		}
		v *= a.contrastFactor(i)
		total = a.add(total, contrib{v: v, kind: kind, from: from, to: t.end, note: note})
	}
	return total
}

// wordWeight scales the valence v of word i by the words before it and by how it
// is written, and says why.
func (a *analysis) wordWeight(i int, v float32) (float32, string) {
	t := &a.toks[a.ws[i]]
	note := ""
	m := a.multiplier(i)
	if m != 1 {
		v *= m
		if m > 1 {
			note = "intensified"
		} else {
			note = "softened"
		}
	}
	if t.caps && !a.allCaps && len(t.norm) >= 3 {
		v *= 1.4
		note = "in capitals"
	}
	if t.elong {
		v *= 1.25
		note = "elongated"
	}
	if v > 0 && discourse[t.norm] && a.sentStart(i) && len(a.ws) > 1 {
		// "Bueno, …", "Well, …", "Ok. …": a discourse marker, not an opinion.
		v *= 0.1
	}
	if v > 0 && a.wished(i) {
		v *= 0.3
		note = "wished for, not a fact"
	}
	return v, note
}

// negated returns the valence and kind of a word with valence v and flags f that
// a negator governs.
func negated(v float32, f uint32, kind uint8) (float32, uint8) {
	switch {
	case v > 0:
		v = -v * 0.8
		kind = cNegated
		if f&fFail != 0 && v > -2 {
			v = -2
			kind = cFail
		}
	case f&fFail != 0:
		// A negated action or answer is a failure, whatever the word's own
		// valence: "no he obtenido respuesta", "didn't get a refund".
		v = -2
		kind = cFail
	case v <= -3:
		// Insults and strong words keep their sign ("no alimentéis al puto …").
		v *= 0.6
	case v < 0:
		if f&fEvent != 0 {
			v = -v * 0.5 // "sin retraso", "no delays"
		} else {
			v = -v * 0.3
		}
		kind = cNegated
	default: // a negated action: "no contestan", "didn't arrive"
		v = -2
		kind = cFail
	}
	return v, kind
}

// phraseSentiment adds the evidence of the sentiment phrases.
func (a *analysis) phraseSentiment(total float32) float32 {
	for _, m := range a.sent {
		p := m.p
		v := p.weight
		if v == 0 {
			continue
		}
		from, to := a.span(m.from, m.to)
		kind := cPhrase
		switch {
		case p.flags&fIrony != 0 && v < 0:
			kind = cIrony
		case p.flags&fCare != 0:
			kind = cCare
		case p.flags&fBrand != 0:
			kind = cBrand
		}
		if v > 0 {
			if n := a.negator(m.from); n >= 0 {
				v = -v * 0.8
				kind = cNegated
				from = a.toks[a.ws[n]].start
			}
		}
		caps := false
		for k := m.from; k < m.to; k++ {
			if a.toks[a.ws[k]].caps {
				caps = true
			}
		}
		note := ""
		if caps && !a.allCaps {
			v *= 1.3
			note = "in capitals"
		}
		v *= a.contrastFactor(m.from)
		total = a.add(total, contrib{v: v, kind: kind, from: from, to: to, note: note, wi: m.from, wj: m.to})
	}
	return total
}

// cueSentiment adds the urgency cues that are complaints in themselves (a
// lawyer, leaving, fraud, stranded, hours of waiting).
func (a *analysis) cueSentiment(total float32) float32 {
	var seenKinds uint32
	for _, m := range a.cues {
		if m.p.cat != catUrgency {
			continue
		}
		bit, v := urgencySentiment(m.p.tag)
		if v == 0 || seenKinds&bit != 0 || a.insideNonNegative(m) {
			continue
		}
		seenKinds |= bit
		from, to := a.span(m.from, m.to)
		total = a.add(total, contrib{v: v, kind: cUrgency, from: from, to: to, note: strings.ReplaceAll(m.p.tag, "_", " ")})
	}
	return total
}

// emojiSentiment adds the emoji and emoticons. A repeated emoji counts less.
func (a *analysis) emojiSentiment(total float32) float32 {
	var seen [8]rune
	ns := 0
	for k := range a.toks {
		t := &a.toks[k]
		switch t.kind {
		case tEmoji:
			v, ok := a.lx.emoji[t.emo]
			if !ok || v == 0 {
				continue
			}
			rep := false
			for _, r := range seen[:ns] {
				if r == t.emo {
					rep = true
				}
			}
			if rep {
				v *= 0.3
			} else if ns < len(seen) {
				seen[ns] = t.emo
				ns++
			}
			total = a.add(total, contrib{v: v, kind: cEmoji, from: t.start, to: t.end})
		case tEmoticon:
			if v := emoticons[t.norm]; v != 0 {
				total = a.add(total, contrib{v: v, kind: cEmoticon, from: t.start, to: t.end})
			}
		}
	}
	return total
}

// irony flips positive words that sit next to a failure ("genial, otra vez
// retrasado", "thanks for the 3 hour delay") and discounts thanks and laughter
// in a message that is otherwise a complaint.
func (a *analysis) irony(total *float32) {
	var neg float32
	for _, c := range a.contribs {
		if c.v < 0 {
			neg += c.v
		}
	}
	ironic := false
	for ci := range a.contribs {
		c := &a.contribs[ci]
		if c.kind == cIrony {
			ironic = true
		}
		if c.v <= 0 || (c.kind != cWord && c.kind != cLaugh && c.kind != cPhrase) {
			continue
		}
		i, f := a.judged(c)
		if i < 0 {
			continue
		}
		if c.kind == cLaugh {
			if neg <= -2 {
				*total -= c.v
				c.v = 0
			}
			continue
		}
		if f&(fIrony|fThanks) == 0 {
			continue
		}
		if a.ironicPraise(c, i, f, neg, total) {
			ironic = true
		}
	}
	if !ironic {
		return
	}
	// Applause and smiles after sarcasm are sarcastic too ("gracias por el retraso 👏👏").
	for ci := range a.contribs {
		c := &a.contribs[ci]
		if (c.kind == cEmoji || c.kind == cEmoticon) && c.v > 0 {
			old := c.v
			c.v = -old * 0.5
			c.note = "after irony"
			*total += c.v - old
		}
	}
}

// judged returns the word that a positive contribution is judged by and the
// flags of that word, or -1.
func (a *analysis) judged(c *contrib) (int, uint32) {
	i := -1
	var f uint32
	if c.kind == cPhrase {
		// A thanking phrase ("muchísimas gracias") is judged like its thanks word.
		for k := c.wi; k < c.wj; k++ {
			if ff := a.info[k].e.flags; ff&(fThanks|fIrony) != 0 {
				i, f = k, ff&(fThanks|fIrony)
				break
			}
		}
	} else {
		i = a.wordAt(c.from)
		if i >= 0 {
			f = a.info[i].flags()
		}
	}
	return i, f
}

// ironicPraise re-weighs c, the praise or thanks of word i (flags f), in a
// message whose negative evidence adds up to neg, and adds the change to total.
// It reports whether the praise turned out to be ironic.
func (a *analysis) ironicPraise(c *contrib, i int, f uint32, neg float32, total *float32) bool {
	ev := a.eventNear(i)
	if ev < 0 && f&fThanks != 0 {
		ev = a.badThingAfter(i)
	}
	if ev >= 0 {
		old := c.v
		c.v = -c.v * 0.8
		if f&fThanks != 0 {
			c.v = -old * 0.6
		}
		c.kind = cIrony
		c.note = "next to '" + a.quote(a.toks[a.ws[ev]].start, a.toks[a.ws[ev]].end) + "'"
		*total += c.v - old
		return true
	}
	if f&fThanks != 0 && (a.quest > 0 || a.qopen > 0) && c.v < 3 {
		// "¿…? Gracias": politeness closing a question, not praise.
		old := c.v
		c.v *= 0.3
		c.kind = cPoliteThanks
		*total += c.v - old
		return false
	}
	if f&fThanks != 0 && neg <= -3 {
		// "… lost my bag. Thanks." — politeness, or sarcasm, not praise.
		old := c.v
		c.v *= 0.2
		c.kind = cThanksInComplaint
		*total += c.v - old
		return false
	}
	if f&fIrony != 0 && neg <= -4 && (a.toks[a.ws[i]].elong || a.quoted(i)) {
		old := c.v
		c.v = -old * 0.8
		c.kind = cIrony
		c.note = "elongated or in quotes, in a complaint"
		*total += c.v - old
		return true
	}
	return false
}

// wordAt returns the word position whose token starts at byte offset off.
func (a *analysis) wordAt(off int) int {
	for i, k := range a.ws {
		if a.toks[k].start == off {
			return i
		}
	}
	return -1
}

// quoted reports whether word i is inside quotation marks.
func (a *analysis) quoted(i int) bool {
	k := a.ws[i]
	if k == 0 || k+1 >= len(a.toks) {
		return false
	}
	p, n := a.toks[k-1], a.toks[k+1]
	isQ := func(t token) bool {
		return t.kind == tPunct && (t.emo == '"' || t.emo == '“' || t.emo == '”' || t.emo == '«' || t.emo == '»')
	}
	return isQ(p) && isQ(n)
}

// eventNear returns the position of a service-failure word within five words of i
// in the same sentence, with no help or resolution word in between; or -1.
func (a *analysis) eventNear(i int) int {
	s := a.sentOf(i)
	best := -1
	for j := max(0, i-4); j < len(a.ws) && j <= i+6; j++ {
		if j == i || a.sentOf(j) != s {
			continue
		}
		inf := &a.info[j]
		isEvent := inf.e.flags&fEvent != 0 && a.negator(j) < 0
		if !isEvent {
			// A complaint phrase counts as the failure.
			for _, m := range a.sent {
				if m.from <= j && j < m.to && m.p.weight < 0 && m.p.flags&(fCare|fEvent) != 0 {
					isEvent = true
				}
			}
		}
		if !isEvent {
			continue
		}
		lo, hi := min(i, j), max(i, j)
		blocked := false
		for k := lo + 1; k < hi; k++ {
			ik := &a.info[k]
			if ik.e.flags&fResolve != 0 || (ik.e.val > 0 && ik.e.flags&(fIrony|fThanks) == 0 && !ik.covered) {
				blocked = true
			}
		}
		if !blocked {
			best = j
			break
		}
	}
	return best
}

// quote returns text[from:to] on one line, cut to a readable length.
func (a *analysis) quote(from, to int) string {
	s := a.text[from:to]
	if strings.ContainsAny(s, "\n\r\t") {
		s = strings.Join(strings.Fields(s), " ")
	}
	if len(s) > 60 {
		cut := 57
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// compound maps the raw sum to -1..1.
func compound(s float32) float64 {
	x := float64(s)
	return x / math.Sqrt(x*x+12)
}

// discourse words open sentences without judging anything.
var discourse = map[string]bool{
	"bueno": true, "bien": true, "pues": true, "vale": true, "ok": true, "okay": true, "okey": true,
	"well": true, "so": true, "alright": true, "sure": true, "claro": true, "listo": true,
}

// sentStart reports whether word i is the first word of its sentence.
func (a *analysis) sentStart(i int) bool {
	return i == 0 || a.sentOf(i-1) != a.sentOf(i)
}

// wished reports whether a wish word ("ojalá", "espero que", "hopefully", "a ver
// si") governs word i: what is wished for is not yet true.
func (a *analysis) wished(i int) bool {
	s := a.sentOf(i)
	for j := i - 1; j >= 0 && j >= i-4; j-- {
		if a.sentOf(j) != s {
			break
		}
		if a.info[j].flags()&fWish != 0 {
			return true
		}
	}
	return false
}

// contrastAfterPraise finds "X, pero Y" / "X. But Y" where X is positive and Y
// says something (a complaint usually follows the praise).
func (a *analysis) contrastAfterPraise() (contrib, bool) {
	for j := range a.ws {
		inf := &a.info[j]
		if inf.flags()&fContrast == 0 || inf.covered {
			continue
		}
		t := &a.toks[a.ws[j]]
		if t.norm != "pero" && t.norm != "but" && t.norm != "aunque" && t.norm != "however" && t.norm != "though" {
			continue
		}
		var before, after float32
		afterWords := 0
		for _, c := range a.contribs {
			if c.from < t.start {
				before += c.v
			} else {
				after += c.v
			}
		}
		for k := j + 1; k < len(a.ws) && k <= j+6; k++ {
			afterWords++
		}
		if before > 0 && after <= 0 && afterWords >= 2 {
			return contrib{v: -1.5 - before*0.3, kind: cContrast, from: t.start, to: t.end}, true
		}
	}
	return contrib{}, false
}

// urgencySentiment is how much an urgency cue says about the mood by itself.
func urgencySentiment(kind string) (uint32, float32) {
	switch UrgencyKind(kind) {
	case KindLegalThreat:
		return 1, -2.5
	case KindCancelAccount:
		return 2, -2.5
	case KindFraud:
		return 4, -2.5
	case KindStranded:
		return 8, -2
	case KindLongWait:
		return 16, -2
	case KindSafety:
		return 32, -1.5
	case KindMedical:
		return 64, -1
	case KindAskedUrgent:
		return 128, -1
	}
	return 0, 0
}

// badThingAfter finds a clearly negative word (valence -2 or less) up to eight
// words after a thanks in the same sentence: "gracias por todos los ataques de
// ansiedad", "thanks for the rude agent". Returns its position or -1.
func (a *analysis) badThingAfter(i int) int {
	s := a.sentOf(i)
	for j := i + 1; j < len(a.ws) && j <= i+8; j++ {
		if a.sentOf(j) != s {
			break
		}
		inf := &a.info[j]
		if inf.e.flags&fResolve != 0 || (inf.e.val > 0 && inf.e.flags&(fThanks|fIrony) == 0) {
			return -1
		}
		if !inf.covered && inf.e.val <= -2 && a.negator(j) < 0 {
			return j
		}
		for _, m := range a.sent {
			if m.from <= j && j < m.to && m.p.weight <= -2 {
				return j
			}
		}
	}
	return -1
}

// insideNonNegative reports whether a cue lies inside a sentiment phrase that is
// not negative: slang such as "on fire" or "me muero de risa" is no emergency.
func (a *analysis) insideNonNegative(c pmatch) bool {
	for _, m := range a.sent {
		if (m.p.weight >= 0 || m.p.flags&fCalm != 0) && m.from <= c.from && c.to <= m.to && m.to-m.from > c.to-c.from {
			return true
		}
	}
	return false
}
