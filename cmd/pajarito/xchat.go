package main

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/settings"
	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xchat"
)

const xchatUsage = `pajarito xchat — the brand's X Chat keys (encrypted DMs).

Usage:
  pajarito xchat setup [flags]   make the brand's X Chat keys, register them with X, keep the private keys

setup generates the brand's two P-256 key pairs (identity and signing),
registers their public halves with X as the brand (with the OAuth 2.0 token of
pajarito x auth) and keeps the private keys: in the Secrets Manager secret
PAJARITO_X_SECRET_ID names (keys xchat_private_keys, base64, and
xchat_key_version, beside the other credentials), else in --out (mode 0600).
It prints the key version and the identity key's fingerprint, never the
private keys: whoever holds them can read every X Chat message to the brand.

It refuses when X already holds keys for the brand, unless --rotate: new keys
under a new version. Messages encrypted to the old keys stay readable only
with them, so the old private keys are kept under their version
(xchat_private_keys_<version>).
`

// Fields setup keeps beside xapi's SecretXChat* keys.
const (
	// xchatPendingKeys holds new private keys until X has registered them, so
	// that keys X registered are never lost: a setup cut short after X's
	// answer is finished by the next one.
	xchatPendingKeys = "xchat_pending_private_keys"
	xchatUserID      = "xchat_user_id"
	xchatFingerprint = "xchat_fingerprint"
)

// errXChatKeysExist is wrapped by setup's refusal to replace keys X holds.
var errXChatKeysExist = errors.New("X already holds X Chat keys for the brand")

// xchatSecrets returns the Secrets Manager client; tests replace it.
var xchatSecrets = func(ctx context.Context) (xapi.SecretsReadWriter, error) {
	awsCfg, err := boot.AWS(ctx)
	if err != nil {
		return nil, err
	}
	return secretsmanager.NewFromConfig(awsCfg), nil
}

func runXChat(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runGroup(ctx, "xchat", xchatUsage, []subcommand{{"setup", runXChatSetup}}, args, stdout, stderr)
}

// xchatSetup is one run of pajarito xchat setup.
type xchatSetup struct {
	brand  care.Brand
	token  xapi.OAuth2Token
	xBase  string
	store  keyStore
	rotate bool
	stdout io.Writer
}

func runXChatSetup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("xchat setup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	userID := fs.String("user-id", "", "the brand account's numeric X user id (default: brand.id of pajarito.json)")
	out := fs.String("out", "", "keep the private keys in this file (mode 0600) instead of the secret (default, without "+settings.EnvXSecretID+": .pajarito/xchat-keys.json)")
	oauth2File := fs.String("oauth2", "", "read the brand's OAuth 2.0 token from this file, written by pajarito x auth --out (default, without "+settings.EnvXSecretID+": .pajarito/x-oauth2.json)")
	rotate := fs.Bool("rotate", false, "replace the keys X holds for the brand with new ones, under a new version (the old private keys are kept)")
	fs.Usage = func() {
		fmt.Fprint(stderr, xchatUsage+"\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	brand, err := webhookBrand(*userID, os.Getenv)
	if err != nil {
		return fmt.Errorf("xchat setup: %w", err)
	}
	s := &xchatSetup{brand: brand, xBase: strings.TrimSpace(os.Getenv(settings.EnvXBaseURL)), rotate: *rotate, stdout: stdout}
	secretID := strings.TrimSpace(os.Getenv(settings.EnvXSecretID))
	var sm xapi.SecretsReadWriter
	if secretID != "" && (*out == "" || *oauth2File == "") {
		if sm, err = xchatSecrets(ctx); err != nil {
			return fmt.Errorf("xchat setup: %w", err)
		}
	}
	if s.token, err = setupToken(ctx, sm, secretID, *oauth2File); err != nil {
		return fmt.Errorf("xchat setup: %w", err)
	}
	if s.token.UserID != "" && s.token.UserID != brand.ID {
		return fmt.Errorf("xchat setup: %w: the OAuth 2.0 token acts for user %s, not %s: sign in as the brand with pajarito x auth", xapi.ErrOAuth2Wrong, s.token.UserID, brandName(brand))
	}
	s.store = fileStore{path: cmp.Or(*out, filepath.Join(".pajarito", "xchat-keys.json"))}
	if secretID != "" && *out == "" {
		s.store = secretStore{sm: sm, id: secretID}
	}
	return s.run(ctx)
}

// setupToken reads the brand's OAuth 2.0 token: from file when given, else
// from the secret when there is one, else from pajarito x auth's default
// file. It does not refresh the token: the deployed functions do, under
// their lease, and a second refresher could lock them out (X's refresh
// tokens work once).
func setupToken(ctx context.Context, sm xapi.SecretsReadWriter, secretID, file string) (xapi.OAuth2Token, error) {
	var tok xapi.OAuth2Token
	where := "the file " + file
	if file == "" && sm != nil {
		where = "the secret " + secretID
		out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID)})
		if err != nil {
			return tok, fmt.Errorf("read the OAuth 2.0 token from secret %s: %w", secretID, err)
		}
		if json.Unmarshal([]byte(aws.ToString(out.SecretString)), &tok) != nil {
			return tok, fmt.Errorf("secret %s is not a JSON object: put the X credentials in it first (README: Put the X credentials in the secret)", secretID)
		}
	} else {
		if file == "" {
			file = filepath.Join(".pajarito", "x-oauth2.json")
			where = "the file " + file
		}
		b, err := os.ReadFile(file)
		if errors.Is(err, os.ErrNotExist) {
			return tok, fmt.Errorf("no OAuth 2.0 token in %s: %w (or pass --oauth2 with the file it wrote)", where, xapi.ErrOAuth2NotSignedIn)
		}
		if err != nil || json.Unmarshal(b, &tok) != nil {
			return tok, fmt.Errorf("%s does not hold an OAuth 2.0 token as pajarito x auth writes it: sign in again with pajarito x auth", where)
		}
	}
	if tok.AccessToken == "" {
		return tok, fmt.Errorf("no OAuth 2.0 token in %s: %w", where, xapi.ErrOAuth2NotSignedIn)
	}
	if time.Until(tok.Expiry) < 2*time.Minute {
		return tok, fmt.Errorf("the OAuth 2.0 token in %s expired at %s: sign the brand in again with pajarito x auth (this command does not refresh it; the deployed functions do when they run)",
			where, tok.Expiry.Format(time.RFC3339))
	}
	return tok, nil
}

// run registers new keys, or finishes an earlier setup, or refuses.
func (s *xchatSetup) run(ctx context.Context) error {
	held, err := s.store.load(ctx)
	if err != nil {
		return fmt.Errorf("xchat setup: %w", err)
	}
	listed, err := xapi.PublicKeys(ctx, nil, s.xBase, s.token.AccessToken, s.brand.ID)
	registered := signingKeys(listed)
	if err != nil {
		return fmt.Errorf("xchat setup: read the brand's keys at X: %w", err)
	}
	if done, err := s.resume(ctx, held, registered); done || err != nil {
		return err
	}
	if len(registered) > 0 && !s.rotate {
		return s.refuse(held, registered)
	}
	id, err := xchat.GenerateIdentity()
	if err != nil {
		return fmt.Errorf("xchat setup: %w", err)
	}
	blob := id.Export()
	defer clear(blob)
	private := base64.StdEncoding.EncodeToString(blob)
	if err := s.store.save(ctx, map[string]any{xchatPendingKeys: private}); err != nil {
		return fmt.Errorf("xchat setup: keep the new private keys before registering them: %w (nothing was registered)", err)
	}
	reg, err := id.Registration()
	if err != nil {
		return fmt.Errorf("xchat setup: %w", err)
	}
	version, err := xapi.RegisterPublicKeys(ctx, nil, s.xBase, s.token.AccessToken, s.brand.ID, xapi.KeyRegistration(reg))
	if err != nil {
		return fmt.Errorf("xchat setup: X did not register the new keys: %w (run pajarito xchat setup again; if X did register them, it finishes the setup)", err)
	}
	if listed := findKey(s.listed(ctx), id.Fingerprint()); listed != nil {
		version = listed.Version
	}
	return s.keep(ctx, held, private, version, id.Fingerprint(), "Registered new X Chat keys")
}

// resume finishes a setup cut short after X registered its keys: the pending
// private keys are X's current ones. done reports whether it did.
func (s *xchatSetup) resume(ctx context.Context, held map[string]string, registered []xchat.SigningKey) (done bool, err error) {
	pending := held[xchatPendingKeys]
	if pending == "" {
		return false, nil
	}
	id, err := xchat.ParseIdentityBase64(pending)
	if err != nil {
		return false, nil // unusable and never registered: the new keys replace them
	}
	k := findKey(registered, id.Fingerprint())
	if k == nil {
		return false, nil // never registered: the new keys replace them
	}
	return true, s.keep(ctx, held, pending, k.Version, id.Fingerprint(), "Finished an earlier setup, whose keys X had registered")
}

// listed returns the brand's keys at X, or none when X does not answer.
func (s *xchatSetup) listed(ctx context.Context) []xchat.SigningKey {
	listed, err := xapi.PublicKeys(ctx, nil, s.xBase, s.token.AccessToken, s.brand.ID)
	keys := signingKeys(listed)
	if err != nil {
		fmt.Fprintf(s.stdout, "(X registered the keys but did not list them: %v)\n", err)
	}
	return keys
}

// findKey returns the key among keys whose identity key has fingerprint fp.
func findKey(keys []xchat.SigningKey, fp string) *xchat.SigningKey {
	for i, k := range keys {
		if got, err := xchat.PublicKeyFingerprint(k.IdentityPublicKey); err == nil && got == fp {
			return &keys[i]
		}
	}
	return nil
}

// keep makes private, registered under version, the brand's current keys; the
// keys it replaces are kept under their version.
func (s *xchatSetup) keep(ctx context.Context, held map[string]string, private, version, fp, what string) error {
	set := map[string]any{
		xapi.SecretXChatPrivateKeys: private, xapi.SecretXChatKeyVersion: version,
		xchatUserID: s.brand.ID, xchatFingerprint: fp, xchatPendingKeys: nil,
	}
	old, oldVersion := held[xapi.SecretXChatPrivateKeys], cmp.Or(held[xapi.SecretXChatKeyVersion], "unregistered")
	if old != "" && old != private {
		set[xapi.SecretXChatPreviousKeysPrefix+oldVersion] = old
	}
	if err := s.store.save(ctx, set); err != nil {
		return fmt.Errorf("xchat setup: X registered the keys (version %s) but keeping them failed: %w (run pajarito xchat setup again: it finishes the setup)", version, err)
	}
	fmt.Fprintf(s.stdout, "%s for %s: version %s.\n", what, brandName(s.brand), version)
	fmt.Fprintf(s.stdout, "Fingerprint of the identity key: %s\n(X serves this key to whoever writes to the brand: compare fingerprints out of band to check that it is this one.)\n", fp)
	fmt.Fprintf(s.stdout, "The private keys are in %s, as %s with %s. Whoever holds them can read every X Chat message to the brand.\n",
		s.store, xapi.SecretXChatPrivateKeys, xapi.SecretXChatKeyVersion)
	if old != "" && old != private {
		fmt.Fprintf(s.stdout, "The previous keys (version %s) stay in %s%s: messages encrypted to them are readable only with them.\n",
			oldVersion, xapi.SecretXChatPreviousKeysPrefix, oldVersion)
	}
	return nil
}

// refuse explains why setup does not replace the keys X holds.
func (s *xchatSetup) refuse(held map[string]string, registered []xchat.SigningKey) error {
	latest := slices.MaxFunc(registered, func(a, b xchat.SigningKey) int {
		na, _ := strconv.ParseInt(a.Version, 10, 64)
		nb, _ := strconv.ParseInt(b.Version, 10, 64)
		return cmp.Compare(na, nb)
	})
	fp, _ := xchat.PublicKeyFingerprint(latest.IdentityPublicKey)
	if held[xapi.SecretXChatKeyVersion] == latest.Version && held[xchatFingerprint] == fp {
		return fmt.Errorf("xchat setup: %w: they are set up already (version %s, fingerprint %s, private keys in %s); to replace them, run it again with --rotate",
			errXChatKeysExist, latest.Version, fp, s.store)
	}
	return fmt.Errorf("xchat setup: %w (version %s, fingerprint %s) whose private keys are not in %s (made in X's app, or kept elsewhere); "+
		"Pajarito cannot read messages encrypted to them. Point --out or %s at where they are, or run it again with --rotate to register new keys "+
		"(messages encrypted to the old ones stay readable only where their private keys are)",
		errXChatKeysExist, latest.Version, fp, s.store, settings.EnvXSecretID)
}

// A keyStore keeps the brand's X Chat private keys: the secret, or a file.
type keyStore interface {
	load(ctx context.Context) (map[string]string, error)
	// save sets the fields of set, keeping the others; nil removes a field.
	save(ctx context.Context, set map[string]any) error
	String() string
}

// secretStore is the Secrets Manager secret of the X credentials.
type secretStore struct {
	sm xapi.SecretsReadWriter
	id string
}

func (s secretStore) String() string { return "the secret " + s.id }

func (s secretStore) load(ctx context.Context) (map[string]string, error) {
	return xapi.XChatFields(ctx, s.sm, s.id)
}

func (s secretStore) save(ctx context.Context, set map[string]any) error {
	return xapi.MergeSecret(ctx, s.sm, s.id, set)
}

// fileStore is a JSON file readable by its owner only, with the secret's keys.
type fileStore struct{ path string }

func (f fileStore) String() string { return f.path + " (mode 0600)" }

func (f fileStore) load(context.Context) (map[string]string, error) {
	held := map[string]string{}
	b, err := os.ReadFile(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return held, nil
	}
	if err != nil {
		return nil, err
	}
	if json.Unmarshal(b, &held) != nil {
		return nil, fmt.Errorf("%s is not the JSON object of X Chat keys this command writes: move it aside, or pass another --out", f.path)
	}
	return held, nil
}

func (f fileStore) save(ctx context.Context, set map[string]any) error {
	held, err := f.load(ctx)
	if err != nil {
		return err
	}
	for k, v := range set {
		if v == nil {
			delete(held, k)
		} else {
			held[k] = fmt.Sprint(v)
		}
	}
	return writePrivate(f.path, held)
}

// signingKeys are the keys X lists, as package xchat reads them.
func signingKeys(listed []xapi.RegisteredKey) []xchat.SigningKey {
	keys := make([]xchat.SigningKey, len(listed))
	for i, k := range listed {
		keys[i] = xchat.SigningKey(k)
	}
	return keys
}
