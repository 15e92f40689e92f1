package care

import "strings"

// CompareIDs compares two decimal X ids as numbers (ids of different lengths
// included): -1 when a < b, 0 when equal, +1 when a > b. Snowflake ids grow with
// time, so this is also their order of creation.
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

// MaxID returns the greatest of the X ids given, ignoring empty strings and
// anything that is not an id; "" when there is none.
func MaxID(ids ...string) string {
	best := ""
	for _, id := range ids {
		if IsID(id) && (best == "" || CompareIDs(id, best) > 0) {
			best = id
		}
	}
	return best
}
