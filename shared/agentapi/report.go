package agentapi

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/httpjson"
	"github.com/pajarito-care/pajarito/shared/metrics"
	"github.com/pajarito-care/pajarito/shared/report"
)

// GET /v1/report?from=YYYY-MM-DD&to=YYYY-MM-DD&lang=es|en is the service report
// (package report) of the period: one self-contained HTML page, or, asked for
// with Accept: application/json, its data (report.Data), which `pajarito report`
// renders. The period is read as by GET /v1/staffing; lang defaults to the
// protocol's default language when it is es or en, else es.
//
// The figures come from the metrics' roll-ups, as GET /v1/metrics serves them:
// the totals and the days' CSAT from the daily totals, the volume by hour and
// intent from the days' groups by intent, the first-response histogram from
// their merged distributions (a bin of the roll-ups goes whole to the
// histogram's bin holding its value, within 1% of every value in it), the X
// spend from the months the period touches, and the staffing plan as GET
// /v1/staffing makes it.

// reportCSP is the page's Content-Security-Policy: it loads nothing, runs
// nothing, and keeps its inline styles.
const reportCSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (a *API) getReport(w http.ResponseWriter, r *http.Request) {
	q, ok := query(w, r, "from", "to", "lang")
	if !ok {
		return
	}
	lang := a.reportLang()
	if s, given := q["lang"]; given {
		if !slices.Contains(report.Langs, s) {
			badRequest(w, "bad_lang", "lang %q: the report is written in %s", s, strings.Join(report.Langs, " or "))
			return
		}
		lang = s
	}
	ms, ok := a.metricsStore(w)
	if !ok {
		return
	}
	from, to, ok := a.days(w, q)
	if !ok {
		return
	}
	data, err := a.reportData(r.Context(), ms, from, to)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	w.Header().Set("Vary", "Accept")
	if prefersJSON(r.Header.Get("Accept")) {
		httpjson.Write(w, http.StatusOK, data)
		return
	}
	var page bytes.Buffer
	if err := report.Render(&page, *data, lang); err != nil {
		a.internal(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", reportCSP)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(page.Bytes())
}

// reportLang is the report's default language: the protocol's, when the report
// is written in it.
func (a *API) reportLang() string {
	if l := a.Engine.Config().DefaultLang; slices.Contains(report.Langs, l) {
		return l
	}
	return report.Langs[0]
}

// prefersJSON reports whether an Accept header ranks application/json above
// text/html (an absent header, or */*, is HTML).
func prefersJSON(accept string) bool {
	var jsonQ, htmlQ float64
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(s, 64); err != nil {
				continue
			}
		}
		switch mt {
		case "application/json":
			jsonQ = max(jsonQ, q)
		case "text/html", "text/*", "*/*":
			htmlQ = max(htmlQ, q)
		}
	}
	return jsonQ > 0 && jsonQ > htmlQ
}

// reportData reads the report's data for the days from to to (UTC midnights, as
// days returns them).
func (a *API) reportData(ctx context.Context, ms MetricsStore, from, to time.Time) (*report.Data, error) {
	loc := a.metricsZone()
	rep, err := a.metricsReport(ctx, ms, from, to, metrics.Day)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	intents, err := intentGroups(ctx, ms, rep.From, rep.To)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	plan, err := a.staffingPlan(rep)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}

	t := rep.Total
	d := &report.Data{
		Brand:       a.Brand,
		From:        time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, loc),
		To:          time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, loc),
		Timezone:    loc.String(),
		GeneratedAt: a.now(),
		Summary: report.Summary{
			Cases:               int(t.Cases),
			FirstResponseMedian: t.FirstResponse.Median,
			FirstResponseP90:    t.FirstResponse.P90,
			ResolutionMedian:    t.Resolution.Median,
			CSAT:                t.CSATAverage,
			CSATResponses:       int(t.CSATAnswers),
			Unanswered:          int(t.Unanswered),
			AutomaticReplies:    int(t.AutomaticReplies),
			HumanReplies:        int(t.HumanReplies),
		},
		Volume:   []report.HourVolume{},
		CSAT:     []report.DayCSAT{},
		Staffing: plan.Hours,
		Target:   &plan.Target,
	}
	if len(rep.Spend) > 0 {
		var usd float64
		for _, m := range rep.Spend {
			usd += m.TotalUSD
			d.Summary.XSpendMonths = append(d.Summary.XSpendMonths, m.Month)
		}
		usd = roundUSD(usd)
		d.Summary.XSpendUSD = &usd
	}
	for h := range 24 {
		hv := report.HourVolume{Hour: h, Intents: map[string]int{}}
		for intent, g := range intents {
			if n := g.CasesByHour[h]; n > 0 {
				hv.Intents[intent] = int(n)
			}
		}
		if len(hv.Intents) > 0 {
			d.Volume = append(d.Volume, hv)
		}
	}
	var frt metrics.Dist // every case is in one intent group
	for _, g := range intents {
		frt.Merge(&g.FirstResponse)
	}
	if d.FirstResponse, err = histogram(&frt, report.FirstResponseEdges); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	d.FirstResponse.Median, d.FirstResponse.P90 = t.FirstResponse.Median, t.FirstResponse.P90
	if d.Crises, err = a.reportCrises(ctx, d.From, d.To); err != nil {
		return nil, fmt.Errorf("report: crises: %w", err)
	}
	for _, g := range rep.Groups { // by day
		if g.CSATAverage != nil && g.CSATAnswers > 0 {
			d.CSAT = append(d.CSAT, report.DayCSAT{Day: g.Key, Mean: *g.CSATAverage, Responses: int(g.CSATAnswers)})
		}
	}
	return d, nil
}

// intentGroups reads and merges the days' roll-ups by intent, fromDay to toDay,
// with their distributions.
func intentGroups(ctx context.Context, ms MetricsStore, fromDay, toDay string) (map[string]*metrics.Aggregate, error) {
	rollups, err := ms.ListRollups(ctx, string(metrics.Intent), fromDay, toDay, true)
	if err != nil {
		return nil, fmt.Errorf("roll-ups by intent from %s to %s: %w", fromDay, toDay, err)
	}
	groups := map[string]*metrics.Aggregate{}
	for _, ru := range rollups {
		day, err := metrics.DecodeGroups(ru.Body)
		if err != nil {
			return nil, fmt.Errorf("roll-up by intent of %s: %w", ru.Day, err)
		}
		metrics.MergeGroups(groups, day)
	}
	return groups, nil
}

// histogram counts a metrics distribution of seconds into the bins edges bound
// (as report.NewHistogram does). A value kept by the distribution counts as
// itself; a bin of its histogram counts whole at its value, the harmonic mean of
// its bounds, which is within 1% of every value in it (metrics.Dist).
func histogram(d *metrics.Dist, edges []time.Duration) (report.Histogram, error) {
	h, err := report.NewHistogram(nil, edges)
	if err != nil {
		return report.Histogram{}, err
	}
	for i, n := range d.Counts {
		if n == 0 {
			continue
		}
		v := distBinValue(d.Lo + i)
		j := len(edges)
		for k, e := range edges {
			if v < e.Seconds() {
				j = k
				break
			}
		}
		h.Bins[j].Count += int(n)
	}
	return h, nil
}

// distBinValue is the value metrics.Dist's bin b stands for: b itself up to
// metrics.ExactUpTo; above, bin ExactUpTo+k holds (ExactUpTo·Growth^(k-1),
// ExactUpTo·Growth^k], and stands for the harmonic mean of those bounds.
func distBinValue(b int) float64 {
	if b <= metrics.ExactUpTo {
		return float64(b)
	}
	hi := metrics.ExactUpTo * math.Pow(metrics.Growth, float64(b-metrics.ExactUpTo))
	lo := hi / metrics.Growth
	return math.Round(2 * lo * hi / (lo + hi))
}
