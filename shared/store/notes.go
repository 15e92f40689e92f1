package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pajarito-care/pajarito/shared/care"
)

// Agents' internal notes on a case live outside the case's partition (GetCase
// reads only the case and its messages), oldest first:
//
//	item       PK                   SK                        GSI1PK      GSI1SK                              attributes
//	note       NOTES#<caseId>       <created at, sortable>#   -           -                                   care.Note
//	                                <note id>
//
// A note is put on condition that it does not exist; notes are kept with their case.

func notesPK(caseID string) string { return "NOTES#" + caseID }

// AddNote stores an internal note on a case: n's CaseID, AuthorID and Text (at most
// care.MaxNoteLength characters, not blank) are required; ID and CreatedAt are set
// when empty. The case must exist (else an error wrapping ErrNotFound). It returns
// the note as stored.
func (s *Store) AddNote(ctx context.Context, n care.Note) (*care.Note, error) {
	switch {
	case n.CaseID == "":
		return nil, fmt.Errorf("store: add note: no case id")
	case strings.TrimSpace(n.Text) == "" || !utf8.ValidString(n.Text):
		return nil, fmt.Errorf("store: add note to case %s: the text is empty or not UTF-8", n.CaseID)
	case utf8.RuneCountInString(n.Text) > care.MaxNoteLength:
		return nil, fmt.Errorf("store: add note to case %s: the text is longer than %d characters", n.CaseID, care.MaxNoteLength)
	}
	if err := checkAgentID(n.AuthorID); err != nil {
		return nil, fmt.Errorf("store: add note to case %s: author: %w", n.CaseID, err)
	}
	ok, err := s.exists(ctx, caseKey(n.CaseID))
	if err != nil {
		return nil, fmt.Errorf("store: add note to case %s: %w", n.CaseID, err)
	}
	if !ok {
		return nil, fmt.Errorf("store: add note to case %s: %w", n.CaseID, ErrNotFound)
	}
	if n.ID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:]) // never fails (crypto/rand)
		n.ID = "n" + hex.EncodeToString(b[:])
	}
	if n.CreatedAt.IsZero() {
		n.CreatedAt = s.now()
	}
	n.CreatedAt = n.CreatedAt.UTC()
	item, err := marshal(n)
	if err != nil {
		return nil, fmt.Errorf("store: add note to case %s: %w", n.CaseID, err)
	}
	item[KeyPK] = str(notesPK(n.CaseID))
	item[KeySK] = str(sortable(n.CreatedAt) + "#" + n.ID)
	var mt meter
	put, err := s.put(ctx, &mt, &dynamodb.PutItemInput{Item: item, ConditionExpression: aws.String("attribute_not_exists(" + KeyPK + ")")}, false)
	if err != nil {
		return nil, fmt.Errorf("store: add note to case %s: %w", n.CaseID, err)
	}
	if !put {
		return nil, fmt.Errorf("store: add note to case %s: note %s exists", n.CaseID, n.ID)
	}
	return &n, nil
}

// ListNotes returns a case's notes, oldest first.
func (s *Store) ListNotes(ctx context.Context, caseID string) ([]care.Note, error) {
	var out []care.Note
	err := s.queryPartition(ctx, notesPK(caseID), true, func(it map[string]types.AttributeValue) (bool, error) {
		var n care.Note
		if err := unmarshal(it, &n); err != nil {
			return false, fmt.Errorf("decode %s: %w", stringAttr(it, KeySK), err)
		}
		out = append(out, n)
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: notes of case %s: %w", caseID, err)
	}
	return out, nil
}
