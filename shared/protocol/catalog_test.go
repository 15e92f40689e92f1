package protocol

import (
	"slices"
	"strings"
	"testing"
)

func TestTemplatesCatalog(t *testing.T) {
	e := newEngine(t, nil)
	list := e.Templates()
	seen := map[string]bool{}
	for _, tt := range list {
		if seen[tt.ID] {
			t.Errorf("template %s listed twice", tt.ID)
		}
		seen[tt.ID] = true
		want := tt.Kind + "." + tt.Lang
		if tt.Tone != "" {
			want = tt.Kind + "." + tt.Tone + "." + tt.Lang
		}
		if tt.ID != want || tt.Text == "" {
			t.Errorf("template %+v: id want %s, and a text", tt, want)
		}
		tmpl := e.Config().Templates[tt.Kind]
		text := tmpl.Text[tt.Lang]
		if tt.Tone != "" {
			text = tmpl.Tones[tt.Tone][tt.Lang]
		}
		if text != tt.Text {
			t.Errorf("template %s text %q, configured %q", tt.ID, tt.Text, text)
		}
	}
	// Every configured text is listed, kinds in TemplateKinds order, then the
	// optional ones.
	n := 0
	for _, tmpl := range e.Config().Templates {
		n += len(tmpl.all())
	}
	if len(list) != n {
		t.Errorf("%d texts listed, %d configured", len(list), n)
	}
	last := -1
	for _, tt := range list {
		i := slices.Index(slices.Concat(TemplateKinds, OptionalTemplateKinds), tt.Kind)
		if i < last {
			t.Errorf("template %s out of kind order", tt.ID)
		}
		last = i
	}
	if !seen["complaint.es"] || !seen["out_of_hours.apology.en"] {
		t.Errorf("missing complaint.es or out_of_hours.apology.en in %v", seen)
	}
}

func TestSignatureName(t *testing.T) {
	tests := []struct {
		format, signature, name string // name "" : refused
	}{
		{"^{agent}", "^Ana", "Ana"},
		{"^{agent}", "^José-Luis", "José-Luis"},
		{"^{agent}", "^Ana María", ""}, // the protocol signs with the first name only
		{"^{agent}", "Ana", ""},
		{"^{agent}", "^", ""},
		{"^{agent}", "^ ", ""},
		{"— {agent}, Pajarito", "— Ana, Pajarito", "Ana"},
		{"— {agent}, Pajarito", "— Ana", ""},
	}
	for _, tt := range tests {
		e := newEngine(t, func(c *Config) { c.AgentSignature = tt.format })
		name, err := e.SignatureName(tt.signature)
		if tt.name == "" {
			if err == nil {
				t.Errorf("%q with %q: accepted as %q", tt.signature, tt.format, name)
			} else if !strings.Contains(err.Error(), tt.format) {
				t.Errorf("error %q does not show the format %q", err, tt.format)
			}
			continue
		}
		if err != nil || name != tt.name {
			t.Errorf("%q with %q: %q, %v; want %q", tt.signature, tt.format, name, err, tt.name)
			continue
		}
		// The name makes AgentReply's signature exactly the one asked for.
		if got := e.Sign("Hola", name); got != "Hola "+tt.signature {
			t.Errorf("Sign with %q = %q, want %q", name, got, "Hola "+tt.signature)
		}
		if got := e.AgentSignature(name); got != tt.signature {
			t.Errorf("AgentSignature(%q) = %q", name, got)
		}
	}
	if got := newEngine(t, nil).AgentSignature("Ana Martínez"); got != "^Ana" {
		t.Errorf("AgentSignature(Ana Martínez) = %q, want ^Ana", got)
	}
}
