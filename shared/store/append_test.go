package store

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pajarito-care/pajarito/shared/care"
)

// xid returns a snowflake-like X id.
func xid(n int) string { return strconv.FormatUint(1820000000000000000+uint64(n), 10) }

func TestCreateTable(t *testing.T) {
	s, _ := newStore(t)
	if err := s.CreateTable(t.Context()); err != nil {
		t.Fatalf("second CreateTable: %v", err)
	}
	out, err := client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(s.Table)})
	if err != nil {
		t.Fatal(err)
	}
	tb := out.Table
	if len(tb.KeySchema) != 2 || *tb.KeySchema[0].AttributeName != KeyPK || *tb.KeySchema[1].AttributeName != KeySK {
		t.Errorf("key schema = %+v", tb.KeySchema)
	}
	if len(tb.GlobalSecondaryIndexes) != 1 {
		t.Fatalf("indexes = %+v", tb.GlobalSecondaryIndexes)
	}
	gsi := tb.GlobalSecondaryIndexes[0]
	if *gsi.IndexName != IndexQueue || *gsi.KeySchema[0].AttributeName != KeyGSI1PK || *gsi.KeySchema[1].AttributeName != KeyGSI1SK {
		t.Errorf("index = %s %+v", *gsi.IndexName, gsi.KeySchema)
	}
	if gsi.Projection.ProjectionType != types.ProjectionTypeInclude || !reflect.DeepEqual(gsi.Projection.NonKeyAttributes, QueueProjection()) {
		t.Errorf("projection = %s %v", gsi.Projection.ProjectionType, gsi.Projection.NonKeyAttributes)
	}
}

func TestAppendNewAndExistingCase(t *testing.T) {
	s, _ := newStore(t)
	root := xid(1)
	first := mustAppend(t, s, post(root, root, "", t0), "sqs-1")
	if !first.Stored() || !first.Created || first.Duplicate || first.CaseID != "t"+root {
		t.Fatalf("first append = %+v", first)
	}
	if first.WriteUnits != 6 {
		t.Errorf("a message opening a case cost %v write units, want 6 (thread, claim, case, index, day, message)", first.WriteUnits)
	}
	t.Logf("new case: %v write units", first.WriteUnits)

	second := mustAppend(t, s, post(xid(2), root, root, t0.Add(time.Minute)), "sqs-2")
	if !second.Stored() || second.Created || second.CaseID != first.CaseID {
		t.Fatalf("second append = %+v", second)
	}
	if second.WriteUnits > 3 {
		t.Errorf("a message appended to an open case cost %v write units, want ≤ 3", second.WriteUnits)
	}
	t.Logf("existing case: %v write units", second.WriteUnits)

	c, msgs := mustGet(t, s, first.CaseID)
	if len(msgs) != 2 || msgs[0].ID != root || msgs[1].ID != xid(2) {
		t.Fatalf("messages = %+v", msgs)
	}
	want := care.Case{
		ID: "t" + root, Channel: care.Public, Status: care.Open, ThreadKey: "public#" + root + "#" + customer,
		CustomerID: customer, CustomerHandle: "ana_garcia", Subject: subject(post(root, "", "", t0).Message.Text),
		Lang: "en", Priority: care.DefaultPriority, MessagesIn: 2,
		CreatedAt: t0.Add(time.Hour), FirstInboundAt: t0, LastInboundAt: t0.Add(time.Minute),
		UpdatedAt: t0.Add(time.Hour), WaitingSince: t0, Summoned: true,
	}
	if !reflect.DeepEqual(*c, want) {
		t.Errorf("case =\n%+v\nwant\n%+v", *c, want)
	}
	if m := msgs[1]; m.CaseID != c.ID || m.Source != care.SourceXAA || !m.StoredAt.Equal(t0.Add(time.Hour)) || m.Text == "" || m.InReplyToID != root {
		t.Errorf("stored message = %+v", m)
	}
	if !reflect.DeepEqual(*second.Case, *c) {
		t.Errorf("AppendResult.Case = %+v, want the stored case %+v", *second.Case, *c)
	}
}

func TestAppendDuplicates(t *testing.T) {
	s, _ := newStore(t)
	id := xid(10)
	tests := []struct {
		delivery    string
		stored      bool
		redelivered bool // our own message again: the caller finishes what followed
	}{
		{"sqs-1", true, false},
		{"sqs-1", false, true},  // SQS redelivery
		{"sqs-2", false, false}, // the same post by another route
	}
	for i, tt := range tests {
		res := mustAppend(t, s, post(id, id, "", t0), tt.delivery)
		if res.Stored() != tt.stored || res.Duplicate == tt.stored || res.CaseID != "t"+id || res.Redelivered != tt.redelivered {
			t.Fatalf("append %d = %+v", i+1, res)
		}
		if tt.redelivered && (res.Case == nil || res.Case.ID != "t"+id || res.Message == nil || res.Message.ID != id) {
			t.Errorf("redelivery %d: case %+v, message %+v; want both, for the caller to finish", i+1, res.Case, res.Message)
		}
		if !tt.stored && res.WriteUnits != 0 {
			t.Errorf("duplicate %d cost %v write units, want 0", i+1, res.WriteUnits)
		}
	}
	c, msgs := mustGet(t, s, "t"+id)
	if len(msgs) != 1 || c.MessagesIn != 1 || c.MessagesOut != 0 {
		t.Fatalf("after 3 appends: %d messages, in %d out %d", len(msgs), c.MessagesIn, c.MessagesOut)
	}
}

func TestAppendConcurrentDuplicates(t *testing.T) {
	tests := []struct {
		name string
		// delivery returns the delivery id of goroutine g.
		delivery func(g int) string
	}{
		{"eight deliveries", func(g int) string { return fmt.Sprint("sqs-", g) }},
		{"one delivery redelivered", func(int) string { return "sqs-1" }},
		{"no delivery ids", func(int) string { return "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newStore(t)
			for round := range 5 {
				// Rounds alternate between opening a case and appending to it.
				root := xid(100)
				id, conv := xid(100+round), root
				results := make([]AppendResult, 8)
				errs := make([]error, 8)
				var wg sync.WaitGroup
				for g := range 8 {
					wg.Go(func() {
						results[g], errs[g] = s.Append(t.Context(), post(id, conv, "", t0.Add(time.Duration(round)*time.Minute)), tt.delivery(g))
					})
				}
				wg.Wait()
				stored := 0
				for g, r := range results {
					if errs[g] != nil {
						t.Fatalf("round %d goroutine %d: %v", round, g, errs[g])
					}
					if r.Stored() {
						stored++
					} else if !r.Duplicate && !r.InFlight {
						t.Fatalf("round %d goroutine %d: %+v", round, g, r)
					}
				}
				if stored == 0 || (stored > 1 && tt.delivery(0) != tt.delivery(1)) {
					t.Fatalf("round %d: %d appends stored the message", round, stored)
				}
				c, msgs := mustGet(t, s, "t"+root)
				if len(msgs) != round+1 || c.MessagesIn != round+1 {
					t.Fatalf("round %d: %d messages, messages_in %d; want %d", round, len(msgs), c.MessagesIn, round+1)
				}
			}
		})
	}
}

func TestAppendSamePostByTwoRoutes(t *testing.T) {
	s, _ := newStore(t)
	root := mustAppend(t, s, post(xid(200), xid(200), "", t0), "sqs-0")
	for round := range 5 {
		id := xid(201 + round)
		at := t0.Add(time.Duration(round+1) * time.Minute)
		xaa := post(id, xid(200), xid(200), at) // X Activity API: has conversation_id
		aaa := post(id, "", xid(200), at)       // Account Activity API: reply to a known post
		var wg sync.WaitGroup
		var errs [2]error
		wg.Go(func() { _, errs[0] = s.Append(t.Context(), xaa, "sqs-xaa-"+id) })
		wg.Go(func() { _, errs[1] = s.Append(t.Context(), aaa, "sqs-aaa-"+id) })
		wg.Wait()
		if err := errors.Join(errs[:]...); err != nil {
			t.Fatal(err)
		}
	}
	c, msgs := mustGet(t, s, root.CaseID)
	if len(msgs) != 6 || c.MessagesIn != 6 {
		t.Fatalf("%d messages, messages_in %d; want 6", len(msgs), c.MessagesIn)
	}
}

func TestAppendLegacyThreading(t *testing.T) {
	s, _ := newStore(t)
	tests := []struct {
		name     string
		env      *care.Envelope
		wantCase string
	}{
		// A legacy reply to a post Pajarito never saw threads into the conversation of
		// the replied-to post's id.
		{"reply to unknown post", post(xid(301), "", xid(300), t0), "t" + xid(301)},
		{"next reply to the same post", post(xid(302), "", xid(300), t0.Add(time.Minute)), "t" + xid(301)},
		// A reply to a known reply finds the conversation through the claim.
		{"reply to a known reply", post(xid(303), "", xid(302), t0.Add(2*time.Minute)), "t" + xid(301)},
		{"same conversation by XAA", post(xid(304), xid(300), xid(303), t0.Add(3*time.Minute)), "t" + xid(301)},
		{"a new post", post(xid(305), "", "", t0.Add(4*time.Minute)), "t" + xid(305)},
	}
	for _, tt := range tests {
		res := mustAppend(t, s, tt.env, "sqs-"+tt.env.Message.ID)
		if res.CaseID != tt.wantCase {
			t.Errorf("%s: case %s, want %s", tt.name, res.CaseID, tt.wantCase)
		}
	}
	c, _ := mustGet(t, s, "t"+xid(301))
	if c.ThreadKey != "public#"+xid(300)+"#"+customer || c.MessagesIn != 4 {
		t.Errorf("case = %+v", c)
	}
}

func TestAppendDMThreading(t *testing.T) {
	s, _ := newStore(t)
	steps := []struct {
		env      *care.Envelope
		wantCase string
		status   care.Status
	}{
		{dm(xid(400), customer, true, t0), "d" + xid(400), care.Open},
		{dm(xid(401), customer, true, t0.Add(time.Minute)), "d" + xid(400), care.Open},
		{dm(xid(402), other, true, t0.Add(2*time.Minute)), "d" + xid(402), care.Open},
		{dm(xid(403), customer, false, t0.Add(3*time.Minute)), "d" + xid(400), care.Pending},
		{dm(xid(404), customer, true, t0.Add(4*time.Minute)), "d" + xid(400), care.Open},
	}
	for i, st := range steps {
		res := mustAppend(t, s, st.env, "")
		if res.CaseID != st.wantCase || res.Case.Status != st.status {
			t.Errorf("step %d: case %s status %s, want %s %s", i, res.CaseID, res.Case.Status, st.wantCase, st.status)
		}
	}
	c, msgs := mustGet(t, s, "d"+xid(400))
	if len(msgs) != 4 || c.MessagesIn != 3 || c.MessagesOut != 1 || c.ThreadKey != "dm#"+customer || c.CustomerID != customer {
		t.Errorf("case = %+v with %d messages", c, len(msgs))
	}
	if c.FirstResponseAt == nil || !c.FirstResponseAt.Equal(t0.Add(3*time.Minute)) || !c.WaitingSince.Equal(t0.Add(4*time.Minute)) {
		t.Errorf("first response %v, waiting since %v", c.FirstResponseAt, c.WaitingSince)
	}
}

func TestAppendStatusFollowsMessageTimes(t *testing.T) {
	s, _ := newStore(t)
	root := xid(500)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	steps := []struct {
		name    string
		env     *care.Envelope
		status  care.Status
		waiting time.Time
	}{
		{"customer writes", post(root, root, "", at(0)), care.Open, at(0)},
		{"brand replies", reply(xid(501), root, root, at(5)), care.Pending, at(5)},
		{"customer writes again", post(xid(502), root, xid(501), at(10)), care.Open, at(10)},
		{"a reply written before it, delivered late", reply(xid(503), root, root, at(8)), care.Open, at(10)},
		{"an earlier customer post, delivered late", post(xid(504), root, root, at(9)), care.Open, at(9)},
		{"brand replies to everything", reply(xid(505), root, xid(502), at(12)), care.Pending, at(12)},
		{"a customer post from before that reply", post(xid(506), root, root, at(11)), care.Pending, at(12)},
	}
	for _, st := range steps {
		res := mustAppend(t, s, st.env, "")
		if res.Case.Status != st.status || !res.Case.WaitingSince.Equal(st.waiting) {
			t.Errorf("%s: status %s waiting since %v, want %s %v", st.name, res.Case.Status, res.Case.WaitingSince, st.status, st.waiting)
		}
	}
	c, _ := mustGet(t, s, "t"+root)
	if c.MessagesIn != 4 || c.MessagesOut != 3 || c.FirstResponseAt == nil || !c.FirstResponseAt.Equal(at(5)) ||
		c.LastOutboundAt == nil || !c.LastOutboundAt.Equal(at(12)) || !c.LastInboundAt.Equal(at(11)) {
		t.Errorf("case = %+v", c)
	}
}

func TestAppendReopenAndNewCase(t *testing.T) {
	s, _ := newStore(t)
	root := xid(600)
	mustAppend(t, s, post(root, root, "", t0), "")
	if _, err := s.SetStatus(t.Context(), "t"+root, care.Resolved, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Within the reopen window: the case reopens.
	res := mustAppend(t, s, post(xid(601), root, root, t0.Add(2*time.Hour)), "")
	if res.CaseID != "t"+root || res.Case.Status != care.Open || res.Case.ResolvedAt != nil {
		t.Fatalf("within the window: %+v", res.Case)
	}
	resolvedAt := t0.Add(3 * time.Hour)
	if _, err := s.SetStatus(t.Context(), "t"+root, care.Resolved, resolvedAt); err != nil {
		t.Fatal(err)
	}
	// After it: a new case in the same thread.
	late := resolvedAt.Add(DefaultReopenWindow + time.Minute)
	res = mustAppend(t, s, post(xid(602), root, root, late), "")
	if res.CaseID != "t"+xid(602) || !res.Created || res.Case.ThreadKey != "public#"+root+"#"+customer {
		t.Fatalf("after the window: %+v", res)
	}
	res = mustAppend(t, s, post(xid(603), root, xid(602), late.Add(time.Minute)), "")
	if res.CaseID != "t"+xid(602) {
		t.Fatalf("next message went to %s", res.CaseID)
	}
	old, _ := mustGet(t, s, "t"+root)
	if old.Status != care.Resolved || old.MessagesIn != 2 {
		t.Errorf("old case = %+v", old)
	}
}

func TestAppendCrashRecovery(t *testing.T) {
	root, id := xid(700), xid(701)
	tests := []struct {
		name string
		// opens: the message opens its case (else the case exists).
		opens bool
		// op and key name the write that fails on the first attempt ("case" and
		// "message" stand for the case and message items).
		op, pk, sk string
		// claimed: the failure comes after the claim.
		claimed bool
		// between: another message of the case is counted before the redelivery.
		between bool
	}{
		{"before the thread pointer", true, "put", "THREAD#public#" + root + "#" + customer, "THREAD", false, false},
		{"before the claim", false, "put", "X#public#" + id, "X", false, false},
		{"before creating the case", true, "put", "case", "CASE", true, false},
		{"before counting into the case", false, "update", "case", "CASE", true, false},
		{"before the message item of a new case", true, "put", "case", "message", true, false},
		{"before the message item", false, "put", "case", "message", true, false},
		{"before the message item, another counted meanwhile", false, "put", "case", "message", true, true},
		{"before the message item of a new case, another counted meanwhile", true, "put", "case", "message", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newStore(t)
			caseID, wantIn := "t"+root, 2
			if tt.opens {
				caseID, wantIn = "t"+id, 1
			} else {
				mustAppend(t, s, post(root, root, "", t0), "sqs-0")
			}
			pk, sk := tt.pk, tt.sk
			if pk == "case" {
				pk = "CASE#" + caseID
			}
			if sk == "message" {
				sk = messageSK(id)
			}
			env := post(id, root, root, t0.Add(time.Minute))
			crashing := *s
			crashing.Client = &faulty{API: client, fail: failOnce(tt.op, pk, sk)}
			if _, err := crashing.Append(t.Context(), env, "sqs-1"); !errors.Is(err, errInjected) {
				t.Fatalf("first attempt: error %v, want the injected failure", err)
			}
			// Another route delivers the same post meanwhile. Once the crashed
			// delivery holds the claim, the other must not store or count it.
			res, err := s.Append(t.Context(), env, "sqs-2")
			if err != nil {
				t.Fatal(err)
			}
			if tt.claimed && !res.InFlight || !tt.claimed && !res.Stored() {
				t.Fatalf("another delivery: %+v", res)
			}
			if tt.between {
				// The customer writes again in the same conversation: counted into
				// the same case before the crashed delivery comes back.
				mustAppend(t, s, post(xid(702), root, id, t0.Add(2*time.Minute)), "sqs-3")
				wantIn++
			}
			// SQS redelivers the crashed delivery.
			res = mustAppend(t, s, env, "sqs-1")
			if tt.claimed && !res.Stored() || !tt.claimed && !res.Duplicate {
				t.Fatalf("redelivery: %+v", res)
			}
			if res.CaseID != caseID {
				t.Fatalf("redelivery stored in %s, want %s", res.CaseID, caseID)
			}
			c, msgs := mustGet(t, s, caseID)
			if len(msgs) != wantIn || c.MessagesIn != wantIn {
				t.Fatalf("%d messages, messages_in %d; want %d", len(msgs), c.MessagesIn, wantIn)
			}
		})
	}
}

func TestAppendClaimLease(t *testing.T) {
	s, clk := newStore(t)
	id := xid(800)
	env := post(id, id, "", t0)
	crashing := *s
	crashing.Client = &faulty{API: client, fail: failOnce("put", "CASE#t"+id, "CASE")}
	if _, err := crashing.Append(t.Context(), env, "sqs-1"); !errors.Is(err, errInjected) {
		t.Fatalf("first attempt: %v", err)
	}
	if res := mustAppend(t, s, env, "sqs-2"); !res.InFlight || res.WriteUnits != 0 {
		t.Fatalf("within the lease: %+v", res)
	}
	clk.Advance(DefaultClaimLease)
	if res := mustAppend(t, s, env, "sqs-2"); !res.Stored() || !res.Created {
		t.Fatalf("after the lease: %+v", res)
	}
	if res := mustAppend(t, s, env, "sqs-1"); !res.Duplicate {
		t.Fatalf("late redelivery of the crashed delivery: %+v", res)
	}
	c, msgs := mustGet(t, s, "t"+id)
	if len(msgs) != 1 || c.MessagesIn != 1 {
		t.Fatalf("%d messages, messages_in %d", len(msgs), c.MessagesIn)
	}
}

// TestAppendLeavesIndexAlone checks the premise of the write-unit budget: appending
// to an open case changes no attribute of its GSI1 entry, so DynamoDB writes no index
// entry; a status change does.
func TestAppendLeavesIndexAlone(t *testing.T) {
	s, _ := newStore(t)
	root := xid(900)
	mustAppend(t, s, post(root, root, "", t0), "")
	indexed := func() map[string]types.AttributeValue {
		item, err := s.get(t.Context(), caseKey("t"+root))
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]types.AttributeValue{KeyGSI1PK: item[KeyGSI1PK], KeyGSI1SK: item[KeyGSI1SK]}
		for _, a := range QueueProjection() {
			out[a] = item[a]
		}
		return out
	}
	before := indexed()
	res := mustAppend(t, s, post(xid(901), root, root, t0.Add(time.Minute)), "")
	if after := indexed(); !reflect.DeepEqual(before, after) {
		t.Errorf("appending to an open case changed the index entry:\n%v\n%v", before, after)
	}
	if res.WriteUnits != 3 {
		t.Errorf("append to an open case: %v write units, want 3", res.WriteUnits)
	}
	res = mustAppend(t, s, reply(xid(902), root, xid(901), t0.Add(2*time.Minute)), "")
	if after := indexed(); reflect.DeepEqual(before, after) {
		t.Error("a reply left the index entry unchanged")
	}
	if res.WriteUnits != 5 {
		t.Errorf("reply moving the case to pending: %v write units, want 5 (3 + 2 for the index key change)", res.WriteUnits)
	}
}

func TestIndexWrites(t *testing.T) {
	s := func(v string) types.AttributeValue { return str(v) }
	base := map[string]types.AttributeValue{KeyGSI1PK: s("Q#open"), KeyGSI1SK: s("499#a#t1"), "status": s("open"), "subject": s("x")}
	with := func(k string, v types.AttributeValue) map[string]types.AttributeValue {
		m := map[string]types.AttributeValue{}
		for a, x := range base {
			m[a] = x
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name     string
		old, new map[string]types.AttributeValue
		want     float64
	}{
		{"no entry", nil, map[string]types.AttributeValue{"x": s("y")}, 0},
		{"put", nil, base, 1},
		{"unchanged", base, with("messages_in", num(2)), 0},
		{"projected attribute", base, with("subject", s("y")), 1},
		{"key change", base, with(KeyGSI1PK, s("Q#pending")), 2},
		{"removed", base, with(KeyGSI1SK, nil), 1},
	}
	for _, tt := range tests {
		if got := indexWrites(tt.old, tt.new); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSubject(t *testing.T) {
	long := ""
	for range 30 {
		long += "ñandú "
	}
	tests := []struct{ in, want string }{
		{"hola", "hola"},
		{"  line one\n\nline   two ", "line one line two"},
		{long, string([]rune(long)[:140])},
	}
	for _, tt := range tests {
		if got := subject(tt.in); got != tt.want {
			t.Errorf("subject(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAppendRejectsBadEnvelopes(t *testing.T) {
	s, _ := newStore(t)
	bad := post(xid(1000), "", "", t0)
	bad.Message.ID = "not-an-id"
	tests := []struct {
		name string
		env  *care.Envelope
	}{
		{"nil", nil},
		{"deletion", &care.Envelope{Kind: care.KindDeletion, Deletion: &care.Deletion{ID: "1"}}},
		{"invalid message", bad},
	}
	for _, tt := range tests {
		if _, err := s.Append(t.Context(), tt.env, ""); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

// BenchmarkAppend appends inbound messages to one open case.
func BenchmarkAppend(b *testing.B) {
	s, _ := newStore(b)
	root := xid(5_000_000)
	if _, err := s.Append(b.Context(), post(root, root, "", t0), ""); err != nil {
		b.Fatal(err)
	}
	units := 0.0
	for i := 0; b.Loop(); i++ {
		res, err := s.Append(b.Context(), post(xid(5_000_001+i), root, root, t0.Add(time.Duration(i)*time.Millisecond)), "sqs-"+strconv.Itoa(i))
		if err != nil {
			b.Fatal(err)
		}
		units += res.WriteUnits
	}
	b.ReportMetric(units/float64(b.N), "WCU/op")
}

// TestAppendCustomersOfOneConversation: two customers who answer the brand's
// notice (one public conversation) have a case each; the brand's answer to each
// goes to that customer's case, and each one's follow-up to their own.
func TestAppendCustomersOfOneConversation(t *testing.T) {
	s, _ := newStore(t)
	const other = "2900000000000000002"
	notice := xid(700) // the brand's post that started the conversation
	ana := mustAppend(t, s, post(xid(701), notice, notice, t0), "")
	env := post(xid(702), notice, notice, t0.Add(time.Minute))
	env.Message.AuthorID, env.Message.AuthorHandle = other, "luis_p"
	luis := mustAppend(t, s, env, "")
	if !ana.Created || !luis.Created || ana.CaseID == luis.CaseID {
		t.Fatalf("two customers, cases %s and %s (created %v, %v): want one each", ana.CaseID, luis.CaseID, ana.Created, luis.Created)
	}
	toLuis := reply(xid(703), notice, xid(702), t0.Add(2*time.Minute))
	toLuis.Message.InReplyToUserID = other
	if res := mustAppend(t, s, toLuis, ""); res.CaseID != luis.CaseID {
		t.Errorf("the brand's answer to Luis went to case %s, want %s", res.CaseID, luis.CaseID)
	}
	if res := mustAppend(t, s, post(xid(704), notice, xid(701), t0.Add(3*time.Minute)), ""); res.CaseID != ana.CaseID {
		t.Errorf("Ana's follow-up went to case %s, want %s", res.CaseID, ana.CaseID)
	}
	// The brand's update to Luis: an answer to its own answer, mentioning him.
	update := reply(xid(705), notice, xid(703), t0.Add(4*time.Minute))
	update.Message.InReplyToUserID, update.Message.MentionedIDs = brandID, []string{other}
	if res := mustAppend(t, s, update, ""); res.CaseID != luis.CaseID {
		t.Errorf("the brand's update to Luis went to case %s, want %s", res.CaseID, luis.CaseID)
	}
	for id, want := range map[string][2]int{ana.CaseID: {2, 0}, luis.CaseID: {1, 2}} {
		c, _ := mustGet(t, s, id)
		if c.MessagesIn != want[0] || c.MessagesOut != want[1] || care.ThreadConversation(c.ThreadKey) != notice {
			t.Errorf("case %s: %d in, %d out, thread %s; want %d, %d in conversation %s", id, c.MessagesIn, c.MessagesOut, c.ThreadKey, want[0], want[1], notice)
		}
	}
}

// TestAppendTriaged: the triage given is the new case's (its queue index entry
// too, so that the case is listed at its place); it is not asked for when the
// message joins an existing case.
func TestAppendTriaged(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	root := "1840000000000000001"
	calls := 0
	triage := func(m *care.Message) care.Triage {
		calls++
		p := 1200 // clamped to 999
		return care.Triage{Priority: &p, Department: "baggage", Intent: "complaint", Sentiment: "negative", CrisisTopic: "baggage"}
	}
	res, err := s.AppendTriaged(ctx, post(root, root, "", t0), "d1", triage)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || calls != 1 {
		t.Fatalf("created %v, triage called %d times", res.Created, calls)
	}
	c, _ := mustGet(t, s, res.CaseID)
	if c.Priority != 999 || c.Department != "baggage" || c.Intent != "complaint" || c.Sentiment != "negative" || c.CrisisTopic != "baggage" {
		t.Errorf("case = %+v", c)
	}
	queue, _, err := s.ListCases(ctx, ListQuery{MinPriority: 999, Department: "baggage"})
	if err != nil {
		t.Fatal(err)
	}
	if len(queue) != 1 || queue[0].ID != res.CaseID {
		t.Errorf("queue = %+v", queue)
	}
	if _, err := s.AppendTriaged(ctx, post("1840000000000000002", root, root, t0.Add(time.Minute)), "d2", triage); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("triage called %d times, want once (the follow-up joins the case)", calls)
	}
}
