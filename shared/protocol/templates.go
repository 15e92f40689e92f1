package protocol

import (
	"hash/fnv"
	"regexp"
	"strings"
	"unicode"
)

var placeholderRE = regexp.MustCompile(`\{[a-z_]*\}`)

// all returns every text of the template, in every tone and language.
func (t Template) all() []string {
	var out []string
	for _, k := range sortedKeys(t.Text) {
		out = append(out, t.Text[k])
	}
	for _, tone := range sortedKeys(t.Tones) {
		for _, k := range sortedKeys(t.Tones[tone]) {
			out = append(out, t.Tones[tone][k])
		}
	}
	return out
}

// pick returns the text of the first tone of tones the template has in lang (or,
// failing that, in fallback), else its plain text; id names it
// ("<tone>.<lang>" or "<lang>").
func (t Template) pick(tones []string, lang, fallback string) (text, id, usedLang string, ok bool) {
	for _, l := range []string{lang, fallback} {
		for _, tone := range tones {
			if s := t.Tones[tone][l]; s != "" {
				return s, tone + "." + l, l, true
			}
		}
		if s := t.Text[l]; s != "" {
			return s, l, l, true
		}
	}
	return "", "", "", false
}

// values fills the placeholders of a reply.
type values struct {
	handle, firstName, hours, channels, signature, topic, statementTime string
}

// render fills text's placeholders. The signature is appended when the text does
// not place it. When the first name is unknown, the punctuation around its place is
// tidied ("¡Hola, {first_name}!" becomes "¡Hola!").
func render(text string, v values) string {
	signed := strings.Contains(text, "{signature}")
	out := placeholderRE.ReplaceAllStringFunc(text, func(p string) string {
		switch p {
		case "{handle}":
			if v.handle == "" {
				return ""
			}
			return "@" + v.handle
		case "{first_name}":
			return v.firstName
		case "{hours}":
			return v.hours
		case "{channels}":
			return v.channels
		case "{signature}":
			return v.signature
		case "{topic}":
			return v.topic
		case "{statement_time}":
			return v.statementTime
		}
		return p
	})
	if v.firstName == "" || v.handle == "" {
		out = tidy(out)
	}
	if !signed && v.signature != "" {
		out = strings.TrimRight(out, " ") + " " + v.signature
	}
	return strings.TrimSpace(out)
}

var (
	tidyCommaRE = regexp.MustCompile(`[ \t]*,[ \t]*([.!?:;])`)
	tidySpaceRE = regexp.MustCompile(`[ \t]+([.,!?:;])`)
	tidyDupRE   = regexp.MustCompile(`[ \t]{2,}`)
)

// tidy removes the punctuation an empty placeholder leaves behind.
func tidy(s string) string {
	s = tidyCommaRE.ReplaceAllString(s, "$1")
	s = tidySpaceRE.ReplaceAllString(s, "$1")
	return tidyDupRE.ReplaceAllString(s, " ")
}

// firstName returns a display name's first word when it looks like a name: letters
// (with inner hyphens or apostrophes), 2 to 20 of them. Emoji, handles and digits
// are not names.
func firstName(display string) string {
	words := strings.Fields(display)
	if len(words) == 0 {
		return ""
	}
	f := strings.Trim(words[0], ".,;:!?¡¿()[]\"'«»|-_")
	n := 0
	for _, r := range f {
		switch {
		case unicode.IsLetter(r):
			n++
		case r == '-' || r == '\'' || r == '’':
		default:
			return "" // the first word is not a name: do not guess
		}
	}
	if n < 2 || n > 20 {
		return ""
	}
	return f
}

// refAlphabet spells references: Crockford's base 32 in lower case, no i, l, o
// or u to misread. Lower case and no word such as "ref." before it, so that the
// reply linter does not take the reference for a booking code (PII).
const refAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// Distinct returns text made distinct by a short reference drawn from seed
// (" (7k2q9x)"), placed before the signature when the text ends with one
// ("… por DM. (7k2q9x) ^Equipo"). X refuses a post whose text the account has
// posted already, so an automatic reply that many customers get word for word
// (an acknowledgement, the crisis template) goes out with one when X refuses it
// as duplicate content; the seed is the reply's, so that every reply gets its
// own.
func Distinct(text, seed string) string {
	h := fnv.New64a()
	h.Write([]byte(seed))
	n := h.Sum64()
	ref := make([]byte, 6) // 30 bits: 1,000 replies of one text share a reference with odds of 1 in 2,000
	for i := range ref {
		ref[i] = refAlphabet[n%32]
		n /= 32
	}
	tag := "(" + string(ref) + ")"
	text = strings.TrimSpace(text)
	if i := strings.LastIndex(text, " ^"); i >= 0 {
		return text[:i] + " " + tag + text[i:]
	}
	return text + " " + tag
}
