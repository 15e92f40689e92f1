package agentapi

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/pajarito-care/pajarito/shared/httpjson"
	"github.com/pajarito-care/pajarito/shared/metrics"
	"github.com/pajarito-care/pajarito/shared/store"
)

// GET /v1/metrics?from=YYYY-MM-DD&to=YYYY-MM-DD&by=day|department|agent|lang|intent
// serves the service metrics (package metrics) of the cases created from the day
// from to the day to, both included (the brand's calendar days), grouped by by,
// with their total. They are read from the daily roll-ups the monitor stores
// (one Query of at most MaxMetricsDays items): a day's figures are as of when it
// was rolled up (Days says when, and whether it had settled), and the days not
// rolled up yet are listed in MissingDays. X spend is stored per calendar month
// (UTC): Spend holds the whole months the period touches.
//
// Defaults: the last 7 days, today included, by day. Parameters that are not
// valid, and periods longer than MaxMetricsDays, get a 400 naming the parameter.

// MaxMetricsDays is the longest period GET /v1/metrics serves.
const MaxMetricsDays = 92

// DefaultMetricsDays is the period GET /v1/metrics serves by default.
const DefaultMetricsDays = 7

// MetricsStore is what GET /v1/metrics reads; the API's Store serves it when it
// implements it (*store.Store does), else the route answers 503.
type MetricsStore interface {
	ListRollups(ctx context.Context, dimension, fromDay, toDay string, bodies bool) ([]store.Rollup, error)
	GetSpend(ctx context.Context, month string) (*store.MonthSpend, error)
}

// MetricsReport is the body of GET /v1/metrics.
type MetricsReport struct {
	// From and To are the period's first and last days; Timezone is the zone of
	// days (the protocol's).
	From     string `json:"from"`
	To       string `json:"to"`
	Timezone string `json:"timezone"`
	By       string `json:"by"`
	// Groups are the metrics of each group, by key; Total those of the period.
	Groups []metrics.Metrics `json:"groups"`
	Total  metrics.Metrics   `json:"total"`
	// Days are the days rolled up, MissingDays those not yet.
	Days        []RolledUpDay `json:"days"`
	MissingDays []string      `json:"missing_days"`
	// Spend is what X charged, per calendar month (UTC) the period touches.
	Spend []MonthSpend `json:"spend"`
}

// RolledUpDay says when a day's metrics were computed; Final is true once the
// day had settled (later changes to its cases are not counted).
type RolledUpDay struct {
	Day        string    `json:"day"`
	ComputedAt time.Time `json:"computed_at"`
	Final      bool      `json:"final"`
}

// MonthSpend is a month's X spend: reading (the listener's sources) and
// replying (the reply sender's posts and DMs), in dollars.
type MonthSpend struct {
	Month      string  `json:"month"`
	ReadsUSD   float64 `json:"reads_usd"`
	RepliesUSD float64 `json:"replies_usd"`
	TotalUSD   float64 `json:"total_usd"`
}

func (a *API) getMetrics(w http.ResponseWriter, r *http.Request) {
	q, ok := query(w, r, "from", "to", "by")
	if !ok {
		return
	}
	ms, ok := a.Store.(MetricsStore)
	if !ok {
		httpjson.WriteError(w, http.StatusServiceUnavailable, "metrics_unavailable", "this deployment's store does not keep the metrics' roll-ups")
		return
	}
	by := metrics.Day
	if s, given := q["by"]; given {
		d, err := metrics.ParseDimension(s)
		if err != nil || d == metrics.None {
			badRequest(w, "bad_query", "by: %q is not a grouping: use day, department, agent, lang or intent", s)
			return
		}
		by = d
	}
	loc := a.metricsZone()
	today := a.now().In(loc)
	to := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	if s, given := q["to"]; given {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			badRequest(w, "bad_query", "to: %q is not a day: write it like 2026-08-31", s)
			return
		}
		to = t
	}
	from := to.AddDate(0, 0, 1-DefaultMetricsDays)
	if s, given := q["from"]; given {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			badRequest(w, "bad_query", "from: %q is not a day: write it like 2026-08-01", s)
			return
		}
		from = t
	}
	// Days are dates, kept as UTC midnights so that adding days is exact.
	switch days := int(to.Sub(from)/(24*time.Hour)) + 1; {
	case days < 1:
		badRequest(w, "bad_query", "from: %s is after to (%s)", from.Format(time.DateOnly), to.Format(time.DateOnly))
		return
	case days > MaxMetricsDays:
		badRequest(w, "bad_query", "from, to: %s to %s is %d days, more than %d: ask for a shorter period", from.Format(time.DateOnly), to.Format(time.DateOnly), days, MaxMetricsDays)
		return
	}
	rep, err := a.metricsReport(r.Context(), ms, from, to, by)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	rep.Timezone = loc.String()
	httpjson.Write(w, http.StatusOK, rep)
}

// metricsReport reads the roll-ups and the spend of the days from to to.
func (a *API) metricsReport(ctx context.Context, ms MetricsStore, from, to time.Time, by metrics.Dimension) (*MetricsReport, error) {
	fromDay, toDay := from.Format(time.DateOnly), to.Format(time.DateOnly)
	dimension := string(by)
	if by == metrics.Day {
		dimension = metrics.AllDimension
	}
	rollups, err := ms.ListRollups(ctx, dimension, fromDay, toDay, true)
	if err != nil {
		return nil, fmt.Errorf("metrics from %s to %s by %s: %w", fromDay, toDay, by, err)
	}
	rep := &MetricsReport{
		From: fromDay, To: toDay, By: string(by),
		Groups: []metrics.Metrics{}, Days: []RolledUpDay{}, MissingDays: []string{}, Spend: []MonthSpend{},
	}
	groups := map[string]*metrics.Aggregate{}
	rolled := map[string]bool{}
	for _, ru := range rollups {
		day, err := metrics.DecodeGroups(ru.Body)
		if err != nil {
			return nil, fmt.Errorf("roll-up %s of %s: %w", dimension, ru.Day, err)
		}
		if by == metrics.Day {
			// The day's totals, under the day's key.
			total := &metrics.Aggregate{}
			for _, g := range day {
				total.Merge(g)
			}
			day = map[string]*metrics.Aggregate{ru.Day: total}
		}
		metrics.MergeGroups(groups, day)
		rolled[ru.Day] = true
		rep.Days = append(rep.Days, RolledUpDay{Day: ru.Day, ComputedAt: ru.ComputedAt, Final: ru.Final})
	}
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		if !rolled[d.Format(time.DateOnly)] {
			rep.MissingDays = append(rep.MissingDays, d.Format(time.DateOnly))
		}
	}
	var total metrics.Aggregate
	for _, g := range groups {
		total.Merge(g) // every case is in one group
	}
	rep.Groups = append(rep.Groups, metrics.Table(groups)...)
	rep.Total = total.Metrics("")

	for _, month := range months(from, to) {
		sp, err := ms.GetSpend(ctx, month)
		if err != nil {
			return nil, fmt.Errorf("metrics: X spend of %s: %w", month, err)
		}
		row := MonthSpend{Month: month}
		for _, src := range sp.Sources {
			if src.Kind == store.SpendKindReply {
				row.RepliesUSD += src.USD
			} else {
				row.ReadsUSD += src.USD
			}
		}
		row.ReadsUSD, row.RepliesUSD = roundUSD(row.ReadsUSD), roundUSD(row.RepliesUSD)
		row.TotalUSD = roundUSD(row.ReadsUSD + row.RepliesUSD)
		rep.Spend = append(rep.Spend, row)
	}
	return rep, nil
}

// months returns the calendar months ("2006-01") from the day from to the day
// to.
func months(from, to time.Time) []string {
	var out []string
	for m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC); !m.After(to); m = m.AddDate(0, 1, 0) {
		out = append(out, m.Format("2006-01"))
	}
	return slices.Clip(out)
}

// roundUSD rounds a dollar amount to a millionth, dropping the float noise of
// sums.
func roundUSD(usd float64) float64 { return math.Round(usd*1e6) / 1e6 }

// metricsZone is the zone of the metrics' days: the protocol's.
func (a *API) metricsZone() *time.Location {
	if h := a.Engine.Hours(); h != nil && h.Location() != nil {
		return h.Location()
	}
	return time.UTC
}
