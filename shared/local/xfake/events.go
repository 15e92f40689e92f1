package xfake

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
)

// SeedFromEvents reads the sample webhook bodies of dir (the repository's events/)
// and returns the posts and users they carry, ready for SetUser and Seed:
//
//   - xaa-*.json (X Activity API): the v2 Post payload of post.* events (except
//     post.delete), and includes.users and includes.tweets;
//   - aaa-*.json (Account Activity API): the v1.1 tweets of tweet_create_events,
//     converted to the v2 layout (extended_tweet.full_text as the text, replies,
//     quotes and retweets as referenced_tweets), with their retweeted and quoted
//     posts, and their users.
//
// X Activity API files are read first, so that a post found in both generations
// keeps its richer v2 form; each post and user appears once. Files that are not
// valid JSON (events/malformed.json) and DM, delete or revoke events are skipped.
func SeedFromEvents(dir string) ([]Post, []User, error) {
	files, err := SampleFiles(dir)
	if err != nil {
		return nil, nil, err
	}
	c := &collector{seenPosts: set{}, seenUsers: set{}}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("xfake: reading sample events: %w", err)
		}
		if !json.Valid(body) {
			continue
		}
		if err := c.delivery(body); err != nil {
			return nil, nil, fmt.Errorf("xfake: %s: %w", filepath.Base(f), err)
		}
	}
	return c.posts, c.users, nil
}

// SampleFiles lists the sample webhook bodies of dir that SeedFromEvents reads,
// in the order it reads them: xaa-*.json, then aaa-*.json, each sorted.
func SampleFiles(dir string) ([]string, error) {
	var files []string
	for _, pattern := range []string{"xaa-*.json", "aaa-*.json"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return nil, fmt.Errorf("xfake: listing %s in %s: %w", pattern, dir, err)
		}
		slices.Sort(m)
		files = append(files, m...)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("xfake: no xaa-*.json or aaa-*.json sample events in %s", dir)
	}
	return files, nil
}

// EventPosts returns the posts and users that one webhook delivery of either
// generation carries, as SeedFromEvents reads them: what X holds once it has
// notified about them.
func EventPosts(body []byte) ([]Post, []User, error) {
	c := &collector{seenPosts: set{}, seenUsers: set{}}
	if err := c.delivery(body); err != nil {
		return nil, nil, fmt.Errorf("xfake: %w", err)
	}
	return c.posts, c.users, nil
}

// delivery collects one webhook body: an X Activity API event has "data" at the
// top, an Account Activity API one does not.
func (c *collector) delivery(body []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return fmt.Errorf("not a webhook delivery: %w", err)
	}
	if _, ok := top["data"]; ok {
		return c.xaa(body)
	}
	return c.aaa(body)
}

// collector gathers posts and users, each once.
type collector struct {
	posts     []Post
	users     []User
	seenPosts set
	seenUsers set
}

// addPost collects p once. A post whose id is not an X id (care.IsID: a decimal
// of X's 64 bits, which the fake's parseID agrees with) is left out: X would hold no
// such post, and a webhook delivery carrying one is the webhook's to judge (it
// quarantines it).
func (c *collector) addPost(p Post) {
	if !care.IsID(p.ID) || c.seenPosts[p.ID] {
		return
	}
	c.seenPosts[p.ID] = true
	c.posts = append(c.posts, p)
}

func (c *collector) addUser(u User) {
	if u.ID == "" || c.seenUsers[u.ID] {
		return
	}
	c.seenUsers[u.ID] = true
	c.users = append(c.users, u)
}

// ---- X Activity API (v2 layout) ----

type v2PostJSON struct {
	ID               string      `json:"id"`
	Text             string      `json:"text"`
	AuthorID         string      `json:"author_id"`
	CreatedAt        string      `json:"created_at"`
	ConversationID   string      `json:"conversation_id"`
	Lang             string      `json:"lang"`
	InReplyToUserID  string      `json:"in_reply_to_user_id"`
	ReferencedTweets []Ref       `json:"referenced_tweets"`
	Entities         *Entities   `json:"entities"`
	NoteTweet        *NoteTweet  `json:"note_tweet"`
	PublicMetrics    PostMetrics `json:"public_metrics"`
}

func (j *v2PostJSON) post() (Post, error) {
	created, err := time.Parse(time.RFC3339, j.CreatedAt)
	if err != nil && j.CreatedAt != "" {
		return Post{}, fmt.Errorf("post %s: created_at %q: %w", j.ID, j.CreatedAt, err)
	}
	return Post{
		ID: j.ID, Text: j.Text, AuthorID: j.AuthorID, CreatedAt: created, ConversationID: j.ConversationID,
		Lang: j.Lang, InReplyToUserID: j.InReplyToUserID, ReferencedTweets: j.ReferencedTweets,
		Entities: j.Entities, NoteTweet: j.NoteTweet, PublicMetrics: j.PublicMetrics,
	}, nil
}

type v2UserJSON struct {
	ID            string `json:"id"`
	Username      string `json:"username"`
	Name          string `json:"name"`
	Verified      bool   `json:"verified"`
	VerifiedType  string `json:"verified_type"`
	Description   string `json:"description"`
	CreatedAt     string `json:"created_at"`
	PublicMetrics struct {
		Followers int `json:"followers_count"`
		Following int `json:"following_count"`
		Posts     int `json:"tweet_count"`
	} `json:"public_metrics"`
}

func (j *v2UserJSON) user() User {
	created, _ := time.Parse(time.RFC3339, j.CreatedAt)
	return User{
		ID: j.ID, Username: j.Username, Name: j.Name, Verified: j.Verified, VerifiedType: j.VerifiedType,
		Followers: j.PublicMetrics.Followers, Following: j.PublicMetrics.Following, PostCount: j.PublicMetrics.Posts,
		Description: j.Description, CreatedAt: created,
	}
}

type v2Includes struct {
	Users  []v2UserJSON `json:"users"`
	Tweets []v2PostJSON `json:"tweets"`
}

func (c *collector) xaa(body []byte) error {
	var ev struct {
		Data struct {
			EventType string          `json:"event_type"`
			Payload   json.RawMessage `json:"payload"`
			Includes  *v2Includes     `json:"includes"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		return fmt.Errorf("not an X Activity API event: %w", err)
	}
	if !strings.HasPrefix(ev.Data.EventType, "post.") || ev.Data.EventType == "post.delete" {
		return nil
	}
	var payload struct {
		v2PostJSON
		Data     *v2PostJSON `json:"data"` // a payload shaped like a v2 answer
		Includes *v2Includes `json:"includes"`
	}
	if err := json.Unmarshal(ev.Data.Payload, &payload); err != nil {
		return fmt.Errorf("%s payload: %w", ev.Data.EventType, err)
	}
	top := &payload.v2PostJSON
	if top.ID == "" && payload.Data != nil {
		top = payload.Data
	}
	for _, inc := range []*v2Includes{ev.Data.Includes, payload.Includes} {
		if inc == nil {
			continue
		}
		for i := range inc.Users {
			c.addUser(inc.Users[i].user())
		}
	}
	p, err := top.post()
	if err != nil {
		return err
	}
	c.addPost(p)
	for _, inc := range []*v2Includes{ev.Data.Includes, payload.Includes} {
		if inc == nil {
			continue
		}
		for i := range inc.Tweets {
			p, err := inc.Tweets[i].post()
			if err != nil {
				return err
			}
			c.addPost(p)
		}
	}
	return nil
}

// ---- Account Activity API (v1.1 layout) ----

type v1User struct {
	IDStr       string `json:"id_str"`
	ScreenName  string `json:"screen_name"`
	Name        string `json:"name"`
	Verified    bool   `json:"verified"`
	Followers   int    `json:"followers_count"`
	Friends     int    `json:"friends_count"`
	Statuses    int    `json:"statuses_count"`
	Description string `json:"description"`
	CreatedAt   string `json:"created_at"`
}

type v1Tweet struct {
	IDStr                string `json:"id_str"`
	Text                 string `json:"text"`
	FullText             string `json:"full_text"`
	CreatedAt            string `json:"created_at"`
	Lang                 string `json:"lang"`
	InReplyToStatusIDStr string `json:"in_reply_to_status_id_str"`
	InReplyToUserIDStr   string `json:"in_reply_to_user_id_str"`
	QuotedStatusIDStr    string `json:"quoted_status_id_str"`
	User                 v1User `json:"user"`
	ExtendedTweet        *struct {
		FullText string `json:"full_text"`
	} `json:"extended_tweet"`
	RetweetedStatus *v1Tweet `json:"retweeted_status"`
	QuotedStatus    *v1Tweet `json:"quoted_status"`
	QuoteCount      int      `json:"quote_count"`
	ReplyCount      int      `json:"reply_count"`
	RetweetCount    int      `json:"retweet_count"`
	FavoriteCount   int      `json:"favorite_count"`
}

func (c *collector) aaa(body []byte) error {
	var b struct {
		Tweets []v1Tweet `json:"tweet_create_events"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return fmt.Errorf("not an Account Activity API body: %w", err)
	}
	for i := range b.Tweets {
		if err := c.v1(&b.Tweets[i]); err != nil {
			return err
		}
	}
	return nil
}

// v1 converts a v1.1 tweet (and the posts it embeds) to the v2 layout.
func (c *collector) v1(t *v1Tweet) error {
	created, err := time.Parse(time.RubyDate, t.CreatedAt)
	if err != nil {
		return fmt.Errorf("tweet %s: created_at %q: %w", t.IDStr, t.CreatedAt, err)
	}
	u := t.User
	ucreated, _ := time.Parse(time.RubyDate, u.CreatedAt)
	c.addUser(User{ID: u.IDStr, Username: u.ScreenName, Name: u.Name, Verified: u.Verified,
		Followers: u.Followers, Following: u.Friends, PostCount: u.Statuses, Description: u.Description, CreatedAt: ucreated})
	p := Post{
		ID: t.IDStr, Text: firstNonEmpty(t.FullText, t.Text), AuthorID: u.IDStr, CreatedAt: created.UTC(),
		Lang: t.Lang, InReplyToUserID: t.InReplyToUserIDStr,
		PublicMetrics: PostMetrics{RetweetCount: t.RetweetCount, ReplyCount: t.ReplyCount, LikeCount: t.FavoriteCount, QuoteCount: t.QuoteCount},
	}
	if t.ExtendedTweet != nil && t.ExtendedTweet.FullText != "" {
		p.Text = t.ExtendedTweet.FullText
	}
	if t.InReplyToStatusIDStr != "" {
		p.ReferencedTweets = append(p.ReferencedTweets, Ref{Type: RefRepliedTo, ID: t.InReplyToStatusIDStr})
	}
	if t.QuotedStatusIDStr != "" {
		p.ReferencedTweets = append(p.ReferencedTweets, Ref{Type: RefQuoted, ID: t.QuotedStatusIDStr})
	}
	if t.RetweetedStatus != nil {
		p.ReferencedTweets = append(p.ReferencedTweets, Ref{Type: RefRetweeted, ID: t.RetweetedStatus.IDStr})
	}
	c.addPost(p)
	for _, embedded := range []*v1Tweet{t.RetweetedStatus, t.QuotedStatus} {
		if embedded != nil {
			if err := c.v1(embedded); err != nil {
				return err
			}
		}
	}
	return nil
}

// MoveToRecent returns copies of posts whose created_at are all shifted by the same
// amount so that the newest is at newest: the sample events are dated August 2026,
// and a listener that starts by reading the last hour finds them only once moved.
// Ids are left alone (they keep their order).
func MoveToRecent(posts []Post, newest time.Time) []Post {
	var latest time.Time
	for _, p := range posts {
		if p.CreatedAt.After(latest) {
			latest = p.CreatedAt
		}
	}
	shift := newest.Sub(latest)
	out := slices.Clone(posts)
	for i := range out {
		if !out[i].CreatedAt.IsZero() {
			out[i].CreatedAt = out[i].CreatedAt.Add(shift).UTC()
		}
	}
	return out
}

// FitWithin returns copies of posts whose created_at are mapped linearly from
// their own span onto [oldest, newest], keeping their order and relative spacing:
// the local system uses it so that a listener reading the last hour finds every
// sample post. Posts with no created_at are left alone; ids are not changed.
func FitWithin(posts []Post, oldest, newest time.Time) []Post {
	first, last := Span(posts)
	out := slices.Clone(posts)
	span, target := last.Sub(first), newest.Sub(oldest)
	for i := range out {
		if out[i].CreatedAt.IsZero() {
			continue
		}
		at := newest
		if span > 0 {
			at = oldest.Add(time.Duration(float64(target) * float64(out[i].CreatedAt.Sub(first)) / float64(span)))
		}
		out[i].CreatedAt = at.UTC()
	}
	return out
}

// Span returns the creation times of the oldest and the newest of posts (zero
// times when none has one).
func Span(posts []Post) (oldest, newest time.Time) {
	for _, p := range posts {
		if p.CreatedAt.IsZero() {
			continue
		}
		if oldest.IsZero() || p.CreatedAt.Before(oldest) {
			oldest = p.CreatedAt
		}
		if p.CreatedAt.After(newest) {
			newest = p.CreatedAt
		}
	}
	return oldest, newest
}
