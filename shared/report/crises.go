package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Crisis is one crisis of the period, as its timeline: when it opened, its
// public statement and updates as they went out, when it closed, and its
// follow-ups to the customers it affected.
type Crisis struct {
	Topic  string        `json:"topic"`
	Events []CrisisEvent `json:"events"`
	// FollowUps are the follow-ups' counts, once every affected customer
	// was handled.
	FollowUps *CrisisFollowUps `json:"followups,omitempty"`
}

// Kinds of a crisis's events.
const (
	EventOpened           = "opened"
	EventStatement        = "statement"
	EventUpdate           = "update"
	EventClosed           = "closed"
	EventFollowUpsStarted = "followups_started"
	EventFollowUpsDone    = "followups_done"
)

// CrisisEvent is one step of a crisis. By is who took it ("auto" for the
// monitor); Text a statement's or an update's.
type CrisisEvent struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"`
	By   string    `json:"by,omitempty"`
	Text string    `json:"text,omitempty"`
}

// CrisisFollowUps counts a crisis's follow-ups: the customers it affected,
// those told it was over, and those not, by reason.
type CrisisFollowUps struct {
	Customers int            `json:"customers"`
	Told      int            `json:"told"`
	Skipped   map[string]int `json:"skipped,omitempty"`
}

// crisisView is the template's view of a crisis.
type crisisView struct {
	Topic     string
	Events    []eventView
	FollowUps string
}

type eventView struct {
	When, What, Text string
}

// crisisViews lays out the crises of the period, their times in loc.
func crisisViews(cs []Crisis, loc *time.Location, l *labels) []crisisView {
	out := make([]crisisView, 0, len(cs))
	for _, c := range cs {
		v := crisisView{Topic: c.Topic}
		for _, e := range c.Events {
			at := e.At.In(loc)
			what := l.Events[e.Kind]
			if what == "" {
				what = e.Kind
			}
			if e.By != "" {
				by := e.By
				if by == "auto" {
					by = l.Auto
				}
				what += " · " + by
			}
			v.Events = append(v.Events, eventView{When: l.shortDate(at) + " " + at.Format("15:04"), What: what, Text: e.Text})
		}
		if f := c.FollowUps; f != nil {
			v.FollowUps = fmt.Sprintf(l.FollowUpsLine, l.count(f.Customers), l.count(f.Told))
			var skipped []string
			for _, reason := range slices.Sorted(maps.Keys(f.Skipped)) {
				name := l.SkipReasons[reason]
				if name == "" {
					name = reason
				}
				skipped = append(skipped, fmt.Sprintf("%s %s", l.count(f.Skipped[reason]), name))
			}
			if len(skipped) > 0 {
				v.FollowUps += " " + fmt.Sprintf(l.FollowUpsSkipped, strings.Join(skipped, ", "))
			}
		}
		out = append(out, v)
	}
	return out
}
