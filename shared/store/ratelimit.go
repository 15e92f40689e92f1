package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Backoff is a rate-limit backoff of one X endpoint: after a 429 (or a page that
// left no requests), no run calls the endpoint before Until, X's reset time.
type Backoff struct {
	// Endpoint names the rate-limited endpoint, e.g. "mentions" or "search".
	Endpoint string
	// Until is when the endpoint may be called again; zero when no backoff is
	// recorded.
	Until time.Time
	// Limit and Remaining are X's x-rate-limit-limit and -remaining, when known.
	Limit     int
	Remaining int
	// Reason says what caused it ("429", "no requests left").
	Reason    string
	UpdatedAt time.Time
}

// Active reports whether the backoff forbids calling the endpoint at now.
func (b *Backoff) Active(now time.Time) bool { return b != nil && now.Before(b.Until) }

// SetBackoff records a backoff of b.Endpoint until b.Until. It never shortens a
// backoff already recorded (a conditional write on until, compared as sortable
// time strings): two runs that hit the limit keep the later reset.
func (s *Store) SetBackoff(ctx context.Context, b Backoff) error {
	item := key("RATELIMIT#"+b.Endpoint, "BACKOFF")
	item["endpoint"] = str(b.Endpoint)
	item["until"] = str(sortable(b.Until))
	item["limit"] = num(int64(b.Limit))
	item["remaining"] = num(int64(b.Remaining))
	item["reason"] = str(b.Reason)
	item["updated_at"] = str(stamp(s.now()))
	e := newExpr()
	cond := fmt.Sprintf("attribute_not_exists(%s) OR %s < %s", e.name(KeyPK), e.name("until"), e.value(str(sortable(b.Until))))
	var mt meter
	if _, err := s.put(ctx, &mt, &dynamodb.PutItemInput{
		Item:                      item,
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  e.names,
		ExpressionAttributeValues: e.values,
	}, false); err != nil {
		return fmt.Errorf("store: set backoff of %s: %w", b.Endpoint, err)
	}
	return nil // a rejected write means a later backoff is recorded
}

// GetBackoff returns the endpoint's backoff; one with a zero Until when none is
// recorded.
func (s *Store) GetBackoff(ctx context.Context, endpoint string) (*Backoff, error) {
	item, err := s.get(ctx, key("RATELIMIT#"+endpoint, "BACKOFF"))
	if err != nil {
		return nil, fmt.Errorf("store: get backoff of %s: %w", endpoint, err)
	}
	b := &Backoff{Endpoint: endpoint}
	if item == nil {
		return b, nil
	}
	var rec struct {
		Limit     int       `json:"limit"`
		Remaining int       `json:"remaining"`
		Reason    string    `json:"reason"`
		UpdatedAt time.Time `json:"updated_at"`
	}
	if err := unmarshal(item, &rec); err != nil {
		return nil, fmt.Errorf("store: get backoff of %s: decode: %w", endpoint, err)
	}
	until, err := time.Parse(sortableTime, stringAttr(item, "until"))
	if err != nil {
		return nil, fmt.Errorf("store: get backoff of %s: decode until: %w", endpoint, err)
	}
	b.Until, b.Limit, b.Remaining, b.Reason, b.UpdatedAt = until, rec.Limit, rec.Remaining, rec.Reason, rec.UpdatedAt
	return b, nil
}
