package protocol

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
)

// Crisis detection.
//
// Every inbound complaint or incident that mentions a crisis topic's keywords is
// counted, at the message's time, into per-minute and per-hour counters of the topic
// (single-item ADD writes: concurrent processors add up, nothing is lost or dropped).
// The sliding window is the last Window minutes, including the current one (one
// Query of the minute counters); the baseline is the Baseline period of whole hours
// before the current hour (one Query of the hour counters), scaled to a window. A
// topic opens when its window holds at least MinCount and Factor times the
// baseline's expectation (the threshold). Opening is a conditional write on the
// topic's state, so that of all the processors that see the spike exactly one opens
// it and sends the alert. It closes, with one alert too, once it has been open for
// MinDuration and its window has fallen below CloseRatio of the threshold that
// opened it (hysteresis: a rate hovering around the threshold does not flap).
//
// People may open a crisis by hand (it then stays open until a person closes it)
// and close one (automatic detection then leaves the topic alone for
// QuietAfterManualOff).
//
// While a topic is in crisis, related messages get the crisis template instead of
// an individual acknowledgement, up to MaxRepliesPerWindow per topic and window
// (X allows the account 100 posts per 15 minutes, shared with every other reply:
// hundreds of identical replies would also read as spam); beyond it related cases
// wait for an agent. Every message still becomes a case and gets a decision.

// CrisisStore keeps crisis counters and states (store.Store implements it).
type CrisisStore interface {
	// AddCrisisCount adds n to the topic's counters of the minute and the hour of at.
	AddCrisisCount(ctx context.Context, topic string, at time.Time, n int64) error
	// CrisisMinuteCount sums the topic's minute counters of the minutes starting in
	// [from, to).
	CrisisMinuteCount(ctx context.Context, topic string, from, to time.Time) (int64, error)
	// CrisisHourCount sums the topic's hour counters of the hours starting in
	// [from, to).
	CrisisHourCount(ctx context.Context, topic string, from, to time.Time) (int64, error)
	// ListCrises returns the state of every topic that has one.
	ListCrises(ctx context.Context) ([]care.CrisisState, error)
	// OpenCrisis stores st (Active) unless the topic is in crisis already
	// (automatic openings also wait for its QuietUntil; a manual one turns an
	// automatic crisis into a manual one). It reports whether this call opened it.
	OpenCrisis(ctx context.Context, st care.CrisisState) (bool, error)
	// CloseCrisis closes the topic's crisis that opened at since (any, when since is
	// zero); an automatic close (manual false) leaves a manual crisis open. It
	// reports whether this call closed it.
	CloseCrisis(ctx context.Context, topic string, since time.Time, manual bool, closed care.CrisisState) (bool, error)
	// PutAudit keeps an entry of the audit trail: the crises detection
	// opens and closes by itself (a person's are kept by the agent API).
	PutAudit(ctx context.Context, e care.AuditEntry) (care.AuditEntry, error)
	// ClaimCrisisReply takes one of the max automatic crisis replies of the topic's
	// window starting at windowStart; false when they are all taken.
	ClaimCrisisReply(ctx context.Context, topic string, windowStart time.Time, max int) (bool, error)
}

// Monitor detects crises. Build it with Engine.Monitor.
type Monitor struct {
	store    CrisisStore
	notifier care.Notifier
	cfg      CrisisConfig
	topics   []string
	log      *slog.Logger
}

// Monitor returns the crisis monitor of the engine's topics, keeping its counters
// and states in st and alerting through n (nil: care.LogNotifier with log).
func (e *Engine) Monitor(st CrisisStore, n care.Notifier, log *slog.Logger) *Monitor {
	if log == nil {
		log = slog.Default()
	}
	if n == nil {
		n = care.LogNotifier{Log: log}
	}
	m := &Monitor{store: st, notifier: n, cfg: e.cp.cfg.Crisis, log: log}
	for _, t := range e.cp.cfg.Crisis.Topics {
		m.topics = append(m.topics, t.Name)
	}
	return m
}

// ErrUnknownTopic is returned (wrapped) for a topic the configuration does not have.
var ErrUnknownTopic = errors.New("unknown crisis topic")

func (m *Monitor) windowCount(ctx context.Context, topic string, now time.Time) (int64, error) {
	end := now.UTC().Truncate(time.Minute).Add(time.Minute)
	return m.store.CrisisMinuteCount(ctx, topic, end.Add(-m.cfg.Window.Std()), end)
}

// baseline returns the count a window is expected to hold, from the baseline period
// of whole hours before the current one.
func (m *Monitor) baseline(ctx context.Context, topic string, now time.Time) (float64, error) {
	hour := now.UTC().Truncate(time.Hour)
	total, err := m.store.CrisisHourCount(ctx, topic, hour.Add(-m.cfg.Baseline.Std()), hour)
	if err != nil {
		return 0, err
	}
	return float64(total) * float64(m.cfg.Window.Std()) / float64(m.cfg.Baseline.Std()), nil
}

// Observe counts a message that mentions topics (those of Engine.CrisisTopics;
// none is fine) at its time at, evaluated at now: it opens the topics whose
// complaints spike and closes the automatic crises that calmed down. It returns the
// active crises, for Decide.
func (m *Monitor) Observe(ctx context.Context, now, at time.Time, topics []string) ([]care.CrisisState, error) {
	if at.After(now) || at.IsZero() {
		at = now
	}
	for _, t := range topics {
		if err := m.store.AddCrisisCount(ctx, t, at, 1); err != nil {
			return nil, err
		}
	}
	states, err := m.store.ListCrises(ctx)
	if err != nil {
		return nil, err
	}
	byTopic := map[string]care.CrisisState{}
	for _, s := range states {
		byTopic[s.Topic] = s
	}
	changed := false
	for _, t := range topics {
		if s, ok := byTopic[t]; ok && s.Active {
			continue
		}
		opened, lost, err := m.evaluateOpen(ctx, t, now, byTopic[t])
		if err != nil {
			return nil, err
		}
		changed = changed || opened || lost
	}
	for _, s := range states {
		if !s.Active || s.Manual {
			continue
		}
		closed, err := m.evaluateClose(ctx, s, now)
		if err != nil {
			return nil, err
		}
		changed = changed || closed
	}
	if changed {
		if states, err = m.store.ListCrises(ctx); err != nil {
			return nil, err
		}
	}
	return active(states), nil
}

// Sweep closes the automatic crises that calmed down (to run on a schedule, so that
// a crisis closes even when no related message arrives) and returns the active ones.
func (m *Monitor) Sweep(ctx context.Context, now time.Time) ([]care.CrisisState, error) {
	return m.Observe(ctx, now, now, nil)
}

// States returns every topic's state (topics never in crisis are left out).
func (m *Monitor) States(ctx context.Context) ([]care.CrisisState, error) {
	return m.store.ListCrises(ctx)
}

func active(states []care.CrisisState) []care.CrisisState {
	var out []care.CrisisState
	for _, s := range states {
		if s.Active {
			out = append(out, s)
		}
	}
	return out
}

// evaluateOpen opens topic when its window spikes; lost reports that another
// writer opened it first.
func (m *Monitor) evaluateOpen(ctx context.Context, topic string, now time.Time, prev care.CrisisState) (opened, lost bool, err error) {
	if now.Before(prev.QuietUntil) {
		return false, false, nil
	}
	window, err := m.windowCount(ctx, topic, now)
	if err != nil || window < int64(m.cfg.MinCount) {
		return false, false, err
	}
	expected, err := m.baseline(ctx, topic, now)
	if err != nil {
		return false, false, err
	}
	threshold := max(int64(m.cfg.MinCount), int64(math.Ceil(m.cfg.Factor*expected)))
	if window < threshold {
		return false, false, nil
	}
	st := care.CrisisState{
		Topic: topic, Active: true, Since: now.UTC(), OpenedBy: "auto",
		WindowCount: window, Baseline: expected, Threshold: threshold,
		Reason: fmt.Sprintf("%d complaints about %s in the last %s, against %.1f expected from the previous %s (threshold %d: at least %d and %.3g× the baseline)",
			window, topic, m.cfg.Window, expected, m.cfg.Baseline, threshold, m.cfg.MinCount, m.cfg.Factor),
		UpdatedAt: now.UTC(),
	}
	ok, err := m.store.OpenCrisis(ctx, st)
	if err != nil {
		return false, false, err
	}
	if !ok {
		return false, true, nil
	}
	m.alert(ctx, care.Alert{Kind: care.AlertCrisisOpened, Topic: topic, At: now.UTC(), Summary: "crisis opened: " + st.Reason, Crisis: &st})
	m.audit(ctx, "crisis_opened", st)
	return true, false, nil
}

// evaluateClose closes an automatic crisis whose window fell below CloseRatio of
// its threshold, once it has been open MinDuration.
func (m *Monitor) evaluateClose(ctx context.Context, s care.CrisisState, now time.Time) (bool, error) {
	if now.Sub(s.Since) < m.cfg.MinDuration.Std() {
		return false, nil
	}
	window, err := m.windowCount(ctx, s.Topic, now)
	if err != nil {
		return false, err
	}
	below := int64(math.Ceil(m.cfg.CloseRatio * float64(max(s.Threshold, 1))))
	if window >= below {
		return false, nil
	}
	closed := s
	closed.Active, closed.ClosedAt, closed.ClosedBy, closed.UpdatedAt = false, now.UTC(), "auto", now.UTC()
	closed.Reason = fmt.Sprintf("%d complaints about %s in the last %s, below %d (%.0f%% of the threshold %d that opened it)", window, s.Topic, m.cfg.Window, below, 100*m.cfg.CloseRatio, s.Threshold)
	ok, err := m.store.CloseCrisis(ctx, s.Topic, s.Since, false, closed)
	if err != nil || !ok {
		return false, err
	}
	m.alert(ctx, care.Alert{Kind: care.AlertCrisisClosed, Topic: s.Topic, At: now.UTC(), Summary: "crisis closed: " + closed.Reason, Crisis: &closed})
	m.audit(ctx, "crisis_closed", closed)
	return true, nil
}

// ClaimReply takes one of the automatic crisis replies of topic's current window
// (fixed windows of Window, see CrisisConfig.MaxRepliesPerWindow): false when the
// window's replies are all taken and the case must wait for an agent.
func (m *Monitor) ClaimReply(ctx context.Context, topic string, now time.Time) (bool, error) {
	start := now.UTC().Truncate(m.cfg.Window.Std())
	return m.store.ClaimCrisisReply(ctx, topic, start, m.cfg.MaxRepliesPerWindow)
}

// Open opens topic's crisis by hand (by: the agent). It stays open until Close. It
// reports whether this call opened it (false: it was open by hand already).
func (m *Monitor) Open(ctx context.Context, topic, by string, now time.Time) (bool, error) {
	if !slices.Contains(m.topics, topic) {
		return false, fmt.Errorf("protocol: open crisis %q: %w (topics: %v)", topic, ErrUnknownTopic, m.topics)
	}
	st := care.CrisisState{
		Topic: topic, Active: true, Manual: true, Since: now.UTC(), OpenedBy: by, UpdatedAt: now.UTC(),
		Reason: "opened by " + by,
	}
	ok, err := m.store.OpenCrisis(ctx, st)
	if err != nil || !ok {
		return false, err
	}
	m.alert(ctx, care.Alert{Kind: care.AlertCrisisOpened, Topic: topic, At: now.UTC(), Summary: "crisis opened by hand: " + topic + " (" + by + ")", Crisis: &st})
	return true, nil
}

// Close closes topic's crisis by hand, automatic or manual; detection leaves the
// topic alone for QuietAfterManualOff. It reports whether this call closed it.
func (m *Monitor) Close(ctx context.Context, topic, by string, now time.Time) (bool, error) {
	if !slices.Contains(m.topics, topic) {
		return false, fmt.Errorf("protocol: close crisis %q: %w (topics: %v)", topic, ErrUnknownTopic, m.topics)
	}
	st := care.CrisisState{
		Topic: topic, Active: false, ClosedAt: now.UTC(), ClosedBy: by, UpdatedAt: now.UTC(),
		QuietUntil: now.UTC().Add(m.cfg.QuietAfterManualOff.Std()), Reason: "closed by " + by,
	}
	ok, err := m.store.CloseCrisis(ctx, topic, time.Time{}, true, st)
	if err != nil || !ok {
		return false, err
	}
	m.alert(ctx, care.Alert{Kind: care.AlertCrisisClosed, Topic: topic, At: now.UTC(), Summary: "crisis closed by hand: " + topic + " (" + by + ")", Crisis: &st})
	return true, nil
}

// audit keeps what detection did by itself to st's crisis in the team's audit
// trail, as the system's; a trail that cannot be written is an error in the
// log, with what it would have kept (the crisis is stored).
func (m *Monitor) audit(ctx context.Context, action string, st care.CrisisState) {
	at := st.Since
	if action == "crisis_closed" {
		at = st.ClosedAt
	}
	e := care.AuditEntry{Actor: care.AuditSystem, ActorName: "Pajarito", Role: care.AuditSystem, Action: action, At: at,
		// One entry per crisis and action, however often it is written.
		ID:     action + "-" + st.Topic + "-" + strconv.FormatInt(st.Since.UnixNano(), 10),
		Detail: map[string]string{"topic": st.Topic, "reason": st.Reason, "window_count": strconv.FormatInt(st.WindowCount, 10), "threshold": strconv.FormatInt(st.Threshold, 10)}}
	if _, err := m.store.PutAudit(ctx, e); err != nil {
		m.log.ErrorContext(ctx, "protocol: the audit trail could not keep a crisis", "action", action, "topic", st.Topic, "reason", st.Reason, "error", err)
	}
}

// alert notifies; a failed notification is logged, not returned (the state is
// stored: the alert is the side effect).
func (m *Monitor) alert(ctx context.Context, a care.Alert) {
	if err := m.notifier.Notify(ctx, a); err != nil {
		m.log.ErrorContext(ctx, "protocol: alert not delivered", "alert", a.Kind, "topic", a.Topic, "error", err)
	}
}
