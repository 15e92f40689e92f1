package agentapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/store"
)

// Ana's cases beyond the seeded ones (caseAnaPublic at t0, caseAnaDM at t0+3m).
const (
	caseAnaOld    = "t1700000000000000601" // opened before the customer-case retention
	caseAnaLater  = "t1800000000000000601" // t0+10m, resolved at t0+15m
	caseAnaGone   = "t1800000000000000701" // t0+20m: tracked, its case item deleted
	caseAnaLatest = "t1800000000000000801" // t0+30m
	nobody        = "2900000000000000099"  // a customer with no case
)

// anaHistory is what GET /v1/customers/{ana}/cases lists, newest first, with
// caseAnaGone, which is skipped where it would be.
var anaHistory = []string{caseAnaLatest, caseAnaGone, caseAnaLater, caseAnaDM, caseAnaPublic}

// seedHistories adds ana's and ben's case histories to the seeded store, as the
// pipeline records them: each case opened when its first message came (the
// store's clock then).
func seedHistories(t *testing.T, s *store.Store) {
	t.Helper()
	old := clock().Add(-store.CustomerCaseRetention - 24*time.Hour)
	defer func() { s.Now = clock }()
	for _, env := range []*care.Envelope{
		post("1700000000000000601", "1700000000000000601", ana, "ana_garcia", old),
		post("1800000000000000601", "1800000000000000601", ana, "ana_garcia", t0.Add(10*time.Minute)),
		post("1800000000000000801", "1800000000000000801", ana, "ana_garcia", t0.Add(30*time.Minute)),
	} {
		s.Now = func() time.Time { return env.Message.CreatedAt }
		if _, err := s.Append(t.Context(), env, "delivery-"+env.Message.ID); err != nil {
			t.Fatalf("append %s: %v", env.Message.ID, err)
		}
	}
	s.Now = clock
	if _, err := s.SetStatus(t.Context(), caseAnaLater, care.Resolved, t0.Add(15*time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		customer, id string
		at           time.Time
	}{
		{ana, caseAnaOld, old},
		{ana, caseAnaPublic, t0},
		{ana, caseAnaDM, t0.Add(3 * time.Minute)},
		{ana, caseAnaLater, t0.Add(10 * time.Minute)},
		{ana, caseAnaGone, t0.Add(20 * time.Minute)},
		{ana, caseAnaLatest, t0.Add(30 * time.Minute)},
		{ben, caseBenPublic, t0.Add(time.Minute)},
		{ben, caseBenReply, t0.Add(4 * time.Minute)},
	} {
		if err := s.TrackCustomerCase(t.Context(), c.customer, c.id, c.at); err != nil {
			t.Fatal(err)
		}
	}
}

// customerStore counts the case items the API reads, and fails CustomerCases or
// GetCaseItem with its errors.
type customerStore struct {
	agentapi.Store
	reads              atomic.Int32
	casesErr, itemsErr error
}

func (s *customerStore) CustomerCases(ctx context.Context, customerID string, since time.Time) ([]string, error) {
	if s.casesErr != nil {
		return nil, s.casesErr
	}
	return s.Store.CustomerCases(ctx, customerID, since)
}

func (s *customerStore) GetCaseItem(ctx context.Context, id string) (*care.Case, error) {
	s.reads.Add(1)
	if s.itemsErr != nil {
		return nil, s.itemsErr
	}
	return s.Store.GetCaseItem(ctx, id)
}

// without returns ids without the ones left out.
func without(ids []string, out ...string) []string {
	return slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return slices.Contains(out, id) })
}

func TestListCustomerCases(t *testing.T) {
	s := newStore(t)
	seed(t, s)
	seedHistories(t, s)
	cs := &customerStore{Store: s}
	e := serve(t, s, cs)

	tests := []struct {
		name     string
		customer string
		query    string
		want     []string
		// reads is how many case items the request may read.
		reads int
	}{
		{"several cases, newest first", ana, "", without(anaHistory, caseAnaGone), 5},
		{"limit", ana, "limit=1", []string{caseAnaLatest}, 1},
		{"a deleted case takes its place in the limit", ana, "limit=3", []string{caseAnaLatest, caseAnaLater}, 3},
		{"largest limit", ana, "limit=50", without(anaHistory, caseAnaGone), 5},
		{"exclude the case viewed", ana, "exclude=" + caseAnaDM, []string{caseAnaLatest, caseAnaLater, caseAnaPublic}, 4},
		{"exclude the newest, then limit", ana, "exclude=" + caseAnaLatest + "&limit=2", []string{caseAnaLater}, 2},
		{"exclude with limit fills the page", ana, "exclude=" + caseAnaDM + "&limit=3", []string{caseAnaLatest, caseAnaLater}, 3},
		{"exclude another customer's case", ana, "exclude=" + caseBenPublic, without(anaHistory, caseAnaGone), 5},
		{"empty exclude", ana, "exclude=", without(anaHistory, caseAnaGone), 5},
		{"exclude of any shape", ana, "exclude=" + url.QueryEscape("../x\x00;DROP"+strings.Repeat("9", 300)), without(anaHistory, caseAnaGone), 5},
		{"another customer's cases", ben, "", []string{caseBenReply, caseBenPublic}, 2},
		{"a customer with one case left", ben, "exclude=" + caseBenReply, []string{caseBenPublic}, 1},
		{"unknown customer", nobody, "", []string{}, 0},
		{"a customer with no case tracked", cam, "limit=5", []string{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/v1/customers/" + tt.customer + "/cases"
			if tt.query != "" {
				path += "?" + tt.query
			}
			before := cs.reads.Load()
			var l agentapi.CustomerCaseList
			ok(t, e.get(t, path), http.StatusOK, &l)
			if l.Cases == nil {
				t.Fatal("cases is null, want a list")
			}
			var got []string
			for _, c := range l.Cases {
				got = append(got, c.ID)
				if c.CustomerID != tt.customer {
					t.Errorf("case %s of customer %s, want %s", c.ID, c.CustomerID, tt.customer)
				}
			}
			if !slices.Equal(nonNilIDs(got), tt.want) {
				t.Errorf("cases %v, want %v", got, tt.want)
			}
			if n := int(cs.reads.Load() - before); n > tt.reads {
				t.Errorf("read %d case items, want at most %d", n, tt.reads)
			}
		})
	}

	// Each case is the queue's summary of it.
	var l agentapi.CustomerCaseList
	ok(t, e.get(t, "/v1/customers/"+ana+"/cases"), http.StatusOK, &l)
	queue := map[string]care.CaseSummary{}
	for _, status := range []string{"open", "pending", "resolved"} {
		for _, c := range e.list(t, token, url.Values{"status": {status}, "limit": {"200"}}).Cases {
			queue[c.ID] = c.CaseSummary
		}
	}
	for _, c := range l.Cases {
		q, found := queue[c.ID]
		switch {
		case !found:
			t.Errorf("case %s is not in the queue", c.ID)
		case !reflect.DeepEqual(c, q):
			t.Errorf("case %s: %+v; the queue has %+v", c.ID, c, q)
		}
	}
}

func nonNilIDs(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}

func TestListCustomerCasesRefused(t *testing.T) {
	s := newStore(t)
	seed(t, s)
	seedHistories(t, s)
	cs := &customerStore{Store: s}
	e := serve(t, s, cs)
	tests := []struct {
		name, path, code string
	}{
		{"a handle", "/v1/customers/ana_garcia/cases", "bad_customer"},
		{"a case id", "/v1/customers/" + caseAnaPublic + "/cases", "bad_customer"},
		{"21 digits", "/v1/customers/" + strings.Repeat("1", 21) + "/cases", "bad_customer"},
		{"negative", "/v1/customers/-1/cases", "bad_customer"},
		{"a space", "/v1/customers/%20" + ana + "/cases", "bad_customer"},
		{"bad id before bad query", "/v1/customers/x/cases?limit=0", "bad_customer"},
		{"limit 0", "/v1/customers/" + ana + "/cases?limit=0", "bad_limit"},
		{"limit over 50", "/v1/customers/" + ana + "/cases?limit=51", "bad_limit"},
		{"negative limit", "/v1/customers/" + ana + "/cases?limit=-1", "bad_limit"},
		{"limit not a number", "/v1/customers/" + ana + "/cases?limit=ten", "bad_limit"},
		{"fractional limit", "/v1/customers/" + ana + "/cases?limit=1.5", "bad_limit"},
		{"empty limit", "/v1/customers/" + ana + "/cases?limit=", "bad_limit"},
		{"unknown parameter", "/v1/customers/" + ana + "/cases?status=open", "bad_query"},
		{"repeated parameter", "/v1/customers/" + ana + "/cases?limit=1&limit=2", "bad_query"},
		{"repeated exclude", "/v1/customers/" + ana + "/cases?exclude=a&exclude=b", "bad_query"},
		{"malformed query", "/v1/customers/" + ana + "/cases?limit=%zz", "bad_query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, e.get(t, tt.path), http.StatusBadRequest, tt.code)
		})
	}
	if n := cs.reads.Load(); n != 0 {
		t.Errorf("refused requests read %d case items", n)
	}
	// The message says what an id must be.
	er := wantError(t, e.get(t, "/v1/customers/ana_garcia/cases"), http.StatusBadRequest, "bad_customer")
	if !strings.Contains(er.Error.Message, "ana_garcia") || !strings.Contains(er.Error.Message, "X user id") {
		t.Errorf("message %q", er.Error.Message)
	}
}

// TestListCustomerCasesStoreFailure: a failure to read the ids or a case item is
// the package's 500, its cause logged, not answered.
func TestListCustomerCasesStoreFailure(t *testing.T) {
	s := newStore(t)
	seed(t, s)
	seedHistories(t, s)
	const cause = "store: cases of customer: ThrottlingException: rate exceeded"
	tests := []struct {
		name  string
		store *customerStore
		path  string
	}{
		{"the ids", &customerStore{Store: s, casesErr: errors.New(cause)}, "/v1/customers/" + ana + "/cases"},
		{"a case item", &customerStore{Store: s, itemsErr: errors.New(cause)}, "/v1/customers/" + ana + "/cases?limit=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := serve(t, s, tt.store)
			r := e.get(t, tt.path)
			wantError(t, r, http.StatusInternalServerError, "internal")
			if strings.Contains(string(r.body), "Throttling") || strings.Contains(string(r.body), "store:") {
				t.Errorf("body %s reveals the cause", r.body)
			}
			if got := e.logs.String(); !strings.Contains(got, "request failed") || !strings.Contains(got, "ThrottlingException") {
				t.Errorf("the failure is not logged with its cause: %s", got)
			}
			if tt.store.itemsErr != nil && tt.store.reads.Load() != 1 {
				t.Errorf("read %d case items after the first failed", tt.store.reads.Load())
			}
		})
	}
	// A customer with no case reads no item: an empty list even so.
	e := serve(t, s, &customerStore{Store: s, itemsErr: errors.New(cause)})
	var l agentapi.CustomerCaseList
	ok(t, e.get(t, "/v1/customers/"+nobody+"/cases"), http.StatusOK, &l)
	if l.Cases == nil || len(l.Cases) != 0 {
		t.Errorf("cases %+v, want []", l.Cases)
	}
}

// TestCustomerCasesExample checks that the OpenAPI document's example of
// CustomerCaseList is what the route answers: ana's newest three cases, of
// which one was deleted.
func TestCustomerCasesExample(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas struct {
				CustomerCaseList struct {
					Example json.RawMessage `json:"example"`
				} `json:"CustomerCaseList"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(agentapi.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	var want agentapi.CustomerCaseList
	decode(t, response{header: http.Header{"Content-Type": {"application/json"}}, body: doc.Components.Schemas.CustomerCaseList.Example}, &want)
	if len(want.Cases) == 0 {
		t.Fatal("the example lists no case")
	}
	s := newStore(t)
	seed(t, s)
	seedHistories(t, s)
	e := serve(t, s, nil)
	var got agentapi.CustomerCaseList
	ok(t, e.get(t, "/v1/customers/"+ana+"/cases?limit=3"), http.StatusOK, &got)
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		t.Errorf("the route answers %s; the example is %s", g, doc.Components.Schemas.CustomerCaseList.Example)
	}
}

// TestSummary: a case's summary has every field of care.CaseSummary from the
// case's field of the same name.
func TestSummary(t *testing.T) {
	var c care.Case
	v := reflect.ValueOf(&c).Elem()
	at := t0
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("x-" + v.Type().Field(i).Name)
		case reflect.Int:
			f.SetInt(int64(100 + i))
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Struct:
			at = at.Add(time.Minute)
			f.Set(reflect.ValueOf(at))
		}
	}
	s := agentapi.Summary(&c)
	sv := reflect.ValueOf(s)
	for i := range sv.NumField() {
		name := sv.Type().Field(i).Name
		cf := v.FieldByName(name)
		if !cf.IsValid() {
			t.Errorf("care.Case has no field %s", name)
			continue
		}
		if sv.Field(i).IsZero() || !reflect.DeepEqual(sv.Field(i).Interface(), cf.Interface()) {
			t.Errorf("summary %s = %v, case has %v", name, sv.Field(i), cf)
		}
	}
}
