package listen

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/config"
)

func defaultSources() []config.Source {
	return []config.Source{
		config.NewSource("mentions", config.KindMentions, ""),
		config.NewSource("search-es", config.KindSearch, "pajarito lang:es"),
		config.NewSource("search-en", config.KindSearch, "pajarito lang:en"),
	}
}

func planInput(now time.Time, interval time.Duration, spent map[string]float64, sources ...config.Source) PlanInput {
	if len(sources) == 0 {
		sources = defaultSources()
	}
	return PlanInput{
		Now: now, PollInterval: interval, MonthlyUSD: 50,
		Prices:  config.Prices{Mentions: 0.001, Search: 0.005},
		Sources: sources, SpentUSD: spent,
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestPlan(t *testing.T) {
	aug1 := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	aug10 := time.Date(2026, 8, 10, 12, 0, 0, 0, time.UTC) // 9.5 days in, 21.5 left
	withPriority := func(s config.Source, p int) config.Source { s.Priority = p; return s }
	type want struct {
		read, slowed bool
		every        int
		maxPosts     int
	}
	tests := []struct {
		name      string
		in        PlanInput
		exhausted bool
		perRun    float64
		keyword   float64
		want      map[string]want
		reason    map[string]string // substrings of Reason
	}{
		{
			name:   "fresh month: nothing slowed, the pool shared evenly",
			in:     planInput(aug1, time.Minute, nil),
			perRun: 50.0 / 44640, keyword: 50.0 / 44640,
			want: map[string]want{
				"mentions":  {read: true, every: 1, maxPosts: 1000},
				"search-es": {read: true, every: 1, maxPosts: 300},
				"search-en": {read: true, every: 1, maxPosts: 300},
			},
		},
		{
			name: "searches costing more than their share are slowed, mentions are not",
			// 9.5 days: mentions $5, each search $15; $15 left for 30,960 runs.
			in:     planInput(aug10, time.Minute, map[string]float64{"mentions": 5, "search-es": 15, "search-en": 15}),
			perRun: 15.0 / 30960, keyword: 15.0/30960 - 5.0/13680,
			want: map[string]want{
				"mentions": {read: true, every: 1, maxPosts: 1000},
				// share (15/30960 - 5/13680)/2 = $0.0000595 a run; 10 posts cost
				// $0.05: one run in 841, at most 10 posts.
				"search-es": {slowed: true, every: 841, maxPosts: 10},
				"search-en": {slowed: true, every: 841, maxPosts: 10},
			},
			reason: map[string]string{"search-es": "read one run in 841", "mentions": ""},
		},
		{
			name: "max-min: a cheap search keeps its pace, the expensive one gets the rest",
			// Daily runs: 22 left, $33 left: $1.50 a run; mentions $0.105 a run.
			in:     planInput(aug10, 24*time.Hour, map[string]float64{"mentions": 1, "search-es": 15, "search-en": 1}),
			perRun: 33.0 / 22, keyword: 33.0/22 - 1/9.5,
			want: map[string]want{
				"mentions":  {read: true, every: 1, maxPosts: 1000},
				"search-en": {read: true, every: 1, maxPosts: 300},
				// share = 1.5 - 0.105 - 0.105 = $1.289 a run: 257 posts, capped by
				// 3 pages of 100.
				"search-es": {read: true, slowed: true, every: 1, maxPosts: 257},
			},
		},
		{
			name: "priority: the first group takes its need, the next one what is left",
			in: planInput(aug10, 24*time.Hour, map[string]float64{"mentions": 1, "search-es": 9.5, "search-en": 9.5},
				config.NewSource("mentions", config.KindMentions, ""),
				config.NewSource("search-es", config.KindSearch, "a"),
				withPriority(config.NewSource("search-en", config.KindSearch, "b"), 3)),
			// $30 left for 22 runs = $1.364; mentions $0.105; pool $1.258; es
			// needs $1 and gets it; en needs $1, gets $0.258: 51 posts.
			perRun: 30.0 / 22, keyword: 30.0/22 - 1/9.5,
			want: map[string]want{
				"mentions":  {read: true, every: 1, maxPosts: 1000},
				"search-es": {read: true, every: 1, maxPosts: 300},
				"search-en": {read: true, slowed: true, every: 1, maxPosts: 51},
			},
		},
		{
			name: "priority: a lower group with nothing left is not read",
			in: planInput(aug10, 24*time.Hour, map[string]float64{"mentions": 1, "search-es": 28, "search-en": 5},
				config.NewSource("mentions", config.KindMentions, ""),
				config.NewSource("search-es", config.KindSearch, "a"),
				withPriority(config.NewSource("search-en", config.KindSearch, "b"), 3)),
			perRun: 16.0 / 22, keyword: 16.0/22 - 1/9.5,
			want: map[string]want{
				"mentions":  {read: true, every: 1, maxPosts: 1000},
				"search-es": {read: true, slowed: true, every: 1, maxPosts: 124},
				"search-en": {slowed: true},
			},
			reason: map[string]string{"search-en": "higher-priority searches take the whole keyword share"},
		},
		{
			name: "mentions alone exceed the budget: searches stop, mentions go on",
			in:   planInput(aug10, time.Minute, map[string]float64{"mentions": 45, "search-es": 2}),
			// $3 left for 30,960 runs = $0.0000969; mentions cost $0.0033 a run.
			exhausted: true, perRun: 3.0 / 30960,
			want: map[string]want{
				"mentions":  {read: true, every: 1, maxPosts: 1000},
				"search-es": {slowed: true},
				"search-en": {slowed: true},
			},
			reason: map[string]string{"mentions": "budget exhausted", "search-es": "stopped until 2026-09-01"},
		},
		{
			name:      "overspent by sources no longer configured",
			in:        planInput(aug10, time.Minute, map[string]float64{"old-search": 51}),
			exhausted: true,
			want: map[string]want{
				"mentions":  {read: true, every: 1, maxPosts: 1000},
				"search-es": {slowed: true},
			},
		},
		{
			name:   "last minute of the month: one run left",
			in:     planInput(time.Date(2026, 8, 31, 23, 59, 30, 0, time.UTC), time.Minute, map[string]float64{"mentions": 10}),
			perRun: 40, keyword: 40 - 10/(30*24*60+23*60+59.5),
			want: map[string]want{
				"search-es": {read: true, every: 1, maxPosts: 300},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPlan(tt.in)
			if p.Exhausted != tt.exhausted {
				t.Errorf("Exhausted = %v, want %v", p.Exhausted, tt.exhausted)
			}
			if tt.perRun != 0 && !near(p.PerRunUSD, tt.perRun) {
				t.Errorf("PerRunUSD = %v, want %v", p.PerRunUSD, tt.perRun)
			}
			if tt.keyword != 0 && !near(p.KeywordPerRunUSD, tt.keyword) {
				t.Errorf("KeywordPerRunUSD = %v, want %v", p.KeywordPerRunUSD, tt.keyword)
			}
			for name, w := range tt.want {
				a, ok := p.Allowance(name)
				if !ok {
					t.Fatalf("no allowance for %s", name)
				}
				if w.every > 1 {
					a.Read = false // whether this run is the one depends on the clock
				}
				got := want{read: a.Read, slowed: a.Slowed, every: a.EveryRuns, maxPosts: a.MaxPosts}
				if got != w {
					t.Errorf("%s: got %+v, want %+v (%+v)", name, got, w, a)
				}
				if a.Kind == config.KindMentions && a.Slowed {
					t.Errorf("mentions slowed: %+v", a)
				}
			}
			for name, r := range tt.reason {
				a, _ := p.Allowance(name)
				if r == "" && a.Reason != "" || !strings.Contains(a.Reason, r) {
					t.Errorf("%s: reason %q, want it to contain %q", name, a.Reason, r)
				}
			}
			if ex := p.Explain(); !strings.Contains(ex, p.Month) {
				t.Errorf("Explain() = %q", ex)
			}
		})
	}
}

// A search slowed to one run in N is read again N poll intervals after its last
// read, whatever the schedule's jitter.
func TestPlanPollsOneRunInN(t *testing.T) {
	start := time.Date(2026, 8, 10, 12, 0, 0, 0, time.UTC)
	spent := map[string]float64{"mentions": 5, "search-es": 15, "search-en": 15}
	last := map[string]time.Time{}
	var reads []int
	const runs = 3 * 841
	for i := range runs {
		// Scheduled runs start a few seconds late or early.
		now := start.Add(time.Duration(i)*time.Minute + time.Duration(i%7-3)*time.Second)
		in := planInput(now, time.Minute, spent)
		in.LastRead = last
		p := NewPlan(in)
		if m, _ := p.Allowance("mentions"); !m.Read {
			t.Fatalf("run %d: mentions not read", i)
		}
		es, _ := p.Allowance("search-es")
		// With no new spend, the search's average cost falls as the month goes
		// on, and so does N.
		if es.EveryRuns < 2 || es.EveryRuns > 841 {
			t.Fatalf("run %d: every %d runs", i, es.EveryRuns)
		}
		if es.Read {
			if len(reads) > 0 && i-reads[len(reads)-1] < es.EveryRuns {
				t.Fatalf("run %d: read %d runs after the last read, want %d", i, i-reads[len(reads)-1], es.EveryRuns)
			}
			reads = append(reads, i)
			last["search-es"] = now
		}
	}
	if len(reads) < 3 || reads[0] != 0 {
		t.Errorf("reads at runs %v, want at least 3, the first at run 0", reads)
	}
	t.Logf("read at runs %v", reads)
}

// The closing note's numbers: how $50 a month is divided between the mentions
// timeline and two keyword searches at the default poll interval.
func ExampleNewPlan() {
	// A fresh month: nothing spent yet.
	p := NewPlan(planInput(time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), time.Minute, nil))
	fmt.Println(p.Explain())
	fmt.Println()
	// Mid-month, mentions have cost $3 (3,000 posts) and each search $12 (2,400
	// posts): they cost more than their share.
	p = NewPlan(planInput(time.Date(2026, 9, 16, 0, 0, 0, 0, time.UTC), time.Minute, map[string]float64{"mentions": 3, "search-es": 12, "search-en": 12}))
	fmt.Println(p.Explain())
	// Output:
	// X read budget 2026-09: $50.00 a month, $0.00 spent, $50.00 left for 30d0h (43200 runs, one every 1m): $0.001157 a run, $1.67 a day.
	// - mentions (mentions, $0.001 a post): first claim, never slowed; costs $0.000000 a run on average (set aside); reads up to 10 pages of 100 every run.
	// - keyword searches share $0.001157 a run ($1.67 a day, $50.00 for the rest of the month), by priority then evenly:
	//   - search-es (priority 2, $0.005 a post): share $0.000579 a run = $0.83 a day = 167 posts a day; costs $0.000000 a run on average: every run, up to 3 pages of 100.
	//   - search-en (priority 2, $0.005 a post): share $0.000579 a run = $0.83 a day = 167 posts a day; costs $0.000000 a run on average: every run, up to 3 pages of 100.
	//
	// X read budget 2026-09: $50.00 a month, $27.00 spent, $23.00 left for 15d0h (21600 runs, one every 1m): $0.001065 a run, $1.53 a day.
	// - mentions (mentions, $0.001 a post): first claim, never slowed; costs $0.000139 a run on average (set aside); reads up to 10 pages of 100 every run.
	// - keyword searches share $0.000926 a run ($1.33 a day, $20.00 for the rest of the month), by priority then evenly:
	//   - search-es (priority 2, $0.005 a post): share $0.000463 a run = $0.67 a day = 133 posts a day; costs $0.000556 a run on average: SLOWED: one run in 108, at most 10 posts a time (read this run).
	//   - search-en (priority 2, $0.005 a post): share $0.000463 a run = $0.67 a day = 133 posts a day; costs $0.000556 a run on average: SLOWED: one run in 108, at most 10 posts a time (read this run).
}
