package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/classify"
)

func TestModelRoundTrip(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	if _, err := s.LoadModel(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LoadModel before any = %v, want ErrNotFound", err)
	}
	var cs []classify.Correction
	for i := range 60 {
		cs = append(cs,
			classify.Correction{Text: fmt.Sprintf("el embarque %d ha sido un pajarazo", i), Lang: "es", Sentiment: classify.Positive},
			classify.Correction{Text: fmt.Sprintf("el vuelo %d fue un desastre, horas de retraso", i), Lang: "es", Sentiment: classify.Negative},
			classify.Correction{Text: fmt.Sprintf("a qué hora sale el vuelo %d a Lima", i), Lang: "es", Sentiment: classify.Neutral})
	}
	m := classify.Train(cs)
	at := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)
	if err := s.SaveModel(ctx, m, at); err != nil {
		t.Fatal(err)
	}
	got, err := s.LoadModel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(m)
	b, _ := json.Marshal(got.Model)
	if string(a) != string(b) || !got.TrainedAt.Equal(at) || got.Bytes == 0 || got.Bytes > len(a) {
		t.Errorf("loaded model differs (trained %v, %d bytes gzipped of %d)", got.TrainedAt, got.Bytes, len(a))
	}
	// A newer model replaces it.
	m2 := classify.Train(cs[:90])
	if err := s.SaveModel(ctx, m2, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.LoadModel(ctx); err != nil || got.Model.Trained.Corrections != 90 || !got.TrainedAt.Equal(at.Add(time.Hour)) {
		t.Errorf("after a second save: %+v, %v", got, err)
	}
}

func TestSaveModelTooLarge(t *testing.T) {
	s, _ := newStore(t)
	rng := rand.New(rand.NewSource(1))
	h := &classify.NBHead{Classes: []string{"negative", "positive"}, Docs: []int{1, 1}, Total: []int{1, 1}, Features: map[string][]int{}, Alpha: 0.3}
	for len(h.Features) < 60000 { // random features do not compress
		h.Features[fmt.Sprintf("w:%x", rng.Uint64())] = []int{rng.Intn(9), rng.Intn(9)}
	}
	m := &classify.Model{Version: classify.ModelVersion, Sentiment: h, Trained: classify.TrainInfo{Corrections: 60000}}
	err := s.SaveModel(t.Context(), m, time.Now())
	if !errors.Is(err, ErrModelTooLarge) {
		t.Fatalf("SaveModel of a huge model = %v, want ErrModelTooLarge", err)
	}
	if _, err := s.LoadModel(t.Context()); !errors.Is(err, ErrNotFound) {
		t.Errorf("a refused model was stored: %v", err)
	}
}
