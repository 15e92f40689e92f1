package csat

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pajarito-care/pajarito/shared/classify"
)

// kind says what a token is.
type kind uint8

const (
	word   kind = iota // letters (digits inside: "pj2471"), folded
	number             // digits, or a keycap digit ("4️⃣")
	star               // ⭐ 🌟 ★ (full) or ☆ (empty)
	emoji              // an emoji or an emoticon
	punct              // one punctuation or symbol rune
	other              // a link, @mention, #hashtag or time of day: never a score
)

// token is one unit of a message, with its place in the original text.
type token struct {
	kind kind
	// norm is, for a word, its folded form (lower case, no accents or
	// apostrophes, hyphens dropped) with runs of 3+ equal letters cut to 2; alt is
	// the same with every run cut to 1, set only when the word was elongated
	// ("muuuy" → "muuy", alt "muy"; "goooood" → "good"). For punctuation, norm is
	// the rune; for an emoticon, its text.
	norm, alt  string
	val        int  // number: its value, -1 when it has more than 4 digits; star: 1 full, 0 empty
	dec        bool // number: written with decimals ("4,5")
	emo        rune // emoji: its first rune
	start, end int  // byte offsets in the original text
	sent       int  // sentence: . ! ? ¿ ¡ ; … and line breaks separate them
	clause     int  // clause: sentences, commas, colons, brackets and "pero", "but" separate them
}

// forms returns the ways a word token may read.
func (t token) forms() []string {
	if t.alt != "" {
		return []string{t.norm, t.alt}
	}
	return []string{t.norm}
}

// clauseWords start a new clause: what follows them is not negated by what
// comes before.
var clauseWords = map[string]bool{"pero": true, "aunque": true, "sino": true, "but": true, "although": true, "though": true}

// tokenize splits text into tokens.
func tokenize(text string) []token {
	var toks []token
	sent, clause := 0, 0
	add := func(t token) {
		t.sent, t.clause = sent, clause
		toks = append(toks, t)
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case r == '\n' || r == '\r':
			sent++
			clause++
			i += size
		case unicode.IsSpace(r) || isModifier(r):
			i += size
		case hasPrefixFold(text[i:], "http://") || hasPrefixFold(text[i:], "https://") || hasPrefixFold(text[i:], "www."):
			j := endOfChunk(text, i)
			add(token{kind: other, start: i, end: j})
			i = j
		case (r == '@' || r == '#') && i+1 < len(text) && isWordRune(firstRune(text[i+1:])):
			j := i + 1
			for j < len(text) {
				r2, s2 := utf8.DecodeRuneInString(text[j:])
				if !isWordRune(r2) && r2 != '_' {
					break
				}
				j += s2
			}
			add(token{kind: other, start: i, end: j})
			i = j
		case '0' <= r && r <= '9':
			t, j := scanNumber(text, i)
			add(t)
			i = j
		case unicode.IsLetter(r):
			t, j := scanWord(text, i)
			if clauseWords[t.norm] {
				clause++
			}
			add(t)
			i = j
		case r == '⭐' || r == '🌟' || r == '★' || r == '☆':
			v := 1
			if r == '☆' {
				v = 0
			}
			j := skipModifiers(text, i+size)
			add(token{kind: star, val: v, start: i, end: j})
			i = j
		case emoticonAt(text, i) > 0:
			n := emoticonAt(text, i)
			add(token{kind: emoji, norm: strings.ToLower(text[i : i+n]), start: i, end: i + n})
			i += n
		case isEmoji(r):
			j := skipModifiers(text, i+size)
			// A zero-width joiner glues the next emoji to this one (👨‍👩‍👧).
			for j < len(text) {
				prev, _ := utf8.DecodeLastRuneInString(text[:j])
				next, s2 := utf8.DecodeRuneInString(text[j:])
				if prev != 0x200D || !isEmoji(next) {
					break
				}
				j = skipModifiers(text, j+s2)
			}
			add(token{kind: emoji, emo: r, start: i, end: j})
			i = j
		default:
			if r == '¿' || r == '¡' {
				sent++
				clause++
			}
			add(token{kind: punct, norm: string(r), start: i, end: i + size})
			switch r {
			case '.', '!', '?', ';', '…':
				sent++
				clause++
			case ',', ':', '(', ')', '"', '«', '»':
				clause++
			}
			i += size
		}
	}
	return toks
}

// scanNumber reads the digits at text[i:]: a number ("4", "4,5", "4️⃣") or a
// time of day ("3:30").
func scanNumber(text string, i int) (token, int) {
	j := digitsEnd(text, i)
	t := token{kind: number, start: i}
	digits := text[i:j]
	// "3:30" is a time; "4,5" and "4.5" are decimals; "12.03.2024" a date.
	if j+1 < len(text) && isDigit(text[j+1]) {
		switch text[j] {
		case ':':
			k := digitsEnd(text, j+1)
			return token{kind: other, start: i, end: k}, k
		case ',', '.':
			k := digitsEnd(text, j+1)
			if k+1 < len(text) && (text[k] == '.' || text[k] == ',') && isDigit(text[k+1]) {
				k = digitsEnd(text, k+1)
				return token{kind: other, start: i, end: k}, k
			}
			t.dec = true
			j = k
		}
	}
	t.val = -1
	if len(digits) <= 4 {
		t.val = 0
		for k := 0; k < len(digits); k++ {
			t.val = t.val*10 + int(digits[k]-'0')
		}
	}
	// A keycap digit: "4" U+FE0F U+20E3.
	t.end = skipModifiers(text, j)
	return t, t.end
}

// scanWord reads the word at text[i:]: letters and digits, apostrophes and
// hyphens between letters ("don't", "opt-out", "so-so").
func scanWord(text string, i int) (token, int) {
	var b strings.Builder
	j := i
	for j < len(text) {
		r, size := utf8.DecodeRuneInString(text[j:])
		switch {
		case isWordRune(r):
			b.WriteRune(fold(r))
		case unicode.Is(unicode.Mn, r):
			// a combining accent: drop it
		case (r == '\'' || r == '’' || r == '-') && j+size < len(text) && unicode.IsLetter(firstRune(text[j+size:])):
			// inside the word: dropped
		default:
			return wordToken(b.String(), i, j), j
		}
		j += size
	}
	return wordToken(b.String(), i, j), j
}

func wordToken(folded string, start, end int) token {
	t := token{kind: word, norm: squash(folded, 2), start: start, end: end}
	if t.norm != folded {
		t.alt = squash(folded, 1)
	}
	return t
}

// squash cuts every run of more than max equal runes to max runes.
func squash(s string, max int) string {
	var b strings.Builder
	var prev rune
	run := 0
	for _, r := range s {
		if r == prev {
			run++
		} else {
			prev, run = r, 1
		}
		if run <= max {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// fold maps a rune to lower case without accents (classify.FoldRune), except
// the ordinal signs, which stay: "nº 5" is a number sign, not "no 5".
func fold(r rune) rune {
	if r == 'ª' || r == 'º' {
		return r
	}
	return classify.FoldRune(r)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func digitsEnd(text string, i int) int {
	for i < len(text) && isDigit(text[i]) {
		i++
	}
	return i
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func firstRune(s string) rune { r, _ := utf8.DecodeRuneInString(s); return r }

func lastRune(s string) rune { r, _ := utf8.DecodeLastRuneInString(s); return r }

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func endOfChunk(text string, i int) int {
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		if unicode.IsSpace(r) {
			break
		}
		i += size
	}
	return i
}

// isEmoji reports the runes that start an emoji.
func isEmoji(r rune) bool {
	switch {
	case r >= 0x1F000 && r <= 0x1FAFF,
		r >= 0x2600 && r <= 0x27BF,
		r >= 0x2300 && r <= 0x23FF,
		r >= 0x2B00 && r <= 0x2BFF:
		return true
	}
	return false
}

// isModifier reports the runes that only modify the emoji or digit before
// them: variation selectors, the joiner, the keycap, skin tones, tags.
func isModifier(r rune) bool {
	return r == 0xFE0F || r == 0xFE0E || r == 0x200D || r == 0x20E3 ||
		(r >= 0x1F3FB && r <= 0x1F3FF) || (r >= 0xE0020 && r <= 0xE007F)
}

func skipModifiers(text string, i int) int {
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		if !isModifier(r) {
			break
		}
		i += size
	}
	return i
}

// emoticonAt returns the length of the longest emoticon at text[i:], or 0.
func emoticonAt(text string, i int) int {
	best := 0
	for n := 2; n <= 3 && i+n <= len(text); n++ {
		if _, ok := emoticons[strings.ToLower(text[i:i+n])]; ok {
			// ":d" must not be the start of a word (":dame").
			if end := i + n; end < len(text) && isWordRune(firstRune(text[end:])) && isWordRune(lastRune(text[i:end])) {
				continue
			}
			best = n
		}
	}
	return best
}
