package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"

	"github.com/pajarito-care/pajarito/shared/config"
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
	return errors.Join(errs...)
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
	p := StackProps{
		AssetDir:    str(CtxAssets),
		Environment: Environment(str(CtxEnv)),
		AlertEmail:  str(CtxAlertEmail),
		JWTIssuer:   str(CtxJWTIssuer),
	}
	switch v := get(CtxJWTAudience).(type) {
	case nil:
	case string:
		for _, a := range strings.Split(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				p.JWTAudience = append(p.JWTAudience, a)
			}
		}
	case []any:
		for _, a := range v {
			s, ok := a.(string)
			if !ok || strings.TrimSpace(s) == "" {
				errs = append(errs, fmt.Errorf("%s: want strings, got %v", CtxJWTAudience, a))
				continue
			}
			p.JWTAudience = append(p.JWTAudience, strings.TrimSpace(s))
		}
	default:
		errs = append(errs, fmt.Errorf("%s: want a comma-separated string or a list, got %v", CtxJWTAudience, v))
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
