package xwebhook

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pajarito-care/pajarito/shared/care"
)

// eventOutcome is what Pajarito does with a sample body in events/. events/README.md
// documents the same table; TestEventFiles keeps the two and the files in step.
type eventOutcome struct {
	gen       string
	kinds     []care.Kind // envelopes enqueued, in order
	dropped   []string    // drop reasons
	ignored   []string
	malformed bool // 400 + the whole body quarantined
}

var eventOutcomes = map[string]eventOutcome{
	"xaa-mention-es.json":       {gen: GenerationXAA, kinds: []care.Kind{care.KindMessage}},
	"xaa-mention-en.json":       {gen: GenerationXAA, kinds: []care.Kind{care.KindMessage}},
	"xaa-reply-es.json":         {gen: GenerationXAA, kinds: []care.Kind{care.KindMessage}},
	"xaa-quote-en.json":         {gen: GenerationXAA, kinds: []care.Kind{care.KindMessage}},
	"xaa-dm-received-es.json":   {gen: GenerationXAA, kinds: []care.Kind{care.KindMessage}},
	"xaa-dm-sent-es.json":       {gen: GenerationXAA, kinds: []care.Kind{care.KindMessage}},
	"xaa-oauth-revoke.json":     {gen: GenerationXAA, kinds: []care.Kind{care.KindRevocation}},
	"xaa-unknown-type.json":     {gen: GenerationXAA, kinds: []care.Kind{care.KindIgnored}, ignored: []string{"like.create"}},
	"xaa-chat-received-es.json": {gen: GenerationXAA, kinds: []care.Kind{care.KindMessage}},
	"xaa-chat-sent-es.json":     {gen: GenerationXAA, kinds: []care.Kind{care.KindMessage}},

	"aaa-tweet-es.json":           {gen: GenerationAAA, kinds: []care.Kind{care.KindMessage}},
	"aaa-tweet-truncated-en.json": {gen: GenerationAAA, kinds: []care.Kind{care.KindMessage}},
	"aaa-own-reply-es.json":       {gen: GenerationAAA, kinds: []care.Kind{care.KindMessage}},
	"aaa-retweet.json":            {gen: GenerationAAA, dropped: []string{DropRetweet}},
	"aaa-own-post.json":           {gen: GenerationAAA, dropped: []string{DropOwnPost}},
	"aaa-dm-en.json":              {gen: GenerationAAA, kinds: []care.Kind{care.KindMessage}},
	"aaa-delete.json":             {gen: GenerationAAA, kinds: []care.Kind{care.KindDeletion}},
	"aaa-revoke.json":             {gen: GenerationAAA, kinds: []care.Kind{care.KindRevocation}},
	"aaa-favorite.json":           {gen: GenerationAAA, ignored: []string{"favorite_events"}},
	"aaa-other-user.json":         {gen: GenerationAAA, dropped: []string{DropNotServed}},

	"malformed.json": {malformed: true},
}

// isWebhookSample reports whether an events/ file is a webhook body (other tools
// keep other samples, such as queue batches, in the same directory).
func isWebhookSample(name string) bool {
	return strings.HasSuffix(name, ".json") &&
		(strings.HasPrefix(name, "xaa-") || strings.HasPrefix(name, "aaa-") || name == "malformed.json")
}

func eventFiles(t testing.TB) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("..", "..", "events"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && isWebhookSample(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names
}

func TestEventFiles(t *testing.T) {
	files := eventFiles(t)
	for name := range eventOutcomes {
		if !slices.Contains(files, name) {
			t.Errorf("events/%s is in the outcome table but not on disk", name)
		}
	}
	for _, name := range files {
		t.Run(name, func(t *testing.T) {
			want, ok := eventOutcomes[name]
			if !ok {
				t.Fatalf("events/%s has no row in eventOutcomes (and events/README.md)", name)
			}
			res, err := Parse(readEvent(t, name), testBrand, receivedAt)
			if want.malformed {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("Parse: %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if res.Generation != want.gen {
				t.Errorf("Generation = %q, want %q", res.Generation, want.gen)
			}
			var kinds []care.Kind
			for _, env := range res.Envelopes {
				kinds = append(kinds, env.Kind)
				if err := env.Validate(); err != nil {
					t.Errorf("envelope does not validate: %v", err)
				}
			}
			var dropped []string
			for _, d := range res.Dropped {
				dropped = append(dropped, d.Reason)
			}
			if !slices.Equal(kinds, want.kinds) || !slices.Equal(dropped, want.dropped) || !slices.Equal(res.Ignored, want.ignored) {
				t.Errorf("outcome = kinds %v dropped %v ignored %v, want %v %v %v",
					kinds, dropped, res.Ignored, want.kinds, want.dropped, want.ignored)
			}
		})
	}
}

// TestEventsReadme checks that events/README.md has a row for every sample file.
func TestEventsReadme(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "events", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\|\\s*`([^`]+\\.json)`").FindAllStringSubmatch(string(readme), -1) {
		rows[m[1]] = true
	}
	for _, name := range eventFiles(t) {
		if !rows[name] {
			t.Errorf("events/README.md has no table row for %s", name)
		}
	}
	for name := range rows {
		if _, ok := eventOutcomes[name]; !ok && isWebhookSample(name) {
			t.Errorf("events/README.md lists %s, which the outcome table lacks", name)
		}
	}
}
