package protocol

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

func TestDefaultConfigIsValid(t *testing.T) {
	c := DefaultConfig()
	if errs := c.Validate(); len(errs) > 0 {
		t.Fatalf("default configuration: %v", errs)
	}
	if errs := testConfig(); len(errs.Validate()) > 0 {
		t.Fatalf("test configuration: %v", errs.Validate())
	}
}

// The repository's pajarito.json has a complete protocol section that builds an
// engine (the config package checks the whole file; this checks the engine's view).
func TestSampleBrandConfig(t *testing.T) {
	b, err := os.ReadFile("../../pajarito.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Protocol json.RawMessage `json:"protocol"`
	}
	if err := json.Unmarshal(b, &file); err != nil || file.Protocol == nil {
		t.Fatalf("pajarito.json has no protocol section: %v", err)
	}
	c := DefaultConfig()
	if err := json.Unmarshal(file.Protocol, &c); err != nil {
		t.Fatal(err)
	}
	e, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range TemplateKinds {
		for _, l := range []string{"es", "en"} {
			if c.Templates[kind].Text[l] == "" {
				t.Errorf("template %s.%s missing", kind, l)
			}
		}
	}
	if e.Config().Timezone != "Europe/Madrid" || len(e.Config().Crisis.Topics) < 3 || e.Config().Tier != SelfServe {
		t.Errorf("sample config: %+v", e.Config())
	}
	if got := [3]time.Duration{e.FirstResponseWithin(850), e.FirstResponseWithin(799), e.FirstResponseWithin(0)}; got != [3]time.Duration{15 * time.Minute, time.Hour, time.Hour} {
		t.Errorf("sample first-response targets for priorities 850, 799 and 0: %v", got)
	}
	if sla := e.Config().SLA; !sla.BusinessHours || sla.HardLimit.Std() != 48*time.Hour {
		t.Errorf("sample sla: %+v", sla)
	}
}

func TestConfigJSON(t *testing.T) {
	c := DefaultConfig()
	in := `{
	  "tier": "enterprise",
	  "langs": ["es"],
	  "default_lang": "es",
	  "auto_reply_cooldown": "12h",
	  "business_hours": {"mon": "09:00-17:00"},
	  "templates": {"praise": {"es": "¡Gracias, {first_name}! {signature}", "tones": {"serious": {"es": "Gracias. {signature}"}}, "allow_links": true}},
	  "routing": [{"name": "only", "department": "social"}],
	  "priority": {"intent": {"sales": 200}},
	  "crisis": {"min_count": 5, "topics": [{"name": "delays", "keywords": ["retraso*"], "label": {"es": "los retrasos"}}]},
	  "move_to_dm": {"keywords": ["mi cuenta"]}
	}`
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	if c.Tier != Enterprise || len(c.Langs) != 1 || c.AutoReplyCooldown.Std() != 12*time.Hour {
		t.Errorf("scalars: %+v", c)
	}
	if len(c.BusinessHours) != 1 {
		t.Errorf("business hours merged with defaults: %v", c.BusinessHours)
	}
	if p := c.Templates[TemplatePraise]; p.Text["es"] != "¡Gracias, {first_name}! {signature}" || p.Text["en"] != "" || !p.AllowLinks || p.Tones[ToneSerious]["es"] == "" {
		t.Errorf("a template from the file replaces the default whole: %+v", p)
	}
	if c.Templates[TemplateComplaint].Text["en"] == "" {
		t.Error("templates absent from the file keep their defaults")
	}
	if len(c.Routing) != 1 || c.Routing[0].Keywords != nil || c.Routing[0].UrgencyKinds != nil {
		t.Errorf("routing replaced with old elements' fields: %+v", c.Routing)
	}
	if c.Priority.Intent["sales"] != 200 || c.Priority.Intent["complaint"] != 120 || c.Priority.Base != 300 {
		t.Errorf("priority maps merge key by key: %+v", c.Priority)
	}
	if c.Crisis.MinCount != 5 || c.Crisis.Window.Std() != 15*time.Minute || len(c.Crisis.Topics) != 1 {
		t.Errorf("crisis: %+v", c.Crisis)
	}
	if len(c.MoveToDM.Keywords) != 1 || !c.MoveToDM.PII {
		t.Errorf("move_to_dm: %+v", c.MoveToDM)
	}
	// Round trip.
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	c2 := DefaultConfig()
	if err := json.Unmarshal(b, &c2); err != nil {
		t.Fatalf("round trip: %v\n%s", err, b)
	}
	if c2.Templates[TemplatePraise].Tones[ToneSerious]["es"] != "Gracias. {signature}" || c2.AutoReplyCooldown != c.AutoReplyCooldown {
		t.Error("round trip lost settings")
	}
	for _, tt := range []struct{ json, want string }{
		{`{"tyer": "x"}`, `unknown field "tyer"`},
		{`{"templates": {"complaint": {"es": 3}}}`, "protocol.templates.complaint: es"},
		{`{"templates": {"complaint": {"tones": {"apology": "x"}}}}`, "protocol.templates.complaint: tones"},
		{`{"crisis": {"windw": "1m"}}`, `crisis: json: unknown field "windw"`},
		{`{"move_to_dm": {"pi": true}}`, `move_to_dm: json: unknown field "pi"`},
	} {
		c := DefaultConfig()
		err := json.Unmarshal([]byte(tt.json), &c)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.json, err, tt.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		path string // the path of the expected error
		msg  string // a substring of its message
	}{
		{"tier", func(c *Config) { c.Tier = "gold" }, "tier", "not a tier"},
		{"default language", func(c *Config) { c.DefaultLang = "fr" }, "default_lang", "not one of langs"},
		{"timezone", func(c *Config) { c.Timezone = "Europe/Madird" }, "timezone", "IANA"},
		{"weekday", func(c *Config) { c.BusinessHours["lunes"] = "08:00-20:00" }, "business_hours.lunes", "not a weekday"},
		{"hours", func(c *Config) { c.BusinessHours["mon"] = "8-20" }, "business_hours.mon", "HH:MM"},
		{"overnight", func(c *Config) { c.BusinessHours["mon"] = "22:00-02:00" }, "business_hours.mon", "cannot cross midnight"},
		{"holiday", func(c *Config) { c.Holidays = []string{"25/12/2026"} }, "holidays[0]", "not a date"},
		{"signature", func(c *Config) { delete(c.Signature, "en") }, "signature.en", "missing"},
		{"agent signature", func(c *Config) { c.AgentSignature = "^Ana" }, "agent_signature", "{agent}"},
		{"cooldown", func(c *Config) { c.AutoReplyCooldown = ParseDuration("10m") }, "auto_reply_cooldown", "out of range"},
		{"cooldown text", func(c *Config) { c.AutoReplyCooldown = ParseDuration("a day") }, "auto_reply_cooldown", "not a duration"},
		{"max age", func(c *Config) { c.AutoReplyMaxAge = ParseDuration("1m") }, "auto_reply_max_age", "out of range"},
		{"max age text", func(c *Config) { c.AutoReplyMaxAge = ParseDuration("ayer") }, "auto_reply_max_age", "not a duration"},
		{"spam auto reply", func(c *Config) { c.AutoReply = append(c.AutoReply, "spam") }, "auto_reply[5]", "never answered"},
		{"complaint without apology es", func(c *Config) { setText(c, TemplateComplaint, "es", "Hola {first_name}, lo revisamos. {signature}") },
			"templates.complaint.es", "must start with an apology"},
		{"incident without apology en", func(c *Config) {
			setText(c, TemplateIncident, "en", "Hi {first_name}, we're on it. Sorry! {signature}")
		},
			"templates.incident.en", "must start with an apology"},
		{"crisis without apology", func(c *Config) { setText(c, TemplateCrisis, "es", "Estamos al tanto de {topic}. {signature}") }, "templates.crisis.es", "apology"},
		{"out of hours without an apology tone", func(c *Config) {
			t := c.Templates[TemplateOutOfHours]
			t.Tones = nil
			c.Templates[TemplateOutOfHours] = t
		}, "templates.out_of_hours.es", "add tones.apology.es"},
		{"serious tone without apology", func(c *Config) {
			t := c.Templates[TemplateMoveToDM]
			t.Tones[ToneSerious] = map[string]string{"es": "Escríbenos por DM ya. {signature}", "en": "We're sorry, DM us now. {signature}"}
			c.Templates[TemplateMoveToDM] = t
		}, "templates.move_to_dm.tones.serious.es", "serious tone"},
		{"problema", func(c *Config) {
			setText(c, TemplateComplaint, "es", "Lo sentimos, {first_name}: revisamos el problema. {signature}")
		}, "templates.complaint.es", `must not contain "problema" (forbidden_words): write "incidencia"`},
		{"praise apologises", func(c *Config) {
			setText(c, TemplatePraise, "en", "Thanks {first_name}, and sorry for the wait! {signature}")
		}, "templates.praise.en", "must not apologise"},
		{"unknown placeholder", func(c *Config) { setText(c, TemplateQuestion, "es", "Hola {nombre}. {signature}") }, "templates.question.es", "placeholder {nombre} is unknown"},
		{"topic outside the crisis template", func(c *Config) { setText(c, TemplateQuestion, "en", "Hi, about {topic}. {signature}") }, "templates.question.en", "only known in the crisis template"},
		{"statement time outside its template", func(c *Config) {
			setText(c, TemplateCrisis, "en", "We're sorry, {first_name}: see {statement_time}. {signature}")
		}, "templates.crisis.en", "only known in the crisis_statement template"},
		{"crisis statement template without apology", func(c *Config) {
			setText(c, TemplateCrisisStatement, "en", "Hi {first_name}: our statement on {topic} is on our profile ({statement_time}). {signature}")
		}, "templates.crisis_statement.en", "apolog"},
		{"stray brace", func(c *Config) { setText(c, TemplateQuestion, "en", "Hi {first_name. {signature}") }, "templates.question.en", "stray"},
		{"link without allow_links", func(c *Config) { setText(c, TemplateQuestion, "es", "Hola, mira pajaritoair.com/ayuda {signature}") }, "templates.question.es", "contains a link"},
		{"too long", func(c *Config) { setText(c, TemplateQuestion, "es", strings.Repeat("Hola. ", 50)+"{signature}") }, "templates.question.es", "renders to up to"},
		{"missing language", func(c *Config) { delete(c.Templates[TemplateSales].Text, "en") }, "templates.sales.en", "missing"},
		{"missing template", func(c *Config) { delete(c.Templates, TemplateCrisis) }, "templates.crisis", "missing"},
		{"unknown template", func(c *Config) { c.Templates["welcome"] = Template{Text: map[string]string{"es": "Hola"}} }, "templates.welcome", "not a template kind"},
		{"unknown tone", func(c *Config) {
			t := c.Templates[TemplateQuestion]
			t.Tones = map[string]map[string]string{"friendly": {"es": "Hola"}}
			c.Templates[TemplateQuestion] = t
		}, "templates.question.tones.friendly", "not a tone"},
		{"channels needed", func(c *Config) { c.Channels = map[string]string{} }, "templates.out_of_hours.es", "channels.es is not set"},
		{"channels with a link", func(c *Config) { c.Channels["es"] = "pajaritoair.com/ayuda" }, "channels.es", "contains a link"},
		{"bad forbidden term", func(c *Config) { c.ForbiddenWords = append(c.ForbiddenWords, "@@") }, "forbidden_words[3]", "no letters"},
		{"replacement of nothing", func(c *Config) { c.Replacements["fallo"] = "incidencia" }, "replacements.fallo", "not one of forbidden_words"},
		{"replacement forbidden", func(c *Config) { c.Replacements["problema"] = "problemas" }, "replacements.problema", "itself forbidden"},
		{"default department", func(c *Config) { c.DefaultDepartment = "general" }, "default_department", "not one of departments"},
		{"duplicate department", func(c *Config) { c.Departments = append(c.Departments, "billing") }, "departments[6]", "already"},
		{"rule department", func(c *Config) { c.Routing[1].Department = "finance" }, "routing[1].department", "not one of departments"},
		{"rule intent", func(c *Config) { c.Routing[1].Intents = []string{"complain"} }, "routing[1].intents[0]", "not an intent"},
		{"rule pii", func(c *Config) { c.Routing[1].PII = []string{"passport"} }, "routing[1].pii[0]", "not a kind of personal data"},
		{"rule name", func(c *Config) { c.Routing[2].Name = c.Routing[1].Name }, "routing[2].name", "already the name"},
		{"rule channel", func(c *Config) { c.Routing[0].Channel = "email" }, "routing[0].channel", "not a channel"},
		{"move_to_dm department", func(c *Config) { c.MoveToDM.Departments = []string{"finance"} }, "move_to_dm.departments[0]", "not one of departments"},
		{"priority intent", func(c *Config) { c.Priority.Intent["complain"] = 3 }, "priority.intent.complain", "not an intent"},
		{"priority level", func(c *Config) { c.Priority.Urgency["urgent"] = 3 }, "priority.urgency.urgent", "not an urgency level"},
		{"priority base", func(c *Config) { c.Priority.Base = 1200 }, "priority.base", "out of range"},
		{"crisis window", func(c *Config) { c.Crisis.Window = ParseDuration("90s") }, "crisis.window", "whole minutes"},
		{"crisis baseline", func(c *Config) { c.Crisis.Baseline = ParseDuration("90m") }, "crisis.baseline", "whole hours"},
		{"crisis ratio", func(c *Config) { c.Crisis.CloseRatio = 1.5 }, "crisis.close_ratio", "out of range"},
		{"crisis replies", func(c *Config) { c.Crisis.MaxRepliesPerWindow = 500 }, "crisis.max_replies_per_window", "from 1 to 100"},
		{"crisis topic name", func(c *Config) { c.Crisis.Topics[0].Name = "Delays!" }, "crisis.topics[0].name", "not a topic name"},
		{"crisis topic label", func(c *Config) { delete(c.Crisis.Topics[1].Label, "en") }, "crisis.topics[1].label.en", "missing"},
		{"crisis topic keywords", func(c *Config) { c.Crisis.Topics[2].Keywords = nil }, "crisis.topics[2].keywords", "list the words"},
		{"no sla targets", func(c *Config) { c.SLA.FirstResponse = nil }, "sla.first_response", "at least"},
		{"sla without a band at 0", func(c *Config) {
			c.SLA.FirstResponse = []ResponseTarget{{MinPriority: 100, Within: ParseDuration("1h")}}
		}, "sla.first_response", "lowest priorities"},
		{"sla priority", func(c *Config) {
			c.SLA.FirstResponse = append(c.SLA.FirstResponse, ResponseTarget{MinPriority: 1000, Within: ParseDuration("5m")})
		}, "sla.first_response[1].min_priority", "out of range"},
		{"sla band twice", func(c *Config) {
			c.SLA.FirstResponse = append(c.SLA.FirstResponse, ResponseTarget{MinPriority: 0, Within: ParseDuration("5m")})
		}, "sla.first_response[1].min_priority", "already the min_priority of sla.first_response[0]"},
		{"sla within text", func(c *Config) { c.SLA.FirstResponse[0].Within = ParseDuration("an hour") }, "sla.first_response[0].within", "not a duration"},
		{"sla within range", func(c *Config) { c.SLA.FirstResponse[0].Within = ParseDuration("30s") }, "sla.first_response[0].within", "out of range"},
		{"sla higher priority slower", func(c *Config) {
			c.SLA.FirstResponse = []ResponseTarget{{MinPriority: 0, Within: ParseDuration("1h")}, {MinPriority: 800, Within: ParseDuration("2h")}}
		}, "sla.first_response[1].within", "2h for priority 800 and above is longer than the 1h of priority 0 and above (sla.first_response[0])"},
		{"sla target beyond the hard limit", func(c *Config) { c.SLA.FirstResponse[0].Within = ParseDuration("3d") },
			"sla.first_response[0].within", "longer than sla.hard_limit 2d"},
		{"sla hard limit text", func(c *Config) { c.SLA.HardLimit = ParseDuration("two days") }, "sla.hard_limit", "not a duration"},
		{"sla hard limit range", func(c *Config) { c.SLA.HardLimit = ParseDuration("31d") }, "sla.hard_limit", "from 1h to 30d"},
		{"sla business hours never open", func(c *Config) {
			for _, d := range weekdayKeys {
				c.BusinessHours[d] = "closed"
			}
		}, "sla.business_hours", "no open hours"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testConfig()
			tt.edit(&c)
			errs := c.Validate()
			for _, e := range errs {
				if e.Path == tt.path && strings.Contains(e.Message, tt.msg) {
					return
				}
			}
			t.Errorf("no error at %s saying %q; got %v", tt.path, tt.msg, errs)
		})
	}
	// New reports them all, each with its path under "protocol.".
	c := testConfig()
	c.Tier, c.Timezone = "gold", "Mars/Olympus"
	_, err := New(c)
	if err == nil || !strings.Contains(err.Error(), "protocol.tier: ") || !strings.Contains(err.Error(), "protocol.timezone: ") {
		t.Errorf("New: %v", err)
	}
}

// The sla section decodes over the defaults, its targets replacing the default
// ones whole; the sample pajarito.json's targets are what its comment says.
func TestSLAConfigJSON(t *testing.T) {
	c := DefaultConfig()
	if got := c.SLA; len(got.FirstResponse) != 1 || got.FirstResponse[0].MinPriority != 0 || got.FirstResponse[0].Within.Std() != time.Hour ||
		!got.BusinessHours || got.HardLimit.Std() != 48*time.Hour {
		t.Errorf("default sla: %+v", got)
	}
	in := `{"sla": {"first_response": [{"min_priority": 800, "within": "15m"}, {"min_priority": 0, "within": "90s"}]}}`
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	want := []ResponseTarget{{800, DurationOf(15 * time.Minute)}, {0, DurationOf(90 * time.Second)}}
	if got := c.SLA.FirstResponse; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("first_response = %+v, want %+v", got, want)
	}
	if !c.SLA.BusinessHours || c.SLA.HardLimit.Std() != 48*time.Hour {
		t.Errorf("settings absent from the file keep their defaults: %+v", c.SLA)
	}
	b, err := json.Marshal(c.SLA)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != `{"first_response":[{"min_priority":800,"within":"15m"},{"min_priority":0,"within":"1m30s"}],"business_hours":true,"hard_limit":"2d"}` {
		t.Errorf("marshalled sla %s", got)
	}
	for _, tt := range []struct{ json, want string }{
		{`{"sla": {"hard_limt": "2d"}}`, `sla: json: unknown field "hard_limt"`},
		{`{"sla": {"first_response": [{"priority": 800, "within": "15m"}]}}`, `sla: json: unknown field "priority"`},
	} {
		c := DefaultConfig()
		if err := json.Unmarshal([]byte(tt.json), &c); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.json, err, tt.want)
		}
	}
}

func TestDurationString(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"}, {30 * time.Second, "30s"}, {90 * time.Second, "1m30s"}, {10 * time.Minute, "10m"},
		{time.Hour, "1h"}, {90 * time.Minute, "1h30m"}, {24 * time.Hour, "24h"}, {48 * time.Hour, "2d"},
	} {
		if got := DurationOf(tt.d).String(); got != tt.want {
			t.Errorf("DurationOf(%v).String() = %q, want %q", tt.d, got, tt.want)
		}
		if back := ParseDuration(DurationOf(tt.d).String()); back.Std() != tt.d || back.err != nil {
			t.Errorf("%q parses back as %v (%v)", DurationOf(tt.d).String(), back.Std(), back.err)
		}
	}
}

func setText(c *Config, kind, lang, text string) {
	t := c.Templates[kind]
	m := map[string]string{}
	for k, v := range t.Text {
		m[k] = v
	}
	m[lang] = text
	t.Text = m
	c.Templates[kind] = t
}
