package store

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
)

func TestCrisisCounters(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	base := time.Date(2026, 8, 3, 9, 0, 0, 0, time.UTC)
	// 200 concurrent adds spread over minutes 0..9 (20 each), plus one the hour before.
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			at := base.Add(time.Duration(i%10)*time.Minute + time.Duration(i)*time.Second%time.Minute)
			if err := s.AddCrisisCount(ctx, "delays", at, 1); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := s.AddCrisisCount(ctx, "delays", base.Add(-time.Minute), 5); err != nil {
		t.Fatal(err)
	}
	if err := s.AddCrisisCount(ctx, "baggage", base, 7); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		from, to time.Time
		hourly   bool
		want     int64
	}{
		{"all ten minutes", base, base.Add(10 * time.Minute), false, 200},
		{"first five", base, base.Add(5 * time.Minute), false, 100},
		{"to is excluded", base.Add(9 * time.Minute), base.Add(10 * time.Minute), false, 20},
		{"from rounds up to a whole minute", base.Add(30 * time.Second), base.Add(2 * time.Minute), false, 20},
		{"the minute before", base.Add(-time.Hour), base, false, 5},
		{"empty range", base, base, false, 0},
		{"this hour", base, base.Add(time.Hour), true, 200},
		{"previous hour", base.Add(-time.Hour), base, true, 5},
		{"both hours", base.Add(-24 * time.Hour), base.Add(time.Hour), true, 205},
	}
	for _, tt := range tests {
		var got int64
		var err error
		if tt.hourly {
			got, err = s.CrisisHourCount(ctx, "delays", tt.from, tt.to)
		} else {
			got, err = s.CrisisMinuteCount(ctx, "delays", tt.from, tt.to)
		}
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
	if n, _ := s.CrisisMinuteCount(ctx, "baggage", base, base.Add(time.Minute)); n != 7 {
		t.Errorf("baggage = %d, want 7 (topics are separate)", n)
	}
	// Counters expire.
	item, err := s.get(ctx, key("CRISIS#delays", "M#2026-08-03T09:00"))
	if err != nil || item == nil || stringAttr(item, "topic") != "delays" {
		t.Fatalf("minute bucket: %v %v", item, err)
	}
	if v := item[TTLAttribute]; v == nil {
		t.Error("minute bucket without TTL")
	}
}

func TestClaimCrisisReply(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	w := time.Date(2026, 8, 3, 9, 15, 0, 0, time.UTC)
	var wins atomic.Int64
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			ok, err := s.ClaimCrisisReply(ctx, "delays", w, 25)
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 25 {
		t.Errorf("%d replies claimed, want the bound 25", wins.Load())
	}
	if ok, _ := s.ClaimCrisisReply(ctx, "delays", w.Add(15*time.Minute), 25); !ok {
		t.Error("the next window is full too")
	}
	if ok, _ := s.ClaimCrisisReply(ctx, "baggage", w, 25); !ok {
		t.Error("another topic is full too")
	}
	// Reply claims are not complaints.
	if n, _ := s.CrisisMinuteCount(ctx, "delays", w.Add(-time.Hour), w.Add(time.Hour)); n != 0 {
		t.Errorf("minute counts = %d, want 0", n)
	}
}

func TestCrisisOpenClose(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	t1 := time.Date(2026, 8, 3, 9, 15, 0, 0, time.UTC)
	auto := care.CrisisState{Topic: "delays", Active: true, Since: t1, OpenedBy: "auto", WindowCount: 40, Baseline: 1.5, Threshold: 25, Reason: "spike", UpdatedAt: t1}

	// Of concurrent openers, exactly one wins.
	var wins atomic.Int64
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			st := auto
			st.Since = t1.Add(time.Duration(i) * time.Millisecond)
			ok, err := s.OpenCrisis(ctx, st)
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
		t.Fatalf("%d openers won, want 1", wins.Load())
	}
	got, err := s.GetCrisis(ctx, "delays")
	if err != nil || !got.Active || got.Manual || got.Threshold != 25 || got.OpenedBy != "auto" {
		t.Fatalf("state = %+v, %v", got, err)
	}
	if ok, _ := s.OpenCrisis(ctx, auto); ok {
		t.Error("reopened an open crisis")
	}
	// Closing names the crisis it closes.
	closed := care.CrisisState{ClosedAt: t1.Add(time.Hour), ClosedBy: "auto", Reason: "calm"}
	if ok, _ := s.CloseCrisis(ctx, "delays", t1.Add(-time.Hour), false, closed); ok {
		t.Error("closed a crisis that opened at another time")
	}
	var closes atomic.Int64
	for range 10 {
		wg.Go(func() {
			ok, err := s.CloseCrisis(ctx, "delays", got.Since, false, closed)
			if err != nil {
				t.Error(err)
			}
			if ok {
				closes.Add(1)
			}
		})
	}
	wg.Wait()
	if closes.Load() != 1 {
		t.Fatalf("%d closers won, want 1", closes.Load())
	}
	since := got.Since
	got, _ = s.GetCrisis(ctx, "delays")
	if got.Active || got.ClosedBy != "auto" || !got.ClosedAt.Equal(t1.Add(time.Hour)) || got.Reason != "calm" || !got.Since.Equal(since) || got.Threshold != 25 {
		t.Fatalf("closed state = %+v", got)
	}

	// Manual: opens over nothing, stays open against automatic closing.
	man := care.CrisisState{Topic: "app", Active: true, Manual: true, Since: t1, OpenedBy: "agent-1"}
	if ok, err := s.OpenCrisis(ctx, man); !ok || err != nil {
		t.Fatalf("manual open: %v %v", ok, err)
	}
	if ok, _ := s.OpenCrisis(ctx, man); ok {
		t.Error("manual open twice")
	}
	if ok, _ := s.CloseCrisis(ctx, "app", t1, false, closed); ok {
		t.Error("automatic close of a manual crisis")
	}
	quiet := t1.Add(2 * time.Hour)
	if ok, _ := s.CloseCrisis(ctx, "app", time.Time{}, true, care.CrisisState{ClosedAt: t1.Add(time.Hour), ClosedBy: "agent-2", QuietUntil: quiet}); !ok {
		t.Error("manual close failed")
	}
	// Quiet: automatic detection waits; a person does not.
	a2 := auto
	a2.Topic, a2.Since = "app", t1.Add(90*time.Minute)
	if ok, _ := s.OpenCrisis(ctx, a2); ok {
		t.Error("automatic open during the quiet period")
	}
	a2.Since = quiet.Add(time.Minute)
	if ok, _ := s.OpenCrisis(ctx, a2); !ok {
		t.Error("automatic open after the quiet period failed")
	}
	// A manual open turns an automatic crisis into a manual one.
	m2 := man
	m2.Since = quiet.Add(2 * time.Minute)
	if ok, _ := s.OpenCrisis(ctx, m2); !ok {
		t.Error("manual open over an automatic crisis failed")
	}
	list, err := s.ListCrises(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	for _, st := range list {
		if st.Topic == "app" && (!st.Active || !st.Manual || st.OpenedBy != "agent-1") {
			t.Errorf("app = %+v", st)
		}
		if st.Topic == "delays" && st.Active {
			t.Errorf("delays = %+v", st)
		}
	}
	if _, err := s.OpenCrisis(ctx, care.CrisisState{Topic: "x"}); err == nil {
		t.Error("inactive state accepted by OpenCrisis")
	}
}

// TestCrisisStatementRecorded: the latest post out of a crisis's statement
// is recorded on its state, never moved back by an older one, never on
// another crisis of the topic, and a new crisis starts without one.
func TestCrisisStatementRecorded(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	t1 := time.Date(2026, 8, 3, 9, 15, 0, 0, time.UTC)
	if ok, err := s.OpenCrisis(ctx, care.CrisisState{Topic: "delays", Active: true, Manual: true, Since: t1, OpenedBy: "sara"}); !ok || err != nil {
		t.Fatalf("open: %v, %v", ok, err)
	}
	steps := []struct {
		since time.Time
		xid   string
		at    time.Time
		want  bool
	}{
		{t1, "1890000000000000001", t1.Add(10 * time.Minute), true},
		{t1, "1890000000000000001", t1.Add(10 * time.Minute), false}, // a redelivery
		{t1, "1890000000000000002", t1.Add(40 * time.Minute), true},
		{t1, "1890000000000000001", t1.Add(10 * time.Minute), false}, // older
		{t1.Add(-time.Hour), "1890000000000000003", t1.Add(50 * time.Minute), false},
	}
	for i, st := range steps {
		if ok, err := s.SetCrisisStatement(ctx, "delays", st.since, st.xid, st.at); ok != st.want || err != nil {
			t.Errorf("step %d: SetCrisisStatement = %v, %v; want %v", i, ok, err, st.want)
		}
	}
	got, err := s.GetCrisis(ctx, "delays")
	if err != nil || got.StatementID != "1890000000000000002" || !got.StatementAt.Equal(t1.Add(40*time.Minute)) || !got.Active {
		t.Fatalf("state = %+v, %v; want the update of 09:55", got, err)
	}
	if ok, err := s.CloseCrisis(ctx, "delays", t1, true, care.CrisisState{ClosedAt: t1.Add(2 * time.Hour), ClosedBy: "sara"}); !ok || err != nil {
		t.Fatalf("close: %v, %v", ok, err)
	}
	if got, _ := s.GetCrisis(ctx, "delays"); got.StatementID != "1890000000000000002" {
		t.Errorf("closed state = %+v; want its statement kept", got)
	}
	if ok, err := s.OpenCrisis(ctx, care.CrisisState{Topic: "delays", Active: true, Manual: true, Since: t1.Add(3 * time.Hour), OpenedBy: "sara"}); !ok || err != nil {
		t.Fatalf("open again: %v, %v", ok, err)
	}
	if got, _ := s.GetCrisis(ctx, "delays"); got.StatementID != "" || !got.StatementAt.IsZero() {
		t.Errorf("a new crisis = %+v; want no statement", got)
	}
}

// TestPastCrises: a crisis whose follow-ups are done is archived with them,
// and listed for the periods it was open in, not for others.
func TestPastCrises(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	t1 := time.Date(2026, 8, 3, 9, 15, 0, 0, time.UTC)
	for i, topic := range []string{"delays", "baggage"} {
		since := t1.Add(time.Duration(i) * 48 * time.Hour)
		c := care.CrisisState{Topic: topic, Since: since, ClosedAt: since.Add(3 * time.Hour), OpenedBy: "auto", ClosedBy: "sara"}
		if ok, err := s.FinishFollowUps(ctx, topic, since, FollowUpJob{DoneAt: since.Add(4 * time.Hour), Customers: 3, Queued: 2, Crisis: &c}); !ok || err != nil {
			t.Fatalf("finish %s: %v, %v", topic, ok, err)
		}
	}
	// A job without its crisis (before the archive) is not listed.
	if ok, err := s.FinishFollowUps(ctx, "app", t1, FollowUpJob{DoneAt: t1}); !ok || err != nil {
		t.Fatal(ok, err)
	}
	for _, tt := range []struct {
		name     string
		from, to time.Time
		want     []string
	}{
		{"both", t1.Add(-time.Hour), t1.Add(72 * time.Hour), []string{"delays", "baggage"}},
		{"the first, open at the period's start", t1.Add(2 * time.Hour), t1.Add(24 * time.Hour), []string{"delays"}},
		{"none yet", t1.Add(-48 * time.Hour), t1, nil},
		{"the second", t1.Add(24 * time.Hour), t1.Add(30 * 24 * time.Hour), []string{"baggage"}},
	} {
		got, err := s.PastCrises(ctx, tt.from, tt.to)
		if err != nil {
			t.Fatal(err)
		}
		var topics []string
		for _, j := range got {
			topics = append(topics, j.Crisis.Topic)
		}
		if !slices.Equal(topics, tt.want) {
			t.Errorf("%s: PastCrises = %v; want %v", tt.name, topics, tt.want)
		}
	}
}

// TestCrisisPrevious: a new crisis keeps the topic's earlier ones, closed,
// newest first, those closed within care.PreviousKept.
func TestCrisisPrevious(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	t1 := time.Date(2026, 8, 3, 9, 0, 0, 0, time.UTC)
	for i, since := range []time.Time{t1, t1.Add(time.Hour), t1.Add(2 * time.Hour), t1.Add(12 * 24 * time.Hour)} {
		if ok, err := s.OpenCrisis(ctx, care.CrisisState{Topic: "delays", Active: true, Manual: true, Since: since, OpenedBy: "sara"}); !ok || err != nil {
			t.Fatalf("open %d: %v, %v", i, ok, err)
		}
		got, err := s.GetCrisis(ctx, "delays")
		if err != nil {
			t.Fatal(err)
		}
		var prev []time.Time
		for _, p := range got.Previous {
			prev = append(prev, p.Since)
		}
		want := map[int][]time.Time{1: {t1}, 2: {t1.Add(time.Hour), t1}}[i] // the fourth opens 12 days on: none kept
		if !slices.EqualFunc(prev, want, time.Time.Equal) {
			t.Errorf("crisis %d keeps %v; want %v", i, prev, want)
		}
		if ok, err := s.CloseCrisis(ctx, "delays", since, true, care.CrisisState{ClosedAt: since.Add(30 * time.Minute), ClosedBy: "sara"}); !ok || err != nil {
			t.Fatalf("close %d: %v, %v", i, ok, err)
		}
	}
}
