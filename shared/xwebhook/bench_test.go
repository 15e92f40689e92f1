package xwebhook

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
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
// parse, encode the envelopes and build the SQS batch, answer. It runs one
// sub-benchmark per sample in events/ (named after the file, such as
// xaa-mention-es.json), so that no kind of payload regresses unseen; a malformed
// body is answered 400 after its quarantine envelope is queued.
func BenchmarkHandleWebhook(b *testing.B) {
	names := eventFiles(b)
	if len(names) == 0 {
		b.Fatal("events/ has no webhook samples to benchmark")
	}
	for name := range eventOutcomes {
		if !slices.Contains(names, name) {
			b.Fatalf("events/%s is in the outcome table but not on disk", name)
		}
	}
	for _, name := range names {
		want, ok := eventOutcomes[name]
		if !ok {
			b.Fatalf("events/%s has no row in eventOutcomes", name)
		}
		wantStatus := http.StatusOK
		if want.malformed {
			wantStatus = http.StatusBadRequest
		}
		b.Run(name, func(b *testing.B) {
			body := readEvent(b, name)
			sig := Sign(testSecret, body)
			sqs := &discardSQS{}
			q := &queue.Sender{Client: sqs, URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/pajarito-inbound", Log: slog.New(slog.DiscardHandler)}
			h := &Handler{Secret: testSecret, Brand: testBrand, Queue: q, Log: slog.New(slog.DiscardHandler)}
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/webhooks/x", bytes.NewReader(body))
				r.Header.Set(SignatureHeader, sig)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != wantStatus {
					b.Fatalf("status %d, want %d: %s", w.Code, wantStatus, w.Body)
				}
			}
			if queues := want.malformed || len(want.kinds) > 0; queues && sqs.entries == 0 {
				b.Fatal("nothing was queued")
			}
		})
	}
}
