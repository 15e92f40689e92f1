package config

import (
	"time"

	"github.com/pajarito-care/pajarito/shared/protocol"
)

// The "staffing" section: the service-level target the team staffs for and the time
// an agent spends on a case, from which GET /v1/staffing and the report size the
// team hour by hour (Erlang C). Absent from the file, it is DefaultStaffing; present,
// it is read over those defaults field by field.
//
//	"staffing": {"answer_within": "1h", "fraction": 0.8, "handle_time": "6m", "max_occupancy": 0.85}
//
// reads "answer 80% of cases within an hour, each takes an agent 6 minutes, and keep
// agents at most 85% busy".

// Staffing is the staffing target and handle time.
type Staffing struct {
	// AnswerWithin is the service level's time: a case is answered in time when its
	// first response comes within it.
	AnswerWithin Duration `json:"answer_within"`
	// Fraction is the share of cases to answer within AnswerWithin, above 0 and
	// below 1 (0.8 is 80%).
	Fraction float64 `json:"fraction"`
	// HandleTime is the agent time one case takes (reading, replying, follow-ups),
	// used where the handle time is not measured.
	HandleTime Duration `json:"handle_time"`
	// MaxOccupancy caps how busy agents may be, the share of their time spent
	// handling cases, above 0 and at most 1 (1: no cap).
	MaxOccupancy float64 `json:"max_occupancy"`
}

// Staffing defaults and bounds.
const (
	DefaultAnswerWithin = time.Hour
	DefaultFraction     = 0.8
	DefaultHandleTime   = 6 * time.Minute
	DefaultMaxOccupancy = 0.85

	MinAnswerWithin = 10 * time.Second
	MaxAnswerWithin = 7 * 24 * time.Hour
	MinHandleTime   = 10 * time.Second
	MaxHandleTime   = 8 * time.Hour
)

// DefaultStaffing is: answer 80% of cases within an hour, 6 minutes of an agent's
// time per case, agents at most 85% busy.
func DefaultStaffing() Staffing {
	return Staffing{
		AnswerWithin: protocol.DurationOf(DefaultAnswerWithin),
		Fraction:     DefaultFraction,
		HandleTime:   protocol.DurationOf(DefaultHandleTime),
		MaxOccupancy: DefaultMaxOccupancy,
	}
}

// validateStaffing reports the staffing section's invalid settings through bad.
func (c *Config) validateStaffing(bad func(key, format string, args ...any)) {
	s := c.Staffing
	c.checkDuration(bad, "staffing.answer_within", s.AnswerWithin, MinAnswerWithin, MaxAnswerWithin,
		"the service level's time, within which the target's fraction of cases gets a first response: at least 10s, at most 7d, e.g. \"1h\"")
	if !(s.Fraction > 0 && s.Fraction < 1) {
		bad("staffing.fraction", "%v is out of range: the share of cases answered within staffing.answer_within, above 0 and below 1 (0.8 is 80%%; no staffing answers every case in time)", s.Fraction)
	}
	c.checkDuration(bad, "staffing.handle_time", s.HandleTime, MinHandleTime, MaxHandleTime,
		"an agent's time per case: at least 10s, at most 8h, e.g. \"6m\"")
	if !(s.MaxOccupancy > 0 && s.MaxOccupancy <= 1) {
		bad("staffing.max_occupancy", "%v is out of range: the most agents may be busy, above 0 and at most 1 (0.85 is 85%%; 1 sets no cap)", s.MaxOccupancy)
	}
}
