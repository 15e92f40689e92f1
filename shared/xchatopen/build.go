package xchatopen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/settings"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

// Config is what the brand's X Chat parts are made of, in AWS and in the
// local system alike (New).
type Config struct {
	// Fields are the X Chat fields of the secret (or of the local file) that
	// pajarito xchat setup wrote (xapi.XChatFields).
	Fields map[string]string
	// BrandID is the brand's user id.
	BrandID string
	// Items keep the sealed conversation keys (*store.Store); Sealer seals
	// them (KMS, or package localseal), SealerID names it in the items.
	Items    KeyItems
	Sealer   Sealer
	SealerID string
	// Token returns the brand's OAuth 2.0 access token (an
	// xapi.OAuth2Keeper's): X Chat's routes take no other.
	Token func(context.Context) (string, error)
	// HTTP and BaseURL reach X (nil: http.DefaultClient; "": X).
	HTTP    *http.Client
	BaseURL string
	// Now is the clock; nil is the wall's.
	Now func() time.Time
}

// New returns the brand's X Chat Opener (for the process function) and
// Sender (for the reply function), or nil and nil, without error, when the
// fields hold no X Chat keys: X Chat messages then stay unread, and are
// answered in X's app. Errors name the field or setting at fault, never a
// key.
func New(c Config) (*Opener, *Sender, error) {
	ids, err := Identities(c.Fields, c.BrandID)
	if err != nil || len(ids) == 0 {
		return nil, nil, err
	}
	current := ids[c.Fields[xapi.SecretXChatKeyVersion]]
	if current == nil {
		return nil, nil, fmt.Errorf("xchatopen: %s is missing: run pajarito xchat setup again to finish the setup", xapi.SecretXChatPrivateKeys)
	}
	switch {
	case c.Items == nil || c.Sealer == nil:
		return nil, nil, errors.New("xchatopen: the conversation keys need a table and a sealer")
	case c.Token == nil:
		return nil, nil, errors.New("xchatopen: X Chat needs the brand's OAuth 2.0 token (run pajarito x auth)")
	}
	keys := &SealedKeys{Items: c.Items, Sealer: c.Sealer, SealerID: c.SealerID, Now: c.Now}
	o := &Opener{Identities: ids, Keys: keys, Signers: XSigners(c.HTTP, c.BaseURL, c.Token), Now: c.Now}
	s := &Sender{Identity: current, Keys: keys, Token: c.Token, HTTP: c.HTTP, BaseURL: c.BaseURL, Now: c.Now}
	return o, s, nil
}

// Store is what the X Chat parts keep in the table: the sealed conversation
// keys, and the lease under which one process refreshes the OAuth 2.0 token
// (*store.Store implements it).
type Store interface {
	KeyItems
	xapi.OAuth2Lease
}

// FromEnv returns the Keyring of a function in AWS: it loads, when first
// needed, the X Chat fields of the secret PAJARITO_X_SECRET_ID names, and
// makes New's Opener and Sender of them, conversation keys sealed with the KMS
// key of PAJARITO_XCHAT_KMS_KEY_ID in st, the OAuth 2.0 token kept fresh in
// the same secret under st's lease. nil without that secret.
func FromEnv(getenv func(string) string, awsCfg aws.Config, brandID string, st Store, log *slog.Logger) *Keyring {
	secretID := strings.TrimSpace(getenv(settings.EnvXSecretID))
	if secretID == "" {
		return nil
	}
	load := func(ctx context.Context) (*Opener, *Sender, error) {
		fields, err := xapi.XChatFields(ctx, secretsmanager.NewFromConfig(awsCfg), secretID)
		if err != nil {
			return nil, nil, err
		}
		if fields[xapi.SecretXChatPrivateKeys] == "" {
			return nil, nil, nil
		}
		keyID := strings.TrimSpace(getenv(settings.EnvXChatKey))
		if keyID == "" {
			return nil, nil, fmt.Errorf("the secret holds X Chat keys but %s is not set: it names the KMS key that seals conversation keys (the stack sets it; redeploy with cdk deploy)", settings.EnvXChatKey)
		}
		keeper := xapi.OAuth2KeeperFromEnv(getenv, awsCfg, st, log)
		sealer := &KMS{Client: kms.NewFromConfig(awsCfg), KeyID: keyID}
		return New(Config{
			Fields: fields, BrandID: brandID, Items: st, Sealer: sealer, SealerID: sealer.String(),
			Token: keeper.AccessToken, BaseURL: strings.TrimSpace(getenv(settings.EnvXBaseURL)),
		})
	}
	return &Keyring{Load: load, Log: log}
}

// Keyring holds the brand's X Chat Opener and Sender, loaded (Load) when
// first needed rather than when the function starts: a secret that cannot be
// read, or X Chat keys that are wrong, fail the X Chat messages and replies
// that need them, retried, not the function and every other message. After a
// failure it loads again at the next need, at most once a minute (RetryAfter).
// It implements intake.Opener and sender.ChatWriter.
type Keyring struct {
	// Load makes the Opener and Sender; nil and nil when the brand holds no X
	// Chat keys.
	Load func(ctx context.Context) (*Opener, *Sender, error)
	// RetryAfter is a minute when 0.
	RetryAfter time.Duration
	Now        func() time.Time
	Log        *slog.Logger

	mu     sync.Mutex
	loaded bool
	opener *Opener
	sender *Sender
	err    error
	at     time.Time
}

// parts loads the Opener and Sender once.
func (k *Keyring) parts(ctx context.Context) (*Opener, *Sender, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := time.Now
	if k.Now != nil {
		now = k.Now
	}
	wait := k.RetryAfter
	if wait <= 0 {
		wait = time.Minute
	}
	switch {
	case k.loaded:
		return k.opener, k.sender, nil
	case k.err != nil && now().Sub(k.at) < wait:
		return nil, nil, k.err
	}
	o, s, err := k.Load(ctx)
	k.at = now()
	if err != nil {
		k.err = fmt.Errorf("xchatopen: the brand's X Chat keys: %w", err)
		if k.Log != nil {
			k.Log.ErrorContext(ctx, "X Chat: the brand's keys could not be loaded; X Chat messages and replies wait", "error", k.err.Error())
		}
		return nil, nil, k.err
	}
	k.loaded, k.opener, k.sender, k.err = true, o, s, nil
	return o, s, nil
}

// Open opens env's X Chat message with the loaded Opener; without X Chat keys
// it leaves it unread. A failure to load is an error: the record is retried.
func (k *Keyring) Open(ctx context.Context, env *care.Envelope) error {
	o, _, err := k.parts(ctx)
	if err != nil || o == nil {
		return err
	}
	return o.Open(ctx, env)
}

// SendChat sends with the loaded Sender. Without X Chat keys the reply cannot
// go (xapi.ErrUnsendable); a failure to load wraps xapi.ErrNotSent, retried.
func (k *Keyring) SendChat(ctx context.Context, recipientID, messageID, text string) (*xapi.Sent, error) {
	_, s, err := k.parts(ctx)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: %w", xapi.ErrNotSent, err)
	case s == nil:
		return nil, fmt.Errorf("xchatopen: %w: the customer wrote in X Chat and the brand holds no X Chat keys: set them up (pajarito xchat setup) or answer in X's app", xapi.ErrUnsendable)
	}
	return s.SendChat(ctx, recipientID, messageID, text)
}
