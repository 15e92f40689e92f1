package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pajarito-care/pajarito/shared/care"
)

// AppendResult says what Append did.
type AppendResult struct {
	// CaseID is the case the message belongs to (empty only when Deleted).
	CaseID string
	// Created is true when this append opened the case.
	Created bool
	// Duplicate is true when the message was already stored: nothing was written.
	Duplicate bool
	// Redelivered is true, with Duplicate, when this very delivery stored the
	// message before (SQS delivered it again after a crash): what was to follow
	// the store (the classification, the decision, the replies) may not have
	// happened. Case and Message are then set, as read, for the caller to finish.
	Redelivered bool
	// InFlight is true when another delivery claimed the message less than
	// ClaimLease ago and has not finished storing it: nothing was written, and the
	// caller should retry later (a crashed owner is taken over after the lease).
	InFlight bool
	// Deleted is true when the message had been deleted on X before it arrived:
	// nothing is stored.
	Deleted bool
	// WriteUnits is the write capacity this append consumed (see the package doc).
	WriteUnits float64
	// Case and Message are the case after the append and the message as stored;
	// nil unless this append stored the message.
	Case    *care.Case
	Message *care.StoredMessage
}

// Stored reports whether this append stored the message.
func (r AppendResult) Stored() bool { return r.Message != nil && !r.Duplicate }

// maxRaces bounds the retries of an operation that lost a race with a concurrent
// writer of the same item.
const maxRaces = 8

// subjectLen is the length, in characters, of a case's subject.
const subjectLen = 140

// claim is the claim item of an X id, without its keys and raw JSON.
type claim struct {
	CaseID    string     `json:"case_id"`
	ThreadKey string     `json:"thread_key"`
	Delivery  string     `json:"delivery,omitempty"`
	ClaimedAt time.Time  `json:"claimed_at"`
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
	// MessageID is the X id the message is stored under, when the claim is
	// not by that id (an X Chat message's, by its event id: claimID).
	MessageID string `json:"message_id,omitempty"`
}

// claimID is the id a message is claimed by: X's id, or, for an X Chat
// message, its event id (the message id its signature covers), which the
// reply sender's record of an X Chat reply and the copy X's webhook delivers
// back both carry, while the X id Pajarito derives from it
// (care.XChatMessageID) depends on the time each of them saw.
func claimID(m *care.Message) string {
	if m.XChat != nil && m.XChat.EventID != "" {
		return "xchat:" + m.XChat.EventID
	}
	return m.ID
}

// caseRecord is a case item.
type caseRecord struct {
	care.Case
	LastCounted string `json:"last_counted,omitempty"`
	// Counted are the X ids of the last CountedKept messages counted into the
	// case, newest first: a delivery that crashed after counting its message and
	// before storing it finds it there when it comes back, even if other
	// messages were counted meanwhile.
	Counted []string `json:"counted,omitempty"`
	// ReopenedFrom is when the case had been resolved, while the last message
	// counted into it is the inbound message that reopened it (see surveys.go).
	ReopenedFrom *time.Time `json:"reopened_from,omitempty"`
}

// Append stores a message envelope (care.KindMessage) in its case: it deduplicates
// by X id, threads the message into its case (opening one if needed) and counts it.
// delivery identifies this delivery of the envelope (the SQS message id): SQS
// redeliveries of one queue message share it, other deliveries of the same X
// message do not. It may be empty, at the cost of completing concurrent deliveries
// instead of reporting them InFlight. See the package doc for the algorithm.
//
// Errors are transient (DynamoDB unavailable, throttling, or a race lost maxRaces
// times): the caller retries the delivery.
func (s *Store) Append(ctx context.Context, env *care.Envelope, delivery string) (AppendResult, error) {
	return s.AppendTriaged(ctx, env, delivery, nil)
}

// AppendTriaged is Append, where triage, when not nil, gives the triage of the
// case the message opens (an inbound message only; see
// protocol.Pipeline.InitialTriage): the case is created ranked, instead of at
// care.DefaultPriority and ranked after, which would move its queue index entry
// (three write units). triage is called only when the message opens a case.
func (s *Store) AppendTriaged(ctx context.Context, env *care.Envelope, delivery string, triage func(*care.Message) care.Triage) (AppendResult, error) {
	if env == nil || env.Kind != care.KindMessage || env.Message == nil {
		return AppendResult{}, errors.New("store: append: the envelope carries no message")
	}
	m := env.Message
	if err := m.Validate(); err != nil {
		return AppendResult{}, fmt.Errorf("store: append: %w", err)
	}
	a := &appender{s: s, env: env, m: m, delivery: delivery, now: s.now(), triage: triage}
	res, err := a.run(ctx, a.resolve)
	res.WriteUnits = a.meter.units
	if err != nil {
		return res, fmt.Errorf("store: append %s message %s: %w", m.Channel, m.ID, err)
	}
	return res, nil
}

// appender is one Append call.
type appender struct {
	s        *Store
	env      *care.Envelope
	m        *care.Message
	delivery string
	now      time.Time
	meter    meter
	triage   func(*care.Message) care.Triage // the new case's, or nil
}

// caseState is what is known of a case item before counting: read reports whether
// item (nil when the case does not exist) is worth trying without reading again.
type caseState struct {
	item map[string]types.AttributeValue
	read bool
}

// run stores the message once: it resumes a delivery that claimed it already, or
// finds its case with resolve, claims it, and completes it.
func (a *appender) run(ctx context.Context, resolve func(context.Context) (caseID, thread string, known caseState, err error)) (AppendResult, error) {
	c, err := a.getClaim(ctx)
	if err != nil {
		return AppendResult{}, err
	}
	if c != nil {
		return a.resume(ctx, c)
	}
	caseID, thread, known, err := resolve(ctx)
	if err != nil {
		return AppendResult{}, err
	}
	won, err := a.putClaim(ctx, caseID, thread)
	if err != nil {
		return AppendResult{}, err
	}
	if !won {
		if c, err = a.getClaim(ctx); err != nil {
			return AppendResult{}, err
		}
		if c == nil {
			return AppendResult{}, errors.New("claim rejected as existing, then not found")
		}
		return a.resume(ctx, c)
	}
	return a.complete(ctx, caseID, thread, known)
}

func (a *appender) getClaim(ctx context.Context) (*claim, error) {
	item, err := a.s.get(ctx, claimKey(a.m.Channel, claimID(a.m)))
	if err != nil || item == nil {
		if err != nil {
			err = fmt.Errorf("get claim: %w", err)
		}
		return nil, err
	}
	var c claim
	if err := unmarshal(item, &c); err != nil {
		return nil, fmt.Errorf("decode claim: %w", err)
	}
	return &c, nil
}

// resolve finds the case of the message through its thread, creating or moving the
// thread pointer when the message opens a new case. It returns the case item when it
// read it.
func (a *appender) resolve(ctx context.Context) (caseID, thread string, known caseState, err error) {
	m := a.m
	conv := ""
	if m.Channel == care.Public {
		conv = m.ConversationID
		if conv == "" && m.InReplyToID != "" {
			// A legacy payload: thread into the conversation of the replied-to post.
			parent, err := a.s.get(ctx, claimKey(care.Public, m.InReplyToID))
			if err != nil {
				return "", "", caseState{}, fmt.Errorf("get claim of replied-to post %s: %w", m.InReplyToID, err)
			}
			var pc claim
			if parent != nil {
				if err := unmarshal(parent, &pc); err != nil {
					return "", "", caseState{}, fmt.Errorf("decode claim of replied-to post %s: %w", m.InReplyToID, err)
				}
			}
			if c := care.ThreadConversation(pc.ThreadKey); c != "" {
				conv = c
			} else {
				// Unknown post: most replies answer the post that started the
				// conversation.
				conv = m.InReplyToID
			}
		}
		if conv == "" {
			conv = m.ID
		}
	}
	thread = care.ThreadKey(m, conv)
	newID := newCaseID(m)
	for range maxRaces {
		ptr, err := a.s.get(ctx, threadKey(thread))
		if err != nil {
			return "", "", caseState{}, fmt.Errorf("get thread %s: %w", thread, err)
		}
		if ptr == nil {
			won, err := a.s.put(ctx, &a.meter, &dynamodb.PutItemInput{
				Item:                a.pointerItem(thread, newID),
				ConditionExpression: aws.String("attribute_not_exists(PK)"),
			}, false)
			if err != nil {
				return "", "", caseState{}, fmt.Errorf("create thread %s: %w", thread, err)
			}
			if won {
				return newID, thread, caseState{read: true}, nil
			}
			a.s.log().DebugContext(ctx, "thread created concurrently", "thread", thread)
			continue
		}
		current := stringAttr(ptr, "case_id")
		item, err := a.s.get(ctx, caseKey(current))
		if err != nil {
			return "", "", caseState{}, fmt.Errorf("get case %s: %w", current, err)
		}
		if item != nil && current != newID && a.startsNewCase(item) {
			e := newExpr()
			e.set("case_id", str(newID))
			e.set("updated_at", str(stamp(a.now)))
			in := e.input(threadKey(thread), e.name("case_id")+" = "+e.value(str(current)))
			moved, err := a.s.update(ctx, &a.meter, in, nil, false)
			if err != nil {
				return "", "", caseState{}, fmt.Errorf("move thread %s to a new case: %w", thread, err)
			}
			if moved != nil {
				return newID, thread, caseState{read: true}, nil
			}
			a.s.log().DebugContext(ctx, "thread moved concurrently", "thread", thread)
			continue
		}
		return current, thread, caseState{item: item, read: true}, nil
	}
	return "", "", caseState{}, fmt.Errorf("thread %s: lost %d races with concurrent writers", thread, maxRaces)
}

// newCaseID is the id of a case opened by m.
func newCaseID(m *care.Message) string {
	if m.Channel == care.DM {
		return "d" + m.ID
	}
	return "t" + m.ID
}

// startsNewCase reports whether m, threaded into the case item, opens a new case
// instead: an inbound message written longer than ReopenWindow after the case was
// resolved.
func (a *appender) startsNewCase(item map[string]types.AttributeValue) bool {
	if a.m.Direction != care.Inbound || stringAttr(item, "status") != string(care.Resolved) {
		return false
	}
	resolved, err := time.Parse(time.RFC3339Nano, stringAttr(item, "resolved_at"))
	if err != nil {
		return false
	}
	return a.m.CreatedAt.Sub(resolved) > orDefault(a.s.ReopenWindow, DefaultReopenWindow)
}

func (a *appender) pointerItem(thread, caseID string) map[string]types.AttributeValue {
	item := threadKey(thread)
	item["case_id"] = str(caseID)
	item["updated_at"] = str(stamp(a.now))
	return item
}

// putClaim claims the message's X id for caseID. It reports whether this delivery
// won the claim.
func (a *appender) putClaim(ctx context.Context, caseID, thread string) (bool, error) {
	c := claim{CaseID: caseID, ThreadKey: thread, Delivery: a.delivery, ClaimedAt: a.now}
	if id := claimID(a.m); id != a.m.ID {
		c.MessageID = a.m.ID
	}
	item, err := marshal(c)
	if err != nil {
		return false, fmt.Errorf("encode claim: %w", err)
	}
	for k, v := range claimKey(a.m.Channel, claimID(a.m)) {
		item[k] = v
	}
	item[TTLAttribute] = num(a.now.Add(orDefault(a.s.RawRetention, DefaultRawRetention)).Unix())
	if len(a.env.Raw) > 0 {
		raw, err := gzipBytes(a.env.Raw)
		if err != nil {
			return false, fmt.Errorf("compress raw JSON: %w", err)
		}
		item["raw"] = &types.AttributeValueMemberB{Value: raw}
	}
	won, err := a.s.put(ctx, &a.meter, &dynamodb.PutItemInput{
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}, false)
	if err != nil {
		return false, fmt.Errorf("put claim: %w", err)
	}
	return won, nil
}

// resume handles a message whose X id is already claimed.
func (a *appender) resume(ctx context.Context, c *claim) (AppendResult, error) {
	if c.CaseID == "" {
		return AppendResult{Deleted: true}, nil
	}
	if c.MessageID != "" && c.MessageID != a.m.ID {
		// Another copy of the same X Chat message, stored under the id its
		// claimer gave it.
		m := *a.m
		m.ID = c.MessageID
		a.m = &m
	}
	stored, err := a.s.exists(ctx, messageKey(c.CaseID, a.m.ID))
	if err != nil {
		return AppendResult{}, fmt.Errorf("get message in case %s: %w", c.CaseID, err)
	}
	mine := a.delivery != "" && c.Delivery == a.delivery
	if stored && mine {
		cs, err := a.s.GetCaseItem(ctx, c.CaseID)
		if err != nil {
			return AppendResult{}, err
		}
		sm := care.StoredMessage{Message: *a.m, CaseID: c.CaseID, Source: a.env.Source, StoredAt: c.ClaimedAt}
		return AppendResult{CaseID: c.CaseID, Duplicate: true, Redelivered: true, Case: cs, Message: &sm}, nil
	}
	if stored {
		return AppendResult{CaseID: c.CaseID, Duplicate: true}, nil
	}
	anonymous := a.delivery == "" || c.Delivery == ""
	expired := a.now.Sub(c.ClaimedAt) >= orDefault(a.s.ClaimLease, DefaultClaimLease)
	if !mine && !anonymous && !expired {
		return AppendResult{CaseID: c.CaseID, InFlight: true}, nil
	}
	a.s.log().DebugContext(ctx, "completing a claimed message",
		"xid", a.m.ID, "case_id", c.CaseID, "claimed_by", c.Delivery, "claimed_at", c.ClaimedAt)
	return a.complete(ctx, c.CaseID, c.ThreadKey, caseState{})
}

// complete counts the message into its case, creating the case if needed, then
// stores the message item.
func (a *appender) complete(ctx context.Context, caseID, thread string, known caseState) (AppendResult, error) {
	var (
		created bool
		after   map[string]types.AttributeValue
	)
	st := known
	for attempt := 0; after == nil; attempt++ {
		if attempt == maxRaces {
			return AppendResult{}, fmt.Errorf("case %s: lost %d races with concurrent writers", caseID, maxRaces)
		}
		if !st.read {
			item, err := a.s.get(ctx, caseKey(caseID))
			if err != nil {
				return AppendResult{}, fmt.Errorf("get case %s: %w", caseID, err)
			}
			st.item = item
		}
		st.read = false // a second attempt reads again
		if st.item == nil {
			item, err := a.newCase(caseID, thread)
			if err != nil {
				return AppendResult{}, err
			}
			won, err := a.s.put(ctx, &a.meter, &dynamodb.PutItemInput{
				Item:                item,
				ConditionExpression: aws.String("attribute_not_exists(PK)"),
			}, true)
			if err != nil {
				return AppendResult{}, fmt.Errorf("create case %s: %w", caseID, err)
			}
			if won {
				created, after = true, item
			}
			continue
		}
		var rec caseRecord
		if err := unmarshal(st.item, &rec); err != nil {
			return AppendResult{}, fmt.Errorf("decode case %s: %w", caseID, err)
		}
		if rec.LastCounted == a.m.ID || slices.Contains(rec.Counted, a.m.ID) {
			after = st.item // counted by an earlier attempt of this message
			continue
		}
		in := a.countInto(&rec)
		item, err := a.s.update(ctx, &a.meter, in, st.item, true)
		if err != nil {
			return AppendResult{}, fmt.Errorf("update case %s: %w", caseID, err)
		}
		after = item
	}

	var rec caseRecord
	if err := unmarshal(after, &rec); err != nil {
		return AppendResult{}, fmt.Errorf("decode case %s: %w", caseID, err)
	}
	if rec.MessagesIn+rec.MessagesOut == 1 {
		// The case's first message: list the case under its day (the metrics read
		// a day's cases from there; days.go). Idempotent, so a redelivery after a
		// crash here writes it again harmlessly.
		if err := a.s.putCaseDay(ctx, &a.meter, caseID, rec.CreatedAt); err != nil {
			return AppendResult{}, err
		}
	}

	sm := care.StoredMessage{Message: *a.m, CaseID: caseID, Source: a.env.Source, StoredAt: a.now}
	item, err := marshal(sm)
	if err != nil {
		return AppendResult{}, fmt.Errorf("encode message: %w", err)
	}
	for k, v := range messageKey(caseID, a.m.ID) {
		item[k] = v
	}
	if _, err := a.s.put(ctx, &a.meter, &dynamodb.PutItemInput{
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}, false); err != nil {
		return AppendResult{}, fmt.Errorf("put message in case %s: %w", caseID, err)
	}
	return AppendResult{CaseID: caseID, Created: created, Case: &rec.Case, Message: &sm}, nil
}

// CountedKept is how many of the last messages counted into a case the case
// item remembers (caseRecord.Counted): a crashed delivery is counted twice only
// if that many other messages were counted into its case before it came back.
const CountedKept = 8

// newCase returns the item of the case that the message opens.
func (a *appender) newCase(caseID, thread string) (map[string]types.AttributeValue, error) {
	m := a.m
	t := m.CreatedAt.UTC()
	c := care.Case{
		ID:           caseID,
		Channel:      m.Channel,
		ThreadKey:    thread,
		CustomerID:   m.Customer(),
		Priority:     care.DefaultPriority,
		CreatedAt:    a.now,
		UpdatedAt:    a.now,
		WaitingSince: t,
	}
	if m.Direction == care.Inbound {
		c.Status = care.Open
		c.CustomerHandle = m.AuthorHandle
		c.Subject = subject(m.Text)
		c.Lang = m.Lang
		c.MessagesIn = 1
		c.FirstInboundAt, c.LastInboundAt = t, t
		c.Summoned = m.Summoned
		if a.triage != nil {
			tr := a.triage(m)
			if tr.Priority != nil {
				c.Priority = min(max(*tr.Priority, 0), 999)
			}
			c.Department, c.Intent, c.Sentiment, c.CrisisTopic = tr.Department, tr.Intent, tr.Sentiment, tr.CrisisTopic
		}
	} else {
		c.Status = care.Pending
		c.MessagesOut = 1
		c.FirstResponseAt, c.LastOutboundAt = &t, &t
	}
	item, err := marshal(caseRecord{Case: c, LastCounted: m.ID, Counted: []string{m.ID}})
	if err != nil {
		return nil, fmt.Errorf("encode case %s: %w", caseID, err)
	}
	dropZeroTimes(item)
	for k, v := range caseKey(caseID) {
		item[k] = v
	}
	item[KeyGSI1PK] = str(queuePK(c.Status))
	item[KeyGSI1SK] = str(queueSK(c.Priority, c.WaitingSince, c.ID))
	return item, nil
}

// countInto returns the update that counts the message into the case c (as read).
// It writes index GSI1 only when the status, the waiting time or a summary field
// changes.
func (a *appender) countInto(c *caseRecord) *dynamodb.UpdateItemInput {
	m := a.m
	t := m.CreatedAt.UTC()
	e := newExpr()
	e.set("updated_at", str(stamp(a.now)))
	e.set("last_counted", str(m.ID))
	counted := []types.AttributeValue{str(m.ID)}
	for _, id := range c.Counted[:min(len(c.Counted), CountedKept-1)] {
		counted = append(counted, str(id))
	}
	e.set("counted", &types.AttributeValueMemberL{Value: counted})
	status, waiting := c.Status, c.WaitingSince
	reopened := false
	if m.Direction == care.Inbound {
		e.add("messages_in", 1)
		if c.LastInboundAt.IsZero() || t.After(c.LastInboundAt) {
			e.set("last_inbound_at", str(stamp(t)))
		}
		if c.FirstInboundAt.IsZero() || t.Before(c.FirstInboundAt) {
			e.set("first_inbound_at", str(stamp(t)))
		}
		if c.CustomerID == "" {
			e.set("customer_id", str(m.AuthorID))
		}
		if c.CustomerHandle == "" && m.AuthorHandle != "" && (c.CustomerID == "" || c.CustomerID == m.AuthorID) {
			e.set("customer_handle", str(m.AuthorHandle))
		}
		if c.Subject == "" && m.Text != "" {
			e.set("subject", str(subject(m.Text)))
		}
		if c.Lang == "" && m.Lang != "" {
			e.set("lang", str(m.Lang))
		}
		if m.Summoned && !c.Summoned {
			e.set("summoned", &types.AttributeValueMemberBOOL{Value: true})
		}
		// answered: the brand replied after this message was written.
		answered := c.LastOutboundAt != nil && !t.After(*c.LastOutboundAt)
		switch c.Status {
		case care.Open:
			if !answered && t.Before(waiting) {
				waiting = t // an earlier message, delivered late
			}
		case care.Pending:
			if !answered {
				status, waiting = care.Open, t
			}
		case care.Resolved:
			status, waiting, reopened = care.Open, t, true
			e.remove("resolved_at")
			e.add("reopens", 1)
			if c.ResolvedAt != nil {
				e.set("reopened_from", str(stamp(*c.ResolvedAt)))
			}
		}
	} else {
		e.add("messages_out", 1)
		if c.LastOutboundAt == nil || t.After(*c.LastOutboundAt) {
			e.set("last_outbound_at", str(stamp(t)))
		}
		if c.FirstResponseAt == nil || t.Before(*c.FirstResponseAt) {
			e.set("first_response_at", str(stamp(t)))
		}
		if c.CustomerID == "" && m.Customer() != "" {
			e.set("customer_id", str(m.Customer()))
		}
		if c.Status == care.Open && !t.Before(c.LastInboundAt) {
			status, waiting = care.Pending, t
		}
	}
	if c.ReopenedFrom != nil && !reopened {
		e.remove("reopened_from") // this message did not reopen the case
	}
	// Nobody counted since the read (the list of ids counted is rewritten from
	// it), and the status is the one read.
	cond := fmt.Sprintf("attribute_not_exists(%s)", e.name("last_counted"))
	if c.LastCounted != "" {
		cond = fmt.Sprintf("%s = %s", e.name("last_counted"), e.value(str(c.LastCounted)))
	}
	cond += fmt.Sprintf(" AND %s = %s", e.name("status"), e.value(str(string(c.Status))))
	if status != c.Status || !waiting.Equal(c.WaitingSince) {
		e.set("status", str(string(status)))
		e.set("waiting_since", str(stamp(waiting)))
		e.set(KeyGSI1PK, str(queuePK(status)))
		e.set(KeyGSI1SK, str(queueSK(c.Priority, waiting, c.ID)))
		cond += fmt.Sprintf(" AND %s = %s", e.name("priority"), e.value(num(int64(c.Priority))))
	}
	return e.input(caseKey(c.ID), cond)
}

// subject is the subject of a case opened by text: its first subjectLen characters,
// with runs of white space folded into one space.
func subject(text string) string {
	s := strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(s) <= subjectLen {
		return s
	}
	return string([]rune(s)[:subjectLen])
}

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// gzipWriters reuses gzip writers: each new one allocates about 800 KB of
// compression state, which would dominate an append's allocations.
var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(io.Discard) }}

func gzipBytes(b []byte) ([]byte, error) { return compress(&gzipWriters, b) }

// compressor is a pooled compressing writer (gzip.Writer, flate.Writer).
type compressor interface {
	io.WriteCloser
	Reset(io.Writer)
}

// compress compresses b with a compressor of pool.
func compress(pool *sync.Pool, b []byte) ([]byte, error) {
	var buf bytes.Buffer
	w := pool.Get().(compressor)
	defer pool.Put(w)
	w.Reset(&buf)
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
