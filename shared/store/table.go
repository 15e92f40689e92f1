package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TableInput returns the CreateTable request for Pajarito's table named name: PK and
// SK strings, index GSI1 (GSI1PK, GSI1SK) projecting QueueProjection, on-demand
// billing. Time to live on TTLAttribute is enabled separately (UpdateTimeToLive, or
// the CDK stack).
func TableInput(name string) *dynamodb.CreateTableInput {
	attr := func(n string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeTypeS}
	}
	keys := func(pk, sk string) []types.KeySchemaElement {
		return []types.KeySchemaElement{
			{AttributeName: aws.String(pk), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(sk), KeyType: types.KeyTypeRange},
		}
	}
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{attr(KeyPK), attr(KeySK), attr(KeyGSI1PK), attr(KeyGSI1SK)},
		KeySchema:            keys(KeyPK, KeySK),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(IndexQueue),
			KeySchema: keys(KeyGSI1PK, KeyGSI1SK),
			Projection: &types.Projection{
				ProjectionType:   types.ProjectionTypeInclude,
				NonKeyAttributes: QueueProjection(),
			},
		}},
	}
}

// CreateTable creates the store's table, for local use and tests, and waits until it
// is active. A table that already exists is left as it is, unless its queue index
// does not project what this version lists and filters on (a table made by an
// older Pajarito): that is an error saying so, rather than an agent queue whose
// filters silently match nothing. It does not enable time to live (dynalite
// cannot).
func (s *Store) CreateTable(ctx context.Context) error {
	_, err := s.Client.CreateTable(ctx, TableInput(s.Table))
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("store: create table %s: %w", s.Table, err)
	}
	for {
		out, err := s.Client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.Table)})
		if err != nil {
			return fmt.Errorf("store: describe table %s: %w", s.Table, err)
		}
		if out.Table.TableStatus == types.TableStatusActive {
			return checkQueueIndex(out.Table)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("store: wait for table %s: %w", s.Table, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// checkQueueIndex reports a table whose queue index lacks projected attributes.
func checkQueueIndex(t *types.TableDescription) error {
	for _, gsi := range t.GlobalSecondaryIndexes {
		if aws.ToString(gsi.IndexName) != IndexQueue || gsi.Projection == nil {
			continue
		}
		var missing []string
		for _, a := range QueueProjection() {
			if !slices.Contains(gsi.Projection.NonKeyAttributes, a) {
				missing = append(missing, a)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("store: table %s was made by an older Pajarito: its index %s does not project %s; "+
				"start from a new table (locally: delete the data directory, .pajarito/ by default, or run with --data DIR)",
				aws.ToString(t.TableName), IndexQueue, strings.Join(missing, ", "))
		}
		return nil
	}
	return fmt.Errorf("store: table %s has no index %s; start from a new table", aws.ToString(t.TableName), IndexQueue)
}
