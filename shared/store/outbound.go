package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/pajarito-care/pajarito/shared/care"
)

// AppendOutbound stores a message the brand sent through Pajarito (the reply
// sender's post or DM) in case caseID, which must exist (an error wrapping
// ErrNotFound otherwise). It is Append for a message whose case is known: it
// claims the message's X id for the case (the claim item, so that the copy X
// delivers back through the webhook is a duplicate), counts it into the case
// (messages_out, last_outbound_at, first_response_at, open → pending) and puts the
// message item, in the order and with the guards of Append (see the package doc).
//
// When the X id is claimed already (the webhook's copy arrived first, possibly
// threaded into another case), nothing new is written: the result is Duplicate,
// or InFlight while that delivery is storing it. delivery identifies this
// delivery (the sender passes one per reply request, so that its redeliveries
// complete a crashed append).
func (s *Store) AppendOutbound(ctx context.Context, caseID string, env *care.Envelope, delivery string) (AppendResult, error) {
	if env == nil || env.Kind != care.KindMessage || env.Message == nil {
		return AppendResult{}, errors.New("store: append outbound: the envelope carries no message")
	}
	m := env.Message
	if err := m.Validate(); err != nil {
		return AppendResult{}, fmt.Errorf("store: append outbound: %w", err)
	}
	if m.Direction != care.Outbound {
		return AppendResult{}, fmt.Errorf("store: append outbound: message %s is %q, not %q", m.ID, m.Direction, care.Outbound)
	}
	if caseID == "" {
		return AppendResult{}, fmt.Errorf("store: append outbound: message %s has no case id", m.ID)
	}
	a := &appender{s: s, env: env, m: m, delivery: delivery, now: s.now()}
	res, err := a.run(ctx, a.caseOf(caseID))
	res.WriteUnits = a.meter.units
	if err != nil {
		return res, fmt.Errorf("store: append outbound %s message %s to case %s: %w", m.Channel, m.ID, caseID, err)
	}
	return res, nil
}

// caseOf returns the resolver of a message whose case is known: caseID, which
// must exist.
func (a *appender) caseOf(caseID string) func(context.Context) (string, string, caseState, error) {
	return func(ctx context.Context) (string, string, caseState, error) {
		item, err := a.s.get(ctx, caseKey(caseID))
		if err != nil {
			return "", "", caseState{}, fmt.Errorf("get case: %w", err)
		}
		if item == nil {
			return "", "", caseState{}, fmt.Errorf("case %s: %w", caseID, ErrNotFound)
		}
		return caseID, stringAttr(item, "thread_key"), caseState{item: item, read: true}, nil
	}
}
