package xfake

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/xapi"
)

// OAuth 2.0 (authorization code with PKCE, as X runs it): the authorize page
// consents at once as the authenticated user (SetMe) and redirects with a code;
// the token endpoint exchanges codes and refresh tokens. Refresh tokens rotate:
// each works once, as on X, so that two refreshers with the same token lock
// one of them out.
const (
	// OAuth2AuthorizePath and OAuth2TokenPath are X's paths (on x.com and
	// api.x.com); the fake serves both on its one URL.
	OAuth2AuthorizePath = "/i/oauth2/authorize"
	OAuth2TokenPath     = "/2/oauth2/token"
	// OAuth2TokenLifetime is how long the fake's access tokens live, as X's.
	OAuth2TokenLifetime = 2 * time.Hour
)

// oauth2State is the fake's OAuth 2.0 server.
type oauth2State struct {
	codes    map[string]oauth2Grant // authorization code → grant
	refresh  map[string]oauth2Grant // live refresh tokens
	access   map[string]time.Time   // access token → expiry
	refreshN int                    // refresh grants answered
}

// oauth2Grant is what a code or a refresh token stands for.
type oauth2Grant struct {
	clientID, redirect, challenge, scope, user string
}

// OAuth2Refreshes returns how many refresh grants the fake has answered.
func (s *Server) OAuth2Refreshes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.oa.refreshN
}

// IssueOAuth2 issues an OAuth 2.0 access token acting for userID, with
// Pajarito's scopes (xapi.OAuth2Scopes) and a refresh token, as a sign-in
// would: for tests that need a user-context token without the authorization
// flow.
func (s *Server) IssueOAuth2(userID string) (accessToken, refreshToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.issueLocked(oauth2Grant{clientID: "xfake", scope: strings.Join(xapi.OAuth2Scopes, " "), user: userID})
	return out["access_token"].(string), out["refresh_token"].(string)
}

// serveOAuth2 answers the OAuth 2.0 routes; false when r is not one.
func (s *Server) serveOAuth2(w http.ResponseWriter, r *http.Request) bool {
	switch {
	case r.URL.Path == OAuth2AuthorizePath && r.Method == http.MethodGet:
		s.authorize(w, r)
	case r.URL.Path == OAuth2TokenPath && r.Method == http.MethodPost:
		s.token(w, r)
	default:
		return false
	}
	return true
}

// authorize consents as the authenticated user and redirects to redirect_uri
// with a code, or answers 400 to a request X would refuse.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	switch {
	case q.Get("response_type") != "code":
		http.Error(w, "response_type must be code", http.StatusBadRequest)
		return
	case q.Get("client_id") == "":
		http.Error(w, "client_id is missing", http.StatusBadRequest)
		return
	case err != nil || redirect.Scheme == "" || redirect.Host == "":
		http.Error(w, "redirect_uri is not an absolute URL", http.StatusBadRequest)
		return
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		http.Error(w, "PKCE: code_challenge with code_challenge_method S256 is required", http.StatusBadRequest)
		return
	case q.Get("state") == "":
		http.Error(w, "state is missing", http.StatusBadRequest)
		return
	}
	code := randomToken()
	s.mu.Lock()
	if s.oa.codes == nil {
		s.oa.codes = map[string]oauth2Grant{}
	}
	s.oa.codes[code] = oauth2Grant{clientID: q.Get("client_id"), redirect: redirect.String(),
		challenge: q.Get("code_challenge"), scope: q.Get("scope"), user: s.me}
	s.mu.Unlock()
	back := redirect.Query()
	back.Set("code", code)
	back.Set("state", q.Get("state"))
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// token answers the token endpoint: authorization_code (with PKCE's
// verifier) and refresh_token, X's JSON and its errors.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauth2Error(w, "invalid_request", "the body is not a form")
		return
	}
	clientID := r.PostForm.Get("client_id")
	if id, _, ok := r.BasicAuth(); ok {
		clientID = id
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var g oauth2Grant
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		var ok bool
		g, ok = s.oa.codes[r.PostForm.Get("code")]
		delete(s.oa.codes, r.PostForm.Get("code")) // a code works once
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		challenge := base64.RawURLEncoding.EncodeToString(sum[:])
		if !ok || g.clientID != clientID || g.redirect != r.PostForm.Get("redirect_uri") ||
			subtle.ConstantTimeCompare([]byte(challenge), []byte(g.challenge)) != 1 {
			oauth2Error(w, "invalid_request", "Value passed for the authorization code was invalid.")
			return
		}
	case "refresh_token":
		var ok bool
		g, ok = s.oa.refresh[r.PostForm.Get("refresh_token")]
		delete(s.oa.refresh, r.PostForm.Get("refresh_token")) // rotation
		if !ok || g.clientID != clientID {
			oauth2Error(w, "invalid_request", "Value passed for the token was invalid.")
			return
		}
		s.oa.refreshN++
	default:
		oauth2Error(w, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
		return
	}
	writeJSON(w, http.StatusOK, s.issueLocked(g))
}

// issueLocked issues an access token (and, with offline.access, a refresh
// token) for g.
func (s *Server) issueLocked(g oauth2Grant) map[string]any {
	access := g.user + "-oa2-" + randomToken() // authorOf reads the user from it
	if s.oa.access == nil {
		s.oa.access = map[string]time.Time{}
	}
	s.oa.access[access] = s.now().Add(OAuth2TokenLifetime)
	out := map[string]any{"token_type": "bearer", "expires_in": int(OAuth2TokenLifetime.Seconds()),
		"access_token": access, "scope": g.scope}
	if strings.Contains(" "+g.scope+" ", " offline.access ") {
		refresh := randomToken()
		if s.oa.refresh == nil {
			s.oa.refresh = map[string]oauth2Grant{}
		}
		s.oa.refresh[refresh] = g
		out["refresh_token"] = refresh
	}
	return out
}

// oauth2UserLocked reports whether token is a live access token the fake
// issued: a user-context token.
func (s *Server) oauth2UserLocked(token string) bool {
	exp, ok := s.oa.access[token]
	return ok && s.now().Before(exp)
}

func oauth2Error(w http.ResponseWriter, code, description string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"error": code, "error_description": description})
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
