package sender

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
	"github.com/pajarito-care/pajarito/shared/emf"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

// maxWindowsAhead is how far ahead a send is reserved: as far as a record can
// wait (queue.MaxVisibility).
const maxWindowsAhead = int(queue.MaxVisibility / store.SendWindow)

// copyClockSkew is how much earlier than the attempt's start a copy of the reply
// may say it was written (clocks differ).
const copyClockSkew = 2 * time.Minute

// Reads of X for an interrupted send (Finder): at most findPages pages of
// findPageSize; a record whose read fails transiently waits and reads again,
// until its findReceives-th receive, after which the reply is marked unknown.
const (
	findPages    = 3
	findPageSize = 100
	findReceives = 4
)

// maxDMCases bounds the customer's DM cases read for the linter.
const maxDMCases = 5

// endpoint names the endpoint the record's request is sent to, as in the
// rate-limit backoffs (shared with the listener's).
func (r *record) endpoint() string {
	switch {
	case r.chat != "":
		return xapi.EndpointSendChat
	case r.req.Channel == care.DM:
		return xapi.EndpointSendDM
	}
	return xapi.EndpointCreatePost
}

// route decides how a DM is sent: the way the recipient last wrote in the
// case. In X Chat when the sender has a ChatWriter and the recipient's latest
// DM of the case is an X Chat message (r.chat is then the reply's X Chat
// message id); else through X's DM route.
func (s *Sender) route(r *record, msgs []care.StoredMessage) {
	r.chat, r.chatConversation = "", ""
	if s.Chat == nil || r.req.Channel != care.DM {
		return
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		m := &msgs[i].Message
		if m.Channel != care.DM || m.Direction != care.Inbound || m.AuthorID != r.req.RecipientID {
			continue
		}
		if m.XChat != nil {
			r.chat, r.chatConversation = care.XChatReplyMessageID(r.req.IdempotencyKey), m.XChat.ConversationID
		}
		return
	}
}

func sendKind(ch care.Channel) string {
	if ch == care.DM {
		return KindDM
	}
	return KindPost
}

func (s *Sender) limit(ch care.Channel) int {
	if ch == care.DM {
		if s.Limits.DMs > 0 {
			return s.Limits.DMs
		}
		return DefaultDMsPerWindow
	}
	if s.Limits.Posts > 0 {
		return s.Limits.Posts
	}
	return DefaultPostsPerWindow
}

// send checks, schedules, claims and sends a request no delivery has sent (rep is
// nil or waiting). lost is true when another delivery claimed it first.
func (s *Sender) send(ctx context.Context, r *record, rep *store.Reply) (lost bool) {
	req := &r.req
	now := s.now()
	c, msgs, lint, ok := s.ready(ctx, r, rep, now)
	if !ok {
		return false
	}
	s.route(r, msgs)
	var slot time.Time
	if rep != nil {
		slot = rep.Slot
	}
	if !s.withinRateLimit(ctx, r, now, slot) {
		return false
	}
	if !s.reserve(ctx, r, now, slot) {
		return false
	}

	claimed, won, err := s.Store.ClaimReply(ctx, req)
	if err != nil {
		r.outcome, r.err = OutcomeRetry, err
		return false
	}
	if !won {
		return true
	}
	r.attempt = claimed.Attempts
	sent, done, err := s.post(ctx, r, c, msgs, now)
	if done {
		return false
	}
	s.answered(ctx, r, c, msgs, lint.Links, sent, err)
	return false
}

// ready checks the request before it is scheduled: valid, due, addressed as its
// case allows (checkTarget) and taken by the reply linter, with what the case
// knows at now. ok is false when it is not, the record then settled (failed,
// waiting or retried); else it returns the case, its messages and the linter's
// result.
func (s *Sender) ready(ctx context.Context, r *record, rep *store.Reply, now time.Time) (c *care.Case, msgs []care.StoredMessage, lint protocol.LintResult, ok bool) {
	req := &r.req
	if err := req.Validate(); err != nil {
		s.fail(ctx, r, 0, err.Error())
		return nil, nil, lint, false
	}
	if rep != nil && rep.NotBefore != nil && now.Before(*rep.NotBefore) {
		// Back before its time (its visibility could not be set): wait again.
		s.wait(ctx, r, OutcomeDelayed, rep.NotBefore.Sub(now)+spread(req.IdempotencyKey), "still waits: "+rep.Reason)
		return nil, nil, lint, false
	}
	if req.Kind == care.ReplyStatement {
		lint, ok := s.statementReady(ctx, r)
		return nil, nil, lint, ok
	}
	c, msgs, err := s.Store.GetCase(ctx, req.CaseID)
	if errors.Is(err, store.ErrNotFound) {
		s.fail(ctx, r, 0, fmt.Sprintf("case %s does not exist", req.CaseID))
		return nil, nil, lint, false
	}
	if err != nil {
		r.outcome, r.err = OutcomeRetry, err
		return nil, nil, lint, false
	}
	if reason := s.checkTarget(req, c, msgs); reason != "" {
		s.fail(ctx, r, 0, reason)
		return nil, nil, lint, false
	}
	lint, err = s.lint(ctx, req, c, msgs, now)
	if err != nil {
		r.outcome, r.err = OutcomeRetry, err
		return nil, nil, lint, false
	}
	if !lint.OK() {
		s.fail(ctx, r, 0, lintRefusal(lint))
		return nil, nil, lint, false
	}
	return c, msgs, lint, true
}

// lintRefusal is the reason of a request the reply linter refused.
func lintRefusal(lint protocol.LintResult) string {
	var issues []string
	for _, i := range lint.Errors {
		issues = append(issues, i.Rule+": "+i.Messages["en"])
	}
	return "the reply linter refused it: " + strings.Join(issues, "; ")
}

// withinRateLimit checks X's rate limit, as recorded by any sender, for the
// request's endpoint. It returns false when the send cannot go on: the backoff
// could not be read (the record is retried), or it is active (the request is
// postponed until it ends, keeping slot).
func (s *Sender) withinRateLimit(ctx context.Context, r *record, now, slot time.Time) bool {
	b, err := s.Store.GetBackoff(ctx, r.endpoint())
	if err != nil {
		r.outcome, r.err = OutcomeRetry, err
		return false
	}
	if b.Active(now) {
		until := latest(b.Until, now.Add(RetryFloor(r.receives())))
		s.postpone(ctx, r, now, until, slot, fmt.Sprintf("X's rate limit of %s (%s) until %s", r.endpoint(), b.Reason, b.Until.Format(time.RFC3339)))
		return false
	}
	return true
}

// reserve takes a send of the send budget for now's window: reserved for it by an
// earlier delivery (slot), or reserved now. It returns false when the send cannot
// go on: the window reserved is a later one, or the budget is spent (the request
// is postponed), or the reservation could not be written (the record is retried).
func (s *Sender) reserve(ctx context.Context, r *record, now, slot time.Time) bool {
	req := &r.req
	window := store.SendWindowStart(now)
	switch {
	case slot.Equal(window):
		// Reserved for this window by an earlier delivery.
	case slot.After(window):
		s.postpone(ctx, r, now, slot, slot, "waits for the send budget of the window reserved, "+slot.Format(time.RFC3339))
		return false
	default:
		w, ok, err := s.Store.ReserveSend(ctx, sendKind(req.Channel), now, s.limit(req.Channel), maxWindowsAhead)
		if err != nil {
			r.outcome, r.err = OutcomeRetry, err
			return false
		}
		if !ok {
			s.postpone(ctx, r, now, now.Add(queue.MaxVisibility), time.Time{}, fmt.Sprintf("the send budget of %ss is spent for the next %d windows", sendKind(req.Channel), maxWindowsAhead))
			return false
		}
		if w.After(window) {
			s.postpone(ctx, r, now, w, w, fmt.Sprintf("the send budget of %ss (%d per %s) is spent until %s", sendKind(req.Channel), s.limit(req.Channel), store.SendWindow, w.Format(time.RFC3339)))
			return false
		}
	}
	return true
}

// post calls X for the claimed attempt: a DM, or a public reply, posted once more
// with its reference when X refuses the text as duplicate content (distinct).
// done is true when the attempt is settled already: X's copy from an earlier
// attempt was found (reconciled), or the text with the reference waits for X's
// reset (released). Otherwise sent and err are X's answer to the last call.
func (s *Sender) post(ctx context.Context, r *record, c *care.Case, msgs []care.StoredMessage, now time.Time) (sent *xapi.Sent, done bool, err error) {
	req := &r.req
	switch {
	case r.chat != "":
		sent, err = s.Chat.SendChat(ctx, req.RecipientID, r.chat, req.Text)
		return sent, false, err
	case req.Channel == care.DM:
		sent, err = s.X.SendDM(ctx, req.RecipientID, req.Text)
		return sent, false, err
	case req.InReplyToID == "":
		// A crisis's statement: a post of its own (care.ReplyRequest.Validate).
		sent, err = s.X.Post(ctx, req.Text)
		return sent, false, err
	}
	sent, err = s.X.Reply(ctx, req.InReplyToID, req.Text)
	text, earlier, ok := s.distinct(ctx, r, c, msgs, now, err)
	switch {
	case earlier != nil:
		s.reconcile(ctx, r, c, msgs, earlier, fmt.Sprintf("attempt %d: X refused the text as duplicate content, its own: X's copy %s, from an earlier attempt, was found on X", r.attempt, earlier.ID))
		return nil, true, nil
	case ok && s.heed(ctx, r.endpoint(), sent, err):
		// X counted the refused call too, and its window is spent: a second
		// call now would be refused 429. The text with the reference goes
		// out after X's reset.
		s.release(ctx, r, latest(rateLimitOf(sent, err).Reset, now.Add(RetryFloor(r.receives()))),
			"X refused the text as duplicate content and its rate-limit window is spent: to be sent with a reference after its reset")
		return nil, true, nil
	case ok:
		r.text, r.reason = text, "X refused the text as duplicate content: sent with a reference"
		sent, err = s.X.Reply(ctx, req.InReplyToID, text)
	}
	return sent, false, err
}

// answered records X's answer to the attempt's call (sent, or err): its rate
// limit (heed), then the reply sent, priced with the linter's count of links, or
// refused.
func (s *Sender) answered(ctx context.Context, r *record, c *care.Case, msgs []care.StoredMessage, links int, sent *xapi.Sent, err error) {
	s.heed(ctx, r.endpoint(), sent, err)
	if err == nil {
		at, ok := care.IDTime(sent.ID)
		if !ok {
			at = s.now()
		}
		s.sent(ctx, r, c, msgs, sent.ID, at, price(&r.req, links), OutcomeSent, r.reason)
		return
	}
	s.refused(ctx, r, err)
}

// distinct returns the text to post once more when X refused an automatic public
// reply as duplicate content, the brand having posted the same text to someone
// else: the text with the reply's own reference (protocol.Distinct), if the
// linter takes it. On a later attempt an earlier one of the reply's own may be
// what X found (a 5xx that created the post after all): X is asked first
// (Finder, from the request's time). Its copy there is returned as earlier, the
// reply sent; when X holds none, the text with the reference goes out as on a
// first attempt; without a Finder, or when X cannot tell, nothing does (the
// refusal stands).
func (s *Sender) distinct(ctx context.Context, r *record, c *care.Case, msgs []care.StoredMessage, now time.Time, err error) (text string, earlier *care.Message, ok bool) {
	var api *xapi.APIError
	if !errors.As(err, &api) || !api.DuplicateContent() || !r.req.Kind.Automatic() {
		return "", nil, false
	}
	if r.attempt != 1 {
		if s.Finder == nil {
			return "", nil, false
		}
		others, err := s.Store.ListReplies(ctx, r.req.CaseID)
		if err != nil {
			return "", nil, false
		}
		since := r.req.CreatedAt
		if since.IsZero() {
			since = now.Add(-queue.MaxVisibility)
		}
		m, complete, err := s.findOnX(ctx, &r.req, s.copyRules(&r.req, since, others))
		switch {
		case m != nil:
			return "", m, false
		case err != nil || !complete:
			return "", nil, false
		}
	}
	varied := r.req
	varied.Text = protocol.Distinct(r.req.Text, r.req.IdempotencyKey)
	lint, lerr := s.lint(ctx, &varied, c, msgs, now)
	if lerr != nil || !lint.OK() {
		return "", nil, false
	}
	return varied.Text, nil, true
}

// refused handles an attempt that X did not accept (or did not answer).
func (s *Sender) refused(ctx context.Context, r *record, err error) {
	req := &r.req
	now := s.now()
	var (
		rl  *xapi.RateLimitedError
		api *xapi.APIError
	)
	retryAt := now.Add(RetryFloor(r.receives()))
	switch {
	case errors.As(err, &rl):
		if berr := s.Store.SetBackoff(ctx, store.Backoff{
			Endpoint: r.endpoint(), Until: rl.RateLimit.Reset,
			Limit: rl.RateLimit.Limit, Remaining: rl.RateLimit.Remaining, Reason: "429",
		}); berr != nil {
			s.log().WarnContext(ctx, "sender: could not record X's rate limit", "endpoint", r.endpoint(), "error", berr.Error())
		}
		s.release(ctx, r, latest(rl.RateLimit.Reset, retryAt), fmt.Sprintf("X answered 429 (rate limited) until %s", rl.RateLimit.Reset.Format(time.RFC3339)))
	case errors.As(err, &api) && api.StatusCode == http.StatusUnauthorized:
		s.log().ErrorContext(ctx, "sender: X rejected the brand's credentials; replies wait until they are fixed", "error", err.Error())
		s.release(ctx, r, now.Add(retryCap), err.Error())
	case errors.As(err, &api) && api.Retryable():
		s.release(ctx, r, retryAt, err.Error())
	case errors.As(err, &api):
		s.fail(ctx, r, r.attempt, reasonOf(api))
	case errors.Is(err, xapi.ErrOAuth2NotSignedIn) || errors.Is(err, xapi.ErrOAuth2Refresh):
		s.log().ErrorContext(ctx, "sender: the brand's OAuth 2.0 sign-in, which X Chat needs, is missing or refused; X Chat replies wait until it is fixed", "error", err.Error())
		s.release(ctx, r, now.Add(retryCap), err.Error())
	case errors.Is(err, xapi.ErrUnsendable):
		s.fail(ctx, r, r.attempt, err.Error())
	case errors.Is(err, xapi.ErrNotSent):
		s.release(ctx, r, retryAt, err.Error())
	default:
		// The request may have reached X: leave the claim; the delivery after the
		// lease settles it (see "An interrupted send").
		s.wait(ctx, r, OutcomeUncertain, s.lease()+spread(req.IdempotencyKey), "no answer from X after sending: "+err.Error())
	}
}

// rateLimitOf is what X's x-rate-limit-* headers said in its answer to a write:
// sent, or the *xapi.APIError of err.
func rateLimitOf(sent *xapi.Sent, err error) xapi.RateLimit {
	var api *xapi.APIError
	switch {
	case err == nil && sent != nil:
		return sent.RateLimit
	case errors.As(err, &api):
		return api.RateLimit
	}
	return xapi.RateLimit{}
}

// heed records X's rate-limit window of the channel's endpoint as a backoff when
// X's answer to a write (sent, or the *xapi.APIError of err) says it is spent, and
// reports whether it did: no sender calls X again before its reset. X counts
// every call, a refusal included (duplicate content, then the text with its
// reference: two calls for one send), in windows that start with their first
// call; the send budget counts sends in fixed windows, which only approximates
// them. A 429 is recorded by refused.
func (s *Sender) heed(ctx context.Context, endpoint string, sent *xapi.Sent, err error) bool {
	rl := rateLimitOf(sent, err)
	if rl.Limit == 0 || rl.Remaining > 0 || !rl.Reset.After(s.now()) {
		return false
	}
	if berr := s.Store.SetBackoff(ctx, store.Backoff{
		Endpoint: endpoint, Until: rl.Reset, Limit: rl.Limit, Remaining: 0, Reason: "no requests left",
	}); berr != nil {
		s.log().WarnContext(ctx, "sender: could not record X's rate limit", "endpoint", endpoint, "error", berr.Error())
	}
	return true
}

// reasonOf is the reason recorded for X's refusal.
func reasonOf(e *xapi.APIError) string {
	parts := []string{fmt.Sprintf("X answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))}
	for _, p := range append([]string{e.Detail}, e.Messages...) {
		if p != "" && !slices.Contains(parts, p) {
			parts = append(parts, p)
		}
	}
	if len(parts) == 1 && e.Title != "" {
		parts = append(parts, e.Title)
	}
	return strings.Join(parts, ": ")
}

// release puts a refused attempt back to waiting and makes the record wait until
// retryAt.
func (s *Sender) release(ctx context.Context, r *record, retryAt time.Time, reason string) {
	req := &r.req
	if _, err := s.Store.ReleaseReply(ctx, req.CaseID, req.IdempotencyKey, r.attempt, retryAt, reason); err != nil {
		// The claim stays: the request is settled after the lease.
		s.wait(ctx, r, OutcomeRetry, s.lease()+spread(req.IdempotencyKey), reason+"; and the claim could not be released: "+err.Error())
		return
	}
	s.wait(ctx, r, OutcomeDelayed, retryAt.Sub(s.now())+spread(req.IdempotencyKey), reason)
}

// postpone records that the request waits until until (holding a send of the window
// starting at slot, if not zero) and makes the record wait.
func (s *Sender) postpone(ctx context.Context, r *record, now, until, slot time.Time, reason string) {
	req := &r.req
	if _, err := s.Store.DeferReply(ctx, req, until, slot, reason); err != nil {
		r.outcome, r.err = OutcomeRetry, err
		return
	}
	// A write refused by its condition means another delivery claimed it
	// meanwhile: waiting is right either way.
	s.wait(ctx, r, OutcomeDelayed, until.Sub(now)+spread(req.IdempotencyKey), reason)
}

// fail marks the request failed (after attempt; 0 before any call), for good, and
// notifies the team.
func (s *Sender) fail(ctx context.Context, r *record, attempt int, reason string) {
	req := &r.req
	ok, err := s.Store.FinishReply(ctx, req, attempt, store.ReplyOutcome{State: care.ReplyFailed, Reason: reason})
	if err != nil {
		r.outcome, r.reason, r.err = OutcomeRetry, reason, err
		return
	}
	if !ok {
		// Another delivery moved it meanwhile: read it again next time.
		s.wait(ctx, r, OutcomeInFlight, s.lease(), "changed by another delivery while failing: "+reason)
		return
	}
	r.outcome, r.reason = OutcomeFailed, reason
	s.notify(ctx, r, care.AlertReplyFailed, reason)
}

// notify tells the team about a reply that failed or is unknown, once.
func (s *Sender) notify(ctx context.Context, r *record, kind, reason string) {
	req := &r.req
	won, err := s.Store.ClaimReplyTask(ctx, req.CaseID, req.IdempotencyKey, store.TaskNotify)
	if err != nil {
		r.err = fmt.Errorf("notify: %w", err)
		return
	}
	if !won {
		return
	}
	what := "failed"
	if kind == care.AlertReplyUnknown {
		what = "may not have been sent"
	}
	state := care.ReplyFailed
	if kind == care.AlertReplyUnknown {
		state = care.ReplyUnknown
	}
	// Recorded first, so that pajarito doctor lists it even if the notifier is down.
	if err := s.Store.RecordReplyIssue(ctx, store.ReplyIssue{
		CaseID: req.CaseID, Key: req.IdempotencyKey, State: state, Kind: req.Kind, Reason: reason, At: s.now(),
	}); err != nil {
		if rerr := s.Store.ReleaseReplyTask(ctx, req.CaseID, req.IdempotencyKey, store.TaskNotify); rerr != nil {
			err = errors.Join(err, rerr)
		}
		r.err = fmt.Errorf("notify: %w", err)
		return
	}
	a := care.Alert{
		Kind: kind, CaseID: req.CaseID, Message: req.TriggerID, At: s.now(),
		Summary: fmt.Sprintf("%s %s reply %s of case %s %s: %s", req.Kind, req.Channel, req.IdempotencyKey, req.CaseID, what, reason),
	}
	if err := s.notifier().Notify(ctx, a); err != nil {
		if rerr := s.Store.ReleaseReplyTask(ctx, req.CaseID, req.IdempotencyKey, store.TaskNotify); rerr != nil {
			err = errors.Join(err, rerr)
		}
		r.err = fmt.Errorf("notify: %w", err)
	}
}

// sent records a reply X accepted (or whose copy was found): the reply item, the
// outbound message in the case, the spend.
func (s *Sender) sent(ctx context.Context, r *record, c *care.Case, msgs []care.StoredMessage, xid string, at time.Time, usd float64, outcome, reason string) {
	req := &r.req
	r.xid = xid
	// The item shows what went out: the text X took, and why it differs.
	posted := *req
	posted.Text = r.sentText()
	ok, err := s.Store.FinishReply(ctx, &posted, r.attempt, store.ReplyOutcome{State: care.ReplySent, XID: xid, CostUSD: usd, SentAt: at, Reason: reason, ClaimSpend: true})
	if err == nil && !ok {
		err = fmt.Errorf("attempt %d is no longer the reply's", r.attempt)
	}
	// Whatever happened to the reply item, the message goes into the case: its
	// copy there is what settles an interrupted send. The spend is added by the
	// delivery that finished the reply (finishing claimed it).
	spend := spendSkip
	if err == nil {
		spend = spendClaimed
	}
	rerr := s.record(ctx, r, c, msgs, xid, at, usd, spend)
	if err != nil {
		s.wait(ctx, r, OutcomeUncertain, s.lease()+spread(req.IdempotencyKey), fmt.Sprintf("X created %s but recording it failed: %v", xid, err))
		return
	}
	r.outcome, r.reason = outcome, reason
	if rerr != nil {
		r.err = rerr
	}
}

// spendTask says what record does about a reply's spend.
type spendTask int

const (
	// spendSkip: nothing; the delivery that finishes the reply adds it.
	spendSkip spendTask = iota
	// spendClaimed: add it; this delivery finished the reply as sent, which
	// claimed the spend task (store.Store.FinishReply).
	spendClaimed
	// spendClaim: add it if the spend task can be claimed: the reply was
	// finished before, and a spend given back after a failure is still due.
	spendClaim
)

// record appends a sent reply to its case as an outbound message (a crisis
// statement's post has no case: it is recorded on the crisis instead) and adds
// its price to the month's spend, each once (spend).
func (s *Sender) record(ctx context.Context, r *record, c *care.Case, msgs []care.StoredMessage, xid string, at time.Time, usd float64, spend spendTask) error {
	var errs []error
	if r.req.Kind == care.ReplyStatement {
		if err := s.statementOut(ctx, r, xid, at); err != nil {
			errs = append(errs, err)
		}
	} else if err := s.appendToCase(ctx, r, c, msgs, xid, at, usd); err != nil {
		errs = append(errs, err)
	}
	if err := s.audit(ctx, r, xid, at); err != nil {
		errs = append(errs, err)
	}
	if err := s.addSpend(ctx, r, at, usd, spend); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// appendToCase appends a sent reply to its case as an outbound message, and
// tells the metrics when it is the case's first response.
func (s *Sender) appendToCase(ctx context.Context, r *record, c *care.Case, msgs []care.StoredMessage, xid string, at time.Time, usd float64) error {
	req := &r.req
	m := &care.Message{
		Channel: req.Channel, Direction: care.Outbound, ID: xid,
		AuthorID: s.Brand.ID, AuthorHandle: s.Brand.Handle,
		Text: r.sentText(), Lang: req.Lang, CreatedAt: at,
		// Only a post with a link has that price (see price).
		HasURL: req.Channel == care.Public && usd == protocol.PricePostLinkUSD,
	}
	if req.Channel == care.DM {
		m.RecipientID = req.RecipientID
		if r.chat != "" {
			m.XChat = &care.XChat{EventID: r.chat, ConversationID: r.chatConversation, Verified: true}
		}
	} else {
		m.InReplyToID = req.InReplyToID
		m.InReplyToUserID = c.CustomerID
		for _, x := range msgs {
			if x.ID == req.InReplyToID {
				m.InReplyToUserID, m.ConversationID = x.AuthorID, x.ConversationID
			}
		}
		if m.ConversationID == "" {
			m.ConversationID = care.ThreadConversation(c.ThreadKey)
		}
	}
	env := &care.Envelope{Version: care.EnvelopeVersion, Kind: care.KindMessage, Source: care.SourceReply, ReceivedAt: s.now(), Message: m}
	res, err := s.Store.AppendOutbound(ctx, req.CaseID, env, "reply#"+req.IdempotencyKey)
	if res.Stored() && res.Case.FirstResponseAt != nil && res.Case.FirstResponseAt.Equal(at) && !res.Case.FirstInboundAt.IsZero() {
		// This reply is the case's first response.
		s.emit(ctx, at, nil, emf.Metric{Name: "FirstResponseSeconds", Unit: emf.Seconds, Value: at.Sub(res.Case.FirstInboundAt).Seconds()})
	}
	return err
}

// addSpend adds a sent reply's price to the month's spend, once (spend).
func (s *Sender) addSpend(ctx context.Context, r *record, at time.Time, usd float64, spend spendTask) error {
	req := &r.req
	var errs []error
	won, err := spend == spendClaimed, error(nil)
	if spend == spendClaim {
		won, err = s.Store.ClaimReplyTask(ctx, req.CaseID, req.IdempotencyKey, store.TaskSpend)
	}
	if err != nil {
		errs = append(errs, err)
	} else if won {
		source := SpendSource(req.Channel)
		if err := s.Store.AddSpend(ctx, at, store.SourceSpend{Source: source, Kind: store.SpendKindReply, Pages: 1, USD: usd}); err != nil {
			errs = append(errs, err)
			if rerr := s.Store.ReleaseReplyTask(ctx, req.CaseID, req.IdempotencyKey, store.TaskSpend); rerr != nil {
				errs = append(errs, rerr)
			}
		} else {
			s.emit(ctx, at, map[string]string{"Source": source}, emf.Metric{Name: "EstimatedCostUSD", Unit: emf.None, Value: usd})
		}
	}
	return errors.Join(errs...)
}

// SpendSource is the spend source (and metric Source) of replies on a channel:
// "reply.post" or "reply.dm".
func SpendSource(ch care.Channel) string { return "reply." + sendKind(ch) }

// emit writes one Embedded Metric Format line.
func (s *Sender) emit(ctx context.Context, at time.Time, dims map[string]string, metrics ...emf.Metric) {
	w := s.Metrics
	if w == nil {
		w = os.Stdout
	}
	s.metricsMu.Lock()
	err := emf.Write(w, at, dims, metrics...)
	s.metricsMu.Unlock()
	if err != nil {
		s.log().ErrorContext(ctx, "sender: write metrics", "error", err.Error())
	}
}

// price is X's price of the reply (DESIGN.md).
func price(req *care.ReplyRequest, links int) float64 {
	switch {
	case req.Channel == care.DM:
		return PriceDMUSD
	case links > 0:
		return protocol.PricePostLinkUSD
	case req.Summoned:
		return protocol.PricePostSummonedUSD
	}
	return protocol.PricePostUSD
}

// finished handles a redelivery of a request that is done.
func (s *Sender) finished(ctx context.Context, r *record, rep *store.Reply) {
	req := &r.req
	r.attempt, r.xid, r.reason = rep.Attempts, rep.XID, rep.Reason
	if rep.State != care.ReplySent {
		r.outcome = OutcomeDone
		if rep.NotifiedAt == nil {
			kind := care.AlertReplyFailed
			if rep.State == care.ReplyUnknown {
				kind = care.AlertReplyUnknown
			}
			s.notify(ctx, r, kind, rep.Reason)
		}
		return
	}
	r.outcome = OutcomeAlreadySent
	var c *care.Case
	var msgs []care.StoredMessage
	if req.Kind != care.ReplyStatement {
		var err error
		if c, msgs, err = s.Store.GetCase(ctx, req.CaseID); err != nil {
			r.err = err
			return
		}
	}
	at := rep.UpdatedAt
	if rep.SentAt != nil {
		at = *rep.SentAt
	}
	if err := s.record(ctx, r, c, msgs, rep.XID, at, rep.CostUSD, spendClaim); err != nil {
		r.err = err
	}
}

// sending handles a request another delivery claimed: it waits for the claim, or
// settles an interrupted send. again is true when it put the request back to
// waiting, X having answered that it holds no copy of the interrupted attempt:
// the caller sends it.
func (s *Sender) sending(ctx context.Context, r *record, rep *store.Reply) (again bool) {
	req := &r.req
	now := s.now()
	r.attempt = rep.Attempts
	started := rep.UpdatedAt
	if rep.SendingAt != nil {
		started = *rep.SendingAt
	}
	gone := !s.Epoch.IsZero() && started.Before(s.Epoch)
	if age := now.Sub(started); age < s.lease() && !gone {
		s.wait(ctx, r, OutcomeInFlight, s.lease()-age+spread(req.IdempotencyKey),
			fmt.Sprintf("attempt %d started at %s is in progress", rep.Attempts, started.Format(time.RFC3339)))
		return false
	}
	c, msgs, err := s.interrupted(ctx, r)
	if err != nil {
		r.outcome, r.err = OutcomeRetry, err
		return false
	}
	others, err := s.Store.ListReplies(ctx, req.CaseID)
	if err != nil {
		r.outcome, r.err = OutcomeRetry, err
		return false
	}
	rules := s.copyRules(req, started, others)
	if m := findCopy(rules, msgs); m != nil {
		s.reconcile(ctx, r, c, msgs, &m.Message, fmt.Sprintf("attempt %d was interrupted; X's copy %s was found in the case", rep.Attempts, m.ID))
		return false
	}
	unknown := "no copy of the reply reached the case"
	if s.route(r, msgs); r.chat != "" {
		unknown += " (an X Chat message: Pajarito does not read X Chat conversations back)"
	} else if s.Finder != nil {
		m, complete, err := s.findOnX(ctx, req, rules)
		switch {
		case m != nil:
			s.reconcile(ctx, r, c, msgs, m, fmt.Sprintf("attempt %d was interrupted; X's copy %s was found on X", rep.Attempts, m.ID))
			return false
		case err == nil && complete:
			reason := fmt.Sprintf("attempt %d, started at %s, was interrupted before X created it (X has no copy)", rep.Attempts, started.Format(time.RFC3339))
			ok, err := s.Store.ReleaseReply(ctx, req.CaseID, req.IdempotencyKey, rep.Attempts, now, reason)
			if !s.settled(ctx, r, ok, err) {
				return false
			}
			r.reason = reason
			return true
		case err == nil:
			unknown += fmt.Sprintf(" and X's %s since then hold more than the %d pages read", copyPlace(req.Channel), findPages)
		case ctx.Err() != nil:
			r.outcome, r.err = OutcomeRetry, err
			return false
		case xapi.IsRetryable(err) && r.receives() < findReceives:
			retryAt := now.Add(RetryFloor(r.receives()))
			var rl *xapi.RateLimitedError
			if errors.As(err, &rl) {
				retryAt = latest(rl.RateLimit.Reset, retryAt)
			}
			s.wait(ctx, r, OutcomeRetry, retryAt.Sub(now)+spread(req.IdempotencyKey),
				fmt.Sprintf("attempt %d was interrupted; looking for it on X failed: %v", rep.Attempts, err))
			return false
		default:
			unknown += fmt.Sprintf(" and looking for it on X failed (%v)", err)
		}
	}
	reason := fmt.Sprintf("attempt %d, started at %s, was interrupted while calling X and %s: check the conversation on X, and send it again only if it is missing",
		rep.Attempts, started.Format(time.RFC3339), unknown)
	ok, err := s.Store.FinishReply(ctx, req, rep.Attempts, store.ReplyOutcome{State: care.ReplyUnknown, Reason: reason})
	if s.settled(ctx, r, ok, err) {
		r.outcome, r.reason = OutcomeUnknown, reason
		s.notify(ctx, r, care.AlertReplyUnknown, reason)
	}
	return false
}

// settled reports whether the write that settles an interrupted send (ok, err)
// went through; when not, the record is retried.
func (s *Sender) settled(ctx context.Context, r *record, ok bool, err error) bool {
	switch {
	case err != nil:
		r.outcome, r.err = OutcomeRetry, err
		return false
	case !ok:
		s.wait(ctx, r, OutcomeInFlight, time.Minute, "the reply changed while its interrupted send was settled")
		return false
	}
	return true
}

// reconcile records an interrupted send whose copy m was found (in the case or
// on X) as sent, with the copy's id and time.
func (s *Sender) reconcile(ctx context.Context, r *record, c *care.Case, msgs []care.StoredMessage, m *care.Message, reason string) {
	req := &r.req
	if m.XChat != nil {
		r.chat, r.chatConversation = m.XChat.EventID, m.XChat.ConversationID
	}
	if normalText(m.Text) != normalText(req.Text) {
		if distinct := protocol.Distinct(req.Text, req.IdempotencyKey); normalText(m.Text) == normalText(distinct) {
			r.text = distinct // posted with its reference
		}
	}
	at := m.CreatedAt
	if at.IsZero() {
		at = s.now()
	}
	links := s.Engine.Linter().Lint(protocol.ReplyDraft{Text: req.Text, Channel: req.Channel, Lang: req.Lang}).Links
	s.sent(ctx, r, c, msgs, m.ID, at, price(req, links), OutcomeReconciled, reason)
}

// copyMatch holds the rules that tell the brand's copy of a reply, in the case or
// on X: an outbound message of the brand on the same channel, answering the same
// post (or to the same DM recipient), written after the attempt started (less
// copyClockSkew), with the same text (or, deleted since, any text), that no
// other reply of the case recorded.
type copyMatch struct {
	req   *care.ReplyRequest
	brand string
	since time.Time
	taken map[string]bool
	want  map[string]bool
	// chat is the reply's X Chat message id: an X Chat copy is known by it.
	chat string
}

// copyRules returns the rules of the copy of req's attempt started at started;
// others are the case's replies.
func (s *Sender) copyRules(req *care.ReplyRequest, started time.Time, others []care.ReplyStatus) *copyMatch {
	k := &copyMatch{req: req, brand: s.Brand.ID, since: started.Add(-copyClockSkew), taken: map[string]bool{},
		want: map[string]bool{normalText(req.Text): true}, chat: care.XChatReplyMessageID(req.IdempotencyKey)}
	for _, o := range others {
		if o.Key != req.IdempotencyKey && o.XID != "" {
			k.taken[o.XID] = true
		}
	}
	if req.Channel == care.Public && req.Kind.Automatic() {
		// Sent again with its reference after X found the text duplicate.
		k.want[normalText(protocol.Distinct(req.Text, req.IdempotencyKey))] = true
	}
	return k
}

// match reports whether m, deleted or not, is the copy.
func (k *copyMatch) match(m *care.Message, deleted bool) bool {
	req := k.req
	switch {
	case m.XChat != nil && req.Channel == care.DM:
		// Its text may be closed; its message id is the reply's own.
		return m.Direction == care.Outbound && m.AuthorID == k.brand && m.XChat.EventID == k.chat && !k.taken[m.ID]
	case m.Direction != care.Outbound || m.Channel != req.Channel || m.AuthorID != k.brand || k.taken[m.ID]:
	case req.Channel == care.DM && m.RecipientID != req.RecipientID:
	case req.Channel == care.Public && m.InReplyToID != req.InReplyToID:
	case m.CreatedAt.Before(k.since):
	case !deleted && !k.want[normalText(m.Text)]:
	default:
		return true
	}
	return false
}

// findCopy returns the brand's copy of the reply among the case's messages; nil
// when there is none.
func findCopy(k *copyMatch, msgs []care.StoredMessage) *care.StoredMessage {
	for i := range msgs {
		if k.match(&msgs[i].Message, msgs[i].DeletedAt != nil) {
			return &msgs[i]
		}
	}
	return nil
}

// findOnX looks on X (Finder) for the brand's copy of the reply, from the
// attempt's start: among the brand's posts for a public reply, in the DM
// conversation with the recipient for a DM, at most findPages pages. complete is
// true when X answered every page down to that start: no copy then means X has
// none.
func (s *Sender) findOnX(ctx context.Context, req *care.ReplyRequest, k *copyMatch) (m *care.Message, complete bool, err error) {
	q := xapi.PageQuery{StartTime: k.since, MaxResults: findPageSize}
	for range findPages {
		var (
			found []care.Message
			next  string
		)
		if req.Channel == care.DM {
			page, err := s.Finder.DMEvents(ctx, req.RecipientID, q)
			if err != nil {
				return nil, false, err
			}
			for _, ev := range page.Events {
				found = append(found, s.dmMessage(ev))
			}
			next = page.NextToken
		} else {
			page, err := s.Finder.UserPosts(ctx, s.Brand.ID, q)
			if err != nil {
				return nil, false, err
			}
			for _, env := range page.Envelopes {
				if env.Message != nil {
					found = append(found, *env.Message)
				}
			}
			found = append(found, page.Own...) // a crisis statement's posts
			next = page.NextToken
		}
		for i := range found {
			if k.match(&found[i], false) {
				return &found[i], true, nil
			}
		}
		if next == "" {
			return nil, true, nil
		}
		q.NextToken = next
	}
	return nil, false, nil
}

// dmMessage is a DM event read on X as a message of the brand's conversation.
func (s *Sender) dmMessage(ev xapi.DMEvent) care.Message {
	dir := care.Inbound
	if ev.SenderID == s.Brand.ID {
		dir = care.Outbound
	}
	at := ev.CreatedAt
	if at.IsZero() {
		at, _ = care.IDTime(ev.ID)
	}
	return care.Message{Channel: care.DM, Direction: dir, ID: ev.ID, AuthorID: ev.SenderID, RecipientID: ev.RecipientID,
		Text: ev.Text, CreatedAt: at}
}

// copyPlace names where findOnX looks for a reply on the channel.
func copyPlace(ch care.Channel) string {
	if ch == care.DM {
		return "DMs with the customer"
	}
	return "posts"
}

var (
	linkRE    = regexp.MustCompile(`(?i)\bhttps?://\S+`)
	mentionRE = regexp.MustCompile(`^(@\w+\s+)+`)
)

// normalText is text as compared with X's copy: X escapes &, < and > in posts,
// shortens links and may put the replied-to handles first.
func normalText(text string) string {
	t := html.UnescapeString(text)
	t = linkRE.ReplaceAllString(t, "")
	t = strings.Join(strings.Fields(t), " ")
	return mentionRE.ReplaceAllString(t, "")
}

// checkTarget returns why the request cannot go where it says, or "": a public
// reply answers a message of the case that was not deleted; a DM goes to the
// case's customer.
func (s *Sender) checkTarget(req *care.ReplyRequest, c *care.Case, msgs []care.StoredMessage) string {
	if req.Channel == care.DM {
		switch {
		case req.RecipientID == s.Brand.ID:
			return "the DM's recipient is the brand itself"
		case req.RecipientID != c.CustomerID:
			return fmt.Sprintf("the DM's recipient %s is not the customer of case %s (%s)", req.RecipientID, c.ID, c.CustomerID)
		}
		return ""
	}
	for _, m := range msgs {
		if m.ID != req.InReplyToID {
			continue
		}
		if m.DeletedAt != nil {
			return fmt.Sprintf("the post replied to, %s, was deleted", m.ID)
		}
		return ""
	}
	return fmt.Sprintf("the post replied to, %s, is not a message of case %s", req.InReplyToID, c.ID)
}

// lint runs the reply linter on the request as it is about to be sent, with what
// the case knows now.
func (s *Sender) lint(ctx context.Context, req *care.ReplyRequest, c *care.Case, msgs []care.StoredMessage, now time.Time) (protocol.LintResult, error) {
	decisions, err := s.Store.ListDecisions(ctx, req.CaseID)
	if err != nil {
		return protocol.LintResult{}, err
	}
	var intent string
	for _, d := range decisions {
		if d.MessageID == req.TriggerID || req.Kind == care.ReplyAgent {
			intent = d.Labels.Intent // the trigger's, or an agent's reply: the latest
		}
	}
	draft := protocol.ReplyDraft{
		Text: req.Text, Channel: req.Channel, Lang: req.Lang, Intent: classify.Intent(intent),
		Automatic: req.Kind.Automatic(), AllowLinks: s.allowLinks(req),
		CustomerID: c.CustomerID, Messages: msgs,
	}
	if req.Channel == care.Public && c.CustomerID != "" {
		// What the customer said by DM lives in DM cases: never post it.
		dms, err := s.customerDMs(ctx, c.CustomerID, now)
		if err != nil {
			return protocol.LintResult{}, err
		}
		draft.Messages = append(slices.Clip(msgs), dms...)
	}
	return s.Engine.Linter().Lint(draft), nil
}

// customerDMs returns the messages of the customer's most recent DM cases.
func (s *Sender) customerDMs(ctx context.Context, customer string, now time.Time) ([]care.StoredMessage, error) {
	ids, err := s.Store.CustomerCases(ctx, customer, now.Add(-store.CustomerCaseRetention))
	if err != nil {
		return nil, err
	}
	var out []care.StoredMessage
	read := 0
	for i := len(ids) - 1; i >= 0 && read < maxDMCases; i-- {
		if !strings.HasPrefix(ids[i], "d") {
			continue
		}
		read++
		_, msgs, err := s.Store.GetCase(ctx, ids[i])
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if m.Channel == care.DM {
				out = append(out, m)
			}
		}
	}
	return out, nil
}

// allowLinks reports whether the request may carry links: agents' replies may (the
// linter warns of the cost); automatic ones when the configuration or their
// template allows it.
func (s *Sender) allowLinks(req *care.ReplyRequest) bool {
	if !req.Kind.Automatic() {
		return false
	}
	cfg := s.Engine.Config()
	tmpl, _, _ := strings.Cut(req.TemplateID, ".")
	return cfg.AllowLinks || cfg.Templates[tmpl].AllowLinks
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// audit keeps an automatic reply that went out in its case's audit trail, as
// the system's, once: the entry's id is the reply's key and its time the
// reply's, so that a redelivery writes the same entry. A person's replies are
// kept by the agent API when they are queued or approved.
func (s *Sender) audit(ctx context.Context, r *record, xid string, at time.Time) error {
	req := &r.req
	if !req.Kind.Automatic() {
		return nil
	}
	e := care.AuditEntry{ID: "reply-" + req.IdempotencyKey, At: at, Actor: care.AuditSystem, ActorName: "Pajarito", Role: care.AuditSystem,
		Action: "auto_reply_sent", CaseID: req.CaseID,
		Detail: map[string]string{"kind": string(req.Kind), "channel": string(req.Channel), "template_id": req.TemplateID, "x_id": xid}}
	if _, err := s.Store.PutAudit(ctx, e); err != nil && !errors.Is(err, store.ErrAuditExists) {
		return err
	}
	return nil
}
