package agentapi

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/httpjson"
)

// NoteRequest is the body of POST /v1/cases/{id}/notes.
type NoteRequest struct {
	Text string `json:"text"`
}

// NoteResult is the body of a note added (201).
type NoteResult struct {
	Note *care.Note `json:"note"`
}

// addNote stores an internal note with the case; it is never sent to X.
func (a *API) addNote(w http.ResponseWriter, r *http.Request) {
	var req NoteRequest
	if !decode(w, r, &req) {
		return
	}
	switch {
	case strings.TrimSpace(req.Text) == "" || !utf8.ValidString(req.Text):
		badRequest(w, "bad_text", "text is required: the note")
		return
	case utf8.RuneCountInString(req.Text) > care.MaxNoteLength:
		badRequest(w, "bad_text", "text is over %d characters", care.MaxNoteLength)
		return
	}
	id := r.PathValue("id")
	me := callerFrom(r.Context())
	n, err := a.Store.AddNote(r.Context(), care.Note{CaseID: id, AuthorID: me.ID, AuthorName: me.DisplayName, Text: req.Text, CreatedAt: a.now()})
	if err != nil {
		a.caseError(w, r, id, err)
		return
	}
	a.audit(r, "note added", "case_id", id, "note_id", n.ID)
	httpjson.Write(w, http.StatusCreated, NoteResult{Note: n})
}
