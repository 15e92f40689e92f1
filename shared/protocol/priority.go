package protocol

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
)

// Weights are the points each factor adds to a case's priority (0–999, higher
// first). The score is Base plus every factor, clamped to 0–999.
type Weights struct {
	Base int `json:"base"`
	// Intent: points per intent (incident, complaint, question, sales, praise,
	// other, spam).
	Intent map[string]int `json:"intent"`
	// Negative is the points of the most negative message (score -1); a message
	// of score s < 0 gets Negative × -s. Positive likewise for s > 0 (usually a
	// negative number: happy customers can wait).
	Negative int `json:"negative"`
	Positive int `json:"positive"`
	// Urgency: points per urgency level (low, high, critical).
	Urgency map[string]int `json:"urgency"`
	// UrgencyKinds: points per urgency kind found (safety, medical, …), added up to
	// UrgencyKindsMax.
	UrgencyKinds    map[string]int `json:"urgency_kinds"`
	UrgencyKindsMax int            `json:"urgency_kinds_max"`
	// WaitPerHour: points per hour the customer has waited, up to WaitMax.
	WaitPerHour int `json:"wait_per_hour"`
	WaitMax     int `json:"wait_max"`
	// FollowersPerDecade: points per factor of ten of followers above
	// FollowersFrom (log-scaled: 10,000 followers with FollowersFrom 100 is two
	// decades), up to FollowersMax.
	FollowersPerDecade int `json:"followers_per_decade"`
	FollowersFrom      int `json:"followers_from"`
	FollowersMax       int `json:"followers_max"`
	// Verified: points for a verified author.
	Verified int `json:"verified"`
	// RepeatPerCase: points per other case of the customer within the repeat
	// window, up to RepeatMax.
	RepeatPerCase int `json:"repeat_per_case"`
	RepeatMax     int `json:"repeat_max"`
	// PublicPII: points when the customer posted personal data in public (it should
	// be taken to DM, and perhaps the post deleted, quickly).
	PublicPII int `json:"public_pii"`
}

// DefaultWeights are the default priority weights. They rank, from the top: safety
// and medical emergencies, stranded and vulnerable travellers, fraud and legal
// threats, incidents, complaints, questions and leads, chatter, praise, spam.
func DefaultWeights() Weights {
	return Weights{
		Base: 300,
		Intent: map[string]int{
			"incident": 150, "complaint": 120, "question": 60, "sales": 50,
			"other": -50, "praise": -120, "spam": -300,
		},
		Negative: 80,
		Positive: -30,
		Urgency:  map[string]int{"low": 40, "high": 180, "critical": 350},
		UrgencyKinds: map[string]int{
			"safety": 120, "medical": 120, "stranded": 60, "vulnerable_customer": 50,
			"fraud": 50, "legal_threat": 50, "cancel_account": 40, "long_wait": 25, "asked_urgent": 10,
		},
		UrgencyKindsMax:    150,
		WaitPerHour:        20,
		WaitMax:            120,
		FollowersPerDecade: 30,
		FollowersFrom:      100,
		FollowersMax:       120,
		Verified:           40,
		RepeatPerCase:      30,
		RepeatMax:          90,
		PublicPII:          40,
	}
}

// PriorityInput is what a case's priority is computed from.
type PriorityInput struct {
	Intent    classify.Intent
	Sentiment classify.Sentiment
	Score     float64
	Urgency   classify.Urgency
	// Waiting is how long the customer has waited for the brand.
	Waiting   time.Duration
	Followers int
	Verified  bool
	// PreviousCases counts the customer's other cases within the repeat window.
	PreviousCases int
	// PublicPII is true when the message posted personal data in public.
	PublicPII bool
}

// Priority is a case's priority and the factors that add up to it.
type Priority struct {
	Score   int           `json:"score"`
	Factors []care.Factor `json:"factors"`
}

// MaxPriority is the highest priority.
const MaxPriority = 999

// Priority computes the priority of in: deterministic, explained factor by factor
// (factors worth 0 points are left out, except the base).
func (w *Weights) Priority(in PriorityInput) Priority {
	p := Priority{Factors: make([]care.Factor, 0, 8)}
	add := func(factor string, points int, args map[string]string, because string, a ...any) {
		if points == 0 && factor != "base" {
			return
		}
		p.Factors = append(p.Factors, care.Factor{Factor: factor, Points: points, Because: fmt.Sprintf(because, a...), Args: args})
		p.Score += points
	}
	num := strconv.Itoa
	add("base", w.Base, map[string]string{"n": num(w.Base)}, "every case starts at %d", w.Base)
	if in.Intent != "" {
		add("intent", w.Intent[string(in.Intent)], map[string]string{"intent": string(in.Intent)}, "intent %s", in.Intent)
	}
	switch {
	case in.Score < 0:
		add("sentiment", int(math.Round(float64(w.Negative)*math.Min(1, -in.Score))), map[string]string{"sentiment": string(orNeg(in.Sentiment)), "score": fmt.Sprintf("%.2f", in.Score)},
			"%s sentiment, score %.2f", orNeg(in.Sentiment), in.Score)
	case in.Score > 0:
		add("sentiment", int(math.Round(float64(w.Positive)*math.Min(1, in.Score))), map[string]string{"sentiment": string(orPos(in.Sentiment)), "score": fmt.Sprintf("%.2f", in.Score)},
			"%s sentiment, score %.2f", orPos(in.Sentiment), in.Score)
	}
	if lvl := in.Urgency.Level; lvl != "" && lvl != classify.UrgencyNone {
		add("urgency", w.Urgency[string(lvl)], map[string]string{"level": string(lvl)}, "urgency %s", lvl)
	}
	w.urgencyKinds(in, add)
	if in.Waiting >= time.Minute && w.WaitPerHour != 0 {
		pts := int(float64(w.WaitPerHour) * in.Waiting.Hours())
		if w.WaitMax > 0 && pts > w.WaitMax {
			pts = w.WaitMax
		}
		add("waiting", pts, map[string]string{"waited": FormatDuration(in.Waiting)}, "waiting %s", FormatDuration(in.Waiting))
	}
	if from := max(w.FollowersFrom, 1); in.Followers > from && w.FollowersPerDecade != 0 {
		decades := math.Log10(float64(in.Followers) / float64(from))
		pts := int(math.Round(float64(w.FollowersPerDecade) * decades))
		if w.FollowersMax > 0 && pts > w.FollowersMax {
			pts = w.FollowersMax
		}
		add("followers", pts, map[string]string{"n": num(in.Followers), "from": num(from)}, "%d followers (%.1f decades above %d)", in.Followers, decades, from)
	}
	if in.Verified {
		add("verified", w.Verified, nil, "verified author")
	}
	if in.PreviousCases > 0 {
		pts := w.RepeatPerCase * in.PreviousCases
		if w.RepeatMax > 0 && pts > w.RepeatMax {
			pts = w.RepeatMax
		}
		add("repeat_contact", pts, map[string]string{"n": num(in.PreviousCases)}, "%d other case(s) of this customer in the repeat window", in.PreviousCases)
	}
	if in.PublicPII {
		add("public_pii", w.PublicPII, nil, "personal data posted in public")
	}
	p.Score = min(max(p.Score, 0), MaxPriority)
	return p
}

func orNeg(s classify.Sentiment) classify.Sentiment {
	if s == "" {
		return classify.Negative
	}
	return s
}

func orPos(s classify.Sentiment) classify.Sentiment {
	if s == "" {
		return classify.Positive
	}
	return s
}

// FormatDuration writes d in hours and minutes, as the explanations and alerts
// say it: "45m", "2h15m", "3h".
func FormatDuration(d time.Duration) string {
	d = d.Round(time.Minute)
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h == 0:
		return fmt.Sprintf("%dm", m)
	case m == 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh%02dm", h, m)
}

// urgencyKinds adds the factor of in's urgency kinds, capped at
// UrgencyKindsMax.
func (w *Weights) urgencyKinds(in PriorityInput, add func(factor string, points int, args map[string]string, because string, a ...any)) {
	pts := 0
	var kinds, names []string
	for _, k := range in.Urgency.Kinds {
		if v := w.UrgencyKinds[string(k)]; v != 0 {
			pts += v
			kinds = append(kinds, fmt.Sprintf("%s (%+d)", k, v))
			names = append(names, string(k))
		}
	}
	args := map[string]string{"kinds": strings.Join(names, ","), "max": strconv.Itoa(w.UrgencyKindsMax)}
	if pts > w.UrgencyKindsMax && w.UrgencyKindsMax > 0 {
		add("urgency_kinds", w.UrgencyKindsMax, args, "urgency kinds %s, capped at %d", strings.Join(kinds, ", "), w.UrgencyKindsMax)
	} else if pts != 0 {
		delete(args, "max")
		add("urgency_kinds", pts, args, "urgency kinds %s", strings.Join(kinds, ", "))
	}
}
