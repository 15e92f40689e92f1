// Package boot starts Pajarito's processes: the JSON logger, the AWS SDK
// configuration, the deployment's configuration and the environment settings a
// function is built from (Load), the public HTTP routes (Routes), and a Lambda
// function's main (Run). It links no component: each function's builder (package
// wire, and wire/webhook for the webhook) adds only what that function uses.
package boot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/httpjson"
	"github.com/pajarito-care/pajarito/shared/settings"
)

// Logger returns the JSON logger every component logs through, at the level named
// by PAJARITO_LOG_LEVEL (debug, info, warn, error; info by default).
func Logger(w io.Writer, getenv func(string) string) (*slog.Logger, error) {
	var level slog.Level
	if v := getenv(settings.EnvLogLevel); v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			return nil, fmt.Errorf("config: %s=%q: use debug, info, warn or error", settings.EnvLogLevel, v)
		}
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})), nil
}

// AWS loads the AWS SDK configuration the usual way (environment, Lambda role).
// AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_SQS point the clients at local
// stand-ins.
func AWS(ctx context.Context) (aws.Config, error) {
	c, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws config: %w", err)
	}
	return c, nil
}

// Setup is what every function is built from: the deployment's configuration, the
// environment settings it needs, and the AWS SDK configuration.
type Setup struct {
	Config *config.Config
	Env    map[string]string
	AWS    aws.Config
}

// Load reads the configuration and the named environment variables (Env), then
// the AWS configuration.
func Load(ctx context.Context, getenv func(string) string, names ...string) (*Setup, error) {
	cfg, err := config.FromEnvironment(getenv)
	if err != nil {
		return nil, err
	}
	env, err := Env(getenv, names...)
	if err != nil {
		return nil, err
	}
	awsCfg, err := AWS(ctx)
	if err != nil {
		return nil, err
	}
	return &Setup{Config: cfg, Env: env, AWS: awsCfg}, nil
}

// Env reads the named environment variables, reporting every missing one at
// once, with what it holds (settings.Help).
func Env(getenv func(string) string, names ...string) (map[string]string, error) {
	env := make(map[string]string, len(names))
	var missing []string
	for _, name := range names {
		v, err := config.Setting(getenv, name, settings.Help[name])
		if err != nil {
			missing = append(missing, err.Error())
			continue
		}
		env[name] = v
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, errors.New(strings.Join(missing, "; "))
	}
	return env, nil
}

// Clock is the time a server runs on: the wall clock in AWS, where the zero
// Clock stands for it; the local system's, which may run faster than the wall
// (pajarito dev --speed). GET /healthz reports it, and pajarito replay paces
// recorded conversations by it.
type Clock struct {
	Now   func() time.Time // nil: time.Now
	Speed float64          // clock seconds per real second; 0 means 1
}

// Health is the answer of GET /healthz.
type Health struct {
	Status string    `json:"status"`
	Time   time.Time `json:"time"`
	// ClockSpeed is how many seconds the server's clock moves in one real second.
	ClockSpeed float64 `json:"clock_speed"`
}

// Routes mounts the public HTTP routes: the X webhook at /webhooks/x, the agent
// API under /v1/, the web console under consolePrefix (package console's
// Prefix, a path ending in "/"), and GET /healthz, which reports clock. A nil
// handler leaves its routes out (each Lambda function serves its own share; the
// local system serves all of them).
func Routes(webhook, api, con http.Handler, consolePrefix string, clock Clock) http.Handler {
	if clock.Now == nil {
		clock.Now = time.Now
	}
	if clock.Speed <= 0 {
		clock.Speed = 1
	}
	mux := http.NewServeMux()
	if webhook != nil {
		mux.Handle("/webhooks/x", webhook)
	}
	if api != nil {
		mux.Handle("/v1/", api)
	}
	if con != nil {
		mux.Handle(strings.TrimSuffix(consolePrefix, "/"), con)
		mux.Handle(consolePrefix, con)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		httpjson.Write(w, http.StatusOK, Health{Status: "ok", Time: clock.Now().UTC(), ClockSpeed: clock.Speed})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		httpjson.WriteError(w, http.StatusNotFound, "not_found", "no route "+r.Method+" "+r.URL.Path)
	})
	return mux
}

// Builder builds a Lambda handler from the environment.
type Builder[H any] func(ctx context.Context, getenv func(string) string, log *slog.Logger) (H, error)

// Run is a Lambda function's main: it builds the handler once, at init, and hands
// it to lambda.Start. A function that cannot be built logs why (naming the setting
// at fault) and exits, which Lambda reports as an init error.
func Run[H any](name string, build Builder[H], start func(H) any) {
	log, err := Logger(os.Stdout, os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
	h, err := build(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error(name+": cannot start", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(start(h))
}

// APIGateway adapts an HTTP handler to API Gateway HTTP API (payload 2.0) events.
func APIGateway(h http.Handler) any {
	return httpadapter.NewV2(h).ProxyWithContext
}
