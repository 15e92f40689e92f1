// Package metrics computes the service metrics from what is stored: the cases and
// their replies (CaseFacts), grouped by day, department, agent, language or
// intent (Compute). The monitor rolls each day up once it is over, stores the
// roll-ups (package store, rollups.go) and emits the day's key figures to
// CloudWatch; the agent API serves GET /v1/metrics from the stored roll-ups.
//
// # Definitions
//
// A case belongs to the day it was created (the brand's calendar day, in the
// protocol's time zone) and to one group: its department, its assignee (the
// agent who holds it), its language or its intent ("" when not set). Every
// metric is of the cases of the group, as they stood when computed:
//
//   - cases: the cases created; inbound_messages: the customers' messages they hold.
//   - first_response_seconds: from the case's first inbound message to the
//     brand's first answer (first_response_at: an agent's or an automatic reply,
//     as the first-response SLA counts it), of the cases answered after the
//     customer wrote (cases the brand started are left out);
//     first_response_business_seconds: the same in business time (only the
//     hours the brand is open count, protocol.Hours.OpenDuration).
//   - resolution_seconds: from the first inbound message (the creation, for a
//     case the brand started) to resolved_at, of the cases resolved now.
//   - posts_per_case, dms_per_case: the conversation's length. A case's messages
//     are on its channel, except the replies Pajarito sent on the other one (an
//     agent's DM in a public case, a satisfaction survey), counted there.
//   - resolved: the cases resolved at least once (resolved now, or reopened);
//     reopened: those reopened at least once; reopen_rate = reopened / resolved.
//   - csat_average: the mean answer (1 to 5) to the satisfaction survey;
//     csat_response_rate = surveys answered / surveys sent.
//   - unanswered: the cases open without a first response past their
//     first-response due time (protocol.Engine.FirstResponseDue; without it, the
//     escalated ones).
//   - automatic_replies, human_replies: the replies sent to X (reply items in
//     state sent) by the protocol (auto_ack, move_to_dm, out_of_hours, crisis) and
//     by agents; surveys are neither. automatic_share = automatic / (automatic +
//     human). reply_cost_usd: what X charged for every reply sent, surveys
//     included.
//   - cases_by_hour: the cases created, by the hour of the day (0 to 23) of
//     their first inbound message (of their creation, for a case the brand
//     started): when the customers wrote, which is the demand, even for a case
//     found late.
//
// Durations are whole seconds (rounded down). Percentiles are by the
// nearest-rank method: the p-th percentile of N values is the value of rank
// ⌈p/100 × N⌉ in increasing order, so that the median of 4 values is the 2nd and
// every percentile is a value that occurred. Computed from the facts (the
// monitor's CloudWatch figures) they are exact; read from stored roll-ups (GET
// /v1/metrics, whose groups merge days) they come from histograms whose bins are
// exact up to 100 and within 1% above (Dist). Means and counts are exact either
// way. Rates and averages of nothing are null.
//
// # Cost
//
// A day's metrics read the day index (store.CaseDays: about 160 bytes per case),
// each case item (a GetItem) and, for the cases the brand answered, their reply
// items (a Query): at 1M messages a month, about 30,000 cases a day, some 60,000
// requests and 75,000 read units, $0.01 at on-demand prices ($0.125 per million
// read units), about 10 s with 32 workers. The monitor computes each day once when
// it is over, once more when it has settled (monitor.Rollups.Settle, to count
// late resolutions and survey answers), and today's so far once an hour: about 30M read units, $4,
// a month. Writing the day index costs 1 write unit per case (0.9M a month,
// $0.56). GET /v1/metrics reads the stored roll-ups, one Query of 1 to 92 items,
// and the X spend of the months of the period.
package metrics

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
)

// Dimension is what cases are grouped by.
type Dimension string

// Dimensions.
const (
	None       Dimension = "none"
	Day        Dimension = "day"
	Department Dimension = "department"
	Agent      Dimension = "agent"
	Lang       Dimension = "lang"
	Intent     Dimension = "intent"
)

// Dimensions lists the dimensions, None first.
var Dimensions = []Dimension{None, Day, Department, Agent, Lang, Intent}

// ParseDimension returns the dimension named s.
func ParseDimension(s string) (Dimension, error) {
	for _, d := range Dimensions {
		if string(d) == s {
			return d, nil
		}
	}
	names := make([]string, len(Dimensions))
	for i, d := range Dimensions {
		names[i] = string(d)
	}
	return "", fmt.Errorf("%q is not a dimension: use one of %s", s, strings.Join(names, ", "))
}

// key returns the group of c: its day in loc, its department, assignee, language
// or intent ("" when not set), or "" for None.
func (d Dimension) key(c *care.Case, loc *time.Location) string {
	switch d {
	case Day:
		return c.CreatedAt.In(loc).Format(time.DateOnly)
	case Department:
		return c.Department
	case Agent:
		return c.Assignee
	case Lang:
		return c.Lang
	case Intent:
		return c.Intent
	}
	return ""
}

// CaseFacts is what the metrics know of a case: the case item and its replies.
type CaseFacts struct {
	Case    care.Case
	Replies []care.ReplyStatus
}

// Options are the context of a computation. Every field is optional.
type Options struct {
	// Location is the time zone of days and hours of day; nil means UTC.
	Location *time.Location
	// Now is when the metrics are computed, for unanswered cases.
	Now time.Time
	// BusinessDuration returns the business time between two instants
	// (protocol.Hours.OpenDuration); nil leaves first_response_business_seconds
	// empty.
	BusinessDuration func(from, to time.Time) time.Duration
	// FirstResponseDue returns when the first response to a case is due, the
	// zero time when none is (protocol.Engine.FirstResponseDue: spam); nil
	// counts the escalated cases as unanswered.
	FirstResponseDue func(c care.Case) time.Time
}

func (o *Options) location() *time.Location {
	if o.Location == nil {
		return time.UTC
	}
	return o.Location
}

// Summary is the metrics of a set of cases: their groups by a dimension, and
// their total.
type Summary struct {
	By     Dimension
	Groups map[string]*Aggregate
	Total  Aggregate
}

// Compute groups the cases of facts by by and aggregates each group and the
// total. It is a pure function of its arguments.
func Compute(facts []CaseFacts, by Dimension, opt Options) Summary {
	s := Summary{By: by, Groups: map[string]*Aggregate{}}
	loc := opt.location()
	for i := range facts {
		f := &facts[i]
		k := by.key(&f.Case, loc)
		g := s.Groups[k]
		if g == nil {
			g = &Aggregate{}
			s.Groups[k] = g
		}
		g.Add(f, opt)
		s.Total.Add(f, opt)
	}
	return s
}

// Table returns the metrics of each group, by key.
func Table(groups map[string]*Aggregate) []Metrics {
	out := make([]Metrics, 0, len(groups))
	for _, k := range slices.Sorted(maps.Keys(groups)) {
		out = append(out, groups[k].Metrics(k))
	}
	return out
}

// MergeGroups adds the groups of from to those of into, by key.
func MergeGroups(into, from map[string]*Aggregate) {
	for k, a := range from {
		g := into[k]
		if g == nil {
			g = &Aggregate{}
			into[k] = g
		}
		g.Merge(a)
	}
}

// Aggregate is what the metrics of a group are computed from, in a form that
// merges (the groups of several days): counts, sums and distributions. The zero
// Aggregate is empty and ready to use.
type Aggregate struct {
	Cases           int64 `json:"cases"`
	InboundMessages int64 `json:"inbound_messages"`
	// Durations in seconds; Posts and DMs are messages per case.
	FirstResponse         Dist `json:"first_response"`
	FirstResponseBusiness Dist `json:"first_response_business"`
	Resolution            Dist `json:"resolution"`
	Posts                 Dist `json:"posts"`
	DMs                   Dist `json:"dms"`

	Resolved        int64 `json:"resolved"`
	Reopened        int64 `json:"reopened"`
	SurveysSent     int64 `json:"surveys_sent"`
	SurveysAnswered int64 `json:"surveys_answered"`
	CSATAnswers     int64 `json:"csat_answers"`
	CSATSum         int64 `json:"csat_sum"`
	Unanswered      int64 `json:"unanswered"`

	AutomaticReplies int64 `json:"automatic_replies"`
	HumanReplies     int64 `json:"human_replies"`
	// ReplyCostMicroUSD is the replies' cost in millionths of a dollar, so that
	// sums are exact.
	ReplyCostMicroUSD int64     `json:"reply_cost_micro_usd"`
	CasesByHour       [24]int64 `json:"cases_by_hour"`
}

// seconds returns d in whole seconds, rounded down.
func seconds(d time.Duration) int64 { return int64(d / time.Second) }

// Add counts a case into a.
func (a *Aggregate) Add(f *CaseFacts, opt Options) {
	c := &f.Case
	a.Cases++
	a.InboundMessages += int64(c.MessagesIn)
	// The hour the customer wrote, which a case found late (a poll, a backlog)
	// was created after: demand is when customers write.
	start := c.FirstInboundAt
	if start.IsZero() {
		start = c.CreatedAt
	}
	a.CasesByHour[start.In(opt.location()).Hour()]++

	if r := c.FirstResponseAt; r != nil && !c.FirstInboundAt.IsZero() && !r.Before(c.FirstInboundAt) {
		a.FirstResponse.Add(seconds(r.Sub(c.FirstInboundAt)))
		if opt.BusinessDuration != nil {
			a.FirstResponseBusiness.Add(seconds(opt.BusinessDuration(c.FirstInboundAt, *r)))
		}
	}
	if r := c.ResolvedAt; r != nil {
		if !r.Before(start) {
			a.Resolution.Add(seconds(r.Sub(start)))
		}
	}

	// The conversation: the case's messages, less the replies sent on the other
	// channel.
	var other int64
	for _, r := range f.Replies {
		if r.State == care.ReplySent {
			if r.Channel != c.Channel {
				other++
			}
			switch {
			case r.Kind == care.ReplySurvey: // neither an automatic nor a human answer
			case r.Kind.Automatic():
				a.AutomaticReplies++
			default:
				a.HumanReplies++
			}
			a.ReplyCostMicroUSD += int64(math.Round(r.CostUSD * 1e6))
		}
	}
	own := max(int64(c.MessagesIn+c.MessagesOut)-other, 0)
	if c.Channel == care.DM {
		a.DMs.Add(own)
		a.Posts.Add(other)
	} else {
		a.Posts.Add(own)
		a.DMs.Add(other)
	}

	if c.ResolvedAt != nil || c.Reopens > 0 {
		a.Resolved++
	}
	if c.Reopens > 0 {
		a.Reopened++
	}
	answered := c.CSAT != nil && *c.CSAT >= 1 && *c.CSAT <= 5
	if c.SurveySentAt != nil {
		a.SurveysSent++
		if answered {
			a.SurveysAnswered++
		}
	}
	if answered {
		a.CSATAnswers++
		a.CSATSum += int64(*c.CSAT)
	}
	if c.Status == care.Open && c.FirstResponseAt == nil {
		if opt.FirstResponseDue != nil {
			if due := opt.FirstResponseDue(*c); !due.IsZero() && !opt.Now.Before(due) {
				a.Unanswered++
			}
		} else if c.EscalatedAt != nil {
			a.Unanswered++
		}
	}
}

// Merge adds o to a.
func (a *Aggregate) Merge(o *Aggregate) {
	a.Cases += o.Cases
	a.InboundMessages += o.InboundMessages
	a.FirstResponse.Merge(&o.FirstResponse)
	a.FirstResponseBusiness.Merge(&o.FirstResponseBusiness)
	a.Resolution.Merge(&o.Resolution)
	a.Posts.Merge(&o.Posts)
	a.DMs.Merge(&o.DMs)
	a.Resolved += o.Resolved
	a.Reopened += o.Reopened
	a.SurveysSent += o.SurveysSent
	a.SurveysAnswered += o.SurveysAnswered
	a.CSATAnswers += o.CSATAnswers
	a.CSATSum += o.CSATSum
	a.Unanswered += o.Unanswered
	a.AutomaticReplies += o.AutomaticReplies
	a.HumanReplies += o.HumanReplies
	a.ReplyCostMicroUSD += o.ReplyCostMicroUSD
	for h, n := range o.CasesByHour {
		a.CasesByHour[h] += n
	}
}

// ratio returns n/d, or nil when d is 0.
func ratio(n, d int64) *float64 {
	if d == 0 {
		return nil
	}
	r := float64(n) / float64(d)
	return &r
}

// Metrics returns the metrics of a, under key.
func (a *Aggregate) Metrics(key string) Metrics {
	return Metrics{
		Key:                   key,
		Cases:                 a.Cases,
		InboundMessages:       a.InboundMessages,
		FirstResponse:         a.FirstResponse.Stats(),
		FirstResponseBusiness: a.FirstResponseBusiness.Stats(),
		Resolution:            a.Resolution.Stats(),
		Posts:                 a.Posts.Stats(),
		DMs:                   a.DMs.Stats(),
		Resolved:              a.Resolved,
		Reopened:              a.Reopened,
		ReopenRate:            ratio(a.Reopened, a.Resolved),
		SurveysSent:           a.SurveysSent,
		SurveysAnswered:       a.SurveysAnswered,
		CSATResponseRate:      ratio(a.SurveysAnswered, a.SurveysSent),
		CSATAnswers:           a.CSATAnswers,
		CSATAverage:           ratio(a.CSATSum, a.CSATAnswers),
		Unanswered:            a.Unanswered,
		AutomaticReplies:      a.AutomaticReplies,
		HumanReplies:          a.HumanReplies,
		AutomaticShare:        ratio(a.AutomaticReplies, a.AutomaticReplies+a.HumanReplies),
		ReplyCostUSD:          float64(a.ReplyCostMicroUSD) / 1e6,
		CasesByHour:           a.CasesByHour,
	}
}

// Metrics are the service metrics of a group of cases (see the package doc for
// each one's definition).
type Metrics struct {
	// Key names the group: a day ("2026-08-03"), a department, an agent id, a
	// language or an intent; "" for the cases without one, and for a total.
	Key                   string `json:"key"`
	Cases                 int64  `json:"cases"`
	InboundMessages       int64  `json:"inbound_messages"`
	FirstResponse         Stats  `json:"first_response_seconds"`
	FirstResponseBusiness Stats  `json:"first_response_business_seconds"`
	Resolution            Stats  `json:"resolution_seconds"`
	Posts                 Stats  `json:"posts_per_case"`
	DMs                   Stats  `json:"dms_per_case"`

	Resolved         int64    `json:"resolved"`
	Reopened         int64    `json:"reopened"`
	ReopenRate       *float64 `json:"reopen_rate"`
	SurveysSent      int64    `json:"surveys_sent"`
	SurveysAnswered  int64    `json:"surveys_answered"`
	CSATResponseRate *float64 `json:"csat_response_rate"`
	CSATAnswers      int64    `json:"csat_answers"`
	CSATAverage      *float64 `json:"csat_average"`
	Unanswered       int64    `json:"unanswered"`

	AutomaticReplies int64     `json:"automatic_replies"`
	HumanReplies     int64     `json:"human_replies"`
	AutomaticShare   *float64  `json:"automatic_share"`
	ReplyCostUSD     float64   `json:"reply_cost_usd"`
	CasesByHour      [24]int64 `json:"cases_by_hour"`
}
