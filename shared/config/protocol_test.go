package config

import (
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/protocol"
)

func TestProtocolDefaults(t *testing.T) {
	c, err := Load(writeConfig(t, `{`+brandJSON+`}`), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Protocol
	if p.Tier != protocol.SelfServe || p.AutoReplyCooldown.Std() != 24*time.Hour || len(p.Templates) != len(protocol.TemplateKinds)+len(protocol.OptionalTemplateKinds) {
		t.Errorf("protocol defaults = %+v", p)
	}
	if _, err := protocol.New(p); err != nil {
		t.Errorf("default protocol does not build an engine: %v", err)
	}
}

func TestProtocolSection(t *testing.T) {
	file := `{` + brandJSON + `, "protocol": {
	  "tier": "enterprise",
	  "default_lang": "es",
	  "timezone": "America/Bogota",
	  "business_hours": {"mon": "08:00-18:00", "tue": "08:00-18:00"},
	  "channels": {"es": "la línea 01 8000 000 000", "en": "our line 01 8000 000 000"},
	  "auto_reply_cooldown": "12h",
	  "templates": {"praise": {"es": "¡Gracias, {first_name}! {signature}", "en": "Thanks, {first_name}! {signature}"}}
	}}`
	c, err := Load(writeConfig(t, file), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Protocol.Tier != protocol.Enterprise || c.Protocol.Timezone != "America/Bogota" || c.Protocol.AutoReplyCooldown.Std() != 12*time.Hour {
		t.Errorf("protocol = %+v", c.Protocol)
	}
	if c.Protocol.Templates[protocol.TemplateComplaint].Text["es"] == "" {
		t.Error("templates left out of the file lost their defaults")
	}
	// PAJARITO_TIER overrides the file.
	c, err = Load(writeConfig(t, file), envOf(map[string]string{"PAJARITO_TIER": "self_serve"}))
	if err != nil || c.Protocol.Tier != protocol.SelfServe {
		t.Fatalf("PAJARITO_TIER: %v %+v", err, c)
	}
}

func TestProtocolValidation(t *testing.T) {
	tests := []struct {
		name    string
		section string
		env     map[string]string
		wantErr []string
	}{
		{name: "complaint without apology",
			section: `{"templates": {"complaint": {"es": "Hola {first_name}, lo miramos. {signature}", "en": "We're sorry, {first_name}. {signature}"}}}`,
			wantErr: []string{"protocol.templates.complaint.es (/", FileName + "): must start with an apology"}},
		{name: "problema",
			section: `{"templates": {"incident": {"es": "Lo sentimos: hay un problema. {signature}", "en": "We're sorry. {signature}"}}}`,
			wantErr: []string{"protocol.templates.incident.es", `must not contain "problema"`, `write "incidencia"`}},
		{name: "unknown placeholder",
			section: `{"templates": {"question": {"es": "Hola {nombre}. {signature}", "en": "Hi. {signature}"}}}`,
			wantErr: []string{"protocol.templates.question.es", "placeholder {nombre} is unknown"}},
		{name: "tier from the environment",
			section: `{}`, env: map[string]string{"PAJARITO_TIER": "premium"},
			wantErr: []string{"protocol.tier (environment variable PAJARITO_TIER)", "not a tier", "PAJARITO_TIER"}},
		{name: "time zone and hours",
			section: `{"timezone": "Madrid", "business_hours": {"mon": "9-5"}}`,
			wantErr: []string{"protocol.timezone", "IANA", "protocol.business_hours.mon", "HH:MM"}},
		{name: "routing",
			section: `{"routing": [{"name": "x", "department": "finance", "intents": ["complain"]}]}`,
			wantErr: []string{"protocol.routing[0].department", "protocol.routing[0].intents[0]"}},
		{name: "crisis",
			section: `{"crisis": {"window": "90s", "topics": [{"name": "delays", "keywords": ["retraso*"], "label": {"es": "los retrasos"}}]}}`,
			wantErr: []string{"protocol.crisis.window", "whole minutes", "protocol.crisis.topics[0].label.en", "missing"}},
		{name: "unknown field",
			section: `{"tire": "enterprise"}`,
			wantErr: []string{"protocol", `unknown field "tire"`}},
		{name: "bad template json",
			section: `{"templates": {"complaint": {"es": ["a"]}}}`,
			wantErr: []string{"protocol.templates.complaint: es"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, `{`+brandJSON+`, "protocol": `+tt.section+`}`), envOf(tt.env))
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
