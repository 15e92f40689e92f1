package agentapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/storetest"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/store"
)

// One dynalite serves the whole test binary; each test gets its own table.

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

const (
	brandID = "1590000000000000001"
	ana     = "2900000000000000001"
	ben     = "2900000000000000002"
	cam     = "2900000000000000003"
)

// Agents and their tokens.
const (
	token       = "s3cret-agent-token" // the local agent's
	tokenAna    = "token-ana"
	tokenBeto   = "token-beto"
	tokenSuper  = "token-sup"
	tokenCarla  = "token-carla"
	tokenNobody = "token-nobody"
)

var (
	localAgent  = agentapi.Agent{ID: "local", Name: "Local agent", Role: agentapi.RoleAdmin}
	agentAna    = agentapi.Agent{ID: "agent-ana", Name: "Ana Martínez", Role: agentapi.RoleAgent}
	agentBeto   = agentapi.Agent{ID: "agent-beto", Name: "Beto", Role: agentapi.RoleAgent}
	agentSuper  = agentapi.Agent{ID: "agent-sup", Name: "Sara Supervisor", Role: agentapi.RoleAdmin}
	contributor = agentapi.Agent{ID: "contrib-carla", Name: "Carla (prácticas)", Role: agentapi.RoleContributor}
	roleless    = agentapi.Agent{ID: "nobody", Name: "Someone without a role"}
)

// tokens authenticates several agents, one token each.
type tokens map[string]agentapi.Agent

func (ts tokens) Authenticate(_ *http.Request, tok string) (agentapi.Agent, error) {
	if a, ok := ts[tok]; ok {
		return a, nil
	}
	return agentapi.Agent{}, errors.New("the bearer token is not valid")
}

var testTokens = tokens{token: localAgent, tokenAna: agentAna, tokenBeto: agentBeto, tokenSuper: agentSuper, tokenCarla: contributor, tokenNobody: roleless}

// t0 is the time of the first seeded message; the API's clock is an hour later.
var t0 = time.Date(2026, 8, 3, 9, 0, 0, 0, time.UTC)

func clock() time.Time { return t0.Add(time.Hour) }

// newStore returns a store on a fresh, empty table.
func newStore(t *testing.T) *store.Store {
	t.Helper()
	s := storetest.New(t)
	s.Now = clock
	return s
}

// post is an inbound public post by customer in conversation conv.
func post(id, conv, customer, handle string, at time.Time) *care.Envelope {
	m := &care.Message{
		Channel: care.Public, Direction: care.Inbound, ID: id,
		AuthorID: customer, AuthorHandle: handle,
		Text:      "@PajaritoAir my flight PJ123 was cancelled, booking ref QX7Z2P",
		Lang:      "en",
		CreatedAt: at, ConversationID: conv,
		MentionedIDs: []string{brandID}, Summoned: true,
	}
	if conv != id {
		m.InReplyToID = conv
	}
	return &care.Envelope{
		Version: care.EnvelopeVersion, Kind: care.KindMessage, Source: care.SourceXAA,
		ReceivedAt: at.Add(time.Second), Message: m,
	}
}

// reply is the brand's public reply to customer in conversation conv.
func reply(id, conv, customer string, at time.Time) *care.Envelope {
	return &care.Envelope{
		Version: care.EnvelopeVersion, Kind: care.KindMessage, Source: care.SourceReply,
		ReceivedAt: at, Message: &care.Message{
			Channel: care.Public, Direction: care.Outbound, ID: id,
			AuthorID: brandID, AuthorHandle: "PajaritoAir",
			Text:      "Sorry about this. Send us a DM with your booking ref.",
			CreatedAt: at, ConversationID: conv, InReplyToID: conv, InReplyToUserID: customer,
		},
	}
}

// dm is an inbound DM from customer to the brand.
func dm(id, customer string, at time.Time) *care.Envelope {
	return &care.Envelope{
		Version: care.EnvelopeVersion, Kind: care.KindMessage, Source: care.SourceXAA,
		ReceivedAt: at, Message: &care.Message{
			Channel: care.DM, Direction: care.Inbound, ID: id,
			AuthorID: customer, RecipientID: brandID,
			Text: "Hi, my booking ref is QX7Z2P", Lang: "en", CreatedAt: at, Summoned: true,
		},
	}
}

// The seeded cases.
const (
	caseAnaPublic = "t1800000000000000101" // open, 500, waiting since t0, two messages
	caseBenPublic = "t1800000000000000201" // open, 900, waiting since t0+1m
	caseCamDM     = "d1800000000000000301" // open, 100, waiting since t0+2m
	caseAnaDM     = "d1800000000000000401" // open, 500, waiting since t0+3m
	caseBenReply  = "t1800000000000000501" // pending: the brand replied
)

// openOrder is the open queue, as the API must list it: priority descending, then
// waiting since ascending.
var openOrder = []string{caseBenPublic, caseAnaPublic, caseAnaDM, caseCamDM}

// seed fills s with the seeded cases.
func seed(t *testing.T, s *store.Store) {
	t.Helper()
	envs := []*care.Envelope{
		// Appended out of time order: the queue orders by priority and waiting time,
		// not by insertion.
		dm("1800000000000000401", ana, t0.Add(3*time.Minute)),
		post("1800000000000000101", "1800000000000000101", ana, "ana_garcia", t0),
		post("1800000000000000201", "1800000000000000201", ben, "ben_ruiz", t0.Add(time.Minute)),
		dm("1800000000000000301", cam, t0.Add(2*time.Minute)),
		post("1800000000000000104", "1800000000000000101", ana, "ana_garcia", t0.Add(30*time.Second)),
		post("1800000000000000501", "1800000000000000501", ben, "ben_ruiz", t0.Add(4*time.Minute)),
		reply("1800000000000000502", "1800000000000000501", ben, t0.Add(5*time.Minute)),
	}
	for _, env := range envs {
		if _, err := s.Append(t.Context(), env, "delivery-"+env.Message.ID); err != nil {
			t.Fatalf("append %s: %v", env.Message.ID, err)
		}
	}
	for id, p := range map[string]int{caseBenPublic: 900, caseCamDM: 100} {
		if _, err := s.SetPriority(t.Context(), id, p, ""); err != nil {
			t.Fatal(err)
		}
	}
}

// outbox records the reply requests enqueued; fail makes EnqueueReplies fail.
type outbox struct {
	mu   sync.Mutex
	reqs []care.ReplyRequest
	fail atomic.Bool
}

func (o *outbox) EnqueueReplies(_ context.Context, rs []care.ReplyRequest) error {
	if o.fail.Load() {
		return errors.New("outbound queue unreachable: dial tcp 10.0.0.1:443")
	}
	for _, r := range rs {
		if err := r.Validate(); err != nil {
			return err
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.reqs = append(o.reqs, rs...)
	return nil
}

func (o *outbox) queued() []care.ReplyRequest {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.reqs)
}

// inbox records the bodies sent to the inbound queue; fail makes SendBodies fail.
type inbox struct {
	mu     sync.Mutex
	bodies []string
	calls  int
	fail   atomic.Bool
}

func (q *inbox) SendBodies(_ context.Context, bodies []string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls++
	if q.fail.Load() {
		return errors.New("inbound queue unreachable: dial tcp 10.0.0.2:443")
	}
	q.bodies = append(q.bodies, bodies...)
	return nil
}

func (q *inbox) sent() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.bodies)
}

// deadLetters stands for the dead-letter queues: Depths answers depths (or
// depthErr); Redrive answers results[name] and errs[name], and records the names.
type deadLetters struct {
	mu       sync.Mutex
	depths   []queue.Depth
	depthErr error
	results  map[string]queue.Redriven
	errs     map[string]error
	redriven []string
}

func (d *deadLetters) Depths(context.Context) ([]queue.Depth, error) {
	return d.depths, d.depthErr
}

func (d *deadLetters) Redrive(_ context.Context, name string) (queue.Redriven, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.redriven = append(d.redriven, name)
	return d.results[name], d.errs[name]
}

// testConfig is the default protocol with crisis topics.
func testConfig() protocol.Config {
	c := protocol.DefaultConfig()
	c.Crisis.Topics = []protocol.CrisisTopic{
		{Name: "delays", Keywords: []string{"retraso*|delay*"}, Label: map[string]string{"es": "los retrasos", "en": "the delays"}},
		{Name: "baggage", Keywords: []string{"equipaje*|baggage"}, Label: map[string]string{"es": "el equipaje", "en": "baggage"}},
	}
	return c
}

// env is one API under test.
type env struct {
	base   string
	store  *store.Store
	outbox *outbox
	inbox  *inbox
	dlq    *deadLetters
	engine *protocol.Engine
	logs   *syncBuffer
}

// serve starts the API over st (nil: st itself serves as the Store) with the test
// tokens and returns it. storeOverride replaces the API's Store when not nil.
func serve(t *testing.T, st *store.Store, storeOverride agentapi.Store) *env {
	t.Helper()
	return serveConfig(t, st, storeOverride, testConfig())
}

// serveConfig is serve with the protocol's configuration cfg.
func serveConfig(t *testing.T, st *store.Store, storeOverride agentapi.Store, cfg protocol.Config) *env {
	t.Helper()
	eng, err := protocol.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{store: st, outbox: &outbox{}, inbox: &inbox{}, dlq: &deadLetters{}, engine: eng, logs: &syncBuffer{}}
	log := slog.New(slog.NewJSONHandler(e.logs, nil))
	var as agentapi.Store = st
	if storeOverride != nil {
		as = storeOverride
	}
	api, err := agentapi.New(agentapi.Deps{
		Store: as, Engine: eng, Crisis: eng.Monitor(st, nil, log), Outbox: e.outbox,
		Inbox: e.inbox, DeadLetters: e.dlq, Auth: testTokens, Log: log, Now: clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	e.base = srv.URL
	return e
}

// seeded is serve on a fresh seeded store.
func seeded(t *testing.T) *env {
	t.Helper()
	return seededWith(t, func(*protocol.Config) {})
}

// seededWith is seeded with the protocol's configuration changed by change.
func seededWith(t *testing.T, change func(*protocol.Config)) *env {
	t.Helper()
	s := newStore(t)
	seed(t, s)
	cfg := testConfig()
	change(&cfg)
	return serveConfig(t, s, nil, cfg)
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends method base+path with the Authorization header auth ("" for none) and
// body (nil: none; a string or []byte as is; anything else as JSON), with
// Content-Type application/json when there is a body.
func do(t *testing.T, method, url, auth string, body any) response {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// as sends a request with tok's bearer token.
func (e *env) as(t *testing.T, tok, method, path string, body any) response {
	t.Helper()
	return do(t, method, e.base+path, "Bearer "+tok, body)
}

// get is a GET with the local agent's token.
func (e *env) get(t *testing.T, path string) response {
	t.Helper()
	return e.as(t, token, http.MethodGet, path, nil)
}

// ok checks r has status and decodes it strictly into v (when not nil).
func ok(t *testing.T, r response, status int, v any) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if v != nil {
		decode(t, r, v)
	}
}

// decode decodes a JSON body strictly into v.
func decode(t *testing.T, r response, v any) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// apiError is the error shape every route uses, with the extras of some.
type apiError struct {
	Error struct {
		Code         string               `json:"code"`
		Message      string               `json:"message"`
		Assignee     string               `json:"assignee"`
		AssigneeName string               `json:"assignee_name"`
		Rules        []string             `json:"rules"`
		Issues       []protocol.LintIssue `json:"issues"`
		RoleNeeded   agentapi.Role        `json:"role_needed"`
		Role         agentapi.Role        `json:"role"`
	} `json:"error"`
}

// wantError checks r is an error response with status and code, and returns it.
func wantError(t *testing.T, r response, status int, code string) apiError {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	var e apiError
	decode(t, r, &e)
	if e.Error.Code != code || e.Error.Message == "" {
		t.Errorf("error = %+v, want code %q and a message", e.Error, code)
	}
	return e
}

func readAll(t *testing.T, res *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
