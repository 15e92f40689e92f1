package xfake

// X Chat's conversation routes, as documented on docs.x.com (x-api/chat: "Add
// or initialize conversation keys", "Send chat message", 2026), OAuth 2.0 user
// context only (tokens issued by the fake's OAuth 2.0 server), and the chat.*
// deliveries of the X Activity API.
//
// POST /2/chat/conversations/{id}/keys takes {"conversation_key_version",
// "conversation_participant_keys":[{user_id, encrypted_conversation_key,
// public_key_version}], "action_signatures":[{message_id,
// encoded_message_event_detail, message_event_signature:{signature,
// signature_version, public_key_version}}]}: the fake frames the first action
// signature's key change as the MessageEvent X relays (sequence id from a
// fake-wide counter, the authenticated user as sender, the canonical
// "<low>:<high>" conversation id, the fake clock), checks that it parses as a
// key change of conversation_key_version, keeps it as the conversation's latest
// and answers 200 {"data":{"conversation_id","sequence_id"}}. Key-change
// signatures are not checked.
//
// POST /2/chat/conversations/{id}/messages takes {"message_id",
// "encoded_message_create_event", "encoded_message_event_signature",
// "conversation_token"}: the fake frames the message, verifies its signature
// against the sender's keys in the key registry (publickeys.go) and checks
// that its conversation key version is one a key change of the conversation
// announced; it answers 200 {"data":{"conversation_id","sequence_id",
// "encoded_message_event"}} (the framed event, its signature included). Every
// X Activity API subscription of a participant with a webhook then gets the
// message, asynchronously, as X delivers chat.received (to the recipient's)
// and chat.sent (to the sender's) events (events/xaa-chat-*.json: the event
// without its signature, the signature and the sender's signing key beside
// it, and the conversation's latest key change), signed with the consumer
// secret (SetConsumerSecret) and retried on failure; ChatDeliveries records
// them, Close stops them. Subscriptions without a webhook (X's stream) and
// invalid webhooks get nothing.
//
// {id} is the other participant's user id, or the conversation as "<a>-<b>" or
// "<a>:<b>" (one of them the authenticated user).
//
// Deliberately unlike X, so that tests catch what X would hide: X answers 200
// to a message it cannot verify and drops it; the fake answers 400 with the
// reason, as it does to a message before any key change or under a key version
// no key change announced. Not documented, so chosen here (assumptions to
// revisit): the rate limits (15 per 15 minutes per user for each route, as DM
// sends), the answer to a repeated message_id of the same sender (200 with
// the first answer, nothing stored or delivered again; key changes alike),
// that only the first action signature is framed, and that a conversation
// with oneself is refused (400).

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xchat"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

// X Chat's conversation routes, named as the X client names endpoints.
const (
	EndpointChatKeys = xapi.EndpointChatKeys
	EndpointChatSend = xapi.EndpointSendChat
)

func init() {
	limits[EndpointChatKeys] = struct{ user, app int }{user: 15}
	limits[EndpointChatSend] = struct{ user, app int }{user: 15}
}

// chatBackoff are the waits between the attempts of a chat delivery: one
// attempt more than waits.
var chatBackoff = []time.Duration{100 * time.Millisecond, 400 * time.Millisecond, 1600 * time.Millisecond}

// chatDeliveryTimeout bounds one attempt of a chat delivery.
const chatDeliveryTimeout = 10 * time.Second

// ChatDelivery is a chat.* delivery of a message to a webhook, as it ended.
type ChatDelivery struct {
	EventType      string // xwebhook.EventChatReceived or xwebhook.EventChatSent
	SubscriberID   string // the subscription's filter.user_id
	SubscriptionID string
	WebhookID      string
	URL            string // the webhook's URL; empty when not attempted
	EventUUID      string
	MessageID      string
	ConversationID string
	Attempts       int
	// Status is the webhook's last HTTP status, 0 when it never answered.
	Status int
	// Err is why the delivery failed for good; empty when it was delivered
	// (a 2xx answer).
	Err string
}

// chatState is the fake's X Chat conversations; s.mu guards it.
type chatState struct {
	seq        uint64 // the last sequence id given
	convs      map[string]*chatConv
	deliveries []ChatDelivery
	repeats    int
	inflight   int        // deliveries under way
	idle       *sync.Cond // on s.mu: inflight fell to 0
	ctx        context.Context
	cancel     context.CancelFunc
	closed     bool
}

// chatConv is a conversation's events.
type chatConv struct {
	events    []string              // base64 framed events, signature included, in order
	keyChange string                // the latest key change (base64)
	versions  set                   // the key versions its key changes announced
	answers   map[string]chatRecord // sender + " " + message id → its event
}

// chatRecord is an X Chat event the fake holds (and Keep keeps).
type chatRecord struct {
	ConversationID string `json:"conversation_id"`
	SenderID       string `json:"sender_id"`
	MessageID      string `json:"message_id"`
	SequenceID     string `json:"sequence_id"`
	KeyChange      bool   `json:"key_change,omitempty"`
	KeyVersion     string `json:"key_version"`
	Event          string `json:"event"` // base64 framed MessageEvent, signature included
}

// answer is the route's answer for the event.
func (rec chatRecord) answer() map[string]any {
	data := map[string]any{"conversation_id": rec.ConversationID, "sequence_id": rec.SequenceID}
	if !rec.KeyChange {
		data["encoded_message_event"] = rec.Event
	}
	return map[string]any{"data": data}
}

// ---- controls ----

// ChatEvents returns the events of an X Chat conversation ("<a>:<b>" or
// "<a>-<b>"), oldest first: base64 MessageEvents as X relays them, key changes
// and messages, signatures included (for X's SDK, or xchat, to decrypt).
func (s *Server) ChatEvents(conversationID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chat.convs[canonicalConversation(conversationID)]; c != nil {
		return slices.Clone(c.events)
	}
	return nil
}

// ChatDeliveries returns the chat.* deliveries that have ended, in the order
// they ended (WaitChatDeliveries waits for those under way).
func (s *Server) ChatDeliveries() []ChatDelivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.chat.deliveries)
}

// ChatRepeats returns how many X Chat requests repeated a message id of their
// sender in the conversation and were answered as the first one.
func (s *Server) ChatRepeats() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.chat.repeats
}

// WaitChatDeliveries waits until the chat.* deliveries under way have ended,
// delivered or given up: a delivery makes at most four attempts, 2.1 s of
// backoff apart in all, each of at most 10 s.
func (s *Server) WaitChatDeliveries() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.chat.inflight > 0 {
		s.chatIdleLocked().Wait()
	}
}

func (s *Server) chatIdleLocked() *sync.Cond {
	if s.chat.idle == nil {
		s.chat.idle = sync.NewCond(&s.mu)
	}
	return s.chat.idle
}

// closeChat stops the deliveries under way and waits for their goroutines;
// no delivery starts afterwards.
func (s *Server) closeChat() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chat.closed = true
	if s.chat.cancel != nil {
		s.chat.cancel()
	}
	for s.chat.inflight > 0 {
		s.chatIdleLocked().Wait()
	}
}

// ---- routes ----

// routeChat names X Chat's conversation routes.
func routeChat(method string, parts []string) (endpoint, id string) {
	if method != http.MethodPost || len(parts) != 5 || parts[0] != "2" || parts[1] != "chat" ||
		parts[2] != "conversations" || parts[3] == "" {
		return "", ""
	}
	switch parts[4] {
	case "keys":
		return EndpointChatKeys, parts[3]
	case "messages":
		return EndpointChatSend, parts[3]
	}
	return "", ""
}

// serveChat answers X Chat's conversation routes; oauth2 tells whether the
// request came with an OAuth 2.0 user-context token.
func (s *Server) serveChat(w http.ResponseWriter, r *http.Request, endpoint, pathID, token string, oauth2 bool) {
	if !oauth2 {
		writeProblem(w, http.StatusForbidden, "Unsupported Authentication",
			"Authenticating with OAuth 1.0a User Context is forbidden for this endpoint.  Supported authentication types are [OAuth 2.0 User Context].",
			"https://api.twitter.com/2/problems/unsupported-authentication")
		return
	}
	if !validConversationID(pathID) {
		invalid(w, "id", pathID, fmt.Sprintf("The `id` query parameter value [%s] does not match ^([0-9]{1,19}|[0-9]{1,19}-[0-9]{1,19})$", pathID))
		return
	}
	if endpoint == EndpointChatKeys {
		s.addChatKeys(w, r, pathID, token)
		return
	}
	s.sendChat(w, r, pathID, token)
}

// validConversationID reports whether a route's {id} is a user id or a
// one-to-one conversation of two.
func validConversationID(id string) bool {
	if a, b, ok := cutConversation(id); ok {
		return isUserID(a) && isUserID(b)
	}
	return isUserID(id)
}

// isUserID reports whether s is a user id as the routes' pattern has it.
func isUserID(s string) bool {
	_, ok := parseID(s)
	return ok && len(s) <= 19
}

// cutConversation splits a one-to-one conversation id, "<a>:<b>" or "<a>-<b>".
func cutConversation(id string) (a, b string, ok bool) {
	i := strings.IndexAny(id, ":-")
	if i < 0 {
		return "", "", false
	}
	a, b = id[:i], id[i+1:]
	_, okA := parseID(a)
	_, okB := parseID(b)
	return a, b, okA && okB
}

// canonicalConversation is a one-to-one conversation id as events carry it.
func canonicalConversation(id string) string {
	if a, b, ok := cutConversation(id); ok {
		return xchat.OneToOne(a, b)
	}
	return id
}

// chatProblem is why an X Chat request is refused.
type chatProblem struct {
	status  int
	message string
}

func refuse(status int, format string, a ...any) *chatProblem {
	return &chatProblem{status: status, message: fmt.Sprintf(format, a...)}
}

func (p *chatProblem) write(w http.ResponseWriter) {
	if p.status == http.StatusForbidden {
		writeProblem(w, p.status, "Forbidden", p.message, "about:blank")
		return
	}
	badBody(w, p.message)
}

// conversationLocked returns the authenticated user, the other participant and
// the canonical conversation of a route's {id}.
func (s *Server) conversationLocked(pathID, token string) (me, other, conv string, p *chatProblem) {
	me = s.authorOf(token)
	if me == "" {
		return "", "", "", refuse(http.StatusForbidden,
			"xfake: cannot tell which user the access token belongs to: use a token of the form <user id>-… or call Server.SetMe")
	}
	other = pathID
	if a, b, ok := cutConversation(pathID); ok {
		switch me {
		case a:
			other = b
		case b:
			other = a
		default:
			return "", "", "", refuse(http.StatusForbidden, "User %s is not a participant of conversation %s.", me, pathID)
		}
	}
	if other == me {
		return "", "", "", refuse(http.StatusBadRequest, "xfake: a one-to-one conversation needs another user than the authenticated one (%s)", me)
	}
	return me, other, xchat.OneToOne(me, other), nil
}

// ---- keys ----

// chatKeysBody is the body of POST /2/chat/conversations/{id}/keys.
type chatKeysBody struct {
	ConversationKeyVersion string `json:"conversation_key_version"`
	ParticipantKeys        []struct {
		UserID                   string `json:"user_id"`
		EncryptedConversationKey string `json:"encrypted_conversation_key"`
		PublicKeyVersion         string `json:"public_key_version"`
	} `json:"conversation_participant_keys"`
	ActionSignatures []struct {
		MessageID                 string `json:"message_id"`
		EncodedMessageEventDetail string `json:"encoded_message_event_detail"`
		MessageEventSignature     *struct {
			Signature        string `json:"signature"`
			SignatureVersion string `json:"signature_version"`
			PublicKeyVersion string `json:"public_key_version"`
			SigningPublicKey string `json:"signing_public_key"`
		} `json:"message_event_signature"`
		SignaturePayload string `json:"signature_payload"`
	} `json:"action_signatures"`
	Base64EncodedKeyRotation string `json:"base64_encoded_key_rotation"`
}

// check checks what the body must hold.
func (in *chatKeysBody) check() *chatProblem {
	switch {
	case strings.TrimSpace(in.ConversationKeyVersion) == "":
		return refuse(http.StatusBadRequest, "The `conversation_key_version` field is required")
	case len(in.ParticipantKeys) == 0:
		return refuse(http.StatusBadRequest, "The `conversation_participant_keys` field is required")
	case len(in.ActionSignatures) == 0:
		return refuse(http.StatusBadRequest, "The `action_signatures` field is required")
	}
	for i, k := range in.ParticipantKeys {
		if k.UserID == "" || k.EncryptedConversationKey == "" || k.PublicKeyVersion == "" {
			return refuse(http.StatusBadRequest,
				"conversation_participant_keys[%d] needs user_id, encrypted_conversation_key and public_key_version", i)
		}
	}
	a := in.ActionSignatures[0]
	if a.MessageID == "" || a.EncodedMessageEventDetail == "" || a.MessageEventSignature == nil || a.MessageEventSignature.Signature == "" {
		return refuse(http.StatusBadRequest,
			"action_signatures[0] needs message_id, encoded_message_event_detail and message_event_signature.signature")
	}
	return nil
}

// checkParticipants checks that the participant keys are those of the two
// participants, one each.
func (in *chatKeysBody) checkParticipants(me, other, conv string) *chatProblem {
	seen := set{}
	for _, k := range in.ParticipantKeys {
		switch {
		case k.UserID != me && k.UserID != other:
			return refuse(http.StatusBadRequest, "conversation_participant_keys holds user %s, who is not a participant of conversation %s", k.UserID, conv)
		case seen[k.UserID]:
			return refuse(http.StatusBadRequest, "conversation_participant_keys holds user %s twice", k.UserID)
		}
		seen[k.UserID] = true
	}
	if !seen[me] || !seen[other] {
		return refuse(http.StatusBadRequest, "conversation_participant_keys must hold a key for each participant, %s and %s", me, other)
	}
	return nil
}

// addChatKeys answers POST /2/chat/conversations/{id}/keys.
func (s *Server) addChatKeys(w http.ResponseWriter, r *http.Request, pathID, token string) {
	var in chatKeysBody
	if readBody(w, r, &in) == nil {
		return
	}
	if p := in.check(); p != nil {
		p.write(w)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	me, other, conv, p := s.conversationLocked(pathID, token)
	if p == nil {
		p = in.checkParticipants(me, other, conv)
	}
	if p != nil {
		p.write(w)
		return
	}
	a := in.ActionSignatures[0]
	if rec, ok := s.chat.convs[conv].find(me, a.MessageID); ok {
		s.chat.repeats++
		writeJSON(w, http.StatusOK, rec.answer())
		return
	}
	detail, err := decodeBase64(a.EncodedMessageEventDetail)
	if err != nil {
		badBody(w, "action_signatures[0].encoded_message_event_detail is not base64: "+err.Error())
		return
	}
	sig := eventSignature{Signature: a.MessageEventSignature.Signature,
		PublicKeyVersion: a.MessageEventSignature.PublicKeyVersion, SignatureVersion: a.MessageEventSignature.SignatureVersion}
	fr, p := s.frameChatLocked(eventFrame{MessageID: a.MessageID, SenderID: me, ConversationID: conv,
		Detail: detail, Signature: sig.encode()})
	switch {
	case p != nil:
		p.write(w)
		return
	case fr.ev.Kind != xchat.KindKeyChange:
		badBody(w, fmt.Sprintf("action_signatures[0].encoded_message_event_detail is a %s event, not a key change", fr.ev.Kind))
		return
	case fr.ev.KeyVersion != in.ConversationKeyVersion:
		badBody(w, fmt.Sprintf("The key change introduces conversation key version %q, not conversation_key_version %q",
			fr.ev.KeyVersion, in.ConversationKeyVersion))
		return
	}
	rec := fr.record()
	rec.KeyChange = true
	s.storeChatLocked(rec)
	writeJSON(w, http.StatusOK, rec.answer())
}

// find returns the event a sender gave a message id in the conversation.
func (c *chatConv) find(sender, messageID string) (chatRecord, bool) {
	if c == nil {
		return chatRecord{}, false
	}
	rec, ok := c.answers[sender+" "+messageID]
	return rec, ok
}

// framed is an event the fake framed.
type framed struct {
	f    eventFrame
	full []byte // with its signature
	ev   *xchat.Event
}

func (fr framed) record() chatRecord {
	return chatRecord{ConversationID: fr.f.ConversationID, SenderID: fr.f.SenderID, MessageID: fr.f.MessageID,
		SequenceID: fr.f.SequenceID, KeyVersion: fr.ev.KeyVersion, Event: base64.StdEncoding.EncodeToString(fr.full)}
}

// frameChatLocked frames f with the next sequence id (not taken until the
// event is stored) and the fake clock, and parses it.
func (s *Server) frameChatLocked(f eventFrame) (framed, *chatProblem) {
	f.SequenceID = strconv.FormatUint(s.chat.seq+1, 10)
	f.CreatedAtMsec = s.now().UnixMilli()
	full, err := frameEvent(f)
	if err != nil {
		return framed{}, refuse(http.StatusBadRequest, "%v", err)
	}
	ev, err := xchat.ParseEvent(full)
	if err != nil {
		return framed{}, refuse(http.StatusBadRequest, "The event does not parse: %v", err)
	}
	return framed{f: f, full: full, ev: ev}, nil
}

// storeChatLocked adds an event to its conversation.
func (s *Server) storeChatLocked(rec chatRecord) {
	if s.chat.convs == nil {
		s.chat.convs = map[string]*chatConv{}
	}
	c := s.chat.convs[rec.ConversationID]
	if c == nil {
		c = &chatConv{versions: set{}, answers: map[string]chatRecord{}}
		s.chat.convs[rec.ConversationID] = c
	}
	c.events = append(c.events, rec.Event)
	if rec.KeyChange {
		c.keyChange = rec.Event
		c.versions[rec.KeyVersion] = true
	}
	c.answers[rec.SenderID+" "+rec.MessageID] = rec
	if n, err := strconv.ParseUint(rec.SequenceID, 10, 64); err == nil {
		s.chat.seq = max(s.chat.seq, n)
	}
	s.kept(keepRecord{Chat: &rec})
}

// ---- messages ----

// chatMessageBody is the body of POST /2/chat/conversations/{id}/messages.
type chatMessageBody struct {
	MessageID                    string `json:"message_id"`
	EncodedMessageCreateEvent    string `json:"encoded_message_create_event"`
	EncodedMessageEventSignature string `json:"encoded_message_event_signature"`
	ConversationToken            string `json:"conversation_token"`
}

// sendChat answers POST /2/chat/conversations/{id}/messages.
func (s *Server) sendChat(w http.ResponseWriter, r *http.Request, pathID, token string) {
	if s.stormed(w, EndpointChatSend) {
		return
	}
	var in chatMessageBody
	if readBody(w, r, &in) == nil {
		return
	}
	switch {
	case in.MessageID == "":
		badBody(w, "The `message_id` field is required")
		return
	case in.EncodedMessageCreateEvent == "":
		badBody(w, "The `encoded_message_create_event` field is required")
		return
	case in.EncodedMessageEventSignature == "":
		badBody(w, "xfake: the `encoded_message_event_signature` field is missing: X drops unsigned messages")
		return
	}
	s.mu.Lock()
	answer, jobs, p := s.sendChatLocked(in, pathID, token)
	s.mu.Unlock()
	if p != nil {
		p.write(w)
		return
	}
	for _, j := range jobs {
		go s.deliverChat(j)
	}
	writeJSON(w, http.StatusOK, answer)
}

// sendChatLocked stores a message and returns the answer and the deliveries
// to make.
func (s *Server) sendChatLocked(in chatMessageBody, pathID, token string) (map[string]any, []chatJob, *chatProblem) {
	me, other, conv, p := s.conversationLocked(pathID, token)
	if p != nil {
		return nil, nil, p
	}
	c := s.chat.convs[conv]
	if rec, ok := c.find(me, in.MessageID); ok {
		s.chat.repeats++
		return rec.answer(), nil, nil
	}
	if c == nil || c.keyChange == "" {
		return nil, nil, refuse(http.StatusBadRequest,
			"xfake: conversation %s has no conversation key: POST /2/chat/conversations/{id}/keys first", conv)
	}
	create, err := decodeBase64(in.EncodedMessageCreateEvent)
	if err != nil {
		return nil, nil, refuse(http.StatusBadRequest, "The `encoded_message_create_event` is not base64: %v", err)
	}
	sigBytes, err := decodeBase64(in.EncodedMessageEventSignature)
	if err != nil {
		return nil, nil, refuse(http.StatusBadRequest, "The `encoded_message_event_signature` is not base64: %v", err)
	}
	sig, err := parseSignature(sigBytes)
	if err != nil {
		return nil, nil, refuse(http.StatusBadRequest, "The `encoded_message_event_signature` is not a MessageEventSignature: %v", err)
	}
	fr, p := s.frameChatLocked(eventFrame{MessageID: in.MessageID, SenderID: me, ConversationID: conv,
		Detail: create, Message: true, Signature: sigBytes})
	if p == nil {
		p = s.checkMessageLocked(fr.ev, c, conv)
	}
	if p != nil {
		return nil, nil, p
	}
	keyChange := c.keyChange
	rec := fr.record()
	s.storeChatLocked(rec)
	return rec.answer(), s.chatJobsLocked(fr, sig, other, keyChange, in.ConversationToken), nil
}

// checkMessageLocked checks a framed message: its key version and, against
// the sender's registered keys, its signature.
func (s *Server) checkMessageLocked(ev *xchat.Event, c *chatConv, conv string) *chatProblem {
	if ev.Kind != xchat.KindMessage {
		return refuse(http.StatusBadRequest, "The `encoded_message_create_event` is not a MessageCreateEvent")
	}
	if !c.versions[ev.KeyVersion] {
		return refuse(http.StatusBadRequest,
			"xfake: the message is encrypted under conversation key version %q, which no key change of conversation %s announced (%s)",
			ev.KeyVersion, conv, strings.Join(sortedKeys(c.versions), ", "))
	}
	keys := s.chatKeys[ev.SenderID]
	if len(keys) == 0 {
		return refuse(http.StatusBadRequest,
			"xfake: user %s registered no X Chat keys (POST /2/users/%s/public_keys): X would drop this message", ev.SenderID, ev.SenderID)
	}
	var signers xchat.SigningKeySet
	for _, k := range keys {
		_ = signers.Add(signingKey(k)) // a key that does not bind its identity key verifies nothing
	}
	if err := xchat.Verify(ev, &signers); err != nil {
		return refuse(http.StatusBadRequest,
			"xfake: the message's signature does not verify against the keys user %s registered (X would answer 200 and drop it): %v",
			ev.SenderID, err)
	}
	return nil
}

// signingKey is a registered key as xchat verifies with it.
func signingKey(k PublicKey) xchat.SigningKey {
	return xchat.SigningKey{UserID: k.UserID, Version: k.Version, PublicKey: k.SigningPublicKey,
		IdentityPublicKey: k.PublicKey, IdentityPublicKeySignature: k.IdentityPublicKeySignature}
}

// ---- deliveries ----

// chatEnvelope is the JSON of a chat.* delivery (events/xaa-chat-*.json).
type chatEnvelope struct {
	Data struct {
		EventUUID string `json:"event_uuid"`
		Filter    struct {
			UserID string `json:"user_id"`
		} `json:"filter"`
		EventType string      `json:"event_type"`
		Tag       string      `json:"tag,omitempty"`
		Payload   chatPayload `json:"payload"`
	} `json:"data"`
}

type chatPayload struct {
	ID                         string `json:"id"`
	SenderID                   string `json:"sender_id"`
	ConversationID             string `json:"conversation_id"`
	CreatedAtMsec              string `json:"created_at_msec"`
	EncodedEvent               string `json:"encoded_event"`
	ConversationKeyChangeEvent string `json:"conversation_key_change_event,omitempty"`
	ConversationToken          string `json:"conversation_token,omitempty"`
	MessageEventSignature      struct {
		Signature        string `json:"signature"`
		SignatureVersion string `json:"signature_version"`
		PublicKeyVersion string `json:"public_key_version"`
		SigningPublicKey string `json:"signing_public_key,omitempty"`
	} `json:"message_event_signature"`
}

// chatJob is a delivery to make.
type chatJob struct {
	d      ChatDelivery
	body   []byte
	secret string
	ctx    context.Context
}

// chatPayloadLocked is the payload of a message's deliveries: its event
// without the signature, which goes beside it.
func (s *Server) chatPayloadLocked(fr framed, sig eventSignature, keyChange, token string) (chatPayload, error) {
	f := fr.f
	f.Signature = nil
	bare, err := frameEvent(f)
	if err != nil {
		return chatPayload{}, err
	}
	pl := chatPayload{ID: f.MessageID, SenderID: f.SenderID, ConversationID: f.ConversationID,
		CreatedAtMsec: strconv.FormatInt(f.CreatedAtMsec, 10), EncodedEvent: base64.StdEncoding.EncodeToString(bare),
		ConversationKeyChangeEvent: keyChange, ConversationToken: token}
	ms := &pl.MessageEventSignature
	ms.Signature, ms.SignatureVersion, ms.PublicKeyVersion = sig.Signature, sig.SignatureVersion, sig.PublicKeyVersion
	for _, k := range s.chatKeys[f.SenderID] {
		if k.Version == sig.PublicKeyVersion {
			ms.SigningPublicKey = k.SigningPublicKey
		}
	}
	return pl, nil
}

// chatJobsLocked returns the deliveries of a stored message, one per X
// Activity subscription of a participant to chat.* with a webhook; those that
// cannot be made are recorded as failed at once.
func (s *Server) chatJobsLocked(fr framed, sig eventSignature, other, keyChange, token string) []chatJob {
	pl, err := s.chatPayloadLocked(fr, sig, keyChange, token)
	if s.chat.closed || err != nil {
		return nil
	}
	if s.chat.ctx == nil {
		s.chat.ctx, s.chat.cancel = context.WithCancel(context.Background())
	}
	var jobs []chatJob
	for _, sub := range s.hooks.subs {
		switch {
		case sub.WebhookID == "": // X streams it; the fake has no stream
			continue
		case sub.EventType == xwebhook.EventChatReceived && sub.UserID == other:
		case sub.EventType == xwebhook.EventChatSent && sub.UserID == fr.f.SenderID:
		default:
			continue
		}
		d := ChatDelivery{EventType: sub.EventType, SubscriberID: sub.UserID, SubscriptionID: sub.ID, WebhookID: sub.WebhookID,
			EventUUID: formatID(s.nextIDLocked(s.now())), MessageID: pl.ID, ConversationID: pl.ConversationID}
		switch h := s.webhookLocked(sub.WebhookID); {
		case h == nil:
			d.Err = "webhook " + sub.WebhookID + " no longer exists"
		case !h.Valid:
			d.Err = "webhook " + sub.WebhookID + " is not valid (it failed a CRC check): X does not deliver to it"
		default:
			d.URL = h.URL
		}
		if d.Err != "" {
			s.chat.deliveries = append(s.chat.deliveries, d)
			continue
		}
		var env chatEnvelope
		env.Data.EventUUID, env.Data.Filter.UserID, env.Data.EventType, env.Data.Tag = d.EventUUID, sub.UserID, sub.EventType, sub.Tag
		env.Data.Payload = pl
		body, _ := json.Marshal(env) // strings only: cannot fail
		jobs = append(jobs, chatJob{d: d, body: body, secret: s.hooks.secret, ctx: s.chat.ctx})
	}
	s.chat.inflight += len(jobs)
	return jobs
}

// deliverChat makes a delivery, retrying with backoff until the webhook
// answers 2xx, the attempts run out or the fake closes, and records it.
func (s *Server) deliverChat(j chatJob) {
	d := j.d
	for attempt := 0; ; attempt++ {
		d.Attempts++
		d.Status, d.Err = postChat(j.ctx, d.URL, j.body, j.secret)
		if d.Err == "" || attempt == len(chatBackoff) {
			break
		}
		t := time.NewTimer(chatBackoff[attempt])
		select {
		case <-j.ctx.Done():
		case <-t.C:
		}
		t.Stop()
		if j.ctx.Err() != nil {
			d.Err = "xfake closed before the delivery succeeded: " + d.Err
			break
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chat.deliveries = append(s.chat.deliveries, d)
	if s.chat.inflight--; s.chat.inflight == 0 {
		s.chatIdleLocked().Broadcast()
	}
}

// postChat makes one attempt of a delivery, signed as X signs them: the
// webhook's status, and why the attempt failed ("" on a 2xx answer).
func postChat(ctx context.Context, url string, body []byte, secret string) (int, string) {
	ctx, cancel := context.WithTimeout(ctx, chatDeliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(xwebhook.SignatureHeader, xwebhook.Sign([]byte(secret), body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode/100 != 2 {
		return res.StatusCode, "the webhook answered " + res.Status
	}
	return res.StatusCode, ""
}
