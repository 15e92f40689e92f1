package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The listener's spend on X reads: one spend item per month and source, added to
// with ADD (no condition: overlapping runs add up), read back with one Query of the
// month's partition to plan the budget.

// SpendKindReply is the Kind of the spend of posting replies and DMs (package
// sender); the listener's read budget leaves it out.
const SpendKindReply = "reply"

// SpendMonth returns the budget period of t: its calendar month in UTC, "2006-01".
func SpendMonth(t time.Time) string { return t.UTC().Format("2006-01") }

// SourceSpend is what a source read from X in a month (or, given to AddSpend, in one
// page).
type SourceSpend struct {
	Source string
	// Kind is the source's kind (mentions, search), for reports.
	Kind string
	// Reads counts the posts X returned, which is what X bills.
	Reads int64
	// Pages counts the requests.
	Pages int64
	// USD is the estimated cost: Reads times the configured price per post.
	USD       float64
	UpdatedAt time.Time
}

// MonthSpend is a month's spend, by source name.
type MonthSpend struct {
	Month   string
	Sources map[string]SourceSpend
}

// TotalUSD is the month's estimated cost over all sources.
func (m *MonthSpend) TotalUSD() float64 {
	var t float64
	for _, s := range m.Sources {
		t += s.USD
	}
	return t
}

// USD returns a source's estimated cost this month.
func (m *MonthSpend) USD(source string) float64 { return m.Sources[source].USD }

func spendPK(month string) string { return "BUDGET#" + month }

// AddSpend adds d (reads, pages, estimated dollars of a source) to the month of at.
func (s *Store) AddSpend(ctx context.Context, at time.Time, d SourceSpend) error {
	month := SpendMonth(at)
	e := newExpr()
	e.set("month", str(month))
	e.set("source", str(d.Source))
	e.set("kind", str(d.Kind))
	e.set("updated_at", str(stamp(s.now())))
	e.add("reads", d.Reads)
	e.add("pages", d.Pages)
	e.adds = append(e.adds, e.name("usd")+" "+e.value(&types.AttributeValueMemberN{Value: dollars(d.USD)}))
	var mt meter
	if _, err := s.update(ctx, &mt, e.input(key(spendPK(month), "SOURCE#"+d.Source), ""), nil, false); err != nil {
		return fmt.Errorf("store: add spend of %s in %s: %w", d.Source, month, err)
	}
	return nil
}

// dollars formats an amount for DynamoDB, whose numbers are exact decimals, rounded
// to a billionth of a dollar so that float noise does not accumulate.
func dollars(usd float64) string { return strconv.FormatFloat(usd, 'f', 9, 64) }

// GetSpend returns the month's spend ("2006-01", see SpendMonth); an empty
// MonthSpend when nothing was read.
func (s *Store) GetSpend(ctx context.Context, month string) (*MonthSpend, error) {
	m := &MonthSpend{Month: month, Sources: map[string]SourceSpend{}}
	var start map[string]types.AttributeValue
	for {
		out, err := s.Client.Query(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(s.Table),
			KeyConditionExpression:    aws.String("#pk = :pk"),
			ExpressionAttributeNames:  map[string]string{"#pk": KeyPK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(spendPK(month))},
			ConsistentRead:            aws.Bool(true),
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return nil, fmt.Errorf("store: get spend of %s: %w", month, err)
		}
		for _, it := range out.Items {
			var rec struct {
				Source    string    `json:"source"`
				Kind      string    `json:"kind"`
				Reads     int64     `json:"reads"`
				Pages     int64     `json:"pages"`
				USD       float64   `json:"usd"`
				UpdatedAt time.Time `json:"updated_at"`
			}
			if err := unmarshal(it, &rec); err != nil {
				return nil, fmt.Errorf("store: get spend of %s: decode %s: %w", month, stringAttr(it, KeySK), err)
			}
			m.Sources[rec.Source] = SourceSpend(rec)
		}
		if len(out.LastEvaluatedKey) == 0 {
			return m, nil
		}
		start = out.LastEvaluatedKey
	}
}
