package store

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
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
//
// The record (labels with their reasons, priority factors, the replies' texts,
// the explanation) is 2 to 4 KB of JSON, which would cost 2 to 4 write units. It
// is kept compressed in the item's attribute z1 (see decisionDict1), about 400
// bytes, so that the write costs one unit. The decision item is written once per
// message and read by the agents (the console's reasons) and the reply sender.
func (s *Store) RecordDecision(ctx context.Context, d *care.DecisionRecord) error {
	if d == nil || d.CaseID == "" || !care.IsID(d.MessageID) {
		return fmt.Errorf("store: record decision: it needs a case id and the X id of its message")
	}
	raw, err := json.Marshal(d)
	if err == nil {
		raw, err = deflateDecision(raw)
	}
	if err != nil {
		return fmt.Errorf("store: record decision of %s/%s: %w", d.CaseID, d.MessageID, err)
	}
	item := key(decisionsPK(d.CaseID), padID(d.MessageID))
	item[decisionBody] = &types.AttributeValueMemberB{Value: raw}
	var mt meter
	if _, err := s.put(ctx, &mt, &dynamodb.PutItemInput{Item: item}, false); err != nil {
		return fmt.Errorf("store: record decision of %s/%s: %w", d.CaseID, d.MessageID, err)
	}
	return nil
}

// decisionBody is the attribute of a decision item that holds the record's JSON,
// DEFLATE-compressed with the preset dictionary decisionDict1. A later dictionary
// gets a new attribute name (z2), so that every item says how to read it.
const decisionBody = "z1"

// decisionDict1 is the preset dictionary of decision records: a record as the
// engine writes it, whose field names and phrases most records share. DEFLATE
// with it compresses a record to about 400 bytes, instead of 1 KB without it.
// It must never change: items written with it are read with it.
const decisionDict1 = `{"case_id":"t","message_id":"","decided_at":"","tier":"self_serve","labels":{"lang":"en","intent":"question","sentiment":"neutral","score":0,"urgency":"none","pii":["booking"],"pii_masked":["****"],"reasons":[{"label":"lang","value":"en","because":"X's language tag"},{"label":"sentiment","value":"positive","because":"score 0.: positive word 'thanks'"},{"label":"intent","value":"question","because":"a question mark"},{"label":"urgency","value":"high","because":"stranded"},{"label":"pii","value":"booking","because":"booking code"}]},"priority":,"priority_factors":[{"factor":"followers","points":,"because":"followers"},{"factor":"repeat","points":,"because":"previous cases"}],"department":"general","department_why":"no routing rule matched: the default queue","actions":[{"kind":"move_to_dm","why":"personal data"},{"kind":"escalate","why":"grave"}],"replies":[{"v":1,"idempotency_key":"r","case_id":"d","trigger_id":"","channel":"dm","recipient_id":"","text":"Thanks for writing to us. A person from the team will answer you here shortly. ^Team","lang":"en","kind":"move_to_dm","author":"auto","template_id":"question.en","summoned":true,"created_at":""}],"explanation":["No automatic reply: ","Move to DM: ","Escalated: grave case (","Crisis: the message is about ","Linter warning: ","Department general: no routing rule matched."]}` +
	`{"case_id":"t","message_id":"","decided_at":"","tier":"self_serve","labels":{"lang":"es","intent":"complaint","sentiment":"negative","score":-0.,"urgency":"low","urgency_kinds":["long_wait"],"reasons":[{"label":"lang","value":"es","because":"X's language tag"},{"label":"sentiment","value":"negative","because":"score -0.: care phrase ''; urgency cue '' (long wait); negative word ''"},{"label":"intent","value":"complaint","because":"negative sentiment (score -0.)"},{"label":"urgency","value":"low","because":"long wait ''"},{"label":"pii","value":"none","because":"no e-mail, phone, card, DNI/NIE, IBAN or booking code found"}]},"priority":,"priority_factors":[{"factor":"base","points":300,"because":"every case starts at 300"},{"factor":"intent","points":120,"because":"intent complaint"},{"factor":"sentiment","points":,"because":"negative sentiment, score -0."},{"factor":"urgency","points":40,"because":"urgency low"},{"factor":"urgency_kinds","points":25,"because":"urgency kinds long_wait (+25)"}],"department":"","department_why":"rule \"\": keyword \"\" (\"\")","actions":[{"kind":"auto_acknowledge","why":"acknowledges the complaint"},{"kind":"queue_for_agent","why":"a person answers in  (priority )"}],"replies":[{"v":1,"idempotency_key":"r","case_id":"t","trigger_id":"","channel":"public","in_reply_to_id":"","text":"Lo sentimos mucho. Entendemos tu malestar: una persona del equipo revisa tu caso ahora mismo y te responde por aquí. ^Equipo","lang":"es","kind":"auto_ack","author":"auto","template_id":"complaint.es","summoned":true,"created_at":""}],"explanation":["Labels: language es, intent complaint, sentiment negative (-0.), urgency low (long_wait).","Priority : base 300, intent complaint +120, negative sentiment, score -0. +, urgency low +40, urgency kinds long_wait (+25) +25.","Department : rule \"\": keyword \"\" (\"\").","Automatic reply (auto_ack, template complaint.es, public reply to post ): acknowledges the complaint.","Queued for an agent in ."]}`

// flateWriters reuses the decision compressors (each holds about 600 KB of
// state); Reset keeps their dictionary.
var flateWriters = sync.Pool{New: func() any {
	w, err := flate.NewWriterDict(io.Discard, flate.BestCompression, []byte(decisionDict1))
	if err != nil {
		panic(err) // only for a bad level
	}
	return w
}}

func deflateDecision(raw []byte) ([]byte, error) { return compress(&flateWriters, raw) }

// decodeDecision reads a decision item: the compressed JSON RecordDecision
// writes, or the attributes of a record written before it compressed them.
func decodeDecision(item map[string]types.AttributeValue, d *care.DecisionRecord) error {
	body, ok := item[decisionBody].(*types.AttributeValueMemberB)
	if !ok {
		return unmarshal(item, d)
	}
	raw, err := io.ReadAll(flate.NewReaderDict(bytes.NewReader(body.Value), []byte(decisionDict1)))
	if err != nil {
		return fmt.Errorf("inflate: %w", err)
	}
	return json.Unmarshal(raw, d)
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
			if err := decodeDecision(it, &d); err != nil {
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
