package care

import "time"

// CrisisState is the state of one crisis topic (delays, baggage, the app…): open
// (Active) when complaints about it spike, or when a person opened it by hand.
type CrisisState struct {
	Topic  string `json:"topic"`
	Active bool   `json:"active"`
	// Manual is true when a person opened it: it stays open until a person closes it.
	Manual bool `json:"manual"`
	// Since is when it opened; ClosedAt when it last closed (zero while open, or if
	// it never closed).
	Since    time.Time `json:"since"`
	ClosedAt time.Time `json:"closed_at"`
	// OpenedBy is "auto" or the person (agent id) who opened it; ClosedBy likewise.
	OpenedBy string `json:"opened_by,omitempty"`
	ClosedBy string `json:"closed_by,omitempty"`
	// WindowCount is how many related complaints the window held when it opened,
	// Baseline the window's expected count from the baseline period, Threshold the
	// count that opened it (the crisis closes when the window falls below a fraction
	// of it).
	WindowCount int64   `json:"window_count"`
	Baseline    float64 `json:"baseline"`
	Threshold   int64   `json:"threshold"`
	// Reason says why it opened (or closed), for people.
	Reason string `json:"reason,omitempty"`
	// QuietUntil: after a person closes a crisis, automatic detection does not
	// reopen it before this time.
	QuietUntil time.Time `json:"quiet_until"`
	UpdatedAt  time.Time `json:"updated_at"`
}
