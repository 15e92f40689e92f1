package xfake

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/xchat"
)

// registration is a fresh identity's registration body for POST
// /2/users/{id}/public_keys, edited by edit.
func registration(t *testing.T, version string, generate bool, edit func(pk map[string]string)) (string, xchat.Registration) {
	t.Helper()
	id, err := xchat.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	reg, err := id.Registration()
	if err != nil {
		t.Fatal(err)
	}
	pk := map[string]string{
		"identity_public_key_signature": reg.IdentityPublicKeySignature, "public_key": reg.PublicKey,
		"public_key_fingerprint": reg.PublicKeyFingerprint, "registration_method": reg.RegistrationMethod,
		"signing_public_key": reg.SigningPublicKey, "signing_public_key_signature": reg.SigningPublicKeySignature,
	}
	if edit != nil {
		edit(pk)
	}
	b, _ := json.Marshal(map[string]any{"public_key": pk, "version": version, "generate_version": generate})
	return string(b), reg
}

func TestAddPublicKey(t *testing.T) {
	stranger, _ := registration(t, "", true, nil)
	var strangerKey map[string]map[string]string
	_ = json.Unmarshal([]byte(stranger), &strangerKey)
	cases := []struct {
		name    string
		auth    func(s *Server) string
		path    string
		version string
		edit    func(pk map[string]string)
		status  int
		want    string // in the answer
	}{
		{name: "the brand's own keys", auth: brandOAuth2, path: brandID, status: 200, want: `"version":"1787068800000"`},
		{name: "a version of its own", auth: brandOAuth2, path: brandID, version: "7", status: 200, want: `"version":"7"`},
		{name: "another user's path", auth: brandOAuth2, path: mariaID, status: 403, want: "authenticated user"},
		{name: "OAuth 1.0a", auth: func(*Server) string { return userAuth }, path: brandID, status: 403, want: "OAuth 2.0 User Context"},
		{name: "app-only", auth: func(*Server) string { return appAuth }, path: brandID, status: 403, want: "Unsupported Authentication"},
		{name: "no authorization", auth: func(*Server) string { return "" }, path: brandID, status: 401},
		{name: "binding of another key", auth: brandOAuth2, path: brandID, status: 400, want: "does not sign the identity key",
			edit: func(pk map[string]string) { pk["public_key"] = strangerKey["public_key"]["public_key"] }},
		{name: "reverse binding forged", auth: brandOAuth2, path: brandID, status: 400, want: "does not sign the signing key",
			edit: func(pk map[string]string) {
				pk["signing_public_key_signature"] = strangerKey["public_key"]["signing_public_key_signature"]
			}},
		{name: "another fingerprint", auth: brandOAuth2, path: brandID, status: 400, want: "fingerprint",
			edit: func(pk map[string]string) {
				pk["public_key_fingerprint"] = strangerKey["public_key"]["public_key_fingerprint"]
			}},
		{name: "path id not an id", auth: brandOAuth2, path: "me", status: 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newFake(t, 0)
			body, _ := registration(t, tc.version, tc.version == "", tc.edit)
			a := do(t, s, "POST", "/2/users/"+tc.path+"/public_keys", tc.auth(s), body)
			if a.status != tc.status || !strings.Contains(string(a.raw), tc.want) {
				t.Fatalf("%d %s, want %d with %q", a.status, a.raw, tc.status, tc.want)
			}
			if held := s.PublicKeys(brandID); (tc.status == 200) != (len(held) == 1) {
				t.Errorf("the fake holds %d keys of the brand", len(held))
			}
		})
	}
}

// brandOAuth2 is an OAuth 2.0 user-context header of the brand.
func brandOAuth2(s *Server) string {
	access, _ := s.IssueOAuth2(brandID)
	return "Bearer " + access
}

func TestPublicKeysRoundTrip(t *testing.T) {
	s, _ := newFake(t, 0)
	auth := brandOAuth2(s)
	var regs []xchat.Registration
	for range 2 {
		body, reg := registration(t, "", true, nil)
		if a := do(t, s, "POST", "/2/users/"+brandID+"/public_keys", auth, body); a.status != 200 {
			t.Fatalf("register: %d %s", a.status, a.raw)
		}
		regs = append(regs, reg)
	}
	// A second registration in the same millisecond gets a higher version.
	if held := s.PublicKeys(brandID); len(held) != 2 || held[0].Version != "1787068800000" || held[1].Version != "1787068800001" {
		t.Fatalf("held %+v", held)
	}
	dup, _ := registration(t, "1787068800001", false, nil)
	if a := do(t, s, "POST", "/2/users/"+brandID+"/public_keys", auth, dup); a.status != 400 {
		t.Errorf("a duplicate version: %d %s", a.status, a.raw)
	}

	// Another user (Maria, with her own token) reads the brand's keys, X's JSON,
	// and they verify.
	maria, _ := s.IssueOAuth2(mariaID)
	a := do(t, s, "GET", "/2/users/"+brandID+"/public_keys", "Bearer "+maria, "")
	var got struct {
		Data []struct {
			PublicKey                  string `json:"public_key"`
			SigningPublicKey           string `json:"signing_public_key"`
			IdentityPublicKeySignature string `json:"identity_public_key_signature"`
			PublicKeyVersion           string `json:"public_key_version"`
		} `json:"data"`
	}
	if a.status != 200 || json.Unmarshal(a.raw, &got) != nil || len(got.Data) != 2 {
		t.Fatalf("GET: %d %s", a.status, a.raw)
	}
	var set xchat.SigningKeySet
	for i, k := range got.Data {
		if k.PublicKey != regs[i].PublicKey || k.SigningPublicKey != regs[i].SigningPublicKey {
			t.Errorf("key %d is not the one registered: %+v", i, k)
		}
		if err := set.Add(xchat.SigningKey{UserID: brandID, Version: k.PublicKeyVersion, PublicKey: k.SigningPublicKey,
			IdentityPublicKey: k.PublicKey, IdentityPublicKeySignature: k.IdentityPublicKeySignature}); err != nil {
			t.Errorf("key %d: %v", i, err)
		}
	}

	cases := []struct {
		path, auth string
		status     int
		want       string
	}{
		{"/2/users/" + mariaID + "/public_keys", auth, 200, `{"data":[]}`},
		{"/2/users/" + brandID + "/public_keys?public_key.fields=public_key_version", auth, 200, `{"data":[{"public_key_version":"1787068800000"},{"public_key_version":"1787068800001"}]}`},
		{"/2/users/" + brandID + "/public_keys?public_key.fields=bogus", auth, 400, "public_key.fields"},
		{"/2/users/" + brandID + "/public_keys?max_results=5", auth, 400, "max_results"},
		{"/2/users/" + brandID + "/public_keys", userAuth, 403, "OAuth 2.0 User Context"},
	}
	for _, tc := range cases {
		if a := do(t, s, "GET", tc.path, tc.auth, ""); a.status != tc.status || !strings.Contains(string(a.raw), tc.want) {
			t.Errorf("GET %s: %d %s, want %d with %s", tc.path, a.status, a.raw, tc.status, tc.want)
		}
	}
}

func TestPublicKeysExpiredToken(t *testing.T) {
	s, _ := newFake(t, 0)
	auth := brandOAuth2(s)
	s.SetClock(func() time.Time { return t0.Add(OAuth2TokenLifetime + time.Minute) })
	// An expired OAuth 2.0 token is a bearer token the fake did not issue:
	// app-only, which these routes refuse.
	if a := do(t, s, "GET", "/2/users/"+brandID+"/public_keys", auth, ""); a.status != http.StatusForbidden {
		t.Errorf("an expired token: %d %s", a.status, a.raw)
	}
}

func TestKeepPublicKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "xfake.jsonl")
	s := Start()
	if err := s.Keep(path); err != nil {
		t.Fatal(err)
	}
	body, reg := registration(t, "", true, nil)
	if a := do(t, s, "POST", "/2/users/"+brandID+"/public_keys", brandOAuth2(s), body); a.status != 200 {
		t.Fatalf("register: %d %s", a.status, a.raw)
	}
	s.Close()

	again := Start()
	defer again.Close()
	if err := again.Keep(path); err != nil {
		t.Fatal(err)
	}
	if held := again.PublicKeys(brandID); len(held) != 1 || held[0].PublicKey != reg.PublicKey || held[0].Version == "" {
		t.Errorf("keys after the restart: %+v", held)
	}
}
