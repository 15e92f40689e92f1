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
type CapacityMeter struct {
	API

	mu          sync.Mutex
	read, write float64
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
	case isConditionFailed(err):
		m.add(&types.ConsumedCapacity{CapacityUnits: aws.Float64(1)}, true, false)
	}
	return out, err
}
