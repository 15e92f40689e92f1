package protocol

import (
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
)

// slaEngine is a brand open Monday to Friday 09:00–18:00 in Madrid, without
// holidays, with first-response targets of 15m from priority 800, 30m from 500
// and 1h below, and hard limit hard.
func slaEngine(t *testing.T, hard time.Duration, edit func(*Config)) *Engine {
	t.Helper()
	return newEngine(t, func(c *Config) {
		c.BusinessHours = map[string]string{"mon": "09:00-18:00", "tue": "09:00-18:00", "wed": "09:00-18:00", "thu": "09:00-18:00", "fri": "09:00-18:00"}
		c.Holidays = nil
		c.SLA = SLAConfig{
			FirstResponse: []ResponseTarget{
				{MinPriority: 0, Within: ParseDuration("1h")},
				{MinPriority: 800, Within: ParseDuration("15m")},
				{MinPriority: 500, Within: ParseDuration("30m")},
			},
			BusinessHours: true,
			HardLimit:     DurationOf(hard),
		}
		if edit != nil {
			edit(c)
		}
	})
}

func TestFirstResponseWithin(t *testing.T) {
	e := slaEngine(t, 72*time.Hour, nil)
	for _, tt := range []struct {
		priority int
		want     time.Duration
	}{
		{999, 15 * time.Minute}, {800, 15 * time.Minute}, {799, 30 * time.Minute}, {500, 30 * time.Minute},
		{499, time.Hour}, {0, time.Hour}, {-5, time.Hour},
	} {
		if got := e.FirstResponseWithin(tt.priority); got != tt.want {
			t.Errorf("FirstResponseWithin(%d) = %s, want %s", tt.priority, got, tt.want)
		}
	}
}

func TestFirstResponseDue(t *testing.T) {
	at := func(month time.Month, day, hh, mm int) time.Time {
		return time.Date(2026, month, day, hh, mm, 0, 0, madrid)
	}
	tests := []struct {
		name     string
		hard     time.Duration
		edit     func(*Config)
		priority int
		waiting  time.Time
		due      time.Time
	}{
		// 20 November 2026 is a Friday (CET).
		{name: "Friday 18:00, 1h: the whole hour on Monday", hard: 72 * time.Hour, priority: 100,
			waiting: at(11, 20, 18, 0), due: at(11, 23, 10, 0)},
		{name: "Friday 17:30, 1h: half on Friday, half on Monday", hard: 72 * time.Hour, priority: 100,
			waiting: at(11, 20, 17, 30), due: at(11, 23, 9, 30)},
		{name: "Friday 17:30, 30m: due at closing time", hard: 72 * time.Hour, priority: 500,
			waiting: at(11, 20, 17, 30), due: at(11, 20, 18, 0)},
		{name: "Friday 17:50, 15m: 10m on Friday, 5m on Monday", hard: 72 * time.Hour, priority: 850,
			waiting: at(11, 20, 17, 50), due: at(11, 23, 9, 5)},
		{name: "Saturday 11:00, 1h", hard: 72 * time.Hour, priority: 100,
			waiting: at(11, 21, 11, 0), due: at(11, 23, 10, 0)},
		{name: "Sunday 23:30, priority 800 exactly", hard: 72 * time.Hour, priority: 800,
			waiting: at(11, 22, 23, 30), due: at(11, 23, 9, 15)},
		{name: "Monday 08:00 before opening, priority 799", hard: 72 * time.Hour, priority: 799,
			waiting: at(11, 23, 8, 0), due: at(11, 23, 9, 30)},
		{name: "Wednesday noon, 1h", hard: 72 * time.Hour, priority: 0,
			waiting: at(11, 18, 12, 0), due: at(11, 18, 13, 0)},
		{name: "Thursday 17:59, 1h: 1m on Thursday, 59m on Friday", hard: 72 * time.Hour, priority: 100,
			waiting: at(11, 19, 17, 59), due: at(11, 20, 9, 59)},
		// The hard limit is wall-clock time: 48h after Friday evening is Sunday.
		{name: "Friday 18:00, 48h hard limit: Sunday 18:00", hard: 48 * time.Hour, priority: 100,
			waiting: at(11, 20, 18, 0), due: at(11, 22, 18, 0)},
		{name: "Friday 17:50, 15m, 48h hard limit: Sunday 17:50", hard: 48 * time.Hour, priority: 850,
			waiting: at(11, 20, 17, 50), due: at(11, 22, 17, 50)},
		{name: "Saturday 11:00, 48h hard limit after the target", hard: 48 * time.Hour, priority: 100,
			waiting: at(11, 21, 11, 0), due: at(11, 23, 10, 0)},
		// Daylight saving time ends on Sunday 25 October: Friday 17:30 is CEST
		// (15:30 UTC), Monday 09:30 is CET (08:30 UTC).
		{name: "across the end of summer time", hard: 72 * time.Hour, priority: 100,
			waiting: at(10, 23, 17, 30), due: time.Date(2026, 10, 26, 8, 30, 0, 0, time.UTC)},
		// Holidays are closed: Friday 25 December.
		{name: "Christmas Eve 17:30, a 7d hard limit", hard: 7 * 24 * time.Hour, priority: 100,
			edit:    func(c *Config) { c.Holidays = []string{"2026-12-25"} },
			waiting: at(12, 24, 17, 30), due: at(12, 28, 9, 30)},
		{name: "wall-clock targets", hard: 48 * time.Hour, priority: 100,
			edit:    func(c *Config) { c.SLA.BusinessHours = false },
			waiting: at(11, 20, 18, 0), due: at(11, 20, 19, 0)},
		{name: "always open: business time is wall-clock time", hard: 48 * time.Hour, priority: 850,
			edit:    func(c *Config) { c.BusinessHours = nil },
			waiting: at(11, 21, 23, 50), due: at(11, 22, 0, 5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := slaEngine(t, tt.hard, tt.edit)
			c := care.Case{ID: "t1", Status: care.Open, Priority: tt.priority, WaitingSince: tt.waiting.UTC(), CreatedAt: tt.waiting.UTC()}
			if got := e.FirstResponseDue(c); !got.Equal(tt.due) {
				t.Errorf("FirstResponseDue = %s, want %s", got.In(madrid), tt.due.In(madrid))
			}
			if got, want := e.FirstResponseHardLimit(c), tt.waiting.Add(tt.hard); !got.Equal(want) {
				t.Errorf("FirstResponseHardLimit = %s, want %s", got.In(madrid), want.In(madrid))
			}
		})
	}
	// Spam is owed no response.
	spam := care.Case{ID: "t2", Status: care.Open, Priority: 850, Intent: "spam", WaitingSince: at(11, 18, 12, 0), CreatedAt: at(11, 18, 12, 0)}
	if got := slaEngine(t, 48*time.Hour, nil).FirstResponseDue(spam); !got.IsZero() {
		t.Errorf("FirstResponseDue of spam = %s, want none (zero)", got)
	}
}

func TestFirstResponseStart(t *testing.T) {
	first := time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC)
	waiting := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	answered := first.Add(time.Hour)
	tests := []struct {
		name string
		c    care.Case
		want time.Time
	}{
		{"open, unanswered: since it waits", care.Case{Status: care.Open, FirstInboundAt: first, WaitingSince: waiting}, waiting},
		{"open, answered before: the first message", care.Case{Status: care.Open, FirstInboundAt: first, WaitingSince: waiting, FirstResponseAt: &answered}, first},
		{"pending: the first message", care.Case{Status: care.Pending, FirstInboundAt: first, WaitingSince: waiting, FirstResponseAt: &answered}, first},
		{"a queue summary: no first message known", care.Case{Status: care.Open, WaitingSince: waiting}, waiting},
		{"nothing but the creation", care.Case{Status: care.Open, CreatedAt: first}, first},
	}
	for _, tt := range tests {
		if got := FirstResponseStart(tt.c); !got.Equal(tt.want) {
			t.Errorf("%s: FirstResponseStart = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestOpenDuration(t *testing.T) {
	at := func(month time.Month, day, hh, mm int) time.Time {
		return time.Date(2026, month, day, hh, mm, 0, 0, madrid)
	}
	h := slaEngine(t, 48*time.Hour, nil).Hours()
	always := slaEngine(t, 48*time.Hour, func(c *Config) { c.BusinessHours = nil }).Hours()
	tests := []struct {
		name     string
		h        *Hours
		from, to time.Time
		want     time.Duration
	}{
		{"Friday 17:00 to Monday 10:00", h, at(11, 20, 17, 0), at(11, 23, 10, 0), 2 * time.Hour},
		{"a weekend", h, at(11, 21, 0, 0), at(11, 23, 0, 0), 0},
		{"Monday 08:00 to 20:00", h, at(11, 23, 8, 0), at(11, 23, 20, 0), 9 * time.Hour},
		{"a whole week", h, at(11, 23, 0, 0), at(11, 30, 0, 0), 45 * time.Hour},
		{"backwards", h, at(11, 23, 12, 0), at(11, 23, 10, 0), 0},
		{"within an hour", h, at(11, 23, 10, 10), at(11, 23, 10, 55), 45 * time.Minute},
		// Summer time ends in the night of 24 to 25 October: that day has 25 hours.
		{"always open across the end of summer time", always, at(10, 24, 0, 0), at(10, 26, 0, 0), 49 * time.Hour},
	}
	for _, tt := range tests {
		if got := tt.h.OpenDuration(tt.from, tt.to); got != tt.want {
			t.Errorf("%s: OpenDuration = %s, want %s", tt.name, got, tt.want)
		}
	}
	// Open and OpenDuration agree minute by minute over a week with a holiday.
	hol := slaEngine(t, 48*time.Hour, func(c *Config) {
		c.BusinessHours["sat"] = "10:00-14:00, 16:00-18:30"
		c.Holidays = []string{"2026-11-25"}
	}).Hours()
	var open time.Duration
	for m := at(11, 23, 0, 0); m.Before(at(11, 30, 0, 0)); m = m.Add(time.Minute) {
		if hol.Open(m) {
			open += time.Minute
		}
	}
	if want := 36*time.Hour + 6*time.Hour + 30*time.Minute; open != want {
		t.Fatalf("Open counts %s in the week, want %s", open, want)
	}
	if got := hol.OpenDuration(at(11, 23, 0, 0), at(11, 30, 0, 0)); got != open {
		t.Errorf("OpenDuration over the week = %s, Open counts %s", got, open)
	}
}
