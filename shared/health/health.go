// Package health checks a Pajarito deployment end to end for its operator, so
// that nothing fails silently: the X credentials, the webhook X delivers to and
// its subscriptions, the listener, the month's X spend, the queues and their
// dead letters, quarantined deliveries, what X delivered that Pajarito does not
// handle (events of other types, X Chat messages it cannot read), replies that
// failed or may not have been sent, open crises and, in AWS, the alarms.
//
// Each check ends ok, warning or failure; a warning or failure says what to do,
// naming the setting or the command. Messages come in English and Spanish. The
// agent API serves the report at GET /v1/health (the checks then run with the
// function's own permissions) and pajarito doctor prints it. Every check runs,
// concurrently, each bounded by CheckTimeout: one that cannot answer is a failure
// of its own, never the end of the report.
package health

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

// Status is the outcome of a check, or of a report: its worst check's.
type Status string

const (
	OK      Status = "ok"
	Warning Status = "warning"
	Failure Status = "failure"
)

func (s Status) rank() int { return slices.Index([]Status{OK, Warning, Failure}, s) }

// Names of the checks, in report order.
const (
	CheckXCredentials = "x_credentials"
	CheckAccount      = "x_authorization"
	CheckWebhook      = "webhook"
	CheckCRC          = "webhook_crc"
	CheckSubscription = "subscriptions"
	CheckListener     = "listener"
	CheckBudget       = "x_budget"
	CheckQueues       = "queues"
	CheckDeadLetters  = "dead_letters"
	CheckQuarantine   = "quarantine"
	CheckUnhandled    = "unhandled"
	CheckReplies      = "replies"
	CheckCrises       = "crises"
	CheckAlarms       = "alarms"
)

// Check is the outcome of one check.
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	// Summary says what the check found; Fix, for a warning or a failure, what to
	// do. Both by language ("en", "es").
	Summary map[string]string `json:"summary"`
	Fix     map[string]string `json:"fix,omitempty"`
}

// Report is the outcome of every check.
type Report struct {
	Status    Status    `json:"status"`
	CheckedAt time.Time `json:"checked_at"`
	Checks    []Check   `json:"checks"`
}

// text is a message in English and Spanish.
func text(en, es string) map[string]string { return map[string]string{"en": en, "es": es} }

// X is what the checks ask X (*xapi.Client implements it).
type X interface {
	Me(ctx context.Context) (*xapi.User, error)
	Webhooks(ctx context.Context) ([]xapi.Webhook, error)
	ActivitySubscriptions(ctx context.Context) ([]xapi.ActivitySubscription, error)
	AccountActivitySubscribers(ctx context.Context, webhookID string) ([]string, error)
}

// Store is what the checks read of the table (*store.Store implements it).
type Store interface {
	GetAccount(ctx context.Context, userID string) (*store.Account, error)
	GetCheckpoint(ctx context.Context, source string) (*store.Checkpoint, error)
	GetBackoff(ctx context.Context, endpoint string) (*store.Backoff, error)
	GetSpend(ctx context.Context, month string) (*store.MonthSpend, error)
	ListQuarantine(ctx context.Context, limit int) ([]store.Quarantined, error)
	ListReplyIssues(ctx context.Context, since time.Time, limit int) ([]store.ReplyIssue, error)
	ListCrises(ctx context.Context) ([]care.CrisisState, error)
	Signals(ctx context.Context, signal string, from, to time.Time) ([]store.Signal, error)
}

// QueueDepth is what a queue holds.
type QueueDepth struct {
	// Name is the queue's role: inbound, outbound, or a dead-letter queue's
	// (DeadLetter set) source queue.
	Name       string
	DeadLetter bool
	// Messages are waiting to be received; InFlight were received and are not
	// done (SQS's approximate counts).
	Messages, InFlight int
}

// Thresholds of the checks.
const (
	// CheckTimeout bounds each check.
	CheckTimeout = 10 * time.Second
	// BudgetWarning is the share of the month's X budget past which the budget
	// check warns.
	BudgetWarning = 0.8
	// QueueWarning is the backlog of an inbound or outbound queue past which the
	// queue check warns.
	QueueWarning = 500
	// ReplyIssueWindow is how far back the replies check looks.
	ReplyIssueWindow = 7 * 24 * time.Hour
	// SignalDays is how many UTC days, today's included, the unhandled check
	// looks back.
	SignalDays = 7
	// StaleRuns is how many poll intervals without a completed read of a source
	// make the listener check warn.
	StaleRuns = 3
)

// Checker runs the checks. Store and Config are required; a nil X makes the X
// checks fail with XError (the credentials could not be loaded), a nil Queues or
// Alarms leaves its check out.
type Checker struct {
	Config *config.Config
	Store  Store
	// X talks to X as the brand; XError says why there is none.
	X      X
	XError error
	// WebhookURL is the URL X should deliver to (the stack's /webhooks/x).
	WebhookURL string
	// ConsumerSecret checks the webhook's CRC answer; nil leaves that check out.
	ConsumerSecret []byte
	// HTTPClient makes the CRC request; nil means a client with CheckTimeout.
	HTTPClient *http.Client
	// Queues returns the depth of the inbound and outbound queues and of their
	// dead-letter queues.
	Queues func(ctx context.Context) ([]QueueDepth, error)
	// Alarms returns the names of the stack's CloudWatch alarms in ALARM.
	Alarms func(ctx context.Context) ([]string, error)
	// OAuth2 gives the brand's OAuth 2.0 token (X Chat); nil leaves that check
	// out.
	OAuth2 OAuth2
	// XChatKeys reports the brand's X Chat keys, for the same check; nil
	// leaves them out of it.
	XChatKeys XChatKeys
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// Per run, what several checks read is read once: the app's webhooks (the
	// webhook and subscriptions checks: X's limit on GET /2/webhooks is low), the
	// queues' depth (queues, dead letters) and the month's X spend (listener,
	// budget).
	webhooks func() ([]xapi.Webhook, error)
	depths   func() ([]QueueDepth, error)
	spend    func() (*store.MonthSpend, error)
}

// check is one check's function.
type check struct {
	name string
	run  func(c *Checker, ctx context.Context, now time.Time) Check
}

// checks are every check, in report order.
var checks = []check{
	{CheckXCredentials, (*Checker).credentials},
	{CheckAccount, (*Checker).account},
	{CheckXChat, (*Checker).xchat},
	{CheckWebhook, (*Checker).webhook},
	{CheckCRC, (*Checker).crc},
	{CheckSubscription, (*Checker).subscriptions},
	{CheckListener, (*Checker).listener},
	{CheckBudget, (*Checker).budget},
	{CheckQueues, (*Checker).queues},
	{CheckDeadLetters, (*Checker).deadLetters},
	{CheckQuarantine, (*Checker).quarantine},
	{CheckUnhandled, (*Checker).unhandled},
	{CheckReplies, (*Checker).replies},
	{CheckCrises, (*Checker).crises},
	{CheckAlarms, (*Checker).alarms},
}

// skipped is the result of a check left out: it is not reported.
var skipped = Check{}

// Run runs every check and returns the report.
func (c *Checker) Run(ctx context.Context) Report {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	at := now().UTC()
	c = c.forRun(ctx, at)
	results := make([]Check, len(checks))
	var wg sync.WaitGroup
	for i, ch := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(ctx, CheckTimeout)
			defer cancel()
			r := ch.run(c, ctx, at)
			if r.Name == "" && r.Status != "" {
				r.Name = ch.name
			}
			results[i] = r
		}()
	}
	wg.Wait()
	rep := Report{Status: OK, CheckedAt: at}
	for _, r := range results {
		if r.Status == "" {
			continue
		}
		rep.Checks = append(rep.Checks, r)
		if r.Status.rank() > rep.Status.rank() {
			rep.Status = r.Status
		}
	}
	return rep
}

// forRun returns a copy of c for one run, which reads what several checks need
// once (at start at now).
func (c *Checker) forRun(ctx context.Context, now time.Time) *Checker {
	r := *c
	if c.X != nil {
		r.webhooks = once(ctx, c.X.Webhooks)
	}
	if c.Queues != nil {
		r.depths = once(ctx, c.Queues)
	}
	r.spend = once(ctx, func(ctx context.Context) (*store.MonthSpend, error) {
		return c.Store.GetSpend(ctx, store.SpendMonth(now))
	})
	return &r
}

// once returns read as called once for the run of ctx, within CheckTimeout, by
// whichever check asks first.
func once[T any](ctx context.Context, read func(context.Context) (T, error)) func() (T, error) {
	return sync.OnceValues(func() (T, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), CheckTimeout)
		defer cancel()
		return read(ctx)
	})
}

func ok(name string, summary map[string]string) Check {
	return Check{Name: name, Status: OK, Summary: summary}
}

func warn(name string, summary, fix map[string]string) Check {
	return Check{Name: name, Status: Warning, Summary: summary, Fix: fix}
}

func fail(name string, summary, fix map[string]string) Check {
	return Check{Name: name, Status: Failure, Summary: summary, Fix: fix}
}

// broken is the failure of a check that could not read what it checks.
func broken(name, what string, err error) Check {
	return fail(name,
		text(fmt.Sprintf("could not read %s: %v", what, err), fmt.Sprintf("no se pudo leer %s: %v", what, err)),
		text("check the function's permissions and the table or service named in the error, then run the check again",
			"revise los permisos de la función y la tabla o el servicio que nombra el error, y repita la comprobación"))
}

// xUnavailable is the failure of an X check without an X client.
func (c *Checker) xUnavailable(name string) Check {
	reason := "the X credentials are not configured"
	if c.XError != nil {
		reason = c.XError.Error()
	}
	return fail(name,
		text("cannot ask X: "+reason, "no se puede consultar a X: "+reason),
		text("set X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET and X_BEARER_TOKEN (or the stack's secret named by PAJARITO_X_SECRET_ID)",
			"configure X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET y X_BEARER_TOKEN (o el secreto del stack que nombra PAJARITO_X_SECRET_ID)"))
}

// xFailed is the outcome of an X call that failed: a 401 names the credentials,
// a 429 is a warning (X is fine, the app is busy).
func xFailed(name, doing string, err error) Check {
	var rl *xapi.RateLimitedError
	if errors.As(err, &rl) {
		return warn(name,
			text(fmt.Sprintf("X's rate limit stopped %s: %v", doing, err), fmt.Sprintf("el límite de X impidió %s: %v", doing, err)),
			text("run the check again after X's reset", "repita la comprobación cuando X restablezca el límite"))
	}
	if errors.Is(err, xapi.ErrUnauthorized) {
		return fail(name,
			text(fmt.Sprintf("X rejected the credentials while %s: %v", doing, err), fmt.Sprintf("X rechazó las credenciales al %s: %v", doing, err)),
			text("regenerate the keys and tokens in the X developer portal (signed in as the brand account) and store them in X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET and X_BEARER_TOKEN, or in the stack's secret (PAJARITO_X_SECRET_ID)",
				"regenere las claves y los tokens en el portal de desarrolladores de X (con la sesión de la cuenta de la marca) y guárdelos en X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET y X_BEARER_TOKEN, o en el secreto del stack (PAJARITO_X_SECRET_ID)"))
	}
	if errors.Is(err, xapi.ErrNoBearerToken) {
		return fail(name,
			text(fmt.Sprintf("cannot check %s: %v", doing, err), fmt.Sprintf("no se puede comprobar %s: %v", doing, err)),
			text("set X_BEARER_TOKEN (the app's bearer token, from the X developer portal)", "configure X_BEARER_TOKEN (el bearer token de la app, del portal de desarrolladores de X)"))
	}
	return fail(name,
		text(fmt.Sprintf("X did not answer %s: %v", doing, err), fmt.Sprintf("X no respondió al %s: %v", doing, err)),
		text("check X's API status page and the network from where the check runs, then run it again",
			"revise la página de estado de la API de X y la red desde donde corre la comprobación, y repítala"))
}
