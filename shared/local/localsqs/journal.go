package localsqs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Journal makes the local queues durable. goaws keeps its messages in memory, so
// without it a message the local system accepted (a webhook delivery answered
// 200, a reply decided) would be lost when the process dies. SQS in AWS keeps
// them; the local system must too.
//
// A Journal stands between the SQS client and goaws, implementing the calls that
// package queue makes (SendMessageBatch, ReceiveMessage, DeleteMessageBatch,
// ChangeMessageVisibility):
//
//   - SendMessageBatch appends each message to the journal file and syncs it to
//     disk (fsync) before goaws gets it, so a caller that got nil back (and the
//     webhook's 200 after it) knows the message is on disk;
//   - DeleteMessageBatch (a message handled, or moved to its DLQ, which is a send
//     to the DLQ first) appends that it is done;
//   - OpenJournal, at start, sends every message not done back to its queue, DLQs
//     included, and rewrites the file with those alone.
//
// Why a journal in front of goaws rather than another SQS server: the semantics
// the functions rely on (visibility timeouts, receive counts and redrive, done by
// package queue's Poller, batch partial failures) stay goaws's and the Poller's,
// tested as they are; the Journal adds only what they lack, durability. Delivery
// stays at least once: a message handled but not yet marked done when the
// process dies is handled again after the restart, and the consumers dedupe (the
// store claims each X id once, replies by their idempotency key).
//
// Each message carries its journal id in its body, behind a prefix the Journal
// removes before a receiver sees it; receivers see it as the MessageId, which
// therefore stays the same after a restart, as SQS's does across redeliveries. The journal file is JSON lines:
// {"put":{"id","queue","body"}} and {"done":"<id>"}.
type Journal struct {
	next  API
	path  string
	names map[string]string // queue URL → queue name (URLs change with the port)
	urls  map[string]string // queue name → URL

	mu      sync.Mutex
	f       *os.File
	seq     uint64
	handles map[string]string // receipt handle → journal id
	latest  map[string]string // journal id → its latest receipt handle
}

// API is what a Journal forwards to (goaws's *sqs.Client) and implements.
type API interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// JournalFile is the journal's file name in its folder.
const JournalFile = "queues.journal"

// MessageIDPrefix starts the MessageId of a journaled message as receivers see
// it: the prefix and its journal id.
const MessageIDPrefix = "journal-"

// journalPrefix starts the body of a journaled message: journalPrefix, the id, a
// newline, then the message's own body.
const journalPrefix = "\x00pj:"

type journalRecord struct {
	Put  *journalPut `json:"put,omitempty"`
	Done string      `json:"done,omitempty"`
}

type journalPut struct {
	ID    string `json:"id"`
	Queue string `json:"queue"`
	Body  string `json:"body"`
}

// Recovered counts, by queue name, the messages a Journal sent back to their
// queues at start.
type Recovered map[string]int

// OpenJournal opens (or creates) the journal in dir for the queues named in
// urls (name → URL on next), sends every message it holds that is not done back
// to its queue, and returns the Journal with what it recovered. A message of a
// queue no longer in urls is kept in the journal and reported as an error only
// if nothing else goes wrong.
func OpenJournal(ctx context.Context, dir string, next API, urls map[string]string) (*Journal, Recovered, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("localsqs: journal folder: %w", err)
	}
	j := &Journal{next: next, path: filepath.Join(dir, JournalFile), names: map[string]string{}, urls: urls, handles: map[string]string{}, latest: map[string]string{}}
	for name, url := range urls {
		j.names[url] = name
	}
	live, err := readJournal(j.path)
	if err != nil {
		return nil, nil, err
	}
	// The live messages alone, in a new file that replaces the old one whole.
	var buf bytes.Buffer
	for _, p := range live {
		line, _ := json.Marshal(journalRecord{Put: &p})
		buf.Write(append(line, '\n'))
	}
	if err := replaceFile(j.path, buf.Bytes()); err != nil {
		return nil, nil, fmt.Errorf("localsqs: journal: %w", err)
	}
	if j.f, err = os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
		return nil, nil, fmt.Errorf("localsqs: journal: %w", err)
	}
	rec := Recovered{}
	var orphans []string
	byQueue := map[string][]journalPut{}
	for _, p := range live {
		if _, ok := urls[p.Queue]; !ok {
			orphans = append(orphans, p.Queue)
			continue
		}
		byQueue[p.Queue] = append(byQueue[p.Queue], p)
	}
	for name, puts := range byQueue {
		for batch := range slices.Chunk(puts, 10) {
			entries := make([]types.SendMessageBatchRequestEntry, len(batch))
			for i, p := range batch {
				entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(journalPrefix + p.ID + "\n" + p.Body)}
			}
			out, err := next.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(urls[name]), Entries: entries})
			if err == nil && out != nil && len(out.Failed) > 0 {
				err = fmt.Errorf("%d refused: %s", len(out.Failed), aws.ToString(out.Failed[0].Message))
			}
			if err != nil {
				j.f.Close()
				return nil, nil, fmt.Errorf("localsqs: journal: send %d messages back to %s: %w", len(batch), name, err)
			}
			rec[name] += len(batch)
		}
	}
	if len(orphans) > 0 {
		slices.Sort(orphans)
		j.f.Close()
		return nil, nil, fmt.Errorf("localsqs: journal %s holds messages of queues this system no longer has (%s): move the file away to start without them", j.path, strings.Join(slices.Compact(orphans), ", "))
	}
	return j, rec, nil
}

// readJournal returns the messages of the journal at path that are not done, in
// the order they were sent. A last line cut short (the process died writing it,
// before the sync that would have let its sender go on) is ignored.
func readJournal(path string) ([]journalPut, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("localsqs: journal: %w", err)
	}
	var order []string
	puts := map[string]journalPut{}
	lines := bytes.Split(data, []byte("\n"))
	for n, line := range lines {
		if len(line) == 0 {
			continue
		}
		var r journalRecord
		if err := json.Unmarshal(line, &r); err != nil {
			if n == len(lines)-1 {
				break // the torn last line: no newline after it
			}
			return nil, fmt.Errorf("localsqs: journal %s line %d is not a journal record (%w): the file is damaged; move it away to start without its messages", path, n+1, err)
		}
		switch {
		case r.Put != nil:
			if _, ok := puts[r.Put.ID]; !ok {
				order = append(order, r.Put.ID)
			}
			puts[r.Put.ID] = *r.Put
		case r.Done != "":
			delete(puts, r.Done)
		}
	}
	var live []journalPut
	for _, id := range order {
		if p, ok := puts[id]; ok {
			live = append(live, p)
		}
	}
	return live, nil
}

// replaceFile writes data to path through a synced temporary file and a rename.
func replaceFile(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// append writes records to the journal and syncs it.
func (j *Journal) append(records []journalRecord) error {
	var buf bytes.Buffer
	for _, r := range records {
		line, err := json.Marshal(r)
		if err != nil {
			return err
		}
		buf.Write(append(line, '\n'))
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return errors.New("localsqs: journal closed")
	}
	if _, err := j.f.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("localsqs: journal: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("localsqs: journal: %w", err)
	}
	return nil
}

// newID returns a journal id unique within this journal's file.
func (j *Journal) newID() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	return strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.FormatUint(j.seq, 36)
}

// SendMessageBatch journals the messages, on disk, then sends them.
func (j *Journal) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	name, ok := j.names[aws.ToString(in.QueueUrl)]
	if !ok {
		return j.next.SendMessageBatch(ctx, in, optFns...)
	}
	sent := *in
	sent.Entries = make([]types.SendMessageBatchRequestEntry, len(in.Entries))
	records := make([]journalRecord, len(in.Entries))
	ids := map[string]string{} // entry id → journal id
	for i, e := range in.Entries {
		id := j.newID()
		ids[aws.ToString(e.Id)] = id
		records[i] = journalRecord{Put: &journalPut{ID: id, Queue: name, Body: aws.ToString(e.MessageBody)}}
		e.MessageBody = aws.String(journalPrefix + id + "\n" + aws.ToString(e.MessageBody))
		sent.Entries[i] = e
	}
	if err := j.append(records); err != nil {
		return nil, err
	}
	out, err := j.next.SendMessageBatch(ctx, &sent, optFns...)
	// What the queue did not take is not kept either: the caller is told and
	// sends again (the webhook answers 500, and X retries).
	var done []journalRecord
	switch {
	case err != nil:
		for _, id := range ids {
			done = append(done, journalRecord{Done: id})
		}
	case out != nil:
		for _, f := range out.Failed {
			done = append(done, journalRecord{Done: ids[aws.ToString(f.Id)]})
		}
	}
	if len(done) > 0 {
		if jerr := j.append(done); jerr != nil && err == nil {
			err = jerr
		}
	}
	return out, err
}

// ReceiveMessage receives, and gives each message its own body back.
func (j *Journal) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	out, err := j.next.ReceiveMessage(ctx, in, optFns...)
	if err != nil || out == nil {
		return out, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for i, m := range out.Messages {
		body, ok := strings.CutPrefix(aws.ToString(m.Body), journalPrefix)
		if !ok {
			continue
		}
		id, rest, ok := strings.Cut(body, "\n")
		if !ok {
			continue
		}
		if old, ok := j.latest[id]; ok {
			delete(j.handles, old) // received again: the old handle is spent
		}
		j.handles[aws.ToString(m.ReceiptHandle)] = id
		j.latest[id] = aws.ToString(m.ReceiptHandle)
		out.Messages[i].Body = aws.String(rest)
		// The message keeps one id through restarts, as an SQS message keeps its
		// MessageId through redeliveries: consumers recognise their own message
		// by it (the store completes a crashed append of the same delivery).
		out.Messages[i].MessageId = aws.String(MessageIDPrefix + id)
	}
	return out, nil
}

// DeleteMessageBatch deletes, and journals the messages deleted as done.
func (j *Journal) DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	out, err := j.next.DeleteMessageBatch(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	failed := map[string]bool{}
	if out != nil {
		for _, f := range out.Failed {
			failed[aws.ToString(f.Id)] = true
		}
	}
	var done []journalRecord
	j.mu.Lock()
	for _, e := range in.Entries {
		h := aws.ToString(e.ReceiptHandle)
		if id, ok := j.handles[h]; ok && !failed[aws.ToString(e.Id)] {
			done = append(done, journalRecord{Done: id})
			delete(j.handles, h)
			delete(j.latest, id)
		}
	}
	j.mu.Unlock()
	if len(done) > 0 {
		if err := j.append(done); err != nil {
			return out, err
		}
	}
	return out, nil
}

// ChangeMessageVisibility passes through.
func (j *Journal) ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	return j.next.ChangeMessageVisibility(ctx, in, optFns...)
}

// Close closes the journal file; what it holds stays for the next OpenJournal.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}
