package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pajarito-care/pajarito/shared/care"
)

func TestDecisions(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	res := mustAppend(t, s, post("1820000000000000001", "1820000000000000001", "", t0), "d1")
	mustAppend(t, s, post("1820000000000000002", "1820000000000000001", "", t0.Add(time.Minute)), "d2")
	caseID := res.CaseID
	before, msgs := mustGet(t, s, caseID)

	rec := func(msg string, prio int, why string) *care.DecisionRecord {
		return &care.DecisionRecord{
			CaseID: caseID, MessageID: msg, DecidedAt: t0.Add(time.Minute), Tier: "self_serve",
			Labels: care.Labels{Lang: "en", Intent: "incident", Sentiment: "negative", Score: -0.62, Urgency: "high",
				UrgencyKinds: []string{"stranded"}, PII: []string{"booking"}, PIIMasked: []string{"****2P"},
				Reasons: []care.LabelReason{{Label: "intent", Value: "incident", Because: `"was cancelled"`}}},
			Priority: prio, PriorityFactors: []care.Factor{{Factor: "base", Points: 300, Because: "every case starts at 300"}},
			Department: "bookings", DepartmentWhy: `rule "bookings"`,
			Actions: []care.Action{{Kind: care.ActionMoveToDM, Why: why}, {Kind: care.ActionQueue, Why: "a person answers"}},
			Replies: []care.ReplyRequest{{Version: 1, IdempotencyKey: care.ReplyKey(caseID, msg, care.ReplyMoveToDM), CaseID: caseID, TriggerID: msg,
				Channel: care.Public, InReplyToID: msg, Text: "We're sorry, Ana. Please DM us. ^Team", Kind: care.ReplyMoveToDM, Author: care.AuthorAuto, CreatedAt: t0}},
			Explanation: []string{"Priority " + why},
		}
	}
	if _, err := s.LatestDecision(ctx, caseID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no decision yet: %v", err)
	}
	if err := s.RecordDecision(ctx, rec("1820000000000000001", 700, "first")); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordDecision(ctx, rec("1820000000000000002", 710, "second")); err != nil {
		t.Fatal(err)
	}
	// Deciding again on a message replaces its record.
	if err := s.RecordDecision(ctx, rec("1820000000000000002", 720, "second again")); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListDecisions(ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].MessageID != "1820000000000000001" || list[1].Priority != 720 {
		t.Fatalf("decisions = %+v", list)
	}
	d := list[1]
	if d.Labels.Score != -0.62 || d.Labels.Reasons[0].Because != `"was cancelled"` || len(d.Replies) != 1 || d.Replies[0].Validate() != nil ||
		d.Actions[0].Kind != care.ActionMoveToDM || d.Explanation[0] != "Priority second again" || !d.DecidedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("record round trip: %+v", d)
	}
	latest, err := s.LatestDecision(ctx, caseID)
	if err != nil || latest.MessageID != "1820000000000000002" {
		t.Errorf("latest = %+v, %v", latest, err)
	}
	// The case and its messages read as before.
	after, msgs2 := mustGet(t, s, caseID)
	if len(msgs2) != len(msgs) || after.MessagesIn != before.MessagesIn {
		t.Errorf("GetCase changed: %d messages, %+v", len(msgs2), after)
	}
	if err := s.RecordDecision(ctx, &care.DecisionRecord{CaseID: caseID}); err == nil {
		t.Error("record without message accepted")
	}
}

func TestClaimAutoReply(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	day := 24 * time.Hour
	at := t0
	if last, _, err := s.LastAutoReply(ctx, "t1"); err != nil || !last.IsZero() {
		t.Fatalf("no claim yet: %v %v", last, err)
	}
	claim := func(msg string, at time.Time) bool {
		t.Helper()
		ok, err := s.ClaimAutoReply(ctx, "t1", msg, at, day)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !claim("100", at) {
		t.Fatal("first claim failed")
	}
	if claim("101", at.Add(time.Hour)) {
		t.Error("a second automatic reply within the cooldown")
	}
	if !claim("100", at.Add(time.Minute)) {
		t.Error("the same message (a redelivery) could not claim again")
	}
	if last, trigger, _ := s.LastAutoReply(ctx, "t1"); !last.Equal(at.Add(time.Minute)) || trigger != "100" {
		t.Errorf("last = %v by %q, want %v by 100", last, trigger, at.Add(time.Minute))
	}
	if !claim("102", at.Add(time.Minute+day)) {
		t.Error("no claim after the cooldown")
	}
	// Concurrent claims on a new case: exactly one.
	var wins atomic.Int64
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			ok, err := s.ClaimAutoReply(ctx, "t2", "2000"+string(rune('0'+i%10))+string(rune('0'+i/10)), at, day)
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d concurrent claims won, want 1", wins.Load())
	}
}

func TestCustomerCases(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	for i, c := range []struct {
		id string
		at time.Time
	}{{"t1", t0.Add(-40 * 24 * time.Hour)}, {"t2", t0.Add(-10 * 24 * time.Hour)}, {"d3", t0}} {
		for range 2 { // idempotent
			if err := s.TrackCustomerCase(ctx, customer, c.id, c.at); err != nil {
				t.Fatal(i, err)
			}
		}
	}
	if err := s.TrackCustomerCase(ctx, other, "t9", t0); err != nil {
		t.Fatal(err)
	}
	ids, err := s.CustomerCases(ctx, customer, t0.Add(-30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || ids[0] != "t2" || ids[1] != "d3" {
		t.Errorf("cases = %v, want [t2 d3]", ids)
	}
	if ids, _ := s.CustomerCases(ctx, customer, time.Time{}); len(ids) != 3 {
		t.Errorf("all cases = %v", ids)
	}
}

// TestDecisionItem: a decision is stored compressed, so that a full record (every
// label's reasons, the priority factors, two replies, the explanation) costs one
// write unit; records written before, as plain attributes, are still read.
func TestDecisionItem(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	const caseID, first, second = "t1830000000000000001", "1830000000000000001", "1830000000000000002"
	full := &care.DecisionRecord{
		CaseID: caseID, MessageID: second, DecidedAt: t0, Tier: "basic",
		Labels:   care.Labels{Lang: "es", Intent: "complaint", Sentiment: "negative", Score: -0.8, Urgency: "high"},
		Priority: 820, Department: "equipaje", DepartmentWhy: `regla "equipaje": intención complaint y la palabra "maleta"`,
	}
	for i := range 8 {
		full.Labels.Reasons = append(full.Labels.Reasons, care.LabelReason{Label: "intent", Value: "complaint", Because: fmt.Sprintf(`"llevo dos horas esperando mi maleta" (señal %d de queja)`, i)})
		full.PriorityFactors = append(full.PriorityFactors, care.Factor{Factor: fmt.Sprintf("factor-%d", i), Points: 40, Because: "el cliente lleva esperando más de lo que la guía permite"})
		full.Explanation = append(full.Explanation, fmt.Sprintf("Paso %d: la guía de atención pide disculparse primero en las quejas y no decir «problema» sino «incidencia».", i))
	}
	for _, kind := range []care.ReplyKind{care.ReplyAutoAck, care.ReplyMoveToDM} {
		full.Replies = append(full.Replies, care.ReplyRequest{Version: 1, IdempotencyKey: care.ReplyKey(caseID, second, kind), CaseID: caseID, TriggerID: second,
			Channel: care.Public, InReplyToID: second, Kind: kind, Author: care.AuthorAuto, CreatedAt: t0,
			Text: "@mariagv_viajes Sentimos mucho la espera con tu maleta. Lo estamos revisando ahora mismo y te escribimos por DM. ^Equipo"})
	}
	plain, err := json.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	cm := &CapacityMeter{API: s.Client}
	s.Client = cm
	if err := s.RecordDecision(ctx, full); err != nil {
		t.Fatal(err)
	}
	if _, w := cm.Units(); w != 1 {
		t.Errorf("a decision record of %d bytes of JSON cost %g write units, want 1", len(plain), w)
	}

	// A record of the layout before: the record's own attributes.
	old := *full
	old.MessageID, old.Priority = first, 700
	item, err := marshal(&old)
	if err != nil {
		t.Fatal(err)
	}
	dropZeroTimes(item)
	item[KeyPK], item[KeySK] = str(decisionsPK(caseID)), str(padID(first))
	if _, err := s.put(ctx, &meter{}, &dynamodb.PutItemInput{Item: item}, false); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListDecisions(ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Priority != 700 || list[1].Priority != 820 {
		t.Fatalf("decisions = %+v", list)
	}
	for i, want := range []string{first, second} {
		got := list[i]
		if got.MessageID != want || len(got.Labels.Reasons) != 8 || got.Explanation[7] != full.Explanation[7] ||
			len(got.Replies) != 2 || got.Replies[1].Text != full.Replies[1].Text || !got.DecidedAt.Equal(t0) {
			t.Errorf("decision %d: %+v", i, got)
		}
	}
}
