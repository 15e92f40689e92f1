package costmeter

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
)

// Secrets is a stand-in for AWS Secrets Manager that answers GetSecretValue
// (AWS JSON 1.1) for the secrets it holds and counts the calls: point a process
// at it with AWS_ENDPOINT_URL_SECRETS_MANAGER.
type Secrets struct {
	URL string
	hs  *httptest.Server

	mu      sync.Mutex
	secrets map[string]string
	calls   map[string]int64
}

// StartSecrets serves secrets (id → SecretString) on a free local port.
func StartSecrets(secrets map[string]string) *Secrets {
	s := &Secrets{secrets: map[string]string{}, calls: map[string]int64{}}
	for k, v := range secrets {
		s.secrets[k] = v
	}
	s.hs = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.hs.URL
	return s
}

// Close stops it.
func (s *Secrets) Close() { s.hs.Close() }

// Calls returns how many calls were made, by action (GetSecretValue, …).
func (s *Secrets) Calls() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// Total is how many calls were made.
func (s *Secrets) Total() int64 {
	var n int64
	for _, v := range s.Calls() {
		n += v
	}
	return n
}

func (s *Secrets) serve(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	const prefix = "secretsmanager."
	action := target
	if len(target) > len(prefix) && target[:len(prefix)] == prefix {
		action = target[len(prefix):]
	}
	s.mu.Lock()
	s.calls[action]++
	secrets := s.secrets
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	fail := func(status int, typ, msg string) {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
	}
	if action != "GetSecretValue" {
		fail(http.StatusBadRequest, "InvalidRequestException", "costmeter: only GetSecretValue is served")
		return
	}
	var in struct {
		SecretId string `json:"SecretId"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		fail(http.StatusBadRequest, "InvalidRequestException", err.Error())
		return
	}
	v, ok := secrets[in.SecretId]
	if !ok {
		fail(http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"ARN":           "arn:aws:secretsmanager:us-east-1:000000000000:secret:" + in.SecretId + "-AbCdEf",
		"Name":          in.SecretId,
		"SecretString":  v,
		"VersionId":     "00000000-0000-0000-0000-000000000001",
		"VersionStages": []string{"AWSCURRENT"},
		"CreatedDate":   1.7649e9,
	})
}
