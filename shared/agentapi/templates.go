package agentapi

import (
	"net/http"

	"github.com/pajarito-care/pajarito/shared/httpjson"
	"github.com/pajarito-care/pajarito/shared/protocol"
)

// TemplateList is the body of GET /v1/templates.
type TemplateList struct {
	Templates []protocol.TemplateText `json:"templates"`
	// Placeholders are those the texts may hold; an agent fills them in.
	Placeholders []string `json:"placeholders"`
}

// listTemplates lists the protocol's reply templates, optionally of one kind or
// language, for agents to start a reply from.
func (a *API) listTemplates(w http.ResponseWriter, r *http.Request) {
	q, ok := query(w, r, "kind", "lang")
	if !ok {
		return
	}
	out := []protocol.TemplateText{}
	for _, t := range a.Engine.Templates() {
		if k, ok := q["kind"]; ok && t.Kind != k {
			continue
		}
		if l, ok := q["lang"]; ok && t.Lang != l {
			continue
		}
		out = append(out, t)
	}
	httpjson.Write(w, http.StatusOK, TemplateList{Templates: out, Placeholders: protocol.Placeholders})
}
