package main

import (
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"golang.org/x/oauth2"

	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/settings"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

const xUsage = `pajarito x — the brand's X account.

Usage:
  pajarito x auth [flags]   sign the brand in with OAuth 2.0 (for X Chat) and keep its tokens

auth opens X's consent page for the brand (authorization code with PKCE),
receives X's answer on --redirect, checks that the account is the brand and
that X granted every scope Pajarito needs (` + "dm.read dm.write tweet.read users.read offline.access" + `),
and keeps the tokens: in the Secrets Manager secret PAJARITO_X_SECRET_ID names
(beside the OAuth 1.0a credentials), else in --out (mode 0600).

The app's OAuth 2.0 client id comes from --client-id or X_OAUTH2_CLIENT_ID; a
confidential app's client secret from X_OAUTH2_CLIENT_SECRET (never a flag, so
that it stays out of the shell's history). Sign in to X as the brand first.
`

// xAuthEnv names the environment variables of pajarito x auth.
const (
	envOAuth2ClientID     = "X_OAUTH2_CLIENT_ID"
	envOAuth2ClientSecret = "X_OAUTH2_CLIENT_SECRET"
)

func runX(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runGroup(ctx, "x", xUsage, []subcommand{{"auth", runXAuth}}, args, stdout, stderr)
}

// xAuth is one sign-in.
type xAuth struct {
	cfg      *oauth2.Config
	brand    care.Brand
	xBase    string
	verifier string
	state    string
	stdout   io.Writer
}

func runXAuth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("x auth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	clientID := fs.String("client-id", os.Getenv(envOAuth2ClientID), "the X app's OAuth 2.0 client id (default $"+envOAuth2ClientID+")")
	redirect := fs.String("redirect", "http://127.0.0.1:8765/callback", "the callback URL registered in the app's OAuth 2.0 settings; a loopback address, where this command listens")
	out := fs.String("out", "", "keep the tokens in this file (mode 0600) instead of the secret (default, without "+settings.EnvXSecretID+": .pajarito/x-oauth2.json)")
	userID := fs.String("user-id", "", "the brand account's numeric X user id (default: brand.id of pajarito.json)")
	timeout := fs.Duration("timeout", 10*time.Minute, "how long to wait for X's answer")
	fs.Usage = func() {
		fmt.Fprint(stderr, xUsage+"\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *clientID == "" {
		return fmt.Errorf("x auth: the app's OAuth 2.0 client id is missing: pass --client-id or set %s (developer portal → your app → Keys and tokens → OAuth 2.0 Client ID)", envOAuth2ClientID)
	}
	brand, err := webhookBrand(*userID, os.Getenv)
	if err != nil {
		return fmt.Errorf("x auth: %w", err)
	}
	ln, path, err := listenRedirect(*redirect)
	if err != nil {
		return err
	}
	defer ln.Close()
	a := &xAuth{
		cfg:      xapi.OAuth2Config(*clientID, os.Getenv(envOAuth2ClientSecret), *redirect, strings.TrimSpace(os.Getenv(settings.EnvXBaseURL))),
		brand:    brand,
		xBase:    strings.TrimSpace(os.Getenv(settings.EnvXBaseURL)),
		verifier: oauth2.GenerateVerifier(),
		state:    oauth2.GenerateVerifier(),
		stdout:   stdout,
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	tok, err := a.signIn(ctx, ln, path)
	if err != nil {
		return err
	}
	return a.keep(ctx, tok, *out)
}

// listenRedirect listens on the loopback address of the redirect URL: X's
// answer carries a code that must reach this machine only.
func listenRedirect(redirect string) (net.Listener, string, error) {
	u, err := url.Parse(redirect)
	if err != nil || u.Scheme != "http" || u.Port() == "" {
		return nil, "", fmt.Errorf("x auth: --redirect %q is not an http URL with a port, such as http://127.0.0.1:8765/callback", redirect)
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, "", fmt.Errorf("x auth: --redirect %q is not a loopback address: the authorization code must reach this machine only (use 127.0.0.1 or localhost)", redirect)
	}
	ln, err := net.Listen("tcp", u.Host)
	if err != nil {
		return nil, "", fmt.Errorf("x auth: listen on %s for X's answer: %w (choose another --redirect, and register it in the app)", u.Host, err)
	}
	return ln, cmp.Or(u.Path, "/"), nil
}

// signIn shows the consent URL and waits for X's answer on ln: the code,
// exchanged for the tokens with PKCE's verifier.
func (a *xAuth) signIn(ctx context.Context, ln net.Listener, path string) (*oauth2.Token, error) {
	consent := a.cfg.AuthCodeURL(a.state, oauth2.S256ChallengeOption(a.verifier))
	fmt.Fprintf(a.stdout, "Open this address in a browser signed in to X as the brand (%s), and authorise the app:\n\n  %s\n\nWaiting for X's answer on %s …\n", brandName(a.brand), consent, a.cfg.RedirectURL)
	codes := make(chan string, 1)
	srv := &http.Server{Handler: a.callback(path, codes), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	select {
	case code := <-codes:
		tok, err := a.cfg.Exchange(ctx, code, oauth2.VerifierOption(a.verifier))
		if err != nil {
			return nil, fmt.Errorf("x auth: X did not exchange the authorization code for tokens: %w", err)
		}
		return tok, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("x auth: no answer from X on %s: %w", a.cfg.RedirectURL, ctx.Err())
	}
}

// callback receives X's redirect: a code with this sign-in's state, or X's
// error. Anything else is refused and the command goes on waiting.
func (a *xAuth) callback(path string, codes chan<- string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case r.URL.Path != path:
			http.NotFound(w, r)
		case subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(a.state)) != 1:
			http.Error(w, "This answer is not for this sign-in (its state differs): start again with pajarito x auth.", http.StatusBadRequest)
		case q.Get("error") != "":
			http.Error(w, "X answered: "+q.Get("error")+" "+q.Get("error_description"), http.StatusBadRequest)
		case q.Get("code") == "":
			http.Error(w, "X's answer has no code.", http.StatusBadRequest)
		default:
			select {
			case codes <- q.Get("code"):
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				fmt.Fprintln(w, "Pajarito received X's answer: you can close this tab and go back to the terminal.")
			default:
				http.Error(w, "An answer was already received.", http.StatusConflict)
			}
		}
	})
}

// keep checks that tok is the brand's with every scope, and keeps it: in the
// secret, or in the file out.
func (a *xAuth) keep(ctx context.Context, tok *oauth2.Token, out string) error {
	who, err := xapi.OAuth2User(ctx, nil, a.xBase, tok.AccessToken)
	if err != nil {
		return fmt.Errorf("x auth: %w", err)
	}
	if who.ID != a.brand.ID {
		return fmt.Errorf("x auth: %w: X signed in @%s (user %s), not %s; nothing was kept: sign out of X, sign in as the brand, and run pajarito x auth again",
			xapi.ErrOAuth2Wrong, who.Username, who.ID, brandName(a.brand))
	}
	kept := xapi.NewOAuth2Token(tok, a.cfg.ClientID, who.ID)
	kept.ClientSecret = a.cfg.ClientSecret // the functions refresh the token with it
	if missing := kept.MissingScopes(); len(missing) > 0 {
		return fmt.Errorf("x auth: X did not grant %s; nothing was kept: enable them for the app (developer portal → User authentication settings: Read and write and Direct message) and authorise again", strings.Join(missing, ", "))
	}
	if kept.RefreshToken == "" {
		return errors.New("x auth: X gave no refresh token (the offline.access scope): nothing was kept, since the access token lasts two hours")
	}
	if id := strings.TrimSpace(os.Getenv(settings.EnvXSecretID)); id != "" && out == "" {
		awsCfg, err := boot.AWS(ctx)
		if err != nil {
			return fmt.Errorf("x auth: %w", err)
		}
		if err := xapi.SaveOAuth2(ctx, secretsmanager.NewFromConfig(awsCfg), id, kept); err != nil {
			return fmt.Errorf("x auth: %w", err)
		}
		fmt.Fprintf(a.stdout, "Signed in as %s; the OAuth 2.0 tokens are in the secret %s (they expire at %s and are refreshed before).\n", brandName(a.brand), id, kept.Expiry.Format(time.RFC3339))
		return nil
	}
	if out == "" {
		out = filepath.Join(".pajarito", "x-oauth2.json")
	}
	if err := writePrivate(out, kept); err != nil {
		return fmt.Errorf("x auth: %w", err)
	}
	fmt.Fprintf(a.stdout, "Signed in as %s; the OAuth 2.0 tokens are in %s (mode 0600).\n", brandName(a.brand), out)
	return nil
}

// writePrivate writes v as JSON to path, readable by its owner only, replacing
// the file at once (a temporary file renamed).
func writePrivate(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".x-oauth2-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func brandName(b care.Brand) string {
	if b.Handle != "" {
		return "@" + b.Handle
	}
	return "user " + b.ID
}
