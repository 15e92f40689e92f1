package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/pajarito-care/pajarito/shared/emf"
	"github.com/pajarito-care/pajarito/shared/metrics"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/store"
)

// The service metrics' daily roll-ups (issue 7).
//
// Days are the brand's calendar days (the protocol's time zone). Each run reads
// the stored totals of the days not final yet (store.ListRollups of
// metrics.AllDimension: one Query of a few small items) and computes the days that
// are due, at most MaxDays of them, in this order:
//
//  1. a day that is over but was never rolled up since it ended ("closed"),
//     newest first, so that yesterday comes first;
//  2. a day over for longer than Settle whose roll-up predates that ("final"):
//     computed once more to count the resolutions, reopenings and survey answers
//     that came after the day, and then kept;
//  3. today, when its roll-up is older than TodayEvery ("today", so far).
//
// Computing a day loads its cases (metrics.Load: the day index, each case and its
// replies), computes its totals and its groups by each dimension of
// metrics.RolledUp, and stores one roll-up per dimension, the totals last. Each
// put is conditional (store.PutRollup): on the stored roll-up being older than
// the point that made the day due (the day's end, its end plus Settle, or now
// minus TodayEvery), so that of two runs computing the same day one writes. The
// run whose totals of a closed day are the first since the day ended emits the
// day's key figures as one EMF line without dimensions, timestamped at the day's
// local noon (so that a daily period in UTC holds it in the right day):
// FirstResponseSecondsP90 and ResolutionSecondsMedian (Seconds), CSATAverage,
// ReopenRate and AutomaticReplyShare (None); a figure with nothing to measure is
// left out. Days further back than Settle and a day are not looked at: should
// the monitor stop for longer, the days it missed stay without roll-ups, and GET
// /v1/metrics lists them as missing.

// Defaults of Rollups.
const (
	DefaultRollupSettle     = 8 * 24 * time.Hour
	DefaultRollupTodayEvery = time.Hour
	DefaultRollupMaxDays    = 1
)

// Kinds of roll-up computation, as RolledDay.Kind says.
const (
	RollupClosed = "closed"
	RollupFinal  = "final"
	RollupToday  = "today"
)

// RollupStore is what the roll-up step reads and writes (*store.Store
// implements it).
type RollupStore interface {
	metrics.Source
	PutRollup(ctx context.Context, r store.Rollup, computedBefore time.Time) (bool, error)
	ListRollups(ctx context.Context, dimension, fromDay, toDay string, bodies bool) ([]store.Rollup, error)
}

// Rollups computes and stores the daily roll-ups of the service metrics. Store
// and Protocol are required; the other fields have defaults.
type Rollups struct {
	Store RollupStore
	// Protocol gives the time zone, the business hours and the first-response
	// due times.
	Protocol *protocol.Engine
	// Settle is how long after its end a day is computed once more, for good
	// (0 means DefaultRollupSettle: the reopen window and a day).
	Settle time.Duration
	// TodayEvery is how often today's metrics so far are computed again (0
	// means DefaultRollupTodayEvery).
	TodayEvery time.Duration
	// MaxDays bounds the days computed per run (0 means DefaultRollupMaxDays):
	// at 30,000 cases a day, computing one takes about 10 s.
	MaxDays int
	// Workers is how many cases are read at once (0 means
	// metrics.DefaultWorkers).
	Workers int
}

// RollupReport is what a run's roll-up step did.
type RollupReport struct {
	// Days are the days computed, in the order computed.
	Days []RolledDay `json:"days"`
}

// RolledDay is one day's computation.
type RolledDay struct {
	Day   string `json:"day"`
	Kind  string `json:"kind"`
	Cases int    `json:"cases"`
	// Written is false when another run had stored a newer roll-up.
	Written bool `json:"written"`
	// Emitted is true when this computation emitted the day's figures (a day
	// with nothing to measure has none).
	Emitted bool `json:"emitted,omitempty"`
}

func (r *Rollups) settle() time.Duration {
	if r.Settle > 0 {
		return r.Settle
	}
	return DefaultRollupSettle
}

func (r *Rollups) todayEvery() time.Duration {
	if r.TodayEvery > 0 {
		return r.TodayEvery
	}
	return DefaultRollupTodayEvery
}

// window is how many days before today are looked at: every day not final yet.
func (r *Rollups) window() int {
	return int((r.settle()+24*time.Hour-1)/(24*time.Hour)) + 1
}

// dueDay is a day to compute.
type dueDay struct {
	day        string
	start, end time.Time
	kind       string
	// before is the condition of the puts: the stored roll-up was computed
	// before it; emit says whether the totals' write emits the figures.
	before time.Time
	emit   bool
	final  bool
}

// rollUp runs the roll-up step.
func (m *Monitor) rollUp(ctx context.Context, now time.Time, log *slog.Logger) (*RollupReport, error) {
	r := m.Rollups
	rep := &RollupReport{Days: []RolledDay{}}
	due, err := r.due(ctx, now)
	if err != nil {
		return rep, fmt.Errorf("monitor: roll-ups: %w", err)
	}
	limit := r.MaxDays
	if limit <= 0 {
		limit = DefaultRollupMaxDays
	}
	for _, d := range due[:min(limit, len(due))] {
		rd, sum, err := r.compute(ctx, d, now)
		if err != nil {
			return rep, fmt.Errorf("monitor: roll-up of %s: %w", d.day, err)
		}
		if figs := dayFigures(&sum.Total); rd.Written && d.emit && len(figs) > 0 {
			rd.Emitted = true
			m.emit(log, noon(d.start), nil, figs...)
		}
		rep.Days = append(rep.Days, rd)
		log.InfoContext(ctx, "monitor: roll-up", "day", rd.Day, "kind", rd.Kind, "cases", rd.Cases, "written", rd.Written, "emitted", rd.Emitted)
	}
	return rep, nil
}

// due returns the days to compute, in order.
func (r *Rollups) due(ctx context.Context, now time.Time) ([]dueDay, error) {
	loc := r.Protocol.Hours().Location()
	y, mo, d := now.In(loc).Date()
	day := func(i int) time.Time { return time.Date(y, mo, d+i, 0, 0, 0, 0, loc) }
	today, first := day(0), day(-r.window())
	stored, err := r.Store.ListRollups(ctx, metrics.AllDimension, first.Format(time.DateOnly), today.Format(time.DateOnly), false)
	if err != nil {
		return nil, err
	}
	computed := map[string]time.Time{}
	for _, s := range stored {
		computed[s.Day] = s.ComputedAt
	}
	// stale reports whether day was not computed since t.
	stale := func(day string, t time.Time) bool {
		at, ok := computed[day]
		return !ok || at.Before(t)
	}
	var closed, final, current []dueDay
	for i := -r.window(); i <= 0; i++ {
		start, end := day(i), day(i+1)
		dd := dueDay{day: start.Format(time.DateOnly), start: start, end: end}
		settled := end.Add(r.settle())
		switch {
		case start.Equal(today):
			if dd.before = now.Add(-r.todayEvery()); stale(dd.day, dd.before) {
				dd.kind = RollupToday
				current = append(current, dd)
			}
		case stale(dd.day, end):
			dd.kind, dd.before, dd.emit = RollupClosed, end, true
			if !now.Before(settled) {
				dd.before, dd.final = settled, true
			}
			closed = append(closed, dd)
		case !now.Before(settled) && stale(dd.day, settled):
			dd.kind, dd.before, dd.final = RollupFinal, settled, true
			final = append(final, dd)
		}
	}
	slices.Reverse(closed) // newest first
	// Yesterday first (its figures are emitted), then today (what the team looks
	// at), then older days catching up (a new deployment, a monitor that was down).
	n := 0
	if len(closed) > 0 && closed[0].start.Equal(day(-1)) {
		n = 1
	}
	return slices.Concat(closed[:n], current, closed[n:], final), nil
}

// compute loads, computes and stores one day.
func (r *Rollups) compute(ctx context.Context, d dueDay, now time.Time) (RolledDay, metrics.Summary, error) {
	rd := RolledDay{Day: d.day, Kind: d.kind}
	facts, err := metrics.Load(ctx, r.Store, d.start, d.end, r.Workers)
	if err != nil {
		return rd, metrics.Summary{}, err
	}
	eng := r.Protocol
	opt := metrics.Options{
		Location:         eng.Hours().Location(),
		Now:              now,
		BusinessDuration: eng.Hours().OpenDuration,
		FirstResponseDue: eng.FirstResponseDue,
	}
	rd.Cases = len(facts)
	put := func(dimension string, groups map[string]*metrics.Aggregate) (bool, error) {
		body, err := metrics.EncodeGroups(groups)
		if err != nil {
			return false, err
		}
		return r.Store.PutRollup(ctx, store.Rollup{
			Day: d.day, Dimension: dimension, ComputedAt: now, Final: d.final, Cases: len(facts), Body: body,
		}, d.before)
	}
	var errs []error
	for _, dim := range metrics.RolledUp {
		if _, err := put(string(dim), metrics.Compute(facts, dim, opt).Groups); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return rd, metrics.Summary{}, err // the totals are not written: the day stays due
	}
	sum := metrics.Compute(facts, metrics.None, opt)
	if rd.Written, err = put(metrics.AllDimension, map[string]*metrics.Aggregate{"": &sum.Total}); err != nil {
		return rd, metrics.Summary{}, err
	}
	return rd, sum, nil
}

// noon is the local noon of the day starting at start.
func noon(start time.Time) time.Time {
	y, m, d := start.Date()
	return time.Date(y, m, d, 12, 0, 0, 0, start.Location())
}

// dayFigures are the key figures of a day's totals, those with something to
// measure.
func dayFigures(total *metrics.Aggregate) []emf.Metric {
	mt := total.Metrics("")
	var out []emf.Metric
	for _, f := range []struct {
		name  string
		unit  emf.Unit
		value *float64
	}{
		{"FirstResponseSecondsP90", emf.Seconds, mt.FirstResponse.P90},
		{"ResolutionSecondsMedian", emf.Seconds, mt.Resolution.Median},
		{"CSATAverage", emf.None, mt.CSATAverage},
		{"ReopenRate", emf.None, mt.ReopenRate},
		{"AutomaticReplyShare", emf.None, mt.AutomaticShare},
	} {
		if f.value != nil {
			out = append(out, emf.Metric{Name: f.name, Unit: f.unit, Value: *f.value})
		}
	}
	return out
}
