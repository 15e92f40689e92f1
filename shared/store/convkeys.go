package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// X Chat conversation keys: the symmetric keys that open a conversation's
// messages, one per key version, which key-change events carry encrypted to
// the brand. They are kept sealed (encrypted by a sealer: KMS on AWS, a local
// key file in the local system; package xchatopen): the store never sees one
// in clear.
//
//	item     PK                          SK             attributes
//	convkey  CONVKEY#<conversation id>   <key version>  conversation_id, key_version,
//	                                                    sealed (binary), sealer,
//	                                                    created_at
//
// PutConversationKey puts a version on condition that it is not there yet
// (attribute_not_exists): a key version is written once, by the first
// processor to see it, and never replaced, so that a forged key change cannot
// overwrite a key. ConversationKeys reads a conversation's versions with one
// Query.

// A ConversationKey is a sealed X Chat conversation key.
type ConversationKey struct {
	ConversationID string
	KeyVersion     string
	// Sealed is the key as its sealer encrypted it, with the conversation id
	// and key version as its context.
	Sealed []byte
	// Sealer names what sealed it (a KMS key, or the local key file).
	Sealer    string
	CreatedAt time.Time
}

func convKeyPK(conversationID string) string { return "CONVKEY#" + conversationID }

// PutConversationKey keeps k unless its version is kept already; it reports
// whether it wrote k (one conditional write).
func (s *Store) PutConversationKey(ctx context.Context, k ConversationKey) (bool, error) {
	if k.ConversationID == "" || k.KeyVersion == "" || len(k.Sealed) == 0 || k.Sealer == "" {
		return false, errors.New("store: put conversation key: a conversation id, a key version, the sealed key and its sealer are required")
	}
	item := key(convKeyPK(k.ConversationID), k.KeyVersion)
	item["conversation_id"] = str(k.ConversationID)
	item["key_version"] = str(k.KeyVersion)
	item["sealed"] = &types.AttributeValueMemberB{Value: k.Sealed}
	item["sealer"] = str(k.Sealer)
	item["created_at"] = str(stamp(k.CreatedAt))
	in := &dynamodb.PutItemInput{
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": KeyPK},
	}
	ok, err := s.put(ctx, &meter{}, in, false)
	if err != nil {
		return false, fmt.Errorf("store: put conversation key %s version %s: %w", k.ConversationID, k.KeyVersion, err)
	}
	return ok, nil
}

// ConversationKeys returns the sealed keys kept for a conversation, by key
// version; none when it has none.
func (s *Store) ConversationKeys(ctx context.Context, conversationID string) ([]ConversationKey, error) {
	var out []ConversationKey
	err := s.queryPartition(ctx, convKeyPK(conversationID), true, func(it map[string]types.AttributeValue) (bool, error) {
		b, ok := it["sealed"].(*types.AttributeValueMemberB)
		if !ok {
			return false, fmt.Errorf("conversation key %s has no sealed bytes", stringAttr(it, KeySK))
		}
		at, _ := time.Parse(time.RFC3339Nano, stringAttr(it, "created_at"))
		out = append(out, ConversationKey{
			ConversationID: conversationID, KeyVersion: stringAttr(it, KeySK),
			Sealed: b.Value, Sealer: stringAttr(it, "sealer"), CreatedAt: at,
		})
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: conversation keys of %s: %w", conversationID, err)
	}
	return out, nil
}
