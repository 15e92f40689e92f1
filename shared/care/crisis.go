package care

import (
	"strings"
	"time"
)

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
	// StatementID is the X id of the latest post of the crisis's public
	// statement thread that went out (the statement, or its latest update),
	// and StatementAt when; empty while none is out.
	StatementID string    `json:"statement_id,omitempty"`
	StatementAt time.Time `json:"statement_at"`
	// Previous are the topic's earlier crises, closed, that this one replaced
	// (newest first, those closed within PreviousKept): their follow-ups may
	// still be due.
	Previous []CrisisState `json:"previous,omitempty"`
}

// PreviousKept is how long after it closed a crisis is kept in the Previous
// of the topic's next one.
const PreviousKept = 8 * 24 * time.Hour

// crisisThreadPrefix starts the id of a crisis's statement thread.
const crisisThreadPrefix = "crisis-"

// crisisThreadTime is the layout of a crisis's opening time in its thread id:
// to the nanosecond, as the crisis's state keeps it.
const crisisThreadTime = "20060102T150405.000000000Z"

// CrisisThreadID is the id under which the posts of the public statement of
// topic's crisis opened at since are kept and sent (their drafts and reply
// items, like a case's): "crisis-<topic>-<since>".
func CrisisThreadID(topic string, since time.Time) string {
	return crisisThreadPrefix + topic + "-" + since.UTC().Format(crisisThreadTime)
}

// ParseCrisisThreadID returns the topic and opening time of a crisis thread
// id; ok is false when id is not one.
func ParseCrisisThreadID(id string) (topic string, since time.Time, ok bool) {
	rest, found := strings.CutPrefix(id, crisisThreadPrefix)
	i := strings.LastIndexByte(rest, '-')
	if !found || i <= 0 {
		return "", time.Time{}, false
	}
	since, err := time.Parse(crisisThreadTime, rest[i+1:])
	if err != nil {
		return "", time.Time{}, false
	}
	return rest[:i], since, true
}

// IsCrisisThreadID reports whether id is a crisis thread's (CrisisThreadID).
func IsCrisisThreadID(id string) bool {
	_, _, ok := ParseCrisisThreadID(id)
	return ok
}
