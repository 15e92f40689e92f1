package store

import (
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pajarito-care/pajarito/shared/care"
)

func TestGetCaseNotFound(t *testing.T) {
	s, _ := newStore(t)
	if _, _, err := s.GetCase(t.Context(), "t1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("error = %v, want ErrNotFound", err)
	}
}

func TestGetCaseManyMessages(t *testing.T) {
	s, _ := newStore(t)
	root := xid(1100)
	const n = 40
	for i := range n {
		// Append out of order: the case lists them by X id.
		j := (i * 7) % n
		mustAppend(t, s, post(xid(1100+j), root, root, t0.Add(time.Duration(j)*time.Second)), "")
	}
	c, msgs := mustGet(t, s, "t"+xid(1100)) // xid(1100) came first and opened it
	if len(msgs) != n || c.MessagesIn != n {
		t.Fatalf("%d messages, messages_in %d", len(msgs), c.MessagesIn)
	}
	for i, m := range msgs {
		if m.ID != xid(1100+i) {
			t.Fatalf("message %d is %s, want %s", i, m.ID, xid(1100+i))
		}
	}
	if !c.FirstInboundAt.Equal(t0) || !c.LastInboundAt.Equal(t0.Add((n-1)*time.Second)) || !c.WaitingSince.Equal(t0) {
		t.Errorf("first %v last %v waiting %v", c.FirstInboundAt, c.LastInboundAt, c.WaitingSince)
	}
}

func TestListCases(t *testing.T) {
	s, _ := newStore(t)
	type spec struct {
		id       string
		priority int
		waiting  time.Duration
	}
	specs := []spec{
		{xid(1200), 500, 3 * time.Minute},
		{xid(1201), 900, 5 * time.Minute},
		{xid(1202), 500, 1 * time.Minute},
		{xid(1203), 100, 0},
		{xid(1204), 900, 2 * time.Minute},
		{xid(1205), 500, 2 * time.Minute},
		{xid(1206), 999, 10 * time.Minute},
	}
	for _, sp := range specs {
		res := mustAppend(t, s, post(sp.id, sp.id, "", t0.Add(sp.waiting)), "")
		if sp.priority != care.DefaultPriority {
			if _, err := s.SetPriority(t.Context(), res.CaseID, sp.priority, "billing"); err != nil {
				t.Fatal(err)
			}
		}
	}
	// One pending case, which the open queue must not list.
	mustAppend(t, s, reply(xid(1207), xid(1200), xid(1200), t0.Add(20*time.Minute)), "")
	want := []string{xid(1206), xid(1204), xid(1201), xid(1202), xid(1205), xid(1203)}

	for _, limit := range []int{1, 2, 4, 6, 50} {
		var got []string
		cursor := ""
		pages := 0
		for {
			cases, next, err := s.ListCases(t.Context(), ListQuery{Limit: limit, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, c := range cases {
				got = append(got, strings.TrimPrefix(c.ID, "t"))
				if c.Status != care.Open || c.Subject == "" || c.CustomerID != customer || c.WaitingSince.IsZero() || c.Priority == 0 {
					t.Errorf("summary lacks fields: %+v", c)
				}
			}
			if next == "" {
				break
			}
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
			cursor = next
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("limit %d: %v, want %v", limit, got, want)
		}
	}

	pending, _, err := s.ListCases(t.Context(), ListQuery{Status: care.Pending})
	if err != nil || len(pending) != 1 || pending[0].ID != "t"+xid(1200) {
		t.Errorf("pending = %+v, %v", pending, err)
	}

	_, next, err := s.ListCases(t.Context(), ListQuery{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	badCursors := []struct{ name, cursor string }{
		{"not base64", "%%%"},
		{"not JSON", base64.RawURLEncoding.EncodeToString([]byte("hello"))},
		{"missing keys", base64.RawURLEncoding.EncodeToString([]byte(`{"PK":"CASE#t1"}`))},
		{"wrong item", base64.RawURLEncoding.EncodeToString([]byte(`{"PK":"X#public#1","SK":"X","GSI1PK":"Q#open","GSI1SK":"a"}`))},
	}
	for _, bc := range badCursors {
		if _, _, err := s.ListCases(t.Context(), ListQuery{Cursor: bc.cursor}); !errors.Is(err, ErrBadCursor) {
			t.Errorf("%s: error %v, want ErrBadCursor", bc.name, err)
		}
	}
	if _, _, err := s.ListCases(t.Context(), ListQuery{Status: care.Pending, Cursor: next}); !errors.Is(err, ErrBadCursor) {
		t.Errorf("cursor of another status: error %v, want ErrBadCursor", err)
	}
	if _, _, err := s.ListCases(t.Context(), ListQuery{Limit: MaxListLimit + 1}); err == nil {
		t.Error("limit above the maximum accepted")
	}
}

func TestSetStatusAndPriority(t *testing.T) {
	s, _ := newStore(t)
	id := xid(1300)
	res := mustAppend(t, s, post(id, id, "", t0), "")
	c, err := s.SetPriority(t.Context(), res.CaseID, 1200, "refunds")
	if err != nil || c.Priority != 999 || c.Department != "refunds" {
		t.Fatalf("SetPriority = %+v, %v", c, err)
	}
	at := t0.Add(time.Hour)
	c, err = s.SetStatus(t.Context(), res.CaseID, care.Resolved, at)
	if err != nil || c.Status != care.Resolved || c.ResolvedAt == nil || !c.ResolvedAt.Equal(at) || !c.WaitingSince.Equal(at) {
		t.Fatalf("SetStatus = %+v, %v", c, err)
	}
	if _, err := s.SetStatus(t.Context(), res.CaseID, "closed", at); err == nil {
		t.Error("unknown status accepted")
	}
	if _, err := s.SetStatus(t.Context(), "t1", care.Open, at); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing case: %v", err)
	}
	resolved, _, err := s.ListCases(t.Context(), ListQuery{Status: care.Resolved})
	if err != nil || len(resolved) != 1 || resolved[0].Priority != 999 {
		t.Errorf("resolved queue = %+v, %v", resolved, err)
	}
}

func TestMarkDeleted(t *testing.T) {
	s, _ := newStore(t)
	root := xid(1400)
	mustAppend(t, s, post(root, root, "", t0), "")
	mustAppend(t, s, post(xid(1401), root, root, t0.Add(time.Minute)), "")
	del := &care.Deletion{Channel: care.Public, ID: xid(1401), UserID: customer, DeletedAt: t0.Add(time.Hour)}
	for range 2 { // twice: idempotent
		res, err := s.MarkDeleted(t.Context(), del)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Found || res.CaseID != "t"+root {
			t.Fatalf("MarkDeleted = %+v", res)
		}
	}
	c, msgs := mustGet(t, s, "t"+root)
	if c.MessagesIn != 2 || len(msgs) != 2 {
		t.Fatalf("case after deletion: %d messages, messages_in %d", len(msgs), c.MessagesIn)
	}
	if m := msgs[1]; m.DeletedAt == nil || !m.DeletedAt.Equal(del.DeletedAt) || m.Text != "" {
		t.Errorf("deleted message = %+v", m)
	}
	if msgs[0].DeletedAt != nil || msgs[0].Text == "" {
		t.Errorf("other message = %+v", msgs[0])
	}
	claim, err := s.get(t.Context(), claimKey(care.Public, xid(1401)))
	if err != nil || claim["raw"] != nil || claim["deleted_at"] == nil {
		t.Errorf("claim of deleted message = %v, %v", claim, err)
	}

	// A deletion of a message never seen: not an error, and a late delivery of that
	// message is not stored.
	unknown := &care.Deletion{Channel: care.Public, ID: xid(1402), DeletedAt: t0.Add(time.Hour)}
	res, err := s.MarkDeleted(t.Context(), unknown)
	if err != nil || res.Found {
		t.Fatalf("unknown message: %+v, %v", res, err)
	}
	late := mustAppend(t, s, post(xid(1402), root, root, t0.Add(2*time.Minute)), "")
	if !late.Deleted || late.Stored() {
		t.Fatalf("late delivery of a deleted message = %+v", late)
	}
	if c, _ := mustGet(t, s, "t"+root); c.MessagesIn != 2 {
		t.Errorf("messages_in = %d after a deleted message arrived", c.MessagesIn)
	}
	if _, err := s.MarkDeleted(t.Context(), &care.Deletion{ID: "x"}); err == nil {
		t.Error("invalid deletion accepted")
	}
}

func TestQuarantine(t *testing.T) {
	s, _ := newStore(t)
	qs := []Quarantined{
		{SQSMessageID: "m-1", SentAt: t0, ReceiveCount: 1, Body: "{not json", Problem: "decode: invalid character"},
		{SQSMessageID: "m-2", SentAt: t0.Add(time.Second), ReceiveCount: 2, Body: "\xff\xfe binary", Problem: "unparsed"},
		{SQSMessageID: "m-3", SentAt: t0.Add(2 * time.Second), Body: strings.Repeat("a", MaxQuarantineBody+10), Problem: "big"},
	}
	for _, q := range append(qs, qs[0]) { // the first one twice: one record
		if _, err := s.Quarantine(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ListQuarantine(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d records, want 3", len(got))
	}
	for i, q := range got {
		w := qs[2-i] // newest first
		if q.SQSMessageID != w.SQSMessageID || !q.SentAt.Equal(w.SentAt) || q.Problem != w.Problem || q.ReceiveCount != w.ReceiveCount {
			t.Errorf("record %d = %+v, want %+v", i, q, w)
		}
		wantBody, truncated := w.Body, false
		if len(wantBody) > MaxQuarantineBody {
			wantBody, truncated = wantBody[:MaxQuarantineBody], true
		}
		if q.Body != wantBody || q.Truncated != truncated {
			t.Errorf("record %d body: %d bytes truncated %v", i, len(q.Body), q.Truncated)
		}
	}
}

func TestAccount(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	if _, err := s.GetAccount(ctx, brandID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no account: %v", err)
	}
	steps := []struct {
		name string
		do   func() error
		want AuthState
	}{
		{"authorised", func() error { return s.SetAuthorized(ctx, brandID, t0) }, AuthActive},
		{"revoked", func() error { return s.SetRevoked(ctx, care.Revocation{UserID: brandID, RevokedAt: t0.Add(time.Hour)}) }, AuthRevoked},
		{"revocation redelivered", func() error { return s.SetRevoked(ctx, care.Revocation{UserID: brandID, RevokedAt: t0.Add(time.Hour)}) }, AuthRevoked},
		{"an older authorisation arrives late", func() error { return s.SetAuthorized(ctx, brandID, t0.Add(time.Minute)) }, AuthRevoked},
		{"authorised again", func() error { return s.SetAuthorized(ctx, brandID, t0.Add(2*time.Hour)) }, AuthActive},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		a, err := s.GetAccount(ctx, brandID)
		if err != nil || a.Auth != st.want || a.UserID != brandID {
			t.Fatalf("%s: %+v, %v", st.name, a, err)
		}
	}
	if err := s.SetRevoked(ctx, care.Revocation{UserID: "brand"}); err == nil {
		t.Error("invalid user id accepted")
	}
}

func TestRecount(t *testing.T) {
	s, _ := newStore(t)
	root := xid(1500)
	mustAppend(t, s, post(root, root, "", t0), "")
	mustAppend(t, s, reply(xid(1501), root, root, t0.Add(time.Minute)), "")
	// Simulate the crash window's double count.
	e := newExpr()
	e.add("messages_in", 1)
	var mt meter
	if _, err := s.update(t.Context(), &mt, e.input(caseKey("t"+root), ""), nil, false); err != nil {
		t.Fatal(err)
	}
	c, err := s.Recount(t.Context(), "t"+root)
	if err != nil || c.MessagesIn != 1 || c.MessagesOut != 1 {
		t.Fatalf("Recount = %+v, %v", c, err)
	}
}

func TestDecodeCursor(t *testing.T) {
	q := ListQuery{}
	fp := q.fingerprint(care.Open)
	good, err := encodeCursor(map[string]types.AttributeValue{
		KeyPK: str("CASE#t1"), KeySK: str("CASE"), KeyGSI1PK: str("Q#open"), KeyGSI1SK: str("499#2026-08-03T09:00:00Z#t1"),
	}, fp)
	if err != nil {
		t.Fatal(err)
	}
	notGSI, err := encodeCursor(key("CASE#t1", "CASE"), fp)
	if err != nil {
		t.Fatal(err)
	}
	other := ListQuery{Intent: "complaint"}
	tests := []struct {
		name, cursor string
		fp           string
		ok           bool
	}{
		{"empty", "", fp, true},
		{"good", good, fp, true},
		{"not a GSI key", notGSI, fp, false},
		{"other filters", good, other.fingerprint(care.Open), false},
		{"other status", good, q.fingerprint(care.Pending), false},
		{"padding", base64.URLEncoding.EncodeToString([]byte(`{}`)), fp, false},
	}
	for _, tt := range tests {
		_, err := decodeCursor(tt.cursor, "Q#open", tt.fp)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrBadCursor)) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func TestListCasesFilters(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	type spec struct {
		n        int
		priority int
		dept     string
		intent   string
		crisis   string
		assignee string
	}
	// In queue order (priority descending, then waiting since).
	specs := []spec{
		{1, 950, "safety", "incident", "delays", "ana"},
		{2, 800, "billing", "complaint", "", ""},
		{3, 800, "billing", "complaint", "delays", "ben"},
		{4, 600, "bookings", "question", "", "ana"},
		{5, 500, "billing", "complaint", "", ""},
		{6, 300, "social", "praise", "", ""},
		{7, 100, "billing", "complaint", "delays", ""},
	}
	ids := map[int]string{}
	for i, sp := range specs {
		id := xid(2000 + sp.n)
		env := post(id, id, "", t0.Add(time.Duration(i)*time.Minute))
		if sp.n == 6 {
			env.Message.Lang = "es"
		}
		caseID := mustAppend(t, s, env, "").CaseID
		ids[sp.n] = caseID
		if _, err := s.SetTriage(ctx, caseID, care.Triage{Priority: &sp.priority, Department: sp.dept, Intent: sp.intent, CrisisTopic: sp.crisis}); err != nil {
			t.Fatal(err)
		}
		if sp.assignee != "" {
			if _, err := s.Assign(ctx, caseID, Assignment{To: sp.assignee, By: sp.assignee}); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name string
		q    ListQuery
		want []int
	}{
		{"none", ListQuery{}, []int{1, 2, 3, 4, 5, 6, 7}},
		{"department", ListQuery{Department: "billing"}, []int{2, 3, 5, 7}},
		{"intent", ListQuery{Intent: "complaint"}, []int{2, 3, 5, 7}},
		{"min priority", ListQuery{MinPriority: 600}, []int{1, 2, 3, 4}},
		{"min priority exact", ListQuery{MinPriority: 800}, []int{1, 2, 3}},
		{"min priority 999", ListQuery{MinPriority: 999}, nil},
		{"min priority 1", ListQuery{MinPriority: 1}, []int{1, 2, 3, 4, 5, 6, 7}},
		{"assignee", ListQuery{Assignee: "ana"}, []int{1, 4}},
		{"unassigned", ListQuery{Unassigned: true}, []int{2, 5, 6, 7}},
		{"language", ListQuery{Lang: "es"}, []int{6}},
		{"crisis", ListQuery{CrisisTopic: "delays"}, []int{1, 3, 7}},
		{"several", ListQuery{Department: "billing", Unassigned: true, MinPriority: 200}, []int{2, 5}},
		{"nothing matches", ListQuery{Intent: "spam"}, nil},
		{"other status", ListQuery{Status: care.Resolved, Department: "billing"}, nil},
	}
	for _, tt := range tests {
		var want []string
		for _, n := range tt.want {
			want = append(want, ids[n])
		}
		for _, limit := range []int{1, 2, 3, 50} {
			q := tt.q
			q.Limit = limit
			var got []string
			for page := 0; ; page++ {
				if page > len(specs)+1 {
					t.Fatalf("%s, limit %d: still paging after %d pages", tt.name, limit, page)
				}
				cases, next, err := s.ListCases(ctx, q)
				if err != nil {
					t.Fatalf("%s, limit %d: %v", tt.name, limit, err)
				}
				if len(cases) > limit {
					t.Fatalf("%s: %d cases with limit %d", tt.name, len(cases), limit)
				}
				for _, c := range cases {
					got = append(got, c.ID)
				}
				if next == "" {
					break
				}
				q.Cursor = next
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s, limit %d: %v, want %v", tt.name, limit, got, want)
			}
		}
	}

	// A cursor belongs to its filters.
	_, next, err := s.ListCases(ctx, ListQuery{Department: "billing", Limit: 1})
	if err != nil || next == "" {
		t.Fatalf("first billing page: %q, %v", next, err)
	}
	for _, q := range []ListQuery{
		{Cursor: next},
		{Cursor: next, Department: "safety"},
		{Cursor: next, Department: "billing", MinPriority: 900},
	} {
		if _, _, err := s.ListCases(ctx, q); !errors.Is(err, ErrBadCursor) {
			t.Errorf("cursor reused with %+v: %v, want ErrBadCursor", q, err)
		}
	}
	for _, q := range []ListQuery{{MinPriority: -1}, {MinPriority: 1000}, {Assignee: "ana", Unassigned: true}} {
		if _, _, err := s.ListCases(ctx, q); err == nil {
			t.Errorf("%+v accepted", q)
		}
	}
}

// TestListCasesScanBound fills the queue with cases a filter skips: one call reads
// at most MaxListScan entries, and the cursor goes on from there.
func TestListCasesScanBound(t *testing.T) {
	if testing.Short() {
		t.Skip("writes over MaxListScan cases")
	}
	s, _ := newStore(t)
	ctx := t.Context()
	n := MaxListScan + 50
	for i := range n {
		id := xid(10000 + i)
		caseID := mustAppend(t, s, post(id, id, "", t0.Add(time.Duration(i)*time.Second)), "").CaseID
		if i == n-1 {
			if _, err := s.SetTriage(ctx, caseID, care.Triage{Intent: "spam"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	q := ListQuery{Intent: "spam", Limit: 10}
	cases, next, err := s.ListCases(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 0 || next == "" {
		t.Fatalf("first call: %d cases, next %q; want none and a cursor", len(cases), next)
	}
	q.Cursor = next
	cases, next, err = s.ListCases(ctx, q)
	if err != nil || len(cases) != 1 || cases[0].ID != "t"+xid(10000+n-1) || next != "" {
		t.Fatalf("second call: %+v, %q, %v", cases, next, err)
	}
}
