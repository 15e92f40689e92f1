package care

import (
	"strings"
	"time"
)

// Status is where a case is in its life.
type Status string

const (
	// Open cases are waiting for the brand: new, or the customer wrote again.
	Open Status = "open"
	// Pending cases were answered and wait for the customer.
	Pending Status = "pending"
	// Resolved cases are closed; a new inbound message in the same thread reopens them
	// within the reopen window, or starts a new case after it.
	Resolved Status = "resolved"
)

// Case is a conversation with one customer about one matter: a public thread
// (keyed by its conversation id) or the DM thread with one customer.
type Case struct {
	ID      string  `json:"id"`
	Channel Channel `json:"channel"`
	Status  Status  `json:"status"`
	// ThreadKey is what threads messages into this case (see ThreadKey):
	// "public#<conversation id>#<customer id>" or "dm#<customer id>".
	ThreadKey string `json:"thread_key"`
	// CustomerID and CustomerHandle identify the customer.
	CustomerID     string `json:"customer_id"`
	CustomerHandle string `json:"customer_handle,omitempty"`
	// Subject is the text of the first inbound message, cut to 140 characters.
	Subject string `json:"subject,omitempty"`
	Lang    string `json:"lang,omitempty"`
	// Priority orders the agent queue: higher first (0–999; 500 until classified).
	Priority int `json:"priority"`
	// Department is the queue of the latest message that matched a routing rule
	// (the default queue until one does), or what an agent set.
	Department string `json:"department,omitempty"`
	// Counters.
	MessagesIn  int `json:"messages_in"`
	MessagesOut int `json:"messages_out"`
	// Times.
	CreatedAt       time.Time  `json:"created_at"`
	FirstInboundAt  time.Time  `json:"first_inbound_at"`
	LastInboundAt   time.Time  `json:"last_inbound_at"`
	FirstResponseAt *time.Time `json:"first_response_at,omitempty"`
	LastOutboundAt  *time.Time `json:"last_outbound_at,omitempty"`
	ResolvedAt      *time.Time `json:"resolved_at,omitempty"`
	UpdatedAt       time.Time  `json:"updated_at"`
	// WaitingSince is when the case entered its current status; for an open case,
	// when the customer started waiting for the brand. The agent queue lists open
	// cases by priority, then by WaitingSince, oldest first.
	WaitingSince time.Time `json:"waiting_since"`
	// Summoned is true when any inbound message of the case addressed the brand.
	Summoned bool `json:"summoned"`
	// Intent and Sentiment label the case, unless an agent set them (see
	// Overridden): the intent is the most serious of its inbound messages'
	// (classify.Intent.Severity: a complaint that ends in thanks stays a
	// complaint), the sentiment its latest inbound message's. Values are those of
	// package classify ("complaint", "negative", …).
	Intent    string `json:"intent,omitempty"`
	Sentiment string `json:"sentiment,omitempty"`
	// CrisisTopic is the open crisis the case's messages were last found to belong
	// to (kept after the crisis closes).
	CrisisTopic string `json:"crisis_topic,omitempty"`
	// Overridden lists the triage fields an agent set by hand (TriageFields): the
	// protocol's later decisions on the case leave them as the agent set them.
	Overridden []string `json:"overridden,omitempty"`
	// Assignee is the id of the agent who holds the case (empty: nobody),
	// AssigneeName their display name; AssignedBy is who assigned it (the assignee
	// when they claimed it) and AssignedAt when.
	Assignee     string     `json:"assignee,omitempty"`
	AssigneeName string     `json:"assignee_name,omitempty"`
	AssignedBy   string     `json:"assigned_by,omitempty"`
	AssignedAt   *time.Time `json:"assigned_at,omitempty"`

	// Service measures (package monitor and the metrics).
	//
	// EscalatedAt is when the case, still without a first response, passed its
	// first-response target and was escalated (once).
	EscalatedAt *time.Time `json:"escalated_at,omitempty"`
	// Reopens counts how often the case went from resolved back to open.
	Reopens int `json:"reopens,omitempty"`
	// SurveySentAt is when its satisfaction survey went out (one per case); CSAT is
	// the customer's answer, 1 to 5, given at CSATAt.
	SurveySentAt *time.Time `json:"survey_sent_at,omitempty"`
	CSAT         *int       `json:"csat,omitempty"`
	CSATAt       *time.Time `json:"csat_at,omitempty"`
}

// Triage fields a case's Overridden may list.
const (
	FieldPriority   = "priority"
	FieldDepartment = "department"
	FieldIntent     = "intent"
	FieldSentiment  = "sentiment"
)

// TriageFields lists the fields an agent may override.
var TriageFields = []string{FieldPriority, FieldDepartment, FieldIntent, FieldSentiment}

// Triage is what the care protocol (or an agent) decides about a case's place in
// the queue. Empty fields, and a nil Priority, leave the case's value as it is.
type Triage struct {
	// Priority is 0–999.
	Priority    *int
	Department  string
	Intent      string
	Sentiment   string
	CrisisTopic string
}

// DefaultPriority is the priority of a case that nothing has ranked yet.
const DefaultPriority = 500

// StoredMessage is a Message as kept inside a case.
type StoredMessage struct {
	Message
	CaseID    string     `json:"case_id"`
	Source    Source     `json:"source"`
	StoredAt  time.Time  `json:"stored_at"`
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
}

// ThreadKey returns the key that threads m into a case: "dm#<customer id>" for a
// DM, "public#<conversation id>#<customer id>" for a post. conversation is the
// public conversation the message belongs to (resolved by the caller when the
// payload has no conversation id); it is ignored for DMs. Each customer who writes
// in a public conversation has a case of their own: the customers who answer the
// brand's notice, or who join another customer's thread, are not one case.
func ThreadKey(m *Message, conversation string) string {
	if m.Channel == DM {
		return "dm#" + m.Customer()
	}
	key := "public#" + conversation
	if c := m.Customer(); c != "" {
		key += "#" + c
	}
	return key
}

// ThreadConversation returns the conversation id of a public thread key, "" for
// a DM's.
func ThreadConversation(key string) string {
	rest, ok := strings.CutPrefix(key, "public#")
	if !ok {
		return ""
	}
	conv, _, _ := strings.Cut(rest, "#")
	return conv
}

// CaseSummary is what the agent queue shows of a case: the fields that identify,
// rank and filter it (intent, crisis topic, assignee), none of which changes when a
// message is appended (so the queue index is not rewritten by every message).
type CaseSummary struct {
	ID             string    `json:"id"`
	Channel        Channel   `json:"channel"`
	Status         Status    `json:"status"`
	ThreadKey      string    `json:"thread_key"`
	CustomerID     string    `json:"customer_id"`
	CustomerHandle string    `json:"customer_handle,omitempty"`
	Subject        string    `json:"subject,omitempty"`
	Lang           string    `json:"lang,omitempty"`
	Priority       int       `json:"priority"`
	Department     string    `json:"department,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	WaitingSince   time.Time `json:"waiting_since"`
	Summoned       bool      `json:"summoned"`
	Intent         string    `json:"intent,omitempty"`
	CrisisTopic    string    `json:"crisis_topic,omitempty"`
	Assignee       string    `json:"assignee,omitempty"`
	AssigneeName   string    `json:"assignee_name,omitempty"`
}
