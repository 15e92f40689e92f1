package xfake

// X Chat's key registry: POST and GET /2/users/{id}/public_keys, as documented
// on docs.x.com ("Add public key", "Get user public keys", 2026-08), OAuth 2.0
// user context only (tokens issued by the fake's OAuth 2.0 server).
//
// POST registers the keys of the authenticated user (the path id must be its
// own) after checking them as X would: both keys P-256, the signing key's
// signature over the identity key and, when given, the identity key's over
// the signing key and the fingerprint (xchat.Registration.Verify). With
// generate_version the fake assigns the version: the time in milliseconds,
// above every version the user holds; else the body's version, which must be
// new. It answers 200 {"data":{"version"}}. GET lists a user's keys, oldest
// first: {"data":[{public_key, signing_public_key,
// identity_public_key_signature, public_key_version}]} (public_key.fields
// narrows them), and {"data":[]} for a user without keys.
//
// Not documented, so chosen here (assumptions to revisit): the rate limits (15
// registrations and 300 reads per 15 minutes per user), the status of a
// registration (200), the answer to a duplicate version (400), that reading
// another user's keys is allowed (it is how one encrypts to them), and the
// empty list of a user without keys.

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xchat"
)

func init() {
	limits[xapi.EndpointAddPublicKey] = struct{ user, app int }{user: 15}
	limits[xapi.EndpointPublicKeys] = struct{ user, app int }{user: 300}
}

// PublicKey is an X Chat key registration the fake holds.
type PublicKey struct {
	UserID  string `json:"user_id"`
	Version string `json:"version"`
	// The registration as X's add-public-key route took it.
	PublicKey                  string    `json:"public_key"`
	SigningPublicKey           string    `json:"signing_public_key"`
	IdentityPublicKeySignature string    `json:"identity_public_key_signature"`
	SigningPublicKeySignature  string    `json:"signing_public_key_signature,omitempty"`
	PublicKeyFingerprint       string    `json:"public_key_fingerprint,omitempty"`
	RegistrationMethod         string    `json:"registration_method,omitempty"`
	CreatedAt                  time.Time `json:"created_at"`
}

// publicKeyFields are the fields of GET's public_key.fields.
var publicKeyFields = splitSet("identity_public_key_signature,juicebox_config,public_key,public_key_version,signing_public_key")

// publicKeyParams are the query parameters of GET /2/users/{id}/public_keys.
var publicKeyParams = splitSet("public_key.fields")

// PublicKeys returns the X Chat keys userID registered, oldest first.
func (s *Server) PublicKeys(userID string) []PublicKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.chatKeys[userID])
}

// AddPublicKeys registers X Chat keys as their user would have (a customer's,
// for a test), without checking them; a key whose user and version the fake
// holds replaces the one held.
func (s *Server) AddPublicKeys(keys ...PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		s.addPublicKeyLocked(k)
	}
}

func (s *Server) addPublicKeyLocked(k PublicKey) {
	if s.chatKeys == nil {
		s.chatKeys = map[string][]PublicKey{}
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.now().UTC()
	}
	held := s.chatKeys[k.UserID]
	if i := slices.IndexFunc(held, func(h PublicKey) bool { return h.Version == k.Version }); i >= 0 {
		held[i] = k
	} else {
		s.chatKeys[k.UserID] = append(held, k)
	}
	s.kept(keepRecord{PublicKey: &k})
}

// routePublicKeys names the key registry's endpoints.
func routePublicKeys(method string, parts []string) (endpoint, id string) {
	if len(parts) != 4 || parts[0] != "2" || parts[1] != "users" || parts[3] != "public_keys" || parts[2] == "" {
		return "", ""
	}
	switch method {
	case http.MethodPost:
		return xapi.EndpointAddPublicKey, parts[2]
	case http.MethodGet:
		return xapi.EndpointPublicKeys, parts[2]
	}
	return "", ""
}

// servePublicKeys answers the key registry's endpoints; oauth2 tells whether
// the request came with an OAuth 2.0 user-context token.
func (s *Server) servePublicKeys(w http.ResponseWriter, r *http.Request, endpoint, pathID, token string, oauth2 bool) {
	if !oauth2 {
		writeProblem(w, http.StatusForbidden, "Unsupported Authentication",
			"Authenticating with OAuth 1.0a User Context is forbidden for this endpoint.  Supported authentication types are [OAuth 2.0 User Context].",
			"https://api.twitter.com/2/problems/unsupported-authentication")
		return
	}
	if _, ok := parseID(pathID); !ok {
		invalid(w, "id", pathID, fmt.Sprintf("The `id` query parameter value [%s] is not valid", pathID))
		return
	}
	if endpoint == xapi.EndpointAddPublicKey {
		s.addPublicKey(w, r, pathID, token)
		return
	}
	s.listPublicKeys(w, r, pathID)
}

// addPublicKey answers POST /2/users/{id}/public_keys.
func (s *Server) addPublicKey(w http.ResponseWriter, r *http.Request, pathID, token string) {
	var in struct {
		PublicKey *struct {
			IdentityPublicKeySignature string `json:"identity_public_key_signature"`
			PublicKey                  string `json:"public_key"`
			PublicKeyFingerprint       string `json:"public_key_fingerprint"`
			RegistrationMethod         string `json:"registration_method"`
			SigningPublicKey           string `json:"signing_public_key"`
			SigningPublicKeySignature  string `json:"signing_public_key_signature"`
		} `json:"public_key"`
		Version         string `json:"version"`
		GenerateVersion bool   `json:"generate_version"`
	}
	if readBody(w, r, &in) == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	user := s.authorOf(token)
	if refuseUnknownUser(w, user) {
		return
	}
	if pathID != user {
		writeProblem(w, http.StatusForbidden, "Forbidden",
			fmt.Sprintf("You can only add public keys for the authenticated user (%s), not for user %s.", user, pathID), "about:blank")
		return
	}
	if in.PublicKey == nil {
		badBody(w, "The `public_key` field is required")
		return
	}
	p := in.PublicKey
	reg := xchat.Registration{IdentityPublicKeySignature: p.IdentityPublicKeySignature, PublicKey: p.PublicKey,
		PublicKeyFingerprint: p.PublicKeyFingerprint, RegistrationMethod: p.RegistrationMethod,
		SigningPublicKey: p.SigningPublicKey, SigningPublicKeySignature: p.SigningPublicKeySignature}
	if err := reg.Verify(); err != nil {
		badBody(w, "The `public_key` is not valid: "+err.Error())
		return
	}
	version := in.Version
	switch {
	case in.GenerateVersion:
		version = s.nextKeyVersionLocked(user)
	case strings.TrimSpace(version) == "":
		badBody(w, "The `version` field is required when `generate_version` is false")
		return
	case slices.ContainsFunc(s.chatKeys[user], func(k PublicKey) bool { return k.Version == version }):
		badBody(w, fmt.Sprintf("Public key version %s is already registered for this user", version))
		return
	}
	s.addPublicKeyLocked(PublicKey{UserID: user, Version: version, PublicKey: p.PublicKey, SigningPublicKey: p.SigningPublicKey,
		IdentityPublicKeySignature: p.IdentityPublicKeySignature, SigningPublicKeySignature: p.SigningPublicKeySignature,
		PublicKeyFingerprint: p.PublicKeyFingerprint, RegistrationMethod: p.RegistrationMethod})
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"version": version}})
}

// nextKeyVersionLocked is a new key version for user: the fake clock in
// milliseconds, above every numeric version the user holds.
func (s *Server) nextKeyVersionLocked(user string) string {
	v := s.now().UnixMilli()
	for _, k := range s.chatKeys[user] {
		if n, err := strconv.ParseInt(k.Version, 10, 64); err == nil && n >= v {
			v = n + 1
		}
	}
	return strconv.FormatInt(v, 10)
}

// listPublicKeys answers GET /2/users/{id}/public_keys.
func (s *Server) listPublicKeys(w http.ResponseWriter, r *http.Request, userID string) {
	q := r.URL.Query()
	if !knownParams(w, q, publicKeyParams) {
		return
	}
	fields, ok := listParam(w, q, "public_key.fields", publicKeyFields)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	data := []map[string]any{}
	for _, k := range s.chatKeys[userID] {
		all := map[string]any{"public_key": k.PublicKey, "signing_public_key": k.SigningPublicKey,
			"identity_public_key_signature": k.IdentityPublicKeySignature, "public_key_version": k.Version}
		if len(fields) > 0 {
			for f := range all {
				if !fields[f] {
					delete(all, f)
				}
			}
		}
		data = append(data, all)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}

// badBody writes X's 400 "Invalid Request" problem about the request body.
func badBody(w http.ResponseWriter, message string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{
		"errors": []map[string]any{{"message": message}},
		"title":  "Invalid Request",
		"detail": "One or more parameters to your request was invalid.",
		"type":   "https://api.twitter.com/2/problems/invalid-request",
	})
}
