package store

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestLease(t *testing.T) {
	s, _ := newStore(t)
	ctx, now := t.Context(), t0
	take := func(holder string, at time.Time) bool {
		t.Helper()
		ok, err := s.TakeLease(ctx, "oauth2-refresh", holder, at, at.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	steps := []struct {
		name   string
		holder string
		at     time.Time
		want   bool
	}{
		{"free", "a", now, true},
		{"held by another", "b", now.Add(30 * time.Second), false},
		{"the holder again (extends)", "a", now.Add(40 * time.Second), true},
		{"still held by a", "b", now.Add(90 * time.Second), false},
		{"ended: a died", "b", now.Add(101 * time.Second), true},
	}
	for _, st := range steps {
		if got := take(st.holder, st.at); got != st.want {
			t.Errorf("%s: TakeLease(%s) = %v, want %v", st.name, st.holder, got, st.want)
		}
	}
	if ok, err := s.ReleaseLease(ctx, "oauth2-refresh", "a"); err != nil || ok {
		t.Errorf("a released b's lease: %v, %v", ok, err)
	}
	if ok, err := s.ReleaseLease(ctx, "oauth2-refresh", "b"); err != nil || !ok {
		t.Errorf("b's release: %v, %v", ok, err)
	}
	if !take("c", now.Add(102*time.Second)) {
		t.Error("the released lease could not be taken")
	}
	if _, err := s.TakeLease(ctx, "oauth2-refresh", "d", now, now); err == nil {
		t.Error("a lease that ends at once was taken")
	}
}

// TestLeaseConcurrent: of concurrent takers, exactly one wins.
func TestLeaseConcurrent(t *testing.T) {
	s, _ := newStore(t)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for i := range 12 {
		wg.Go(func() {
			ok, err := s.TakeLease(t.Context(), "race", fmt.Sprint("holder-", i), t0, t0.Add(time.Minute))
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d takers won the lease, want 1", wins)
	}
}
