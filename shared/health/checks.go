package health

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

// credentials asks X who the credentials act for: a cheap owned read.
func (c *Checker) credentials(ctx context.Context, _ time.Time) Check {
	if c.X == nil {
		return c.xUnavailable(CheckXCredentials)
	}
	me, err := c.X.Me(ctx)
	if err != nil {
		return xFailed(CheckXCredentials, "reading the brand's account (GET /2/users/me)", err)
	}
	if me.ID != c.Config.Brand.ID {
		return fail(CheckXCredentials,
			text(fmt.Sprintf("the credentials act for @%s (id %s), not for the brand %s (id %s)", me.Username, me.ID, c.brand(), c.Config.Brand.ID),
				fmt.Sprintf("las credenciales actúan como @%s (id %s), no como la marca %s (id %s)", me.Username, me.ID, c.brand(), c.Config.Brand.ID)),
			text("generate the access token in the X developer portal signed in as the brand account, or fix brand.id in pajarito.json (PAJARITO_BRAND_ID)",
				"genere el access token en el portal de desarrolladores de X con la sesión de la cuenta de la marca, o corrija brand.id en pajarito.json (PAJARITO_BRAND_ID)"))
	}
	return ok(CheckXCredentials, text(fmt.Sprintf("X accepts the credentials of @%s (id %s)", me.Username, me.ID),
		fmt.Sprintf("X acepta las credenciales de @%s (id %s)", me.Username, me.ID)))
}

func (c *Checker) brand() string {
	if h := strings.TrimPrefix(c.Config.Brand.Handle, "@"); h != "" {
		return "@" + h
	}
	return "the brand"
}

// account reads the authorisation state X's revocation events leave.
func (c *Checker) account(ctx context.Context, _ time.Time) Check {
	a, err := c.Store.GetAccount(ctx, c.Config.Brand.ID)
	if errors.Is(err, store.ErrNotFound) {
		a, err = nil, nil // X never told of a revocation
	}
	if err != nil {
		return broken(CheckAccount, "the brand's authorisation", err)
	}
	if a != nil && a.Auth == store.AuthRevoked {
		at := a.ChangedAt.UTC().Format(time.RFC3339)
		return fail(CheckAccount,
			text(fmt.Sprintf("the brand account revoked Pajarito's access on %s: X delivers nothing and refuses its replies", at),
				fmt.Sprintf("la cuenta de la marca revocó el acceso de Pajarito el %s: X no entrega nada y rechaza sus respuestas", at)),
			text("authorise the app again as the brand account, store the new access token and secret, then run pajarito webhook register --url WEBHOOK_URL",
				"vuelva a autorizar la app con la cuenta de la marca, guarde el nuevo access token y su secreto, y ejecute pajarito webhook register --url URL_DEL_WEBHOOK"))
	}
	return ok(CheckAccount, text("the brand account has not revoked Pajarito's access", "la cuenta de la marca no ha revocado el acceso de Pajarito"))
}

// registered returns the app's webhook for WebhookURL (any webhook when
// WebhookURL is not known).
func (c *Checker) registered() (*xapi.Webhook, []xapi.Webhook, error) {
	hooks, err := c.webhooks()
	if err != nil {
		return nil, nil, err
	}
	for i := range hooks {
		if c.WebhookURL == "" || sameURL(hooks[i].URL, c.WebhookURL) {
			return &hooks[i], hooks, nil
		}
	}
	return nil, hooks, nil
}

func sameURL(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "/"), strings.TrimSuffix(b, "/"))
}

func (c *Checker) registerFix() map[string]string {
	u := c.WebhookURL
	if u == "" {
		u = "WEBHOOK_URL"
	}
	return text("run pajarito webhook register --url "+u+" (it registers the URL, revalidates it and subscribes the brand)",
		"ejecute pajarito webhook register --url "+u+" (registra la URL, la vuelve a validar y suscribe a la marca)")
}

// webhook checks that X has the stack's webhook and holds it valid.
func (c *Checker) webhook(ctx context.Context, _ time.Time) Check {
	if c.X == nil {
		return c.xUnavailable(CheckWebhook)
	}
	h, all, err := c.registered()
	if err != nil {
		return xFailed(CheckWebhook, "listing the app's webhooks (GET /2/webhooks)", err)
	}
	switch {
	case h == nil:
		var urls []string
		for _, o := range all {
			urls = append(urls, o.URL)
		}
		others := "none"
		if len(urls) > 0 {
			others = strings.Join(urls, ", ")
		}
		return fail(CheckWebhook,
			text(fmt.Sprintf("X has no webhook for %s (the app's webhooks: %s): X delivers nothing", c.WebhookURL, others),
				fmt.Sprintf("X no tiene un webhook para %s (los webhooks de la app: %s): X no entrega nada", c.WebhookURL, others)),
			c.registerFix())
	case !h.Valid:
		return fail(CheckWebhook,
			text(fmt.Sprintf("X marked the webhook %s (%s) invalid after a failed CRC check: it delivers nothing until it is revalidated", h.ID, h.URL),
				fmt.Sprintf("X marcó el webhook %s (%s) como no válido tras fallar una comprobación CRC: no entrega nada hasta revalidarlo", h.ID, h.URL)),
			c.registerFix())
	}
	return ok(CheckWebhook, text(fmt.Sprintf("X holds the webhook %s (%s) valid", h.ID, h.URL), fmt.Sprintf("X tiene el webhook %s (%s) como válido", h.ID, h.URL)))
}

// crc sends the webhook URL a challenge as X does and checks the answer with the
// consumer secret.
func (c *Checker) crc(ctx context.Context, _ time.Time) Check {
	if c.WebhookURL == "" || len(c.ConsumerSecret) == 0 {
		return skipped
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: CheckTimeout}
	}
	fix := text("check that the webhook function is deployed and that X_CONSUMER_SECRET (or the stack's secret) is the app's API key secret; then run pajarito webhook register --url "+c.WebhookURL,
		"compruebe que la función del webhook está desplegada y que X_CONSUMER_SECRET (o el secreto del stack) es el API key secret de la app; luego ejecute pajarito webhook register --url "+c.WebhookURL)
	err := xwebhook.ProbeCRC(ctx, hc, c.WebhookURL, c.ConsumerSecret)
	var crc *xwebhook.CRCError
	switch {
	case err == nil:
	case !errors.As(err, &crc):
		return fail(CheckCRC, text(fmt.Sprintf("the webhook URL %q cannot be asked: %v", c.WebhookURL, err), fmt.Sprintf("no se puede consultar la URL del webhook %q: %v", c.WebhookURL, err)),
			text("fix the webhook URL", "corrija la URL del webhook"))
	case crc.Failure == xwebhook.CRCUnreachable:
		return fail(CheckCRC, text(fmt.Sprintf("the webhook did not answer the CRC check: %v", crc.Err), fmt.Sprintf("el webhook no respondió a la comprobación CRC: %v", crc.Err)), fix)
	case crc.Failure == xwebhook.CRCStatus:
		return fail(CheckCRC, text(fmt.Sprintf("the webhook answered the CRC check %d", crc.StatusCode), fmt.Sprintf("el webhook respondió %d a la comprobación CRC", crc.StatusCode)), fix)
	case crc.Failure == xwebhook.CRCNoToken:
		return fail(CheckCRC, text("the webhook's CRC answer is not JSON with a response_token", "la respuesta CRC del webhook no es JSON con response_token"), fix)
	default:
		return fail(CheckCRC, text("the webhook's CRC answer is signed with another consumer secret: X will mark it invalid", "la respuesta CRC del webhook está firmada con otro consumer secret: X lo marcará como no válido"), fix)
	}
	return ok(CheckCRC, text("the webhook answers X's CRC check correctly", "el webhook responde bien a la comprobación CRC de X"))
}

// subscriptions checks that the brand's activity reaches the webhook, through
// the X Activity API or the Account Activity API.
func (c *Checker) subscriptions(ctx context.Context, _ time.Time) Check {
	if c.X == nil {
		return c.xUnavailable(CheckSubscription)
	}
	h, _, err := c.registered()
	if err != nil {
		return xFailed(CheckSubscription, "listing the app's webhooks (GET /2/webhooks)", err)
	}
	if h == nil {
		return fail(CheckSubscription, text("no webhook: no subscription can deliver", "sin webhook: ninguna suscripción puede entregar"), c.registerFix())
	}
	subs, err := c.X.ActivitySubscriptions(ctx)
	if err != nil {
		return xFailed(CheckSubscription, "listing the X Activity API subscriptions (GET /2/activity/subscriptions)", err)
	}
	var events []string
	for _, s := range subs {
		if s.Filter.UserID == c.Config.Brand.ID && (s.WebhookID == "" || s.WebhookID == h.ID) {
			events = append(events, s.EventType)
		}
	}
	slices.Sort(events)
	events = slices.Compact(events)
	aaa, err := c.X.AccountActivitySubscribers(ctx, h.ID)
	if err != nil {
		return xFailed(CheckSubscription, "listing the Account Activity API subscriptions", err)
	}
	legacy := slices.Contains(aaa, c.Config.Brand.ID)
	var missing []string
	if len(events) > 0 {
		for _, e := range []string{xwebhook.EventPostMention, xwebhook.EventDMReceived} {
			if !slices.Contains(events, e) {
				missing = append(missing, e)
			}
		}
	}
	switch {
	case len(events) == 0 && !legacy:
		return fail(CheckSubscription,
			text(fmt.Sprintf("the brand (id %s) is subscribed to no activity on the webhook %s: X delivers no mention and no DM", c.Config.Brand.ID, h.ID),
				fmt.Sprintf("la marca (id %s) no está suscrita a ninguna actividad en el webhook %s: X no entrega menciones ni DM", c.Config.Brand.ID, h.ID)),
			c.registerFix())
	case len(missing) > 0 && !legacy:
		return warn(CheckSubscription,
			text(fmt.Sprintf("the brand is subscribed to %s but not to %s", strings.Join(events, ", "), strings.Join(missing, ", ")),
				fmt.Sprintf("la marca está suscrita a %s pero no a %s", strings.Join(events, ", "), strings.Join(missing, ", "))),
			c.registerFix())
	}
	var what []string
	if len(events) > 0 {
		what = append(what, fmt.Sprintf("X Activity API (%d events)", len(events)))
	}
	if legacy {
		what = append(what, "Account Activity API")
	}
	return ok(CheckSubscription, text("the brand's activity reaches the webhook: "+strings.Join(what, ", "),
		"la actividad de la marca llega al webhook: "+strings.Join(what, ", ")))
}

// listener checks that each enabled source was read lately and whether X's
// rate limit holds it back.
func (c *Checker) listener(ctx context.Context, now time.Time) Check {
	sources := c.Config.ListenSources()
	if len(sources) == 0 {
		return ok(CheckListener, text("no listener source is enabled", "ninguna fuente del listener está activa"))
	}
	this, err := c.spend()
	if err != nil {
		return broken(CheckListener, "the listener's reads", err)
	}
	var last *store.MonthSpend // read only when a source has no read this month
	stale := time.Duration(StaleRuns) * c.Config.PollInterval.Std()
	var late, lateES, limited, limitedES, fine []string
	for _, src := range sources {
		read := this.Sources[src.Name].UpdatedAt
		if read.IsZero() {
			if last == nil {
				if last, err = c.Store.GetSpend(ctx, store.SpendMonth(now.AddDate(0, 0, -now.Day()))); err != nil {
					return broken(CheckListener, "the listener's reads", err)
				}
			}
			read = last.Sources[src.Name].UpdatedAt
		}
		b, err := c.Store.GetBackoff(ctx, string(src.Kind))
		if err != nil {
			return broken(CheckListener, "X's rate-limit backoffs", err)
		}
		switch {
		case b.Active(now):
			until := b.Until.UTC().Format(time.RFC3339)
			limited = append(limited, fmt.Sprintf("%s waits for X's rate limit until %s", src.Name, until))
			limitedES = append(limitedES, fmt.Sprintf("%s espera al límite de X hasta %s", src.Name, until))
		case read.IsZero():
			late = append(late, src.Name+" has never been read")
			lateES = append(lateES, src.Name+" no se ha leído nunca")
		case now.Sub(read) > stale:
			ago := now.Sub(read).Round(time.Minute).String()
			late = append(late, fmt.Sprintf("%s was last read %s ago", src.Name, ago))
			lateES = append(lateES, fmt.Sprintf("%s se leyó por última vez hace %s", src.Name, ago))
		default:
			fine = append(fine, src.Name)
		}
	}
	switch {
	case len(late) > 0:
		return warn(CheckListener,
			text(strings.Join(append(late, limited...), "; "), strings.Join(append(lateES, limitedES...), "; ")),
			text(fmt.Sprintf("the listener should read each source every %s: check the listen function's log and its schedule (or pajarito dev's log), and the X budget", c.Config.PollInterval.Std()),
				fmt.Sprintf("el listener debería leer cada fuente cada %s: revise el log de la función listen y su programación (o el log de pajarito dev), y el presupuesto de X", c.Config.PollInterval.Std())))
	case len(limited) > 0:
		return warn(CheckListener, text(strings.Join(limited, "; "), strings.Join(limitedES, "; ")),
			text("nothing to do: the listener resumes after X's reset; if it happens often, raise poll_interval or lower max_pages in pajarito.json",
				"nada que hacer: el listener sigue tras el restablecimiento de X; si pasa a menudo, suba poll_interval o baje max_pages en pajarito.json"))
	}
	return ok(CheckListener, text("read lately: "+strings.Join(fine, ", "), "leídas hace poco: "+strings.Join(fine, ", ")))
}

// budget compares the month's X spend with the budget.
func (c *Checker) budget(_ context.Context, now time.Time) Check {
	month := store.SpendMonth(now)
	sp, err := c.spend()
	if err != nil {
		return broken(CheckBudget, "the month's X spend", err)
	}
	spent, budget := sp.TotalUSD(), c.Config.XBudget.MonthlyUSD
	summary := text(fmt.Sprintf("X reads of %s: $%.2f of the $%.2f budget", month, spent, budget),
		fmt.Sprintf("lecturas de X de %s: %.2f $ de un presupuesto de %.2f $", month, spent, budget))
	fix := text("raise x_budget.monthly_usd in pajarito.json (PAJARITO_X_BUDGET_USD), or read less: fewer or narrower keyword searches, a longer poll_interval",
		"suba x_budget.monthly_usd en pajarito.json (PAJARITO_X_BUDGET_USD), o lea menos: menos búsquedas o más acotadas, un poll_interval más largo")
	switch {
	case budget > 0 && spent >= budget:
		summary["en"] += ": spent; keyword searches are stopped until the month ends, mentions are still read"
		summary["es"] += ": agotado; las búsquedas por palabra clave se detienen hasta fin de mes, las menciones se siguen leyendo"
		return fail(CheckBudget, summary, fix)
	case budget > 0 && spent >= BudgetWarning*budget:
		return warn(CheckBudget, summary, fix)
	}
	return ok(CheckBudget, summary)
}

// queues checks the backlog of the inbound and outbound queues.
func (c *Checker) queues(_ context.Context, _ time.Time) Check {
	if c.Queues == nil {
		return skipped
	}
	qs, err := c.depths()
	if err != nil {
		return broken(CheckQueues, "the queues' depth", err)
	}
	var parts, partsES, deep []string
	for _, q := range qs {
		if q.DeadLetter {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %d waiting, %d in flight", q.Name, q.Messages, q.InFlight))
		partsES = append(partsES, fmt.Sprintf("%s %d en espera, %d en curso", q.Name, q.Messages, q.InFlight))
		if q.Messages > QueueWarning {
			deep = append(deep, q.Name)
		}
	}
	summary := text(strings.Join(parts, "; "), strings.Join(partsES, "; "))
	if len(deep) > 0 {
		return warn(CheckQueues, summary,
			text(fmt.Sprintf("%s holds more than %d messages: the functions that read it fall behind or fail; check their logs and errors (the inbound queue's processor, the outbound queue's reply sender and X's rate limit)", strings.Join(deep, ", "), QueueWarning),
				fmt.Sprintf("%s tiene más de %d mensajes: las funciones que la leen se retrasan o fallan; revise sus logs y errores (el procesador de la cola de entrada, el emisor de respuestas de la de salida y el límite de X)", strings.Join(deep, ", "), QueueWarning)))
	}
	return ok(CheckQueues, summary)
}

// deadLetters checks that the dead-letter queues are empty.
func (c *Checker) deadLetters(ctx context.Context, _ time.Time) Check {
	if c.Queues == nil {
		return skipped
	}
	qs, err := c.depths()
	if err != nil {
		return broken(CheckDeadLetters, "the dead-letter queues' depth", err)
	}
	var full, fullES, names []string
	for _, q := range qs {
		if q.DeadLetter && q.Messages+q.InFlight > 0 {
			full = append(full, fmt.Sprintf("the %s dead-letter queue holds %d messages", q.Name, q.Messages+q.InFlight))
			fullES = append(fullES, fmt.Sprintf("la cola de mensajes fallidos de %s tiene %d mensajes", q.Name, q.Messages+q.InFlight))
			names = append(names, q.Name)
		}
	}
	if len(full) == 0 {
		return ok(CheckDeadLetters, text("the dead-letter queues are empty", "las colas de mensajes fallidos están vacías"))
	}
	queue := names[0]
	if len(names) > 1 {
		queue = "all"
	}
	fix := text("find the cause in the function's log (its errors name it), deploy the fix, then run pajarito dlq redrive --queue "+queue,
		"busque la causa en el log de la función (sus errores la nombran), despliegue la corrección y ejecute pajarito dlq redrive --queue "+queue)
	if slices.Contains(names, "inbound") {
		// The processor dead-letters what it quarantines, so that the alarm goes off.
		if q, err := c.Store.ListQuarantine(ctx, 1); err == nil && len(q) > 0 {
			fix["en"] += "; the inbound ones include the quarantined deliveries (pajarito quarantine list shows why each could not be read): the redrive sends them back too, and so would pajarito quarantine retry --all (either will do: the processor keeps each message once)"
			fix["es"] += "; las de entrada incluyen las entregas en cuarentena (pajarito quarantine list dice por qué no se pudo leer cada una): la reinyección las devuelve también, igual que pajarito quarantine retry --all (basta con una: el procesador guarda cada mensaje una vez)"
		}
	}
	return fail(CheckDeadLetters, text(strings.Join(full, "; ")+": they were not handled after every retry, or could not be read", strings.Join(fullES, "; ")+": no se procesaron tras todos los reintentos, o no se pudieron leer"), fix)
}

// quarantine checks for deliveries the processor could not read.
func (c *Checker) quarantine(ctx context.Context, _ time.Time) Check {
	qs, err := c.Store.ListQuarantine(ctx, store.MaxListLimit)
	if err != nil {
		return broken(CheckQuarantine, "the quarantined deliveries", err)
	}
	if len(qs) == 0 {
		return ok(CheckQuarantine, text("no quarantined delivery", "ninguna entrega en cuarentena"))
	}
	n := fmt.Sprint(len(qs))
	if len(qs) == store.MaxListLimit {
		n += "+"
	}
	newest := qs[0]
	return warn(CheckQuarantine,
		text(fmt.Sprintf("%s deliveries could not be read and are quarantined; the newest, %s, because: %s", n, newest.SQSMessageID, newest.Problem),
			fmt.Sprintf("%s entregas no se pudieron leer y están en cuarentena; la más reciente, %s, porque: %s", n, newest.SQSMessageID, newest.Problem)),
		text("see them with pajarito quarantine list; once a fix is deployed, run pajarito quarantine retry --all",
			"véalas con pajarito quarantine list; tras desplegar una corrección, ejecute pajarito quarantine retry --all"))
}

// unhandled reports what X delivered in the last SignalDays days that Pajarito
// counted instead of handling (store's signals): events of types it does not
// handle, and X Chat messages it could not read. Either is a warning.
func (c *Checker) unhandled(ctx context.Context, now time.Time) Check {
	from := now.AddDate(0, 0, -(SignalDays - 1))
	ignored, err := c.Store.Signals(ctx, store.SignalIgnoredEvent, from, now)
	if err != nil {
		return broken(CheckUnhandled, "the counts of ignored events", err)
	}
	chats, err := c.Store.Signals(ctx, store.SignalUnreadChat, from, now)
	if err != nil {
		return broken(CheckUnhandled, "the counts of unread X Chat messages", err)
	}
	var summary, summaryES, fix, fixES []string
	if n, types := signalTotals(ignored); n > 0 {
		summary = append(summary, fmt.Sprintf("events of types Pajarito does not handle, delivered by X in the last %d days: %s (%d in all)", SignalDays, types, n))
		summaryES = append(summaryES, fmt.Sprintf("eventos de tipos que Pajarito no trata, entregados por X en los últimos %d días: %s (%d en total)", SignalDays, types, n))
		fix = append(fix, "those events are counted and dropped: pajarito webhook list shows the X Activity API subscriptions that bring them, with their ids; delete those subscriptions through X's API (DELETE /2/activity/subscriptions/ID; pajarito webhook delete would delete the whole webhook, mentions and DMs included); the Account Activity API sends every type and cannot be narrowed; if they carry customer messages, open an issue")
		fixES = append(fixES, "esos eventos se cuentan y se descartan: pajarito webhook list muestra las suscripciones de la X Activity API que los traen, con sus ids; borre esas suscripciones con la API de X (DELETE /2/activity/subscriptions/ID; pajarito webhook delete borraría el webhook entero, menciones y DM incluidos); la Account Activity API envía todos los tipos y no se puede acotar; si traen mensajes de clientes, abra una incidencia")
	}
	if n, _ := signalTotals(chats); n > 0 {
		summary = append(summary, fmt.Sprintf("encrypted X Chat messages that arrived in the last %d days and could not be read: %d", SignalDays, n))
		summaryES = append(summaryES, fmt.Sprintf("mensajes cifrados de X Chat llegados en los últimos %d días que no se pudieron leer: %d", SignalDays, n))
		fix = append(fix, "answer the X Chat messages in X's app; Pajarito reads X Chat once it holds the brand's X Chat keys (README: X Chat)")
		fixES = append(fixES, "responda los mensajes de X Chat en la app de X; Pajarito leerá X Chat cuando tenga las claves de X Chat de la marca (README: X Chat)")
	}
	if len(summary) == 0 {
		return ok(CheckUnhandled, text(fmt.Sprintf("X delivered nothing Pajarito could not handle in the last %d days", SignalDays),
			fmt.Sprintf("X no entregó nada que Pajarito no pudiera tratar en los últimos %d días", SignalDays)))
	}
	return warn(CheckUnhandled, text(strings.Join(summary, "; "), strings.Join(summaryES, "; ")),
		text(strings.Join(fix, "; "), strings.Join(fixES, "; ")))
}

// signalTotals adds up daily signals: the total, and per key, most counted
// first, as "key count, …".
func signalTotals(sigs []store.Signal) (int64, string) {
	var total int64
	byKey := map[string]int64{}
	for _, s := range sigs {
		total += s.Count
		byKey[s.Key] += s.Count
	}
	keys := slices.Collect(maps.Keys(byKey))
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(byKey[b], byKey[a]), strings.Compare(a, b))
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, byKey[k])
	}
	return total, strings.Join(parts, ", ")
}

// replies checks for replies that failed or may not have been sent lately.
func (c *Checker) replies(ctx context.Context, now time.Time) Check {
	issues, err := c.Store.ListReplyIssues(ctx, now.Add(-ReplyIssueWindow), store.MaxListLimit)
	if err != nil {
		return broken(CheckReplies, "the replies that failed", err)
	}
	var failed, unknown []string
	for _, ri := range issues {
		if ri.State == care.ReplyUnknown {
			unknown = append(unknown, ri.CaseID)
		} else {
			failed = append(failed, ri.CaseID)
		}
	}
	days := int(ReplyIssueWindow.Hours() / 24)
	switch {
	case len(unknown) > 0:
		return fail(CheckReplies,
			text(fmt.Sprintf("in the last %d days %d replies may not have been sent (cases %s) and %d failed", days, len(unknown), list(unknown), len(failed)),
				fmt.Sprintf("en los últimos %d días %d respuestas pueden no haberse enviado (casos %s) y %d fallaron", days, len(unknown), list(unknown), len(failed))),
			text("open each case in the console, check the conversation on X and send the reply again only if it is missing",
				"abra cada caso en la consola, revise la conversación en X y envíe de nuevo la respuesta solo si falta"))
	case len(failed) > 0:
		return warn(CheckReplies,
			text(fmt.Sprintf("in the last %d days %d replies failed (cases %s)", days, len(failed), list(failed)),
				fmt.Sprintf("en los últimos %d días fallaron %d respuestas (casos %s)", days, len(failed), list(failed))),
			text("open each case in the console: the reply says why X refused it (a deleted post, a blocked account, a closed DM); answer another way if it still matters",
				"abra cada caso en la consola: la respuesta dice por qué X la rechazó (un post borrado, una cuenta bloqueada, DM cerrados); responda de otra forma si aún importa"))
	}
	return ok(CheckReplies, text(fmt.Sprintf("no reply failed in the last %d days", days), fmt.Sprintf("ninguna respuesta falló en los últimos %d días", days)))
}

// list names up to five ids.
func list(ids []string) string {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) > 5 {
		return strings.Join(ids[:5], ", ") + fmt.Sprintf(" (+%d)", len(ids)-5)
	}
	return strings.Join(ids, ", ")
}

// crises reports the open crises: a warning, since the team should know.
func (c *Checker) crises(ctx context.Context, _ time.Time) Check {
	states, err := c.Store.ListCrises(ctx)
	if err != nil {
		return broken(CheckCrises, "the crisis states", err)
	}
	var open []string
	for _, s := range states {
		if s.Active {
			open = append(open, fmt.Sprintf("%s (since %s)", s.Topic, s.Since.UTC().Format(time.RFC3339)))
		}
	}
	if len(open) == 0 {
		return ok(CheckCrises, text("no crisis is open", "no hay ninguna crisis abierta"))
	}
	return warn(CheckCrises,
		text("crisis mode is on for "+strings.Join(open, ", "), "el modo crisis está activo para "+strings.Join(open, ", ")),
		text("follow the crisis in the console (its banner and panel); close it there when it is over",
			"siga la crisis en la consola (su aviso y su panel); ciérrela allí cuando termine"))
}

// alarms reports the stack's CloudWatch alarms in ALARM.
func (c *Checker) alarms(ctx context.Context, _ time.Time) Check {
	if c.Alarms == nil {
		return skipped
	}
	names, err := c.Alarms(ctx)
	if err != nil {
		return broken(CheckAlarms, "the CloudWatch alarms", err)
	}
	if len(names) == 0 {
		return ok(CheckAlarms, text("no alarm is in ALARM", "ninguna alarma está en ALARM"))
	}
	return fail(CheckAlarms,
		text("in ALARM: "+strings.Join(names, ", "), "en ALARM: "+strings.Join(names, ", ")),
		text("open each alarm in the CloudWatch console: its description says what it watches and what to do",
			"abra cada alarma en la consola de CloudWatch: su descripción dice qué vigila y qué hacer"))
}
