package xwebhook

import (
	"encoding/json"
	"fmt"
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
// is the post's own JSON exactly as X sent it (a slice of data, which must not be
// modified while the Result is in use). A post that cannot be normalised becomes a
// care.KindUnparsed envelope.
//
// data may be absent or null (an empty page). The error wraps ErrMalformed when
// data is not a JSON array or includes is not JSON; the only other error is a brand
// whose ID is not an X id.
func ParsePosts(data, includes json.RawMessage, brand care.Brand, source care.Source, receivedAt time.Time) (*Result, error) {
	if !care.IsID(brand.ID) {
		return nil, fmt.Errorf("xwebhook: brand id %q is not a decimal X id", brand.ID)
	}
	var page items[v2Post]
	if !isNull(data) {
		if !utf8.Valid(data) {
			return nil, fmt.Errorf("%w: posts are not valid UTF-8", ErrMalformed)
		}
		err := decodeWhole(data, &page)
		if err == nil && page.problem != nil {
			err = page.problem
		}
		if err != nil {
			return nil, fmt.Errorf("%w: posts \"data\" is not an array of posts: %w", ErrMalformed, err)
		}
	}
	var expanded value[expansions]
	if !isNull(includes) {
		if err := decodeWhole(includes, &expanded); err != nil {
			return nil, fmt.Errorf("%w: \"includes\" is not JSON: %w", ErrMalformed, err)
		}
	}
	p := newParser(brand, receivedAt)
	p.source = source
	p.res.Generation = GenerationV2
	inc := newIncludes()
	inc.add(&expanded)
	for i := range page.list {
		item := &page.list[i]
		if item.problem != nil {
			p.addUnparsed(item.raw, fmt.Errorf("post %d of the page: %w", i, item.problem))
			continue
		}
		p.v2Post(&item.val, item.raw, inc, false)
	}
	return &p.res, nil
}
