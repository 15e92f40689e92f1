package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pajarito-care/pajarito/shared/care"
)

// ReplyIssue is a reply that failed or may not have been sent (care.ReplyFailed,
// care.ReplyUnknown), recorded once, when the team is told of it, so that the
// operator's health check finds it without scanning every case.
type ReplyIssue struct {
	CaseID string          `json:"case_id"`
	Key    string          `json:"key"`
	State  care.ReplyState `json:"state"`
	Kind   care.ReplyKind  `json:"kind"`
	Reason string          `json:"reason"`
	At     time.Time       `json:"at"`
}

// DefaultReplyIssueRetention is how long reply issues are listed.
const DefaultReplyIssueRetention = 30 * 24 * time.Hour

const replyIssuePK = "REPLYISSUE"

// RecordReplyIssue records a reply issue. Recording the same reply twice keeps one
// record (the key is its time, case and idempotency key).
func (s *Store) RecordReplyIssue(ctx context.Context, ri ReplyIssue) error {
	if ri.At.IsZero() {
		ri.At = s.now()
	}
	ri.At = ri.At.UTC()
	item, err := marshal(ri)
	if err != nil {
		return fmt.Errorf("store: reply issue %s/%s: encode: %w", ri.CaseID, ri.Key, err)
	}
	item[KeyPK] = str(replyIssuePK)
	item[KeySK] = str(sortable(ri.At) + "#" + ri.CaseID + "#" + ri.Key)
	item[TTLAttribute] = num(ri.At.Add(DefaultReplyIssueRetention).Unix())
	var mt meter
	if _, err := s.put(ctx, &mt, &dynamodb.PutItemInput{Item: item}, false); err != nil {
		return fmt.Errorf("store: reply issue %s/%s: %w", ri.CaseID, ri.Key, err)
	}
	return nil
}

// ListReplyIssues returns up to limit reply issues recorded at or after since,
// newest first.
func (s *Store) ListReplyIssues(ctx context.Context, since time.Time, limit int) ([]ReplyIssue, error) {
	if limit <= 0 || limit > MaxListLimit {
		limit = DefaultListLimit
	}
	out, err := s.Client.Query(ctx, &dynamodb.QueryInput{
		TableName:                aws.String(s.Table),
		KeyConditionExpression:   aws.String("#pk = :pk AND #sk >= :since"),
		ExpressionAttributeNames: map[string]string{"#pk": KeyPK, "#sk": KeySK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(replyIssuePK), ":since": str(sortable(since)),
		},
		ScanIndexForward: aws.Bool(false),
		Limit:            aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, fmt.Errorf("store: list reply issues: %w", err)
	}
	ris := make([]ReplyIssue, 0, len(out.Items))
	for _, it := range out.Items {
		var ri ReplyIssue
		if err := unmarshal(it, &ri); err != nil {
			return nil, fmt.Errorf("store: list reply issues: decode %s: %w", stringAttr(it, KeySK), err)
		}
		ris = append(ris, ri)
	}
	return ris, nil
}
