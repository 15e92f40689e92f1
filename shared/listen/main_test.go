package listen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/local/storetest"
	"github.com/pajarito-care/pajarito/shared/local/testclock"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

// One dynalite serves the whole test binary; each test gets its own table.

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

const brandID = "1590000000000000001"

// t0 is the tests' "now" at the start: mid-August, so that the budget has history
// room on both sides.
var t0 = time.Date(2026, 8, 10, 12, 0, 0, 0, time.UTC)

// snowflake returns the X id of a post created at t (seq tells apart posts of the
// same millisecond).
func snowflake(t time.Time, seq int) string {
	return strconv.FormatUint(care.Snowflake(t, uint64(seq)), 10)
}

// post is a post on X.
type post struct {
	id     string
	at     time.Time
	author string
}

// posts returns n posts by customers, one every step, the newest at newest.
func posts(n int, newest time.Time, step time.Duration) []post {
	out := make([]post, n)
	for i := range n {
		at := newest.Add(-time.Duration(i) * step)
		out[i] = post{id: snowflake(at, 0), at: at, author: "2900000000000000001"}
	}
	return out
}

// call is one request the fake X received.
type call struct {
	endpoint string // "mentions" or "search"
	query    string
	q        xapi.PageQuery
}

// fakeX is a small in-test X: it serves each timeline (the mentions, or a search
// query) newest first, honouring since_id, start_time, max_results and next_token
// like X does (a next_token continues below the last post returned, so posts
// arriving meanwhile do not shift the pages). Hook, when set, runs before each
// request (n counts them from 1) and may fail it.
type fakeX struct {
	mu        sync.Mutex
	timelines map[string][]post
	calls     []call
	hook      func(n int, c call) error
	rateLimit xapi.RateLimit
}

func newFakeX() *fakeX { return &fakeX{timelines: map[string][]post{}} }

// add publishes posts on a timeline ("mentions" or a search query).
func (f *fakeX) add(timeline string, ps ...post) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.timelines[timeline] = append(f.timelines[timeline], ps...)
	slices.SortFunc(f.timelines[timeline], func(a, b post) int { return -care.CompareIDs(a.id, b.id) })
}

func (f *fakeX) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeX) Mentions(ctx context.Context, userID string, q xapi.PageQuery) (*xapi.Page, error) {
	if userID != brandID {
		return nil, fmt.Errorf("mentions of %s, want the brand %s", userID, brandID)
	}
	return f.serve(ctx, call{endpoint: "mentions", q: q}, "mentions", care.SourceMentions)
}

func (f *fakeX) SearchRecent(ctx context.Context, query string, q xapi.PageQuery) (*xapi.Page, error) {
	return f.serve(ctx, call{endpoint: "search", query: query, q: q}, query, care.SourceSearch)
}

func (f *fakeX) serve(ctx context.Context, c call, timeline string, src care.Source) (*xapi.Page, error) {
	f.mu.Lock()
	f.calls = append(f.calls, c)
	n, hook := len(f.calls), f.hook
	all := slices.Clone(f.timelines[timeline])
	rl := f.rateLimit
	f.mu.Unlock()
	if hook != nil {
		if err := hook(n, c); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q := c.q
	if q.SinceID != "" && !q.StartTime.IsZero() {
		return nil, errors.New("since_id and start_time both set")
	}
	before := ""
	if q.NextToken != "" {
		var ok bool
		if before, ok = strings.CutPrefix(q.NextToken, "below-"); !ok {
			return nil, fmt.Errorf("400: invalid next_token %q", q.NextToken)
		}
	}
	size := q.MaxResults
	if size <= 0 {
		size = 100
	}
	var match []post
	for _, p := range all {
		switch {
		case q.SinceID != "" && care.CompareIDs(p.id, q.SinceID) <= 0:
		case q.SinceID == "" && !q.StartTime.IsZero() && p.at.Before(q.StartTime):
		case before != "" && care.CompareIDs(p.id, before) >= 0:
		default:
			match = append(match, p)
		}
	}
	page := &xapi.Page{RateLimit: rl}
	if len(match) > size {
		page.NextToken = "below-" + match[size-1].id
		match = match[:size]
	}
	page.Read = len(match)
	for _, p := range match {
		page.NewestID = care.MaxID(page.NewestID, p.id)
		if p.author == brandID {
			if page.Dropped == nil {
				page.Dropped = map[string]int{}
			}
			page.Dropped["own_post"]++
			continue
		}
		page.Envelopes = append(page.Envelopes, care.Envelope{
			Version: care.EnvelopeVersion, Kind: care.KindMessage, Source: src, ReceivedAt: p.at.Add(time.Minute),
			Message: &care.Message{
				Channel: care.Public, Direction: care.Inbound, ID: p.id, AuthorID: p.author,
				Text: "@PajaritoAir mi vuelo PJ123 lleva 3 horas de retraso", Lang: "es", CreatedAt: p.at,
				ConversationID: p.id, MentionedIDs: []string{brandID}, Summoned: src == care.SourceMentions,
			},
		})
	}
	return page, nil
}

// fakeQueue records what is enqueued; fail, when set, fails an Enqueue.
type fakeQueue struct {
	mu   sync.Mutex
	envs []care.Envelope
	fail func(envs []care.Envelope) error
}

func (q *fakeQueue) Enqueue(ctx context.Context, envs []care.Envelope) error {
	if q.fail != nil {
		if err := q.fail(envs); err != nil {
			return err
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.envs = append(q.envs, envs...)
	return nil
}

// ids returns the ids enqueued from source (all when empty), in order.
func (q *fakeQueue) ids(src care.Source) []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []string
	for _, e := range q.envs {
		if src == "" || e.Source == src {
			out = append(out, e.Message.ID)
		}
	}
	return out
}

// harness is a listener on a fresh table with fakes around it.
type harness struct {
	*Listener
	store   *store.Store
	x       *fakeX
	queue   *fakeQueue
	clock   *testclock.Clock
	logs    *syncBuffer
	metrics *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// lines returns the JSON lines written so far, decoded, and forgets them.
func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(&s.b)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not a JSON line: %s", sc.Bytes())
		}
		out = append(out, m)
	}
	s.b.Reset()
	return out
}

// testConfig is the sample brand's configuration with small pages: mentions, and
// two searches unless sources are given.
func testConfig(t *testing.T, sources ...config.Source) *config.Config {
	t.Helper()
	cfg := config.Defaults()
	cfg.Brand = care.Brand{ID: brandID, Handle: "PajaritoAir"}
	if len(sources) == 0 {
		sources = []config.Source{
			config.NewSource("mentions", config.KindMentions, ""),
			config.NewSource("search-es", config.KindSearch, queryES),
			config.NewSource("search-en", config.KindSearch, queryEN),
		}
	}
	for i := range sources {
		sources[i].PageSize = 10
	}
	cfg.Sources = sources
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

const (
	queryES = `("Pajarito Air" OR #PajaritoAir OR pajaritoair) -is:retweet -from:PajaritoAir lang:es`
	queryEN = `("Pajarito Air" OR #PajaritoAir OR pajaritoair) -is:retweet -from:PajaritoAir lang:en`
)

func newHarness(t *testing.T, cfg *config.Config) *harness {
	t.Helper()
	clk := testclock.New(t0)
	st := storetest.New(t)
	st.Now = clk.Now
	h := &harness{store: st, x: newFakeX(), queue: &fakeQueue{}, clock: clk, logs: &syncBuffer{}, metrics: &syncBuffer{}}
	h.Listener = &Listener{
		Reader: h.x, Store: st, Queue: h.queue, Config: cfg, Now: clk.Now,
		Log:     slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Metrics: h.metrics,
	}
	return h
}

// run runs the listener at time at and fails the test on a run error.
func (h *harness) run(t *testing.T, ctx context.Context, at time.Time) Report {
	t.Helper()
	h.clock.Set(at)
	rep, err := h.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func sourceReport(t *testing.T, rep Report, name string) SourceReport {
	t.Helper()
	for _, s := range rep.Sources {
		if s.Source == name {
			return s
		}
	}
	t.Fatalf("no report for source %s in %+v", name, rep)
	return SourceReport{}
}

// wantAllOnce checks that got holds each of the posts' ids exactly once.
func wantAllOnce(t *testing.T, got []string, ps []post) {
	t.Helper()
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("post %s enqueued %d times", id, n)
		}
	}
	for _, p := range ps {
		if seen[p.id] == 0 {
			t.Errorf("post %s (%s) never enqueued", p.id, p.at.Format(time.TimeOnly))
		}
		delete(seen, p.id)
	}
	for id := range seen {
		t.Errorf("post %s enqueued but not expected", id)
	}
}
