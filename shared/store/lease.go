package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Leases: a task that one process at a time may do, such as refreshing the
// brand's OAuth 2.0 token (X's refresh tokens work once: two refreshers at
// once would lock the brand out).
//
//	item   PK             SK      attributes
//	lease  LEASE#<name>   LEASE   name, holder, until (sortable), claimed_at,
//	                              expires_at
//
// TakeLease sets the holder on condition that there is none, or that its
// lease has ended, or that it is the same holder: of concurrent claimers
// exactly one wins, and a holder that dies loses the lease when it ends.
// ReleaseLease removes the holder on condition that it is still the caller.

func leaseKey(name string) map[string]types.AttributeValue {
	return key("LEASE#"+name, "LEASE")
}

// TakeLease makes holder the holder of the lease name until until, if no one
// else holds it at now; it reports whether holder holds it (one conditional
// write).
func (s *Store) TakeLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error) {
	if name == "" || holder == "" || !until.After(now) {
		return false, fmt.Errorf("store: claim lease %q: a name, a holder and an end after now are required", name)
	}
	e := newExpr()
	e.set("name", str(name))
	e.set("holder", str(holder))
	e.set("until", str(sortable(until)))
	e.set("claimed_at", str(stamp(now)))
	e.set(TTLAttribute, num(until.Add(24*time.Hour).Unix()))
	h, u := e.name("holder"), e.name("until")
	cond := "attribute_not_exists(" + h + ") OR " + u + " < " + e.value(str(sortable(now))) + " OR " + h + " = " + e.value(str(holder))
	var mt meter
	after, err := s.update(ctx, &mt, e.input(leaseKey(name), cond), nil, false)
	if err != nil {
		return false, fmt.Errorf("store: claim lease %s: %w", name, err)
	}
	return after != nil, nil
}

// ReleaseLease ends holder's lease name at once; it reports whether holder
// still held it.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) (bool, error) {
	e := newExpr()
	e.remove("holder")
	e.remove("until")
	cond := e.name("holder") + " = " + e.value(str(holder))
	var mt meter
	after, err := s.update(ctx, &mt, e.input(leaseKey(name), cond), nil, false)
	if err != nil {
		return false, fmt.Errorf("store: release lease %s: %w", name, err)
	}
	return after != nil, nil
}
