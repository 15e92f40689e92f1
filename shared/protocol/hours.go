package protocol

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	// The brand's time zone must load inside Lambda, whose image may lack the
	// system's zoneinfo: embed Go's copy.
	_ "time/tzdata"
)

// Weekdays as written in business_hours, Monday first.
var weekdayKeys = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

var weekdayNames = map[string][]string{
	"es": {"lun", "mar", "mié", "jue", "vie", "sáb", "dom"},
	"en": {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"},
}

// span is a range of minutes of the day, [from, to).
type span struct{ from, to int }

// Hours are the brand's business hours in its time zone.
type Hours struct {
	loc *time.Location
	// week holds the open ranges per day, Monday first.
	week     [7][]span
	always   bool
	holidays map[string]bool
}

// weekIndex maps a time.Weekday to the index of week (Monday 0).
func weekIndex(d time.Weekday) int { return (int(d) + 6) % 7 }

// parseHours reads the business hours of c, reporting errors through bad.
func parseHours(c *Config, bad func(path, format string, args ...any)) *Hours {
	h := &Hours{loc: time.UTC, holidays: map[string]bool{}}
	tz := c.Timezone
	if tz == "" {
		tz = "UTC"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		bad("timezone", "%q is not an IANA time zone (%v): write it like \"Europe/Madrid\" or \"America/Mexico_City\"", c.Timezone, err)
	} else {
		h.loc = loc
	}
	h.always = len(c.BusinessHours) == 0
	for _, k := range sortedKeys(c.BusinessHours) {
		i := -1
		for j, d := range weekdayKeys {
			if d == k {
				i = j
			}
		}
		if i < 0 {
			bad("business_hours."+k, "%q is not a weekday: use mon, tue, wed, thu, fri, sat and sun", k)
			continue
		}
		spans, err := parseDay(c.BusinessHours[k])
		if err != nil {
			bad("business_hours."+k, "%v", err)
			continue
		}
		h.week[i] = spans
	}
	for i, d := range c.Holidays {
		day, err := time.Parse("2006-01-02", strings.TrimSpace(d))
		if err != nil {
			bad(fmt.Sprintf("holidays[%d]", i), "%q is not a date: write holidays like \"2026-12-25\"", d)
			continue
		}
		key := day.Format("2006-01-02")
		if h.holidays[key] {
			bad(fmt.Sprintf("holidays[%d]", i), "%s is listed twice", key)
		}
		h.holidays[key] = true
	}
	return h
}

// parseDay reads "08:00-14:00, 16:00-20:00", "00:00-24:00" or "closed".
func parseDay(s string) ([]span, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "closed") {
		return nil, nil
	}
	var out []span
	for _, part := range strings.Split(s, ",") {
		a, b, ok := strings.Cut(strings.TrimSpace(part), "-")
		if !ok {
			return nil, fmt.Errorf("%q is not a range of hours: write it like \"08:00-22:00\", several ranges separated by commas, or \"closed\"", part)
		}
		from, err1 := parseClock(a)
		to, err2 := parseClock(b)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%q is not a range of hours: times are HH:MM, from 00:00 to 24:00", part)
		}
		if to <= from {
			return nil, fmt.Errorf("%q ends before it starts: a range cannot cross midnight; write the hours after midnight on the next day", part)
		}
		if n := len(out); n > 0 && from < out[n-1].to {
			return nil, fmt.Errorf("%q overlaps or precedes the range before it: list ranges in order", part)
		}
		out = append(out, span{from, to})
	}
	return out, nil
}

func parseClock(s string) (int, error) {
	hh, mm, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return 0, fmt.Errorf("no colon")
	}
	h, err := strconv.Atoi(hh)
	if err != nil {
		return 0, err
	}
	m, err := strconv.Atoi(mm)
	if err != nil || len(mm) != 2 {
		return 0, fmt.Errorf("bad minutes")
	}
	if h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("out of range")
	}
	return h*60 + m, nil
}

// Location is the brand's time zone.
func (h *Hours) Location() *time.Location { return h.loc }

// Holiday reports whether t falls on a holiday in the brand's time zone.
func (h *Hours) Holiday(t time.Time) bool {
	return h.holidays[t.In(h.loc).Format("2006-01-02")]
}

// Open reports whether the brand is open at t: its wall-clock time in the brand's
// time zone (so daylight saving time moves the hours with it) falls in the day's
// ranges, and the day is not a holiday.
func (h *Hours) Open(t time.Time) bool {
	local := t.In(h.loc)
	if h.holidays[local.Format("2006-01-02")] {
		return false
	}
	if h.always {
		return true
	}
	m := local.Hour()*60 + local.Minute()
	for _, s := range h.week[weekIndex(local.Weekday())] {
		if s.from <= m && m < s.to {
			return true
		}
	}
	return false
}

func clock(m int) string { return fmt.Sprintf("%d:%02d", m/60, m%60) }

func dayText(spans []span) string {
	parts := make([]string, len(spans))
	for i, s := range spans {
		parts[i] = clock(s.from) + "-" + clock(s.to)
	}
	return strings.Join(parts, " y ")
}

// Text describes the business hours in lang (es or en; others get English):
// "lun-vie 8:00-22:00, sáb-dom 9:00-20:00 (hora de Madrid)".
func (h *Hours) Text(lang string) string {
	names, ok := weekdayNames[lang]
	if !ok {
		lang, names = "en", weekdayNames["en"]
	}
	city := h.loc.String()
	if i := strings.LastIndexByte(city, '/'); i >= 0 {
		city = city[i+1:]
	}
	city = strings.ReplaceAll(city, "_", " ")
	zone := " (" + city + " time)"
	if lang == "es" {
		zone = " (hora de " + city + ")"
	}
	if city == "UTC" || city == "Local" {
		zone = " (UTC)"
	}
	if h.always {
		if lang == "es" {
			return "24 h, todos los días"
		}
		return "24/7"
	}
	same := func(a, b []span) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	var groups []string
	for i := 0; i < 7; {
		j := i
		for j+1 < 7 && same(h.week[j+1], h.week[i]) {
			j++
		}
		if len(h.week[i]) > 0 {
			days := names[i]
			switch {
			case i == 0 && j == 6:
				days = map[string]string{"es": "todos los días", "en": "every day"}[lang]
			case j > i:
				days += "-" + names[j]
			}
			t := dayText(h.week[i])
			if lang != "es" {
				t = strings.ReplaceAll(t, " y ", " and ")
			}
			groups = append(groups, days+" "+t)
		}
		i = j + 1
	}
	if len(groups) == 0 {
		if lang == "es" {
			return "sin horario de atención"
		}
		return "no business hours"
	}
	return strings.Join(groups, ", ") + zone
}
