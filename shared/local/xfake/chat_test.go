package xfake

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/chatsdk"
	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xchat"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

// chatKeyVersion is the version of the test users' registered X Chat keys.
const chatKeyVersion = "1787000000000"

// chatUser is a user with X Chat keys registered in the fake and an OAuth 2.0
// token.
type chatUser struct {
	id   *xchat.Identity
	auth string
	key  PublicKey
}

func newChatUser(t *testing.T, s *Server, userID string) *chatUser {
	t.Helper()
	id, err := xchat.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	reg, err := id.Registration()
	if err != nil {
		t.Fatal(err)
	}
	id.UserID, id.KeyVersion = userID, chatKeyVersion
	k := PublicKey{UserID: userID, Version: chatKeyVersion, PublicKey: reg.PublicKey,
		SigningPublicKey: reg.SigningPublicKey, IdentityPublicKeySignature: reg.IdentityPublicKeySignature}
	s.AddPublicKeys(k)
	access, _ := s.IssueOAuth2(userID)
	return &chatUser{id: id, auth: "Bearer " + access, key: k}
}

// signers holds the users' registered keys, as a receiver gets them from X.
func signers(t *testing.T, users ...*chatUser) *xchat.SigningKeySet {
	t.Helper()
	var set xchat.SigningKeySet
	for _, u := range users {
		if err := set.Add(signingKey(u.key)); err != nil {
			t.Fatal(err)
		}
	}
	return &set
}

func newUUID(t *testing.T) string {
	t.Helper()
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// keyChangeDetail encodes a MessageEventDetail holding a key change (union
// field 3) of version for users, as the SDK's encodedMessageEventDetail.
func keyChangeDetail(t *testing.T, version string, users ...string) string {
	t.Helper()
	ctx := t.Context()
	buf := thrift.NewTMemoryBuffer()
	p := thrift.NewTBinaryProtocolConf(buf, &thrift.TConfiguration{})
	_ = p.WriteFieldBegin(ctx, "", thrift.STRUCT, 3) // ConversationKeyChangeEvent
	_ = p.WriteFieldBegin(ctx, "", thrift.STRING, 1)
	_ = p.WriteString(ctx, version)
	_ = p.WriteFieldBegin(ctx, "", thrift.LIST, 2)
	_ = p.WriteListBegin(ctx, thrift.STRUCT, len(users))
	for _, u := range users {
		for i, v := range []string{u, "ZW5jcnlwdGVkIGtleQ==", chatKeyVersion} {
			_ = p.WriteFieldBegin(ctx, "", thrift.STRING, int16(i+1))
			_ = p.WriteString(ctx, v)
		}
		_ = p.WriteFieldStop(ctx)
	}
	_ = p.WriteFieldStop(ctx) // the key change
	_ = p.WriteFieldStop(ctx) // the union
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// keysRequest is a body of POST /2/chat/conversations/{id}/keys.
func keysRequest(t *testing.T, version string, users ...string) map[string]any {
	t.Helper()
	var pks []any
	for _, u := range users {
		pks = append(pks, map[string]any{"user_id": u, "encrypted_conversation_key": "ZW5jcnlwdGVkIGtleQ==", "public_key_version": chatKeyVersion})
	}
	return map[string]any{
		"conversation_key_version":      version,
		"conversation_participant_keys": pks,
		"action_signatures": []any{map[string]any{
			"message_id": newUUID(t), "encoded_message_event_detail": keyChangeDetail(t, version, users...),
			"message_event_signature": map[string]any{"signature": "c2lnbmF0dXJl", "signature_version": "7", "public_key_version": chatKeyVersion},
		}},
	}
}

func jsonBody(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sendRequest is a body of POST /2/chat/conversations/{id}/messages: text
// from u to the other user, under the conversation key of version.
func sendRequest(t *testing.T, u *chatUser, other string, key []byte, version, text string) (map[string]any, xchat.SendPayload) {
	t.Helper()
	p, err := u.id.EncryptMessageWithID(newUUID(t), other, key, version, text)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"message_id": p.MessageID, "encoded_message_create_event": p.EncryptedContent,
		"encoded_message_event_signature": p.EncodedEventSignature}, p
}

// chatFixture is a fake holding the brand and María with their X Chat keys,
// and the conversation key (version "1") of their conversation, announced by
// the brand.
type chatFixture struct {
	s            *Server
	brand, maria *chatUser
	key          []byte
	conv         string
}

func newChatFixture(t *testing.T) *chatFixture {
	t.Helper()
	s, _ := newFake(t, 0)
	f := &chatFixture{s: s, brand: newChatUser(t, s, brandID), maria: newChatUser(t, s, mariaID),
		key: make([]byte, 32), conv: xchat.OneToOne(brandID, mariaID)}
	_, _ = rand.Read(f.key)
	a := do(t, s, "POST", "/2/chat/conversations/"+mariaID+"/keys", f.brand.auth, jsonBody(t, keysRequest(t, "1", brandID, mariaID)))
	if a.status != http.StatusOK || data(a)["conversation_id"] != f.conv || data(a)["sequence_id"] != "1" {
		t.Fatalf("key change: %d %s", a.status, a.raw)
	}
	return f
}

func TestChatKeys(t *testing.T) {
	const third = "1700000000000000003"
	cases := []struct {
		name   string
		path   string
		auth   func(f *chatFixture) string
		edit   func(t *testing.T, body map[string]any)
		status int
		want   string // in the answer
	}{
		{name: "the other user's id", path: mariaID, status: 200, want: `"conversation_id":"` + brandID + ":" + mariaID + `"`},
		{name: "hyphenated", path: mariaID + "-" + brandID, status: 200},
		{name: "colon", path: brandID + ":" + mariaID, status: 200},
		{name: "OAuth 1.0a", path: mariaID, auth: func(*chatFixture) string { return userAuth }, status: 403, want: "OAuth 2.0 User Context"},
		{name: "app-only", path: mariaID, auth: func(*chatFixture) string { return appAuth }, status: 403, want: "Application-Only"},
		{name: "no authorization", path: mariaID, auth: func(*chatFixture) string { return "" }, status: 401},
		{name: "not an id", path: "maria", status: 400, want: "does not match"},
		{name: "a conversation of others", path: mariaID + "-" + third, status: 403, want: "not a participant"},
		{name: "with oneself", path: brandID, status: 400, want: "another user"},
		{name: "no version", path: mariaID, status: 400, want: "conversation_key_version",
			edit: func(_ *testing.T, b map[string]any) { delete(b, "conversation_key_version") }},
		{name: "version not a string", path: mariaID, status: 400, want: "not valid JSON",
			edit: func(_ *testing.T, b map[string]any) { b["conversation_key_version"] = 1 }},
		{name: "no participant keys", path: mariaID, status: 400, want: "conversation_participant_keys",
			edit: func(_ *testing.T, b map[string]any) { delete(b, "conversation_participant_keys") }},
		{name: "one participant", path: mariaID, status: 400, want: "each participant",
			edit: func(t *testing.T, b map[string]any) {
				b["conversation_participant_keys"] = keysRequest(t, "1", brandID)["conversation_participant_keys"]
			}},
		{name: "a stranger's key", path: mariaID, status: 400, want: "not a participant",
			edit: func(t *testing.T, b map[string]any) {
				b["conversation_participant_keys"] = keysRequest(t, "1", brandID, mariaID, third)["conversation_participant_keys"]
			}},
		{name: "no action signature", path: mariaID, status: 400, want: "action_signatures",
			edit: func(_ *testing.T, b map[string]any) { b["action_signatures"] = []any{} }},
		{name: "detail not base64", path: mariaID, status: 400, want: "not base64",
			edit: func(_ *testing.T, b map[string]any) { actionSignature(b)["encoded_message_event_detail"] = "%%%" }},
		{name: "detail not Thrift", path: mariaID, status: 400, want: "does not parse",
			edit: func(_ *testing.T, b map[string]any) { actionSignature(b)["encoded_message_event_detail"] = "AAECAwQ=" }},
		{name: "a key change of another version", path: mariaID, status: 400, want: "not conversation_key_version",
			edit: func(_ *testing.T, b map[string]any) { b["conversation_key_version"] = "2" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newFake(t, 0)
			f := &chatFixture{s: s, brand: newChatUser(t, s, brandID)}
			body := keysRequest(t, "1", brandID, mariaID)
			if tc.edit != nil {
				tc.edit(t, body)
			}
			auth := f.brand.auth
			if tc.auth != nil {
				auth = tc.auth(f)
			}
			a := do(t, s, "POST", "/2/chat/conversations/"+tc.path+"/keys", auth, jsonBody(t, body))
			if a.status != tc.status || !strings.Contains(string(a.raw), tc.want) {
				t.Fatalf("%d %s, want %d with %q", a.status, a.raw, tc.status, tc.want)
			}
			events := s.ChatEvents(mariaID + "-" + brandID)
			if (tc.status == 200) != (len(events) == 1) {
				t.Fatalf("the conversation holds %d events", len(events))
			}
			if tc.status == 200 {
				ev, err := xchat.ParseEventBase64(events[0])
				if err != nil || ev.Kind != xchat.KindKeyChange || ev.KeyVersion != "1" || ev.SenderID != brandID ||
					ev.ConversationID != brandID+":"+mariaID || ev.SigningKeyVersion != chatKeyVersion || ev.CreatedAt.UnixMilli() != t0.UnixMilli() {
					t.Errorf("the kept key change: %+v, %v", ev, err)
				}
			}
		})
	}
}

func actionSignature(body map[string]any) map[string]any {
	return body["action_signatures"].([]any)[0].(map[string]any)
}

func TestChatSendRefused(t *testing.T) {
	cases := []struct {
		name   string
		body   func(t *testing.T, f *chatFixture) map[string]any
		path   string // default the brand
		auth   func(f *chatFixture) string
		status int
		want   string
	}{
		{name: "OAuth 1.0a", auth: func(*chatFixture) string { return userAuth }, status: 403, want: "OAuth 2.0 User Context"},
		{name: "app-only", auth: func(*chatFixture) string { return appAuth }, status: 403, want: "Application-Only"},
		{name: "no message_id", status: 400, want: "message_id",
			body: func(t *testing.T, f *chatFixture) map[string]any {
				b := mariaSays(t, f, "1")
				delete(b, "message_id")
				return b
			}},
		{name: "no create event", status: 400, want: "encoded_message_create_event",
			body: func(t *testing.T, f *chatFixture) map[string]any {
				b := mariaSays(t, f, "1")
				delete(b, "encoded_message_create_event")
				return b
			}},
		{name: "unsigned", status: 400, want: "encoded_message_event_signature",
			body: func(t *testing.T, f *chatFixture) map[string]any {
				b := mariaSays(t, f, "1")
				delete(b, "encoded_message_event_signature")
				return b
			}},
		{name: "create event not base64", status: 400, want: "not base64",
			body: func(t *testing.T, f *chatFixture) map[string]any {
				b := mariaSays(t, f, "1")
				b["encoded_message_create_event"] = "%%%"
				return b
			}},
		{name: "create event not Thrift", status: 400, want: "does not parse",
			body: func(t *testing.T, f *chatFixture) map[string]any {
				b := mariaSays(t, f, "1")
				b["encoded_message_create_event"] = "AAECAwQ="
				return b
			}},
		{name: "before any key change", path: "1700000000000000003", status: 400, want: "POST /2/chat/conversations/{id}/keys first"},
		{name: "a key version not announced", status: 400, want: "no key change",
			body: func(t *testing.T, f *chatFixture) map[string]any { return mariaSays(t, f, "2") }},
		{name: "signed by another key", status: 400, want: "does not verify",
			body: func(t *testing.T, f *chatFixture) map[string]any {
				impostor := newChatUser(t, New(), mariaID) // keys the fake does not hold for María
				b, _ := sendRequest(t, impostor, brandID, f.key, "1", "soy María")
				return b
			}},
		{name: "a signing key version not registered", status: 400, want: "does not verify",
			body: func(t *testing.T, f *chatFixture) map[string]any {
				f.maria.id.KeyVersion = "42"
				return mariaSays(t, f, "1")
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newChatFixture(t)
			body := mariaSays(t, f, "1")
			if tc.body != nil {
				body = tc.body(t, f)
			}
			auth, path := f.maria.auth, orDefault(tc.path, brandID)
			if tc.auth != nil {
				auth = tc.auth(f)
			}
			a := do(t, f.s, "POST", "/2/chat/conversations/"+path+"/messages", auth, jsonBody(t, body))
			if a.status != tc.status || !strings.Contains(string(a.raw), tc.want) {
				t.Fatalf("%d %s, want %d with %q", a.status, a.raw, tc.status, tc.want)
			}
			if n := len(f.s.ChatEvents(f.conv)); n != 1 {
				t.Errorf("the conversation holds %d events, want its key change only", n)
			}
		})
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// mariaSays is María's message to the brand under key version version.
func mariaSays(t *testing.T, f *chatFixture, version string) map[string]any {
	t.Helper()
	b, _ := sendRequest(t, f.maria, brandID, f.key, version, "Hola, mi maleta no llegó")
	return b
}

// webhookSink is a webhook that records what it receives and answers with
// next (200 when nil), failing the first fail deliveries with 503.
type webhookSink struct {
	mu     sync.Mutex
	bodies [][]byte
	heads  []http.Header
	fail   int
	next   http.Handler
}

func (k *webhookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	k.mu.Lock()
	k.bodies, k.heads = append(k.bodies, body), append(k.heads, r.Header.Clone())
	fail := k.fail > 0
	k.fail--
	k.mu.Unlock()
	switch {
	case fail:
		http.Error(w, "busy", http.StatusServiceUnavailable)
	case k.next != nil:
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		k.next.ServeHTTP(w, r)
	default:
		w.WriteHeader(http.StatusOK)
	}
}

func (k *webhookSink) received() ([][]byte, []http.Header) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.bodies), slices.Clone(k.heads)
}

// hook registers sink as a webhook and subscribes u to eventType on it.
func hook(t *testing.T, s *Server, sink http.Handler, u *chatUser, eventType, tag string) Webhook {
	t.Helper()
	hs := httptest.NewServer(sink)
	t.Cleanup(hs.Close)
	h := s.AddWebhook(hs.URL+"/webhooks/x", true)
	body := fmt.Sprintf(`{"event_type":%q,"filter":{"user_id":%q},"tag":%q,"webhook_id":%q}`, eventType, u.id.UserID, tag, h.ID)
	if a := do(t, s, "POST", "/2/activity/subscriptions", u.auth, body); a.status != http.StatusOK {
		t.Fatalf("subscribe: %d %s", a.status, a.raw)
	}
	return h
}

// waitFor waits until cond holds, polling, for at most ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func deliveries(s *Server, n int) func() bool {
	return func() bool { return len(s.ChatDeliveries()) >= n }
}

// chatDelivery is what the test reads of a chat.* delivery.
type chatDeliveryJSON struct {
	Data struct {
		EventUUID string `json:"event_uuid"`
		Filter    struct {
			UserID string `json:"user_id"`
		} `json:"filter"`
		EventType string      `json:"event_type"`
		Tag       string      `json:"tag"`
		Payload   chatPayload `json:"payload"`
	} `json:"data"`
}

func TestChatSendDelivers(t *testing.T) {
	f := newChatFixture(t)
	f.s.SetConsumerSecret(appSecret)
	f.s.SetWebhookLimit(2)
	var mu sync.Mutex
	var queued []care.Envelope
	brandHook := &webhookSink{next: &xwebhook.Handler{Secret: []byte(appSecret), Brand: care.Brand{ID: brandID, Handle: "PajaritoAir"},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Queue: xwebhook.EnqueuerFunc(func(_ context.Context, envs []care.Envelope) error {
			mu.Lock()
			defer mu.Unlock()
			queued = append(queued, envs...)
			return nil
		})}}
	mariaHook := &webhookSink{}
	hook(t, f.s, brandHook, f.brand, xwebhook.EventChatReceived, "pajarito-chat-in")
	hook(t, f.s, mariaHook, f.maria, xwebhook.EventChatSent, "maria-out")

	const text = "Hola, mi maleta no llegó 🧳"
	body, sent := sendRequest(t, f.maria, brandID, f.key, "1", text)
	a := do(t, f.s, "POST", "/2/chat/conversations/"+brandID+"/messages", f.maria.auth, jsonBody(t, body))
	if a.status != http.StatusOK || data(a)["conversation_id"] != f.conv || data(a)["sequence_id"] != "2" {
		t.Fatalf("send: %d %s", a.status, a.raw)
	}
	events := f.s.ChatEvents(f.conv)
	if len(events) != 2 || data(a)["encoded_message_event"] != events[1] {
		t.Fatalf("ChatEvents = %d events; the answer's event is the second: %v", len(events), data(a)["encoded_message_event"] == events[1])
	}
	// The kept event decrypts with its signature.
	ev, err := xchat.ParseEventBase64(events[1])
	if err != nil {
		t.Fatal(err)
	}
	if m, err := xchat.Decrypt(ev, xchat.ConversationKeys{"1": f.key}, signers(t, f.maria)); err != nil || m.Content.Text != text {
		t.Fatalf("Decrypt(the kept event) = %v, %v", m, err)
	}

	waitFor(t, "two deliveries", deliveries(f.s, 2))
	got := f.s.ChatDeliveries()
	slices.SortFunc(got, func(a, b ChatDelivery) int { return strings.Compare(a.EventType, b.EventType) })
	for i, want := range []struct{ typ, user string }{{xwebhook.EventChatReceived, brandID}, {xwebhook.EventChatSent, mariaID}} {
		d := got[i]
		if d.EventType != want.typ || d.SubscriberID != want.user || d.MessageID != sent.MessageID || d.ConversationID != f.conv ||
			d.Status != http.StatusOK || d.Err != "" || d.Attempts != 1 {
			t.Errorf("delivery %d = %+v", i, d)
		}
	}
	brandBodies, brandHeads := brandHook.received()
	mariaBodies, mariaHeads := mariaHook.received()
	if len(brandBodies) != 1 || len(mariaBodies) != 1 {
		t.Fatalf("the webhooks received %d and %d deliveries", len(brandBodies), len(mariaBodies))
	}
	checkChatDelivery(t, f, brandBodies[0], brandHeads[0], xwebhook.EventChatReceived, brandID, "pajarito-chat-in", sent, text)
	checkChatDelivery(t, f, mariaBodies[0], mariaHeads[0], xwebhook.EventChatSent, mariaID, "maria-out", sent, text)
	mu.Lock()
	if len(queued) != 1 || queued[0].Message == nil || queued[0].Message.XChat == nil ||
		queued[0].Message.XChat.EventID != sent.MessageID || queued[0].Message.AuthorID != mariaID {
		t.Errorf("the brand's webhook queued %+v", queued)
	}
	mu.Unlock()

	// The same message again: the first answer, nothing stored or delivered.
	again := do(t, f.s, "POST", "/2/chat/conversations/"+mariaID+":"+brandID+"/messages", f.maria.auth, jsonBody(t, body))
	f.s.WaitChatDeliveries()
	switch {
	case again.status != http.StatusOK || string(again.raw) != string(a.raw):
		t.Errorf("repeat: %d %s, want %s", again.status, again.raw, a.raw)
	case f.s.ChatRepeats() != 1 || len(f.s.ChatEvents(f.conv)) != 2 || len(f.s.ChatDeliveries()) != 2:
		t.Errorf("after the repeat: %d repeats, %d events, %d deliveries", f.s.ChatRepeats(), len(f.s.ChatEvents(f.conv)), len(f.s.ChatDeliveries()))
	}
}

// checkChatDelivery checks one chat.* delivery: X's signature, its JSON, and
// that its event and the signature beside it verify and decrypt.
func checkChatDelivery(t *testing.T, f *chatFixture, body []byte, h http.Header, eventType, subscriber, tag string, sent xchat.SendPayload, text string) {
	t.Helper()
	if err := xwebhook.Verify([]byte(appSecret), body, h.Get(xwebhook.SignatureHeader)); err != nil {
		t.Errorf("%s: %v", eventType, err)
	}
	var d chatDeliveryJSON
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatalf("%s: %v\n%s", eventType, err, body)
	}
	pl := d.Data.Payload
	if _, err := strconv.ParseUint(d.Data.EventUUID, 10, 64); err != nil || d.Data.EventType != eventType || d.Data.Filter.UserID != subscriber ||
		d.Data.Tag != tag || pl.ID != sent.MessageID || pl.SenderID != mariaID || pl.ConversationID != f.conv ||
		pl.CreatedAtMsec != strconv.FormatInt(t0.UnixMilli(), 10) || pl.ConversationKeyChangeEvent != f.s.ChatEvents(f.conv)[0] {
		t.Errorf("%s delivery:\n%s", eventType, body)
	}
	sig := pl.MessageEventSignature
	if sig.SigningPublicKey != f.maria.key.SigningPublicKey || sig.PublicKeyVersion != chatKeyVersion || sig.SignatureVersion != "7" {
		t.Errorf("%s: message_event_signature %+v", eventType, sig)
	}
	ev, err := xchat.ParseEventBase64(pl.EncodedEvent)
	if err != nil {
		t.Fatal(err)
	}
	if err := xchat.Verify(ev, signers(t, f.maria)); err == nil {
		t.Errorf("%s: the encoded_event verifies without the signature beside it: it carries one", eventType)
	}
	if !ev.AttachSignature(sig.Signature, sig.PublicKeyVersion, sig.SignatureVersion) {
		t.Fatalf("%s: AttachSignature refused", eventType)
	}
	if err := xchat.Verify(ev, signers(t, f.maria)); err != nil {
		t.Errorf("%s: %v", eventType, err)
	}
	if m, err := xchat.Decrypt(ev, xchat.ConversationKeys{"1": f.key}, signers(t, f.maria)); err != nil || m.Content.Text != text {
		t.Errorf("%s: Decrypt = %v, %v", eventType, m, err)
	}
}

// TestChatSendXAPI sends through the X client's send route.
func TestChatSendXAPI(t *testing.T) {
	f := newChatFixture(t)
	body := mariaSays(t, f, "1")
	access := strings.TrimPrefix(f.maria.auth, "Bearer ")
	m := xapi.ChatMessage{MessageID: body["message_id"].(string), EncodedMessageCreateEvent: body["encoded_message_create_event"].(string),
		EncodedMessageEventSignature: body["encoded_message_event_signature"].(string)}
	sent, err := xapi.SendChatMessage(t.Context(), f.s.Client(), f.s.URL, access, brandID, m)
	if err != nil || sent.ConversationID != f.conv || sent.SequenceID != "2" || sent.RateLimit.Limit != 15 {
		t.Fatalf("SendChatMessage = %+v, %v", sent, err)
	}
	m.EncodedMessageEventSignature = ""
	m.MessageID = newUUID(t)
	if _, err := xapi.SendChatMessage(t.Context(), f.s.Client(), f.s.URL, access, brandID, m); err == nil {
		t.Error("an unsigned message was sent")
	}
}

func TestChatDeliveryRetries(t *testing.T) {
	f := newChatFixture(t)
	f.s.SetConsumerSecret(appSecret)
	f.s.SetWebhookLimit(2)
	busy := &webhookSink{fail: 1}
	hook(t, f.s, busy, f.brand, xwebhook.EventChatReceived, "")
	gone := hook(t, f.s, &webhookSink{}, f.maria, xwebhook.EventChatSent, "")
	f.s.InvalidateWebhook(gone.ID)

	a := do(t, f.s, "POST", "/2/chat/conversations/"+brandID+"/messages", f.maria.auth, jsonBody(t, mariaSays(t, f, "1")))
	if a.status != http.StatusOK {
		t.Fatalf("send: %d %s", a.status, a.raw)
	}
	waitFor(t, "two deliveries", deliveries(f.s, 2))
	for _, d := range f.s.ChatDeliveries() {
		switch d.EventType {
		case xwebhook.EventChatReceived:
			if d.Attempts != 2 || d.Status != http.StatusOK || d.Err != "" {
				t.Errorf("the retried delivery: %+v", d)
			}
		case xwebhook.EventChatSent:
			if d.Attempts != 0 || !strings.Contains(d.Err, "not valid") {
				t.Errorf("the delivery to an invalid webhook: %+v", d)
			}
		}
	}
	if bodies, _ := busy.received(); len(bodies) != 2 || string(bodies[0]) != string(bodies[1]) {
		t.Errorf("the busy webhook got %d deliveries (a retry is the same body)", len(bodies))
	}
}

func TestChatSendRateLimit(t *testing.T) {
	f := newChatFixture(t)
	for i := range 15 {
		a := do(t, f.s, "POST", "/2/chat/conversations/"+brandID+"/messages", f.maria.auth, `{}`)
		if a.status != http.StatusBadRequest || a.header.Get("x-rate-limit-limit") != "15" || a.header.Get("x-rate-limit-remaining") != strconv.Itoa(14-i) {
			t.Fatalf("request %d: %d %v", i+1, a.status, a.header)
		}
	}
	a := do(t, f.s, "POST", "/2/chat/conversations/"+brandID+"/messages", f.maria.auth, jsonBody(t, mariaSays(t, f, "1")))
	if a.status != http.StatusTooManyRequests || a.body["title"] != "Too Many Requests" {
		t.Fatalf("the 16th: %d %s", a.status, a.raw)
	}
	// The key route's window is its own.
	if a := do(t, f.s, "POST", "/2/chat/conversations/"+mariaID+"/keys", f.brand.auth, `{}`); a.status != http.StatusBadRequest {
		t.Errorf("keys: %d %s", a.status, a.raw)
	}
	if got := f.s.Calls(EndpointChatSend); got != 16 {
		t.Errorf("Calls = %d", got)
	}
}

func TestKeepChat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "xfake.jsonl")
	s := Start()
	if err := s.Keep(path); err != nil {
		t.Fatal(err)
	}
	f := &chatFixture{s: s, brand: newChatUser(t, s, brandID), maria: newChatUser(t, s, mariaID), key: make([]byte, 32), conv: xchat.OneToOne(brandID, mariaID)}
	if a := do(t, s, "POST", "/2/chat/conversations/"+mariaID+"/keys", f.brand.auth, jsonBody(t, keysRequest(t, "1", brandID, mariaID))); a.status != 200 {
		t.Fatalf("keys: %d %s", a.status, a.raw)
	}
	body := mariaSays(t, f, "1")
	first := do(t, s, "POST", "/2/chat/conversations/"+brandID+"/messages", f.maria.auth, jsonBody(t, body))
	if first.status != 200 {
		t.Fatalf("send: %d %s", first.status, first.raw)
	}
	events := s.ChatEvents(f.conv)
	s.Close()

	again := Start()
	defer again.Close()
	if err := again.Keep(path); err != nil {
		t.Fatal(err)
	}
	if got := again.ChatEvents(f.conv); !slices.Equal(got, events) || len(got) != 2 {
		t.Fatalf("events after the restart: %d, want the %d kept", len(got), len(events))
	}
	maria, _ := again.IssueOAuth2(mariaID)
	if a := do(t, again, "POST", "/2/chat/conversations/"+brandID+"/messages", "Bearer "+maria, jsonBody(t, body)); string(a.raw) != string(first.raw) {
		t.Errorf("a repeat after the restart: %d %s, want %s", a.status, a.raw, first.raw)
	}
	f.s = again
	a := do(t, again, "POST", "/2/chat/conversations/"+brandID+"/messages", "Bearer "+maria, jsonBody(t, mariaSays(t, f, "1")))
	if a.status != 200 || data(a)["sequence_id"] != "3" {
		t.Errorf("a new message after the restart: %d %s", a.status, a.raw)
	}
}

// sdkSetup is the reply of shared/xchat/testdata/interop.mjs to "setup": a
// customer on X's Chat SDK starts a conversation with the brand and writes.
type sdkSetup struct {
	CustomerKeys           string
	Customer               xchat.SigningKey
	ConversationKeyVersion string
	KeyChange              struct {
		MessageID, EncodedMessageEventDetail, Signature, SignatureVersion, PublicKeyVersion string
	}
	Payload xchat.SendPayload
}

// keysFromSDK is the body of POST /2/chat/conversations/{id}/keys for the
// SDK's key change, its participant keys read from the change itself.
func keysFromSDK(t *testing.T, sdk *sdkSetup) string {
	t.Helper()
	detail, err := decodeBase64(sdk.KeyChange.EncodedMessageEventDetail)
	if err != nil {
		t.Fatal(err)
	}
	b, err := frameEvent(eventFrame{Detail: detail})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := xchat.ParseEvent(b)
	if err != nil {
		t.Fatal(err)
	}
	var pks []any
	for _, pk := range ev.ParticipantKeys {
		pks = append(pks, map[string]any{"user_id": pk.UserID, "encrypted_conversation_key": pk.EncryptedKey, "public_key_version": pk.PublicKeyVersion})
	}
	kc := sdk.KeyChange
	return jsonBody(t, map[string]any{
		"conversation_key_version": sdk.ConversationKeyVersion, "conversation_participant_keys": pks,
		"action_signatures": []any{map[string]any{"message_id": kc.MessageID, "encoded_message_event_detail": kc.EncodedMessageEventDetail,
			"message_event_signature": map[string]any{"signature": kc.Signature, "signature_version": kc.SignatureVersion, "public_key_version": kc.PublicKeyVersion}}},
	})
}

// TestChatSDKInterop runs a conversation through the fake between a customer
// on X's Chat SDK and the brand on shared/xchat: the customer's key change and
// message go through the fake's routes; the brand opens the message from its
// chat.received delivery; the brand's reply goes through the fake; and the SDK
// decrypts the conversation's events as the fake keeps them (ChatEvents).
func TestChatSDKInterop(t *testing.T) {
	s, _ := newFake(t, 0)
	s.SetConsumerSecret(appSecret)
	brand := newChatUser(t, s, brandID)
	const hello, reply = "Hola, mi pedido no llegó 📦", "Lo sentimos: ¿nos das el número de pedido?"
	var sdk sdkSetup
	chatsdk.Run(t, map[string]string{"op": "setup", "brandId": brandID, "brandIdentityKey": brand.id.PublicKeys().Identity,
		"brandKeyVersion": chatKeyVersion, "customerId": mariaID, "text": hello}, &sdk)
	c := sdk.Customer
	s.AddPublicKeys(PublicKey{UserID: mariaID, Version: c.Version, PublicKey: c.IdentityPublicKey,
		SigningPublicKey: c.PublicKey, IdentityPublicKeySignature: c.IdentityPublicKeySignature})
	access, _ := s.IssueOAuth2(mariaID)
	customer := "Bearer " + access
	sink := &webhookSink{}
	hook(t, s, sink, brand, xwebhook.EventChatReceived, "")

	if a := do(t, s, "POST", "/2/chat/conversations/"+brandID+"/keys", customer, keysFromSDK(t, &sdk)); a.status != http.StatusOK {
		t.Fatalf("the SDK's key change: %d %s", a.status, a.raw)
	}
	p := sdk.Payload
	body := jsonBody(t, map[string]any{"message_id": p.MessageID, "encoded_message_create_event": p.EncryptedContent,
		"encoded_message_event_signature": p.EncodedEventSignature})
	if a := do(t, s, "POST", "/2/chat/conversations/"+brandID+"/messages", customer, body); a.status != http.StatusOK {
		t.Fatalf("the SDK's message: %d %s", a.status, a.raw)
	}

	// The brand opens the message from its delivery.
	waitFor(t, "the delivery", deliveries(s, 1))
	bodies, _ := sink.received()
	var set xchat.SigningKeySet
	if err := set.Add(c); err != nil {
		t.Fatal(err)
	}
	keys := openDelivery(t, brand.id, bodies[0], &set, hello)

	// The brand replies; the SDK reads the conversation.
	answer, err := brand.id.EncryptMessageWithID(newUUID(t), mariaID, keys[sdk.ConversationKeyVersion], sdk.ConversationKeyVersion, reply)
	if err != nil {
		t.Fatal(err)
	}
	body = jsonBody(t, map[string]any{"message_id": answer.MessageID, "encoded_message_create_event": answer.EncryptedContent,
		"encoded_message_event_signature": answer.EncodedEventSignature})
	if a := do(t, s, "POST", "/2/chat/conversations/"+mariaID+"/messages", brand.auth, body); a.status != http.StatusOK {
		t.Fatalf("the brand's reply: %d %s", a.status, a.raw)
	}
	self, err := brand.id.SigningKey()
	if err != nil {
		t.Fatal(err)
	}
	got := chatsdk.Decrypt(t, chatsdk.Customer{Keys: sdk.CustomerKeys, UserID: mariaID, KeyVersion: c.Version},
		[]xchat.SigningKey{c, self}, s.ChatEvents(xchat.OneToOne(brandID, mariaID)))
	if len(got) != 3 {
		t.Fatalf("the SDK's decryptEvents = %+v", got)
	}
	for i, want := range []struct {
		sender, text string
	}{{mariaID, hello}, {brandID, reply}} {
		if m := got[i+1]; m.Type != "message" || !m.Verified || m.SenderID != want.sender || m.Content.Text != want.text {
			t.Errorf("the SDK read message %d as %+v, want %q from %s, verified", i+1, m, want.text, want.sender)
		}
	}
}

// openDelivery opens a chat.* delivery as a receiver of X's does: the key
// change beside the message gives the conversation keys, and the event,
// given the signature beside it, verifies and decrypts to want.
func openDelivery(t *testing.T, id *xchat.Identity, body []byte, signers xchat.SigningKeys, want string) xchat.ConversationKeys {
	t.Helper()
	var d chatDeliveryJSON
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatal(err)
	}
	kc, err := xchat.ParseEventBase64(d.Data.Payload.ConversationKeyChangeEvent)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := id.ConversationKeys(kc, signers)
	if err != nil {
		t.Fatalf("ConversationKeys(the delivered key change): %v", err)
	}
	ev, err := xchat.ParseEventBase64(d.Data.Payload.EncodedEvent)
	if err != nil {
		t.Fatal(err)
	}
	sig := d.Data.Payload.MessageEventSignature
	ev.AttachSignature(sig.Signature, sig.PublicKeyVersion, sig.SignatureVersion)
	if m, err := xchat.Decrypt(ev, keys, signers); err != nil || m.Content.Text != want {
		t.Fatalf("Decrypt(the delivery) = %v, %v; want %q", m, err, want)
	}
	return keys
}
