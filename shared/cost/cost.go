// Package cost turns counted work into dollars: what a workload used of each AWS
// service the stack runs on (Usage), priced at dated on-demand prices for arm64
// in one region (OnDemand, prices.go), per line and per million inbound
// messages (Estimate); X's charges apart, at the prices the project already
// keeps (XPrices); and the fixed monthly costs — the schedules' runs, which
// happen whatever the volume, idle queue polling, cold starts, the secret, the
// custom metrics, the alarms — apart from the per-message cost (Monthly).
//
// The counts come from measurement: functions' BenchmarkCostPerMillion replays a
// workload through the built Lambda binaries and counts on the wire
// (shared/costmeter). This package only does the arithmetic, so that its tests
// can check it by hand.
package cost

import (
	"fmt"
	"maps"
	"slices"
)

// Usage is the work counted for some inbound messages (or for one scheduled run,
// or one cold start), in the units AWS and X bill.
type Usage struct {
	// Lambda is each function's invocations and billed duration, by name
	// (functions/<name>); the memory size is MemoryMB's.
	Lambda map[string]Lambda
	// SQSRequests are SQS's billed requests: one per API call (a batch call is
	// one) per 64 KiB chunk of its payload (Chunks).
	SQSRequests int64
	// DynamoWRU and DynamoRRU are DynamoDB's write and read request units.
	DynamoWRU, DynamoRRU float64
	// APIRequests are API Gateway's billed requests (512 KiB chunks).
	APIRequests int64
	// LogBytes are the bytes CloudWatch Logs ingests, by log group (a function's
	// name, or "api-access"), events' overhead included (MeasureLog,
	// LambdaPlatformBytes, APIAccessLogBytes).
	LogBytes map[string]int64
	// SecretsCalls are Secrets Manager API calls (GetSecretValue).
	SecretsCalls int64
	// SNSPublishes are alerts published (each delivered by e-mail once).
	SNSPublishes int64
	// X is what X bills.
	X XUsage
}

// Lambda is one function's use of Lambda.
type Lambda struct {
	Invocations int64
	// BilledMS is the billed duration, each invocation (and init) rounded up to
	// the millisecond.
	BilledMS int64
}

// XUsage counts what X bills: posts read, by source kind, and replies, by
// price.
type XUsage struct {
	MentionReads, SearchReads int64
	Posts, SummonedPosts      int64
	LinkPosts, DMs            int64
}

// Add returns u + o.
func (u Usage) Add(o Usage) Usage { return u.combine(o, 1) }

// Sub returns u − o (o times n, see Times, is what a baseline subtracts).
func (u Usage) Sub(o Usage) Usage { return u.combine(o, -1) }

// Times returns u counted n times.
func (u Usage) Times(n int64) Usage { return Usage{}.combine(u, n) }

// Div returns u shared over n (n runs measured together, one run's share):
// counts are rounded to the nearest whole one.
func (u Usage) Div(n int64) Usage {
	if n <= 1 {
		return u.Add(Usage{})
	}
	d := func(v int64) int64 { return (v + n/2) / n }
	r := Usage{
		Lambda: map[string]Lambda{}, LogBytes: map[string]int64{},
		SQSRequests: d(u.SQSRequests), DynamoWRU: u.DynamoWRU / float64(n), DynamoRRU: u.DynamoRRU / float64(n),
		APIRequests: d(u.APIRequests), SecretsCalls: d(u.SecretsCalls), SNSPublishes: d(u.SNSPublishes),
		X: XUsage{MentionReads: d(u.X.MentionReads), SearchReads: d(u.X.SearchReads), Posts: d(u.X.Posts),
			SummonedPosts: d(u.X.SummonedPosts), LinkPosts: d(u.X.LinkPosts), DMs: d(u.X.DMs)},
	}
	for name, l := range u.Lambda {
		r.Lambda[name] = Lambda{Invocations: d(l.Invocations), BilledMS: d(l.BilledMS)}
	}
	for g, b := range u.LogBytes {
		r.LogBytes[g] = d(b)
	}
	return r
}

func (u Usage) combine(o Usage, k int64) Usage {
	r := Usage{
		Lambda:       map[string]Lambda{},
		LogBytes:     map[string]int64{},
		SQSRequests:  u.SQSRequests + k*o.SQSRequests,
		DynamoWRU:    u.DynamoWRU + float64(k)*o.DynamoWRU,
		DynamoRRU:    u.DynamoRRU + float64(k)*o.DynamoRRU,
		APIRequests:  u.APIRequests + k*o.APIRequests,
		SecretsCalls: u.SecretsCalls + k*o.SecretsCalls,
		SNSPublishes: u.SNSPublishes + k*o.SNSPublishes,
		X: XUsage{
			MentionReads:  u.X.MentionReads + k*o.X.MentionReads,
			SearchReads:   u.X.SearchReads + k*o.X.SearchReads,
			Posts:         u.X.Posts + k*o.X.Posts,
			SummonedPosts: u.X.SummonedPosts + k*o.X.SummonedPosts,
			LinkPosts:     u.X.LinkPosts + k*o.X.LinkPosts,
			DMs:           u.X.DMs + k*o.X.DMs,
		},
	}
	for name, l := range u.Lambda {
		r.Lambda[name] = l
	}
	for name, l := range o.Lambda {
		cur := r.Lambda[name]
		r.Lambda[name] = Lambda{Invocations: cur.Invocations + k*l.Invocations, BilledMS: cur.BilledMS + k*l.BilledMS}
	}
	maps.Copy(r.LogBytes, u.LogBytes)
	for g, n := range o.LogBytes {
		r.LogBytes[g] += k * n
	}
	return r
}

// NonNegative returns u with every count below zero set to zero: what is left
// of a measurement once a baseline measured apart (runs with nothing to do) is
// subtracted may dip below zero by the baseline's noise.
func (u Usage) NonNegative() Usage {
	r := u.Add(Usage{})
	pos := func(v int64) int64 { return max(v, 0) }
	r.SQSRequests, r.APIRequests, r.SecretsCalls, r.SNSPublishes = pos(r.SQSRequests), pos(r.APIRequests), pos(r.SecretsCalls), pos(r.SNSPublishes)
	r.DynamoWRU, r.DynamoRRU = max(r.DynamoWRU, 0), max(r.DynamoRRU, 0)
	r.X = XUsage{pos(r.X.MentionReads), pos(r.X.SearchReads), pos(r.X.Posts), pos(r.X.SummonedPosts), pos(r.X.LinkPosts), pos(r.X.DMs)}
	for name, l := range r.Lambda {
		r.Lambda[name] = Lambda{pos(l.Invocations), pos(l.BilledMS)}
	}
	for g, b := range r.LogBytes {
		r.LogBytes[g] = pos(b)
	}
	return r
}

// TotalLogBytes is the bytes of every log group.
func (u Usage) TotalLogBytes() int64 {
	var n int64
	for _, b := range u.LogBytes {
		n += b
	}
	return n
}

// Line is one priced line of an estimate.
type Line struct {
	// Name is the service and what it bills: "lambda.compute", "logs", …
	Name string
	USD  float64
	// Quantity says what was priced, e.g. "1234 requests".
	Quantity string
}

// Names of the lines of an Estimate, AWS first.
const (
	LineLambdaRequests = "lambda.requests"
	LineLambdaCompute  = "lambda.compute"
	LineSQS            = "sqs"
	LineDynamoWrite    = "dynamodb.write"
	LineDynamoRead     = "dynamodb.read"
	LineAPIGateway     = "apigateway"
	LineLogs           = "logs"
	LineSecrets        = "secretsmanager"
	LineSNS            = "sns"

	LineXMentionReads = "x.reads.mentions"
	LineXSearchReads  = "x.reads.search"
	LineXPosts        = "x.posts"
	LineXDMs          = "x.dms"
)

// Estimate is a Usage priced: AWS's lines and X's apart, for Messages inbound
// messages.
type Estimate struct {
	Messages int64
	AWS, X   []Line
}

// AWSUSD is the sum of the AWS lines.
func (e Estimate) AWSUSD() float64 { return sum(e.AWS) }

// XUSD is the sum of the X lines.
func (e Estimate) XUSD() float64 { return sum(e.X) }

func sum(lines []Line) float64 {
	var t float64
	for _, l := range lines {
		t += l.USD
	}
	return t
}

// PerMillion scales usd, spent on e.Messages messages, to a million messages
// (0 when there were none).
func (e Estimate) PerMillion(usd float64) float64 {
	if e.Messages <= 0 {
		return 0
	}
	return usd / float64(e.Messages) * 1e6
}

// Line returns the line named name (AWS or X), zero when there is none.
func (e Estimate) Line(name string) Line {
	for _, l := range slices.Concat(e.AWS, e.X) {
		if l.Name == name {
			return l
		}
	}
	return Line{Name: name}
}

// Dominant is the costliest AWS line.
func (e Estimate) Dominant() Line {
	var d Line
	for _, l := range e.AWS {
		if l.USD > d.USD {
			d = l
		}
	}
	return d
}

// Estimate prices u, the work of messages inbound messages. A function that
// MemoryMB does not know is priced at 0 MB: callers check Unknown, so that a new
// function is not silently free.
func (p Prices) Estimate(u Usage, messages int64) Estimate {
	var invocations int64
	var gbs float64
	for _, name := range slices.Sorted(maps.Keys(u.Lambda)) {
		l := u.Lambda[name]
		invocations += l.Invocations
		gbs += MemoryMB[name] / 1024 * float64(l.BilledMS) / 1000
	}
	logBytes := u.TotalLogBytes()
	e := Estimate{Messages: messages}
	e.AWS = []Line{
		{LineLambdaRequests, float64(invocations) * p.LambdaRequest, fmt.Sprintf("%d invocations", invocations)},
		{LineLambdaCompute, gbs * p.LambdaGBSecond, fmt.Sprintf("%.3f GB-s", gbs)},
		{LineSQS, float64(u.SQSRequests) * p.SQSRequest, fmt.Sprintf("%d requests", u.SQSRequests)},
		{LineDynamoWrite, u.DynamoWRU * p.DynamoWRU, fmt.Sprintf("%.1f WRU", u.DynamoWRU)},
		{LineDynamoRead, u.DynamoRRU * p.DynamoRRU, fmt.Sprintf("%.1f RRU", u.DynamoRRU)},
		{LineAPIGateway, float64(u.APIRequests) * p.APIRequest, fmt.Sprintf("%d requests", u.APIRequests)},
		{LineLogs, float64(logBytes) / LogsBytesPerGB * p.LogsGB, fmt.Sprintf("%d bytes", logBytes)},
		{LineSecrets, float64(u.SecretsCalls) * p.SecretsCall, fmt.Sprintf("%d calls", u.SecretsCalls)},
		{LineSNS, float64(u.SNSPublishes) * (p.SNSPublish + p.SNSEmail), fmt.Sprintf("%d publishes, each e-mailed", u.SNSPublishes)},
	}
	x := u.X
	posts := float64(x.Posts)*p.X.Post + float64(x.SummonedPosts)*p.X.PostSummoned + float64(x.LinkPosts)*p.X.PostLink
	e.X = []Line{
		{LineXMentionReads, float64(x.MentionReads) * p.X.MentionRead, fmt.Sprintf("%d posts read", x.MentionReads)},
		{LineXSearchReads, float64(x.SearchReads) * p.X.SearchRead, fmt.Sprintf("%d posts read", x.SearchReads)},
		{LineXPosts, posts, fmt.Sprintf("%d replies (%d summoned, %d with a link)", x.Posts+x.SummonedPosts+x.LinkPosts, x.SummonedPosts, x.LinkPosts)},
		{LineXDMs, float64(x.DMs) * p.X.DM, fmt.Sprintf("%d DMs", x.DMs)},
	}
	return e
}

// Unknown lists the functions of u that MemoryMB does not know.
func Unknown(u Usage) []string {
	var out []string
	for name := range u.Lambda {
		if _, ok := MemoryMB[name]; !ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
