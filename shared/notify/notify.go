// Package notify delivers the team's alerts — a crisis opened or closed, an
// escalated case, a reply X refused — to the stack's SNS topic, where e-mail,
// chat and paging subscriptions pick them up.
//
// Each alert is one SNS message: a subject people can read in an inbox, a body
// with the summary followed by the alert as JSON for machines, and a "kind"
// message attribute so that subscriptions can filter (for example, page on
// crisis_opened only).
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/settings"
)

// maxSubject is SNS's limit on the subject of e-mail deliveries, in characters.
const maxSubject = 100

// Publisher is the part of the SNS API the notifier uses (*sns.Client implements it).
type Publisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// SNS publishes alerts to a topic. It implements care.Notifier.
type SNS struct {
	client   Publisher
	topicARN string
	log      *slog.Logger
}

// NewSNS returns a notifier publishing to topicARN; log may be nil.
func NewSNS(client Publisher, topicARN string, log *slog.Logger) (*SNS, error) {
	if !strings.HasPrefix(topicARN, "arn:") || strings.Count(topicARN, ":") < 5 {
		return nil, fmt.Errorf("%s = %q is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>); the stack sets it, see the AlertTopicArn output", settings.EnvAlertTopic, topicARN)
	}
	if log == nil {
		log = slog.Default()
	}
	return &SNS{client: client, topicARN: topicARN, log: log}, nil
}

// Notify implements care.Notifier. An alert that cannot be published is an
// error for the caller to act on (retry, or fail the batch), never dropped
// silently; it is also logged with its summary so nothing is lost.
func (n *SNS) Notify(ctx context.Context, a care.Alert) error {
	if a.Kind == "" || a.Summary == "" {
		return errors.New("notify: an alert needs a kind and a summary")
	}
	body, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return fmt.Errorf("notify: encode %s alert: %w", a.Kind, err)
	}
	out, err := n.client.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(n.topicARN),
		Subject:  aws.String(Subject(a)),
		Message:  aws.String(a.Summary + "\n\n" + string(body)),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"kind": {DataType: aws.String("String"), StringValue: aws.String(a.Kind)},
		},
	})
	if err != nil {
		n.log.ErrorContext(ctx, "alert not published", "alert", a.Kind, "topic", a.Topic, "case_id", a.CaseID, "summary", a.Summary, "error", err.Error())
		return fmt.Errorf("notify: publish %s alert to %s: %w", a.Kind, n.topicARN, err)
	}
	n.log.InfoContext(ctx, "alert published", "alert", a.Kind, "topic", a.Topic, "case_id", a.CaseID, "sns_message_id", aws.ToString(out.MessageId))
	return nil
}

// Subject returns the e-mail subject of an alert: "[Pajarito] <kind>: <summary>",
// cut to SNS's 100 characters on a character boundary, on one line (SNS refuses
// line breaks and control characters in subjects).
func Subject(a care.Alert) string {
	s := "[Pajarito] " + strings.ReplaceAll(a.Kind, "_", " ") + ": " + a.Summary
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) <= maxSubject {
		return s
	}
	r := []rune(s)
	return string(r[:maxSubject-1]) + "…"
}
