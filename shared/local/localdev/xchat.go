package localdev

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"golang.org/x/oauth2"

	"github.com/pajarito-care/pajarito/shared/local/localseal"
	"github.com/pajarito-care/pajarito/shared/local/xfake"
	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xchat"
	"github.com/pajarito-care/pajarito/shared/xchatopen"
)

// xchatKeysFile keeps the brand's X Chat keys in the data folder (mode 0600),
// with the fields pajarito xchat setup keeps in the secret.
const xchatKeysFile = "xchat-keys.json"

// xchatParts are the brand's X Chat parts in the local system.
type xchatParts struct {
	opener *xchatopen.Opener
	sender *xchatopen.Sender
}

// setUpXChat sets the brand up in X Chat on the fake X API, as pajarito x
// auth and pajarito xchat setup do on X: its keys (the sample ones of the
// seed events' xfake.SampleKeysFile when they are the brand's, so that the
// sample X Chat conversations open, else new ones; kept in the data folder)
// registered with the fake, with the samples' participants and key changes, an OAuth 2.0 token the fake issued, kept fresh by an
// xapi.OAuth2Keeper under the table's lease, and conversation keys sealed
// by package localseal (its key file in the data folder, or in a folder of
// this run's). The same xchatopen.New as in AWS makes the Opener and the
// Sender of them.
func (s *System) setUpXChat(ctx context.Context, o Options) (*xchatParts, error) {
	brand := o.Config.Brand.ID
	dir := o.DataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "pajarito-xchat-")
		if err != nil {
			return nil, fmt.Errorf("localdev: X Chat: %w", err)
		}
		s.cleanup = append(s.cleanup, func() { os.RemoveAll(tmp) })
		dir = tmp
	}
	samples, err := xfake.ReadSampleKeys(o.SeedEvents)
	if err != nil {
		return nil, fmt.Errorf("localdev: X Chat: %w", err)
	}
	if samples != nil && samples.Brand.UserID != brand {
		samples = nil // the samples are another brand's
	}
	fields, err := s.xchatKeys(filepath.Join(dir, xchatKeysFile), brand, samples)
	if err != nil {
		return nil, fmt.Errorf("localdev: X Chat keys: %w", err)
	}
	if samples != nil {
		// The sample conversations' participants and key changes, as if they
		// had written through the fake: the brand can answer them.
		if _, err := s.XFake.SeedChat(o.SeedEvents); err != nil {
			return nil, fmt.Errorf("localdev: X Chat: %w", err)
		}
	}
	sealer, err := localseal.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("localdev: X Chat: %w", err)
	}
	secret := &memorySecret{}
	access, refresh := s.XFake.IssueOAuth2(brand)
	tok := xapi.NewOAuth2Token(&oauth2.Token{AccessToken: access, RefreshToken: refresh, TokenType: "bearer",
		Expiry: s.clock().Add(xfake.OAuth2TokenLifetime)}, "xfake", brand)
	if err := xapi.SaveOAuth2(ctx, secret, "local", tok); err != nil {
		return nil, fmt.Errorf("localdev: X Chat: %w", err)
	}
	keeper := &xapi.OAuth2Keeper{BaseURL: s.XAPI, Secrets: secret, SecretID: "local", Lease: s.Store, Now: s.clock, Log: s.log}
	opener, sender, err := xchatopen.New(xchatopen.Config{
		Fields: fields, BrandID: brand, Items: s.Store, Sealer: sealer, SealerID: sealer.String(),
		Token: keeper.AccessToken, BaseURL: s.XAPI, Now: s.clock,
	})
	if err != nil {
		return nil, fmt.Errorf("localdev: X Chat: %w", err)
	}
	return &xchatParts{opener: opener, sender: sender}, nil
}

// xchatKeys reads the brand's X Chat keys from path, or takes the sample
// ones (so that the sample conversations open), or makes them, keeping them
// there; it registers their public keys with the fake X API.
func (s *System) xchatKeys(path, brand string, samples *xfake.SampleKeys) (map[string]string, error) {
	fields := map[string]string{}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist) && samples != nil:
		fields[xapi.SecretXChatPrivateKeys], fields[xapi.SecretXChatKeyVersion] = samples.Brand.PrivateKeys, samples.Brand.KeyVersion
		out, _ := json.Marshal(fields)
		if err := os.WriteFile(path, out, 0o600); err != nil {
			return nil, err
		}
	case errors.Is(err, os.ErrNotExist):
		id, err := xchat.GenerateIdentity()
		if err != nil {
			return nil, err
		}
		blob := id.Export()
		defer clear(blob)
		fields[xapi.SecretXChatPrivateKeys] = base64.StdEncoding.EncodeToString(blob)
		fields[xapi.SecretXChatKeyVersion] = strconv.FormatInt(s.clock().UnixMilli(), 10)
		out, _ := json.Marshal(fields)
		if err := os.WriteFile(path, out, 0o600); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal(b, &fields); err != nil {
			return nil, fmt.Errorf("%s is not the JSON object of X Chat keys Pajarito writes: move it aside to make new keys", path)
		}
	}
	id, err := xchat.ParseIdentityBase64(fields[xapi.SecretXChatPrivateKeys])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	reg, err := id.Registration()
	if err != nil {
		return nil, err
	}
	s.XFake.AddPublicKeys(xfake.PublicKey{UserID: brand, Version: fields[xapi.SecretXChatKeyVersion],
		PublicKey: reg.PublicKey, SigningPublicKey: reg.SigningPublicKey, IdentityPublicKeySignature: reg.IdentityPublicKeySignature,
		SigningPublicKeySignature: reg.SigningPublicKeySignature, PublicKeyFingerprint: reg.PublicKeyFingerprint, RegistrationMethod: reg.RegistrationMethod})
	return fields, nil
}

// memorySecret stands in for the Secrets Manager secret that holds the brand's
// OAuth 2.0 token in AWS: one secret, in memory (the fake X API issues a new
// token each run).
type memorySecret struct {
	mu    sync.Mutex
	value string
}

func (m *memorySecret) GetSecretValue(_ context.Context, _ *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(m.value), CreatedDate: aws.Time(time.Now())}, nil
}

func (m *memorySecret) PutSecretValue(_ context.Context, in *secretsmanager.PutSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.value = aws.ToString(in.SecretString)
	return &secretsmanager.PutSecretValueOutput{}, nil
}
