package care

import "time"

// ActionKind is something the care protocol decided to do about a message.
type ActionKind string

const (
	// ActionAutoAck acknowledges the message with an automatic public reply or DM
	// (a thank-you for praise).
	ActionAutoAck ActionKind = "auto_acknowledge"
	// ActionMoveToDM replies publicly inviting the customer to DM (personal data,
	// account or payment matters, grave cases), never repeating personal data.
	ActionMoveToDM ActionKind = "move_to_dm"
	// ActionOutOfHours answers with the business hours and other channels.
	ActionOutOfHours ActionKind = "out_of_hours"
	// ActionCrisisReply answers with the template of an open crisis.
	ActionCrisisReply ActionKind = "crisis_reply"
	// ActionEscalate notifies the team of a grave case.
	ActionEscalate ActionKind = "escalate"
	// ActionQueue leaves the case in the agents' queue for a person to answer.
	ActionQueue ActionKind = "queue_for_agent"
	// ActionNone does nothing (spam, the brand's own messages).
	ActionNone ActionKind = "no_action"
)

// Action is one thing decided, and why.
type Action struct {
	Kind ActionKind `json:"kind"`
	Why  string     `json:"why"`
}

// DecisionRecord is what the care protocol decided about one message of a case and
// why, in words an agent can read: it is stored with the case (one record per
// message) and shown with it.
type DecisionRecord struct {
	CaseID    string    `json:"case_id"`
	MessageID string    `json:"message_id"`
	DecidedAt time.Time `json:"decided_at"`
	// Tier is the deployment's X tier the decision was made under.
	Tier   string `json:"tier"`
	Labels Labels `json:"labels"`
	// Priority (0–999) and the factors that add up to it.
	Priority        int      `json:"priority"`
	PriorityFactors []Factor `json:"priority_factors"`
	// Department and the routing rule that chose it.
	Department    string   `json:"department"`
	DepartmentWhy string   `json:"department_why"`
	Actions       []Action `json:"actions"`
	// Replies are the reply requests sent to the outbound queue.
	Replies []ReplyRequest `json:"replies,omitempty"`
	// CrisisTopic is the open crisis the message belongs to, if any.
	CrisisTopic string `json:"crisis_topic,omitempty"`
	// Explanation says, line by line, what was decided and why (including what was
	// not done: an automatic reply withheld, and the rule that withheld it).
	Explanation []string `json:"explanation"`
}

// Has reports whether the record holds an action of kind k.
func (d *DecisionRecord) Has(k ActionKind) bool {
	for _, a := range d.Actions {
		if a.Kind == k {
			return true
		}
	}
	return false
}
