package agentapi

import (
	"fmt"
	"net/http"
	"time"

	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/httpjson"
	"github.com/pajarito-care/pajarito/shared/metrics"
	"github.com/pajarito-care/pajarito/shared/report"
	"github.com/pajarito-care/pajarito/shared/staffing"
)

// GET /v1/staffing?from=YYYY-MM-DD&to=YYYY-MM-DD sizes the team hour by hour
// (Erlang C, package staffing). The cases created in each hour of day over the
// period, read from the metrics' daily roll-ups (cases_by_hour, the brand's
// hours), over the time the period spent in that hour of day, are the arrivals
// per hour; with the handle time and target of the staffing configuration
// (Deps.Staffing, pajarito.json's "staffing") they give the agents needed, and
// the service level, occupancy and average speed of answer those agents give.
//
// Days not rolled up yet count neither cases nor time, and a day rolled up
// before it ended (today, rolled up hourly) counts the time up to its roll-up
// only, so that they do not dilute the arrivals. The handle time is the
// configured one: the metrics do not measure the agents' handling.
//
// The period is days of the brand, from and to both included, as for GET
// /v1/metrics; by default the DefaultPeriodDays days to today.

// DefaultPeriodDays is the period GET /v1/staffing and GET /v1/report read by
// default: four weeks, so that every weekday counts alike.
const DefaultPeriodDays = 28

// StaffingPlan is the body of GET /v1/staffing.
type StaffingPlan struct {
	// From and To are the period's first and last days; Timezone is the zone of
	// days and hours of day (the protocol's).
	From     string `json:"from"`
	To       string `json:"to"`
	Timezone string `json:"timezone"`
	// Cases is the number of cases the plan measured; MissingDays are the days
	// of the period not rolled up yet, which it could not measure.
	Cases       int64    `json:"cases"`
	MissingDays []string `json:"missing_days"`
	// Target is what the plan is sized for.
	Target report.Target `json:"target"`
	// Hours is the plan for each hour of day, 0 to 23.
	Hours []report.StaffingHour `json:"hours"`
}

func (a *API) getStaffing(w http.ResponseWriter, r *http.Request) {
	q, ok := query(w, r, "from", "to")
	if !ok {
		return
	}
	ms, ok := a.metricsStore(w)
	if !ok {
		return
	}
	from, to, ok := a.days(w, q)
	if !ok {
		return
	}
	rep, err := a.metricsReport(r.Context(), ms, from, to, metrics.Day)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	plan, err := a.staffingPlan(rep)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, plan)
}

// staffingPlan sizes the team for the arrivals of rep, a report by day. The
// measured days start with the first that has cases: the quiet days before it
// are those before the deployment, and would dilute its arrivals.
func (a *API) staffingPlan(rep *MetricsReport) (*StaffingPlan, error) {
	loc := a.metricsZone()
	first := ""
	for _, g := range rep.Groups {
		if g.Cases > 0 && (first == "" || g.Key < first) {
			first = g.Key
		}
	}
	var hours [24]float64 // the time the measured days spent in each hour of day
	for _, d := range rep.Days {
		if d.Day < first {
			continue
		}
		day, err := time.ParseInLocation(time.DateOnly, d.Day, loc)
		if err != nil {
			return nil, fmt.Errorf("staffing: roll-up day %q: %w", d.Day, err)
		}
		end := day.AddDate(0, 0, 1)
		if d.ComputedAt.Before(end) {
			end = d.ComputedAt // its cases are those created before its roll-up
		}
		addHoursOfDay(&hours, day, end, loc)
	}
	var rates [24]float64
	for h, n := range rep.Total.CasesByHour {
		if hours[h] > 0 {
			rates[h] = float64(n) / hours[h]
		}
	}
	cfg := a.staffingConfig()
	target := staffing.Target{Fraction: cfg.Fraction, Within: cfg.AnswerWithin.Std(), MaxOccupancy: cfg.MaxOccupancy}
	handle := cfg.HandleTime.Std()
	plan, err := staffing.Plan(rates[:], handle, target)
	if err != nil {
		return nil, fmt.Errorf("staffing: %w", err)
	}
	out := &StaffingPlan{
		From: rep.From, To: rep.To, Timezone: loc.String(), Cases: rep.Total.Cases, MissingDays: rep.MissingDays,
		Target: report.Target{
			AnswerWithin: target.Within.Seconds(), Fraction: target.Fraction,
			HandleTime: handle.Seconds(), MaxOccupancy: target.MaxOccupancy,
		},
		Hours: make([]report.StaffingHour, len(plan)),
	}
	for h, s := range plan {
		out.Hours[h] = report.StaffingHour{
			Hour: h, ArrivalsPerHour: rates[h], Agents: s.Agents,
			ServiceLevel: s.ServiceLevel, Occupancy: s.Occupancy, ASA: s.ASA.Seconds(),
		}
	}
	return out, nil
}

// addHoursOfDay adds to hours the time, in hours, that [from, to) spends in
// each hour of day in loc: a day the clocks go back has two hours of one hour
// of day, a day they go forward none of another.
func addHoursOfDay(hours *[24]float64, from, to time.Time, loc *time.Location) {
	// Walk in quarter hours: every zone's offset is a whole number of them, so
	// that each step lies within one local hour.
	const step = 15 * time.Minute
	for t := from.Truncate(step); t.Before(to); t = t.Add(step) {
		lo, hi := t, t.Add(step)
		if lo.Before(from) {
			lo = from
		}
		if hi.After(to) {
			hi = to
		}
		hours[t.In(loc).Hour()] += hi.Sub(lo).Hours()
	}
}

// staffingConfig is Deps.Staffing, or the defaults when it is not set.
func (a *API) staffingConfig() config.Staffing {
	if a.Staffing == (config.Staffing{}) {
		return config.DefaultStaffing()
	}
	return a.Staffing
}

// metricsStore returns the API's store as the metrics' roll-ups, or writes a 503
// when it does not keep them.
func (a *API) metricsStore(w http.ResponseWriter) (MetricsStore, bool) {
	ms, ok := a.Store.(MetricsStore)
	if !ok {
		httpjson.WriteError(w, http.StatusServiceUnavailable, "metrics_unavailable", "this deployment's store does not keep the metrics' roll-ups")
	}
	return ms, ok
}

// days reads the query's from and to, days of the brand ("2026-08-01"), both
// included, as UTC midnights (as metricsReport takes them). Without to the
// period ends today; without from it is DefaultPeriodDays long. It writes a 400
// and reports false when they are not valid or the period is longer than
// MaxMetricsDays.
func (a *API) days(w http.ResponseWriter, q map[string]string) (from, to time.Time, ok bool) {
	y, m, d := a.now().In(a.metricsZone()).Date()
	to = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	parse := func(name string, dst *time.Time) bool {
		s, given := q[name]
		if !given {
			return true
		}
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			badRequest(w, "bad_query", "%s: %q is not a day: write it like 2026-08-01 (a day of the brand's time zone)", name, s)
			return false
		}
		*dst = t
		return true
	}
	if !parse("to", &to) {
		return from, to, false
	}
	from = to.AddDate(0, 0, 1-DefaultPeriodDays)
	if !parse("from", &from) {
		return from, to, false
	}
	switch days := int(to.Sub(from)/(24*time.Hour)) + 1; {
	case days < 1:
		badRequest(w, "bad_query", "from: %s is after to (%s)", from.Format(time.DateOnly), to.Format(time.DateOnly))
		return from, to, false
	case days > MaxMetricsDays:
		badRequest(w, "bad_query", "from, to: %s to %s is %d days, more than %d: ask for a shorter period", from.Format(time.DateOnly), to.Format(time.DateOnly), days, MaxMetricsDays)
		return from, to, false
	}
	return from, to, true
}
