package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pajarito-care/pajarito/shared/care"
)

// DeleteResult says what MarkDeleted did.
type DeleteResult struct {
	// CaseID is the case of the deleted message, when known.
	CaseID string
	// Found is true when the message was stored: it is now marked deleted.
	Found bool
	// InFlight is true when the message is claimed but not stored yet: retry later.
	InFlight bool
	// WriteUnits is the write capacity consumed.
	WriteUnits float64
}

// MarkDeleted records that the author deleted a message on X. A stored message keeps
// its place in its case and its case's counters; it gets deleted_at, and its text and
// X's raw JSON are erased (X requires deleted content to be removed). A message not
// stored yet is not an error: Found is false, and a tombstone claim keeps a late
// delivery of it from being stored. Marking twice is harmless.
//
// The message is found through its claim, so a deletion arriving after RawRetention
// (when the claim has expired) is not found.
func (s *Store) MarkDeleted(ctx context.Context, d *care.Deletion) (DeleteResult, error) {
	if d == nil || !care.IsID(d.ID) {
		return DeleteResult{}, errors.New("store: mark deleted: no valid deletion")
	}
	var mt meter
	res, err := s.markDeleted(ctx, &mt, d)
	res.WriteUnits = mt.units
	if err != nil {
		return res, fmt.Errorf("store: mark %s message %s deleted: %w", d.Channel, d.ID, err)
	}
	return res, nil
}

func (s *Store) markDeleted(ctx context.Context, mt *meter, d *care.Deletion) (DeleteResult, error) {
	now := s.now()
	at := d.DeletedAt.UTC()
	if d.DeletedAt.IsZero() {
		at = now
	}
	ck := claimKey(d.Channel, d.ID)
	for range maxRaces {
		item, err := s.get(ctx, ck)
		if err != nil {
			return DeleteResult{}, fmt.Errorf("get claim: %w", err)
		}
		if item == nil {
			// Unknown: leave a tombstone so that a late delivery is not stored.
			tomb, err := marshal(claim{ClaimedAt: now, DeletedAt: &at})
			if err != nil {
				return DeleteResult{}, fmt.Errorf("encode tombstone: %w", err)
			}
			for k, v := range ck {
				tomb[k] = v
			}
			tomb[TTLAttribute] = num(now.Add(orDefault(s.RawRetention, DefaultRawRetention)).Unix())
			won, err := s.put(ctx, mt, &dynamodb.PutItemInput{
				Item:                tomb,
				ConditionExpression: aws.String("attribute_not_exists(PK)"),
			}, false)
			if err != nil {
				return DeleteResult{}, fmt.Errorf("put tombstone: %w", err)
			}
			if won {
				return DeleteResult{}, nil
			}
			continue // the message was claimed meanwhile
		}
		var c claim
		if err := unmarshal(item, &c); err != nil {
			return DeleteResult{}, fmt.Errorf("decode claim: %w", err)
		}
		if c.CaseID == "" {
			return DeleteResult{}, nil // already a tombstone
		}
		e := newExpr()
		e.set("deleted_at", str(stamp(at)))
		e.remove("text")
		marked, err := s.update(ctx, mt, e.input(messageKey(c.CaseID, d.ID), "attribute_exists(PK)"), nil, false)
		if err != nil {
			return DeleteResult{}, fmt.Errorf("mark message in case %s: %w", c.CaseID, err)
		}
		if marked == nil {
			return DeleteResult{CaseID: c.CaseID, InFlight: true}, nil
		}
		e = newExpr()
		e.set("deleted_at", str(stamp(at)))
		e.remove("raw")
		if _, err := s.update(ctx, mt, e.input(ck, ""), nil, false); err != nil {
			return DeleteResult{}, fmt.Errorf("erase raw JSON: %w", err)
		}
		return DeleteResult{CaseID: c.CaseID, Found: true}, nil
	}
	return DeleteResult{}, fmt.Errorf("lost %d races with concurrent writers", maxRaces)
}

// sortableTime formats times so that they sort as strings.
const sortableTime = "2006-01-02T15:04:05.000000000Z"

func sortable(t time.Time) string { return t.UTC().Format(sortableTime) }
