package protocol

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/classify"
)

// compiled is a validated configuration, ready to use.
type compiled struct {
	cfg        Config
	hours      *Hours
	router     *Router
	linter     *Linter
	apology    *matcher
	forbidden  *matcher
	moveToDM   *matcher
	topics     []compiledTopic
	grave      map[string]bool
	autoReply  map[string]bool
	crisisFrom map[string]bool
	sla        compiledSLA
}

type compiledTopic struct {
	CrisisTopic
	keywords *matcher
}

var (
	langRE = regexp.MustCompile(`^[a-z]{2,3}$`)
	nameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,39}$`)
)

// Known label values: the classifier's intents and kinds of personal data; the
// intents an automatic reply may answer are all but spam and other.
var (
	knownIntents = labelsOf(classify.Intents)
	replyIntents = slices.DeleteFunc(slices.Clone(knownIntents), func(in string) bool {
		return in == string(classify.IntentSpam) || in == string(classify.IntentOther)
	})
	knownLevels = []string{"low", "high", "critical"}
	knownPII    = labelsOf(classify.PIIKindsAll)
	knownTones  = []string{ToneApology, ToneSerious}
)

// labelsOf is the label values of a classifier's list.
func labelsOf[T ~string](list []T) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = string(v)
	}
	return out
}

func joinFieldErrors(errs []FieldError) error {
	list := make([]error, len(errs))
	for i, e := range errs {
		list[i] = fmt.Errorf("protocol.%s", e.Error())
	}
	return errors.Join(list...)
}

// compile validates c and builds what the engine uses; it returns every problem.
func compile(c *Config) (*compiled, []FieldError) {
	cc := &compiler{c: c, cp: &compiled{cfg: *c, grave: map[string]bool{}, autoReply: map[string]bool{}, crisisFrom: map[string]bool{}}}
	cc.checkTier()
	cc.checkLangs()
	cc.checkHours()
	cc.checkAutoReply()
	cc.checkCases()
	cc.compileTerms()
	cc.checkDepartments()
	cc.checkRouting()
	cc.checkPriority()
	cc.checkCrisis()
	cc.checkCrisisTopics()
	cc.cp.sla = compileSLA(&c.SLA, cc.cp.hours, cc.bad)
	if c.Approval.FollowersOver < 0 {
		cc.bad("approval.followers_over", "%d is negative: give a number of followers, or 0 for no such rule", c.Approval.FollowersOver)
	}

	// Templates, last: they are checked with the linter the rest builds.
	cc.cp.linter = newLinter(c, cc.cp.apology, cc.cp.forbidden)
	cc.cp.checkTemplates(cc.bad)
	return cc.cp, cc.errs
}

// A compiler checks a configuration section by section, collecting every
// problem, and builds the compiled configuration as it goes. Each section is a
// method; they run in the order of compile, which is the order the problems are
// reported in.
type compiler struct {
	c    *Config
	cp   *compiled
	errs []FieldError
}

// bad records a problem with the setting at path.
func (cc *compiler) bad(path, format string, args ...any) {
	cc.errs = append(cc.errs, FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
}

// langMap checks the keys of m, a text by language, against langs; required
// texts must be in every language of langs.
func (cc *compiler) langMap(path string, m map[string]string, required bool) {
	c := cc.c
	for _, k := range sortedKeys(m) {
		if !slices.Contains(c.Langs, k) {
			cc.bad(path+"."+k, "%q is not one of langs %v", k, c.Langs)
		}
	}
	if required {
		for _, l := range c.Langs {
			if strings.TrimSpace(m[l]) == "" {
				cc.bad(path+"."+l, "missing: write it in every language of langs")
			}
		}
	}
}

// terms compiles the terms of list, the setting at path.
func (cc *compiler) terms(path string, list []string) *matcher {
	m := &matcher{}
	for i, t := range list {
		ct, err := compileTerm(t)
		if err != nil {
			cc.bad(fmt.Sprintf("%s[%d]", path, i), "%v; a term is a word, a word ending in * (a prefix), a phrase, or alternatives separated by |", err)
			continue
		}
		m.terms = append(m.terms, ct)
	}
	return m
}

// checkTier checks the tier of X API access.
func (cc *compiler) checkTier() {
	c := cc.c
	switch c.Tier {
	case SelfServe, Enterprise:
	default:
		cc.bad("tier", "%q is not a tier: use %q (X's self-serve access: automatic replies only to posts that mention or quote the brand) or %q", c.Tier, SelfServe, Enterprise)
	}
}

// checkLangs checks the languages: those the templates are written in, and the
// default.
func (cc *compiler) checkLangs() {
	c := cc.c
	if len(c.Langs) == 0 {
		cc.bad("langs", "list the languages the templates are written in, e.g. [\"es\", \"en\"]")
	}
	for i, l := range c.Langs {
		if !langRE.MatchString(l) {
			cc.bad(fmt.Sprintf("langs[%d]", i), "%q is not a language code: use two lower-case letters like \"es\" or \"en\"", l)
		}
	}
	if !slices.Contains(c.Langs, c.DefaultLang) {
		cc.bad("default_lang", "%q is not one of langs %v: the default language is the one replies fall back to, so templates must exist in it", c.DefaultLang, c.Langs)
	}
}

// checkHours parses the business hours, and checks the texts by language that
// replies include: hours_text, channels and the signature (and the agents'
// signature).
func (cc *compiler) checkHours() {
	c := cc.c
	cc.cp.hours = parseHours(c, cc.bad)
	cc.langMap("hours_text", c.HoursText, false)
	cc.langMap("channels", c.Channels, false)
	cc.langMap("signature", c.Signature, true)
	if !strings.Contains(c.AgentSignature, "{agent}") {
		cc.bad("agent_signature", "%q does not contain {agent}, the agent's first name: write it like \"^{agent}\"", c.AgentSignature)
	}
}

// checkAutoReply checks when automatic replies go out (the cooldown and the
// maximum age of the message) and which intents get one.
func (cc *compiler) checkAutoReply() {
	c := cc.c
	if d := c.AutoReplyCooldown; d.err != nil {
		cc.bad("auto_reply_cooldown", "%v", d.err)
	} else if d.d < time.Hour || d.d > 30*24*time.Hour {
		cc.bad("auto_reply_cooldown", "%s is out of range: a case gets at most one automatic reply per cooldown, from 1h to 30d (default 24h)", d)
	}
	if d := c.AutoReplyMaxAge; d.err != nil {
		cc.bad("auto_reply_max_age", "%v", d.err)
	} else if d.d != 0 && (d.d < 10*time.Minute || d.d > 30*24*time.Hour) {
		cc.bad("auto_reply_max_age", "%s is out of range: messages written longer ago get no automatic reply, from 10m to 30d, or 0 for no limit (the default)", d)
	}
	for i, in := range c.AutoReply {
		switch {
		case in == "spam":
			cc.bad(fmt.Sprintf("auto_reply[%d]", i), "spam is never answered")
		case !slices.Contains(knownIntents, in):
			cc.bad(fmt.Sprintf("auto_reply[%d]", i), "%q is not an intent: use %v", in, replyIntents)
		}
		cc.cp.autoReply[in] = true
	}
}

// checkCases checks the urgency kinds that make a case grave and the window in
// which a customer's other cases count as repeats.
func (cc *compiler) checkCases() {
	c := cc.c
	for i, k := range c.GraveKinds {
		if strings.TrimSpace(k) == "" {
			cc.bad(fmt.Sprintf("grave_urgency_kinds[%d]", i), "is empty: name an urgency kind such as \"safety\"")
		}
		cc.cp.grave[k] = true
	}
	if d := c.RepeatWindow; d.err != nil {
		cc.bad("repeat_window", "%v", d.err)
	} else if d.d < time.Hour || d.d > 365*24*time.Hour {
		cc.bad("repeat_window", "%s is out of range: from 1h to 365d (default 30d)", d)
	}
}

// compileTerms compiles the terms: apologies, forbidden words (and checks their
// replacements), and the keywords that move a conversation to DM.
func (cc *compiler) compileTerms() {
	c := cc.c
	cc.cp.apology = cc.terms("apologies", append(slices.Clone(builtinApologies), c.Apologies...))
	cc.cp.forbidden = cc.terms("forbidden_words", c.ForbiddenWords)
	for _, k := range sortedKeys(c.Replacements) {
		if !slices.Contains(c.ForbiddenWords, k) {
			cc.bad("replacements."+k, "%q is not one of forbidden_words", k)
		}
		if _, ok := cc.cp.forbidden.first(words(c.Replacements[k])); ok {
			cc.bad("replacements."+k, "%q is itself forbidden", c.Replacements[k])
		}
	}
	cc.cp.moveToDM = cc.terms("move_to_dm.keywords", c.MoveToDM.Keywords)
}

// checkDepartments checks the departments, and the departments other settings
// name.
func (cc *compiler) checkDepartments() {
	c := cc.c
	if len(c.Departments) == 0 {
		cc.bad("departments", "list the agents' departments, e.g. [\"billing\", \"bookings\", \"technical\", \"social\"]")
	}
	seen := map[string]int{}
	for i, d := range c.Departments {
		if !nameRE.MatchString(d) {
			cc.bad(fmt.Sprintf("departments[%d]", i), "%q is not a department name: lower-case letters, digits, - and _, starting with a letter", d)
		} else if j, dup := seen[d]; dup {
			cc.bad(fmt.Sprintf("departments[%d]", i), "%q is already departments[%d]", d, j)
		}
		seen[d] = i
	}
	if !slices.Contains(c.Departments, c.DefaultDepartment) {
		cc.bad("default_department", "%q is not one of departments %v: it receives what no routing rule matches", c.DefaultDepartment, c.Departments)
	}
	for i, d := range c.MoveToDM.Departments {
		if !slices.Contains(c.Departments, d) {
			cc.bad(fmt.Sprintf("move_to_dm.departments[%d]", i), "%q is not one of departments %v", d, c.Departments)
		}
	}
}

// checkRouting checks the routing rules and builds the router.
func (cc *compiler) checkRouting() {
	c := cc.c
	cc.cp.router = &Router{def: c.DefaultDepartment}
	ruleNames := map[string]int{}
	for i, r := range c.Routing {
		p := fmt.Sprintf("routing[%d]", i)
		if strings.TrimSpace(r.Name) == "" {
			cc.bad(p+".name", "give the rule a name: decisions cite it")
		} else if j, dup := ruleNames[r.Name]; dup {
			cc.bad(p+".name", "%q is already the name of routing[%d]", r.Name, j)
		}
		ruleNames[r.Name] = i
		if !slices.Contains(c.Departments, r.Department) {
			cc.bad(p+".department", "%q is not one of departments %v", r.Department, c.Departments)
		}
		for k, in := range r.Intents {
			if !slices.Contains(knownIntents, in) {
				cc.bad(fmt.Sprintf("%s.intents[%d]", p, k), "%q is not an intent: use %v", in, knownIntents)
			}
		}
		for k, l := range r.Langs {
			if !langRE.MatchString(l) {
				cc.bad(fmt.Sprintf("%s.langs[%d]", p, k), "%q is not a language code", l)
			}
		}
		for k, x := range r.PII {
			if !slices.Contains(knownPII, x) {
				cc.bad(fmt.Sprintf("%s.pii[%d]", p, k), "%q is not a kind of personal data: use %v", x, knownPII)
			}
		}
		for k, x := range r.UrgencyKinds {
			if strings.TrimSpace(x) == "" {
				cc.bad(fmt.Sprintf("%s.urgency_kinds[%d]", p, k), "is empty")
			}
		}
		if r.Channel != "" && r.Channel != "public" && r.Channel != "dm" {
			cc.bad(p+".channel", "%q is not a channel: use \"public\", \"dm\" or leave it out", r.Channel)
		}
		cc.cp.router.rules = append(cc.cp.router.rules, compiledRule{RouteRule: r, keywords: cc.terms(p+".keywords", r.Keywords)})
	}
}

// checkPriority checks the priority weights.
func (cc *compiler) checkPriority() {
	w := cc.c.Priority
	if w.Base < 0 || w.Base > MaxPriority {
		cc.bad("priority.base", "%d is out of range 0-%d", w.Base, MaxPriority)
	}
	for _, k := range sortedKeys(w.Intent) {
		if !slices.Contains(knownIntents, k) {
			cc.bad("priority.intent."+k, "%q is not an intent: use %v", k, knownIntents)
		}
	}
	for _, k := range sortedKeys(w.Urgency) {
		if !slices.Contains(knownLevels, k) {
			cc.bad("priority.urgency."+k, "%q is not an urgency level: use %v", k, knownLevels)
		}
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"negative", w.Negative}, {"positive", w.Positive}, {"verified", w.Verified}, {"public_pii", w.PublicPII}} {
		if f.v < -MaxPriority || f.v > MaxPriority {
			cc.bad("priority."+f.name, "%d is out of range -%d to %d", f.v, MaxPriority, MaxPriority)
		}
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"urgency_kinds_max", w.UrgencyKindsMax}, {"wait_per_hour", w.WaitPerHour}, {"wait_max", w.WaitMax}, {"followers_per_decade", w.FollowersPerDecade},
		{"followers_from", w.FollowersFrom}, {"followers_max", w.FollowersMax}, {"repeat_per_case", w.RepeatPerCase}, {"repeat_max", w.RepeatMax}} {
		if f.v < 0 || f.v > MaxPriority*10 {
			cc.bad("priority."+f.name, "%d is out of range 0-%d", f.v, MaxPriority*10)
		}
	}
}

// checkCrisis checks the crisis detection's settings and the intents that count
// towards a crisis.
func (cc *compiler) checkCrisis() {
	cr := cc.c.Crisis
	if d := cr.Window; d.err != nil {
		cc.bad("crisis.window", "%v", d.err)
	} else if d.d < time.Minute || d.d > time.Hour || d.d%time.Minute != 0 {
		cc.bad("crisis.window", "%s is out of range: the sliding window is whole minutes, from 1m to 1h (counts are kept per minute)", d)
	}
	if d := cr.Baseline; d.err != nil {
		cc.bad("crisis.baseline", "%v", d.err)
	} else if d.d < time.Hour || d.d > 7*24*time.Hour || d.d%time.Hour != 0 {
		cc.bad("crisis.baseline", "%s is out of range: the baseline period is whole hours, from 1h to 7d (counts are kept per hour too)", d)
	}
	if cr.MinCount < 1 {
		cc.bad("crisis.min_count", "%d: at least 1 complaint in the window opens a crisis", cr.MinCount)
	}
	if !(cr.Factor >= 1 && cr.Factor <= 1000) {
		cc.bad("crisis.factor", "%v is out of range: the window's count must be this many times the baseline's, from 1 to 1000", cr.Factor)
	}
	if !(cr.CloseRatio > 0 && cr.CloseRatio < 1) {
		cc.bad("crisis.close_ratio", "%v is out of range: a crisis closes when the window falls below this fraction of the count that opened it, above 0 and below 1", cr.CloseRatio)
	}
	for _, f := range []struct {
		name string
		d    Duration
	}{{"crisis.min_duration", cr.MinDuration}, {"crisis.quiet_after_manual_off", cr.QuietAfterManualOff}, {"crisis.followup_after", cr.FollowUpAfter}} {
		if f.d.err != nil {
			cc.bad(f.name, "%v", f.d.err)
		} else if f.d.d < 0 || f.d.d > 7*24*time.Hour {
			cc.bad(f.name, "%s is out of range 0-7d", f.d)
		}
	}
	if cr.MaxRepliesPerWindow < 1 || cr.MaxRepliesPerWindow > 100 {
		cc.bad("crisis.max_replies_per_window", "%d is out of range: at most this many automatic crisis replies per topic and window, from 1 to 100 (X allows the account 100 posts per 15 minutes in all)", cr.MaxRepliesPerWindow)
	}
	for i, in := range cr.Intents {
		if !slices.Contains(knownIntents, in) {
			cc.bad(fmt.Sprintf("crisis.intents[%d]", i), "%q is not an intent: use %v", in, knownIntents)
		}
		cc.cp.crisisFrom[in] = true
	}
}

// checkCrisisTopics checks and compiles the crisis topics.
func (cc *compiler) checkCrisisTopics() {
	topicNames := map[string]int{}
	for i, t := range cc.c.Crisis.Topics {
		p := fmt.Sprintf("crisis.topics[%d]", i)
		if !nameRE.MatchString(t.Name) {
			cc.bad(p+".name", "%q is not a topic name: lower-case letters, digits, - and _, starting with a letter (e.g. \"delays\")", t.Name)
		} else if j, dup := topicNames[t.Name]; dup {
			cc.bad(p+".name", "%q is already the name of crisis.topics[%d]", t.Name, j)
		}
		topicNames[t.Name] = i
		if len(t.Keywords) == 0 {
			cc.bad(p+".keywords", "list the words of the topic, e.g. [\"retraso*|delay*\"]")
		}
		cc.langMap(p+".label", t.Label, true)
		cc.cp.topics = append(cc.cp.topics, compiledTopic{CrisisTopic: t, keywords: cc.terms(p+".keywords", t.Keywords)})
	}
}

// checkTemplates validates every template against the protocol's rules.
func (cp *compiled) checkTemplates(bad func(path, format string, args ...any)) {
	c := &cp.cfg
	for _, k := range sortedKeys(c.Templates) {
		if !slices.Contains(TemplateKinds, k) && !slices.Contains(OptionalTemplateKinds, k) {
			bad("templates."+k, "%q is not a template kind: use %v, or %v", k, TemplateKinds, OptionalTemplateKinds)
		}
	}
	longestTopic := map[string]string{}
	for _, t := range c.Crisis.Topics {
		for l, s := range t.Label {
			if len(s) > len(longestTopic[l]) {
				longestTopic[l] = s
			}
		}
	}
	for _, kind := range TemplateKinds {
		t, ok := c.Templates[kind]
		if !ok {
			bad("templates."+kind, "missing: every configuration has the templates %v, in every language of langs", TemplateKinds)
			continue
		}
		cp.checkTemplate(kind, t, longestTopic, bad)
	}
	for _, kind := range OptionalTemplateKinds {
		if t, ok := c.Templates[kind]; ok {
			cp.checkTemplate(kind, t, longestTopic, bad)
		}
	}
	for _, l := range sortedKeys(c.Channels) {
		if !c.AllowLinks && len(findURLs(c.Channels[l])) > 0 {
			bad("channels."+l, "contains a link (%q is one to X): {channels} goes into automatic replies, which carry no links; write a phone number or \"the app's chat\" instead", c.Channels[l])
		}
	}
}

// templateText is one text of a template: the path of its setting, its language,
// its tone ("" for the plain text) and the text.
type templateText struct {
	path, lang, tone, s string
}

// checkTemplate checks template t of kind: its languages and tones, then each of
// its texts. longestTopic is the longest crisis topic label by language.
func (cp *compiled) checkTemplate(kind string, t Template, longestTopic map[string]string, bad func(path, format string, args ...any)) {
	c := &cp.cfg
	base := "templates." + kind
	for _, l := range c.Langs {
		if strings.TrimSpace(t.Text[l]) == "" {
			bad(base+"."+l, "missing: write the %s template in every language of langs", kind)
		}
	}
	for _, l := range sortedKeys(t.Text) {
		if !slices.Contains(c.Langs, l) {
			bad(base+"."+l, "%q is not one of langs %v (or a misspelt \"tones\" or \"allow_links\")", l, c.Langs)
		}
	}
	for _, tone := range sortedKeys(t.Tones) {
		if !slices.Contains(knownTones, tone) {
			bad(base+".tones."+tone, "%q is not a tone: use %q (complaints and incidents) or %q (grave cases)", tone, ToneApology, ToneSerious)
		}
		for _, l := range sortedKeys(t.Tones[tone]) {
			if !slices.Contains(c.Langs, l) {
				bad(base+".tones."+tone+"."+l, "%q is not one of langs %v", l, c.Langs)
			}
		}
	}
	// Every text of the template, with the rules that apply to it.
	var texts []templateText
	for _, l := range sortedKeys(t.Text) {
		texts = append(texts, templateText{base + "." + l, l, "", t.Text[l]})
	}
	for _, tone := range sortedKeys(t.Tones) {
		for _, l := range sortedKeys(t.Tones[tone]) {
			texts = append(texts, templateText{base + ".tones." + tone + "." + l, l, tone, t.Tones[tone][l]})
		}
	}
	for _, x := range texts {
		cp.checkTemplateText(kind, t, x, longestTopic[x.lang], bad)
	}
}

// checkTemplateText checks text x of template t of kind; topic is the longest
// crisis topic label in its language.
func (cp *compiled) checkTemplateText(kind string, t Template, x templateText, topic string, bad func(path, format string, args ...any)) {
	c := &cp.cfg
	if strings.TrimSpace(x.s) == "" {
		return
	}
	for _, p := range placeholderRE.FindAllString(x.s, -1) {
		if !slices.Contains(Placeholders, p) {
			bad(x.path, "placeholder %s is unknown: use %v", p, Placeholders)
		} else if p == "{topic}" && !isCrisisTemplate(kind) {
			bad(x.path, "placeholder {topic} is only known in the crisis templates")
		} else if p == "{statement_time}" && kind != TemplateCrisisStatement {
			bad(x.path, "placeholder {statement_time} is only known in the %s template", TemplateCrisisStatement)
		}
	}
	if strings.Count(x.s, "{")+strings.Count(x.s, "}") != 2*len(placeholderRE.FindAllString(x.s, -1)) {
		bad(x.path, "has a stray { or }: placeholders are written like {first_name}")
	}
	cp.checkTemplateApology(kind, t, x, bad)
	for _, m := range cp.forbidden.all(words(x.s)) {
		msg := fmt.Sprintf("must not contain %q (forbidden_words)", x.s[m.start:m.end])
		if r := c.Replacements[m.term]; r != "" {
			msg += fmt.Sprintf(": write %q", r)
		}
		bad(x.path, "%s", msg)
	}
	if !t.AllowLinks && !c.AllowLinks && len(findURLs(x.s)) > 0 {
		bad(x.path, "contains a link: automatic replies carry no links (a post with a link costs $%.2f instead of $%.3f); remove it, or set allow_links on the template", PricePostLinkUSD, PricePostUSD)
	}
	// The longest it can render to.
	v := values{
		handle: strings.Repeat("h", 15), firstName: strings.Repeat("M", 20),
		hours: cp.hoursText(x.lang), channels: c.Channels[x.lang], signature: c.Signature[x.lang], topic: topic,
		statementTime: "23:59",
	}
	if n := Length(render(x.s, v)); n > MaxPostLength {
		bad(x.path, "renders to up to %d characters (with a 20-letter first name, the signature, hours and channels), above X's %d: shorten it", n, MaxPostLength)
	}
	if strings.Contains(x.s, "{channels}") && strings.TrimSpace(c.Channels[x.lang]) == "" {
		bad(x.path, "uses {channels} but channels.%s is not set: write the other ways to reach the brand there", x.lang)
	}
}

// checkTemplateApology checks that text x of template t of kind starts with an
// apology when it answers complaints, and that a text answering praise has none.
func (cp *compiled) checkTemplateApology(kind string, t Template, x templateText, bad func(path, format string, args ...any)) {
	_, apologises := cp.apology.first(words(firstSentence(render(x.s, values{firstName: "Ana"}))))
	needsApology := false
	switch kind {
	case TemplateComplaint, TemplateIncident, TemplateCrisis, TemplateCrisisFollowUp, TemplateCrisisStatement:
		needsApology = true
	case TemplateMoveToDM, TemplateOutOfHours:
		// Used for every intent; complaints get the apology tone (or the
		// serious one), or the plain text when there is none.
		needsApology = x.tone == ToneApology || x.tone == ToneSerious || len(t.Tones[ToneApology][x.lang]) == 0
	}
	if needsApology && !apologises {
		why := "it answers complaints and incidents"
		if kind == TemplateMoveToDM || kind == TemplateOutOfHours {
			if x.tone == "" {
				why = "it also answers complaints and incidents (add tones.apology." + x.lang + " for those, and this text may then skip the apology)"
			} else {
				why = "the " + x.tone + " tone answers complaints, incidents and grave cases"
			}
		}
		bad(x.path, "must start with an apology (\"Lo sentimos…\", \"We're sorry…\") in its first sentence: %s", why)
	}
	if kind == TemplatePraise {
		if m, ok := cp.apology.first(words(x.s)); ok {
			bad(x.path, "must not apologise (%q): praise is thanked, never answered with an apology", x.s[m.start:m.end])
		}
	}
}

// hoursText is the text of {hours} in lang.
func (cp *compiled) hoursText(lang string) string {
	if s := cp.cfg.HoursText[lang]; s != "" {
		return s
	}
	return cp.hours.Text(lang)
}

// isGrave reports whether a classification makes a case grave, and why.
func (cp *compiled) isGrave(r *classify.Result) (bool, string) {
	if r.Urgency.Level == classify.UrgencyCritical {
		return true, "critical urgency"
	}
	for _, k := range r.Urgency.Kinds {
		if cp.grave[string(k)] {
			return true, "urgency " + string(k)
		}
	}
	return false, ""
}

// isCrisisTemplate reports whether templates of kind speak of a crisis's
// topic ({topic}).
func isCrisisTemplate(kind string) bool {
	return kind == TemplateCrisis || kind == TemplateCrisisFollowUp || kind == TemplateCrisisStatement
}
