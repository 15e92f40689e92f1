// Package console serves the agent console: the web inbox where the care team
// works, at /console/ on the same origin as the agent API it calls.
//
// The console is static files only, embedded in the binary that serves the API
// (static/): no page carries data, every case, message and label reaches the
// browser through the documented API (/v1/openapi.json) with the agent's bearer
// token, as it would reach any other client.
//
// # Why plain JavaScript modules
//
// The console is a handful of ES modules, a stylesheet and one HTML page, with
// no framework, no bundler and no npm dependency: browsers load modules natively,
// so there is no build step between editing a file and `make dev`, nothing to
// pin, audit or ship a licence for, and the first load stays far under its
// 100 KB (gzipped) budget. Views are built with the DOM API and text nodes only
// (static/dom.js): post text, names and handles come from strangers on X, and
// none of it is ever parsed as HTML.
//
// # Security
//
// Every response carries a strict Content-Security-Policy (scripts, styles and
// connections from this origin only; no inline script or eval; no framing),
// X-Frame-Options DENY, nosniff and no referrer. The agent's token never reaches
// this handler: locally it comes in the link's fragment, which browsers do not
// send, and the console keeps it in the tab's session storage.
//
// # Caching
//
// Each file has a strong ETag (a hash of its content); responses say
// "no-cache", so a browser revalidates and gets 304 until the binary changes.
// Clients that accept gzip get the files compressed once at start.
package console

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
)

//go:embed static
var static embed.FS

// Prefix is the path the console is served under.
const Prefix = "/console/"

// CSP is the Content-Security-Policy of every console response; with an OpenID
// Connect sign-in, connect-src also names the identity provider's origins
// (Config.ConnectOrigins).
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Config says how agents sign in to the console, served to it as
// /console/config.json. The zero Config is the local system's: a token in the
// sign-in link's fragment (or pasted).
type Config struct {
	// Issuer is the OpenID Connect issuer (https URL) agents sign in with: the
	// authorization code flow with PKCE, its endpoints read from the issuer's
	// discovery document unless given below. Empty: sign in with a token.
	Issuer string `json:"issuer,omitempty"`
	// ClientID is the OAuth client of the console at the issuer (a public client:
	// no secret).
	ClientID string `json:"client_id,omitempty"`
	// Scopes asked for; default "openid email profile".
	Scopes string `json:"scopes,omitempty"`
	// AuthorizationEndpoint, TokenEndpoint and EndSessionEndpoint override the
	// discovery document's (Cognito's endpoints live on the user pool's domain,
	// apart from its issuer). EndSessionEndpoint may be Cognito's /logout, which
	// takes client_id and logout_uri.
	AuthorizationEndpoint string `json:"authorization_endpoint,omitempty"`
	TokenEndpoint         string `json:"token_endpoint,omitempty"`
	EndSessionEndpoint    string `json:"end_session_endpoint,omitempty"`
}

// SignIn names the configuration's way of signing in: "oidc" or "token".
func (c Config) SignIn() string {
	if c.Issuer != "" {
		return "oidc"
	}
	return "token"
}

// Validate reports settings that cannot work, naming them.
func (c Config) Validate() error {
	if c.Issuer == "" {
		if c.ClientID != "" || c.AuthorizationEndpoint != "" || c.TokenEndpoint != "" {
			return errors.New("console: a client id or endpoints are set without an issuer: set the issuer too, or none of them")
		}
		return nil
	}
	if c.ClientID == "" {
		return errors.New("console: an issuer is set without the console's client id: set both")
	}
	for name, v := range map[string]string{"issuer": c.Issuer, "authorization endpoint": c.AuthorizationEndpoint, "token endpoint": c.TokenEndpoint, "end-session endpoint": c.EndSessionEndpoint} {
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) || u.Host == "" {
			return fmt.Errorf("console: the %s %q is not an https URL", name, v)
		}
	}
	return nil
}

// ConnectOrigins returns the origins the console calls besides its own: the
// issuer's (its discovery document) and the token endpoint's.
func (c Config) ConnectOrigins() []string {
	var out []string
	for _, v := range []string{c.Issuer, c.TokenEndpoint} {
		if u, err := url.Parse(v); err == nil && u.Host != "" {
			if o := u.Scheme + "://" + u.Host; !slices.Contains(out, o) {
				out = append(out, o)
			}
		}
	}
	return out
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}

type file struct {
	body, gz    []byte
	etag, ctype string
}

// Handler serves the console under Prefix: its files, config.json, and
// index.html for the prefix itself, with or without its slash (API Gateway may
// deliver either; the page names its files by absolute path).
type Handler struct {
	files map[string]*file // by path under Prefix ("" is index.html)
	csp   string
}

// New returns the console's handler over its embedded files, signing agents in
// as cfg says. It panics if the files cannot be read, which only a broken build
// can cause; a Config that fails Validate is an error.
func New(cfg Config) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h, err := load()
	if err != nil {
		panic("console: the embedded files cannot be read: " + err.Error())
	}
	h.csp = CSP
	if o := cfg.ConnectOrigins(); len(o) > 0 {
		h.csp = strings.Replace(CSP, "connect-src 'self'", "connect-src 'self' "+strings.Join(o, " "), 1)
	}
	if cfg.Scopes == "" && cfg.Issuer != "" {
		cfg.Scopes = "openid email profile"
	}
	body, err := json.Marshal(struct {
		SignIn string `json:"sign_in"`
		Config
	}{cfg.SignIn(), cfg})
	if err != nil {
		return nil, err
	}
	h.files["config.json"] = newFile("config.json", body)
	return h, nil
}

// newFile returns a file to serve, gzipped once and with its ETag.
func newFile(name string, body []byte) *file {
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression) // a valid level
	_, _ = zw.Write(body)                                   // a bytes.Buffer does not fail
	_ = zw.Close()
	sum := sha256.Sum256(body)
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	return &file{body: body, gz: gz.Bytes(), etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`, ctype: ctype}
}

func load() (*Handler, error) {
	h := &Handler{files: map[string]*file{}}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		h.files[name] = newFile(name, body)
		return nil
	})
	if err != nil {
		return nil, err
	}
	h.files[""] = h.files["index.html"]
	return h, nil
}

// Files returns the console's file names and their sizes, plain and gzipped.
func (h *Handler) Files() map[string][2]int {
	out := map[string][2]int{}
	for name, f := range h.files {
		if name != "" {
			out[name] = [2]int{len(f.body), len(f.gz)}
		}
	}
	return out
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", h.csp)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "the console is static files: use GET", http.StatusMethodNotAllowed)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if r.URL.Path == strings.TrimSuffix(Prefix, "/") {
		name, ok = "", true
	}
	f := h.files[name]
	if !ok || f == nil {
		hd.Set("Cache-Control", "no-store")
		http.Error(w, "no such console file: "+r.URL.Path, http.StatusNotFound)
		return
	}
	hd.Set("Content-Type", f.ctype)
	hd.Set("ETag", f.etag)
	hd.Set("Cache-Control", "no-cache")
	hd.Add("Vary", "Accept-Encoding")
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatch(match, f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.body
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		hd.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
}

// etagMatch reports whether an If-None-Match header names etag (or is "*").
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding header accepts gzip (named,
// with a q above 0).
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q, found := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q=")
		if !found {
			return true
		}
		v, err := strconv.ParseFloat(q, 64)
		return err == nil && v > 0
	}
	return false
}
