package agentapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/dynalite"
	"github.com/pajarito-care/pajarito/shared/store"
)

// One dynalite serves the whole test binary; each test gets its own table.
var (
	client *dynamodb.Client
	tables atomic.Int64
)

func TestMain(m *testing.M) {
	os.Exit(dynalite.RunTests(m, func(endpoint string) (err error) {
		client, err = store.NewClient(context.Background(), endpoint)
		return err
	}))
}

const (
	token   = "s3cret-agent-token"
	brandID = "1590000000000000001"
	ana     = "2900000000000000001"
	ben     = "2900000000000000002"
	cam     = "2900000000000000003"
)

// t0 is the time of the first seeded message.
var t0 = time.Date(2026, 8, 3, 9, 0, 0, 0, time.UTC)

var localAgent = agentapi.Agent{ID: "local", Name: "Local agent"}

// newStore returns a store on a fresh, empty table.
func newStore(t *testing.T) *store.Store {
	t.Helper()
	s := store.New(client, "agentapi-"+strconv.FormatInt(tables.Add(1), 10))
	if err := s.CreateTable(t.Context()); err != nil {
		t.Fatal(err)
	}
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

// recorder is a Cases that remembers the agent each call was made for.
type recorder struct {
	agentapi.Cases
	mu     sync.Mutex
	agents []agentapi.Agent
}

func (r *recorder) record(ctx context.Context) {
	a, ok := agentapi.AgentFrom(ctx)
	if !ok {
		a = agentapi.Agent{ID: "<none>"}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.agents = append(r.agents, a)
}

func (r *recorder) seen() []agentapi.Agent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.agents)
}

func (r *recorder) GetCase(ctx context.Context, id string) (*care.Case, []care.StoredMessage, error) {
	r.record(ctx)
	return r.Cases.GetCase(ctx, id)
}

func (r *recorder) ListCases(ctx context.Context, q store.ListQuery) ([]care.CaseSummary, string, error) {
	r.record(ctx)
	return r.Cases.ListCases(ctx, q)
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

// serve starts the API over cases with the static token and returns its URL and log.
func serve(t *testing.T, cases agentapi.Cases) (string, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	api := agentapi.New(cases, agentapi.StaticToken{Token: token, Agent: localAgent}, slog.New(slog.NewJSONHandler(logs, nil)))
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return srv.URL, logs
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// get sends GET base+path with the Authorization header auth ("" for none).
func get(t *testing.T, base, path, auth string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: body}
}

// authGet is get with the right token.
func authGet(t *testing.T, base, path string) response {
	t.Helper()
	return get(t, base, path, "Bearer "+token)
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

// apiError is the error shape every route uses.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
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

func TestAuthentication(t *testing.T) {
	s := newStore(t)
	seed(t, s)
	rec := &recorder{Cases: s}
	base, _ := serve(t, rec)

	routes := []struct {
		path     string
		okStatus int // with the right token
	}{
		{"/v1/cases", http.StatusOK},
		{"/v1/cases?status=pending&limit=1", http.StatusOK},
		{"/v1/cases/" + caseAnaPublic, http.StatusOK},
		{"/v1/cases/t404", http.StatusNotFound},
		{"/v1/nope", http.StatusNotFound},
	}
	creds := []struct {
		name string
		auth string
		ok   bool
	}{
		{name: "none", auth: ""},
		{name: "basic scheme", auth: "Basic " + token},
		{name: "bearer without token", auth: "Bearer "},
		{name: "bearer alone", auth: "Bearer"},
		{name: "bearer with only spaces", auth: "Bearer    "},
		{name: "wrong token", auth: "Bearer not-the-token"},
		{name: "token prefix", auth: "Bearer " + token[:len(token)-1]},
		{name: "token with suffix", auth: "Bearer " + token + "x"},
		{name: "right token", auth: "Bearer " + token, ok: true},
		{name: "scheme is case-insensitive", auth: "bearer " + token, ok: true},
		// RFC 7235: credentials = auth-scheme 1*SP token68.
		{name: "several spaces after the scheme", auth: "Bearer   " + token, ok: true},
	}
	for _, rt := range routes {
		for _, c := range creds {
			t.Run(rt.path+"/"+c.name, func(t *testing.T) {
				r := get(t, base, rt.path, c.auth)
				if c.ok {
					if r.status != rt.okStatus {
						t.Fatalf("status %d, want %d; body %s", r.status, rt.okStatus, r.body)
					}
					return
				}
				e := wantError(t, r, http.StatusUnauthorized, "unauthenticated")
				if h := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer ") || !strings.Contains(h, `realm="pajarito"`) {
					t.Errorf("WWW-Authenticate = %q", h)
				}
				if strings.Contains(e.Error.Message, token) {
					t.Errorf("error message %q echoes the token", e.Error.Message)
				}
			})
		}
	}
	// Only authenticated requests reached the store, each carrying the agent.
	seen := rec.seen()
	if len(seen) == 0 {
		t.Fatal("no request reached the store")
	}
	for _, a := range seen {
		if a != localAgent {
			t.Errorf("store called for agent %+v, want %+v", a, localAgent)
		}
	}
	// 2 list routes and 2 detail routes, 3 accepted credentials each.
	if len(seen) != 12 {
		t.Errorf("store called %d times, want 12", len(seen))
	}
}

// list fetches one page of the queue.
func list(t *testing.T, base string, query url.Values) agentapi.CaseList {
	t.Helper()
	path := "/v1/cases"
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	r := authGet(t, base, path)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: status %d; body %s", path, r.status, r.body)
	}
	var l agentapi.CaseList
	decode(t, r, &l)
	return l
}

func ids(cs []care.CaseSummary) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func TestListCases(t *testing.T) {
	s := newStore(t)
	seed(t, s)
	base, _ := serve(t, s)

	tests := []struct {
		name  string
		query url.Values
		want  []string
	}{
		{name: "default is the open queue", want: openOrder},
		{name: "status open", query: url.Values{"status": {"open"}}, want: openOrder},
		{name: "status pending", query: url.Values{"status": {"pending"}}, want: []string{caseBenReply}},
		{name: "status resolved", query: url.Values{"status": {"resolved"}}, want: []string{}},
		{name: "limit", query: url.Values{"limit": {"2"}}, want: openOrder[:2]},
		{name: "maximum limit", query: url.Values{"limit": {"200"}}, want: openOrder},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := list(t, base, tt.query)
			if got := ids(l.Cases); !slices.Equal(got, tt.want) {
				t.Errorf("cases %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("summaries", func(t *testing.T) {
		l := list(t, base, nil)
		want := map[string]struct {
			channel  care.Channel
			customer string
			priority int
			waiting  time.Time
		}{
			caseBenPublic: {care.Public, ben, 900, t0.Add(time.Minute)},
			caseAnaPublic: {care.Public, ana, 500, t0},
			caseAnaDM:     {care.DM, ana, 500, t0.Add(3 * time.Minute)},
			caseCamDM:     {care.DM, cam, 100, t0.Add(2 * time.Minute)},
		}
		for _, c := range l.Cases {
			w := want[c.ID]
			if c.Status != care.Open || c.Channel != w.channel || c.CustomerID != w.customer || c.Priority != w.priority || !c.WaitingSince.Equal(w.waiting) {
				t.Errorf("case %s = %+v, want %+v", c.ID, c, w)
			}
		}
		if l.Next != "" {
			t.Errorf("next = %q on the only page", l.Next)
		}
	})
}

func TestListCasesPagination(t *testing.T) {
	s := newStore(t)
	seed(t, s)
	base, _ := serve(t, s)

	for _, limit := range []int{1, 2, 3, 4, 5} {
		t.Run("limit "+strconv.Itoa(limit), func(t *testing.T) {
			var got []string
			cursor := ""
			// Pages are bounded: one per case, plus a possibly empty last one.
			for page := 0; ; page++ {
				if page > len(openOrder)+1 {
					t.Fatalf("still paging after %d pages: %v", page, got)
				}
				q := url.Values{"limit": {strconv.Itoa(limit)}}
				if cursor != "" {
					q.Set("cursor", cursor)
				}
				l := list(t, base, q)
				if len(l.Cases) > limit {
					t.Fatalf("page of %d cases with limit %d", len(l.Cases), limit)
				}
				got = append(got, ids(l.Cases)...)
				if l.Next == "" {
					break
				}
				cursor = l.Next
			}
			if !slices.Equal(got, openOrder) {
				t.Errorf("pages gave %v, want every case once, in order: %v", got, openOrder)
			}
		})
	}
}

func TestListCasesBadRequest(t *testing.T) {
	s := newStore(t)
	seed(t, s)
	rec := &recorder{Cases: s}
	base, _ := serve(t, rec)

	// A cursor issued for the open queue is not one of the pending queue.
	openCursor := list(t, base, url.Values{"limit": {"1"}}).Next
	if openCursor == "" {
		t.Fatal("no cursor after the first open case")
	}
	calls := len(rec.seen())

	tests := []struct {
		name  string
		query url.Values
		code  string
	}{
		{"limit 0", url.Values{"limit": {"0"}}, "bad_limit"},
		{"limit 201", url.Values{"limit": {"201"}}, "bad_limit"},
		{"limit negative", url.Values{"limit": {"-1"}}, "bad_limit"},
		{"limit not a number", url.Values{"limit": {"x"}}, "bad_limit"},
		{"limit fraction", url.Values{"limit": {"1.5"}}, "bad_limit"},
		{"status unknown", url.Values{"status": {"closed"}}, "bad_status"},
		{"status wrong case", url.Values{"status": {"OPEN"}}, "bad_status"},
		{"cursor not base64", url.Values{"cursor": {"!!!"}}, "bad_cursor"},
		{"cursor not a key", url.Values{"cursor": {"eyJhIjoiYiJ9"}}, "bad_cursor"},
		{"cursor of another status", url.Values{"status": {"pending"}, "cursor": {openCursor}}, "bad_cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := authGet(t, base, "/v1/cases?"+tt.query.Encode())
			wantError(t, r, http.StatusBadRequest, tt.code)
		})
	}
	// Bad limits and statuses are refused before the store is asked; only the 3 bad
	// cursors reach it.
	if n := len(rec.seen()) - calls; n != 3 {
		t.Errorf("store called %d times for bad requests, want 3", n)
	}
}

func TestListCasesEmptyQueue(t *testing.T) {
	base, _ := serve(t, newStore(t))
	for _, status := range []string{"open", "pending", "resolved"} {
		t.Run(status, func(t *testing.T) {
			r := authGet(t, base, "/v1/cases?status="+status)
			if r.status != http.StatusOK {
				t.Fatalf("status %d; body %s", r.status, r.body)
			}
			if got := strings.TrimSpace(string(r.body)); got != `{"cases":[]}` {
				t.Errorf("body %s, want {\"cases\":[]}", got)
			}
		})
	}
}

func TestGetCase(t *testing.T) {
	s := newStore(t)
	seed(t, s)
	base, _ := serve(t, s)

	type msg struct {
		id  string
		dir care.Direction
	}
	tests := []struct {
		id       string
		channel  care.Channel
		status   care.Status
		customer string
		priority int
		in, out  int
		messages []msg
	}{
		{caseAnaPublic, care.Public, care.Open, ana, 500, 2, 0, []msg{
			{"1800000000000000101", care.Inbound}, {"1800000000000000104", care.Inbound}}},
		{caseBenPublic, care.Public, care.Open, ben, 900, 1, 0, []msg{{"1800000000000000201", care.Inbound}}},
		{caseCamDM, care.DM, care.Open, cam, 100, 1, 0, []msg{{"1800000000000000301", care.Inbound}}},
		{caseAnaDM, care.DM, care.Open, ana, 500, 1, 0, []msg{{"1800000000000000401", care.Inbound}}},
		{caseBenReply, care.Public, care.Pending, ben, 500, 1, 1, []msg{
			{"1800000000000000501", care.Inbound}, {"1800000000000000502", care.Outbound}}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			r := authGet(t, base, "/v1/cases/"+tt.id)
			if r.status != http.StatusOK {
				t.Fatalf("status %d; body %s", r.status, r.body)
			}
			var d agentapi.CaseDetail
			decode(t, r, &d)
			c := d.Case
			if c == nil {
				t.Fatalf("no case in %s", r.body)
			}
			if c.ID != tt.id || c.Channel != tt.channel || c.Status != tt.status || c.CustomerID != tt.customer ||
				c.Priority != tt.priority || c.MessagesIn != tt.in || c.MessagesOut != tt.out {
				t.Errorf("case = %+v", c)
			}
			var got []msg
			for _, m := range d.Messages {
				got = append(got, msg{m.ID, m.Direction})
				if m.CaseID != tt.id {
					t.Errorf("message %s has case id %q", m.ID, m.CaseID)
				}
			}
			if !slices.Equal(got, tt.messages) {
				t.Errorf("messages %v, want %v", got, tt.messages)
			}
		})
	}

	for _, id := range []string{"t1", "nope", "d1800000000000000101"} {
		t.Run("unknown "+id, func(t *testing.T) {
			e := wantError(t, authGet(t, base, "/v1/cases/"+id), http.StatusNotFound, "case_not_found")
			if !strings.Contains(e.Error.Message, id) {
				t.Errorf("message %q does not name the case", e.Error.Message)
			}
		})
	}
}

// closedPort returns the address of a local port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

func TestStoreFailure(t *testing.T) {
	addr := closedPort(t)
	unreachable := dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://" + addr),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		Retryer:      aws.NopRetryer{}, // fail at once instead of backing off
	})
	const missingTable = "agentapi-table-that-does-not-exist"
	stores := []struct {
		name string
		s    *store.Store
		leak []string // internal details that must stay out of the body
	}{
		{"missing table", store.New(client, missingTable), []string{missingTable, "ResourceNotFound", "store:"}},
		{"unreachable endpoint", store.New(unreachable, "pajarito"), []string{addr, "dial", "refused", "store:"}},
	}
	paths := []string{"/v1/cases", "/v1/cases?status=resolved&limit=5", "/v1/cases/" + caseAnaPublic}
	for _, st := range stores {
		for _, path := range paths {
			t.Run(st.name+" "+path, func(t *testing.T) {
				base, logs := serve(t, st.s)
				r := authGet(t, base, path)
				wantError(t, r, http.StatusInternalServerError, "internal")
				for _, l := range st.leak {
					if strings.Contains(string(r.body), l) {
						t.Errorf("body %s reveals %q", r.body, l)
					}
				}
				// The cause is logged instead.
				if got := logs.String(); !strings.Contains(got, "request failed") || !strings.Contains(got, "store:") {
					t.Errorf("the failure is not logged with its cause: %s", got)
				}
			})
		}
	}
}

// gatewayEvent is an API Gateway HTTP API (payload 2.0) GET of path carrying the
// JWT claims (nil: no authorizer).
func gatewayEvent(path, auth string, claims map[string]string) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{
		Version:  "2.0",
		RouteKey: "GET " + path,
		RawPath:  path,
		Headers:  map[string]string{},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			DomainName: "api.example.com",
			Stage:      "$default",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: http.MethodGet, Path: path, Protocol: "HTTP/1.1", SourceIP: "203.0.113.7",
			},
		},
	}
	if auth != "" {
		ev.Headers["authorization"] = auth
	}
	if claims != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
		}
	}
	return ev
}

func TestGatewayJWT(t *testing.T) {
	s := newStore(t)
	seed(t, s)
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhMSJ9.c2lnbmF0dXJl"

	tests := []struct {
		name   string
		path   string
		auth   string
		claims map[string]string
		status int
		agent  agentapi.Agent // when status is 200
	}{
		{name: "claims with name", path: "/v1/cases", auth: "Bearer " + jwt,
			claims: map[string]string{"sub": "a1", "name": "Ana"}, status: http.StatusOK, agent: agentapi.Agent{ID: "a1", Name: "Ana"}},
		{name: "detail", path: "/v1/cases/" + caseAnaDM, auth: "Bearer " + jwt,
			claims: map[string]string{"sub": "a1", "name": "Ana"}, status: http.StatusOK, agent: agentapi.Agent{ID: "a1", Name: "Ana"}},
		{name: "cognito username", path: "/v1/cases", auth: "Bearer " + jwt,
			claims: map[string]string{"sub": "b2", "cognito:username": "beto"}, status: http.StatusOK, agent: agentapi.Agent{ID: "b2", Name: "beto"}},
		{name: "sub only", path: "/v1/cases", auth: "Bearer " + jwt,
			claims: map[string]string{"sub": "c3"}, status: http.StatusOK, agent: agentapi.Agent{ID: "c3"}},
		{name: "claims without sub", path: "/v1/cases", auth: "Bearer " + jwt,
			claims: map[string]string{"name": "Ana"}, status: http.StatusUnauthorized},
		{name: "empty claims", path: "/v1/cases", auth: "Bearer " + jwt,
			claims: map[string]string{}, status: http.StatusUnauthorized},
		{name: "no authorizer", path: "/v1/cases", auth: "Bearer " + jwt, status: http.StatusUnauthorized},
		{name: "claims but no bearer", path: "/v1/cases",
			claims: map[string]string{"sub": "a1"}, status: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{Cases: s}
			api := agentapi.New(rec, agentapi.GatewayJWT{}, slog.New(slog.DiscardHandler))
			res, err := httpadapter.NewV2(api).ProxyWithContext(t.Context(), gatewayEvent(tt.path, tt.auth, tt.claims))
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body %s", res.StatusCode, tt.status, res.Body)
			}
			if tt.status != http.StatusOK {
				if h := res.Headers[http.CanonicalHeaderKey("WWW-Authenticate")]; !strings.HasPrefix(h, "Bearer ") {
					t.Errorf("no WWW-Authenticate in %v", res.Headers)
				}
				var e apiError
				if err := json.Unmarshal([]byte(res.Body), &e); err != nil || e.Error.Code != "unauthenticated" {
					t.Errorf("body %s (%v), want error code unauthenticated", res.Body, err)
				}
				if got := rec.seen(); len(got) != 0 {
					t.Errorf("refused request reached the store for %v", got)
				}
				return
			}
			if got := rec.seen(); len(got) != 1 || got[0] != tt.agent {
				t.Errorf("store saw agents %+v, want [%+v]", got, tt.agent)
			}
		})
	}

	t.Run("outside API Gateway", func(t *testing.T) {
		rec := &recorder{Cases: s}
		srv := httptest.NewServer(agentapi.New(rec, agentapi.GatewayJWT{}, slog.New(slog.DiscardHandler)))
		t.Cleanup(srv.Close)
		for _, path := range []string{"/v1/cases", "/v1/cases/" + caseAnaDM, "/v1/nope"} {
			r := get(t, srv.URL, path, "Bearer "+jwt)
			wantError(t, r, http.StatusUnauthorized, "unauthenticated")
			if !strings.Contains(r.header.Get("WWW-Authenticate"), "invalid_token") {
				t.Errorf("%s: WWW-Authenticate = %q", path, r.header.Get("WWW-Authenticate"))
			}
		}
		if got := rec.seen(); len(got) != 0 {
			t.Errorf("unauthenticated requests reached the store for %v", got)
		}
	})
}

func TestStaticTokenEmptyRefusesAll(t *testing.T) {
	// A StaticToken with no token configured must not accept the empty token.
	for _, tok := range []string{"", " ", "anything"} {
		if a, err := (agentapi.StaticToken{Agent: localAgent}).Authenticate(httptest.NewRequest(http.MethodGet, "/v1/cases", nil), tok); err == nil {
			t.Errorf("token %q accepted as %+v by an unconfigured StaticToken", tok, a)
		}
	}
}
