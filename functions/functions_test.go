// End-to-end test of the core loop on the real Lambda binaries: each function in
// functions/ is built as a `bootstrap` (for this machine, -tags lambda.norpc, laid
// out like `make build` with pajarito.json beside it) and run against a Lambda
// Runtime API fake, with dynalite as DynamoDB and goaws as SQS.
package functions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/local/dynalite"
	"github.com/pajarito-care/pajarito/shared/local/eventsource"
	"github.com/pajarito-care/pajarito/shared/local/lambdafake"
	"github.com/pajarito-care/pajarito/shared/local/localsqs"
	"github.com/pajarito-care/pajarito/shared/local/xfake"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

const (
	table   = "pajarito-e2e"
	inbound = "e2e-inbound"
	dlq     = "e2e-inbound-dlq"
	outbox  = "e2e-outbound"
	// outboxDLQ is the outbound queue's dead-letter queue (the agent API redrives it).
	outboxDLQ = "e2e-outbound-dlq"
	// alertInbox is subscribed to the alert topic, as an e-mail address would be.
	alertInbox = "e2e-alert-inbox"
	secret     = "e2e-consumer-secret"
)

// system is what every test here shares: one goaws per process, one dynalite and
// the built binaries.
var system struct {
	root string
	bins string
	dyn  *dynalite.Server
	sqs  *localsqs.Server
	// alerts is the ARN of the alert topic (goaws's SNS).
	alerts string
	store  *store.Store
	config *config.Config
}

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "functions e2e setup:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	ctx := context.Background()
	wd, err := os.Getwd()
	if err != nil {
		return 0, err
	}
	system.root = filepath.Dir(wd)
	system.bins, err = os.MkdirTemp("", "pajarito-bootstraps-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(system.bins)
	if err := buildFunctions(system.root, system.bins); err != nil {
		return 0, err
	}
	if system.config, err = config.Load(filepath.Join(system.root, config.FileName), func(string) string { return "" }); err != nil {
		return 0, err
	}
	system.dyn, err = dynalite.Start(ctx, dynalite.Options{Root: system.root})
	if err != nil {
		return 0, err
	}
	defer system.dyn.Close()
	client, err := store.NewClient(ctx, system.dyn.Endpoint)
	if err != nil {
		return 0, err
	}
	system.store = store.New(client, table)
	if err := system.store.CreateTable(ctx); err != nil {
		return 0, err
	}
	system.sqs, err = localsqs.Start(localsqs.Queue{Name: inbound}, localsqs.Queue{Name: dlq}, localsqs.Queue{Name: outbox}, localsqs.Queue{Name: outboxDLQ}, localsqs.Queue{Name: alertInbox})
	if err != nil {
		return 0, err
	}
	defer system.sqs.Close()
	topic, err := system.sqs.SNS(ctx).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("e2e-alerts")})
	if err != nil {
		return 0, err
	}
	system.alerts = aws.ToString(topic.TopicArn)
	if _, err := system.sqs.SNS(ctx).Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(system.sqs.QueueURL(alertInbox)),
		Attributes: map[string]string{"RawMessageDelivery": "true"},
	}); err != nil {
		return 0, err
	}
	return m.Run(), nil
}

// buildFunctions builds every functions/<name> into dir/<name>/bootstrap, with the
// flags of `make build` but for this machine's OS and architecture.
func buildFunctions(root, dir string) error {
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		return err
	}
	cfg, err := os.ReadFile(filepath.Join(root, config.FileName))
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		out := filepath.Join(dir, e.Name())
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", filepath.Join(out, "bootstrap"), "./functions/"+e.Name())
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", e.Name(), err, b)
		}
		if err := os.WriteFile(filepath.Join(out, config.FileName), cfg, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// startFunction runs the named function's bootstrap against a fresh Runtime API fake.
func startFunction(t *testing.T, name string, extraEnv ...string) *lambdafake.Runtime {
	t.Helper()
	rt, err := lambdafake.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	if name == "reply" {
		rt.Timeout = 90 * time.Second // as the stack gives it (infra.ReplyFunction)
	}
	fn, err := rt.StartFunction(t.Context(), filepath.Join(system.bins, name, "bootstrap"), functionEnv(extraEnv...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		fn.Stop()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, fn.Output())
		}
	})
	return rt
}

// functionEnv is the environment of a function: the package's DynamoDB, queues
// and alert topic, then extraEnv (whose entries win).
func functionEnv(extraEnv ...string) []string {
	return append([]string{
		"AWS_ENDPOINT_URL_DYNAMODB=" + system.dyn.Endpoint,
		"AWS_ENDPOINT_URL_SQS=" + system.sqs.Endpoint,
		"PAJARITO_TABLE=" + table,
		"PAJARITO_INBOUND_QUEUE_URL=" + system.sqs.QueueURL(inbound),
		"PAJARITO_INBOUND_DLQ_URL=" + system.sqs.QueueURL(dlq),
		"PAJARITO_OUTBOUND_QUEUE_URL=" + system.sqs.QueueURL(outbox),
		"PAJARITO_OUTBOUND_DLQ_URL=" + system.sqs.QueueURL(outboxDLQ),
		"PAJARITO_INBOUND_QUEUE_ARN=" + localsqs.ARN(inbound),
		"PAJARITO_INBOUND_DLQ_ARN=" + localsqs.ARN(dlq),
		"PAJARITO_OUTBOUND_QUEUE_ARN=" + localsqs.ARN(outbox),
		"PAJARITO_OUTBOUND_DLQ_ARN=" + localsqs.ARN(outboxDLQ),
		"AWS_ENDPOINT_URL_SNS=" + system.sqs.Endpoint,
		"PAJARITO_ALERT_TOPIC_ARN=" + system.alerts,
		"X_CONSUMER_SECRET=" + secret,
	}, extraEnv...)
}

// httpRequest is an API Gateway HTTP API (payload 2.0) request event.
func httpRequest(method, path, query string, headers map[string]string, body string) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       method + " " + path,
		RawPath:        path,
		RawQueryString: query,
		Headers:        headers,
		Body:           body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			DomainName: "abc123.execute-api.eu-west-1.amazonaws.com",
			Stage:      "$default",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: method, Path: path, Protocol: "HTTP/1.1", SourceIP: "203.0.113.7",
			},
			TimeEpoch: time.Now().UnixMilli(),
		},
	}
}

func invokeHTTP(t *testing.T, rt *lambdafake.Runtime, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	payload, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	out, err := rt.Invoke(t.Context(), payload)
	if err != nil {
		t.Fatalf("invoke %s: %v", req.RouteKey, err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("decode response %s: %v", out, err)
	}
	return resp
}

func signedDelivery(t *testing.T, file string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(system.root, "events", file))
	if err != nil {
		t.Fatal(err)
	}
	return httpRequest(http.MethodPost, "/webhooks/x", "", map[string]string{
		"content-type":                  "application/json",
		xwebhook.SignatureHeader:        xwebhook.Sign([]byte(secret), body),
		"user-agent":                    "X-Webhooks/1.0",
		"x-amzn-trace-id":               "Root=1-67891233-abcdef012345678912345678",
		"x-forwarded-for":               "203.0.113.7",
		"x-forwarded-proto":             "https",
		"content-length":                fmt.Sprint(len(body)),
		"accept-encoding":               "gzip",
		"x-twitter-webhooks-signature2": "ignored",
	}, string(body))
}

func queued(t testing.TB, name string) int {
	t.Helper()
	visible, inFlight, err := system.sqs.Counts(name)
	if err != nil {
		t.Fatal(err)
	}
	return visible + inFlight
}

// drain runs the inbound queue through the process function, as Lambda's event
// source mapping would, until it is empty.
func drain(t *testing.T, process *lambdafake.Runtime) {
	t.Helper()
	p := &eventsource.Poller{
		Client:        system.sqs.Client(t.Context()),
		URL:           system.sqs.QueueURL(inbound),
		DeadLetterURL: system.sqs.QueueURL(dlq),
		Handler: func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			payload, err := json.Marshal(ev)
			if err != nil {
				return events.SQSEventResponse{}, err
			}
			out, err := process.Invoke(ctx, payload)
			if err != nil {
				return events.SQSEventResponse{}, err
			}
			var resp events.SQSEventResponse
			return resp, json.Unmarshal(out, &resp)
		},
	}
	deadline := time.Now().Add(30 * time.Second)
	for queued(t, inbound) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("inbound queue not drained: %d messages left", queued(t, inbound))
		}
		if _, err := p.PollOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCoreLoopExactlyOnce: the same post delivered three times by the X Activity API
// and once by the legacy Account Activity API becomes exactly one message in one case.
func TestCoreLoopExactlyOnce(t *testing.T) {
	webhook := startFunction(t, "webhook")
	process := startFunction(t, "process")
	agentapi := startFunction(t, "agentapi")
	for _, q := range []string{inbound, outbox} {
		if err := system.sqs.Purge(q); err != nil {
			t.Fatal(err)
		}
	}

	// X's CRC check.
	resp := invokeHTTP(t, webhook, httpRequest(http.MethodGet, "/webhooks/x", "crc_token=challenge-123", nil, ""))
	want := xwebhook.CRCResponse([]byte(secret), "challenge-123")
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, want) {
		t.Fatalf("CRC: %d %s, want 200 with %s", resp.StatusCode, resp.Body, want)
	}

	// A forged delivery is refused and queues nothing.
	forged := signedDelivery(t, "xaa-mention-es.json")
	forged.Headers[xwebhook.SignatureHeader] = xwebhook.Sign([]byte("not-the-secret"), []byte(forged.Body))
	if resp := invokeHTTP(t, webhook, forged); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged delivery: %d %s, want 401", resp.StatusCode, resp.Body)
	}
	if n := queued(t, inbound); n != 0 {
		t.Fatalf("forged delivery queued %d messages", n)
	}

	for _, file := range []string{"xaa-mention-es.json", "xaa-mention-es.json", "xaa-mention-es.json", "aaa-tweet-es.json"} {
		if resp := invokeHTTP(t, webhook, signedDelivery(t, file)); resp.StatusCode != http.StatusOK {
			t.Fatalf("deliver %s: %d %s", file, resp.StatusCode, resp.Body)
		}
	}
	if n := queued(t, inbound); n != 4 {
		t.Fatalf("queued %d messages after 4 deliveries, want 4 (dedupe happens in the processor)", n)
	}
	drain(t, process)

	post := postOf(t, "xaa-mention-es.json")
	caseID := "t" + post.ID
	c, msgs, err := system.store.GetCase(t.Context(), caseID)
	if err != nil {
		t.Fatalf("case %s: %v", caseID, err)
	}
	if len(msgs) != 1 || msgs[0].ID != post.ID || c.MessagesIn != 1 {
		t.Fatalf("case %s has %d messages (messages_in %d), want exactly the one post %s", caseID, len(msgs), c.MessagesIn, post.ID)
	}
	if msgs[0].Text != post.Text || c.CustomerHandle != post.AuthorHandle || !c.Summoned || c.Status != care.Open {
		t.Errorf("stored case/message do not match the post: %+v / %+v", c, msgs[0])
	}
	list, _, err := system.store.ListCases(t.Context(), store.ListQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var found int
	for _, s := range list {
		if s.CustomerID == post.AuthorID {
			found++
		}
	}
	if found != 1 {
		t.Errorf("open cases of the author: %d, want 1", found)
	}
	if n := queued(t, dlq); n != 0 {
		t.Errorf("%d messages in the DLQ, want 0", n)
	}

	// The agent API function serves the case to an agent that API Gateway's JWT
	// authorizer verified, and refuses a request with no verified claims.
	get := httpRequest(http.MethodGet, "/v1/cases/"+caseID, "", map[string]string{"authorization": "Bearer eyJhbGciOi.x.y"}, "")
	if resp := invokeHTTP(t, agentapi, get); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("agent API without verified claims: %d %s, want 401", resp.StatusCode, resp.Body)
	}
	get.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
			Claims: map[string]string{"sub": "agent-ana", "name": "Ana", "cognito:groups": "[agent]"},
		},
	}
	resp = invokeHTTP(t, agentapi, get)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("agent API: %d %s", resp.StatusCode, resp.Body)
	}
	var detail struct {
		Case      care.Case             `json:"case"`
		Messages  []care.StoredMessage  `json:"messages"`
		Decisions []care.DecisionRecord `json:"decisions"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &detail); err != nil {
		t.Fatal(err)
	}
	if detail.Case.ID != caseID || len(detail.Messages) != 1 || detail.Messages[0].ID != post.ID {
		t.Errorf("agent API case = %s with %d messages, want %s with the one post", detail.Case.ID, len(detail.Messages), caseID)
	}
	// The processor put the message through the protocol once, duplicates or not:
	// one decision, with labels, a department and its reasons, and its replies
	// (if any) on the outbound queue once.
	if len(detail.Decisions) != 1 {
		t.Fatalf("case %s has %d decisions, want 1", caseID, len(detail.Decisions))
	}
	d := detail.Decisions[0]
	if d.Labels.Intent == "" || d.Labels.Sentiment == "" || d.Department == "" || len(d.Explanation) == 0 {
		t.Errorf("decision lacks labels, department or explanation: %+v", d)
	}
	if n := queued(t, outbox); n != len(d.Replies) {
		t.Errorf("outbound queue holds %d reply requests, the decision planned %d", n, len(d.Replies))
	}
	if len(d.Replies) == 0 {
		t.Fatalf("the protocol planned no reply to a summoned complaint: %+v", d)
	}

	// The reply function posts the planned reply on X (the project's fake) once,
	// even when SQS delivers the request twice, and the case records it.
	fake := xfake.Start()
	defer fake.Close()
	fake.SetMe(system.config.Brand.ID)
	fake.AddPost(xfake.Post{ID: post.ID, AuthorID: post.AuthorID, Text: post.Text, Lang: post.Lang, CreatedAt: post.CreatedAt})
	reply := startFunction(t, "reply",
		"X_API_BASE_URL="+fake.URL,
		"X_API_KEY=k", "X_API_SECRET=s", "X_ACCESS_TOKEN="+system.config.Brand.ID+"-t", "X_ACCESS_TOKEN_SECRET=ts")
	bodies, err := system.sqs.Bodies(outbox)
	if err != nil || len(bodies) != len(d.Replies) {
		t.Fatalf("outbound bodies: %d, %v", len(bodies), err)
	}
	for attempt := range 2 { // the same request delivered twice
		var ev events.SQSEvent
		for i, b := range bodies {
			ev.Records = append(ev.Records, events.SQSMessage{
				MessageId: fmt.Sprintf("m%d-%d", attempt, i), ReceiptHandle: fmt.Sprintf("rh%d-%d", attempt, i), Body: b,
				EventSourceARN: localsqs.ARN(outbox), Attributes: map[string]string{"ApproximateReceiveCount": fmt.Sprint(attempt + 1)},
			})
		}
		payload, _ := json.Marshal(ev)
		out, err := reply.Invoke(t.Context(), payload)
		if err != nil {
			t.Fatalf("reply function: %v", err)
		}
		var res events.SQSEventResponse
		if err := json.Unmarshal(out, &res); err != nil || len(res.BatchItemFailures) != 0 {
			t.Fatalf("reply function answered %s (%v)", out, err)
		}
	}
	posted := fake.Posted()
	if len(posted) != len(d.Replies) || posted[0].InReplyToID != post.ID || posted[0].Text != d.Replies[0].Text {
		t.Fatalf("X received %+v; want the planned reply to %s once", posted, post.ID)
	}
	stored, msgs, err := system.store.GetCase(t.Context(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.MessagesOut != 1 || stored.FirstResponseAt == nil || msgs[len(msgs)-1].ID != posted[0].ID || msgs[len(msgs)-1].Direction != care.Outbound {
		t.Errorf("case after the reply: out %d, first response %v, last message %+v", stored.MessagesOut, stored.FirstResponseAt, msgs[len(msgs)-1])
	}
}

// TestMalformedDeliveryIsQuarantined: a signed body that isn't JSON is answered 400
// and still not lost: the processor quarantines it and moves it to the DLQ.
func TestMalformedDeliveryIsQuarantined(t *testing.T) {
	webhook := startFunction(t, "webhook")
	process := startFunction(t, "process")
	for _, q := range []string{inbound, dlq} {
		if err := system.sqs.Purge(q); err != nil {
			t.Fatal(err)
		}
	}
	if resp := invokeHTTP(t, webhook, signedDelivery(t, "malformed.json")); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("malformed delivery: %d %s, want 400", resp.StatusCode, resp.Body)
	}
	drain(t, process)
	if n := queued(t, dlq); n != 1 {
		t.Fatalf("DLQ holds %d messages, want the malformed body", n)
	}
	q, err := system.store.ListQuarantine(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(system.root, "events", "malformed.json"))
	var ok bool
	for _, r := range q {
		var env care.Envelope
		ok = ok || json.Unmarshal([]byte(r.Body), &env) == nil && env.Kind == care.KindUnparsed && env.Unparsed == string(raw)
	}
	if !ok {
		t.Errorf("no quarantine record holds the malformed body; records: %d", len(q))
	}
}

// TestFunctionsRefuseToStartMisconfigured: a function missing a setting fails its
// init with a log line that names the setting.
func TestFunctionsRefuseToStartMisconfigured(t *testing.T) {
	rt, err := lambdafake.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	fn, err := rt.StartFunction(t.Context(), filepath.Join(system.bins, "webhook", "bootstrap"), []string{"PAJARITO_INBOUND_QUEUE_URL=http://127.0.0.1:1/q"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-fn.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("misconfigured function did not exit")
	}
	if out := fn.Output(); !strings.Contains(out, "X_CONSUMER_SECRET") {
		t.Errorf("init failure does not name X_CONSUMER_SECRET:\n%s", out)
	}
}

func postOf(t *testing.T, file string) *care.Message {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(system.root, "events", file))
	if err != nil {
		t.Fatal(err)
	}
	res, err := xwebhook.Parse(body, system.config.Brand, time.Now())
	if err != nil || len(res.Envelopes) != 1 || res.Envelopes[0].Message == nil {
		t.Fatalf("parse %s: %v", file, err)
	}
	return res.Envelopes[0].Message
}

// TestListenFunction: the scheduled listener, run as its Lambda binary against the
// project's X API fake, queues what is new since its checkpoint; its posts become
// cases, and a second run finds nothing new to pay for.
func TestListenFunction(t *testing.T) {
	for _, q := range []string{inbound, dlq} {
		if err := system.sqs.Purge(q); err != nil {
			t.Fatal(err)
		}
	}
	fake := xfake.Start()
	defer fake.Close()
	posts, users, err := xfake.SeedFromEvents(filepath.Join(system.root, "events"))
	if err != nil {
		t.Fatal(err)
	}
	// The samples are dated August 2026 and their ids are snowflakes of those
	// dates; the listener judges a checkpoint by its id, as X does, so the posts
	// are re-dated into the last half hour and given ids of those times.
	now := time.Now()
	fake.SetMe(system.config.Brand.ID)
	fake.SetUser(users...)
	mention := postOf(t, "xaa-mention-en.json")
	var mentionID string
	for _, p := range xfake.FitWithin(posts, now.Add(-30*time.Minute), now.Add(-time.Minute)) {
		p.ID, p.ConversationID = "", ""
		if got := fake.AddPost(p); got.Text == mention.Text {
			mentionID = got.ID
		}
	}

	listen := startFunction(t, "listen",
		"X_API_BASE_URL="+fake.URL,
		"X_API_KEY=k", "X_API_SECRET=s", "X_ACCESS_TOKEN="+system.config.Brand.ID+"-t", "X_ACCESS_TOKEN_SECRET=ts",
		// A table of its own, so that checkpoints start afresh.
		"PAJARITO_TABLE="+table,
	)
	process := startFunction(t, "process")
	scheduled := []byte(`{}`) // EventBridge Scheduler's default input
	if _, err := listen.Invoke(t.Context(), scheduled); err != nil {
		t.Fatalf("listen: %v", err)
	}
	found := queued(t, inbound)
	if found == 0 || fake.Calls(xapi.EndpointMentions) == 0 {
		t.Fatalf("listen queued %d posts after %d mentions calls", found, fake.Calls(xapi.EndpointMentions))
	}
	drain(t, process)
	if _, msgs, err := system.store.GetCase(t.Context(), "t"+mentionID); err != nil || len(msgs) != 1 || msgs[0].Text != mention.Text {
		t.Fatalf("case of the mention %s found by the listener: %d messages, %v", mentionID, len(msgs), err)
	}

	if _, err := listen.Invoke(t.Context(), scheduled); err != nil {
		t.Fatalf("second listen: %v", err)
	}
	if n := queued(t, inbound); n != 0 {
		t.Errorf("second run queued %d posts, want 0: the checkpoint must hold", n)
	}
}

// TestMonitorFunction: a crisis opened by a burst of complaints an hour ago, with
// nothing since, is closed by the scheduled monitor function, and the team gets
// the alert through the SNS topic.
func TestMonitorFunction(t *testing.T) {
	ctx := t.Context()
	if err := system.sqs.Purge(alertInbox); err != nil {
		t.Fatal(err)
	}
	eng, err := protocol.New(system.config.Protocol)
	if err != nil {
		t.Fatal(err)
	}
	topic := system.config.Protocol.Crisis.Topics[0].Name
	crises := eng.Monitor(system.store, care.LogNotifier{Log: slog.New(slog.DiscardHandler)}, nil)
	burst := time.Now().Add(-time.Hour)
	for i := range 2 * system.config.Protocol.Crisis.MinCount {
		at := burst.Add(time.Duration(i) * time.Second)
		if _, err := crises.Observe(ctx, at, at, []string{topic}); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := system.store.GetCrisis(ctx, topic); err != nil || !st.Active {
		t.Fatalf("precondition: crisis %s after the burst: %+v, %v", topic, st, err)
	}

	mon := startFunction(t, "monitor")
	out, err := mon.Invoke(ctx, []byte(`{}`))
	if err != nil {
		t.Fatalf("monitor: %v", err)
	}
	var rep struct {
		At           time.Time         `json:"at"`
		ActiveCrises []json.RawMessage `json:"active_crises"`
	}
	if err := json.Unmarshal(out, &rep); err != nil || rep.At.IsZero() || rep.ActiveCrises == nil {
		t.Fatalf("monitor result %s: %v", out, err)
	}
	if len(rep.ActiveCrises) != 0 {
		t.Errorf("active crises after the monitor: %s", out)
	}
	if st, err := system.store.GetCrisis(ctx, topic); err != nil || st.Active || st.ClosedBy != "auto" {
		t.Errorf("crisis %s after the monitor: %+v, %v", topic, st, err)
	}
	bodies, err := system.sqs.Bodies(alertInbox)
	if err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 1 || !strings.Contains(bodies[0], "crisis closed") || !strings.Contains(bodies[0], `"kind": "crisis_closed"`) {
		t.Errorf("alerts received through SNS: %q", bodies)
	}
}
