package xfake

import (
	"github.com/pajarito-care/pajarito/shared/xapi"
	"net/http"
	"strings"
	"testing"
)

func TestConnectionFaults(t *testing.T) {
	tests := []struct {
		name       string
		arm        func(s *Server)
		failed     int // requests that get no answer
		wantPosted int // posts created by those requests
	}{
		{name: "reset before acting", arm: func(s *Server) { s.ResetNext(2) }, failed: 2, wantPosted: 0},
		{name: "answer lost after acting", arm: func(s *Server) { s.LoseAnswerNext(2) }, failed: 2, wantPosted: 2},
		{name: "disarmed", arm: func(s *Server) { s.ResetNext(3); s.ResetNext(0) }, failed: 0, wantPosted: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ids := newFake(t, 1)
			tt.arm(s)
			post := func(i int) (int, error) {
				body := `{"text":"respuesta ` + string(rune('a'+i)) + `","reply":{"in_reply_to_tweet_id":"` + ids[0] + `"}}`
				req, _ := http.NewRequest("POST", s.URL+"/2/tweets", strings.NewReader(body))
				req.Header.Set("Authorization", userAuth)
				res, err := s.Client().Do(req)
				if err != nil {
					return 0, err
				}
				res.Body.Close()
				return res.StatusCode, nil
			}
			for i := range tt.failed {
				if status, err := post(i); err == nil {
					t.Errorf("request %d answered %d, want no answer", i, status)
				}
			}
			if got := len(s.Posted()); got != tt.wantPosted {
				t.Errorf("posted %d after the faults, want %d", got, tt.wantPosted)
			}
			if status, err := post(tt.failed); err != nil || status != http.StatusCreated {
				t.Errorf("request after the faults: %d, %v; want 201", status, err)
			}
			if got := s.Calls(xapi.EndpointCreatePost); got != tt.failed+1 {
				t.Errorf("Calls = %d, want %d", got, tt.failed+1)
			}
		})
	}
}
