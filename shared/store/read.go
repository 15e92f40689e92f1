package store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
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

	// Filters; the zero value of each selects every case.
	//
	// MinPriority keeps the cases of at least that priority (0–999).
	MinPriority int
	// Department, Intent, Lang and CrisisTopic keep the cases with that value.
	Department  string
	Intent      string
	Lang        string
	CrisisTopic string
	// Assignee keeps the cases held by that agent id; Unassigned the cases nobody
	// holds (not both).
	Assignee   string
	Unassigned bool
}

// Page sizes of ListCases, and how many queue entries one call reads at most
// while filters skip entries.
const (
	DefaultListLimit = 50
	MaxListLimit     = 500
	MaxListScan      = 2000
)

// fingerprint identifies q's selection (not its page): a cursor carries it, so
// that a cursor is used with the query that issued it.
func (q *ListQuery) fingerprint(status care.Status) string {
	h := sha256.New()
	for _, v := range []string{string(status), strconv.Itoa(q.MinPriority), q.Department, q.Intent, q.Lang, q.CrisisTopic, q.Assignee, strconv.FormatBool(q.Unassigned)} {
		h.Write([]byte(v))
		h.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:9])
}

// ListCases returns a page of the cases of one status that pass q's filters,
// highest priority first, then longest waiting first, and the cursor of the next
// page ("" after the last page). The cases are summaries from index GSI1: the fields
// listed by QueueProjection are set, counters and last-message times are not
// (GetCase has them).
//
// The minimum priority is a key condition (the index is sorted by priority, so
// the Query ends where priorities fall below it); the other filters are a
// FilterExpression. DynamoDB applies a filter after reading, so ListCases keeps
// reading until the page is full or the queue ends, but reads at most MaxListScan
// entries per call: a page may then hold fewer cases than Limit, even none, with a
// cursor to go on from. A cursor that ListCases did not issue for this status and
// these filters yields an error wrapping ErrBadCursor.
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
	switch {
	case q.MinPriority < 0 || q.MinPriority > 999:
		return nil, "", fmt.Errorf("store: list cases: minimum priority %d is outside 0..999", q.MinPriority)
	case q.Assignee != "" && q.Unassigned:
		return nil, "", errors.New("store: list cases: filter by assignee or by unassigned, not both")
	}
	fp := q.fingerprint(status)
	start, err := decodeCursor(q.Cursor, queuePK(status), fp)
	if err != nil {
		return nil, "", fmt.Errorf("store: list %s cases: %w", status, err)
	}
	e := newExpr()
	keyCond := e.name(KeyGSI1PK) + " = " + e.value(str(queuePK(status)))
	if q.MinPriority > 0 {
		// GSI1SK starts with 999-priority in 3 digits: priority >= p is a sort key
		// below the 3 digits of 999-p+1.
		hi := fmt.Sprintf("%03d", 1000-q.MinPriority)
		keyCond += " AND " + e.name(KeyGSI1SK) + " < " + e.value(str(hi))
		if start != nil && stringAttr(start, KeyGSI1SK) >= hi {
			return nil, "", fmt.Errorf("store: list %s cases: %w: outside the minimum priority", status, ErrBadCursor)
		}
	}
	var filters []string
	for _, f := range []struct{ attr, value string }{
		{"department", q.Department}, {"intent", q.Intent}, {"lang", q.Lang},
		{"crisis_topic", q.CrisisTopic}, {"assignee", q.Assignee},
	} {
		if f.value != "" {
			filters = append(filters, e.name(f.attr)+" = "+e.value(str(f.value)))
		}
	}
	if q.Unassigned {
		filters = append(filters, "attribute_not_exists("+e.name("assignee")+")")
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		IndexName:                 aws.String(IndexQueue),
		KeyConditionExpression:    aws.String(keyCond),
		ExpressionAttributeNames:  e.names,
		ExpressionAttributeValues: e.values,
		ScanIndexForward:          aws.Bool(true),
	}
	if len(filters) > 0 {
		in.FilterExpression = aws.String(strings.Join(filters, " AND "))
	}

	cases := make([]care.CaseSummary, 0, min(limit, 64))
	var next map[string]types.AttributeValue // the key to go on from; nil: the queue ended
	for scanned := 0; ; {
		want := limit - len(cases)
		if len(filters) > 0 {
			// Read ahead: filters skip entries. Matches beyond the page are read
			// again by the next one, which starts after the last case returned.
			want = max(want, 100)
		}
		in.Limit = aws.Int32(int32(min(want, MaxListScan-scanned)))
		in.ExclusiveStartKey = start
		out, err := s.Client.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("store: list %s cases: %w", status, err)
		}
		scanned += int(out.ScannedCount)
		next = out.LastEvaluatedKey
		for i, it := range out.Items {
			var c care.CaseSummary
			if err := unmarshal(it, &c); err != nil {
				return nil, "", fmt.Errorf("store: list %s cases: decode %s: %w", status, stringAttr(it, KeyPK), err)
			}
			cases = append(cases, c)
			if len(cases) == limit {
				if i < len(out.Items)-1 || len(next) > 0 {
					next = cursorKey(it)
				}
				break
			}
		}
		if len(cases) == limit || len(next) == 0 || scanned >= MaxListScan {
			break
		}
		start = next
	}
	cursor, err := encodeCursor(next, fp)
	if err != nil {
		return nil, "", fmt.Errorf("store: list %s cases: %w", status, err)
	}
	return cases, cursor, nil
}

// cursorKey returns the GSI1 key of an index item: where a page ending with it
// goes on from.
func cursorKey(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	k := make(map[string]types.AttributeValue, len(cursorKeys))
	for _, a := range cursorKeys {
		k[a] = item[a]
	}
	return k
}

// cursorKeys are the attributes of a GSI1 LastEvaluatedKey.
var cursorKeys = []string{KeyPK, KeySK, KeyGSI1PK, KeyGSI1SK}

// cursorQuery is the member of a cursor that holds the query's fingerprint.
const cursorQuery = "q"

// encodeCursor turns a LastEvaluatedKey of GSI1 into an opaque cursor: URL-safe
// base64 of its string attributes, and the fingerprint fp of the query, as a JSON
// object.
func encodeCursor(lek map[string]types.AttributeValue, fp string) (string, error) {
	if len(lek) == 0 {
		return "", nil
	}
	m := make(map[string]string, len(lek)+1)
	for k := range lek {
		v := stringAttr(lek, k)
		if v == "" {
			return "", fmt.Errorf("last evaluated key attribute %s is not a string", k)
		}
		m[k] = v
	}
	m[cursorQuery] = fp
	b, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// decodeCursor turns a cursor back into an ExclusiveStartKey, checking that it was
// issued for the partition queuePK and the query of fingerprint fp.
func decodeCursor(cursor, queuePK, fp string) (map[string]types.AttributeValue, error) {
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
	if len(m) != len(cursorKeys)+1 {
		return nil, bad("not a key of the case queue")
	}
	start := make(map[string]types.AttributeValue, len(cursorKeys))
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
	if m[cursorQuery] != fp {
		return nil, bad("issued for other filters")
	}
	return start, nil
}
