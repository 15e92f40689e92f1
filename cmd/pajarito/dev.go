package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/local/localdev"
	"github.com/pajarito-care/pajarito/shared/settings"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "HTTP listen address")
	data := fs.String("data", ".pajarito", "folder that keeps the local DynamoDB data between runs")
	memory := fs.Bool("memory", false, "keep no data: DynamoDB in memory")
	speed := fs.Float64("speed", 1, "run the system's clock this many times faster than the wall, schedules included (needs the fake X API); replay conversations at the same speed: pajarito replay --speed 60x events/conversations/")
	teamFlag := fs.String("team", "", `more people, each with a token of their own, to work side by side: id=role pairs, comma-separated (roles admin, agent, contributor), e.g. "ana=agent,beto=agent,carla=contributor"`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	team, err := parseTeam(*teamFlag)
	if err != nil {
		return fmt.Errorf("dev: --team: %w", err)
	}
	if *speed <= 0 || *speed > 1e6 {
		return fmt.Errorf("dev: --speed %g: want how many times faster than the wall the clock runs, e.g. 60 (1 is real time)", *speed)
	}
	log, err := boot.Logger(stderr, os.Getenv)
	if err != nil {
		return err
	}
	cfgPath, err := config.Find(nil)
	if err != nil {
		return err
	}
	cfg, err := config.Load(cfgPath, nil)
	if err != nil {
		return err
	}
	xBase := os.Getenv(settings.EnvXBaseURL)
	xCreds, err := xapi.CredentialsFromEnv(os.Getenv)
	if err != nil && !errors.Is(err, xapi.ErrNoCredentials) {
		return err // some set, some missing: the error names them
	}

	secret, secretFrom := os.Getenv(settings.EnvConsumerSecret), settings.EnvConsumerSecret
	if secret == "" {
		secret, secretFrom = devSecret, "built-in dev secret; set "+settings.EnvConsumerSecret+" to use yours"
	}
	token, tokenFrom := os.Getenv("PAJARITO_AGENT_TOKEN"), "PAJARITO_AGENT_TOKEN"
	if token == "" {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		token, tokenFrom = hex.EncodeToString(b), "random for this run; set PAJARITO_AGENT_TOKEN to keep one"
	}
	dataDir := ""
	if !*memory {
		if dataDir, err = filepath.Abs(*data); err != nil {
			return err
		}
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			return fmt.Errorf("dev: data folder: %w", err)
		}
	}

	sys, err := localdev.Start(ctx, localdev.Options{
		Addr:         *addr,
		DataDir:      dataDir,
		Config:       cfg,
		Secret:       []byte(secret),
		AgentToken:   token,
		Team:         team,
		Log:          log,
		XCredentials: xCreds,
		XBaseURL:     xBase,
		SeedEvents:   filepath.Join(filepath.Dir(cfgPath), "events"),
		Speed:        *speed,
	})
	if err != nil {
		return err
	}
	printBanner(stdout, sys, cfg, dataDir, token, tokenFrom, secretFrom, team)
	<-ctx.Done()
	fmt.Fprintln(stdout, "\nStopping: finishing queued work, then the queue and DynamoDB…")
	if err := sys.Close(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "Stopped.")
	return nil
}

// bannerEnd is the banner's last line: who reads the output (a person, a test,
// a script) knows the banner is whole when it appears.
const bannerEnd = "Logs (JSON) go to stderr. Ctrl-C stops everything."

// printBanner writes the banner to out in one write, so that no reader sees a
// part of it.
func printBanner(out io.Writer, sys *localdev.System, cfg *config.Config, dataDir, token, tokenFrom, secretFrom string, team []agentapi.Person) {
	var b bytes.Buffer
	w := &b
	defer func() { _, _ = out.Write(b.Bytes()) }()
	queues := "journaled in " + filepath.Join(dataDir, "queues") + ": what is accepted survives a crash"
	if dataDir == "" {
		dataDir = "in memory (--memory)"
		queues = "in memory (--memory): what is queued is lost when it stops"
	}
	fmt.Fprintf(w, "Pajarito is running locally for @%s (id %s).\n\n", cfg.Brand.Handle, cfg.Brand.ID)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  X webhook\t%s/webhooks/x\t(GET ?crc_token=… for X's CRC, POST for events)\n", sys.URL)
	fmt.Fprintf(tw, "  Console\t%s/console/#token=%s\t(open it in your browser: the agents' inbox)\n", sys.URL, token)
	fmt.Fprintf(tw, "  Agent API\t%s/v1/cases\t(Authorization: Bearer <token>)\n", sys.URL)
	fmt.Fprintf(tw, "  Health\t%s/healthz\t\n", sys.URL)
	fmt.Fprintf(tw, "  Agent token\t%s\t(%s; Local agent, admin)\n", token, tokenFrom)
	for _, p := range team {
		fmt.Fprintf(tw, "  %s (%s)\t%s/console/#token=%s\t(their own sign-in link)\n", p.Name, p.Role, sys.URL, p.Token)
	}
	fmt.Fprintf(tw, "  Webhook secret\t%s\t\n", secretFrom)
	fmt.Fprintf(tw, "  DynamoDB\t%s\tdynalite, data: %s\n", sys.DynamoEndpoint, dataDir)
	fmt.Fprintf(tw, "  SQS\t%s\tgoaws in-process, %s\n", sys.SQSEndpoint, queues)
	xNote := "X itself, with the brand's credentials"
	switch {
	case sys.XFake != nil:
		xNote = "local fake seeded from events/ (set X_API_KEY… to use X)"
	case os.Getenv(settings.EnvXBaseURL) != "":
		xNote = settings.EnvXBaseURL
	}
	fmt.Fprintf(tw, "  X API\t%s\t%s\n", sys.XAPI, xNote)
	if sys.Speed != 1 {
		fmt.Fprintf(tw, "  Clock\t%gx\tan hour passes in %s; replay at the same speed\n", sys.Speed, (time.Duration(float64(time.Hour) / sys.Speed)).Round(time.Second))
	}
	fmt.Fprintf(tw, "  Listener\tevery %s\tmentions + keyword searches (%d sources, budget $%.2f/month)\n", sys.PollInterval, len(cfg.ListenSources()), cfg.XBudget.MonthlyUSD)
	tw.Flush()
	fmt.Fprintf(w, "\nTry it:\n  go run ./cmd/pajarito replay --url %s/webhooks/x events/\n", sys.URL)
	if sys.Speed != 1 {
		fmt.Fprintf(w, "  go run ./cmd/pajarito replay --url %s/webhooks/x --speed %gx events/conversations/\n", sys.URL, sys.Speed)
	} else {
		fmt.Fprintf(w, "  go run ./cmd/pajarito replay --url %s/webhooks/x events/conversations/   (a recorded day, at once)\n", sys.URL)
	}
	fmt.Fprintf(w, "  curl -s -H 'Authorization: Bearer %s' %s/v1/cases\n\n%s\n", token, sys.URL, bannerEnd)
}

// parseTeam reads --team: "id=role" pairs, comma-separated. Each person gets a
// random token for this run, and their id, capitalised, as their name.
func parseTeam(v string) ([]agentapi.Person, error) {
	var team []agentapi.Person
	for pair := range strings.SplitSeq(v, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		id, roleName, ok := strings.Cut(pair, "=")
		id = strings.TrimSpace(id)
		if !ok || id == "" || strings.ContainsAny(id, " /#") {
			return nil, fmt.Errorf("%q: want id=role, e.g. ana=agent", pair)
		}
		role, err := agentapi.ParseRole(roleName)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", pair, err)
		}
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		team = append(team, agentapi.Person{Token: hex.EncodeToString(b),
			Agent: agentapi.Agent{ID: id, Name: strings.ToUpper(id[:1]) + id[1:], Role: role}})
	}
	return team, nil
}
