package agentapi

import (
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/pajarito-care/pajarito/shared/httpjson"
	"github.com/pajarito-care/pajarito/shared/store"
)

// Bounds of GET /v1/quarantine.
const (
	// DefaultQuarantineLimit is how many records GET /v1/quarantine lists without
	// a limit; MaxPageSize is the largest limit.
	DefaultQuarantineLimit = store.DefaultListLimit
	// MaxQuarantineBodyShown is how many characters of a quarantined body the API
	// shows; the store keeps up to store.MaxQuarantineBody bytes.
	MaxQuarantineBodyShown = 2000
)

// QuarantineList is the body of GET /v1/quarantine.
type QuarantineList struct {
	// Quarantined are the records, newest first by when SQS accepted the message
	// (SentAt).
	Quarantined []QuarantinedDelivery `json:"quarantined"`
	Count       int                   `json:"count"`
}

// QuarantinedDelivery is a queue message the processor could not process: the
// store's record with the start of its body.
type QuarantinedDelivery struct {
	store.Quarantined
	// Body is the first MaxQuarantineBodyShown characters of the message body (a
	// normalised queue message). Bytes that are not UTF-8 show as U+FFFD.
	Body string `json:"body"`
	// BodyCut is set when Body is shorter than the stored body (the store's own
	// Truncated says the stored body is shorter than the message was).
	BodyCut bool `json:"body_cut"`
}

// listQuarantine lists the quarantined deliveries, so that an operator sees what
// the processor refused without reading the table by hand.
func (a *API) listQuarantine(w http.ResponseWriter, r *http.Request) {
	q, ok := query(w, r, "limit")
	if !ok {
		return
	}
	limit := DefaultQuarantineLimit
	if s, ok := q["limit"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPageSize {
			badRequest(w, "bad_limit", "limit must be a whole number from 1 to %d", MaxPageSize)
			return
		}
		limit = n
	}
	qs, err := a.Store.ListQuarantine(r.Context(), limit)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	out := make([]QuarantinedDelivery, 0, len(qs))
	for _, rec := range qs {
		body, cut := cutBody(rec.Body, MaxQuarantineBodyShown)
		rec.Body = ""
		out = append(out, QuarantinedDelivery{Quarantined: rec, Body: body, BodyCut: cut})
	}
	httpjson.Write(w, http.StatusOK, QuarantineList{Quarantined: out, Count: len(out)})
}

// cutBody returns the first max characters of s (a byte that is not UTF-8 counts
// as one), and whether it cut any.
func cutBody(s string, max int) (string, bool) {
	if len(s) <= max {
		return s, false
	}
	n := 0
	for i := 0; i < len(s); {
		if n == max {
			return s[:i], true
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return s, false
}
