package agentapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/store"
)

// retry posts a quarantine retry with the local agent's token.
func (e *env) retry(t *testing.T, body any) response {
	t.Helper()
	return e.as(t, token, http.MethodPost, "/v1/quarantine/retry", body)
}

// outcomes returns the outcome of each delivery, by id.
func outcomes(res agentapi.QuarantineRetryResult) map[string]string {
	out := map[string]string{}
	for _, d := range res.Deliveries {
		out[d.SQSMessageID] = d.Outcome
	}
	return out
}

// TestRetryQuarantine: retried deliveries go back on the inbound queue with the
// body the store kept and leave the quarantine; a truncated one stays; a second
// retry requeues nothing.
func TestRetryQuarantine(t *testing.T) {
	s := newStore(t)
	seedQuarantine(t, s)
	e := serve(t, s, nil)

	steps := []struct {
		name     string
		body     any
		want     map[string]string // outcome by id
		counts   [5]int            // requeued, not found, not retryable, busy, failed
		sent     []string          // bodies sent by this step
		listed   []string          // GET /v1/quarantine after, newest first
		inboxErr bool
	}{
		{name: "two by id, one unknown", body: map[string]any{"ids": []string{"m-short", "m-exact", "nope", "m-short"}},
			want:   map[string]string{"m-short": agentapi.RetryRequeued, "m-exact": agentapi.RetryRequeued, "nope": agentapi.RetryNotFound},
			counts: [5]int{2, 1, 0, 0, 0}, sent: []string{shortBody, exactBody},
			listed: []string{"m-invalid", "m-huge", "m-long"}},
		{name: "the same again: nothing twice", body: map[string]any{"ids": []string{"m-short", "m-exact"}},
			want:   map[string]string{"m-short": agentapi.RetryNotFound, "m-exact": agentapi.RetryNotFound},
			counts: [5]int{0, 2, 0, 0, 0}, listed: []string{"m-invalid", "m-huge", "m-long"}},
		{name: "the queue fails: they stay", body: map[string]any{"ids": []string{"m-long"}}, inboxErr: true,
			want:   map[string]string{"m-long": agentapi.RetryFailed},
			counts: [5]int{0, 0, 0, 0, 1}, listed: []string{"m-invalid", "m-huge", "m-long"}},
		{name: "all: the truncated one and the one SQS refuses stay", body: map[string]any{"all": true},
			want:   map[string]string{"m-long": agentapi.RetryRequeued, "m-huge": agentapi.RetryNotRetryable, "m-invalid": agentapi.RetryNotRetryable},
			counts: [5]int{1, 0, 2, 0, 0}, sent: []string{longBody}, listed: []string{"m-invalid", "m-huge"}},
		{name: "all again", body: map[string]any{"all": true},
			want:   map[string]string{"m-huge": agentapi.RetryNotRetryable, "m-invalid": agentapi.RetryNotRetryable},
			counts: [5]int{0, 0, 2, 0, 0}, listed: []string{"m-invalid", "m-huge"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			e.inbox.fail.Store(st.inboxErr)
			before := e.inbox.sent()
			var res agentapi.QuarantineRetryResult
			ok(t, e.retry(t, st.body), http.StatusOK, &res)
			got := [5]int{res.Requeued, res.NotFound, res.NotRetryable, res.Busy, res.Failed}
			if got != st.counts || fmt.Sprint(outcomes(res)) != fmt.Sprint(st.want) || res.Next != "" {
				t.Errorf("counts %v, outcomes %v, next %q; want %v, %v", got, outcomes(res), res.Next, st.counts, st.want)
			}
			for _, d := range res.Deliveries {
				if (d.Outcome == agentapi.RetryRequeued) != (d.Reason == "") {
					t.Errorf("%s %s with reason %q", d.SQSMessageID, d.Outcome, d.Reason)
				}
			}
			if sent := e.inbox.sent()[len(before):]; !slices.Equal(sent, st.sent) {
				t.Errorf("sent %d bodies %.60q, want %d", len(sent), sent, len(st.sent))
			}
			var l agentapi.QuarantineList
			ok(t, e.get(t, "/v1/quarantine"), http.StatusOK, &l)
			var listed []string
			for _, q := range l.Quarantined {
				listed = append(listed, q.SQSMessageID)
			}
			if !slices.Equal(listed, st.listed) {
				t.Errorf("still quarantined %v, want %v", listed, st.listed)
			}
		})
	}
	// The truncated delivery says why and what to do.
	var res agentapi.QuarantineRetryResult
	ok(t, e.retry(t, map[string]any{"ids": []string{"m-huge"}}), http.StatusOK, &res)
	if r := res.Deliveries[0].Reason; !strings.Contains(r, "350000") || !strings.Contains(r, "replay") {
		t.Errorf("reason %q", r)
	}
	if !strings.Contains(e.logs.String(), "quarantine retried") {
		t.Errorf("no audit line: %s", e.logs.String())
	}
}

// TestRetryQuarantineAllPages: all takes MaxRetryBatch records a call; next
// leads to the rest.
func TestRetryQuarantineAllPages(t *testing.T) {
	s := newStore(t)
	n := agentapi.MaxRetryBatch + 7
	for i := range n {
		q := store.Quarantined{SQSMessageID: fmt.Sprintf("m-%03d", i), SentAt: t0.Add(time.Duration(i) * time.Second), Body: fmt.Sprintf(`{"n":%d}`, i), Problem: "p"}
		if _, err := s.Quarantine(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	e := serve(t, s, nil)
	total, calls := 0, 0
	after := ""
	for {
		var res agentapi.QuarantineRetryResult
		ok(t, e.retry(t, map[string]any{"all": true, "after": after}), http.StatusOK, &res)
		calls++
		total += res.Requeued
		if res.Requeued > agentapi.MaxRetryBatch {
			t.Fatalf("%d requeued in one call", res.Requeued)
		}
		if after = res.Next; after == "" {
			break
		}
	}
	if total != n || calls != 2 {
		t.Errorf("%d requeued in %d calls, want %d in 2", total, calls, n)
	}
	sent := e.inbox.sent()
	if len(sent) != n || sent[0] != `{"n":0}` || sent[n-1] != fmt.Sprintf(`{"n":%d}`, n-1) {
		t.Errorf("sent %d bodies, oldest first? %q … %q", len(sent), sent[0], sent[len(sent)-1])
	}
	// One SQS call per batch of ten.
	if want := (agentapi.MaxRetryBatch+9)/10 + 1; e.inbox.calls != want {
		t.Errorf("%d sends, want %d", e.inbox.calls, want)
	}
}

// racingStore lets each retry through ClaimQuarantined only once both retries
// have read the records, so that both try to claim each one.
type racingStore struct {
	agentapi.Store
	read sync.WaitGroup
}

func (s *racingStore) PendingQuarantine(ctx context.Context, ids []string, after string, limit int) ([]store.Quarantined, string, error) {
	qs, next, err := s.Store.PendingQuarantine(ctx, ids, after, limit)
	s.read.Done()
	s.read.Wait()
	return qs, next, err
}

// TestRetryQuarantineConcurrent: two retries at once send each delivery once, and
// their counts say so.
func TestRetryQuarantineConcurrent(t *testing.T) {
	s := newStore(t)
	seedQuarantine(t, s)
	rs := &racingStore{Store: s}
	rs.read.Add(2)
	e := serve(t, s, rs)
	var (
		wg  sync.WaitGroup
		res [2]agentapi.QuarantineRetryResult
	)
	for i := range res {
		wg.Go(func() {
			ok(t, e.retry(t, map[string]any{"ids": []string{"m-short", "m-long", "m-exact"}}), http.StatusOK, &res[i])
		})
	}
	wg.Wait()
	requeued := res[0].Requeued + res[1].Requeued
	other := res[0].Busy + res[1].Busy + res[0].NotFound + res[1].NotFound
	if requeued != 3 || other != 3 || res[0].Failed+res[1].Failed != 0 {
		t.Errorf("requeued %d, busy or gone %d: %+v / %+v", requeued, other, res[0], res[1])
	}
	if sent := e.inbox.sent(); len(sent) != 3 {
		t.Errorf("%d bodies sent, want 3", len(sent))
	}
}

func TestRetryQuarantineBadRequest(t *testing.T) {
	e := seeded(t)
	many := make([]string, agentapi.MaxRetryIDs+1)
	for i := range many {
		many[i] = fmt.Sprint("m-", i)
	}
	tests := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"empty", nil, http.StatusBadRequest, "bad_selection"},
		{"no ids", map[string]any{"ids": []string{}}, http.StatusBadRequest, "bad_selection"},
		{"all false", map[string]any{"all": false}, http.StatusBadRequest, "bad_selection"},
		{"both", map[string]any{"ids": []string{"m-1"}, "all": true}, http.StatusBadRequest, "bad_selection"},
		{"after without all", map[string]any{"ids": []string{"m-1"}, "after": "x"}, http.StatusBadRequest, "bad_after"},
		{"after too long", map[string]any{"all": true, "after": strings.Repeat("x", 301)}, http.StatusBadRequest, "bad_after"},
		{"too many ids", map[string]any{"ids": many}, http.StatusBadRequest, "bad_ids"},
		{"empty id", map[string]any{"ids": []string{""}}, http.StatusBadRequest, "bad_ids"},
		{"id with a newline", map[string]any{"ids": []string{"a\nb"}}, http.StatusBadRequest, "bad_ids"},
		{"unknown field", `{"id":"m-1"}`, http.StatusBadRequest, "bad_json"},
		{"ids not a list", `{"ids":"m-1"}`, http.StatusBadRequest, "bad_json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, e.retry(t, tt.body), tt.status, tt.code)
		})
	}
	if n := len(e.inbox.sent()); n != 0 {
		t.Errorf("a refused request sent %d bodies", n)
	}
}

// failingRetryStore fails the quarantine's reads or claims.
type failingRetryStore struct {
	agentapi.Store
	failRead, failClaim bool
}

func (s *failingRetryStore) PendingQuarantine(ctx context.Context, ids []string, after string, limit int) ([]store.Quarantined, string, error) {
	if s.failRead {
		return nil, "", errors.New("store: pending quarantine: secret-table")
	}
	return s.Store.PendingQuarantine(ctx, ids, after, limit)
}

func (s *failingRetryStore) ClaimQuarantined(ctx context.Context, q store.Quarantined, lease time.Duration) (string, error) {
	if s.failClaim {
		return "", errors.New("store: claim: secret-table")
	}
	return s.Store.ClaimQuarantined(ctx, q, lease)
}

func TestRetryQuarantineStoreFails(t *testing.T) {
	tests := []struct {
		name                string
		failRead, failClaim bool
		status, failed      int
	}{
		{"read fails", true, false, http.StatusInternalServerError, 0},
		{"claim fails", false, true, http.StatusOK, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			seedQuarantine(t, s)
			e := serve(t, s, &failingRetryStore{Store: s, failRead: tt.failRead, failClaim: tt.failClaim})
			r := e.retry(t, map[string]any{"ids": []string{"m-short"}})
			if tt.status != http.StatusOK {
				wantError(t, r, tt.status, "internal")
			} else {
				var res agentapi.QuarantineRetryResult
				ok(t, r, tt.status, &res)
				if res.Failed != tt.failed || res.Requeued != 0 {
					t.Errorf("%+v", res)
				}
			}
			if strings.Contains(string(r.body), "secret-table") || !strings.Contains(e.logs.String(), "secret-table") {
				t.Errorf("the cause is revealed (%s) or not logged", r.body)
			}
			if n := len(e.inbox.sent()); n != 0 {
				t.Errorf("%d bodies sent", n)
			}
		})
	}
}

func TestListDLQ(t *testing.T) {
	toMove := int64(9)
	tests := []struct {
		name   string
		depths []queue.Depth
		err    error
		query  string
		status int
		want   string
	}{
		{name: "two queues", status: http.StatusOK, depths: []queue.Depth{
			{Queue: agentapi.QueueInbound, Visible: 3, InFlight: 1},
			{Queue: agentapi.QueueOutbound, MoveTask: &queue.MoveTask{Status: "COMPLETED", StartedAt: t0, Moved: 9, ToMove: &toMove}},
		}, want: `{"queues":[{"queue":"inbound","visible":3,"in_flight":1},{"queue":"outbound","visible":0,"in_flight":0,"move_task":{"status":"COMPLETED","started_at":"2026-08-03T09:00:00Z","moved":9,"to_move":9}}]}`},
		{name: "none", status: http.StatusOK, want: `{"queues":[]}`},
		{name: "SQS fails", status: http.StatusInternalServerError, err: errors.New("AccessDenied on secret-queue")},
		{name: "a query parameter", query: "?queue=inbound", status: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := seeded(t)
			e.dlq.depths, e.dlq.depthErr = tt.depths, tt.err
			r := e.get(t, "/v1/dlq"+tt.query)
			switch tt.status {
			case http.StatusOK:
				var l agentapi.DLQList
				ok(t, r, http.StatusOK, &l)
				if got := strings.TrimSpace(string(r.body)); got != tt.want {
					t.Errorf("body %s, want %s", got, tt.want)
				}
			case http.StatusBadRequest:
				wantError(t, r, tt.status, "bad_query")
			default:
				wantError(t, r, tt.status, "internal")
				if strings.Contains(string(r.body), "secret-queue") {
					t.Errorf("the cause is revealed: %s", r.body)
				}
			}
		})
	}
}

func TestRedriveDLQ(t *testing.T) {
	moved := queue.Redriven{Queue: agentapi.QueueInbound, DepthBefore: 4, Method: queue.MethodByHand, Moved: 4}
	task := queue.Redriven{Queue: agentapi.QueueOutbound, DepthBefore: 120, Method: queue.MethodMoveTask, AlreadyRunning: true,
		MoveTask: &queue.MoveTask{Handle: "h-1", Status: queue.TaskRunning, StartedAt: t0, Moved: 40}}
	partial := queue.Redriven{Queue: agentapi.QueueInbound, DepthBefore: 30, Method: queue.MethodByHand, Moved: 20}
	tests := []struct {
		name     string
		body     any
		results  map[string]queue.Redriven // instead of moved and task
		errs     map[string]error
		status   int
		code     string
		redriven []string
		want     []agentapi.DLQRedriven
	}{
		{name: "inbound", body: map[string]string{"queue": "inbound"}, status: 200, redriven: []string{"inbound"},
			want: []agentapi.DLQRedriven{{Redriven: moved}}},
		{name: "outbound", body: map[string]string{"queue": "outbound"}, status: 200, redriven: []string{"outbound"},
			want: []agentapi.DLQRedriven{{Redriven: task}}},
		{name: "all", body: map[string]string{"queue": "all"}, status: 200, redriven: []string{"inbound", "outbound"},
			want: []agentapi.DLQRedriven{{Redriven: moved}, {Redriven: task}}},
		{name: "one fails, the other is done", body: map[string]string{"queue": "all"},
			results: map[string]queue.Redriven{"inbound": partial, "outbound": task}, errs: map[string]error{"inbound": errors.New("receive: secret-queue")},
			status: 200, redriven: []string{"inbound", "outbound"},
			want: []agentapi.DLQRedriven{{Redriven: partial, Error: "the redrive of the inbound dead-letter queue failed after moving 20 messages (logged); the rest stays there: try again"}, {Redriven: task}}},
		{name: "unknown queue", body: map[string]string{"queue": "inbound-dlq"}, status: 400, code: "bad_queue"},
		{name: "no queue", body: "{}", status: 400, code: "bad_queue"},
		{name: "no body", status: 400, code: "bad_queue"},
		{name: "unknown field", body: `{"queue":"all","force":true}`, status: 400, code: "bad_json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := seeded(t)
			e.dlq.results, e.dlq.errs = tt.results, tt.errs
			if tt.results == nil {
				e.dlq.results = map[string]queue.Redriven{"inbound": moved, "outbound": task}
			}
			r := e.as(t, token, http.MethodPost, "/v1/dlq/redrive", tt.body)
			if tt.code != "" {
				wantError(t, r, tt.status, tt.code)
			} else {
				var res agentapi.DLQRedriveResult
				ok(t, r, tt.status, &res)
				if !reflect.DeepEqual(res.Queues, tt.want) {
					t.Errorf("queues\n%+v\nwant\n%+v", res.Queues, tt.want)
				}
				if strings.Contains(string(r.body), "secret-queue") {
					t.Errorf("the cause is revealed: %s", r.body)
				}
			}
			if !slices.Equal(e.dlq.redriven, tt.redriven) {
				t.Errorf("redriven %v, want %v", e.dlq.redriven, tt.redriven)
			}
		})
	}
}
