package xapi

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Endpoints, as named in errors, logs and RateLimits.
const (
	EndpointMentions   = "GET /2/users/:id/mentions"
	EndpointSearch     = "GET /2/tweets/search/recent"
	EndpointCreatePost = "POST /2/tweets"
	EndpointSendDM     = "POST /2/dm_conversations/with/:participant_id/messages"
	EndpointMe         = "GET /2/users/me"
	EndpointUserPosts  = "GET /2/users/:id/tweets"
	EndpointDMEvents   = "GET /2/dm_conversations/with/:participant_id/dm_events"
)

// DefaultBaseURL is X's API.
const DefaultBaseURL = "https://api.x.com"

// xHosts are the hosts gotwi and this package address; a base URL replaces them.
var xHosts = map[string]bool{"api.x.com": true, "api.twitter.com": true}

// transport is the RoundTripper under gotwi. It sends requests for X's hosts to the
// base URL when one is set (gotwi has no base-URL option), and records the
// x-rate-limit-* headers of every answer (gotwi reads them only on a 429) per
// endpoint and for the call in progress, with the body of error answers.
type transport struct {
	next http.RoundTripper
	base *url.URL // nil: leave requests alone

	mu     sync.Mutex
	limits map[string]RateLimit
}

// callInfo is what the transport learnt about one API call's answer.
type callInfo struct {
	status    int
	rateLimit RateLimit
	hasLimit  bool
	errBody   []byte // body of a non-2xx answer, at most maxErrorBody bytes
}

type callKey struct{}

// withCall returns ctx carrying info, for the transport to fill.
func withCall(ctx context.Context, info *callInfo) context.Context {
	return context.WithValue(ctx, callKey{}, info)
}

const maxErrorBody = 64 << 10

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	endpoint := endpointName(req.Method, req.URL.Path)
	if t.base != nil && xHosts[strings.ToLower(req.URL.Hostname())] {
		r := req.Clone(req.Context())
		r.URL.Scheme = t.base.Scheme
		r.URL.Host = t.base.Host
		r.URL.Path = strings.TrimSuffix(t.base.Path, "/") + req.URL.Path
		if req.URL.RawPath != "" {
			r.URL.RawPath = strings.TrimSuffix(t.base.Path, "/") + req.URL.RawPath
		}
		r.Host = ""
		req = r
	}
	res, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	info, _ := req.Context().Value(callKey{}).(*callInfo)
	if rl, ok := parseRateLimit(res.Header); ok {
		t.mu.Lock()
		t.limits[endpoint] = rl
		t.mu.Unlock()
		if info != nil {
			info.rateLimit, info.hasLimit = rl, true
		}
	}
	if info != nil {
		info.status = res.StatusCode
		if res.StatusCode >= 300 {
			// Keep X's problem JSON whatever its content type (gotwi decodes it only
			// when it says application/json) and give gotwi the same bytes.
			body, _ := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
			res.Body.Close()
			info.errBody = body
			res.Body = io.NopCloser(bytes.NewReader(body))
		}
	}
	return res, nil
}

// rateLimits returns a copy of the last rate limits seen per endpoint.
func (t *transport) rateLimits() map[string]RateLimit {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]RateLimit, len(t.limits))
	for k, v := range t.limits {
		out[k] = v
	}
	return out
}

// parseRateLimit reads the x-rate-limit-* headers; ok is false when the answer
// carries none that parse.
func parseRateLimit(h http.Header) (RateLimit, bool) {
	var rl RateLimit
	var ok bool
	if n, err := strconv.Atoi(strings.TrimSpace(h.Get("x-rate-limit-limit"))); err == nil {
		rl.Limit, ok = n, true
	}
	if n, err := strconv.Atoi(strings.TrimSpace(h.Get("x-rate-limit-remaining"))); err == nil {
		rl.Remaining, ok = n, true
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(h.Get("x-rate-limit-reset")), 10, 64); err == nil && n > 0 {
		rl.Reset, ok = time.Unix(n, 0).UTC(), true
	}
	return rl, ok
}

// endpointName names the endpoint of a request path: numeric segments after the
// version become ":id" (":participant_id" in the DM path), so that limits group
// per endpoint.
func endpointName(method, path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i, p := range parts {
		if i > 0 && p != "" && strings.Trim(p, "0123456789") == "" {
			parts[i] = ":id"
			if i > 0 && parts[i-1] == "with" {
				parts[i] = ":participant_id"
			}
		}
	}
	return method + " /" + strings.Join(parts, "/")
}
