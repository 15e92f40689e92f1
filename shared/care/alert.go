package care

import (
	"context"
	"log/slog"
	"time"
)

// Alert kinds: what the team is told about, by whom.
const (
	// AlertCrisisOpened and AlertCrisisClosed: a crisis opened or closed, by the
	// protocol's crisis monitor or by hand (package protocol).
	AlertCrisisOpened = "crisis_opened"
	AlertCrisisClosed = "crisis_closed"
	// AlertEscalation: a message the protocol escalates (package protocol).
	AlertEscalation = "escalation"
	// AlertSLABreach: a case passed its first-response target unanswered (package
	// monitor, once per case).
	AlertSLABreach = "sla_breach"
	// AlertReplyFailed and AlertReplyUnknown: a reply X refused, or one whose
	// fate is unknown (package sender).
	AlertReplyFailed  = "reply_failed"
	AlertReplyUnknown = "reply_unknown"
	// AlertXChatUnread: encrypted X Chat messages arrived today that Pajarito
	// could not read (package monitor, once per UTC day).
	AlertXChatUnread = "xchat_unread"
	// AlertXChatAuth: X refused to refresh the brand's OAuth 2.0 token, which X
	// Chat needs; the brand must sign in again (package monitor, once per UTC day).
	AlertXChatAuth = "xchat_auth"
	// AlertApprovalWaiting: a reply has waited for an agent's approval longer
	// than the protocol's approval.alert_after (package monitor, once per reply
	// and UTC day).
	AlertApprovalWaiting = "approval_waiting"
)

// Alert is a notification to the team.
type Alert struct {
	Kind    string       `json:"kind"`
	Topic   string       `json:"topic,omitempty"`
	CaseID  string       `json:"case_id,omitempty"`
	Message string       `json:"message_id,omitempty"`
	At      time.Time    `json:"at"`
	Summary string       `json:"summary"`
	Crisis  *CrisisState `json:"crisis,omitempty"`
}

// Notifier delivers alerts (SNS in AWS, package notify; a log line locally,
// LogNotifier).
type Notifier interface {
	Notify(ctx context.Context, a Alert) error
}

// LogNotifier writes alerts to a log.
type LogNotifier struct{ Log *slog.Logger }

// Notify implements Notifier.
func (n LogNotifier) Notify(ctx context.Context, a Alert) error {
	log := n.Log
	if log == nil {
		log = slog.Default()
	}
	log.LogAttrs(ctx, slog.LevelWarn, "pajarito alert: "+a.Summary,
		slog.String("alert", a.Kind), slog.String("topic", a.Topic), slog.String("case_id", a.CaseID), slog.Time("at", a.At))
	return nil
}
