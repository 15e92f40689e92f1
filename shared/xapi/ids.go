package xapi

import "strings"

// CompareIDs compares two decimal X ids as numbers (-1, 0, +1), whatever their
// lengths: "999" < "1000". Ids are 64-bit and must not go through float64.
func CompareIDs(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	switch {
	case len(a) != len(b):
		if len(a) < len(b) {
			return -1
		}
		return 1
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// MaxID returns the greatest of the decimal X ids given, ignoring empty strings and
// anything that is not an id; "" when there is none.
func MaxID(ids ...string) string {
	best := ""
	for _, id := range ids {
		if !isID(id) {
			continue
		}
		if best == "" || CompareIDs(id, best) > 0 {
			best = id
		}
	}
	return best
}

func isID(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	return strings.Trim(s, "0123456789") == ""
}
