package xwebhook

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestProbeCRC(t *testing.T) {
	secret := []byte("consumer-secret")
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string // CRCError.Failure; "" for no error
	}{
		{"answers with the app's key", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"response_token":"` + CRCResponse(secret, r.URL.Query().Get("crc_token")) + `"}`))
		}, ""},
		{"another key", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"response_token":"` + CRCResponse([]byte("old"), r.URL.Query().Get("crc_token")) + `"}`))
		}, CRCWrongKey},
		{"another token", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"response_token":"` + CRCResponse(secret, "something else") + `"}`))
		}, CRCWrongKey},
		{"no token", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"ok":true}`)) }, CRCNoToken},
		{"not JSON", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`hello`)) }, CRCNoToken},
		{"an error status", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "secret placeholder", http.StatusInternalServerError)
		}, CRCStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			err := ProbeCRC(t.Context(), nil, srv.URL+"/webhooks/x?keep=1", secret)
			var crc *CRCError
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("ProbeCRC: %v, want nil", err)
			case tt.want != "" && (!errors.As(err, &crc) || crc.Failure != tt.want):
				t.Errorf("ProbeCRC: %v, want a %s CRCError", err, tt.want)
			}
		})
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	var crc *CRCError
	if err := ProbeCRC(t.Context(), nil, url, secret); !errors.As(err, &crc) || crc.Failure != CRCUnreachable || crc.Err == nil {
		t.Errorf("nothing listening: %v, want an unreachable CRCError with its cause", err)
	}
	if err := ProbeCRC(t.Context(), nil, "http://[::1", secret); err == nil || errors.As(err, &crc) {
		t.Errorf("a URL that cannot be asked: %v, want a plain error", err)
	}
}
