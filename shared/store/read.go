package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pajarito-care/pajarito/shared/care"
)

// GetCase returns a case and its messages, oldest first (X ids order them by time).
// It returns an error wrapping ErrNotFound when the case does not exist.
func (s *Store) GetCase(ctx context.Context, id string) (*care.Case, []care.StoredMessage, error) {
	c, msgs, _, err := s.readCase(ctx, id)
	if err != nil {
		return nil, nil, fmt.Errorf("store: get case %s: %w", id, err)
	}
	return &c.Case, msgs, nil
}

// readCase reads the partition of a case: the case item, then its messages.
func (s *Store) readCase(ctx context.Context, id string) (*caseRecord, []care.StoredMessage, map[string]types.AttributeValue, error) {
	var (
		rec   *caseRecord
		item  map[string]types.AttributeValue
		msgs  []care.StoredMessage
		start map[string]types.AttributeValue
	)
	for {
		out, err := s.Client.Query(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(s.Table),
			KeyConditionExpression:    aws.String("#pk = :pk"),
			ExpressionAttributeNames:  map[string]string{"#pk": KeyPK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("CASE#" + id)},
			ConsistentRead:            aws.Bool(true),
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return nil, nil, nil, err
		}
		for _, it := range out.Items {
			switch sk := stringAttr(it, KeySK); {
			case sk == "CASE":
				rec, item = new(caseRecord), it
				if err := unmarshal(it, rec); err != nil {
					return nil, nil, nil, fmt.Errorf("decode case: %w", err)
				}
			case strings.HasPrefix(sk, "MSG#"):
				var m care.StoredMessage
				if err := unmarshal(it, &m); err != nil {
					return nil, nil, nil, fmt.Errorf("decode message %s: %w", sk, err)
				}
				msgs = append(msgs, m)
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		start = out.LastEvaluatedKey
	}
	if rec == nil {
		return nil, nil, nil, ErrNotFound
	}
	return rec, msgs, item, nil
}

// ListQuery selects a page of the agent queue.
type ListQuery struct {
	// Status selects the cases; empty means care.Open.
	Status care.Status
	// Limit is the page size: 1 to MaxListLimit, 0 means DefaultListLimit.
	Limit int
	// Cursor is the next value of the previous page; empty for the first page.
	Cursor string
}

// Page sizes of ListCases.
const (
	DefaultListLimit = 50
	MaxListLimit     = 500
)

// ListCases returns a page of the cases of one status, highest priority first, then
// longest waiting first, and the cursor of the next page ("" after the last page).
// The cases are summaries from index GSI1: the fields listed by QueueProjection are
// set, counters and last-message times are not (GetCase has them). A cursor that
// ListCases did not issue for this status yields an error wrapping ErrBadCursor.
func (s *Store) ListCases(ctx context.Context, q ListQuery) ([]care.CaseSummary, string, error) {
	status := q.Status
	if status == "" {
		status = care.Open
	}
	limit := q.Limit
	switch {
	case limit == 0:
		limit = DefaultListLimit
	case limit < 0 || limit > MaxListLimit:
		return nil, "", fmt.Errorf("store: list cases: limit %d is outside 1..%d", limit, MaxListLimit)
	}
	start, err := decodeCursor(q.Cursor, queuePK(status))
	if err != nil {
		return nil, "", fmt.Errorf("store: list %s cases: %w", status, err)
	}
	out, err := s.Client.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		IndexName:                 aws.String(IndexQueue),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": KeyGSI1PK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(queuePK(status))},
		ScanIndexForward:          aws.Bool(true),
		Limit:                     aws.Int32(int32(limit)),
		ExclusiveStartKey:         start,
	})
	if err != nil {
		return nil, "", fmt.Errorf("store: list %s cases: %w", status, err)
	}
	cases := make([]care.CaseSummary, 0, len(out.Items))
	for _, it := range out.Items {
		var c care.CaseSummary
		if err := unmarshal(it, &c); err != nil {
			return nil, "", fmt.Errorf("store: list %s cases: decode %s: %w", status, stringAttr(it, KeyPK), err)
		}
		cases = append(cases, c)
	}
	next, err := encodeCursor(out.LastEvaluatedKey)
	if err != nil {
		return nil, "", fmt.Errorf("store: list %s cases: %w", status, err)
	}
	return cases, next, nil
}

// cursorKeys are the attributes of a GSI1 LastEvaluatedKey.
var cursorKeys = []string{KeyPK, KeySK, KeyGSI1PK, KeyGSI1SK}

// encodeCursor turns a LastEvaluatedKey of GSI1 into an opaque cursor: URL-safe
// base64 of its string attributes as a JSON object.
func encodeCursor(lek map[string]types.AttributeValue) (string, error) {
	if len(lek) == 0 {
		return "", nil
	}
	m := make(map[string]string, len(lek))
	for k := range lek {
		v := stringAttr(lek, k)
		if v == "" {
			return "", fmt.Errorf("last evaluated key attribute %s is not a string", k)
		}
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// decodeCursor turns a cursor back into an ExclusiveStartKey, checking that it was
// issued for the partition queuePK.
func decodeCursor(cursor, queuePK string) (map[string]types.AttributeValue, error) {
	if cursor == "" {
		return nil, nil
	}
	bad := func(why string) error { return fmt.Errorf("%w: %s", ErrBadCursor, why) }
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return nil, bad("not URL-safe base64")
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, bad("not a key")
	}
	if len(m) != len(cursorKeys) {
		return nil, bad("not a key of the case queue")
	}
	start := make(map[string]types.AttributeValue, len(m))
	for _, k := range cursorKeys {
		if m[k] == "" {
			return nil, bad("not a key of the case queue")
		}
		start[k] = str(m[k])
	}
	if m[KeyGSI1PK] != queuePK {
		return nil, bad("issued for another status")
	}
	if !strings.HasPrefix(m[KeyPK], "CASE#") || m[KeySK] != "CASE" {
		return nil, bad("not a key of the case queue")
	}
	return start, nil
}
