package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/pajarito-care/pajarito/shared/classify"
)

// The classifier's corrections model (classify.Model) is one item, its JSON
// gzipped:
//
//	item   PK      SK        attributes
//	model  MODEL   CLASSIFY  body (gzip JSON), corrections, trained_at, size
//
// DynamoDB items are limited to 400 KB; a model of 2,000 corrections takes about
// 150 KB. SaveModel refuses a bigger one with ErrModelTooLarge, so the trainer can
// learn from fewer (the newest) corrections instead.

// MaxModelBytes is the largest gzipped model SaveModel stores, leaving room under
// DynamoDB's 400 KB item limit for the other attributes.
const MaxModelBytes = 380 << 10

// ErrModelTooLarge is returned (wrapped) by SaveModel for a model over MaxModelBytes.
var ErrModelTooLarge = errors.New("the model is too large for one item")

var modelKey = key("MODEL", "CLASSIFY")

// SavedModel is a stored model with when it was trained.
type SavedModel struct {
	Model     *classify.Model
	TrainedAt time.Time
	// Bytes is its gzipped size.
	Bytes int
}

// SaveModel stores m, trained at, replacing the previous model.
func (s *Store) SaveModel(ctx context.Context, m *classify.Model, at time.Time) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("store: save model: encode: %w", err)
	}
	body, err := gzipBytes(raw)
	if err != nil {
		return fmt.Errorf("store: save model: compress: %w", err)
	}
	if len(body) > MaxModelBytes {
		return fmt.Errorf("store: save model of %d corrections: %d bytes gzipped, over %d: %w", m.Trained.Corrections, len(body), MaxModelBytes, ErrModelTooLarge)
	}
	item := map[string]types.AttributeValue{
		KeyPK:         modelKey[KeyPK],
		KeySK:         modelKey[KeySK],
		"body":        &types.AttributeValueMemberB{Value: body},
		"corrections": num(int64(m.Trained.Corrections)),
		"trained_at":  str(stamp(at)),
		"size":        num(int64(len(body))),
	}
	if _, err := s.put(ctx, &meter{}, &dynamodb.PutItemInput{Item: item}, false); err != nil {
		return fmt.Errorf("store: save model: %w", err)
	}
	return nil
}

// LoadModel returns the stored model, or ErrNotFound when none was trained yet.
func (s *Store) LoadModel(ctx context.Context) (*SavedModel, error) {
	item, err := s.get(ctx, modelKey)
	if err != nil {
		return nil, fmt.Errorf("store: load model: %w", err)
	}
	if item == nil {
		return nil, fmt.Errorf("store: load model: %w", ErrNotFound)
	}
	b, ok := item["body"].(*types.AttributeValueMemberB)
	if !ok {
		return nil, errors.New("store: load model: the item has no body")
	}
	raw, err := gunzipBytes(b.Value)
	if err != nil {
		return nil, fmt.Errorf("store: load model: %w", err)
	}
	var m classify.Model
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("store: load model: decode: %w", err)
	}
	if m.Version != classify.ModelVersion {
		return nil, fmt.Errorf("store: load model: version %d, this build reads %d (the monitor retrains it)", m.Version, classify.ModelVersion)
	}
	at, err := time.Parse(time.RFC3339Nano, stringAttr(item, "trained_at"))
	if err != nil {
		return nil, fmt.Errorf("store: load model: trained_at: %w", err)
	}
	return &SavedModel{Model: &m, TrainedAt: at, Bytes: len(b.Value)}, nil
}

func gunzipBytes(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}
