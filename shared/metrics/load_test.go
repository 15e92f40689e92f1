package metrics

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/store"
)

// source is a fake Source over cases and replies.
type source struct {
	days    []store.CaseDay
	cases   map[string]care.Case
	replies map[string][]care.ReplyStatus
	fail    string // the case id whose read fails

	mu     sync.Mutex
	listed []string // the cases whose replies were read
	from   time.Time
	to     time.Time
}

var errRead = errors.New("read failed")

func (s *source) CaseDays(_ context.Context, from, to time.Time) ([]store.CaseDay, error) {
	s.from, s.to = from, to
	return s.days, nil
}

func (s *source) GetCaseItem(_ context.Context, id string) (*care.Case, error) {
	if id == s.fail {
		return nil, errRead
	}
	c, ok := s.cases[id]
	if !ok {
		return nil, fmt.Errorf("case %s: %w", id, store.ErrNotFound)
	}
	return &c, nil
}

func (s *source) ListReplies(_ context.Context, id string) ([]care.ReplyStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listed = append(s.listed, id)
	return s.replies[id], nil
}

func TestLoad(t *testing.T) {
	t0 := at(3, 9, 0, 0)
	src := func() *source {
		s := &source{cases: map[string]care.Case{}, replies: map[string][]care.ReplyStatus{}}
		for i, c := range []care.Case{
			{ID: "answered", MessagesIn: 1, MessagesOut: 1},
			{ID: "unanswered", MessagesIn: 1},
			{ID: "surveyed", MessagesIn: 1, SurveySentAt: &t0},
			{ID: "gone"},
		} {
			s.days = append(s.days, store.CaseDay{CaseID: c.ID, CreatedAt: t0.Add(time.Duration(i) * time.Minute)})
			if c.ID != "gone" {
				s.cases[c.ID] = c
			}
		}
		s.replies["answered"] = []care.ReplyStatus{sent(care.ReplyAgent, care.Public, 0.01)}
		s.replies["surveyed"] = []care.ReplyStatus{sent(care.ReplySurvey, care.DM, 0.015)}
		return s
	}
	for _, workers := range []int{0, 1, 3} {
		t.Run(fmt.Sprint(workers, " workers"), func(t *testing.T) {
			s := src()
			got, err := Load(t.Context(), s, t0, t0.Add(24*time.Hour), workers)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, f := range got {
				ids = append(ids, f.Case.ID)
				if want := s.replies[f.Case.ID]; !slices.Equal(f.Replies, want) {
					t.Errorf("%s: replies %v, want %v", f.Case.ID, f.Replies, want)
				}
			}
			// In the index's order, without the case that does not exist.
			if want := []string{"answered", "unanswered", "surveyed"}; !slices.Equal(ids, want) {
				t.Errorf("cases %v, want %v", ids, want)
			}
			// Replies are read for the cases with an outbound message or a survey.
			slices.Sort(s.listed)
			if want := []string{"answered", "surveyed"}; !slices.Equal(s.listed, want) {
				t.Errorf("replies read for %v, want %v", s.listed, want)
			}
			if !s.from.Equal(t0) || !s.to.Equal(t0.Add(24*time.Hour)) {
				t.Errorf("index read from %v to %v", s.from, s.to)
			}
		})
	}

	s := src()
	s.fail = "unanswered"
	if _, err := Load(t.Context(), s, t0, t0.Add(time.Hour), 2); !errors.Is(err, errRead) {
		t.Errorf("a failed read: %v, want %v", err, errRead)
	}
}
