package xfake

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Post is a post (tweet) the fake serves, with the X API v2 Post fields Pajarito
// reads. Only ID-less or zero fields are filled in when it is added (see
// Server.Seed); Entities and NoteTweet, when nil, are derived from Text each time
// the post is served, so that mentions resolve against the users known by then.
type Post struct {
	// ID is the decimal post id; empty means "assign the next snowflake-like id".
	ID   string
	Text string
	// AuthorID is the author's user id; an author the fake does not know is added
	// as a placeholder user.
	AuthorID string
	// CreatedAt defaults to the fake's clock.
	CreatedAt time.Time
	// ConversationID defaults to the replied-to post's conversation, else to ID.
	ConversationID  string
	Lang            string
	InReplyToUserID string
	// ReferencedTweets lists the replied-to, quoted or retweeted post.
	ReferencedTweets []Ref
	// Entities, when nil, are derived from the text: @mentions (with the user id
	// when the fake knows the handle), #hashtags and http(s) links.
	Entities *Entities
	// NoteTweet holds the full text of a long post. When nil and Text is longer than
	// 280 characters, X's layout is reproduced: note_tweet.text is Text and text is
	// its first 279 characters followed by "…".
	NoteTweet     *NoteTweet
	PublicMetrics PostMetrics
}

// Ref is one of a post's referenced_tweets.
type Ref struct {
	Type string `json:"type"` // "replied_to", "quoted" or "retweeted"
	ID   string `json:"id"`
}

// Types of Ref.
const (
	RefRepliedTo = "replied_to"
	RefQuoted    = "quoted"
	RefRetweeted = "retweeted"
)

// Entities are the v2 entities of a post's text. Start and End count characters.
type Entities struct {
	Mentions []Mention `json:"mentions,omitempty"`
	Hashtags []Tag     `json:"hashtags,omitempty"`
	URLs     []URL     `json:"urls,omitempty"`
}

func (e *Entities) empty() bool {
	return e == nil || len(e.Mentions)+len(e.Hashtags)+len(e.URLs) == 0
}

// Mention is an @mention entity.
type Mention struct {
	Start    int    `json:"start"`
	End      int    `json:"end"`
	Username string `json:"username"`
	ID       string `json:"id,omitempty"`
}

// Tag is a #hashtag entity.
type Tag struct {
	Start int    `json:"start"`
	End   int    `json:"end"`
	Tag   string `json:"tag"`
}

// URL is a link entity.
type URL struct {
	Start       int    `json:"start"`
	End         int    `json:"end"`
	URL         string `json:"url"`
	ExpandedURL string `json:"expanded_url,omitempty"`
	DisplayURL  string `json:"display_url,omitempty"`
}

// NoteTweet is the full text of a long post.
type NoteTweet struct {
	Text     string    `json:"text"`
	Entities *Entities `json:"entities,omitempty"`
}

// PostMetrics are a post's public_metrics.
type PostMetrics struct {
	RetweetCount    int `json:"retweet_count"`
	ReplyCount      int `json:"reply_count"`
	LikeCount       int `json:"like_count"`
	QuoteCount      int `json:"quote_count"`
	BookmarkCount   int `json:"bookmark_count"`
	ImpressionCount int `json:"impression_count"`
}

// User is an X account the fake knows, rendered as a v2 User object.
type User struct {
	ID       string
	Username string // without "@"
	Name     string
	// Verified and VerifiedType ("blue", "business", "government" or "none").
	Verified     bool
	VerifiedType string
	Followers    int
	Following    int
	PostCount    int
	Description  string
	CreatedAt    time.Time
}

// MaxPostLength is the length past which a post is a long post (note_tweet).
const MaxPostLength = 280

// fullText is the whole text of the post, long or not.
func (p *Post) fullText() string {
	if p.NoteTweet != nil && p.NoteTweet.Text != "" {
		return p.NoteTweet.Text
	}
	return p.Text
}

// hasRef reports whether the post references another with the given type.
func (p *Post) hasRef(typ string) bool {
	for _, r := range p.ReferencedTweets {
		if r.Type == typ {
			return true
		}
	}
	return false
}

// ---- rendering ----

// xTime is X's timestamp layout ("2026-08-18T15:47:03.000Z").
const xTime = "2006-01-02T15:04:05.000Z"

// render returns the post as X API v2 JSON with the requested tweet.fields (id, text
// and edit_history_tweet_ids are always there, as on X).
func (s *Server) render(p *Post, fields set) map[string]any {
	text, note := p.Text, p.NoteTweet
	if note == nil && utf8.RuneCountInString(text) > MaxPostLength {
		note = &NoteTweet{Text: text}
		text = string([]rune(text)[:MaxPostLength-1]) + "…"
	}
	out := map[string]any{
		"id":                     p.ID,
		"text":                   text,
		"edit_history_tweet_ids": []string{p.ID},
	}
	if fields["author_id"] {
		out["author_id"] = p.AuthorID
	}
	if fields["created_at"] {
		out["created_at"] = p.CreatedAt.UTC().Format(xTime)
	}
	if fields["conversation_id"] && p.ConversationID != "" {
		out["conversation_id"] = p.ConversationID
	}
	if fields["lang"] && p.Lang != "" {
		out["lang"] = p.Lang
	}
	if fields["in_reply_to_user_id"] && p.InReplyToUserID != "" {
		out["in_reply_to_user_id"] = p.InReplyToUserID
	}
	if fields["referenced_tweets"] && len(p.ReferencedTweets) > 0 {
		out["referenced_tweets"] = p.ReferencedTweets
	}
	if fields["entities"] {
		if ents := s.entities(p.Entities, text); !ents.empty() {
			out["entities"] = ents
		}
	}
	if fields["note_tweet"] && note != nil {
		n := *note
		n.Entities = s.entities(note.Entities, note.Text)
		if n.Entities.empty() {
			n.Entities = nil
		}
		out["note_tweet"] = n
	}
	if fields["public_metrics"] {
		out["public_metrics"] = p.PublicMetrics
	}
	return out
}

// renderUser returns the user as X API v2 JSON with the requested user.fields (id,
// name and username are always there).
func renderUser(u User, fields set) map[string]any {
	out := map[string]any{"id": u.ID, "name": u.Name, "username": u.Username}
	if fields["verified"] {
		out["verified"] = u.Verified
	}
	if fields["verified_type"] {
		out["verified_type"] = firstNonEmpty(u.VerifiedType, "none")
	}
	if fields["public_metrics"] {
		out["public_metrics"] = map[string]int{
			"followers_count": u.Followers,
			"following_count": u.Following,
			"tweet_count":     u.PostCount,
			"listed_count":    0,
		}
	}
	if fields["description"] {
		out["description"] = u.Description
	}
	if fields["created_at"] && !u.CreatedAt.IsZero() {
		out["created_at"] = u.CreatedAt.UTC().Format(xTime)
	}
	return out
}

// entities returns explicit entities, or derives them from text.
func (s *Server) entities(explicit *Entities, text string) *Entities {
	if explicit != nil {
		return explicit
	}
	return deriveEntities(text, s.userByHandle)
}

// deriveEntities finds @mentions, #hashtags and http(s) links in text the way X's
// tokeniser roughly does. lookup resolves a handle to a user id ("" if unknown).
func deriveEntities(text string, lookup func(handle string) string) *Entities {
	ents := &Entities{}
	runes := []rune(text)
	for i := 0; i < len(runes); i++ {
		r := runes[i]
		prevWord := i > 0 && isWordRune(runes[i-1])
		switch {
		case (r == '@' || r == '#') && !prevWord:
			j := i + 1
			for j < len(runes) && isWordRune(runes[j]) {
				j++
			}
			word := string(runes[i+1 : j])
			if word == "" {
				continue
			}
			if r == '@' && len(word) <= 15 && isHandle(word) {
				ents.Mentions = append(ents.Mentions, Mention{Start: i, End: j, Username: word, ID: lookup(word)})
			} else if r == '#' && strings.IndexFunc(word, func(c rune) bool { return !unicode.IsDigit(c) }) >= 0 {
				ents.Hashtags = append(ents.Hashtags, Tag{Start: i, End: j, Tag: word})
			}
			i = j - 1
		case (r == 'h' || r == 'H') && !prevWord && hasLinkPrefix(runes[i:]):
			j := i
			for j < len(runes) && !unicode.IsSpace(runes[j]) {
				j++
			}
			link := strings.TrimRight(string(runes[i:j]), ".,;:!?)\"'")
			end := i + utf8.RuneCountInString(link)
			display := strings.TrimPrefix(strings.TrimPrefix(link, "https://"), "http://")
			ents.URLs = append(ents.URLs, URL{Start: i, End: end, URL: link, ExpandedURL: link, DisplayURL: display})
			i = j - 1
		}
	}
	return ents
}

func hasLinkPrefix(r []rune) bool {
	s := strings.ToLower(string(r[:min(len(r), 8)]))
	return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")
}

// isWordRune reports whether r belongs to a word token (letters, digits, marks, _).
func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// isHandle reports whether s is a valid X handle (ASCII letters, digits, _).
func isHandle(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return s != ""
}

// ---- ids ----

// parseID reads a decimal X id.
func parseID(s string) (uint64, bool) {
	if s == "" || len(s) > 20 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

func formatID(n uint64) string { return strconv.FormatUint(n, 10) }

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// set is a set of strings (requested fields, expansions).
type set map[string]bool

func splitSet(csv string) set {
	s := set{}
	for _, f := range strings.Split(csv, ",") {
		if f = strings.TrimSpace(f); f != "" {
			s[f] = true
		}
	}
	return s
}
