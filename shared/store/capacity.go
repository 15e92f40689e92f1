package store

import (
	"context"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// CapacityMeter wraps an API and adds up the capacity DynamoDB reports for every
// call, asking for it on calls that do not: it measures what a piece of work costs
// on DynamoDB (benchmarks, cost estimates). Against dynalite, which reports the
// table's capacity only, a write that sets an index key counts one more write unit
// (what the index write would cost on DynamoDB, when its key does not change).
// It also adds up the size of the items written (ItemSize): a write unit is
// 1 KB, so item size matters as much as item count.
type CapacityMeter struct {
	API

	mu          sync.Mutex
	read, write float64
	bytes       int64
}

// Bytes returns the size of the items written so far: each put's item, each
// update's item as it is after the update (when the update asks DynamoDB for
// it, as the store's do; else nothing is counted for it).
func (m *CapacityMeter) Bytes() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bytes
}

func (m *CapacityMeter) wrote(item map[string]types.AttributeValue) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.bytes += int64(ItemSize(item))
}

// ItemSize is the size DynamoDB bills an item at: the UTF-8 length of each
// attribute name plus the size of its value (strings: their UTF-8 bytes;
// binaries: their bytes; numbers: 1 byte per two significant digits, plus 1;
// booleans and nulls: 1; lists and maps: 3 bytes plus 1 per element, plus the
// elements; sets: their elements).
func ItemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberSS:
		n := 0
		for _, e := range v.Value {
			n += len(e)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, e := range v.Value {
			n += numberSize(e)
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, e := range v.Value {
			n += len(e)
		}
		return n
	}
	return 0
}

// numberSize is the size of a number: its significant digits (leading and
// trailing zeros trimmed), two to a byte, plus 1.
func numberSize(s string) int {
	s = strings.TrimLeft(s, "-")
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i]
	}
	s = strings.Replace(s, ".", "", 1)
	s = strings.Trim(s, "0")
	return (len(s)+1)/2 + 1
}

// Units returns the read and write units counted so far.
func (m *CapacityMeter) Units() (read, write float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.read, m.write
}

func (m *CapacityMeter) add(cc *types.ConsumedCapacity, write bool, indexed bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	units := 0.0
	if cc != nil && cc.CapacityUnits != nil {
		units = *cc.CapacityUnits
	}
	if !write {
		m.read += units
		return
	}
	if indexed && (cc == nil || cc.GlobalSecondaryIndexes == nil) {
		units++
	}
	m.write += units
}

func total(rc types.ReturnConsumedCapacity) types.ReturnConsumedCapacity {
	if rc == "" || rc == types.ReturnConsumedCapacityNone {
		return types.ReturnConsumedCapacityTotal
	}
	return rc
}

// GetItem implements API.
func (m *CapacityMeter) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	in.ReturnConsumedCapacity = total(in.ReturnConsumedCapacity)
	out, err := m.API.GetItem(ctx, in, optFns...)
	if err == nil {
		m.add(out.ConsumedCapacity, false, false)
	}
	return out, err
}

// Query implements API.
func (m *CapacityMeter) Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	in.ReturnConsumedCapacity = total(in.ReturnConsumedCapacity)
	out, err := m.API.Query(ctx, in, optFns...)
	if err == nil {
		m.add(out.ConsumedCapacity, false, false)
	}
	return out, err
}

// PutItem implements API. A write refused by its condition costs a unit too.
func (m *CapacityMeter) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	in.ReturnConsumedCapacity = total(in.ReturnConsumedCapacity)
	out, err := m.API.PutItem(ctx, in, optFns...)
	_, indexed := in.Item[KeyGSI1PK]
	switch {
	case err == nil:
		m.add(out.ConsumedCapacity, true, indexed)
		m.wrote(in.Item)
	case isConditionFailed(err):
		m.add(&types.ConsumedCapacity{CapacityUnits: aws.Float64(1)}, true, false)
	}
	return out, err
}

// UpdateItem implements API. A write refused by its condition costs a unit too.
func (m *CapacityMeter) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	in.ReturnConsumedCapacity = total(in.ReturnConsumedCapacity)
	out, err := m.API.UpdateItem(ctx, in, optFns...)
	indexed := false
	for _, name := range in.ExpressionAttributeNames {
		indexed = indexed || name == KeyGSI1PK || name == KeyGSI1SK
	}
	indexed = indexed || (in.UpdateExpression != nil && strings.Contains(*in.UpdateExpression, KeyGSI1PK))
	switch {
	case err == nil:
		m.add(out.ConsumedCapacity, true, indexed)
		m.wrote(out.Attributes)
	case isConditionFailed(err):
		m.add(&types.ConsumedCapacity{CapacityUnits: aws.Float64(1)}, true, false)
	}
	return out, err
}
