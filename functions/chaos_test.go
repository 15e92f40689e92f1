// Fault-injection suite ("chaos", issue 13): the real built Lambda binaries —
// webhook → inbound queue → process → outbound queue → reply → X (the project's
// fake), and the listen function's mentions and keyword polls — run a stream of
// deliveries through faults at seeded random moments, and every trial ends with
// checks of what must hold whatever happened:
//
//   - every message of a delivery answered 200 is stored exactly once, in the
//     right case: the cases (by channel and customer) and their messages are those
//     of a fault-free baseline run of the same stream;
//   - no reply reaches X twice (fake X's posts and DMs counted per reply, per
//     idempotency key and per post replied to), each on its channel, and no DM's
//     text is ever posted in public;
//   - nothing is left stuck: the queues drain, nothing is in a dead-letter queue,
//     no reply item is left sending or waiting, no claimed message id is left
//     without its message, and every reply decided is sent.
//
// The faults, each over PAJARITO_CHAOS_TRIALS trials (1 by default, as in go test
// ./... and make test; make chaos runs 25):
//
//  1. crash: the process function (and, in other trials, the reply function)
//     killed with an invocation in progress, a few times per trial (lambdafake's
//     CrashNext; Restart plays Lambda's new execution environment);
//  2. dynamodb: DynamoDB killed and restarted on its data (dynalite Kill,
//     Restart), slowed down, or its connections dropped for a while (a proxy);
//  3. x: X answering 5xx, 429 (storms), resetting connections before acting, or
//     after acting (the answer lost: the reply may exist on X, the sender cannot
//     know), or too slowly (beyond the X client's 30 s timeout; each costs those
//     30 s, so only runs that set PAJARITO_CHAOS_TRIALS draw it) — to the replies
//     (odd trials) or to the listener (even trials);
//  4. duplicates: every webhook delivery three times, shuffled, with the listener
//     finding the same posts.
//
// The seed is printed; PAJARITO_CHAOS_SEED repeats a run's plans (the faults'
// kinds, moments and lengths; thread timing is the machine's), and
// PAJARITO_CHAOS_FAULTS=crash,x limits the faults run. A failed trial names the
// invariant, the ids and the seed, and leaves the functions' logs in
// $TMPDIR/pajarito-chaos-<seed>/<trial>. Each trial logs one line, each fault a
// summary, and the last line adds up all the trials.
//
// The stream: the first chaosRecordedPosts posts of the recorded day
// (events/conversations) written again over the last few minutes with new ids (X
// Activity API deliveries, also held by the fake X for the listener), and
// chaosSampleFiles (DMs and public posts of the same customers).
//
// Time is compressed: the test plays Lambda's SQS event source mapping itself
// (eventsource.Poller, one per queue, spreading each batch over two execution
// environments), a failed delivery comes back after chaosBackoff instead of the
// queues' minutes of visibility timeout, and when the reply sender has asked to
// wait (X's rate-limit reset, RetryFloor's minutes after a 5xx, the 5-minute lease
// of an interrupted send) the test moves the due times it stored into the past
// before the record comes back (chaosTrial.warp), as if the wait had passed. The
// functions' logic is unchanged.
package functions_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/eventsource"
	"github.com/pajarito-care/pajarito/shared/local/lambdafake"
	"github.com/pajarito-care/pajarito/shared/local/xfake"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/sender"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

const (
	// chaosBackoff stands in for the queues' visibility timeout after a failed
	// delivery (3 and 9 minutes in the stack).
	chaosBackoff = 2 * time.Second
	// chaosInFlight is the visibility of a delivery in progress, inbound and
	// outbound: above the functions' timeouts (process 30 s, reply 90 s), as the
	// stack's six times them, and below chaosSettle, so that a receive whose
	// answer the event source mapping lost (SQS's at-least-once) comes back
	// within the trial, as it would in AWS.
	chaosInFlight, chaosReplyInFlight = 40 * time.Second, 100 * time.Second
	// The receives before a message moves to its DLQ: infra.InboundMaxReceives and
	// infra.OutboundMaxReceives.
	chaosInboundMaxReceives  = 5
	chaosOutboundMaxReceives = 15
	// chaosInstances is how many execution environments consume each queue.
	chaosInstances = 2
	// chaosXTimeout is a little over the X client's timeout (xapi: 30 s).
	chaosXTimeout = 31 * time.Second
	// chaosSettle bounds the wait for a trial's pipeline to drain once its
	// deliveries and fault are over.
	chaosSettle = 3 * time.Minute
	// sortableTime is store's sortable time layout (backoffs' until).
	sortableTime = "2006-01-02T15:04:05.000000000Z"
)

// chaosFault is one kind of fault; plan draws a trial's variant and moments.
type chaosFault struct {
	name string
	plan func(rng *rand.Rand, trial int) chaosPlan
}

// chaosPlan is what one trial does.
type chaosPlan struct {
	variant string
	// copies is how many times each delivery is made.
	copies int
	// listenAt are the deliveries before which the listener runs.
	listenAt []int
	// inject runs beside the deliveries and returns once the fault is over.
	inject func(ctx context.Context, tr *chaosTrial)
}

var chaosFaults = []chaosFault{
	{name: "crash", plan: planCrash},
	{name: "dynamodb", plan: planDynamo},
	{name: "x", plan: planX},
	{name: "duplicates", plan: planDuplicates},
}

// chaosTrial is one run of the stream.
type chaosTrial struct {
	t     *testing.T
	env   *chaosEnv
	name  string
	seed  uint64
	rng   *rand.Rand
	table string
	// queue and urls are the trial's queues' names and URLs, by role.
	queue, urls map[string]string
	store       *store.Store // direct to dynalite, for the checks
	fake        *xfake.Server
	stream      *chaosStream

	webhook, listen *lambdafake.Runtime
	process, reply  []*lambdafake.Runtime

	// replyMu: reply invocations hold it shared, warp exclusively, so that a
	// claim is aged only when no sender can be using it.
	replyMu sync.RWMutex

	delivered atomic.Int64 // deliveries made so far
	accepted  atomic.Int64 // deliveries answered 200
	mu        sync.Mutex
	faults    []string // what was injected, for the report
	landed    int      // faults that hit something (a kill with an invocation in progress, …)
	restarts  []*lambdafake.Function
	warps     int
}

func (tr *chaosTrial) note(format string, args ...any) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.faults = append(tr.faults, fmt.Sprintf(format, args...))
}

func (tr *chaosTrial) hit() {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.landed++
}

// TestChaos runs the fault-injection suite; see the file's doc.
func TestChaos(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("PAJARITO_CHAOS_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("PAJARITO_CHAOS_SEED=%q: %v", v, err)
		}
		seed = s
	}
	trials := 1
	if v := os.Getenv("PAJARITO_CHAOS_TRIALS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("PAJARITO_CHAOS_TRIALS=%q: want a positive number", v)
		}
		trials = n
	}
	only := map[string]bool{}
	if v := os.Getenv("PAJARITO_CHAOS_FAULTS"); v != "" {
		for _, f := range strings.Split(v, ",") {
			only[strings.TrimSpace(f)] = true
		}
	}
	t.Logf("chaos: seed %d (PAJARITO_CHAOS_SEED=%d repeats it), %d trial(s) per fault", seed, seed, trials)

	env := newChaosEnv(t)
	var base *chaosResult
	t.Run("baseline", func(t *testing.T) {
		tr := env.newTrial(t, "baseline", seed, 0)
		base = tr.run(chaosPlan{variant: "no fault", copies: 1, listenAt: []int{len(tr.stream.deliveries) / 2}})
		base.check(t, nil, tr)
	})
	if base == nil || t.Failed() {
		t.Fatalf("chaos: the fault-free baseline failed (seed %d): nothing to compare the trials with", seed)
	}
	t.Logf("chaos: baseline: %d deliveries, %d messages in %d cases, %d replies decided, %d posted",
		base.deliveries, len(base.keys), len(base.cases), base.repliesExpected, base.posted)

	var total chaosSummary
	for fi, f := range chaosFaults {
		if len(only) > 0 && !only[f.name] {
			continue
		}
		sum := chaosSummary{fault: f.name}
		for i := range trials {
			name := fmt.Sprintf("%s-%d", f.name, i+1)
			t.Run(name, func(t *testing.T) {
				tr := env.newTrial(t, name, seed, uint64(fi+1)<<32|uint64(i))
				plan := f.plan(tr.rng, i)
				res := tr.run(plan)
				res.check(t, base, tr)
				sum.add(res)
				t.Logf("chaos: %s (%s): %s; faults: %s", name, plan.variant, res.line(), strings.Join(tr.faults, "; "))
			})
		}
		total.merge(sum)
		t.Logf("chaos: %s", sum.String())
	}
	total.fault = "all"
	t.Logf("chaos: seed %d: %s", seed, total.String())
}

// newTrial makes a trial's table, fake X, stream and functions.
func (e *chaosEnv) newTrial(t *testing.T, name string, seed, stream uint64) *chaosTrial {
	t.Helper()
	ctx := t.Context()
	tr := &chaosTrial{t: t, env: e, name: name, seed: seed, rng: rand.New(rand.NewPCG(seed, stream)),
		table: "chaos-" + name}
	tr.store = store.New(e.db, tr.table)
	if err := tr.store.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	tr.queue, tr.urls = e.queues(t, tr.table)
	tr.stream = e.stream(t, time.Now())
	tr.fake = xfake.Start()
	t.Cleanup(tr.fake.Close)
	tr.fake.SetMe(system.config.Brand.ID)
	tr.fake.SetUser(xfake.User{ID: system.config.Brand.ID, Username: system.config.Brand.Handle, Name: "Pajarito Air"})
	tr.fake.SetUser(tr.stream.users...)
	tr.fake.Seed(tr.stream.posts...)

	env := []string{
		"AWS_ENDPOINT_URL_DYNAMODB=" + e.proxy.URL,
		"PAJARITO_TABLE=" + tr.table,
		"PAJARITO_INBOUND_QUEUE_URL=" + tr.urls[chaosInbound],
		"PAJARITO_INBOUND_DLQ_URL=" + tr.urls[chaosInboundDLQ],
		"PAJARITO_OUTBOUND_QUEUE_URL=" + tr.urls[chaosOutbound],
		"X_API_BASE_URL=" + tr.fake.URL,
		"X_API_KEY=k", "X_API_SECRET=s", "X_ACCESS_TOKEN=" + system.config.Brand.ID + "-t", "X_ACCESS_TOKEN_SECRET=ts",
	}
	tr.webhook = tr.start("webhook", env)
	tr.listen = tr.start("listen", env)
	for range chaosInstances {
		tr.process = append(tr.process, tr.start("process", env))
		tr.reply = append(tr.reply, tr.start("reply", env))
	}
	t.Cleanup(func() {
		if t.Failed() {
			tr.saveLogs()
		}
	})
	return tr
}

// start runs a function for the trial, with the stack's timeout (infra); its
// output goes to a folder if the trial fails (saveLogs).
func (tr *chaosTrial) start(name string, env []string) *lambdafake.Runtime {
	rt, err := lambdafake.Start()
	if err != nil {
		tr.t.Fatal(err)
	}
	tr.t.Cleanup(rt.Close)
	rt.Timeout = map[string]time.Duration{"webhook": 6 * time.Second, "process": 30 * time.Second,
		"listen": 60 * time.Second, "reply": 90 * time.Second}[name]
	if _, err := rt.StartFunction(tr.t.Context(), filepath.Join(system.bins, name, "bootstrap"), functionEnv(env...)); err != nil {
		tr.t.Fatal(err)
	}
	return rt
}

// saveLogs writes the output of every function process of a failed trial to a
// folder, and says where.
func (tr *chaosTrial) saveLogs() {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("pajarito-chaos-%d", tr.seed), tr.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	fns := map[string]*lambdafake.Function{}
	for _, rt := range append(append([]*lambdafake.Runtime{tr.webhook, tr.listen}, tr.process...), tr.reply...) {
		if f := rt.Function(); f != nil {
			fns[fmt.Sprintf("%s-%p", f.Name, f)] = f
		}
	}
	tr.mu.Lock()
	for _, f := range tr.restarts {
		fns[fmt.Sprintf("%s-%p", f.Name, f)] = f
	}
	tr.mu.Unlock()
	for name, f := range fns {
		_ = os.WriteFile(filepath.Join(dir, name+".log"), []byte(f.Output()), 0o644)
	}
	_ = os.WriteFile(filepath.Join(dir, "dynalite.log"), []byte(tr.env.dynLog.String()), 0o644)
	tr.t.Logf("chaos: the functions' logs of %s are in %s", tr.name, dir)
}

// run makes the trial's deliveries with its fault beside them, lets the pipeline
// drain, and reads what came of it.
func (tr *chaosTrial) run(plan chaosPlan) *chaosResult {
	t := tr.t
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	// Lambda's event source mappings of the two queues.
	pollCtx, stopPolling := context.WithCancel(ctx)
	var pollers sync.WaitGroup
	quiet := slog.New(slog.NewTextHandler(discard, nil))
	for _, p := range []*eventsource.Poller{
		{URL: tr.urls[chaosInbound], DeadLetterURL: tr.urls[chaosInboundDLQ], MaxReceives: chaosInboundMaxReceives,
			Handler: tr.fanOut(tr.process, false)},
		{URL: tr.urls[chaosOutbound], DeadLetterURL: tr.urls[chaosOutboundDLQ], MaxReceives: chaosOutboundMaxReceives,
			Handler: tr.fanOut(tr.reply, true)},
	} {
		p.Client, p.Backoff, p.VisibilityTimeout, p.Log = tr.env.sqs, chaosBackoff, chaosInFlight, quiet
		if p.URL == tr.urls[chaosOutbound] {
			p.VisibilityTimeout = chaosReplyInFlight
		}
		pollers.Add(1)
		go func() { defer pollers.Done(); _ = p.Run(pollCtx) }()
	}
	defer func() { stopPolling(); pollers.Wait() }()

	var injected sync.WaitGroup
	if plan.inject != nil {
		injected.Add(1)
		go func() { defer injected.Done(); plan.inject(ctx, tr) }()
	}

	// X's deliveries, each copy at a random place, with the listener's runs.
	var order []chaosDelivery
	for range max(plan.copies, 1) {
		order = append(order, tr.stream.deliveries...)
	}
	if plan.copies > 1 {
		tr.rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	for i, d := range order {
		if slices.Contains(plan.listenAt, i) {
			_ = tr.runListen(ctx)
		}
		tr.deliver(ctx, d)
		tr.delivered.Add(1)
	}
	injected.Wait()

	// After the fault, the listener runs until a run reads every source: it
	// finds what it missed.
	listened := false
	for attempt := range 10 {
		if attempt > 0 {
			tr.warp(ctx)
		}
		if tr.runListen(ctx) == nil {
			listened = true
			break
		}
	}

	res := &chaosResult{trial: tr.name, seed: tr.seed, deliveries: int(tr.accepted.Load()), listened: listened}
	settled := waitFor(ctx, chaosSettle, func() bool {
		return queued(t, tr.queue[chaosInbound]) == 0 && queued(t, tr.queue[chaosOutbound]) == 0
	})
	stopPolling()
	pollers.Wait()
	if !settled {
		res.stuck = append(res.stuck, fmt.Sprintf("queues not drained after %v: inbound %d, outbound %d",
			chaosSettle, queued(t, tr.queue[chaosInbound]), queued(t, tr.queue[chaosOutbound])))
	}
	tr.read(ctx, res)
	return res
}

// deliver makes one webhook delivery, retrying a failed answer as X does.
func (tr *chaosTrial) deliver(ctx context.Context, d chaosDelivery) {
	req := httpRequest(http.MethodPost, "/webhooks/x", "", map[string]string{
		"content-type":           "application/json",
		xwebhook.SignatureHeader: xwebhook.Sign([]byte(secret), d.body),
	}, string(d.body))
	payload, err := json.Marshal(req)
	if err != nil {
		tr.t.Fatal(err)
	}
	for range 3 {
		out, err := tr.webhook.Invoke(ctx, payload)
		var resp events.APIGatewayV2HTTPResponse
		if err == nil && json.Unmarshal(out, &resp) == nil && resp.StatusCode == http.StatusOK {
			tr.accepted.Add(1)
			return
		}
		if ctx.Err() != nil {
			return
		}
	}
	tr.note("delivery %s not accepted", d.name)
}

// runListen runs the listen function once (as its schedule would).
func (tr *chaosTrial) runListen(ctx context.Context) error {
	_, err := tr.listen.Invoke(ctx, []byte(`{}`))
	tr.restartIfGone(ctx, tr.listen, err)
	return err
}

// restartIfGone starts a new execution environment after a crash or a timeout.
func (tr *chaosTrial) restartIfGone(ctx context.Context, rt *lambdafake.Runtime, err error) {
	var ie *lambdafake.InvokeError
	if !errors.As(err, &ie) || ie.Type != "Runtime.ExitError" && ie.Type != "Sandbox.Timedout" || ctx.Err() != nil {
		return
	}
	old := rt.Function()
	fn, rerr := rt.Restart(tr.t.Context())
	if rerr != nil {
		tr.t.Errorf("chaos: %s: restart %s: %v", tr.name, old.Name, rerr)
		return
	}
	tr.mu.Lock()
	tr.restarts = append(tr.restarts, old, fn)
	tr.mu.Unlock()
}

// fanOut is the handler of an event source mapping whose batch is spread over
// several execution environments at once (as Lambda runs concurrent batches): the
// records of an environment that failed are failed, the others' answers kept.
// After a reply batch with failures, the clock is warped (see warp).
func (tr *chaosTrial) fanOut(rts []*lambdafake.Runtime, reply bool) eventsource.Handler {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		parts := make([][]events.SQSMessage, len(rts))
		for i, r := range ev.Records {
			parts[i%len(rts)] = append(parts[i%len(rts)], r)
		}
		resps := make([]events.SQSEventResponse, len(rts))
		errs := make([]error, len(rts))
		var wg sync.WaitGroup
		for i, part := range parts {
			if len(part) == 0 {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if reply {
					tr.replyMu.RLock()
					defer tr.replyMu.RUnlock()
				}
				payload, err := json.Marshal(events.SQSEvent{Records: part})
				if err != nil {
					errs[i] = err
					return
				}
				out, err := rts[i].Invoke(ctx, payload)
				if err != nil {
					errs[i] = err
					tr.restartIfGone(ctx, rts[i], err)
					return
				}
				errs[i] = json.Unmarshal(out, &resps[i])
			}()
		}
		wg.Wait()
		var merged events.SQSEventResponse
		for i, part := range parts {
			if errs[i] != nil {
				for _, r := range part {
					merged.BatchItemFailures = append(merged.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
				}
				continue
			}
			merged.BatchItemFailures = append(merged.BatchItemFailures, resps[i].BatchItemFailures...)
		}
		if reply && len(merged.BatchItemFailures) > 0 {
			tr.warp(ctx)
		}
		return merged, nil
	}
}

// warp makes the waits the reply sender and the listener stored in DynamoDB due
// now, as if their time had passed, before the records that wait come back: a
// waiting reply's not_before, an endpoint's rate-limit backoff, and the lease of a
// reply claimed by a sender that is gone (no reply invocation is in progress while
// warp runs, so every claim left sending belongs to an invocation that ended:
// answered without X's answer, killed, or timed out).
func (tr *chaosTrial) warp(ctx context.Context) {
	tr.replyMu.Lock()
	defer tr.replyMu.Unlock()
	now := time.Now().UTC()
	past := now.Add(-time.Second)
	p := dynamodb.NewScanPaginator(tr.env.db, &dynamodb.ScanInput{
		TableName:                 aws.String(tr.table),
		FilterExpression:          aws.String("begins_with(PK, :r) OR begins_with(PK, :b)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":r": str("REPLIES#"), ":b": str("RATELIMIT#")},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return // DynamoDB is down: the record waits once more
		}
		for _, it := range page.Items {
			pk := attr(it, "PK")
			var attrName, value string
			var old string
			switch {
			case strings.HasPrefix(pk, "RATELIMIT#"):
				until, err := time.Parse(sortableTime, attr(it, "until"))
				if err != nil || !until.After(now) {
					continue
				}
				attrName, old, value = "until", attr(it, "until"), past.Format(sortableTime)
			case attr(it, "state") == string(care.ReplyWaiting):
				nb, err := time.Parse(time.RFC3339Nano, attr(it, "not_before"))
				if err != nil || !nb.After(now) {
					continue
				}
				attrName, old, value = "not_before", attr(it, "not_before"), past.Format(time.RFC3339Nano)
			case attr(it, "state") == string(care.ReplySending):
				at, err := time.Parse(time.RFC3339Nano, attr(it, "sending_at"))
				if err != nil || now.Sub(at) > sender.DefaultLease {
					continue
				}
				attrName, old, value = "sending_at", attr(it, "sending_at"), now.Add(-sender.DefaultLease-time.Second).Format(time.RFC3339Nano)
			default:
				continue
			}
			_, err := tr.env.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName:                 aws.String(tr.table),
				Key:                       map[string]types.AttributeValue{"PK": it["PK"], "SK": it["SK"]},
				UpdateExpression:          aws.String("SET #a = :new"),
				ConditionExpression:       aws.String("#a = :old"),
				ExpressionAttributeNames:  map[string]string{"#a": attrName},
				ExpressionAttributeValues: map[string]types.AttributeValue{":new": str(value), ":old": str(old)},
			})
			if err == nil {
				tr.mu.Lock()
				tr.warps++
				tr.mu.Unlock()
			}
		}
	}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func attr(it map[string]types.AttributeValue, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// ---- faults ----

// between returns a random duration in [lo, hi].
func between(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(rng.Int64N(int64(hi-lo)+1))
}

// afterDelivery waits until the k-th delivery has been made.
func (tr *chaosTrial) afterDelivery(ctx context.Context, k int) bool {
	return waitFor(ctx, time.Minute, func() bool { return tr.delivered.Load() >= int64(k) })
}

// xWrites is how many posts and DMs the fake X was asked for so far.
func (tr *chaosTrial) xWrites() int {
	return tr.fake.Calls(xapi.EndpointCreatePost) + tr.fake.Calls(xapi.EndpointSendDM)
}

// xCalls is how many requests of the endpoints Pajarito uses reached the fake.
func (tr *chaosTrial) xCalls() int {
	return tr.xWrites() + tr.fake.Calls(xapi.EndpointMentions) + tr.fake.Calls(xapi.EndpointSearch) +
		tr.fake.Calls(xapi.EndpointUserPosts) + tr.fake.Calls(xapi.EndpointDMEvents)
}

// idle reports whether the pipeline has nothing left to do.
func (tr *chaosTrial) idle() bool {
	return queued(tr.t, tr.queue[chaosInbound]) == 0 && queued(tr.t, tr.queue[chaosOutbound]) == 0 &&
		tr.delivered.Load() > 0
}

func defaultListens(n int, rng *rand.Rand) []int {
	return []int{rng.IntN(n), rng.IntN(n)}
}

// planCrash kills the process function (odd trials: the reply function) with an
// invocation in progress, one to three times.
func planCrash(rng *rand.Rand, trial int) chaosPlan {
	target := "process"
	if trial%2 == 1 {
		target = "reply"
	}
	kills := 1 + rng.IntN(3)
	n := len(chaosSampleFiles) + chaosRecordedPosts
	var atDelivery []int
	var crashIn []time.Duration
	for range kills {
		atDelivery = append(atDelivery, rng.IntN(n))
		crashIn = append(crashIn, between(rng, 0, 120*time.Millisecond))
	}
	slices.Sort(atDelivery)
	instance := rng.IntN(chaosInstances)
	return chaosPlan{
		variant:  fmt.Sprintf("%s killed %d times", target, kills),
		copies:   1,
		listenAt: defaultListens(n, rng),
		inject: func(ctx context.Context, tr *chaosTrial) {
			rts := tr.process
			if target == "reply" {
				rts = tr.reply
			}
			for i := range kills {
				if target == "process" {
					tr.afterDelivery(ctx, atDelivery[i])
				} else if !waitFor(ctx, time.Minute, func() bool { return tr.xWrites() >= i || tr.idle() }) {
					return
				}
				// Armed until it hits an invocation in progress (or the
				// pipeline has nothing left to do).
				for try := 0; try < 20; try++ {
					hit := rts[(instance+i)%len(rts)].CrashNext(crashIn[i] / time.Duration(try+1))
					var got, fired bool
					waitFor(ctx, time.Minute, func() bool {
						select {
						case got = <-hit:
							fired = true
						default:
						}
						return fired || tr.idle()
					})
					if got {
						tr.hit()
						tr.note("%s killed %v into an invocation", target, crashIn[i]/time.Duration(try+1))
						break
					}
					if !fired {
						tr.note("%s: no invocation to kill (armed crash left)", target)
						return
					}
				}
			}
		},
	}
}

// planDynamo kills and restarts DynamoDB, slows it down, or drops its connections.
func planDynamo(rng *rand.Rand, trial int) chaosPlan {
	variants := []string{"killed and restarted", "slow", "connections dropped"}
	variant := variants[(trial+rng.IntN(len(variants)))%len(variants)]
	n := len(chaosSampleFiles) + chaosRecordedPosts
	at := rng.IntN(n)
	down := between(rng, 200*time.Millisecond, 2*time.Second)
	delay := between(rng, 20*time.Millisecond, 120*time.Millisecond)
	return chaosPlan{
		variant:  "DynamoDB " + variant,
		copies:   1,
		listenAt: defaultListens(n, rng),
		inject: func(ctx context.Context, tr *chaosTrial) {
			tr.afterDelivery(ctx, at)
			tr.hit()
			switch variant {
			case "killed and restarted":
				if err := tr.env.dyn.Kill(); err != nil {
					tr.t.Errorf("chaos: %s: kill DynamoDB: %v", tr.name, err)
				}
				time.Sleep(down) // the outage itself
				if err := tr.env.dyn.Restart(context.WithoutCancel(ctx)); err != nil {
					tr.t.Errorf("chaos: %s: restart DynamoDB: %v", tr.name, err)
				}
				tr.note("DynamoDB killed after delivery %d, down %v", at, down)
			case "slow":
				tr.env.proxy.SetDelay(delay)
				time.Sleep(2 * down) // the slow spell itself
				tr.env.proxy.SetDelay(0)
				tr.note("DynamoDB slowed by %v per transfer for %v after delivery %d", delay, 2*down, at)
			default:
				tr.env.proxy.Drop(true)
				time.Sleep(down) // the outage itself
				tr.env.proxy.Drop(false)
				tr.note("DynamoDB connections dropped for %v after delivery %d", down, at)
			}
		},
	}
}

// planX makes X fail: to the replies (even trials) or to the listener.
func planX(rng *rand.Rand, trial int) chaosPlan {
	variants := []string{"5xx", "429", "reset", "answer lost", "timeout"}
	if os.Getenv("PAJARITO_CHAOS_TRIALS") == "" {
		// A timeout costs the X client's 30 s: only runs that set the trials
		// (make chaos) draw them.
		variants = variants[:4]
	}
	variant := variants[(trial/2+rng.IntN(len(variants)))%len(variants)]
	target := "replies"
	if trial%2 == 1 {
		target = "listener"
	}
	n := len(chaosSampleFiles) + chaosRecordedPosts
	count := 1 + rng.IntN(3)
	storm := between(rng, 500*time.Millisecond, 3*time.Second)
	writes := rng.IntN(4)
	status := []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}[rng.IntN(3)]
	return chaosPlan{
		variant:  fmt.Sprintf("X %s to the %s", variant, target),
		copies:   1,
		listenAt: defaultListens(n, rng),
		inject: func(ctx context.Context, tr *chaosTrial) {
			if target == "replies" {
				waitFor(ctx, time.Minute, func() bool { return tr.xWrites() >= writes || tr.idle() })
			} else {
				tr.afterDelivery(ctx, n/2)
			}
			before := tr.xCalls()
			switch variant {
			case "5xx":
				tr.fake.FailNext(count, status)
				tr.note("X answers %d to the next %d requests", status, count)
			case "429":
				tr.fake.FailNext(count, http.StatusTooManyRequests)
				tr.fake.Storm(xapi.EndpointCreatePost, storm)
				tr.fake.Storm(xapi.EndpointSendDM, storm)
				tr.note("X answers 429 to the next %d requests and to every write for %v", count, storm)
			case "reset":
				tr.fake.ResetNext(count)
				tr.note("X resets the connection of the next %d requests", count)
			case "answer lost":
				tr.fake.LoseAnswerNext(count)
				tr.note("X acts on the next %d requests and resets their connection", count)
			case "timeout":
				tr.fake.Slow(chaosXTimeout)
				tr.note("X answers the requests of a moment after %v", chaosXTimeout)
			}
			if target == "listener" {
				_ = tr.runListen(ctx)
			}
			// The fault is over once requests took it (or nothing asks X).
			waitFor(ctx, time.Minute, func() bool { return tr.xCalls() >= before+count || tr.idle() && target == "replies" })
			if variant == "timeout" {
				tr.fake.Slow(0)
			}
			if tr.xCalls() > before {
				tr.hit()
			}
		},
	}
}

// planDuplicates delivers everything three times, shuffled, with three listener
// runs among them.
func planDuplicates(rng *rand.Rand, trial int) chaosPlan {
	n := 3 * (len(chaosSampleFiles) + chaosRecordedPosts)
	return chaosPlan{
		variant:  "every delivery 3 times, shuffled, and the listener",
		copies:   3,
		listenAt: []int{rng.IntN(n), rng.IntN(n), rng.IntN(n)},
	}
}

// ---- what came of a trial ----

// chaosResult is what one trial left.
type chaosResult struct {
	trial      string
	seed       uint64
	deliveries int
	listened   bool
	// keys counts the stream's messages stored, by key; cases are the cases'
	// signatures (channel, customer, message keys).
	keys  map[string]int
	cases []string
	// caseOf is the case id of each key (the last one seen), for reports.
	caseOf map[string]string
	// decided are the keys of the messages that have a decision.
	decided map[string]bool
	// failedReplies are the replies that failed for good, by trigger key and
	// kind: the reason.
	failedReplies map[string]string

	repliesExpected int
	posted          int
	doubles         []string
	leaks           []string
	wrongChannel    []string
	orphans         []string
	notSent         []string
	expectedFails   int
	stuck           []string
	dlq             int
	unknownMessages []string
	// expectedMsgs is how many messages the baseline stored; lost how many of them
	// this trial did not.
	expectedMsgs, lost int
}

// read reads the trial's table, queues and fake X.
func (tr *chaosTrial) read(ctx context.Context, res *chaosResult) {
	t := tr.t
	res.keys, res.caseOf, res.decided, res.failedReplies = map[string]int{}, map[string]string{}, map[string]bool{}, map[string]string{}
	var caseIDs []string
	claims := map[string]string{} // X id → case id
	p := dynamodb.NewScanPaginator(tr.env.db, &dynamodb.ScanInput{
		TableName:                 aws.String(tr.table),
		FilterExpression:          aws.String("(begins_with(PK, :c) AND SK = :case) OR (begins_with(PK, :x) AND SK = :xsk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": str("CASE#"), ":case": str("CASE"), ":x": str("X#"), ":xsk": str("X")},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("chaos: %s: scan: %v", tr.name, err)
		}
		for _, it := range page.Items {
			pk := attr(it, "PK")
			if strings.HasPrefix(pk, "CASE#") {
				caseIDs = append(caseIDs, strings.TrimPrefix(pk, "CASE#"))
			} else if id := pk[strings.LastIndex(pk, "#")+1:]; attr(it, "case_id") != "" {
				claims[id] = attr(it, "case_id")
			}
		}
	}

	var dmTexts []string
	expected := map[string]care.ReplyRequest{}
	items := map[string]care.ReplyStatus{}
	stored := map[string]map[string]bool{} // case id → message ids
	for _, id := range caseIDs {
		c, msgs, err := tr.store.GetCase(ctx, id)
		if err != nil {
			t.Fatalf("chaos: %s: case %s: %v", tr.name, id, err)
		}
		stored[id] = map[string]bool{}
		var keys []string
		for _, m := range msgs {
			stored[id][m.ID] = true
			if m.Channel == care.DM && m.Direction == care.Inbound {
				dmTexts = append(dmTexts, m.Text)
			}
			key := tr.stream.keyOf[m.ID]
			if key == "" {
				if m.Direction != care.Outbound || m.AuthorID != system.config.Brand.ID {
					res.unknownMessages = append(res.unknownMessages, id+"/"+m.ID)
				}
				continue // a reply the sender recorded: checked with the replies
			}
			res.keys[key]++
			res.caseOf[key] = id
			keys = append(keys, key)
		}
		slices.Sort(keys)
		res.cases = append(res.cases, fmt.Sprintf("%s|%s|%s", c.Channel, c.CustomerID, strings.Join(keys, ",")))
		decisions, err := tr.store.ListDecisions(ctx, id)
		if err != nil {
			t.Fatalf("chaos: %s: decisions of %s: %v", tr.name, id, err)
		}
		for _, d := range decisions {
			if k := tr.stream.keyOf[d.MessageID]; k != "" {
				res.decided[k] = true
			}
			for _, r := range d.Replies {
				expected[r.IdempotencyKey] = r
			}
		}
		replies, err := tr.store.ListReplies(ctx, id)
		if err != nil {
			t.Fatalf("chaos: %s: replies of %s: %v", tr.name, id, err)
		}
		for _, r := range replies {
			items[r.Key] = r
		}
	}
	slices.Sort(res.cases)
	for xid, caseID := range claims {
		if !stored[caseID][xid] {
			res.stuck = append(res.stuck, fmt.Sprintf("message %s claimed for case %s but not stored", xid, caseID))
		}
	}

	// Replies: each decided one sent once, on its channel; nothing else posted.
	posted := tr.fake.Posted()
	res.posted = len(posted)
	res.repliesExpected = len(expected)
	perKey := map[string]int{}
	perTarget := map[string]int{}
	wantPerTarget := map[string]int{}
	for _, r := range expected {
		wantPerTarget[replyTarget(r.Channel, r.InReplyToID, r.RecipientID)]++
	}
	for _, p := range posted {
		ch := care.Public
		if p.Kind == "dm" {
			ch = care.DM
		}
		perTarget[replyTarget(ch, p.InReplyToID, p.ParticipantID)]++
		key := ""
		for k, it := range items {
			if it.XID == p.ID {
				key = k
			}
		}
		if key == "" {
			for k, r := range expected {
				if r.Channel == ch && replyTarget(ch, r.InReplyToID, r.RecipientID) == replyTarget(ch, p.InReplyToID, p.ParticipantID) &&
					(p.Text == r.Text || p.Text == protocol.Distinct(r.Text, r.IdempotencyKey)) {
					key = k
				}
			}
		}
		if key == "" {
			res.orphans = append(res.orphans, fmt.Sprintf("%s %s (%q)", p.Kind, p.ID, p.Text))
			continue
		}
		perKey[key]++
		if r := expected[key]; r.Channel != ch {
			res.wrongChannel = append(res.wrongChannel, fmt.Sprintf("reply %s of case %s (%s) was posted as a %s", key, r.CaseID, r.Channel, p.Kind))
		}
	}
	for k, n := range perKey {
		if n > 1 {
			r := expected[k]
			res.doubles = append(res.doubles, fmt.Sprintf("reply %s of case %s (%s %s to %s%s) reached X %d times",
				k, r.CaseID, r.Kind, r.Channel, r.InReplyToID, r.RecipientID, n))
		}
	}
	for target, n := range perTarget {
		if n > wantPerTarget[target] && !slices.ContainsFunc(res.doubles, func(s string) bool { return strings.Contains(s, target) }) {
			res.doubles = append(res.doubles, fmt.Sprintf("%d replies reached X for %s, %d were decided", n, target, wantPerTarget[target]))
		}
	}
	// What a customer said by DM, and what the brand said only by DM (not its
	// templates, which go both ways).
	public := map[string]bool{}
	for _, r := range expected {
		if r.Channel == care.Public {
			public[normalize(r.Text)] = true
		}
	}
	for _, p := range posted {
		if p.Kind == "dm" && !public[normalize(p.Text)] {
			dmTexts = append(dmTexts, p.Text)
		}
	}
	for _, p := range posted {
		if p.Kind != "post" {
			continue
		}
		for _, dm := range dmTexts {
			if len(dm) >= 12 && strings.Contains(normalize(p.Text), normalize(dm)) {
				res.leaks = append(res.leaks, fmt.Sprintf("public post %s contains the DM text %q", p.ID, dm))
			}
		}
	}
	for k, r := range expected {
		it, ok := items[k]
		trigger := tr.stream.keyOf[r.TriggerID] + "|" + string(r.Kind)
		switch {
		case !ok:
			res.notSent = append(res.notSent, fmt.Sprintf("reply %s of case %s (%s %s) was never handled", k, r.CaseID, r.Kind, r.Channel))
		case it.State == care.ReplySent:
		case it.State == care.ReplySending || it.State == care.ReplyWaiting:
			res.stuck = append(res.stuck, fmt.Sprintf("reply %s of case %s left %s (%s)", k, r.CaseID, it.State, it.Reason))
		case it.State == care.ReplyFailed:
			res.failedReplies[trigger] = it.Reason
			res.notSent = append(res.notSent, fmt.Sprintf("reply %s of case %s (%s %s) failed: %s", k, r.CaseID, r.Kind, r.Channel, it.Reason))
		default:
			res.notSent = append(res.notSent, fmt.Sprintf("reply %s of case %s (%s %s) ended %s: %s", k, r.CaseID, r.Kind, r.Channel, it.State, it.Reason))
		}
	}

	for _, role := range []string{chaosInboundDLQ, chaosOutboundDLQ} {
		q := tr.queue[role]
		bodies, err := system.sqs.Bodies(q)
		if err != nil {
			t.Fatal(err)
		}
		res.dlq += len(bodies)
		for _, b := range bodies {
			res.stuck = append(res.stuck, fmt.Sprintf("in %s: %.300s", q, b))
		}
	}
	if !res.listened {
		res.stuck = append(res.stuck, "the listener never completed a run after the fault")
	}
}

// replyTarget names where a reply goes: the post it answers, or the DM's recipient.
func replyTarget(ch care.Channel, inReplyTo, recipient string) string {
	if ch == care.DM {
		return "DM to " + recipient
	}
	return "post " + inReplyTo
}

func normalize(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

// check reports the trial's broken invariants; base is the baseline run (nil for
// the baseline itself).
func (r *chaosResult) check(t *testing.T, base *chaosResult, tr *chaosTrial) {
	t.Helper()
	fail := func(invariant string, details []string) {
		if len(details) > 0 {
			t.Errorf("chaos: %s (seed %d, %s; PAJARITO_CHAOS_SEED=%d PAJARITO_CHAOS_FAULTS=%s repeats its plan): %s:\n  %s",
				r.trial, r.seed, strings.Join(tr.faults, "; "), r.seed, strings.SplitN(r.trial, "-", 2)[0], invariant,
				strings.Join(details, "\n  "))
		}
	}
	var dups []string
	for k, n := range r.keys {
		if n > 1 {
			dups = append(dups, fmt.Sprintf("%s stored %d times (case %s)", k, n, r.caseOf[k]))
		}
	}
	fail("a message stored more than once", dups)
	fail("a message stored that no delivery carried", r.unknownMessages)
	r.expectedMsgs = len(r.keys)
	if base != nil {
		var lost, undecided []string
		for k := range base.keys {
			if r.keys[k] == 0 {
				lost = append(lost, k)
			}
			if base.decided[k] && !r.decided[k] {
				undecided = append(undecided, fmt.Sprintf("%s (case %s)", k, r.caseOf[k]))
			}
		}
		r.expectedMsgs, r.lost = len(base.keys), len(lost)
		fail("a message accepted (200) but not stored", lost)
		fail("a message stored but never decided on", undecided)
		if !slices.Equal(r.cases, base.cases) {
			fail("cases differ from the baseline's (channel|customer|messages)", diffLines(base.cases, r.cases))
		}
	}
	fail("a reply reached X twice", r.doubles)
	fail("a DM's text was posted in public", r.leaks)
	fail("a reply went out on the other channel", r.wrongChannel)
	fail("X received a post or DM that no reply asked for", r.orphans)
	var notSent []string
	for _, s := range r.notSent {
		if base != nil && strings.Contains(s, " failed: ") && base.sameFailure(s) {
			r.expectedFails++
			continue
		}
		notSent = append(notSent, s)
	}
	if base == nil {
		r.expectedFails = len(r.notSent)
		for _, s := range r.notSent {
			t.Logf("chaos: baseline: %s (expected in every trial)", s)
		}
	} else {
		fail("a reply decided was not sent", notSent)
	}
	fail("something was left stuck", r.stuck)
}

// sameFailure reports whether the baseline's replies failed the same way (by
// X's or the linter's refusal, not by a fault).
func (r *chaosResult) sameFailure(line string) bool {
	_, reason, _ := strings.Cut(line, " failed: ")
	for _, b := range r.failedReplies {
		if b == reason {
			return true
		}
	}
	return false
}

// diffLines lists what only one side has.
func diffLines(want, got []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			out = append(out, "baseline only: "+w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			out = append(out, "trial only:    "+g)
		}
	}
	return out
}

// line is the trial's one-line summary.
func (r *chaosResult) line() string {
	stored, distinct := 0, 0
	for _, n := range r.keys {
		stored += n
		distinct++
	}
	return fmt.Sprintf("deliveries %d, messages stored %d (%d distinct), replies decided %d, posted %d, double %d, DM leaks %d, stuck %d",
		r.deliveries, stored, distinct, r.repliesExpected, r.posted, len(r.doubles), len(r.leaks), len(r.stuck))
}

// chaosSummary adds up the trials of a fault.
type chaosSummary struct {
	fault                                                   string
	trials, deliveries                                      int
	expected, stored, lost, duplicated                      int
	repliesExpected, posted, doubles, leaks, stuck, notSent int
}

func (s *chaosSummary) add(r *chaosResult) {
	s.trials++
	s.deliveries += r.deliveries
	s.posted += r.posted
	s.repliesExpected += r.repliesExpected - r.expectedFails
	s.doubles += len(r.doubles)
	s.leaks += len(r.leaks)
	s.stuck += len(r.stuck)
	for _, n := range r.keys {
		s.stored += n
		if n > 1 {
			s.duplicated += n - 1
		}
	}
	s.expected += r.expectedMsgs
	s.lost += r.lost
	s.notSent += len(r.notSent) - r.expectedFails
}

func (s *chaosSummary) merge(o chaosSummary) {
	s.trials += o.trials
	s.deliveries += o.deliveries
	s.expected += o.expected
	s.stored += o.stored
	s.lost += o.lost
	s.duplicated += o.duplicated
	s.repliesExpected += o.repliesExpected
	s.posted += o.posted
	s.doubles += o.doubles
	s.leaks += o.leaks
	s.stuck += o.stuck
	s.notSent += o.notSent
}

func (s chaosSummary) String() string {
	return fmt.Sprintf("%s: %d trials, %d deliveries; messages expected %d, stored %d (lost %d, duplicated %d); replies expected %d, posted %d (double %d, not sent %d); DM leaks %d; stuck %d",
		s.fault, s.trials, s.deliveries, s.expected, s.stored, s.lost, s.duplicated, s.repliesExpected, s.posted, s.doubles, s.notSent, s.leaks, s.stuck)
}
