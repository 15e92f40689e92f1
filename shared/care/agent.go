package care

import "time"

// AgentProfile is an agent as the team sees them: who they are and how they sign.
// Their id comes from their credential (the JWT's subject); the rest they edit.
type AgentProfile struct {
	ID string `json:"id"`
	// DisplayName is shown to the team and, as a reply's AuthorName, kept with
	// the replies they write.
	DisplayName string `json:"display_name"`
	// Signature ends their public replies and DMs ("^Ana"); empty means the
	// protocol's agent signature with their first name.
	Signature string `json:"signature,omitempty"`
	// Languages they answer in ("es", "en").
	Languages []string `json:"languages,omitempty"`
	// Department is the queue they work (one of the protocol's departments).
	Department string    `json:"department,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Note is an agent's internal note on a case: kept with the case, shown to the
// team, never sent to X.
type Note struct {
	ID         string    `json:"id"`
	CaseID     string    `json:"case_id"`
	AuthorID   string    `json:"author_id"`
	AuthorName string    `json:"author_name,omitempty"`
	Text       string    `json:"text"`
	CreatedAt  time.Time `json:"created_at"`
}

// MaxNoteLength is the longest note, in characters.
const MaxNoteLength = 5000

// AuditEntry is one action a person (or the system) took on a case or on the
// team, as the audit trail keeps it: never edited.
type AuditEntry struct {
	ID string    `json:"id"`
	At time.Time `json:"at"`
	// Actor is who acted (an agent's id, or "system"); ActorName and Role as
	// they were then.
	Actor     string `json:"actor"`
	ActorName string `json:"actor_name,omitempty"`
	Role      string `json:"role,omitempty"`
	// Action names what was done: "case_claimed", "reply_queued",
	// "reply_approved", "crisis_set_by_hand", …
	Action string `json:"action"`
	// CaseID is the case acted on; empty for the team's settings.
	CaseID string `json:"case_id,omitempty"`
	// Detail holds what else the action said (its values as text).
	Detail map[string]string `json:"detail,omitempty"`
}

// AuditSystem is the actor of what Pajarito does by itself.
const AuditSystem = "system"
