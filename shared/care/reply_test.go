package care

import (
	"strings"
	"testing"
	"time"
)

func validReply() ReplyRequest {
	return ReplyRequest{
		Version: ReplyVersion, IdempotencyKey: ReplyKey("t1862954300111222333", "1862954300111222333", ReplyAutoAck),
		CaseID: "t1862954300111222333", TriggerID: "1862954300111222333", Channel: Public, InReplyToID: "1862954300111222333",
		Text: "Lo sentimos mucho, Ana. ^Equipo", Lang: "es", Kind: ReplyAutoAck, Author: AuthorAuto,
		TemplateID: "complaint.es", Summoned: true, CreatedAt: time.Date(2026, 8, 3, 8, 0, 0, 0, time.UTC),
	}
}

func TestReplyKey(t *testing.T) {
	a := ReplyKey("t1", "100", ReplyAutoAck)
	if a != ReplyKey("t1", "100", ReplyAutoAck) {
		t.Error("not deterministic")
	}
	for _, other := range []string{ReplyKey("t1", "101", ReplyAutoAck), ReplyKey("t2", "100", ReplyAutoAck), ReplyKey("t1", "100", ReplyMoveToDM), ReplyKey("t11", "00", ReplyAutoAck)} {
		if other == a {
			t.Errorf("collision: %s", other)
		}
	}
	if len(a) != 33 || a[0] != 'r' {
		t.Errorf("key %q", a)
	}
}

func TestReplyValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*ReplyRequest)
		wantErr string
	}{
		{name: "valid public", edit: func(*ReplyRequest) {}},
		{name: "valid DM", edit: func(r *ReplyRequest) { r.Channel, r.InReplyToID, r.RecipientID = DM, "", "42" }},
		{name: "valid agent", edit: func(r *ReplyRequest) { r.Kind, r.Author, r.AuthorName = ReplyAgent, "agent-7", "Ana" }},
		{name: "version", edit: func(r *ReplyRequest) { r.Version = 2 }, wantErr: "version"},
		{name: "no key", edit: func(r *ReplyRequest) { r.IdempotencyKey = "" }, wantErr: "idempotency key"},
		{name: "no case", edit: func(r *ReplyRequest) { r.CaseID = "" }, wantErr: "case id"},
		{name: "no trigger", edit: func(r *ReplyRequest) { r.TriggerID = "" }, wantErr: "trigger"},
		{name: "kind", edit: func(r *ReplyRequest) { r.Kind = "welcome" }, wantErr: "kind"},
		{name: "public without post", edit: func(r *ReplyRequest) { r.InReplyToID = "" }, wantErr: "post it answers"},
		{name: "public with recipient", edit: func(r *ReplyRequest) { r.RecipientID = "42" }, wantErr: "no DM recipient"},
		{name: "DM without recipient", edit: func(r *ReplyRequest) { r.Channel, r.InReplyToID = DM, "" }, wantErr: "recipient"},
		{name: "invitation to DM by DM", edit: func(r *ReplyRequest) { r.Channel, r.InReplyToID, r.RecipientID, r.Kind = DM, "", "42", ReplyMoveToDM }, wantErr: "public reply"},
		{name: "valid survey", edit: func(r *ReplyRequest) { r.Channel, r.InReplyToID, r.RecipientID, r.Kind = DM, "", "42", ReplySurvey }},
		{name: "public survey", edit: func(r *ReplyRequest) { r.Kind = ReplySurvey }, wantErr: "survey is a DM"},
		{name: "channel", edit: func(r *ReplyRequest) { r.Channel = "email" }, wantErr: "channel"},
		{name: "empty text", edit: func(r *ReplyRequest) { r.Text = "" }, wantErr: "text"},
		{name: "bad UTF-8", edit: func(r *ReplyRequest) { r.Text = "\xff" }, wantErr: "UTF-8"},
		{name: "too long", edit: func(r *ReplyRequest) { r.Text = strings.Repeat("a", MaxDMLength+1) }, wantErr: "longer"},
		{name: "no author", edit: func(r *ReplyRequest) { r.Author = "" }, wantErr: "no author"},
		{name: "automatic by an agent", edit: func(r *ReplyRequest) { r.Author = "agent-7" }, wantErr: "automatic reply"},
		{name: "agent reply by auto", edit: func(r *ReplyRequest) { r.Kind = ReplyAgent }, wantErr: "agent's id"},
		{name: "no time", edit: func(r *ReplyRequest) { r.CreatedAt = time.Time{} }, wantErr: "created time"},
		{name: "valid statement", edit: statement(nil)},
		{name: "valid statement update", edit: statement(func(r *ReplyRequest) { r.InReplyToID = "1862954300111222999" })},
		{name: "statement to a case", edit: statement(func(r *ReplyRequest) { r.CaseID = "t1862954300111222333" }), wantErr: "not a crisis's"},
		{name: "reply to a crisis", edit: func(r *ReplyRequest) { r.CaseID = CrisisThreadID("delays", r.CreatedAt) }, wantErr: "customer's case"},
		{name: "statement by DM", edit: statement(func(r *ReplyRequest) { r.Channel, r.RecipientID = DM, "42" }), wantErr: "public post"},
		{name: "statement update to no id", edit: statement(func(r *ReplyRequest) { r.InReplyToID = "x" }), wantErr: "post before it"},
		{name: "statement by auto", edit: statement(func(r *ReplyRequest) { r.Author = AuthorAuto }), wantErr: "agent's id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validReply()
			tt.edit(&r)
			err := r.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want %q", err, tt.wantErr)
			}
		})
	}
	if !ReplyCrisis.Automatic() || !ReplySurvey.Automatic() || ReplyAgent.Automatic() || ReplyStatement.Automatic() {
		t.Error("Automatic()")
	}
}

// statement returns an edit making the request a crisis statement, then
// applying more.
func statement(more func(*ReplyRequest)) func(*ReplyRequest) {
	return func(r *ReplyRequest) {
		r.Kind, r.Author, r.AuthorName, r.TemplateID = ReplyStatement, "ana", "Ana", ""
		r.CaseID, r.TriggerID, r.InReplyToID = CrisisThreadID("delays", r.CreatedAt), "stmt-1", ""
		if more != nil {
			more(r)
		}
	}
}

func TestCrisisThreadID(t *testing.T) {
	since := time.Date(2026, 12, 6, 9, 30, 15, 500, time.FixedZone("CET", 3600))
	for _, topic := range []string{"delays", "app-login", "x"} {
		id := CrisisThreadID(topic, since)
		got, at, ok := ParseCrisisThreadID(id)
		if !ok || got != topic || !at.Equal(since) {
			t.Errorf("ParseCrisisThreadID(%q) = %q, %v, %v", id, got, at, ok)
		}
	}
	for _, id := range []string{"t1862954300111222333", "d42", "crisis-", "crisis-delays", "crisis--20261206T083015.000000500Z", "crisis-delays-yesterday"} {
		if IsCrisisThreadID(id) {
			t.Errorf("IsCrisisThreadID(%q) = true", id)
		}
	}
}

func TestDecisionRecordHas(t *testing.T) {
	d := DecisionRecord{Actions: []Action{{Kind: ActionQueue}}}
	if !d.Has(ActionQueue) || d.Has(ActionAutoAck) {
		t.Error("Has")
	}
}
