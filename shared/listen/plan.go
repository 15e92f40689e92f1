package listen

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/config"

	"github.com/pajarito-care/pajarito/shared/protocol"
)

// PlanInput is what the budget planner decides from.
type PlanInput struct {
	// Now is the time of the run; the budget period is its calendar month in UTC.
	Now time.Time
	// PollInterval is the time between runs (config poll_interval).
	PollInterval time.Duration
	// MonthlyUSD is the monthly X read budget.
	MonthlyUSD float64
	// Prices are X's prices per post read.
	Prices config.Prices
	// Sources are the enabled sources, in run order.
	Sources []config.Source
	// SpentUSD is the month-to-date estimated cost by source name, including
	// sources no longer configured (their spend still counts).
	SpentUSD map[string]float64
	// LastRead is when each source was last read this month (the spend's
	// updated_at); a slowed search is read again EveryRuns poll intervals later.
	LastRead map[string]time.Time
}

// Plan is the budget planner's decision for one run.
type Plan struct {
	Month        string
	PollInterval time.Duration
	MonthlyUSD   float64
	// SpentUSD is the month-to-date estimated cost of all sources; RemainingUSD what
	// is left of the budget (negative when overspent).
	SpentUSD     float64
	RemainingUSD float64
	// TimeLeft is the time to the end of the month, RunsLeft the runs in it
	// (this one included).
	TimeLeft time.Duration
	RunsLeft int
	// PerRunUSD is what each remaining run may spend on average: RemainingUSD /
	// RunsLeft.
	PerRunUSD float64
	// MentionsPerRunUSD is what the mentions source costs per run on average this
	// month, set aside before keyword searches get anything.
	MentionsPerRunUSD float64
	// KeywordPerRunUSD is what is left per run for keyword searches.
	KeywordPerRunUSD float64
	// Exhausted is true when the mentions source alone costs the per-run budget or
	// more (or the budget is spent): keyword searches stop, mentions go on.
	Exhausted bool
	// Allowances are the sources' allowances, in run order.
	Allowances []Allowance
}

// Allowance is what one source may read this run.
type Allowance struct {
	Source       string
	Kind         config.SourceKind
	Priority     int
	PricePerPost float64
	PageSize     int
	// Read is false when the source is not read this run (slowed to one run in
	// EveryRuns, or no budget left).
	Read bool
	// EveryRuns is how often the source is read: 1 every run, N one run in N, 0
	// not at all this month.
	EveryRuns int
	// MaxPages and MaxPosts bound this run's reads.
	MaxPages int
	MaxPosts int
	// Slowed is true when the budget, not the source's max_pages, bounds its reads:
	// a slowed source reads its newest MaxPosts posts per poll and skips older ones
	// rather than leave them for later runs (which would only delay the cost).
	Slowed bool
	// DemandPerRunUSD is what the source cost per run on average this month;
	// SharePerRunUSD what the plan allows it per run.
	DemandPerRunUSD float64
	SharePerRunUSD  float64
	// Reason says why the source is slowed or not read; "" when it is not.
	Reason string
}

// averagingWindow is the shortest period over which a source's month-to-date
// spend is averaged, so that the first minutes of a month are not taken as the
// month's rate. The price: in a month's first hours a search can read up to six
// hours' worth of posts before it is slowed.
const averagingWindow = 6 * time.Hour

// MinPollPosts is the fewest posts a slowed keyword search is allowed per poll:
// X's smallest search page (max_results 10). A source whose share buys fewer per
// run is polled less often instead.
const MinPollPosts = config.MinPageSize

// NewPlan decides each source's allowance for the run at in.Now. It is pure.
//
// The remaining budget is spread evenly over the runs left in the month (PerRunUSD),
// so that a quiet start of the month leaves more for the rest of it and an
// expensive one less. Each source's demand is its month-to-date cost averaged per
// run (over at least averagingWindow).
//
//   - The mentions source comes first and is never slowed: its demand is set aside,
//     and it reads up to its max_pages every run. Mentions are owned reads at a
//     fifth of search's price, and they are the brand's own customers addressing
//     it, the posts it may answer automatically; a brand that stops reading them
//     to save a few dollars fails the customers who did everything right. So when
//     the mentions demand alone reaches the per-run budget (or the budget is
//     spent), the plan is Exhausted: keyword searches stop until the next month,
//     mentions go on, and the listener logs an ERROR saying the budget is exhausted
//     and what to raise.
//   - Keyword searches share what is left, by priority, then evenly: each priority
//     group in turn gets up to its demand (split max-min fairly: sources that need
//     less than an even share leave the rest to the others); what no one needs is
//     then spread evenly over all searches. A search whose demand exceeds its share
//     is slowed: it is polled one run in N (N poll intervals after its last read),
//     N the smallest that buys MinPollPosts posts per poll, reading at most its
//     share of N runs, newest posts first; the older posts of that poll are
//     skipped, and the report says so.
func NewPlan(in PlanInput) Plan {
	interval := in.PollInterval
	if interval <= 0 {
		interval = config.DefaultPollInterval
	}
	now := in.Now.UTC()
	monthStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	monthEnd := monthStart.AddDate(0, 1, 0)
	p := Plan{
		Month:        monthStart.Format("2006-01"),
		PollInterval: interval,
		MonthlyUSD:   in.MonthlyUSD,
		TimeLeft:     monthEnd.Sub(now),
	}
	for _, v := range in.SpentUSD {
		p.SpentUSD += v
	}
	p.RemainingUSD = in.MonthlyUSD - p.SpentUSD
	p.RunsLeft = max(1, int(math.Ceil(float64(p.TimeLeft)/float64(interval))))
	p.PerRunUSD = max(0, p.RemainingUSD) / float64(p.RunsLeft)
	observedRuns := float64(max(now.Sub(monthStart), averagingWindow)) / float64(interval)

	keyword := p.addAllowances(in, observedRuns)
	p.Exhausted = p.RemainingUSD <= 0 || (p.MentionsPerRunUSD > 0 && p.MentionsPerRunUSD >= p.PerRunUSD)
	if !p.Exhausted {
		p.KeywordPerRunUSD = p.PerRunUSD - p.MentionsPerRunUSD
	}
	next := monthEnd.Format("2006-01-02")
	p.setAsideMentions(next)
	if len(keyword) == 0 {
		return p
	}
	if p.Exhausted {
		p.stopSearches(keyword, next)
		return p
	}
	p.shareKeywordPool(keyword)
	p.slowSearches(keyword, now, in.LastRead)
	return p
}

// addAllowances adds each source's allowance, in run order, before the budget is
// shared: read every run, up to its max_pages, and its demand (its month-to-date
// cost over observedRuns). It adds up the mentions demand (MentionsPerRunUSD) and
// returns the indexes of the keyword searches in Allowances.
func (p *Plan) addAllowances(in PlanInput, observedRuns float64) (keyword []int) {
	for _, s := range in.Sources {
		a := Allowance{
			Source: s.Name, Kind: s.Kind, Priority: s.Priority, PricePerPost: in.Prices.For(s.Kind), PageSize: s.PageSize,
			Read: true, EveryRuns: 1, MaxPages: s.MaxPages, MaxPosts: s.MaxPages * s.PageSize,
			DemandPerRunUSD: in.SpentUSD[s.Name] / observedRuns,
		}
		if s.Kind == config.KindMentions {
			p.MentionsPerRunUSD += a.DemandPerRunUSD
		} else {
			keyword = append(keyword, len(p.Allowances))
		}
		p.Allowances = append(p.Allowances, a)
	}
	return keyword
}

// setAsideMentions gives the mentions source its demand as its share, whatever it
// is: it is never slowed. When the budget is exhausted, its reason says so and what
// to raise; next is the day keyword searches start again.
func (p *Plan) setAsideMentions(next string) {
	for i := range p.Allowances {
		a := &p.Allowances[i]
		if a.Kind == config.KindMentions {
			a.SharePerRunUSD = a.DemandPerRunUSD // set aside, whatever it is
			if p.Exhausted {
				a.Reason = fmt.Sprintf("budget exhausted ($%.2f of $%.2f spent, mentions cost $%.6f a run for $%.6f a run left): mentions are still read, keyword searches are stopped until %s; raise x_budget.monthly_usd",
					p.SpentUSD, p.MonthlyUSD, p.MentionsPerRunUSD, p.PerRunUSD, next)
			}
		}
	}
}

// stopSearches stops the keyword searches (at indexes keyword in Allowances) until
// next, the start of the next month: the budget is exhausted.
func (p *Plan) stopSearches(keyword []int, next string) {
	for _, i := range keyword {
		a := &p.Allowances[i]
		a.Read, a.EveryRuns, a.MaxPages, a.MaxPosts, a.Slowed = false, 0, 0, 0, true
		a.Reason = fmt.Sprintf("budget exhausted: keyword searches are stopped until %s, mentions go on; raise x_budget.monthly_usd", next)
	}
}

// shareKeywordPool shares the keyword pool (KeywordPerRunUSD) among the keyword
// searches (at indexes keyword in Allowances): priority groups in order, max-min
// fair within a group, the leftover evenly over all.
func (p *Plan) shareKeywordPool(keyword []int) {
	byPriority := slices.Clone(keyword)
	slices.SortStableFunc(byPriority, func(x, y int) int { return p.Allowances[x].Priority - p.Allowances[y].Priority })
	pool := p.KeywordPerRunUSD
	for g := 0; g < len(byPriority); {
		end := g
		for end < len(byPriority) && p.Allowances[byPriority[end]].Priority == p.Allowances[byPriority[g]].Priority {
			end++
		}
		group := slices.Clone(byPriority[g:end])
		slices.SortStableFunc(group, func(x, y int) int {
			return cmpFloat(p.Allowances[x].DemandPerRunUSD, p.Allowances[y].DemandPerRunUSD)
		})
		for k, i := range group {
			a := &p.Allowances[i]
			a.SharePerRunUSD = min(a.DemandPerRunUSD, pool/float64(len(group)-k))
			pool -= a.SharePerRunUSD
		}
		g = end
	}
	for _, i := range keyword {
		p.Allowances[i].SharePerRunUSD += max(0, pool) / float64(len(keyword))
	}
}

// slowSearches slows each keyword search (at indexes keyword in Allowances) whose
// demand exceeds its share: it is polled one run in N, N poll intervals after its
// last read (lastRead, by source), N the smallest that buys MinPollPosts posts per
// poll, reading at most its share of N runs. A search that fits its share is read
// every run, up to max_pages.
func (p *Plan) slowSearches(keyword []int, now time.Time, lastRead map[string]time.Time) {
	interval := p.PollInterval
	for _, i := range keyword {
		a := &p.Allowances[i]
		if a.DemandPerRunUSD <= a.SharePerRunUSD*(1+1e-9) {
			continue // fits: every run, up to max_pages
		}
		a.Slowed = true
		share := a.SharePerRunUSD
		if share <= 0 || a.PricePerPost <= 0 {
			a.Read, a.EveryRuns, a.MaxPages, a.MaxPosts = false, 0, 0, 0
			a.Reason = fmt.Sprintf("budget: higher-priority searches take the whole keyword share ($%.6f a run); not read until the budget allows", p.KeywordPerRunUSD)
			continue
		}
		n := max(1, int(math.Ceil(MinPollPosts*a.PricePerPost/share-1e-9)))
		posts := int(math.Floor(float64(n)*share/a.PricePerPost + 1e-9))
		a.EveryRuns = n
		a.MaxPosts = min(posts, a.MaxPages*a.PageSize)
		a.MaxPages = min(a.MaxPages, (a.MaxPosts+a.PageSize-1)/a.PageSize)
		// Read when N intervals have passed since the last read (half an interval
		// early, for the schedule's jitter).
		last := lastRead[a.Source]
		a.Read = last.IsZero() || now.Sub(last) >= time.Duration(n)*interval-interval/2
		a.Reason = fmt.Sprintf("budget: %s costs $%.6f a run on average this month, its share is $%.6f a run: read one run in %d (every %s), at most %d posts a time, newest first; older posts of a poll are skipped",
			a.Source, a.DemandPerRunUSD, share, n, roundDuration(time.Duration(n)*interval), a.MaxPosts)
		if n > p.RunsLeft {
			a.Read = false
			a.Reason += "; not read again this month"
		}
	}
}

// Allowance returns the allowance of the named source.
func (p *Plan) Allowance(source string) (Allowance, bool) {
	for _, a := range p.Allowances {
		if a.Source == source {
			return a, true
		}
	}
	return Allowance{}, false
}

// Slowed reports whether the budget slows any source this run.
func (p *Plan) Slowed() bool {
	for _, a := range p.Allowances {
		if a.Slowed {
			return true
		}
	}
	return false
}

// Explain says, in a few lines of text, how the plan divides the budget.
func (p *Plan) Explain() string {
	var b strings.Builder
	perDay := float64(24*time.Hour) / float64(p.PollInterval)
	fmt.Fprintf(&b, "X read budget %s: $%.2f a month, $%.2f spent, $%.2f left for %s (%d runs, one every %s): $%.6f a run, $%.2f a day.\n",
		p.Month, p.MonthlyUSD, p.SpentUSD, max(0, p.RemainingUSD), roundDuration(p.TimeLeft), p.RunsLeft, roundDuration(p.PollInterval), p.PerRunUSD, p.PerRunUSD*perDay)
	if p.Exhausted {
		fmt.Fprintf(&b, "BUDGET EXHAUSTED: mentions cost $%.6f a run on average, the budget leaves $%.6f a run; mentions are still read, keyword searches are stopped.\n",
			p.MentionsPerRunUSD, p.PerRunUSD)
	}
	for _, a := range p.Allowances {
		if a.Kind != config.KindMentions {
			continue
		}
		fmt.Fprintf(&b, "- %s (mentions, $%.3f a post): first claim, never slowed; costs $%.6f a run on average (set aside); reads up to %d pages of %d every run.\n",
			a.Source, a.PricePerPost, a.DemandPerRunUSD, a.MaxPages, a.PageSize)
	}
	n := 0
	for _, a := range p.Allowances {
		if a.Kind != config.KindMentions {
			n++
		}
	}
	if n > 0 && !p.Exhausted {
		fmt.Fprintf(&b, "- keyword searches share $%.6f a run ($%.2f a day, $%.2f for the rest of the month), by priority then evenly:\n",
			p.KeywordPerRunUSD, p.KeywordPerRunUSD*perDay, p.KeywordPerRunUSD*float64(p.RunsLeft))
	}
	for _, a := range p.Allowances {
		if a.Kind == config.KindMentions {
			continue
		}
		fmt.Fprintf(&b, "  - %s (priority %d, $%.3f a post): share $%.6f a run = $%.2f a day = %.0f posts a day; costs $%.6f a run on average: ",
			a.Source, a.Priority, a.PricePerPost, a.SharePerRunUSD, a.SharePerRunUSD*perDay, a.SharePerRunUSD*perDay/a.PricePerPost, a.DemandPerRunUSD)
		switch {
		case !a.Slowed:
			fmt.Fprintf(&b, "every run, up to %d pages of %d.\n", a.MaxPages, a.PageSize)
		case a.EveryRuns == 0:
			fmt.Fprintf(&b, "SLOWED: not read (%s).\n", a.Reason)
		default:
			fmt.Fprintf(&b, "SLOWED: one run in %d, at most %d posts a time (%s this run).\n", a.EveryRuns, a.MaxPosts, map[bool]string{true: "read", false: "skipped"}[a.Read])
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// roundDuration formats d in whole minutes, or days and hours beyond a day.
func roundDuration(d time.Duration) string {
	if d >= 24*time.Hour {
		d = d.Round(time.Hour)
		return fmt.Sprintf("%dd%dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	}
	return protocol.DurationOf(d.Round(time.Minute)).String()
}
