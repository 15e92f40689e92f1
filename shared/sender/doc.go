// Package sender is the reply sender: the logic of the Lambda function subscribed to
// the outbound SQS queue (with ReportBatchItemFailures). Each record carries one
// care.ReplyRequest, written by the protocol pipeline or the agent API; the sender
// posts it on X as the brand, a public reply (POST /2/tweets with
// reply.in_reply_to_tweet_id) or a DM (POST
// /2/dm_conversations/with/{participant_id}/messages), as the request's channel
// says and never the other way, and records the result. A DM goes in X Chat
// (encrypted, signed: Sender.Chat, POST /2/chat/conversations/{id}/messages)
// when the customer's latest DM of the case is an X Chat message, under the
// reply's own X Chat message id (care.XChatReplyMessageID), the same on every
// attempt, so that X's chat.sent copy is known as the reply's, whatever its
// time; X Chat messages are not read back from X (no Finder), so an
// interrupted X Chat send whose copy did not reach the case is unknown.
//
// A crisis's public statement and its updates (care.ReplyStatement) go the
// same way, with no case: the statement is a post of its own, each update a
// reply to the post before it in the crisis's thread (store.CrisisPosts),
// sent once that one is out; see statement.go.
//
// # One record
//
// Records are handled one by one. For each, the reply item of its idempotency key
// (package store, replies.go) says where it stands:
//
//   - sent: it is not sent again; the sender makes sure the outbound message is in
//     the case and the spend recorded (a redelivery after a crash does just that).
//   - failed or unknown: nothing is sent; the team is notified if it was not yet.
//   - sending, claimed less than Lease ago: another delivery is calling X; the
//     record waits until the lease ends.
//   - sending for longer than Lease, or since before Epoch: see "An interrupted
//     send" below.
//
// A request with no item yet, or waiting, is checked, then sent:
//
//  1. Validate, then the reply linter (protocol.Linter) again, with the case's
//     messages and, for a public reply, the customer's DMs (from the customer's
//     DM cases), so that nothing said by DM is ever posted in public; the post
//     replied to must be a message of the case, not deleted, and a DM must go to
//     the case's customer. A request that fails is marked failed with the
//     reason, the team is notified, and it is not retried.
//  2. X's rate limit: while a backoff is recorded for the endpoint (shared by
//     every sender, in DynamoDB), the record waits. A backoff is recorded from a
//     429, and from any answer whose x-rate-limit-remaining is 0: X counts every
//     call in windows that start with their first call, refusals included (a
//     text refused as duplicate content, then sent with its reference, is two
//     calls), which the send budget's fixed windows only approximate. A
//     duplicate refused with the window's last call is sent with its reference
//     after X's reset.
//  3. The send budget: one send is reserved in the current 15-minute window of
//     its kind (Limits: 100 posts and 15 DMs by default, X's per-user limits), or,
//     when that window is full, in the first later window with room; the record
//     waits for that window, holding its reservation (at most 12 hours ahead).
//  4. The claim: the reply item moves to sending (a conditional write: of
//     concurrent deliveries of one request, one sends).
//  5. The call to X, then: sent → the item moves to sent with X's id, the
//     message is appended to the case as outbound (store.AppendOutbound:
//     counters, first-response time, and the claim of X's id, so that the copy
//     of the post or DM that X's webhook delivers back is a duplicate) and its
//     price added to the month's spend; 429 → the backoff is recorded, the item
//     goes back to waiting, and the record waits for X's reset; 5xx, 401 or a
//     request that never left → back to waiting, retried later; other 4xx
//     (deleted post, blocked, not allowed to reply, duplicate content, …) →
//     failed with X's reason, the team notified once, not retried; no answer
//     after the request left → uncertain (below). One exception: X refuses a
//     text the brand has posted before, even to another customer, and automatic
//     replies (an acknowledgement, the crisis template) often are word for word
//     the same; such a refusal of an automatic public reply's first attempt is
//     answered by posting it once more with the reply's own reference
//     (protocol.Distinct: "… (7k2q9x) ^Equipo"), if the linter takes it. On a
//     later attempt (after a 429, a 5xx) the duplicate X found may be the
//     reply's own earlier post: the Finder looks on X first, from the request's
//     time; X's copy there is recorded as the reply sent, and only when X holds
//     none does the text with the reference go out (without a Finder, or when X
//     cannot tell, the refusal stands: failed, the team told).
//
// A record that waits is reported as a batch item failure after its visibility
// was set to the wait (Delayer, queue.Visibility: ChangeMessageVisibility, at most
// 12 hours), so that it comes back when it is due: nothing spins, nothing is
// dropped. Locally, eventsource.Poller honours that visibility. Every record gets one
// JSON log line: outcome, case id, key, kind, channel, and X's id or the reason.
//
// # Exactly once, as far as X allows
//
// X takes no idempotency key, so exactly-once rests on the claim: a request is
// posted only by the delivery that moved its item to sending, and a reply
// recorded sent is never posted again. What remains is the call itself: when a
// sender stops between the call and recording its outcome (the function times out
// or crashes, the process is killed, or X's answer never arrives), nobody knows
// whether X created the post. Such a request is never resent blindly: it is sent
// again only once X has answered that it holds no copy of it.
//
// An interrupted send: once its claim is older than Lease (keep it above the
// function's timeout, so that the claimer is surely gone), or older than the
// Sender's Epoch (a sender that is the only one on its Store, as the local
// system's, knows that claims made before it started belong to a process that is
// gone, and settles them at once), the next delivery looks for the brand's copy
// of the reply: same channel, same post replied to or DM recipient, written
// after the attempt started (less copyClockSkew), same text (X's escapes, links
// and leading mentions aside; for an automatic public reply, also its
// protocol.Distinct variant), not an id another reply of the case recorded.
//
//  1. In the case: X's webhook delivers the brand's posts and DMs back, and the
//     processor stores them as outbound messages. Found: the reply is recorded
//     sent with that id (no call to X).
//  2. On X, when the Sender has a Finder (package wire/reply sets the X client): the
//     brand's posts (User Posts timeline) for a public reply, the DM conversation
//     with the recipient for a DM, from the attempt's start, at most 3 pages (of
//     100 each). Found: the reply is recorded sent with X's id and time, and
//     appended to the case. X answered every page down to the attempt's start
//     with no copy: the attempt was interrupted before X created it; the reply
//     goes back to waiting and is sent again by the same delivery (or by the next
//     one, at once, when the invocation has no time left), through every check of
//     a first send. The read answered 429, 5xx or not at all: the record waits
//     (RetryFloor by its receive count, or X's reset if later) and reads again;
//     on its 4th receive or later, or after any other error (401, 403, …) or
//     when the copy could lie beyond the pages read, step 3.
//  3. Otherwise the reply is marked unknown, the team is notified, and an agent
//     checks the conversation on X and sends it again if it is missing.
//
// These reads cost money at X (billed per post or DM event read): only an
// interrupted send makes them, never a send that went through or failed with an
// answer.
//
// A reply can therefore be duplicated only if X answered a read without a post
// it had created (its timeline lagging behind the post, or, for a claim settled
// by Epoch, a call still in flight at X when a process restarts within a moment
// of its kill), or if an agent resends an unknown reply that X did post; and
// lost only if an agent does not act on an unknown alert. With a Finder, replies
// are left unknown only when X's reads keep failing or overflow the pages read;
// without one (X's webhook the only witness), whenever the copy did not reach
// the case. A 5xx answer to the send itself is taken at its word (X created
// nothing) and retried: if X did create the post, X refuses the public retry as
// duplicate content (it is then marked failed with that reason), and a DM would
// be sent twice.
//
// Follow-up work is done once per reply through tasks claimed on the reply item:
// the spend, claimed by the write that finishes the reply as sent
// (store.Store.FinishReply: one write unit fewer per reply than a claim of its
// own; a crash between that write and the ADD loses one reply's price from the
// estimate, an ADD that fails gives the task back and a redelivery claims it,
// store.Store.ClaimReplyTask), and the notification of a failure (a notifier
// error gives the task back, and the redelivery notifies).
//
// # Waiting and the dead-letter queue
//
// SQS counts every receive towards the queue's redrive policy, waits included
// (maxReceiveCount is infra.MaxReceiveCount, 5: a record moves to the DLQ when
// received a sixth time, after five failures). The waits are chosen to stay well
// inside it:
//
//   - Send budget: a reply waits once for the window it reserved (one failed
//     receive), plus one more per 12 hours of backlog (only past 4,800 queued
//     posts, or 720 DMs).
//   - X's rate limit: a record waits until X's x-rate-limit-reset (xapi assumes 15
//     minutes when X sends none), but at least RetryFloor(n) after its n-th
//     receive: 2, 4, 8, then 15 minutes (plus up to a minute of spread). A
//     10-minute 429 storm therefore costs a reply at most 3 failed receives
//     (receives at 0, ≥2 and ≥6 minutes; the fourth, at ≥14 minutes, finds X
//     answering), and 1 or 2 when X's reset is honest: 4 receives at most, under
//     the 6th that would dead-letter it.
//   - 5xx and network errors: the same floor, so a reply rides out about 29
//     minutes of X errors (failures at 0, 2, 6, 14 and 29 minutes) before the DLQ;
//     a 401 (credentials to fix) waits 15 minutes each time, about an hour in
//     all. Raise the outbound queue's maxReceiveCount for longer outages (15
//     would give about 3 hours).
//   - Another delivery sending the same request, or an uncertain send: one wait of
//     Lease (none for a claim older than Epoch), then the request is settled;
//     while X's reads for it fail, waits of RetryFloor, until a read that fails
//     on the record's 4th receive marks it unknown.
//
// A record that cannot be read (not JSON, no case id or key) cannot be recorded
// with a case: it is failed, and after maxReceiveCount receives SQS moves it to
// the DLQ, whose alarm tells the operator.
package sender
