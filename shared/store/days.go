package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The day index: which cases were created when, so that the service metrics
// (package metrics) read a day's cases with Queries instead of a Scan.
//
//	item     PK                  SK                           GSI1PK  GSI1SK  attributes
//	caseday  DAY#<yyyy-mm-dd,    <created at, sortable>#      -       -       case_id, created_at, expires_at
//	         UTC>                <caseId>
//
// One item per case, in the partition of the UTC day of the case's created_at,
// put when the case is created (RecordCaseDay). The put is unconditional and
// idempotent: the key and attributes depend on the case id and created_at only,
// which every writer of a case agrees on (the case item's created_at), so that a
// repeated or concurrent put writes the same item. Items expire after
// CaseDayRetention.
//
// CaseDays reads the cases created in [from, to): one Query per UTC day the
// range touches, the sort key BETWEEN sortable(from) and sortable(to). A sort key
// "<t>#<id>" is greater than sortable(t) and smaller than sortable(u) for any u
// after t, so that the range is exactly [from, to) whatever the brand's time zone.
//
// Cost: 1 write unit per case (items are about 160 bytes); reading a day of 30,000
// cases is about 5 MB, some 600 read units (eventually consistent), in 5 pages.

// CaseDayRetention is how long a day-index item is kept: above a year, so that a
// year's metrics can be recomputed.
const CaseDayRetention = 400 * 24 * time.Hour

// dayFormat names a day partition.
const dayFormat = "2006-01-02"

// CaseDay is a case in the day index.
type CaseDay struct {
	CaseID    string    `json:"case_id"`
	CreatedAt time.Time `json:"created_at"`
}

func caseDayKey(caseID string, createdAt time.Time) map[string]types.AttributeValue {
	return key("DAY#"+createdAt.UTC().Format(dayFormat), sortable(createdAt)+"#"+caseID)
}

// RecordCaseDay puts case caseID, created at createdAt (the case item's
// created_at), in the day index. Call it when the case is created; calling it
// again is harmless.
func (s *Store) RecordCaseDay(ctx context.Context, caseID string, createdAt time.Time) error {
	return s.putCaseDay(ctx, &meter{}, caseID, createdAt)
}

// putCaseDay is RecordCaseDay counting its write into m (Append's write units).
func (s *Store) putCaseDay(ctx context.Context, m *meter, caseID string, createdAt time.Time) error {
	if caseID == "" || createdAt.IsZero() {
		return fmt.Errorf("store: record case day: case id %q and its creation time are required", caseID)
	}
	item := caseDayKey(caseID, createdAt)
	item["case_id"] = str(caseID)
	item["created_at"] = str(stamp(createdAt))
	item[TTLAttribute] = num(createdAt.Add(CaseDayRetention).Unix())
	if _, err := s.put(ctx, m, &dynamodb.PutItemInput{Item: item}, false); err != nil {
		return fmt.Errorf("store: record case %s in the day index: %w", caseID, err)
	}
	return nil
}

// CaseDays returns the cases created in [from, to), oldest first, from the day
// index.
func (s *Store) CaseDays(ctx context.Context, from, to time.Time) ([]CaseDay, error) {
	from, to = from.UTC(), to.UTC()
	var out []CaseDay
	for day := from.Truncate(24 * time.Hour); day.Before(to); day = day.Add(24 * time.Hour) {
		pk := "DAY#" + day.Format(dayFormat)
		var start map[string]types.AttributeValue
		for {
			page, err := s.Client.Query(ctx, &dynamodb.QueryInput{
				TableName:              aws.String(s.Table),
				KeyConditionExpression: aws.String("#pk = :pk AND #sk BETWEEN :from AND :to"),
				ExpressionAttributeNames: map[string]string{
					"#pk": KeyPK, "#sk": KeySK,
				},
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":pk": str(pk), ":from": str(sortable(from)), ":to": str(sortable(to)),
				},
				ExclusiveStartKey: start,
			})
			if err != nil {
				return nil, fmt.Errorf("store: cases created on %s: %w", day.Format(dayFormat), err)
			}
			for _, it := range page.Items {
				sk := stringAttr(it, KeySK)
				at, id, ok := strings.Cut(sk, "#")
				t, err := time.Parse(sortableTime, at)
				if !ok || err != nil || id == "" {
					return nil, fmt.Errorf("store: cases created on %s: bad sort key %q", day.Format(dayFormat), sk)
				}
				out = append(out, CaseDay{CaseID: id, CreatedAt: t})
			}
			if len(page.LastEvaluatedKey) == 0 {
				break
			}
			start = page.LastEvaluatedKey
		}
	}
	return out, nil
}
