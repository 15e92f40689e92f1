// Package store keeps Pajarito's state in a single DynamoDB table: cases, the
// messages threaded into them, the records that deduplicate X's deliveries, the
// quarantine of undecodable queue messages, the brand account's authorisation, the
// listener's checkpoints and spend, and the care protocol's decisions, reply
// cooldowns and crisis state.
//
// # Access patterns
//
//   - a case and its messages, in order: one Query of the case's partition
//     (GetCase);
//   - the agent queue: cases of one status by priority, highest first, then by how
//     long the customer has waited, oldest first, with cursor pagination: a Query of
//     index GSI1 (ListCases);
//   - the current case of a thread (public conversation id, or DM customer id): the
//     thread pointer;
//   - deduplication of inbound messages by X id (channel + id), and from an X id to
//     its case (deletions, and legacy replies that carry no conversation id): the
//     claim item;
//   - quarantined queue messages, newest first (ListQuarantine); oldest first
//     for a retry, each held by one retry and then marked requeued, by
//     conditional updates (PendingQuarantine, ClaimQuarantined,
//     RequeuedQuarantined);
//   - the brand account's authorisation state (revocations);
//   - the scheduled listener's state: per source, a checkpoint (the highest post id
//     read and the page sequence in progress, see Checkpoint); per month, what each
//     source read and its estimated X cost, one Query of the month (GetSpend); per
//     X endpoint, a rate-limit backoff (GetBackoff);
//   - the care protocol's state (package protocol, crisis.go and decisions.go):
//     the decisions made on a case's messages, oldest first, one Query
//     (ListDecisions, LatestDecision); a case's automatic-reply claim, the
//     cooldown (ClaimAutoReply, LastAutoReply); a customer's cases since a time,
//     one Query (TrackCustomerCase, CustomerCases); per crisis topic, complaints
//     counted per minute and per hour, a window summed with one Query
//     (AddCrisisCount, CrisisMinuteCount, CrisisHourCount), and the automatic
//     crisis replies per window (ClaimCrisisReply); every topic's crisis state,
//     one Query (ListCrises, GetCrisis, OpenCrisis, CloseCrisis);
//   - the reply sender's state: a case's replies, one Query (ListReplies), each
//     claimed and finished by conditional updates; the send budget per kind and
//     15-minute window (ReserveSend);
//   - the agents' work: the team's profiles, one Query (ListAgents); a case's
//     notes, one Query (ListNotes); assignment and triage overrides on the case
//     item (Assign, OverrideTriage); an agent's reply once per draft id (drafts);
//     the classifier's corrections, newest first, one Query (ListCorrections), and
//     the model trained on them (SaveModel, LoadModel);
//   - the open-case gauge: a COUNT Query of the queue index (CountCases);
//   - the service measures: the first-response escalation on the case item
//     (Escalate); satisfaction surveys due, sent, answered and opted out of
//     (surveys.go); a day's new cases, one Query per UTC day (CaseDays), and the
//     daily metric roll-ups per dimension, one Query per range (ListRollups);
//   - the daily signals of what was received but not handled (X event types
//     Pajarito ignores, X Chat messages it cannot read): per signal, key and UTC
//     day a count added with ADD (AddSignal), a range of days read with one Query
//     (Signals), the day's alert claimed once by a conditional update
//     (ClaimSignalAlert, ReleaseSignalAlert; signals.go).
//   - X Chat conversation keys, sealed (never in clear), one item per
//     conversation and key version, written once on attribute_not_exists
//     (PutConversationKey), a conversation's read with one Query
//     (ConversationKeys; convkeys.go).
//
// # Item layout
//
// Key attributes are PK and SK (strings); index GSI1 has keys GSI1PK and GSI1SK
// (strings). Other attribute names are the JSON names of the care types.
//
//	item       PK                   SK                        GSI1PK      GSI1SK                              attributes
//	case       CASE#<caseId>        CASE                      Q#<status>  <999-priority:%03d>#<waiting since,  care.Case, last_counted, counted
//	                                                                      RFC3339 UTC>#<caseId>
//	message    CASE#<caseId>        MSG#<X id, 20 digits>     -           -                                   care.StoredMessage
//	claim      X#<channel>#<X id>   X                         -           -                                   case_id, thread_key, delivery,
//	                                                                                                          claimed_at, raw (gzip), expires_at,
//	                                                                                                          deleted_at
//	thread     THREAD#<thread key>  THREAD                    -           -                                   case_id, updated_at
//	quarantine QUARANTINE           <sent at>#<SQS id>        -           -                                   body (gzip), problem, sqs_message_id,
//	                                                                                                          sent_at, receive_count, truncated,
//	                                                                                                          quarantined_at, expires_at
//	account    ACCOUNT#<user id>    AUTH                      -           -                                   user_id, auth, changed_at, updated_at
//	checkpoint SOURCE#<source name> CHECKPOINT                -           -                                   source, since_id, since_key (20 digits),
//	                                                                                                          start_time, version, updated_at; while a
//	                                                                                                          page sequence is in progress: run_id,
//	                                                                                                          run_since_id, run_start_time, next_token,
//	                                                                                                          run_newest_id, run_pages, run_posts,
//	                                                                                                          run_started_at
//	spend      BUDGET#<yyyy-mm>     SOURCE#<source name>      -           -                                   month, source, kind, reads, pages, usd
//	                                                                                                          (numbers, added with ADD), updated_at
//	backoff    RATELIMIT#<endpoint> BACKOFF                   -           -                                   endpoint, until (sortable), limit,
//	                                                                                                          remaining, reason, updated_at
//	decision   DECISIONS#<caseId>   <X id, 20 digits>         -           -                                   z1 (care.DecisionRecord JSON, DEFLATE
//	                                                                                                          with a preset dictionary)
//	autoreply  AUTOREPLY#<caseId>   AUTOREPLY                 -           -                                   case_id, message_id, last_at,
//	                                                                                                          last_key (sortable), count (ADD),
//	                                                                                                          expires_at
//	custcase   CUSTOMER#<user id>   <opened at, sortable>#    -           -                                   customer_id, case_id, opened_at,
//	                                <caseId>                                                                  expires_at
//	crisiscnt  CRISIS#<topic>       M#<yyyy-mm-ddThh:mm> or   -           -                                   topic, count (ADD), expires_at
//	                                H#<yyyy-mm-ddThh> (UTC)
//	crisisrep  CRISIS#<topic>       R#<window start,          -           -                                   topic, replies (ADD, conditional),
//	                                yyyy-mm-ddThh:mm UTC>                                                     expires_at
//	crisis     CRISIS               TOPIC#<topic>             -           -                                   care.CrisisState, since_key,
//	                                                                                                          quiet_key (sortable)
//	reply      REPLIES#<caseId>     <idempotency key>         -           -                                   care.ReplyStatus (attempts ADD), slot,
//	                                                                                                          task_spend_at, task_notify_at
//	sendwindow SENDS#<kind>         <window start, UTC>       -           -                                   kind, window, sends (ADD, conditional),
//	                                                                                                          limit, expires_at
//	agent      AGENTS               <agent id>                -           -                                   care.AgentProfile
//	note       NOTES#<caseId>       <created at>#<note id>    -           -                                   care.Note
//	correction CORRECTIONS          <corrected at>#<caseId>#  -           -                                   text, lang, intent, sentiment, case_id,
//	                                <message X id>                                                            message_id, agent_id, was_intent,
//	                                                                                                          was_sentiment, corrected_at
//	draft      DRAFTS#<caseId>      <draft id>                -           -                                   case_id, draft_id, input, request,
//	                                                                                                          warnings, created_at, lease_until,
//	                                                                                                          queued_at
//	model      MODEL                CLASSIFY                  -           -                                   body (gzip JSON of classify.Model),
//	                                                                                                          corrections, trained_at, size
//	surveydue  SURVEYS              <resolved at>#<caseId>    -           -                                   case_id, resolved_at, expires_at;
//	                                                                                                          done_at, outcome
//	survey     SURVEY#<customer id> SURVEY                    -           -                                   customer_id, case_id, lang, sent_at,
//	                                                                                                          expires_at, answered_at, answer_id
//	optout     OPTOUT#<customer id> OPTOUT                    -           -                                   customer_id, message_id, opted_out_at
//	caseday    DAY#<yyyy-mm-dd UTC> <created at>#<caseId>     -           -                                   case_id, created_at, expires_at
//	rollup     ROLLUP#<dimension>   <yyyy-mm-dd>              -           -                                   day, dimension, computed_at, final,
//	                                                                                                          cases, body (gzip JSON), size
//	lease      LEASE#<name>         LEASE                     -           -                                   name, holder, until (sortable),
//	                                                                                                          claimed_at, expires_at (lease.go)
//	signal     SIGNAL#<signal>      <yyyy-mm-dd UTC>#<key>    -           -                                   signal, key, day, count (ADD),
//	                                                                                                          alerted_at (conditional), expires_at
//	convkey    CONVKEY#<X Chat      <key version>             -           -                                   conversation_id, key_version, sealed
//	           conversation id>                                                                               (binary: the key encrypted by a sealer),
//	                                                                                                          sealer, created_at (convkeys.go)
//
// The case item also holds the protocol's triage and the agents' work on it:
// intent, sentiment, crisis_topic, overridden (a string set of the fields an agent
// set by hand, which the protocol then leaves alone), assignee, assignee_name,
// assigned_by, assigned_at; the service measures escalated_at (sla.go), reopens,
// reopened_from, survey_sent_at, csat, csat_at (surveys.go). Each item type is
// described with the file that writes it (replies.go, agents.go, notes.go,
// corrections.go, drafts.go, model.go, surveys.go, days.go, rollups.go,
// signals.go, convkeys.go).
//
// X ids are snowflakes, so zero-padding them to 20 digits makes message sort keys
// sort by time, and "CASE" sorts before "MSG#": one Query returns a case then its
// messages in order. The thread key is care.ThreadKey:
// "public#<conversation id>#<customer id>" or "dm#<customer id>". The quarantine sort key starts with the time SQS accepted the
// message, UTC with nine fractional digits, so records sort by time.
//
// Listener items are written with single-item conditions only: the checkpoint on its
// version (optimistic locking) and on since_key, the since_id zero-padded to 20
// digits so that the string comparison is the numeric one, so that since_id never
// moves backwards (CompleteCheckpoint); the spend with ADD, unconditionally, so that
// overlapping runs add up; the backoff on until (sortable UTC time), so that it is
// never shortened. The month of the spend is the calendar month in UTC.
//
// The care protocol's items are written with single-item operations too: a
// decision is put (deciding again on a message replaces its record); the
// automatic-reply claim is an update on condition that the last reply is older than
// the cooldown or was for the same message (a redelivery), so that of concurrent
// claims on a case one wins; crisis counters are ADD updates without condition
// (concurrent processors add up), a window's crisis replies an ADD on condition
// that they are below the bound; a crisis state is opened on condition that the
// topic is not active (and, for automatic openings, that its quiet_until has passed)
// and closed on condition that it is active, opened at the time the closer read
// (since_key) and, for automatic closings, not manual: one writer opens, one closes.
// Decisions, claims and customer cases live outside the case's partition, so that
// GetCase reads only the case and its messages. Time to live: minute counters 48 h,
// hour counters 8 days, claims the cooldown plus a day, customer cases 400 days;
// decisions and crisis states are kept.
//
// A message deleted on X keeps its item, with deleted_at set and its text removed;
// its claim loses the raw JSON (MarkDeleted).
//
// GSI1 projects (INCLUDE) only the summary attributes that an appended message does
// not change (QueueProjection): id, channel, status, thread_key, customer_id,
// customer_handle, subject, lang, priority, department, created_at, waiting_since,
// summoned, intent, crisis_topic, assignee and assignee_name (what the agents' queue
// shows and filters on). Appending a message to an open case changes counters and last-message
// times only, so it does not write the index; the index is written when a case is
// created, changes status (open, pending, resolved), is re-prioritised, or when one
// of those summary fields is first filled in. ListCases therefore returns summaries
// whose counters and last-message times are zero; GetCase returns everything.
//
// Case ids are derived from the message that opened the case, "t<X id>" for public
// threads and "d<X id>" for DM threads, so that concurrent writers opening the same
// case agree on its id.
//
// Time to live: claims and quarantine records carry expires_at (epoch seconds), the
// table's TTL attribute (TTLAttribute). Claims hold X's raw JSON, kept for
// RawRetention (90 days by default); when a claim expires, the message stays in its
// case but X's raw JSON is gone, the X id no longer deduplicates (X and SQS redeliver
// within days, not months), and a deletion of that message is no longer found by id
// (see MarkDeleted).
//
// Billing is on demand. CreateTable creates this schema for local use; the CDK stack
// declares the same one and enables TTL on expires_at (dynalite cannot).
//
// # Appending a message
//
// Append writes single items with conditions only (no transactions), in an order
// that survives redelivery, concurrent deliveries of the same message (the same post
// by webhook and by search, on two workers) and crashes between writes:
//
//  1. Read the claim of the message's X id (strongly consistent). If it exists,
//     the message is known: go to 5.
//  2. Find the case by reads: the thread pointer of the message's thread. A
//     legacy public message without conversation id is threaded into the
//     conversation of the post it replies to, found through that post's claim,
//     else (that post is unknown) into the conversation of that post's id, else its
//     own id. If the thread has no pointer, or its case was resolved longer than
//     ReopenWindow before the message, create or move the pointer to a new case id
//     (conditional; a writer that loses reads the winner's case).
//  3. Claim the X id: put the claim with the case id, the delivery id (the SQS
//     message id) and the raw JSON, on condition attribute_not_exists. Exactly one
//     writer wins; a loser reads the winner's claim and goes to 5.
//  4. The winner counts the message into the case (below), then puts the message
//     item. The message item is the mark that the append is complete.
//  5. The message is known. If its message item exists, it is a duplicate: nothing
//     is written. If not, another delivery is storing it, or crashed before it
//     finished. When the claim is ours (the same delivery id: SQS redelivered our own
//     message after a crash), or older than ClaimLease (its owner is surely gone),
//     this delivery completes it: step 4. Otherwise the result is InFlight, and the
//     caller retries later (the intake processor reports a batch item failure).
//
// Counting reads the case and writes it conditionally: a new case is put on
// attribute_not_exists; an existing one is updated with ADD on the counters, and the
// other fields (status transitions, times) computed from the read, on condition that
// nobody counted since the read (last_counted, the X id of the last message
// counted, is the one read) and that the status (and, when the index key changes,
// the priority) is still the one read. The case item also keeps the ids of the last
// CountedKept messages counted (counted, newest first, rewritten from the read). A
// writer that loses a race re-reads and tries again; one that finds its message in
// counted skips counting. Status transitions follow message times, so a late
// delivery does not undo a newer one: an inbound message reopens a pending case only
// if written after the brand's last reply, a reply makes an open case pending only
// if written after the customer's last message.
//
// No message is counted twice in the normal path (one claim winner counts) or under
// concurrency: other deliveries report Duplicate or InFlight, and a concurrent
// redelivery of the winner's own SQS message (SQS delivers at least once) finds its
// id in counted, or loses the conditional write and then finds it. Crash windows
// left:
//
//   - after the thread pointer is written, before the claim: the pointer names a
//     case that does not exist yet; the next message of the thread (or the
//     redelivery) creates it under that id. Harmless.
//   - after the claim, before the case is counted: the message is stored when SQS
//     redelivers the crashed delivery (same delivery id), or by any delivery after
//     ClaimLease. Other deliveries meanwhile get InFlight. Nothing is lost or counted
//     twice.
//   - after the case is counted, before the message item: the redelivery finds its
//     id in counted and only puts the message item. It would count it again only if
//     CountedKept other messages had been counted into the case before it came back
//     (the SIGKILL trials of the local system found the single-id guard this
//     replaces counting twice with one message in between). Counters are derived
//     data: Recount recomputes them from the message items.
//
// # Write units
//
// Every write asks for ReturnConsumedCapacity INDEXES. AppendResult.WriteUnits adds
// what DynamoDB reports, 1 unit for each write rejected by its condition (DynamoDB
// charges those but does not report them), and, when the endpoint reports no index
// capacity (dynalite reports the table only), 1 unit for each GSI1 entry put,
// updated or deleted and 2 when its key changes, computed by comparing the case item
// before and after the write. With items under 1 KB, a message appended to an
// existing open case costs 3 units (claim, case, message); one that changes the
// case's status (a reply to an open case, a customer writing to a pending one) 2
// more, for the index key change; one that opens a case 6 (thread pointer, claim,
// case, its index entry, its day entry, message); a duplicate, or a delivery of a
// message in flight, no write.
//
// # Writes per message, and what each is for
//
// What the process function writes for one inbound message, with Append and the
// protocol's pipeline (package protocol), measured by BenchmarkMessageCost
// (package intake: go test -run '^$' -bench MessageCost ./shared/intake) with the
// repository's pajarito.json; sizes are the items' as DynamoDB bills them
// (ItemSize, CapacityMeter):
//
//	write                     new case  follow-up  for
//	thread pointer (put)      1         -          the thread's current case: later messages find it
//	claim (put)               1         1          dedup by X id (webhook, search, retries), X id → case
//	                                               for deletions; the raw JSON, gzipped, kept
//	                                               RawRetention (the one large part, written once)
//	case (put / update)       1 + 1     1          the case and its counters; a new case puts its queue
//	                                               index entry (+1), created ranked (AppendTriaged)
//	case day (put)            1         -          the day's new cases, for the metrics
//	message (put)             1         1          the message in its case; marks the append complete
//	customer case (put)       1         -          repeat contacts (written by a case's first message)
//	crisis counters (update)  2         2          per minute and per hour, for complaints of a
//	                                               crisis topic only
//	automatic reply (update)  1         -          the cooldown claim, when an automatic reply goes
//	decision (put)            1         1          the record of what was decided and why (JSON
//	                                               compressed: ~400 bytes instead of 2-4 KB)
//	triage (update)           -         0-1(+2)    only when the decision changes the case's rank,
//	                                               department or labels (+2 when its index key moves)
//
// That is 11 write units for a complaint that opens a case and is acknowledged
// (about 2.6 KB written), 6 for a follow-up in it (about 2.1 KB), from 15 and 8
// before the decision was compressed, the customer case written once and the
// case created ranked. Every item is under 1 KB: the count of items, not their
// size, is the cost. Each item is its own because each is written on its own
// condition (dynalite has no transactions, and a DynamoDB transaction costs two
// units per item, so merging through one would cost more).
//
// A reply the reply sender posts (package sender; BenchmarkReplyCost) writes the
// send budget's window (1), the reply item twice (claimed before X is called;
// finished after, which claims its spend task too: 2), the outbound message as
// Append does for a follow-up (claim, case, message: 3, plus the case's queue
// index entry when the reply changes its status), and the month's X spend (1):
// 8 write units and 5 read units measured (about 2.5 KB written), from 9.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pajarito-care/pajarito/shared/care"
)

// Schema names, shared with the CDK stack.
const (
	KeyPK        = "PK"
	KeySK        = "SK"
	IndexQueue   = "GSI1"
	KeyGSI1PK    = "GSI1PK"
	KeyGSI1SK    = "GSI1SK"
	TTLAttribute = "expires_at"
)

// QueueProjection returns the non-key attributes that index GSI1 projects.
func QueueProjection() []string {
	t := reflect.TypeFor[care.CaseSummary]()
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		names = append(names, name)
	}
	return names
}

// Defaults of the Store's settings.
const (
	DefaultRawRetention        = 90 * 24 * time.Hour
	DefaultQuarantineRetention = 30 * 24 * time.Hour
	DefaultReopenWindow        = 7 * 24 * time.Hour
	DefaultClaimLease          = 15 * time.Minute
)

// ErrNotFound is returned (wrapped) when a case or account does not exist.
var ErrNotFound = errors.New("not found")

// ErrBadCursor is returned (wrapped) by ListCases for a cursor it did not issue.
var ErrBadCursor = errors.New("bad cursor")

// API is the part of the DynamoDB client the store uses; *dynamodb.Client
// implements it.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// Store reads and writes Pajarito's table. Set Client and Table; the other fields
// have defaults. A Store is safe for concurrent use.
type Store struct {
	Client API
	Table  string
	// RawRetention is how long claims (X's raw JSON, deduplication) are kept.
	RawRetention time.Duration
	// QuarantineRetention is how long quarantine records are kept.
	QuarantineRetention time.Duration
	// ReopenWindow is how long after its resolution an inbound message reopens a
	// case; later messages in the thread open a new case.
	ReopenWindow time.Duration
	// ClaimLease is how long a delivery that claimed a message may take to store it
	// before another delivery takes over. Keep it above the processor's timeout.
	ClaimLease time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives debug logs of retried races; nil means slog.Default().
	Log *slog.Logger
}

// New returns a Store on table with default settings.
func New(client API, table string) *Store {
	return &Store{Client: client, Table: table}
}

// NewClient returns a DynamoDB client. With endpoint empty it is configured from the
// environment (the Lambda role, AWS_REGION, …). Otherwise it talks to a local
// DynamoDB-compatible server at endpoint (dynalite) with static fake credentials, in
// AWS_REGION or us-east-1.
func NewClient(ctx context.Context, endpoint string) (*dynamodb.Client, error) {
	if endpoint == "" {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("store: load AWS configuration: %w", err)
		}
		return dynamodb.NewFromConfig(cfg), nil
	}
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = "us-east-1"
	}
	return dynamodb.New(dynamodb.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	}), nil
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Store) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Keys.

func caseKey(id string) map[string]types.AttributeValue {
	return key("CASE#"+id, "CASE")
}

func messageSK(xid string) string {
	if len(xid) < 20 {
		xid = strings.Repeat("0", 20-len(xid)) + xid
	}
	return "MSG#" + xid
}

func messageKey(caseID, xid string) map[string]types.AttributeValue {
	return key("CASE#"+caseID, messageSK(xid))
}

func claimKey(ch care.Channel, xid string) map[string]types.AttributeValue {
	return key("X#"+string(ch)+"#"+xid, "X")
}

func threadKey(thread string) map[string]types.AttributeValue {
	return key("THREAD#"+thread, "THREAD")
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{KeyPK: str(pk), KeySK: str(sk)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: fmt.Sprint(n)}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// queuePK and queueSK are the GSI1 keys of a case.
func queuePK(st care.Status) string { return "Q#" + string(st) }

func queueSK(priority int, waitingSince time.Time, id string) string {
	priority = min(max(priority, 0), 999)
	return fmt.Sprintf("%03d#%s#%s", 999-priority, waitingSince.UTC().Format(time.RFC3339), id)
}

// Marshalling uses the JSON names of the care types.

func marshal(v any) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMapWithOptions(v, func(o *attributevalue.EncoderOptions) {
		o.TagKey = "json"
	})
}

// marshalValue is marshal for one attribute's value.
func marshalValue(v any) (types.AttributeValue, error) {
	return attributevalue.MarshalWithOptions(v, func(o *attributevalue.EncoderOptions) {
		o.TagKey = "json"
	})
}

func unmarshal(item map[string]types.AttributeValue, v any) error {
	return attributevalue.UnmarshalMapWithOptions(item, v, func(o *attributevalue.DecoderOptions) {
		o.TagKey = "json"
	})
}

// dropZeroTimes removes attributes holding the zero time, which attributevalue
// writes for time.Time fields without omitempty.
func dropZeroTimes(item map[string]types.AttributeValue) {
	zero := stamp(time.Time{})
	for k, v := range item {
		if s, ok := v.(*types.AttributeValueMemberS); ok && s.Value == zero {
			delete(item, k)
		}
	}
}

// Write accounting.

// meter adds up the write capacity of one operation.
type meter struct{ units float64 }

// wrote adds the capacity of a successful write. old and new are the item before and
// after it, when the write may touch index GSI1; they are used to estimate index
// writes when the endpoint does not report them.
func (m *meter) wrote(cc *types.ConsumedCapacity, old, new map[string]types.AttributeValue, indexed bool) {
	if cc != nil && cc.CapacityUnits != nil {
		m.units += *cc.CapacityUnits
	} else {
		m.units++ // the endpoint reported nothing: count the minimum
	}
	if indexed && (cc == nil || cc.GlobalSecondaryIndexes == nil) {
		m.units += indexWrites(old, new)
	}
}

// rejected adds the capacity of a write rejected by its condition: DynamoDB charges
// at least one unit and does not report it.
func (m *meter) rejected() { m.units++ }

// indexWrites returns the GSI1 writes that changing a case item from old to new
// costs: 1 to put, update or delete an index entry, 2 when its key changes.
func indexWrites(old, new map[string]types.AttributeValue) float64 {
	inOld := old[KeyGSI1PK] != nil && old[KeyGSI1SK] != nil
	inNew := new[KeyGSI1PK] != nil && new[KeyGSI1SK] != nil
	switch {
	case !inOld && !inNew:
		return 0
	case inOld != inNew:
		return 1
	case !reflect.DeepEqual(old[KeyGSI1PK], new[KeyGSI1PK]) || !reflect.DeepEqual(old[KeyGSI1SK], new[KeyGSI1SK]):
		return 2
	}
	for _, a := range QueueProjection() {
		if !reflect.DeepEqual(old[a], new[a]) {
			return 1
		}
	}
	return 0
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// put writes an item. It reports false, and no error, when the condition failed.
func (s *Store) put(ctx context.Context, m *meter, in *dynamodb.PutItemInput, indexed bool) (bool, error) {
	in.TableName = aws.String(s.Table)
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	out, err := s.Client.PutItem(ctx, in)
	if isConditionFailed(err) {
		m.rejected()
		return false, nil
	}
	if err != nil {
		return false, err
	}
	m.wrote(out.ConsumedCapacity, nil, in.Item, indexed)
	return true, nil
}

// update updates an item and returns its new attributes (ALL_NEW). It reports nil,
// and no error, when the condition failed. old is the item as last read, used to
// estimate index writes.
func (s *Store) update(ctx context.Context, m *meter, in *dynamodb.UpdateItemInput, old map[string]types.AttributeValue, indexed bool) (map[string]types.AttributeValue, error) {
	in.TableName = aws.String(s.Table)
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	in.ReturnValues = types.ReturnValueAllNew
	out, err := s.Client.UpdateItem(ctx, in)
	if isConditionFailed(err) {
		m.rejected()
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m.wrote(out.ConsumedCapacity, old, out.Attributes, indexed)
	return out.Attributes, nil
}

// get reads an item with a strongly consistent read; nil when it does not exist.
func (s *Store) get(ctx context.Context, k map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.Table),
		Key:            k,
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, err
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	return out.Item, nil
}

// exists reports whether an item exists (strongly consistent).
func (s *Store) exists(ctx context.Context, k map[string]types.AttributeValue) (bool, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:            aws.String(s.Table),
		Key:                  k,
		ConsistentRead:       aws.Bool(true),
		ProjectionExpression: aws.String(KeyPK),
	})
	if err != nil {
		return false, err
	}
	return len(out.Item) > 0, nil
}

// expr builds update and condition expressions.
type expr struct {
	sets, adds, removes []string
	names               map[string]string
	values              map[string]types.AttributeValue
}

func newExpr() *expr {
	return &expr{names: map[string]string{}, values: map[string]types.AttributeValue{}}
}

// name returns the placeholder of attribute a.
func (e *expr) name(a string) string {
	e.names["#"+a] = a
	return "#" + a
}

// value returns a placeholder for v.
func (e *expr) value(v types.AttributeValue) string {
	p := fmt.Sprintf(":v%d", len(e.values))
	e.values[p] = v
	return p
}

func (e *expr) set(a string, v types.AttributeValue) {
	e.sets = append(e.sets, e.name(a)+" = "+e.value(v))
}

func (e *expr) add(a string, n int64) {
	e.adds = append(e.adds, e.name(a)+" "+e.value(num(n)))
}

func (e *expr) remove(a string) { e.removes = append(e.removes, e.name(a)) }

// update returns the update expression.
func (e *expr) update() *string {
	var parts []string
	if len(e.sets) > 0 {
		parts = append(parts, "SET "+strings.Join(e.sets, ", "))
	}
	if len(e.adds) > 0 {
		parts = append(parts, "ADD "+strings.Join(e.adds, ", "))
	}
	if len(e.removes) > 0 {
		parts = append(parts, "REMOVE "+strings.Join(e.removes, ", "))
	}
	return aws.String(strings.Join(parts, " "))
}

// input returns an UpdateItem request for the item at k with condition cond (built
// with e.name and e.value; empty for none).
func (e *expr) input(k map[string]types.AttributeValue, cond string) *dynamodb.UpdateItemInput {
	in := &dynamodb.UpdateItemInput{
		Key:                       k,
		UpdateExpression:          e.update(),
		ExpressionAttributeNames:  e.names,
		ExpressionAttributeValues: e.values,
	}
	if cond != "" {
		in.ConditionExpression = aws.String(cond)
	}
	// DynamoDB rejects empty maps.
	if len(e.names) == 0 {
		in.ExpressionAttributeNames = nil
	}
	if len(e.values) == 0 {
		in.ExpressionAttributeValues = nil
	}
	return in
}
