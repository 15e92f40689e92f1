package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pajarito-care/pajarito/shared/care"
)

// The audit trail: every action a person or the system takes on a case or on
// the team, one item each, put once (attribute_not_exists) and never updated.
//
//	item    PK                        SK               GSI1PK            GSI1SK           attributes
//	audit   AUDIT#<case id|TEAM>      <at>|<entry id>  AUDITBY#<actor>   <at>|<entry id>  care.AuditEntry
//
// A case's trail is its partition, oldest first (CaseAudit); a person's is the
// queue index's AUDITBY partition, newest first (PersonAudit), each entry read
// from the table.

// auditSeq orders the entries of this process; it starts at the process's
// start time, so that it goes on increasing after a restart.
var auditSeq atomic.Uint64

func init() { auditSeq.Store(uint64(time.Now().UnixNano())) }

// auditTeam is the partition of the actions on the team (no case).
const auditTeam = "TEAM"

func auditPK(caseID string) string {
	if caseID == "" {
		caseID = auditTeam
	}
	return "AUDIT#" + caseID
}

// PutAudit keeps an entry of the audit trail; its ID and At are set when
// empty. An entry is never written twice.
func (s *Store) PutAudit(ctx context.Context, e care.AuditEntry) (care.AuditEntry, error) {
	if e.Actor == "" || e.Action == "" {
		return e, errors.New("store: put audit entry: it needs an actor and an action")
	}
	if e.ID == "" {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return e, fmt.Errorf("store: put audit entry: %w", err)
		}
		// A counter first, so that the entries a process writes at the same
		// instant keep their order; random bytes after, so that two processes
		// never write the same id.
		e.ID = fmt.Sprintf("%016x", auditSeq.Add(1)) + hex.EncodeToString(b[:])
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	e.At = e.At.UTC()
	item, err := marshal(e)
	if err != nil {
		return e, fmt.Errorf("store: put audit entry: %w", err)
	}
	sk := stamp(e.At) + "|" + e.ID
	for k, v := range key(auditPK(e.CaseID), sk) {
		item[k] = v
	}
	item[KeyGSI1PK], item[KeyGSI1SK] = str("AUDITBY#"+e.Actor), str(sk)
	var mt meter
	ok, err := s.put(ctx, &mt, &dynamodb.PutItemInput{Item: item, ConditionExpression: aws.String("attribute_not_exists(" + KeyPK + ")")}, true)
	if err != nil {
		return e, fmt.Errorf("store: put audit entry %s: %w", e.Action, err)
	}
	if !ok {
		return e, fmt.Errorf("store: put audit entry %s: entry %s: %w", e.Action, e.ID, ErrAuditExists)
	}
	return e, nil
}

// ErrAuditExists is wrapped by PutAudit's error for an entry kept already
// (same case, time and id): an entry whose id is made from what it records
// (a reply's key, say) is kept once however often it is written.
var ErrAuditExists = errors.New("the entry exists already")

// CaseAudit returns the trail of a case ("" for the team's), oldest first.
func (s *Store) CaseAudit(ctx context.Context, caseID string) ([]care.AuditEntry, error) {
	var out []care.AuditEntry
	err := s.queryPartition(ctx, auditPK(caseID), true, func(it map[string]types.AttributeValue) (bool, error) {
		var e care.AuditEntry
		if err := unmarshal(it, &e); err != nil {
			return false, fmt.Errorf("decode: %w", err)
		}
		out = append(out, e)
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: audit of %s: %w", auditPK(caseID), err)
	}
	return out, nil
}

// PersonAudit returns the latest entries of what actor did, newest first, at
// most limit.
func (s *Store) PersonAudit(ctx context.Context, actor string, limit int) ([]care.AuditEntry, error) {
	e := newExpr()
	out, err := s.Client.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		IndexName:                 aws.String(IndexQueue),
		KeyConditionExpression:    aws.String(e.name(KeyGSI1PK) + " = " + e.value(str("AUDITBY#"+actor))),
		ExpressionAttributeNames:  e.names,
		ExpressionAttributeValues: e.values,
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, fmt.Errorf("store: audit of %s: %w", actor, err)
	}
	entries := make([]care.AuditEntry, 0, len(out.Items))
	for _, it := range out.Items {
		full, err := s.get(ctx, key(stringAttr(it, KeyPK), stringAttr(it, KeySK)))
		if err != nil {
			return nil, fmt.Errorf("store: audit of %s: %w", actor, err)
		}
		if full == nil || !strings.HasPrefix(stringAttr(it, KeyPK), "AUDIT#") {
			continue
		}
		var a care.AuditEntry
		if err := unmarshal(full, &a); err != nil {
			return nil, fmt.Errorf("store: audit of %s: decode: %w", actor, err)
		}
		entries = append(entries, a)
	}
	return entries, nil
}
