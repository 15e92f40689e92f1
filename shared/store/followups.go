package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pajarito-care/pajarito/shared/care"
)

// The follow-ups of a closed crisis (package monitor): every customer affected
// gets one, or is skipped with a reason, once. A customer's claim is put once
// (attribute_not_exists), before the follow-up is queued, and marked queued
// after; a claim left unqueued (a crash between the two) is queued again by
// the next run, under the same idempotency key, which the reply sender sends
// once. The job item records that every affected customer was handled, and
// the counts.
//
//	item      PK                                SK              attributes
//	followup  FOLLOWUP#<topic>#<opened, ms>     C#<customer>    FollowUp
//	job       FOLLOWUP#<topic>#<opened, ms>     JOB             FollowUpJob

func followUpPK(topic string, opened time.Time) string {
	return "FOLLOWUP#" + topic + "#" + strconv.FormatInt(opened.UnixMilli(), 10)
}

// FollowUp is where one customer's follow-up of a crisis stands.
type FollowUp struct {
	Customer string `json:"customer"`
	CaseID   string `json:"case_id"`
	// Key is the reply's idempotency key, when one is queued.
	Key       string     `json:"key,omitempty"`
	ClaimedAt time.Time  `json:"claimed_at"`
	QueuedAt  *time.Time `json:"queued_at,omitempty"`
	// Skipped says why the customer gets none (answered by a person, …).
	Skipped string `json:"skipped,omitempty"`
}

// FollowUpJob records that a crisis's follow-ups are all handled.
type FollowUpJob struct {
	DoneAt    time.Time      `json:"done_at"`
	Customers int            `json:"customers"`
	Queued    int            `json:"queued"`
	Skipped   map[string]int `json:"skipped,omitempty"`
	// Crisis is the crisis as it closed: the job archives it (PastCrises),
	// since its topic's state keeps the latest crisis only.
	Crisis *care.CrisisState `json:"crisis,omitempty"`
}

// ClaimFollowUp claims customer f.Customer's follow-up of the crisis: it
// reports true when this call put the claim, else the claim held.
func (s *Store) ClaimFollowUp(ctx context.Context, topic string, opened time.Time, f FollowUp) (held *FollowUp, won bool, err error) {
	if topic == "" || f.Customer == "" || f.CaseID == "" {
		return nil, false, errors.New("store: claim follow-up: it needs the topic, the customer and the case")
	}
	f.ClaimedAt, f.QueuedAt = f.ClaimedAt.UTC(), nil
	item, err := marshal(f)
	if err != nil {
		return nil, false, fmt.Errorf("store: claim follow-up: %w", err)
	}
	dropZeroTimes(item)
	for k, v := range key(followUpPK(topic, opened), "C#"+f.Customer) {
		item[k] = v
	}
	var mt meter
	ok, err := s.put(ctx, &mt, &dynamodb.PutItemInput{Item: item, ConditionExpression: aws.String("attribute_not_exists(" + KeyPK + ")")}, false)
	if err != nil {
		return nil, false, fmt.Errorf("store: claim the follow-up of %s (%s): %w", f.Customer, topic, err)
	}
	if ok {
		return &f, true, nil
	}
	it, err := s.get(ctx, key(followUpPK(topic, opened), "C#"+f.Customer))
	if err != nil || it == nil {
		return nil, false, fmt.Errorf("store: read the follow-up of %s (%s): %w", f.Customer, topic, errors.Join(err, ErrNotFound))
	}
	var h FollowUp
	if err := unmarshal(it, &h); err != nil {
		return nil, false, fmt.Errorf("store: read the follow-up of %s: %w", f.Customer, err)
	}
	return &h, false, nil
}

// MarkFollowUpQueued records that a customer's follow-up is on the outbound
// queue.
func (s *Store) MarkFollowUpQueued(ctx context.Context, topic string, opened time.Time, customer string, at time.Time) error {
	e := newExpr()
	e.set("queued_at", str(stamp(at)))
	var mt meter
	after, err := s.update(ctx, &mt, e.input(key(followUpPK(topic, opened), "C#"+customer), "attribute_exists("+KeyPK+")"), nil, false)
	if err != nil {
		return fmt.Errorf("store: mark the follow-up of %s queued: %w", customer, err)
	}
	if after == nil {
		return fmt.Errorf("store: mark the follow-up of %s queued: %w", customer, ErrNotFound)
	}
	return nil
}

// FollowUps returns the crisis's follow-up claims by customer (its job
// record is GetFollowUpJob's).
func (s *Store) FollowUps(ctx context.Context, topic string, opened time.Time) (map[string]FollowUp, error) {
	out := map[string]FollowUp{}
	err := s.queryPartition(ctx, followUpPK(topic, opened), true, func(it map[string]types.AttributeValue) (bool, error) {
		if !strings.HasPrefix(stringAttr(it, KeySK), "C#") {
			return true, nil
		}
		var f FollowUp
		if err := unmarshal(it, &f); err != nil {
			return false, err
		}
		out[f.Customer] = f
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: follow-ups of %s: %w", followUpPK(topic, opened), err)
	}
	return out, nil
}

// FinishFollowUps records the crisis's follow-ups done, with the counts; it
// reports false when they were recorded done already. A job with its Crisis
// archives it: the queue index lists it under CRISES by opening time
// (PastCrises).
func (s *Store) FinishFollowUps(ctx context.Context, topic string, opened time.Time, job FollowUpJob) (bool, error) {
	job.DoneAt = job.DoneAt.UTC()
	item, err := marshal(job)
	if err != nil {
		return false, fmt.Errorf("store: finish follow-ups: %w", err)
	}
	dropZeroTimes(item)
	for k, v := range key(followUpPK(topic, opened), "JOB") {
		item[k] = v
	}
	if job.Crisis != nil {
		item[KeyGSI1PK], item[KeyGSI1SK] = str(crisesPK), str(sortable(opened)+"|"+topic)
	}
	var mt meter
	ok, err := s.put(ctx, &mt, &dynamodb.PutItemInput{Item: item, ConditionExpression: aws.String("attribute_not_exists(" + KeyPK + ")")}, job.Crisis != nil)
	if err != nil {
		return false, fmt.Errorf("store: finish the follow-ups of %s: %w", topic, err)
	}
	return ok, nil
}

// FollowUpText is the text of a crisis's follow-ups when a person wrote one
// (an admin, before they went), by language, and when they started: from
// then on the text is the one they go with, and it is not changed.
//
//	text      FOLLOWUP#<topic>#<opened, ms>     TEXT            FollowUpText
type FollowUpText struct {
	// Texts are by language, with the templates' placeholders ({first_name},
	// {topic}, {signature}).
	Texts     map[string]string `json:"texts,omitempty"`
	By        string            `json:"by,omitempty"`
	ByName    string            `json:"by_name,omitempty"`
	At        *time.Time        `json:"at,omitempty"`
	StartedAt *time.Time        `json:"started_at,omitempty"`
}

// ErrFollowUpsStarted is wrapped by SetFollowUpText's error once the
// follow-ups started: they go with the text they started with.
var ErrFollowUpsStarted = errors.New("the follow-ups have started")

// GetFollowUpText returns a crisis's follow-up text item; nil when nobody
// wrote one and they have not started.
func (s *Store) GetFollowUpText(ctx context.Context, topic string, opened time.Time) (*FollowUpText, error) {
	it, err := s.get(ctx, key(followUpPK(topic, opened), "TEXT"))
	if err != nil || it == nil {
		return nil, err
	}
	var t FollowUpText
	if err := unmarshal(it, &t); err != nil {
		return nil, fmt.Errorf("store: the follow-up text of %s: %w", topic, err)
	}
	return &t, nil
}

// SetFollowUpText sets the text of a crisis's follow-ups (t.Texts, By, ByName,
// At), on condition that they have not started (else an error wrapping
// ErrFollowUpsStarted).
func (s *Store) SetFollowUpText(ctx context.Context, topic string, opened time.Time, t FollowUpText) error {
	t.StartedAt = nil
	item, err := marshal(t)
	if err != nil {
		return fmt.Errorf("store: set the follow-up text of %s: %w", topic, err)
	}
	for k, v := range key(followUpPK(topic, opened), "TEXT") {
		item[k] = v
	}
	var mt meter
	ok, err := s.put(ctx, &mt, &dynamodb.PutItemInput{Item: item,
		ConditionExpression: aws.String("attribute_not_exists(" + KeyPK + ") OR attribute_not_exists(started_at)")}, false)
	if err != nil {
		return fmt.Errorf("store: set the follow-up text of %s: %w", topic, err)
	}
	if !ok {
		return fmt.Errorf("store: set the follow-up text of %s: %w", topic, ErrFollowUpsStarted)
	}
	return nil
}

// StartFollowUps records that a crisis's follow-ups start at at (unless they
// started before) and returns the text item they go with: from then on
// SetFollowUpText refuses to change it.
func (s *Store) StartFollowUps(ctx context.Context, topic string, opened time.Time, at time.Time) (*FollowUpText, error) {
	e := newExpr()
	n := e.name("started_at")
	e.sets = append(e.sets, n+" = if_not_exists("+n+", "+e.value(str(stamp(at)))+")")
	var mt meter
	after, err := s.update(ctx, &mt, e.input(key(followUpPK(topic, opened), "TEXT"), ""), nil, false)
	if err != nil {
		return nil, fmt.Errorf("store: start the follow-ups of %s: %w", topic, err)
	}
	var t FollowUpText
	if err := unmarshal(after, &t); err != nil {
		return nil, fmt.Errorf("store: start the follow-ups of %s: %w", topic, err)
	}
	return &t, nil
}

// GetFollowUpJob returns a crisis's follow-up job record: nil while its
// follow-ups are not all handled.
func (s *Store) GetFollowUpJob(ctx context.Context, topic string, opened time.Time) (*FollowUpJob, error) {
	it, err := s.get(ctx, key(followUpPK(topic, opened), "JOB"))
	if err != nil || it == nil {
		return nil, err
	}
	var j FollowUpJob
	if err := unmarshal(it, &j); err != nil {
		return nil, fmt.Errorf("store: the follow-up job of %s: %w", topic, err)
	}
	return &j, nil
}

// crisesPK is the queue index partition of the crises whose follow-ups are
// done: their archive.
const crisesPK = "CRISES"

// crisisReach is how long before a period a crisis that lasted into it may
// have opened: PastCrises reads no further back.
const crisisReach = 31 * 24 * time.Hour

// PastCrises returns the archived crises (FinishFollowUps) open at some time
// of [from, to): opened before to, closed at or after from; oldest first,
// each its job record with the crisis.
func (s *Store) PastCrises(ctx context.Context, from, to time.Time) ([]FollowUpJob, error) {
	e := newExpr()
	var out []FollowUpJob
	var start map[string]types.AttributeValue
	for {
		page, err := s.Client.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(s.Table),
			IndexName: aws.String(IndexQueue),
			KeyConditionExpression: aws.String(e.name(KeyGSI1PK) + " = " + e.value(str(crisesPK)) + " AND " + e.name(KeyGSI1SK) + " BETWEEN " +
				e.value(str(sortable(from.Add(-crisisReach)))) + " AND " + e.value(str(sortable(to)))),
			ExpressionAttributeNames:  e.names,
			ExpressionAttributeValues: e.values,
			ScanIndexForward:          aws.Bool(true),
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return nil, fmt.Errorf("store: past crises: %w", err)
		}
		for _, it := range page.Items {
			job, err := s.get(ctx, key(stringAttr(it, KeyPK), "JOB"))
			if err != nil {
				return nil, fmt.Errorf("store: past crises: %w", err)
			}
			var j FollowUpJob
			if job == nil {
				continue // the index lags the table
			}
			if err := unmarshal(job, &j); err != nil {
				return nil, fmt.Errorf("store: past crises: %s: %w", stringAttr(it, KeyPK), err)
			}
			if j.Crisis == nil {
				continue
			}
			if j.Crisis.Since.Before(to) && !j.Crisis.ClosedAt.Before(from) {
				out = append(out, j)
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		start = page.LastEvaluatedKey
	}
}
