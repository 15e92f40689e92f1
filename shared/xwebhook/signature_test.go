package xwebhook

import (
	"errors"
	"strings"
	"testing"
)

var testSecret = []byte("pajarito-consumer-secret")

// The expected values were computed outside Go with
// printf '%s' "$msg" | openssl dgst -sha256 -hmac pajarito-consumer-secret -binary | base64
func TestCRCResponse(t *testing.T) {
	tests := []struct {
		name   string
		secret []byte
		token  string
		want   string
	}{
		{"doc token", testSecret, "challenge_string", "sha256=PUR66Q5yhnFquNN2rDhsX9oLwyeDfqzZblj9os0cwO4="},
		{"uuid-like token", testSecret, "1f0a9c7e-2026-08-18", "sha256=JPeeFBn555krqTCfzKNK8Glx5oTxa0NmNfuVFnIqQQI="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CRCResponse(tt.secret, tt.token); got != tt.want {
				t.Errorf("CRCResponse = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSign(t *testing.T) {
	tests := []struct {
		body string
		want string
	}{
		{`{"for_user_id":"1590000000000000001"}`, "sha256=arTdldKt658o5UmuMxnTkrU5BaCbNdmWZTAbSPetv6w="},
		{"", "sha256=myX08/jeP0WDD2zigqnq9BBmtFnlNAni9XH+RiL2YH4="},
	}
	for _, tt := range tests {
		if got := Sign(testSecret, []byte(tt.body)); got != tt.want {
			t.Errorf("Sign(%q) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"for_user_id":"1590000000000000001","tweet_create_events":[]}`)
	good := Sign(testSecret, body)
	tests := []struct {
		name    string
		secret  []byte
		body    []byte
		header  string
		wantErr error
	}{
		{"valid", testSecret, body, good, nil},
		{"valid with surrounding spaces", testSecret, body, "  " + good + " ", nil},
		{"prefix in upper case", testSecret, body, "SHA256=" + strings.TrimPrefix(good, "sha256="), nil},
		{"known vector", testSecret, []byte(`{"for_user_id":"1590000000000000001"}`), "sha256=arTdldKt658o5UmuMxnTkrU5BaCbNdmWZTAbSPetv6w=", nil},
		{"empty body signed", testSecret, nil, "sha256=myX08/jeP0WDD2zigqnq9BBmtFnlNAni9XH+RiL2YH4=", nil},
		{"empty header", testSecret, body, "", ErrNoSignature},
		{"blank header", testSecret, body, "   ", ErrNoSignature},
		{"forged with another secret", testSecret, body, Sign([]byte("attacker"), body), ErrBadSignature},
		{"wrong prefix", testSecret, body, "sha1=" + strings.TrimPrefix(good, "sha256="), ErrBadSignature},
		{"no prefix", testSecret, body, strings.TrimPrefix(good, "sha256="), ErrBadSignature},
		{"prefix only", testSecret, body, "sha256=", ErrBadSignature},
		{"not base64", testSecret, body, "sha256=%%%not-base64%%%", ErrBadSignature},
		{"signature truncated", testSecret, body, good[:len(good)-4], ErrBadSignature},
		{"empty body, signature of another", testSecret, nil, good, ErrBadSignature},
		{"truncated body", testSecret, body[:len(body)-1], good, ErrBadSignature},
		{"body with one more byte", testSecret, append(append([]byte{}, body...), '\n'), good, ErrBadSignature},
		{"no secret configured", nil, body, Sign(nil, body), ErrNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.body, tt.header)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify: %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify: %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestPooledVerify: the handler's pooled HMACs judge every header as Verify
// does, call after call (each reuses the last one's HMAC).
func TestPooledVerify(t *testing.T) {
	body := []byte(`{"for_user_id":"1590000000000000001"}`)
	good := Sign(testSecret, body)
	headers := []string{
		good, good, " " + good + " ", strings.ToUpper(good[:7]) + good[7:],
		"", "sha256=", "sha256=!!!!", "sha1=" + good[7:], good[:len(good)-4],
		good + "AAAA", good + strings.Repeat("A", 100), Sign([]byte("other"), body), good,
	}
	var p macPool
	for _, h := range headers {
		want, got := Verify(testSecret, body, h), p.verify(testSecret, body, h)
		if (want == nil) != (got == nil) || (want != nil && (errors.Is(want, ErrNoSignature) != errors.Is(got, ErrNoSignature) || !errors.Is(got, ErrBadSignature) && !errors.Is(got, ErrNoSignature))) {
			t.Errorf("header %q: pooled %v, Verify %v", h, got, want)
		}
	}
	if err := p.verify(nil, body, good); !errors.Is(err, ErrNoSecret) {
		t.Errorf("no secret: %v", err)
	}
}
