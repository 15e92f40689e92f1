// Package queue moves care.Envelopes through SQS: Sender puts them on a queue in
// batches, and Poller, locally, does what Lambda's SQS event source mapping does in
// AWS: it receives batches, hands them to a handler as an events.SQSEvent, and
// honours the handler's partial batch response (ReportBatchItemFailures).
//
// Both work against AWS and against goaws (package localsqs). They do not rely on
// what goaws gets wrong: a SendMessageBatch reply that lists no successes, and an
// ApproximateReceiveCount that never grows.
package queue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/pajarito-care/pajarito/shared/care"
)

// SQS limits.
const (
	// MaxBatchEntries is the most entries a SendMessageBatch or DeleteMessageBatch
	// call takes.
	MaxBatchEntries = 10
	// MaxBatchBytes is the most message bytes one SendMessageBatch call carries, and
	// so also the largest message. SQS now takes up to 1 MiB, but 256 KiB is goaws's
	// limit and the classic queue default, and it keeps a batch of 10 records well
	// inside Lambda's 6 MB invocation payload.
	MaxBatchBytes = 256 << 10
)

// BatchSender is the part of the SQS API a Sender uses. *sqs.Client implements it.
type BatchSender interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// DefaultRetryDelay is how long a Sender waits before sending again the entries SQS
// reported as failed.
const DefaultRetryDelay = 200 * time.Millisecond

// Sender sends messages to one queue.
type Sender struct {
	Client BatchSender
	// URL is the queue URL.
	URL string
	// RetryDelay is the wait before the one retry of failed entries
	// (DefaultRetryDelay when 0).
	RetryDelay time.Duration
	// Log receives the Sender's logs; nil means slog.Default().
	Log *slog.Logger
}

// Enqueue JSON-encodes envs and sends them, in order, in as few SendMessageBatch
// calls as the limits allow. It returns nil only when SQS accepted every one.
//
// On error some envelopes may already be queued (the error says how many), so the
// caller's retry may queue them twice; consumers dedupe (care.Envelope.DedupeKey).
func (s *Sender) Enqueue(ctx context.Context, envs []care.Envelope) error {
	bodies := make([]string, len(envs))
	b := encodeBuffers.Get().(*bytes.Buffer)
	defer putEncodeBuffer(b)
	for i := range envs {
		var err error
		if bodies[i], err = encode(b, &envs[i]); err != nil {
			return fmt.Errorf("queue: encode envelope %d (%s %s): %w", i, envs[i].Kind, envs[i].EventID, err)
		}
	}
	return s.SendBodies(ctx, bodies)
}

// encode is the queue body of v, encoded in b (reset first) as encoding/json
// encodes it (envelopeEncoding).
func encode(b *bytes.Buffer, v any) (string, error) {
	b.Reset()
	if err := jsonv2.MarshalWrite(b, v, envelopeEncoding); err != nil {
		return "", err
	}
	return b.String(), nil
}

// encodeBuffers are reused so that encoding an envelope does not grow a buffer
// from nothing each time.
var encodeBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func putEncodeBuffer(b *bytes.Buffer) {
	if b.Cap() <= MaxBatchBytes { // larger only for envelopes SQS refuses anyway
		encodeBuffers.Put(b)
	}
}

// envelopeEncoding encodes queue bodies (envelopes, reply requests) exactly as
// encoding/json does: JSON v2 with the v1 options, which gives the same bytes
// (an invalid UTF-8 byte in a string becomes a literal U+FFFD rather than the
// escape \ufffd, which decodes the same) and checks and compacts an envelope's
// Raw, X's JSON of the item, in one pass rather than encoding/json's two.
var envelopeEncoding = jsonv1.DefaultOptionsV1()

// SendBodies sends bodies as they are, like Enqueue. It is how a message is moved,
// unchanged, to a dead-letter queue.
func (s *Sender) SendBodies(ctx context.Context, bodies []string) error {
	if s.Client == nil || s.URL == "" {
		return errors.New("queue: Sender needs a Client and a URL")
	}
	if len(bodies) == 0 {
		return nil
	}
	batches, err := Batches(bodies)
	if err != nil {
		return err
	}
	sent := 0
	for i, batch := range batches {
		if err := s.sendBatch(ctx, batch); err != nil {
			return fmt.Errorf("queue: %s: batch %d of %d: %w (%d of %d messages were queued before it)", s.URL, i+1, len(batches), err, sent, len(bodies))
		}
		sent += len(batch)
	}
	s.log().LogAttrs(ctx, slog.LevelDebug, "queue: sent", slog.String("queue", s.URL), slog.Int("messages", len(bodies)), slog.Int("batches", len(batches)))
	return nil
}

// sendBatch sends one batch, then once more the entries reported as failed through
// no fault of the sender. An entry missing from both Successful and Failed counts
// as sent: goaws never lists successes.
func (s *Sender) sendBatch(ctx context.Context, entries []types.SendMessageBatchRequestEntry) error {
	failed, err := s.send(ctx, entries)
	if err != nil {
		return err
	}
	if len(failed) == 0 {
		return nil
	}
	byID := make(map[string]types.SendMessageBatchRequestEntry, len(entries))
	for _, e := range entries {
		byID[aws.ToString(e.Id)] = e
	}
	var retry []types.SendMessageBatchRequestEntry
	for _, f := range failed {
		if f.SenderFault {
			return failure(failed)
		}
		if e, ok := byID[aws.ToString(f.Id)]; ok {
			retry = append(retry, e)
		}
	}
	if len(retry) < len(failed) {
		return fmt.Errorf("SQS reported failures for entry ids it was not sent: %w", failure(failed))
	}
	s.log().WarnContext(ctx, "queue: retrying failed entries", "queue", s.URL, "failed", len(failed), "code", aws.ToString(failed[0].Code), "message", aws.ToString(failed[0].Message))

	delay := s.RetryDelay
	if delay <= 0 {
		delay = DefaultRetryDelay
	}
	t := time.NewTimer(delay)
	select {
	case <-ctx.Done():
		t.Stop()
		return fmt.Errorf("%w; not retried: %w", failure(failed), ctx.Err())
	case <-t.C:
	}
	failed, err = s.send(ctx, retry)
	if err != nil {
		return fmt.Errorf("retry of %d failed entries: %w", len(retry), err)
	}
	if len(failed) > 0 {
		return fmt.Errorf("after one retry: %w", failure(failed))
	}
	return nil
}

func (s *Sender) send(ctx context.Context, entries []types.SendMessageBatchRequestEntry) ([]types.BatchResultErrorEntry, error) {
	out, err := s.Client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(s.URL), Entries: entries})
	if err != nil {
		return nil, fmt.Errorf("SendMessageBatch of %d: %w", len(entries), err)
	}
	return out.Failed, nil
}

func failure(failed []types.BatchResultErrorEntry) error {
	f := failed[0]
	return fmt.Errorf("%d entries not queued; first: id %s: %s: %s (sender fault: %t)",
		len(failed), aws.ToString(f.Id), aws.ToString(f.Code), aws.ToString(f.Message), f.SenderFault)
}

func (s *Sender) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Batches splits bodies, in order, into SendMessageBatch entry lists of at most
// MaxBatchEntries entries and MaxBatchBytes bytes. The entry id is the body's index
// in bodies, so ids are unique within a batch and name the body in errors. It fails,
// naming the body's index, when a body is empty, larger than MaxBatchBytes, or has
// characters SQS refuses.
func Batches(bodies []string) ([][]types.SendMessageBatchRequestEntry, error) {
	var (
		out   [][]types.SendMessageBatchRequestEntry
		cur   []types.SendMessageBatchRequestEntry
		bytes int
	)
	// The entries point into one slice of ids and into bodies, rather than to a
	// copy of each string.
	ids := make([]string, len(bodies))
	for i := range bodies {
		b := &bodies[i]
		if err := CheckBody(*b); err != nil {
			return nil, fmt.Errorf("queue: message %d: %w", i, err)
		}
		if len(cur) == MaxBatchEntries || bytes+len(*b) > MaxBatchBytes {
			out = append(out, cur)
			cur, bytes = nil, 0
		}
		if cur == nil {
			cur = make([]types.SendMessageBatchRequestEntry, 0, min(len(bodies)-i, MaxBatchEntries))
		}
		ids[i] = strconv.Itoa(i)
		cur = append(cur, types.SendMessageBatchRequestEntry{Id: &ids[i], MessageBody: b})
		bytes += len(*b)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out, nil
}

// CheckBody applies SQS's rules for a message body: 1 byte to MaxBatchBytes, and only
// #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF. It
// says whether a body can be sent again before anything is done about it.
func CheckBody(b string) error {
	if len(b) == 0 {
		return errors.New("body is empty")
	}
	if len(b) > MaxBatchBytes {
		return fmt.Errorf("body is %d bytes, over SQS's limit of %d", len(b), MaxBatchBytes)
	}
	for off := 0; off < len(b); {
		c := b[off]
		if 0x20 <= c && c < utf8.RuneSelf { // printable ASCII, most of a body
			off++
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(b[off:])
		}
		switch {
		case r == utf8.RuneError && size == 1:
			return fmt.Errorf("body has invalid UTF-8 at byte %d", off)
		case r >= 0x20 && r <= 0xD7FF,
			r == 0x9 || r == 0xA || r == 0xD,
			r >= 0xE000 && r <= 0xFFFD,
			r >= 0x10000 && r <= 0x10FFFF:
		default:
			return fmt.Errorf("body has character %U, which SQS refuses, at byte %d", r, off)
		}
		off += size
	}
	return nil
}

// EnqueueReplies JSON-encodes reply requests and sends them, like Enqueue: it is
// how the protocol engine hands replies to the reply sender (the outbound queue).
func (s *Sender) EnqueueReplies(ctx context.Context, replies []care.ReplyRequest) error {
	bodies := make([]string, len(replies))
	b := encodeBuffers.Get().(*bytes.Buffer)
	defer putEncodeBuffer(b)
	for i := range replies {
		var err error
		if bodies[i], err = encode(b, &replies[i]); err != nil {
			return fmt.Errorf("queue: encode reply request %s: %w", replies[i].IdempotencyKey, err)
		}
	}
	return s.SendBodies(ctx, bodies)
}
