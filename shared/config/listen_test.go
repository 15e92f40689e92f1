package config

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/protocol"
)

const brandJSON = `"brand":{"id":"1590000000000000001","handle":"PajaritoAir"}`

func TestListenerDefaults(t *testing.T) {
	c, err := Load(writeConfig(t, `{`+brandJSON+`}`), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.PollInterval.Std(); got != time.Minute {
		t.Errorf("poll_interval = %v, want 1m", got)
	}
	if got := c.Lookback.Std(); got != time.Hour {
		t.Errorf("lookback = %v, want 1h", got)
	}
	if c.XBudget != DefaultXBudget() || c.XBudget.MonthlyUSD != 50 || c.XBudget.PricePerPostUSD.For(KindSearch) != 0.005 || c.XBudget.PricePerPostUSD.For(KindMentions) != 0.001 {
		t.Errorf("x_budget = %+v", c.XBudget)
	}
	want := Source{Name: "mentions", Kind: KindMentions, Priority: 1, MaxPages: 10, PageSize: 100, Enabled: true}
	if len(c.Sources) != 1 || c.Sources[0] != want {
		t.Errorf("sources = %+v, want [%+v]", c.Sources, want)
	}
}

func TestListenerSettings(t *testing.T) {
	file := `{` + brandJSON + `,
	  "sources":[
	    {"name":"kw-en","kind":"search","query":"pajarito lang:en","priority":3},
	    {"name":"kw-es","kind":"search","query":"pajarito lang:es","max_pages":2,"page_size":50},
	    {"name":"mentions","kind":"mentions","priority":3},
	    {"name":"old","kind":"search","query":"pajarito","enabled":false}
	  ],
	  "poll_interval":"5m","lookback":"2d",
	  "x_budget":{"monthly_usd":80,"price_per_post_usd":{"search":0.004}}}`
	c, err := Load(writeConfig(t, file), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.PollInterval.Std() != 5*time.Minute || c.Lookback.Std() != 48*time.Hour {
		t.Errorf("durations = %v, %v", c.PollInterval, c.Lookback)
	}
	if c.XBudget.MonthlyUSD != 80 || c.XBudget.PricePerPostUSD.Search != 0.004 || c.XBudget.PricePerPostUSD.Mentions != 0.001 {
		t.Errorf("x_budget = %+v (an omitted price keeps its default)", c.XBudget)
	}
	if s := c.Sources[1]; s.Priority != 2 || s.MaxPages != 2 || s.PageSize != 50 || !s.Enabled {
		t.Errorf("sources[1] = %+v, want search defaults where omitted", s)
	}
	var order []string
	for _, s := range c.ListenSources() {
		order = append(order, s.Name)
	}
	if got := strings.Join(order, ","); got != "kw-es,mentions,kw-en" {
		t.Errorf("run order = %s, want kw-es,mentions,kw-en (priority, then mentions first, then file order; disabled left out)", got)
	}

	// Environment overrides.
	c, err = Load(writeConfig(t, file), envOf(map[string]string{"PAJARITO_POLL_INTERVAL": "2m", "PAJARITO_X_BUDGET_USD": "$120.5"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.PollInterval.Std() != 2*time.Minute || c.XBudget.MonthlyUSD != 120.5 {
		t.Errorf("overrides: poll_interval %v, monthly_usd %v", c.PollInterval, c.XBudget.MonthlyUSD)
	}

	// An empty list turns the listener off.
	c, err = Load(writeConfig(t, `{`+brandJSON+`,"sources":[]}`), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Sources) != 0 || c.Sources == nil {
		t.Errorf("sources = %#v, want an empty list", c.Sources)
	}

	// Durations write back as they are read.
	b, _ := json.Marshal(struct {
		A, B, C Duration
	}{protocol.DurationOf(time.Minute), protocol.DurationOf(90 * time.Minute), protocol.DurationOf(168 * time.Hour)})
	if string(b) != `{"A":"1m","B":"1h30m","C":"7d"}` {
		t.Errorf("durations marshal to %s", b)
	}
}

func TestListenerValidation(t *testing.T) {
	src := func(s string) string { return `{` + brandJSON + `,"sources":[` + s + `]}` }
	search := func(name, query string) string {
		b, _ := json.Marshal(map[string]string{"name": name, "kind": "search", "query": query})
		return string(b)
	}
	tests := []struct {
		name    string
		file    string
		env     map[string]string
		wantErr []string
	}{
		{name: "search without query", file: src(`{"name":"m","kind":"mentions"},{"name":"kw","kind":"search"},{"name":"kw2","kind":"search","query":"  "}`),
			wantErr: []string{"sources[1].query (/", FileName + ")", "needs a query", "sources[2].query"}},
		{name: "query too long", file: src(search("kw", strings.Repeat("ñ", 513))),
			wantErr: []string{"sources[0].query", "513 characters", "at most 512"}},
		{name: "query of 512 characters is fine", file: src(search("kw", strings.Repeat("ñ", 512)))},
		{name: "mentions with a query", file: src(`{"name":"m","kind":"mentions","query":"x"}`),
			wantErr: []string{"sources[0].query", "takes no query"}},
		{name: "bad and duplicate names", file: src(`{"name":"Mentions","kind":"mentions"},` + search("kw", "a") + `,` + search("kw", "b")),
			wantErr: []string{`sources[0].name`, `"Mentions" is not a source name`, `sources[2].name`, "already the name of sources[1]"}},
		{name: "unknown kind", file: src(`{"name":"dm","kind":"dms"}`), wantErr: []string{"sources[0].kind", `"dms" is not a source kind`}},
		{name: "two mentions sources", file: src(`{"name":"a","kind":"mentions"},{"name":"b","kind":"mentions"}`),
			wantErr: []string{"sources[1].kind", "sources[0] already reads the mentions timeline"}},
		{name: "disabled second mentions is fine", file: src(`{"name":"a","kind":"mentions"},{"name":"b","kind":"mentions","enabled":false}`)},
		{name: "duplicate query", file: src(search("a", "x lang:es") + `,` + search("b", "x lang:es")),
			wantErr: []string{"sources[1].query", "query of sources[0] too"}},
		{name: "page size, pages, priority", file: src(`{"name":"m","kind":"mentions","page_size":5,"max_pages":0,"priority":0}`),
			wantErr: []string{"sources[0].page_size", "10 to 100", "sources[0].max_pages", "sources[0].priority"}},
		{name: "unknown field in a source names its index", file: src(`{"name":"m","kind":"mentions","qeury":"x"}`),
			wantErr: []string{"sources[0]", "unknown field", "qeury"}},
		{name: "sources not a list", file: `{` + brandJSON + `,"sources":{"name":"m"}}`, wantErr: []string{"sources", "list of objects"}},
		{name: "search rate limit", file: src(`{"name":"a","kind":"search","query":"a","max_pages":20},{"name":"b","kind":"search","query":"b","max_pages":20}`),
			wantErr: []string{"sources (/", FileName + ")", "600 requests per 15 minutes", "above the 450"}},
		{name: "search rate limit fine at 2m", file: `{` + brandJSON + `,"poll_interval":"2m","sources":[{"name":"a","kind":"search","query":"a","max_pages":20},{"name":"b","kind":"search","query":"b","max_pages":20}]}`},
		{name: "poll interval not a duration", file: `{` + brandJSON + `,"poll_interval":"5 minutes"}`,
			wantErr: []string{"poll_interval (/", FileName + ")", `"5 minutes" is not a duration`, `"15m"`}},
		{name: "poll interval a number", file: `{` + brandJSON + `,"poll_interval":60}`,
			wantErr: []string{"poll_interval", "60 is not a string"}},
		{name: "poll interval too short", file: `{` + brandJSON + `,"poll_interval":"30s"}`,
			wantErr: []string{"poll_interval", "30s is out of range", "at least 1m"}},
		{name: "poll interval too long", file: `{` + brandJSON + `,"poll_interval":"2d"}`,
			wantErr: []string{"poll_interval", "2d is out of range", "at most 24h"}},
		{name: "poll interval not whole minutes", file: `{` + brandJSON + `,"poll_interval":"90s"}`,
			wantErr: []string{"poll_interval", "whole number of minutes"}},
		{name: "monitor interval fine", file: `{` + brandJSON + `,"monitor_interval":"5m"}`},
		{name: "monitor interval too long", file: `{` + brandJSON + `,"monitor_interval":"1h"}`,
			wantErr: []string{"monitor_interval", "1h is out of range", "at most 15m"}},
		{name: "monitor interval not whole minutes", file: `{` + brandJSON + `,"monitor_interval":"90s"}`,
			wantErr: []string{"monitor_interval", "whole number of minutes"}},
		{name: "poll interval from environment", env: map[string]string{"PAJARITO_POLL_INTERVAL": "often"},
			wantErr: []string{"poll_interval (environment variable PAJARITO_POLL_INTERVAL)", `"often" is not a duration`}},
		{name: "lookback beyond recent search", file: `{` + brandJSON + `,"lookback":"8d"}`,
			wantErr: []string{"lookback (/", FileName + ")", "8d is out of range", "7 days"}},
		{name: "lookback of 7 days is fine", file: `{` + brandJSON + `,"lookback":"7d"}`},
		{name: "budget zero", file: `{` + brandJSON + `,"x_budget":{"monthly_usd":0}}`,
			wantErr: []string{"x_budget.monthly_usd (/", FileName + ")", "above 0", "PAJARITO_X_BUDGET_USD"}},
		{name: "budget from environment", env: map[string]string{"PAJARITO_X_BUDGET_USD": "-5"},
			wantErr: []string{"x_budget.monthly_usd (environment variable PAJARITO_X_BUDGET_USD)", "-5 is out of range"}},
		{name: "budget env not a number", env: map[string]string{"PAJARITO_X_BUDGET_USD": "fifty"},
			wantErr: []string{"x_budget.monthly_usd", "PAJARITO_X_BUDGET_USD", `"fifty" is not a number of dollars`}},
		{name: "price in cents", file: `{` + brandJSON + `,"x_budget":{"price_per_post_usd":{"search":0.5,"mentions":5}}}`,
			wantErr: []string{"x_budget.price_per_post_usd.mentions (/", FileName + ")", "5 is out of range"}},
		{name: "negative price", file: `{` + brandJSON + `,"x_budget":{"price_per_post_usd":{"search":-0.005}}}`,
			wantErr: []string{"x_budget.price_per_post_usd.search", "above 0"}},
		{name: "unknown budget field", file: `{` + brandJSON + `,"x_budget":{"monthly":50}}`,
			wantErr: []string{"unknown field", "monthly"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = writeConfig(t, tt.file)
			}
			env := map[string]string{"PAJARITO_BRAND_ID": "1", "PAJARITO_BRAND_HANDLE": "a"}
			for k, v := range tt.env {
				env[k] = v
			}
			_, err := Load(path, envOf(env))
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Load succeeded, want error containing %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
