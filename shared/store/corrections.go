package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
)

// Agents' corrections of the classifier's labels, what classify.Train learns from,
// live in one partition, newest last:
//
//	item       PK                   SK                        GSI1PK      GSI1SK                              attributes
//	correction CORRECTIONS          <corrected at, sortable># -           -                                   Correction: text, lang, intent,
//	                                <caseId>#<message X id>                                                   sentiment, case_id, message_id,
//	                                                                                                          agent_id, was_intent,
//	                                                                                                          was_sentiment, corrected_at
//
// Corrections are put, never changed: correcting a message again adds a record, and
// ListCorrections merges the records of one message, the newest label winning.

const correctionsPK = "CORRECTIONS"

// Bounds of ListCorrections.
const (
	DefaultCorrectionsLimit = 1000
	MaxCorrectionsLimit     = 20000
)

// Correction is an agent's correction of the labels of one message, with where it
// comes from. Its classify.Correction (text, lang and the corrected labels) is what
// classify.Train takes.
type Correction struct {
	classify.Correction
	CaseID    string `json:"case_id"`
	MessageID string `json:"message_id"`
	AgentID   string `json:"agent_id"`
	// WasIntent and WasSentiment are the classifier's labels the agent corrected
	// (empty when unknown).
	WasIntent    classify.Intent    `json:"was_intent,omitempty"`
	WasSentiment classify.Sentiment `json:"was_sentiment,omitempty"`
	CorrectedAt  time.Time          `json:"corrected_at"`
}

// AddCorrection stores a correction. Its text, case, message (an X id) and agent are
// required, and at least one label, each one of classify's (classify.Intents,
// classify.Sentiments). CorrectedAt is set when zero.
func (s *Store) AddCorrection(ctx context.Context, c Correction) error {
	if err := checkCorrection(&c); err != nil {
		return fmt.Errorf("store: add correction: %w", err)
	}
	if c.CorrectedAt.IsZero() {
		c.CorrectedAt = s.now()
	}
	c.CorrectedAt = c.CorrectedAt.UTC()
	item, err := marshal(c)
	if err != nil {
		return fmt.Errorf("store: add correction of %s/%s: %w", c.CaseID, c.MessageID, err)
	}
	item[KeyPK] = str(correctionsPK)
	item[KeySK] = str(sortable(c.CorrectedAt) + "#" + c.CaseID + "#" + padID(c.MessageID))
	var mt meter
	if _, err := s.put(ctx, &mt, &dynamodb.PutItemInput{Item: item}, false); err != nil {
		return fmt.Errorf("store: add correction of %s/%s: %w", c.CaseID, c.MessageID, err)
	}
	return nil
}

func checkCorrection(c *Correction) error {
	switch {
	case strings.TrimSpace(c.Text) == "":
		return fmt.Errorf("correction of %s/%s has no text to learn from", c.CaseID, c.MessageID)
	case c.CaseID == "":
		return fmt.Errorf("correction has no case id")
	case !care.IsID(c.MessageID):
		return fmt.Errorf("correction of case %s: message id %q is not an X id", c.CaseID, c.MessageID)
	case c.Intent == "" && c.Sentiment == "":
		return fmt.Errorf("correction of %s/%s corrects no label", c.CaseID, c.MessageID)
	case c.Intent != "" && !slices.Contains(classify.Intents, c.Intent):
		return fmt.Errorf("correction of %s/%s: intent %q is not one of %v", c.CaseID, c.MessageID, c.Intent, classify.Intents)
	case c.Sentiment != "" && !slices.Contains(classify.Sentiments, c.Sentiment):
		return fmt.Errorf("correction of %s/%s: sentiment %q is not one of %v", c.CaseID, c.MessageID, c.Sentiment, classify.Sentiments)
	}
	return checkAgentID(c.AgentID)
}

// ListCorrections returns up to limit corrections, newest first, one per message,
// as classify.Train takes them (see ListCorrectionRecords). limit 0 means
// DefaultCorrectionsLimit; at most MaxCorrectionsLimit.
func (s *Store) ListCorrections(ctx context.Context, limit int) ([]classify.Correction, error) {
	recs, err := s.ListCorrectionRecords(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]classify.Correction, len(recs))
	for i, r := range recs {
		out[i] = r.Correction
	}
	return out, nil
}

// ListCorrectionRecords returns up to limit corrections, newest first, one per
// message: the records of a message corrected several times are merged, each label
// taken from the newest record that sets it (and the record's other fields from the
// newest). limit 0 means DefaultCorrectionsLimit; at most MaxCorrectionsLimit.
func (s *Store) ListCorrectionRecords(ctx context.Context, limit int) ([]Correction, error) {
	switch {
	case limit == 0:
		limit = DefaultCorrectionsLimit
	case limit < 0 || limit > MaxCorrectionsLimit:
		return nil, fmt.Errorf("store: list corrections: limit %d is outside 1..%d", limit, MaxCorrectionsLimit)
	}
	var out []Correction
	index := map[string]int{} // case#message → position in out
	err := s.queryPartition(ctx, correctionsPK, false, func(it map[string]types.AttributeValue) (bool, error) {
		var c Correction
		if err := unmarshal(it, &c); err != nil {
			return false, fmt.Errorf("decode %s: %w", stringAttr(it, KeySK), err)
		}
		k := c.CaseID + "#" + c.MessageID
		if i, ok := index[k]; ok {
			newer := &out[i]
			if newer.Intent == "" {
				newer.Intent, newer.WasIntent = c.Intent, c.WasIntent
			}
			if newer.Sentiment == "" {
				newer.Sentiment, newer.WasSentiment = c.Sentiment, c.WasSentiment
			}
			return true, nil
		}
		if len(out) == limit {
			// The page is full; older records of the messages listed are merged
			// only up to here, which keeps the read bounded.
			return false, nil
		}
		index[k] = len(out)
		out = append(out, c)
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: list corrections: %w", err)
	}
	return out, nil
}
