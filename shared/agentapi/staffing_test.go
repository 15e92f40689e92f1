package agentapi_test

import (
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/metrics"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/report"
	"github.com/pajarito-care/pajarito/shared/staffing"
	"github.com/pajarito-care/pajarito/shared/store"
)

var madridZone = func() *time.Location {
	l, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		panic(err)
	}
	return l
}()

// serveMeasured starts an API over a fresh store, its brand in Madrid, its clock
// at now, with staffing s (zero: the defaults); storeOverride replaces the API's
// Store when not nil.
func serveMeasured(t *testing.T, now time.Time, s config.Staffing, storeOverride agentapi.Store) *env {
	t.Helper()
	c := testConfig()
	c.Timezone = "Europe/Madrid"
	eng, err := protocol.New(c)
	if err != nil {
		t.Fatal(err)
	}
	st := newStore(t)
	e := &env{store: st, outbox: &outbox{}, inbox: &inbox{}, dlq: &deadLetters{}, engine: eng, logs: &syncBuffer{}}
	log := slog.New(slog.NewJSONHandler(e.logs, nil))
	var as agentapi.Store = st
	if storeOverride != nil {
		as = storeOverride
	}
	api, err := agentapi.New(agentapi.Deps{
		Store: as, Engine: eng, Crisis: eng.Monitor(st, nil, log), Outbox: e.outbox, Inbox: e.inbox, DeadLetters: e.dlq,
		Auth: testTokens, Log: log, Now: func() time.Time { return now }, Staffing: s, Brand: "PajaritoAir",
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	e.base = srv.URL
	return e
}

// fact is a case created at created (Madrid), of intent, answered after frt
// (none when 0), with a CSAT answer (none when 0) and replies of kinds.
func fact(n int, created time.Time, intent string, frt time.Duration, csat int, kinds ...care.ReplyKind) metrics.CaseFacts {
	c := care.Case{
		ID: fmt.Sprintf("t%019d", n), Channel: care.Public, Status: care.Pending,
		CreatedAt: created, FirstInboundAt: created, UpdatedAt: created, Intent: intent, MessagesIn: 1,
	}
	if frt > 0 {
		r := created.Add(frt)
		c.FirstResponseAt, c.LastOutboundAt = &r, &r
		c.MessagesOut = len(kinds)
	} else {
		c.Status = care.Open
	}
	if csat > 0 {
		sent := created.Add(frt + time.Hour)
		c.SurveySentAt, c.CSAT, c.CSATAt = &sent, &csat, &sent
	}
	f := metrics.CaseFacts{Case: c}
	for i, k := range kinds {
		f.Replies = append(f.Replies, care.ReplyStatus{
			Key: fmt.Sprintf("%s-%d", c.ID, i), CaseID: c.ID, Kind: k, Channel: care.Public, State: care.ReplySent, CostUSD: 0.01,
		})
	}
	return f
}

// rollUp stores day's roll-ups of facts as the monitor does: the groups by
// each rolled-up dimension, and the totals, computed at computedAt.
func rollUp(t *testing.T, s *store.Store, day string, facts []metrics.CaseFacts, computedAt time.Time) {
	t.Helper()
	opt := metrics.Options{Location: madridZone, Now: computedAt}
	put := func(dimension string, groups map[string]*metrics.Aggregate) {
		body, err := metrics.EncodeGroups(groups)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutRollup(t.Context(), store.Rollup{Day: day, Dimension: dimension, ComputedAt: computedAt, Cases: len(facts), Body: body}, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, dim := range metrics.RolledUp {
		put(string(dim), metrics.Compute(facts, dim, opt).Groups)
	}
	total := metrics.Compute(facts, metrics.None, opt).Total
	put(metrics.AllDimension, map[string]*metrics.Aggregate{"": &total})
}

// staffingNow is the measured API's clock: 10 August 2026, 14:00 in Madrid.
var staffingNow = time.Date(2026, 8, 10, 14, 0, 0, 0, madridZone)

// seedWeek rolls up, in e's store, 3 to 10 August 2026 but the 6th (not rolled
// up): 14 cases a day at 09:xx (intents in turn), one more at 03:15 on the 5th
// and at 15:00 on the 4th, and on the 10th (today, rolled up at 12:00) 7 at
// 09:xx. It returns the facts rolled up.
func seedWeek(t *testing.T, e *env) []metrics.CaseFacts {
	t.Helper()
	intents := []string{"complaint", "question", "incident", "praise", ""}
	frts := []time.Duration{time.Minute, 10 * time.Minute, 45 * time.Minute, 3 * time.Hour, 0, 30 * time.Hour, 2 * time.Minute}
	var all []metrics.CaseFacts
	n := 0
	for d := 3; d <= 10; d++ {
		if d == 6 {
			continue
		}
		var facts []metrics.CaseFacts
		per := 14
		if d == 10 {
			per = 7
		}
		for i := range per {
			n++
			kinds := []care.ReplyKind{care.ReplyAgent}
			if i%3 == 0 {
				kinds = []care.ReplyKind{care.ReplyAutoAck, care.ReplyAgent}
			}
			frt := frts[n%len(frts)]
			csat := 0
			if i%4 == 0 && frt > 0 {
				csat = 1 + (n+d)%5
			}
			facts = append(facts, fact(n, time.Date(2026, 8, d, 9, 2*i, 0, 0, madridZone), intents[n%len(intents)], frt, csat, kinds...))
		}
		if d == 5 {
			n++
			facts = append(facts, fact(n, time.Date(2026, 8, 5, 3, 15, 0, 0, madridZone), "sales", 70*time.Minute, 5, care.ReplyAgent))
		}
		if d == 4 {
			n++
			facts = append(facts, fact(n, time.Date(2026, 8, 4, 15, 0, 0, 0, madridZone), "complaint", 0, 0))
		}
		computed := time.Date(2026, 8, d+1, 3, 0, 0, 0, madridZone) // after the day: final
		if d == 10 {
			computed = time.Date(2026, 8, 10, 12, 0, 0, 0, madridZone)
		}
		rollUp(t, e.store, fmt.Sprintf("2026-08-%02d", d), facts, computed)
		all = append(all, facts...)
	}
	return all
}

func TestAddHoursOfDay(t *testing.T) {
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		from, to time.Time
		loc      *time.Location
		want     map[int]float64 // hour → hours; every other hour 0
	}{
		{"a day", time.Date(2026, 8, 3, 0, 0, 0, 0, madridZone), time.Date(2026, 8, 4, 0, 0, 0, 0, madridZone), madridZone, everyHour(1)},
		{"two days", time.Date(2026, 8, 3, 0, 0, 0, 0, time.UTC), time.Date(2026, 8, 5, 0, 0, 0, 0, time.UTC), time.UTC, everyHour(2)},
		{"part of an hour", time.Date(2026, 8, 3, 9, 30, 0, 0, time.UTC), time.Date(2026, 8, 3, 10, 15, 0, 0, time.UTC), time.UTC,
			map[int]float64{9: 0.5, 10: 0.25}},
		{"in the zone's hours", time.Date(2026, 8, 3, 7, 0, 0, 0, time.UTC), time.Date(2026, 8, 3, 8, 0, 0, 0, time.UTC), madridZone,
			map[int]float64{9: 1}},
		{"a zone half an hour off", time.Date(2026, 8, 3, 0, 0, 0, 0, kolkata), time.Date(2026, 8, 3, 1, 0, 0, 0, kolkata), kolkata,
			map[int]float64{0: 1}},
		{"the day the clocks go back: two hours of 02", time.Date(2026, 10, 25, 0, 0, 0, 0, madridZone), time.Date(2026, 10, 26, 0, 0, 0, 0, madridZone), madridZone,
			with(everyHour(1), 2, 2)},
		{"the day the clocks go forward: no 02", time.Date(2026, 3, 29, 0, 0, 0, 0, madridZone), time.Date(2026, 3, 30, 0, 0, 0, 0, madridZone), madridZone,
			with(everyHour(1), 2, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [24]float64
			agentapi.AddHoursOfDay(&got, tt.from, tt.to, tt.loc)
			for h, v := range got {
				if math.Abs(v-tt.want[h]) > 1e-9 {
					t.Errorf("hour %d: %v hours, want %v", h, v, tt.want[h])
				}
			}
		})
	}
}

func everyHour(v float64) map[int]float64 {
	m := map[int]float64{}
	for h := range 24 {
		m[h] = v
	}
	return m
}

func with(m map[int]float64, h int, v float64) map[int]float64 {
	m[h] = v
	return m
}

func TestStaffing(t *testing.T) {
	cfg := config.Staffing{
		AnswerWithin: protocol.DurationOf(15 * time.Minute), Fraction: 0.9,
		HandleTime: protocol.DurationOf(10 * time.Minute), MaxOccupancy: 0.8,
	}
	tests := []struct {
		name   string
		cfg    config.Staffing
		target staffing.Target
		handle time.Duration
	}{
		{"configured", cfg, staffing.Target{Fraction: 0.9, Within: 15 * time.Minute, MaxOccupancy: 0.8}, 10 * time.Minute},
		{"defaults", config.Staffing{}, staffing.Target{Fraction: config.DefaultFraction, Within: config.DefaultAnswerWithin, MaxOccupancy: config.DefaultMaxOccupancy}, config.DefaultHandleTime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := serveMeasured(t, staffingNow, tt.cfg, nil)
			facts := seedWeek(t, e)
			var plan agentapi.StaffingPlan
			ok(t, e.get(t, "/v1/staffing?from=2026-08-03&to=2026-08-10"), http.StatusOK, &plan)

			if plan.From != "2026-08-03" || plan.To != "2026-08-10" || plan.Timezone != "Europe/Madrid" ||
				plan.Cases != int64(len(facts)) || !slices.Equal(plan.MissingDays, []string{"2026-08-06"}) {
				t.Errorf("plan of %s to %s in %s, %d cases, missing %v; want 2026-08-03 to 2026-08-10 in Europe/Madrid, %d cases, missing 2026-08-06",
					plan.From, plan.To, plan.Timezone, plan.Cases, plan.MissingDays, len(facts))
			}
			want := report.Target{AnswerWithin: tt.target.Within.Seconds(), Fraction: tt.target.Fraction, HandleTime: tt.handle.Seconds(), MaxOccupancy: tt.target.MaxOccupancy}
			if plan.Target != want {
				t.Errorf("target %+v, want %+v", plan.Target, want)
			}
			// Six whole days and today to noon: 14×6+7 cases at 09 over 7 hours of
			// 09, one at 03 over 7 hours, one at 15 over the 6 whole days' 15.
			rates := map[int]float64{9: (14*6 + 7) / 7.0, 3: 1 / 7.0, 15: 1 / 6.0}
			if len(plan.Hours) != 24 {
				t.Fatalf("%d hours, want 24", len(plan.Hours))
			}
			for h, got := range plan.Hours {
				rate := rates[h]
				if got.Hour != h || math.Abs(got.ArrivalsPerHour-rate) > 1e-9 {
					t.Errorf("hour %d: hour %d, %v arrivals/h; want %v", h, got.Hour, got.ArrivalsPerHour, rate)
				}
				need, err := staffing.AgentsNeeded(rate, tt.handle, tt.target)
				if err != nil {
					t.Fatal(err)
				}
				if got.Agents != need.Agents || got.ServiceLevel != need.ServiceLevel || got.Occupancy != need.Occupancy || got.ASA != need.ASA.Seconds() {
					t.Errorf("hour %d: %+v, want %+v", h, got, need)
				}
				erlangs := rate * tt.handle.Hours()
				switch {
				case rate == 0 && got.Agents != 0:
					t.Errorf("hour %d: %d agents for no arrivals", h, got.Agents)
				case rate > 0 && (got.Agents < 1 || float64(got.Agents)*tt.target.MaxOccupancy < erlangs || got.ServiceLevel < tt.target.Fraction):
					t.Errorf("hour %d: %+v misses the target %+v for %.3f erlangs", h, got, tt.target, erlangs)
				}
			}
		})
	}
}

// TestStaffingFromFirstCases: quiet days rolled up before the first day with
// cases (before the deployment) do not dilute the arrivals.
func TestStaffingFromFirstCases(t *testing.T) {
	e := serveMeasured(t, staffingNow, config.Staffing{}, nil)
	seedWeek(t, e)
	for _, d := range []string{"2026-08-01", "2026-08-02"} {
		rollUp(t, e.store, d, nil, time.Date(2026, 8, 3, 3, 0, 0, 0, madridZone))
	}
	var from1, from3 agentapi.StaffingPlan
	ok(t, e.get(t, "/v1/staffing?from=2026-08-01&to=2026-08-10"), http.StatusOK, &from1)
	ok(t, e.get(t, "/v1/staffing?from=2026-08-03&to=2026-08-10"), http.StatusOK, &from3)
	if want := (14*6 + 7) / 7.0; math.Abs(from1.Hours[9].ArrivalsPerHour-want) > 1e-9 || from1.Hours[9] != from3.Hours[9] {
		t.Errorf("hour 9 from the 1st: %+v; from the 3rd: %+v; want %v arrivals/h both", from1.Hours[9], from3.Hours[9], want)
	}
}

func TestStaffingPeriod(t *testing.T) {
	tests := []struct {
		name, query string
		from, to    string
	}{
		{"default: 28 days to today", "", "2026-07-14", "2026-08-10"},
		{"to only", "?to=2026-07-31", "2026-07-04", "2026-07-31"},
		{"both", "?from=2026-07-01&to=2026-07-31", "2026-07-01", "2026-07-31"},
		{"one day", "?from=2026-08-01&to=2026-08-01", "2026-08-01", "2026-08-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := serveMeasured(t, staffingNow, config.Staffing{}, nil)
			var plan agentapi.StaffingPlan
			ok(t, e.get(t, "/v1/staffing"+tt.query), http.StatusOK, &plan)
			if plan.From != tt.from || plan.To != tt.to {
				t.Errorf("period %s to %s, want %s to %s", plan.From, plan.To, tt.from, tt.to)
			}
			for _, h := range plan.Hours {
				if h.Agents != 0 || h.ArrivalsPerHour != 0 {
					t.Errorf("hour %d of an empty store: %+v", h.Hour, h)
				}
			}
		})
	}
}

// plainStore hides the store's roll-ups from the API.
type plainStore struct{ agentapi.Store }

// TestStaffingAndReportErrors: GET /v1/staffing and GET /v1/report refuse bad
// parameters, and answer 503 from a store without roll-ups.
func TestStaffingAndReportErrors(t *testing.T) {
	tests := []struct {
		name   string
		query  string // path and query
		hide   bool
		status int
		code   string
	}{
		{"not a day", "/v1/staffing?from=1/8/2026", false, http.StatusBadRequest, "bad_query"},
		{"an instant", "/v1/staffing?to=2026-08-01T09:00:00Z", false, http.StatusBadRequest, "bad_query"},
		{"from after to", "/v1/staffing?from=2026-08-02&to=2026-08-01", false, http.StatusBadRequest, "bad_query"},
		{"too long", "/v1/staffing?from=2026-01-01&to=2026-08-01", false, http.StatusBadRequest, "bad_query"},
		{"unknown parameter", "/v1/staffing?by=day", false, http.StatusBadRequest, "bad_query"},
		{"given twice", "/v1/staffing?from=2026-08-01&from=2026-08-02", false, http.StatusBadRequest, "bad_query"},
		{"no roll-ups in this store", "/v1/staffing", true, http.StatusServiceUnavailable, "metrics_unavailable"},
		{"report: unknown language", "/v1/report?lang=fr", false, http.StatusBadRequest, "bad_lang"},
		{"report: bad day", "/v1/report?from=2026-8-1", false, http.StatusBadRequest, "bad_query"},
		{"report: too long", "/v1/report?from=2026-01-01&to=2026-08-01", false, http.StatusBadRequest, "bad_query"},
		{"report: unknown parameter", "/v1/report?format=pdf", false, http.StatusBadRequest, "bad_query"},
		{"report: no roll-ups in this store", "/v1/report", true, http.StatusServiceUnavailable, "metrics_unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var override agentapi.Store
			if tt.hide {
				override = plainStore{newStore(t)}
			}
			e := serveMeasured(t, staffingNow, config.Staffing{}, override)
			wantError(t, e.get(t, tt.query), tt.status, tt.code)
		})
	}
}
