package agentapi

import (
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/httpjson"
	"github.com/pajarito-care/pajarito/shared/store"
)

// The page of GET /v1/customers/{id}/cases: DefaultCustomerCases cases unless
// the limit asks for 1 to MaxCustomerCases.
const (
	DefaultCustomerCases = 20
	MaxCustomerCases     = 50
)

// CustomerCaseList is the body of GET /v1/customers/{id}/cases.
type CustomerCaseList struct {
	// Cases are the customer's cases opened within store.CustomerCaseRetention,
	// newest first, at most the limit (fewer when some were deleted).
	Cases []care.CaseSummary `json:"cases"`
}

// listCustomerCases answers the customer's other cases, which the console shows
// beside a case: the ids of the customer's cases (one Query), the newest limit
// of them but exclude, then each case item (at most limit reads).
func (a *API) listCustomerCases(w http.ResponseWriter, r *http.Request) {
	customer := r.PathValue("id")
	if !care.IsID(customer) {
		badRequest(w, "bad_customer", "customer id %q is not an X user id (1 to 20 decimal digits)", customer)
		return
	}
	q, ok := query(w, r, "limit", "exclude")
	if !ok {
		return
	}
	limit := DefaultCustomerCases
	if s, ok := q["limit"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxCustomerCases {
			badRequest(w, "bad_limit", "limit must be a whole number from 1 to %d", MaxCustomerCases)
			return
		}
		limit = n
	}
	ids, err := a.Store.CustomerCases(r.Context(), customer, a.now().Add(-store.CustomerCaseRetention))
	if err != nil {
		a.internal(w, r, err)
		return
	}
	// ids are oldest first: walk them from the end. exclude is only compared
	// with the ids, so any value is harmless; one that is not the customer's
	// leaves nothing out.
	exclude := q["exclude"]
	picked := make([]string, 0, min(limit, len(ids)))
	for i := len(ids) - 1; i >= 0 && len(picked) < limit; i-- {
		if id := ids[i]; id != "" && id != exclude && !slices.Contains(picked, id) {
			picked = append(picked, id)
		}
	}
	out := make([]care.CaseSummary, 0, len(picked))
	for _, id := range picked {
		c, err := a.Store.GetCaseItem(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted; the customer's record of it outlives it
		}
		if err != nil {
			a.internal(w, r, err)
			return
		}
		out = append(out, summary(c))
	}
	httpjson.Write(w, http.StatusOK, CustomerCaseList{Cases: out})
}

// summary returns what the queue shows of c (the fields of care.CaseSummary).
func summary(c *care.Case) care.CaseSummary {
	return care.CaseSummary{
		ID:             c.ID,
		Channel:        c.Channel,
		Status:         c.Status,
		ThreadKey:      c.ThreadKey,
		CustomerID:     c.CustomerID,
		CustomerHandle: c.CustomerHandle,
		Subject:        c.Subject,
		Lang:           c.Lang,
		Priority:       c.Priority,
		Department:     c.Department,
		CreatedAt:      c.CreatedAt,
		WaitingSince:   c.WaitingSince,
		Summoned:       c.Summoned,
		Intent:         c.Intent,
		CrisisTopic:    c.CrisisTopic,
		Assignee:       c.Assignee,
		AssigneeName:   c.AssigneeName,
	}
}
