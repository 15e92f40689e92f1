package costmeter

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// proxy forwards every request to a backend on a free local port and shows each
// exchange to its owner: rewrite may change a request's body before it is sent
// (nil: as it came), observe sees the body sent and the answer.
type proxy struct {
	// URL is the proxy's endpoint.
	URL     string
	backend string
	srv     *http.Server
	client  *http.Client
	rewrite func(r *http.Request, body []byte) []byte
	observe func(r *http.Request, body []byte, status int, answer []byte)
	// dropOnFailure closes the client's connection when the backend cannot be
	// reached, as a network failure looks to the client, instead of a 502.
	dropOnFailure bool
}

// start serves p on a free loopback port.
func (p *proxy) start(backend string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("costmeter: listen: %w", err)
	}
	p.URL = "http://" + ln.Addr().String()
	p.backend = strings.TrimSuffix(backend, "/")
	p.client = &http.Client{Timeout: 2 * time.Minute}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return nil
}

// Close stops the proxy.
func (p *proxy) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := p.srv.Shutdown(ctx); err != nil {
		_ = p.srv.Close()
	}
}

func (p *proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if p.rewrite != nil {
		body = p.rewrite(r, body)
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.backend+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	for k, vs := range r.Header {
		if k == "Content-Length" {
			continue
		}
		req.Header[k] = vs
	}
	req.ContentLength = int64(len(body))
	resp, err := p.client.Do(req)
	if err != nil {
		if hj, ok := w.(http.Hijacker); ok && p.dropOnFailure {
			if c, _, herr := hj.Hijack(); herr == nil {
				_ = c.Close()
				return
			}
		}
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	p.observe(r, body, resp.StatusCode, answer)
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}
