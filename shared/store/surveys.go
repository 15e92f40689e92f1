package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pajarito-care/pajarito/shared/care"
)

// Satisfaction surveys (issue 7): the cases due for a survey, the survey sent to
// each customer, their answers and their opt-outs.
//
//	item       PK                   SK                        GSI1PK      GSI1SK                              attributes
//	surveydue  SURVEYS              <resolved at, sortable>#  -           -                                   case_id, resolved_at, expires_at; once
//	                                <caseId>                                                                  handled: done_at, outcome
//	survey     SURVEY#<customer id> SURVEY                    -           -                                   customer_id, case_id, lang, sent_at,
//	                                                                                                          expires_at; once answered: answered_at,
//	                                                                                                          answer_id
//	optout     OPTOUT#<customer id> OPTOUT                    -           -                                   customer_id, message_id, opted_out_at
//
// and, on the case item: survey_sent_at, csat, csat_at (care.Case), reopens, and
// reopened_from (below).
//
// Every resolution of a case (SetStatus) puts a surveydue item, keyed by the
// resolution time, on condition that it does not exist (a repeated resolve does
// not undo its handling). The monitor reads the due items of a time range, oldest
// first, skipping the handled ones (DueSurveys), and marks each handled once it is
// settled (FinishDueSurvey); a case reopened and resolved again has a new item.
// Due items expire after SurveyDueRetention.
//
// A survey goes out once per case: survey_sent_at is set by an update on
// condition that it is not set and that the case is still resolved at the
// resolution time of its due item (MarkSurveySent); of concurrent monitors one
// wins, and only it sends. The survey item then names the customer's latest
// surveyed case (RecordSurveySent), which their next DMs may answer for
// SurveyAnswerWindow (PendingSurvey).
//
// An inbound message that reopens a resolved case (Append) sets reopened_from to
// the time the case had been resolved, in the same update that adds 1 to reopens;
// the next message counted into the case, and any status change, removes it. So
// reopened_from present with last_counted equal to a message means that this
// message reopened the case, and from when: what AnswerSurvey needs to put a case
// reopened by a survey answer back as it was.

// SurveyDueRetention is how long a due item is kept (TTL), above the longest time
// after its resolution a case is surveyed.
const SurveyDueRetention = 8 * 24 * time.Hour

// SurveyAnswerWindow is how long after a survey was sent the customer's DMs may
// answer it.
const SurveyAnswerWindow = 7 * 24 * time.Hour

const surveysPK = "SURVEYS"

func surveyDueKey(resolvedAt time.Time, caseID string) map[string]types.AttributeValue {
	return key(surveysPK, sortable(resolvedAt)+"#"+caseID)
}

func surveyKey(customerID string) map[string]types.AttributeValue {
	return key("SURVEY#"+customerID, "SURVEY")
}

func optOutKey(customerID string) map[string]types.AttributeValue {
	return key("OPTOUT#"+customerID, "OPTOUT")
}

// DueSurvey is a case due for a satisfaction survey since its resolution.
type DueSurvey struct {
	CaseID     string    `json:"case_id"`
	ResolvedAt time.Time `json:"resolved_at"`
}

// MarkSurveyDue records that the case, resolved at resolvedAt, is due for a
// survey. Marking the same resolution again changes nothing.
func (s *Store) MarkSurveyDue(ctx context.Context, caseID string, resolvedAt time.Time) error {
	if caseID == "" || resolvedAt.IsZero() {
		return fmt.Errorf("store: mark survey due: case id and resolution time are required")
	}
	resolvedAt = resolvedAt.UTC()
	item := surveyDueKey(resolvedAt, caseID)
	item["case_id"] = str(caseID)
	item["resolved_at"] = str(stamp(resolvedAt))
	item[TTLAttribute] = num(resolvedAt.Add(SurveyDueRetention).Unix())
	var mt meter
	if _, err := s.put(ctx, &mt, &dynamodb.PutItemInput{
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}, false); err != nil {
		return fmt.Errorf("store: mark case %s due for a survey: %w", caseID, err)
	}
	return nil
}

// DueSurveys returns at most limit cases resolved at or after from and before to
// whose due item is not handled yet, oldest resolution first. Handled items in
// the range are read and skipped (a filter), so the cost of a call grows with the
// resolutions of the range, not with the answer.
func (s *Store) DueSurveys(ctx context.Context, from, to time.Time, limit int) ([]DueSurvey, error) {
	if limit <= 0 || !from.Before(to) {
		return nil, nil
	}
	var out []DueSurvey
	var start map[string]types.AttributeValue
	for {
		page, err := s.Client.Query(ctx, &dynamodb.QueryInput{
			TableName:                aws.String(s.Table),
			KeyConditionExpression:   aws.String("#pk = :pk AND #sk BETWEEN :from AND :to"),
			FilterExpression:         aws.String("attribute_not_exists(#done)"),
			ExpressionAttributeNames: map[string]string{"#pk": KeyPK, "#sk": KeySK, "#done": "done_at"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(surveysPK), ":from": str(sortable(from)), ":to": str(sortable(to)),
			},
			ConsistentRead:    aws.Bool(true),
			Limit:             aws.Int32(int32(min(max(limit, 25), 1000))),
			ExclusiveStartKey: start,
		})
		if err != nil {
			return nil, fmt.Errorf("store: due surveys: %w", err)
		}
		for _, it := range page.Items {
			var d DueSurvey
			if err := unmarshal(it, &d); err != nil {
				return nil, fmt.Errorf("store: due surveys: decode %s: %w", stringAttr(it, KeySK), err)
			}
			out = append(out, d)
			if len(out) == limit {
				return out, nil
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		start = page.LastEvaluatedKey
	}
}

// FinishDueSurvey marks a due item handled at at, with outcome (why it was sent
// or not), so that DueSurveys no longer returns it.
func (s *Store) FinishDueSurvey(ctx context.Context, d DueSurvey, outcome string, at time.Time) error {
	e := newExpr()
	e.set("done_at", str(stamp(at)))
	e.set("outcome", str(outcome))
	var mt meter
	if _, err := s.update(ctx, &mt, e.input(surveyDueKey(d.ResolvedAt, d.CaseID), "attribute_exists(PK)"), nil, false); err != nil {
		return fmt.Errorf("store: finish the survey of case %s: %w", d.CaseID, err)
	}
	return nil
}

// MarkSurveySent sets the case's survey_sent_at to at, on condition that no
// survey was sent for it and that it is still resolved at resolvedAt (the
// resolution the survey is about). It reports whether this call set it: of
// concurrent callers exactly one does, and none on a case reopened meanwhile.
func (s *Store) MarkSurveySent(ctx context.Context, caseID string, resolvedAt, at time.Time) (bool, error) {
	e := newExpr()
	e.set("survey_sent_at", str(stamp(at)))
	e.set("updated_at", str(stamp(s.now())))
	cond := fmt.Sprintf("attribute_exists(%s) AND attribute_not_exists(%s) AND %s = %s AND %s = %s",
		KeyPK, e.name("survey_sent_at"), e.name("status"), e.value(str(string(care.Resolved))),
		e.name("resolved_at"), e.value(str(stamp(resolvedAt))))
	var mt meter
	item, err := s.update(ctx, &mt, e.input(caseKey(caseID), cond), nil, false)
	if err != nil {
		return false, fmt.Errorf("store: mark the survey of case %s sent: %w", caseID, err)
	}
	return item != nil, nil
}

// SentSurvey is the satisfaction survey a customer was last sent.
type SentSurvey struct {
	CustomerID string    `json:"customer_id"`
	CaseID     string    `json:"case_id"`
	Lang       string    `json:"lang,omitempty"`
	SentAt     time.Time `json:"sent_at"`
	// AnsweredAt is when the message AnswerID answered it (nil: not answered).
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
	AnswerID   string     `json:"answer_id,omitempty"`
}

// RecordSurveySent records sv as the customer's latest survey, replacing the one
// before, unless it is this case's survey already answered (a monitor finishing
// a survey again after a crash keeps the answer).
func (s *Store) RecordSurveySent(ctx context.Context, sv SentSurvey) error {
	if sv.CustomerID == "" || sv.CaseID == "" || sv.SentAt.IsZero() {
		return fmt.Errorf("store: record survey sent: customer, case and time are required")
	}
	sv.SentAt = sv.SentAt.UTC()
	sv.AnsweredAt, sv.AnswerID = nil, ""
	item, err := marshal(sv)
	if err != nil {
		return fmt.Errorf("store: record the survey of case %s: encode: %w", sv.CaseID, err)
	}
	for k, v := range surveyKey(sv.CustomerID) {
		item[k] = v
	}
	item[TTLAttribute] = num(sv.SentAt.Add(SurveyAnswerWindow + 24*time.Hour).Unix())
	var mt meter
	if _, err := s.put(ctx, &mt, &dynamodb.PutItemInput{
		Item:                      item,
		ConditionExpression:       aws.String("attribute_not_exists(#answered) OR #case <> :case"),
		ExpressionAttributeNames:  map[string]string{"#answered": "answered_at", "#case": "case_id"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":case": str(sv.CaseID)},
	}, false); err != nil {
		return fmt.Errorf("store: record the survey of case %s for customer %s: %w", sv.CaseID, sv.CustomerID, err)
	}
	return nil
}

// LatestSurvey returns the survey the customer was last sent; nil when none (or
// longer ago than its time to live).
func (s *Store) LatestSurvey(ctx context.Context, customerID string) (*SentSurvey, error) {
	item, err := s.get(ctx, surveyKey(customerID))
	if err != nil {
		return nil, fmt.Errorf("store: latest survey of customer %s: %w", customerID, err)
	}
	if item == nil {
		return nil, nil
	}
	var sv SentSurvey
	if err := unmarshal(item, &sv); err != nil {
		return nil, fmt.Errorf("store: latest survey of customer %s: decode: %w", customerID, err)
	}
	return &sv, nil
}

// PendingSurvey returns the case whose survey the customer may be answering at
// at: their latest survey, sent before at and less than SurveyAnswerWindow
// before, not answered yet; and the case's language as the survey was written
// in. caseID is "" when there is none.
func (s *Store) PendingSurvey(ctx context.Context, customerID string, at time.Time) (caseID, lang string, err error) {
	sv, err := s.LatestSurvey(ctx, customerID)
	if err != nil || sv == nil {
		return "", "", err
	}
	if sv.AnsweredAt != nil || at.Before(sv.SentAt) || at.Sub(sv.SentAt) >= SurveyAnswerWindow {
		return "", "", nil
	}
	return sv.CaseID, sv.Lang, nil
}

// DMThreadCase returns the current case of the customer's DM thread (the thread
// pointer dm#<customer id>); nil when the customer has no DM thread with the
// brand. A pointer whose case is not written yet (a message opening it is being
// appended) is reported as that case, open.
func (s *Store) DMThreadCase(ctx context.Context, customerID string) (*care.Case, error) {
	thread := "dm#" + customerID
	ptr, err := s.get(ctx, threadKey(thread))
	if err != nil {
		return nil, fmt.Errorf("store: DM thread of customer %s: %w", customerID, err)
	}
	if ptr == nil {
		return nil, nil
	}
	id := stringAttr(ptr, "case_id")
	item, err := s.get(ctx, caseKey(id))
	if err != nil {
		return nil, fmt.Errorf("store: DM thread of customer %s: get case %s: %w", customerID, id, err)
	}
	if item == nil {
		return &care.Case{ID: id, Channel: care.DM, Status: care.Open, ThreadKey: thread, CustomerID: customerID}, nil
	}
	var c care.Case
	if err := unmarshal(item, &c); err != nil {
		return nil, fmt.Errorf("store: DM thread of customer %s: decode case %s: %w", customerID, id, err)
	}
	return &c, nil
}

// OptOutOfSurveys records that the customer asked, in message messageID, never
// to be surveyed again. The first opt-out is kept.
func (s *Store) OptOutOfSurveys(ctx context.Context, customerID, messageID string, at time.Time) error {
	if customerID == "" {
		return fmt.Errorf("store: opt out of surveys: customer id is required")
	}
	item := optOutKey(customerID)
	item["customer_id"] = str(customerID)
	item["message_id"] = str(messageID)
	item["opted_out_at"] = str(stamp(at))
	var mt meter
	if _, err := s.put(ctx, &mt, &dynamodb.PutItemInput{
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}, false); err != nil {
		return fmt.Errorf("store: opt customer %s out of surveys: %w", customerID, err)
	}
	return nil
}

// OptedOut reports whether the customer opted out of surveys.
func (s *Store) OptedOut(ctx context.Context, customerID string) (bool, error) {
	ok, err := s.exists(ctx, optOutKey(customerID))
	if err != nil {
		return false, fmt.Errorf("store: opt-out of customer %s: %w", customerID, err)
	}
	return ok, nil
}

// AnswerSurvey takes message m, just stored in case c, as the customer's answer
// to the survey of case surveyed, with score (1–5), provided that m arrived in a
// quiet DM thread: m reopened c, which was resolved, or opened it. Otherwise m
// belongs to a conversation in progress and is not an answer: nothing is
// written and answer is false.
//
// An answer stores csat and csat_at on the surveyed case, on condition that a
// survey was sent for it and that it has no score yet (the first answer wins:
// recorded reports whether this one did); marks the customer's survey answered;
// then puts c back as it was before m: resolved at the time it had been resolved,
// with the reopen taken back from reopens, or, when m opened c, resolved at m's
// time. The score is written first: should the last write fail, the case stays
// open for the agents, nothing is lost. c is put back on condition that no
// message was counted into it since m.
func (s *Store) AnswerSurvey(ctx context.Context, surveyed string, c *care.Case, m *care.StoredMessage, score int) (answer, recorded bool, err error) {
	if surveyed == "" || c == nil || m == nil || score < 1 || score > 5 {
		return false, false, fmt.Errorf("store: answer survey: surveyed case, case, message and a score of 1 to 5 are required")
	}
	item, err := s.get(ctx, caseKey(c.ID))
	if err != nil {
		return false, false, fmt.Errorf("store: answer survey of case %s: get case %s: %w", surveyed, c.ID, err)
	}
	if item == nil {
		return false, false, nil
	}
	var rec caseRecord
	if err := unmarshal(item, &rec); err != nil {
		return false, false, fmt.Errorf("store: answer survey of case %s: decode case %s: %w", surveyed, c.ID, err)
	}
	if _, ok := answerContext(&rec, &m.Message); !ok {
		return false, false, nil
	}
	at := m.CreatedAt.UTC()

	e := newExpr()
	e.set("csat", num(int64(score)))
	e.set("csat_at", str(stamp(at)))
	e.set("updated_at", str(stamp(s.now())))
	cond := fmt.Sprintf("attribute_exists(%s) AND attribute_not_exists(%s)", e.name("survey_sent_at"), e.name("csat"))
	var mt meter
	after, err := s.update(ctx, &mt, e.input(caseKey(surveyed), cond), nil, false)
	if err != nil {
		return true, false, fmt.Errorf("store: record the survey answer of case %s: %w", surveyed, err)
	}
	recorded = after != nil

	e = newExpr()
	e.set("answered_at", str(stamp(at)))
	e.set("answer_id", str(m.ID))
	cond = fmt.Sprintf("%s = %s AND attribute_not_exists(%s)", e.name("case_id"), e.value(str(surveyed)), e.name("answered_at"))
	if _, err := s.update(ctx, &mt, e.input(surveyKey(m.AuthorID), cond), nil, false); err != nil {
		return true, recorded, fmt.Errorf("store: mark the survey of case %s answered: %w", surveyed, err)
	}

	_, err = s.changeCase(ctx, c.ID, func(rec *caseRecord, e *expr) (string, bool) {
		resolvedAt, ok := answerContext(rec, &m.Message)
		if !ok {
			return "", false // another message arrived meanwhile: the case is the agents'
		}
		e.set("status", str(string(care.Resolved)))
		e.set("resolved_at", str(stamp(resolvedAt)))
		e.set("waiting_since", str(stamp(resolvedAt)))
		e.set(KeyGSI1PK, str(queuePK(care.Resolved)))
		e.set(KeyGSI1SK, str(queueSK(rec.Priority, resolvedAt, rec.ID)))
		if rec.ReopenedFrom != nil {
			e.remove("reopened_from")
			e.add("reopens", -1)
		}
		return " AND " + e.name("last_counted") + " = " + e.value(str(m.ID)), true
	})
	if err != nil {
		return true, recorded, fmt.Errorf("store: put case %s back after the survey answer %s: %w", c.ID, m.ID, err)
	}
	return true, recorded, nil
}

// answerContext reports whether m, the last message counted into case rec,
// changed it from quiet to open: it reopened the resolved case, or opened it. It
// returns when the case is to be resolved to put it back.
func answerContext(rec *caseRecord, m *care.Message) (time.Time, bool) {
	if rec.Status != care.Open || rec.LastCounted != m.ID {
		return time.Time{}, false
	}
	if rec.ReopenedFrom != nil {
		return rec.ReopenedFrom.UTC(), true
	}
	if rec.ID == newCaseID(m) && rec.MessagesIn == 1 && rec.MessagesOut == 0 {
		return m.CreatedAt.UTC(), true
	}
	return time.Time{}, false
}
