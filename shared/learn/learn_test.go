package learn_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/classify"
	"github.com/pajarito-care/pajarito/shared/learn"
	"github.com/pajarito-care/pajarito/shared/local/storetest"
	"github.com/pajarito-care/pajarito/shared/store"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// corrections stand in for the agents' stored corrections, newest first.
type corrections []classify.Correction

func (c corrections) ListCorrections(_ context.Context, limit int) ([]classify.Correction, error) {
	return c[:min(limit, len(c))], nil
}

// brandSlang: customers of this brand say "pajarazo" for something great, which
// the rules do not know.
func brandSlang(n int) corrections {
	var cs corrections
	for i := range n {
		cs = append(cs,
			classify.Correction{Text: fmt.Sprintf("el embarque de la puerta %d ha sido un pajarazo", i), Lang: "es", Sentiment: classify.Positive},
			classify.Correction{Text: fmt.Sprintf("el vuelo %d fue un desastre, horas de retraso", i), Lang: "es", Sentiment: classify.Negative},
			classify.Correction{Text: fmt.Sprintf("a qué hora sale el vuelo %d a Lima", i), Lang: "es", Sentiment: classify.Neutral})
	}
	return cs
}

const slang = "la sala vip nueva es un pajarazo"

func TestTrainerAndLabeler(t *testing.T) {
	ctx := t.Context()
	st := storetest.New(t)
	rules := classify.Default()
	if r := rules.Classify(classify.Input{Text: slang, Lang: "es"}); r.Sentiment == classify.Positive {
		t.Fatalf("precondition: the rules already read %q as positive", slang)
	}
	t0 := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	now := t0
	lab := &learn.Labeler{Rules: rules, Models: st, Now: func() time.Time { return now }}
	if r := lab.Classify(t.Context(), classify.Input{Text: slang, Lang: "es"}); r.Sentiment == classify.Positive {
		t.Fatalf("with no model yet: %s", r.Reason("sentiment"))
	}

	tr := &learn.Trainer{Corrections: corrections(nil), Models: st, Rules: rules}
	if rep, err := tr.Train(ctx, now); err != nil || rep.Trained || rep.Skipped != "no corrections yet" {
		t.Fatalf("no corrections: %+v, %v", rep, err)
	}
	tr.Corrections = brandSlang(50)
	rep, err := tr.Train(ctx, now)
	if err != nil || !rep.Trained || rep.Corrections != 150 || rep.Sentiment == nil || !rep.Sentiment.Active {
		t.Fatalf("first training: %+v, %v", rep, err)
	}
	// Within the hour nothing is retrained.
	if rep, err := tr.Train(ctx, now.Add(30*time.Minute)); err != nil || rep.Trained || !strings.Contains(rep.Skipped, "30m0s ago") {
		t.Errorf("30 minutes later: %+v, %v", rep, err)
	}

	// The labeler looked 0 minutes ago: it picks the model up at its next check.
	now = now.Add(time.Minute)
	if r := lab.Classify(t.Context(), classify.Input{Text: slang, Lang: "es"}); r.Sentiment == classify.Positive {
		t.Errorf("a minute after training, before the refresh: already %s", r.Sentiment)
	}
	now = now.Add(learn.DefaultRefreshEvery)
	r := lab.Classify(t.Context(), classify.Input{Text: slang, Lang: "es"})
	if r.Sentiment != classify.Positive || !strings.Contains(r.Reason("sentiment"), "corrections model") {
		t.Errorf("after the refresh: %s (%s)", r.Sentiment, r.Reason("sentiment"))
	}

	// An hour on, it retrains on what is there now.
	tr.Corrections = brandSlang(60)
	if rep, err := tr.Train(ctx, t0.Add(61*time.Minute)); err != nil || !rep.Trained || rep.Corrections != 180 {
		t.Errorf("an hour later: %+v, %v", rep, err)
	}
}

// tinyModels refuses models of more than 120 corrections, as DynamoDB would a
// model over its item size.
type tinyModels struct{ *store.Store }

func (m tinyModels) SaveModel(ctx context.Context, model *classify.Model, at time.Time) error {
	if model.Trained.Corrections > 120 {
		return fmt.Errorf("save: %w", store.ErrModelTooLarge)
	}
	return m.Store.SaveModel(ctx, model, at)
}

func TestTrainerHalvesATooLargeModel(t *testing.T) {
	st := storetest.New(t)
	tr := &learn.Trainer{Corrections: brandSlang(100), Models: tinyModels{st}, Rules: classify.Default()}
	rep, err := tr.Train(t.Context(), time.Now())
	if err != nil || !rep.Trained || rep.Corrections != 75 {
		t.Fatalf("Train = %+v, %v; want the newest 75 of 300 (halved twice)", rep, err)
	}
}

// The loop with the store's own corrections, as the agent API stores them: the
// monitor's trainer learns from them and the processor's labeler uses the model.
func TestLearnsFromStoredCorrections(t *testing.T) {
	ctx := t.Context()
	st := storetest.New(t)
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	for i, c := range brandSlang(40) {
		err := st.AddCorrection(ctx, store.Correction{Correction: c, CaseID: fmt.Sprintf("t18300000000%07d", i),
			MessageID: fmt.Sprintf("18300000000%08d", i), AgentID: "ana", CorrectedAt: at.Add(time.Duration(i) * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
	}
	tr := &learn.Trainer{Corrections: st, Models: st, Rules: classify.Default()}
	rep, err := tr.Train(ctx, at.Add(time.Hour))
	if err != nil || !rep.Trained || rep.Corrections != 120 || rep.Sentiment == nil || !rep.Sentiment.Active {
		t.Fatalf("Train = %+v, %v", rep, err)
	}
	lab := &learn.Labeler{Rules: classify.Default(), Models: st}
	if r := lab.Classify(t.Context(), classify.Input{Text: slang, Lang: "es"}); r.Sentiment != classify.Positive {
		t.Errorf("%q = %s (%s)", slang, r.Sentiment, r.Reason("sentiment"))
	}
}
