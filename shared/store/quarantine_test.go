package store

import (
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestQuarantineRequeue walks quarantine records through a retry: claimed by one
// retry alone, released on a failed send, requeued once, then gone.
func TestQuarantineRequeue(t *testing.T) {
	s, clk := newStore(t)
	ctx := t.Context()
	var qs []Quarantined
	for i := range 5 {
		q := Quarantined{SQSMessageID: "m-" + strconv.Itoa(i), SentAt: t0.Add(time.Duration(i) * time.Minute), Body: "body " + strconv.Itoa(i), Problem: "p"}
		if _, err := s.Quarantine(ctx, q); err != nil {
			t.Fatal(err)
		}
		qs = append(qs, q)
	}
	ids := func(qs []Quarantined) []string {
		var out []string
		for _, q := range qs {
			out = append(out, q.SQSMessageID)
		}
		return out
	}

	// Pages, oldest first, with a cursor.
	page, next, err := s.PendingQuarantine(ctx, nil, "", 2)
	if err != nil || !slices.Equal(ids(page), []string{"m-0", "m-1"}) || next == "" || page[0].Body != "body 0" {
		t.Fatalf("first page %v, next %q, %v", ids(page), next, err)
	}
	page, next, err = s.PendingQuarantine(ctx, nil, next, 3)
	if err != nil || !slices.Equal(ids(page), []string{"m-2", "m-3", "m-4"}) {
		t.Fatalf("second page %v, next %q, %v", ids(page), next, err)
	}
	if page, next, err = s.PendingQuarantine(ctx, nil, next, 3); err != nil || len(page) != 0 || next != "" {
		t.Fatalf("after the last: %v, next %q, %v", ids(page), next, err)
	}
	page, _, err = s.PendingQuarantine(ctx, []string{"m-3", "m-1", "nope"}, "", 1)
	if err != nil || !slices.Equal(ids(page), []string{"m-1", "m-3"}) {
		t.Fatalf("by id: %v, %v", ids(page), err)
	}

	q := qs[1]
	steps := []struct {
		name string
		do   func() error
		want error // nil, ErrNotFound, ErrQuarantineBusy, or errAny
	}{
		{"claim", func() (err error) { _, err = s.ClaimQuarantined(ctx, q, time.Minute); return }, nil},
		{"claimed again while held", func() (err error) { _, err = s.ClaimQuarantined(ctx, q, time.Minute); return }, ErrQuarantineBusy},
		{"requeued with a wrong token", func() error { return s.RequeuedQuarantined(ctx, q, "not-the-token") }, errAny},
		{"taken over once the lease ended", func() (err error) {
			clk.Advance(2 * time.Minute)
			tok, err := s.ClaimQuarantined(ctx, q, time.Minute)
			if err == nil {
				err = s.ReleaseQuarantined(ctx, q, tok)
			}
			return err
		}, nil},
		{"claimed at once after a release, then requeued", func() error {
			tok, err := s.ClaimQuarantined(ctx, q, time.Minute)
			if err == nil {
				err = s.RequeuedQuarantined(ctx, q, tok)
			}
			return err
		}, nil},
		{"claimed after requeued", func() (err error) { _, err = s.ClaimQuarantined(ctx, q, time.Minute); return }, ErrNotFound},
		{"claim of a record that never was", func() (err error) {
			_, err = s.ClaimQuarantined(ctx, Quarantined{SQSMessageID: "nope", SentAt: t0}, time.Minute)
			return
		}, ErrNotFound},
	}
	for _, st := range steps {
		err := st.do()
		switch {
		case st.want == nil && err != nil:
			t.Fatalf("%s: %v", st.name, err)
		case st.want == errAny && err == nil:
			t.Fatalf("%s: no error", st.name)
		case st.want != nil && st.want != errAny && !errors.Is(err, st.want):
			t.Fatalf("%s: %v, want %v", st.name, err, st.want)
		}
	}
	// The requeued record is neither listed nor pending.
	listed, err := s.ListQuarantine(ctx, 10)
	if err != nil || !slices.Equal(ids(listed), []string{"m-4", "m-3", "m-2", "m-0"}) {
		t.Errorf("listed %v, %v", ids(listed), err)
	}
	if page, _, err := s.PendingQuarantine(ctx, []string{"m-1"}, "", 0); err != nil || len(page) != 0 {
		t.Errorf("requeued still pending: %v, %v", ids(page), err)
	}
	if page, _, err := s.PendingQuarantine(ctx, nil, "", 10); err != nil || len(page) != 4 {
		t.Errorf("pending %v, %v", ids(page), err)
	}
}

var errAny = errors.New("any error")
