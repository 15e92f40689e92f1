package xfake

// Owned reads: what the authenticated account reads about itself — GET /2/users/me,
// its posts (GET /2/users/{id}/tweets, which also serves other users' posts, as on
// X) and its one-to-one DM conversations (GET
// /2/dm_conversations/with/{participant_id}/dm_events). Shapes and parameters as
// documented on docs.x.com ("Users lookup", "User Posts timeline", "Direct
// Messages lookup", 2026-08).

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DM is a one-to-one direct message the fake holds: a MessageCreate event of the
// conversation between SenderID and RecipientID.
type DM struct {
	// ID is the DM event id; empty means "assign the next snowflake-like id".
	ID          string
	SenderID    string
	RecipientID string
	Text        string
	// CreatedAt defaults to the fake's clock.
	CreatedAt time.Time
}

// ConversationID is X's id of the one-to-one conversation: the two user ids,
// lower first, joined by "-".
func (d DM) ConversationID() string { return conversationID(d.SenderID, d.RecipientID) }

func conversationID(a, b string) string {
	na, _ := parseID(a)
	nb, _ := parseID(b)
	return formatID(min(na, nb)) + "-" + formatID(max(na, nb))
}

// AddDM adds a DM, such as one a customer sent to the brand, and returns it as
// stored (with its id). A DM whose id the fake already holds is ignored. AddDM
// panics on a sender, recipient or id that is not a decimal X id, or on a DM to its
// sender: they are test-setup mistakes.
func (s *Server) AddDM(dm DM) DM {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.addDMLocked(dm)
}

// validDM reports whether the DM's sender and recipient are two X ids and its id,
// if set, is one.
func validDM(dm DM) bool {
	_, okS := parseID(dm.SenderID)
	_, okR := parseID(dm.RecipientID)
	_, okID := parseID(dm.ID)
	return okS && okR && dm.SenderID != dm.RecipientID && (dm.ID == "" || okID)
}

func (s *Server) addDMLocked(dm DM) *DM {
	if !validDM(dm) {
		panic(fmt.Sprintf("xfake: DM %q from %q to %q: the id, sender and recipient must be decimal X ids, and the sender and recipient two users",
			dm.ID, dm.SenderID, dm.RecipientID))
	}
	now := s.now()
	if dm.ID == "" {
		dm.ID = formatID(s.nextIDLocked(now))
	}
	id, _ := parseID(dm.ID)
	if old, ok := s.dms[id]; ok {
		return old
	}
	s.lastID = max(s.lastID, id)
	if dm.CreatedAt.IsZero() {
		dm.CreatedAt = now
	}
	dm.CreatedAt = dm.CreatedAt.UTC()
	stored := dm
	s.dms[id] = &stored
	s.kept(keepRecord{DM: &stored})
	return &stored
}

// refuseUnknownUser answers 403 when the access token names no user and SetMe was
// not called; it reports whether it did.
func refuseUnknownUser(w http.ResponseWriter, user string) bool {
	if user != "" {
		return false
	}
	writeProblem(w, http.StatusForbidden, "Forbidden",
		"xfake: cannot tell which user the access token belongs to: use a token of the form <user id>-… or call Server.SetMe",
		"about:blank")
	return true
}

// meParams are the query parameters of GET /2/users/me.
var meParams = splitSet("user.fields,expansions,tweet.fields")

// authenticatedUser answers GET /2/users/me: the user the access token acts for.
func (s *Server) authenticatedUser(w http.ResponseWriter, r *http.Request, token string) {
	q := r.URL.Query()
	if !knownParams(w, q, meParams) {
		return
	}
	fields, ok := listParam(w, q, "user.fields", userFields)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.authorOf(token)
	if refuseUnknownUser(w, id) {
		return
	}
	u, ok := s.users[id]
	if !ok {
		u = User{ID: id, Username: "user" + id, Name: "User " + id}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": renderUser(u, fields)})
}

// userPostsSpec: the User Posts timeline pages as the mentions timeline does, and
// may exclude retweets and replies.
var userPostsSpec = readSpec{params: splitSet("pagination_token,exclude"), tokens: []string{"pagination_token"}, minResults: 5}

// excludeValues are the values of GET /2/users/{id}/tweets' exclude.
var excludeValues = splitSet("replies,retweets")

// userPosts answers GET /2/users/{id}/tweets: the posts the user wrote.
func (s *Server) userPosts(w http.ResponseWriter, r *http.Request, userID string) {
	if _, ok := parseID(userID); !ok {
		invalid(w, "id", userID, fmt.Sprintf("The `id` query parameter value [%s] does not match ^[0-9]{1,19}$", userID))
		return
	}
	exclude, ok := listParam(w, r.URL.Query(), "exclude", excludeValues)
	if !ok {
		return
	}
	rd, ok := parseRead(w, r, userPostsSpec)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answerRead(w, rd, func(p *Post) bool {
		return p.AuthorID == userID &&
			!(exclude["retweets"] && p.hasRef(RefRetweeted)) &&
			!(exclude["replies"] && p.hasRef(RefRepliedTo))
	})
}

// Parameters and values of the DM reads.
var (
	dmParams = splitSet("max_results,pagination_token,event_types,dm_event.fields,expansions," +
		"user.fields,tweet.fields,media.fields")
	dmEventFields = splitSet("attachments,created_at,dm_conversation_id,entities,event_type,id,participant_ids," +
		"referenced_tweets,sender_id,text")
	dmExpansions = splitSet("attachments.media_keys,participant_ids,referenced_tweets.id,sender_id")
	dmEventTypes = splitSet("MessageCreate,ParticipantsJoin,ParticipantsLeave")
)

// minDMToken is the shortest pagination token X accepts on the DM reads.
const minDMToken = 16

// dmToken is a pagination token of the DM reads, padded to X's minimum length.
func dmToken(id uint64) string {
	t := strconv.FormatUint(id, 36)
	if pad := minDMToken - len(tokenPrefix) - len(t); pad > 0 {
		t = strings.Repeat("0", pad) + t
	}
	return tokenPrefix + t
}

// dmEvents answers GET /2/dm_conversations/with/{participant_id}/dm_events: the
// DMs between the access token's user and the participant.
func (s *Server) dmEvents(w http.ResponseWriter, r *http.Request, participant, token string) {
	if _, ok := parseID(participant); !ok {
		invalid(w, "participant_id", participant, fmt.Sprintf("The `participant_id` query parameter value [%s] does not match ^[0-9]{1,19}$", participant))
		return
	}
	q := r.URL.Query()
	if !knownParams(w, q, dmParams) {
		return
	}
	limit := 100
	if v := q.Get("max_results"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			invalid(w, "max_results", v, fmt.Sprintf("The `max_results` query parameter value [%s] is not between 1 and 100", v))
			return
		}
		limit = n
	}
	var before uint64
	if v := q.Get("pagination_token"); v != "" {
		id, ok := parseToken(v)
		if !ok || len(v) < minDMToken {
			invalid(w, "pagination_token", v, fmt.Sprintf("The `pagination_token` query parameter value [%s] is not valid", v))
			return
		}
		before = id
	}
	lists := []struct {
		name  string
		known set
	}{
		{"dm_event.fields", dmEventFields}, {"expansions", dmExpansions}, {"event_types", dmEventTypes},
		{"user.fields", userFields}, {"tweet.fields", tweetFields},
	}
	for _, l := range lists {
		if _, ok := listParam(w, q, l.name, l.known); !ok {
			return
		}
	}
	fields := splitSet(q.Get("dm_event.fields"))
	types := splitSet(q.Get("event_types"))

	s.mu.Lock()
	defer s.mu.Unlock()
	me := s.authorOf(token)
	if refuseUnknownUser(w, me) {
		return
	}
	var events []*DM
	if len(types) == 0 || types["MessageCreate"] {
		for id, dm := range s.dms {
			if before != 0 && id >= before {
				continue
			}
			if dm.SenderID == me && dm.RecipientID == participant || dm.SenderID == participant && dm.RecipientID == me {
				events = append(events, dm)
			}
		}
	}
	slices.SortFunc(events, func(a, b *DM) int {
		na, _ := parseID(a.ID)
		nb, _ := parseID(b.ID)
		return cmp.Compare(nb, na)
	})
	meta := map[string]any{}
	if len(events) > limit {
		events = events[:limit]
		last, _ := parseID(events[len(events)-1].ID)
		meta["next_token"] = dmToken(last)
	}
	meta["result_count"] = len(events)
	out := map[string]any{"meta": meta}
	if len(events) > 0 {
		data := make([]map[string]any, 0, len(events))
		for _, dm := range events {
			data = append(data, renderDM(dm, fields))
		}
		out["data"] = data
	}
	writeJSON(w, http.StatusOK, out)
}

// renderDM returns the DM as an X API v2 DmEvent with the requested fields (id,
// text and event_type are always there; participant_ids belongs to
// ParticipantsJoin and ParticipantsLeave events only).
func renderDM(dm *DM, fields set) map[string]any {
	out := map[string]any{"id": dm.ID, "event_type": "MessageCreate", "text": dm.Text}
	if fields["created_at"] {
		out["created_at"] = dm.CreatedAt.UTC().Format(xTime)
	}
	if fields["sender_id"] {
		out["sender_id"] = dm.SenderID
	}
	if fields["dm_conversation_id"] {
		out["dm_conversation_id"] = dm.ConversationID()
	}
	return out
}
