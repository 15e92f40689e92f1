package intake

import (
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/local/storetest"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/store"
)

// BenchmarkMessageCost runs inbound complaints through the processor and the whole
// protocol pipeline, as the process function does with the repository's
// pajarito.json (classification, priority, routing, crisis counters, decision,
// automatic-reply claim), and reports what each message costs on DynamoDB, in
// read and write units: for a message that opens a case (its customer's first,
// or a customer who wrote before: a repeat contact, ranked higher), and for a
// follow-up in an open case. The cost estimate of the deployment guide starts
// from these.
func BenchmarkMessageCost(b *testing.B) {
	cfg, err := config.Load("../../pajarito.json", func(string) string { return "" })
	if err != nil {
		b.Fatal(err)
	}
	eng, err := protocol.New(cfg.Protocol)
	if err != nil {
		b.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	for _, mode := range []string{"new_case", "new_customer", "follow_up"} {
		b.Run(mode, func(b *testing.B) {
			st := storetest.New(b)
			meter := &store.CapacityMeter{API: storetest.Client(b)}
			st.Client = meter
			// Tuesday 10:00 in Madrid: business hours, no out-of-hours reply.
			now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
			p := &Processor{Store: st, Log: quiet, Now: func() time.Time { return now },
				Pipeline: &protocol.Pipeline{Engine: eng, Cases: st, Crisis: eng.Monitor(st, care.LogNotifier{Log: quiet}, quiet),
					Metrics: io.Discard, Log: quiet, Now: func() time.Time { return now }}}
			root := "1830000000000000000"
			handle := func(id, conversation string, at time.Time) {
				env := message(id)
				if mode == "new_customer" {
					env.Message.AuthorID = "29" + id[2:]
				}
				env.ReceivedAt, env.Message.CreatedAt, env.Message.ConversationID = at, at, conversation
				env.Message.Text = "@PajaritoAir llevo dos horas esperando mi maleta en Barajas y nadie me dice nada"
				if conversation != id {
					env.Message.InReplyToID = conversation
				}
				res, err := p.Handle(b.Context(), events.SQSEvent{Records: []events.SQSMessage{sqsRecord("m"+id, envelope(b, env))}})
				if err != nil || len(res.BatchItemFailures) != 0 {
					b.Fatalf("message %s: %+v, %v", id, res, err)
				}
			}
			if mode == "follow_up" {
				handle(root, root, now.Add(-time.Hour))
			}
			r0, w0 := meter.Units()
			bytes0 := meter.Bytes()
			for i := 0; b.Loop(); i++ {
				id := fmt.Sprint(1830000000000000001 + int64(i))
				conversation := id
				if mode == "follow_up" {
					conversation = root
				}
				handle(id, conversation, now.Add(-time.Duration(b.N-i)*time.Second))
			}
			r1, w1 := meter.Units()
			b.ReportMetric(float64(meter.Bytes()-bytes0)/float64(b.N), "written-B/op")
			b.ReportMetric((w1-w0)/float64(b.N), "WCU/op")
			b.ReportMetric((r1-r0)/float64(b.N), "RCU/op")
		})
	}
}
