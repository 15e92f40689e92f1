package costmeter

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/dynalite/dynalitetest"
	"github.com/pajarito-care/pajarito/shared/local/localsqs"
	"github.com/pajarito-care/pajarito/shared/store"
)

var dynamoEndpoint string

func TestMain(m *testing.M) {
	os.Exit(dynalitetest.RunTests(m, func(endpoint string) error {
		dynamoEndpoint = endpoint
		return nil
	}))
}

const brandID = "1590000000000000001"

// post is an inbound public post of customer in conversation conv (a reply to
// replyTo when set).
func post(id, customer, conv, replyTo string, at time.Time) *care.Envelope {
	m := &care.Message{
		Channel: care.Public, Direction: care.Inbound, ID: id, AuthorID: customer, AuthorHandle: "c" + customer,
		Text: "@PajaritoAir my bag did not arrive in Madrid", Lang: "en", CreatedAt: at,
		ConversationID: conv, InReplyToID: replyTo, MentionedIDs: []string{brandID}, Summoned: true,
	}
	raw, _ := json.Marshal(map[string]string{"id": id, "text": m.Text})
	return &care.Envelope{Version: care.EnvelopeVersion, Kind: care.KindMessage, Source: care.SourceXAA, ReceivedAt: at, Message: m, Raw: raw}
}

// The proxy counts what store.CapacityMeter counts in-process for the same
// work: new cases (index writes), follow-ups, duplicates (a condition refused),
// reads; and it leaves the answers as they were (the store works through it).
func TestDynamoDBCountsAsCapacityMeter(t *testing.T) {
	ctx := t.Context()
	direct, err := store.NewClient(ctx, dynamoEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := StartDynamoDB(dynamoEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	viaProxy, err := store.NewClient(ctx, proxy.URL)
	if err != nil {
		t.Fatal(err)
	}
	meter := &store.CapacityMeter{API: direct}
	inProcess := store.New(meter, "metered")
	onWire := store.New(viaProxy, "proxied")
	for _, s := range []*store.Store{inProcess, onWire} {
		if err := s.CreateTable(ctx); err != nil {
			t.Fatal(err)
		}
	}
	r0, w0 := meter.Units()
	c0 := proxy.Counts()

	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	work := func(s *store.Store) {
		for i := range 3 {
			root := fmt.Sprint(1830000000000000000 + 10*i)
			customer := fmt.Sprint(900 + i)
			at := t0.Add(time.Duration(i) * time.Minute)
			for j, env := range []*care.Envelope{
				post(root, customer, root, "", at),                                   // a new case
				post(fmt.Sprint(1830000000000000001+10*i), customer, root, root, at), // a follow-up
				post(root, customer, root, "", at),                                   // a duplicate
			} {
				if _, err := s.Append(ctx, env, fmt.Sprintf("d%d-%d", i, j)); err != nil {
					t.Fatal(err)
				}
			}
			if _, _, err := s.GetCase(ctx, "t"+root); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := s.ListCases(ctx, store.ListQuery{Limit: 10}); err != nil {
			t.Fatal(err)
		}
	}
	work(inProcess)
	work(onWire)

	r1, w1 := meter.Units()
	got := proxy.Counts().Sub(c0)
	if got.Write != w1-w0 || got.Read != r1-r0 {
		t.Errorf("proxy counted %v WCU, %v RCU; CapacityMeter %v WCU, %v RCU", got.Write, got.Read, w1-w0, r1-r0)
	}
	if got.Write <= 0 || got.Read <= 0 || got.Calls["PutItem"]+got.Calls["UpdateItem"] == 0 || got.Calls["Query"] == 0 {
		t.Errorf("counts %+v: want writes, reads and the calls by operation", got)
	}
	var byKind float64
	calls := 0
	for _, u := range got.ByKind {
		byKind += u.Write
		calls += u.Calls
	}
	ops := 0
	for _, n := range got.Calls {
		ops += n
	}
	if calls != ops {
		t.Errorf("calls by kind add up to %d, by operation to %d", calls, ops)
	}
	if byKind != got.Write || got.ByKind["CASE/MSG"].Write == 0 || got.ByKind["X"].Write == 0 || got.ByKind["GSI1:Q"].Read == 0 {
		t.Errorf("units by kind %v (writes adding up to %v of %v): want messages, claims and the queue index's reads", got.ByKind, byKind, got.Write)
	}
	// The store read its own cases back through the proxy.
	list, _, err := onWire.ListCases(ctx, store.ListQuery{Limit: 10})
	if err != nil || len(list) != 3 {
		t.Errorf("cases through the proxy: %d, %v", len(list), err)
	}
}

func TestKind(t *testing.T) {
	for _, tc := range []struct{ pk, sk, index, want string }{
		{"CASE#t123", "CASE", "", "CASE/CASE"},
		{"CASE#t123", "MSG#00000000000000000123", "", "CASE/MSG"},
		{"X#public#123", "X", "", "X"},
		{"CRISIS", "TOPIC#outage", "", "CRISIS"},
		{"Q#open", "", "GSI1", "GSI1:Q"},
	} {
		if got := Kind(tc.pk, tc.sk, tc.index); got != tc.want {
			t.Errorf("Kind(%q, %q, %q) = %q, want %q", tc.pk, tc.sk, tc.index, got, tc.want)
		}
	}
	a := DynamoCounts{Read: 1, Write: 2, Calls: map[string]int{"PutItem": 1}, ByKind: map[string]Units{"X": {0, 2, 1}}}
	b := DynamoCounts{Read: 3, Calls: map[string]int{"Query": 1}, ByKind: map[string]Units{"CASE/MSG": {3, 0, 1}, "X": {0, 1, 1}}}
	if sum := a.Add(b); sum.Read != 4 || sum.Write != 2 || sum.Calls["Query"] != 1 || sum.ByKind["X"] != (Units{0, 3, 2}) || sum.ByKind["CASE/MSG"].Read != 3 {
		t.Errorf("a + b = %+v", sum)
	}
}

func TestSQSCounts(t *testing.T) {
	srv, err := localsqs.Start(localsqs.Queue{Name: "q"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	proxy, err := StartSQS(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	ctx := t.Context()
	client := sqs.NewFromConfig(aws.Config{Region: localsqs.Region, Credentials: aws.AnonymousCredentials{}}, func(o *sqs.Options) {
		o.BaseEndpoint = aws.String(proxy.URL)
	})
	url := srv.QueueURL("q")
	big := strings.Repeat("x", 100<<10) // two 64 KiB chunks
	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("hola")}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("1"), MessageBody: aws.String(big)}, {Id: aws.String("2"), MessageBody: aws.String("adiós")},
	}}); err != nil {
		t.Fatal(err)
	}
	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil || len(out.Messages) != 3 {
		t.Fatalf("receive: %d messages, %v", len(out.Messages), err)
	}
	var del []types.DeleteMessageBatchRequestEntry
	for i, m := range out.Messages {
		del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
	}
	if _, err := client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: del}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, WaitTimeSeconds: 1}); err != nil {
		t.Fatal(err)
	}
	snsClient := sns.NewFromConfig(aws.Config{Region: localsqs.Region, Credentials: aws.AnonymousCredentials{}}, func(o *sns.Options) {
		o.BaseEndpoint = aws.String(proxy.URL)
	})
	topic, err := snsClient.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snsClient.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("crisis")}); err != nil {
		t.Fatal(err)
	}

	c := proxy.Counts()
	// send 1 + batch 2 (100 KiB of bodies) + receive 2 (100 KiB received) +
	// delete batch 1 + empty receive 1.
	if c.Billed != 7 || c.Calls["SendMessageBatch"] != 1 || c.Calls["ReceiveMessage"] != 2 || c.Calls["DeleteMessageBatch"] != 1 ||
		c.EmptyReceives != 1 || c.Received != 3 || c.SNS["Publish"] != 1 || c.SNS["CreateTopic"] != 1 {
		t.Errorf("counts %+v, want 7 billed requests, 2 receives (1 empty, 3 messages), 1 publish", c)
	}
	if d := c.Sub(c); d.Billed != 0 || d.Calls["ReceiveMessage"] != 0 {
		t.Errorf("c − c = %+v", d)
	}
	if d := c.Add(c); d.Billed != 14 || d.Calls["ReceiveMessage"] != 4 || d.SNS["Publish"] != 2 || c.Billed != 7 {
		t.Errorf("c + c = %+v (c %+v)", d, c)
	}
}

func TestSecrets(t *testing.T) {
	s := StartSecrets(map[string]string{"pajarito/x": `{"api_key":"k"}`})
	defer s.Close()
	client := secretsmanager.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}}, func(o *secretsmanager.Options) {
		o.BaseEndpoint = aws.String(s.URL)
	})
	ctx := context.Background()
	out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("pajarito/x")})
	if err != nil || aws.ToString(out.SecretString) != `{"api_key":"k"}` {
		t.Fatalf("GetSecretValue = %v, %v", out, err)
	}
	if _, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("other")}); err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Errorf("unknown secret: %v", err)
	}
	if n := s.Total(); n != 2 || s.Calls()["GetSecretValue"] != 2 {
		t.Errorf("calls %v, want 2 GetSecretValue", s.Calls())
	}
}
