// Package costmeter counts, on the wire, the work that package cost prices, for
// processes it cannot reach into (the built Lambda bootstraps): a proxy in
// front of DynamoDB (dynalite) that adds up the capacity units of every call, a
// proxy in front of SQS and SNS (goaws) that counts requests as SQS bills them,
// and a Secrets Manager stand-in that counts its reads. Point a process at them
// with AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SQS and _SNS, and
// AWS_ENDPOINT_URL_SECRETS_MANAGER.
package costmeter

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pajarito-care/pajarito/shared/store"
)

// DynamoDB is a proxy in front of a DynamoDB endpoint that counts the read and
// write units of every call going through it. It asks for the capacity on calls
// that do not (ReturnConsumedCapacity TOTAL), and counts it with the rule of
// store.CapacityMeter — a write that sets an index key counts one more unit when
// the answer reports no index capacity (dynalite reports the table's only), a
// write refused by its condition counts one — by replaying each call's answer
// through a CapacityMeter, so that the two never count differently. The calls
// CapacityMeter does not meter (anything but GetItem, PutItem, UpdateItem and
// Query) are counted as their answers report them, and named in Calls.
type DynamoDB struct {
	proxy // URL is the proxy's endpoint

	mu    sync.Mutex // serialises the meter's replays and guards the counts
	meter store.CapacityMeter
	// other are the units of calls the meter does not know.
	otherRead, otherWrite float64
	calls                 map[string]int
	byKind                map[string]Units
}

// Units are read and write units, and the calls that consumed them.
type Units struct {
	Read, Write float64
	Calls       int
}

// DynamoCounts are the units and calls counted so far.
type DynamoCounts struct {
	Read, Write float64
	// Calls counts the calls by operation (GetItem, …).
	Calls map[string]int
	// ByKind are the units by kind of item (see Kind).
	ByKind map[string]Units
}

// Sub returns c − o.
func (c DynamoCounts) Sub(o DynamoCounts) DynamoCounts {
	r := DynamoCounts{Read: c.Read - o.Read, Write: c.Write - o.Write, Calls: map[string]int{}, ByKind: map[string]Units{}}
	for k, v := range c.Calls {
		r.Calls[k] = v - o.Calls[k]
	}
	for k, v := range c.ByKind {
		r.ByKind[k] = Units{Read: v.Read - o.ByKind[k].Read, Write: v.Write - o.ByKind[k].Write, Calls: v.Calls - o.ByKind[k].Calls}
	}
	return r
}

// Add returns c + o.
func (c DynamoCounts) Add(o DynamoCounts) DynamoCounts {
	r := DynamoCounts{Read: c.Read + o.Read, Write: c.Write + o.Write, Calls: map[string]int{}, ByKind: map[string]Units{}}
	for _, x := range []DynamoCounts{c, o} {
		for k, v := range x.Calls {
			r.Calls[k] += v
		}
		for k, v := range x.ByKind {
			r.ByKind[k] = Units{Read: r.ByKind[k].Read + v.Read, Write: r.ByKind[k].Write + v.Write, Calls: r.ByKind[k].Calls + v.Calls}
		}
	}
	return r
}

// Kind names the kind of item a call reads or writes, after the store's key
// layout (package store): the partition key's prefix (CASE, X, THREAD, …), the
// sort key's for a case's partition (CASE/CASE, CASE/MSG), "GSI1:" and the
// prefix for a query of the index. Empty when the call names no key.
func Kind(pk, sk, index string) string {
	prefix := func(s string) string {
		if i := strings.IndexByte(s, '#'); i >= 0 {
			return s[:i]
		}
		return s
	}
	k := prefix(pk)
	if k == "CASE" && sk != "" {
		k += "/" + prefix(sk)
	}
	if index != "" {
		k = index + ":" + k
	}
	return k
}

// StartDynamoDB serves a proxy to backend (e.g. dynalite's Endpoint) on a free
// local port.
func StartDynamoDB(backend string) (*DynamoDB, error) {
	d := &DynamoDB{calls: map[string]int{}, byKind: map[string]Units{}}
	d.rewrite = func(r *http.Request, body []byte) []byte { return askCapacity(operation(r), body) }
	d.observe = func(r *http.Request, body []byte, status int, answer []byte) {
		d.count(operation(r), body, status, answer)
	}
	d.dropOnFailure = true
	if err := d.start(backend); err != nil {
		return nil, err
	}
	return d, nil
}

// operation is a DynamoDB call's operation name (X-Amz-Target's last part).
func operation(r *http.Request) string {
	op := r.Header.Get("X-Amz-Target")
	return op[strings.LastIndex(op, ".")+1:]
}

// Counts returns what was counted so far.
func (d *DynamoDB) Counts() DynamoCounts {
	d.mu.Lock()
	defer d.mu.Unlock()
	r, w := d.meter.Units()
	c := DynamoCounts{Read: r + d.otherRead, Write: w + d.otherWrite, Calls: make(map[string]int, len(d.calls)), ByKind: map[string]Units{}}
	for k, v := range d.calls {
		c.Calls[k] = v
	}
	for k, v := range d.byKind {
		c.ByKind[k] = v
	}
	return c
}

// dynamoRequest is the part of a request body the meter's rule and Kind look
// at.
type dynamoRequest struct {
	Item                      map[string]json.RawMessage `json:"Item"`
	Key                       map[string]json.RawMessage `json:"Key"`
	UpdateExpression          *string                    `json:"UpdateExpression"`
	ExpressionAttributeNames  map[string]string          `json:"ExpressionAttributeNames"`
	KeyConditionExpression    string                     `json:"KeyConditionExpression"`
	ExpressionAttributeValues map[string]json.RawMessage `json:"ExpressionAttributeValues"`
	IndexName                 string                     `json:"IndexName"`
}

// kind is Kind of the call's item: its key, or a query's partition value (the
// first value its key condition names).
func (in dynamoRequest) kind() string {
	str := func(raw json.RawMessage) string {
		var v struct{ S string }
		_ = json.Unmarshal(raw, &v)
		return v.S
	}
	keys := in.Key
	if keys == nil {
		keys = in.Item
	}
	if keys != nil {
		return Kind(str(keys[store.KeyPK]), str(keys[store.KeySK]), "")
	}
	if i := strings.IndexByte(in.KeyConditionExpression, ':'); i >= 0 {
		name := in.KeyConditionExpression[i:]
		if j := strings.IndexAny(name, " )"); j >= 0 {
			name = name[:j]
		}
		return Kind(str(in.ExpressionAttributeValues[name]), "", in.IndexName)
	}
	return ""
}

// dynamoAnswer is the part of an answer the meter reads: ConsumedCapacity is an
// object, or a list of them for batch calls.
type dynamoAnswer struct {
	Type             string          `json:"__type"`
	ConsumedCapacity json.RawMessage `json:"ConsumedCapacity"`
}

type capacity struct {
	CapacityUnits          *float64                   `json:"CapacityUnits"`
	GlobalSecondaryIndexes map[string]json.RawMessage `json:"GlobalSecondaryIndexes"`
}

// capacities decodes ConsumedCapacity, one or many.
func (a dynamoAnswer) capacities() []capacity {
	var one capacity
	if json.Unmarshal(a.ConsumedCapacity, &one) == nil {
		return []capacity{one}
	}
	var many []capacity
	_ = json.Unmarshal(a.ConsumedCapacity, &many)
	return many
}

// askCapacity sets ReturnConsumedCapacity to TOTAL on a call that asks for none.
func askCapacity(op string, body []byte) []byte {
	switch op {
	case "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem":
	default:
		return body
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal(body, &doc) != nil {
		return body
	}
	if rc, ok := doc["ReturnConsumedCapacity"]; ok && string(rc) != `"NONE"` {
		return body
	}
	doc["ReturnConsumedCapacity"] = json.RawMessage(`"TOTAL"`)
	out, err := json.Marshal(doc)
	if err != nil {
		return body
	}
	return out
}

// count adds a call's units, through the meter for the calls it meters.
func (d *DynamoDB) count(op string, body []byte, status int, answer []byte) {
	var in dynamoRequest
	_ = json.Unmarshal(body, &in)
	var out dynamoAnswer
	_ = json.Unmarshal(answer, &out)
	var cc *types.ConsumedCapacity
	caps := out.capacities()
	if len(caps) == 1 {
		cc = &types.ConsumedCapacity{CapacityUnits: caps[0].CapacityUnits}
		if caps[0].GlobalSecondaryIndexes != nil {
			cc.GlobalSecondaryIndexes = map[string]types.Capacity{}
		}
	}
	var callErr error
	if status != http.StatusOK {
		callErr = fmt.Errorf("status %d", status)
		if strings.HasSuffix(out.Type, "ConditionalCheckFailedException") {
			callErr = &types.ConditionalCheckFailedException{Message: aws.String("replayed")}
		}
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls[op]++
	kind := in.kind()
	r0, w0 := d.meter.Units()
	or0, ow0 := d.otherRead, d.otherWrite
	defer func() {
		r1, w1 := d.meter.Units()
		u := d.byKind[kind]
		u.Read += r1 - r0 + d.otherRead - or0
		u.Write += w1 - w0 + d.otherWrite - ow0
		u.Calls++
		d.byKind[kind] = u
	}()
	stub := replay{cc: cc, err: callErr}
	d.meter.API = stub
	ctx := context.Background()
	switch op {
	case "GetItem":
		_, _ = d.meter.GetItem(ctx, &dynamodb.GetItemInput{})
	case "Query":
		_, _ = d.meter.Query(ctx, &dynamodb.QueryInput{})
	case "PutItem":
		item := make(map[string]types.AttributeValue, len(in.Item))
		for k := range in.Item {
			item[k] = &types.AttributeValueMemberS{}
		}
		_, _ = d.meter.PutItem(ctx, &dynamodb.PutItemInput{Item: item})
	case "UpdateItem":
		_, _ = d.meter.UpdateItem(ctx, &dynamodb.UpdateItemInput{UpdateExpression: in.UpdateExpression, ExpressionAttributeNames: in.ExpressionAttributeNames})
	default:
		if callErr != nil {
			return
		}
		units := 0.0
		for _, c := range caps {
			if c.CapacityUnits != nil {
				units += *c.CapacityUnits
			}
		}
		switch op {
		case "DeleteItem", "BatchWriteItem", "TransactWriteItems":
			d.otherWrite += units
		default:
			d.otherRead += units
		}
	}
}

// replay is a store.API that answers the call being metered with what the real
// DynamoDB answered.
type replay struct {
	store.API
	cc  *types.ConsumedCapacity
	err error
}

func (r replay) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if r.err != nil {
		return nil, r.err
	}
	return &dynamodb.GetItemOutput{ConsumedCapacity: r.cc}, nil
}

func (r replay) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if r.err != nil {
		return nil, r.err
	}
	return &dynamodb.QueryOutput{ConsumedCapacity: r.cc}, nil
}

func (r replay) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if r.err != nil {
		return nil, r.err
	}
	return &dynamodb.PutItemOutput{ConsumedCapacity: r.cc}, nil
}

func (r replay) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if r.err != nil {
		return nil, r.err
	}
	return &dynamodb.UpdateItemOutput{ConsumedCapacity: r.cc}, nil
}
