package replay

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

// Event is the X Activity API delivery of one post.
type Event struct {
	// At is when the post is written on the new clock.
	At time.Time
	// Type is the XAA event type: post.mention.create, post.reply.create (a
	// customer answers the brand) or post.create (the brand posts).
	Type   string
	PostID string // the post's new X id
	Body   []byte // the webhook body
}

// Events returns the deliveries of posts for brand, in the order they were
// written, on a clock where the first post is written at start.
func Events(posts []Post, brand care.Brand, start time.Time) ([]Event, error) {
	if !care.IsID(brand.ID) || brand.Handle == "" {
		return nil, fmt.Errorf("replay: the brand needs a numeric X id and a handle (brand.id and brand.handle in pajarito.json), got %q and %q", brand.ID, brand.Handle)
	}
	if len(posts) == 0 {
		return nil, errors.New("replay: no posts")
	}
	order := make([]int, len(posts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return posts[a].CreatedAt.Compare(posts[b].CreatedAt) })
	first := posts[order[0]].CreatedAt

	c := converter{brand: brand, posts: posts, byID: map[string]int{}, newID: map[string]string{}, brandNames: map[string]bool{}}
	for i, p := range posts {
		c.byID[p.ID] = i
		if !p.Inbound {
			c.brandNames[strings.ToLower(p.AuthorID)] = true
		}
	}
	// New ids first: a reply's parent may come later in the file than the reply
	// (the dataset is not sorted), and its id is the reply's reference.
	at := make([]time.Time, len(posts))
	for seq, i := range order {
		at[i] = start.Add(posts[i].CreatedAt.Sub(first)).UTC().Truncate(time.Millisecond)
		c.newID[posts[i].ID] = strconv.FormatUint(care.Snowflake(at[i], uint64(seq)), 10)
	}
	c.at = at
	events := make([]Event, 0, len(posts))
	for _, i := range order {
		ev, err := c.event(i)
		if err != nil {
			return nil, err
		}
		events = append(events, ev)
	}
	return events, nil
}

type converter struct {
	brand      care.Brand
	posts      []Post
	at         []time.Time
	byID       map[string]int    // recording id → index
	newID      map[string]string // recording id → new X id
	brandNames map[string]bool   // the brand's author ids in the recording, lower case
}

// The JSON of an X API v2 post and user, as much as XAA deliveries carry and
// Pajarito reads.
type (
	v2Mention struct {
		Start    int    `json:"start"`
		End      int    `json:"end"`
		Username string `json:"username"`
		ID       string `json:"id"`
	}
	v2Ref struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	v2Post struct {
		ID                  string    `json:"id"`
		Text                string    `json:"text"`
		AuthorID            string    `json:"author_id"`
		CreatedAt           string    `json:"created_at"`
		ConversationID      string    `json:"conversation_id"`
		EditHistoryTweetIDs []string  `json:"edit_history_tweet_ids"`
		InReplyToTweetID    string    `json:"in_reply_to_tweet_id,omitempty"`
		InReplyToUserID     string    `json:"in_reply_to_user_id,omitempty"`
		ReferencedTweets    []v2Ref   `json:"referenced_tweets,omitempty"`
		Lang                string    `json:"lang,omitempty"`
		Entities            *entities `json:"entities,omitempty"`
	}
	entities struct {
		Mentions []v2Mention `json:"mentions"`
	}
	v2User struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Username string `json:"username"`
		Verified bool   `json:"verified"`
	}
)

func (c *converter) event(i int) (Event, error) {
	p := c.posts[i]
	post := c.post(i)
	typ := xwebhook.EventPostCreate
	if p.Inbound {
		typ = xwebhook.EventPostMention
		if parent, ok := c.byID[p.InReplyTo]; ok && !c.posts[parent].Inbound {
			typ = xwebhook.EventPostReply
		}
	}
	users := []v2User{c.user(i)}
	var tweets []v2Post
	if parent, ok := c.byID[p.InReplyTo]; ok {
		tweets = append(tweets, c.post(parent))
		if c.posts[parent].AuthorID != p.AuthorID {
			users = append(users, c.user(parent))
		}
	}
	data := map[string]any{
		"event_uuid": post.ID,
		"event_type": typ,
		"filter":     map[string]string{"user_id": c.brand.ID},
		"tag":        "pajarito-replay",
		"payload":    post,
		"includes":   map[string]any{"users": users, "tweets": tweets},
	}
	body, err := json.MarshalIndent(map[string]any{"data": data}, "", "  ")
	if err != nil {
		return Event{}, fmt.Errorf("replay: post %s: %w", p.ID, err)
	}
	return Event{At: c.at[i], Type: typ, PostID: post.ID, Body: body}, nil
}

// post returns the v2 post of posts[i] on the new clock.
func (c *converter) post(i int) v2Post {
	p := c.posts[i]
	id := c.newID[p.ID]
	out := v2Post{
		ID:                  id,
		Text:                c.text(p.Text),
		AuthorID:            c.userID(i),
		CreatedAt:           c.at[i].Format("2006-01-02T15:04:05.000Z"),
		ConversationID:      c.newID[c.root(i)],
		EditHistoryTweetIDs: []string{id},
		Lang:                p.Lang,
	}
	if parent, ok := c.byID[p.InReplyTo]; ok {
		out.InReplyToTweetID = c.newID[p.InReplyTo]
		out.InReplyToUserID = c.userID(parent)
		out.ReferencedTweets = []v2Ref{{Type: "replied_to", ID: out.InReplyToTweetID}}
	}
	if ms := c.mentions(out.Text); len(ms) > 0 {
		out.Entities = &entities{Mentions: ms}
	}
	return out
}

// root returns the recording id of the first post of posts[i]'s thread.
func (c *converter) root(i int) string {
	for range c.posts { // a cycle in a bad file ends here
		parent, ok := c.byID[c.posts[i].InReplyTo]
		if !ok {
			break
		}
		i = parent
	}
	return c.posts[i].ID
}

// handlePattern finds @handles as X does: up to 15 letters, digits and underscores.
var handlePattern = regexp.MustCompile(`@([A-Za-z0-9_]{1,15})`)

// text rewrites the recording's brand handles to the brand's.
func (c *converter) text(s string) string {
	return handlePattern.ReplaceAllStringFunc(s, func(m string) string {
		if c.brandNames[strings.ToLower(m[1:])] {
			return "@" + c.brand.Handle
		}
		return m
	})
}

// mentions returns the entities of the @handles in text that are the brand or
// a customer of the recording, with X's code point offsets.
func (c *converter) mentions(text string) []v2Mention {
	var out []v2Mention
	for _, loc := range handlePattern.FindAllStringSubmatchIndex(text, -1) {
		handle := text[loc[2]:loc[3]]
		m := v2Mention{Start: len([]rune(text[:loc[0]])), Username: handle}
		m.End = m.Start + 1 + len(handle)
		switch {
		case strings.EqualFold(handle, c.brand.Handle):
			m.ID, m.Username = c.brand.ID, c.brand.Handle
		case c.brandNames[strings.ToLower(handle)]:
			continue
		default:
			m.ID = customerID(handle)
		}
		out = append(out, m)
	}
	return out
}

func (c *converter) user(i int) v2User {
	p := c.posts[i]
	if !p.Inbound {
		return v2User{ID: c.brand.ID, Name: c.brand.Handle, Username: c.brand.Handle, Verified: true}
	}
	return v2User{ID: customerID(p.AuthorID), Name: customerHandle(p.AuthorID), Username: customerHandle(p.AuthorID)}
}

func (c *converter) userID(i int) string {
	if !c.posts[i].Inbound {
		return c.brand.ID
	}
	return customerID(c.posts[i].AuthorID)
}

// customerID is a customer's X id: the recording's when it is numeric (the
// dataset's anonymised ids are), else a stable number made from it.
func customerID(author string) string {
	if care.IsID(author) {
		return author
	}
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(author)))
	return strconv.FormatUint(h.Sum64()>>1|1<<62, 10)
}

// customerHandle is a customer's @handle: the recording's author id, as the
// brand's answers in the dataset address them, when it can be one.
func customerHandle(author string) string {
	if m := handlePattern.FindString("@" + author); len(m) == len(author)+1 {
		return author
	}
	return "user" + customerID(author)[:8]
}
