package care

import (
	"strconv"
	"testing"
	"time"
)

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

func TestIsID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"1", true},
		{"2089742284874031875", true},
		{"18446744073709551615", true}, // 2^64−1
		{"18446744073709551616", false},
		{"99999999999999999999", false},
		{"000000000000000000001", false}, // 21 digits
		{"00000000000000000001", true},
		{"", false},
		{"-1", false},
		{"12a", false},
		{"１２", false}, // not ASCII digits
	}
	for _, tt := range tests {
		if got := IsID(tt.id); got != tt.want {
			t.Errorf("IsID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestSnowflakeIDTime(t *testing.T) {
	tests := []struct {
		name   string
		id     string
		want   time.Time
		wantOK bool
	}{
		{"round trip", strconv.FormatUint(Snowflake(time.Date(2026, 8, 10, 12, 0, 0, 123e6, time.UTC), 5), 10), time.Date(2026, 8, 10, 12, 0, 0, 123e6, time.UTC), true},
		{"sequence bits ignored", strconv.FormatUint(Snowflake(time.Date(2026, 8, 10, 12, 0, 0, 0, time.UTC), 1<<22-1), 10), time.Date(2026, 8, 10, 12, 0, 0, 0, time.UTC), true},
		{"a real post id", "2089742284874031875", time.Date(2026, 8, 18, 15, 52, 40, 905e6, time.UTC), true},
		{"tiny id", "12", time.Time{}, false},
		{"not a number", "abc", time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := IDTime(tt.id)
			if ok != tt.wantOK || !got.Equal(tt.want) {
				t.Errorf("IDTime(%s) = %v %v, want %v %v", tt.id, got, ok, tt.want, tt.wantOK)
			}
		})
	}
	if got := Snowflake(time.Unix(0, 0), 3); got != 3 {
		t.Errorf("Snowflake before the epoch = %d, want the sequence alone", got)
	}
}
