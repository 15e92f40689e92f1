package cost

import (
	"bytes"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/emf"
)

func near(got, want float64) bool {
	return math.Abs(got-want) <= 1e-12+1e-9*math.Abs(want)
}

// Each line priced by hand from OnDemand's prices.
func TestEstimate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		usage Usage
		line  string
		want  float64
		// total is the whole estimate's, when other lines are not 0.
		total float64
	}{
		// 1 request at $0.20 per million.
		{"one invocation's request", Usage{Lambda: map[string]Lambda{"webhook": {Invocations: 1, BilledMS: 100}}}, LineLambdaRequests, 0.0000002, 0.000000533335},
		// 256 MB × 100 ms = 0.25 GB × 0.1 s = 0.025 GB-s × $0.0000133334.
		{"one invocation's 100 ms at 256 MB", Usage{Lambda: map[string]Lambda{"webhook": {Invocations: 1, BilledMS: 100}}}, LineLambdaCompute, 0.000000333335, 0.000000533335},
		// Two functions: (0.25 × 2 s) + (0.25 × 6 s) = 2 GB-s.
		{"two functions' compute", Usage{Lambda: map[string]Lambda{"process": {Invocations: 3, BilledMS: 2000}, "reply": {Invocations: 2, BilledMS: 6000}}}, LineLambdaCompute, 0.0000266668, 0.0000276668}, // + 5 requests
		{"a million SQS requests", Usage{SQSRequests: 1_000_000}, LineSQS, 0.40, 0},
		{"a million write units (after the November 2024 cut)", Usage{DynamoWRU: 1e6}, LineDynamoWrite, 0.625, 0},
		{"a million read units", Usage{DynamoRRU: 1e6}, LineDynamoRead, 0.125, 0},
		{"half a read unit (an eventually consistent read)", Usage{DynamoRRU: 0.5}, LineDynamoRead, 0.0000000625, 0},
		{"a million HTTP API requests", Usage{APIRequests: 1_000_000}, LineAPIGateway, 1.00, 0},
		// 1e9 bytes is a GB at $0.50, over two log groups.
		{"a GB of logs", Usage{LogBytes: map[string]int64{"process": 600_000_000, "api-access": 400_000_000}}, LineLogs, 0.50, 0},
		{"10,000 secret reads", Usage{SecretsCalls: 10_000}, LineSecrets, 0.05, 0},
		// $0.50 per million publishes + $2.00 per 100,000 e-mails.
		{"one alert", Usage{SNSPublishes: 1}, LineSNS, 0.0000205, 0},
		{"1,000 mentions read at $0.001", Usage{X: XUsage{MentionReads: 1000}}, LineXMentionReads, 1.00, 0},
		{"200 search results at $0.005", Usage{X: XUsage{SearchReads: 200}}, LineXSearchReads, 1.00, 0},
		// 100 × $0.015 + 100 × $0.010 + 5 × $0.20.
		{"replies at their three prices", Usage{X: XUsage{Posts: 100, SummonedPosts: 100, LinkPosts: 5}}, LineXPosts, 3.50, 0},
		{"100 DMs at $0.015", Usage{X: XUsage{DMs: 100}}, LineXDMs, 1.50, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := OnDemand.Estimate(tc.usage, 1)
			if got := e.Line(tc.line).USD; !near(got, tc.want) {
				t.Errorf("%s = $%.12f, want $%.12f", tc.line, got, tc.want)
			}
			want := tc.total
			if want == 0 {
				want = tc.want
			}
			if total := e.AWSUSD() + e.XUSD(); !near(total, want) {
				t.Errorf("total $%.12f, want $%.12f", total, want)
			}
		})
	}
}

func TestPerMillionAndDominant(t *testing.T) {
	u := Usage{
		Lambda:      map[string]Lambda{"process": {Invocations: 10, BilledMS: 400}}, // $0.000002 + 0.1 GB-s = $0.00000133334
		SQSRequests: 50,                                                             // $0.00002
		DynamoWRU:   160,                                                            // $0.0001
		LogBytes:    map[string]int64{"process": 1_000_000},                         // $0.0005
		X:           XUsage{SummonedPosts: 2},                                       // $0.02
	}
	e := OnDemand.Estimate(u, 200)
	wantAWS := 0.000002 + 0.00000133334 + 0.00002 + 0.0001 + 0.0005
	if !near(e.AWSUSD(), wantAWS) {
		t.Errorf("AWS $%.12f, want $%.12f", e.AWSUSD(), wantAWS)
	}
	// $0.00062333334 for 200 messages is $3.1166667 per million.
	if got := e.PerMillion(e.AWSUSD()); !near(got, wantAWS/200*1e6) || math.Abs(got-3.1166667) > 1e-6 {
		t.Errorf("per million $%.7f, want $3.1166667", got)
	}
	if got := e.PerMillion(e.XUSD()); !near(got, 100) { // $0.02 / 200 × 1e6
		t.Errorf("X per million $%v, want $100", got)
	}
	if d := e.Dominant(); d.Name != LineLogs {
		t.Errorf("dominant line %+v, want logs", d)
	}
	if got := (Estimate{}).PerMillion(1); got != 0 {
		t.Errorf("per million of no messages = %v, want 0", got)
	}
}

func TestChunks(t *testing.T) {
	for _, tc := range []struct{ n, size, want int64 }{
		{0, SQSChunkBytes, 1},
		{1, SQSChunkBytes, 1},
		{65_536, SQSChunkBytes, 1},
		{65_537, SQSChunkBytes, 2},
		{256 << 10, SQSChunkBytes, 4},
		{512 << 10, APIChunkBytes, 1},
		{(512 << 10) + 1, APIChunkBytes, 2},
	} {
		if got := Chunks(tc.n, tc.size); got != tc.want {
			t.Errorf("Chunks(%d, %d) = %d, want %d", tc.n, tc.size, got, tc.want)
		}
	}
}

func TestUsageArithmetic(t *testing.T) {
	a := Usage{Lambda: map[string]Lambda{"listen": {1, 30}}, SQSRequests: 2, DynamoWRU: 1.5, LogBytes: map[string]int64{"listen": 100}, X: XUsage{MentionReads: 3}}
	b := Usage{Lambda: map[string]Lambda{"listen": {4, 100}, "process": {2, 20}}, SQSRequests: 10, DynamoWRU: 2, DynamoRRU: 1, LogBytes: map[string]int64{"listen": 1000, "process": 7}, SecretsCalls: 1, X: XUsage{MentionReads: 5, DMs: 1}}
	got := b.Sub(a.Times(2))
	want := Usage{Lambda: map[string]Lambda{"listen": {2, 40}, "process": {2, 20}}, SQSRequests: 6, DynamoWRU: -1, DynamoRRU: 1,
		LogBytes: map[string]int64{"listen": 800, "process": 7}, SecretsCalls: 1, X: XUsage{MentionReads: -1, DMs: 1}}
	if got.SQSRequests != want.SQSRequests || got.DynamoWRU != want.DynamoWRU || got.DynamoRRU != want.DynamoRRU ||
		got.SecretsCalls != want.SecretsCalls || got.X != want.X || got.Lambda["listen"] != want.Lambda["listen"] ||
		got.Lambda["process"] != want.Lambda["process"] || got.LogBytes["listen"] != 800 || got.LogBytes["process"] != 7 {
		t.Errorf("b − 2a = %+v, want %+v", got, want)
	}
	if sum := a.Add(b); sum.Lambda["listen"] != (Lambda{5, 130}) || sum.TotalLogBytes() != 1107 {
		t.Errorf("a + b = %+v", sum)
	}
	if a.Lambda["listen"] != (Lambda{1, 30}) || a.LogBytes["listen"] != 100 {
		t.Errorf("a changed: %+v", a)
	}
}

func TestDiv(t *testing.T) {
	three := Usage{Lambda: map[string]Lambda{"monitor": {3, 151}}, SQSRequests: 4, DynamoRRU: 4.5, LogBytes: map[string]int64{"monitor": 3000}}
	got := three.Div(3)
	// 151 / 3 = 50.3 → 50; 4 / 3 = 1.3 → 1; 4.5 / 3 = 1.5 exactly.
	if got.Lambda["monitor"] != (Lambda{1, 50}) || got.SQSRequests != 1 || got.DynamoRRU != 1.5 || got.LogBytes["monitor"] != 1000 {
		t.Errorf("Div(3) = %+v", got)
	}
	if one := three.Div(1); one.Lambda["monitor"] != three.Lambda["monitor"] {
		t.Errorf("Div(1) = %+v", one)
	}
}

func TestNonNegative(t *testing.T) {
	u := Usage{Lambda: map[string]Lambda{"monitor": {0, -70}, "process": {3, 40}}, DynamoWRU: -0.5, SQSRequests: 2, LogBytes: map[string]int64{"monitor": -10}}
	got := u.NonNegative()
	if got.Lambda["monitor"] != (Lambda{0, 0}) || got.Lambda["process"] != (Lambda{3, 40}) || got.DynamoWRU != 0 || got.SQSRequests != 2 || got.LogBytes["monitor"] != 0 {
		t.Errorf("NonNegative = %+v", got)
	}
	if u.Lambda["monitor"].BilledMS != -70 {
		t.Error("NonNegative changed its receiver")
	}
}

func TestUnknown(t *testing.T) {
	u := Usage{Lambda: map[string]Lambda{"webhook": {}, "newfunction": {}}}
	if got := Unknown(u); !slices.Equal(got, []string{"newfunction"}) {
		t.Errorf("Unknown = %v", got)
	}
}

func TestMonthly(t *testing.T) {
	run := Usage{Lambda: map[string]Lambda{"listen": {Invocations: 1, BilledMS: 20}}}
	cold := Usage{Lambda: map[string]Lambda{"webhook": {BilledMS: 50}}, SecretsCalls: 1}
	e := OnDemand.Monthly(Monthly{
		Schedules:  []Schedule{{Function: "listen", Every: time.Minute, Run: run}},
		ESMQueues:  2,
		ColdStarts: map[string]Usage{"webhook": cold},
		Secrets:    1, Metrics: 10, Alarms: 13,
	})
	for _, tc := range []struct {
		line string
		want float64
	}{
		// 43,800 runs × ($0.0000002 + 0.25 GB × 0.02 s × $0.0000133334).
		{"schedule.listen", 43_800 * (0.0000002 + 0.000000066667)},
		// 2 queues × 15 a minute × 43,800 minutes × $0.0000004.
		{LineIdlePolling, 0.5256},
		// 730 × (0.25 × 0.05 × $0.0000133334 + $0.000005).
		{LineColdStarts, 730 * (0.0000001666675 + 0.000005)},
		{LineSecret, 0.40},
		{LineMetrics, 3.00},
		{LineAlarms, 1.30},
	} {
		if got := e.Line(tc.line).USD; !near(got, tc.want) {
			t.Errorf("%s = $%.9f, want $%.9f (%s)", tc.line, got, tc.want, e.Line(tc.line).Quantity)
		}
	}
	if len(e.X) != 0 {
		t.Errorf("X lines %+v for runs that read nothing", e.X)
	}
	if got := (Schedule{Every: 5 * time.Minute}).RunsPerMonth(); got != 8760 {
		t.Errorf("runs every 5 minutes = %d, want 8,760", got)
	}
}

func TestPlatformBytes(t *testing.T) {
	// START 141 + REPORT 235 + 2 × 26 = 428 per invocation; initStart 365 + 26
	// + the report's initDurationMs 24 = 415 per cold start.
	if got := LambdaPlatformBytes(2, 1); got != 2*428+415 {
		t.Errorf("LambdaPlatformBytes(2, 1) = %d, want %d", got, 2*428+415)
	}
	if got := APIAccessLogBytes(); got != 389+26 {
		t.Errorf("APIAccessLogBytes = %d, want 415", got)
	}
}

func TestMeasureLog(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(`{"level":"INFO","msg":"webhook delivery accepted"}` + "\n") // 50 bytes
	b.WriteString("\n")                                                        // empty: no event
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	if err := emf.Write(&b, at, map[string]string{"Intent": "complaint"}, emf.Metric{Name: "Messages", Unit: emf.Count, Value: 1}); err != nil {
		t.Fatal(err)
	}
	if err := emf.Write(&b, at, nil, emf.Metric{Name: "Decisions", Value: 2}, emf.Metric{Name: "Replies", Value: 1}); err != nil {
		t.Fatal(err)
	}
	if err := emf.Write(&b, at, map[string]string{"Intent": "complaint"}, emf.Metric{Name: "Messages", Unit: emf.Count, Value: 1}); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(b.Bytes(), []byte("\n")), []byte("\n"))
	var emfBytes int64
	for _, l := range lines[2:] {
		emfBytes += int64(len(l) + LogEventOverhead)
	}
	got := MeasureLog(b.String())
	if got.Events != 4 || got.Bytes != 50+26+emfBytes || got.EMFEvents != 3 || got.EMFBytes != emfBytes {
		t.Errorf("MeasureLog = %+v, want 4 events, %d bytes, 3 EMF events of %d bytes", got, 50+26+emfBytes, emfBytes)
	}
	want := []string{"Pajarito|Decisions|", "Pajarito|Messages|Intent=complaint", "Pajarito|Replies|"}
	var keys []string
	for k := range got.Metrics {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, want) {
		t.Errorf("metrics %v, want %v", keys, want)
	}
	if _, ok := MetricKeys([]byte(`{"_aws":"not a document"}`)); ok {
		t.Error("MetricKeys took a line without CloudWatchMetrics")
	}
}

func TestAPIAccessLogKeys(t *testing.T) {
	keys := APIAccessLogKeys()
	if len(keys) != 17 || !slices.IsSorted(keys) || !slices.Contains(keys, "integrationLatency") {
		t.Errorf("keys %v", keys)
	}
}
