package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/pajarito-care/pajarito/shared/care"
)

// CountCases counts the cases of a status: a COUNT Query of the agent queue (index
// GSI1), page by page. It reads the index's keys only, about 1 read unit per 30,000
// cases (keys take some 130 bytes each).
func (s *Store) CountCases(ctx context.Context, status care.Status) (int, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		IndexName:                 aws.String(IndexQueue),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": KeyGSI1PK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(queuePK(status))},
		Select:                    types.SelectCount,
	}
	n := 0
	for {
		out, err := s.Client.Query(ctx, in)
		if err != nil {
			return 0, fmt.Errorf("store: count %s cases: %w", status, err)
		}
		n += int(out.Count)
		if len(out.LastEvaluatedKey) == 0 {
			return n, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
