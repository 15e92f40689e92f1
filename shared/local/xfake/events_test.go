package xfake

import (
	"testing"
	"time"
)

func TestFitWithin(t *testing.T) {
	base := time.Date(2026, 8, 18, 12, 0, 0, 0, time.UTC)
	posts := []Post{
		{ID: "3", CreatedAt: base.Add(72 * time.Hour)},
		{ID: "1", CreatedAt: base},
		{ID: "2", CreatedAt: base.Add(18 * time.Hour)},
		{ID: "4"},
	}
	oldest := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	newest := oldest.Add(40 * time.Minute)
	got := FitWithin(posts, oldest, newest)
	want := []time.Time{newest, oldest, oldest.Add(10 * time.Minute), {}}
	for i := range got {
		if !got[i].CreatedAt.Equal(want[i]) || got[i].ID != posts[i].ID {
			t.Errorf("post %s at %v, want %v", got[i].ID, got[i].CreatedAt, want[i])
		}
	}
	if !posts[0].CreatedAt.Equal(base.Add(72 * time.Hour)) {
		t.Error("FitWithin changed its input")
	}
	one := FitWithin(posts[:1], oldest, newest)
	if !one[0].CreatedAt.Equal(newest) {
		t.Errorf("a single post goes to newest, got %v", one[0].CreatedAt)
	}
}
