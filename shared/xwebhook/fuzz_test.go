package xwebhook

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/pajarito-care/pajarito/shared/care"
)

// FuzzParse checks that Parse never panics, that it fails only with ErrMalformed,
// and that everything it returns can go on the queue: envelopes that validate, or
// quarantined (KindUnparsed) ones, all of which marshal to JSON.
func FuzzParse(f *testing.F) {
	for _, name := range eventFiles(f) {
		f.Add(readEvent(f, name))
	}
	for _, seed := range []string{
		``, `null`, `[]`, `{}`, `{"data":null}`, `{"for_user_id":1}`,
		`{"data":{"event_type":"dm.sent","filter":{"user_id":"1590000000000000001"},"payload":{"direct_message_events":[{}]}}}`,
		`{"for_user_id":"1590000000000000001","tweet_create_events":[{"user":{"data":{"id":"1"}}}]}`,
		`{"user_event":{"revoke":{"source":{"user_id":"1590000000000000001"}}}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := Parse(body, testBrand, receivedAt)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if res.Generation != GenerationXAA && res.Generation != GenerationAAA {
			t.Fatalf("Generation = %q", res.Generation)
		}
		for i := range res.Envelopes {
			env := &res.Envelopes[i]
			if env.Kind != care.KindUnparsed {
				if err := env.Validate(); err != nil {
					t.Fatalf("envelope %d (%s) does not validate: %v", i, env.Kind, err)
				}
			}
			if _, err := json.Marshal(env); err != nil {
				t.Fatalf("envelope %d does not marshal: %v", i, err)
			}
		}
	})
}
