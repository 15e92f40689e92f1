package xfake

import (
	"strings"
	"testing"

	"github.com/pajarito-care/pajarito/shared/care"
)

// TestParseIDAgreesWithCare: the fake holds exactly the ids care.IsID calls X
// ids, so that what the webhook stores the fake can answer, and what the fake
// leaves out the webhook quarantines.
func TestParseIDAgreesWithCare(t *testing.T) {
	for _, id := range []string{
		"1", "2089742284874031875", "18446744073709551615", "00000000000000000001",
		"18446744073709551616", "99999999999999999999", strings.Repeat("9", 36),
		"", "-1", "+1", "1e3", " 1", "12a",
	} {
		_, ok := parseID(id)
		if ok != care.IsID(id) {
			t.Errorf("parseID(%q) ok = %v, care.IsID = %v", id, ok, care.IsID(id))
		}
	}
}
