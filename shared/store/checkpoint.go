package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pajarito-care/pajarito/shared/care"
)

// Checkpoint is where the scheduled listener stands on one of its sources (the
// mentions timeline, a keyword search): the checkpoint item.
//
// The item changes in two ways, both single-item writes conditioned on Version, the
// count of the item's writes (optimistic locking):
//
//   - SaveProgress, after each page of a page sequence has been enqueued, stores
//     the sequence's place (Pagination), so that a run cut short (timeout, error,
//     429) is resumed by the next run from the same page, with the same since_id:
//     nothing is skipped. A run whose stored version has moved (another run wrote)
//     gets ErrConflict and leaves the source to the other run.
//   - CompleteCheckpoint, when a sequence has been read to its end (or cut short on
//     purpose, see there), moves SinceID to the highest post id of the sequence and
//     clears the pagination. It re-reads and retries on conflict, and never moves
//     SinceID backwards: the write is also conditioned on since_key, the 20-digit
//     zero-padded since_id, compared as a string (that is, as a decimal number).
//
// Why that is safe with overlapping runs: a complete sequence that started from
// since_id S0 has enqueued every post in (S0, newest]; S0 was read from the
// checkpoint, and the checkpoint only grows, so the stored SinceID is already ≥ S0
// and everything up to newest is covered. A run that loses a conflict has only
// enqueued pages that the winner covers too (the processor deduplicates).
type Checkpoint struct {
	Source string
	// SinceID is the highest post id up to which the source is fully read; "" until
	// the first sequence completes with a post.
	SinceID string
	// StartTime is the start of the window of the source's first reads (now minus
	// the look-back), kept while SinceID is "" so that later runs read from the same
	// time and not from a later "now minus look-back".
	StartTime time.Time
	// Pagination is the page sequence in progress; nil when none.
	Pagination *Pagination
	// Version is the count of the item's writes; 0 when there is no item.
	Version   int64
	UpdatedAt time.Time
}

// Pagination is a page sequence being read: the pages X returns, newest first, for
// one since_id (or start_time) and the next_token links between them.
type Pagination struct {
	// RunID identifies the run that last stored it.
	RunID string
	// SinceID (or, when empty, StartTime) is what the sequence started from; a
	// resumed sequence must send the same values with NextToken.
	SinceID   string
	StartTime time.Time
	// NextToken is the token of the next page to read.
	NextToken string
	// NewestID is the highest post id read so far in the sequence.
	NewestID string
	// Pages and Posts count what the sequence has read so far.
	Pages int
	Posts int
	// StartedAt is when the sequence's first page was read.
	StartedAt time.Time
}

// ErrConflict is returned (wrapped) by SaveProgress when another writer changed the
// checkpoint since it was read.
var ErrConflict = errors.New("checkpoint changed by another run")

const checkpointSK = "CHECKPOINT"

// maxCheckpointRaces bounds CompleteCheckpoint's retries. Each round of a race has a
// winner, so it is above the number of runs that may overlap.
const maxCheckpointRaces = 32

func checkpointKey(source string) map[string]types.AttributeValue {
	return key("SOURCE#"+source, checkpointSK)
}

// padID zero-pads an X id to 20 digits, so that ids compare as strings like numbers.
func padID(id string) string {
	if len(id) >= 20 {
		return id
	}
	return strings.Repeat("0", 20-len(id)) + id
}

// GetCheckpoint returns the source's checkpoint (strongly consistent read): a
// Checkpoint with Version 0 and nothing else set when the source has none.
func (s *Store) GetCheckpoint(ctx context.Context, source string) (*Checkpoint, error) {
	item, err := s.get(ctx, checkpointKey(source))
	if err != nil {
		return nil, fmt.Errorf("store: get checkpoint of %s: %w", source, err)
	}
	cp, err := decodeCheckpoint(source, item)
	if err != nil {
		return nil, fmt.Errorf("store: get checkpoint of %s: %w", source, err)
	}
	return cp, nil
}

// SaveProgress stores p as the sequence in progress of the checkpoint cp, as read
// (cp.Version is the condition). It returns the new checkpoint, or an error
// wrapping ErrConflict when another run wrote the checkpoint since cp was read.
// Call it only after the pages p counts have been enqueued.
func (s *Store) SaveProgress(ctx context.Context, cp *Checkpoint, p Pagination) (*Checkpoint, error) {
	if err := checkIDs(p.SinceID, p.NewestID); err != nil {
		return nil, fmt.Errorf("store: save progress of %s: %w", cp.Source, err)
	}
	next := *cp
	next.Pagination = &p
	if next.SinceID == "" && next.StartTime.IsZero() {
		next.StartTime = p.StartTime
	}
	ok, err := s.putCheckpoint(ctx, cp, &next)
	if err != nil {
		return nil, fmt.Errorf("store: save progress of %s: %w", cp.Source, err)
	}
	if !ok {
		return nil, fmt.Errorf("store: save progress of %s (version %d): %w", cp.Source, cp.Version, ErrConflict)
	}
	return &next, nil
}

// CompleteCheckpoint records that the sequence p has been read and enqueued to its
// end: SinceID becomes the greater of the stored one and p.NewestID, and the stored
// pagination is cleared when it is p's own (same RunID) or covered by the new
// SinceID (another run's sequence reaching higher is kept, for it to finish). A
// sequence that found no post on a source with no SinceID keeps its StartTime.
//
// The listener also calls it to cut a sequence short on purpose (a keyword search
// slowed by the budget): the older posts of the sequence are then never read.
//
// It reads the checkpoint and writes it conditionally, retrying when another run
// wrote in between; it writes nothing when nothing changes.
func (s *Store) CompleteCheckpoint(ctx context.Context, source string, p Pagination) (*Checkpoint, error) {
	if err := checkIDs(p.SinceID, p.NewestID); err != nil {
		return nil, fmt.Errorf("store: complete checkpoint of %s: %w", source, err)
	}
	for range maxCheckpointRaces {
		cp, err := s.GetCheckpoint(ctx, source)
		if err != nil {
			return nil, err
		}
		next := *cp
		next.SinceID = care.MaxID(cp.SinceID, p.NewestID)
		if next.SinceID == "" && next.StartTime.IsZero() {
			next.StartTime = p.StartTime
		}
		if q := cp.Pagination; q != nil && (q.RunID == p.RunID || care.CompareIDs(q.NewestID, next.SinceID) <= 0) {
			next.Pagination = nil
		}
		if next.SinceID == cp.SinceID && next.StartTime.Equal(cp.StartTime) && next.Pagination == cp.Pagination && cp.Version > 0 {
			return cp, nil // nothing to change: another run got further
		}
		ok, err := s.putCheckpoint(ctx, cp, &next)
		if err != nil {
			return nil, fmt.Errorf("store: complete checkpoint of %s: %w", source, err)
		}
		if ok {
			return &next, nil
		}
		s.log().Debug("store: checkpoint race, retrying", "source", source, "since_id", p.NewestID)
	}
	return nil, fmt.Errorf("store: complete checkpoint of %s: lost %d races with concurrent runs", source, maxCheckpointRaces)
}

func checkIDs(ids ...string) error {
	for _, id := range ids {
		if id != "" && !care.IsID(id) {
			return fmt.Errorf("%q is not a decimal X id", id)
		}
	}
	return nil
}

// putCheckpoint writes next over old on condition that the item is still at
// old.Version and that its since_key is not above next's. It sets next's Version and
// UpdatedAt, and reports false when the condition failed.
func (s *Store) putCheckpoint(ctx context.Context, old, next *Checkpoint) (bool, error) {
	next.Version = old.Version + 1
	next.UpdatedAt = s.now()
	item := encodeCheckpoint(next)
	e := newExpr()
	var cond string
	if old.Version == 0 {
		cond = "attribute_not_exists(" + e.name(KeyPK) + ")"
	} else {
		cond = e.name("version") + " = " + e.value(num(old.Version))
	}
	if next.SinceID != "" {
		sk := e.name("since_key")
		cond += " AND (attribute_not_exists(" + sk + ") OR " + sk + " <= " + e.value(str(padID(next.SinceID))) + ")"
	}
	in := &dynamodb.PutItemInput{
		Item:                      item,
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  e.names,
		ExpressionAttributeValues: e.values,
	}
	if len(e.values) == 0 {
		in.ExpressionAttributeValues = nil // DynamoDB rejects an empty map
	}
	var mt meter
	return s.put(ctx, &mt, in, false)
}

func encodeCheckpoint(cp *Checkpoint) map[string]types.AttributeValue {
	item := checkpointKey(cp.Source)
	item["source"] = str(cp.Source)
	item["version"] = num(cp.Version)
	item["updated_at"] = str(stamp(cp.UpdatedAt))
	if cp.SinceID != "" {
		item["since_id"] = str(cp.SinceID)
		item["since_key"] = str(padID(cp.SinceID))
	}
	if !cp.StartTime.IsZero() {
		item["start_time"] = str(stamp(cp.StartTime))
	}
	if p := cp.Pagination; p != nil {
		item["run_id"] = str(p.RunID)
		item["next_token"] = str(p.NextToken)
		item["run_pages"] = num(int64(p.Pages))
		item["run_posts"] = num(int64(p.Posts))
		item["run_started_at"] = str(stamp(p.StartedAt))
		if p.SinceID != "" {
			item["run_since_id"] = str(p.SinceID)
		}
		if !p.StartTime.IsZero() {
			item["run_start_time"] = str(stamp(p.StartTime))
		}
		if p.NewestID != "" {
			item["run_newest_id"] = str(p.NewestID)
		}
	}
	return item
}

func decodeCheckpoint(source string, item map[string]types.AttributeValue) (*Checkpoint, error) {
	cp := &Checkpoint{Source: source}
	if item == nil {
		return cp, nil
	}
	var err error
	num := func(name string) int64 {
		v, ok := item[name].(*types.AttributeValueMemberN)
		if !ok {
			return 0
		}
		n, e := strconv.ParseInt(v.Value, 10, 64)
		if e != nil && err == nil {
			err = fmt.Errorf("attribute %s: %w", name, e)
		}
		return n
	}
	tm := func(name string) time.Time {
		v := stringAttr(item, name)
		if v == "" {
			return time.Time{}
		}
		t, e := time.Parse(time.RFC3339Nano, v)
		if e != nil && err == nil {
			err = fmt.Errorf("attribute %s: %w", name, e)
		}
		return t
	}
	cp.SinceID = stringAttr(item, "since_id")
	cp.StartTime = tm("start_time")
	cp.Version = num("version")
	cp.UpdatedAt = tm("updated_at")
	if _, ok := item["run_id"]; ok {
		cp.Pagination = &Pagination{
			RunID:     stringAttr(item, "run_id"),
			SinceID:   stringAttr(item, "run_since_id"),
			StartTime: tm("run_start_time"),
			NextToken: stringAttr(item, "next_token"),
			NewestID:  stringAttr(item, "run_newest_id"),
			Pages:     int(num("run_pages")),
			Posts:     int(num("run_posts")),
			StartedAt: tm("run_started_at"),
		}
	}
	return cp, err
}
