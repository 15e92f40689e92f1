package agentapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/httpjson"
	"github.com/pajarito-care/pajarito/shared/report"
	"github.com/pajarito-care/pajarito/shared/store"
)

// When a crisis closes, every affected customer gets one follow-up (package
// monitor), from the protocol's crisis.followup_after after the close. Until
// they start, an admin may write their text, per language, instead of the
// crisis_followup template's.

// FollowUp is where the follow-ups of a crisis stand.
type FollowUp struct {
	// StartsAt is when they start (set once the crisis closed); StartedAt
	// when they did.
	StartsAt  *time.Time `json:"starts_at,omitempty"`
	StartedAt *time.Time `json:"started_at,omitempty"`
	// Texts are the ones an admin wrote (by language), WrittenByName who.
	Texts         map[string]string `json:"texts,omitempty"`
	WrittenByName string            `json:"written_by_name,omitempty"`
	// Done is set once every affected customer was handled: how many there
	// were, how many got one, and how many were skipped, by reason.
	Done      bool           `json:"done"`
	DoneAt    *time.Time     `json:"done_at,omitempty"`
	Customers int            `json:"customers,omitempty"`
	Queued    int            `json:"queued,omitempty"`
	Skipped   map[string]int `json:"skipped,omitempty"`
}

// followUpOf reads the follow-ups of crisis c; nil when it never opened.
func (a *API) followUpOf(ctx context.Context, c care.CrisisState) (*FollowUp, error) {
	if c.Since.IsZero() {
		return nil, nil
	}
	f := &FollowUp{}
	if !c.Active && !c.ClosedAt.IsZero() {
		at := c.ClosedAt.Add(a.Engine.Config().Crisis.FollowUpAfter.Std())
		f.StartsAt = &at
	}
	t, err := a.Store.GetFollowUpText(ctx, c.Topic, c.Since)
	if err != nil {
		return nil, err
	}
	if t != nil {
		f.StartedAt, f.Texts, f.WrittenByName = t.StartedAt, t.Texts, t.ByName
	}
	job, err := a.Store.GetFollowUpJob(ctx, c.Topic, c.Since)
	if err != nil {
		return nil, err
	}
	if job != nil {
		f.Done, f.DoneAt, f.Customers, f.Queued, f.Skipped = true, &job.DoneAt, job.Customers, job.Queued, job.Skipped
	}
	return f, nil
}

// FollowUpRequest is the body of PUT /v1/crisis/{topic}/followup.
type FollowUpRequest struct {
	// Texts are the follow-up's text by language, with the templates'
	// placeholders ({first_name}, {topic}, {signature}); a language left
	// out gets the crisis_followup template's.
	Texts map[string]string `json:"texts"`
}

// setFollowUp writes the text of the follow-ups of topic's crisis (the open
// one, or the last), until they start.
func (a *API) setFollowUp(w http.ResponseWriter, r *http.Request) {
	var body FollowUpRequest
	if !decode(w, r, &body) {
		return
	}
	topic := r.PathValue("topic")
	if !a.knownTopic(w, topic) {
		return
	}
	texts := map[string]string{}
	var problems []string
	for lang, text := range body.Texts {
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		for _, p := range a.Engine.CheckFollowUpText(lang, text) {
			problems = append(problems, lang+": "+p)
		}
		texts[lang] = text
	}
	if len(texts) == 0 {
		badRequest(w, "bad_texts", "texts is required: the follow-up's text by language, e.g. {\"es\": \"Lo sentimos, {first_name}: …\"}")
		return
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		httpjson.WriteError(w, http.StatusUnprocessableEntity, "bad_followup", "the follow-up breaks the protocol: "+strings.Join(problems, "; "))
		return
	}
	ctx := r.Context()
	c, err := a.crisisOf(ctx, topic)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if c.Since.IsZero() {
		httpjson.WriteError(w, http.StatusConflict, "no_crisis", topic+" was never in crisis: its follow-ups have no crisis to follow")
		return
	}
	me := callerFrom(ctx)
	now := a.now()
	err = a.Store.SetFollowUpText(ctx, topic, c.Since, store.FollowUpText{Texts: texts, By: me.ID, ByName: me.DisplayName, At: &now})
	if errors.Is(err, store.ErrFollowUpsStarted) {
		httpjson.WriteError(w, http.StatusConflict, "followups_started", "the follow-ups of this crisis have started: they go with the text they started with")
		return
	}
	if err != nil {
		a.internal(w, r, err)
		return
	}
	view, err := a.crisisView(ctx, c)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	langs := make([]string, 0, len(texts))
	for l := range texts {
		langs = append(langs, l)
	}
	slices.Sort(langs)
	a.audit(r, "crisis follow-up written", "topic", topic, "langs", strings.Join(langs, ","))
	httpjson.Write(w, http.StatusOK, view)
}

// reportCrises reads the crises of the period [from, to) for the service
// report, each as its timeline: those open at some time of the period, from
// the archive (crises whose follow-ups are done) and the topics' states (a
// topic's latest crisis).
func (a *API) reportCrises(ctx context.Context, from, to time.Time) ([]report.Crisis, error) {
	states, err := a.Crisis.States(ctx)
	if err != nil {
		return nil, err
	}
	past, err := a.Store.PastCrises(ctx, from, to)
	if err != nil {
		return nil, err
	}
	for _, c := range states {
		states = append(states, c.Previous...)
	}
	for _, j := range past {
		states = append(states, *j.Crisis)
	}
	out := []report.Crisis{}
	var names map[string]string
	seen := map[string]bool{}
	for _, c := range states {
		id := care.CrisisThreadID(c.Topic, c.Since)
		if seen[id] || c.Since.IsZero() || !c.Since.Before(to) || !c.Active && c.ClosedAt.Before(from) {
			continue
		}
		seen[id] = true
		if names == nil {
			if names, err = a.agentNames(ctx); err != nil {
				return nil, err
			}
		}
		v, err := a.crisisView(ctx, c)
		if err != nil {
			return nil, err
		}
		out = append(out, crisisTimeline(v, names))
	}
	slices.SortFunc(out, func(x, y report.Crisis) int { return x.Events[0].At.Compare(y.Events[0].At) })
	return out, nil
}

// crisisTimeline is crisis v as the report's timeline; names are the
// agents' display names by id.
func crisisTimeline(v Crisis, names map[string]string) report.Crisis {
	who := func(id string) string {
		if n := names[id]; n != "" {
			return n
		}
		return id
	}
	rc := report.Crisis{Topic: v.Topic, Events: []report.CrisisEvent{{At: v.Since, Kind: report.EventOpened, By: who(v.OpenedBy)}}}
	if v.Statement != nil {
		for _, p := range v.Statement.Posts {
			if p.State != string(care.ReplySent) || p.SentAt == nil {
				continue
			}
			kind := report.EventUpdate
			if p.Kind == PostStatement {
				kind = report.EventStatement
			}
			rc.Events = append(rc.Events, report.CrisisEvent{At: *p.SentAt, Kind: kind, By: p.AuthorName, Text: p.Text})
		}
	}
	if !v.Active && !v.ClosedAt.IsZero() {
		rc.Events = append(rc.Events, report.CrisisEvent{At: v.ClosedAt, Kind: report.EventClosed, By: who(v.ClosedBy)})
	}
	if f := v.FollowUp; f != nil {
		if f.StartedAt != nil {
			rc.Events = append(rc.Events, report.CrisisEvent{At: *f.StartedAt, Kind: report.EventFollowUpsStarted})
		}
		if f.Done && f.DoneAt != nil {
			rc.Events = append(rc.Events, report.CrisisEvent{At: *f.DoneAt, Kind: report.EventFollowUpsDone})
			rc.FollowUps = &report.CrisisFollowUps{Customers: f.Customers, Told: f.Queued, Skipped: f.Skipped}
		}
	}
	slices.SortStableFunc(rc.Events, func(x, y report.CrisisEvent) int { return x.At.Compare(y.At) })
	return rc
}

// agentNames returns the agents' display names by id.
func (a *API) agentNames(ctx context.Context) (map[string]string, error) {
	agents, err := a.Store.ListAgents(ctx)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(agents))
	for _, p := range agents {
		names[p.ID] = p.DisplayName
	}
	return names, nil
}
