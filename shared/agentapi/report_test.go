package agentapi_test

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/metrics"
	"github.com/pajarito-care/pajarito/shared/report"
	"github.com/pajarito-care/pajarito/shared/store"
)

// getAccept is a GET with the local agent's token and an Accept header.
func (e *env) getAccept(t *testing.T, path, accept string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	return response{status: res.StatusCode, header: res.Header, body: readAll(t, res)}
}

func TestReportData(t *testing.T) {
	e := serveMeasured(t, staffingNow, config.Staffing{}, nil)
	facts := seedWeek(t, e)
	for _, sp := range []store.SourceSpend{
		{Source: "mentions", Kind: "mentions", Reads: 1000, Pages: 10, USD: 1.5},
		{Source: "replies", Kind: store.SpendKindReply, Reads: 25, Pages: 25, USD: 0.25},
	} {
		if err := e.store.AddSpend(t.Context(), staffingNow, sp); err != nil {
			t.Fatal(err)
		}
	}
	const period = "?from=2026-08-03&to=2026-08-10"
	var d report.Data
	ok(t, e.getAccept(t, "/v1/report"+period, "application/json"), http.StatusOK, &d)

	if d.Brand != "PajaritoAir" || d.Timezone != "Europe/Madrid" || !d.GeneratedAt.Equal(staffingNow) ||
		!d.From.Equal(time.Date(2026, 8, 3, 0, 0, 0, 0, madridZone)) || !d.To.Equal(time.Date(2026, 8, 11, 0, 0, 0, 0, madridZone)) {
		t.Errorf("report of %q in %s, %s to %s, at %s", d.Brand, d.Timezone, d.From, d.To, d.GeneratedAt)
	}

	// The headline figures are GET /v1/metrics's.
	var m agentapi.MetricsReport
	ok(t, e.get(t, "/v1/metrics"+period), http.StatusOK, &m)
	tot := m.Total
	s := d.Summary
	if s.Cases != len(facts) || int64(s.Cases) != tot.Cases || !samePtr(s.FirstResponseMedian, tot.FirstResponse.Median) ||
		!samePtr(s.FirstResponseP90, tot.FirstResponse.P90) || !samePtr(s.ResolutionMedian, tot.Resolution.Median) ||
		!samePtr(s.CSAT, tot.CSATAverage) || int64(s.CSATResponses) != tot.CSATAnswers || int64(s.Unanswered) != tot.Unanswered ||
		int64(s.AutomaticReplies) != tot.AutomaticReplies || int64(s.HumanReplies) != tot.HumanReplies {
		t.Errorf("summary %+v\ndiffers from the metrics' total %+v", s, tot)
	}
	var auto, human int
	for _, f := range facts {
		for _, r := range f.Replies {
			if r.Kind.Automatic() {
				auto++
			} else {
				human++
			}
		}
	}
	if s.AutomaticReplies != auto || s.HumanReplies != human || s.Unanswered != 0 || s.CSAT == nil || s.FirstResponseMedian == nil {
		t.Errorf("summary %+v: want %d automatic and %d human replies, none unanswered, CSAT and first response measured", s, auto, human)
	}
	if s.XSpendUSD == nil || *s.XSpendUSD != 1.75 || !slices.Equal(s.XSpendMonths, []string{"2026-08"}) {
		t.Errorf("X spend %v in %v, want 1.75 in 2026-08", s.XSpendUSD, s.XSpendMonths)
	}

	// Volume, first-response histogram and CSAT by day, counted from the facts.
	wantVolume := map[[2]any]int{}
	var frts []time.Duration
	csat := map[string][2]int{} // day → sum, answers
	for _, f := range facts {
		c := f.Case
		wantVolume[[2]any{c.CreatedAt.In(madridZone).Hour(), c.Intent}]++
		if c.FirstResponseAt != nil {
			frts = append(frts, c.FirstResponseAt.Sub(c.FirstInboundAt))
		}
		if c.CSAT != nil {
			day := c.CreatedAt.In(madridZone).Format(time.DateOnly)
			csat[day] = [2]int{csat[day][0] + *c.CSAT, csat[day][1] + 1}
		}
	}
	gotVolume := map[[2]any]int{}
	for _, hv := range d.Volume {
		for in, n := range hv.Intents {
			gotVolume[[2]any{hv.Hour, in}] += n
		}
	}
	if !mapsEqual(gotVolume, wantVolume) {
		t.Errorf("volume %v, want %v", gotVolume, wantVolume)
	}
	wantHist, err := report.NewHistogram(frts, report.FirstResponseEdges)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.FirstResponse.Bins, wantHist.Bins) || !samePtr(d.FirstResponse.Median, tot.FirstResponse.Median) || !samePtr(d.FirstResponse.P90, tot.FirstResponse.P90) {
		t.Errorf("first response %+v, want bins %+v with the metrics' median and p90", d.FirstResponse, wantHist.Bins)
	}
	var wantDays []string
	for day, sa := range csat {
		wantDays = append(wantDays, day)
		i := slices.IndexFunc(d.CSAT, func(c report.DayCSAT) bool { return c.Day == day })
		if i < 0 || d.CSAT[i].Responses != sa[1] || math.Abs(d.CSAT[i].Mean-float64(sa[0])/float64(sa[1])) > 1e-9 {
			t.Errorf("CSAT of %s: %v, want %d answers averaging %v", day, d.CSAT, sa[1], float64(sa[0])/float64(sa[1]))
		}
	}
	if len(d.CSAT) != len(wantDays) {
		t.Errorf("CSAT of %d days, want %d", len(d.CSAT), len(wantDays))
	}

	// The staffing plan is GET /v1/staffing's.
	var plan agentapi.StaffingPlan
	ok(t, e.get(t, "/v1/staffing"+period), http.StatusOK, &plan)
	if !slices.Equal(d.Staffing, plan.Hours) || d.Target == nil || *d.Target != plan.Target {
		t.Errorf("staffing %+v (target %v), want GET /v1/staffing's %+v (%v)", d.Staffing, d.Target, plan.Hours, plan.Target)
	}

	// The page is that data rendered.
	for _, lang := range report.Langs {
		r := e.getAccept(t, "/v1/report"+period+"&lang="+lang, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
		if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("%s: status %d, %s: %s", lang, r.status, r.header.Get("Content-Type"), r.body)
		}
		if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: Content-Security-Policy %q lets the page load things", lang, csp)
		}
		var want bytes.Buffer
		if err := report.Render(&want, d, lang); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(r.body, want.Bytes()) {
			t.Errorf("%s: the page is not the report of its data", lang)
		}
	}
}

func samePtr(a, b *float64) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func mapsEqual[K comparable](a, b map[K]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestReportNegotiation(t *testing.T) {
	e := serveMeasured(t, staffingNow, config.Staffing{}, nil)
	tests := []struct {
		accept, query string
		json          bool
		lang          string
	}{
		{"", "", false, "en"}, // the protocol's default language
		{"", "?lang=es", false, "es"},
		{"*/*", "", false, "en"},
		{"text/html, application/json;q=0.9", "", false, "en"},
		{"application/json", "", true, ""},
		{"application/json, */*;q=0.1", "", true, ""},
		{"text/html;q=0.5, application/json", "?lang=es", true, ""},
		{"image/png", "", false, "en"},
	}
	for _, tt := range tests {
		r := e.getAccept(t, "/v1/report"+tt.query, tt.accept)
		if r.status != http.StatusOK {
			t.Fatalf("Accept %q: status %d: %s", tt.accept, r.status, r.body)
		}
		if r.header.Get("Vary") != "Accept" {
			t.Errorf("Accept %q: Vary %q, want Accept", tt.accept, r.header.Get("Vary"))
		}
		if tt.json {
			var d report.Data
			decode(t, r, &d)
			continue
		}
		if !bytes.HasPrefix(r.body, []byte("<!DOCTYPE html>")) || !bytes.Contains(r.body, []byte(`<html lang="`+tt.lang+`">`)) {
			t.Errorf("Accept %q%s: not the %s page: %.80s", tt.accept, tt.query, tt.lang, r.body)
		}
	}
}

func TestReportEmpty(t *testing.T) {
	e := serveMeasured(t, staffingNow, config.Staffing{}, nil)
	r := e.getAccept(t, "/v1/report?lang=es", "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if n := bytes.Count(r.body, []byte(`data-empty="true">Sin datos todavía<`)); n != 4 {
		t.Errorf("%d charts say there is no data yet, want 4", n)
	}
	if bytes.Contains(r.body, []byte("<svg class=\"chart\"")) {
		t.Error("an empty report draws a chart")
	}
	var d report.Data
	ok(t, e.getAccept(t, "/v1/report", "application/json"), http.StatusOK, &d)
	if d.Summary.Cases != 0 || len(d.Volume) != 0 || len(d.CSAT) != 0 || len(d.Staffing) != 24 {
		t.Errorf("empty report data %+v", d)
	}
}

// TestReportHistogramOfRollups checks the histogram of stored roll-ups, whose
// distributions keep bins only: values far from the edges land in their bins.
func TestReportHistogramOfRollups(t *testing.T) {
	e := serveMeasured(t, staffingNow, config.Staffing{}, nil)
	frts := []time.Duration{0, 30 * time.Second, 99 * time.Second, 4 * time.Minute, 6 * time.Minute, 14 * time.Minute,
		20 * time.Minute, 50 * time.Minute, 90 * time.Minute, 3 * time.Hour, 5 * time.Hour, 20 * time.Hour, 50 * time.Hour}
	var facts []metrics.CaseFacts
	for i, frt := range frts {
		f := fact(i+1, time.Date(2026, 8, 4, 10, i, 0, 0, madridZone), "question", frt, 0)
		if frt == 0 { // answered at once
			r := f.Case.CreatedAt
			f.Case.FirstResponseAt, f.Case.Status = &r, "pending"
		}
		facts = append(facts, f)
	}
	rollUp(t, e.store, "2026-08-04", facts, time.Date(2026, 8, 5, 3, 0, 0, 0, madridZone))
	var d report.Data
	ok(t, e.getAccept(t, "/v1/report?from=2026-08-04&to=2026-08-04", "application/json"), http.StatusOK, &d)
	var got []int
	for _, b := range d.FirstResponse.Bins {
		got = append(got, b.Count)
	}
	// <5m: 0, 30s, 99s, 4m; 5–15m: 6m, 14m; 15–30m; 30m–1h; 1–2h; 2–4h; 4–8h; 8–24h; ≥24h.
	if want := []int{4, 2, 1, 1, 1, 1, 1, 1, 1}; !slices.Equal(got, want) {
		t.Errorf("bins %v, want %v", got, want)
	}
	if body, _ := json.Marshal(d.FirstResponse); d.FirstResponse.Median == nil || *d.FirstResponse.Median != (20*time.Minute).Seconds() {
		t.Errorf("histogram %s: median want the 7th of 13 values, 1200 s", body)
	}
}

// TestOpenAPIReportContent checks that GET /v1/report documents both of its
// answers, the HTML page and its data (TestOpenAPISchemasMatchTypes checks the
// schemas).
func TestOpenAPIReportContent(t *testing.T) {
	doc := loadOpenAPI(t)
	op := doc.Paths["/v1/report"]["get"]
	var content map[string]json.RawMessage
	if err := json.Unmarshal(op.Responses["200"], &struct {
		Content *map[string]json.RawMessage `json:"content"`
	}{&content}); err != nil {
		t.Fatal(err)
	}
	if _, ok := content["text/html"]; !ok {
		t.Error("GET /v1/report documents no text/html response")
	}
	if _, ok := content["application/json"]; !ok {
		t.Error("GET /v1/report documents no application/json response")
	}
}

// TestReportCrises: the report's Crises section holds every crisis open in
// the period: an earlier crisis on a topic (archived once its follow-ups were
// done) as well as the topic's current one, each once, oldest first.
func TestReportCrises(t *testing.T) {
	e := serveMeasured(t, staffingNow, config.Staffing{}, nil)
	ctx := t.Context()
	first := staffingNow.Add(-30 * time.Hour)
	open := care.CrisisState{Topic: "delays", Active: true, Since: first, OpenedBy: "auto", Threshold: 25, Reason: "spike"}
	if ok, err := e.store.OpenCrisis(ctx, open); !ok || err != nil {
		t.Fatalf("open: %v %v", ok, err)
	}
	closed := open
	closed.Active, closed.ClosedAt, closed.ClosedBy = false, first.Add(2*time.Hour), "auto"
	if ok, err := e.store.CloseCrisis(ctx, "delays", first, false, closed); !ok || err != nil {
		t.Fatalf("close: %v %v", ok, err)
	}
	if ok, err := e.store.FinishFollowUps(ctx, "delays", first, store.FollowUpJob{DoneAt: first.Add(3 * time.Hour), Customers: 12, Queued: 11,
		Skipped: map[string]int{"answered_by_person": 1}, Crisis: &closed}); !ok || err != nil {
		t.Fatalf("finish: %v %v", ok, err)
	}
	second := staffingNow.Add(-2 * time.Hour)
	if ok, err := e.store.OpenCrisis(ctx, care.CrisisState{Topic: "delays", Active: true, Manual: true, Since: second, OpenedBy: "agent-sup"}); !ok || err != nil {
		t.Fatalf("open again: %v %v", ok, err)
	}
	var d report.Data
	ok(t, e.getAccept(t, "/v1/report?from="+first.Format("2006-01-02")+"&to="+staffingNow.Format("2006-01-02"), "application/json"), http.StatusOK, &d)
	if len(d.Crises) != 2 {
		t.Fatalf("the report's crises: %+v; want the archived one and the current one", d.Crises)
	}
	a, b := d.Crises[0], d.Crises[1]
	if !a.Events[0].At.Equal(first) || a.FollowUps == nil || a.FollowUps.Told != 11 || len(a.Events) != 3 || a.Events[1].Kind != report.EventClosed || a.Events[2].Kind != report.EventFollowUpsDone ||
		!b.Events[0].At.Equal(second) || b.Events[0].By != agentSuper.Name && b.Events[0].By != "agent-sup" || len(b.Events) != 1 {
		t.Errorf("the report's crises: %+v", d.Crises)
	}
}
