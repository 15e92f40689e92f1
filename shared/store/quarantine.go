package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Quarantined is a queue message that could not be processed: kept, with the reason,
// for QuarantineRetention so that an operator can inspect and replay it.
type Quarantined struct {
	// SQSMessageID and SentAt (when SQS accepted the message) identify it; writing
	// the same pair twice keeps one record.
	SQSMessageID string    `json:"sqs_message_id"`
	SentAt       time.Time `json:"sent_at"`
	ReceiveCount int       `json:"receive_count,omitempty"`
	// Body is the queue message body. Bodies longer than MaxQuarantineBody bytes are
	// cut, and Truncated is set.
	Body      string `json:"-"`
	Truncated bool   `json:"truncated,omitempty"`
	// Problem says why it could not be processed.
	Problem       string    `json:"problem"`
	QuarantinedAt time.Time `json:"quarantined_at"`
}

// MaxQuarantineBody is the longest body a quarantine record keeps (compressed, it
// stays under DynamoDB's 400 KB item limit whatever it holds).
const MaxQuarantineBody = 350_000

const quarantinePK = "QUARANTINE"

// Quarantine stores a quarantine record. It returns the write capacity consumed.
func (s *Store) Quarantine(ctx context.Context, q Quarantined) (float64, error) {
	now := s.now()
	if q.SentAt.IsZero() {
		q.SentAt = now
	}
	q.SentAt = q.SentAt.UTC()
	q.QuarantinedAt = now
	body := q.Body
	if len(body) > MaxQuarantineBody {
		body, q.Truncated = body[:MaxQuarantineBody], true
	}
	item, err := marshal(q)
	if err != nil {
		return 0, fmt.Errorf("store: quarantine %s: encode: %w", q.SQSMessageID, err)
	}
	// Binary: an undecodable body need not be valid UTF-8.
	gz, err := gzipBytes([]byte(body))
	if err != nil {
		return 0, fmt.Errorf("store: quarantine %s: compress: %w", q.SQSMessageID, err)
	}
	item["body"] = &types.AttributeValueMemberB{Value: gz}
	item[KeyPK] = str(quarantinePK)
	item[KeySK] = str(sortable(q.SentAt) + "#" + q.SQSMessageID)
	item[TTLAttribute] = num(now.Add(orDefault(s.QuarantineRetention, DefaultQuarantineRetention)).Unix())
	var mt meter
	if _, err := s.put(ctx, &mt, &dynamodb.PutItemInput{Item: item}, false); err != nil {
		return mt.units, fmt.Errorf("store: quarantine %s: %w", q.SQSMessageID, err)
	}
	return mt.units, nil
}

// ListQuarantine returns up to limit quarantine records, newest first.
func (s *Store) ListQuarantine(ctx context.Context, limit int) ([]Quarantined, error) {
	if limit <= 0 || limit > MaxListLimit {
		limit = DefaultListLimit
	}
	out, err := s.Client.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": KeyPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(quarantinePK)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, fmt.Errorf("store: list quarantine: %w", err)
	}
	qs := make([]Quarantined, 0, len(out.Items))
	for _, it := range out.Items {
		var q Quarantined
		if err := unmarshal(it, &q); err != nil {
			return nil, fmt.Errorf("store: list quarantine: decode %s: %w", stringAttr(it, KeySK), err)
		}
		if b, ok := it["body"].(*types.AttributeValueMemberB); ok {
			body, err := gunzipBytes(b.Value)
			if err != nil {
				return nil, fmt.Errorf("store: list quarantine: body of %s: %w", stringAttr(it, KeySK), err)
			}
			q.Body = string(body)
		}
		qs = append(qs, q)
	}
	return qs, nil
}
