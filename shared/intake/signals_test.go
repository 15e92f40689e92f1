package intake

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/storetest"
	"github.com/pajarito-care/pajarito/shared/store"
)

// failingUpdates fails the first fails updates of items whose partition key
// contains marker.
type failingUpdates struct {
	store.API
	marker string
	fails  atomic.Int64
}

func (f *failingUpdates) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if pk, ok := in.Key[store.KeyPK].(*types.AttributeValueMemberS); ok && strings.Contains(pk.Value, f.marker) && f.fails.Add(-1) >= 0 {
		return nil, errInjected
	}
	return f.API.UpdateItem(ctx, in, o...)
}

func ignoredEvent(eventType string, at time.Time) care.Envelope {
	return care.Envelope{
		Version: care.EnvelopeVersion, Kind: care.KindIgnored, Source: care.SourceXAA, EventID: "ev-" + eventType,
		ReceivedAt: at, Ignored: &care.Ignored{EventType: eventType},
	}
}

// chat returns an X Chat message between the customer and the brand, unread
// (no text) unless text is set.
func chat(id string, in bool, text string, at time.Time) care.Envelope {
	m := &care.Message{
		Channel: care.DM, Direction: care.Inbound, ID: id, AuthorID: customer, RecipientID: brandID,
		Text: text, CreatedAt: at, Summoned: true,
		XChat: &care.XChat{EventID: "6f1c0c1e-0000-4000-8000-" + id[len(id)-12:], ConversationID: brandID + ":" + customer},
	}
	if !in {
		m.Direction, m.AuthorID, m.RecipientID, m.Summoned = care.Outbound, brandID, customer, false
	}
	return care.Envelope{
		Version: care.EnvelopeVersion, Kind: care.KindMessage, Source: care.SourceXAA, EventID: "ev-" + id,
		ReceivedAt: at.Add(time.Second), Message: m,
	}
}

// signalCounts returns the counts of signal on t0's day by key.
func signalCounts(t *testing.T, s *store.Store, signal string) map[string]int64 {
	t.Helper()
	sigs, err := s.Signals(t.Context(), signal, t0, t0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, sg := range sigs {
		out[sg.Key] = sg.Count
	}
	return out
}

func TestHandleIgnoredEvents(t *testing.T) {
	s := newStore(t, nil)
	dlq := &deadLetter{}
	var metrics bytes.Buffer
	p := &Processor{Store: s, DeadLetter: dlq, Log: slog.New(slog.DiscardHandler), Metrics: &metrics}
	tests := []struct {
		name    string
		env     care.Envelope
		outcome string
	}{
		{"like", ignoredEvent("like.create", t0), OutcomeIgnored},
		{"another like", ignoredEvent("like.create", t0.Add(time.Hour)), OutcomeIgnored},
		{"profile update", ignoredEvent("profile.update", t0), OutcomeIgnored},
		{"no event type", ignoredEvent("", t0), OutcomeQuarantined},
	}
	for i, tt := range tests {
		var logs strings.Builder
		p.Log = slog.New(slog.NewJSONHandler(&logs, nil))
		id := "m-" + string(rune('a'+i))
		resp, err := p.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{sqsRecord(id, envelope(t, tt.env))}})
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("%s: %+v, %v", tt.name, resp, err)
		}
		if !strings.Contains(logs.String(), `"outcome":"`+tt.outcome+`"`) {
			t.Errorf("%s: log %s, want outcome %s", tt.name, logs.String(), tt.outcome)
		}
		if tt.outcome == OutcomeIgnored && !strings.Contains(logs.String(), `"event_type":"`+tt.env.Ignored.EventType+`"`) {
			t.Errorf("%s: log %s does not name the event type", tt.name, logs.String())
		}
	}
	if got := signalCounts(t, s, store.SignalIgnoredEvent); len(got) != 2 || got["like.create"] != 2 || got["profile.update"] != 1 {
		t.Errorf("ignored events counted %v, want like.create 2, profile.update 1", got)
	}
	if len(dlq.bodies) != 1 {
		t.Errorf("dead-letter queue got %d bodies, want the envelope without event type", len(dlq.bodies))
	}
	// CloudWatch counts them too: one IgnoredEvents line per event, by type.
	lines := strings.Split(strings.TrimSpace(metrics.String()), "\n")
	likes := 0
	for _, l := range lines {
		if strings.Contains(l, `"IgnoredEvents":1`) && strings.Contains(l, `"EventType":"like.create"`) {
			likes++
		}
	}
	if len(lines) != 3 || likes != 2 {
		t.Errorf("metrics %q: want 3 IgnoredEvents lines, 2 of them like.create", metrics.String())
	}
}

// TestHandleIgnoredEventRetried: a count that fails is a batch item failure,
// counted once on the redelivery.
func TestHandleIgnoredEventRetried(t *testing.T) {
	s := newStore(t, nil)
	f := &failingUpdates{API: storetest.Client(t), marker: "SIGNAL#"}
	f.fails.Store(1)
	s.Client = f
	p := &Processor{Store: s, Log: slog.New(slog.DiscardHandler)}
	rec := sqsRecord("m-like", envelope(t, ignoredEvent("like.create", t0)))
	for i, wantFailed := range []int{1, 0} {
		resp, err := p.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{rec}})
		if err != nil || len(resp.BatchItemFailures) != wantFailed {
			t.Fatalf("delivery %d: %+v, %v; want %d failures", i+1, resp, err, wantFailed)
		}
	}
	if got := signalCounts(t, s, store.SignalIgnoredEvent); got["like.create"] != 1 {
		t.Errorf("like.create counted %d times, want 1", got["like.create"])
	}
}

func TestHandleUnreadChat(t *testing.T) {
	unread := chat("1820000000000000101", true, "", t0)
	tests := []struct {
		name       string
		records    []events.SQSMessage
		signalFail int64 // the first signal writes that fail
		wantFailed int
		wantCount  int64
		wantPipe   []string // messages the pipeline got, in order
	}{
		{name: "counted once", records: []events.SQSMessage{sqsRecord("m-1", envelope(t, unread))},
			wantCount: 1, wantPipe: []string{"1820000000000000101"}},
		{name: "another delivery of it is a duplicate", records: []events.SQSMessage{
			sqsRecord("m-1", envelope(t, unread)), sqsRecord("m-2", envelope(t, unread))},
			wantCount: 1, wantPipe: []string{"1820000000000000101"}},
		{name: "the brand's X Chat message is not counted", records: []events.SQSMessage{
			sqsRecord("m-1", envelope(t, chat("1820000000000000102", false, "", t0)))},
			wantPipe: []string{"1820000000000000102"}},
		{name: "a read X Chat message is not counted", records: []events.SQSMessage{
			sqsRecord("m-1", envelope(t, chat("1820000000000000103", true, "hola", t0)))},
			wantPipe: []string{"1820000000000000103"}},
		{name: "a DM is not counted", records: []events.SQSMessage{sqsRecord("m-1", envelope(t, message("1820000000000000104")))},
			wantPipe: []string{"1820000000000000104"}},
		{name: "a failed count is retried before the decision", records: []events.SQSMessage{sqsRecord("m-1", envelope(t, unread))},
			signalFail: 1, wantFailed: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, nil)
			f := &failingUpdates{API: storetest.Client(t), marker: "SIGNAL#"}
			f.fails.Store(tt.signalFail)
			s.Client = f
			cls := &classifier{}
			p := &Processor{Store: s, Pipeline: cls, Log: slog.New(slog.DiscardHandler)}
			resp, err := p.Handle(t.Context(), events.SQSEvent{Records: tt.records})
			if err != nil || len(resp.BatchItemFailures) != tt.wantFailed {
				t.Fatalf("Handle = %+v, %v; want %d failures", resp, err, tt.wantFailed)
			}
			if got := signalCounts(t, s, store.SignalUnreadChat)[store.SignalKeyAll]; got != tt.wantCount {
				t.Errorf("unread X Chat messages counted %d, want %d", got, tt.wantCount)
			}
			if strings.Join(cls.ids, " ") != strings.Join(tt.wantPipe, " ") {
				t.Errorf("pipeline got %v, want %v", cls.ids, tt.wantPipe)
			}
		})
	}
}

// TestHandleUnreadChatRedelivered: SQS's redelivery of the delivery that stored
// an unread X Chat message counts it, since the first count may not have
// happened: once when it had not, twice when it had (the documented double
// count). The pipeline decides on it each time.
func TestHandleUnreadChatRedelivered(t *testing.T) {
	unread := envelope(t, chat("1820000000000000101", true, "", t0))
	tests := []struct {
		name       string
		signalFail int64
		wantCount  int64
	}{
		{"the first count failed", 1, 1},
		{"the first count happened", 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, nil)
			f := &failingUpdates{API: storetest.Client(t), marker: "SIGNAL#"}
			f.fails.Store(tt.signalFail)
			s.Client = f
			cls := &classifier{}
			p := &Processor{Store: s, Pipeline: cls, Log: slog.New(slog.DiscardHandler)}
			for range 2 {
				if _, err := p.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{sqsRecord("m-1", unread)}}); err != nil {
					t.Fatal(err)
				}
			}
			if got := signalCounts(t, s, store.SignalUnreadChat)[store.SignalKeyAll]; got != tt.wantCount {
				t.Errorf("counted %d, want %d", got, tt.wantCount)
			}
			if len(cls.ids) != int(tt.wantCount) {
				t.Errorf("pipeline got %v, want it %d times", cls.ids, tt.wantCount)
			}
			c, _, err := s.GetCase(t.Context(), "d1820000000000000101")
			if err != nil || c.MessagesIn != 1 {
				t.Errorf("case = %+v, %v; want the message stored once", c, err)
			}
		})
	}
}
