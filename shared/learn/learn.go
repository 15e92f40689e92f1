// Package learn closes the loop from the agents' corrections to the classifier.
//
// When an agent recategorises a message (agent API), the correction is stored. The
// monitor's Trainer retrains the corrections model from the newest corrections
// every hour and stores it; the processor's Labeler classifies with the rules
// combined with the newest stored model, checking for a new one every few
// minutes. The model takes part only where it proved better than the rules on the
// deployment's own held-out corrections (see classify.Model), so learning never
// makes the labels worse.
package learn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pajarito-care/pajarito/shared/classify"
	"github.com/pajarito-care/pajarito/shared/store"
)

// Defaults.
const (
	// DefaultMaxCorrections bounds the corrections a model learns from (the
	// newest): 4,000 keep the stored model well under DynamoDB's item limit.
	DefaultMaxCorrections = 4000
	// DefaultRetrainEvery is how often the Trainer retrains.
	DefaultRetrainEvery = time.Hour
	// DefaultRefreshEvery is how often the Labeler looks for a newer model.
	DefaultRefreshEvery = 5 * time.Minute
	// loadTimeout bounds the Labeler's model load.
	loadTimeout = 3 * time.Second
)

// Corrections lists stored corrections, newest first, at most limit.
type Corrections interface {
	ListCorrections(ctx context.Context, limit int) ([]classify.Correction, error)
}

// Models stores the trained model (store.Store implements it).
type Models interface {
	SaveModel(ctx context.Context, m *classify.Model, at time.Time) error
	LoadModel(ctx context.Context) (*store.SavedModel, error)
}

// Trainer retrains the corrections model. Corrections, Models and Rules are
// required.
type Trainer struct {
	Corrections Corrections
	Models      Models
	// Rules is the classifier the model is combined with (the deployment's).
	Rules *classify.Classifier
	// Max is the most corrections to learn from (DefaultMaxCorrections when 0);
	// Every how often to retrain (DefaultRetrainEvery when 0).
	Max   int
	Every time.Duration
	Log   *slog.Logger
}

// TrainReport says what a Train call did.
type TrainReport struct {
	Trained     bool      `json:"trained"`
	Corrections int       `json:"corrections"`
	TrainedAt   time.Time `json:"trained_at,omitzero"`
	// Sentiment and Intent are the validations of each head (nil: not enough
	// corrections of two classes yet).
	Sentiment *classify.Validation `json:"sentiment,omitempty"`
	Intent    *classify.Validation `json:"intent,omitempty"`
	// Skipped says why nothing was trained.
	Skipped string `json:"skipped,omitempty"`
}

// Train retrains the model at now unless the stored one is younger than Every.
// A model too large to store is retrained on the newer half of its corrections.
func (t *Trainer) Train(ctx context.Context, now time.Time) (TrainReport, error) {
	every, max := t.Every, t.Max
	if every <= 0 {
		every = DefaultRetrainEvery
	}
	if max <= 0 {
		max = DefaultMaxCorrections
	}
	saved, err := t.Models.LoadModel(ctx)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		// A model this build cannot read is replaced; any other error is reported.
		t.log().WarnContext(ctx, "learn: stored model unreadable, retraining", "error", err.Error())
	case now.Sub(saved.TrainedAt) < every:
		return TrainReport{Skipped: fmt.Sprintf("the model was trained %s ago (retrain every %s)", now.Sub(saved.TrainedAt).Round(time.Second), every)}, nil
	}
	cs, err := t.Corrections.ListCorrections(ctx, max)
	if err != nil {
		return TrainReport{}, fmt.Errorf("learn: list corrections: %w", err)
	}
	if len(cs) == 0 {
		return TrainReport{Skipped: "no corrections yet"}, nil
	}
	for {
		m := t.Rules.Train(cs)
		err := t.Models.SaveModel(ctx, m, now)
		if errors.Is(err, store.ErrModelTooLarge) && len(cs) > 100 {
			t.log().WarnContext(ctx, "learn: model too large, learning from the newer half", "corrections", len(cs))
			cs = cs[:len(cs)/2] // newest first
			continue
		}
		if err != nil {
			return TrainReport{}, fmt.Errorf("learn: %w", err)
		}
		rep := TrainReport{Trained: true, Corrections: m.Trained.Corrections, TrainedAt: now}
		if m.Sentiment != nil {
			rep.Sentiment = m.Sentiment.Validation
		}
		if m.Intent != nil {
			rep.Intent = m.Intent.Validation
		}
		t.log().InfoContext(ctx, "learn: model trained", "corrections", rep.Corrections,
			"sentiment", validation(rep.Sentiment), "intent", validation(rep.Intent))
		return rep, nil
	}
}

func validation(v *classify.Validation) string {
	if v == nil {
		return "waiting for corrections"
	}
	state := "off"
	if v.Active {
		state = "on"
	}
	return state + ", " + v.String()
}

func (t *Trainer) log() *slog.Logger {
	if t.Log != nil {
		return t.Log
	}
	return slog.Default()
}

// Labeler classifies with Rules combined with the newest stored model. It
// implements protocol.Labeler. Rules and Models are required.
type Labeler struct {
	Rules  *classify.Classifier
	Models Models
	// Every is how often to look for a newer model (DefaultRefreshEvery when 0).
	Every time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger

	mu      sync.Mutex
	current *classify.Classifier
	checked time.Time
	trained time.Time
}

// Classify implements protocol.Labeler. Every Every it looks for a newer model
// with ctx (the invocation's: a slow store does not outlast it); a model that
// cannot be loaded leaves the previous one (or the rules alone) in use, with an
// error logged.
func (l *Labeler) Classify(ctx context.Context, in classify.Input) classify.Result {
	return l.classifier(ctx).Classify(in)
}

func (l *Labeler) classifier(ctx context.Context) *classify.Classifier {
	now := time.Now()
	if l.Now != nil {
		now = l.Now()
	}
	every := l.Every
	if every <= 0 {
		every = DefaultRefreshEvery
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.current == nil {
		l.current = l.Rules
	}
	if !l.checked.IsZero() && now.Sub(l.checked) < every {
		return l.current
	}
	l.checked = now
	ctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	saved, err := l.Models.LoadModel(ctx)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		log := l.Log
		if log == nil {
			log = slog.Default()
		}
		log.Error("learn: corrections model not loaded; classifying with the previous one", "error", err.Error())
	case !saved.TrainedAt.Equal(l.trained):
		l.current, l.trained = l.Rules.WithModel(saved.Model), saved.TrainedAt
	}
	return l.current
}
