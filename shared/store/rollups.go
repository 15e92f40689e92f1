package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The service metrics' daily roll-ups (package metrics, computed by the monitor):
//
//	item    PK                  SK            GSI1PK  GSI1SK  attributes
//	rollup  ROLLUP#<dimension>  <yyyy-mm-dd>  -       -       day, dimension, computed_at (sortable), final,
//	                                                          cases, body (gzip JSON), size
//
// One item per day (the brand's calendar day) and dimension: "all" holds the
// day's totals, "department", "agent", "lang" and "intent" the day's groups by
// that dimension. The body is the metrics package's JSON, gzipped; the store does
// not read it. A dimension's days are one partition, so that the roll-ups of a
// period are one Query (ListRollups): a month is 30 items. At 30,000 cases a day
// and 50 agents, the agent roll-up is about 25 KB gzipped, the totals 2 KB.
//
// A roll-up only moves forward: PutRollup writes on condition that the item does
// not exist or was computed before the time it is given (which the caller sets to
// at most its own computation time), so that a slow writer never replaces a newer
// roll-up, and of concurrent writers of a closed day exactly one sees its write
// succeed (the monitor emits that day's CloudWatch metrics once). Roll-ups are kept.

// MaxRollupBytes is the largest gzipped body PutRollup stores, under DynamoDB's
// 400 KB item limit.
const MaxRollupBytes = 380 << 10

// ErrRollupTooLarge is returned (wrapped) by PutRollup for a body over
// MaxRollupBytes.
var ErrRollupTooLarge = errors.New("the roll-up is too large for one item")

// Rollup is one stored roll-up.
type Rollup struct {
	// Day is the brand's calendar day, "2006-01-02"; Dimension is "all" or the
	// grouping ("department", …).
	Day       string
	Dimension string
	// ComputedAt is when the metrics were computed; Final is true when they were
	// computed after the day had settled (see package monitor).
	ComputedAt time.Time
	Final      bool
	// Cases counts the cases of the day.
	Cases int
	// Body is the metrics' JSON (uncompressed).
	Body []byte
}

func rollupPK(dimension string) string { return "ROLLUP#" + dimension }

// PutRollup stores r on condition that no roll-up of its day and dimension
// exists, or that the stored one was computed before computedBefore (zero: before
// r.ComputedAt). It reports false, with no error, when the condition failed.
func (s *Store) PutRollup(ctx context.Context, r Rollup, computedBefore time.Time) (bool, error) {
	if _, err := time.Parse(dayFormat, r.Day); err != nil || r.Dimension == "" || r.ComputedAt.IsZero() {
		return false, fmt.Errorf("store: put roll-up: day %q (yyyy-mm-dd), dimension %q and computation time are required", r.Day, r.Dimension)
	}
	if computedBefore.IsZero() || computedBefore.After(r.ComputedAt) {
		computedBefore = r.ComputedAt
	}
	body, err := gzipBytes(r.Body)
	if err != nil {
		return false, fmt.Errorf("store: put roll-up %s of %s: compress: %w", r.Dimension, r.Day, err)
	}
	if len(body) > MaxRollupBytes {
		return false, fmt.Errorf("store: put roll-up %s of %s: %d bytes gzipped, over %d: %w", r.Dimension, r.Day, len(body), MaxRollupBytes, ErrRollupTooLarge)
	}
	item := key(rollupPK(r.Dimension), r.Day)
	item["day"] = str(r.Day)
	item["dimension"] = str(r.Dimension)
	item["computed_at"] = str(sortable(r.ComputedAt))
	item["final"] = &types.AttributeValueMemberBOOL{Value: r.Final}
	item["cases"] = num(int64(r.Cases))
	item["body"] = &types.AttributeValueMemberB{Value: body}
	item["size"] = num(int64(len(body)))
	won, err := s.put(ctx, &meter{}, &dynamodb.PutItemInput{
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#pk) OR #at < :before"),
		ExpressionAttributeNames: map[string]string{"#pk": KeyPK, "#at": "computed_at"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":before": str(sortable(computedBefore)),
		},
	}, false)
	if err != nil {
		return false, fmt.Errorf("store: put roll-up %s of %s: %w", r.Dimension, r.Day, err)
	}
	return won, nil
}

// ListRollups returns the roll-ups of a dimension for the days from fromDay to
// toDay ("2006-01-02", both included), oldest first (one Query). Days never
// rolled up are absent. With bodies false the bodies are left out (cheaper to
// decode, not to read: DynamoDB bills the whole items).
func (s *Store) ListRollups(ctx context.Context, dimension, fromDay, toDay string, bodies bool) ([]Rollup, error) {
	var out []Rollup
	var start map[string]types.AttributeValue
	for {
		page, err := s.Client.Query(ctx, &dynamodb.QueryInput{
			TableName:                aws.String(s.Table),
			KeyConditionExpression:   aws.String("#pk = :pk AND #sk BETWEEN :from AND :to"),
			ExpressionAttributeNames: map[string]string{"#pk": KeyPK, "#sk": KeySK},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(rollupPK(dimension)), ":from": str(fromDay), ":to": str(toDay),
			},
			ConsistentRead:    aws.Bool(true),
			ExclusiveStartKey: start,
		})
		if err != nil {
			return nil, fmt.Errorf("store: list roll-ups %s from %s to %s: %w", dimension, fromDay, toDay, err)
		}
		for _, it := range page.Items {
			r, err := decodeRollup(it, bodies)
			if err != nil {
				return nil, fmt.Errorf("store: list roll-ups %s: %s: %w", dimension, stringAttr(it, KeySK), err)
			}
			out = append(out, r)
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		start = page.LastEvaluatedKey
	}
}

func decodeRollup(item map[string]types.AttributeValue, body bool) (Rollup, error) {
	var rec struct {
		Day        string `json:"day"`
		Dimension  string `json:"dimension"`
		ComputedAt string `json:"computed_at"`
		Final      bool   `json:"final"`
		Cases      int    `json:"cases"`
	}
	if err := unmarshal(item, &rec); err != nil {
		return Rollup{}, fmt.Errorf("decode: %w", err)
	}
	at, err := time.Parse(sortableTime, rec.ComputedAt)
	if err != nil {
		return Rollup{}, fmt.Errorf("decode computed_at %q: %w", rec.ComputedAt, err)
	}
	r := Rollup{Day: rec.Day, Dimension: rec.Dimension, ComputedAt: at, Final: rec.Final, Cases: rec.Cases}
	if body {
		b, ok := item["body"].(*types.AttributeValueMemberB)
		if !ok {
			return Rollup{}, errors.New("the item has no body")
		}
		if r.Body, err = gunzipBytes(b.Value); err != nil {
			return Rollup{}, fmt.Errorf("decompress the body: %w", err)
		}
	}
	return r, nil
}
