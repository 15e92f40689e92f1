package store

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pajarito-care/pajarito/shared/care"
)

// Agents' profiles live in one partition, so that one Query lists the team (a
// care team is tens of people, not thousands):
//
//	item       PK                   SK                        GSI1PK      GSI1SK                              attributes
//	agent      AGENTS               <agent id>                -           -                                   care.AgentProfile
//
// A profile is created, on condition that it does not exist, the first time an
// agent is seen (EnsureAgent), and updated in place by its agent (PutAgent), which
// keeps created_at.

const agentsPK = "AGENTS"

// MaxAgentIDLength is the longest agent id (a JWT subject) a profile may have.
const MaxAgentIDLength = 256

func agentKey(id string) map[string]types.AttributeValue { return key(agentsPK, id) }

// checkAgentID reports an agent id that cannot key a profile.
func checkAgentID(id string) error {
	if id == "" || len(id) > MaxAgentIDLength || strings.ContainsFunc(id, unicode.IsControl) {
		return fmt.Errorf("agent id %q is not 1 to %d printable bytes", id, MaxAgentIDLength)
	}
	return nil
}

// GetAgent returns an agent's profile; an error wrapping ErrNotFound when the agent
// has none.
func (s *Store) GetAgent(ctx context.Context, id string) (*care.AgentProfile, error) {
	if err := checkAgentID(id); err != nil {
		return nil, fmt.Errorf("store: get agent: %w", err)
	}
	item, err := s.get(ctx, agentKey(id))
	if err != nil {
		return nil, fmt.Errorf("store: get agent %s: %w", id, err)
	}
	if item == nil {
		return nil, fmt.Errorf("store: get agent %s: %w", id, ErrNotFound)
	}
	var p care.AgentProfile
	if err := unmarshal(item, &p); err != nil {
		return nil, fmt.Errorf("store: get agent %s: decode: %w", id, err)
	}
	return &p, nil
}

// EnsureAgent stores p as a new profile unless its agent has one, and returns the
// profile stored: p (with its times set) or the existing one.
func (s *Store) EnsureAgent(ctx context.Context, p care.AgentProfile) (*care.AgentProfile, error) {
	if err := checkAgentID(p.ID); err != nil {
		return nil, fmt.Errorf("store: ensure agent: %w", err)
	}
	now := s.now()
	p.CreatedAt, p.UpdatedAt = now, now
	item, err := marshal(p)
	if err != nil {
		return nil, fmt.Errorf("store: ensure agent %s: %w", p.ID, err)
	}
	for k, v := range agentKey(p.ID) {
		item[k] = v
	}
	var mt meter
	created, err := s.put(ctx, &mt, &dynamodb.PutItemInput{Item: item, ConditionExpression: aws.String("attribute_not_exists(" + KeyPK + ")")}, false)
	if err != nil {
		return nil, fmt.Errorf("store: ensure agent %s: %w", p.ID, err)
	}
	if created {
		return &p, nil
	}
	return s.GetAgent(ctx, p.ID)
}

// PutAgent stores an agent's profile: its display name, signature, languages and
// department replace the stored ones (empty ones are removed); created_at is kept
// (set now for a new profile). It returns the profile as stored.
func (s *Store) PutAgent(ctx context.Context, p care.AgentProfile) (*care.AgentProfile, error) {
	if err := checkAgentID(p.ID); err != nil {
		return nil, fmt.Errorf("store: put agent: %w", err)
	}
	if strings.TrimSpace(p.DisplayName) == "" {
		return nil, fmt.Errorf("store: put agent %s: the display name is empty", p.ID)
	}
	now := stamp(s.now())
	e := newExpr()
	e.set("id", str(p.ID))
	e.set("display_name", str(p.DisplayName))
	e.set("updated_at", str(now))
	e.sets = append(e.sets, fmt.Sprintf("%[1]s = if_not_exists(%[1]s, %[2]s)", e.name("created_at"), e.value(str(now))))
	for _, f := range []struct{ attr, value string }{{"signature", p.Signature}, {"department", p.Department}} {
		if f.value == "" {
			e.remove(f.attr)
		} else {
			e.set(f.attr, str(f.value))
		}
	}
	if len(p.Languages) == 0 {
		e.remove("languages")
	} else {
		langs := make([]types.AttributeValue, len(p.Languages))
		for i, l := range p.Languages {
			langs[i] = str(l)
		}
		e.set("languages", &types.AttributeValueMemberL{Value: langs})
	}
	var mt meter
	after, err := s.update(ctx, &mt, e.input(agentKey(p.ID), ""), nil, false)
	if err != nil {
		return nil, fmt.Errorf("store: put agent %s: %w", p.ID, err)
	}
	var out care.AgentProfile
	if err := unmarshal(after, &out); err != nil {
		return nil, fmt.Errorf("store: put agent %s: decode: %w", p.ID, err)
	}
	return &out, nil
}

// ListAgents returns every agent's profile, by id.
func (s *Store) ListAgents(ctx context.Context) ([]care.AgentProfile, error) {
	var out []care.AgentProfile
	err := s.queryPartition(ctx, agentsPK, true, func(it map[string]types.AttributeValue) (bool, error) {
		var p care.AgentProfile
		if err := unmarshal(it, &p); err != nil {
			return false, fmt.Errorf("decode %s: %w", stringAttr(it, KeySK), err)
		}
		out = append(out, p)
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: list agents: %w", err)
	}
	return out, nil
}

// queryPartition reads the items of partition pk in sort key order (forward) or
// reverse, strongly consistent, page after page, handing each to each until it
// returns false.
func (s *Store) queryPartition(ctx context.Context, pk string, forward bool, each func(map[string]types.AttributeValue) (bool, error)) error {
	var start map[string]types.AttributeValue
	for {
		page, err := s.Client.Query(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(s.Table),
			KeyConditionExpression:    aws.String("#pk = :pk"),
			ExpressionAttributeNames:  map[string]string{"#pk": KeyPK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
			ConsistentRead:            aws.Bool(true),
			ScanIndexForward:          aws.Bool(forward),
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return err
		}
		for _, it := range page.Items {
			more, err := each(it)
			if err != nil || !more {
				return err
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return nil
		}
		start = page.LastEvaluatedKey
	}
}
