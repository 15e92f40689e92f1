package functions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/cost"
	"github.com/pajarito-care/pajarito/shared/local/costmeter"
	"github.com/pajarito-care/pajarito/shared/local/eventsource"
	"github.com/pajarito-care/pajarito/shared/local/lambdafake"
	"github.com/pajarito-care/pajarito/shared/local/xfake"
	"github.com/pajarito-care/pajarito/shared/replay"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

// BenchmarkCostPerMillion measures what a million inbound messages cost on AWS,
// and on X apart (issue 14, goals 5 and 6): it replays a realistic workload
// through the built Lambda binaries, counts on the wire and at the fakes what
// AWS and X bill, and prices it with package cost (on-demand, arm64,
// us-east-1; cost.PricesChecked).
//
// The workload: the recorded day of events/conversations (162 posts, customers'
// mentions and replies and the brand's answers, an outage that opens crisis
// mode) as X Activity API deliveries over the last 27 hours, the sample
// deliveries of events/ (DMs, quotes, a truncated post, the legacy API's copy of
// a mention, deletes, likes and retweets X sends too), one delivery in
// costDuplicateEvery again (X's retries), costMalformed malformed bodies (400,
// quarantined) and costForged forged ones (401); the listener run as its
// schedule would (it finds the same posts: duplicates the processor drops),
// the monitor; the replies the protocol decides, sent by the reply function to
// the fake X, and X's webhook copies of them (post.create, dm.sent), as X
// delivers the brand's own posts back. The test plays the SQS event source
// mappings (eventsource.Poller, batches of infra's sizes).
//
// What is counted, and how:
//   - Lambda: each invocation a function took and its duration, from
//     lambdafake (rounded up to the millisecond, as billed), at the function's
//     memory size (cost.MemoryMB). Durations are this machine's, not a
//     256 MB Graviton's: CPU-bound work would take longer there.
//   - SQS: every request of the functions and of the event source mappings,
//     through a counting proxy (costmeter.SQS: a batch call is one request, each
//     64 KiB one more); the mappings' empty receives are left to the fixed
//     monthly cost (their idle polling).
//   - DynamoDB: read and write units through a proxy that asks for the consumed
//     capacity and counts it with store.CapacityMeter's rule (costmeter.DynamoDB).
//   - API Gateway: one request per webhook delivery (512 KiB chunks).
//   - CloudWatch Logs: each bootstrap's stdout and stderr, one event per line;
//     Lambda's platform.start and platform.report per invocation and
//     platform.initStart per cold start (cost.LambdaPlatformBytes: 428 bytes per
//     invocation, 415 per cold start); one access-log line per API request
//     (cost.APIAccessLogBytes: 415 bytes); 26 bytes per event.
//   - CloudWatch metrics: the distinct metrics the EMF lines define (a monthly
//     cost: $0.30 each).
//   - Secrets Manager: the functions read the X secret from a stand-in
//     (costmeter.Secrets) that counts the calls: one per cold start of the
//     functions that use X.
//   - X: posts read (the month's spend the listener records, by source kind)
//     and replies sent (each reply's recorded price); their sum must equal the
//     spend the system recorded at the project's prices.
//
// Per message is the workload minus what the scheduled runs in it cost with
// nothing new (measured after it), over the inbound messages stored; those
// runs, idle queue polling, cold starts, the secret, the metrics and the alarms
// are the fixed monthly cost. It reports aws-$/M (the goal: at most $5), its
// main lines, log-B/msg, WCU/msg, RCU/msg, x-$/M apart, and fixed-$/month, and
// prints the estimate line by line (naming the line that dominates), what each
// is made of (per function, per kind of DynamoDB item), and what the levers
// within reach would save, computed from the measurement. It fails, rather than
// skips, when a built function or a fixture is missing, when a delivery other
// than the malformed and forged ones is refused, when the pipeline does not
// drain, and when the X spend it counts differs from the spend the system
// recorded.
//
//	go test -run '^$' -bench CostPerMillion -benchtime 1x ./functions
func BenchmarkCostPerMillion(b *testing.B) {
	var total costResult
	for i := 0; b.Loop(); i++ {
		r := newCostRig(b, i)
		total.add(r.run())
	}
	total.report(b)
}

const (
	// costDuplicateEvery: one delivery in so many is made twice (X retries).
	costDuplicateEvery = 20
	costMalformed      = 3
	costForged         = 2
	// costIdleRuns is how many runs of each scheduled function with nothing new
	// measure one run's fixed cost.
	costIdleRuns = 3
	// costSecretID names the X credentials' secret.
	costSecretID = "pajarito/x-credentials"
	// costDrain bounds each wait for the queues to empty.
	costDrain = 3 * time.Minute
)

// costSampleFiles are the sample deliveries replayed besides the recorded day:
// every sample but the authorisation revocations (not messages) and the
// malformed body (replayed on its own).
var costSampleFiles = []string{
	"xaa-mention-es.json", "xaa-mention-en.json", "xaa-reply-es.json", "xaa-quote-en.json",
	"xaa-dm-received-es.json", "xaa-dm-sent-es.json", "xaa-unknown-type.json",
	"aaa-tweet-es.json", "aaa-tweet-truncated-en.json", "aaa-own-reply-es.json", "aaa-retweet.json",
	"aaa-own-post.json", "aaa-dm-en.json", "aaa-favorite.json", "aaa-other-user.json", "aaa-delete.json",
}

// costRig is one run of the workload: its table, queues, fakes, meters and
// functions.
type costRig struct {
	b       *testing.B
	started time.Time
	table   string
	urls    map[string]string // queue URLs by role (chaosInbound, …)
	names   map[string]string
	db      *dynamodb.Client // direct to dynalite: the checks, not counted
	st      *store.Store
	env     []string
	// dyn and fnSQS meter each function's DynamoDB and SQS (and SNS) calls.
	dyn     map[string]*costmeter.DynamoDB
	fnSQS   map[string]*costmeter.SQS
	esmSQS  *costmeter.SQS // the event source mappings'
	secrets *costmeter.Secrets
	fake    *xfake.Server
	rts     map[string]*lambdafake.Runtime
	// cold is each function's cold start, measured.
	cold map[string]cost.Usage

	mu        sync.Mutex
	apiCalls  int64 // webhook deliveries (API Gateway requests)
	apiBilled int64 // in 512 KiB chunks
	echoed    map[string]bool
	listens   int64 // listener runs in the workload
	monitors  int64
}

func newCostRig(b *testing.B, n int) *costRig {
	b.Helper()
	ctx := b.Context()
	r := &costRig{b: b, started: time.Now(), table: fmt.Sprintf("cost-%d-%d", time.Now().UnixNano()%1e6, n), rts: map[string]*lambdafake.Runtime{},
		cold: map[string]cost.Usage{}, echoed: map[string]bool{}, dyn: map[string]*costmeter.DynamoDB{}, fnSQS: map[string]*costmeter.SQS{}}
	var err error
	if r.db, err = store.NewClient(ctx, system.dyn.Endpoint); err != nil {
		b.Fatal(err)
	}
	r.st = store.New(r.db, r.table)
	if err := r.st.CreateTable(ctx); err != nil {
		b.Fatal(err)
	}
	if r.esmSQS, err = costmeter.StartSQS(system.sqs.Endpoint); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(r.esmSQS.Close)
	r.names, r.urls = map[string]string{}, map[string]string{}
	direct := system.sqs.Client(ctx)
	for _, role := range []string{chaosInbound, chaosInboundDLQ, chaosOutbound, chaosOutboundDLQ} {
		name := r.table + "-" + role
		out, err := direct.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
		if err != nil {
			b.Fatalf("create queue %s: %v", name, err)
		}
		r.names[role], r.urls[role] = name, aws.ToString(out.QueueUrl)
	}
	creds, _ := json.Marshal(map[string]string{
		"api_key": "k", "api_secret": secret, "access_token": system.config.Brand.ID + "-t",
		"access_token_secret": "ts", "bearer_token": "bearer",
	})
	r.secrets = costmeter.StartSecrets(map[string]string{costSecretID: string(creds)})
	b.Cleanup(r.secrets.Close)
	r.fake = xfake.Start()
	b.Cleanup(r.fake.Close)
	r.fake.SetMe(system.config.Brand.ID)
	r.fake.SetUser(xfake.User{ID: system.config.Brand.ID, Username: system.config.Brand.Handle, Name: "Pajarito Air"})
	// X's per-user write limits are not what is measured here (the sender keeps
	// its own send budget within them); the fake's windows are lifted.
	far := time.Now().Add(time.Hour)
	for _, ep := range []string{xapi.EndpointCreatePost, xapi.EndpointSendDM} {
		r.fake.RateLimit(ep, 100_000, 100_000, far)
	}

	// The repository's pajarito.json, but for the listener's first look back:
	// 48 hours, so that its first run reads every post of the recorded day once,
	// as its runs every minute would have.
	raw, err := os.ReadFile(filepath.Join(system.root, config.FileName))
	if err != nil {
		b.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		b.Fatal(err)
	}
	doc["lookback"] = "48h"
	cfgPath := filepath.Join(b.TempDir(), config.FileName)
	if out, err := json.Marshal(doc); err != nil || os.WriteFile(cfgPath, out, 0o644) != nil {
		b.Fatalf("write %s: %v", cfgPath, err)
	}

	r.env = []string{
		"PAJARITO_CONFIG=" + cfgPath,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + r.secrets.URL,
		"PAJARITO_X_SECRET_ID=" + costSecretID,
		"X_CONSUMER_SECRET=", // from the secret, as in AWS
		"PAJARITO_TABLE=" + r.table,
		"PAJARITO_INBOUND_QUEUE_URL=" + r.urls[chaosInbound],
		"PAJARITO_INBOUND_DLQ_URL=" + r.urls[chaosInboundDLQ],
		"PAJARITO_OUTBOUND_QUEUE_URL=" + r.urls[chaosOutbound],
		"PAJARITO_OUTBOUND_DLQ_URL=" + r.urls[chaosOutboundDLQ],
		"X_API_BASE_URL=" + r.fake.URL,
	}
	for _, name := range []string{"webhook", "process", "reply", "listen", "monitor"} {
		r.start(name)
	}
	return r
}

// start runs a function in its own execution environment, with the stack's
// timeout and meters of its own, and measures its cold start.
func (r *costRig) start(name string) {
	b := r.b
	bin := filepath.Join(system.bins, name, "bootstrap")
	if _, err := os.Stat(bin); err != nil {
		b.Fatalf("no built %s function: %v", name, err)
	}
	dyn, err := costmeter.StartDynamoDB(system.dyn.Endpoint)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(dyn.Close)
	q, err := costmeter.StartSQS(system.sqs.Endpoint)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(q.Close)
	r.dyn[name], r.fnSQS[name] = dyn, q
	env := append(slices.Clone(r.env), "AWS_ENDPOINT_URL_DYNAMODB="+dyn.URL, "AWS_ENDPOINT_URL_SQS="+q.URL, "AWS_ENDPOINT_URL_SNS="+q.URL)
	rt, err := lambdafake.Start()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(rt.Close)
	rt.Timeout = map[string]time.Duration{"webhook": 6 * time.Second, "process": 30 * time.Second,
		"listen": 60 * time.Second, "reply": 90 * time.Second, "monitor": 60 * time.Second}[name]
	r.rts[name] = rt
	before := r.snap()
	fn, err := rt.StartFunction(b.Context(), bin, functionEnv(env...))
	if err != nil {
		b.Fatal(err)
	}
	select {
	case <-fn.Ready():
	case <-fn.Done():
		b.Fatalf("%s exited during its init: %v\n%s", name, fn.Err(), fn.Output())
	case <-time.After(time.Minute):
		b.Fatalf("%s did not finish its init:\n%s", name, fn.Output())
	}
	u := r.usage(before, r.snap()).Usage
	init, _ := fn.InitDuration()
	u.Lambda = map[string]cost.Lambda{name: {BilledMS: lambdafake.BilledDuration(init).Milliseconds()}}
	u.LogBytes[name] += cost.LambdaPlatformBytes(0, 1)
	r.cold[name] = u
}

// costSnap is where the counters stood at a moment.
type costSnap struct {
	dyn             map[string]costmeter.DynamoCounts
	fnSQS           map[string]costmeter.SQSCounts
	esmSQS          costmeter.SQSCounts
	secrets         int64
	invocations     map[string]int // per function: how many had ended
	stdout, stderr  map[*lambdafake.Function]int
	api, apiBilled  int64
	functionsByName map[*lambdafake.Function]string
}

func (r *costRig) snap() costSnap {
	s := costSnap{dyn: map[string]costmeter.DynamoCounts{}, fnSQS: map[string]costmeter.SQSCounts{}, esmSQS: r.esmSQS.Counts(),
		secrets: r.secrets.Total(), invocations: map[string]int{}, stdout: map[*lambdafake.Function]int{}, stderr: map[*lambdafake.Function]int{},
		functionsByName: map[*lambdafake.Function]string{}}
	for name, d := range r.dyn {
		s.dyn[name], s.fnSQS[name] = d.Counts(), r.fnSQS[name].Counts()
	}
	for name, rt := range r.rts {
		s.invocations[name] = len(rt.Invocations())
		for _, f := range rt.Functions() {
			s.stdout[f], s.stderr[f], s.functionsByName[f] = len(f.Stdout()), len(f.Stderr()), name
		}
	}
	r.mu.Lock()
	s.api, s.apiBilled = r.apiCalls, r.apiBilled
	r.mu.Unlock()
	return s
}

// costCounts is what was counted between two snapshots: the usage, and what it
// is made of.
type costCounts struct {
	cost.Usage
	// Logs is what each function printed.
	Logs map[string]cost.LogText
	// DynamoDB and SQS are each function's calls; ESM the event source
	// mappings'.
	DynamoDB map[string]costmeter.DynamoCounts
	SQS      map[string]costmeter.SQSCounts
	ESM      costmeter.SQSCounts
}

// usage is what was counted between two snapshots (with nothing running at
// either).
func (r *costRig) usage(from, to costSnap) costCounts {
	u := cost.Usage{Lambda: map[string]cost.Lambda{}, LogBytes: map[string]int64{}}
	c := costCounts{Logs: map[string]cost.LogText{}, DynamoDB: map[string]costmeter.DynamoCounts{}, SQS: map[string]costmeter.SQSCounts{}}
	for name, rt := range r.rts {
		all := rt.Invocations()
		var l cost.Lambda
		for _, inv := range all[from.invocations[name]:min(to.invocations[name], len(all))] {
			l.Invocations++
			l.BilledMS += inv.Billed().Milliseconds()
		}
		if l.Invocations > 0 {
			u.Lambda[name] = l
			u.LogBytes[name] += cost.LambdaPlatformBytes(l.Invocations, 0)
		}
	}
	for f, name := range to.functionsByName {
		text := f.Stdout()[from.stdout[f]:to.stdout[f]] + "\n" + f.Stderr()[from.stderr[f]:to.stderr[f]]
		lt := c.Logs[name]
		lt.Add(cost.MeasureLog(text))
		c.Logs[name] = lt
	}
	for name, lt := range c.Logs {
		if lt.Bytes > 0 {
			u.LogBytes[name] += lt.Bytes
		}
	}
	if api := to.api - from.api; api > 0 {
		u.LogBytes["api-access"] = api * cost.APIAccessLogBytes()
	}
	u.APIRequests = to.apiBilled - from.apiBilled
	for name := range to.dyn {
		d := to.dyn[name].Sub(from.dyn[name])
		q := to.fnSQS[name].Sub(from.fnSQS[name])
		c.DynamoDB[name], c.SQS[name] = d, q
		u.DynamoWRU += d.Write
		u.DynamoRRU += d.Read
		u.SQSRequests += q.Billed
		u.SNSPublishes += q.SNS["Publish"]
	}
	c.ESM = to.esmSQS.Sub(from.esmSQS)
	// The mappings' empty receives are their idle polling: a fixed cost.
	u.SQSRequests += c.ESM.Billed - c.ESM.EmptyReceives
	u.SecretsCalls = to.secrets - from.secrets
	c.Usage = u
	return c
}

// costResult is what a run measured.
type costResult struct {
	runs int
	// messages are the inbound messages stored; work what they cost (the
	// scheduled runs' baseline taken out).
	messages int64
	work     cost.Usage
	// counts are the workload's counts, baseline included, for the breakdown
	// (the first run's when there are several).
	counts            costCounts
	breakdownMessages int64
	// items are the table's items at the end, by kind: how many, their mean
	// size in bytes.
	items      map[string][2]float64
	idle       map[string]cost.Usage // one scheduled run with nothing new
	cold       map[string]cost.Usage
	metrics    map[string]bool
	spentUSD   float64 // the month's X spend the system recorded
	deliveries int64
	batches    map[string][2]int64 // per queue: batches, records
}

func (t *costResult) add(o costResult) {
	if t.runs == 0 {
		*t = o
		t.runs = 1
		t.breakdownMessages = o.messages
		return
	}
	t.runs++
	t.messages += o.messages
	t.work = t.work.Add(o.work)
	maps.Copy(t.metrics, o.metrics)
	t.spentUSD += o.spentUSD
	t.deliveries += o.deliveries
	// The idle runs, cold starts and breakdown: the first run's.
}

// run makes the workload's deliveries, drains the pipeline, then measures the
// scheduled functions' idle runs.
func (r *costRig) run() costResult {
	b := r.b
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	deliveries := r.stream()

	// Lambda's event source mappings.
	var pollers sync.WaitGroup
	quiet := slog.New(slog.DiscardHandler)
	esmClient := sqs.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}}, func(o *sqs.Options) {
		o.BaseEndpoint = aws.String(r.esmSQS.URL)
	})
	batches := map[string]*[2]int64{chaosInbound: {}, chaosOutbound: {}}
	var batchMu sync.Mutex
	handler := func(role, fn string) eventsource.Handler {
		return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			batchMu.Lock()
			batches[role][0]++
			batches[role][1] += int64(len(ev.Records))
			batchMu.Unlock()
			payload, err := json.Marshal(ev)
			if err != nil {
				return events.SQSEventResponse{}, err
			}
			out, err := r.rts[fn].Invoke(ctx, payload)
			if err != nil {
				return events.SQSEventResponse{}, err
			}
			var resp events.SQSEventResponse
			return resp, json.Unmarshal(out, &resp)
		}
	}
	pollCtx, stopPolling := context.WithCancel(ctx)
	for _, p := range []*eventsource.Poller{
		// infra.ProcessBatchSize, infra.InboundMaxReceives; infra.ReplyBatchSize,
		// infra.OutboundMaxReceives.
		{URL: r.urls[chaosInbound], DeadLetterURL: r.urls[chaosInboundDLQ], BatchSize: 10, MaxReceives: 5, Handler: handler(chaosInbound, "process")},
		{URL: r.urls[chaosOutbound], DeadLetterURL: r.urls[chaosOutboundDLQ], BatchSize: 5, MaxReceives: 15, Handler: handler(chaosOutbound, "reply")},
	} {
		p.Client, p.Log, p.WaitTime, p.Backoff = esmClient, quiet, 2*time.Second, chaosBackoff
		pollers.Add(1)
		go func() { defer pollers.Done(); _ = p.Run(pollCtx) }()
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopPolling()
			pollers.Wait()
			stopped = true
		}
	}
	defer stop()

	start := r.snap()
	var accepted, refused int
	for i, d := range deliveries {
		if i == len(deliveries)/2 {
			r.listen(ctx)
		}
		if r.deliver(ctx, d.body, d.sign) == http.StatusOK {
			accepted++
		} else {
			refused++
		}
	}
	r.drain(ctx)
	r.echo(ctx)
	r.listen(ctx)
	r.monitor(ctx)
	r.drain(ctx)
	r.echo(ctx)
	stop()
	end := r.snap()
	if want := costMalformed + costForged; refused != want {
		b.Fatalf("%d deliveries refused, want the %d malformed and forged ones", refused, want)
	}
	if dead := queued(b, r.names[chaosInboundDLQ]); dead != costMalformed {
		b.Fatalf("inbound DLQ holds %d messages, want the %d malformed deliveries the processor quarantined", dead, costMalformed)
	}
	if dead := queued(b, r.names[chaosOutboundDLQ]); dead != 0 {
		b.Fatalf("outbound DLQ holds %d replies", dead)
	}

	res := costResult{deliveries: int64(accepted + refused), idle: map[string]cost.Usage{}, cold: r.cold, batches: map[string][2]int64{}, metrics: map[string]bool{}}
	for role, n := range batches {
		res.batches[role] = *n
	}
	res.counts = r.usage(start, end)
	for _, lt := range res.counts.Logs {
		maps.Copy(res.metrics, lt.Metrics)
	}
	res.work = res.counts.Usage
	res.messages, res.work.X, res.spentUSD = r.readStore(ctx)
	res.items = r.itemSizes(ctx)

	// The scheduled functions' runs with nothing new: their fixed cost, and
	// what the workload's runs cost besides the messages.
	for _, name := range []string{"listen", "monitor"} {
		before := r.snap()
		for range costIdleRuns {
			if name == "listen" {
				r.listen(ctx)
			} else {
				r.monitor(ctx)
			}
		}
		c := r.usage(before, r.snap())
		if n := queued(b, r.names[chaosInbound]) + queued(b, r.names[chaosOutbound]); n != 0 {
			b.Fatalf("%s queued %d messages with nothing new", name, n)
		}
		res.idle[name] = c.Usage.Div(costIdleRuns)
		for _, lt := range c.Logs {
			maps.Copy(res.metrics, lt.Metrics)
		}
	}
	r.mu.Lock()
	listens, monitors := r.listens-costIdleRuns, r.monitors-costIdleRuns
	r.mu.Unlock()
	res.work = res.work.Sub(res.idle["listen"].Times(listens)).Sub(res.idle["monitor"].Times(monitors)).NonNegative()
	if unknown := cost.Unknown(res.work); len(unknown) > 0 {
		b.Fatalf("functions without a memory size in cost.MemoryMB: %v", unknown)
	}
	return res
}

// costDelivery is one webhook delivery: its body, and whether it is signed with
// the right secret.
type costDelivery struct {
	body []byte
	sign bool
}

// stream is the workload's deliveries, in order; the fake X holds their posts.
func (r *costRig) stream() []costDelivery {
	b := r.b
	f, err := os.Open(filepath.Join(system.root, "events", "conversations", "pajarito-air-day.csv"))
	if err != nil {
		b.Fatalf("the recorded day: %v", err)
	}
	defer f.Close()
	posts, err := replay.ReadCSV(f)
	if err != nil {
		b.Fatal(err)
	}
	brand := system.config.Brand
	evs, err := replay.Events(posts, brand, time.Now().Add(-replay.Span(posts)-time.Minute))
	if err != nil {
		b.Fatal(err)
	}
	var out []costDelivery
	add := func(body []byte) {
		out = append(out, costDelivery{body: body, sign: true})
		ps, us, err := xfake.EventPosts(body)
		if err != nil {
			b.Fatalf("posts of a delivery: %v", err)
		}
		r.fake.SetUser(us...)
		r.fake.Seed(ps...)
	}
	for i, ev := range evs {
		add(ev.Body)
		if i%costDuplicateEvery == costDuplicateEvery-1 {
			out = append(out, costDelivery{body: ev.Body, sign: true})
		}
	}
	for _, name := range costSampleFiles {
		body, err := os.ReadFile(filepath.Join(system.root, "events", name))
		if err != nil {
			b.Fatalf("sample %s: %v", name, err)
		}
		add(body)
	}
	malformed, err := os.ReadFile(filepath.Join(system.root, "events", "malformed.json"))
	if err != nil {
		b.Fatalf("sample malformed.json: %v", err)
	}
	for range costMalformed {
		out = append(out, costDelivery{body: malformed, sign: true})
	}
	for i := range costForged {
		out = append(out, costDelivery{body: evs[i].Body, sign: false})
	}
	return out
}

// deliver makes one webhook delivery as API Gateway would, and returns the
// status the webhook answered.
func (r *costRig) deliver(ctx context.Context, body []byte, sign bool) int {
	key := []byte(secret)
	if !sign {
		key = []byte("not-the-secret")
	}
	req := httpRequest(http.MethodPost, "/webhooks/x", "", map[string]string{
		"content-type":           "application/json",
		xwebhook.SignatureHeader: xwebhook.Sign(key, body),
		"user-agent":             "X-Webhooks/1.0",
	}, string(body))
	payload, err := json.Marshal(req)
	if err != nil {
		r.b.Fatal(err)
	}
	r.mu.Lock()
	r.apiCalls++
	r.apiBilled += cost.Chunks(int64(len(body)), cost.APIChunkBytes)
	r.mu.Unlock()
	out, err := r.rts["webhook"].Invoke(ctx, payload)
	if err != nil {
		r.b.Fatalf("webhook: %v", err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		r.b.Fatalf("webhook answer %s: %v", out, err)
	}
	return resp.StatusCode
}

func (r *costRig) listen(ctx context.Context) {
	if _, err := r.rts["listen"].Invoke(ctx, []byte(`{}`)); err != nil {
		r.b.Fatalf("listen: %v\n%s", err, r.rts["listen"].Function().Output())
	}
	r.mu.Lock()
	r.listens++
	r.mu.Unlock()
}

func (r *costRig) monitor(ctx context.Context) {
	if _, err := r.rts["monitor"].Invoke(ctx, []byte(`{}`)); err != nil {
		r.b.Fatalf("monitor: %v\n%s", err, r.rts["monitor"].Function().Output())
	}
	r.mu.Lock()
	r.monitors++
	r.mu.Unlock()
}

// drain waits until the inbound and outbound queues are empty.
func (r *costRig) drain(ctx context.Context) {
	b := r.b
	empty := func() bool {
		return queued(b, r.names[chaosInbound]) == 0 && queued(b, r.names[chaosOutbound]) == 0
	}
	// Empty twice in a row, a poll apart: a batch in progress may still queue.
	if !waitFor(ctx, costDrain, func() bool { return empty() && !sleepCtx(ctx, 300*time.Millisecond) && empty() }) {
		b.Fatalf("queues not drained in %v: inbound %d, outbound %d\nreply output:\n%s", costDrain,
			queued(b, r.names[chaosInbound]), queued(b, r.names[chaosOutbound]), r.rts["reply"].Function().Output())
	}
}

// sleepCtx sleeps d and reports whether ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return true
	case <-time.After(d):
		return false
	}
}

// echo delivers X's webhook copies of the brand's posts and DMs the reply
// function created since the last echo (post.create, dm.sent), then drains.
func (r *costRig) echo(ctx context.Context) {
	var n int
	for _, p := range r.fake.Posted() {
		if r.echoed[p.ID] {
			continue
		}
		r.echoed[p.ID] = true
		if code := r.deliver(ctx, r.echoBody(p), true); code != http.StatusOK {
			r.b.Fatalf("echo of %s %s answered %d", p.Kind, p.ID, code)
		}
		n++
	}
	if n > 0 {
		r.drain(ctx)
	}
}

// echoBody is the X Activity API delivery of the brand's own post or DM.
func (r *costRig) echoBody(p xfake.Posted) []byte {
	brand := system.config.Brand
	brandUser := map[string]any{"id": brand.ID, "name": "Pajarito Air", "username": brand.Handle}
	var data map[string]any
	if p.Kind == "dm" {
		data = map[string]any{
			"event_uuid": p.ID, "event_type": xwebhook.EventDMSent, "filter": map[string]string{"user_id": brand.ID}, "tag": "pajarito-dm-out",
			"payload": map[string]any{
				"direct_message_events": []any{map[string]any{
					"type": "message_create", "id": p.ID, "created_timestamp": strconv.FormatInt(p.At.UnixMilli(), 10),
					"message_create": map[string]any{
						"target": map[string]string{"recipient_id": p.ParticipantID}, "sender_id": brand.ID,
						"message_data": map[string]any{"text": p.Text},
					},
				}},
				"users": map[string]any{
					brand.ID:        map[string]any{"data": brandUser},
					p.ParticipantID: map[string]any{"data": map[string]any{"id": p.ParticipantID, "name": "Customer", "username": "user" + p.ParticipantID}},
				},
			},
		}
	} else {
		target, _ := r.fake.Post(p.InReplyToID)
		post := map[string]any{
			"id": p.ID, "text": p.Text, "author_id": brand.ID, "created_at": p.At.UTC().Format("2006-01-02T15:04:05.000Z"),
			"conversation_id": p.ConversationID, "edit_history_tweet_ids": []string{p.ID}, "lang": "und",
		}
		if p.InReplyToID != "" {
			post["in_reply_to_user_id"] = target.AuthorID
			post["referenced_tweets"] = []map[string]string{{"type": "replied_to", "id": p.InReplyToID}}
		}
		data = map[string]any{
			"event_uuid": p.ID, "event_type": xwebhook.EventPostCreate, "filter": map[string]string{"user_id": brand.ID}, "tag": "pajarito-brand",
			"payload": post, "includes": map[string]any{"users": []any{brandUser}},
		}
	}
	body, err := json.Marshal(map[string]any{"data": data})
	if err != nil {
		r.b.Fatal(err)
	}
	return body
}

// readStore reads, directly (not counted), the inbound messages stored, what X
// billed (the replies sent, by price, and the posts the listener read, by
// source kind) and the month's X spend the system recorded.
func (r *costRig) readStore(ctx context.Context) (messages int64, x cost.XUsage, spent float64) {
	b := r.b
	var caseIDs []string
	p := dynamodb.NewScanPaginator(r.db, &dynamodb.ScanInput{
		TableName:                 aws.String(r.table),
		FilterExpression:          aws.String("begins_with(PK, :c) AND SK = :case"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": str("CASE#"), ":case": str("CASE")},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, it := range page.Items {
			caseIDs = append(caseIDs, strings.TrimPrefix(attr(it, "PK"), "CASE#"))
		}
	}
	prices := cost.OnDemand.X
	for _, id := range caseIDs {
		_, msgs, err := r.st.GetCase(ctx, id)
		if err != nil {
			b.Fatalf("case %s: %v", id, err)
		}
		for _, m := range msgs {
			if m.Direction == care.Inbound {
				messages++
			}
		}
		replies, err := r.st.ListReplies(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		for _, rep := range replies {
			if rep.State != care.ReplySent {
				continue
			}
			switch {
			case rep.Channel == care.DM:
				x.DMs++
			case rep.CostUSD == prices.PostLink:
				x.LinkPosts++
			case rep.CostUSD == prices.PostSummoned:
				x.SummonedPosts++
			case rep.CostUSD == prices.Post:
				x.Posts++
			default:
				b.Fatalf("reply %s of case %s cost $%v: not one of X's prices in cost.OnDemand.X", rep.Key, id, rep.CostUSD)
			}
		}
	}
	// The spend is recorded in the month it happens (a run across midnight on
	// the 1st spans two).
	months := []string{store.SpendMonth(r.started), store.SpendMonth(time.Now())}
	for _, month := range slices.Compact(months) {
		spend, err := r.st.GetSpend(ctx, month)
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range spend.Sources {
			switch s.Kind {
			case string(config.KindMentions):
				x.MentionReads += s.Reads
			case string(config.KindSearch):
				x.SearchReads += s.Reads
			}
			spent += s.USD
		}
	}
	if messages == 0 {
		b.Fatal("no inbound message stored")
	}
	return messages, x, spent
}

// itemSizes reads every item of the table (directly, not counted) and returns,
// by kind (costmeter.Kind), how many there are and their mean size as DynamoDB
// bills it.
func (r *costRig) itemSizes(ctx context.Context) map[string][2]float64 {
	out := map[string][2]float64{}
	p := dynamodb.NewScanPaginator(r.db, &dynamodb.ScanInput{TableName: aws.String(r.table)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			r.b.Fatal(err)
		}
		for _, it := range page.Items {
			k := costmeter.Kind(attr(it, store.KeyPK), attr(it, store.KeySK), "")
			v := out[k]
			v[1] = (v[1]*v[0] + float64(store.ItemSize(it))) / (v[0] + 1)
			v[0]++
			out[k] = v
		}
	}
	return out
}

// report prints the estimate and reports its figures.
func (t costResult) report(b *testing.B) {
	if t.runs == 0 {
		b.Fatal("no run")
	}
	p := cost.OnDemand
	e := p.Estimate(t.work, t.messages)
	perM := func(name string) float64 { return e.PerMillion(e.Line(name).USD) }
	if x := e.XUSD(); abs(x-t.spentUSD) > 1e-6*float64(t.runs) {
		b.Fatalf("X: the replies and reads counted cost $%.6f at cost.OnDemand.X, the spend the system recorded is $%.6f", x, t.spentUSD)
	}
	cfg := system.config
	month := p.Monthly(cost.Monthly{
		Schedules: []cost.Schedule{
			{Function: "listen", Every: cfg.PollInterval.Std(), Run: t.idle["listen"]},
			{Function: "monitor", Every: cfg.MonitorInterval.Std(), Run: t.idle["monitor"]},
		},
		ESMQueues:  2,
		ColdStarts: t.cold,
		Secrets:    1,
		Metrics:    len(t.metrics),
		Alarms:     cost.StackAlarms,
	})

	m := float64(t.messages)
	var b2 strings.Builder
	fmt.Fprintf(&b2, "cost: %d inbound messages stored from %d webhook deliveries (%d run(s)); prices %s, %s, checked %s\n",
		t.messages, t.deliveries, t.runs, "on-demand arm64", cost.Region, cost.PricesChecked)
	fmt.Fprintf(&b2, "  %-22s %12s %8s  %s\n", "per message", "$ per M", "share", "counted")
	for _, l := range e.AWS {
		fmt.Fprintf(&b2, "  %-22s %12.4f %7.1f%%  %s\n", l.Name, e.PerMillion(l.USD), 100*l.USD/e.AWSUSD(), l.Quantity)
	}
	fmt.Fprintf(&b2, "  %-22s %12.4f           goal ≤ $5: %s; dominant: %s\n", "AWS total", e.PerMillion(e.AWSUSD()), met(e.PerMillion(e.AWSUSD()) <= 5), e.Dominant().Name)
	for _, l := range e.X {
		fmt.Fprintf(&b2, "  %-22s %12.4f           %s\n", l.Name, e.PerMillion(l.USD), l.Quantity)
	}
	fmt.Fprintf(&b2, "  %-22s %12.4f           (apart from AWS; the system's own ledger: $%.4f)\n", "X total", e.PerMillion(e.XUSD()), t.spentUSD)
	fmt.Fprintf(&b2, "  %-22s %12.4f           (keyword searches stop at x_budget.monthly_usd, $%.0f a month, however many messages)\n",
		"X without searches", e.PerMillion(e.XUSD()-e.Line(cost.LineXSearchReads).USD), system.config.XBudget.MonthlyUSD)
	t.breakdown(&b2)
	t.levers(&b2, e)
	fmt.Fprintf(&b2, "  %-22s %12s\n", "fixed, per month", "$")
	for _, l := range month.AWS {
		fmt.Fprintf(&b2, "  %-22s %12.4f  %s\n", l.Name, l.USD, l.Quantity)
	}
	fmt.Fprintf(&b2, "  %-22s %12.4f\n", "AWS fixed total", month.AWSUSD())
	for _, name := range slices.Sorted(maps.Keys(t.cold)) {
		u := t.cold[name]
		fmt.Fprintf(&b2, "  %s cold start: init %d ms billed, %d secret reads, %d log bytes, %.1f WRU %.1f RRU\n",
			name, u.Lambda[name].BilledMS, u.SecretsCalls, u.TotalLogBytes(), u.DynamoWRU, u.DynamoRRU)
	}
	fmt.Fprintf(&b2, "  custom metrics (name by dimensions: how many):")
	groups := map[string]int{}
	for k := range t.metrics {
		parts := strings.SplitN(k, "|", 3)
		var dims []string
		for _, d := range strings.Split(parts[2], ",") {
			if name, _, ok := strings.Cut(d, "="); ok {
				dims = append(dims, name)
			}
		}
		g := parts[1]
		if len(dims) > 0 {
			g += " by " + strings.Join(dims, "+")
		}
		groups[g]++
	}
	for _, g := range slices.Sorted(maps.Keys(groups)) {
		fmt.Fprintf(&b2, " %s %d;", g, groups[g])
	}
	b2.WriteString("\n")
	for _, name := range slices.Sorted(maps.Keys(t.idle)) {
		u := t.idle[name]
		run := p.Estimate(u, 0)
		fmt.Fprintf(&b2, "  one idle %s run: %v ms billed, %.1f WRU, %.1f RRU, %d SQS requests, %d log bytes: $%.8f\n",
			name, u.Lambda[name].BilledMS, u.DynamoWRU, u.DynamoRRU, u.SQSRequests, u.TotalLogBytes(), run.AWSUSD())
	}
	// Printed whole: a benchmark's b.Log is cut to a few lines without -v.
	fmt.Print(b2.String())

	b.ReportMetric(e.PerMillion(e.AWSUSD()), "aws-$/M")
	b.ReportMetric(perM(cost.LineLambdaRequests)+perM(cost.LineLambdaCompute), "lambda-$/M")
	b.ReportMetric(perM(cost.LineSQS), "sqs-$/M")
	b.ReportMetric(perM(cost.LineDynamoWrite)+perM(cost.LineDynamoRead), "ddb-$/M")
	b.ReportMetric(perM(cost.LineAPIGateway), "apigw-$/M")
	b.ReportMetric(perM(cost.LineLogs), "logs-$/M")
	b.ReportMetric(perM(cost.LineSecrets)+perM(cost.LineSNS), "other-$/M")
	b.ReportMetric(float64(t.work.TotalLogBytes())/m, "log-B/msg")
	b.ReportMetric(t.work.DynamoWRU/m, "WCU/msg")
	b.ReportMetric(t.work.DynamoRRU/m, "RCU/msg")
	b.ReportMetric(e.PerMillion(e.XUSD()), "x-$/M")
	b.ReportMetric(month.AWSUSD(), "fixed-$/month")
}

// breakdown writes what the per-message cost is made of: log bytes, Lambda,
// DynamoDB and SQS per message, by function, and DynamoDB's units by kind of
// item (the workload's counts, the scheduled runs' baseline included).
func (t costResult) breakdown(w *strings.Builder) {
	m, bm := float64(t.messages), float64(t.breakdownMessages)
	fmt.Fprintf(w, "  log bytes per message:")
	for _, g := range slices.Sorted(maps.Keys(t.work.LogBytes)) {
		fmt.Fprintf(w, " %s %.0f", g, float64(t.work.LogBytes[g])/m)
		if lt := t.counts.Logs[g]; lt.EMFBytes > 0 {
			fmt.Fprintf(w, " (printed %.0f, of which EMF %.0f)", float64(lt.Bytes)/bm, float64(lt.EMFBytes)/bm)
		}
		w.WriteString(";")
	}
	fmt.Fprintf(w, "\n  Lambda per message:")
	for _, name := range slices.Sorted(maps.Keys(t.work.Lambda)) {
		l := t.work.Lambda[name]
		fmt.Fprintf(w, " %s %.2f invocations, %.1f ms;", name, float64(l.Invocations)/m, float64(l.BilledMS)/m)
	}
	fmt.Fprintf(w, "\n  DynamoDB per message (WCU/RCU):")
	kinds := map[string]costmeter.Units{}
	for _, name := range slices.Sorted(maps.Keys(t.counts.DynamoDB)) {
		d := t.counts.DynamoDB[name]
		if d.Read == 0 && d.Write == 0 {
			continue
		}
		fmt.Fprintf(w, " %s %.2f/%.2f;", name, d.Write/bm, d.Read/bm)
		for k, u := range d.ByKind {
			kinds[k] = costmeter.Units{Read: kinds[k].Read + u.Read, Write: kinds[k].Write + u.Write, Calls: kinds[k].Calls + u.Calls}
		}
	}
	byWrite := slices.SortedFunc(maps.Keys(kinds), func(a, b string) int {
		if kinds[a].Write != kinds[b].Write {
			return cmpFloat(kinds[b].Write, kinds[a].Write)
		}
		return strings.Compare(a, b)
	})
	fmt.Fprintf(w, "\n  DynamoDB per message by item: WCU/RCU in calls (the items' mean size)")
	for _, k := range byWrite {
		if u := kinds[k]; u.Write/bm >= 0.01 || u.Read/bm >= 0.1 {
			fmt.Fprintf(w, "\n    %-12s %5.2f/%5.2f in %5.2f calls", k, u.Write/bm, u.Read/bm, float64(u.Calls)/bm)
			if it, ok := t.items[k]; ok {
				fmt.Fprintf(w, " (%.0f items of %.0f B)", it[0], it[1])
			}
		}
	}
	fmt.Fprintf(w, "\n  SQS requests per message:")
	for _, name := range slices.Sorted(maps.Keys(t.counts.SQS)) {
		if q := t.counts.SQS[name]; q.Billed > 0 || len(q.SNS) > 0 {
			fmt.Fprintf(w, " %s %.2f %v;", name, float64(q.Billed)/bm, q.Calls)
		}
	}
	esm := t.counts.ESM
	fmt.Fprintf(w, " event source mappings %.2f %v (empty receives %d: idle polling, left to the fixed cost)",
		float64(esm.Billed-esm.EmptyReceives)/bm, esm.Calls, esm.EmptyReceives)
	for _, role := range slices.Sorted(maps.Keys(t.batches)) {
		if n := t.batches[role]; n[0] > 0 {
			fmt.Fprintf(w, "\n  %s queue: %d batches of %.1f records on average", role, n[0], float64(n[1])/float64(n[0]))
		}
	}
	w.WriteString("\n")
}

// levers writes what the per-message cost would be with each change that would
// lower it, computed from the measured usage (nothing here is run):
//   - the webhook behind a Lambda function URL instead of API Gateway: no API
//     request, no access log line (function URLs are billed as the function's
//     invocations only);
//   - Lambda's system logs at WARN (LoggingConfig.SystemLogLevel): no
//     platform.start and platform.report records;
//   - the functions' application logs at WARN, the EMF lines kept (the metrics
//     are extracted from them);
//   - all three; then what DynamoDB's writes would have to fall to for the goal.
//
// And how batch fill moves it: the inbound queue's records are batched as the
// test delivered them (fast); at low traffic a batch holds fewer, and each
// batch costs a process invocation, its platform records, a receive and a
// delete.
func (t costResult) levers(w *strings.Builder, e cost.Estimate) {
	p := cost.OnDemand
	total := func(u cost.Usage) float64 { return p.Estimate(u, t.messages).AWSUSD() / float64(t.messages) * 1e6 }
	noAPI := func(u cost.Usage) cost.Usage {
		u = u.Add(cost.Usage{})
		u.APIRequests = 0
		delete(u.LogBytes, "api-access")
		return u
	}
	noPlatform := func(u cost.Usage) cost.Usage {
		u = u.Add(cost.Usage{})
		for name, l := range u.Lambda {
			u.LogBytes[name] = max(0, u.LogBytes[name]-cost.LambdaPlatformBytes(l.Invocations, 0))
		}
		return u
	}
	scale := float64(t.messages) / float64(t.breakdownMessages)
	warnApp := func(u cost.Usage) cost.Usage {
		u = u.Add(cost.Usage{})
		for _, name := range []string{"webhook", "process", "reply"} {
			lt := t.counts.Logs[name]
			u.LogBytes[name] = max(0, u.LogBytes[name]-int64(float64(lt.Bytes-lt.EMFBytes)*scale))
		}
		return u
	}
	base := e.PerMillion(e.AWSUSD())
	fmt.Fprintf(w, "  levers (computed from the measurement): now $%.2f per million\n", base)
	all := warnApp(noPlatform(noAPI(t.work)))
	for _, l := range []struct {
		what string
		u    cost.Usage
	}{
		{"webhook on a Lambda function URL (no API Gateway request, no access log)", noAPI(t.work)},
		{"Lambda system logs at WARN (no platform.start/report records)", noPlatform(t.work)},
		{"application logs at WARN, EMF lines kept", warnApp(t.work)},
		{"all three", all},
	} {
		v := total(l.u)
		fmt.Fprintf(w, "    %-76s $%6.2f (−$%.2f)\n", l.what, v, base-v)
	}
	rest := total(all) - e.PerMillion(e.Line(cost.LineDynamoWrite).USD)
	if need := 5 - rest; need > 0 {
		wcu := need / 1e6 / p.DynamoWRU
		fmt.Fprintf(w, "    with all three, the goal needs DynamoDB writes at most %.1f WCU per message (now %.1f)\n", wcu, t.work.DynamoWRU/float64(t.messages))
	} else {
		fmt.Fprintf(w, "    with all three and no DynamoDB write at all it would still be $%.2f per million: the goal needs fewer writes and more\n", rest)
	}
	if n := t.batches[chaosInbound]; n[0] > 0 {
		// A batch: a process invocation, its platform records, the mapping's
		// receive and delete.
		perBatch := p.LambdaRequest + float64(cost.LambdaPlatformBytes(1, 0))/cost.LogsBytesPerGB*p.LogsGB + 2*p.SQSRequest
		fmt.Fprintf(w, "    inbound batches held %.1f records here (the test delivers fast); at low traffic they hold fewer:", float64(n[1])/float64(n[0]))
		for _, k := range []float64{3, 1} {
			extra := (float64(n[1])/k - float64(n[0])) * perBatch * scale / float64(t.messages) * 1e6
			fmt.Fprintf(w, " %g per batch would add $%.2f per million;", k, extra)
		}
		w.WriteString("\n")
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}
