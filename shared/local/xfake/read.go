package xfake

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Fields and expansions X accepts on post reads. The fake renders the ones listed
// in render and renderUser and accepts (and omits) the others.
var (
	tweetFields = splitSet("article,attachments,author_id,card_uri,community_id,context_annotations,conversation_id," +
		"created_at,display_text_range,edit_controls,edit_history_tweet_ids,entities,geo,id,in_reply_to_user_id,lang," +
		"media_metadata,non_public_metrics,note_tweet,organic_metrics,possibly_sensitive,promoted_metrics," +
		"public_metrics,referenced_tweets,reply_settings,scopes,source,text,withheld")
	userFields = splitSet("affiliation,connection_status,created_at,description,entities,id,location," +
		"most_recent_tweet_id,name,pinned_tweet_id,profile_banner_url,profile_image_url,protected,public_metrics," +
		"receives_your_dm,subscription_type,url,username,verified,verified_type,withheld")
	expansionNames = splitSet("article.cover_media,article.media_entities,attachments.media_keys," +
		"attachments.media_source_tweet,attachments.poll_ids,author_id,edit_history_tweet_ids," +
		"entities.mentions.username,geo.place_id,in_reply_to_user_id,entities.note.mentions.username," +
		"referenced_tweets.id,referenced_tweets.id.attachments.media_keys,referenced_tweets.id.author_id")
)

// read is a parsed read request.
type read struct {
	sinceID, untilID, before uint64 // 0: none
	startTime, endTime       time.Time
	max                      int
	tweetFields, userFields  set
	expansions               set
}

// readSpec describes one read endpoint's parameters.
type readSpec struct {
	params     set      // parameters accepted besides the common ones
	tokens     []string // names of the pagination token parameter
	minResults int
}

var (
	commonReadParams = splitSet("since_id,until_id,start_time,end_time,max_results,expansions,tweet.fields," +
		"user.fields,media.fields,place.fields,poll.fields")
	mentionsSpec = readSpec{params: splitSet("pagination_token"), tokens: []string{"pagination_token"}, minResults: 5}
	searchSpec   = readSpec{params: splitSet("query,next_token,pagination_token,sort_order"),
		tokens: []string{"next_token", "pagination_token"}, minResults: 10}
)

// parseRead validates the query parameters as X does; on a problem it writes the
// 400 answer and returns false.
func parseRead(w http.ResponseWriter, r *http.Request, spec readSpec) (*read, bool) {
	q := r.URL.Query()
	for name, values := range q {
		if !commonReadParams[name] && !spec.params[name] {
			invalid(w, name, strings.Join(values, ","), fmt.Sprintf("The query parameter [%s] is not one of %s", name, paramList(spec)))
			return nil, false
		}
	}
	rd := &read{max: 10}
	for _, name := range []string{"since_id", "until_id"} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		id, ok := parseID(v)
		if !ok {
			invalid(w, name, v, fmt.Sprintf("The `%s` query parameter value [%s] does not match ^[0-9]{1,19}$", name, v))
			return nil, false
		}
		if name == "since_id" {
			rd.sinceID = id
		} else {
			rd.untilID = id
		}
	}
	for _, name := range []string{"start_time", "end_time"} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			invalid(w, name, v, fmt.Sprintf("Invalid '%s':'%s'. '%s' must be a valid RFC 3339 date (YYYY-MM-DDTHH:mm:ssZ)", name, v, name))
			return nil, false
		}
		if name == "start_time" {
			rd.startTime = t
		} else {
			rd.endTime = t
		}
	}
	if v := q.Get("max_results"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < spec.minResults || n > 100 {
			invalid(w, "max_results", v, fmt.Sprintf("The `max_results` query parameter value [%s] is not between %d and 100", v, spec.minResults))
			return nil, false
		}
		rd.max = n
	}
	for _, name := range spec.tokens {
		v := q.Get(name)
		if v == "" {
			continue
		}
		id, ok := parseToken(v)
		if !ok {
			invalid(w, name, v, fmt.Sprintf("The `%s` query parameter value [%s] is not valid", name, v))
			return nil, false
		}
		rd.before = id
	}
	lists := []struct {
		name  string
		known set
		dst   *set
	}{
		{"tweet.fields", tweetFields, &rd.tweetFields},
		{"user.fields", userFields, &rd.userFields},
		{"expansions", expansionNames, &rd.expansions},
	}
	for _, l := range lists {
		values, ok := listParam(w, q, l.name, l.known)
		if !ok {
			return nil, false
		}
		*l.dst = values
	}
	return rd, true
}

func paramList(spec readSpec) string {
	all := set{}
	for k := range commonReadParams {
		all[k] = true
	}
	for k := range spec.params {
		all[k] = true
	}
	return "[" + strings.Join(sortedKeys(all), ",") + "]"
}

func sortedKeys(s set) []string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Pagination tokens are opaque to clients; the fake's hold the id below which the
// next page starts, so that posts added meanwhile (with higher ids) shift nothing.
const tokenPrefix = "xf1"

func pageToken(id uint64) string { return tokenPrefix + strconv.FormatUint(id, 36) }

func parseToken(t string) (uint64, bool) {
	rest, ok := strings.CutPrefix(t, tokenPrefix)
	if !ok || rest == "" {
		return 0, false
	}
	id, err := strconv.ParseUint(rest, 36, 64)
	return id, err == nil
}

// mentions answers GET /2/users/{id}/mentions.
func (s *Server) mentions(w http.ResponseWriter, r *http.Request, userID string) {
	if _, ok := parseID(userID); !ok {
		invalid(w, "id", userID, fmt.Sprintf("The `id` query parameter value [%s] does not match ^[0-9]{1,19}$", userID))
		return
	}
	rd, ok := parseRead(w, r, mentionsSpec)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	handle := s.users[userID].Username
	s.answerRead(w, rd, func(p *Post) bool {
		for _, ents := range []*Entities{s.entities(p.Entities, p.Text), s.noteEntities(p)} {
			if ents == nil {
				continue
			}
			for _, m := range ents.Mentions {
				if m.ID == userID || handle != "" && strings.EqualFold(m.Username, handle) {
					return true
				}
			}
		}
		return false
	})
}

// noteEntities returns the entities of a long post's full text, or nil.
func (s *Server) noteEntities(p *Post) *Entities {
	if p.NoteTweet == nil {
		if len([]rune(p.Text)) > MaxPostLength {
			return s.entities(nil, p.Text)
		}
		return nil
	}
	return s.entities(p.NoteTweet.Entities, p.NoteTweet.Text)
}

// search answers GET /2/tweets/search/recent.
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.Query().Get("query")
	if raw == "" {
		invalid(w, "query", "", "The `query` query parameter can not be empty")
		return
	}
	query, err := ParseQuery(raw)
	if err != nil {
		invalid(w, "query", raw, "There were errors processing your request: "+err.Error())
		return
	}
	rd, ok := parseRead(w, r, searchSpec)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answerRead(w, rd, func(p *Post) bool {
		// Derive mentions against the users known now, as X resolves them.
		view := *p
		if view.Entities == nil {
			view.Entities = s.entities(nil, p.Text)
		}
		if ne := s.noteEntities(p); ne != nil {
			view.NoteTweet = &NoteTweet{Text: p.fullText(), Entities: ne}
		}
		return query.Match(&view, s.users[p.AuthorID])
	})
}

// answerRead writes one page of the posts that match, newest first. s.mu is held.
func (s *Server) answerRead(w http.ResponseWriter, rd *read, match func(*Post) bool) {
	ids := make([]uint64, 0, len(s.posts))
	for id := range s.posts {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b uint64) int { return cmp.Compare(b, a) })

	var page []*Post
	more := false
	for _, id := range ids {
		p := s.posts[id]
		switch {
		case rd.sinceID != 0 && id <= rd.sinceID,
			rd.untilID != 0 && id >= rd.untilID,
			rd.before != 0 && id >= rd.before,
			!rd.startTime.IsZero() && p.CreatedAt.Before(rd.startTime),
			!rd.endTime.IsZero() && p.CreatedAt.After(rd.endTime),
			!match(p):
			continue
		}
		if len(page) == rd.max {
			more = true
			break
		}
		page = append(page, p)
	}

	type meta struct {
		NewestID    string `json:"newest_id,omitempty"`
		OldestID    string `json:"oldest_id,omitempty"`
		ResultCount int    `json:"result_count"`
		NextToken   string `json:"next_token,omitempty"`
	}
	m := meta{ResultCount: len(page)}
	out := map[string]any{}
	if len(page) > 0 {
		m.NewestID, m.OldestID = page[0].ID, page[len(page)-1].ID
		if more {
			last, _ := parseID(m.OldestID)
			m.NextToken = pageToken(last)
		}
		data := make([]map[string]any, 0, len(page))
		for _, p := range page {
			data = append(data, s.render(p, rd.tweetFields))
		}
		out["data"] = data
		includes, errs := s.includes(page, rd)
		if len(includes) > 0 {
			out["includes"] = includes
		}
		if len(errs) > 0 {
			out["errors"] = errs
		}
	}
	out["meta"] = m
	writeJSON(w, http.StatusOK, out)
}

// includes expands the page as X does for the requested expansions, and lists the
// referenced posts it does not hold as partial errors.
func (s *Server) includes(page []*Post, rd *read) (map[string]any, []map[string]any) {
	var userIDs []string
	addUser := func(id string) {
		if id != "" && !slices.Contains(userIDs, id) {
			userIDs = append(userIDs, id)
		}
	}
	var tweets []map[string]any
	var errs []map[string]any
	seenTweets := set{}
	for _, p := range page {
		if rd.expansions["author_id"] {
			addUser(p.AuthorID)
		}
		if rd.expansions["in_reply_to_user_id"] {
			addUser(p.InReplyToUserID)
		}
		if rd.expansions["entities.mentions.username"] {
			for _, m := range s.entities(p.Entities, p.Text).Mentions {
				addUser(m.ID)
			}
		}
		if !rd.expansions["referenced_tweets.id"] && !rd.expansions["referenced_tweets.id.author_id"] {
			continue
		}
		for _, ref := range p.ReferencedTweets {
			id, _ := parseID(ref.ID)
			refPost, ok := s.posts[id]
			if !ok {
				if rd.expansions["referenced_tweets.id"] && !seenTweets[ref.ID] {
					seenTweets[ref.ID] = true
					errs = append(errs, map[string]any{
						"value":         ref.ID,
						"detail":        fmt.Sprintf("Could not find tweet with referenced_tweets.id: [%s].", ref.ID),
						"title":         "Not Found Error",
						"resource_type": "tweet",
						"parameter":     "referenced_tweets.id",
						"resource_id":   ref.ID,
						"type":          "https://api.twitter.com/2/problems/resource-not-found",
					})
				}
				continue
			}
			if rd.expansions["referenced_tweets.id"] && !seenTweets[ref.ID] {
				seenTweets[ref.ID] = true
				tweets = append(tweets, s.render(refPost, rd.tweetFields))
			}
			if rd.expansions["referenced_tweets.id.author_id"] {
				addUser(refPost.AuthorID)
			}
		}
	}
	includes := map[string]any{}
	if len(userIDs) > 0 {
		users := make([]map[string]any, 0, len(userIDs))
		for _, id := range userIDs {
			if u, ok := s.users[id]; ok {
				users = append(users, renderUser(u, rd.userFields))
			}
		}
		includes["users"] = users
	}
	if len(tweets) > 0 {
		includes["tweets"] = tweets
	}
	return includes, errs
}

// userByHandle returns the id of the user with the handle, or "". s.mu is held.
func (s *Server) userByHandle(handle string) string {
	for id, u := range s.users {
		if strings.EqualFold(u.Username, handle) {
			return id
		}
	}
	return ""
}
