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

// The care protocol's items (see package protocol): the decision made on each
// message of a case, the case's automatic-reply claim (the cooldown), and the index
// of a customer's cases (repeat contacts). They live in partitions of their own, so
// that GetCase reads exactly what it read before.

// CustomerCaseRetention is how long a customer's case is remembered for repeat
// contacts (TTL), above the protocol's longest repeat window.
const CustomerCaseRetention = 400 * 24 * time.Hour

func decisionsPK(caseID string) string { return "DECISIONS#" + caseID }

func autoReplyKey(caseID string) map[string]types.AttributeValue {
	return key("AUTOREPLY#"+caseID, "AUTOREPLY")
}

func customerPK(customerID string) string { return "CUSTOMER#" + customerID }

// RecordDecision stores the decision made on a message of a case. A decision made
// again on the same message (a redelivery) replaces the first.
func (s *Store) RecordDecision(ctx context.Context, d *care.DecisionRecord) error {
	if d == nil || d.CaseID == "" || !care.IsID(d.MessageID) {
		return fmt.Errorf("store: record decision: it needs a case id and the X id of its message")
	}
	item, err := marshal(d)
	if err != nil {
		return fmt.Errorf("store: record decision of %s/%s: %w", d.CaseID, d.MessageID, err)
	}
	dropZeroTimes(item)
	item[KeyPK] = str(decisionsPK(d.CaseID))
	item[KeySK] = str(padID(d.MessageID))
	var mt meter
	if _, err := s.put(ctx, &mt, &dynamodb.PutItemInput{Item: item}, false); err != nil {
		return fmt.Errorf("store: record decision of %s/%s: %w", d.CaseID, d.MessageID, err)
	}
	return nil
}

// ListDecisions returns the decisions made on a case's messages, oldest first (one
// Query).
func (s *Store) ListDecisions(ctx context.Context, caseID string) ([]care.DecisionRecord, error) {
	return s.queryDecisions(ctx, caseID, true, 0)
}

// LatestDecision returns the decision made on a case's newest message; an error
// wrapping ErrNotFound when there is none.
func (s *Store) LatestDecision(ctx context.Context, caseID string) (*care.DecisionRecord, error) {
	list, err := s.queryDecisions(ctx, caseID, false, 1)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("store: latest decision of %s: %w", caseID, ErrNotFound)
	}
	return &list[0], nil
}

func (s *Store) queryDecisions(ctx context.Context, caseID string, forward bool, limit int32) ([]care.DecisionRecord, error) {
	var out []care.DecisionRecord
	var start map[string]types.AttributeValue
	for {
		in := &dynamodb.QueryInput{
			TableName:                 aws.String(s.Table),
			KeyConditionExpression:    aws.String("#pk = :pk"),
			ExpressionAttributeNames:  map[string]string{"#pk": KeyPK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(decisionsPK(caseID))},
			ConsistentRead:            aws.Bool(true),
			ScanIndexForward:          aws.Bool(forward),
			ExclusiveStartKey:         start,
		}
		if limit > 0 {
			in.Limit = aws.Int32(limit)
		}
		page, err := s.Client.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("store: decisions of %s: %w", caseID, err)
		}
		for _, it := range page.Items {
			var d care.DecisionRecord
			if err := unmarshal(it, &d); err != nil {
				return nil, fmt.Errorf("store: decisions of %s: decode %s: %w", caseID, stringAttr(it, KeySK), err)
			}
			out = append(out, d)
		}
		if len(page.LastEvaluatedKey) == 0 || (limit > 0 && len(out) >= int(limit)) {
			return out, nil
		}
		start = page.LastEvaluatedKey
	}
}

// ClaimAutoReply records an automatic reply to a case at at, triggered by message
// messageID, on condition that the case got none within cooldown before at (or that
// the claim is this message's own: a redelivery claims again). Of concurrent claims
// on a case exactly one gets true: a case never gets two automatic replies within
// the cooldown.
func (s *Store) ClaimAutoReply(ctx context.Context, caseID, messageID string, at time.Time, cooldown time.Duration) (bool, error) {
	at = at.UTC()
	e := newExpr()
	e.set("case_id", str(caseID))
	e.set("message_id", str(messageID))
	e.set("last_at", str(stamp(at)))
	e.set("last_key", str(sortable(at)))
	e.set(TTLAttribute, num(at.Add(cooldown+24*time.Hour).Unix()))
	e.add("count", 1)
	last := e.name("last_key")
	cond := fmt.Sprintf("attribute_not_exists(%s) OR %s <= %s OR %s = %s",
		e.name(KeyPK), last, e.value(str(sortable(at.Add(-cooldown)))), e.name("message_id"), e.value(str(messageID)))
	var mt meter
	after, err := s.update(ctx, &mt, e.input(autoReplyKey(caseID), cond), nil, false)
	if err != nil {
		return false, fmt.Errorf("store: claim automatic reply of %s: %w", caseID, err)
	}
	return after != nil, nil
}

// LastAutoReply returns when the case last got an automatic reply, and the
// message that triggered it; zero and "" when never (or longer ago than the
// claim's time to live).
func (s *Store) LastAutoReply(ctx context.Context, caseID string) (time.Time, string, error) {
	item, err := s.get(ctx, autoReplyKey(caseID))
	if err != nil || item == nil {
		if err != nil {
			err = fmt.Errorf("store: last automatic reply of %s: %w", caseID, err)
		}
		return time.Time{}, "", err
	}
	t, err := time.Parse(sortableTime, stringAttr(item, "last_key"))
	if err != nil {
		return time.Time{}, "", fmt.Errorf("store: last automatic reply of %s: decode: %w", caseID, err)
	}
	return t, stringAttr(item, "message_id"), nil
}

// TrackCustomerCase records that the customer has the case, opened at openedAt
// (pass the case's CreatedAt: the same call repeated writes the same item).
func (s *Store) TrackCustomerCase(ctx context.Context, customerID, caseID string, openedAt time.Time) error {
	if customerID == "" || caseID == "" {
		return fmt.Errorf("store: track customer case: customer and case ids are required")
	}
	openedAt = openedAt.UTC()
	item := key(customerPK(customerID), sortable(openedAt)+"#"+caseID)
	item["customer_id"] = str(customerID)
	item["case_id"] = str(caseID)
	item["opened_at"] = str(stamp(openedAt))
	item[TTLAttribute] = num(openedAt.Add(CustomerCaseRetention).Unix())
	var mt meter
	if _, err := s.put(ctx, &mt, &dynamodb.PutItemInput{Item: item}, false); err != nil {
		return fmt.Errorf("store: track case %s of customer %s: %w", caseID, customerID, err)
	}
	return nil
}

// CustomerCases returns the ids of the customer's cases opened at or after since,
// oldest first (one Query).
func (s *Store) CustomerCases(ctx context.Context, customerID string, since time.Time) ([]string, error) {
	var out []string
	var start map[string]types.AttributeValue
	for {
		page, err := s.Client.Query(ctx, &dynamodb.QueryInput{
			TableName:                aws.String(s.Table),
			KeyConditionExpression:   aws.String("#pk = :pk AND #sk >= :since"),
			ExpressionAttributeNames: map[string]string{"#pk": KeyPK, "#sk": KeySK, "#case": "case_id"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(customerPK(customerID)), ":since": str(sortable(since)),
			},
			ProjectionExpression: aws.String("#case"),
			ExclusiveStartKey:    start,
		})
		if err != nil {
			return nil, fmt.Errorf("store: cases of customer %s: %w", customerID, err)
		}
		for _, it := range page.Items {
			out = append(out, stringAttr(it, "case_id"))
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		start = page.LastEvaluatedKey
	}
}
