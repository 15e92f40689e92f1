package store

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/dynalite/dynalitetest"
	"github.com/pajarito-care/pajarito/shared/local/testclock"
)

// One dynalite serves the whole test binary; each test gets its own table.
var (
	endpoint string
	client   *dynamodb.Client
	tables   atomic.Int64
)

func TestMain(m *testing.M) {
	os.Exit(dynalitetest.RunTests(m, func(e string) (err error) {
		endpoint = e
		client, err = NewClient(context.Background(), endpoint)
		return err
	}))
}

// t0 is the time of the tests' first messages.
var t0 = time.Date(2026, 8, 3, 9, 0, 0, 0, time.UTC)

// newStore returns a Store on a fresh table and its clock (starting an hour after
// t0).
func newStore(t testing.TB) (*Store, *testclock.Clock) {
	t.Helper()
	clk := testclock.New(t0.Add(time.Hour))
	s := New(client, "pajarito-"+strconv.FormatInt(tables.Add(1), 10))
	s.Now = clk.Now
	if err := s.CreateTable(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s, clk
}

const (
	brandID  = "1500000000000000001"
	customer = "2900000000000000001"
	other    = "2900000000000000002"
)

// post returns an inbound public post envelope. conv may be empty (legacy payload).
func post(id, conv, replyTo string, at time.Time) *care.Envelope {
	m := &care.Message{
		Channel:        care.Public,
		Direction:      care.Inbound,
		ID:             id,
		AuthorID:       customer,
		AuthorHandle:   "ana_garcia",
		AuthorName:     "Ana García",
		Text:           "@pajarito_air my flight PJ123 was cancelled and nobody at the gate can tell me when I can rebook. Booking ref QX7Z2P.",
		Lang:           "en",
		CreatedAt:      at,
		ConversationID: conv,
		InReplyToID:    replyTo,
		MentionedIDs:   []string{brandID},
		Summoned:       true,
	}
	if replyTo != "" {
		m.InReplyToUserID = brandID
	}
	src := care.SourceXAA
	if conv == "" {
		src = care.SourceAAA
	}
	return &care.Envelope{
		Version: care.EnvelopeVersion, Kind: care.KindMessage, Source: src,
		ReceivedAt: at.Add(2 * time.Second), Message: m, Raw: rawPost(id, conv, at),
	}
}

// reply returns the brand's public reply to post replyTo of the customer.
func reply(id, conv, replyTo string, at time.Time) *care.Envelope {
	return &care.Envelope{
		Version: care.EnvelopeVersion, Kind: care.KindMessage, Source: care.SourceReply,
		ReceivedAt: at, Message: &care.Message{
			Channel: care.Public, Direction: care.Outbound, ID: id,
			AuthorID: brandID, AuthorHandle: "pajarito_air",
			Text:      "@ana_garcia Sorry about this, Ana. Send us a DM with your booking ref and we'll rebook you.",
			CreatedAt: at, ConversationID: conv, InReplyToID: replyTo, InReplyToUserID: customer,
		},
	}
}

// dm returns a DM envelope between the brand and user; in tells the direction.
func dm(id, user string, in bool, at time.Time) *care.Envelope {
	m := &care.Message{
		Channel: care.DM, ID: id, Text: "Hi, my booking ref is QX7Z2P", CreatedAt: at, Lang: "en",
	}
	if in {
		m.Direction, m.AuthorID, m.RecipientID, m.Summoned = care.Inbound, user, brandID, true
	} else {
		m.Direction, m.AuthorID, m.RecipientID = care.Outbound, brandID, user
	}
	return &care.Envelope{Version: care.EnvelopeVersion, Kind: care.KindMessage, Source: care.SourceXAA, ReceivedAt: at, Message: m}
}

// rawPost is a realistic v2 Post object, as X sends it in an XAA payload.
func rawPost(id, conv string, at time.Time) json.RawMessage {
	if conv == "" {
		conv = id
	}
	b, _ := json.Marshal(map[string]any{
		"id": id, "conversation_id": conv, "author_id": customer,
		"created_at": at.Format("2006-01-02T15:04:05.000Z"), "lang": "en",
		"text":                   "@pajarito_air my flight PJ123 was cancelled and nobody at the gate can tell me when I can rebook. Booking ref QX7Z2P.",
		"in_reply_to_user_id":    brandID,
		"edit_history_tweet_ids": []string{id},
		"entities": map[string]any{
			"mentions": []map[string]any{{"start": 0, "end": 13, "username": "pajarito_air", "id": brandID}},
		},
		"public_metrics":    map[string]int{"retweet_count": 0, "reply_count": 0, "like_count": 1, "quote_count": 0, "bookmark_count": 0, "impression_count": 42},
		"referenced_tweets": []map[string]string{{"type": "replied_to", "id": conv}},
		"reply_settings":    "everyone",
	})
	return b
}

// mustAppend appends env and fails the test on error.
func mustAppend(t *testing.T, s *Store, env *care.Envelope, delivery string) AppendResult {
	t.Helper()
	res, err := s.Append(t.Context(), env, delivery)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// mustGet returns a case and its messages and fails the test on error.
func mustGet(t *testing.T, s *Store, id string) (*care.Case, []care.StoredMessage) {
	t.Helper()
	c, msgs, err := s.GetCase(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c, msgs
}

// faulty wraps the client and fails writes chosen by fail (nil error: pass).
type faulty struct {
	API
	fail func(op string, key map[string]types.AttributeValue) error
}

var errInjected = errors.New("injected failure")

func (f *faulty) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if err := f.fail("put", in.Item); err != nil {
		return nil, err
	}
	return f.API.PutItem(ctx, in, o...)
}

func (f *faulty) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if err := f.fail("update", in.Key); err != nil {
		return nil, err
	}
	return f.API.UpdateItem(ctx, in, o...)
}

// failOnce fails the first write of op to the item with partition key pk and sort
// key sk.
func failOnce(op, pk, sk string) func(string, map[string]types.AttributeValue) error {
	var done atomic.Bool
	return func(o string, k map[string]types.AttributeValue) error {
		if o == op && stringAttr(k, KeyPK) == pk && stringAttr(k, KeySK) == sk && done.CompareAndSwap(false, true) {
			return errInjected
		}
		return nil
	}
}
