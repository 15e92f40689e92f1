package classify

import (
	"fmt"
	"strconv"
	"strings"
)

// Word flags: what a word does besides carrying valence.
const (
	fNeg      uint32 = 1 << iota // negator: no, nunca, never, n't
	fIntens                      // intensifier (mult > 1): muy, very, so
	fDimin                       // diminisher (mult < 1): algo, a bit
	fContrast                    // pero, but: what follows weighs more
	fEvent                       // a service failure (delay, cancel, lost): a positive word near it reads as irony
	fThanks                      // gracias, thanks
	fIrony                       // a generic positive that is often ironic next to an event (great, genial)
	fQWord                       // question word: qué, cómo, how, when
	fFail                        // an action that, negated, is a service failure (funciona, answer)
	fResolve                     // resolution or help (rebooked, solucionado): blocks irony
	fNumWord                     // number word: dos, two, varias
	fTimeUnit                    // hora, minutos, days
	fStop                        // function word of the language (language detection)
	fPolite                      // por favor, please
	fCare                        // phrase: a customer-care complaint pattern
	fRepeat                      // phrase: repetition (otra vez, again)
	fBlockNeg                    // ends a negation scope (que, but, y)
	fFirst                       // first person (I, me, mi, yo): the writer is involved
	fLaugh                       // jaja, lol
	fWish                        // ojalá, hope, wish: what follows is not a fact
	fBrand                       // configured by the brand
	fCalm                        // phrase: hyperbole or jargon that is no emergency ("me va a dar un infarto", "exit row")
)

// Languages a lexicon entry can belong to.
const (
	langES = 0
	langEN = 1
	langXX = 2 // unknown: both lexicons, Spanish first
)

// entry is what a word means in one language.
type entry struct {
	val   float32 // valence, -4..4
	mult  float32 // intensifier/diminisher multiplier (0: none)
	flags uint32
	set   bool
}

// lexWord is a word in both languages.
type lexWord struct {
	lang [2]entry
}

type stemEntry struct {
	stem string
	lang int
	e    entry
}

// Phrase categories.
const (
	catSent    uint8 = iota // sentiment phrase (weight = valence)
	catIntent               // cue for an intent (tag = intent)
	catUrgency              // cue for an urgency kind (tag = kind)
	catSpam                 // cue for spam
	catForbid               // a brand's forbidden word
)

// Slot kinds in a phrase pattern.
const (
	sLit  uint8 = iota // one of words (alternatives separated by |)
	sStem              // prefix (word ending in *)
	sNum               // <n>: a number or a number word
	sGap               // ...: 0 to 3 arbitrary words
	sAny               // _: exactly one word
)

type slot struct {
	kind  uint8
	words []string
	q     bool // the word must be followed by a question mark ("seriously?")
}

type phrase struct {
	slots  []slot
	weight float32
	mult   float32
	flags  uint32
	cat    uint8
	tag    string
	text   string // the pattern as written, for reasons
	lang   int
}

// lexicon is the built-in and configured vocabulary. It is read-only after build.
type lexicon struct {
	words map[string]*lexWord
	stems map[string][]stemEntry // by first 4 bytes of the stem
	// Phrase index: by first literal word, by first 4 bytes of a first stem, and
	// phrases that start with a number.
	pexact map[string][]*phrase
	pstem  map[string][]*phrase
	pnum   []*phrase
	emoji  map[rune]float32
	// dict is used to segment hashtags: every known word.
	dict map[string]bool
	// byText finds sentiment phrases by their pattern, so that a later definition
	// (a later lexicon, a brand's configuration) replaces an earlier one.
	byText map[string][]*phrase
}

func newLexicon() *lexicon {
	return &lexicon{
		words:  map[string]*lexWord{},
		stems:  map[string][]stemEntry{},
		pexact: map[string][]*phrase{},
		pstem:  map[string][]*phrase{},
		emoji:  map[rune]float32{},
		dict:   map[string]bool{},
		byText: map[string][]*phrase{},
	}
}

// header is the part of a DSL line before ':'.
type header struct {
	weight    float32
	hasWeight bool
	mult      float32
	flags     uint32
	cat       uint8
	tag       string
}

var flagNames = map[string]uint32{
	"neg": fNeg, "intens": fIntens, "dimin": fDimin, "contrast": fContrast, "event": fEvent,
	"thanks": fThanks, "irony": fIrony, "qword": fQWord, "fail": fFail, "resolve": fResolve,
	"numword": fNumWord, "time": fTimeUnit, "stop": fStop, "polite": fPolite, "care": fCare,
	"repeat": fRepeat, "block": fBlockNeg, "first": fFirst, "laugh": fLaugh, "wish": fWish, "calm": fCalm,
}

func parseHeader(h string) (header, error) {
	var hd header
	for _, f := range strings.Fields(h) {
		switch {
		case strings.HasPrefix(f, "x"):
			m, err := strconv.ParseFloat(f[1:], 32)
			if err != nil {
				return hd, fmt.Errorf("bad multiplier %q", f)
			}
			hd.mult = float32(m)
		case strings.HasPrefix(f, "intent="):
			hd.cat, hd.tag = catIntent, f[len("intent="):]
		case strings.HasPrefix(f, "urgency="):
			hd.cat, hd.tag = catUrgency, f[len("urgency="):]
		case f == "spam":
			hd.cat = catSpam
		default:
			if fl, ok := flagNames[f]; ok {
				hd.flags |= fl
				continue
			}
			w, err := strconv.ParseFloat(f, 32)
			if err != nil {
				return hd, fmt.Errorf("unknown header field %q", f)
			}
			hd.weight, hd.hasWeight = float32(w), true
		}
	}
	return hd, nil
}

// load reads lexicon DSL: each line is "HEADER : item, item, …". HEADER holds a
// valence (e.g. -2.5), flags (neg, event, …), a multiplier (x1.5) or a category
// (intent=sales, urgency=legal_threat, spam). An item with one word (optionally
// ending in * for a prefix) is a word; an item with several is a phrase pattern
// where "<n>" is a number, "..." skips up to three words, "_" is any one word,
// "a|b" are alternatives for one word and "on+hold" joins the words of a longer
// alternative ("still waiting|on+hold"). A later definition of the same phrase
// replaces an earlier one. Lines starting with # are comments.
func (lx *lexicon) load(lang int, src string) error {
	for n, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		h, items, ok := strings.Cut(line, ":")
		if !ok {
			return fmt.Errorf("line %d: no ':' in %q", n+1, line)
		}
		hd, err := parseHeader(h)
		if err != nil {
			return fmt.Errorf("line %d: %w", n+1, err)
		}
		for _, it := range strings.Split(items, ",") {
			it = strings.TrimSpace(it)
			if it == "" {
				continue
			}
			if err := lx.addItem(lang, hd, it); err != nil {
				return fmt.Errorf("line %d: %w", n+1, err)
			}
		}
	}
	return nil
}

func (lx *lexicon) addItem(lang int, hd header, item string) error {
	f := strings.Fields(item)
	single := len(f) == 1 && !strings.ContainsAny(item, "|<?") && item != "..." && item != "_"
	if single && hd.cat == catSent {
		w := foldString(f[0])
		if strings.ContainsRune(w, ' ') {
			// An item like "e-mail" folds to two words: a phrase.
			return lx.addPhrase(lang, hd, item)
		}
		e := entry{val: hd.weight, mult: hd.mult, flags: hd.flags, set: true}
		if strings.HasSuffix(w, "*") {
			stem := strings.TrimSuffix(w, "*")
			if len(stem) < 4 {
				return fmt.Errorf("stem %q is shorter than 4 letters", stem)
			}
			lx.stems[stem[:4]] = append(lx.stems[stem[:4]], stemEntry{stem: stem, lang: lang, e: e})
			lx.dict[stem] = true
			return nil
		}
		lx.setWord(lang, w, e, hd.hasWeight)
		return nil
	}
	return lx.addPhrase(lang, hd, item)
}

// setWord merges e into the word's entry for lang (langXX: both languages).
func (lx *lexicon) setWord(lang int, w string, e entry, override bool) {
	lw := lx.words[w]
	if lw == nil {
		lw = &lexWord{}
		lx.words[w] = lw
	}
	langs := []int{lang}
	if lang == langXX {
		langs = []int{langES, langEN}
	}
	for _, l := range langs {
		old := &lw.lang[l]
		if e.val != 0 || override {
			old.val = e.val
		}
		if e.mult != 0 {
			old.mult = e.mult
		}
		old.flags |= e.flags
		old.set = true
	}
	lx.dict[w] = true
}

func (lx *lexicon) addPhrase(lang int, hd header, item string) error {
	// Expand alternatives that hold several words ("on+hold"): each becomes a
	// variant of the phrase with its words as separate slots.
	fields := strings.Fields(item)
	variants := [][]string{nil}
	for _, f := range fields {
		if !strings.Contains(f, "+") || f == "+" {
			for i := range variants {
				variants[i] = append(variants[i], f)
			}
			continue
		}
		var single []string
		var multi [][]string
		for _, alt := range strings.Split(f, "|") {
			if strings.Contains(alt, "+") {
				multi = append(multi, strings.Split(alt, "+"))
			} else {
				single = append(single, alt)
			}
		}
		var next [][]string
		for _, v := range variants {
			if len(single) > 0 {
				next = append(next, append(append([]string(nil), v...), strings.Join(single, "|")))
			}
			for _, m := range multi {
				next = append(next, append(append([]string(nil), v...), m...))
			}
		}
		variants = next
	}
	for _, v := range variants {
		if err := lx.addPhraseFields(lang, hd, item, v); err != nil {
			return err
		}
	}
	return nil
}

// splitNumUnit splits a pattern word the way the tokenizer splits text: "1gb" →
// "1" "gb", "2h" → "2" "h".
func splitNumUnit(f string) []string {
	i := 0
	for i < len(f) && f[i] >= '0' && f[i] <= '9' {
		i++
	}
	if i == 0 || i == len(f) || strings.ContainsAny(f, "|*") {
		return []string{f}
	}
	for j := i; j < len(f); j++ {
		if f[j] >= '0' && f[j] <= '9' {
			return []string{f} // a code like "3xk9pq" stays whole
		}
	}
	return []string{f[:i], f[i:]}
}

func (lx *lexicon) addPhraseFields(lang int, hd header, item string, fields []string) error {
	key := strings.Join(fields, " ")
	if hd.cat == catSent {
		for _, old := range lx.byText[key] {
			if old.cat == catSent {
				// Redefinition: the later lexicon wins.
				old.weight, old.mult, old.flags, old.lang = hd.weight, hd.mult, hd.flags, lang
				return nil
			}
		}
	}
	p := &phrase{weight: hd.weight, mult: hd.mult, flags: hd.flags, cat: hd.cat, tag: hd.tag, text: item, lang: lang}
	if hd.cat == catSent {
		lx.byText[key] = append(lx.byText[key], p)
	}
	if err := p.parseSlots(patternWords(fields)); err != nil {
		return err
	}
	return lx.index(p)
}

// patternWords folds the fields of a phrase pattern into the words the
// tokenizer would make of them, keeping "<n>", "..." and "_" as they are.
func patternWords(fields []string) []string {
	var words []string
	for _, f := range fields {
		if f == "<n>" || f == "..." || f == "_" {
			words = append(words, f)
			continue
		}
		ff := foldString(f)
		for _, w := range strings.Fields(ff) {
			words = append(words, splitNumUnit(w)...)
		}
	}
	return words
}

// parseSlots appends a slot to p for each pattern word.
func (p *phrase) parseSlots(words []string) error {
	item := p.text
	for _, f := range words {
		switch {
		case f == "<n>":
			p.slots = append(p.slots, slot{kind: sNum})
		case f == "...":
			p.slots = append(p.slots, slot{kind: sGap})
		case f == "_":
			p.slots = append(p.slots, slot{kind: sAny})
		case strings.HasSuffix(f, "*") && !strings.Contains(f, "|"):
			stem := strings.TrimSuffix(f, "*")
			if len(stem) < 3 {
				return fmt.Errorf("phrase %q: stem %q is too short", item, stem)
			}
			p.slots = append(p.slots, slot{kind: sStem, words: []string{stem}})
		default:
			q := strings.HasSuffix(f, "?")
			f = strings.TrimSuffix(f, "?")
			var alts []string
			for _, a := range strings.Split(f, "|") {
				if a != "" {
					alts = append(alts, a)
				}
			}
			if len(alts) == 0 {
				return fmt.Errorf("phrase %q: empty slot", item)
			}
			p.slots = append(p.slots, slot{kind: sLit, words: alts, q: q})
		}
	}
	return nil
}

// index files p under its first slot, so that matching can start there, and
// adds its literal words to the dictionary.
func (lx *lexicon) index(p *phrase) error {
	item := p.text
	if len(p.slots) == 0 {
		return fmt.Errorf("empty phrase")
	}
	first := p.slots[0]
	switch first.kind {
	case sLit:
		for _, w := range first.words {
			lx.pexact[w] = append(lx.pexact[w], p)
		}
	case sStem:
		st := first.words[0]
		if len(st) < 4 {
			return fmt.Errorf("phrase %q: a leading stem needs 4 letters", item)
		}
		lx.pstem[st[:4]] = append(lx.pstem[st[:4]], p)
	case sNum:
		lx.pnum = append(lx.pnum, p)
	default:
		return fmt.Errorf("phrase %q must start with a word or a number", item)
	}
	for _, s := range p.slots {
		if s.kind == sLit {
			for _, w := range s.words {
				lx.dict[w] = true
			}
		}
	}
	return nil
}

// lookup returns what the folded word w means in lang. For langXX, and when the
// word is unknown in lang, the other language is consulted (tweets code-switch:
// "fail" in Spanish, "gracias" in English).
func (lx *lexicon) lookup(w string, lang int) (entry, int) {
	lw := lx.words[w]
	if lw != nil {
		if lang != langXX && lw.lang[lang].set {
			return lw.lang[lang], lang
		}
		if lang == langXX || lang == langEN {
			if lw.lang[langES].set {
				return lw.lang[langES], langES
			}
		}
		if lw.lang[langEN].set {
			return lw.lang[langEN], langEN
		}
	}
	if len(w) >= 4 {
		if ss := lx.stems[w[:4]]; ss != nil {
			var best *stemEntry
			for k := range ss {
				s := &ss[k]
				if strings.HasPrefix(w, s.stem) && (best == nil || len(s.stem) > len(best.stem) ||
					(len(s.stem) == len(best.stem) && s.lang == lang)) {
					best = s
				}
			}
			if best != nil {
				return best.e, best.lang
			}
		}
	}
	return entry{}, -1
}

// known reports whether w is a word of the lexicon (for hashtag segmentation).
func (lx *lexicon) known(w string) bool {
	return lx.dict[w]
}

// segment splits a lower-case run into known words, minimising unknown letters
// then the number of words. It returns nil when no split covers most of it.
func (lx *lexicon) segment(w string, buf *[]int) []string {
	n := len(w)
	// cost[i]: best (unknown bytes*10 + words) for w[:i]; back[i]: where the last piece starts.
	need := 2 * (n + 1)
	if cap(*buf) < need {
		*buf = make([]int, need)
	}
	cost := (*buf)[:n+1]
	back := (*buf)[n+1 : need]
	cost[0] = 0
	for i := 1; i <= n; i++ {
		cost[i] = cost[i-1] + 10 + 1 // one unknown byte
		back[i] = -(i - 1) - 1       // negative: unknown single byte
		for j := max(0, i-20); j <= i-2; j++ {
			if lx.dict[w[j:i]] && cost[j]+1 < cost[i] {
				cost[i] = cost[j] + 1
				back[i] = j
			}
		}
	}
	// Collect pieces, merging runs of unknown bytes.
	var rev []string
	i := n
	unknown := 0
	for i > 0 {
		if back[i] < 0 {
			j := -back[i] - 1
			end := i
			for j > 0 && back[j] < 0 {
				j = -back[j] - 1
			}
			unknown += end - j
			rev = append(rev, w[j:end])
			i = j
			continue
		}
		rev = append(rev, w[back[i]:i])
		i = back[i]
	}
	out := make([]string, len(rev))
	for k := range rev {
		out[k] = rev[len(rev)-1-k]
	}
	// Trust a split only when it reads as words: all known words of two letters
	// or more ("nunca|mas", "worst|airline"), or an unknown run (a brand name)
	// followed by one or two known words of three letters or more
	// ("usairways|sucks", "iberia|fail"). "castilla" is not "ca still a" and
	// "ultimosegundo" holds no "gun".
	if unknown == 0 {
		for _, piece := range out {
			if len(piece) < 2 {
				out = nil
				break
			}
		}
		if out != nil {
			return out
		}
	}
	for k := 3; k <= n-3; k++ {
		suf := w[k:]
		if lx.dict[suf] {
			return []string{w[:k], suf}
		}
		for j := 3; j <= len(suf)-3; j++ {
			if lx.dict[suf[:j]] && lx.dict[suf[j:]] {
				return []string{w[:k], suf[:j], suf[j:]}
			}
		}
	}
	return nil
}
