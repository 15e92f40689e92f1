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

// AuthState is the state of Pajarito's authorisation on an X account.
type AuthState string

const (
	// AuthActive: Pajarito may act for the account.
	AuthActive AuthState = "active"
	// AuthRevoked: the user revoked Pajarito's access; it must be authorised again.
	AuthRevoked AuthState = "revoked"
)

// Account is the authorisation state of an X account (the brand's).
type Account struct {
	UserID string    `json:"user_id"`
	Auth   AuthState `json:"auth"`
	// ChangedAt is when the state changed on X's side; older events do not
	// overwrite newer ones.
	ChangedAt time.Time `json:"changed_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func accountKey(userID string) map[string]types.AttributeValue {
	return key("ACCOUNT#"+userID, "AUTH")
}

// SetRevoked records that the user revoked Pajarito's access to the account.
func (s *Store) SetRevoked(ctx context.Context, r care.Revocation) error {
	if err := s.setAuth(ctx, r.UserID, AuthRevoked, r.RevokedAt); err != nil {
		return fmt.Errorf("store: record revocation for user %s: %w", r.UserID, err)
	}
	return nil
}

// SetAuthorized records that the account authorised Pajarito at at.
func (s *Store) SetAuthorized(ctx context.Context, userID string, at time.Time) error {
	if err := s.setAuth(ctx, userID, AuthActive, at); err != nil {
		return fmt.Errorf("store: record authorisation for user %s: %w", userID, err)
	}
	return nil
}

func (s *Store) setAuth(ctx context.Context, userID string, st AuthState, at time.Time) error {
	if !care.IsID(userID) {
		return fmt.Errorf("user id %q is not a decimal X id", userID)
	}
	now := s.now()
	if at.IsZero() {
		at = now
	}
	item, err := marshal(Account{UserID: userID, Auth: st, UpdatedAt: now})
	if err != nil {
		return err
	}
	for k, v := range accountKey(userID) {
		item[k] = v
	}
	item["changed_at"] = str(sortable(at)) // sortable, for the condition
	var mt meter
	e := newExpr()
	cond := fmt.Sprintf("attribute_not_exists(%s) OR %s <= %s", KeyPK, e.name("changed_at"), e.value(str(sortable(at))))
	_, err = s.put(ctx, &mt, &dynamodb.PutItemInput{
		Item:                      item,
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  e.names,
		ExpressionAttributeValues: e.values,
	}, false)
	return err // a rejected write means a newer state is recorded
}

// GetAccount returns the authorisation state of an account; an error wrapping
// ErrNotFound when none is recorded.
func (s *Store) GetAccount(ctx context.Context, userID string) (*Account, error) {
	item, err := s.get(ctx, accountKey(userID))
	if err != nil {
		return nil, fmt.Errorf("store: get account %s: %w", userID, err)
	}
	if item == nil {
		return nil, fmt.Errorf("store: get account %s: %w", userID, ErrNotFound)
	}
	var a Account
	if err := unmarshal(item, &a); err != nil {
		return nil, fmt.Errorf("store: get account %s: decode: %w", userID, err)
	}
	return &a, nil
}
