package store

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"
)

// The since_id of a source never moves backwards, whatever the order in which
// overlapping runs complete, and ends at the highest id any of them read. The ids
// have different lengths, so a string comparison without padding would get it
// wrong.
func TestCheckpointNeverMovesBackwards(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	ids := []string{"99", "1000", "1820000000000000123", "999", "1820000000000000099", "5", "1820000000000000122", "100000"}
	for round := range 3 {
		source := fmt.Sprintf("src-%d", round)
		var wg sync.WaitGroup
		errs := make(chan error, len(ids))
		for i, id := range ids {
			wg.Go(func() {
				// Each run first stores a page of progress, as a run does, then
				// completes. Progress conflicts are expected and harmless.
				cp, err := s.GetCheckpoint(ctx, source)
				if err != nil {
					errs <- err
					return
				}
				p := Pagination{RunID: fmt.Sprint("run-", i), SinceID: cp.SinceID, NextToken: "t" + id, NewestID: id, Pages: 1, Posts: 10}
				if _, err := s.SaveProgress(ctx, cp, p); err != nil && !errors.Is(err, ErrConflict) {
					errs <- err
					return
				}
				if _, err := s.CompleteCheckpoint(ctx, source, p); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		cp, err := s.GetCheckpoint(ctx, source)
		if err != nil {
			t.Fatal(err)
		}
		if cp.SinceID != "1820000000000000123" {
			t.Errorf("round %d: since_id = %s, want the maximum 1820000000000000123", round, cp.SinceID)
		}
		if cp.Pagination != nil {
			t.Errorf("round %d: pagination %+v left behind, though covered by since_id", round, cp.Pagination)
		}
	}

	// A late run completing a lower id leaves the checkpoint as it is.
	before, _ := s.GetCheckpoint(ctx, "src-0")
	after, err := s.CompleteCheckpoint(ctx, "src-0", Pagination{RunID: "late", NewestID: "1000"})
	if err != nil {
		t.Fatal(err)
	}
	if after.SinceID != before.SinceID || after.Version != before.Version {
		t.Errorf("late completion changed the checkpoint: %+v -> %+v", before, after)
	}
}

func TestCheckpointProgress(t *testing.T) {
	s, clk := newStore(t)
	ctx := t.Context()
	cp, err := s.GetCheckpoint(ctx, "search-es")
	if err != nil {
		t.Fatal(err)
	}
	if cp.Version != 0 || cp.SinceID != "" || cp.Pagination != nil {
		t.Fatalf("new source: %+v", cp)
	}

	// First run: a sequence from a start time, cut short after page 1.
	start := clk.Now().Add(-time.Hour)
	p := Pagination{RunID: "a", StartTime: start, NextToken: "tok2", NewestID: "1820000000000000500", Pages: 1, Posts: 100, StartedAt: clk.Now()}
	saved, err := s.SaveProgress(ctx, cp, p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.GetCheckpoint(ctx, "search-es")
	if err != nil {
		t.Fatal(err)
	}
	if saved.Version != got.Version || saved.Pagination == nil || got.Pagination == nil || saved.Pagination.NextToken != got.Pagination.NextToken {
		t.Errorf("SaveProgress returned %+v, the table holds %+v", saved, got)
	}
	if got.Version != 1 || got.Pagination == nil || *got.Pagination != p || !got.StartTime.Equal(start) || got.SinceID != "" {
		t.Fatalf("after progress: %+v %+v, want pagination %+v", got, got.Pagination, p)
	}

	// A run holding the old version cannot overwrite it.
	stale := &Checkpoint{Source: "search-es"}
	if _, err := s.SaveProgress(ctx, stale, Pagination{RunID: "b", NextToken: "other"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale SaveProgress: %v, want ErrConflict", err)
	}

	// Another run's sequence, from the same start, reaching higher, saves its page.
	other := Pagination{RunID: "c", StartTime: start, NextToken: "c2", NewestID: "1820000000000000900", Pages: 1}
	if _, err := s.SaveProgress(ctx, got, other); err != nil {
		t.Fatal(err)
	}
	// Run a completes: since_id moves to its newest; c's pagination, reaching
	// higher, is kept for it to finish.
	cp, err = s.CompleteCheckpoint(ctx, "search-es", p)
	if err != nil {
		t.Fatal(err)
	}
	if cp.SinceID != "1820000000000000500" || cp.Pagination == nil || cp.Pagination.RunID != "c" {
		t.Fatalf("after a's completion: %+v %+v", cp, cp.Pagination)
	}
	// c completes: since_id moves up, its pagination is cleared.
	cp, err = s.CompleteCheckpoint(ctx, "search-es", other)
	if err != nil {
		t.Fatal(err)
	}
	if cp.SinceID != "1820000000000000900" || cp.Pagination != nil {
		t.Fatalf("after c's completion: %+v", cp)
	}

	// A source whose first sequence found nothing keeps its start time.
	empty := Pagination{RunID: "d", StartTime: start}
	completed, err := s.CompleteCheckpoint(ctx, "search-en", empty)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetCheckpoint(ctx, "search-en")
	if completed.Version != got.Version || !completed.StartTime.Equal(got.StartTime) {
		t.Errorf("CompleteCheckpoint returned %+v, the table holds %+v", completed, got)
	}
	if got.SinceID != "" || !got.StartTime.Equal(start) || got.Version != 1 {
		t.Fatalf("empty first sequence: %+v", got)
	}
	if _, err := s.SaveProgress(ctx, got, Pagination{RunID: "x", NewestID: "12a"}); err == nil {
		t.Error("SaveProgress accepted a bad id")
	}
}

func TestSpend(t *testing.T) {
	s, clk := newStore(t)
	ctx := t.Context()
	now := clk.Now()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if err := s.AddSpend(ctx, now, SourceSpend{Source: "search-es", Kind: "search", Reads: 37, Pages: 1, USD: 37 * 0.005}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := s.AddSpend(ctx, now, SourceSpend{Source: "mentions", Kind: "mentions", Reads: 3, Pages: 1, USD: 0.003}); err != nil {
		t.Fatal(err)
	}
	// Next month is another item.
	if err := s.AddSpend(ctx, now.AddDate(0, 1, 0), SourceSpend{Source: "mentions", Kind: "mentions", Reads: 1, Pages: 1, USD: 0.001}); err != nil {
		t.Fatal(err)
	}
	m, err := s.GetSpend(ctx, SpendMonth(now))
	if err != nil {
		t.Fatal(err)
	}
	es := m.Sources["search-es"]
	if es.Reads != 370 || es.Pages != 10 || es.USD != 1.85 || es.Kind != "search" {
		t.Errorf("search-es spend = %+v, want 370 reads, 10 pages, $1.85", es)
	}
	if math.Abs(m.TotalUSD()-1.853) > 1e-12 || m.USD("mentions") != 0.003 || len(m.Sources) != 2 {
		t.Errorf("month = %+v, total %v", m, m.TotalUSD())
	}
	if m, _ := s.GetSpend(ctx, "1999-01"); len(m.Sources) != 0 || m.TotalUSD() != 0 {
		t.Errorf("empty month = %+v", m)
	}
}

func TestBackoff(t *testing.T) {
	s, clk := newStore(t)
	ctx := t.Context()
	now := clk.Now()
	b, err := s.GetBackoff(ctx, "search")
	if err != nil {
		t.Fatal(err)
	}
	if b.Active(now) || !b.Until.IsZero() {
		t.Fatalf("no backoff: %+v", b)
	}
	later, earlier := now.Add(15*time.Minute), now.Add(5*time.Minute)
	if err := s.SetBackoff(ctx, Backoff{Endpoint: "search", Until: later, Limit: 450, Reason: "429"}); err != nil {
		t.Fatal(err)
	}
	// An earlier reset does not shorten it.
	if err := s.SetBackoff(ctx, Backoff{Endpoint: "search", Until: earlier, Reason: "429"}); err != nil {
		t.Fatal(err)
	}
	b, err = s.GetBackoff(ctx, "search")
	if err != nil {
		t.Fatal(err)
	}
	if !b.Until.Equal(later) || b.Limit != 450 || !b.Active(now) || b.Active(later) {
		t.Errorf("backoff = %+v, want until %v", b, later)
	}
	if b, _ := s.GetBackoff(ctx, "mentions"); b.Active(now) {
		t.Errorf("mentions backoff = %+v: endpoints are separate", b)
	}
}
