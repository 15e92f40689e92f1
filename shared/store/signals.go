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

// Daily signals: what the processor received but could not handle, counted per
// UTC day so that nothing a customer sends vanishes quietly (the monitor alerts
// on them, pajarito doctor reports them).
//
//	item    PK                SK                   attributes
//	signal  SIGNAL#<signal>   <yyyy-mm-dd>#<key>   signal, key, day, count (ADD),
//	                                               alerted_at, expires_at
//
// One item per signal, key and day. AddSignal adds to its count with a
// single-item ADD, without condition, so that concurrent processors add up; a
// redelivered record may be counted twice (a signal is a count to act on, not
// billing). ClaimSignalAlert sets alerted_at on condition that the item counts
// something and has no alerted_at yet, so that of concurrent monitor runs
// exactly one alerts on a day's signal; ReleaseSignalAlert takes the claim back
// when the alert could not be sent. Signals reads a range of days with one
// Query. Items expire SignalRetention after their day.

// Signals and their keys.
const (
	// SignalIgnoredEvent counts X events of a type Pajarito does not handle,
	// keyed by the event type (care.Ignored.EventType).
	SignalIgnoredEvent = "ignored_event"
	// SignalUnreadChat counts the inbound X Chat messages Pajarito could not
	// read (care.Message.Encrypted), under SignalKeyAll.
	SignalUnreadChat = "unread_xchat"
	// SignalKeyAll is the key of a signal counted as a whole.
	SignalKeyAll = "all"
)

// SignalRetention is how long a day's signal is kept after the day starts.
const SignalRetention = 35 * 24 * time.Hour

// Signal is one day's count of a signal and key.
type Signal struct {
	Signal, Key string
	// Day is the UTC day, at midnight.
	Day   time.Time
	Count int64
	// AlertedAt is when the day's alert was claimed; zero when none was.
	AlertedAt time.Time
}

func signalPK(signal string) string { return "SIGNAL#" + signal }

func signalKey(signal, k string, day time.Time) map[string]types.AttributeValue {
	return key(signalPK(signal), day.UTC().Format(dayFormat)+"#"+k)
}

func checkSignal(signal, key string) error {
	if signal == "" || key == "" {
		return errors.New("a signal and a key are required")
	}
	return nil
}

// AddSignal counts one occurrence of signal under key on the UTC day of at: one
// ADD update, without condition.
func (s *Store) AddSignal(ctx context.Context, signal, key string, at time.Time) error {
	if err := checkSignal(signal, key); err != nil {
		return fmt.Errorf("store: add signal %q %q: %w", signal, key, err)
	}
	day := at.UTC().Truncate(24 * time.Hour)
	e := newExpr()
	e.set("signal", str(signal))
	e.set("key", str(key))
	e.set("day", str(day.Format(dayFormat)))
	e.set(TTLAttribute, num(day.Add(SignalRetention).Unix()))
	e.add("count", 1)
	var mt meter
	if _, err := s.update(ctx, &mt, e.input(signalKey(signal, key, day), ""), nil, false); err != nil {
		return fmt.Errorf("store: add signal %s %s on %s: %w", signal, key, day.Format(dayFormat), err)
	}
	return nil
}

// ClaimSignalAlert claims the alert on the day's count of signal and key: it
// sets alerted_at to now on condition that the item counts something and has
// no alerted_at. Of concurrent claims exactly one gets true; with nothing
// counted, none does.
func (s *Store) ClaimSignalAlert(ctx context.Context, signal, key string, day, now time.Time) (bool, error) {
	if err := checkSignal(signal, key); err != nil {
		return false, fmt.Errorf("store: claim the alert of signal %q %q: %w", signal, key, err)
	}
	e := newExpr()
	e.set("alerted_at", str(stamp(now)))
	cond := "attribute_exists(" + e.name(KeyPK) + ") AND " + e.name("count") + " > " + e.value(num(0)) +
		" AND attribute_not_exists(" + e.name("alerted_at") + ")"
	var mt meter
	after, err := s.update(ctx, &mt, e.input(signalKey(signal, key, day), cond), nil, false)
	if err != nil {
		return false, fmt.Errorf("store: claim the alert of signal %s %s on %s: %w", signal, key, day.UTC().Format(dayFormat), err)
	}
	return after != nil, nil
}

// ReleaseSignalAlert takes back the claim ClaimSignalAlert made at now (when
// the alert could not be sent), so that a later claim wins again. It reports
// false when the day's alerted_at is not that claim's.
func (s *Store) ReleaseSignalAlert(ctx context.Context, signal, key string, day, now time.Time) (bool, error) {
	if err := checkSignal(signal, key); err != nil {
		return false, fmt.Errorf("store: release the alert of signal %q %q: %w", signal, key, err)
	}
	e := newExpr()
	e.remove("alerted_at")
	cond := e.name("alerted_at") + " = " + e.value(str(stamp(now)))
	var mt meter
	after, err := s.update(ctx, &mt, e.input(signalKey(signal, key, day), cond), nil, false)
	if err != nil {
		return false, fmt.Errorf("store: release the alert of signal %s %s on %s: %w", signal, key, day.UTC().Format(dayFormat), err)
	}
	return after != nil, nil
}

// signalItem is a signal item's attributes as stored.
type signalItem struct {
	Signal    string `json:"signal"`
	Key       string `json:"key"`
	Day       string `json:"day"`
	Count     int64  `json:"count"`
	AlertedAt string `json:"alerted_at"`
}

// Signals returns the counts of signal on the UTC days from from's to to's,
// both included, by day then key (one Query, strongly consistent).
func (s *Store) Signals(ctx context.Context, signal string, from, to time.Time) ([]Signal, error) {
	first, last := from.UTC().Format(dayFormat), to.UTC().Format(dayFormat)
	if first > last {
		return nil, nil
	}
	var out []Signal
	var start map[string]types.AttributeValue
	for {
		page, err := s.Client.Query(ctx, &dynamodb.QueryInput{
			TableName:                aws.String(s.Table),
			KeyConditionExpression:   aws.String("#pk = :pk AND #sk BETWEEN :a AND :b"),
			ExpressionAttributeNames: map[string]string{"#pk": KeyPK, "#sk": KeySK},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				// "$" sorts right after "#": every key of the last day is in.
				":pk": str(signalPK(signal)), ":a": str(first + "#"), ":b": str(last + "$"),
			},
			ConsistentRead:    aws.Bool(true),
			ExclusiveStartKey: start,
		})
		if err != nil {
			return nil, fmt.Errorf("store: signals %s from %s to %s: %w", signal, first, last, err)
		}
		for _, it := range page.Items {
			sg, err := decodeSignal(it)
			if err != nil {
				return nil, fmt.Errorf("store: signals %s from %s to %s: %w", signal, first, last, err)
			}
			out = append(out, sg)
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		start = page.LastEvaluatedKey
	}
}

func decodeSignal(it map[string]types.AttributeValue) (Signal, error) {
	var si signalItem
	if err := unmarshal(it, &si); err != nil {
		return Signal{}, fmt.Errorf("decode %s: %w", stringAttr(it, KeySK), err)
	}
	sg := Signal{Signal: si.Signal, Key: si.Key, Count: si.Count}
	day, err := time.Parse(dayFormat, si.Day)
	if err != nil {
		return Signal{}, fmt.Errorf("decode %s: day: %w", stringAttr(it, KeySK), err)
	}
	sg.Day = day
	if si.AlertedAt != "" {
		if sg.AlertedAt, err = time.Parse(time.RFC3339Nano, si.AlertedAt); err != nil {
			return Signal{}, fmt.Errorf("decode %s: alerted_at: %w", stringAttr(it, KeySK), err)
		}
	}
	return sg, nil
}
