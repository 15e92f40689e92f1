package sender_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/localsqs"
	"github.com/pajarito-care/pajarito/shared/local/storetest"
	"github.com/pajarito-care/pajarito/shared/local/testclock"
	"github.com/pajarito-care/pajarito/shared/local/xfake"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/sender"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

// One dynalite and one goaws serve the whole test binary; each test gets its own
// table (and queues).
var sqsServer *localsqs.Server

// Queues of the storm test.
const (
	stormQueue = "outbound-storm"
	stormDLQ   = "outbound-storm-dlq"
)

func TestMain(m *testing.M) {
	var err error
	sqsServer, err = localsqs.Start(localsqs.Queue{Name: stormQueue}, localsqs.Queue{Name: stormDLQ})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := storetest.Main(m)
	sqsServer.Close()
	os.Exit(code)
}

const (
	brandID    = "1590000000000000001"
	customerID = "1862954300111222333"
	agentID    = "agent-7"
)

var (
	brand = care.Brand{ID: brandID, Handle: "PajaritoAir"}
	// t0 is the tests' start: 10:07 UTC, seven minutes into a send window.
	t0 = time.Date(2026, 8, 3, 10, 7, 0, 0, time.UTC)
)

// notes is a care.Notifier that records alerts; fail, when set, makes the next
// Notify fail.
type notes struct {
	mu     sync.Mutex
	alerts []care.Alert
	fail   bool
}

func (n *notes) Notify(ctx context.Context, a care.Alert) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fail {
		n.fail = false
		return errors.New("SNS is down")
	}
	n.alerts = append(n.alerts, a)
	return nil
}

func (n *notes) list() []care.Alert {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]care.Alert(nil), n.alerts...)
}

// delays is a sender.Delayer that records the delays asked, by message id.
type delays struct {
	mu    sync.Mutex
	asked map[string]time.Duration
}

func (d *delays) Delay(ctx context.Context, r events.SQSMessage, dd time.Duration) (time.Duration, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.asked == nil {
		d.asked = map[string]time.Duration{}
	}
	d.asked[r.MessageId] = dd
	return dd, nil
}

func (d *delays) of(id string) (time.Duration, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.asked[id]
	return v, ok
}

// env is a sender over a fresh table, a fake X and a settable clock, with one
// customer post stored as a case.
type env struct {
	t      testing.TB
	clk    *testclock.Clock
	now    func() time.Time // the clock of the X clients made by newClient
	st     *store.Store
	x      *xfake.Server
	client *xapi.Client
	s      *sender.Sender
	notes  *notes
	delays *delays
	logs   *bytes.Buffer
	// metrics receives the sender's EMF lines (the sender serialises its writes).
	metrics *bytes.Buffer
	seq     int
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, clk: testclock.New(t0), notes: &notes{}, delays: &delays{}, logs: &bytes.Buffer{}, metrics: &bytes.Buffer{}}
	e.now = e.clk.Now
	e.st = storetest.New(t)
	e.st.Now = e.clk.Now
	e.x = xfake.Start()
	t.Cleanup(e.x.Close)
	e.x.SetClock(e.clk.Now)
	e.x.SetUser(xfake.User{ID: brandID, Username: "PajaritoAir", Name: "Pajarito Air"},
		xfake.User{ID: customerID, Username: "mariagv_viajes", Name: "María González"})
	e.client = e.newClient(5 * time.Second)
	eng, err := protocol.New(protocol.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	e.s = &sender.Sender{
		Store: e.st, X: e.client, Engine: eng, Brand: brand,
		Delayer: e.delays, Notifier: e.notes, Now: e.clk.Now,
		Log:     slog.New(slog.NewJSONHandler(e.logs, nil)),
		Metrics: e.metrics,
	}
	return e
}

// newClient returns an X client of the fake whose requests time out after
// timeout.
func (e *env) newClient(timeout time.Duration) *xapi.Client {
	e.t.Helper()
	c, err := xapi.New(xapi.Credentials{APIKey: "ck", APISecret: "cs", AccessToken: brandID + "-at", AccessTokenSecret: "ats"},
		xapi.Options{Brand: brand, BaseURL: e.x.URL, HTTPClient: &http.Client{Timeout: timeout}, Now: e.now,
			Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// customerPost publishes a post of the customer mentioning the brand on the fake X
// and stores it as a new case; it returns the post id and the case id.
func (e *env) customerPost(text string) (postID, caseID string) {
	e.t.Helper()
	p := e.x.AddPost(xfake.Post{AuthorID: customerID, Text: text, Lang: "en", CreatedAt: e.clk.Now().Add(-5 * time.Minute)})
	m := &care.Message{
		Channel: care.Public, Direction: care.Inbound, ID: p.ID, AuthorID: customerID, AuthorHandle: "mariagv_viajes",
		Text: text, Lang: "en", CreatedAt: p.CreatedAt, ConversationID: p.ConversationID,
		MentionedIDs: []string{brandID}, Summoned: true,
	}
	res, err := e.st.Append(e.t.Context(), &care.Envelope{Version: care.EnvelopeVersion, Kind: care.KindMessage,
		Source: care.SourceXAA, ReceivedAt: e.clk.Now(), Message: m}, "sqs-"+p.ID)
	if err != nil || !res.Stored() {
		e.t.Fatalf("store the customer's post: %+v, %v", res, err)
	}
	return p.ID, res.CaseID
}

// customerDM stores a DM of the customer to the brand as a new case (or in the DM
// case) and returns the case id.
func (e *env) customerDM(text string) string {
	e.t.Helper()
	e.seq++
	id := strconv.FormatInt(1950000000000000000+int64(e.seq), 10)
	m := &care.Message{
		Channel: care.DM, Direction: care.Inbound, ID: id, AuthorID: customerID, RecipientID: brandID,
		Text: text, Lang: "en", CreatedAt: e.clk.Now().Add(-2 * time.Minute), Summoned: true,
	}
	res, err := e.st.Append(e.t.Context(), &care.Envelope{Version: care.EnvelopeVersion, Kind: care.KindMessage,
		Source: care.SourceXAA, ReceivedAt: e.clk.Now(), Message: m}, "sqs-"+id)
	if err != nil || !res.Stored() {
		e.t.Fatalf("store the customer's DM: %+v, %v", res, err)
	}
	if err := e.st.TrackCustomerCase(e.t.Context(), customerID, res.CaseID, res.Case.CreatedAt); err != nil {
		e.t.Fatal(err)
	}
	return res.CaseID
}

// agentReply returns an agent's reply request (draft id draft) answering post on
// case caseID.
func agentReply(caseID, post, draft, text string) care.ReplyRequest {
	return care.ReplyRequest{
		Version: care.ReplyVersion, IdempotencyKey: care.ReplyKey(caseID, draft, care.ReplyAgent),
		CaseID: caseID, TriggerID: draft, Channel: care.Public, InReplyToID: post,
		Text: text, Lang: "en", Kind: care.ReplyAgent, Author: agentID, AuthorName: "Ana",
		Summoned: true, CreatedAt: t0,
	}
}

// agentDM returns an agent's DM request to the customer on case caseID.
func agentDM(caseID, draft, text string) care.ReplyRequest {
	r := agentReply(caseID, "", draft, text)
	r.Channel, r.InReplyToID, r.RecipientID = care.DM, "", customerID
	return r
}

// message returns the SQS record of req, delivered for the receives-th time.
func message(t testing.TB, id string, req care.ReplyRequest, receives int) events.SQSMessage {
	t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return events.SQSMessage{MessageId: id, ReceiptHandle: "rh-" + id, Body: string(b),
		Attributes: map[string]string{"ApproximateReceiveCount": strconv.Itoa(receives)}}
}

// eventsMessage returns a record with body as it is, delivered once.
func eventsMessage(id, body string) events.SQSMessage {
	return events.SQSMessage{MessageId: id, ReceiptHandle: "rh-" + id, Body: body,
		Attributes: map[string]string{"ApproximateReceiveCount": "1"}}
}

// deliver hands records to the sender as one event and returns the ids it
// failed.
func (e *env) deliver(msgs ...events.SQSMessage) []string {
	e.t.Helper()
	resp, err := e.s.Handle(e.t.Context(), events.SQSEvent{Records: msgs})
	if err != nil {
		e.t.Fatalf("Handle: %v", err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	return failed
}

// logLine is one of the sender's log lines.
type logLine struct {
	Msg       string `json:"msg"`
	Outcome   string `json:"outcome"`
	MessageID string `json:"message_id"`
	CaseID    string `json:"case_id"`
	Key       string `json:"key"`
	Kind      string `json:"kind"`
	Channel   string `json:"channel"`
	XID       string `json:"x_id"`
	Reason    string `json:"reason"`
	Delay     string `json:"delay"`
}

// outcomes returns the outcome logged for each SQS message id, in order.
func (e *env) outcomes() map[string][]logLine {
	e.t.Helper()
	out := map[string][]logLine{}
	dec := json.NewDecoder(bytes.NewReader(e.logs.Bytes()))
	for dec.More() {
		var l logLine
		if err := dec.Decode(&l); err != nil {
			e.t.Fatalf("log line: %v", err)
		}
		if l.Outcome != "" {
			out[l.MessageID] = append(out[l.MessageID], l)
		}
	}
	return out
}

// lastOutcome returns the last logged line of a message id.
func (e *env) lastOutcome(id string) logLine {
	e.t.Helper()
	lines := e.outcomes()[id]
	if len(lines) == 0 {
		e.t.Fatalf("nothing logged for %s", id)
	}
	return lines[len(lines)-1]
}

func (e *env) reply(caseID, key string) *store.Reply {
	e.t.Helper()
	r, err := e.st.GetReply(e.t.Context(), caseID, key)
	if err != nil || r == nil {
		e.t.Fatalf("GetReply(%s, %s) = %v, %v", caseID, key, r, err)
	}
	return r
}

func (e *env) posted(kind string) []xfake.Posted {
	var out []xfake.Posted
	for _, p := range e.x.Posted() {
		if p.Kind == kind {
			out = append(out, p)
		}
	}
	return out
}
