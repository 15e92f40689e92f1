package store

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
)

func TestAgents(t *testing.T) {
	s, clk := newStore(t)
	ctx := t.Context()
	if _, err := s.GetAgent(ctx, "a1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no profile: %v", err)
	}
	created := clk.Now()
	p, err := s.EnsureAgent(ctx, care.AgentProfile{ID: "a1", DisplayName: "Ana Martínez"})
	if err != nil || p.DisplayName != "Ana Martínez" || !p.CreatedAt.Equal(created) {
		t.Fatalf("EnsureAgent = %+v, %v", p, err)
	}
	clk.Advance(time.Minute)
	p, err = s.PutAgent(ctx, care.AgentProfile{ID: "a1", DisplayName: "Ana M.", Signature: "^Ana", Languages: []string{"es", "en"}, Department: "billing"})
	if err != nil {
		t.Fatal(err)
	}
	if p.DisplayName != "Ana M." || p.Signature != "^Ana" || !slices.Equal(p.Languages, []string{"es", "en"}) || p.Department != "billing" ||
		!p.CreatedAt.Equal(created) || !p.UpdatedAt.Equal(created.Add(time.Minute)) {
		t.Fatalf("PutAgent = %+v", p)
	}
	// Ensuring an existing profile returns it unchanged.
	p, err = s.EnsureAgent(ctx, care.AgentProfile{ID: "a1", DisplayName: "from the token"})
	if err != nil || p.DisplayName != "Ana M." || p.Signature != "^Ana" {
		t.Fatalf("EnsureAgent of an existing profile = %+v, %v", p, err)
	}
	// Empty fields are removed.
	p, err = s.PutAgent(ctx, care.AgentProfile{ID: "a1", DisplayName: "Ana"})
	if err != nil || p.Signature != "" || p.Languages != nil || p.Department != "" || !p.CreatedAt.Equal(created) {
		t.Fatalf("PutAgent clearing fields = %+v, %v", p, err)
	}
	// A profile may be put before the agent was ever seen.
	if _, err := s.PutAgent(ctx, care.AgentProfile{ID: "b2", DisplayName: "Beto"}); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListAgents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range list {
		ids = append(ids, a.ID)
		if a.CreatedAt.IsZero() {
			t.Errorf("agent %s has no created_at", a.ID)
		}
	}
	if !slices.Equal(ids, []string{"a1", "b2"}) {
		t.Errorf("agents %v", ids)
	}

	bad := []care.AgentProfile{
		{ID: "", DisplayName: "x"},
		{ID: strings.Repeat("a", MaxAgentIDLength+1), DisplayName: "x"},
		{ID: "a\n1", DisplayName: "x"},
		{ID: "c3", DisplayName: "  "},
	}
	for _, b := range bad {
		if _, err := s.PutAgent(ctx, b); err == nil {
			t.Errorf("PutAgent(%+v) accepted", b)
		}
	}
}

func TestNotes(t *testing.T) {
	s, clk := newStore(t)
	ctx := t.Context()
	id := xid(3500)
	caseID := mustAppend(t, s, post(id, id, "", t0), "").CaseID
	var want []string
	for _, text := range []string{"Called the airport", "Customer is a frequent flyer", "Refund approved"} {
		n, err := s.AddNote(ctx, care.Note{CaseID: caseID, AuthorID: "a1", AuthorName: "Ana", Text: text})
		if err != nil {
			t.Fatal(err)
		}
		if n.ID == "" || !n.CreatedAt.Equal(clk.Now()) {
			t.Errorf("note = %+v", n)
		}
		want = append(want, text)
		clk.Advance(time.Second)
	}
	notes, err := s.ListNotes(ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range notes {
		got = append(got, n.Text)
		if n.CaseID != caseID || n.AuthorID != "a1" || n.AuthorName != "Ana" {
			t.Errorf("note %+v", n)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("notes %v, want %v (oldest first)", got, want)
	}
	// Notes are not messages: the case is unchanged.
	if c, msgs := mustGet(t, s, caseID); len(msgs) != 1 || c.MessagesIn != 1 {
		t.Errorf("case after notes: %d messages, messages_in %d", len(msgs), c.MessagesIn)
	}

	if _, err := s.AddNote(ctx, care.Note{CaseID: "t1", AuthorID: "a1", Text: "x"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("note on an unknown case: %v", err)
	}
	bad := []care.Note{
		{CaseID: caseID, AuthorID: "a1", Text: "  "},
		{CaseID: caseID, AuthorID: "a1", Text: strings.Repeat("x", care.MaxNoteLength+1)},
		{CaseID: caseID, AuthorID: "a1", Text: "\xff"},
		{CaseID: caseID, Text: "no author"},
		{AuthorID: "a1", Text: "no case"},
	}
	for _, b := range bad {
		if _, err := s.AddNote(ctx, b); err == nil {
			t.Errorf("AddNote(%.40q) accepted", b.Text)
		}
	}
	if notes, _ := s.ListNotes(ctx, caseID); len(notes) != 3 {
		t.Errorf("%d notes after refused ones, want 3", len(notes))
	}
}
