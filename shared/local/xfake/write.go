package xfake

import (
	"encoding/json"
	"fmt"
	"github.com/pajarito-care/pajarito/shared/xapi"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxDMLength is the longest DM text X accepts.
const MaxDMLength = 10000

// writeFaults are the refusals the write endpoints are steered into (Storm, Block,
// RestrictReplies). s.mu guards them.
type writeFaults struct {
	storms     map[string]time.Time // endpoint → end of its 429 storm (fake clock)
	blocked    set                  // users who block the posting account
	restricted bool                 // replies only where the author engaged the account
}

// Storm makes a write endpoint (xapi.EndpointCreatePost or xapi.EndpointSendDM) answer 429
// Too Many Requests to every request for d of the fake's clock from now, whatever
// its window holds, as X does when it throttles an account. The answers carry
// x-rate-limit-remaining 0 and x-rate-limit-reset at the storm's end (rounded up to
// the second). The refused requests still count against the window. d <= 0 ends a
// storm.
func (s *Server) Storm(endpoint string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.storms == nil {
		s.faults.storms = map[string]time.Time{}
	}
	if d <= 0 {
		delete(s.faults.storms, endpoint)
		return
	}
	s.faults.storms[endpoint] = s.now().Add(d)
}

// Block makes users block the posting account (the brand): replies to their posts
// and DMs to them are refused with X's 403.
func (s *Server) Block(users ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.blocked == nil {
		s.faults.blocked = set{}
	}
	for _, u := range users {
		s.faults.blocked[u] = true
	}
}

// RestrictReplies applies (or lifts) the self-serve tiers' rule: a reply is
// allowed only to a post whose author mentioned the replying account or replied to
// one of its posts; others are refused with X's 403.
func (s *Server) RestrictReplies(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.restricted = on
}

// DeletePost removes a post, as its author deleting it would: it is no longer
// served, and replying to it is refused with X's 403.
func (s *Server) DeletePost(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := parseID(id); ok {
		delete(s.posts, n)
	}
}

// stormed answers 429 when the endpoint is in a storm; it reports whether it did.
func (s *Server) stormed(w http.ResponseWriter, endpoint string) bool {
	s.mu.Lock()
	end, ok := s.faults.storms[endpoint]
	now := s.now()
	if ok && !now.Before(end) {
		delete(s.faults.storms, endpoint)
		ok = false
	}
	s.mu.Unlock()
	if !ok {
		return false
	}
	reset := end.Unix()
	if end.Truncate(time.Second).Before(end) {
		reset++
	}
	h := w.Header()
	h.Set("x-rate-limit-remaining", "0")
	h.Set("x-rate-limit-reset", strconv.FormatInt(reset, 10))
	writeFailure(w, http.StatusTooManyRequests)
	return true
}

// engaged reports whether the post's author engaged user: mentioned them or
// replied to them. s.mu is held.
func (s *Server) engaged(p *Post, user string) bool {
	if p.InReplyToUserID == user {
		return true
	}
	handle := s.users[user].Username
	for _, m := range s.entities(p.Entities, p.fullText()).Mentions {
		if m.ID == user || handle != "" && strings.EqualFold(m.Username, handle) {
			return true
		}
	}
	return false
}

// authorOf returns the user an OAuth access token acts for: the id that prefixes it
// ("<id>-…", X's token layout), else the one set with SetMe. s.mu is held.
func (s *Server) authorOf(token string) string {
	if id, _, ok := strings.Cut(token, "-"); ok {
		if _, isID := parseID(id); isID {
			return id
		}
	}
	return s.me
}

// readBody reads a JSON request body of at most 1 MiB into v; on a problem it writes
// X's 400 answer and returns nil.
func readBody(w http.ResponseWriter, r *http.Request, v any) json.RawMessage {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(body, v)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"errors": []map[string]any{{"message": "Request body is not valid JSON: " + err.Error()}},
			"title":  "Invalid Request",
			"detail": "One or more parameters to your request was invalid.",
			"type":   "https://api.twitter.com/2/problems/invalid-request",
		})
		return nil
	}
	return body
}

// createPost answers POST /2/tweets.
func (s *Server) createPost(w http.ResponseWriter, r *http.Request, token string) {
	if s.stormed(w, xapi.EndpointCreatePost) {
		return
	}
	var in struct {
		Text  *string `json:"text"`
		Reply *struct {
			InReplyToTweetID string `json:"in_reply_to_tweet_id"`
		} `json:"reply"`
		QuoteTweetID string `json:"quote_tweet_id"`
		Media        *struct {
			MediaIDs []string `json:"media_ids"`
		} `json:"media"`
	}
	body := readBody(w, r, &in)
	if body == nil {
		return
	}
	text := ""
	if in.Text != nil {
		text = *in.Text
	}
	if text == "" && (in.Media == nil || len(in.Media.MediaIDs) == 0) {
		invalid(w, "text", "", "The `text` field is required when no media is attached")
		return
	}
	if n := utf8.RuneCountInString(text); n > MaxPostLength {
		writeProblem(w, http.StatusForbidden, "Forbidden",
			fmt.Sprintf("Your Tweet text is too long (%d characters; the limit is %d for this account).", n, MaxPostLength),
			"about:blank")
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	author := s.authorOf(token)
	if author == "" {
		writeProblem(w, http.StatusForbidden, "Forbidden",
			"xfake: cannot tell which user the access token belongs to: use a token of the form <user id>-… or call Server.SetMe",
			"about:blank")
		return
	}
	for _, p := range s.posts {
		if p.AuthorID == author && p.fullText() == text && text != "" {
			writeProblem(w, http.StatusForbidden, "Forbidden",
				"You are not allowed to create a Tweet with duplicate content.", "about:blank")
			return
		}
	}
	post := Post{AuthorID: author, Text: text}
	if in.Reply != nil && in.Reply.InReplyToTweetID != "" {
		id, _ := parseID(in.Reply.InReplyToTweetID)
		parent, ok := s.posts[id]
		if !ok {
			writeProblem(w, http.StatusForbidden, "Forbidden",
				"You attempted to reply to a Tweet that is deleted or not visible to you.", "about:blank")
			return
		}
		if s.faults.blocked[parent.AuthorID] {
			writeProblem(w, http.StatusForbidden, "Forbidden",
				"You cannot reply to this Tweet because its author has blocked you.", "about:blank")
			return
		}
		if s.faults.restricted && parent.AuthorID != author && !s.engaged(parent, author) {
			writeProblem(w, http.StatusForbidden, "Forbidden",
				"Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are replying to.",
				"about:blank")
			return
		}
		post.ReferencedTweets = append(post.ReferencedTweets, Ref{Type: RefRepliedTo, ID: parent.ID})
		post.InReplyToUserID = parent.AuthorID
		post.ConversationID = parent.ConversationID
		post.Lang = parent.Lang
	}
	if in.QuoteTweetID != "" {
		id, _ := parseID(in.QuoteTweetID)
		if _, ok := s.posts[id]; !ok {
			writeProblem(w, http.StatusForbidden, "Forbidden",
				"You attempted to quote a Tweet that is deleted or not visible to you.", "about:blank")
			return
		}
		post.ReferencedTweets = append(post.ReferencedTweets, Ref{Type: RefQuoted, ID: in.QuoteTweetID})
	}
	stored := s.addLocked(post)
	rec := Posted{Kind: "post", ID: stored.ID, AuthorID: author, Text: text, QuoteID: in.QuoteTweetID,
		ConversationID: stored.ConversationID, At: stored.CreatedAt, Body: body}
	if in.Reply != nil {
		rec.InReplyToID = in.Reply.InReplyToTweetID
	}
	s.posted = append(s.posted, rec)
	writeJSON(w, http.StatusCreated, map[string]any{"data": map[string]any{
		"id": stored.ID, "text": text, "edit_history_tweet_ids": []string{stored.ID},
	}})
}

// sendDM answers POST /2/dm_conversations/with/{participant_id}/messages.
func (s *Server) sendDM(w http.ResponseWriter, r *http.Request, participant, token string) {
	if s.stormed(w, xapi.EndpointSendDM) {
		return
	}
	if _, ok := parseID(participant); !ok {
		invalid(w, "participant_id", participant, fmt.Sprintf("The `participant_id` query parameter value [%s] does not match ^[0-9]{1,19}$", participant))
		return
	}
	var in struct {
		Text        string            `json:"text"`
		Attachments []json.RawMessage `json:"attachments"`
	}
	body := readBody(w, r, &in)
	if body == nil {
		return
	}
	if in.Text == "" && len(in.Attachments) == 0 {
		invalid(w, "text", "", "The `text` field is required when no attachment is given")
		return
	}
	if n := utf8.RuneCountInString(in.Text); n > MaxDMLength {
		invalid(w, "text", "", fmt.Sprintf("The `text` field is %d characters long; the maximum is %d", n, MaxDMLength))
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	author := s.authorOf(token)
	if author == "" {
		writeProblem(w, http.StatusForbidden, "Forbidden",
			"xfake: cannot tell which user the access token belongs to: use a token of the form <user id>-… or call Server.SetMe",
			"about:blank")
		return
	}
	if author == participant {
		writeProblem(w, http.StatusBadRequest, "Invalid Request", "You cannot send a Direct Message to yourself.",
			"https://api.twitter.com/2/problems/invalid-request")
		return
	}
	if s.faults.blocked[participant] {
		writeProblem(w, http.StatusForbidden, "Forbidden", "You cannot send messages to this user.", "about:blank")
		return
	}
	if _, ok := parseID(author); !ok {
		writeProblem(w, http.StatusForbidden, "Forbidden",
			fmt.Sprintf("xfake: the access token's user %q is not a decimal X id: fix the token or Server.SetMe", author), "about:blank")
		return
	}
	dm := s.addDMLocked(DM{SenderID: author, RecipientID: participant, Text: in.Text})
	conversation := dm.ConversationID()
	s.posted = append(s.posted, Posted{Kind: "dm", ID: dm.ID, AuthorID: author, Text: in.Text,
		ParticipantID: participant, ConversationID: conversation, At: dm.CreatedAt, Body: body})
	writeJSON(w, http.StatusCreated, map[string]any{"data": map[string]any{
		"dm_conversation_id": conversation, "dm_event_id": dm.ID,
	}})
}
