package protocol

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pajarito-care/pajarito/shared/classify"
)

// Text matching. Terms (routing keywords, crisis topics, forbidden words, apology
// phrases) are matched like the classifier's brand terms: without regard to case or
// accents, on whole words. A term is a word, a word ending in * (a prefix:
// "reembols*"), a phrase of such words ("lo sentimos"), or alternatives separated by
// "|" ("retraso*|delay*"). @handles are not words: "@delay_bot" does not match
// "delay".

// foldRune folds r as the classifier does (classify.FoldRune), with typographic
// apostrophes as straight ones.
func foldRune(r rune) rune {
	switch r {
	case '’', '‘', 'ʼ':
		return '\''
	}
	return classify.FoldRune(r)
}

// fold lower-cases s and removes accents.
func fold(s string) string {
	s = nfc(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

// word is one word of a text: folded, with its byte offsets in the text.
type word struct {
	w          string
	start, end int
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// words splits text into words: letters and digits, with inner apostrophes
// ("we're") and hyphens ("e-mail") kept. @handles and URLs are skipped; the # of a
// hashtag is not part of the word.
func words(text string) []word {
	var out []word
	i := 0
	for i < len(text) {
		r, n := utf8.DecodeRuneInString(text[i:])
		if r == '@' || isURLStart(text, i) {
			// Skip the handle or link.
			j := i + n
			for j < len(text) {
				r2, n2 := utf8.DecodeRuneInString(text[j:])
				if unicode.IsSpace(r2) {
					break
				}
				j += n2
			}
			i = j
			continue
		}
		if !isWordRune(r) {
			i += n
			continue
		}
		start := i
		j := i
		for j < len(text) {
			r2, n2 := utf8.DecodeRuneInString(text[j:])
			if isWordRune(r2) {
				j += n2
				continue
			}
			if r2 == '\'' || r2 == '’' || r2 == '-' {
				if r3, _ := utf8.DecodeRuneInString(text[j+n2:]); j+n2 < len(text) && isWordRune(r3) {
					j += n2
					continue
				}
			}
			break
		}
		out = append(out, word{w: fold(text[start:j]), start: start, end: j})
		i = j
	}
	return out
}

func isURLStart(text string, i int) bool {
	if i > 0 {
		if r, _ := utf8.DecodeLastRuneInString(text[:i]); isWordRune(r) || r == '@' || r == '.' {
			return false
		}
	}
	rest := text[i:]
	if len(rest) > 8 {
		rest = rest[:8]
	}
	rest = strings.ToLower(rest)
	return strings.HasPrefix(rest, "http://") || strings.HasPrefix(rest, "https://") || strings.HasPrefix(rest, "www.")
}

// pat is one word of a term.
type pat struct {
	w      string
	prefix bool
}

// term is a compiled term: alternatives, each a sequence of words.
type term struct {
	text string
	alts [][]pat
}

// matcher finds terms in texts.
type matcher struct {
	terms []term
}

// compileTerms compiles terms; empty lists give a matcher that finds nothing.
func compileTerms(list []string) (*matcher, error) {
	m := &matcher{}
	for _, t := range list {
		ct, err := compileTerm(t)
		if err != nil {
			return nil, err
		}
		m.terms = append(m.terms, ct)
	}
	return m, nil
}

func compileTerm(t string) (term, error) {
	ct := term{text: t}
	for _, alt := range strings.Split(t, "|") {
		var seq []pat
		for _, f := range strings.Fields(alt) {
			p := pat{}
			if strings.HasSuffix(f, "*") {
				p.prefix = true
				f = strings.TrimSuffix(f, "*")
			}
			ws := words(f)
			if len(ws) == 0 {
				return term{}, fmt.Errorf("term %q: %q has no letters or digits", t, f)
			}
			for k, w := range ws {
				q := pat{w: w.w}
				if k == len(ws)-1 {
					q.prefix = p.prefix
				}
				seq = append(seq, q)
			}
		}
		if len(seq) == 0 {
			return term{}, fmt.Errorf("term %q has an empty alternative", t)
		}
		ct.alts = append(ct.alts, seq)
	}
	return ct, nil
}

// match is one term found in a text.
type match struct {
	term       string
	start, end int // byte offsets in the text
}

func (p pat) matches(w string) bool {
	if p.prefix {
		return strings.HasPrefix(w, p.w)
	}
	return w == p.w
}

// matchAt reports whether seq matches the words from i on.
func matchAt(seq []pat, ws []word, i int) bool {
	if i+len(seq) > len(ws) {
		return false
	}
	for k, p := range seq {
		if !p.matches(ws[i+k].w) {
			return false
		}
	}
	return true
}

// first returns the first term (in the matcher's order) found in ws.
func (m *matcher) first(ws []word) (match, bool) {
	if m == nil {
		return match{}, false
	}
	for _, t := range m.terms {
		for i := range ws {
			for _, seq := range t.alts {
				if matchAt(seq, ws, i) {
					return match{term: t.text, start: ws[i].start, end: ws[i+len(seq)-1].end}, true
				}
			}
		}
	}
	return match{}, false
}

// all returns every occurrence of every term in ws, in text order.
func (m *matcher) all(ws []word) []match {
	if m == nil {
		return nil
	}
	var out []match
	for i := range ws {
		for _, t := range m.terms {
			for _, seq := range t.alts {
				if matchAt(seq, ws, i) {
					out = append(out, match{term: t.text, start: ws[i].start, end: ws[i+len(seq)-1].end})
					goto next
				}
			}
		}
	next:
	}
	return out
}

// URLs. X links any http(s) URL and any bare domain with a known top-level domain
// ("pajaritoair.com/ayuda"); each costs 23 characters, and a post carrying one
// costs $0.20 instead of $0.015.
var urlRE = regexp.MustCompile(`(?i)\b(?:https?://[^\s]+|www\.[^\s]+|[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.(?:com|net|org|es|io|co|app|me|ly|info|eu|mx|ar|cl|pe|uy|ec|ve|bo|py|cr|do|gt|hn|ni|pa|sv|cu|uk|us|de|fr|it|pt|br|ca|au|gl|xyz|dev|travel|aero|link|site|online|shop|store|page|tv|gg|to|li|ai|cat|gal|eus)\b(?:/[^\s]*)?)`)

// mayHaveURL reports whether text could hold a link: a dot followed by a letter or
// digit (a domain), or "://". Most replies have none, and skip the regexp.
func mayHaveURL(text string) bool {
	for i := 0; i+1 < len(text); i++ {
		if c := text[i+1]; text[i] == '.' && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return true
		}
	}
	return strings.Contains(text, "://")
}

// findURLs returns the byte spans of the links in text (e-mail domains excluded).
func findURLs(text string) [][2]int {
	if !mayHaveURL(text) {
		return nil
	}
	var out [][2]int
	for _, loc := range urlRE.FindAllStringIndex(text, -1) {
		s, e := loc[0], loc[1]
		if s > 0 && (text[s-1] == '@' || text[s-1] == '.') {
			continue // an e-mail address, or the tail of a longer domain
		}
		if at := strings.IndexByte(text[s:e], '@'); at >= 0 && !strings.Contains(text[s:e], "/") {
			continue
		}
		// Trailing punctuation is not part of the link.
		for e > s && strings.ContainsRune(".,;:!?)]}'\"»", rune(text[e-1])) {
			e--
		}
		out = append(out, [2]int{s, e})
	}
	return out
}

// URLLength is what X counts for any link, whatever its length.
const URLLength = 23

// MaxPostLength is X's limit on a post, in weighted characters (see Length).
const MaxPostLength = 280

// Length counts text like X does (twitter-text, configuration v3): the text is
// normalised to NFC (composed accents: "é" written as e + U+0301 counts once —
// composition is implemented for the Latin letters with the accents of Spanish,
// Portuguese, French and Catalan; other combining marks count as written, which can
// only overcount); each link (see findURLs) counts URLLength; code points in
// U+0000–U+10FF, U+2000–U+200D, U+2010–U+201F and U+2032–U+2037 count 1, all others
// (CJK, emoji) count 2, and an emoji sequence (with variation selectors, skin tones,
// ZWJ joins or as a flag) counts 2 as a whole. A post may count at most
// MaxPostLength.
func Length(text string) int {
	text = nfc(text)
	n := 0
	last := 0
	for _, u := range findURLs(text) {
		n += weighted(text[last:u[0]]) + URLLength
		last = u[1]
	}
	return n + weighted(text[last:])
}

func runeWeight(r rune) int {
	switch {
	case r <= 0x10FF, r >= 0x2000 && r <= 0x200D, r >= 0x2010 && r <= 0x201F, r >= 0x2032 && r <= 0x2037:
		return 1
	}
	return 2
}

func weighted(s string) int {
	n := 0
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		w := runeWeight(r)
		if w == 2 && isEmojiBase(r) {
			// Absorb the rest of the emoji sequence.
			for i+1 < len(rs) {
				next := rs[i+1]
				switch {
				case next == 0xFE0F || next == 0xFE0E || (next >= 0x1F3FB && next <= 0x1F3FF) || next == 0x20E3 || (next >= 0xE0020 && next <= 0xE007F):
					i++
					continue
				case next == 0x200D && i+2 < len(rs):
					i += 2
					continue
				case r >= 0x1F1E6 && r <= 0x1F1FF && next >= 0x1F1E6 && next <= 0x1F1FF:
					i++ // a flag: two regional indicators
					r = 0
					continue
				}
				break
			}
		}
		n += w
	}
	return n
}

func isEmojiBase(r rune) bool {
	return (r >= 0x1F000 && r <= 0x1FAFF) || (r >= 0x2600 && r <= 0x27BF) || (r >= 0x2B00 && r <= 0x2BFF)
}

// Composition of Latin letters with combining accents (a partial NFC: see Length).
var composeTable = map[[2]rune]rune{}

func init() {
	marks := map[rune]string{
		0x0300: "AÀEÈIÌOÒUÙaàeèiìoòuù",
		0x0301: "AÁEÉIÍOÓUÚYÝaáeéiíoóuúyýCĆcćNŃnń",
		0x0302: "AÂEÊIÎOÔUÛaâeêiîoôuû",
		0x0303: "AÃNÑOÕaãnñoõ",
		0x0308: "AÄEËIÏOÖUÜaäeëiïoöuüyÿ",
		0x0327: "CÇcç",
	}
	for m, pairs := range marks {
		rs := []rune(pairs)
		for i := 0; i+1 < len(rs); i += 2 {
			composeTable[[2]rune{rs[i], m}] = rs[i+1]
		}
	}
}

// nfc composes Latin letters followed by a combining accent.
func nfc(s string) string {
	has := false
	for _, r := range s {
		if r >= 0x0300 && r <= 0x036F {
			has = true
			break
		}
	}
	if !has {
		return s
	}
	rs := []rune(s)
	out := make([]rune, 0, len(rs))
	for _, r := range rs {
		if n := len(out); n > 0 && r >= 0x0300 && r <= 0x036F {
			if c, ok := composeTable[[2]rune{out[n-1], r}]; ok {
				out[n-1] = c
				continue
			}
		}
		out = append(out, r)
	}
	return string(out)
}

// firstSentence returns the words of text's first sentence: up to the first full
// stop, exclamation or question mark, or line break (an ellipsis or a decimal point
// does not end it). Leading @handles and greetings are skipped by words anyway.
func firstSentence(text string) string {
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '\n', '!', '?':
			if i > 0 {
				return text[:i]
			}
		case '.':
			if i+1 < len(text) && (text[i+1] == '.' || (text[i+1] >= '0' && text[i+1] <= '9')) {
				for i+1 < len(text) && text[i+1] == '.' {
					i++
				}
				continue
			}
			return text[:i]
		}
	}
	return text
}
