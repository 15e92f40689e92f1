package xwebhook

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pajarito-care/pajarito/shared/queue"
)

// discardSQS accepts every SendMessageBatch without a network round trip, so the
// benchmark measures Pajarito's own work: the production queue.Sender still encodes
// each envelope and builds the batches.
type discardSQS struct{ entries int }

func (d *discardSQS) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	d.entries += len(in.Entries)
	return &sqs.SendMessageBatchOutput{}, nil
}

// BenchmarkHandleWebhook measures the full POST path of one event: read, verify,
// parse, encode the envelopes and build the SQS batch, answer.
func BenchmarkHandleWebhook(b *testing.B) {
	for _, name := range []string{"xaa-mention-es.json", "aaa-tweet-es.json"} {
		b.Run(name, func(b *testing.B) {
			body := readEvent(b, name)
			sig := Sign(testSecret, body)
			q := &queue.Sender{Client: &discardSQS{}, URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/pajarito-inbound", Log: slog.New(slog.DiscardHandler)}
			h := &Handler{Secret: testSecret, Brand: testBrand, Queue: q, Log: slog.New(slog.DiscardHandler)}
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/webhooks/x", bytes.NewReader(body))
				r.Header.Set(SignatureHeader, sig)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}
