package agentapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/store"
)

// The quarantined deliveries seeded by seedQuarantine, sent one minute apart in
// this order (so newest first is the reverse).
var (
	shortBody   = `{"version":1,"kind":"message","message":{"id":"1800000000000000901"`
	longBody    = strings.Repeat("ñ", agentapi.MaxQuarantineBodyShown+500) // 2 bytes a character
	exactBody   = strings.Repeat("a", agentapi.MaxQuarantineBodyShown)
	hugeBody    = strings.Repeat("b", store.MaxQuarantineBody+10)
	invalidBody = "\xff\xfe not UTF-8"
)

var quarantined = []store.Quarantined{
	{SQSMessageID: "m-short", ReceiveCount: 3, Body: shortBody, Problem: "decode envelope: unexpected end of JSON input"},
	{SQSMessageID: "m-long", ReceiveCount: 1, Body: longBody, Problem: "envelope version 9 is not supported"},
	{SQSMessageID: "m-exact", Body: exactBody, Problem: "message has no id"},
	{SQSMessageID: "m-huge", ReceiveCount: 5, Body: hugeBody, Problem: "too large"},
	{SQSMessageID: "m-invalid", Body: invalidBody, Problem: "not UTF-8"},
}

// seedQuarantine stores the quarantined deliveries in s.
func seedQuarantine(t *testing.T, s *store.Store) {
	t.Helper()
	for i, q := range quarantined {
		q.SentAt = t0.Add(time.Duration(i) * time.Minute)
		if _, err := s.Quarantine(t.Context(), q); err != nil {
			t.Fatalf("quarantine %s: %v", q.SQSMessageID, err)
		}
	}
}

func TestListQuarantine(t *testing.T) {
	s := newStore(t)
	seed(t, s)
	seedQuarantine(t, s)
	e := serve(t, s, nil)

	type want struct {
		id       string
		body     string
		cut      bool
		truncate bool
	}
	all := []want{
		{"m-invalid", "\uFFFD\uFFFD not UTF-8", false, false},
		{"m-huge", hugeBody[:agentapi.MaxQuarantineBodyShown], true, true},
		{"m-exact", exactBody, false, false},
		{"m-long", string([]rune(longBody)[:agentapi.MaxQuarantineBodyShown]), true, false},
		{"m-short", shortBody, false, false},
	}
	tests := []struct {
		name, query string
		want        []want
	}{
		{"default limit", "", all},
		{"limit 2", "?limit=2", all[:2]},
		{"limit 1", "?limit=1", all[:1]},
		{"maximum limit", "?limit=200", all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l agentapi.QuarantineList
			r := e.get(t, "/v1/quarantine"+tt.query)
			ok(t, r, http.StatusOK, &l)
			if l.Count != len(tt.want) || len(l.Quarantined) != len(tt.want) {
				t.Fatalf("count %d, %d records; want %d", l.Count, len(l.Quarantined), len(tt.want))
			}
			for i, w := range tt.want {
				got := l.Quarantined[i]
				if got.SQSMessageID != w.id {
					t.Errorf("record %d is %s, want %s (newest first)", i, got.SQSMessageID, w.id)
					continue
				}
				if got.Body != w.body || got.BodyCut != w.cut || got.Truncated != w.truncate {
					t.Errorf("%s: body of %d characters (%.40q…), cut %t, truncated %t; want %d characters, cut %t, truncated %t",
						w.id, utf8.RuneCountInString(got.Body), got.Body, got.BodyCut, got.Truncated,
						utf8.RuneCountInString(w.body), w.cut, w.truncate)
				}
				if n := utf8.RuneCountInString(got.Body); n > agentapi.MaxQuarantineBodyShown {
					t.Errorf("%s: body of %d characters", w.id, n)
				}
				var seeded store.Quarantined
				for j, q := range quarantined {
					if q.SQSMessageID == w.id {
						seeded = q
						seeded.SentAt = t0.Add(time.Duration(j) * time.Minute)
					}
				}
				if got.Problem != seeded.Problem || got.ReceiveCount != seeded.ReceiveCount ||
					!got.SentAt.Equal(seeded.SentAt) || !got.QuarantinedAt.Equal(clock()) {
					t.Errorf("%s: %+v, want problem %q, receive count %d, sent %s, quarantined %s",
						w.id, got.Quarantined, seeded.Problem, seeded.ReceiveCount, seeded.SentAt, clock())
				}
			}
			// body and body_cut are always there, even when not cut.
			if !strings.Contains(string(r.body), `"body_cut":false`) {
				t.Errorf("no body_cut false in %.300s", r.body)
			}
		})
	}
}

func TestListQuarantineEmpty(t *testing.T) {
	e := seeded(t)
	r := e.get(t, "/v1/quarantine")
	var l agentapi.QuarantineList
	ok(t, r, http.StatusOK, &l)
	if got := strings.TrimSpace(string(r.body)); got != `{"quarantined":[],"count":0}` {
		t.Errorf("empty quarantine: %s", got)
	}
}

func TestListQuarantineBadQuery(t *testing.T) {
	e := seeded(t)
	tests := []struct{ name, query, code string }{
		{"limit 0", "limit=0", "bad_limit"},
		{"limit 201", "limit=201", "bad_limit"},
		{"limit negative", "limit=-1", "bad_limit"},
		{"limit not a number", "limit=x", "bad_limit"},
		{"limit fraction", "limit=1.5", "bad_limit"},
		{"limit empty", "limit=", "bad_limit"},
		{"limit twice", "limit=1&limit=2", "bad_query"},
		{"unknown parameter", "status=open", "bad_query"},
		{"malformed", "limit=%zz", "bad_query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, e.get(t, "/v1/quarantine?"+tt.query), http.StatusBadRequest, tt.code)
		})
	}
}

// quarantineStore fails ListQuarantine, and records the limit it was asked for.
type quarantineStore struct {
	agentapi.Store
	limit atomic.Int64
	fail  bool
}

func (s *quarantineStore) ListQuarantine(ctx context.Context, limit int) ([]store.Quarantined, error) {
	s.limit.Store(int64(limit))
	if s.fail {
		return nil, errors.New("store: list quarantine: ResourceNotFoundException: secret-table")
	}
	return s.Store.ListQuarantine(ctx, limit)
}

func TestListQuarantineStore(t *testing.T) {
	tests := []struct {
		name, query string
		fail        bool
		status      int
		limit       int
	}{
		{"default limit", "", false, http.StatusOK, agentapi.DefaultQuarantineLimit},
		{"limit given", "?limit=7", false, http.StatusOK, 7},
		{"store failure", "", true, http.StatusInternalServerError, agentapi.DefaultQuarantineLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			qs := &quarantineStore{Store: s, fail: tt.fail}
			e := serve(t, s, qs)
			r := e.get(t, "/v1/quarantine"+tt.query)
			if tt.status == http.StatusOK {
				ok(t, r, http.StatusOK, nil)
			} else {
				wantError(t, r, tt.status, "internal")
				if strings.Contains(string(r.body), "secret-table") {
					t.Errorf("body %s reveals the cause", r.body)
				}
				if !strings.Contains(e.logs.String(), "secret-table") {
					t.Errorf("the cause is not logged: %s", e.logs.String())
				}
			}
			if got := qs.limit.Load(); got != int64(tt.limit) {
				t.Errorf("store asked for %d records, want %d", got, tt.limit)
			}
		})
	}
}
