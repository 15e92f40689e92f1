package xwebhook

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pajarito-care/pajarito/shared/care"
)

// GenerationV2 is the Result.Generation of ParsePosts: posts read from the X API v2
// REST endpoints (mentions timeline, recent search) rather than pushed by a webhook.
const GenerationV2 = "v2"

// ParsePosts normalises one page of X API v2 Post objects for brand, as the v2 REST
// reads return them (GET /2/users/{id}/mentions, GET /2/tweets/search/recent): data
// is the answer's "data" array and includes its "includes" object (users, tweets).
//
// Each post goes through the same normaliser as the posts of X Activity API events:
// retweets and the brand's own posts that reply to no one else are dropped (see
// Result.Dropped), the brand's replies to customers become outbound messages, and a
// post is Summoned when it mentions the brand, replies to it, or quotes one of its
// posts (the quoted post's author comes from includes.tweets). Authors' profiles
// come from includes.users. Every envelope has source and receivedAt, and its Raw
// is the post's own JSON exactly as X sent it. A post that cannot be normalised
// becomes a care.KindUnparsed envelope.
//
// data may be absent or null (an empty page). The error wraps ErrMalformed when
// data is not a JSON array or includes is not JSON; the only other error is a brand
// whose ID is not an X id.
func ParsePosts(data, includes json.RawMessage, brand Brand, source care.Source, receivedAt time.Time) (*Result, error) {
	if !care.IsID(brand.ID) {
		return nil, fmt.Errorf("xwebhook: brand id %q is not a decimal X id", brand.ID)
	}
	var items []json.RawMessage
	if !isNull(data) {
		if !utf8.Valid(data) {
			return nil, fmt.Errorf("%w: posts are not valid UTF-8", ErrMalformed)
		}
		if err := json.Unmarshal(data, &items); err != nil {
			return nil, fmt.Errorf("%w: posts \"data\" is not an array of posts: %v", ErrMalformed, err)
		}
	}
	if !isNull(includes) && !json.Valid(includes) {
		return nil, fmt.Errorf("%w: \"includes\" is not JSON", ErrMalformed)
	}
	p := parser{
		brand:      Brand{ID: brand.ID, Handle: strings.TrimPrefix(brand.Handle, "@")},
		receivedAt: receivedAt.UTC(),
		source:     source,
		res:        Result{Generation: GenerationV2, DropCounts: map[string]int{}},
	}
	inc := newIncludes()
	inc.add(includes)
	for i, raw := range items {
		var post v2Post
		if err := json.Unmarshal(raw, &post); err != nil {
			p.addUnparsed(raw, fmt.Errorf("post %d of the page: %w", i, err))
			continue
		}
		p.v2Post(&post, raw, inc, false)
	}
	return &p.res, nil
}
