package store

import (
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
)

func TestReplyIssues(t *testing.T) {
	s, _ := newStore(t)
	issues := []ReplyIssue{
		{CaseID: "t1", Key: "k1", State: care.ReplyFailed, Kind: care.ReplyAgent, Reason: "X refused: blocked", At: t0},
		{CaseID: "t2", Key: "k2", State: care.ReplyUnknown, Kind: care.ReplyAutoAck, Reason: "interrupted", At: t0.Add(time.Hour)},
		{CaseID: "t3", Key: "k3", State: care.ReplyFailed, Kind: care.ReplyAgent, Reason: "deleted", At: t0.Add(2 * time.Hour)},
	}
	for _, ri := range append(issues, issues[1]) { // the second twice: one record
		if err := s.RecordReplyIssue(t.Context(), ri); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		since time.Time
		limit int
		want  []string
	}{
		{"all, newest first", t0.Add(-time.Hour), 10, []string{"k3", "k2", "k1"}},
		{"since", t0.Add(time.Hour), 10, []string{"k3", "k2"}},
		{"limit", t0, 1, []string{"k3"}},
		{"none since", t0.Add(3 * time.Hour), 10, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListReplyIssues(t.Context(), tt.since, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, ri := range got {
				keys = append(keys, ri.Key)
			}
			if len(keys) != len(tt.want) {
				t.Fatalf("keys %v, want %v", keys, tt.want)
			}
			for i := range keys {
				if keys[i] != tt.want[i] {
					t.Fatalf("keys %v, want %v", keys, tt.want)
				}
			}
			for _, ri := range got {
				for _, w := range issues {
					if w.Key == ri.Key && (ri.CaseID != w.CaseID || ri.State != w.State || ri.Kind != w.Kind || ri.Reason != w.Reason || !ri.At.Equal(w.At)) {
						t.Errorf("record %+v, want %+v", ri, w)
					}
				}
			}
		})
	}
}
