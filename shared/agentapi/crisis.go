package agentapi

import (
	"context"
	"net/http"
	"slices"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/httpjson"
)

// CrisisList is the body of GET /v1/crisis: every configured topic's state (a
// topic that never was in crisis is listed inactive), then the states of topics no
// longer configured.
type CrisisList struct {
	Crises []Crisis `json:"crises"`
}

// Crisis is a topic's crisis state, the statement thread of its crisis (the
// open one, or the last; none when it never opened or has no post) and its
// follow-ups (none when it never opened).
type Crisis struct {
	care.CrisisState
	Statement *Statement `json:"statement,omitempty"`
	FollowUp  *FollowUp  `json:"followup,omitempty"`
}

// crisisView reads what GET /v1/crisis shows of crisis c.
func (a *API) crisisView(ctx context.Context, c care.CrisisState) (Crisis, error) {
	st, err := a.statement(ctx, c)
	if err != nil {
		return Crisis{}, err
	}
	if st != nil && len(st.Posts) == 0 {
		st = nil
	}
	f, err := a.followUpOf(ctx, c)
	if err != nil {
		return Crisis{}, err
	}
	return Crisis{CrisisState: c, Statement: st, FollowUp: f}, nil
}

func (a *API) listCrises(w http.ResponseWriter, r *http.Request) {
	list, err := a.crises(r)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	out := CrisisList{Crises: make([]Crisis, 0, len(list))}
	for _, c := range list {
		v, err := a.crisisView(r.Context(), c)
		if err != nil {
			a.internal(w, r, err)
			return
		}
		out.Crises = append(out.Crises, v)
	}
	httpjson.Write(w, http.StatusOK, out)
}

func (a *API) crises(r *http.Request) ([]care.CrisisState, error) {
	states, err := a.Crisis.States(r.Context())
	if err != nil {
		return nil, err
	}
	byTopic := map[string]care.CrisisState{}
	for _, s := range states {
		byTopic[s.Topic] = s
	}
	topics := a.topics()
	out := make([]care.CrisisState, 0, len(topics)+len(states))
	for _, t := range topics {
		s, ok := byTopic[t]
		if !ok {
			s = care.CrisisState{Topic: t}
		}
		out = append(out, s)
	}
	for _, s := range states {
		if !slices.Contains(topics, s.Topic) {
			out = append(out, s)
		}
	}
	return out, nil
}

// CrisisRequest is the body of PUT /v1/crisis/{topic}.
type CrisisRequest struct {
	// Active opens (true) or closes (false) the topic's crisis by hand.
	Active *bool `json:"active"`
}

// CrisisResult is the body of PUT /v1/crisis/{topic}.
type CrisisResult struct {
	Crisis care.CrisisState `json:"crisis"`
	// Changed is false when the topic was already so (opened by hand, or closed).
	Changed bool `json:"changed"`
}

// setCrisis opens or closes a topic's crisis by hand. An opened crisis stays open
// until a person closes it; a closed one is left alone by detection for a while
// (the protocol's quiet_after_manual_off).
func (a *API) setCrisis(w http.ResponseWriter, r *http.Request) {
	var req CrisisRequest
	if !decode(w, r, &req) {
		return
	}
	topic := r.PathValue("topic")
	if !a.knownTopic(w, topic) {
		return
	}
	if req.Active == nil {
		badRequest(w, "bad_active", "active is required: true opens the crisis, false closes it")
		return
	}
	me := callerFrom(r.Context())
	var changed bool
	var err error
	if *req.Active {
		changed, err = a.Crisis.Open(r.Context(), topic, me.ID, a.now())
	} else {
		changed, err = a.Crisis.Close(r.Context(), topic, me.ID, a.now())
	}
	if err != nil {
		a.internal(w, r, err)
		return
	}
	st, err := a.crisisOf(r.Context(), topic)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	res := CrisisResult{Crisis: st, Changed: changed}
	a.audit(r, "crisis set by hand", "topic", topic, "active", *req.Active, "changed", changed)
	httpjson.Write(w, http.StatusOK, res)
}

// crisisOf returns topic's crisis state: its latest crisis, or a zero state
// (not active) when it was never in crisis.
func (a *API) crisisOf(ctx context.Context, topic string) (care.CrisisState, error) {
	states, err := a.Crisis.States(ctx)
	if err != nil {
		return care.CrisisState{}, err
	}
	for _, s := range states {
		if s.Topic == topic {
			return s, nil
		}
	}
	return care.CrisisState{Topic: topic}, nil
}

// knownTopic reports whether topic is one of the protocol's crisis topics,
// writing the 404 when it is not.
func (a *API) knownTopic(w http.ResponseWriter, topic string) bool {
	if slices.Contains(a.topics(), topic) {
		return true
	}
	httpjson.WriteError(w, http.StatusNotFound, "unknown_topic", "no crisis topic "+topic+"; the protocol's are: "+orNone(a.topics()))
	return false
}
