package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pajarito-care/pajarito/shared/care"
)

// Crisis detection's items (see package protocol): per topic, counters of related
// complaints per minute and per hour, added to with single-item ADD writes (no
// condition: concurrent processors add up), read back with one Query of a range of
// buckets; and per topic a state item, opened and closed with conditional writes
// so that of concurrent writers exactly one opens (or closes) a crisis.

// Retention of the crisis counters (TTL): minute buckets serve the sliding window
// (at most an hour), hour buckets the baseline (at most a week).
const (
	CrisisMinuteRetention = 48 * time.Hour
	CrisisHourRetention   = 8 * 24 * time.Hour
)

const (
	crisisStatePK   = "CRISIS"
	crisisMinuteFmt = "2006-01-02T15:04"
	crisisHourFmt   = "2006-01-02T15"
)

func crisisCounterPK(topic string) string { return "CRISIS#" + topic }

func crisisStateKey(topic string) map[string]types.AttributeValue {
	return key(crisisStatePK, "TOPIC#"+topic)
}

// AddCrisisCount adds n to the topic's counters of the minute and the hour of at:
// two single-item ADD writes.
func (s *Store) AddCrisisCount(ctx context.Context, topic string, at time.Time, n int64) error {
	at = at.UTC()
	for _, b := range []struct {
		sk     string
		start  time.Time
		retain time.Duration
	}{
		{"M#" + at.Format(crisisMinuteFmt), at.Truncate(time.Minute), CrisisMinuteRetention},
		{"H#" + at.Format(crisisHourFmt), at.Truncate(time.Hour), CrisisHourRetention},
	} {
		e := newExpr()
		e.set("topic", str(topic))
		e.set(TTLAttribute, num(b.start.Add(b.retain).Unix()))
		e.add("count", n)
		var mt meter
		if _, err := s.update(ctx, &mt, e.input(key(crisisCounterPK(topic), b.sk), ""), nil, false); err != nil {
			return fmt.Errorf("store: add crisis count of %s at %s: %w", topic, b.sk, err)
		}
	}
	return nil
}

// CrisisMinuteCount sums the topic's minute counters of the minutes starting in
// [from, to) (one Query).
func (s *Store) CrisisMinuteCount(ctx context.Context, topic string, from, to time.Time) (int64, error) {
	from, to = ceilTo(from.UTC(), time.Minute), ceilTo(to.UTC(), time.Minute)
	if !to.After(from) {
		return 0, nil
	}
	return s.sumCounters(ctx, topic, "M#"+from.Format(crisisMinuteFmt), "M#"+to.Add(-time.Minute).Format(crisisMinuteFmt))
}

// CrisisHourCount sums the topic's hour counters of the hours starting in
// [from, to) (one Query).
func (s *Store) CrisisHourCount(ctx context.Context, topic string, from, to time.Time) (int64, error) {
	from, to = ceilTo(from.UTC(), time.Hour), ceilTo(to.UTC(), time.Hour)
	if !to.After(from) {
		return 0, nil
	}
	return s.sumCounters(ctx, topic, "H#"+from.Format(crisisHourFmt), "H#"+to.Add(-time.Hour).Format(crisisHourFmt))
}

// ceilTo rounds t up to a multiple of d.
func ceilTo(t time.Time, d time.Duration) time.Time {
	if tr := t.Truncate(d); !tr.Equal(t) {
		return tr.Add(d)
	}
	return t
}

func (s *Store) sumCounters(ctx context.Context, topic, first, last string) (int64, error) {
	var total int64
	var start map[string]types.AttributeValue
	for {
		out, err := s.Client.Query(ctx, &dynamodb.QueryInput{
			TableName:              aws.String(s.Table),
			KeyConditionExpression: aws.String("#pk = :pk AND #sk BETWEEN :a AND :b"),
			ExpressionAttributeNames: map[string]string{
				"#pk": KeyPK, "#sk": KeySK, "#count": "count",
			},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(crisisCounterPK(topic)), ":a": str(first), ":b": str(last),
			},
			ProjectionExpression: aws.String("#count"),
			ConsistentRead:       aws.Bool(true),
			ExclusiveStartKey:    start,
		})
		if err != nil {
			return 0, fmt.Errorf("store: crisis counts of %s: %w", topic, err)
		}
		for _, it := range out.Items {
			if v, ok := it["count"].(*types.AttributeValueMemberN); ok {
				n, err := strconv.ParseInt(v.Value, 10, 64)
				if err != nil {
					return 0, fmt.Errorf("store: crisis counts of %s: %w", topic, err)
				}
				total += n
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return total, nil
		}
		start = out.LastEvaluatedKey
	}
}

// ListCrises returns the state of every topic that has one (one Query).
func (s *Store) ListCrises(ctx context.Context) ([]care.CrisisState, error) {
	var out []care.CrisisState
	err := s.queryPartition(ctx, crisisStatePK, true, func(it map[string]types.AttributeValue) (bool, error) {
		var st care.CrisisState
		if err := unmarshal(it, &st); err != nil {
			return false, fmt.Errorf("decode %s: %w", stringAttr(it, KeySK), err)
		}
		out = append(out, st)
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: list crises: %w", err)
	}
	return out, nil
}

// GetCrisis returns a topic's state; a zero state (not active) when it has none.
func (s *Store) GetCrisis(ctx context.Context, topic string) (care.CrisisState, error) {
	item, err := s.get(ctx, crisisStateKey(topic))
	if err != nil {
		return care.CrisisState{}, fmt.Errorf("store: get crisis %s: %w", topic, err)
	}
	st := care.CrisisState{Topic: topic}
	if item == nil {
		return st, nil
	}
	if err := unmarshal(item, &st); err != nil {
		return st, fmt.Errorf("store: get crisis %s: decode: %w", topic, err)
	}
	return st, nil
}

// OpenCrisis stores st (which must be Active) as its topic's state on condition
// that the topic is not in crisis: of concurrent openers exactly one gets true. An
// automatic opening (st.Manual false) also waits for the state's quiet_until; a
// manual one also replaces an automatic crisis (making it manual). A closed
// crisis it replaces is kept in st's Previous (its follow-ups may still be
// due), on condition that the state is still the one read.
func (s *Store) OpenCrisis(ctx context.Context, st care.CrisisState) (bool, error) {
	if !st.Active || st.Topic == "" {
		return false, fmt.Errorf("store: open crisis %q: the state must be active and name its topic", st.Topic)
	}
	old, err := s.GetCrisis(ctx, st.Topic)
	if err != nil {
		return false, fmt.Errorf("store: open crisis %s: %w", st.Topic, err)
	}
	st.Previous = previousOf(old, st.Since)
	item, err := marshal(st)
	if err != nil {
		return false, fmt.Errorf("store: open crisis %s: %w", st.Topic, err)
	}
	dropZeroTimes(item)
	for k, v := range crisisStateKey(st.Topic) {
		item[k] = v
	}
	item["since_key"] = str(sortable(st.Since))
	e := newExpr()
	notActive := "attribute_not_exists(" + e.name(KeyPK) + ") OR " + e.name("active") + " = " + e.value(&types.AttributeValueMemberBOOL{Value: false})
	var cond string
	if st.Manual {
		cond = notActive + " OR " + e.name("manual") + " = " + e.value(&types.AttributeValueMemberBOOL{Value: false})
	} else {
		q := e.name("quiet_key")
		cond = "(" + notActive + ") AND (attribute_not_exists(" + q + ") OR " + q + " <= " + e.value(str(sortable(st.Since))) + ")"
	}
	if !old.Since.IsZero() {
		// What was read is what is replaced, its earlier crises with it.
		cond = "(" + cond + ") AND " + e.name("since_key") + " = " + e.value(str(sortable(old.Since)))
	}
	var mt meter
	ok, err := s.put(ctx, &mt, &dynamodb.PutItemInput{
		Item:                      item,
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  e.names,
		ExpressionAttributeValues: e.values,
	}, false)
	if err != nil {
		return false, fmt.Errorf("store: open crisis %s: %w", st.Topic, err)
	}
	return ok, nil
}

// maxPrevious bounds a crisis state's Previous.
const maxPrevious = 10

// previousOf returns the earlier crises a crisis opening at since keeps: old,
// when it is closed, then its own earlier ones, those closed within
// care.PreviousKept, at most maxPrevious.
func previousOf(old care.CrisisState, since time.Time) []care.CrisisState {
	if old.Active || old.Since.IsZero() {
		return old.Previous
	}
	var out []care.CrisisState
	prev := old
	prev.Previous = nil
	for _, c := range append([]care.CrisisState{prev}, old.Previous...) {
		if len(out) < maxPrevious && since.Sub(c.ClosedAt) <= care.PreviousKept {
			out = append(out, c)
		}
	}
	return out
}

// ClaimCrisisReply takes one of the max automatic crisis replies of the topic's
// window starting at windowStart: an ADD on the window's reply counter on condition
// that it is below max, so that concurrent claims never take more than max.
func (s *Store) ClaimCrisisReply(ctx context.Context, topic string, windowStart time.Time, max int) (bool, error) {
	windowStart = windowStart.UTC()
	e := newExpr()
	e.set("topic", str(topic))
	e.set(TTLAttribute, num(windowStart.Add(CrisisMinuteRetention).Unix()))
	e.add("replies", 1)
	r := e.name("replies")
	cond := "attribute_not_exists(" + r + ") OR " + r + " < " + e.value(num(int64(max)))
	var mt meter
	after, err := s.update(ctx, &mt, e.input(key(crisisCounterPK(topic), "R#"+windowStart.Format(crisisMinuteFmt)), cond), nil, false)
	if err != nil {
		return false, fmt.Errorf("store: claim a crisis reply of %s: %w", topic, err)
	}
	return after != nil, nil
}

// CloseCrisis closes topic's crisis: it sets active false and, from closed, the
// closing time, who closed it, the reason and quiet_until, on condition that the
// crisis is active, that it opened at since (unless since is zero) and, for an
// automatic close (manual false), that it is not manual. Of concurrent closers
// exactly one gets true.
func (s *Store) CloseCrisis(ctx context.Context, topic string, since time.Time, manual bool, closed care.CrisisState) (bool, error) {
	e := newExpr()
	e.set("active", &types.AttributeValueMemberBOOL{Value: false})
	e.set("manual", &types.AttributeValueMemberBOOL{Value: false})
	at := closed.ClosedAt
	if at.IsZero() {
		at = s.now()
	}
	e.set("closed_at", str(stamp(at)))
	e.set("closed_by", str(closed.ClosedBy))
	e.set("reason", str(closed.Reason))
	e.set("updated_at", str(stamp(s.now())))
	if !closed.QuietUntil.IsZero() {
		e.set("quiet_until", str(stamp(closed.QuietUntil)))
		e.set("quiet_key", str(sortable(closed.QuietUntil)))
	} else {
		e.remove("quiet_until")
		e.remove("quiet_key")
	}
	cond := "attribute_exists(" + e.name(KeyPK) + ") AND " + e.name("active") + " = " + e.value(&types.AttributeValueMemberBOOL{Value: true})
	if !manual {
		cond += " AND " + e.name("manual") + " = " + e.value(&types.AttributeValueMemberBOOL{Value: false})
	}
	if !since.IsZero() {
		cond += " AND " + e.name("since_key") + " = " + e.value(str(sortable(since)))
	}
	var mt meter
	after, err := s.update(ctx, &mt, e.input(crisisStateKey(topic), cond), nil, false)
	if err != nil {
		return false, fmt.Errorf("store: close crisis %s: %w", topic, err)
	}
	return after != nil, nil
}

// SetCrisisStatement records post xid, sent at at, as the latest post out of
// the public statement of topic's crisis opened at since: on condition that
// the crisis is still that one and that no later post is recorded, so that
// a redelivery or a late writer never moves it back. It reports whether it
// recorded it.
func (s *Store) SetCrisisStatement(ctx context.Context, topic string, since time.Time, xid string, at time.Time) (bool, error) {
	// Posts of one millisecond are told apart by their ids (snowflakes grow).
	order := sortable(at) + "|" + fmt.Sprintf("%020s", xid)
	e := newExpr()
	e.set("statement_id", str(xid))
	e.set("statement_at", str(stamp(at)))
	e.set("statement_key", str(order))
	k := e.name("statement_key")
	cond := "attribute_exists(" + e.name(KeyPK) + ") AND " + e.name("since_key") + " = " + e.value(str(sortable(since))) +
		" AND (attribute_not_exists(" + k + ") OR " + k + " < " + e.value(str(order)) + ")"
	var mt meter
	after, err := s.update(ctx, &mt, e.input(crisisStateKey(topic), cond), nil, false)
	if err != nil {
		return false, fmt.Errorf("store: record the statement of crisis %s: %w", topic, err)
	}
	return after != nil, nil
}
