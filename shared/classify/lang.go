package classify

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// normLang turns X's tag into what Result.Lang shows and the lexicon to read the
// text with: "es-419" → "es".
func normLang(tag string) (string, int) {
	t := strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(t, "-_"); i > 0 {
		t = t[:i]
	}
	switch t {
	case "es":
		return "es", langES
	case "en":
		return "en", langEN
	case "", "und", "zxx", "qme", "qht", "qam", "qst", "art":
		return "", langXX
	}
	return t, langXX
}

// detectLang decides between Spanish and English from function words, the words
// of each lexicon and Spanish-only characters. It returns "und" when neither wins.
func (a *analysis) detectLang() (string, int, string) {
	var es, en float32
	var esW, enW string
	for _, k := range a.ws {
		t := &a.toks[k]
		if t.kind != tWord {
			continue
		}
		w := t.norm
		lw := a.lx.words[w]
		if lw == nil && t.alt != "" {
			w = t.alt
			lw = a.lx.words[w]
		}
		if lw == nil {
			continue
		}
		inES, inEN := lw.lang[langES].set, lw.lang[langEN].set
		if inES == inEN {
			continue
		}
		weight := float32(0.6)
		if inES && lw.lang[langES].flags&fStop != 0 || inEN && lw.lang[langEN].flags&fStop != 0 {
			weight = 1
		}
		if inES {
			es += weight
			if esW == "" {
				esW = w
			}
		} else {
			en += weight
			if enW == "" {
				enW = w
			}
		}
	}
	// Characters only Spanish uses.
	chars := 0
	for i := 0; i < len(a.text); {
		r, size := utf8.DecodeRuneInString(a.text[i:])
		switch r {
		case 'ñ', 'Ñ', '¿', '¡', 'á', 'é', 'í', 'ó', 'ú', 'Á', 'É', 'Í', 'Ó', 'Ú':
			chars++
		}
		i += size
	}
	es += float32(min(chars, 3)) * 0.7
	switch {
	case es == 0 && en == 0:
		return "und", langXX, "no Spanish or English words"
	case es > en*1.5 && es >= 0.6:
		return "es", langES, fmt.Sprintf("Spanish evidence %.1f vs English %.1f%s", es, en, example(esW, chars))
	case en > es*1.5 && en >= 0.6:
		return "en", langEN, fmt.Sprintf("English evidence %.1f vs Spanish %.1f%s", en, es, example(enW, 0))
	}
	if es >= en {
		return "und", langXX, fmt.Sprintf("mixed: Spanish %.1f, English %.1f", es, en)
	}
	return "und", langXX, fmt.Sprintf("mixed: English %.1f, Spanish %.1f", en, es)
}

func example(w string, chars int) string {
	s := ""
	if w != "" {
		s = " (e.g. '" + w + "')"
	}
	if chars > 0 {
		s += fmt.Sprintf("; %d Spanish character(s)", chars)
	}
	return s
}
