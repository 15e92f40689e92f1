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
// is active. A table that already exists is left as it is. It does not enable time to
// live (dynalite cannot).
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
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("store: wait for table %s: %w", s.Table, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
