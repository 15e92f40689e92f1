package main

import (
	"fmt"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/jsii-runtime-go"

	"github.com/pajarito-care/pajarito/shared/store"
)

// newTable declares Pajarito's table from store.TableInput, the schema the store
// creates locally, so that there is one definition of keys, index and projection:
// on demand, point-in-time recovery, TTL on store.TTLAttribute, encrypted with the
// AWS managed key (aws/dynamodb: no key to manage, no KMS charge per request).
// Production tables are retained and protected from deletion.
func (b *builder) newTable() awsdynamodb.Table {
	schema := store.TableInput("")
	if schema.BillingMode != types.BillingModePayPerRequest {
		panic(fmt.Sprintf("infra: store.TableInput billing mode %q: the stack only knows on-demand", schema.BillingMode))
	}
	pk, sk := keySchema(schema.KeySchema, schema.AttributeDefinitions)
	prod := b.props.Environment == Prod
	table := awsdynamodb.NewTable(b.stack, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey: pk,
		SortKey:      sk,
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		TimeToLiveAttribute: jsii.String(store.TTLAttribute),
		Encryption:          awsdynamodb.TableEncryption_AWS_MANAGED,
		DeletionProtection:  jsii.Bool(prod),
		RemovalPolicy:       b.statefulRemovalPolicy(),
	})
	for _, gsi := range schema.GlobalSecondaryIndexes {
		pk, sk := keySchema(gsi.KeySchema, schema.AttributeDefinitions)
		props := &awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:    gsi.IndexName,
			PartitionKey: pk,
			SortKey:      sk,
		}
		switch p := gsi.Projection; p.ProjectionType {
		case types.ProjectionTypeAll:
			props.ProjectionType = awsdynamodb.ProjectionType_ALL
		case types.ProjectionTypeKeysOnly:
			props.ProjectionType = awsdynamodb.ProjectionType_KEYS_ONLY
		case types.ProjectionTypeInclude:
			props.ProjectionType = awsdynamodb.ProjectionType_INCLUDE
			props.NonKeyAttributes = jsii.Strings(p.NonKeyAttributes...)
		default:
			panic(fmt.Sprintf("infra: index %s: unknown projection %q", *gsi.IndexName, p.ProjectionType))
		}
		table.AddGlobalSecondaryIndex(props)
		b.tableIndexes = append(b.tableIndexes, *gsi.IndexName)
	}
	if len(schema.LocalSecondaryIndexes) > 0 {
		panic("infra: store.TableInput has local secondary indexes: declare them here")
	}
	return table
}

// keySchema translates a DynamoDB key schema into the CDK's partition and sort keys
// (sort key nil when there is none).
func keySchema(keys []types.KeySchemaElement, defs []types.AttributeDefinition) (pk, sk *awsdynamodb.Attribute) {
	for _, k := range keys {
		attr := &awsdynamodb.Attribute{Name: k.AttributeName, Type: attributeType(*k.AttributeName, defs)}
		switch k.KeyType {
		case types.KeyTypeHash:
			pk = attr
		case types.KeyTypeRange:
			sk = attr
		}
	}
	if pk == nil {
		panic("infra: key schema without a partition key")
	}
	return pk, sk
}

func attributeType(name string, defs []types.AttributeDefinition) awsdynamodb.AttributeType {
	for _, d := range defs {
		if *d.AttributeName != name {
			continue
		}
		switch d.AttributeType {
		case types.ScalarAttributeTypeS:
			return awsdynamodb.AttributeType_STRING
		case types.ScalarAttributeTypeN:
			return awsdynamodb.AttributeType_NUMBER
		case types.ScalarAttributeTypeB:
			return awsdynamodb.AttributeType_BINARY
		}
	}
	panic(fmt.Sprintf("infra: key attribute %s has no attribute definition", name))
}

// grantTable lets fn call actions on the table and, when they include Query, query
// its indexes, each named: the CDK's Table.Grant would name table/index/*, a
// wildcard (AwsSolutions-IAM5) that would also cover indexes added later.
func (b *builder) grantTable(fn awslambda.Function, actions ...string) {
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings(actions...),
		Resources: jsii.Strings(*b.table.TableArn()),
	}))
	if !slices.Contains(actions, "dynamodb:Query") || len(b.tableIndexes) == 0 {
		return
	}
	var indexes []*string
	for _, name := range b.tableIndexes {
		indexes = append(indexes, awscdk.Fn_Join(jsii.String(""), &[]*string{b.table.TableArn(), jsii.String("/index/" + name)}))
	}
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("dynamodb:Query"),
		Resources: &indexes,
	}))
}

// The DynamoDB actions each use of the table needs: the store calls GetItem,
// Query, PutItem and UpdateItem (store.API; CreateTable and DescribeTable are for
// local tables only). No Scan, no batch or transactional calls, no DeleteItem:
// expired items go through TTL.
var (
	tableReadActions  = []string{"dynamodb:GetItem", "dynamodb:Query"}
	tableWriteActions = []string{"dynamodb:PutItem", "dynamodb:UpdateItem"}
)
