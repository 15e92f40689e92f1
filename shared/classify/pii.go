package classify

import (
	"strings"
)

// findPII scans the text for personal data. Digits inside links are ignored.
func (a *analysis) findPII(out []PII) []PII {
	out = a.emails(out)
	// Booking cues: where the words that announce a locator are.
	cues := a.bookingCues()
	out = a.numbers(out, cues)
	// Booking locators (alphanumeric codes) near a cue word.
	out = a.locators(out, cues)
	sortPII(out)
	return out
}

// inURL reports whether byte offset i is inside a link.
func (a *analysis) inURL(i int) bool {
	for k := range a.toks {
		t := &a.toks[k]
		if t.kind == tURL && t.start <= i && i < t.end {
			return true
		}
	}
	return false
}

// emails appends the e-mail addresses.
func (a *analysis) emails(out []PII) []PII {
	text := a.text
	for i := 0; i < len(text); i++ {
		if text[i] != '@' || a.inURL(i) {
			continue
		}
		l, r, ok := emailAround(text, i)
		if !ok {
			continue
		}
		out = append(out, PII{Kind: PIIEmail, Start: l, End: r, Masked: maskEmail(text[l:r])})
		i = r
	}
	return out
}

// emailAround returns the bounds [l, r) of the e-mail address whose '@' is at
// text[i], and whether there is one: a local part, and a domain with a dot and a
// top-level domain of two or more letters.
func emailAround(text string, i int) (int, int, bool) {
	l := i
	for l > 0 && isEmailLocal(text[l-1]) {
		l--
	}
	for l < i && (text[l] == '.' || text[l] == '-') {
		l++
	}
	r := i + 1
	dots := 0
	lastDot := -1
	for r < len(text) && (isAlnum(text[r]) || text[r] == '-' || text[r] == '.') {
		if text[r] == '.' {
			dots++
			lastDot = r
		}
		r++
	}
	for r > i+1 && (text[r-1] == '.' || text[r-1] == '-') {
		if text[r-1] == '.' {
			dots--
		}
		r--
	}
	if lastDot >= r {
		lastDot = strings.LastIndexByte(text[i+1:r], '.')
		if lastDot >= 0 {
			lastDot += i + 1
		}
	}
	if l == i || dots < 1 || lastDot < 0 || r-lastDot-1 < 2 || lastDot == i+1 {
		return l, r, false
	}
	for k := lastDot + 1; k < r; k++ {
		if !isLetter(text[k]) {
			return l, r, false
		}
	}
	return l, r, true
}

// numbers appends the numbers that are personal data: cards, phones, ids, IBANs.
func (a *analysis) numbers(out []PII, cues []int) []PII {
	text := a.text
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case isLetter(c) && (i == 0 || !isAlnum(text[i-1])):
			// IBAN (two letters, two digits) or NIE (X/Y/Z + 7 digits + letter).
			if p, end, ok := a.ibanAt(i); ok && !a.inURL(i) {
				out = append(out, p)
				i = end
				continue
			}
			if p, end, ok := nieAt(text, i); ok && !a.inURL(i) {
				out = append(out, p)
				i = end
				continue
			}
			i++
		case (isDigit(c) || (c == '+' && i+1 < len(text) && isDigit(text[i+1])) || (c == '(' && i+1 < len(text) && isDigit(text[i+1]))) && (i == 0 || !isAlnum(text[i-1])) && !a.inURL(i):
			end, p, ok := a.numberAt(i, cues)
			if ok {
				out = append(out, p)
			}
			i = end
		default:
			i++
		}
	}
	return out
}

func sortPII(p []PII) {
	for i := 1; i < len(p); i++ {
		for j := i; j > 0 && p[j].Start < p[j-1].Start; j-- {
			p[j], p[j-1] = p[j-1], p[j]
		}
	}
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }
func isAlnum(c byte) bool  { return isDigit(c) || isLetter(c) || c >= 0x80 }
func isEmailLocal(c byte) bool {
	return isDigit(c) || isLetter(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

// numberAt reads a number written with spaces, dashes, dots or brackets from i
// and says whether it is a card, a phone, a DNI or a booking number.
func (a *analysis) numberAt(i int, cues []int) (int, PII, bool) {
	text := a.text
	var digits [24]byte
	plus := text[i] == '+'
	j := i
	if plus {
		j++
	}
	end, nd, groups, seps := readNumber(text, j, &digits)
	if nd > len(digits) {
		return end, PII{}, false
	}
	d := string(digits[:nd])
	// A DNI: 8 digits then a letter ("12345678Z", "12345678-Z").
	if nd == 8 && groups <= 2 {
		if k := dniLetterAt(text, end); k >= 0 {
			if dniLetter(d) == upper(text[k]) {
				return k + 1, PII{Kind: PIIDNI, Start: i, End: k + 1, Masked: mask(text[i:k+1], 2)}, true
			}
			return k + 1, PII{}, false
		}
	}
	// A number followed by letters is a code, not a phone ("3XK9PQ", "900km").
	if end < len(text) && isLetter(text[end]) {
		return end, PII{}, false
	}
	raw := text[i:end]
	// Near a booking cue, a long number is a booking/confirmation number.
	if nd >= 6 && nd <= 13 && !plus && a.cueNear(i, cues) {
		return end, PII{Kind: PIIBooking, Start: i, End: end, Masked: mask(raw, 2)}, true
	}
	if nd >= 13 && nd <= 19 && !plus && luhn(d) && d[0] >= '2' && d[0] <= '6' {
		return end, PII{Kind: PIICard, Start: i, End: end, Masked: mask(raw, 4)}, true
	}
	if isPhone(d, plus, groups, seps, raw) {
		return end, PII{Kind: PIIPhone, Start: i, End: end, Masked: mask(raw, 3)}, true
	}
	return end, PII{}, false
}

// readNumber reads the digit groups of a number from j, with one separator (or
// ") " / " (") between groups. It stores the digits in digits as far as they fit
// and returns where the last digit ends, how many digits there are, and how many
// groups and separators.
func readNumber(text string, j int, digits *[24]byte) (end, nd, groups, seps int) {
	lastDigit := j
	inGroup := false
	for j < len(text) {
		c := text[j]
		if isDigit(c) {
			if nd < len(digits) {
				digits[nd] = c
			}
			nd++
			if !inGroup {
				groups++
				inGroup = true
			}
			j++
			lastDigit = j
			continue
		}
		if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') && j+1 < len(text) {
			// One separator (or ") " / " (") between digit groups.
			k := j + 1
			if k < len(text) && (text[k] == ' ' || text[k] == '(' || text[k] == '-') && (c == ')' || c == ' ') {
				k++
			}
			if k < len(text) && isDigit(text[k]) {
				seps++
				inGroup = false
				j = k
				continue
			}
		}
		break
	}
	return lastDigit, nd, groups, seps
}

// dniLetterAt returns where the letter that ends a DNI is, right after its
// digits at end or after a dash or space; or -1.
func dniLetterAt(text string, end int) int {
	k := end
	if k < len(text) && (text[k] == '-' || text[k] == ' ') {
		k++
	}
	if k < len(text) && isLetter(text[k]) && (k+1 == len(text) || !isAlnum(text[k+1])) {
		return k
	}
	return -1
}

// isPhone recognises Spanish, Mexican, Argentinian and North American numbers,
// and any number in international format.
func isPhone(d string, plus bool, groups, seps int, raw string) bool {
	if plus {
		return isIntlPhone(d)
	}
	if strings.HasPrefix(d, "00") && len(d) > 2 && d[2] != '0' {
		return isIntlPhone(d[2:])
	}
	return isLocalPhone(d, groups, raw)
}

// isIntlPhone recognises the digits of a number in international format, after
// the + or 00.
func isIntlPhone(d string) bool {
	n := len(d)
	switch {
	case strings.HasPrefix(d, "34"):
		return n == 11 && strings.ContainsRune("6789", rune(d[2]))
	case strings.HasPrefix(d, "52"):
		return n == 12 || n == 13
	case strings.HasPrefix(d, "54"):
		return n >= 11 && n <= 13
	case strings.HasPrefix(d, "1"):
		return n == 11 && nanp(d[1:]) && !tollFree(d[1:])
	}
	return n >= 8 && n <= 15
}

// isLocalPhone recognises a number written without its country code.
func isLocalPhone(d string, groups int, raw string) bool {
	n := len(d)
	switch {
	case n == 9:
		// Spain: mobiles 6/7, landlines 8/9; 80x/90x are company service lines.
		if !strings.ContainsRune("6789", rune(d[0])) {
			return false
		}
		if d[0] == '8' || d[0] == '9' {
			if d[1] == '0' {
				return false
			}
		}
		return groups == 1 || groups == 3 || groups == 4 || groups == 2
	case n == 10:
		// North America (NANP) or Mexico, written as a phone: (555) 123-4567,
		// 555-123-4567, 55 1234 5678; Argentina with trunk 0 (011 4123-4567).
		if d[0] == '0' {
			return groups >= 2
		}
		if groups < 2 && !strings.ContainsAny(raw, "()") {
			return false
		}
		if tollFree(d) {
			return false // a company's toll-free line, not the customer's
		}
		return nanp(d) || groups == 3
	case n == 11:
		// Argentina: 0 + area + number (011 15-4123-4567 has 12); 15 mobiles.
		if d[0] == '0' {
			return groups >= 2
		}
		if d[0] == '1' && nanp(d[1:]) {
			return groups >= 2 && !tollFree(d[1:])
		}
	case n == 12 && d[0] == '0':
		return groups >= 2
	}
	return false
}

// nanp reports whether a 10-digit number can be a North American number (area
// codes start with 2-9; exchanges are not checked, so 555-123-4567 passes).
func nanp(d string) bool {
	return len(d) == 10 && d[0] >= '2'
}

// tollFree reports North American toll-free numbers (800, 888, 877, …): company
// lines that customers quote, not their own numbers.
func tollFree(d string) bool {
	switch d[:3] {
	case "800", "833", "844", "855", "866", "877", "888":
		return true
	}
	return false
}

// luhn reports whether the digits pass the Luhn check.
func luhn(d string) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		x := int(d[i] - '0')
		if double {
			x *= 2
			if x > 9 {
				x -= 9
			}
		}
		sum += x
		double = !double
	}
	return sum%10 == 0
}

const dniLetters = "TRWAGMYFPDXBNJZSQVHLCKE"

// dniLetter returns the check letter of an 8-digit DNI number.
func dniLetter(d string) byte {
	n := 0
	for i := 0; i < len(d); i++ {
		n = (n*10 + int(d[i]-'0')) % 23
	}
	return dniLetters[n]
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 32
	}
	return c
}

// nieAt reads a NIE (X, Y or Z, seven digits, a check letter) at i.
func nieAt(text string, i int) (PII, int, bool) {
	c := upper(text[i])
	if c != 'X' && c != 'Y' && c != 'Z' {
		return PII{}, 0, false
	}
	j := i + 1
	if j < len(text) && text[j] == '-' {
		j++
	}
	var digits [8]byte
	digits[0] = "012"[c-'X']
	k := 0
	for k < 7 && j+k < len(text) && isDigit(text[j+k]) {
		digits[1+k] = text[j+k]
		k++
	}
	if k != 7 {
		return PII{}, 0, false
	}
	j += 7
	if j < len(text) && (text[j] == '-' || text[j] == ' ') {
		j++
	}
	if j >= len(text) || !isLetter(text[j]) || (j+1 < len(text) && isAlnum(text[j+1])) {
		return PII{}, 0, false
	}
	if dniLetter(string(digits[:])) != upper(text[j]) {
		return PII{}, 0, false
	}
	return PII{Kind: PIINIE, Start: i, End: j + 1, Masked: mask(text[i:j+1], 2)}, j + 1, true
}

// ibanLengths are the IBAN lengths of the countries customers most often write.
var ibanLengths = map[string]int{
	"ES": 24, "AD": 24, "PT": 25, "FR": 27, "DE": 22, "IT": 27, "GB": 22, "IE": 22, "NL": 18,
	"BE": 16, "LU": 20, "CH": 21, "AT": 20, "PL": 28, "SE": 24, "DK": 18, "NO": 15, "FI": 18,
	"GR": 27, "MX": 18, "BR": 29, "CR": 22, "DO": 28, "GT": 28, "SV": 28, "MT": 31, "MC": 27,
	"RO": 24, "CZ": 24, "HU": 28, "SK": 24, "SI": 19, "HR": 21, "BG": 22, "CY": 28, "LT": 20,
	"LV": 21, "EE": 20, "IS": 26, "LI": 21, "SM": 27, "GI": 23, "TR": 26, "AE": 23, "SA": 24,
}

// ibanAt reads an IBAN (possibly in groups of four) at i and checks it (mod 97).
func (a *analysis) ibanAt(i int) (PII, int, bool) {
	text := a.text
	if i+4 > len(text) || !isLetter(text[i+1]) || !isDigit(text[i+2]) || !isDigit(text[i+3]) {
		return PII{}, 0, false
	}
	cc := []byte{upper(text[i]), upper(text[i+1])}
	want, ok := ibanLengths[string(cc)]
	if !ok {
		return PII{}, 0, false
	}
	var buf [34]byte
	n := 0
	j := i
	end := i
	for j < len(text) && n < want {
		c := text[j]
		switch {
		case isAlnum(c) && c < 0x80:
			buf[n] = upper(c)
			n++
			j++
			end = j
		case (c == ' ' || c == '-') && j+1 < len(text) && isAlnum(text[j+1]) && n > 0:
			j++
		default:
			j = len(text)
		}
	}
	if n != want || (end < len(text) && isAlnum(text[end])) {
		return PII{}, 0, false
	}
	if !ibanValid(buf[:n]) {
		return PII{}, 0, false
	}
	return PII{Kind: PIIIBAN, Start: i, End: end, Masked: mask(text[i:end], 4)}, end, true
}

// ibanValid checks the mod-97 rule on an upper-case IBAN without spaces.
func ibanValid(s []byte) bool {
	if len(s) < 15 {
		return false
	}
	rem := 0
	feed := func(c byte) bool {
		switch {
		case isDigit(c):
			rem = (rem*10 + int(c-'0')) % 97
		case 'A' <= c && c <= 'Z':
			v := int(c-'A') + 10
			rem = (rem*100 + v) % 97
		default:
			return false
		}
		return true
	}
	for _, c := range s[4:] {
		if !feed(c) {
			return false
		}
	}
	for _, c := range s[:4] {
		if !feed(c) {
			return false
		}
	}
	return rem == 1
}

// bookingCueWords announce a booking reference.
var bookingCueWords = map[string]bool{
	"localizador": true, "localizadores": true, "reserva": true, "reservas": true, "pnr": true,
	"booking": true, "confirmation": true, "conf": true, "locator": true, "reference": true,
	"ref": true, "referencia": true, "record": true, "codigo": true, "code": true, "pedido": true,
	"order": true, "expediente": true, "reservation": true, "itinerary": true, "ticket": true,
	"billete": true, "ticketnumber": true, "incidencia": true, "pir": true, "claim": true,
}

// bookingCues returns the word positions of booking cue words.
func (a *analysis) bookingCues() []int {
	var out []int
	for i, k := range a.ws {
		t := &a.toks[k]
		if bookingCueWords[t.norm] {
			out = append(out, i)
		}
	}
	return out
}

// cueNear reports whether a cue word is at most four words before byte offset
// off, or two words after it.
func (a *analysis) cueNear(off int, cues []int) bool {
	if len(cues) == 0 {
		return false
	}
	pos := -1
	for i, k := range a.ws {
		if a.toks[k].start >= off {
			pos = i
			break
		}
	}
	if pos < 0 {
		pos = len(a.ws)
	}
	for _, c := range cues {
		if (c < pos && pos-c <= 4) || (c >= pos && c-pos <= 2) {
			return true
		}
	}
	return false
}

// locators finds booking codes: 5 to 8 letters and digits next to a cue word
// (upper case or with digits), or without a cue a 6-character upper-case code
// that mixes letters and digits the way reservation systems do. Flight numbers
// (PJ2471, UA647) and ordinary words never count.
func (a *analysis) locators(out []PII, cues []int) []PII {
	for i, k := range a.ws {
		t := &a.toks[k]
		raw := a.text[t.start:t.end]
		n := len(raw)
		if t.hashtag || n < 5 || n > 8 || t.kind == tNum {
			continue
		}
		letters, digits, upperN, ascii := codeShape(raw)
		if !ascii || letters == 0 || bookingCueWords[t.norm] {
			continue
		}
		if flightNumber(raw) && !a.cueRightBefore(i, cues) {
			// PJ2471, UA647: flight numbers, unless a booking cue names them
			// ("localizador ABC123") and no flight word does.
			continue
		}
		if found(out, t.start) {
			continue
		}
		hasCue := a.cueAround(i, cues)
		if digits == 0 && (a.lx.known(t.norm) || a.allCaps) {
			continue // a word, shouted or not ("REALLY", "NORMAL")
		}
		if tailNumber(raw) {
			continue // an aircraft registration (N614SW)
		}
		isCode := false
		switch {
		case hasCue && digits > 0:
			isCode = true
		case hasCue:
			// Letters only: an upper-case 6-letter code right after its cue
			// ("localizador: ABCDEF", "booking ref is QWERTY"), never a word further
			// away ("mi reserva para MADRID").
			isCode = upperN == letters && n == 6 && a.cueAdjacent(i, cues)
		default:
			isCode = n == 6 && upperN == letters && digits >= 2 && letters >= 2 && mixed(raw)
		}
		if isCode {
			out = append(out, PII{Kind: PIIBooking, Start: t.start, End: t.end, Masked: mask(raw, 2)})
		}
	}
	return out
}

// codeShape counts the letters, digits and upper-case letters of raw, and
// reports whether it is all ASCII letters and digits.
func codeShape(raw string) (letters, digits, upperN int, ascii bool) {
	ascii = true
	for j := 0; j < len(raw); j++ {
		c := raw[j]
		switch {
		case isDigit(c):
			digits++
		case 'A' <= c && c <= 'Z':
			letters++
			upperN++
		case 'a' <= c && c <= 'z':
			letters++
		default:
			ascii = false
		}
	}
	return letters, digits, upperN, ascii
}

// found reports whether byte offset off is inside personal data already found.
func found(out []PII, off int) bool {
	for _, p := range out {
		if p.Start <= off && off < p.End {
			return true
		}
	}
	return false
}

// cueAround reports whether a booking cue is at most four words before word i or
// two words after it, in the same sentence.
func (a *analysis) cueAround(i int, cues []int) bool {
	for _, c := range cues {
		if ((c < i && i-c <= 4) || (c > i && c-i <= 2)) && a.sentOf(c) == a.sentOf(i) {
			return true
		}
	}
	return false
}

// flightNumber reports whether s looks like a flight number: a two-character
// airline code (letters, or a letter and a digit) then 1 to 4 digits and an
// optional letter ("PJ2471", "UA647", "U21234", "B6123"), or three letters and
// digits ("IBE3456").
func flightNumber(s string) bool {
	u := strings.ToUpper(s)
	try := func(prefix int) bool {
		if len(u) <= prefix {
			return false
		}
		rest := u[prefix:]
		if len(rest) > 1 && isLetter(rest[len(rest)-1]) {
			rest = rest[:len(rest)-1]
		}
		if len(rest) < 1 || len(rest) > 4 {
			return false
		}
		for i := 0; i < len(rest); i++ {
			if !isDigit(rest[i]) {
				return false
			}
		}
		return true
	}
	if len(u) >= 3 && isLetter(u[0]) && isLetter(u[1]) && try(2) {
		return true
	}
	if len(u) >= 3 && ((isLetter(u[0]) && isDigit(u[1])) || (isDigit(u[0]) && isLetter(u[1]))) && try(2) {
		return true
	}
	if len(u) >= 4 && isLetter(u[0]) && isLetter(u[1]) && isLetter(u[2]) && try(3) {
		return true
	}
	return false
}

// mixed reports whether letters and digits alternate at least twice ("X7K2PQ"),
// unlike words followed by a number ("ABC123" is still a code; "VUELO1" is not 6-mixed).
func mixed(s string) bool {
	changes := 0
	for i := 1; i < len(s); i++ {
		if isDigit(s[i]) != isDigit(s[i-1]) {
			changes++
		}
	}
	return changes >= 2
}

func mask(s string, keep int) string {
	var b strings.Builder
	var tail []byte
	for i := len(s) - 1; i >= 0 && len(tail) < keep; i-- {
		if isAlnum(s[i]) {
			tail = append(tail, s[i])
		}
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if isAlnum(s[i]) {
			n++
		}
	}
	for i := 0; i < n-len(tail); i++ {
		b.WriteByte('*')
	}
	for i := len(tail) - 1; i >= 0; i-- {
		b.WriteByte(tail[i])
	}
	return b.String()
}

func maskEmail(s string) string {
	at := strings.IndexByte(s, '@')
	if at <= 0 {
		return mask(s, 2)
	}
	return s[:1] + strings.Repeat("*", max(at-1, 1)) + s[at:]
}

// flightWords announce a flight number.
var flightWords = map[string]bool{"vuelo": true, "vuelos": true, "flight": true, "flights": true, "flt": true, "flight#": true, "fl": true}

// cueRightBefore reports whether a booking cue is one or two words before word i
// with no flight word in between or right before it.
func (a *analysis) cueRightBefore(i int, cues []int) bool {
	for j := i - 1; j >= 0 && j >= i-2; j-- {
		n := a.toks[a.ws[j]].norm
		if flightWords[n] {
			return false
		}
		for _, c := range cues {
			if c == j {
				return true
			}
		}
	}
	return false
}

// connectors may sit between a booking cue and its code.
var connectors = map[string]bool{
	"es": true, "is": true, "number": true, "numero": true, "num": true, "no": true, "n": true,
	"code": true, "codigo": true, "de": true, "del": true, "was": true, "my": true, "mi": true,
	"su": true, "your": true, "the": true, "el": true, "la": true, "nr": true,
}

// cueAdjacent reports whether word i follows a booking cue with only connector
// words in between.
func (a *analysis) cueAdjacent(i int, cues []int) bool {
	for j := i - 1; j >= 0 && j >= i-4 && a.sentOf(j) == a.sentOf(i); j-- {
		n := a.toks[a.ws[j]].norm
		if bookingCueWords[n] {
			return true
		}
		if !connectors[n] {
			return false
		}
	}
	return false
}

// tailNumber reports US aircraft registrations: N, 1 to 5 digits, up to two letters.
func tailNumber(s string) bool {
	u := strings.ToUpper(s)
	if len(u) < 3 || u[0] != 'N' || !isDigit(u[1]) {
		return false
	}
	i := 1
	for i < len(u) && isDigit(u[i]) {
		i++
	}
	if i-1 > 5 {
		return false
	}
	rest := u[i:]
	if len(rest) > 2 {
		return false
	}
	for j := 0; j < len(rest); j++ {
		if !isLetter(rest[j]) {
			return false
		}
	}
	return true
}
