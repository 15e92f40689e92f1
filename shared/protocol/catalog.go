package protocol

import (
	"fmt"
	"slices"
	"strings"
)

// The catalog: what the agents' tools show of the protocol (templates to start a
// reply from, departments, signatures).

// TemplateText is one text of a template, in one tone and language, as configured
// (placeholders unfilled).
type TemplateText struct {
	// ID is "<kind>.<lang>" or "<kind>.<tone>.<lang>", the form of a reply
	// request's TemplateID.
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Tone is "" for the plain text, else ToneApology or ToneSerious.
	Tone       string `json:"tone,omitempty"`
	Lang       string `json:"lang"`
	Text       string `json:"text"`
	AllowLinks bool   `json:"allow_links,omitempty"`
}

// Templates returns every text of the configured templates: kinds in the order of
// TemplateKinds then OptionalTemplateKinds (others after, by name), each kind's
// plain texts then its tones (by name), languages by name.
func (e *Engine) Templates() []TemplateText {
	tmpls := e.cp.cfg.Templates
	kinds := slices.Concat(TemplateKinds, OptionalTemplateKinds)
	for _, k := range sortedKeys(tmpls) {
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	var out []TemplateText
	for _, kind := range kinds {
		t, ok := tmpls[kind]
		if !ok {
			continue
		}
		allow := t.AllowLinks || e.cp.cfg.AllowLinks
		for _, lang := range sortedKeys(t.Text) {
			out = append(out, TemplateText{ID: kind + "." + lang, Kind: kind, Lang: lang, Text: t.Text[lang], AllowLinks: allow})
		}
		for _, tone := range sortedKeys(t.Tones) {
			for _, lang := range sortedKeys(t.Tones[tone]) {
				out = append(out, TemplateText{ID: kind + "." + tone + "." + lang, Kind: kind, Tone: tone, Lang: lang, Text: t.Tones[tone][lang], AllowLinks: allow})
			}
		}
	}
	return out
}

// Departments returns the configured departments (the agents' queues).
func (e *Engine) Departments() []string { return slices.Clone(e.cp.cfg.Departments) }

// AgentSignature returns the signature Sign appends to the replies of an agent of
// that display name ("^Ana" for "Ana Martínez" with the default "^{agent}"); "" when
// the protocol's agent signature is empty.
func (e *Engine) AgentSignature(agentName string) string {
	return strings.TrimSpace(e.Sign("", agentName))
}

// SignatureName checks that signature is one the protocol's agent signature can
// produce ("^Ana" for "^{agent}") and returns the name that produces it: the
// AgentName that makes AgentReply sign with exactly that signature.
func (e *Engine) SignatureName(signature string) (string, error) {
	format := e.cp.cfg.AgentSignature
	prefix, suffix, _ := strings.Cut(format, "{agent}")
	name, ok := strings.CutPrefix(signature, prefix)
	if ok {
		name, ok = strings.CutSuffix(name, suffix)
	}
	if !ok || strings.TrimSpace(name) == "" || e.AgentSignature(name) != signature {
		return "", fmt.Errorf("signature %q is not one this team's replies carry: the protocol signs agents' replies %q with their first name ({agent}), as in %q",
			signature, format, strings.ReplaceAll(format, "{agent}", "Ana"))
	}
	return name, nil
}
