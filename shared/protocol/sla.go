package protocol

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
)

// The first-response service level (the "sla" of the protocol section).
//
// A case's first-response clock starts when the customer started waiting for the
// brand (FirstResponseStart). Its target is that of its priority band
// (FirstResponseWithin), counted in business time when sla.business_hours is set:
// only the time the brand is open counts (business_hours in the brand's time zone,
// holidays closed; always open when no business hours are configured). With
// Monday–Friday 09:00–18:00 and a 1 h target, a message written on Friday at 17:30
// is due on Monday at 09:30, and one written on Saturday on Monday at 10:00. The
// hard limit is wall-clock time: past it a case is overdue whatever the hours (a
// message of Friday 18:00 reaches a 48 h hard limit on Sunday at 18:00).

// Bounds of the service level's settings.
const (
	MinResponseTarget = time.Minute
	MaxResponseTarget = 7 * 24 * time.Hour
	MinHardLimit      = time.Hour
	MaxHardLimit      = 30 * 24 * time.Hour
)

// compiledSLA is the validated service level.
type compiledSLA struct {
	// targets, highest MinPriority first; the last one has MinPriority 0.
	targets  []ResponseTarget
	business bool
	hard     time.Duration
}

// compileSLA validates the service level of c, reporting errors through bad;
// hours are c's business hours.
func compileSLA(c *SLAConfig, hours *Hours, bad func(path, format string, args ...any)) compiledSLA {
	cs := compiledSLA{business: c.BusinessHours, hard: c.HardLimit.d}
	if len(c.FirstResponse) == 0 {
		bad("sla.first_response", `list the first-response targets by priority, at least {"min_priority": 0, "within": "1h"}`)
	}
	valid := true
	seen := map[int]int{}
	for i, t := range c.FirstResponse {
		p := fmt.Sprintf("sla.first_response[%d]", i)
		if t.MinPriority < 0 || t.MinPriority > MaxPriority {
			bad(p+".min_priority", "%d is out of range: cases' priorities go from 0 to %d", t.MinPriority, MaxPriority)
			valid = false
		} else if j, dup := seen[t.MinPriority]; dup {
			bad(p+".min_priority", "%d is already the min_priority of sla.first_response[%d]", t.MinPriority, j)
			valid = false
		}
		seen[t.MinPriority] = i
		if d := t.Within; d.err != nil {
			bad(p+".within", "%v", d.err)
			valid = false
		} else if d.d < MinResponseTarget || d.d > MaxResponseTarget {
			bad(p+".within", "%s is out of range: a first response is due within 1m to 7d", d)
			valid = false
		}
	}
	if _, ok := seen[0]; len(c.FirstResponse) > 0 && !ok {
		bad("sla.first_response", `no target covers the lowest priorities: add {"min_priority": 0, "within": "1h"}`)
		valid = false
	}
	hardValid := false
	if d := c.HardLimit; d.err != nil {
		bad("sla.hard_limit", "%v", d.err)
	} else if d.d < MinHardLimit || d.d > MaxHardLimit {
		bad("sla.hard_limit", "%s is out of range: a case without a first response is overdue after this wall-clock time whatever the hours, from 1h to 30d (default 48h)", d)
	} else {
		hardValid = true
	}
	if c.BusinessHours && !hours.always && !slices.ContainsFunc(hours.week[:], func(s []span) bool { return len(s) > 0 }) {
		bad("sla.business_hours", "business_hours has no open hours, so no business time ever passes: open some hours, or set sla.business_hours to false to count the targets in wall-clock time")
	}
	if !valid {
		return cs
	}

	// Bands, highest first; a higher priority is answered no later than a lower one.
	order := make([]int, len(c.FirstResponse))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		return cmp.Compare(c.FirstResponse[b].MinPriority, c.FirstResponse[a].MinPriority)
	})
	for k, i := range order {
		t := c.FirstResponse[i]
		p := fmt.Sprintf("sla.first_response[%d].within", i)
		if k+1 < len(order) {
			j := order[k+1]
			if lower := c.FirstResponse[j]; t.Within.d > lower.Within.d {
				bad(p, "%s for priority %d and above is longer than the %s of priority %d and above (sla.first_response[%d]): a higher priority is answered sooner",
					t.Within, t.MinPriority, lower.Within, lower.MinPriority, j)
			}
		}
		if hardValid && t.Within.d > c.HardLimit.d {
			bad(p, "%s is longer than sla.hard_limit %s, after which every case is overdue: shorten it or raise the hard limit", t.Within, c.HardLimit)
		}
		cs.targets = append(cs.targets, t)
	}
	return cs
}

// FirstResponseWithin returns the first-response target of a case of the given
// priority: the within of the band with the highest min_priority at or below it.
func (e *Engine) FirstResponseWithin(priority int) time.Duration {
	ts := e.cp.sla.targets
	for _, t := range ts {
		if priority >= t.MinPriority {
			return t.Within.d
		}
	}
	return ts[len(ts)-1].Within.d // a priority below 0 (validation ensures a band at 0)
}

// FirstResponseStart returns when c's first-response clock started: for an open
// case without a first response, when the customer started waiting (WaitingSince:
// its first inbound message, or the message that reopened it after it was
// resolved without a reply); otherwise its first inbound message. It falls back
// to WaitingSince, then CreatedAt, when those are not known.
func FirstResponseStart(c care.Case) time.Time {
	if (c.Status != care.Open || c.FirstResponseAt != nil) && !c.FirstInboundAt.IsZero() {
		return c.FirstInboundAt
	}
	if !c.WaitingSince.IsZero() {
		return c.WaitingSince
	}
	return c.CreatedAt
}

// FirstResponseDue returns when the first response to c is due: its priority's
// target (FirstResponseWithin) after FirstResponseStart, counted in business time
// when sla.business_hours is set, and at the latest its hard limit
// (FirstResponseHardLimit). A case without a first response is overdue from then.
// Spam is owed no response: for a spam case it returns the zero time.
func (e *Engine) FirstResponseDue(c care.Case) time.Time {
	if classify.Intent(c.Intent) == classify.IntentSpam {
		return time.Time{}
	}
	start := FirstResponseStart(c)
	limit := start.Add(e.cp.sla.hard)
	within := e.FirstResponseWithin(c.Priority)
	if !e.cp.sla.business {
		return earliest(start.Add(within), limit)
	}
	return e.cp.hours.addOpen(start, within, limit)
}

// FirstResponseHardLimit returns when c is overdue whatever the hours:
// FirstResponseStart plus sla.hard_limit of wall-clock time.
func (e *Engine) FirstResponseHardLimit(c care.Case) time.Time {
	return FirstResponseStart(c).Add(e.cp.sla.hard)
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// period is a stretch of open time, [from, to).
type period struct{ from, to time.Time }

// allDay is the open range of a day when the brand is always open.
var allDay = []span{{0, 24 * 60}}

// openOn returns the open periods of the brand's calendar day y-m-d (normalised
// like time.Date: day 32 of a month is the 1st of the next), in order, and the
// day's start.
func (h *Hours) openOn(y int, m time.Month, d int) (start time.Time, open []period) {
	noon := time.Date(y, m, d, 12, 0, 0, 0, h.loc)
	y, m, d = noon.Date()
	start = time.Date(y, m, d, 0, 0, 0, 0, h.loc)
	if h.holidays[noon.Format("2006-01-02")] {
		return start, nil
	}
	spans := h.week[weekIndex(noon.Weekday())]
	if h.always {
		spans = allDay
	}
	for _, s := range spans {
		// Wall-clock times, as Open compares them: daylight saving time moves the
		// hours with it.
		open = append(open, period{time.Date(y, m, d, 0, s.from, 0, 0, h.loc), time.Date(y, m, d, 0, s.to, 0, 0, h.loc)})
	}
	return start, open
}

// OpenDuration returns the business time between from and to: how long the brand
// was open (Open) in [from, to). It is 0 when to is not after from.
func (h *Hours) OpenDuration(from, to time.Time) time.Duration {
	var total time.Duration
	y, m, d := from.In(h.loc).Date()
	for i := 0; ; i++ {
		start, open := h.openOn(y, m, d+i)
		if !start.Before(to) {
			return total
		}
		for _, p := range open {
			if a, b := latest(p.from, from), earliest(p.to, to); a.Before(b) {
				total += b.Sub(a)
			}
		}
	}
}

// addOpen returns when d of business time has passed since t, or limit when that
// comes first.
func (h *Hours) addOpen(t time.Time, d time.Duration, limit time.Time) time.Time {
	if d <= 0 {
		return earliest(t, limit)
	}
	y, m, day := t.In(h.loc).Date()
	for i := 0; ; i++ {
		start, open := h.openOn(y, m, day+i)
		if !start.Before(limit) {
			return limit
		}
		for _, p := range open {
			from := latest(p.from, t)
			if !from.Before(p.to) {
				continue
			}
			left := p.to.Sub(from)
			if d <= left {
				return earliest(from.Add(d), limit)
			}
			d -= left
		}
	}
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
