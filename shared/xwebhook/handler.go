package xwebhook

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/httpjson"
)

// DefaultMaxBody is the largest webhook body Handler reads when MaxBody is 0.
const DefaultMaxBody = 1 << 20

// Enqueuer puts envelopes on the inbound queue. Enqueue returns nil only when every
// envelope is durably queued.
type Enqueuer interface {
	Enqueue(ctx context.Context, envs []care.Envelope) error
}

// EnqueuerFunc adapts a function to Enqueuer.
type EnqueuerFunc func(ctx context.Context, envs []care.Envelope) error

// Enqueue calls f.
func (f EnqueuerFunc) Enqueue(ctx context.Context, envs []care.Envelope) error { return f(ctx, envs) }

// Handler serves GET (CRC) and POST (events) on the webhook route; the caller
// mounts it at /webhooks/x.
//
// A POST is answered 200 only after its envelopes are queued, so that X retries
// whatever Pajarito did not keep: 401 for a missing or wrong signature, 413 for a
// body over MaxBody, 400 for a signed body that is not a known JSON shape (it is
// queued as one care.KindUnparsed envelope first), 503 when the queue fails.
type Handler struct {
	Secret  []byte // X consumer secret (HMAC key)
	Brand   care.Brand
	Queue   Enqueuer
	MaxBody int64            // default DefaultMaxBody
	Now     func() time.Time // default time.Now
	Log     *slog.Logger     // default slog.Default()

	macs macPool // HMACs of Secret, reused
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		h.serveCRC(w, r)
	case http.MethodPost:
		h.serveEvents(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use GET for the CRC check and POST for events")
	}
}

func (h *Handler) serveCRC(w http.ResponseWriter, r *http.Request) {
	log := h.logger()
	if len(h.Secret) == 0 {
		log.ErrorContext(r.Context(), "webhook CRC refused: consumer secret is not configured")
		writeError(w, http.StatusInternalServerError, "not_configured", "webhook secret is not configured")
		return
	}
	token := r.URL.Query().Get("crc_token")
	if token == "" {
		log.WarnContext(r.Context(), "webhook CRC refused: no crc_token")
		writeError(w, http.StatusBadRequest, "missing_crc_token", "query parameter crc_token is required")
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]string{"response_token": CRCResponse(h.Secret, token)})
	log.InfoContext(r.Context(), "webhook CRC answered")
}

func (h *Handler) serveEvents(w http.ResponseWriter, r *http.Request) {
	ctx, log := r.Context(), h.logger()
	start := time.Now()
	if len(h.Secret) == 0 || h.Queue == nil || !care.IsID(h.Brand.ID) {
		log.ErrorContext(ctx, "webhook POST refused: handler is missing its secret, queue or brand id")
		writeError(w, http.StatusInternalServerError, "not_configured", "webhook is not configured")
		return
	}

	limit := h.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	body, err := readBody(r, limit)
	if err != nil {
		log.WarnContext(ctx, "webhook body could not be read", slog.Any("error", err))
		writeError(w, http.StatusBadRequest, "unreadable_body", "request body could not be read")
		return
	}
	if int64(len(body)) > limit {
		log.WarnContext(ctx, "webhook body too large", slog.Int64("limit_bytes", limit))
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "request body is larger than the webhook accepts")
		return
	}

	if err := h.macs.verify(h.Secret, body, r.Header.Get(signatureHeaderKey)); err != nil {
		code := "bad_signature"
		if errors.Is(err, ErrNoSignature) {
			code = "missing_signature"
		}
		// Never log the secret or the signature itself: only why it was refused.
		log.WarnContext(ctx, "webhook signature rejected",
			slog.String("reason", err.Error()), slog.Int("body_bytes", len(body)),
			slog.String("remote_addr", r.RemoteAddr))
		writeError(w, http.StatusUnauthorized, code, "signature is missing or does not match")
		return
	}

	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	receivedAt := now().UTC()
	res, err := Parse(body, h.Brand, receivedAt)
	if err != nil {
		// Signed by X but unreadable: quarantine the body rather than lose it.
		env := UnparsedEnvelope(guessSource(body), "", receivedAt, body, err)
		if qerr := h.Queue.Enqueue(ctx, []care.Envelope{env}); qerr != nil {
			log.ErrorContext(ctx, "webhook body malformed and could not be quarantined",
				slog.String("problem", err.Error()), slog.Any("error", qerr))
			writeError(w, http.StatusServiceUnavailable, "queue_unavailable", "event could not be queued; retry later")
			return
		}
		log.WarnContext(ctx, "webhook body malformed; quarantined",
			slog.String("problem", env.Problem), slog.Int("body_bytes", len(body)))
		writeError(w, http.StatusBadRequest, "malformed_body", err.Error())
		return
	}

	h.logDetails(ctx, log, res)
	if len(res.Envelopes) > 0 {
		if err := h.Queue.Enqueue(ctx, res.Envelopes); err != nil {
			log.ErrorContext(ctx, "webhook events could not be queued",
				slog.String("generation", res.Generation), slog.String("event_id", res.EventID),
				slog.Int("envelopes", len(res.Envelopes)),
				slog.Any("error", err))
			writeError(w, http.StatusServiceUnavailable, "queue_unavailable", "events could not be queued; retry later")
			return
		}
	}
	if log.Enabled(ctx, slog.LevelInfo) { // kindCounts is not free
		log.LogAttrs(ctx, slog.LevelInfo, "webhook delivery accepted",
			slog.String("generation", res.Generation),
			slog.String("event_id", res.EventID),
			slog.Any("kinds", kindCounts(res.Envelopes)),
			slog.Any("dropped", res.DropCounts),
			slog.Int("ignored", len(res.Ignored)),
			slog.Duration("took", time.Since(start)))
	}
	httpjson.Write(w, http.StatusOK, enqueuedBody{Enqueued: len(res.Envelopes)})
}

// signatureHeaderKey is SignatureHeader as net/http keys it, which Header.Get
// would otherwise work out (and allocate) for each request.
var signatureHeaderKey = http.CanonicalHeaderKey(SignatureHeader)

// enqueuedBody is the answer to an accepted delivery.
type enqueuedBody struct {
	Enqueued int `json:"enqueued"`
}

// readBody reads r's body up to limit+1 bytes (one more than allowed, to tell a
// body that is too large), in one buffer of the size the request announces.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	size := int64(512)
	if r.ContentLength > 0 && r.ContentLength <= limit {
		size = r.ContentLength + 1 // the extra byte sees EOF without growing
	}
	in := io.LimitedReader{R: r.Body, N: limit + 1}
	b := make([]byte, 0, size)
	for {
		n, err := in.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		switch {
		case err == io.EOF:
			return b, nil
		case err != nil:
			return b, err
		case len(b) == cap(b):
			b = append(b, 0)[:len(b)] // grow
		}
	}
}

// logDetails writes one line per dropped, ignored or quarantined item.
func (h *Handler) logDetails(ctx context.Context, log *slog.Logger, res *Result) {
	for _, d := range res.Dropped {
		log.LogAttrs(ctx, slog.LevelInfo, "webhook item dropped",
			slog.String("generation", res.Generation), slog.String("reason", d.Reason), slog.String("id", d.ID))
	}
	for _, what := range res.Ignored {
		log.LogAttrs(ctx, slog.LevelInfo, "webhook event ignored",
			slog.String("generation", res.Generation), slog.String("event", what))
	}
	for i := range res.Envelopes {
		if e := &res.Envelopes[i]; e.Kind == care.KindUnparsed {
			log.LogAttrs(ctx, slog.LevelWarn, "webhook item quarantined",
				slog.String("generation", res.Generation), slog.String("event_id", e.EventID),
				slog.String("problem", e.Problem))
		}
	}
}

func (h *Handler) logger() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}

func kindCounts(envs []care.Envelope) map[string]int {
	counts := make(map[string]int, 2)
	for i := range envs {
		counts[string(envs[i].Kind)]++
	}
	return counts
}

// guessSource names the generation of a body Parse could not read.
func guessSource(body []byte) care.Source {
	if bytes.Contains(body, []byte(`"for_user_id"`)) || bytes.Contains(body, []byte(`_events"`)) {
		return care.SourceAAA
	}
	return care.SourceXAA
}

// writeError writes the common error body, with message cut to 300 bytes on a rune
// boundary so that a long parse error doesn't echo a whole payload back.
func writeError(w http.ResponseWriter, status int, code, message string) {
	if len(message) > 300 {
		n := 300
		for n > 0 && !utf8.RuneStart(message[n]) {
			n--
		}
		message = message[:n] + "…"
	}
	httpjson.WriteError(w, status, code, message)
}
