package protocol

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Tier is the deployment's X API tier: it decides whether automatic replies may
// answer posts that did not summon the brand.
type Tier string

const (
	// SelfServe tiers may auto-reply only to posts whose author mentioned or quoted
	// the brand (or wrote it a DM). The default.
	SelfServe Tier = "self_serve"
	// Enterprise may auto-reply to any post.
	Enterprise Tier = "enterprise"
)

// Template kinds: one per intent that is acknowledged automatically, and the
// situational ones.
const (
	TemplateComplaint  = "complaint"
	TemplateIncident   = "incident"
	TemplateQuestion   = "question"
	TemplatePraise     = "praise"
	TemplateSales      = "sales"
	TemplateMoveToDM   = "move_to_dm"
	TemplateOutOfHours = "out_of_hours"
	TemplateCrisis     = "crisis"
	// TemplateCrisisFollowUp tells each affected customer, once, that the
	// crisis is over ({topic} is its label).
	TemplateCrisisFollowUp = "crisis_followup"
	// TemplateCrisisStatement, when configured, replaces the crisis template
	// once the crisis's public statement is out: it points the customer to
	// it in words, without a link ({statement_time} is when its latest post
	// went out, in the business hours' time zone).
	TemplateCrisisStatement = "crisis_statement"
)

// OptionalTemplateKinds lists the template kinds a configuration may have.
var OptionalTemplateKinds = []string{TemplateCrisisStatement}

// TemplateKinds lists the template kinds every configuration has.
var TemplateKinds = []string{TemplateComplaint, TemplateIncident, TemplateQuestion, TemplatePraise, TemplateSales, TemplateMoveToDM, TemplateOutOfHours, TemplateCrisis, TemplateCrisisFollowUp}

// Tones of a template. A template's plain text is its default tone; it may add:
const (
	// ToneApology is used for complaints and incidents (templates that serve every
	// intent, move_to_dm and out_of_hours, need it to open with an apology).
	ToneApology = "apology"
	// ToneSerious is used for grave cases (safety, medical, legal threats, fraud).
	ToneSerious = "serious"
)

// Placeholders a template may use.
var Placeholders = []string{"{handle}", "{first_name}", "{hours}", "{channels}", "{signature}", "{topic}", "{statement_time}"}

// Config is the care protocol: the "protocol" section of pajarito.json. Start from
// DefaultConfig; decoding JSON over it replaces what the JSON holds (lists and
// templates whole, maps key by key).
type Config struct {
	// Tier is "self_serve" (default) or "enterprise" (PAJARITO_TIER overrides it).
	Tier Tier `json:"tier"`
	// DefaultLang is the brand's language, used when a message is in another one;
	// Langs are the languages every template is written in.
	DefaultLang string   `json:"default_lang"`
	Langs       []string `json:"langs"`
	// Timezone is the IANA zone of the business hours ("Europe/Madrid").
	Timezone string `json:"timezone"`
	// BusinessHours per weekday ("mon" … "sun"): "08:00-22:00", several ranges
	// separated by commas ("09:00-14:00, 16:00-19:00"), "00:00-24:00" or "closed"; a
	// day left out is closed. No business hours at all means always open.
	BusinessHours map[string]string `json:"business_hours"`
	// Holidays are closed days, "2006-01-02" in the brand's time zone.
	Holidays []string `json:"holidays"`
	// HoursText, per language, replaces the generated text of {hours}.
	HoursText map[string]string `json:"hours_text,omitempty"`
	// Channels, per language, is the text of {channels}: the other ways to reach the
	// brand ("el chat de la app o el 900 000 000").
	Channels map[string]string `json:"channels"`
	// Signature, per language, signs automatic replies ({signature}; appended when a
	// template does not place it): "^Equipo".
	Signature map[string]string `json:"signature"`
	// AgentSignature signs agents' replies; {agent} is the agent's first name: "^{agent}".
	AgentSignature string `json:"agent_signature"`
	// AutoReplyCooldown: a case gets at most one automatic reply per cooldown.
	AutoReplyCooldown Duration `json:"auto_reply_cooldown"`
	// AutoReplyMaxAge, when set, withholds the automatic reply from a message
	// written longer ago (found late: a first run reading back days, a backlog
	// after an outage), for a person to answer: "we're looking into it right
	// now" days later reads as broken. 0 (the default): no limit.
	AutoReplyMaxAge Duration `json:"auto_reply_max_age"`
	// AutoReply lists the intents acknowledged automatically (praise is thanked).
	AutoReply []string `json:"auto_reply"`
	// AllowLinks lets every automatic reply carry links (each template may opt in
	// with its own allow_links). Off by default: a post with a link costs $0.20
	// instead of $0.015.
	AllowLinks bool `json:"allow_links"`
	// MoveToDM says when a public conversation moves to DM.
	MoveToDM MoveToDM `json:"move_to_dm"`
	// GraveKinds are the urgency kinds that make a case grave: escalated, moved to
	// DM, answered in the serious tone. A critical urgency is always grave.
	GraveKinds []string `json:"grave_urgency_kinds"`
	// ForbiddenWords never appear in a reply (terms, see package doc);
	// Replacements suggest the word to write instead.
	ForbiddenWords []string          `json:"forbidden_words"`
	Replacements   map[string]string `json:"replacements"`
	// Apologies adds phrases that count as an apology to the built-in ones.
	Apologies []string `json:"apologies"`
	// Templates by kind (see TemplateKinds).
	Templates map[string]Template `json:"templates"`
	// Departments are the agents' queues; DefaultDepartment gets what no rule routes.
	Departments       []string `json:"departments"`
	DefaultDepartment string   `json:"default_department"`
	// Routing rules, in order: the first that matches chooses the department.
	Routing []RouteRule `json:"routing"`
	// Priority weights.
	Priority Weights `json:"priority"`
	// RepeatWindow: the customer's other cases opened within it raise the priority.
	RepeatWindow Duration `json:"repeat_window"`
	// Crisis detection.
	Crisis CrisisConfig `json:"crisis"`
	// SLA is the first-response service level the monitor escalates on.
	SLA SLAConfig `json:"sla"`
	// Approval says which agents' replies wait for another agent's approval
	// (a contributor's always do).
	Approval ApprovalConfig `json:"approval"`
}

// ApprovalConfig says when an agent's reply waits for another agent's (or an
// admin's) approval before it is sent, as a contributor's always does.
type ApprovalConfig struct {
	// DuringCrisis: every reply on a case whose topic is in an open crisis.
	DuringCrisis bool `json:"during_crisis"`
	// FollowersOver, when above 0: every reply to a customer with more
	// followers than this.
	FollowersOver int `json:"followers_over"`
	// AlertAfter: a reply that has waited longer for an approval is an alert
	// to the team (DefaultApprovalAlertAfter when 0).
	AlertAfter Duration `json:"alert_after"`
}

// DefaultApprovalAlertAfter is how long a reply may wait for an approval
// before the team is alerted.
const DefaultApprovalAlertAfter = 15 * time.Minute

// ApprovalAlertAfter is AlertAfter, or its default.
func (c ApprovalConfig) ApprovalAlertAfter() time.Duration {
	if c.AlertAfter.d > 0 {
		return c.AlertAfter.d
	}
	return DefaultApprovalAlertAfter
}

// SLAConfig is the first-response service level: an open case without a first
// response is due within its priority's target, counted from when the customer
// started waiting in business time (BusinessHours) or wall-clock time, and at the
// latest after HardLimit of wall-clock time, whatever the hours. A case past its
// due time is escalated once (see Engine.FirstResponseDue and package monitor).
type SLAConfig struct {
	// FirstResponse are the targets by priority band: a case gets the target of
	// the band with the highest MinPriority at or below its priority. One band has
	// MinPriority 0, so that every case has a target.
	FirstResponse []ResponseTarget `json:"first_response"`
	// BusinessHours counts the targets in business time: only the hours the brand
	// is open (business_hours, holidays and timezone) count.
	BusinessHours bool `json:"business_hours"`
	// HardLimit is the wall-clock time after which a case without a first response
	// is overdue whatever the hours.
	HardLimit Duration `json:"hard_limit"`
}

// ResponseTarget is the first-response target of the cases of priority
// MinPriority (0–999) and above, up to the next band.
type ResponseTarget struct {
	MinPriority int      `json:"min_priority"`
	Within      Duration `json:"within"`
}

// MoveToDM says when a public conversation moves to DM.
type MoveToDM struct {
	// PII: personal data posted in public.
	PII bool `json:"pii"`
	// Grave cases.
	Grave bool `json:"grave"`
	// Departments whose matters are private (account, payment, booking), and
	// Keywords of private matters whatever the department: they move to DM the
	// messages that ask something of the team (not praise, spam or chatter).
	Departments []string `json:"departments"`
	Keywords    []string `json:"keywords"`
}

// RouteRule routes matching messages to Department. Every condition given must hold
// (and any value of a list may match); a rule without conditions matches all.
type RouteRule struct {
	Name         string   `json:"name"`
	Department   string   `json:"department"`
	Intents      []string `json:"intents,omitempty"`
	UrgencyKinds []string `json:"urgency_kinds,omitempty"`
	Langs        []string `json:"langs,omitempty"`
	// Keywords are terms (see package doc) looked for in the message text.
	Keywords []string `json:"keywords,omitempty"`
	// PII kinds found in the message (card, iban, booking, …).
	PII []string `json:"pii,omitempty"`
	// Channel is "public" or "dm"; empty for both.
	Channel string `json:"channel,omitempty"`
}

// CrisisConfig configures crisis detection: a topic is in crisis when the
// complaints about it within Window reach MinCount and Factor times what Baseline
// predicts for a window; it closes when they fall below CloseRatio of the count
// that opened it, after MinDuration.
type CrisisConfig struct {
	Window      Duration `json:"window"`
	Baseline    Duration `json:"baseline"`
	MinCount    int      `json:"min_count"`
	Factor      float64  `json:"factor"`
	CloseRatio  float64  `json:"close_ratio"`
	MinDuration Duration `json:"min_duration"`
	// QuietAfterManualOff keeps detection from reopening a crisis a person closed.
	QuietAfterManualOff Duration `json:"quiet_after_manual_off"`
	// MaxRepliesPerWindow bounds the automatic crisis replies per topic and window
	// (fixed windows of Window): X allows 100 posts per 15 minutes to the brand's
	// account, which agents and other replies share; beyond the bound related cases
	// are queued without an automatic reply.
	MaxRepliesPerWindow int `json:"max_replies_per_window"`
	// FollowUpAfter is how long after a crisis closes its follow-ups start
	// (the crisis_followup template, or the text an admin wrote for the
	// crisis): the time to edit that text once it is over.
	FollowUpAfter Duration `json:"followup_after"`
	// Intents counted (default complaint and incident).
	Intents []string      `json:"intents"`
	Topics  []CrisisTopic `json:"topics"`
}

// CrisisTopic is a subject complaints may spike about.
type CrisisTopic struct {
	// Name identifies the topic in the store and alerts: lower-case letters, digits,
	// - and _.
	Name string `json:"name"`
	// Keywords are terms (see package doc): "retraso*|delay*".
	Keywords []string `json:"keywords"`
	// Label, per language, is the text of {topic} in the crisis template: "los retrasos".
	Label map[string]string `json:"label"`
}

// Template is one reply template in several languages (and tones). In JSON:
// {"es": "…", "en": "…", "tones": {"apology": {"es": "…"}}, "allow_links": false}.
type Template struct {
	Text       map[string]string
	Tones      map[string]map[string]string
	AllowLinks bool
}

// UnmarshalJSON reads a template; keys other than "tones" and "allow_links" are
// languages.
func (t *Template) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("a template is an object of texts by language, like {\"es\": \"…\", \"en\": \"…\"}: %w", err)
	}
	*t = Template{Text: map[string]string{}}
	for k, v := range raw {
		switch k {
		case "tones":
			dec := json.NewDecoder(bytes.NewReader(v))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&t.Tones); err != nil {
				return fmt.Errorf("tones: %w (tones is {\"apology\": {\"es\": \"…\"}})", err)
			}
		case "allow_links":
			if err := json.Unmarshal(v, &t.AllowLinks); err != nil {
				return fmt.Errorf("allow_links: %w", err)
			}
		default:
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("%s: %w (write the %s text as a string)", k, err, k)
			}
			t.Text[k] = s
		}
	}
	return nil
}

// MarshalJSON writes a template as UnmarshalJSON reads it.
func (t Template) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	for k, v := range t.Text {
		m[k] = v
	}
	if len(t.Tones) > 0 {
		m["tones"] = t.Tones
	}
	if t.AllowLinks {
		m["allow_links"] = true
	}
	return json.Marshal(m)
}

// UnmarshalJSON decodes c's JSON over c, rejecting unknown fields. Lists in the
// JSON replace c's (encoding/json would otherwise reuse the old elements).
func (c *Config) UnmarshalJSON(b []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return err
	}
	for k := range top {
		switch k {
		case "langs":
			c.Langs = nil
		case "holidays":
			c.Holidays = nil
		case "auto_reply":
			c.AutoReply = nil
		case "grave_urgency_kinds":
			c.GraveKinds = nil
		case "forbidden_words":
			c.ForbiddenWords = nil
		case "apologies":
			c.Apologies = nil
		case "departments":
			c.Departments = nil
		case "routing":
			c.Routing = nil
		case "business_hours":
			c.BusinessHours = nil // the file's week replaces the default one whole
		}
	}
	// Templates one by one first, so that an error names the template.
	if raw, ok := top["templates"]; ok {
		var tm map[string]json.RawMessage
		if err := json.Unmarshal(raw, &tm); err != nil {
			return fmt.Errorf("protocol.templates: %w (templates is an object of templates by kind)", err)
		}
		for _, k := range sortedKeys(tm) {
			var t Template
			if err := t.UnmarshalJSON(tm[k]); err != nil {
				return fmt.Errorf("protocol.templates.%s: %w", k, err)
			}
		}
	}
	type plain Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode((*plain)(c)); err != nil {
		return fmt.Errorf("protocol: %w", err)
	}
	return nil
}

// UnmarshalJSON decodes over m, the lists in the JSON replacing m's.
func (m *MoveToDM) UnmarshalJSON(b []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return err
	}
	if _, ok := top["departments"]; ok {
		m.Departments = nil
	}
	if _, ok := top["keywords"]; ok {
		m.Keywords = nil
	}
	type plain MoveToDM
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode((*plain)(m)); err != nil {
		return fmt.Errorf("move_to_dm: %w", err)
	}
	return nil
}

// UnmarshalJSON decodes over c, the lists in the JSON replacing c's.
func (c *CrisisConfig) UnmarshalJSON(b []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return err
	}
	if _, ok := top["topics"]; ok {
		c.Topics = nil
	}
	if _, ok := top["intents"]; ok {
		c.Intents = nil
	}
	type plain CrisisConfig
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode((*plain)(c)); err != nil {
		return fmt.Errorf("crisis: %w", err)
	}
	return nil
}

// UnmarshalJSON decodes over c, the targets in the JSON replacing c's.
func (c *SLAConfig) UnmarshalJSON(b []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return err
	}
	if _, ok := top["first_response"]; ok {
		c.FirstResponse = nil
	}
	type plain SLAConfig
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode((*plain)(c)); err != nil {
		return fmt.Errorf("sla: %w", err)
	}
	return nil
}

// Duration is a duration written as a string ("90s", "15m", "24h", "30d"), in
// pajarito.json and its protocol section alike.
type Duration struct {
	d    time.Duration
	text string
	err  error
}

// DurationOf returns d as a Duration.
func DurationOf(d time.Duration) Duration { return Duration{d: d} }

// Std returns the duration.
func (d Duration) Std() time.Duration { return d.d }

// Err says why the value written is not a duration; nil when it is one.
func (d Duration) Err() error { return d.err }

// String formats the duration as it would be written: "15m", "24h", "30d".
func (d Duration) String() string {
	if d.err != nil {
		return d.text
	}
	if d.d > 0 && d.d%(24*time.Hour) == 0 && d.d > 24*time.Hour {
		return strconv.Itoa(int(d.d/(24*time.Hour))) + "d"
	}
	s := d.d.String()
	if strings.HasSuffix(s, "m0s") { // "1m0s", not "30s"
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	if s == "" {
		s = "0s"
	}
	return s
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string; a bad one is reported by Validate.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		*d = Duration{text: string(b), err: fmt.Errorf("%s is not a string: write durations in quotes, like \"15m\" or \"24h\"", b)}
		return nil
	}
	*d = ParseDuration(s)
	return nil
}

// ParseDuration parses Go durations ("90s", "1h30m") and whole days ("30d"). A bad
// value is kept and reported by Validate.
func ParseDuration(s string) Duration {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 && n <= 3650 {
			return Duration{d: time.Duration(n) * 24 * time.Hour}
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return Duration{text: s, err: fmt.Errorf("%q is not a duration: write it like \"90s\", \"15m\", \"24h\" or \"7d\"", s)}
	}
	return Duration{d: d}
}

// FieldError is one invalid setting: Path is its path inside the protocol section
// ("templates.complaint.es").
type FieldError struct {
	Path    string
	Message string
}

func (e FieldError) Error() string { return e.Path + ": " + e.Message }

// Validate reports every invalid setting of c.
func (c *Config) Validate() []FieldError {
	_, errs := compile(c)
	return errs
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
