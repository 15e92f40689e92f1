package main

import (
	"bytes"
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
	return callAgentAPI(ctx, cmd, http.MethodGet, base, token, path, q, nil)
}

// postAgentAPI POSTs req as JSON to path of the agent API, like getAgentAPI.
func postAgentAPI(ctx context.Context, cmd, base, token, path string, req any) ([]byte, string, error) {
	return callAgentAPI(ctx, cmd, http.MethodPost, base, token, path, nil, req)
}

// callAgentAPI sends method path with query q and, when req is not nil, req as
// a JSON body, to the agent API at base with token, and returns the body of a 200
// answer and the URL asked (without credentials).
func callAgentAPI(ctx context.Context, cmd, method, base, token, path string, q url.Values, req any) ([]byte, string, error) {
	if token == "" {
		return nil, "", fmt.Errorf("%s: no agent token: pass --token or set PAJARITO_AGENT_TOKEN (`pajarito dev` prints the local one)", cmd)
	}
	u, err := url.Parse(strings.TrimSuffix(base, "/") + path)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "", fmt.Errorf("%s: --url %q is not an http(s) URL like http://127.0.0.1:8080", cmd, base)
	}
	u.RawQuery = q.Encode()
	var body io.Reader
	if req != nil {
		b, err := json.Marshal(req)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", cmd, err)
		}
		body = bytes.NewReader(b)
	}
	hr, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", cmd, err)
	}
	hr.Header.Set("Authorization", "Bearer "+token)
	hr.Header.Set("Accept", "application/json")
	if req != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		return nil, "", fmt.Errorf("%s: cannot reach the agent API (is `make dev` running, or is --url the stack's?): %w", cmd, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 32<<20))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %s %s: %w", cmd, method, u.Redacted(), err)
	}
	if res.StatusCode != http.StatusOK {
		var e httpjson.Error
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &e) == nil && e.Error.Code != "" {
			msg = e.Error.Code + ": " + e.Error.Message
		}
		if res.StatusCode == http.StatusUnauthorized {
			msg += " (check --token or PAJARITO_AGENT_TOKEN)"
		}
		return nil, "", fmt.Errorf("%s: %s %s: %s: %s", cmd, method, u.Redacted(), res.Status, msg)
	}
	return b, u.Redacted(), nil
}
