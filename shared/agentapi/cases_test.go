package agentapi_test

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/storetest"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/store"
)

// list fetches one page of the queue as tok's agent.
func (e *env) list(t *testing.T, tok string, query url.Values) agentapi.CaseList {
	t.Helper()
	path := "/v1/cases"
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	var l agentapi.CaseList
	ok(t, e.as(t, tok, http.MethodGet, path, nil), http.StatusOK, &l)
	return l
}

// all follows the cursors of a query to the end.
func (e *env) all(t *testing.T, tok string, query url.Values) []string {
	t.Helper()
	var got []string
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	for page := 0; ; page++ {
		if page > 20 {
			t.Fatalf("still paging after %d pages: %v", page, got)
		}
		l := e.list(t, tok, q)
		if n, _ := strconv.Atoi(q.Get("limit")); n > 0 && len(l.Cases) > n {
			t.Fatalf("page of %d cases with limit %d", len(l.Cases), n)
		}
		got = append(got, ids(l.Cases)...)
		if l.Next == "" {
			return got
		}
		q.Set("cursor", l.Next)
	}
}

func ids(cs []agentapi.QueueCase) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func TestListCases(t *testing.T) {
	e := seeded(t)
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
			if got := ids(e.list(t, token, tt.query).Cases); !slices.Equal(got, tt.want) {
				t.Errorf("cases %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("summaries", func(t *testing.T) {
		l := e.list(t, token, nil)
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
	e := seeded(t)
	for _, limit := range []int{1, 2, 3, 4, 5} {
		t.Run("limit "+strconv.Itoa(limit), func(t *testing.T) {
			if got := e.all(t, token, url.Values{"limit": {strconv.Itoa(limit)}}); !slices.Equal(got, openOrder) {
				t.Errorf("pages gave %v, want every case once, in order: %v", got, openOrder)
			}
		})
	}
}

// TestListCasesFilters triages and assigns the seeded cases, then checks every
// filter, alone and together, at several page sizes.
func TestListCasesFilters(t *testing.T) {
	e := seeded(t)
	ctx := t.Context()
	triage := map[string]care.Triage{
		caseBenPublic: {Department: "billing", Intent: "complaint", CrisisTopic: "delays"},
		caseAnaPublic: {Department: "bookings", Intent: "question"},
		caseAnaDM:     {Department: "billing", Intent: "complaint"},
		caseCamDM:     {Department: "social", Intent: "praise", CrisisTopic: "delays"},
	}
	for id, tr := range triage {
		if _, err := e.store.SetTriage(ctx, id, tr); err != nil {
			t.Fatal(err)
		}
	}
	ok(t, e.as(t, tokenAna, http.MethodPost, "/v1/cases/"+caseAnaDM+"/claim", nil), http.StatusOK, nil)
	ok(t, e.as(t, tokenBeto, http.MethodPost, "/v1/cases/"+caseCamDM+"/claim", nil), http.StatusOK, nil)

	tests := []struct {
		name  string
		tok   string
		query url.Values
		want  []string
	}{
		{"department", token, url.Values{"department": {"billing"}}, []string{caseBenPublic, caseAnaDM}},
		{"intent", token, url.Values{"intent": {"complaint"}}, []string{caseBenPublic, caseAnaDM}},
		{"minimum priority", token, url.Values{"priority": {"500"}}, []string{caseBenPublic, caseAnaPublic, caseAnaDM}},
		{"minimum priority above all", token, url.Values{"priority": {"901"}}, []string{}},
		{"assigned to me", tokenAna, url.Values{"assigned": {"me"}}, []string{caseAnaDM}},
		{"assigned to an agent", token, url.Values{"assigned": {agentBeto.ID}}, []string{caseCamDM}},
		{"assigned to nobody", token, url.Values{"assigned": {"none"}}, []string{caseBenPublic, caseAnaPublic}},
		{"language", token, url.Values{"lang": {"en"}}, openOrder},
		{"another language", token, url.Values{"lang": {"es"}}, []string{}},
		{"crisis", token, url.Values{"crisis": {"delays"}}, []string{caseBenPublic, caseCamDM}},
		{"several", token, url.Values{"department": {"billing"}, "assigned": {"none"}, "priority": {"100"}}, []string{caseBenPublic}},
		{"pending and billing", token, url.Values{"status": {"pending"}, "department": {"billing"}}, []string{}},
	}
	for _, tt := range tests {
		for _, limit := range []string{"1", "2", "50"} {
			t.Run(tt.name+" limit "+limit, func(t *testing.T) {
				q := url.Values{"limit": {limit}}
				for k, v := range tt.query {
					q[k] = v
				}
				if got := e.all(t, tt.tok, q); !slices.Equal(got, tt.want) {
					t.Errorf("%v, want %v", got, tt.want)
				}
			})
		}
	}
	// Summaries carry what the filters look at.
	for _, c := range e.list(t, token, nil).Cases {
		if c.ID == caseAnaDM && (c.Assignee != agentAna.ID || c.AssigneeName != agentAna.Name || c.Intent != "complaint" || c.Department != "billing") {
			t.Errorf("summary of %s = %+v", c.ID, c)
		}
		if c.ID == caseCamDM && c.CrisisTopic != "delays" {
			t.Errorf("summary of %s = %+v", c.ID, c)
		}
	}
}

func TestListCasesBadRequest(t *testing.T) {
	e := seeded(t)
	// A cursor issued for the open queue is not one of the pending queue, nor of
	// other filters.
	openCursor := e.list(t, token, url.Values{"limit": {"1"}}).Next
	if openCursor == "" {
		t.Fatal("no cursor after the first open case")
	}
	tests := []struct {
		name  string
		query string
		code  string
	}{
		{"limit 0", "limit=0", "bad_limit"},
		{"limit 201", "limit=201", "bad_limit"},
		{"limit negative", "limit=-1", "bad_limit"},
		{"limit not a number", "limit=x", "bad_limit"},
		{"limit fraction", "limit=1.5", "bad_limit"},
		{"status unknown", "status=closed", "bad_status"},
		{"status wrong case", "status=OPEN", "bad_status"},
		{"cursor not base64", "cursor=!!!", "bad_cursor"},
		{"cursor not a key", "cursor=eyJhIjoiYiJ9", "bad_cursor"},
		{"cursor of another status", "status=pending&cursor=" + openCursor, "bad_cursor"},
		{"cursor of other filters", "intent=complaint&cursor=" + openCursor, "bad_cursor"},
		{"priority above 999", "priority=1000", "bad_priority"},
		{"priority not a number", "priority=high", "bad_priority"},
		{"unknown department", "department=refunds", "bad_department"},
		{"unknown intent", "intent=rant", "bad_intent"},
		{"bad language", "lang=English", "bad_lang"},
		{"unknown crisis topic", "crisis=volcano", "bad_crisis"},
		{"empty assigned", "assigned=", "bad_assigned"},
		{"unknown parameter", "departement=billing", "bad_query"},
		{"parameter twice", "status=open&status=pending", "bad_query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			er := wantError(t, e.get(t, "/v1/cases?"+tt.query), http.StatusBadRequest, tt.code)
			if tt.code == "bad_department" && !strings.Contains(er.Error.Message, "billing") {
				t.Errorf("message %q does not list the departments", er.Error.Message)
			}
		})
	}
}

func TestListCasesEmptyQueue(t *testing.T) {
	e := serve(t, newStore(t), nil)
	for _, status := range []string{"open", "pending", "resolved"} {
		t.Run(status, func(t *testing.T) {
			r := e.get(t, "/v1/cases?status="+status)
			ok(t, r, http.StatusOK, nil)
			if got := strings.TrimSpace(string(r.body)); got != `{"cases":[]}` {
				t.Errorf("body %s, want {\"cases\":[]}", got)
			}
		})
	}
}

func TestGetCase(t *testing.T) {
	e := seeded(t)
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
			var d agentapi.CaseDetail
			ok(t, e.get(t, "/v1/cases/"+tt.id), http.StatusOK, &d)
			c := d.Case
			if c == nil {
				t.Fatal("no case")
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
			if d.Decisions == nil || d.Notes == nil {
				t.Errorf("decisions %v and notes %v must be lists", d.Decisions, d.Notes)
			}
		})
	}

	t.Run("decisions, notes and assignment", func(t *testing.T) {
		rec := care.DecisionRecord{
			CaseID: caseAnaPublic, MessageID: "1800000000000000101", DecidedAt: t0, Tier: "self_serve",
			Labels:   care.Labels{Lang: "en", Intent: "incident", Sentiment: "negative", Reasons: []care.LabelReason{{Label: "intent", Value: "incident", Because: "cancelled"}}},
			Priority: 700, Department: "bookings", DepartmentWhy: "rule bookings", Explanation: []string{"queued for an agent"},
		}
		if err := e.store.RecordDecision(t.Context(), &rec); err != nil {
			t.Fatal(err)
		}
		ok(t, e.as(t, tokenAna, http.MethodPost, "/v1/cases/"+caseAnaPublic+"/claim", nil), http.StatusOK, nil)
		ok(t, e.as(t, tokenAna, http.MethodPost, "/v1/cases/"+caseAnaPublic+"/notes", map[string]string{"text": "Rebooked on PJ125"}), http.StatusCreated, nil)
		var d agentapi.CaseDetail
		ok(t, e.get(t, "/v1/cases/"+caseAnaPublic), http.StatusOK, &d)
		if len(d.Decisions) != 1 || d.Decisions[0].Labels.Reasons[0].Because != "cancelled" {
			t.Errorf("decisions %+v", d.Decisions)
		}
		if len(d.Notes) != 1 || d.Notes[0].Text != "Rebooked on PJ125" || d.Notes[0].AuthorID != agentAna.ID {
			t.Errorf("notes %+v", d.Notes)
		}
		if d.Case.Assignee != agentAna.ID || d.Case.AssigneeName != agentAna.Name || d.Case.AssignedAt == nil || !d.Case.AssignedAt.Equal(clock()) {
			t.Errorf("assignment %q %q %v", d.Case.Assignee, d.Case.AssigneeName, d.Case.AssignedAt)
		}
	})

	for _, id := range []string{"t1", "nope", "d1800000000000000101"} {
		t.Run("unknown "+id, func(t *testing.T) {
			er := wantError(t, e.get(t, "/v1/cases/"+id), http.StatusNotFound, "case_not_found")
			if !strings.Contains(er.Error.Message, id) {
				t.Errorf("message %q does not name the case", er.Error.Message)
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

// TestStoreFailure serves the API over stores that fail: 500, the cause logged and
// kept out of the body.
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
		{"missing table", store.New(storetest.Client(t), missingTable), []string{missingTable, "ResourceNotFound", "store:"}},
		{"unreachable endpoint", store.New(unreachable, "pajarito"), []string{addr, "dial", "refused", "store:"}},
	}
	for _, st := range stores {
		e := serve(t, st.s, nil)
		for _, rt := range agentapi.Routes() {
			if rt.Path == "/v1/openapi.json" {
				continue
			}
			t.Run(st.name+" "+rt.Method+" "+rt.Path, func(t *testing.T) {
				r := e.as(t, token, rt.Method, concrete(rt.Path), nil)
				wantError(t, r, http.StatusInternalServerError, "internal")
				for _, l := range st.leak {
					if strings.Contains(string(r.body), l) {
						t.Errorf("body %s reveals %q", r.body, l)
					}
				}
			})
		}
		// The cause is logged instead.
		if got := e.logs.String(); !strings.Contains(got, "request failed") || !strings.Contains(got, "store:") {
			t.Errorf("the failure is not logged with its cause: %s", got)
		}
	}
}

// TestPipelineTriageFeedsFilters runs the processor's protocol pipeline on a
// seeded message: the case then carries the classifier's intent and the queue
// filters on it.
func TestPipelineTriageFeedsFilters(t *testing.T) {
	e := seeded(t)
	c, msgs, err := e.store.GetCase(t.Context(), caseBenPublic)
	if err != nil {
		t.Fatal(err)
	}
	p := &protocol.Pipeline{Engine: e.engine, Cases: e.store, Outbox: e.outbox, Now: clock, Metrics: io.Discard}
	d, err := p.Process(t.Context(), c, &msgs[0])
	if err != nil {
		t.Fatal(err)
	}
	intent := d.Record.Labels.Intent
	if intent == "" {
		t.Fatal("the decision has no intent")
	}
	var detail agentapi.CaseDetail
	ok(t, e.get(t, "/v1/cases/"+caseBenPublic), http.StatusOK, &detail)
	if detail.Case.Intent != intent || detail.Case.Sentiment != d.Record.Labels.Sentiment || detail.Case.Department != d.Route.Department {
		t.Errorf("case labels %q %q %q, decision %q %q %q", detail.Case.Intent, detail.Case.Sentiment, detail.Case.Department,
			intent, d.Record.Labels.Sentiment, d.Route.Department)
	}
	if got := e.all(t, token, url.Values{"intent": {intent}}); !slices.Equal(got, []string{caseBenPublic}) {
		t.Errorf("intent %s: %v, want [%s]", intent, got, caseBenPublic)
	}
}

// TestQueueDue: each open case in the queue says when its answer is due, by the
// protocol's first-response target for its priority from when the customer
// started waiting; other statuses, and spam, are owed none.
func TestQueueDue(t *testing.T) {
	e := seeded(t)
	for _, status := range []string{"open", "pending", "resolved"} {
		l := e.list(t, tokenAna, url.Values{"status": {status}})
		if status == "open" && len(l.Cases) == 0 {
			t.Fatal("no open case seeded")
		}
		for _, c := range l.Cases {
			want := e.engine.FirstResponseDue(care.Case{Status: c.Status, CreatedAt: c.CreatedAt, WaitingSince: c.WaitingSince, Intent: c.Intent, Priority: c.Priority})
			switch {
			case c.Status != care.Open || c.Intent == "spam":
				if c.Due != nil {
					t.Errorf("%s case %s (%s) is due %s; want no due time", c.Status, c.ID, c.Intent, c.Due)
				}
			case c.Due == nil || !c.Due.Equal(want) || !c.Due.After(c.WaitingSince):
				t.Errorf("open case %s waiting since %s, priority %d: due %v, want %s", c.ID, c.WaitingSince, c.Priority, c.Due, want)
			}
		}
	}
}
