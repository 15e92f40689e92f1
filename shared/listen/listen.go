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

// sourceRun is one run's reading of one source: the state runSource's steps share.
type sourceRun struct {
	l        *Listener
	log      *slog.Logger
	now      time.Time
	src      config.Source
	a        Allowance
	endpoint string
	// backoffs are the rate-limit backoffs by endpoint, shared by the run's sources.
	backoffs map[string]*store.Backoff
	rep      SourceReport
	// cp is the source's checkpoint as last read or written; seq is the page
	// sequence being read.
	cp  *store.Checkpoint
	seq store.Pagination
}

// runSource reads one source within its allowance a.
func (l *Listener) runSource(ctx context.Context, log *slog.Logger, runID string, now time.Time, src config.Source, a Allowance, backoffs map[string]*store.Backoff) SourceReport {
	r := &sourceRun{l: l, log: log, now: now, src: src, a: a, endpoint: Endpoint(src.Kind), backoffs: backoffs,
		rep: SourceReport{Source: src.Name, Kind: src.Kind}}
	if err := r.run(ctx, runID); err != nil {
		r.rep.Error = fmt.Sprint(err)
	}
	return r.rep
}

// run reads the source from its checkpoint (steps 1 and 2 in the package doc),
// unless the plan or a rate-limit backoff skips it. It returns why the source
// failed; nil when it did not.
func (r *sourceRun) run(ctx context.Context, runID string) error {
	if r.a.Slowed {
		r.rep.Slowed = r.a.Reason
	}
	if !r.a.Read {
		r.rep.Skipped = r.a.Reason
		return nil
	}
	if backedOff, err := r.backedOff(ctx); err != nil || backedOff {
		return err
	}
	cp, err := r.l.Store.GetCheckpoint(ctx, r.src.Name)
	if err != nil {
		return err
	}
	r.cp = cp
	r.rep.SinceID = cp.SinceID
	r.seq = r.l.startSequence(r.log, r.now, r.src, cp, runID, &r.rep)
	return r.readPages(ctx)
}

// backedOff reports whether the source's endpoint is in a rate-limit backoff
// recorded by an earlier run (or by a source read before in this one); the report
// says so when it is.
func (r *sourceRun) backedOff(ctx context.Context) (bool, error) {
	b, ok := r.backoffs[r.endpoint]
	if !ok {
		var err error
		if b, err = r.l.Store.GetBackoff(ctx, r.endpoint); err != nil {
			return false, err
		}
		r.backoffs[r.endpoint] = b
	}
	if b.Active(r.now) {
		r.rep.Skipped = fmt.Sprintf("X rate limit of %s: backing off until %s (%s)", r.endpoint, b.Until.Format(time.RFC3339), b.Reason)
		r.rep.RateLimitedUntil = b.Until
		return true, nil
	}
	return false, nil
}

// setBackoff leaves the source's endpoint alone until until (a minute from now at
// the least), for this run's other sources and the next runs.
func (r *sourceRun) setBackoff(ctx context.Context, until time.Time, rl xapi.RateLimit, reason string) error {
	if !until.After(r.now) {
		until = r.now.Add(time.Minute)
	}
	nb := &store.Backoff{Endpoint: r.endpoint, Until: until, Limit: rl.Limit, Remaining: rl.Remaining, Reason: reason}
	r.backoffs[r.endpoint] = nb
	r.rep.RateLimitedUntil = until
	return r.l.Store.SetBackoff(ctx, *nb)
}

// readPages reads the sequence's pages (step 3 in the package doc) until one of
// the stops of step 4.
func (r *sourceRun) readPages(ctx context.Context) error {
	stop := ""
	for {
		if r.a.Slowed && r.rep.Read >= r.a.MaxPosts {
			stop = "budget"
			break
		}
		if r.rep.Pages >= r.a.MaxPages {
			stop = "max_pages"
			break
		}
		page, err := r.l.read(ctx, r.src, r.pageQuery())
		var rle *xapi.RateLimitedError
		if errors.As(err, &rle) {
			if err := r.rateLimited(ctx, rle.RateLimit); err != nil {
				return err
			}
			break
		}
		if err != nil {
			return fmt.Errorf("read page %d: %w", r.rep.Pages+1, err)
		}
		if more, err := r.takePage(ctx, page); err != nil || !more {
			return err
		}
	}
	return r.stopped(ctx, stop)
}

// pageQuery is the query for the sequence's next page: from its place
// (next_token) and its since_id, else its start time. A slowed source asks for no
// more posts than it has left, and at least X's smallest page.
func (r *sourceRun) pageQuery() xapi.PageQuery {
	q := xapi.PageQuery{SinceID: r.seq.SinceID, NextToken: r.seq.NextToken, MaxResults: r.src.PageSize}
	if r.seq.SinceID == "" {
		q.StartTime = r.seq.StartTime
	}
	if left := r.a.MaxPosts - r.rep.Read; r.a.Slowed && left < q.MaxResults {
		q.MaxResults = max(left, config.MinPageSize)
	}
	return q
}

// rateLimited records the backoff a 429 from X asks for: until X's reset, else
// for DefaultBackoff.
func (r *sourceRun) rateLimited(ctx context.Context, rl xapi.RateLimit) error {
	until := rl.Reset
	if until.IsZero() {
		until = r.now.Add(DefaultBackoff)
	}
	if err := r.setBackoff(ctx, until, rl, "429"); err != nil {
		return fmt.Errorf("record rate-limit backoff: %w", err)
	}
	return nil
}

// takePage takes one page read: it counts the page, enqueues its envelopes, then
// moves the checkpoint past it. It reports whether the source has more to read
// this run.
func (r *sourceRun) takePage(ctx context.Context, page *xapi.Page) (more bool, err error) {
	r.countPage(ctx, page)
	if err := r.enqueue(ctx, page); err != nil {
		return false, err
	}
	r.extendSequence(page)
	done, err := r.moveCheckpoint(ctx, page)
	if err != nil || r.rep.Overlap {
		return false, err
	}
	if spent, err := r.windowSpent(ctx, page.RateLimit, done); err != nil || spent {
		return false, err
	}
	return !done, nil
}

// countPage adds the page's reads and estimated cost to the report and to the
// month's spend. X bills the page whatever happens next: count it first.
func (r *sourceRun) countPage(ctx context.Context, page *xapi.Page) {
	r.rep.Pages++
	r.rep.Read += page.Read
	cost := float64(page.Read) * r.a.PricePerPost
	r.rep.EstimatedUSD += cost
	for reason, n := range page.Dropped {
		if r.rep.Dropped == nil {
			r.rep.Dropped = map[string]int{}
		}
		r.rep.Dropped[reason] += n
	}
	if err := r.l.Store.AddSpend(ctx, r.now, store.SourceSpend{Source: r.src.Name, Kind: string(r.src.Kind), Reads: int64(page.Read), Pages: 1, USD: cost}); err != nil {
		// The posts matter more than the bookkeeping: go on, say so.
		r.log.Error("listen: record X spend", "source", r.src.Name, "read", page.Read, "estimated_usd", round6(cost), "error", err)
	}
}

// enqueue puts the page's envelopes on the inbound queue. Enqueue before the
// checkpoint moves past the page.
func (r *sourceRun) enqueue(ctx context.Context, page *xapi.Page) error {
	if len(page.Envelopes) == 0 {
		return nil
	}
	if err := r.l.Queue.Enqueue(ctx, page.Envelopes); err != nil {
		return fmt.Errorf("enqueue page %d: %w (the checkpoint stays before it; the next run reads it again)", r.rep.Pages, err)
	}
	r.rep.Enqueued += len(page.Envelopes)
	return nil
}

// extendSequence adds the page to the sequence: its counts and its newest post id.
func (r *sourceRun) extendSequence(page *xapi.Page) {
	r.seq.Pages++
	r.seq.Posts += page.Read
	r.seq.NewestID = care.MaxID(r.seq.NewestID, page.NewestID)
	for _, e := range page.Envelopes {
		if e.Message != nil && care.IsID(e.Message.ID) {
			r.seq.NewestID = care.MaxID(r.seq.NewestID, e.Message.ID)
		}
	}
}

// moveCheckpoint moves the checkpoint past the page: after the sequence's last
// page, it completes the sequence (done); else it saves the sequence's place. When
// another run has moved the checkpoint meanwhile, the source is left to it
// (rep.Overlap).
func (r *sourceRun) moveCheckpoint(ctx context.Context, page *xapi.Page) (done bool, err error) {
	if page.NextToken == "" {
		return true, r.completeSequence(ctx)
	}
	r.seq.NextToken = page.NextToken
	saved, err := r.l.Store.SaveProgress(ctx, r.cp, r.seq)
	if errors.Is(err, store.ErrConflict) {
		r.rep.Overlap = true
		r.log.Info("listen: another run moved this source's checkpoint; leaving the source to it", "source", r.src.Name)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	r.cp = saved
	return false, nil
}

// completeSequence closes the page sequence: the checkpoint's since_id moves to
// the sequence's newest post.
func (r *sourceRun) completeSequence(ctx context.Context) error {
	done, err := r.l.Store.CompleteCheckpoint(ctx, r.src.Name, r.seq)
	if err != nil {
		return err
	}
	r.rep.SinceID = done.SinceID
	return nil
}

// windowSpent reports whether the page left no request in X's rate-limit window;
// when so, it records a backoff until the window's reset. No request left in X's
// window: don't spend the next one on a 429.
func (r *sourceRun) windowSpent(ctx context.Context, rl xapi.RateLimit, done bool) (bool, error) {
	if rl.Limit > 0 && rl.Remaining == 0 && rl.Reset.After(r.now) {
		if err := r.setBackoff(ctx, rl.Reset, rl, "no requests left"); err != nil {
			return true, fmt.Errorf("record rate-limit backoff: %w", err)
		}
		if !done {
			r.rep.Pending = true
		}
		return true, nil
	}
	return false, nil
}

// stopped ends a read stopped before the sequence's end: at the budget, at
// max_pages, or by a rate limit (stop "").
func (r *sourceRun) stopped(ctx context.Context, stop string) error {
	switch stop {
	case "budget":
		// A slowed search: close the sequence at its newest post; the older ones
		// are not read (reading them later would only move the cost, not save it).
		if err := r.completeSequence(ctx); err != nil {
			return err
		}
		r.rep.Truncated = true
	case "max_pages":
		r.rep.Pending = true
	default: // rate limited: the place is kept
		r.rep.Pending = r.seq.NextToken != ""
	}
	return nil
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
