package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/settings"
	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

const webhookUsage = `Usage:
  pajarito webhook register --url URL [--api xaa|aaa|both] [--user-id ID] [--dry-run]
  pajarito webhook list [--user-id ID]
  pajarito webhook delete [--user-id ID] WEBHOOK_ID

register makes X deliver the brand account's activity to the stack's webhook:
it checks that the URL answers X's CRC with the app's consumer secret, registers
the URL with X (or reuses it, revalidating it when X marked it invalid) and
subscribes the brand to it: to the X Activity API events Pajarito handles (xaa,
the default), to the legacy Account Activity API (aaa), or both. Running it again
reuses what exists and changes nothing.

The X credentials are the functions': X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN,
X_ACCESS_TOKEN_SECRET and X_BEARER_TOKEN (webhook management is app-only), or
PAJARITO_X_SECRET_ID naming the stack's secret (the XSecretName output) with the
usual AWS credentials. The brand is pajarito.json's brand.id unless --user-id.
`

// xaaEvents are the X Activity API events register subscribes the brand to.
var xaaEvents = xwebhook.SubscribedEvents

// subscriptionTag tags the subscriptions register creates (XAA deliveries carry it).
const subscriptionTag = "pajarito"

// crcTimeout bounds the CRC check of the URL; X waits about as long.
const crcTimeout = 10 * time.Second

func runWebhook(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runGroup(ctx, "webhook", webhookUsage, []subcommand{
		{"register", runWebhookRegister}, {"list", runWebhookList}, {"delete", runWebhookDelete},
	}, args, stdout, stderr)
}

// webhookFlags returns a flag set with the flags every webhook command has.
func webhookFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("webhook "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	userID := fs.String("user-id", "", "the brand account's numeric X user id (default: brand.id of pajarito.json)")
	fs.Usage = func() {
		fmt.Fprint(stderr, webhookUsage+"\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs, userID
}

// webhookSession is what the webhook commands act with.
type webhookSession struct {
	x      *xapi.Client
	creds  xapi.Credentials
	brand  care.Brand
	xBase  string // X_API_BASE_URL, when set
	stdout io.Writer
}

// openWebhookSession loads the brand and the credentials the way the functions do,
// and returns a client acting for the brand.
func openWebhookSession(ctx context.Context, userID string, stdout, stderr io.Writer) (*webhookSession, error) {
	getenv := os.Getenv
	brand, err := webhookBrand(userID, getenv)
	if err != nil {
		return nil, err
	}
	var awsCfg aws.Config
	if strings.TrimSpace(getenv(settings.EnvXSecretID)) != "" {
		if awsCfg, err = boot.AWS(ctx); err != nil {
			return nil, fmt.Errorf("webhook: %w", err)
		}
	}
	creds, err := xapi.LoadCredentials(ctx, getenv, awsCfg)
	if err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	log := newLogger(stderr, slog.LevelError) // the commands print what went wrong
	if getenv(settings.EnvLogLevel) != "" {
		if log, err = boot.Logger(stderr, getenv); err != nil {
			return nil, err
		}
	}
	base := strings.TrimSpace(getenv(settings.EnvXBaseURL))
	x, err := xapi.New(creds, xapi.Options{Brand: brand, BaseURL: base, Log: log})
	if err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	return &webhookSession{x: x, creds: creds, brand: brand, xBase: base, stdout: stdout}, nil
}

// webhookBrand returns the brand account: --user-id, else the configuration's.
func webhookBrand(userID string, getenv func(string) string) (care.Brand, error) {
	if userID != "" {
		if !care.IsID(userID) {
			return care.Brand{}, fmt.Errorf("webhook: --user-id %q is not a numeric X user id: give the brand account's id (brand.id in %s)", userID, config.FileName)
		}
		return care.Brand{ID: userID}, nil
	}
	cfg, err := config.FromEnvironment(getenv)
	if err != nil {
		return care.Brand{}, fmt.Errorf("webhook: the brand account comes from %s: %w\n(or pass --user-id with the brand's numeric X user id)", config.FileName, err)
	}
	return cfg.Brand, nil
}

// account names the brand for the output.
func (s *webhookSession) account() string {
	if s.brand.Handle != "" {
		return fmt.Sprintf("@%s (user %s)", s.brand.Handle, s.brand.ID)
	}
	return "user " + s.brand.ID
}

// line prints one item of a command's report: what, what happened, details.
func (s *webhookSession) line(item, outcome, detail string) {
	fmt.Fprintf(s.stdout, "  %-28s %-13s %s\n", item, outcome, detail)
}

// ---- register ----

// apiChoice is which X APIs deliver the brand's activity.
type apiChoice struct{ xaa, aaa bool }

func parseAPI(v string) (apiChoice, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "xaa":
		return apiChoice{xaa: true}, nil
	case "aaa":
		return apiChoice{aaa: true}, nil
	case "both":
		return apiChoice{xaa: true, aaa: true}, nil
	}
	return apiChoice{}, fmt.Errorf("webhook: --api %q: use xaa (X Activity API), aaa (legacy Account Activity API) or both", v)
}

func (a apiChoice) String() string {
	switch {
	case a.xaa && a.aaa:
		return "the X Activity API and the Account Activity API"
	case a.aaa:
		return "the Account Activity API"
	}
	return "the X Activity API"
}

// checkWebhookURL checks --url; against X itself it must be https without a port,
// as X requires.
func checkWebhookURL(raw string, toX bool) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errors.New("webhook: --url is required: the stack's WebhookUrl output (`cdk deploy` prints it), https://…/webhooks/x")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("webhook: --url %q is not an absolute https URL: use the stack's WebhookUrl output, https://…/webhooks/x", raw)
	}
	if toX && (u.Scheme != "https" || u.Port() != "") {
		return "", fmt.Errorf("webhook: --url %q: X only registers https URLs without a port: use the stack's WebhookUrl output", raw)
	}
	return raw, nil
}

func runWebhookRegister(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, userID := webhookFlags("register", stderr)
	rawURL := fs.String("url", "", "the stack's webhook URL: its WebhookUrl output, https://…/webhooks/x")
	api := fs.String("api", "xaa", "which X API delivers the brand's activity: xaa (X Activity API), aaa (legacy Account Activity API) or both")
	dryRun := fs.Bool("dry-run", false, "check the URL and print what would be done, changing nothing at X")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("webhook register: unexpected argument %q (flags go before it; the URL is --url)", fs.Arg(0))
	}
	apis, err := parseAPI(*api)
	if err != nil {
		return err
	}
	target, err := checkWebhookURL(*rawURL, strings.TrimSpace(os.Getenv(settings.EnvXBaseURL)) == "")
	if err != nil {
		return err
	}
	s, err := openWebhookSession(ctx, *userID, stdout, stderr)
	if err != nil {
		return err
	}
	r := &registration{webhookSession: s, url: target, apis: apis, dryRun: *dryRun}
	return r.run(ctx)
}

// registration is one run of `webhook register`.
type registration struct {
	*webhookSession
	url    string
	apis   apiChoice
	dryRun bool

	hooks   []xapi.Webhook // the app's webhooks
	hook    *xapi.Webhook  // the one for url; nil until registered (dry run)
	created int
	reused  int
	failed  []string
}

func (r *registration) run(ctx context.Context) error {
	fmt.Fprintf(r.stdout, "Registering %s for %s with %s.\n", r.url, r.account(), r.apis)
	if r.xBase != "" {
		fmt.Fprintf(r.stdout, "X API: %s (%s)\n", r.xBase, settings.EnvXBaseURL)
	}
	if r.dryRun {
		fmt.Fprintln(r.stdout, "Dry run: nothing is changed at X.")
	}
	hooks, err := r.x.Webhooks(ctx) // first: it needs every credential
	if err != nil {
		return fmt.Errorf("webhook: listing the app's webhooks: %w", err)
	}
	r.hooks = hooks
	if err := r.checkCRC(ctx); err != nil {
		return err
	}
	r.line("CRC check", "ok", "the URL answers with the app's consumer secret")
	if err := r.webhook(ctx); err != nil {
		return err
	}
	if r.apis.xaa {
		if err := r.activitySubscriptions(ctx); err != nil {
			return err
		}
	}
	if r.apis.aaa {
		r.accountActivity(ctx)
	}
	return r.summary()
}

// checkCRC asks the URL for a CRC answer, as X will, and checks it with the app's
// consumer secret: a stack whose webhook key is not the app's is caught here, with
// the fix, rather than by X's bare CrcValidationFailed.
func (r *registration) checkCRC(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, crcTimeout)
	defer cancel()
	err := xwebhook.ProbeCRC(ctx, nil, r.url, []byte(r.creds.WebhookSecret()))
	var crc *xwebhook.CRCError
	if err == nil || !errors.As(err, &crc) {
		if err != nil {
			return fmt.Errorf("webhook: --url %q: %w", r.url, err)
		}
		return nil
	}
	switch crc.Failure {
	case xwebhook.CRCUnreachable:
		return fmt.Errorf("webhook: %s does not answer: %w\nIs the stack deployed, and --url its WebhookUrl output?", r.url, crc.Err)
	case xwebhook.CRCStatus:
		hint := "The webhook function cannot answer X's CRC check; its CloudWatch log says why. Usually the X credentials secret still holds " +
			"its placeholder: put the credentials in it first (aws secretsmanager put-secret-value, see the README's deploy guide)."
		if crc.StatusCode == http.StatusNotFound {
			hint = "Is --url the stack's WebhookUrl output, ending in /webhooks/x?"
		}
		return fmt.Errorf("webhook: %s answered the CRC check with %d %s: %s\n%s",
			r.url, crc.StatusCode, http.StatusText(crc.StatusCode), crc.Body, hint)
	case xwebhook.CRCNoToken:
		return fmt.Errorf("webhook: %s answered the CRC check without a response_token (%q): is it Pajarito's webhook (the stack's WebhookUrl output)?",
			r.url, crc.Body)
	}
	return fmt.Errorf("webhook: %s answered the CRC check with another key than the app's consumer secret (%s).\n%s",
		r.url, r.secretName(), crcHelp)
}

// crcHelp explains a CRC answered with the wrong key.
const crcHelp = `The stack's webhook secret must match the app's consumer secret: the webhook
function answers X's CRC with the api_secret (or consumer_secret) of the secret
the stack created (the XSecretName output), and X checks the answer with the
consumer secret (API key secret) of the app whose keys register the webhook. Put
that app's keys in the secret (aws secretsmanager put-secret-value --secret-id
<XSecretName> --secret-string file://x-credentials.json) and run this again;
webhook function instances started before the change keep the old key until
Lambda replaces them (any update of the function's configuration does).`

// secretName names where the consumer secret register uses came from.
func (r *registration) secretName() string {
	if id, ok := strings.CutPrefix(r.creds.Source, "secret "); ok {
		return fmt.Sprintf("api_secret, or consumer_secret, of secret %q", id)
	}
	return "X_API_SECRET, or X_CONSUMER_SECRET"
}

// webhook registers the URL, or reuses (and, if need be, revalidates) the app's
// webhook for it; r.hooks holds the app's webhooks.
func (r *registration) webhook(ctx context.Context) error {
	for i := range r.hooks {
		if sameURL(r.hooks[i].URL, r.url) {
			r.hook = &r.hooks[i]
		}
	}
	switch h := r.hook; {
	case h != nil && h.Valid:
		r.reused++
		r.line("webhook "+h.ID, "reused", "valid")
		return nil
	case h != nil && r.dryRun:
		r.line("webhook "+h.ID, "would check", "X marks it invalid: it would ask X to check it again")
		return nil
	case h != nil:
		valid, err := r.x.ValidateWebhook(ctx, h.ID)
		if err == nil && !valid {
			err = errors.New("X still marks it invalid after the check")
		}
		if err != nil {
			return r.crcRefused("revalidating webhook "+h.ID, err)
		}
		h.Valid = true
		r.reused++
		r.line("webhook "+h.ID, "revalidated", "X marked it invalid; its CRC check passes again")
		return nil
	case r.dryRun:
		r.created++
		r.line("webhook", "would create", r.url)
		return nil
	}

	created, err := r.x.CreateWebhook(ctx, r.url)
	switch xapi.Reason(err) {
	case "":
	case xapi.ReasonWebhookLimit:
		return r.limitReached(err)
	case xapi.ReasonDuplicateURL:
		// Registered meanwhile (another run): reuse it.
		if hooks, lerr := r.x.Webhooks(ctx); lerr == nil {
			for i := range hooks {
				if sameURL(hooks[i].URL, r.url) {
					r.hook, r.hooks = &hooks[i], hooks
					r.reused++
					r.line("webhook "+hooks[i].ID, "reused", "X already had it")
					return nil
				}
			}
		}
		return fmt.Errorf("webhook: registering %s: %w\n`pajarito webhook list` shows the app's webhooks", r.url, err)
	case xapi.ReasonURLInvalid:
		return fmt.Errorf("webhook: X refuses %s as a webhook URL: %w\nUse the stack's WebhookUrl output: an https URL without a port", r.url, err)
	default:
		return r.crcRefused("registering "+r.url, err)
	}
	if err != nil {
		return fmt.Errorf("webhook: registering %s: %w", r.url, err)
	}
	r.hook = created
	r.hooks = append(r.hooks, *created)
	r.created++
	r.line("webhook "+created.ID, "created", "CRC check passed at X")
	return nil
}

// crcRefused explains X's refusal of a CRC check (other errors pass through).
func (r *registration) crcRefused(doing string, err error) error {
	if xapi.Reason(err) != xapi.ReasonCRCFailed {
		return fmt.Errorf("webhook: %s: %w", doing, err)
	}
	return fmt.Errorf("webhook: %s: X's CRC check failed: %w\n"+
		"This command's own check passed with %s, so X checked with another consumer\n"+
		"secret: the bearer token belongs to another app than the consumer keys, or the keys\n"+
		"are not the app's current ones (regenerating them in the portal changes them).\n%s",
		doing, err, r.secretName(), crcHelp)
}

// limitReached explains X's webhook limit: which webhooks the app has, and the
// commands that make room.
func (r *registration) limitReached(err error) error {
	var b strings.Builder
	fmt.Fprintf(&b, "webhook: X refused to register %s: the app already has as many webhooks as its access allows (%v).\n", r.url, err)
	b.WriteString("The app's webhooks:\n")
	for _, h := range r.hooks {
		fmt.Fprintf(&b, "  %s  %-7s  %s\n", h.ID, validity(h.Valid), h.URL)
	}
	b.WriteString("To move the app to this URL, delete the webhook it replaces (X stops delivering to it):\n")
	for _, h := range r.hooks {
		fmt.Fprintf(&b, "  pajarito webhook delete %s\n", h.ID)
	}
	b.WriteString("then run this command again. `pajarito webhook list` shows each webhook's subscriptions.")
	return errors.New(b.String())
}

func validity(valid bool) string {
	if valid {
		return "valid"
	}
	return "invalid"
}

// activitySubscriptions subscribes the brand to each of xaaEvents on the webhook,
// reusing the subscriptions that exist and replacing those left on a webhook the
// app no longer has.
func (r *registration) activitySubscriptions(ctx context.Context) error {
	subs, err := r.x.ActivitySubscriptions(ctx)
	if err != nil {
		return fmt.Errorf("webhook: listing the X Activity API subscriptions: %w", err)
	}
	live := map[string]bool{}
	for _, h := range r.hooks {
		live[h.ID] = true
	}
	hookID := ""
	if r.hook != nil {
		hookID = r.hook.ID
	}
	for _, event := range xaaEvents {
		item := "xaa " + event
		var mine, stale *xapi.ActivitySubscription
		for i, s := range subs {
			if s.EventType != event || s.Filter.UserID != r.brand.ID {
				continue
			}
			switch {
			case hookID != "" && s.WebhookID == hookID:
				mine = &subs[i]
			case s.WebhookID != "" && !live[s.WebhookID] && stale == nil:
				stale = &subs[i]
			}
		}
		switch {
		case mine != nil:
			r.reused++
			r.line(item, "reused", "subscription "+mine.ID)
			continue
		case r.dryRun && stale != nil:
			r.created++
			r.line(item, "would replace", fmt.Sprintf("subscription %s names webhook %s, which the app no longer has", stale.ID, stale.WebhookID))
			continue
		case r.dryRun:
			r.created++
			r.line(item, "would create", "")
			continue
		}
		outcome, detail := "created", ""
		if stale != nil {
			if err := r.x.DeleteActivitySubscription(ctx, stale.ID); err != nil {
				r.fail(item, fmt.Errorf("deleting subscription %s, left on deleted webhook %s: %w", stale.ID, stale.WebhookID, err))
				continue
			}
			outcome, detail = "replaced", fmt.Sprintf(" (subscription %s named deleted webhook %s)", stale.ID, stale.WebhookID)
		}
		sub, err := r.x.CreateActivitySubscription(ctx, xapi.NewActivitySubscription{
			EventType: event,
			Filter:    xapi.ActivityFilter{UserID: r.brand.ID},
			WebhookID: hookID,
			Tag:       subscriptionTag,
		})
		if xapi.Reason(err) == xapi.ReasonDuplicateSubscription {
			r.reused++
			r.line(item, "reused", "X already has it")
			continue
		}
		if err != nil {
			r.fail(item, err)
			continue
		}
		r.created++
		r.line(item, outcome, "subscription "+sub.ID+detail)
	}
	return nil
}

// accountActivity subscribes the brand to all its account activity on the
// webhook.
func (r *registration) accountActivity(ctx context.Context) {
	const item = "aaa all activity"
	if r.hook == nil { // dry run, webhook to create
		r.created++
		r.line(item, "would create", "")
		return
	}
	subscribed, err := r.x.AccountActivitySubscribed(ctx, r.hook.ID)
	switch {
	case err != nil:
		r.fail(item, accountActivityHint(err))
	case subscribed:
		r.reused++
		r.line(item, "reused", "the brand is subscribed")
	case r.dryRun:
		r.created++
		r.line(item, "would create", "")
	default:
		created, err := r.x.SubscribeAccountActivity(ctx, r.hook.ID)
		switch {
		case err != nil:
			r.fail(item, accountActivityHint(err))
		case created:
			r.created++
			r.line(item, "created", "the brand is subscribed")
		default:
			r.reused++
			r.line(item, "reused", "the brand was subscribed")
		}
	}
}

// accountActivityHint adds what a 403 of the Account Activity API usually means.
func accountActivityHint(err error) error {
	var api *xapi.APIError
	if errors.As(err, &api) && api.StatusCode == http.StatusForbidden {
		return fmt.Errorf("%w (the Account Activity API needs Enterprise or pay-per-use access for the app; --api xaa uses the X Activity API instead)", err)
	}
	return err
}

func (r *registration) fail(item string, err error) {
	r.failed = append(r.failed, item)
	r.line(item, "FAILED", err.Error())
}

func (r *registration) summary() error {
	if len(r.failed) > 0 {
		return fmt.Errorf("webhook: %d item(s) failed: %s. What was done is kept and reused: fix the cause and run this command again",
			len(r.failed), strings.Join(r.failed, ", "))
	}
	if r.dryRun {
		fmt.Fprintf(r.stdout, "Dry run: %d to create or fix, %d in place. Run again without --dry-run to apply.\n", r.created, r.reused)
		return nil
	}
	fmt.Fprintf(r.stdout, "Done: %d created, %d reused.\n", r.created, r.reused)
	handle := r.brand.ID
	if r.brand.Handle != "" {
		handle = "@" + r.brand.Handle
	}
	fmt.Fprintf(r.stdout, "Next: mention %s from another account, or send it a DM. The webhook function logs\n"+
		"\"webhook delivery accepted\" and the message becomes a case (GET <ApiUrl>/v1/cases).\n"+
		"X checks the webhook every hour and stops delivering while it fails; this command\n"+
		"revalidates it. `pajarito webhook list` shows what is registered.\n", handle)
	return nil
}

// sameURL reports whether two webhook URLs name the same endpoint: scheme and
// host compare case-insensitively and a trailing slash does not count.
func sameURL(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil {
		return a == b
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host) &&
		strings.TrimSuffix(ua.Path, "/") == strings.TrimSuffix(ub.Path, "/") && ua.RawQuery == ub.RawQuery
}

// ---- list ----

func runWebhookList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, userID := webhookFlags("list", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("webhook list: unexpected argument %q", fs.Arg(0))
	}
	s, err := openWebhookSession(ctx, *userID, stdout, stderr)
	if err != nil {
		return err
	}
	hooks, err := s.x.Webhooks(ctx)
	if err != nil {
		return fmt.Errorf("webhook: listing the app's webhooks: %w", err)
	}
	subs, err := s.x.ActivitySubscriptions(ctx)
	if err != nil {
		return fmt.Errorf("webhook: listing the X Activity API subscriptions: %w", err)
	}
	if len(hooks) == 0 {
		fmt.Fprintln(stdout, "The app has no webhook: `pajarito webhook register --url <the stack's WebhookUrl>` registers one.")
	}
	shown := map[string]bool{}
	for _, h := range hooks {
		fmt.Fprintf(stdout, "webhook %s  %s  created %s  %s\n", h.ID, validity(h.Valid), h.CreatedAt.UTC().Format(time.RFC3339), h.URL)
		for _, sub := range subs {
			if sub.WebhookID == h.ID {
				shown[sub.ID] = true
				s.line("xaa "+sub.EventType, s.whose(sub.Filter), "subscription "+sub.ID)
			}
		}
		users, err := s.x.AccountActivitySubscribers(ctx, h.ID)
		switch {
		case err != nil:
			s.line("aaa", "unreadable", err.Error())
		case len(users) == 0:
			s.line("aaa", "none", "")
		default:
			for _, u := range users {
				s.line("aaa all activity", s.whose(xapi.ActivityFilter{UserID: u}), "")
			}
		}
	}
	var other []xapi.ActivitySubscription
	for _, sub := range subs {
		if !shown[sub.ID] {
			other = append(other, sub)
		}
	}
	if len(other) > 0 {
		fmt.Fprintln(stdout, "X Activity API subscriptions on no webhook of the app (stream only, or their webhook was deleted):")
		for _, sub := range other {
			s.line("xaa "+sub.EventType, s.whose(sub.Filter), fmt.Sprintf("subscription %s, webhook %q", sub.ID, sub.WebhookID))
		}
	}
	return nil
}

// whose names a subscription's filter for the list.
func (s *webhookSession) whose(f xapi.ActivityFilter) string {
	switch {
	case f.UserID == s.brand.ID:
		return "brand"
	case f.UserID != "":
		return "user " + f.UserID
	}
	return "keyword " + f.Keyword
}

// ---- delete ----

func runWebhookDelete(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, userID := webhookFlags("delete", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("webhook delete: give one webhook id (`pajarito webhook list` shows them)")
	}
	id := fs.Arg(0)
	if !care.IsID(id) {
		return fmt.Errorf("webhook delete: %q is not a webhook id: X's ids are numeric (`pajarito webhook list` shows them)", id)
	}
	s, err := openWebhookSession(ctx, *userID, stdout, stderr)
	if err != nil {
		return err
	}
	hooks, err := s.x.Webhooks(ctx)
	if err != nil {
		return fmt.Errorf("webhook: listing the app's webhooks: %w", err)
	}
	var target *xapi.Webhook
	var ids []string
	for i := range hooks {
		ids = append(ids, hooks[i].ID)
		if hooks[i].ID == id {
			target = &hooks[i]
		}
	}
	if target == nil {
		has := "none"
		if len(ids) > 0 {
			has = strings.Join(ids, ", ")
		}
		return fmt.Errorf("webhook delete: the app has no webhook %s (it has: %s)", id, has)
	}
	if err := s.x.DeleteWebhook(ctx, id); err != nil {
		return fmt.Errorf("webhook: deleting webhook %s: %w", id, err)
	}
	fmt.Fprintf(stdout, "Deleted webhook %s (%s): X no longer delivers to it.\n", id, target.URL)
	subs, err := s.x.ActivitySubscriptions(ctx)
	if err != nil {
		return fmt.Errorf("webhook: listing the X Activity API subscriptions: %w", err)
	}
	n := 0
	for _, sub := range subs {
		if sub.WebhookID == id {
			n++
		}
	}
	if n > 0 {
		fmt.Fprintf(stdout, "%d X Activity API subscription(s) still name it: `pajarito webhook register --url <new URL>` moves them to the new webhook.\n", n)
	}
	return nil
}
