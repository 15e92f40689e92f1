package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"

	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/console"
)

// Context keys the app reads (cdk.json, or `cdk synth|deploy -c key=value`).
const (
	// CtxEnv is "prod" (the default: stateful resources are retained and protected
	// from deletion) or "dev" (everything is destroyed with the stack).
	CtxEnv = "pajarito:env"
	// CtxAlertEmail, when set, subscribes that address to the alert topic.
	CtxAlertEmail = "pajarito:alertEmail"
	// CtxJWTIssuer and CtxJWTAudience, when set, make the agent API trust an
	// external OpenID Connect issuer instead of a Cognito user pool created by the
	// stack. The audience is a comma-separated list (or a JSON array in cdk.json).
	CtxJWTIssuer   = "pajarito:jwtIssuer"
	CtxJWTAudience = "pajarito:jwtAudience"
	// CtxConsoleClientID, with an external issuer, names the agent console's
	// OAuth client at that issuer (a public client: authorization code with PKCE,
	// redirect and sign-out URL <ApiUrl>/console/). Its access tokens must carry
	// an audience listed in CtxJWTAudience. Unset, agents sign in to the console
	// with a pasted token.
	CtxConsoleClientID = "pajarito:consoleClientId"
	// CtxRoleClaim, with an external issuer, names the claim of its access
	// tokens that holds a person's Pajarito role (admin, agent or contributor),
	// or a list of groups among which the role is looked for; "groups" by
	// default. With the stack's Cognito user pool the claim is cognito:groups.
	CtxRoleClaim = "pajarito:roleClaim"
	// CtxAuthDomainPrefix is the prefix of the Cognito domain agents sign in at
	// (https://<prefix>.auth.<region>.amazoncognito.com). Default: the stack's
	// name and the account id, e.g. pajarito-123456789012.
	CtxAuthDomainPrefix = "pajarito:authDomainPrefix"
	// CtxConsoleURLs lists more addresses the console is served at (a custom
	// domain), each an https URL ending in /console/, that Cognito may send agents
	// back to; comma-separated (or a JSON array in cdk.json).
	CtxConsoleURLs = "pajarito:consoleUrls"
	// CtxAssets is the folder holding <function>/bootstrap (`make build`); "dist" by
	// default.
	CtxAssets = "pajarito:assets"
	// CtxTracing ("true"/"false") switches AWS X-Ray active tracing on the functions.
	CtxTracing = "pajarito:tracing"
)

// Environment is the kind of deployment: it decides what survives `cdk destroy`.
type Environment string

const (
	// Prod retains the table, the user pool, the X secret and the logs, and turns on
	// deletion protection where AWS offers it.
	Prod Environment = "prod"
	// Dev destroys everything with the stack.
	Dev Environment = "dev"
)

// DefaultAssetDir is where `make build` puts the functions.
const DefaultAssetDir = "dist"

// The JWT claims that hold a person's role (settings.EnvRoleClaim).
const (
	// CognitoRoleClaim lists the Cognito groups of the person (RoleGroups), in
	// the access tokens of the stack's user pool.
	CognitoRoleClaim = "cognito:groups"
	// DefaultRoleClaim is StackProps.RoleClaim's default with an external
	// issuer: the name OpenID Connect issuers commonly give a list of groups.
	DefaultRoleClaim = "groups"
)

// StackProps configures the Pajarito stack. The zero value of each Pajarito field
// is a sensible default (a production stack with Cognito and no email alerts).
type StackProps struct {
	awscdk.StackProps

	// AssetDir holds one folder per function with its `bootstrap` (and
	// pajarito.json), as `make build` lays them out. Default DefaultAssetDir.
	AssetDir string
	// Environment is Prod (default) or Dev.
	Environment Environment
	// AlertEmail, when set, is subscribed to the alert topic (AWS sends it a
	// confirmation message first).
	AlertEmail string
	// JWTIssuer and JWTAudience name an external OIDC issuer (https URL) and the
	// audiences the agent API accepts. Empty: the stack creates a Cognito user pool
	// and app client and trusts those.
	JWTIssuer   string
	JWTAudience []string
	// ConsoleClientID, with JWTIssuer, is the agent console's OAuth client at the
	// issuer: a public client (no secret) allowed the authorization code flow with
	// PKCE, whose redirect and sign-out URL is <ApiUrl>/console/. The console reads
	// the issuer's discovery document. The access tokens it gets must carry an
	// audience in JWTAudience (API Gateway checks it on every call), so list the
	// client id there, or the API audience the issuer puts in them. Empty: agents
	// sign in to the console with a token they paste.
	ConsoleClientID string
	// RoleClaim, with JWTIssuer, is the claim of the issuer's access tokens
	// that holds the person's role: admin, agent or contributor, or a list of
	// groups among which those are looked for. The agent API reads it from the
	// claims the JWT authorizer verified (settings.EnvRoleClaim). Default
	// DefaultRoleClaim. With the stack's Cognito user pool it is
	// CognitoRoleClaim, the pool's groups (RoleGroups), and may not be set to
	// anything else.
	RoleClaim string
	// AuthDomainPrefix is the prefix of the Cognito domain of the stack's user
	// pool, where agents sign in (managed login): lowercase letters, digits and
	// hyphens, at most 63, neither first nor last a hyphen, without "aws",
	// "amazon" or "cognito", and free in the region (prefixes are shared by every
	// AWS account). Default: the stack's name and the account id
	// (pajarito-123456789012). Choose it before the first deploy: changing it
	// replaces the domain, and the sign-in address with it. Cognito only.
	AuthDomainPrefix string
	// ConsoleURLs are more addresses the console is served at (https URLs ending
	// in /console/, e.g. on a custom domain of the API): Cognito sends agents back
	// to <ApiUrl>/console/ and to these after signing in and out. Cognito only.
	ConsoleURLs []string
	// Tracing turns on AWS X-Ray active tracing for every function.
	Tracing bool
	// LogRetention is how long function and access logs are kept. Default one
	// month.
	LogRetention awslogs.RetentionDays
	// PollInterval is the listener's schedule: pajarito.json's poll_interval (the
	// app reads it), in whole minutes. Default config.DefaultPollInterval.
	PollInterval time.Duration
	// MonitorInterval is the monitor's schedule: pajarito.json's monitor_interval,
	// in whole minutes. Default config.DefaultMonitorInterval.
	MonitorInterval time.Duration
}

func (p StackProps) withDefaults() StackProps {
	if p.AssetDir == "" {
		p.AssetDir = DefaultAssetDir
	}
	if p.Environment == "" {
		p.Environment = Prod
	}
	if p.LogRetention == "" {
		p.LogRetention = awslogs.RetentionDays_ONE_MONTH
	}
	if p.PollInterval == 0 {
		p.PollInterval = config.DefaultPollInterval
	}
	if p.MonitorInterval == 0 {
		p.MonitorInterval = config.DefaultMonitorInterval
	}
	if p.RoleClaim == "" && p.JWTIssuer != "" {
		p.RoleClaim = DefaultRoleClaim
	}
	return p
}

// Validate reports settings the stack cannot be built with.
func (p StackProps) Validate() error {
	var errs []error
	switch p.Environment {
	case "", Dev, Prod:
	default:
		errs = append(errs, fmt.Errorf("%s=%q: use %q or %q", CtxEnv, p.Environment, Dev, Prod))
	}
	if p.PollInterval%time.Minute != 0 || p.PollInterval < 0 {
		errs = append(errs, fmt.Errorf("poll interval %s: EventBridge Scheduler runs in whole minutes (set poll_interval in %s)", p.PollInterval, config.FileName))
	}
	if p.MonitorInterval%time.Minute != 0 || p.MonitorInterval < 0 {
		errs = append(errs, fmt.Errorf("monitor interval %s: EventBridge Scheduler runs in whole minutes", p.MonitorInterval))
	}
	if p.AlertEmail != "" && !strings.Contains(p.AlertEmail, "@") {
		errs = append(errs, fmt.Errorf("%s=%q is not an email address", CtxAlertEmail, p.AlertEmail))
	}
	switch {
	case p.JWTIssuer == "" && len(p.JWTAudience) > 0:
		errs = append(errs, fmt.Errorf("%s is set but %s is not: set both, or neither to use the stack's Cognito user pool", CtxJWTAudience, CtxJWTIssuer))
	case p.JWTIssuer != "" && len(p.JWTAudience) == 0:
		errs = append(errs, fmt.Errorf("%s is set but %s is not: API Gateway needs the audiences (client ids) to accept", CtxJWTIssuer, CtxJWTAudience))
	case p.JWTIssuer != "":
		if u, err := url.Parse(p.JWTIssuer); err != nil || u.Scheme != "https" || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s=%q: the issuer must be an https URL (API Gateway fetches its OIDC discovery document)", CtxJWTIssuer, p.JWTIssuer))
		}
	}
	if p.JWTIssuer == "" && p.ConsoleClientID != "" {
		errs = append(errs, fmt.Errorf("%s is set but %s is not: the console's client at an external issuer; with the stack's Cognito user pool the console uses the pool's app client", CtxConsoleClientID, CtxJWTIssuer))
	}
	switch {
	case p.AuthDomainPrefix == "":
	case p.JWTIssuer != "":
		errs = append(errs, fmt.Errorf("%s is set with %s: the stack creates no Cognito user pool (nor domain) when it trusts an external issuer", CtxAuthDomainPrefix, CtxJWTIssuer))
	default:
		if err := checkAuthDomainPrefix(p.AuthDomainPrefix); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", CtxAuthDomainPrefix, p.AuthDomainPrefix, err))
		}
	}
	if err := p.checkRoleClaim(); err != nil {
		errs = append(errs, err)
	}
	if p.JWTIssuer != "" && len(p.ConsoleURLs) > 0 {
		errs = append(errs, fmt.Errorf("%s is set with %s: register the console's addresses with the external issuer, for the client %s", CtxConsoleURLs, CtxJWTIssuer, CtxConsoleClientID))
	}
	for _, v := range p.ConsoleURLs {
		if u, err := url.Parse(v); err != nil || u.Scheme != "https" || u.Host == "" || !strings.HasSuffix(u.Path, console.Prefix) || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("%s: %q is not an https URL ending in %s (the console's address, where Cognito sends agents back)", CtxConsoleURLs, v, console.Prefix))
		}
	}
	return errors.Join(errs...)
}

// checkRoleClaim reports a RoleClaim the agent API could not read the role
// from: one with spaces, or one other than CognitoRoleClaim with the stack's
// user pool. Empty is the default.
func (p StackProps) checkRoleClaim() error {
	switch {
	case p.RoleClaim == "":
		return nil
	case p.JWTIssuer == "" && p.RoleClaim != CognitoRoleClaim:
		return fmt.Errorf("%s=%q is set but %s is not: with the stack's Cognito user pool the role is in the claim %s (the pool's groups: %s)",
			CtxRoleClaim, p.RoleClaim, CtxJWTIssuer, CognitoRoleClaim, roleGroupNames())
	case strings.ContainsFunc(p.RoleClaim, unicode.IsSpace):
		return fmt.Errorf("%s=%q: a claim name has no spaces (the claim of the issuer's access tokens holding the role, e.g. %s)", CtxRoleClaim, p.RoleClaim, DefaultRoleClaim)
	}
	return nil
}

// Cognito's rules for a domain prefix: 1 to 63 lowercase letters, digits and
// hyphens, neither first nor last a hyphen, and none of these words.
var (
	authDomainPrefixRE       = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
	authDomainPrefixReserved = []string{"aws", "amazon", "cognito"}
)

// checkAuthDomainPrefix reports why prefix cannot be a Cognito domain prefix.
func checkAuthDomainPrefix(prefix string) error {
	if !authDomainPrefixRE.MatchString(prefix) {
		return errors.New("a Cognito domain prefix is 1 to 63 lowercase letters, digits and hyphens, and neither starts nor ends with a hyphen")
	}
	for _, w := range authDomainPrefixReserved {
		if strings.Contains(prefix, w) {
			return fmt.Errorf("a Cognito domain prefix may not contain %q (nor %s)", w, strings.Join(authDomainPrefixReserved, ", "))
		}
	}
	return nil
}

// defaultAuthDomainPrefix is the Cognito domain prefix of the stack named
// stackName, without the "-<account id>" that follows it: the name in lowercase,
// the characters and words Cognito refuses left out, short enough for the 12
// digits of the account.
func defaultAuthDomainPrefix(stackName string) string {
	s := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		default:
			return '-'
		}
	}, strings.ToLower(stackName))
	for removed := true; removed; {
		removed = false
		for _, w := range authDomainPrefixReserved {
			if strings.Contains(s, w) {
				s, removed = strings.ReplaceAll(s, w, ""), true
			}
		}
	}
	for strings.Contains(s, "--") {
		s = strings.ReplaceAll(s, "--", "-")
	}
	s = strings.Trim(s, "-")
	if len(s) > 63-len("-123456789012") {
		s = strings.TrimRight(s[:63-len("-123456789012")], "-")
	}
	if s == "" {
		s = "pajarito"
	}
	return s
}

// PropsFromContext reads the Pajarito settings from the CDK context; get is
// typically app.Node().TryGetContext. Values given with `-c` arrive as strings,
// values in cdk.json keep their JSON type.
func PropsFromContext(get func(key string) any) (StackProps, error) {
	var errs []error
	str := func(key string) string {
		switch v := get(key).(type) {
		case nil:
			return ""
		case string:
			return strings.TrimSpace(v)
		default:
			errs = append(errs, fmt.Errorf("%s: want a string, got %v", key, v))
			return ""
		}
	}
	// list reads a comma-separated string (-c) or a JSON array (cdk.json).
	list := func(key string) []string {
		var out []string
		switch v := get(key).(type) {
		case nil:
		case string:
			for _, a := range strings.Split(v, ",") {
				if a = strings.TrimSpace(a); a != "" {
					out = append(out, a)
				}
			}
		case []any:
			for _, a := range v {
				s, ok := a.(string)
				if !ok || strings.TrimSpace(s) == "" {
					errs = append(errs, fmt.Errorf("%s: want strings, got %v", key, a))
					continue
				}
				out = append(out, strings.TrimSpace(s))
			}
		default:
			errs = append(errs, fmt.Errorf("%s: want a comma-separated string or a list, got %v", key, v))
		}
		return out
	}
	p := StackProps{
		AssetDir:         str(CtxAssets),
		Environment:      Environment(str(CtxEnv)),
		AlertEmail:       str(CtxAlertEmail),
		JWTIssuer:        str(CtxJWTIssuer),
		JWTAudience:      list(CtxJWTAudience),
		ConsoleClientID:  str(CtxConsoleClientID),
		RoleClaim:        str(CtxRoleClaim),
		AuthDomainPrefix: str(CtxAuthDomainPrefix),
		ConsoleURLs:      list(CtxConsoleURLs),
	}
	switch v := get(CtxTracing).(type) {
	case nil:
	case bool:
		p.Tracing = v
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "", "false":
		case "true":
			p.Tracing = true
		default:
			errs = append(errs, fmt.Errorf("%s=%q: use true or false", CtxTracing, v))
		}
	default:
		errs = append(errs, fmt.Errorf("%s: want true or false, got %v", CtxTracing, v))
	}
	if err := p.Validate(); err != nil {
		errs = append(errs, err)
	}
	return p, errors.Join(errs...)
}

// CheckAssets reports the functions whose bootstrap is missing from dir, with the
// command that builds them: synthesizing would otherwise fail deep inside the CDK.
// A function the stack deploys whose source folder (<sources>/<name>, sources
// being the repository's functions/) does not exist cannot be built at all, and is
// reported as such.
func CheckAssets(dir, sources string) error {
	var missing, noSource []string
	for _, f := range Functions() {
		p := filepath.Join(dir, f.Name, "bootstrap")
		if _, err := os.Stat(p); err == nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(sources, f.Name)); err != nil {
			noSource = append(noSource, filepath.Join(sources, f.Name))
		} else {
			missing = append(missing, p)
		}
	}
	var errs []error
	if len(noSource) > 0 {
		errs = append(errs, fmt.Errorf("the stack deploys %s but there is no such folder: add the function, or take it out of infra.Functions", strings.Join(noSource, ", ")))
	}
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("missing %s: run `make build` first (or set -c %s=<folder>)", strings.Join(missing, ", "), CtxAssets))
	}
	return errors.Join(errs...)
}
