package metrics

import (
	"encoding/json"
	"maps"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
)

var madrid, _ = time.LoadLocation("Europe/Madrid") // UTC+2 in August

func at(day, h, m, s int) time.Time { return time.Date(2026, 8, day, h, m, s, 0, time.UTC) }

func ptr[T any](v T) *T { return &v }

func sent(kind care.ReplyKind, ch care.Channel, usd float64) care.ReplyStatus {
	return care.ReplyStatus{Kind: kind, Channel: ch, State: care.ReplySent, CostUSD: usd}
}

// facts are eight cases; times are UTC, hours of day in Madrid (UTC+2).
//
//	case  day   hour  channel dept    agent lang intent    first response  resolved  msgs in/out  replies sent (other channel)
//	c1    3 Aug  9    public  billing ana   es   complaint 300 s           7200 s    3/3          auto, agent, agent DM (1)  reopened once, CSAT 4
//	c2    3 Aug 12    dm      billing ben   en   question  3600 s          -         2/1          agent DM                   pending
//	c3    3 Aug 22    public  -       -     es   complaint -               -         1/0          -                          open, due 21:00: unanswered
//	c4    3 Aug 23    public  support ana   es   praise    30 s            14400 s   1/2          auto, survey DM (1)        survey not answered
//	c5    3 Aug  0    public  -       -     -    -         (brand first)   -         0/1          -                          pending
//	c6    4 Aug  0    public  billing ben   en   complaint 1800 s          5400 s    2/1          agent                      CSAT 2
//	c7    3 Aug 14    public  support ben   en   complaint 600 s           (reopened) 4/2         agent, agent               open, reopened twice
//	c8    4 Aug  9    dm      support -     es   question  -               -         1/0          -                          open, due 08:30: not yet
//
// Business time is half the wall time (a stub), the due time an hour after the
// first inbound message, and now 4 Aug 08:00 UTC.
var facts = []CaseFacts{
	{Case: care.Case{ID: "c1", Channel: care.Public, Status: care.Resolved, Department: "billing", Assignee: "ana", Lang: "es", Intent: "complaint",
		CreatedAt: at(3, 7, 0, 0), FirstInboundAt: at(3, 7, 0, 0), FirstResponseAt: ptr(at(3, 7, 5, 0)), ResolvedAt: ptr(at(3, 9, 0, 0)),
		MessagesIn: 3, MessagesOut: 3, Reopens: 1, SurveySentAt: ptr(at(3, 9, 10, 0)), CSAT: ptr(4)},
		Replies: []care.ReplyStatus{sent(care.ReplyAutoAck, care.Public, 0.015), sent(care.ReplyAgent, care.Public, 0.010), sent(care.ReplyAgent, care.DM, 0.015),
			{Kind: care.ReplyAgent, Channel: care.Public, State: care.ReplyFailed}}},
	{Case: care.Case{ID: "c2", Channel: care.DM, Status: care.Pending, Department: "billing", Assignee: "ben", Lang: "en", Intent: "question",
		CreatedAt: at(3, 10, 30, 0), FirstInboundAt: at(3, 10, 30, 0), FirstResponseAt: ptr(at(3, 11, 30, 0)), MessagesIn: 2, MessagesOut: 1},
		Replies: []care.ReplyStatus{sent(care.ReplyAgent, care.DM, 0.015)}},
	{Case: care.Case{ID: "c3", Channel: care.Public, Status: care.Open, Lang: "es", Intent: "complaint",
		CreatedAt: at(3, 20, 0, 0), FirstInboundAt: at(3, 20, 0, 0), MessagesIn: 1}},
	{Case: care.Case{ID: "c4", Channel: care.Public, Status: care.Resolved, Department: "support", Assignee: "ana", Lang: "es", Intent: "praise",
		CreatedAt: at(3, 21, 59, 0), FirstInboundAt: at(3, 21, 59, 0), FirstResponseAt: ptr(at(3, 21, 59, 30)), ResolvedAt: ptr(at(4, 1, 59, 0)),
		MessagesIn: 1, MessagesOut: 2, SurveySentAt: ptr(at(4, 2, 10, 0))},
		Replies: []care.ReplyStatus{sent(care.ReplyAutoAck, care.Public, 0.015), sent(care.ReplySurvey, care.DM, 0.015)}},
	{Case: care.Case{ID: "c5", Channel: care.Public, Status: care.Pending,
		CreatedAt: at(2, 22, 30, 0), FirstResponseAt: ptr(at(2, 22, 30, 0)), MessagesOut: 1}},
	{Case: care.Case{ID: "c6", Channel: care.Public, Status: care.Resolved, Department: "billing", Assignee: "ben", Lang: "en", Intent: "complaint",
		CreatedAt: at(3, 22, 30, 0), FirstInboundAt: at(3, 22, 30, 0), FirstResponseAt: ptr(at(3, 23, 0, 0)), ResolvedAt: ptr(at(4, 0, 0, 0)),
		MessagesIn: 2, MessagesOut: 1, SurveySentAt: ptr(at(4, 0, 10, 0)), CSAT: ptr(2)},
		Replies: []care.ReplyStatus{sent(care.ReplyAgent, care.Public, 0.010)}},
	{Case: care.Case{ID: "c7", Channel: care.Public, Status: care.Open, Department: "support", Assignee: "ben", Lang: "en", Intent: "complaint",
		CreatedAt: at(3, 12, 0, 0), FirstInboundAt: at(3, 12, 0, 0), FirstResponseAt: ptr(at(3, 12, 10, 0)), MessagesIn: 4, MessagesOut: 2, Reopens: 2},
		Replies: []care.ReplyStatus{sent(care.ReplyAgent, care.Public, 0.010), sent(care.ReplyAgent, care.Public, 0.010)}},
	{Case: care.Case{ID: "c8", Channel: care.DM, Status: care.Open, Department: "support", Lang: "es", Intent: "question",
		CreatedAt: at(4, 7, 30, 0), FirstInboundAt: at(4, 7, 30, 0), MessagesIn: 1}},
}

var options = Options{
	Location:         madrid,
	Now:              at(4, 8, 0, 0),
	BusinessDuration: func(from, to time.Time) time.Duration { return to.Sub(from) / 2 },
	FirstResponseDue: func(c care.Case) time.Time { return c.FirstInboundAt.Add(time.Hour) },
}

func stats(n int64, mean, median, p90 float64) Stats {
	return Stats{Count: n, Mean: &mean, Median: &median, P90: &p90}
}

func hours(h map[int]int64) [24]int64 {
	var out [24]int64
	for k, v := range h {
		out[k] = v
	}
	return out
}

// wantTotal is the total of the eight cases, computed by hand.
var wantTotal = Metrics{
	Cases:           8,
	InboundMessages: 3 + 2 + 1 + 1 + 0 + 2 + 4 + 1,
	// [30 300 600 1800 3600]: rank ⌈2.5⌉ = 3 and ⌈4.5⌉ = 5; mean 6330/5.
	FirstResponse:         stats(5, 1266, 600, 3600),
	FirstResponseBusiness: stats(5, 633, 300, 1800),
	// [5400 7200 14400]: ranks 2 and 3.
	Resolution: stats(3, 9000, 7200, 14400),
	// Posts [5 0 1 2 1 3 6 0] sorted [0 0 1 1 2 3 5 6]: ranks 4 and 8.
	Posts: stats(8, 18.0/8, 1, 6),
	// DMs [1 3 0 1 0 0 0 1] sorted [0 0 0 0 1 1 1 3].
	DMs:      stats(8, 6.0/8, 0, 3),
	Resolved: 4, Reopened: 2, ReopenRate: ptr(0.5), // c1 c4 c6 c7; c1 c7
	SurveysSent: 3, SurveysAnswered: 2, CSATResponseRate: ptr(2.0 / 3), // c1 c4 c6
	CSATAnswers: 2, CSATAverage: ptr(3.0), // (4+2)/2
	Unanswered:       1, // c3
	AutomaticReplies: 2, HumanReplies: 6, AutomaticShare: ptr(0.25),
	ReplyCostUSD: 0.040 + 0.015 + 0.030 + 0.010 + 0.020,
	CasesByHour:  hours(map[int]int64{0: 2, 9: 2, 12: 1, 14: 1, 22: 1, 23: 1}),
}

func TestComputeTotal(t *testing.T) {
	s := Compute(facts, None, options)
	same(t, "total", s.Total.Metrics(""), wantTotal)
	if len(s.Groups) != 1 || s.Groups[""] == nil {
		t.Fatalf("groups %v, want one", slices.Collect(maps.Keys(s.Groups)))
	}
	same(t, "the none group", s.Groups[""].Metrics(""), wantTotal)
}

func TestComputeByDay(t *testing.T) {
	s := Compute(facts, Day, options)
	want := []Metrics{{
		Key: "2026-08-03", Cases: 6, InboundMessages: 11, // c1 c2 c3 c4 c5 c7
		FirstResponse:         stats(4, 4530.0/4, 300, 3600), // [30 300 600 3600]
		FirstResponseBusiness: stats(4, 2265.0/4, 150, 1800),
		Resolution:            stats(2, 10800, 7200, 14400), // [7200 14400]: ranks 1 and 2
		Posts:                 stats(6, 15.0/6, 1, 6),       // [5 0 1 2 1 6] → [0 1 1 2 5 6]: ranks 3 and 6
		DMs:                   stats(6, 5.0/6, 0, 3),        // [1 3 0 1 0 0] → [0 0 0 1 1 3]
		Resolved:              3, Reopened: 2, ReopenRate: ptr(2.0 / 3),
		SurveysSent: 2, SurveysAnswered: 1, CSATResponseRate: ptr(0.5),
		CSATAnswers: 1, CSATAverage: ptr(4.0),
		Unanswered:       1,
		AutomaticReplies: 2, HumanReplies: 5, AutomaticShare: ptr(2.0 / 7),
		ReplyCostUSD: 0.105,
		CasesByHour:  hours(map[int]int64{0: 1, 9: 1, 12: 1, 14: 1, 22: 1, 23: 1}),
	}, {
		Key: "2026-08-04", Cases: 2, InboundMessages: 3, // c6 c8
		FirstResponse:         stats(1, 1800, 1800, 1800),
		FirstResponseBusiness: stats(1, 900, 900, 900),
		Resolution:            stats(1, 5400, 5400, 5400),
		Posts:                 stats(2, 1.5, 0, 3), // [3 0]
		DMs:                   stats(2, 0.5, 0, 1), // [0 1]
		Resolved:              1, Reopened: 0, ReopenRate: ptr(0.0),
		SurveysSent: 1, SurveysAnswered: 1, CSATResponseRate: ptr(1.0),
		CSATAnswers: 1, CSATAverage: ptr(2.0),
		HumanReplies: 1, AutomaticShare: ptr(0.0),
		ReplyCostUSD: 0.010,
		CasesByHour:  hours(map[int]int64{0: 1, 9: 1}),
	}}
	got := Table(s.Groups)
	if len(got) != len(want) {
		t.Fatalf("%d days, want %d", len(got), len(want))
	}
	for i := range want {
		same(t, want[i].Key, got[i], want[i])
	}
	same(t, "total", s.Total.Metrics(""), wantTotal)
}

func TestComputeByDimension(t *testing.T) {
	// Selected figures of each group: its cases, first-response median, reopen
	// rate, CSAT average, unanswered, automatic share and reply cost.
	type row struct {
		Key        string
		Cases      int64
		FRMedian   *float64
		ReopenRate *float64
		CSAT       *float64
		Unanswered int64
		AutoShare  *float64
		Cost       float64
	}
	tests := []struct {
		by   Dimension
		want []row
	}{
		{Department, []row{
			{"", 2, nil, nil, nil, 1, nil, 0},                                   // c3 c5
			{"billing", 3, ptr(1800.0), ptr(0.5), ptr(3.0), 0, ptr(0.2), 0.065}, // c1 c2 c6: [300 1800 3600]
			{"support", 3, ptr(30.0), ptr(0.5), nil, 0, ptr(1.0 / 3), 0.050},    // c4 c7 c8: [30 600]
		}},
		{Agent, []row{
			{"", 3, nil, nil, nil, 1, nil, 0},                               // c3 c5 c8
			{"ana", 2, ptr(30.0), ptr(0.5), ptr(4.0), 0, ptr(0.5), 0.070},   // c1 c4: [30 300]; 2 of 4 replies
			{"ben", 3, ptr(1800.0), ptr(0.5), ptr(2.0), 0, ptr(0.0), 0.045}, // c2 c6 c7: [600 1800 3600]
		}},
		{Lang, []row{
			{"", 1, nil, nil, nil, 0, nil, 0},                              // c5
			{"en", 3, ptr(1800.0), ptr(0.5), ptr(2.0), 0, ptr(0.0), 0.045}, // c2 c6 c7
			{"es", 4, ptr(30.0), ptr(0.5), ptr(4.0), 1, ptr(0.5), 0.070},   // c1 c3 c4 c8: [30 300]
		}},
		{Intent, []row{
			{"", 1, nil, nil, nil, 0, nil, 0},                                            // c5
			{"complaint", 4, ptr(600.0), ptr(2.0 / 3), ptr(3.0), 1, ptr(1.0 / 6), 0.070}, // c1 c3 c6 c7: [300 600 1800]; 1 of 6 replies
			{"praise", 1, ptr(30.0), ptr(0.0), nil, 0, ptr(1.0), 0.030},                  // c4
			{"question", 2, ptr(3600.0), nil, nil, 0, ptr(0.0), 0.015},                   // c2 c8
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.by), func(t *testing.T) {
			s := Compute(facts, tt.by, options)
			got := Table(s.Groups)
			if len(got) != len(tt.want) {
				t.Fatalf("%d groups, want %d", len(got), len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				gotRow := row{g.Key, g.Cases, g.FirstResponse.Median, g.ReopenRate, g.CSATAverage, g.Unanswered, g.AutomaticShare, g.ReplyCostUSD}
				if !sameJSON(gotRow, w) {
					t.Errorf("group %q: %s, want %s", w.Key, show(gotRow), show(w))
				}
			}
			// The groups add up to the total.
			var total Aggregate
			for _, g := range s.Groups {
				total.Merge(g)
			}
			same(t, "merged groups", total.Metrics(""), wantTotal)
		})
	}
}

func TestComputeEdges(t *testing.T) {
	t0 := at(3, 10, 0, 0)
	tests := []struct {
		name string
		c    care.Case
		opt  Options
		// what the case adds
		firstResponse, resolution int64 // -1: not counted
		unanswered                int64
		csatAnswers, resolved     int64
	}{
		{"escalated without a due function is unanswered",
			care.Case{Status: care.Open, CreatedAt: t0, FirstInboundAt: t0, EscalatedAt: ptr(t0.Add(time.Hour))}, Options{}, -1, -1, 1, 0, 0},
		{"not escalated without a due function is not",
			care.Case{Status: care.Open, CreatedAt: t0, FirstInboundAt: t0}, Options{}, -1, -1, 0, 0, 0},
		{"due exactly now is unanswered",
			care.Case{Status: care.Open, CreatedAt: t0, FirstInboundAt: t0}, Options{Now: t0.Add(time.Hour), FirstResponseDue: options.FirstResponseDue}, -1, -1, 1, 0, 0},
		{"no response due (spam) is not unanswered",
			care.Case{Status: care.Open, CreatedAt: t0, FirstInboundAt: t0, Intent: "spam"}, Options{Now: t0.Add(9 * time.Hour), FirstResponseDue: func(care.Case) time.Time { return time.Time{} }}, -1, -1, 0, 0, 0},
		{"pending without a response is not unanswered",
			care.Case{Status: care.Pending, CreatedAt: t0, FirstInboundAt: t0}, Options{Now: t0.Add(9 * time.Hour), FirstResponseDue: options.FirstResponseDue}, -1, -1, 0, 0, 0},
		{"a response before the first inbound message is not a first response",
			care.Case{Status: care.Pending, CreatedAt: t0, FirstInboundAt: t0, FirstResponseAt: ptr(t0.Add(-time.Minute))}, Options{}, -1, -1, 0, 0, 0},
		{"seconds are rounded down",
			care.Case{Status: care.Pending, CreatedAt: t0, FirstInboundAt: t0, FirstResponseAt: ptr(t0.Add(1999 * time.Millisecond))}, Options{}, 1, -1, 0, 0, 0},
		{"resolution of a case the brand started counts from its creation",
			care.Case{Status: care.Resolved, CreatedAt: t0, FirstResponseAt: &t0, ResolvedAt: ptr(t0.Add(time.Hour))}, Options{}, -1, 3600, 0, 0, 1},
		{"an answer out of 1..5 is not a CSAT answer",
			care.Case{Status: care.Resolved, CreatedAt: t0, ResolvedAt: &t0, SurveySentAt: &t0, CSAT: ptr(9)}, Options{}, -1, 0, 0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a Aggregate
			a.Add(&CaseFacts{Case: tt.c}, tt.opt)
			check := func(what string, d *Dist, want int64) {
				switch {
				case want < 0 && d.N != 0:
					t.Errorf("%s counted: %d", what, d.Sum)
				case want >= 0 && (d.N != 1 || d.Sum != want):
					t.Errorf("%s: %d values, sum %d, want %d", what, d.N, d.Sum, want)
				}
			}
			check("first response", &a.FirstResponse, tt.firstResponse)
			check("resolution", &a.Resolution, tt.resolution)
			if a.FirstResponseBusiness.N != 0 {
				t.Error("business time counted without a business-time function")
			}
			if a.Unanswered != tt.unanswered || a.CSATAnswers != tt.csatAnswers || a.Resolved != tt.resolved {
				t.Errorf("unanswered %d, CSAT answers %d, resolved %d; want %d, %d, %d", a.Unanswered, a.CSATAnswers, a.Resolved, tt.unanswered, tt.csatAnswers, tt.resolved)
			}
		})
	}
}

func TestRollupRoundTrip(t *testing.T) {
	s := Compute(facts, Department, options)
	body, err := EncodeGroups(s.Groups)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := DecodeGroups(body)
	if err != nil {
		t.Fatal(err)
	}
	var total Aggregate
	for _, g := range groups {
		total.Merge(g)
	}
	// From the histograms: 3600 stands as 3567, 14400 as 14267; everything else
	// is as computed (600, 300, 1800 and the small counts are exact bins).
	want := wantTotal
	want.FirstResponse = stats(5, 1266, 600, 3567)
	want.FirstResponseBusiness = stats(5, 633, 300, 1784)
	want.Resolution = stats(3, 9000, 7134, 14267)
	same(t, "decoded", total.Metrics(""), want)

	for _, bad := range []string{
		`{"v":2,"groups":{}}`,
		`{"v":1,"groups":{"x":null}}`,
		`{"v":1,"groups":{"x":{"first_response":{"n":2,"sum":3,"lo":1,"counts":[1]}}}}`,
		`not json`,
	} {
		if _, err := DecodeGroups([]byte(bad)); err == nil {
			t.Errorf("DecodeGroups(%s): no error", bad)
		}
	}
}

func TestParseDimension(t *testing.T) {
	for _, d := range Dimensions {
		if got, err := ParseDimension(string(d)); err != nil || got != d {
			t.Errorf("ParseDimension(%q) = %q, %v", d, got, err)
		}
	}
	if _, err := ParseDimension("week"); err == nil {
		t.Error("week: no error")
	}
}

// same compares metrics, floats to 1e-9.
func same(t *testing.T, name string, got, want Metrics) {
	t.Helper()
	if !sameJSON(got, want) {
		t.Errorf("%s:\n got %s\nwant %s", name, show(got), show(want))
	}
}

func sameJSON(a, b any) bool { return reflect.DeepEqual(rounded(a), rounded(b)) }

func rounded(v any) any {
	b, _ := json.Marshal(v)
	var x any
	_ = json.Unmarshal(b, &x)
	var walk func(any) any
	walk = func(v any) any {
		switch y := v.(type) {
		case float64:
			return math.Round(y*1e9) / 1e9
		case map[string]any:
			for k, e := range y {
				y[k] = walk(e)
			}
		case []any:
			for i, e := range y {
				y[i] = walk(e)
			}
		}
		return v
	}
	return walk(x)
}

func show(v any) string {
	b, _ := json.Marshal(rounded(v))
	return string(b)
}

// TestCasesByHourIsWhenCustomersWrote: a case found late (a poll, a backlog)
// counts in the hour its customer wrote, not the hour it was created; a case
// the brand started, in the hour it was created. Hours in Madrid (UTC+2).
func TestCasesByHourIsWhenCustomersWrote(t *testing.T) {
	late := []CaseFacts{
		{Case: care.Case{ID: "l1", Status: care.Open, CreatedAt: at(4, 0, 10, 0), FirstInboundAt: at(3, 21, 50, 0), MessagesIn: 1}},
		{Case: care.Case{ID: "l2", Status: care.Pending, CreatedAt: at(3, 10, 0, 0), FirstResponseAt: ptr(at(3, 10, 0, 0)), MessagesOut: 1}},
	}
	got := Compute(late, None, Options{Location: madrid}).Total.CasesByHour
	if want := hours(map[int]int64{23: 1, 12: 1}); got != want {
		t.Errorf("cases by hour = %v, want %v", got, want)
	}
}
