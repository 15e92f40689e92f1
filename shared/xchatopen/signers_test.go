package xchatopen_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xchatopen"
)

// TestXSigners: a user's keys read at X with the brand's token; X's refusals
// and a brand not signed in are ErrNoSigner (kept as a problem), X
// unreachable or rate-limited is not (retried).
func TestXSigners(t *testing.T) {
	v := loadVectors(t)
	tests := []struct {
		name     string
		status   int
		tokenErr error
		keys     int
		noSigner bool
	}{
		{"keys", http.StatusOK, nil, 1, false},
		{"unknown user", http.StatusNotFound, nil, 0, true},
		{"X failing", http.StatusServiceUnavailable, nil, 0, false},
		{"rate-limited", http.StatusTooManyRequests, nil, 0, false},
		{"not signed in", http.StatusOK, xapi.ErrOAuth2NotSignedIn, 0, true},
		{"secret unreachable", http.StatusOK, errors.New("Secrets Manager unreachable"), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/2/users/1111/public_keys" || r.Header.Get("Authorization") != "Bearer tok" {
					http.Error(w, "unexpected", http.StatusBadRequest)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				fmt.Fprintf(w, `{"data":[{"public_key":%q,"signing_public_key":%q,"identity_public_key_signature":%q,"public_key_version":%q}]}`,
					v.IdentityPublic, v.SigningPublic, v.IdentityPublicKeySig, v.SigningKeyVersion)
			}))
			defer srv.Close()
			signers := xchatopen.XSigners(srv.Client(), srv.URL, func(context.Context) (string, error) { return "tok", tt.tokenErr })
			keys, err := signers(t.Context(), "1111")
			if len(keys) != tt.keys || errors.Is(err, xchatopen.ErrNoSigner) != tt.noSigner || (err == nil) != (tt.keys > 0) {
				t.Fatalf("signers = %+v, %v", keys, err)
			}
			if tt.keys > 0 && keys[0] != v.signingKey() {
				t.Errorf("key %+v, want %+v", keys[0], v.signingKey())
			}
		})
	}
}
