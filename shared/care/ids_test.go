package care

import "testing"

func TestCompareIDs(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"99", "100", -1},
		{"100", "99", 1},
		{"1820000000000000000", "1820000000000000000", 0},
		{"", "1", -1},
		{"", "", 0},
		{"0099", "100", -1},
		{"18446744073709551615", "9223372036854775807", 1},
	}
	for _, tt := range tests {
		if got := CompareIDs(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareIDs(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
	if MaxID("99", "100") != "100" || MaxID("", "7") != "7" {
		t.Error("MaxID")
	}
	if MaxID("12", "x", "", "3") != "12" || MaxID() != "" {
		t.Error("MaxID must skip what is not an id")
	}
}
