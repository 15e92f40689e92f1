package intake

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/storetest"
	"github.com/pajarito-care/pajarito/shared/store"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// The processor's Store is the case store.
var _ Store = (*store.Store)(nil)

var t0 = time.Date(2026, 8, 3, 9, 0, 0, 0, time.UTC)

const (
	brandID  = "1500000000000000001"
	customer = "2900000000000000001"
)

// newStore returns a store on a fresh table, talking to DynamoDB through api(storetest.Client(t))
// (nil: directly).
func newStore(t *testing.T, api func(store.API) store.API) *store.Store {
	t.Helper()
	s := storetest.New(t)
	if api != nil {
		s.Client = api(storetest.Client(t))
	}
	return s
}

// deadLetter is an in-memory dead-letter queue.
type deadLetter struct {
	mu     sync.Mutex
	bodies []string
	err    error
}

func (d *deadLetter) SendBodies(_ context.Context, bodies []string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return d.err
	}
	d.bodies = append(d.bodies, bodies...)
	return nil
}

// classifier records the messages it is given.
type classifier struct{ ids []string }

func (c *classifier) Handle(_ context.Context, cs *care.Case, m *care.StoredMessage) error {
	if cs == nil || m == nil || m.CaseID != cs.ID {
		return fmt.Errorf("bad arguments: %+v %+v", cs, m)
	}
	c.ids = append(c.ids, m.ID)
	return nil
}

// failing fails writes to items whose partition key contains a marker.
type failing struct {
	store.API
	marker string
}

var errInjected = errors.New("injected: ProvisionedThroughputExceededException")

func (f *failing) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if pk, ok := in.Item[store.KeyPK].(*types.AttributeValueMemberS); ok && strings.Contains(pk.Value, f.marker) {
		return nil, errInjected
	}
	return f.API.PutItem(ctx, in, o...)
}

func envelope(t testing.TB, env care.Envelope) string {
	t.Helper()
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func message(id string) care.Envelope {
	return care.Envelope{
		Version: care.EnvelopeVersion, Kind: care.KindMessage, Source: care.SourceXAA, EventID: "ev-" + id,
		ReceivedAt: t0, Raw: json.RawMessage(`{"id":"` + id + `","text":"@pajarito_air hola"}`),
		Message: &care.Message{
			Channel: care.Public, Direction: care.Inbound, ID: id, AuthorID: customer, AuthorHandle: "ana",
			Text: "@pajarito_air hola, mi vuelo se ha cancelado", Lang: "es", CreatedAt: t0,
			ConversationID: id, MentionedIDs: []string{brandID}, Summoned: true,
		},
	}
}

func sqsRecord(id, body string) events.SQSMessage {
	return events.SQSMessage{
		MessageId: id, Body: body, EventSource: "aws:sqs",
		Attributes: map[string]string{
			"ApproximateReceiveCount": "1",
			"SentTimestamp":           strconv.FormatInt(t0.Add(time.Second).UnixMilli(), 10),
		},
	}
}

// logLines parses JSON log lines.
func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(buf)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	return lines
}

func TestHandleMixedBatch(t *testing.T) {
	s := newStore(t, func(api store.API) store.API { return &failing{API: api, marker: "1820000000000000666"} })
	dlq := &deadLetter{}
	cls := &classifier{}
	var logs bytes.Buffer
	p := &Processor{Store: s, DeadLetter: dlq, Pipeline: cls, Log: slog.New(slog.NewJSONHandler(&logs, nil))}

	good := envelope(t, message("1820000000000000001"))
	dupEnv := message("1820000000000000001")
	dupEnv.Source = care.SourceMentions
	unparsed := envelope(t, care.Envelope{Version: care.EnvelopeVersion, Kind: care.KindUnparsed, Source: care.SourceXAA,
		ReceivedAt: t0, Unparsed: `{"data":{"event_type":"post.mention.create","payload":`, Problem: "unexpected end of JSON input"})
	future := envelope(t, care.Envelope{Version: 2, Kind: care.KindMessage, ReceivedAt: t0})
	deletion := envelope(t, care.Envelope{Version: care.EnvelopeVersion, Kind: care.KindDeletion, Source: care.SourceAAA, ReceivedAt: t0,
		Deletion: &care.Deletion{Channel: care.Public, ID: "1820000000000000001", UserID: customer, DeletedAt: t0.Add(time.Hour)}})
	unknownDeletion := envelope(t, care.Envelope{Version: care.EnvelopeVersion, Kind: care.KindDeletion, Source: care.SourceAAA, ReceivedAt: t0,
		Deletion: &care.Deletion{Channel: care.Public, ID: "1820000000000000999", DeletedAt: t0.Add(time.Hour)}})
	revocation := envelope(t, care.Envelope{Version: care.EnvelopeVersion, Kind: care.KindRevocation, Source: care.SourceXAA, ReceivedAt: t0,
		Revocation: &care.Revocation{UserID: brandID, RevokedAt: t0.Add(2 * time.Hour)}})

	ev := events.SQSEvent{Records: []events.SQSMessage{
		sqsRecord("m-good", good),
		sqsRecord("m-dup", envelope(t, dupEnv)),
		sqsRecord("m-garbage", "this is not JSON"),
		sqsRecord("m-unparsed", unparsed),
		sqsRecord("m-future", future),
		sqsRecord("m-store-fails", envelope(t, message("1820000000000000666"))),
		sqsRecord("m-delete", deletion),
		sqsRecord("m-delete-unknown", unknownDeletion),
		sqsRecord("m-revoke", revocation),
	}}
	resp, err := p.Handle(t.Context(), ev)
	if err != nil {
		t.Fatal(err)
	}

	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if !reflect.DeepEqual(failed, []string{"m-store-fails"}) {
		t.Errorf("batch item failures = %v, want [m-store-fails]", failed)
	}
	if want := []string{"this is not JSON", unparsed, future}; !reflect.DeepEqual(dlq.bodies, want) {
		t.Errorf("dead-letter bodies = %q, want %q", dlq.bodies, want)
	}
	if want := []string{"1820000000000000001"}; !reflect.DeepEqual(cls.ids, want) {
		t.Errorf("classified %v, want %v", cls.ids, want)
	}

	// Quarantine records, newest first; all three share a SentTimestamp.
	qs, err := s.ListQuarantine(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	problems := map[string]string{}
	for _, q := range qs {
		problems[q.SQSMessageID] = q.Problem
		if q.ReceiveCount != 1 || !q.SentAt.Equal(t0.Add(time.Second)) || q.Body == "" {
			t.Errorf("quarantine record = %+v", q)
		}
	}
	wantProblems := map[string]string{
		"m-garbage":  "not a JSON envelope",
		"m-unparsed": "unexpected end of JSON input",
		"m-future":   "version 2 is not supported",
	}
	if len(problems) != len(wantProblems) {
		t.Errorf("quarantined %v, want %v", problems, wantProblems)
	}
	for id, want := range wantProblems {
		if !strings.Contains(problems[id], want) {
			t.Errorf("%s: problem %q, want it to mention %q", id, problems[id], want)
		}
	}

	// The stored message, deleted by the same batch.
	c, msgs, err := s.GetCase(t.Context(), "t1820000000000000001")
	if err != nil {
		t.Fatal(err)
	}
	if c.MessagesIn != 1 || len(msgs) != 1 || msgs[0].DeletedAt == nil {
		t.Errorf("case %+v, messages %+v", c, msgs)
	}
	if a, err := s.GetAccount(t.Context(), brandID); err != nil || a.Auth != store.AuthRevoked {
		t.Errorf("account = %+v, %v", a, err)
	}

	// One log line per record, in order.
	lines := logLines(t, &logs)
	want := []struct{ id, outcome, level string }{
		{"m-good", OutcomeStored, "INFO"},
		{"m-dup", OutcomeDuplicate, "INFO"},
		{"m-garbage", OutcomeQuarantined, "ERROR"},
		{"m-unparsed", OutcomeQuarantined, "ERROR"},
		{"m-future", OutcomeQuarantined, "ERROR"},
		{"m-store-fails", OutcomeRetry, "WARN"},
		{"m-delete", OutcomeDeleted, "INFO"},
		{"m-delete-unknown", OutcomeUnknown, "INFO"},
		{"m-revoke", OutcomeRevoked, "ERROR"},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d log lines, want %d", len(lines), len(want))
	}
	for i, w := range want {
		l := lines[i]
		if l["sqs_message_id"] != w.id || l["outcome"] != w.outcome || l["level"] != w.level {
			t.Errorf("log line %d = %v, want %s %s %s", i, l, w.id, w.outcome, w.level)
		}
	}
	if l := lines[0]; l["case_id"] != "t1820000000000000001" || l["xid"] != "1820000000000000001" || l["write_units"].(float64) <= 0 || l["case_created"] != true {
		t.Errorf("stored line = %v", l)
	}
	if msg := lines[8]["msg"].(string); !strings.Contains(msg, "X access revoked for user "+brandID) || !strings.Contains(msg, "re-authorise") {
		t.Errorf("revocation line = %q", msg)
	}
	if msg := lines[2]["msg"].(string); !strings.Contains(msg, "quarantined") || lines[2]["problem"] == nil {
		t.Errorf("quarantine line = %v", lines[2])
	}

	// SQS redelivers the failed record; the store works again.
	s.Client = storetest.Client(t)
	resp, err = p.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{sqsRecord("m-store-fails", envelope(t, message("1820000000000000666")))}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("redelivery: %+v, %v", resp, err)
	}
	if _, msgs, err := s.GetCase(t.Context(), "t1820000000000000666"); err != nil || len(msgs) != 1 {
		t.Errorf("redelivered message: %d messages, %v", len(msgs), err)
	}
}

func TestHandleQuarantineFailures(t *testing.T) {
	good := envelope(t, message("1820000000000000001"))
	tests := []struct {
		name       string
		marker     string // writes to items with this in their key fail
		dlqErr     error
		wantFailed []string
		wantDLQ    int
	}{
		{"dead-letter queue fails", "", errors.New("sqs: throttled"), []string{"m-garbage-1", "m-garbage-2"}, 0},
		{"quarantine record fails", "QUARANTINE", nil, []string{"m-garbage-1", "m-garbage-2"}, 0},
		{"no failure", "", nil, nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var api func(store.API) store.API
			if tt.marker != "" {
				api = func(a store.API) store.API { return &failing{API: a, marker: tt.marker} }
			}
			s := newStore(t, api)
			dlq := &deadLetter{err: tt.dlqErr}
			var logs bytes.Buffer
			p := &Processor{Store: s, DeadLetter: dlq, Log: slog.New(slog.NewJSONHandler(&logs, nil))}
			resp, err := p.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{
				sqsRecord("m-garbage-1", "{"),
				sqsRecord("m-good", good),
				sqsRecord("m-garbage-2", `{"v":1,"kind":"unparsed","problem":"bad signature"}`),
			}})
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, f := range resp.BatchItemFailures {
				failed = append(failed, f.ItemIdentifier)
			}
			if !slices.Equal(failed, tt.wantFailed) {
				t.Errorf("failures = %v, want %v", failed, tt.wantFailed)
			}
			if len(dlq.bodies) != tt.wantDLQ {
				t.Errorf("dead-letter queue got %d bodies, want %d", len(dlq.bodies), tt.wantDLQ)
			}
			for _, l := range logLines(t, &logs) {
				if strings.HasPrefix(l["sqs_message_id"].(string), "m-garbage") && l["level"] != "ERROR" {
					t.Errorf("quarantine log line at %v: %v", l["level"], l)
				}
			}
		})
	}
}

func TestHandleCanceledContext(t *testing.T) {
	s := newStore(t, nil)
	p := &Processor{Store: s, DeadLetter: &deadLetter{}, Log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	resp, err := p.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{
		sqsRecord("m-1", envelope(t, message("1820000000000000001"))),
		sqsRecord("m-2", "garbage"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 2 {
		t.Errorf("failures = %+v, want both records", resp.BatchItemFailures)
	}
}

func TestHandleDeadEndpoint(t *testing.T) {
	dead, err := store.NewClient(t.Context(), "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	s := store.New(dead, "nowhere")
	p := &Processor{Store: s, DeadLetter: &deadLetter{}, Log: slog.New(slog.DiscardHandler)}
	resp, err := p.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{
		sqsRecord("m-1", envelope(t, message("1820000000000000001"))),
	}})
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m-1" {
		t.Errorf("Handle = %+v, %v", resp, err)
	}
}

func TestHandleWithoutStore(t *testing.T) {
	if _, err := (&Processor{}).Handle(t.Context(), events.SQSEvent{}); err == nil {
		t.Error("a processor without a store handled a batch")
	}
}

// TestHandleInFlight: a delivery of a message another delivery has claimed but not
// stored is retried, not dropped.
func TestHandleInFlight(t *testing.T) {
	s := newStore(t, nil)
	env := message("1820000000000000001")
	crashing := *s
	crashing.Client = &failing{API: storetest.Client(t), marker: "CASE#"}
	if _, err := crashing.Append(t.Context(), &env, "m-first"); err == nil {
		t.Fatal("the crashing store did not fail")
	}
	p := &Processor{Store: s, Log: slog.New(slog.DiscardHandler)}
	body := envelope(t, env)
	resp, err := p.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{sqsRecord("m-second", body)}})
	if err != nil || len(resp.BatchItemFailures) != 1 {
		t.Fatalf("in-flight delivery: %+v, %v", resp, err)
	}
	// The first delivery's redelivery completes it; then the second is a duplicate.
	for _, id := range []string{"m-first", "m-second"} {
		resp, err := p.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{sqsRecord(id, body)}})
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("%s: %+v, %v", id, resp, err)
		}
	}
	c, _, err := s.GetCase(t.Context(), "t1820000000000000001")
	if err != nil || c.MessagesIn != 1 {
		t.Fatalf("case = %+v, %v", c, err)
	}
}

func TestHandleQuarantinesInvalidEnvelopes(t *testing.T) {
	badMessage := message("1820000000000000001")
	badMessage.Message.AuthorID = "@ana"
	tests := []struct {
		name, body, problem string
	}{
		{"empty body", "", "not a JSON envelope"},
		{"JSON array", "[1,2]", "not a JSON envelope"},
		{"unknown kind", `{"v":1,"kind":"like"}`, `kind "like" is unknown`},
		{"message without message", `{"v":1,"kind":"message"}`, "has no message"},
		{"invalid message", envelope(t, badMessage), "author id"},
		{"deletion without channel", envelope(t, care.Envelope{Version: 1, Kind: care.KindDeletion, Deletion: &care.Deletion{ID: "1"}}), "channel"},
		{"revocation without user", envelope(t, care.Envelope{Version: 1, Kind: care.KindRevocation, Revocation: &care.Revocation{}}), "user id"},
	}
	s := newStore(t, nil)
	dlq := &deadLetter{}
	p := &Processor{Store: s, DeadLetter: dlq, Log: slog.New(slog.DiscardHandler)}
	var ev events.SQSEvent
	for i, tt := range tests {
		ev.Records = append(ev.Records, sqsRecord(fmt.Sprint("m-", i), tt.body))
	}
	resp, err := p.Handle(t.Context(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v", resp, err)
	}
	if len(dlq.bodies) != len(tests) {
		t.Errorf("dead-letter queue got %d bodies, want %d", len(dlq.bodies), len(tests))
	}
	qs, err := s.ListQuarantine(t.Context(), 50)
	if err != nil {
		t.Fatal(err)
	}
	problems := map[string]string{}
	for _, q := range qs {
		problems[q.SQSMessageID] = q.Problem
	}
	for i, tt := range tests {
		if got := problems[fmt.Sprint("m-", i)]; !strings.Contains(got, tt.problem) {
			t.Errorf("%s: problem %q, want it to mention %q", tt.name, got, tt.problem)
		}
	}
}
