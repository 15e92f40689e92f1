package intake

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/store"
)

// caseUpdates counts the updates of case items.
type caseUpdates struct {
	store.API
	mu sync.Mutex
	n  int
}

func (c *caseUpdates) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if pk, ok := in.Key[store.KeyPK].(*types.AttributeValueMemberS); ok && strings.HasPrefix(pk.Value, "CASE#") {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
	return c.API.UpdateItem(ctx, in, optFns...)
}

func (c *caseUpdates) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// TestInitialTriage: with the protocol's pipeline, a case is created ranked and
// routed (priority, department, intent, sentiment), so that deciding on its first
// message writes nothing more to it — for a customer's first case and for a
// repeat contact, ranked higher.
func TestInitialTriage(t *testing.T) {
	cfg, err := config.Load("../../pajarito.json", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	eng, err := protocol.New(cfg.Protocol)
	if err != nil {
		t.Fatal(err)
	}
	updates := &caseUpdates{}
	st := newStore(t, func(api store.API) store.API { updates.API = api; return updates })
	quiet := slog.New(slog.DiscardHandler)
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC) // Tuesday 10:00 in Madrid
	pipe := &protocol.Pipeline{Engine: eng, Cases: st, Crisis: eng.Monitor(st, care.LogNotifier{Log: quiet}, quiet),
		Metrics: io.Discard, Log: quiet, Now: func() time.Time { return now }}
	p := &Processor{Store: st, Log: quiet, Now: func() time.Time { return now }, Pipeline: pipe}
	handle := func(id, conversation, text string) string {
		t.Helper()
		env := message(id)
		env.ReceivedAt, env.Message.CreatedAt, env.Message.ConversationID, env.Message.Text = now, now, conversation, text
		if conversation != id {
			env.Message.InReplyToID = conversation
		}
		res, err := p.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{sqsRecord("m"+id, envelope(t, env))}})
		if err != nil || len(res.BatchItemFailures) != 0 {
			t.Fatalf("message %s: %+v, %v", id, res, err)
		}
		return "t" + conversation
	}
	tests := []struct {
		name, id, conversation, text string
		wantUpdates                  int
	}{
		{"first case", "1830000000000000001", "1830000000000000001", "@PajaritoAir me habéis perdido la maleta en Barajas", 0},
		{"repeat contact", "1830000000000000003", "1830000000000000003", "@PajaritoAir mi vuelo de vuelta también se ha cancelado", 0},
	}
	for _, tt := range tests {
		before := updates.count()
		caseID := handle(tt.id, tt.conversation, tt.text)
		if got := updates.count() - before; got != tt.wantUpdates {
			t.Errorf("%s: %d updates of the case, want %d", tt.name, got, tt.wantUpdates)
		}
		c, _, err := st.GetCase(t.Context(), caseID)
		if err != nil {
			t.Fatal(err)
		}
		d, err := st.LatestDecision(t.Context(), caseID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Priority != d.Priority || c.Priority == 500 || c.Department != d.Department || c.Intent == "" || c.Sentiment == "" {
			t.Errorf("%s: case priority %d, department %q, intent %q, sentiment %q; decided %d, %q", tt.name,
				c.Priority, c.Department, c.Intent, c.Sentiment, d.Priority, d.Department)
		}
		if tt.name == "repeat contact" && !strings.Contains(fmt.Sprint(d.PriorityFactors), "repeat_contact") {
			t.Errorf("repeat contact: factors %+v", d.PriorityFactors)
		}
	}
}
