package console

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pajarito-care/pajarito/shared/classify"
)

func TestHandler(t *testing.T) {
	h, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	index, err := os.ReadFile("static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	etag := h.files["index.html"].etag
	tests := []struct {
		name, method, path string
		header             map[string]string
		status             int
		want               string // a part of the body
		wantHeader         map[string]string
	}{
		{"the console", "GET", "/console/", nil, 200, `<script type="module" src="/console/app.js">`,
			map[string]string{"Content-Type": "text/html; charset=utf-8", "ETag": etag, "Cache-Control": "no-cache"}},
		{"a module", "GET", "/console/app.js", nil, 200, "import", map[string]string{"Content-Type": "text/javascript; charset=utf-8"}},
		{"the stylesheet", "GET", "/console/style.css", nil, 200, ":root", map[string]string{"Content-Type": "text/css; charset=utf-8"}},
		{"without the slash", "GET", "/console", nil, 200, `src="/console/app.js"`, map[string]string{"ETag": etag}},
		{"revalidated", "GET", "/console/", map[string]string{"If-None-Match": `"other", ` + etag}, 304, "", map[string]string{"ETag": etag}},
		{"changed", "GET", "/console/", map[string]string{"If-None-Match": `"other"`}, 200, "<main", nil},
		{"no such file", "GET", "/console/secret.json", nil, 404, "no such console file", map[string]string{"Cache-Control": "no-store"}},
		{"no directory walk", "GET", "/console/../go.mod", nil, 404, "", nil},
		{"static only", "POST", "/console/", nil, 405, "use GET", map[string]string{"Allow": "GET, HEAD"}},
		{"HEAD", "HEAD", "/console/app.js", nil, 200, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.want) {
				t.Errorf("%s %s = %d %.80q, want %d with %q", tt.method, tt.path, rec.Code, rec.Body.String(), tt.status, tt.want)
			}
			for k, v := range tt.wantHeader {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			// Every answer carries the security headers.
			for k, v := range map[string]string{"Content-Security-Policy": CSP, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}

	// gzip for clients that take it, the same bytes once unpacked.
	req := httptest.NewRequest("GET", "/console/", nil)
	req.Header.Set("Accept-Encoding", "br, gzip;q=0.8")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", rec.Header().Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(zr); string(b) != string(index) {
		t.Error("the gzipped console is not index.html")
	}
	for _, ae := range []string{"gzip;q=0", "identity", ""} {
		req.Header.Set("Accept-Encoding", ae)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Header().Get("Content-Encoding") != "" || rec.Body.String() != string(index) {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q", ae, rec.Header().Get("Content-Encoding"))
		}
	}
}

// TestCSP: scripts and styles from the console's own origin only; nothing
// inline, nothing evaluated, no framing, no third party.
func TestCSP(t *testing.T) {
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "connect-src 'self'", "base-uri 'none'"} {
		if !strings.Contains(CSP, want) {
			t.Errorf("CSP lacks %q", want)
		}
	}
	for _, banned := range []string{"unsafe-inline", "unsafe-eval", "http:", "https:", "*"} {
		if strings.Contains(CSP, banned) {
			t.Errorf("CSP allows %q", banned)
		}
	}
	// No file of the console names another origin, inline script or handler.
	for name, f := range mustNew(t).files {
		if name == "" {
			continue
		}
		body := string(f.body)
		for _, re := range []*regexp.Regexp{regexp.MustCompile(`(src|href)="https?:`), regexp.MustCompile(`<script>`), regexp.MustCompile(`\son[a-z]+="`), regexp.MustCompile(`\.innerHTML\s*=|insertAdjacentHTML|document\.write`)} {
			if re.MatchString(body) {
				t.Errorf("%s matches %s", name, re)
			}
		}
	}
}

// TestStrings: every string of the interface exists in Spanish and English.
func TestStrings(t *testing.T) {
	b, err := os.ReadFile("static/i18n.js")
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	es, en, ok := strings.Cut(src[strings.Index(src, "  es: {"):], "  en: {")
	if !ok {
		t.Fatal("i18n.js has no es and en blocks")
	}
	key := regexp.MustCompile(`(?m)^    ([a-z_]+): `)
	keys := func(s string) []string {
		var out []string
		for _, m := range key.FindAllStringSubmatch(s, -1) {
			out = append(out, m[1])
		}
		slices.Sort(out)
		return out
	}
	if kes, ken := keys(es), keys(en); !slices.Equal(kes, ken) || len(kes) < 50 {
		t.Errorf("es has %d strings, en %d; want the same keys in both:\nes %v\nen %v", len(kes), len(ken), kes, ken)
	}
	// Every key the console uses is defined.
	app, err := os.ReadFile("static/app.js")
	if err != nil {
		t.Fatal(err)
	}
	defined := keys(en)
	for _, m := range regexp.MustCompile(`\bt\('([a-z_]+)'[,)]`).FindAllStringSubmatch(string(app), -1) {
		if !slices.Contains(defined, m[1]) {
			t.Errorf("app.js uses the string %q, which i18n.js does not define", m[1])
		}
	}
	// Every value of the classifier's personal-data label has its name (labelOf
	// names each kind of a list such as "email,phone").
	for _, kind := range []classify.PIIKind{"none", classify.PIIEmail, classify.PIIPhone, classify.PIICard, classify.PIIDNI,
		classify.PIINIE, classify.PIIIBAN, classify.PIIBooking} {
		if !slices.Contains(defined, "pii_"+string(kind)) {
			t.Errorf("i18n.js does not name the personal-data kind %q (pii_%s)", kind, kind)
		}
	}
}

// TestWeight: the first load of the console (every file, gzipped as served)
// stays within 100 KB.
func TestWeight(t *testing.T) {
	total := 0
	for name, n := range mustNew(t).Files() {
		total += n[1]
		t.Logf("%-12s %6d bytes, %5d gzipped", name, n[0], n[1])
	}
	t.Logf("first load: %d bytes gzipped", total)
	if total > 100*1024 {
		t.Errorf("the console weighs %d bytes gzipped, over its 100 KB budget", total)
	}
}

var _ http.Handler = (*Handler)(nil)

func mustNew(t *testing.T) *Handler {
	t.Helper()
	h, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}
