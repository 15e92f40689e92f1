package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/localsqs"
	"github.com/pajarito-care/pajarito/shared/notify"
	"github.com/pajarito-care/pajarito/shared/settings"
)

var server *localsqs.Server

func TestMain(m *testing.M) {
	s, err := localsqs.Start(localsqs.Queue{Name: "alerts"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	server = s
	code := m.Run()
	s.Close()
	os.Exit(code)
}

// snsClient talks to goaws's SNS API, which serves on the same endpoint as SQS.
func snsClient() *sns.Client { return server.SNS(context.Background()) }

// The alert goes through goaws's SNS to a subscribed SQS queue, as an e-mail or a
// chat integration would receive it.
func TestNotifyPublishesToTheTopic(t *testing.T) {
	ctx := context.Background()
	c := snsClient()
	topic, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("pajarito-alerts")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn:   topic.TopicArn,
		Protocol:   aws.String("sqs"),
		Endpoint:   aws.String(server.QueueURL("alerts")),
		Attributes: map[string]string{"RawMessageDelivery": "true"},
	}); err != nil {
		t.Fatal(err)
	}
	n, err := notify.NewSNS(c, aws.ToString(topic.TopicArn), nil)
	if err != nil {
		t.Fatal(err)
	}
	a := care.Alert{
		Kind:    care.AlertCrisisOpened,
		Topic:   "equipaje",
		At:      time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
		Summary: "Crisis abierta en «equipaje»: 120 quejas en 15 min (línea base 4)",
	}
	if err := n.Notify(ctx, a); err != nil {
		t.Fatal(err)
	}
	out, err := server.Client(ctx).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(server.QueueURL("alerts")), WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("the subscribed queue got %d messages, want 1", len(out.Messages))
	}
	body := aws.ToString(out.Messages[0].Body)
	summary, js, ok := strings.Cut(body, "\n\n")
	if !ok || summary != a.Summary {
		t.Fatalf("body does not start with the summary and a blank line:\n%s", body)
	}
	var back care.Alert
	if err := json.Unmarshal([]byte(js), &back); err != nil {
		t.Fatalf("the body's JSON part: %v\n%s", err, js)
	}
	if back.Kind != a.Kind || back.Topic != a.Topic || !back.At.Equal(a.At) {
		t.Errorf("alert after SNS = %+v, want %+v", back, a)
	}
}

func TestNotifyErrors(t *testing.T) {
	for _, arn := range []string{"", "pajarito-alerts", "arn:aws:sns"} {
		if _, err := notify.NewSNS(snsClient(), arn, nil); err == nil || !strings.Contains(err.Error(), settings.EnvAlertTopic) {
			t.Errorf("NewSNS(%q) error = %v, want one naming %s", arn, err, settings.EnvAlertTopic)
		}
	}
	// A topic that does not exist: the error reaches the caller, nothing is swallowed.
	n, err := notify.NewSNS(snsClient(), "arn:aws:sns:"+localsqs.Region+":"+localsqs.AccountID+":missing", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = n.Notify(context.Background(), care.Alert{Kind: care.AlertEscalation, Summary: "case c1 escalated"})
	if err == nil || !strings.Contains(err.Error(), "escalation") {
		t.Errorf("publish to a missing topic: %v", err)
	}
	if err := n.Notify(context.Background(), care.Alert{Kind: care.AlertEscalation}); err == nil {
		t.Error("an alert without a summary was accepted")
	}
}

func TestSubject(t *testing.T) {
	for _, tc := range []struct {
		a    care.Alert
		want string
	}{
		{care.Alert{Kind: "crisis_opened", Summary: "equipaje"}, "[Pajarito] crisis opened: equipaje"},
		{care.Alert{Kind: "escalation", Summary: "línea 1\nlínea 2"}, "[Pajarito] escalation: línea 1 línea 2"},
		{care.Alert{Kind: "escalation", Summary: strings.Repeat("ñ", 200)}, "[Pajarito] escalation: " + strings.Repeat("ñ", 100-len("[Pajarito] escalation: ")-1) + "…"},
	} {
		got := notify.Subject(tc.a)
		if got != tc.want || utf8.RuneCountInString(got) > 100 {
			t.Errorf("Subject(%q) = %q (%d chars), want %q", tc.a.Summary, got, utf8.RuneCountInString(got), tc.want)
		}
	}
}
