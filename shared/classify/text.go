package classify

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind says what a token is.
type tokKind uint8

const (
	tWord     tokKind = iota // a word (folded, lower case)
	tNum                     // digits, possibly with . or , inside
	tMention                 // @handle
	tURL                     // a link
	tEmail                   // an e-mail address (kept out of the words)
	tEmoji                   // one emoji (norm holds its base rune)
	tEmoticon                // :) :( <3 …
	tPunct                   // ! ? . , ; … ¿ ¡
)

// token is one unit of a message. norm is folded (lower case, no accents) and,
// for elongated words, squashed so that runs of 3+ equal letters become 2; alt
// then holds the form with those runs squashed to 1 ("graciaaas" → "graciaas",
// alt "gracias").
type token struct {
	norm       string
	alt        string
	start, end int // byte offsets in the original text
	sent       int // sentence number (. ! ? ; … and line breaks end sentences)
	kind       tokKind
	caps       bool // written in capitals (at least two letters)
	elong      bool // had a run of 3+ equal letters
	hashtag    bool // part of a #hashtag
	emo        rune // base rune of an emoji
}

// scratch holds the per-call buffers. It is pooled so that Classify allocates little.
type scratch struct {
	buf   []byte
	toks  []token
	spans []span // offsets into buf for norm/alt, resolved once buf becomes a string
	seg   []int
	a     analysis
	feat  []byte // feature keys of the corrections model
}

type span struct{ a, b, c, d int } // norm = buf[a:b], alt = buf[c:d] (c==d: none)

// FoldRune maps a rune to its lower-case, accent-free form for the letters that
// Spanish and English tweets use ("Á" → 'a', 'ñ' → 'n', the ordinals 'ª' and 'º'
// → 'a' and 'o'); other runes are lower-cased. Text matching across Pajarito
// folds with it.
func FoldRune(r rune) rune {
	if r < 128 {
		if 'A' <= r && r <= 'Z' {
			return r + 32
		}
		return r
	}
	switch r {
	case 'á', 'à', 'ä', 'â', 'ã', 'å', 'Á', 'À', 'Ä', 'Â', 'Ã', 'Å', 'ª':
		return 'a'
	case 'é', 'è', 'ë', 'ê', 'É', 'È', 'Ë', 'Ê':
		return 'e'
	case 'í', 'ì', 'ï', 'î', 'Í', 'Ì', 'Ï', 'Î':
		return 'i'
	case 'ó', 'ò', 'ö', 'ô', 'õ', 'Ó', 'Ò', 'Ö', 'Ô', 'Õ', 'º':
		return 'o'
	case 'ú', 'ù', 'ü', 'û', 'Ú', 'Ù', 'Ü', 'Û':
		return 'u'
	case 'ñ', 'Ñ':
		return 'n'
	case 'ç', 'Ç':
		return 'c'
	case 'ý', 'ÿ', 'Ý':
		return 'y'
	}
	return unicode.ToLower(r)
}

// foldString folds a whole string the way words are folded (used for lexicons and
// configuration, not on the hot path).
func foldString(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\'' || r == '’':
			continue
		case r == '-' || r == '_' || unicode.IsSpace(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(FoldRune(r))
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func isEmojiRune(r rune) bool {
	switch {
	case r >= 0x1F000 && r <= 0x1FAFF:
		return true
	case r >= 0x2600 && r <= 0x27BF:
		return true
	case r >= 0x2300 && r <= 0x23FF:
		return true
	case r >= 0x2B00 && r <= 0x2BFF:
		return true
	case r == 0x3030 || r == 0x303D || r == 0x3297 || r == 0x3299 || r == 0x2122 || r == 0x2139:
		return true
	case r >= 0x2190 && r <= 0x21FF:
		return true
	case r == 0x2934 || r == 0x2935:
		return true
	}
	return false
}

// isEmojiModifier reports runes that only modify the emoji before them.
func isEmojiModifier(r rune) bool {
	return r == 0xFE0F || r == 0xFE0E || r == 0x200D || r == 0x20E3 ||
		(r >= 0x1F3FB && r <= 0x1F3FF) || (r >= 0xE0020 && r <= 0xE007F)
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

var emoticons = map[string]float32{
	":)": 2, ":-)": 2, ":))": 2.5, ":)))": 2.5, "=)": 2, ":]": 1.5, ":d": 2.5, ":-d": 2.5, "xd": 0.5,
	";)": 0.5, ";-)": 0.5, ";d": 1.5, ":p": 1, ":-p": 1, "<3": 2.5, "<33": 2.5, "^^": 1.5, "^_^": 1.5,
	":(": -2, ":-(": -2, ":((": -2.5, ":(((": -2.5, "=(": -2, ":'(": -2.5, ":,(": -2.5, "d:": -2,
	":/": -1.5, ":-/": -1.5, ":\\": -1.5, ":s": -1.5, ":|": -1, ":-|": -1, ":@": -3, ">:(": -3,
	"</3": -2.5, "-_-": -1.5, "-.-": -1.5, "u_u": -1.5, ":o": -0.5, "o.o": -0.5, "t_t": -2, ";(": -2,
}

// emoticonAt returns the length of the longest emoticon that s starts with, or 0.
func emoticonAt(s string) int {
	best := 0
	for n := 2; n <= 4 && n <= len(s); n++ {
		if _, ok := emoticons[strings.ToLower(s[:n])]; ok {
			best = n
		}
	}
	return best
}

// tokenize splits text into tokens. Word norms are written to sc.buf and resolved
// into strings by the caller-visible tokens once the buffer is final.
func (sc *scratch) tokenize(text string, lx *lexicon) []token {
	sc.buf = sc.buf[:0]
	sc.toks = sc.toks[:0]
	sc.spans = sc.spans[:0]
	sent := 0
	i := 0
	n := len(text)
	for i < n {
		r, size := utf8.DecodeRuneInString(text[i:])
		if r == '\n' || r == '\r' {
			sent++
			i += size
			continue
		}
		if unicode.IsSpace(r) {
			i += size
			continue
		}
		// Chunk-level constructs: URLs, mentions, hashtags, e-mails, emoticons.
		j := i
		for j < n {
			r2, s2 := utf8.DecodeRuneInString(text[j:])
			if unicode.IsSpace(r2) {
				break
			}
			j += s2
		}
		chunk := text[i:j]
		if k := urlStart(chunk); k >= 0 {
			if k > 0 {
				sent = sc.scanRun(text, i, i+k, sent, lx)
			}
			sc.add(token{kind: tURL, start: i + k, end: j, sent: sent})
			i = j
			continue
		}
		if r == '@' && len(chunk) > 1 {
			k := 1
			for k < len(chunk) && (isASCIIWord(chunk[k])) {
				k++
			}
			if k > 1 {
				sc.add(token{kind: tMention, start: i, end: i + k, sent: sent})
				i += k
				continue
			}
		}
		if at := strings.IndexByte(chunk, '@'); at > 0 && strings.IndexByte(chunk[at:], '.') > 1 {
			sc.add(token{kind: tEmail, start: i, end: j, sent: sent})
			i = j
			continue
		}
		if r == '#' && len(chunk) > 1 {
			k := 1
			for k < len(chunk) {
				r2, s2 := utf8.DecodeRuneInString(chunk[k:])
				if !isWordRune(r2) && r2 != '_' {
					break
				}
				k += s2
			}
			if k > 1 {
				sc.hashtag(text, i+1, i+k, sent, lx)
				i += k
				continue
			}
		}
		if r == '&' {
			// HTML entities as X sends them (&amp; &lt; &gt;).
			if strings.HasPrefix(chunk, "&amp;") || strings.HasPrefix(chunk, "&gt;") || strings.HasPrefix(chunk, "&lt;") {
				k := strings.IndexByte(chunk, ';') + 1
				i += k
				continue
			}
		}
		sent = sc.scanRun(text, i, j, sent, lx)
		i = j
	}
	return sc.toks
}

func isASCIIWord(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// urlStart returns where a link begins inside chunk, or -1.
func urlStart(chunk string) int {
	if len(chunk) < 4 {
		return -1
	}
	if k := strings.Index(chunk, "http://"); k >= 0 {
		return k
	}
	if k := strings.Index(chunk, "https://"); k >= 0 {
		return k
	}
	if strings.HasPrefix(chunk, "www.") || strings.HasPrefix(chunk, "pic.twitter.com/") || strings.HasPrefix(chunk, "t.co/") || strings.HasPrefix(chunk, "bit.ly/") {
		return 0
	}
	return -1
}

func (sc *scratch) add(t token) {
	sc.toks = append(sc.toks, t)
	sc.spans = append(sc.spans, span{})
}

// scanRun tokenizes text[i:j], a chunk with no spaces that is not a URL, mention or
// hashtag: words, numbers, emoji, emoticons and punctuation.
func (sc *scratch) scanRun(text string, i, j, sent int, lx *lexicon) int {
	for i < j {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case isWordRune(r):
			// Emoticons that start with a letter: xD, XD, D:
			if (r == 'x' || r == 'X') && i+1 < j && text[i+1] == 'D' && (i+2 == j || !isASCIIWord(text[i+2])) && (i == 0 || !isASCIIWord(text[i-1])) {
				sc.add(token{kind: tEmoticon, start: i, end: i + 2, sent: sent, norm: "xd"})
				i += 2
				continue
			}
			if r == 'D' && i+1 < j && text[i+1] == ':' && (i == 0 || !isASCIIWord(text[i-1])) && (i+2 == j) {
				sc.add(token{kind: tEmoticon, start: i, end: i + 2, sent: sent, norm: "d:"})
				i += 2
				continue
			}
			i = sc.word(text, i, j, sent)
		case isEmojiRune(r):
			i = sc.emoji(text, i, j, sent, r, size)
		case isEmojiModifier(r):
			i += size
		default:
			i, sent = sc.symbol(text, i, j, sent, r, size)
		}
	}
	return sent
}

// emoji scans the emoji r (size bytes) at text[i], with its modifiers and
// anything joined to it with ZWJ, and returns where it ends. A skin tone on its
// own is skipped.
func (sc *scratch) emoji(text string, i, j, sent int, r rune, size int) int {
	if r >= 0x1F3FB && r <= 0x1F3FF {
		return i + size
	}
	sc.add(token{kind: tEmoji, start: i, end: i + size, sent: sent, emo: r})
	i += size
	// Skip modifiers and anything joined with ZWJ.
	for i < j {
		r2, s2 := utf8.DecodeRuneInString(text[i:])
		if r2 == 0x200D {
			i += s2
			if i < j {
				_, s3 := utf8.DecodeRuneInString(text[i:])
				i += s3
			}
			continue
		}
		if !isEmojiModifier(r2) {
			break
		}
		i += s2
	}
	return i
}

// symbol scans the rune r (size bytes) at text[i], which is neither a letter, a
// digit nor an emoji: an emoticon, punctuation or a run of sentence terminators.
// It returns where the scan ends and the sentence number after it.
func (sc *scratch) symbol(text string, i, j, sent int, r rune, size int) (int, int) {
	if k := emoticonAt(text[i:j]); k > 0 && (i+k == j || !isASCIIWord(text[i+k]) || text[i+k-1] == ')' || text[i+k-1] == '(') {
		// Avoid reading "(:" inside text and times like "10:30" (digits never start emoticons).
		sc.add(token{kind: tEmoticon, start: i, end: i + k, sent: sent, norm: strings.ToLower(text[i : i+k])})
		return i + k, sent
	}
	switch r {
	case '.', '!', '?', ';', '…', '¿', '¡', ',', ':', '(', ')', '"', '“', '”', '«', '»', '-', '/', '|', '—', '–':
		sc.add(token{kind: tPunct, start: i, end: i + size, sent: sent, emo: r})
		if r == '.' || r == '!' || r == '?' || r == ';' || r == '…' {
			// A run of terminators ends one sentence.
			k := i + size
			for k < j {
				r2, s2 := utf8.DecodeRuneInString(text[k:])
				if r2 != '.' && r2 != '!' && r2 != '?' && r2 != '…' {
					break
				}
				sc.add(token{kind: tPunct, start: k, end: k + s2, sent: sent, emo: r2})
				k += s2
			}
			return k, sent + 1
		}
	}
	return i + size, sent
}

// word scans one word (letters and digits, with inner apostrophes) starting at i.
// A leading number is split from letters that follow it ("2hrs" → "2" "hrs").
func (sc *scratch) word(text string, i, j, sent int) int {
	start := i
	r, size := utf8.DecodeRuneInString(text[i:])
	if unicode.IsDigit(r) {
		k := i + size
		for k < j {
			r2, s2 := utf8.DecodeRuneInString(text[k:])
			if unicode.IsDigit(r2) {
				k += s2
				continue
			}
			if (r2 == '.' || r2 == ',' || r2 == ':') && k+1 < j && text[k+1] >= '0' && text[k+1] <= '9' {
				k += s2
				continue
			}
			break
		}
		// Alphanumeric codes that start with a digit and mix letters (e.g. "3XK9PQ")
		// stay whole; a number followed by a unit ("2hrs", "40min") is split.
		if k < j {
			r2, _ := utf8.DecodeRuneInString(text[k:])
			if unicode.IsLetter(r2) {
				e := k
				digitsAfter := false
				for e < j {
					r3, s3 := utf8.DecodeRuneInString(text[e:])
					if unicode.IsDigit(r3) {
						digitsAfter = true
					} else if !unicode.IsLetter(r3) {
						break
					}
					e += s3
				}
				if digitsAfter {
					return sc.letters(text, i, j, sent)
				}
			}
		}
		a := len(sc.buf)
		sc.buf = append(sc.buf, text[i:k]...)
		sc.toks = append(sc.toks, token{kind: tNum, start: start, end: k, sent: sent})
		sc.spans = append(sc.spans, span{a: a, b: len(sc.buf)})
		return k
	}
	return sc.letters(text, i, j, sent)
}

// letters scans a word of letters and digits and writes its folded forms.
func (sc *scratch) letters(text string, i, j, sent int) int {
	start := i
	a := len(sc.buf)
	var prev rune = -1
	run := 0
	upper, lettersN := 0, 0
	elong := false
	for i < j {
		r, size := utf8.DecodeRuneInString(text[i:])
		if r == '\'' || r == '’' {
			// Inner apostrophe: "don't" → "dont". Not at the end.
			if i+size < j {
				r2, _ := utf8.DecodeRuneInString(text[i+size:])
				if unicode.IsLetter(r2) {
					i += size
					continue
				}
			}
			break
		}
		if !isWordRune(r) {
			break
		}
		if unicode.IsLetter(r) {
			lettersN++
			if unicode.IsUpper(r) {
				upper++
			}
		}
		f := FoldRune(r)
		if f == prev {
			run++
		} else {
			run = 1
			prev = f
		}
		if run >= 3 && unicode.IsLetter(r) {
			elong = true
		}
		sc.buf = utf8.AppendRune(sc.buf, f)
		i += size
	}
	b := len(sc.buf)
	t := token{kind: tWord, start: start, end: i, sent: sent}
	t.caps = lettersN >= 2 && upper == lettersN
	sp := span{a: a, b: b}
	if elong {
		t.elong = true
		// Rewrite: norm with runs capped at 2, alt with runs capped at 1.
		w := string(sc.buf[a:b])
		sc.buf = sc.buf[:a]
		sc.buf = squash(sc.buf, w, 2)
		sp.b = len(sc.buf)
		sp.c = len(sc.buf)
		sc.buf = squash(sc.buf, w, 1)
		sp.d = len(sc.buf)
	}
	sc.toks = append(sc.toks, t)
	sc.spans = append(sc.spans, sp)
	if i == start {
		// Not a word after all (lone apostrophe); skip one byte to progress.
		sc.toks = sc.toks[:len(sc.toks)-1]
		sc.spans = sc.spans[:len(sc.spans)-1]
		_, size := utf8.DecodeRuneInString(text[i:])
		return i + size
	}
	return i
}

// squash appends w to dst with runs of equal letters longer than max cut to max.
func squash(dst []byte, w string, max int) []byte {
	var prev rune = -1
	run := 0
	for _, r := range w {
		if r == prev {
			run++
		} else {
			run = 1
			prev = r
		}
		if run > max && unicode.IsLetter(r) {
			continue
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// hashtag splits the body of a hashtag (text[i:j], without '#') into words:
// camelCase boundaries first, then dictionary segmentation of lower-case runs.
func (sc *scratch) hashtag(text string, i, j, sent int, lx *lexicon) {
	// Split at camelCase boundaries, digits and underscores.
	pieceStart := i
	var prevUpper, prevLower, prevDigit bool
	k := i
	flush := func(a, b int) {
		if a >= b {
			return
		}
		sc.hashPiece(text, a, b, sent, lx)
	}
	for k < j {
		r, size := utf8.DecodeRuneInString(text[k:])
		isU, isL, isD := unicode.IsUpper(r), unicode.IsLower(r), unicode.IsDigit(r)
		if r == '_' {
			flush(pieceStart, k)
			pieceStart = k + size
			prevUpper, prevLower, prevDigit = false, false, false
			k += size
			continue
		}
		if k > pieceStart {
			switch {
			case isU && prevLower, isD && !prevDigit, !isD && prevDigit:
				flush(pieceStart, k)
				pieceStart = k
			case isL && prevUpper:
				// "USAirways": the last capital starts the new word.
				_, ps := utf8.DecodeLastRuneInString(text[pieceStart:k])
				if k-ps > pieceStart {
					flush(pieceStart, k-ps)
					pieceStart = k - ps
				}
			}
		}
		prevUpper, prevLower, prevDigit = isU, isL, isD
		k += size
	}
	flush(pieceStart, j)
}

// hashPiece emits the words of one camelCase piece of a hashtag, segmenting long
// lower-case runs with the lexicon ("nuncamas" → "nunca" "mas").
func (sc *scratch) hashPiece(text string, a, b, sent int, lx *lexicon) {
	first := len(sc.toks)
	sc.letters(text, a, b, sent)
	if len(sc.toks) == first {
		return
	}
	t := &sc.toks[first]
	t.hashtag = true
	sp := sc.spans[first]
	w := string(sc.buf[sp.a:sp.b])
	if t.elong || len(w) < 6 || len(w) > 40 || lx.known(w) {
		return
	}
	words := lx.segment(w, &sc.seg)
	if len(words) < 2 {
		return
	}
	// Replace the single token by its segments.
	sc.toks = sc.toks[:first]
	sc.spans = sc.spans[:first]
	for _, wd := range words {
		na := len(sc.buf)
		sc.buf = append(sc.buf, wd...)
		sc.toks = append(sc.toks, token{kind: tWord, start: a, end: b, sent: sent, hashtag: true})
		sc.spans = append(sc.spans, span{a: na, b: len(sc.buf)})
	}
}

// resolve turns the spans into strings backed by one copy of the buffer.
func (sc *scratch) resolve() []token {
	s := string(sc.buf)
	for k := range sc.toks {
		sp := sc.spans[k]
		if sp.b > sp.a {
			sc.toks[k].norm = s[sp.a:sp.b]
		}
		if sp.d > sp.c {
			sc.toks[k].alt = s[sp.c:sp.d]
		}
	}
	return sc.toks
}
