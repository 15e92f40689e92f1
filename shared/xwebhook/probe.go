package xwebhook

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Why a CRC probe failed (CRCError.Failure).
const (
	CRCUnreachable = "unreachable" // no answer: Err says why
	CRCStatus      = "status"      // an answer other than 200: StatusCode, Body
	CRCNoToken     = "no_token"    // 200 without a response_token: Body
	CRCWrongKey    = "wrong_key"   // a response_token made with another secret
)

// CRCError is a webhook's failed answer to ProbeCRC.
type CRCError struct {
	URL        string
	Failure    string // CRCUnreachable, CRCStatus, CRCNoToken or CRCWrongKey
	StatusCode int
	Body       string // the start of the answer, trimmed
	Err        error  // CRCUnreachable's cause
}

func (e *CRCError) Error() string {
	switch e.Failure {
	case CRCUnreachable:
		return fmt.Sprintf("%s does not answer the CRC check: %v", e.URL, e.Err)
	case CRCStatus:
		return fmt.Sprintf("%s answered the CRC check with %d %s: %s", e.URL, e.StatusCode, http.StatusText(e.StatusCode), e.Body)
	case CRCNoToken:
		return fmt.Sprintf("%s answered the CRC check without a response_token (%q)", e.URL, e.Body)
	}
	return fmt.Sprintf("%s answered the CRC check with another key than the app's consumer secret", e.URL)
}

func (e *CRCError) Unwrap() error { return e.Err }

// ProbeCRC sends rawURL X's challenge-response check, as X does (GET with a
// crc_token), through hc (nil: http.DefaultClient; ctx bounds it), and checks the
// answer's response_token with consumerSecret. It returns nil when the webhook
// answers as X requires, a *CRCError when it does not, and another error when
// rawURL cannot be asked.
func ProbeCRC(ctx context.Context, hc *http.Client, rawURL string, consumerSecret []byte) error {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	token := "pajarito-" + hex.EncodeToString(b)
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("webhook URL %q: %w", rawURL, err)
	}
	q := u.Query()
	q.Set("crc_token", token)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("webhook URL %q: %w", rawURL, err)
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		return &CRCError{URL: rawURL, Failure: CRCUnreachable, Err: err}
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	e := &CRCError{URL: rawURL, StatusCode: res.StatusCode, Body: strings.TrimSpace(string(body))}
	var answer struct {
		ResponseToken string `json:"response_token"`
	}
	switch {
	case res.StatusCode != http.StatusOK:
		e.Failure = CRCStatus
	case json.Unmarshal(body, &answer) != nil || answer.ResponseToken == "":
		e.Failure = CRCNoToken
	case !hmac.Equal([]byte(answer.ResponseToken), []byte(CRCResponse(consumerSecret, token))):
		e.Failure = CRCWrongKey
	default:
		return nil
	}
	return e
}
