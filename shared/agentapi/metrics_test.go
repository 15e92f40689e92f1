package agentapi_test

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/metrics"
	"github.com/pajarito-care/pajarito/shared/store"
)

// metricsStore is a store holding the roll-ups of two days (the API's zone is
// UTC, its clock 3 August 2026 10:00) and the X spend of July and August:
//
//	case  day     department  first response  resolved  replies sent          survey
//	m1    1 Aug   billing     60 s            -         auto_ack $0.015       -
//	m2    1 Aug   support     600 s           7200 s    agent $0.010          -
//	m3    2 Aug   billing     3600 s          3600 s    agent $0.010          CSAT 5
func metricsStore(t *testing.T) *store.Store {
	t.Helper()
	s := newStore(t)
	day := func(d, h int) time.Time { return time.Date(2026, 8, d, h, 0, 0, 0, time.UTC) }
	kase := func(id string, created time.Time, dept string, first, resolved time.Duration, reply care.ReplyKind, usd float64) metrics.CaseFacts {
		c := care.Case{ID: id, Channel: care.Public, Status: care.Pending, Department: dept, CreatedAt: created, FirstInboundAt: created,
			FirstResponseAt: new(created.Add(first)), MessagesIn: 1, MessagesOut: 1}
		if resolved > 0 {
			c.Status, c.ResolvedAt = care.Resolved, new(created.Add(resolved))
		}
		return metrics.CaseFacts{Case: c, Replies: []care.ReplyStatus{{Kind: reply, Channel: care.Public, State: care.ReplySent, CostUSD: usd}}}
	}
	m3 := kase("m3", day(2, 9), "billing", time.Hour, time.Hour, care.ReplyAgent, 0.010)
	m3.Case.SurveySentAt, m3.Case.CSAT = new(day(2, 11)), new(5)
	days := []struct {
		day      string
		computed time.Time
		final    bool
		facts    []metrics.CaseFacts
	}{
		{"2026-08-01", day(2, 0), false, []metrics.CaseFacts{
			kase("m1", day(1, 10), "billing", time.Minute, 0, care.ReplyAutoAck, 0.015),
			kase("m2", day(1, 11), "support", 10*time.Minute, 2*time.Hour, care.ReplyAgent, 0.010),
		}},
		{"2026-08-02", day(3, 0), true, []metrics.CaseFacts{m3}},
	}
	for _, d := range days {
		for _, dim := range append([]metrics.Dimension{metrics.None}, metrics.RolledUp...) {
			sum := metrics.Compute(d.facts, dim, metrics.Options{})
			name := string(dim)
			if dim == metrics.None {
				name = metrics.AllDimension
			}
			body, err := metrics.EncodeGroups(sum.Groups)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.PutRollup(t.Context(), store.Rollup{Day: d.day, Dimension: name, ComputedAt: d.computed, Final: d.final, Cases: len(d.facts), Body: body}, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, sp := range []struct {
		at time.Time
		s  store.SourceSpend
	}{
		{day(1, 0).AddDate(0, 0, -17), store.SourceSpend{Source: "mentions", Kind: "mentions", Reads: 1500, USD: 1.5}},
		{day(2, 0), store.SourceSpend{Source: "mentions", Kind: "mentions", Reads: 2000, USD: 2}},
		{day(2, 0), store.SourceSpend{Source: "search-es", Kind: "search", Reads: 50, USD: 0.25}},
		{day(2, 0), store.SourceSpend{Source: "reply.post", Kind: store.SpendKindReply, USD: 0.035}},
	} {
		if err := s.AddSpend(t.Context(), sp.at, sp.s); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// figures is what the tests check of a group: its key and cases, the first
// response's median and p90, the resolution's median, CSAT average, automatic
// share and reply cost ("-" for null).
func figures(m metrics.Metrics) string {
	f := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%.4g", *p)
	}
	return fmt.Sprintf("%s: %d cases, first response %s/%s, resolution %s, CSAT %s, automatic %s, $%.3f",
		m.Key, m.Cases, f(m.FirstResponse.Median), f(m.FirstResponse.P90), f(m.Resolution.Median), f(m.CSATAverage), f(m.AutomaticShare), m.ReplyCostUSD)
}

func TestGetMetrics(t *testing.T) {
	e := serve(t, metricsStore(t), nil)
	// From the roll-ups' histograms: 60 and 600 are exact, 3600 stands as 3567
	// and 7200 as 7134 (package metrics). Nearest rank: the median of 2 is the
	// 1st, of 3 the 2nd; the p90 of 2 or 3 is the last.
	total := ": 3 cases, first response 600/3567, resolution 3567, CSAT 5, automatic 0.3333, $0.035" // key ""
	tests := []struct {
		name        string
		query       string
		from, to    string
		by          string
		groups      []string
		days        []string
		missingDays []string
		months      []agentapi.MonthSpend
	}{
		{"the last 7 days by day", "", "2026-07-28", "2026-08-03", "day",
			[]string{
				"2026-08-01: 2 cases, first response 60/600, resolution 7134, CSAT -, automatic 0.5, $0.025",
				"2026-08-02: 1 cases, first response 3567/3567, resolution 3567, CSAT 5, automatic 0, $0.010",
			},
			[]string{"2026-08-01 2026-08-02T00:00:00Z false", "2026-08-02 2026-08-03T00:00:00Z true"},
			[]string{"2026-07-28", "2026-07-29", "2026-07-30", "2026-07-31", "2026-08-03"},
			[]agentapi.MonthSpend{{"2026-07", 1.5, 0, 1.5}, {"2026-08", 2.25, 0.035, 2.285}}},
		{"by department", "?by=department&from=2026-08-01&to=2026-08-02", "2026-08-01", "2026-08-02", "department",
			[]string{
				"billing: 2 cases, first response 60/3567, resolution 3567, CSAT 5, automatic 0.5, $0.025",
				"support: 1 cases, first response 600/600, resolution 7134, CSAT -, automatic 0, $0.010",
			},
			[]string{"2026-08-01 2026-08-02T00:00:00Z false", "2026-08-02 2026-08-03T00:00:00Z true"},
			[]string{},
			[]agentapi.MonthSpend{{"2026-08", 2.25, 0.035, 2.285}}},
		{"by intent: nobody labelled", "?by=intent&from=2026-08-02&to=2026-08-02", "2026-08-02", "2026-08-02", "intent",
			[]string{": 1 cases, first response 3567/3567, resolution 3567, CSAT 5, automatic 0, $0.010"},
			[]string{"2026-08-02 2026-08-03T00:00:00Z true"},
			[]string{},
			[]agentapi.MonthSpend{{"2026-08", 2.25, 0.035, 2.285}}},
		{"to alone: the 7 days before it", "?to=2026-08-01&by=agent", "2026-07-26", "2026-08-01", "agent",
			[]string{": 2 cases, first response 60/600, resolution 7134, CSAT -, automatic 0.5, $0.025"},
			[]string{"2026-08-01 2026-08-02T00:00:00Z false"},
			[]string{"2026-07-26", "2026-07-27", "2026-07-28", "2026-07-29", "2026-07-30", "2026-07-31"},
			[]agentapi.MonthSpend{{"2026-07", 1.5, 0, 1.5}, {"2026-08", 2.25, 0.035, 2.285}}},
		{"nothing rolled up", "?from=2026-06-01&to=2026-06-02&by=lang", "2026-06-01", "2026-06-02", "lang",
			[]string{}, []string{}, []string{"2026-06-01", "2026-06-02"},
			[]agentapi.MonthSpend{{"2026-06", 0, 0, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rep agentapi.MetricsReport
			ok(t, e.get(t, "/v1/metrics"+tt.query), http.StatusOK, &rep)
			if rep.From != tt.from || rep.To != tt.to || rep.By != tt.by || rep.Timezone != "UTC" {
				t.Errorf("period %s to %s by %s in %s, want %s to %s by %s in UTC", rep.From, rep.To, rep.By, rep.Timezone, tt.from, tt.to, tt.by)
			}
			groups := []string{}
			var cases int64
			for _, g := range rep.Groups {
				groups = append(groups, figures(g))
				cases += g.Cases
			}
			if !slices.Equal(groups, tt.groups) {
				t.Errorf("groups\n%s\nwant\n%s", strings.Join(groups, "\n"), strings.Join(tt.groups, "\n"))
			}
			if rep.Total.Cases != cases || (cases == 3 && figures(rep.Total) != total) {
				t.Errorf("total %s, want %d cases (%s)", figures(rep.Total), cases, total)
			}
			days := []string{}
			for _, d := range rep.Days {
				days = append(days, fmt.Sprint(d.Day, " ", d.ComputedAt.Format(time.RFC3339), " ", d.Final))
			}
			if !slices.Equal(days, tt.days) || !slices.Equal(rep.MissingDays, tt.missingDays) {
				t.Errorf("days %q, missing %q; want %q, %q", days, rep.MissingDays, tt.days, tt.missingDays)
			}
			if !reflect.DeepEqual(rep.Spend, tt.months) {
				t.Errorf("spend %+v, want %+v", rep.Spend, tt.months)
			}
		})
	}
}

// The total of the period holds every figure (see package metrics for each one).
func TestGetMetricsTotal(t *testing.T) {
	e := serve(t, metricsStore(t), nil)
	var rep agentapi.MetricsReport
	ok(t, e.get(t, "/v1/metrics?from=2026-08-01&to=2026-08-02"), http.StatusOK, &rep)
	m := rep.Total
	got := []any{m.Cases, m.InboundMessages, *m.FirstResponse.Mean, m.FirstResponse.Count, m.FirstResponseBusiness.Count,
		*m.Resolution.Mean, *m.Posts.Mean, *m.DMs.Median, m.Resolved, m.Reopened, *m.ReopenRate, m.SurveysSent, m.SurveysAnswered,
		*m.CSATResponseRate, m.Unanswered, m.AutomaticReplies, m.HumanReplies, m.CasesByHour[9] + m.CasesByHour[10] + m.CasesByHour[11]}
	// First responses (60+600+3600)/3; no business time (none was computed);
	// resolutions (7200+3600)/2; 2 posts per case, no DMs.
	want := []any{int64(3), int64(3), 1420.0, int64(3), int64(0),
		5400.0, 2.0, 0.0, int64(2), int64(0), 0.0, int64(1), int64(1),
		1.0, int64(0), int64(1), int64(2), int64(3)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("total %v\nwant  %v", got, want)
	}
}

func TestGetMetricsRefuses(t *testing.T) {
	e := serve(t, metricsStore(t), nil)
	tests := []struct {
		query string
		names string // what the message names
	}{
		{"?by=week", "by:"},
		{"?by=none", "by:"},
		{"?from=2026-13-01", "from:"},
		{"?to=yesterday", "to:"},
		{"?from=2026-08-03T00:00:00Z", "from:"},
		{"?from=2026-08-03&to=2026-08-02", "from:"},
		{"?from=2026-05-01&to=2026-08-01", "93 days, more than 92"},
		{"?from=2026-08-01&from=2026-08-02", `"from"`},
		{"?since=2026-08-01", `"since"`},
	}
	for _, tt := range tests {
		r := e.get(t, "/v1/metrics"+tt.query)
		var er apiError
		ok(t, r, http.StatusBadRequest, &er)
		if er.Error.Code != "bad_query" || !strings.Contains(er.Error.Message, tt.names) {
			t.Errorf("%s: %s %q, want bad_query naming %s", tt.query, er.Error.Code, er.Error.Message, tt.names)
		}
	}
	// 92 days is the longest period.
	var rep agentapi.MetricsReport
	ok(t, e.get(t, "/v1/metrics?from=2026-05-02&to=2026-08-01"), http.StatusOK, &rep)
	if len(rep.MissingDays)+len(rep.Days) != 92 {
		t.Errorf("92 days: %d rolled up, %d missing", len(rep.Days), len(rep.MissingDays))
	}
}

// A Store without roll-ups cannot serve the metrics.
func TestGetMetricsWithoutRollups(t *testing.T) {
	s := newStore(t)
	e := serve(t, s, struct{ agentapi.Store }{s})
	var er apiError
	ok(t, e.get(t, "/v1/metrics"), http.StatusServiceUnavailable, &er)
	if er.Error.Code != "metrics_unavailable" {
		t.Errorf("code %q", er.Error.Code)
	}
}
