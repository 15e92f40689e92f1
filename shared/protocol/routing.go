package protocol

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
)

// Router chooses a message's department: the first rule that matches, else the
// default department.
type Router struct {
	rules []compiledRule
	def   string
}

type compiledRule struct {
	RouteRule
	keywords *matcher
}

// Route is the department chosen and why.
type Route struct {
	Department string `json:"department"`
	// Rule is the name of the rule that matched ("" for the default).
	Rule string `json:"rule,omitempty"`
	Why  string `json:"why"`
}

// RouteInput is what routing looks at.
type RouteInput struct {
	Text    string
	Channel care.Channel
	Labels  *classify.Result
	// words of Text, when already split.
	words []word
}

// Route returns the department of in.
func (r *Router) Route(in RouteInput) Route {
	ws := in.words
	if ws == nil {
		ws = words(in.Text)
	}
	lbl := in.Labels
	if lbl == nil {
		lbl = &classify.Result{}
	}
	for _, rule := range r.rules {
		var why []string
		ok := true
		if len(rule.Intents) > 0 {
			ok = slices.Contains(rule.Intents, string(lbl.Intent))
			why = append(why, "intent "+string(lbl.Intent))
		}
		if ok && len(rule.UrgencyKinds) > 0 {
			hit := ""
			for _, k := range lbl.Urgency.Kinds {
				if slices.Contains(rule.UrgencyKinds, string(k)) {
					hit = string(k)
					break
				}
			}
			ok = hit != ""
			why = append(why, "urgency "+hit)
		}
		if ok && len(rule.Langs) > 0 {
			ok = slices.Contains(rule.Langs, lbl.Lang)
			why = append(why, "language "+lbl.Lang)
		}
		if ok && rule.Channel != "" {
			ok = rule.Channel == string(in.Channel)
			why = append(why, "channel "+rule.Channel)
		}
		if ok && len(rule.PII) > 0 {
			hit := ""
			for _, p := range lbl.PII {
				if slices.Contains(rule.PII, string(p.Kind)) {
					hit = string(p.Kind)
					break
				}
			}
			ok = hit != ""
			why = append(why, "personal data "+hit)
		}
		if ok && len(rule.Keywords) > 0 {
			m, found := rule.keywords.first(ws)
			ok = found
			if found {
				why = append(why, fmt.Sprintf("keyword %q (%q)", m.term, in.Text[m.start:m.end]))
			}
		}
		if ok {
			because := "matches everything"
			if len(why) > 0 {
				because = strings.Join(why, ", ")
			}
			return Route{Department: rule.Department, Rule: rule.Name, Why: fmt.Sprintf("rule %q: %s", rule.Name, because)}
		}
	}
	return Route{Department: r.def, Why: "no routing rule matched: default department"}
}
