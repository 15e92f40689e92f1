package xwebhook

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pajarito-care/pajarito/shared/care"
)

// marshalQueue does what the queue does with each envelope: encode it as JSON.
type marshalQueue struct{ bytes int }

func (q *marshalQueue) Enqueue(_ context.Context, envs []care.Envelope) error {
	for i := range envs {
		b, err := json.Marshal(&envs[i])
		if err != nil {
			return err
		}
		q.bytes += len(b)
	}
	return nil
}

// BenchmarkHandleWebhook measures the full POST path: read, verify, parse, build
// and encode the queue entries, answer.
func BenchmarkHandleWebhook(b *testing.B) {
	for _, name := range []string{"xaa-mention-es.json", "aaa-tweet-es.json"} {
		b.Run(name, func(b *testing.B) {
			body := readEvent(b, name)
			sig := Sign(testSecret, body)
			q := &marshalQueue{}
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
