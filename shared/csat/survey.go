package csat

import "strings"

// surveys are the survey texts by language. Each names the ends of the scale
// with the words Parse reads as those scores, and an opt-out Parse recognises.
var surveys = map[string]string{
	"es": "¿Del 1 al 5, cómo te atendimos? Responde con un número: 1 es muy mal y 5, muy bien. " +
		"Si no quieres más encuestas, responde «no más encuestas».",
	"en": "From 1 to 5, how did we do? Reply with a number: 1 is very bad and 5 is very good. " +
		"To get no more surveys, reply \"stop\".",
}

// Survey returns the survey text in lang ("es", "en"; others fall back to
// fallback), signed with signature (may be empty). Regions do not matter
// ("es-MX" is "es"); when fallback has no survey either, it is in English.
// The signature follows the text after a space, as the protocol signs replies.
func Survey(lang, fallback, signature string) string {
	text, ok := surveys[primary(lang)]
	if !ok {
		text, ok = surveys[primary(fallback)]
	}
	if !ok {
		text = surveys["en"]
	}
	if signature = strings.TrimSpace(signature); signature != "" {
		text += " " + signature
	}
	return text
}

// primary returns a language tag's language, in lower case: "es-MX" → "es".
func primary(tag string) string {
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	return strings.ToLower(strings.TrimSpace(tag))
}
