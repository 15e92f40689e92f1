package xchatopen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xchat"
)

// Signers returns the signing keys a user registered with X. Its errors are
// transient (retried) unless they wrap ErrNoSigner.
type Signers func(ctx context.Context, userID string) ([]xchat.SigningKey, error)

// ErrNoSigner is wrapped by a Signers error that retrying will not mend: the
// user's keys cannot be had (X refuses, the brand is not signed in).
var ErrNoSigner = errors.New("the sender's signing keys cannot be had")

// XSigners returns Signers that read a user's keys at X (GET
// /2/users/{id}/public_keys) with the brand's OAuth 2.0 token (token, from an
// xapi.OAuth2Keeper), through hc (nil: http.DefaultClient); baseURL "" is X.
// X's refusals, and a brand not signed in, wrap ErrNoSigner; X unreachable
// or rate-limited does not.
func XSigners(hc *http.Client, baseURL string, token func(context.Context) (string, error)) Signers {
	return func(ctx context.Context, userID string) ([]xchat.SigningKey, error) {
		tok, err := token(ctx)
		switch {
		case errors.Is(err, xapi.ErrOAuth2NotSignedIn) || errors.Is(err, xapi.ErrOAuth2Refresh):
			return nil, fmt.Errorf("%w: %w", ErrNoSigner, err)
		case err != nil:
			return nil, err
		}
		listed, err := xapi.PublicKeys(ctx, hc, baseURL, tok, userID)
		switch {
		case err != nil && !xapi.IsRetryable(err) && ctx.Err() == nil:
			return nil, fmt.Errorf("%w: %w", ErrNoSigner, err)
		case err != nil:
			return nil, err
		}
		keys := make([]xchat.SigningKey, len(listed))
		for i, k := range listed {
			keys[i] = xchat.SigningKey(k)
		}
		return keys, nil
	}
}

// DefaultSignerTTL is how long a user's signing keys are cached.
const DefaultSignerTTL = 5 * time.Minute

// signerCache caches each user's checked signing keys.
type signerCache struct {
	mu    sync.Mutex
	users map[string]cachedSigners
}

type cachedSigners struct {
	set *xchat.SigningKeySet
	at  time.Time
}

// signers returns userID's keys, from the cache when fetched less than the
// TTL ago and fresh is false; cached reports whether they came from it. Keys
// whose binding does not verify are left out.
func (o *Opener) signers(ctx context.Context, userID string, fresh bool) (set *xchat.SigningKeySet, cached bool, err error) {
	ttl := o.SignerTTL
	if ttl <= 0 {
		ttl = DefaultSignerTTL
	}
	now := o.now()
	o.cache.mu.Lock()
	c, ok := o.cache.users[userID]
	o.cache.mu.Unlock()
	if ok && !fresh && now.Sub(c.at) < ttl {
		return c.set, true, nil
	}
	if o.Signers == nil {
		return nil, false, fmt.Errorf("%w: the opener has no Signers", ErrNoSigner)
	}
	keys, err := o.Signers(ctx, userID)
	if err != nil {
		return nil, false, fmt.Errorf("xchatopen: signing keys of user %s: %w", userID, err)
	}
	set = &xchat.SigningKeySet{}
	for _, k := range keys {
		k.UserID = userID
		_ = set.Add(k) // a key that does not sign its identity key is no key
	}
	o.cache.mu.Lock()
	if o.cache.users == nil {
		o.cache.users = map[string]cachedSigners{}
	}
	o.cache.users[userID] = cachedSigners{set: set, at: now}
	o.cache.mu.Unlock()
	return set, false, nil
}
