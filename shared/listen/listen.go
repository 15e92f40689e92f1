// Package listen is the scheduled listener: every poll interval it reads what is new
// on each configured source — the brand's mentions timeline and keyword searches —
// and puts it on the inbound queue, where it becomes cases exactly like webhook
// messages (the processor deduplicates a post found by both routes), within the
// monthly X read budget the team sets.
//
// # One run
//
// Run plans the budget (NewPlan, from the month's spend read back from the store),
// then reads each enabled source in priority order:
//
//  1. A source is skipped when the plan says so (a keyword search slowed by the
//     budget, on a run it is not polled) or when its X endpoint is in a rate-limit
//     backoff recorded by an earlier run.
//  2. It reads pages from the source's checkpoint: a page sequence left in progress
//     by an earlier run (resumed with its next_token and the since_id it started
//     from), else everything after the checkpoint's since_id, else, on a new
//     source's first run, from now minus the configured look-back.
//  3. For each page: the reads and their estimated cost are added to the month's
//     spend; the page's envelopes are enqueued; only then is the checkpoint moved:
//     the sequence's place (next_token) after each page, and since_id, to the
//     newest post id of the whole sequence, once the last page has been enqueued.
//     A run cut short at any point leaves the checkpoint on the last page enqueued:
//     the next run re-reads at most that one page (the processor deduplicates) and
//     skips nothing.
//  4. It stops at the source's max_pages (the next run continues the sequence), at
//     its budget allowance (a slowed keyword search: the sequence is closed at its
//     newest post and older ones are skipped, said in the report), on a 429 or a
//     page leaving no requests (a backoff until X's reset is stored; the place is
//     kept), or on an error (the source fails; the others go on).
//
// Each source's result is logged as one JSON line (slog), the run as a summary
// line, and each source's metrics as a CloudWatch Embedded Metric Format line
// (namespace Pajarito, dimension Source: PostsRead, Enqueued, EstimatedCostUSD,
// BudgetSlowed) on Metrics.
//
// Overlapping runs (a slow run still going when the schedule fires again) are safe:
// the checkpoint's writes are conditional (see store.Checkpoint); a run that finds
// the checkpoint moved by another leaves the source to it.
package listen

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/emf"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

// Queue puts envelopes on the inbound queue; Enqueue returns nil only when all of
// them are queued. *queue.Sender implements it.
type Queue interface {
	Enqueue(ctx context.Context, envs []care.Envelope) error
}

// Store keeps the listener's state; *store.Store implements it.
type Store interface {
	GetCheckpoint(ctx context.Context, source string) (*store.Checkpoint, error)
	SaveProgress(ctx context.Context, cp *store.Checkpoint, p store.Pagination) (*store.Checkpoint, error)
	CompleteCheckpoint(ctx context.Context, source string, p store.Pagination) (*store.Checkpoint, error)
	AddSpend(ctx context.Context, at time.Time, d store.SourceSpend) error
	GetSpend(ctx context.Context, month string) (*store.MonthSpend, error)
	SetBackoff(ctx context.Context, b store.Backoff) error
	GetBackoff(ctx context.Context, endpoint string) (*store.Backoff, error)
}

// Listener reads the configured sources into the inbound queue. Set Reader, Store,
// Queue and Config; the others have defaults.
type Listener struct {
	Reader xapi.Reader
	Store  Store
	Queue  Queue
	// Config gives the brand (whose mentions are read), the sources, the poll
	// interval, the look-back and the budget.
	Config *config.Config
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives one line per source and a summary per run; nil means
	// slog.Default().
	Log *slog.Logger
	// Metrics receives the Embedded Metric Format lines; nil means os.Stdout (in
	// Lambda, the function's log stream, where CloudWatch extracts them).
	Metrics io.Writer
}

// Endpoint names the rate-limited X endpoint a source of kind k reads: "mentions"
// (GET /2/users/{id}/mentions) or "search" (GET /2/tweets/search/recent). Their
// limits are separate, so a 429 on one does not stop the other.
func Endpoint(k config.SourceKind) string { return string(k) }

// DefaultBackoff is how long an endpoint is left alone after a 429 that carries no
// reset time: X's rate-limit windows are 15 minutes.
const DefaultBackoff = 15 * time.Minute

// StaleProgress is the age beyond which a page sequence left in progress is not
// resumed but read again from the checkpoint: X's pagination tokens are not meant
// to be kept for long.
const StaleProgress = 24 * time.Hour

// searchReach is how far back recent search reads, less a margin for the request's
// own latency.
const searchReach = 7*24*time.Hour - 5*time.Minute

// Report is what a run did.
type Report struct {
	RunID   string    `json:"run_id"`
	Started time.Time `json:"started"`
	Plan    Plan      `json:"-"`
	// Sources are the enabled sources' reports, in run order.
	Sources []SourceReport `json:"sources"`
	// Totals of the run.
	Pages        int     `json:"pages"`
	Read         int     `json:"read"`
	Enqueued     int     `json:"enqueued"`
	EstimatedUSD float64 `json:"estimated_usd"`
}

// SourceReport is what a run did with one source.
type SourceReport struct {
	Source string            `json:"source"`
	Kind   config.SourceKind `json:"kind"`
	// Pages, Read (posts X returned, billed) and Enqueued count this run's work;
	// Dropped counts the posts not enqueued, by reason (the brand's own posts,
	// retweets).
	Pages        int            `json:"pages"`
	Read         int            `json:"read"`
	Enqueued     int            `json:"enqueued"`
	Dropped      map[string]int `json:"dropped,omitempty"`
	EstimatedUSD float64        `json:"estimated_usd"`
	// Skipped says why the source was not read this run; "" when it was.
	Skipped string `json:"skipped,omitempty"`
	// Slowed says how the budget slowed the source; "" when it did not.
	Slowed string `json:"slowed,omitempty"`
	// Truncated is true when the budget closed the page sequence before its end:
	// the posts older than the ones read were skipped.
	Truncated bool `json:"truncated,omitempty"`
	// Resumed is true when the run continued a sequence left by an earlier run.
	Resumed bool `json:"resumed,omitempty"`
	// Pending is true when pages are left in the sequence for the next run.
	Pending bool `json:"pending,omitempty"`
	// RateLimitedUntil is set when X's rate limit stopped the source.
	RateLimitedUntil time.Time `json:"rate_limited_until,omitzero"`
	// Overlap is true when another run was reading the source and it was left to it.
	Overlap bool `json:"overlap,omitempty"`
	// SinceID is the source's checkpoint after the run.
	SinceID string `json:"since_id,omitempty"`
	// Error says why the source failed; "" when it did not.
	Error string `json:"error,omitempty"`
}

// Err returns the failed sources' errors joined; nil when none failed. Rate limits
// and budget decisions are not failures.
func (r *Report) Err() error {
	var errs []error
	for _, s := range r.Sources {
		if s.Error != "" {
			errs = append(errs, fmt.Errorf("listen: source %s: %s", s.Source, s.Error))
		}
	}
	return errors.Join(errs...)
}

func (l *Listener) now() time.Time {
	if l.Now != nil {
		return l.Now().UTC()
	}
	return time.Now().UTC()
}

func (l *Listener) log() *slog.Logger {
	if l.Log != nil {
		return l.Log
	}
	return slog.Default()
}

// Run does one scheduled run. It returns an error, and reads nothing, when the
// listener is not set up or the month's spend cannot be read (the budget cannot be
// planned); a source that fails is reported in the Report (see Report.Err) and the
// other sources are still read.
func (l *Listener) Run(ctx context.Context) (Report, error) {
	if l.Reader == nil || l.Store == nil || l.Queue == nil || l.Config == nil {
		return Report{}, errors.New("listen: Listener needs Reader, Store, Queue and Config")
	}
	cfg := l.Config
	now := l.now()
	rep := Report{RunID: rand.Text()[:12], Started: now}
	spend, err := l.Store.GetSpend(ctx, store.SpendMonth(now))
	if err != nil {
		return rep, fmt.Errorf("listen: plan the budget: %w", err)
	}
	spent, last := map[string]float64{}, map[string]time.Time{}
	for name, s := range spend.Sources {
		if s.Kind == store.SpendKindReply {
			continue // x_budget is the read budget; what replies cost is reported apart
		}
		spent[name], last[name] = s.USD, s.UpdatedAt
	}
	sources := cfg.ListenSources()
	rep.Plan = NewPlan(PlanInput{
		Now: now, PollInterval: cfg.PollInterval.Std(), MonthlyUSD: cfg.XBudget.MonthlyUSD,
		Prices: cfg.XBudget.PricePerPostUSD, Sources: sources, SpentUSD: spent, LastRead: last,
	})
	log := l.log().With("run_id", rep.RunID)
	switch {
	case rep.Plan.Exhausted:
		log.Error("listen: X read budget exhausted: mentions are still read, keyword searches are stopped; raise x_budget.monthly_usd (or PAJARITO_X_BUDGET_USD)",
			"month", rep.Plan.Month, "spent_usd", round6(rep.Plan.SpentUSD), "budget_usd", rep.Plan.MonthlyUSD, "plan", rep.Plan.Explain())
	case rep.Plan.Slowed():
		log.Warn("listen: X read budget: keyword searches slowed", "month", rep.Plan.Month, "spent_usd", round6(rep.Plan.SpentUSD), "budget_usd", rep.Plan.MonthlyUSD, "plan", rep.Plan.Explain())
	default:
		log.Debug("listen: X read budget", "plan", rep.Plan.Explain())
	}

	backoffs := map[string]*store.Backoff{}
	for _, src := range sources {
		a, _ := rep.Plan.Allowance(src.Name)
		sr := l.runSource(ctx, log, rep.RunID, now, src, a, backoffs)
		rep.Sources = append(rep.Sources, sr)
		rep.Pages += sr.Pages
		rep.Read += sr.Read
		rep.Enqueued += sr.Enqueued
		rep.EstimatedUSD += sr.EstimatedUSD
		l.logSource(log, sr, a)
		l.emitMetrics(now, sr, a)
	}
	failed := 0
	for _, s := range rep.Sources {
		if s.Error != "" {
			failed++
		}
	}
	level := slog.LevelInfo
	if failed > 0 {
		level = slog.LevelError
	}
	log.Log(ctx, level, "listen: run", "sources", len(rep.Sources), "failed", failed, "pages", rep.Pages, "read", rep.Read,
		"enqueued", rep.Enqueued, "estimated_usd", round6(rep.EstimatedUSD),
		"month_spent_usd", round6(rep.Plan.SpentUSD+rep.EstimatedUSD), "budget_usd", rep.Plan.MonthlyUSD,
		"duration_ms", l.now().Sub(now).Milliseconds())
	return rep, nil
}

// runSource reads one source within its allowance a.
func (l *Listener) runSource(ctx context.Context, log *slog.Logger, runID string, now time.Time, src config.Source, a Allowance, backoffs map[string]*store.Backoff) SourceReport {
	rep := SourceReport{Source: src.Name, Kind: src.Kind}
	fail := func(format string, args ...any) SourceReport {
		rep.Error = fmt.Sprintf(format, args...)
		return rep
	}
	if a.Slowed {
		rep.Slowed = a.Reason
	}
	if !a.Read {
		rep.Skipped = a.Reason
		return rep
	}
	endpoint := Endpoint(src.Kind)
	b, ok := backoffs[endpoint]
	if !ok {
		var err error
		if b, err = l.Store.GetBackoff(ctx, endpoint); err != nil {
			return fail("%v", err)
		}
		backoffs[endpoint] = b
	}
	if b.Active(now) {
		rep.Skipped = fmt.Sprintf("X rate limit of %s: backing off until %s (%s)", endpoint, b.Until.Format(time.RFC3339), b.Reason)
		rep.RateLimitedUntil = b.Until
		return rep
	}
	backoff := func(until time.Time, rl xapi.RateLimit, reason string) error {
		if !until.After(now) {
			until = now.Add(time.Minute)
		}
		nb := &store.Backoff{Endpoint: endpoint, Until: until, Limit: rl.Limit, Remaining: rl.Remaining, Reason: reason}
		backoffs[endpoint] = nb
		rep.RateLimitedUntil = until
		return l.Store.SetBackoff(ctx, *nb)
	}

	cp, err := l.Store.GetCheckpoint(ctx, src.Name)
	if err != nil {
		return fail("%v", err)
	}
	rep.SinceID = cp.SinceID
	seq := l.startSequence(log, now, src, cp, runID, &rep)

	price := a.PricePerPost
	stop := ""
	for {
		if a.Slowed && rep.Read >= a.MaxPosts {
			stop = "budget"
			break
		}
		if rep.Pages >= a.MaxPages {
			stop = "max_pages"
			break
		}
		q := xapi.PageQuery{SinceID: seq.SinceID, NextToken: seq.NextToken, MaxResults: src.PageSize}
		if seq.SinceID == "" {
			q.StartTime = seq.StartTime
		}
		if left := a.MaxPosts - rep.Read; a.Slowed && left < q.MaxResults {
			q.MaxResults = max(left, config.MinPageSize)
		}
		page, err := l.read(ctx, src, q)
		var rle *xapi.RateLimitedError
		if errors.As(err, &rle) {
			until := rle.RateLimit.Reset
			if until.IsZero() {
				until = now.Add(DefaultBackoff)
			}
			if err := backoff(until, rle.RateLimit, "429"); err != nil {
				return fail("record rate-limit backoff: %v", err)
			}
			break
		}
		if err != nil {
			return fail("read page %d: %v", rep.Pages+1, err)
		}
		// X bills the page whatever happens next: count it first.
		rep.Pages++
		rep.Read += page.Read
		cost := float64(page.Read) * price
		rep.EstimatedUSD += cost
		for reason, n := range page.Dropped {
			if rep.Dropped == nil {
				rep.Dropped = map[string]int{}
			}
			rep.Dropped[reason] += n
		}
		if err := l.Store.AddSpend(ctx, now, store.SourceSpend{Source: src.Name, Kind: string(src.Kind), Reads: int64(page.Read), Pages: 1, USD: cost}); err != nil {
			// The posts matter more than the bookkeeping: go on, say so.
			log.Error("listen: record X spend", "source", src.Name, "read", page.Read, "estimated_usd", round6(cost), "error", err)
		}
		// Enqueue before the checkpoint moves past the page.
		if len(page.Envelopes) > 0 {
			if err := l.Queue.Enqueue(ctx, page.Envelopes); err != nil {
				return fail("enqueue page %d: %v (the checkpoint stays before it; the next run reads it again)", rep.Pages, err)
			}
			rep.Enqueued += len(page.Envelopes)
		}
		seq.Pages++
		seq.Posts += page.Read
		seq.NewestID = care.MaxID(seq.NewestID, page.NewestID)
		for _, e := range page.Envelopes {
			if e.Message != nil && care.IsID(e.Message.ID) {
				seq.NewestID = care.MaxID(seq.NewestID, e.Message.ID)
			}
		}
		if page.NextToken == "" {
			done, err := l.Store.CompleteCheckpoint(ctx, src.Name, seq)
			if err != nil {
				return fail("%v", err)
			}
			rep.SinceID = done.SinceID
			stop = "done"
		} else {
			seq.NextToken = page.NextToken
			saved, err := l.Store.SaveProgress(ctx, cp, seq)
			if errors.Is(err, store.ErrConflict) {
				rep.Overlap = true
				log.Info("listen: another run moved this source's checkpoint; leaving the source to it", "source", src.Name)
				return rep
			}
			if err != nil {
				return fail("%v", err)
			}
			cp = saved
		}
		if rl := page.RateLimit; rl.Limit > 0 && rl.Remaining == 0 && rl.Reset.After(now) {
			// No request left in X's window: don't spend the next one on a 429.
			if err := backoff(rl.Reset, rl, "no requests left"); err != nil {
				return fail("record rate-limit backoff: %v", err)
			}
			if stop == "" {
				rep.Pending = true
			}
			return rep
		}
		if stop == "done" {
			return rep
		}
	}
	switch stop {
	case "budget":
		// A slowed search: close the sequence at its newest post; the older ones
		// are not read (reading them later would only move the cost, not save it).
		done, err := l.Store.CompleteCheckpoint(ctx, src.Name, seq)
		if err != nil {
			return fail("%v", err)
		}
		rep.SinceID = done.SinceID
		rep.Truncated = true
	case "max_pages":
		rep.Pending = true
	default: // rate limited: the place is kept
		rep.Pending = seq.NextToken != ""
	}
	return rep
}

// startSequence returns the page sequence the run reads: the one left in progress
// by an earlier run, unless stale, else a new one from the checkpoint.
func (l *Listener) startSequence(log *slog.Logger, now time.Time, src config.Source, cp *store.Checkpoint, runID string, rep *SourceReport) store.Pagination {
	floor := now.Add(-searchReach)
	beyondReach := func(p store.Pagination) bool {
		if src.Kind != config.KindSearch {
			return false
		}
		if p.SinceID != "" {
			t, ok := care.IDTime(p.SinceID)
			return ok && t.Before(floor)
		}
		return !p.StartTime.IsZero() && p.StartTime.Before(floor)
	}
	if p := cp.Pagination; p != nil {
		if now.Sub(p.StartedAt) < StaleProgress && !beyondReach(*p) {
			seq := *p
			seq.RunID = runID
			rep.Resumed = true
			return seq
		}
		log.Warn("listen: a page sequence left in progress is too old to resume; reading again from the checkpoint",
			"source", src.Name, "started_at", p.StartedAt, "next_token", p.NextToken, "since_id", cp.SinceID)
	}
	seq := store.Pagination{RunID: runID, StartedAt: now, SinceID: cp.SinceID, StartTime: cp.StartTime}
	if seq.SinceID == "" && seq.StartTime.IsZero() {
		lookback := l.Config.Lookback.Std()
		if lookback <= 0 {
			lookback = config.DefaultLookback
		}
		seq.StartTime = now.Add(-lookback)
	}
	if beyondReach(seq) {
		// Recent search cannot go back further than 7 days (X rejects an older
		// since_id): read what it still has.
		log.Warn("listen: the checkpoint is older than recent search's 7 days; posts before that cannot be read",
			"source", src.Name, "since_id", seq.SinceID, "start_time", seq.StartTime, "reading_from", floor)
		seq.SinceID, seq.StartTime = "", floor
	}
	return seq
}

// read reads one page of the source.
func (l *Listener) read(ctx context.Context, src config.Source, q xapi.PageQuery) (*xapi.Page, error) {
	var (
		page *xapi.Page
		err  error
	)
	if src.Kind == config.KindMentions {
		page, err = l.Reader.Mentions(ctx, l.Config.Brand.ID, q)
	} else {
		page, err = l.Reader.SearchRecent(ctx, src.Query, q)
	}
	if err == nil && page == nil {
		err = errors.New("the X client returned no page")
	}
	return page, err
}

func (l *Listener) logSource(log *slog.Logger, r SourceReport, a Allowance) {
	level := slog.LevelInfo
	if r.Slowed != "" || r.Truncated || !r.RateLimitedUntil.IsZero() {
		level = slog.LevelWarn
	}
	if r.Error != "" {
		level = slog.LevelError
	}
	attrs := []any{"source", r.Source, "kind", r.Kind, "pages", r.Pages, "read", r.Read, "enqueued", r.Enqueued,
		"estimated_usd", round6(r.EstimatedUSD), "since_id", r.SinceID}
	if len(r.Dropped) > 0 {
		attrs = append(attrs, "dropped", r.Dropped)
	}
	for _, f := range []struct {
		k  string
		v  any
		ok bool
	}{
		{"resumed", r.Resumed, r.Resumed},
		{"pending", r.Pending, r.Pending},
		{"truncated", r.Truncated, r.Truncated},
		{"overlap", r.Overlap, r.Overlap},
		{"skipped", r.Skipped, r.Skipped != ""},
		{"slowed", r.Slowed, r.Slowed != ""},
		{"max_posts", a.MaxPosts, a.Slowed},
		{"rate_limited_until", r.RateLimitedUntil, !r.RateLimitedUntil.IsZero()},
		{"error", r.Error, r.Error != ""},
	} {
		if f.ok {
			attrs = append(attrs, f.k, f.v)
		}
	}
	log.Log(context.Background(), level, "listen: source", attrs...)
}

// emitMetrics writes the source's metrics as one CloudWatch Embedded Metric Format
// line.
func (l *Listener) emitMetrics(now time.Time, r SourceReport, a Allowance) {
	w := l.Metrics
	if w == nil {
		w = os.Stdout
	}
	slowed := 0.0
	if a.Slowed {
		slowed = 1
	}
	err := emf.Write(w, now, map[string]string{"Source": r.Source},
		emf.Metric{Name: "PostsRead", Unit: emf.Count, Value: float64(r.Read)},
		emf.Metric{Name: "Enqueued", Unit: emf.Count, Value: float64(r.Enqueued)},
		emf.Metric{Name: "EstimatedCostUSD", Unit: emf.None, Value: round6(r.EstimatedUSD)},
		emf.Metric{Name: "BudgetSlowed", Unit: emf.Count, Value: slowed})
	if err != nil {
		l.log().Error("listen: write metrics", "error", err)
	}
}

func round6(f float64) float64 { return float64(int64(f*1e6+0.5)) / 1e6 }
