package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
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

// ListQuarantine returns up to limit quarantine records, newest first. Records
// requeued by RequeuedQuarantined are no longer listed.
func (s *Store) ListQuarantine(ctx context.Context, limit int) ([]Quarantined, error) {
	if limit <= 0 || limit > MaxListLimit {
		limit = DefaultListLimit
	}
	qs, _, err := s.queryQuarantine(ctx, false, nil, "", limit)
	if err != nil {
		return nil, fmt.Errorf("store: list quarantine: %w", err)
	}
	return qs, nil
}

// Attributes of a quarantine record being requeued, or requeued.
const (
	quarantineLease      = "retry_lease"       // the token of the retry holding it
	quarantineLeaseUntil = "retry_lease_until" // until when (sortable time)
	quarantineRequeued   = "requeued_at"       // when it went back on the queue
)

// ErrQuarantineBusy is returned (wrapped) by ClaimQuarantined for a record another
// retry holds.
var ErrQuarantineBusy = errors.New("another retry is requeuing it")

// PendingQuarantine returns quarantine records not requeued yet, oldest first:
// with ids, those of the given SQS message ids (all of them: limit is ignored);
// without, up to limit records after the cursor after ("" from the oldest). next
// is the cursor to read on from, "" when no record remains.
func (s *Store) PendingQuarantine(ctx context.Context, ids []string, after string, limit int) (_ []Quarantined, next string, _ error) {
	if len(ids) > 0 {
		after, limit = "", 0
	} else if limit <= 0 || limit > MaxListLimit {
		limit = DefaultListLimit
	}
	qs, next, err := s.queryQuarantine(ctx, true, ids, after, limit)
	if err != nil {
		return nil, "", fmt.Errorf("store: pending quarantine: %w", err)
	}
	return qs, next, nil
}

// quarantineReadBytes bounds the bodies one read of quarantine records without
// ids holds (about what one DynamoDB page holds, whatever the filter skips).
const quarantineReadBytes = 1 << 20

// queryQuarantine reads the quarantine records not requeued, oldest first
// (forward) or newest first, from after, whose SQS message id is in ids (when
// given), until it has limit (0: all of them) or, without ids, bodies of
// quarantineReadBytes. next is the sort key of the last one returned when more
// may follow.
func (s *Store) queryQuarantine(ctx context.Context, forward bool, ids []string, after string, limit int) (_ []Quarantined, next string, _ error) {
	e := newExpr()
	filter := "attribute_not_exists(" + e.name(quarantineRequeued) + ")"
	if len(ids) > 0 {
		vals := make([]string, len(ids))
		for i, id := range ids {
			vals[i] = e.value(str(id))
		}
		filter += " AND " + e.name("sqs_message_id") + " IN (" + strings.Join(vals, ", ") + ")"
	}
	e.names["#pk"] = KeyPK
	e.values[":pk"] = str(quarantinePK)
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		FilterExpression:          aws.String(filter),
		ExpressionAttributeNames:  e.names,
		ExpressionAttributeValues: e.values,
		ScanIndexForward:          aws.Bool(forward),
	}
	if limit > 0 {
		in.Limit = aws.Int32(int32(limit))
	}
	if after != "" {
		in.ExclusiveStartKey = key(quarantinePK, after)
	}
	var (
		qs    []Quarantined
		bytes int
	)
	for {
		out, err := s.Client.Query(ctx, in)
		if err != nil {
			return nil, "", err
		}
		for _, it := range out.Items {
			q, err := decodeQuarantined(it)
			if err != nil {
				return nil, "", err
			}
			qs = append(qs, q)
			bytes += len(q.Body)
			if (limit > 0 && len(qs) == limit) || (len(ids) == 0 && bytes >= quarantineReadBytes) {
				return qs, stringAttr(it, KeySK), nil
			}
		}
		if out.LastEvaluatedKey == nil {
			return qs, "", nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func decodeQuarantined(it map[string]types.AttributeValue) (Quarantined, error) {
	var q Quarantined
	if err := unmarshal(it, &q); err != nil {
		return q, fmt.Errorf("decode %s: %w", stringAttr(it, KeySK), err)
	}
	if b, ok := it["body"].(*types.AttributeValueMemberB); ok {
		body, err := gunzipBytes(b.Value)
		if err != nil {
			return q, fmt.Errorf("body of %s: %w", stringAttr(it, KeySK), err)
		}
		q.Body = string(body)
	}
	return q, nil
}

func quarantineKey(q Quarantined) map[string]types.AttributeValue {
	return key(quarantinePK, sortable(q.SentAt)+"#"+q.SQSMessageID)
}

// ClaimQuarantined holds the quarantine record q for lease, so that one retry
// alone sends it back to the queue, and returns the token that RequeuedQuarantined
// or ReleaseQuarantined need. It fails with ErrNotFound when the record is gone
// (requeued, expired) and with ErrQuarantineBusy while another retry holds it. A
// retry that died holding it is taken over once its lease ends.
func (s *Store) ClaimQuarantined(ctx context.Context, q Quarantined, lease time.Duration) (string, error) {
	now := s.now()
	token := rand.Text()
	e := newExpr()
	e.set(quarantineLease, str(token))
	e.set(quarantineLeaseUntil, str(sortable(now.Add(lease))))
	cond := "attribute_exists(" + e.name(KeyPK) + ") AND attribute_not_exists(" + e.name(quarantineRequeued) + ") AND (attribute_not_exists(" +
		e.name(quarantineLeaseUntil) + ") OR " + e.name(quarantineLeaseUntil) + " < " + e.value(str(sortable(now))) + ")"
	var mt meter
	item, err := s.update(ctx, &mt, e.input(quarantineKey(q), cond), nil, false)
	if err != nil {
		return "", fmt.Errorf("store: claim quarantined %s: %w", q.SQSMessageID, err)
	}
	if item != nil {
		return token, nil
	}
	cur, err := s.get(ctx, quarantineKey(q))
	if err != nil {
		return "", fmt.Errorf("store: claim quarantined %s: %w", q.SQSMessageID, err)
	}
	if cur == nil || cur[quarantineRequeued] != nil {
		return "", fmt.Errorf("store: claim quarantined %s: %w", q.SQSMessageID, ErrNotFound)
	}
	return "", fmt.Errorf("store: claim quarantined %s: %w", q.SQSMessageID, ErrQuarantineBusy)
}

// RequeuedQuarantined records that the retry holding q with token sent it back to
// the queue: the record leaves the quarantine (it is no longer listed, its body is
// dropped, and it expires). It fails when the token no longer holds the record
// (its lease ended and another retry took it).
func (s *Store) RequeuedQuarantined(ctx context.Context, q Quarantined, token string) error {
	now := s.now()
	e := newExpr()
	e.set(quarantineRequeued, str(stamp(now)))
	e.set(TTLAttribute, num(now.Unix()))
	e.remove("body")
	e.remove(quarantineLease)
	e.remove(quarantineLeaseUntil)
	return s.quarantineLeaseUpdate(ctx, "requeued", q, token, e)
}

// ReleaseQuarantined lets go of q, held with token, after a failed send: another
// retry may take it at once.
func (s *Store) ReleaseQuarantined(ctx context.Context, q Quarantined, token string) error {
	e := newExpr()
	e.remove(quarantineLease)
	e.remove(quarantineLeaseUntil)
	return s.quarantineLeaseUpdate(ctx, "release", q, token, e)
}

func (s *Store) quarantineLeaseUpdate(ctx context.Context, what string, q Quarantined, token string, e *expr) error {
	var mt meter
	item, err := s.update(ctx, &mt, e.input(quarantineKey(q), e.name(quarantineLease)+" = "+e.value(str(token))), nil, false)
	if err != nil {
		return fmt.Errorf("store: %s quarantined %s: %w", what, q.SQSMessageID, err)
	}
	if item == nil {
		return fmt.Errorf("store: %s quarantined %s: the retry's lease ended and another retry took it", what, q.SQSMessageID)
	}
	return nil
}
