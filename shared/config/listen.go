package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pajarito-care/pajarito/shared/protocol"
)

// This file holds the listener's settings: the sources it reads, how often, how far
// back a new source starts, and the X read budget.

// SourceKind is what a listener source reads.
type SourceKind string

const (
	// KindMentions reads the brand's mentions timeline (GET /2/users/{id}/mentions),
	// an owned read. It takes no query.
	KindMentions SourceKind = "mentions"
	// KindSearch runs a recent search (GET /2/tweets/search/recent) on Query.
	KindSearch SourceKind = "search"
)

// Source is one thing the listener reads every run.
type Source struct {
	// Name identifies the source in checkpoints, logs and metrics: 1-40 lower-case
	// letters, digits and hyphens, unique. Renaming a source starts it afresh (a new
	// checkpoint, read from the look-back).
	Name string     `json:"name"`
	Kind SourceKind `json:"kind"`
	// Query is the search query of a search source (X's search syntax, at most
	// MaxQueryLength characters); mentions sources take none.
	Query string `json:"query,omitempty"`
	// Priority orders the sources: 1 runs first. Sources of equal priority run
	// mentions first, then in the file's order. Among keyword searches it also
	// decides who is slowed first when the budget is short (the highest number).
	// Default 1 for mentions, 2 for searches.
	Priority int `json:"priority"`
	// MaxPages bounds the pages read per run (default 10 for mentions, 3 for
	// searches, at most MaxMaxPages). A run that stops at the bound stores its
	// place and the next run continues from there.
	MaxPages int `json:"max_pages"`
	// PageSize is X's max_results per page, 10-100 (default 100: X bills per post,
	// not per request, so full pages spend fewer requests of the rate limit).
	PageSize int `json:"page_size"`
	// Enabled, true unless set to false, lets a source be paused without losing its
	// checkpoint.
	Enabled bool `json:"enabled"`
}

// Listener defaults and bounds.
const (
	DefaultPollInterval = time.Minute
	// DefaultMonitorInterval is how often the monitor runs; MaxMonitorInterval
	// keeps first-response escalations within minutes of their deadline.
	DefaultMonitorInterval = time.Minute
	MaxMonitorInterval     = 15 * time.Minute
	// MinPollInterval is EventBridge Scheduler's finest rate, rate(1 minute). At it,
	// two searches of 3 pages make at most 90 of the 450 search requests X allows
	// an app per 15 minutes.
	MinPollInterval = time.Minute
	// MaxPollInterval keeps a keyword search's checkpoint well inside recent search's
	// 7-day window, and a customer from waiting more than a day to be found.
	MaxPollInterval = 24 * time.Hour

	DefaultLookback = time.Hour
	MinLookback     = time.Minute
	// MaxLookback is recent search's reach: it covers the last 7 days only.
	MaxLookback = 7 * 24 * time.Hour

	DefaultPageSize         = 100
	MinPageSize             = 10
	MaxPageSize             = 100
	DefaultMentionsMaxPages = 10
	DefaultSearchMaxPages   = 3
	// MaxMaxPages bounds a source's pages per run, so that a run fits in the
	// function's timeout (2,000 posts at 100 a page).
	MaxMaxPages = 20
	// MaxPriority bounds Priority.
	MaxPriority = 100

	// MaxQueryLength is the longest recent-search query X accepts on self-serve
	// access, in characters.
	MaxQueryLength = 512
	// SearchRequestsPer15Min is X's rate limit of recent search per app.
	SearchRequestsPer15Min = 450

	DefaultMonthlyUSD = 50.0
	// Pay-per-use prices of X reads, per post returned (DESIGN.md). They live in the
	// configuration because X changes them.
	DefaultMentionsPriceUSD = 0.001
	DefaultSearchPriceUSD   = 0.005
	// MaxPricePerPostUSD catches a price written in cents or per thousand posts.
	MaxPricePerPostUSD = 1.0
	MaxMonthlyUSD      = 1_000_000.0
)

// DefaultSources is the listener's sources when the file has none: the brand's
// mentions timeline.
func DefaultSources() []Source {
	return []Source{NewSource("mentions", KindMentions, "")}
}

// NewSource returns a source with the defaults of its kind.
func NewSource(name string, kind SourceKind, query string) Source {
	s := Source{Name: name, Kind: kind, Query: query, Priority: 2, MaxPages: DefaultSearchMaxPages, PageSize: DefaultPageSize, Enabled: true}
	if kind == KindMentions {
		s.Priority, s.MaxPages = 1, DefaultMentionsMaxPages
	}
	return s
}

// UnmarshalJSON reads a source, rejecting unknown fields and filling the defaults of
// its kind for the fields it omits.
func (s *Source) UnmarshalJSON(b []byte) error {
	var raw struct {
		Name     string     `json:"name"`
		Kind     SourceKind `json:"kind"`
		Query    string     `json:"query"`
		Priority *int       `json:"priority"`
		MaxPages *int       `json:"max_pages"`
		PageSize *int       `json:"page_size"`
		Enabled  *bool      `json:"enabled"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	*s = NewSource(raw.Name, raw.Kind, raw.Query)
	if raw.Priority != nil {
		s.Priority = *raw.Priority
	}
	if raw.MaxPages != nil {
		s.MaxPages = *raw.MaxPages
	}
	if raw.PageSize != nil {
		s.PageSize = *raw.PageSize
	}
	if raw.Enabled != nil {
		s.Enabled = *raw.Enabled
	}
	return nil
}

// XBudget is the deployment's monthly X read budget.
type XBudget struct {
	// MonthlyUSD is what the listener may spend on X reads per calendar month (UTC),
	// estimated from posts read times PricePerPostUSD.
	MonthlyUSD float64 `json:"monthly_usd"`
	// PricePerPostUSD is X's price of one post read, by source kind.
	PricePerPostUSD Prices `json:"price_per_post_usd"`
}

// Prices are X's prices per post read, in dollars.
type Prices struct {
	Mentions float64 `json:"mentions"`
	Search   float64 `json:"search"`
}

// For returns the price of a post read by a source of kind k.
func (p Prices) For(k SourceKind) float64 {
	if k == KindMentions {
		return p.Mentions
	}
	return p.Search
}

// DefaultXBudget is $50 a month at X's pay-per-use prices.
func DefaultXBudget() XBudget {
	return XBudget{MonthlyUSD: DefaultMonthlyUSD, PricePerPostUSD: Prices{Mentions: DefaultMentionsPriceUSD, Search: DefaultSearchPriceUSD}}
}

// ListenSources returns the enabled sources in the order the listener runs them:
// by priority, mentions first among equals, then in the configuration's order.
func (c *Config) ListenSources() []Source {
	var out []Source
	for _, s := range c.Sources {
		if s.Enabled {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b Source) int {
		if a.Priority != b.Priority {
			return a.Priority - b.Priority
		}
		am, bm := a.Kind == KindMentions, b.Kind == KindMentions
		switch {
		case am && !bm:
			return -1
		case bm && !am:
			return 1
		}
		return 0
	})
	return out
}

// Duration is a duration written as a string ("90s", "5m", "1h", "7d"): the
// protocol's (protocol.Duration), one type for every duration of the file.
type Duration = protocol.Duration

var sourceNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// validateListener reports the listener's invalid settings through bad.
func (c *Config) validateListener(bad func(key, format string, args ...any)) {
	names := map[string]int{}
	queries := map[string]int{}
	mentions := -1
	searchPages := 0
	for i, s := range c.Sources {
		k := func(field string) string { return fmt.Sprintf("sources[%d].%s", i, field) }
		switch {
		case !sourceNameRE.MatchString(s.Name):
			bad(k("name"), "%q is not a source name: use 1-40 lower-case letters, digits and hyphens, starting with a letter or digit (e.g. \"mentions\", \"search-es\")", s.Name)
		default:
			if j, dup := names[s.Name]; dup {
				bad(k("name"), "%q is already the name of sources[%d]: names identify checkpoints, so each source needs its own", s.Name, j)
			} else {
				names[s.Name] = i
			}
		}
		switch s.Kind {
		case KindMentions:
			if strings.TrimSpace(s.Query) != "" {
				bad(k("query"), "a mentions source reads the brand's mentions timeline and takes no query: remove query, or set kind to %q to run it as a keyword search", KindSearch)
			}
			if s.Enabled {
				if mentions >= 0 {
					bad(k("kind"), "sources[%d] already reads the mentions timeline: a second mentions source would read (and pay for) the same posts twice; remove one or disable it (\"enabled\": false)", mentions)
				} else {
					mentions = i
				}
			}
		case KindSearch:
			q := strings.TrimSpace(s.Query)
			switch n := utf8.RuneCountInString(q); {
			case q == "":
				bad(k("query"), "a search source needs a query in X's search syntax, e.g. %q", `("Mi Marca" OR #mimarca) -is:retweet lang:es`)
			case n > MaxQueryLength:
				bad(k("query"), "is %d characters long; X accepts at most %d in a recent search: split it into two sources", n, MaxQueryLength)
			default:
				if j, dup := queries[q]; dup && s.Enabled {
					bad(k("query"), "is the query of sources[%d] too: the same posts would be read (and paid for) twice; remove one", j)
				} else if s.Enabled {
					queries[q] = i
				}
			}
			if s.Enabled && s.MaxPages >= 1 && s.MaxPages <= MaxMaxPages {
				searchPages += s.MaxPages
			}
		default:
			bad(k("kind"), "%q is not a source kind: use %q (the brand's mentions timeline) or %q (a keyword search with a query)", s.Kind, KindMentions, KindSearch)
		}
		if s.Priority < 1 || s.Priority > MaxPriority {
			bad(k("priority"), "%d is out of range: use 1 (runs first) to %d", s.Priority, MaxPriority)
		}
		if s.MaxPages < 1 || s.MaxPages > MaxMaxPages {
			bad(k("max_pages"), "%d is out of range: read 1 to %d pages per run (what is left is read by the next run)", s.MaxPages, MaxMaxPages)
		}
		if s.PageSize < MinPageSize || s.PageSize > MaxPageSize {
			bad(k("page_size"), "%d is out of range: X returns %d to %d posts per page", s.PageSize, MinPageSize, MaxPageSize)
		}
	}

	pollOK := c.checkDuration(bad, "poll_interval", c.PollInterval, MinPollInterval, MaxPollInterval,
		"the schedule's rate: at least 1m (EventBridge Scheduler's finest rate), at most 24h (searches must stay within recent search's 7 days, and customers should not wait longer to be found)")
	if pollOK && c.PollInterval.Std()%time.Minute != 0 {
		bad("poll_interval", "%s is not a whole number of minutes: the schedule's rate is written in minutes, e.g. \"2m\"", c.PollInterval)
		pollOK = false
	}
	if c.checkDuration(bad, "monitor_interval", c.MonitorInterval, MinPollInterval, MaxMonitorInterval,
		"how often the monitor runs: at least 1m (EventBridge Scheduler's finest rate), at most 15m (first-response targets are minutes)") &&
		c.MonitorInterval.Std()%time.Minute != 0 {
		bad("monitor_interval", "%s is not a whole number of minutes: the schedule's rate is written in minutes, e.g. \"1m\"", c.MonitorInterval)
	}
	c.checkDuration(bad, "lookback", c.Lookback, MinLookback, MaxLookback,
		"how far back a new source's first run reads: at least 1m, at most 7d (recent search covers the last 7 days)")

	if pollOK && searchPages > 0 {
		runs := max(1, int((15*time.Minute+c.PollInterval.Std()-1)/c.PollInterval.Std()))
		if n := searchPages * runs; n > SearchRequestsPer15Min {
			bad("sources", "the enabled searches may make %d requests per 15 minutes (max_pages %d in all, %d runs at poll_interval %s), above the %d X allows an app: lower their max_pages or raise poll_interval",
				n, searchPages, runs, c.PollInterval, SearchRequestsPer15Min)
		}
	}

	b := c.XBudget
	if !(b.MonthlyUSD > 0 && b.MonthlyUSD <= MaxMonthlyUSD) {
		bad("x_budget.monthly_usd", "%v is out of range: the monthly X read budget is in dollars, above 0 and at most %.0f; to stop keyword searches, disable them instead (\"enabled\": false), set it in %s or PAJARITO_X_BUDGET_USD", b.MonthlyUSD, MaxMonthlyUSD, FileName)
	}
	for _, p := range []struct {
		key string
		v   float64
	}{{"x_budget.price_per_post_usd.mentions", b.PricePerPostUSD.Mentions}, {"x_budget.price_per_post_usd.search", b.PricePerPostUSD.Search}} {
		if !(p.v > 0 && p.v <= MaxPricePerPostUSD) {
			bad(p.key, "%v is out of range: X's price of one post read, in dollars (e.g. 0.005), above 0 and at most %v; see X's pricing page", p.v, MaxPricePerPostUSD)
		}
	}
}

// checkDuration reports d when it could not be parsed or is outside [lo, hi]; what
// explains the setting. It reports whether d is valid.
func (c *Config) checkDuration(bad func(key, format string, args ...any), key string, d Duration, lo, hi time.Duration, what string) bool {
	if err := d.Err(); err != nil {
		bad(key, "%v; it is %s", err, what)
		return false
	}
	if d.Std() < lo || d.Std() > hi {
		bad(key, "%s is out of range; it is %s", d, what)
		return false
	}
	return true
}
