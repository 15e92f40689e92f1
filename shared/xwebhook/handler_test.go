package xwebhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
)

// fakeQueue records what the handler enqueues.
type fakeQueue struct {
	calls [][]care.Envelope
	err   error
}

func (q *fakeQueue) Enqueue(_ context.Context, envs []care.Envelope) error {
	q.calls = append(q.calls, envs)
	return q.err
}

func (q *fakeQueue) enqueued() []care.Envelope {
	var all []care.Envelope
	for _, c := range q.calls {
		all = append(all, c...)
	}
	return all
}

func newTestHandler(q Enqueuer, logs *bytes.Buffer) *Handler {
	return &Handler{
		Secret: testSecret,
		Brand:  testBrand,
		Queue:  q,
		Now:    func() time.Time { return receivedAt },
		Log:    slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

func post(body []byte, signature string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/webhooks/x", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if signature != "" {
		r.Header.Set(SignatureHeader, signature)
	}
	return r
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func TestHandlerCRC(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		target     string
		wantStatus int
		wantToken  string
		wantCode   string
	}{
		{"ok", http.MethodGet, "/webhooks/x?crc_token=challenge_string", http.StatusOK,
			"sha256=PUR66Q5yhnFquNN2rDhsX9oLwyeDfqzZblj9os0cwO4=", ""},
		{"missing token", http.MethodGet, "/webhooks/x", http.StatusBadRequest, "", "missing_crc_token"},
		{"empty token", http.MethodGet, "/webhooks/x?crc_token=", http.StatusBadRequest, "", "missing_crc_token"},
		{"PUT not allowed", http.MethodPut, "/webhooks/x", http.StatusMethodNotAllowed, "", "method_not_allowed"},
		{"DELETE not allowed", http.MethodDelete, "/webhooks/x?crc_token=x", http.StatusMethodNotAllowed, "", "method_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			q := &fakeQueue{}
			w := httptest.NewRecorder()
			newTestHandler(q, &logs).ServeHTTP(w, httptest.NewRequest(tt.method, tt.target, nil))
			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.wantStatus, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if tt.wantStatus == http.StatusMethodNotAllowed && w.Header().Get("Allow") != "GET, POST" {
				t.Errorf("Allow = %q", w.Header().Get("Allow"))
			}
			if tt.wantToken != "" {
				var got struct {
					ResponseToken string `json:"response_token"`
				}
				if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got.ResponseToken != tt.wantToken {
					t.Errorf("body %s (%v), want response_token %q", w.Body, err, tt.wantToken)
				}
			}
			if tt.wantCode != "" {
				var eb errorBody
				if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil || eb.Error.Code != tt.wantCode || eb.Error.Message == "" {
					t.Errorf("error body %s (%v), want code %q", w.Body, err, tt.wantCode)
				}
			}
			if len(q.calls) != 0 {
				t.Error("a CRC request enqueued something")
			}
		})
	}
}

func TestHandlerPost(t *testing.T) {
	mention := readEvent(t, "xaa-mention-es.json")
	malformed := readEvent(t, "malformed.json")
	invalidUTF8 := []byte("{\"for_user_id\":\"1590000000000000001\",\"x\":\"\xff\"}")
	queueDown := errors.New("sqs: connection reset")

	tests := []struct {
		name       string
		body       []byte
		signature  string // "" = none; "sign" = a valid one
		maxBody    int64
		queueErr   error
		wantStatus int
		wantCode   string
		wantCalls  int
		wantKinds  []care.Kind
		wantLog    string
	}{
		{name: "mention enqueued", body: mention, signature: "sign",
			wantStatus: http.StatusOK, wantCalls: 1, wantKinds: []care.Kind{care.KindMessage}, wantLog: "webhook delivery accepted"},
		{name: "missing signature", body: mention,
			wantStatus: http.StatusUnauthorized, wantCode: "missing_signature", wantLog: "webhook signature rejected"},
		{name: "wrong signature", body: mention, signature: Sign([]byte("someone else"), mention),
			wantStatus: http.StatusUnauthorized, wantCode: "bad_signature", wantLog: "does not match"},
		{name: "signature of another body", body: mention, signature: Sign(testSecret, []byte("{}")),
			wantStatus: http.StatusUnauthorized, wantCode: "bad_signature"},
		{name: "oversized", body: mention, signature: "sign", maxBody: 1024,
			wantStatus: http.StatusRequestEntityTooLarge, wantCode: "body_too_large"},
		{name: "exactly at the limit", body: mention, signature: "sign", maxBody: int64(len(mention)),
			wantStatus: http.StatusOK, wantCalls: 1, wantKinds: []care.Kind{care.KindMessage}},
		{name: "malformed JSON quarantined", body: malformed, signature: "sign",
			wantStatus: http.StatusBadRequest, wantCode: "malformed_body", wantCalls: 1,
			wantKinds: []care.Kind{care.KindUnparsed}, wantLog: "quarantined"},
		{name: "invalid UTF-8 quarantined", body: invalidUTF8, signature: "sign",
			wantStatus: http.StatusBadRequest, wantCode: "malformed_body", wantCalls: 1, wantKinds: []care.Kind{care.KindUnparsed}},
		{name: "malformed and queue down", body: malformed, signature: "sign", queueErr: queueDown,
			wantStatus: http.StatusServiceUnavailable, wantCode: "queue_unavailable", wantCalls: 1,
			wantKinds: []care.Kind{care.KindUnparsed}},
		{name: "queue down", body: mention, signature: "sign", queueErr: queueDown,
			wantStatus: http.StatusServiceUnavailable, wantCode: "queue_unavailable", wantCalls: 1,
			wantKinds: []care.Kind{care.KindMessage}, wantLog: "connection reset"},
		{name: "all dropped: no enqueue", body: readEvent(t, "aaa-own-post.json"), signature: "sign",
			wantStatus: http.StatusOK, wantLog: `"reason":"own_post"`},
		{name: "ignored: no enqueue", body: readEvent(t, "aaa-favorite.json"), signature: "sign",
			wantStatus: http.StatusOK, wantLog: `"event":"favorite_events"`},
		{name: "other user: no enqueue", body: readEvent(t, "aaa-other-user.json"), signature: "sign", queueErr: queueDown,
			wantStatus: http.StatusOK, wantLog: `"dropped":{"not_served":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			q := &fakeQueue{err: tt.queueErr}
			h := newTestHandler(q, &logs)
			h.MaxBody = tt.maxBody
			sig := tt.signature
			if sig == "sign" {
				sig = Sign(testSecret, tt.body)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, post(tt.body, sig))

			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s; logs %s", w.Code, tt.wantStatus, w.Body, &logs)
			}
			if tt.wantCode != "" {
				var eb errorBody
				if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil || eb.Error.Code != tt.wantCode {
					t.Errorf("error body %s (%v), want code %q", w.Body, err, tt.wantCode)
				}
			}
			if len(q.calls) != tt.wantCalls {
				t.Fatalf("Enqueue called %d times, want %d", len(q.calls), tt.wantCalls)
			}
			var kinds []care.Kind
			for _, env := range q.enqueued() {
				kinds = append(kinds, env.Kind)
			}
			if strings.Join(kindStrings(kinds), ",") != strings.Join(kindStrings(tt.wantKinds), ",") {
				t.Errorf("enqueued kinds %v, want %v", kinds, tt.wantKinds)
			}
			if tt.wantLog != "" && !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("logs lack %q:\n%s", tt.wantLog, &logs)
			}
			// Neither the secret nor a signature ever reaches the logs.
			if strings.Contains(logs.String(), string(testSecret)) || (sig != "" && strings.Contains(logs.String(), sig[7:])) {
				t.Errorf("logs leak the secret or the signature:\n%s", &logs)
			}
		})
	}
}

func kindStrings(kinds []care.Kind) []string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = string(k)
	}
	return s
}

func TestHandlerQuarantinesTheBody(t *testing.T) {
	body := readEvent(t, "malformed.json")
	q := &fakeQueue{}
	var logs bytes.Buffer
	w := httptest.NewRecorder()
	newTestHandler(q, &logs).ServeHTTP(w, post(body, Sign(testSecret, body)))
	if w.Code != http.StatusBadRequest || len(q.calls) != 1 || len(q.calls[0]) != 1 {
		t.Fatalf("status %d, calls %v", w.Code, q.calls)
	}
	env := q.calls[0][0]
	if env.Unparsed != string(body) || env.Problem == "" || env.Source != care.SourceXAA ||
		!env.ReceivedAt.Equal(receivedAt) || env.Version != care.EnvelopeVersion {
		t.Errorf("quarantine envelope = %+v", env)
	}
	if _, err := json.Marshal(env); err != nil {
		t.Errorf("quarantine envelope does not marshal: %v", err)
	}
}

func TestHandlerEnqueuesEverySample(t *testing.T) {
	for _, name := range eventFiles(t) {
		t.Run(name, func(t *testing.T) {
			body := readEvent(t, name)
			q := &fakeQueue{}
			var logs bytes.Buffer
			w := httptest.NewRecorder()
			newTestHandler(q, &logs).ServeHTTP(w, post(body, Sign(testSecret, body)))
			want := eventOutcomes[name]
			switch {
			case want.malformed:
				if w.Code != http.StatusBadRequest {
					t.Errorf("status %d, want 400", w.Code)
				}
			case w.Code != http.StatusOK:
				t.Errorf("status %d, want 200; %s", w.Code, w.Body)
			case len(q.enqueued()) != len(want.kinds):
				t.Errorf("enqueued %d envelopes, want %d", len(q.enqueued()), len(want.kinds))
			}
			var n struct{ Enqueued int }
			if w.Code == http.StatusOK && (json.Unmarshal(w.Body.Bytes(), &n) != nil || n.Enqueued != len(want.kinds)) {
				t.Errorf("body %s, want enqueued %d", w.Body, len(want.kinds))
			}
		})
	}
}

func TestHandlerNotConfigured(t *testing.T) {
	body := readEvent(t, "xaa-mention-es.json")
	tests := []struct {
		name string
		h    *Handler
		req  *http.Request
	}{
		{"CRC without secret", &Handler{Queue: &fakeQueue{}, Log: slog.New(slog.DiscardHandler)},
			httptest.NewRequest(http.MethodGet, "/webhooks/x?crc_token=abc", nil)},
		{"POST without secret", &Handler{Queue: &fakeQueue{}, Brand: testBrand, Log: slog.New(slog.DiscardHandler)},
			post(body, Sign(nil, body))},
		{"POST without queue", &Handler{Secret: testSecret, Brand: testBrand, Log: slog.New(slog.DiscardHandler)},
			post(body, Sign(testSecret, body))},
		{"POST without brand", &Handler{Secret: testSecret, Queue: &fakeQueue{}, Log: slog.New(slog.DiscardHandler)},
			post(body, Sign(testSecret, body))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			tt.h.ServeHTTP(w, tt.req)
			if w.Code != http.StatusInternalServerError {
				t.Errorf("status %d, want 500", w.Code)
			}
		})
	}
}
