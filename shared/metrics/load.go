package metrics

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/store"
)

// Source is what Load reads (*store.Store implements it).
type Source interface {
	CaseDays(ctx context.Context, from, to time.Time) ([]store.CaseDay, error)
	GetCaseItem(ctx context.Context, id string) (*care.Case, error)
	ListReplies(ctx context.Context, caseID string) ([]care.ReplyStatus, error)
}

// DefaultWorkers is how many cases Load reads at once by default.
const DefaultWorkers = 32

// Load returns the facts of the cases created in [from, to): the day index, then
// each case item and, for the cases with an outbound message or a survey, their
// replies, workers cases at a time (0 means DefaultWorkers). A case in the index
// that does not exist is left out. The facts are in the index's order (by
// creation time).
func Load(ctx context.Context, src Source, from, to time.Time, workers int) ([]CaseFacts, error) {
	days, err := src.CaseDays(ctx, from, to)
	if err != nil {
		return nil, fmt.Errorf("metrics: load cases: %w", err)
	}
	if workers <= 0 {
		workers = DefaultWorkers
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	facts := make([]CaseFacts, len(days))
	found := make([]bool, len(days))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(days)) {
		wg.Go(func() {
			for i := range next {
				ok, err := loadCase(ctx, src, days[i].CaseID, &facts[i])
				if err != nil {
					cancel(err)
					return
				}
				found[i] = ok
			}
		})
	}
feed:
	for i := range days {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, fmt.Errorf("metrics: load cases: %w", err)
	}
	out := facts[:0]
	for i, f := range facts {
		if found[i] {
			out = append(out, f)
		}
	}
	return out, nil
}

// loadCase reads one case's facts into f; false when the case does not exist.
func loadCase(ctx context.Context, src Source, id string, f *CaseFacts) (bool, error) {
	c, err := src.GetCaseItem(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	f.Case = *c
	if c.MessagesOut > 0 || c.SurveySentAt != nil {
		if f.Replies, err = src.ListReplies(ctx, id); err != nil {
			return false, err
		}
	}
	return true, nil
}
