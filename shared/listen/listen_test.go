package listen

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/xapi"

	"github.com/pajarito-care/pajarito/shared/protocol"
)

func mentionsOnly(t *testing.T) *config.Config {
	return testConfig(t, config.NewSource("mentions", config.KindMentions, ""))
}

func TestPaginationAcrossThreePages(t *testing.T) {
	h := newHarness(t, mentionsOnly(t))
	ctx := t.Context()
	ps := posts(25, t0.Add(-time.Minute), time.Minute)
	own := post{id: snowflake(t0.Add(-90*time.Second), 7), at: t0.Add(-90 * time.Second), author: brandID}
	h.x.add("mentions", append(ps, own)...)

	rep := h.run(t, ctx, t0)
	m := sourceReport(t, rep, "mentions")
	if m.Pages != 3 || m.Read != 26 || m.Enqueued != 25 || m.Dropped["own_post"] != 1 || m.Error != "" || m.Pending {
		t.Fatalf("report = %+v, want 3 pages, 26 read, 25 enqueued, 1 own post dropped", m)
	}
	if !near(m.EstimatedUSD, 0.026) || !near(rep.EstimatedUSD, 0.026) {
		t.Errorf("estimated cost = %v, want 26 × $0.001", m.EstimatedUSD)
	}
	wantAllOnce(t, h.queue.ids(care.SourceMentions), ps)
	calls := h.x.Calls()
	if len(calls) != 3 || calls[0].q.NextToken != "" || calls[1].q.NextToken == "" || calls[2].q.NextToken == "" {
		t.Fatalf("calls = %+v, want a first page then two next_tokens", calls)
	}
	for _, c := range calls {
		if c.q.SinceID != "" || !c.q.StartTime.Equal(t0.Add(-time.Hour)) || c.q.MaxResults != 10 {
			t.Errorf("call %+v: want start_time now-1h on every page of the first sequence, pages of 10", c.q)
		}
	}
	newest := ps[0].id
	if m.SinceID != newest {
		t.Errorf("since_id = %s, want the newest post %s", m.SinceID, newest)
	}
	cp, err := h.store.GetCheckpoint(ctx, "mentions")
	if err != nil {
		t.Fatal(err)
	}
	if cp.SinceID != newest || cp.Pagination != nil {
		t.Errorf("checkpoint = %+v, want since_id %s and no pagination", cp, newest)
	}
	spend, err := h.store.GetSpend(ctx, "2026-08")
	if err != nil {
		t.Fatal(err)
	}
	if s := spend.Sources["mentions"]; s.Reads != 26 || s.Pages != 3 || !near(s.USD, 0.026) {
		t.Errorf("spend = %+v", s)
	}

	// One log line for the source, one summary; one EMF line.
	var sourceLine, summary map[string]any
	for _, l := range h.logs.lines(t) {
		switch l["msg"] {
		case "listen: source":
			sourceLine = l
		case "listen: run":
			summary = l
		}
	}
	if sourceLine == nil || sourceLine["source"] != "mentions" || sourceLine["read"] != 26.0 || sourceLine["enqueued"] != 25.0 || sourceLine["level"] != "INFO" {
		t.Errorf("source log line = %v", sourceLine)
	}
	if summary == nil || summary["read"] != 26.0 || summary["estimated_usd"] != 0.026 || summary["failed"] != 0.0 {
		t.Errorf("summary log line = %v", summary)
	}
	emf := h.metrics.lines(t)
	if len(emf) != 1 {
		t.Fatalf("EMF lines = %v", emf)
	}
	checkEMF(t, emf[0], "mentions", 26, 25, 0.026, 0)

	// Nothing new: one request from the checkpoint.
	rep = h.run(t, ctx, t0.Add(time.Minute))
	if m := sourceReport(t, rep, "mentions"); m.Pages != 1 || m.Read != 0 || m.SinceID != newest {
		t.Errorf("second run = %+v", m)
	}
	if c := h.x.Calls()[3]; c.q.SinceID != newest || !c.q.StartTime.IsZero() || c.q.NextToken != "" {
		t.Errorf("second run asked %+v, want since_id %s", c.q, newest)
	}
	// New posts: only they are read.
	fresh := posts(3, t0.Add(90*time.Second), 10*time.Second)
	h.x.add("mentions", fresh...)
	rep = h.run(t, ctx, t0.Add(2*time.Minute))
	if m := sourceReport(t, rep, "mentions"); m.Read != 3 || m.Enqueued != 3 || m.SinceID != fresh[0].id {
		t.Errorf("third run = %+v", m)
	}
	wantAllOnce(t, h.queue.ids(care.SourceMentions), append(ps, fresh...))
}

func checkEMF(t *testing.T, l map[string]any, source string, read, enqueued int, usd float64, slowed int) {
	t.Helper()
	aws, _ := l["_aws"].(map[string]any)
	cwm, _ := aws["CloudWatchMetrics"].([]any)
	if aws == nil || aws["Timestamp"] == nil || len(cwm) != 1 {
		t.Fatalf("EMF line without _aws.CloudWatchMetrics: %v", l)
	}
	d := cwm[0].(map[string]any)
	var names []string
	for _, m := range d["Metrics"].([]any) {
		names = append(names, m.(map[string]any)["Name"].(string))
	}
	dims := d["Dimensions"].([]any)
	if d["Namespace"] != "Pajarito" || len(dims) != 1 || dims[0].([]any)[0] != "Source" ||
		strings.Join(names, ",") != "PostsRead,Enqueued,EstimatedCostUSD,BudgetSlowed" {
		t.Errorf("EMF directive = %v", d)
	}
	if l["Source"] != source || l["PostsRead"] != float64(read) || l["Enqueued"] != float64(enqueued) ||
		math.Abs(l["EstimatedCostUSD"].(float64)-usd) > 1e-9 || l["BudgetSlowed"] != float64(slowed) {
		t.Errorf("EMF values = %v, want %s read %d enqueued %d $%v slowed %d", l, source, read, enqueued, usd, slowed)
	}
}

// The first run of a source reads from now minus the look-back; later runs from
// the checkpoint's since_id. A source whose first runs find nothing keeps reading
// from the first run's start, not from a later "now minus look-back".
func TestFirstRunLookbackThenSinceID(t *testing.T) {
	h := newHarness(t, testConfig(t))
	ctx := t.Context()
	recent := posts(5, t0.Add(-time.Minute), 10*time.Minute) // t0-1m … t0-41m
	old := posts(5, t0.Add(-2*time.Hour), 10*time.Minute)    // before the look-back
	h.x.add(queryES, append(recent, old...)...)

	h.run(t, ctx, t0)
	wantAllOnce(t, h.queue.ids(care.SourceSearch), recent)
	byQuery := func(calls []call, query string) []call {
		var out []call
		for _, c := range calls {
			if c.query == query {
				out = append(out, c)
			}
		}
		return out
	}
	calls := h.x.Calls()
	for _, c := range calls {
		if c.q.SinceID != "" || !c.q.StartTime.Equal(t0.Add(-time.Hour)) {
			t.Errorf("first run asked %s %q with %+v, want start_time %v", c.endpoint, c.query, c.q, t0.Add(-time.Hour))
		}
	}

	// Run 2: search-es from its since_id; search-en (nothing found yet) from the
	// first run's start time.
	h.run(t, ctx, t0.Add(time.Minute))
	calls = h.x.Calls()[len(calls):]
	if es := byQuery(calls, queryES); len(es) != 1 || es[0].q.SinceID != recent[0].id || !es[0].q.StartTime.IsZero() {
		t.Errorf("second run, search-es: %+v, want since_id %s", es, recent[0].id)
	}
	if en := byQuery(calls, queryEN); len(en) != 1 || en[0].q.SinceID != "" || !en[0].q.StartTime.Equal(t0.Add(-time.Hour)) {
		t.Errorf("second run, search-en: %+v, want the first run's start time", en)
	}

	// A post X indexes late, dated before the second run, is still found.
	late := post{id: snowflake(t0.Add(30*time.Second), 0), at: t0.Add(30 * time.Second), author: "2900000000000000002"}
	h.x.add(queryEN, late)
	n := len(h.x.Calls())
	h.run(t, ctx, t0.Add(2*time.Minute))
	h.run(t, ctx, t0.Add(3*time.Minute))
	calls = h.x.Calls()[n:]
	if en := byQuery(calls, queryEN); len(en) != 2 || !en[0].q.StartTime.Equal(t0.Add(-time.Hour)) || en[1].q.SinceID != late.id {
		t.Errorf("search-en after its first post: %+v, want start time then since_id %s", en, late.id)
	}
	wantAllOnce(t, h.queue.ids(care.SourceSearch), append(recent, late))
}

// A run cut short after page 2 (an error, a cancelled context, a queue failure)
// leaves the sequence's place in the checkpoint; the next run resumes it with the
// stored next_token and the same start, and nothing is skipped or enqueued twice.
func TestCutShortRunResumes(t *testing.T) {
	for _, how := range []string{"read error", "context cancelled", "enqueue fails"} {
		t.Run(how, func(t *testing.T) {
			h := newHarness(t, mentionsOnly(t))
			ps := posts(35, t0.Add(-time.Minute), time.Minute)
			h.x.add("mentions", ps...)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			switch how {
			case "read error":
				h.x.hook = func(n int, c call) error {
					if n == 3 {
						return errors.New("503 Service Unavailable")
					}
					return nil
				}
			case "context cancelled":
				h.x.hook = func(n int, c call) error {
					if n == 3 {
						cancel() // the function's deadline, say
					}
					return nil
				}
			case "enqueue fails":
				pages := 0
				h.queue.fail = func([]care.Envelope) error {
					if pages++; pages == 3 {
						return errors.New("SQS unavailable")
					}
					return nil
				}
			}
			rep := h.run(t, ctx, t0)
			m := sourceReport(t, rep, "mentions")
			if m.Error == "" || m.Enqueued != 20 {
				t.Fatalf("cut-short run = %+v, want an error after 20 posts enqueued", m)
			}
			if err := rep.Err(); err == nil || !strings.Contains(err.Error(), "mentions") {
				t.Errorf("Report.Err() = %v", err)
			}
			cp, err := h.store.GetCheckpoint(t.Context(), "mentions")
			if err != nil {
				t.Fatal(err)
			}
			p := cp.Pagination
			if cp.SinceID != "" || p == nil || p.Pages != 2 || p.NextToken != "below-"+ps[19].id || p.NewestID != ps[0].id || !p.StartTime.Equal(t0.Add(-time.Hour)) {
				t.Fatalf("checkpoint after the cut = %+v %+v", cp, p)
			}
			if l := h.logs.lines(t); !hasLine(l, "listen: source", "ERROR") {
				t.Errorf("no ERROR line for the failed source in %v", l)
			}

			// New posts arrive before the next run.
			fresh := posts(5, t0.Add(50*time.Second), 10*time.Second)
			h.x.add("mentions", fresh...)
			h.x.hook, h.queue.fail = nil, nil
			n := len(h.x.Calls())
			rep = h.run(t, t.Context(), t0.Add(time.Minute))
			m = sourceReport(t, rep, "mentions")
			if !m.Resumed || m.Error != "" || m.SinceID != ps[0].id {
				t.Errorf("resuming run = %+v, want resumed, since_id %s", m, ps[0].id)
			}
			first := h.x.Calls()[n]
			if first.q.NextToken != p.NextToken || !first.q.StartTime.Equal(t0.Add(-time.Hour)) || first.q.SinceID != "" {
				t.Errorf("resuming run asked %+v, want the stored next_token %s and the sequence's start time", first.q, p.NextToken)
			}
			// The next run reads the new posts.
			h.run(t, t.Context(), t0.Add(2*time.Minute))
			wantAllOnce(t, h.queue.ids(""), append(ps, fresh...))
		})
	}
}

func hasLine(lines []map[string]any, msg, level string) bool {
	for _, l := range lines {
		if l["msg"] == msg && l["level"] == level {
			return true
		}
	}
	return false
}

// A 429 in the middle of a search's pages stores a backoff until X's reset and
// keeps the place; a run before the reset skips the search (mentions, a separate
// limit, go on); a run after it resumes from the stored page.
func TestRateLimitMidRun(t *testing.T) {
	h := newHarness(t, testConfig(t,
		config.NewSource("mentions", config.KindMentions, ""),
		config.NewSource("search-es", config.KindSearch, queryES)))
	ctx := t.Context()
	es := posts(30, t0.Add(-time.Minute), time.Minute)
	h.x.add(queryES, es...)
	ms := posts(4, t0.Add(-2*time.Minute), 3*time.Minute)
	h.x.add("mentions", ms...)
	reset := t0.Add(10 * time.Minute)
	searches := 0
	h.x.hook = func(n int, c call) error {
		if c.endpoint == "search" {
			if searches++; searches == 2 {
				return &xapi.RateLimitedError{Endpoint: "GET /2/tweets/search/recent", RateLimit: xapi.RateLimit{Limit: 450, Remaining: 0, Reset: reset}}
			}
		}
		return nil
	}

	rep := h.run(t, ctx, t0)
	s := sourceReport(t, rep, "search-es")
	if s.Error != "" || s.Pages != 1 || s.Enqueued != 10 || !s.RateLimitedUntil.Equal(reset) || !s.Pending {
		t.Fatalf("rate-limited run = %+v", s)
	}
	if m := sourceReport(t, rep, "mentions"); m.Enqueued != 4 {
		t.Errorf("mentions = %+v", m)
	}
	if rep.Err() != nil {
		t.Errorf("a rate limit is not a failure: %v", rep.Err())
	}
	b, err := h.store.GetBackoff(ctx, "search")
	if err != nil {
		t.Fatal(err)
	}
	if !b.Until.Equal(reset) || b.Reason != "429" || b.Limit != 450 {
		t.Errorf("backoff = %+v", b)
	}
	cp, _ := h.store.GetCheckpoint(ctx, "search-es")
	if cp.Pagination == nil || cp.Pagination.NextToken != "below-"+es[9].id {
		t.Fatalf("checkpoint = %+v, want the place after page 1", cp)
	}
	if !hasLine(h.logs.lines(t), "listen: source", "WARN") {
		t.Error("no WARN line for the rate-limited source")
	}

	// Before the reset: the search is not called, mentions are.
	newMention := post{id: snowflake(t0.Add(4*time.Minute), 0), at: t0.Add(4 * time.Minute), author: "2900000000000000003"}
	h.x.add("mentions", newMention)
	n := len(h.x.Calls())
	rep = h.run(t, ctx, t0.Add(5*time.Minute))
	for _, c := range h.x.Calls()[n:] {
		if c.endpoint == "search" {
			t.Errorf("search called during the backoff: %+v", c)
		}
	}
	if s := sourceReport(t, rep, "search-es"); !strings.Contains(s.Skipped, "rate limit") || s.Pages != 0 {
		t.Errorf("search during the backoff = %+v", s)
	}
	if m := sourceReport(t, rep, "mentions"); m.Enqueued != 1 {
		t.Errorf("mentions during the search backoff = %+v", m)
	}

	// After the reset: resumes from the stored page.
	n = len(h.x.Calls())
	rep = h.run(t, ctx, t0.Add(11*time.Minute))
	s = sourceReport(t, rep, "search-es")
	if !s.Resumed || s.Pages != 2 || s.Enqueued != 20 || s.SinceID != es[0].id {
		t.Errorf("run after the reset = %+v", s)
	}
	var first *call
	for _, c := range h.x.Calls()[n:] {
		if c.endpoint == "search" {
			first = &c
			break
		}
	}
	if first == nil || first.q.NextToken != "below-"+es[9].id {
		t.Errorf("first search after the reset = %+v, want the stored next_token", first)
	}
	wantAllOnce(t, h.queue.ids(care.SourceSearch), es)
	wantAllOnce(t, h.queue.ids(care.SourceMentions), append(ms, newMention))

	// A page that leaves no request in X's window backs off without a 429.
	h.x.hook = nil
	h.x.rateLimit = xapi.RateLimit{Limit: 450, Remaining: 0, Reset: t0.Add(20 * time.Minute)}
	h.run(t, ctx, t0.Add(12*time.Minute))
	if b, _ := h.store.GetBackoff(ctx, "search"); !b.Until.Equal(t0.Add(20*time.Minute)) || b.Reason != "no requests left" {
		t.Errorf("backoff = %+v", b)
	}
	rep = h.run(t, ctx, t0.Add(13*time.Minute))
	if s := sourceReport(t, rep, "search-es"); s.Skipped == "" {
		t.Errorf("search with no requests left = %+v, want skipped", s)
	}
}

// When the budget runs short, keyword searches are slowed and mentions are not;
// when even mentions exceed it, mentions are still read and the run says the budget
// is exhausted.
func TestBudgetSlowsKeywordSearchesNeverMentions(t *testing.T) {
	ctx := t.Context()
	mentions := posts(4, t0.Add(-time.Minute), time.Minute)
	spend := func(h *harness, at time.Time, usd map[string]float64) {
		t.Helper()
		h.clock.Set(at)
		for name, v := range usd {
			kind := "search"
			switch {
			case name == "mentions":
				kind = "mentions"
			case strings.HasPrefix(name, "reply."):
				kind = store.SpendKindReply
			}
			if err := h.store.AddSpend(ctx, at, store.SourceSpend{Source: name, Kind: kind, Reads: 1, Pages: 1, USD: v}); err != nil {
				t.Fatal(err)
			}
		}
	}

	t.Run("slowed searches wait their turn", func(t *testing.T) {
		h := newHarness(t, testConfig(t))
		h.x.add("mentions", mentions...)
		h.x.add(queryES, posts(20, t0.Add(-time.Minute), time.Minute)...)
		// 9.5 days into August: mentions $5, searches $15 each, read a minute ago.
		spend(h, t0.Add(-time.Minute), map[string]float64{"mentions": 5, "search-es": 15, "search-en": 15})
		rep := h.run(t, ctx, t0)
		if m := sourceReport(t, rep, "mentions"); m.Enqueued != 4 || m.Slowed != "" || m.Skipped != "" {
			t.Errorf("mentions = %+v, want read and not slowed", m)
		}
		for _, name := range []string{"search-es", "search-en"} {
			s := sourceReport(t, rep, name)
			if !strings.Contains(s.Slowed, "one run in 841") || s.Skipped == "" || s.Pages != 0 {
				t.Errorf("%s = %+v, want slowed to one run in 841 and skipped this run", name, s)
			}
		}
		for _, c := range h.x.Calls() {
			if c.endpoint == "search" {
				t.Errorf("slowed search called: %+v", c)
			}
		}
		logs := h.logs.lines(t)
		if !hasLine(logs, "listen: X read budget: keyword searches slowed", "WARN") {
			t.Errorf("no WARN line for the slowed plan in %v", logs)
		}
		for _, l := range h.metrics.lines(t) {
			want := 1.0
			if l["Source"] == "mentions" {
				want = 0
			}
			if l["BudgetSlowed"] != want {
				t.Errorf("EMF %v: BudgetSlowed %v, want %v", l["Source"], l["BudgetSlowed"], want)
			}
		}
	})

	t.Run("a slowed search reads its newest posts and skips older ones", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.PollInterval = protocol.DurationOf(24 * time.Hour)
		cfg.Sources[1].PageSize = 100
		h := newHarness(t, cfg)
		h.x.add("mentions", mentions...)
		es := posts(200, t0.Add(-time.Minute), 10*time.Second)
		h.x.add(queryES, es...)
		// Daily runs, 22 left: $19 left = $0.864 a run; mentions $0.105 a run;
		// search-es, at $3.16 a run, gets the whole $0.758 left: 151 posts.
		spend(h, t0.Add(-48*time.Hour), map[string]float64{"mentions": 1, "search-es": 30})
		rep := h.run(t, ctx, t0)
		s := sourceReport(t, rep, "search-es")
		if s.Slowed == "" || !s.Truncated || s.Read != 151 || s.Enqueued != 151 || s.Pages != 2 || s.SinceID != es[0].id || s.Pending {
			t.Fatalf("search-es = %+v, want its newest 151 posts read in 2 pages, the sequence closed", s)
		}
		if !near(s.EstimatedUSD, 0.755) {
			t.Errorf("estimated cost %v, want 151 × $0.005", s.EstimatedUSD)
		}
		wantAllOnce(t, h.queue.ids(care.SourceSearch), es[:151])
		if m := sourceReport(t, rep, "mentions"); m.Slowed != "" || m.Enqueued != 4 {
			t.Errorf("mentions = %+v", m)
		}
		cp, _ := h.store.GetCheckpoint(ctx, "search-es")
		if cp.SinceID != es[0].id || cp.Pagination != nil {
			t.Errorf("checkpoint = %+v", cp)
		}
		if en := sourceReport(t, rep, "search-en"); en.Slowed != "" || en.Skipped != "" {
			t.Errorf("search-en, which costs nothing, = %+v", en)
		}
	})

	t.Run("what replies cost is not read budget", func(t *testing.T) {
		h := newHarness(t, testConfig(t))
		h.x.add("mentions", mentions...)
		h.x.add(queryES, posts(3, t0.Add(-time.Minute), time.Minute)...)
		spend(h, t0.Add(-time.Hour), map[string]float64{"mentions": 1, "reply.post": 400, "reply.dm": 90})
		rep := h.run(t, ctx, t0)
		if rep.Plan.Exhausted || rep.Plan.SpentUSD != 1 {
			t.Fatalf("plan counted the replies' spend: %s", rep.Plan.Explain())
		}
		if s := sourceReport(t, rep, "search-es"); s.Slowed != "" || s.Skipped != "" || s.Enqueued != 3 {
			t.Errorf("search-es = %+v, want read in full", s)
		}
	})

	t.Run("exhausted: mentions go on, searches stop, ERROR", func(t *testing.T) {
		h := newHarness(t, testConfig(t))
		h.x.add("mentions", mentions...)
		h.x.add(queryEN, posts(5, t0.Add(-time.Minute), time.Minute)...)
		spend(h, t0.Add(-time.Hour), map[string]float64{"mentions": 45, "search-es": 2})
		rep := h.run(t, ctx, t0)
		if !rep.Plan.Exhausted {
			t.Fatalf("plan not exhausted: %s", rep.Plan.Explain())
		}
		if m := sourceReport(t, rep, "mentions"); m.Enqueued != 4 || m.Skipped != "" {
			t.Errorf("mentions = %+v, want read", m)
		}
		for _, name := range []string{"search-es", "search-en"} {
			if s := sourceReport(t, rep, name); !strings.Contains(s.Skipped, "budget exhausted") || s.Pages != 0 {
				t.Errorf("%s = %+v, want stopped", name, s)
			}
		}
		logs := h.logs.lines(t)
		found := false
		for _, l := range logs {
			if l["level"] == "ERROR" && strings.Contains(l["msg"].(string), "budget exhausted") && strings.Contains(l["plan"].(string), "BUDGET EXHAUSTED") {
				found = true
			}
		}
		if !found {
			t.Errorf("no ERROR line saying the budget is exhausted in %v", logs)
		}
	})
}

// Overlapping runs (a slow run still going when the schedule fires again) never
// skip a post, and leave the checkpoint at the newest post.
func TestOverlappingRuns(t *testing.T) {
	h := newHarness(t, mentionsOnly(t))
	var all []post
	for round := range 4 {
		fresh := posts(37, t0.Add(time.Duration(round)*time.Hour-time.Minute), 90*time.Second)
		h.x.add("mentions", fresh...)
		all = append(all, fresh...)
		h.clock.Set(t0.Add(time.Duration(round) * time.Hour))
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				if _, err := h.Run(t.Context()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		// A run that left the source to another may leave a sequence in progress:
		// the next scheduled run finishes it.
		h.run(t, t.Context(), t0.Add(time.Duration(round)*time.Hour+time.Minute))
		cp, err := h.store.GetCheckpoint(t.Context(), "mentions")
		if err != nil {
			t.Fatal(err)
		}
		if cp.SinceID != fresh[0].id || cp.Pagination != nil {
			t.Fatalf("round %d: checkpoint %+v, want since_id %s", round, cp, fresh[0].id)
		}
	}
	seen := map[string]bool{}
	for _, id := range h.queue.ids("") {
		seen[id] = true
	}
	for _, p := range all {
		if !seen[p.id] {
			t.Errorf("post %s skipped", p.id)
		}
	}
}

// Recent search reaches back 7 days: a search checkpoint older than that reads
// from the edge of the window instead of sending an id X would refuse.
func TestSearchCheckpointBeyondReach(t *testing.T) {
	h := newHarness(t, testConfig(t, config.NewSource("search-es", config.KindSearch, queryES)))
	old := snowflake(t0.Add(-8*24*time.Hour), 0)
	if _, err := h.store.CompleteCheckpoint(t.Context(), "search-es", store.Pagination{RunID: "old", NewestID: old}); err != nil {
		t.Fatal(err)
	}
	h.run(t, t.Context(), t0)
	c := h.x.Calls()
	if len(c) != 1 || c[0].q.SinceID != "" || !c[0].q.StartTime.Equal(t0.Add(-searchReach)) {
		t.Errorf("calls = %+v, want start_time at the edge of the 7 days", c)
	}
}
