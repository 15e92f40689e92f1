package console_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/console"
)

// provider is an OpenID Connect provider for one public client, as Cognito's
// managed login is to the console: discovery, an authorize endpoint that signs
// the agent in at once, and a token endpoint that checks PKCE and refreshes.
// Access tokens last expiresIn; revoke makes every token and refresh fail.
type provider struct {
	*httptest.Server
	clientID, redirect string
	expiresIn          int

	mu        sync.Mutex
	codes     map[string]string    // code → PKCE challenge
	access    map[string]time.Time // access token → expiry
	refreshes int
	revoked   bool
	n         int
}

func newProvider(t *testing.T, clientID string) *provider {
	p := &provider{clientID: clientID, expiresIn: 3600, codes: map[string]string{}, access: map[string]time.Time{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"issuer": p.URL, "authorization_endpoint": p.URL + "/oauth2/authorize", "token_endpoint": p.URL + "/oauth2/token",
		})
	})
	mux.HandleFunc("GET /oauth2/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != p.clientID || q.Get("response_type") != "code" || q.Get("redirect_uri") != p.redirect ||
			q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" || !strings.Contains(q.Get("scope"), "openid") {
			http.Error(w, "bad authorize request: "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		p.n++
		code := fmt.Sprintf("code-%d", p.n)
		p.codes[code] = q.Get("code_challenge")
		p.mu.Unlock()
		http.Redirect(w, r, p.redirect+"?code="+code+"&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	mux.HandleFunc("POST /oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if err := r.ParseForm(); err != nil || r.Form.Get("client_id") != p.clientID {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		switch r.Form.Get("grant_type") {
		case "authorization_code":
			challenge, ok := p.codes[r.Form.Get("code")]
			delete(p.codes, r.Form.Get("code"))
			sum := sha256.Sum256([]byte(r.Form.Get("code_verifier")))
			if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != challenge || r.Form.Get("redirect_uri") != p.redirect {
				http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
				return
			}
		case "refresh_token":
			if p.revoked || r.Form.Get("refresh_token") != "refresh-1" {
				http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
				return
			}
			p.refreshes++
		default:
			http.Error(w, `{"error":"unsupported_grant_type"}`, http.StatusBadRequest)
			return
		}
		p.n++
		tok := fmt.Sprintf("access-%d", p.n)
		p.access[tok] = time.Now().Add(time.Duration(p.expiresIn) * time.Second)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "refresh_token": "refresh-1", "id_token": "id-" + tok, "expires_in": p.expiresIn, "token_type": "Bearer"})
	})
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Close)
	return p
}

// valid reports whether an access token is one the provider issued and still good.
func (p *provider) valid(tok string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	exp, ok := p.access[tok]
	return ok && !p.revoked && time.Now().Before(exp)
}

// TestConsoleSignInWithIssuer signs in as in AWS: the console sends the agent to
// the identity provider (authorization code with PKCE), comes back with the
// code out of the address bar, calls the API with the access token, refreshes
// it before it expires, and when the session ends for good keeps the reply
// being written through a new sign-in.
func TestConsoleSignInWithIssuer(t *testing.T) {
	sys, _, token := system(t)
	waitCases(t, sys, care.Pending, 7)
	idp := newProvider(t, "console-client")

	// The stack's front door: the console with the issuer's settings, and the
	// API behind a JWT check (API Gateway's authorizer), here the provider's
	// own tokens, passed on as the local system's token.
	con, err := console.New(console.Config{Issuer: idp.URL, ClientID: "console-client"})
	if err != nil {
		t.Fatal(err)
	}
	backend, _ := url.Parse(sys.URL)
	proxy := httputil.NewSingleHostReverseProxy(backend)
	proxy.ErrorLog = log.New(io.Discard, "", 0) // requests the browser gives up on a navigation
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !idp.valid(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"Unauthorized"}`))
			return
		}
		r.Header.Set("Authorization", "Bearer "+token)
		proxy.ServeHTTP(w, r)
	})
	front := httptest.NewServer(boot.Routes(nil, api, con, console.Prefix, boot.Clock{}))
	t.Cleanup(front.Close)
	idp.redirect = front.URL + "/console/"

	ctx := browser(t)
	do(t, ctx, "sign in with the issuer",
		chromedp.Navigate(front.URL+"/console/#/queue/pending"),
		until(`document.getElementById('signin') !== null`),
		click(`#signin`),
		until(`document.querySelectorAll('li.case').length >= 7`))
	if loc := eval[string](t, ctx, `location.href`); strings.Contains(loc, "code=") || strings.Contains(loc, "state=") || !strings.HasSuffix(loc, "#/queue/pending") {
		t.Errorf("after sign-in the address is %s; want the code gone and the view asked for", loc)
	}
	if tok := eval[string](t, ctx, `sessionStorage.getItem('pajarito.token')`); !idp.valid(tok) {
		t.Errorf("the console holds %q, not the provider's access token", tok)
	}

	// Tokens that expire within a minute are refreshed at once; the console
	// carries on with the new one.
	idp.mu.Lock()
	idp.expiresIn = 30
	idp.mu.Unlock()
	do(t, ctx, "refresh", js(`sessionStorage.setItem('pajarito.session', JSON.stringify({refresh_token: 'refresh-1', expires_at: Date.now() + 30000}))`),
		chromedp.Navigate(front.URL+"/console/#/queue/open"), chromedp.Reload(),
		until(`document.querySelector('.views button.on') !== null`))
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		idp.mu.Lock()
		n := idp.refreshes
		idp.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the console did not refresh a token about to expire")
		}
	}

	// The session ends (the provider refuses the tokens) while the agent writes:
	// the console asks to sign in again and the reply survives it.
	const draft = "Hola, ya lo estamos mirando."
	cases := waitCases(t, sys, care.Pending, 7)
	do(t, ctx, "write",
		chromedp.Navigate(front.URL+"/console/#/case/"+cases[0].ID),
		until(`document.getElementById('reply-text') !== null`))
	idp.mu.Lock()
	idp.revoked = true
	idp.mu.Unlock()
	do(t, ctx, "session ends", typeInto(`#reply-text`, draft), until(`document.querySelector('.signin .warn') !== null`))
	idp.mu.Lock()
	idp.revoked = false
	idp.mu.Unlock()
	do(t, ctx, "sign in again", click(`#signin`),
		until(`document.getElementById('reply-text') !== null && document.getElementById('reply-text').value !== ''`))
	if kept := eval[string](t, ctx, `document.getElementById('reply-text').value`); kept != draft {
		t.Errorf("after signing in again the reply reads %q, want %q", kept, draft)
	}
	if loc := eval[string](t, ctx, `location.hash`); loc != "#/case/"+cases[0].ID {
		t.Errorf("after signing in again the console shows %s, want the case", loc)
	}
}
