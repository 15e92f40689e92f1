package xchatopen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

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

// FromEnv returns New's Opener and Sender for a function in AWS: the X Chat
// fields of the secret PAJARITO_X_SECRET_ID names, conversation keys sealed
// with the KMS key of PAJARITO_XCHAT_KMS_KEY_ID in st, and the OAuth 2.0
// token kept fresh in the same secret under st's lease. nil and nil without
// that secret or without X Chat keys in it.
func FromEnv(ctx context.Context, getenv func(string) string, awsCfg aws.Config, brandID string, st Store, log *slog.Logger) (*Opener, *Sender, error) {
	secretID := strings.TrimSpace(getenv(settings.EnvXSecretID))
	if secretID == "" {
		return nil, nil, nil
	}
	fields, err := xapi.XChatFields(ctx, secretsmanager.NewFromConfig(awsCfg), secretID)
	if err != nil {
		return nil, nil, fmt.Errorf("xchatopen: the brand's X Chat keys: %w", err)
	}
	if fields[xapi.SecretXChatPrivateKeys] == "" {
		return nil, nil, nil
	}
	keyID := strings.TrimSpace(getenv(settings.EnvXChatKey))
	if keyID == "" {
		return nil, nil, fmt.Errorf("xchatopen: the secret holds X Chat keys but %s is not set: it names the KMS key that seals conversation keys (the stack sets it; redeploy with cdk deploy)", settings.EnvXChatKey)
	}
	keeper := xapi.OAuth2KeeperFromEnv(getenv, awsCfg, st, log)
	sealer := &KMS{Client: kms.NewFromConfig(awsCfg), KeyID: keyID}
	return New(Config{
		Fields: fields, BrandID: brandID, Items: st, Sealer: sealer, SealerID: sealer.String(),
		Token: keeper.AccessToken, BaseURL: strings.TrimSpace(getenv(settings.EnvXBaseURL)),
	})
}
