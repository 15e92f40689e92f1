package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/pajarito-care/pajarito/shared/httpjson"
)

// getAgentAPI GETs path with query q from the agent API at base with token,
// and returns the body of a 200 answer and the URL asked (without credentials).
// cmd names the command in errors, which say what to fix.
func getAgentAPI(ctx context.Context, cmd, base, token, path string, q url.Values) ([]byte, string, error) {
	if token == "" {
		return nil, "", fmt.Errorf("%s: no agent token: pass --token or set PAJARITO_AGENT_TOKEN (`pajarito dev` prints the local one)", cmd)
	}
	u, err := url.Parse(strings.TrimSuffix(base, "/") + path)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "", fmt.Errorf("%s: --url %q is not an http(s) URL like http://127.0.0.1:8080", cmd, base)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", cmd, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("%s: cannot reach the agent API (is `make dev` running, or is --url the stack's?): %w", cmd, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 32<<20))
	if err != nil {
		return nil, "", fmt.Errorf("%s: GET %s: %w", cmd, u.Redacted(), err)
	}
	if res.StatusCode != http.StatusOK {
		var e httpjson.Error
		msg := strings.TrimSpace(string(body))
		if json.Unmarshal(body, &e) == nil && e.Error.Code != "" {
			msg = e.Error.Code + ": " + e.Error.Message
		}
		if res.StatusCode == http.StatusUnauthorized {
			msg += " (check --token or PAJARITO_AGENT_TOKEN)"
		}
		return nil, "", fmt.Errorf("%s: GET %s: %s: %s", cmd, u.Redacted(), res.Status, msg)
	}
	return body, u.Redacted(), nil
}
