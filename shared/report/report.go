// Package report renders the service report: one self-contained HTML page, in
// Spanish or English, of a period's customer care on X. The page needs nothing but
// itself: its CSS is inline, its charts are SVG drawn here, it loads no script, font
// or image, so it can be mailed, archived and opened offline.
//
// The page shows the headline figures (cases, first-response time median and p90,
// resolution time median, CSAT, cases left unanswered, the share of automatic
// replies, X spend), the volume of new cases per hour of day by intent (stacked
// bars), the distribution of first-response times (a histogram with the median and
// p90 marked), CSAT by day (a line) and the agents needed per hour of day (bars,
// with a table of the staffing plan). A chart with nothing to show says so ("no data
// yet") instead of drawing empty axes.
//
// Data is what a report shows; the agent API builds it from the stored cases
// (GET /v1/report) and "pajarito report" renders it. Every text of Data is escaped
// by html/template.
package report

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// Data is what one report shows. Hours of day are in Timezone (the brand's, the
// care protocol's business-hours zone). Durations are in seconds; a nil figure is
// one there is nothing yet to measure it from.
type Data struct {
	// Brand is the brand's X handle, without "@".
	Brand string `json:"brand"`
	// From and To bound the period: From included, To excluded.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Timezone is the IANA zone hours and days are counted in.
	Timezone string `json:"timezone"`
	// GeneratedAt is when the data was read.
	GeneratedAt time.Time `json:"generated_at"`

	Summary Summary `json:"summary"`
	// Volume is the cases created per hour of day, by intent: at most one entry
	// per hour, 0 to 23.
	Volume []HourVolume `json:"volume"`
	// FirstResponse is the distribution of first-response times.
	FirstResponse Histogram `json:"first_response"`
	// CSAT is the mean satisfaction answer per day, oldest first.
	CSAT []DayCSAT `json:"csat"`
	// Staffing is the agents needed per hour of day, and Target what they are
	// sized for (nil: no plan).
	Staffing []StaffingHour `json:"staffing"`
	Target   *Target        `json:"target,omitempty"`
	// Crises are the crises of the period (open in it at some time), oldest
	// first, each as its timeline.
	Crises []Crisis `json:"crises"`
}

// Summary holds the headline figures.
type Summary struct {
	// Cases is the number of cases created in the period.
	Cases int `json:"cases"`
	// FirstResponseMedian and FirstResponseP90 are the first-response times
	// (wall clock) of the cases answered, in seconds.
	FirstResponseMedian *float64 `json:"first_response_median_seconds,omitempty"`
	FirstResponseP90    *float64 `json:"first_response_p90_seconds,omitempty"`
	// ResolutionMedian is the median time from a case's creation to its
	// resolution, in seconds.
	ResolutionMedian *float64 `json:"resolution_median_seconds,omitempty"`
	// CSAT is the mean satisfaction answer, 1 to 5, of CSATResponses answers.
	CSAT          *float64 `json:"csat,omitempty"`
	CSATResponses int      `json:"csat_responses"`
	// Unanswered counts the cases that never had a response: it must be 0.
	Unanswered int `json:"unanswered"`
	// AutomaticReplies and HumanReplies count the brand's replies the protocol
	// sent by itself and those agents wrote.
	AutomaticReplies int `json:"automatic_replies"`
	HumanReplies     int `json:"human_replies"`
	// XSpendUSD is what X charged (reads and replies), in dollars, in the
	// calendar months XSpendMonths ("2006-01", UTC): X's spend is kept per month,
	// so it covers the whole months the period touches.
	XSpendUSD    *float64 `json:"x_spend_usd,omitempty"`
	XSpendMonths []string `json:"x_spend_months,omitempty"`
}

// AutomaticShare returns the share of the brand's replies sent automatically, and
// false when there were none.
func (s Summary) AutomaticShare() (float64, bool) {
	total := s.AutomaticReplies + s.HumanReplies
	if total == 0 {
		return 0, false
	}
	return float64(s.AutomaticReplies) / float64(total), true
}

// HourVolume is the cases created in one hour of day, by intent ("complaint",
// "question", …; "" for cases not yet labelled).
type HourVolume struct {
	Hour    int            `json:"hour"`
	Intents map[string]int `json:"intents"`
}

// Histogram is a distribution of durations: bins in order, with the median and
// 90th percentile to mark (nil: unknown).
type Histogram struct {
	Bins   []Bin    `json:"bins"`
	Median *float64 `json:"median_seconds,omitempty"`
	P90    *float64 `json:"p90_seconds,omitempty"`
}

// Bin counts the durations d with From <= d < To, in seconds; To 0 is no upper
// bound (the last bin).
type Bin struct {
	From  float64 `json:"from_seconds"`
	To    float64 `json:"to_seconds,omitempty"`
	Count int     `json:"count"`
}

// DayCSAT is the mean satisfaction answer of one day ("2006-01-02" in the
// report's zone).
type DayCSAT struct {
	Day       string  `json:"day"`
	Mean      float64 `json:"mean"`
	Responses int     `json:"responses"`
}

// StaffingHour is the staffing plan of one hour of day.
type StaffingHour struct {
	Hour int `json:"hour"`
	// ArrivalsPerHour is the mean of new cases in this hour of day.
	ArrivalsPerHour float64 `json:"arrivals_per_hour"`
	// Agents is the number of agents needed to meet the target.
	Agents int `json:"agents"`
	// ServiceLevel is the share of cases answered within the target's time with
	// that many agents; Occupancy how busy they are; ASA the average speed of
	// answer, in seconds.
	ServiceLevel float64 `json:"service_level"`
	Occupancy    float64 `json:"occupancy"`
	ASA          float64 `json:"asa_seconds"`
}

// Target is what the staffing plan is sized for: Fraction of cases answered
// within AnswerWithin, HandleTime of agent time per case, agents at most
// MaxOccupancy busy.
type Target struct {
	AnswerWithin float64 `json:"answer_within_seconds"`
	Fraction     float64 `json:"fraction"`
	HandleTime   float64 `json:"handle_time_seconds"`
	MaxOccupancy float64 `json:"max_occupancy"`
}

// FirstResponseEdges are the bins' bounds of a first-response histogram: 5, 15 and
// 30 minutes, 1, 2, 4, 8 and 24 hours (then a bin for longer).
var FirstResponseEdges = []time.Duration{
	5 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 24 * time.Hour,
}

// NewHistogram counts samples into the bins that edges (increasing, positive)
// bound: [0, edges[0]), [edges[0], edges[1]), …, [edges[len-1], ∞). Negative
// samples count in the first bin. It sets no median or p90.
func NewHistogram(samples []time.Duration, edges []time.Duration) (Histogram, error) {
	for i, e := range edges {
		if e <= 0 || (i > 0 && e <= edges[i-1]) {
			return Histogram{}, fmt.Errorf("report: histogram edges %v are not positive and increasing", edges)
		}
	}
	bins := make([]Bin, len(edges)+1)
	for i := range bins {
		if i > 0 {
			bins[i].From = edges[i-1].Seconds()
		}
		if i < len(edges) {
			bins[i].To = edges[i].Seconds()
		}
	}
	for _, s := range samples {
		i, found := slices.BinarySearch(edges, s)
		if found {
			i++ // s == edges[i] belongs to the next bin
		}
		bins[i].Count++
	}
	return Histogram{Bins: bins}, nil
}

// Langs are the languages a report is written in.
var Langs = []string{"es", "en"}

// Render writes d's report in lang ("es" or "en") to w.
func Render(w io.Writer, d Data, lang string) error {
	l, ok := labelsByLang[lang]
	if !ok {
		return fmt.Errorf("report: no language %q: write the report in es or en", lang)
	}
	p, err := newPage(d, lang, l)
	if err != nil {
		return err
	}
	if err := pageTemplate.Execute(w, p); err != nil {
		return fmt.Errorf("report: render: %w", err)
	}
	return nil
}
