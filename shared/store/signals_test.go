package store

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestSignals(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	day := time.Date(2026, 8, 3, 0, 0, 0, 0, time.UTC)
	adds := []struct {
		signal, key string
		at          time.Time
		n           int
	}{
		{SignalIgnoredEvent, "like.create", day.Add(9 * time.Hour), 10},
		{SignalIgnoredEvent, "profile.update", day.Add(23*time.Hour + 59*time.Minute), 2},
		{SignalIgnoredEvent, "like.create", day.Add(24 * time.Hour), 3},        // the next day
		{SignalIgnoredEvent, "like.create", day.Add(-time.Nanosecond), 4},      // the day before
		{SignalIgnoredEvent, "follow.create", day.Add(-6 * 24 * time.Hour), 1}, // a week before
		{SignalUnreadChat, SignalKeyAll, day.Add(time.Hour), 5},
		// Another zone, the same UTC day.
		{SignalUnreadChat, SignalKeyAll, day.Add(22 * time.Hour).In(time.FixedZone("UTC+3", 3*3600)), 1},
	}
	var wg sync.WaitGroup
	for _, a := range adds {
		for range a.n {
			wg.Go(func() {
				if err := s.AddSignal(ctx, a.signal, a.key, a.at); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()

	type count struct {
		day   string
		key   string
		count int64
	}
	tests := []struct {
		name     string
		signal   string
		from, to time.Time
		want     []count
	}{
		{"one day", SignalIgnoredEvent, day, day.Add(12 * time.Hour),
			[]count{{"2026-08-03", "like.create", 10}, {"2026-08-03", "profile.update", 2}}},
		{"both ends included", SignalIgnoredEvent, day.Add(-time.Hour), day.Add(24 * time.Hour),
			[]count{{"2026-08-02", "like.create", 4}, {"2026-08-03", "like.create", 10}, {"2026-08-03", "profile.update", 2}, {"2026-08-04", "like.create", 3}}},
		{"a week", SignalIgnoredEvent, day.Add(-6 * 24 * time.Hour), day,
			[]count{{"2026-07-28", "follow.create", 1}, {"2026-08-02", "like.create", 4}, {"2026-08-03", "like.create", 10}, {"2026-08-03", "profile.update", 2}}},
		{"the day after", SignalIgnoredEvent, day.Add(24 * time.Hour), day.Add(47 * time.Hour),
			[]count{{"2026-08-04", "like.create", 3}}},
		{"nothing counted", SignalIgnoredEvent, day.Add(2 * 24 * time.Hour), day.Add(3 * 24 * time.Hour), nil},
		{"from after to", SignalIgnoredEvent, day.Add(24 * time.Hour), day, nil},
		{"another signal", SignalUnreadChat, day, day, []count{{"2026-08-03", SignalKeyAll, 6}}},
		{"unknown signal", "nothing", day, day, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Signals(ctx, tt.signal, tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Signal != tt.signal || g.Day.Format("2006-01-02") != w.day || g.Day.Location() != time.UTC || g.Key != w.key || g.Count != w.count || !g.AlertedAt.IsZero() {
					t.Errorf("signal %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}

	item, err := s.get(ctx, key("SIGNAL#"+SignalIgnoredEvent, "2026-08-03#like.create"))
	if err != nil || item == nil {
		t.Fatalf("item: %v %v", item, err)
	}
	want := strconv.FormatInt(day.Add(SignalRetention).Unix(), 10)
	if v, ok := item[TTLAttribute].(*types.AttributeValueMemberN); !ok || v.Value != want {
		t.Errorf("expires_at = %v, want %s", item[TTLAttribute], want)
	}
}

func TestClaimSignalAlert(t *testing.T) {
	s, clk := newStore(t)
	ctx := t.Context()
	day := time.Date(2026, 8, 3, 0, 0, 0, 0, time.UTC)
	if err := s.AddSignal(ctx, SignalUnreadChat, SignalKeyAll, day.Add(9*time.Hour)); err != nil {
		t.Fatal(err)
	}
	now := clk.Now()

	// Of concurrent claims, exactly one wins.
	var wins atomic.Int64
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			ok, err := s.ClaimSignalAlert(ctx, SignalUnreadChat, SignalKeyAll, day.Add(12*time.Hour), now)
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
		t.Fatalf("%d claims won, want 1", wins.Load())
	}
	got, err := s.Signals(ctx, SignalUnreadChat, day, day)
	if err != nil || len(got) != 1 || !got[0].AlertedAt.Equal(now) || got[0].Count != 1 {
		t.Fatalf("signals after the claim: %+v, %v", got, err)
	}

	tests := []struct {
		name        string
		signal, key string
		day         time.Time
		want        bool
	}{
		{"the same day again", SignalUnreadChat, SignalKeyAll, day.Add(23 * time.Hour), false},
		{"a day with no count", SignalUnreadChat, SignalKeyAll, day.Add(24 * time.Hour), false},
		{"another key", SignalUnreadChat, "other", day, false},
		{"another signal", SignalIgnoredEvent, SignalKeyAll, day, false},
	}
	for _, tt := range tests {
		ok, err := s.ClaimSignalAlert(ctx, tt.signal, tt.key, tt.day, now)
		if err != nil || ok != tt.want {
			t.Errorf("%s: %v, %v; want %v", tt.name, ok, err, tt.want)
		}
	}
	// A claim on nothing counted creates no item.
	if got, err := s.Signals(ctx, SignalUnreadChat, day.Add(24*time.Hour), day.Add(24*time.Hour)); err != nil || len(got) != 0 {
		t.Errorf("a day with no count: %+v, %v", got, err)
	}
	// Counting goes on after the claim, and the next day claims again.
	if err := s.AddSignal(ctx, SignalUnreadChat, SignalKeyAll, day.Add(25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.ClaimSignalAlert(ctx, SignalUnreadChat, SignalKeyAll, day.Add(24*time.Hour), now); err != nil || !ok {
		t.Errorf("the next day: %v, %v; want true", ok, err)
	}

	// A released claim can be claimed again; only its own claimer releases it.
	if ok, err := s.ReleaseSignalAlert(ctx, SignalUnreadChat, SignalKeyAll, day, now.Add(time.Second)); err != nil || ok {
		t.Errorf("release of another claim: %v, %v; want false", ok, err)
	}
	if ok, err := s.ReleaseSignalAlert(ctx, SignalUnreadChat, SignalKeyAll, day, now); err != nil || !ok {
		t.Errorf("release: %v, %v; want true", ok, err)
	}
	if ok, err := s.ClaimSignalAlert(ctx, SignalUnreadChat, SignalKeyAll, day, now.Add(time.Minute)); err != nil || !ok {
		t.Errorf("claim after the release: %v, %v; want true", ok, err)
	}
}

func TestSignalsRequireAKey(t *testing.T) {
	s, _ := newStore(t)
	if err := s.AddSignal(t.Context(), SignalUnreadChat, "", t0); err == nil {
		t.Error("AddSignal without a key succeeded")
	}
	if _, err := s.ClaimSignalAlert(t.Context(), "", SignalKeyAll, t0, t0); err == nil {
		t.Error("ClaimSignalAlert without a signal succeeded")
	}
}
