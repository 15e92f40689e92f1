// Package localdev runs the whole of Pajarito on one machine with no AWS account:
// the same handlers as the Lambda functions, with local stand-ins for the AWS parts.
//
//	API Gateway          → an HTTP server on Options.Addr (the same routes)
//	SQS                  → goaws in-process (package localsqs): inbound and
//	                       outbound queues, each with its DLQ
//	SQS event source     → a eventsource.Poller per queue, honouring batchItemFailures:
//	                       inbound → the processor, outbound → the reply sender
//	SQS DLQ redrive      → dead letters moved by hand (queue.Redrive: goaws has
//	                       no message move tasks), through the journal
//	DynamoDB             → dynalite as a child process (package dynalite), with its
//	                       data under Options.DataDir
//	API Gateway JWT auth → a bearer token (Options.AgentToken)
//	EventBridge schedule → a ticker running the listener every poll interval, and
//	                       one running the monitor every monitor interval
//	SNS alert topic      → log lines (level WARN, "pajarito alert: …")
//	X API                → X itself with the brand's credentials, any X-compatible
//	                       server (Options.XBaseURL), or, with neither, the
//	                       project's fake (package xfake) seeded from events/; the
//	                       listener reads it, the reply sender posts to it, and it
//	                       holds the posts the webhook is told about, as X does
//
// The system's clock is the wall's. With the fake it may run faster
// (Options.Speed): a replayed day of conversations then takes minutes, with the
// schedules, deadlines and metrics of a day. The sample events of events/ move
// to the clock, in the fake and on their way into the webhook (redate.go), so
// that they read as news beside posts delivered with today's date.
package localdev

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/console"
	"github.com/pajarito-care/pajarito/shared/httpjson"
	"github.com/pajarito-care/pajarito/shared/listen"
	"github.com/pajarito-care/pajarito/shared/local/dynalite"
	"github.com/pajarito-care/pajarito/shared/local/eventsource"
	"github.com/pajarito-care/pajarito/shared/local/localsqs"
	"github.com/pajarito-care/pajarito/shared/local/xfake"
	"github.com/pajarito-care/pajarito/shared/monitor"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/sender"
	"github.com/pajarito-care/pajarito/shared/settings"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/wire"
	agentapibuild "github.com/pajarito-care/pajarito/shared/wire/agentapi"
	listenbuild "github.com/pajarito-care/pajarito/shared/wire/listen"
	monitorbuild "github.com/pajarito-care/pajarito/shared/wire/monitor"
	"github.com/pajarito-care/pajarito/shared/wire/process"
	"github.com/pajarito-care/pajarito/shared/wire/reply"
	"github.com/pajarito-care/pajarito/shared/wire/webhook"
	"github.com/pajarito-care/pajarito/shared/xapi"
	"github.com/pajarito-care/pajarito/shared/xwebhook"

	"github.com/pajarito-care/pajarito/shared/protocol"
)

// Names of the local resources.
const (
	Table         = "pajarito"
	InboundQueue  = "pajarito-inbound"
	InboundDLQ    = "pajarito-inbound-dlq"
	OutboundQueue = "pajarito-outbound"
	OutboundDLQ   = "pajarito-outbound-dlq"
	// Receives before the DLQ, as in the stack (infra/queues.go).
	maxReceives         = 5
	outboundMaxReceives = 15
	shutdownTimeout     = 10 * time.Second
)

// Options configure the local system.
type Options struct {
	// Addr is the HTTP listen address, e.g. "127.0.0.1:8080" (":0" for a free port).
	Addr string
	// DataDir keeps DynamoDB's data between runs; "" keeps it in memory.
	DataDir string
	// Config is the deployment configuration (brand, retention).
	Config *config.Config
	// Secret is the webhook HMAC key (X consumer secret).
	Secret []byte
	// AgentToken is the bearer token of the agent API of the machine's
	// operator ("Local agent", an admin).
	AgentToken string
	// Team are more people, each with their own token and role (pajarito dev
	// --team), so that several can work side by side.
	Team []agentapi.Person
	// Root is the repository root, where node_modules is ("" = found from the
	// working directory).
	Root string
	// Log receives the system's JSON logs.
	Log *slog.Logger
	// Stderr receives dynalite's own output (nil = discarded).
	Stderr io.Writer

	// XCredentials are the brand account's X credentials. When they are empty and
	// XBaseURL is too, the listener reads a local fake of the X API seeded with
	// the posts of SeedEvents.
	XCredentials xapi.Credentials
	// XBaseURL sends the X client to that X-API-compatible server (any non-empty
	// credentials are then accepted).
	XBaseURL string
	// SeedEvents is the folder of sample events the fake X API is seeded from
	// (required when the fake runs).
	SeedEvents string
	// PollInterval overrides the configuration's poll interval (tests).
	PollInterval time.Duration
	// Speed makes the system's clock run that many times faster than the wall
	// (0 means 1): the schedules run that much more often, and deadlines, crisis
	// windows and metrics see the time pass that much faster. Only the fake X API
	// can follow such a clock, so Speed above 1 needs it.
	Speed float64
}

// System is a running local Pajarito.
type System struct {
	// URL is the base URL of the HTTP server, e.g. "http://127.0.0.1:8080".
	URL string
	// DynamoEndpoint and SQSEndpoint are the local stand-ins' endpoints.
	DynamoEndpoint string
	SQSEndpoint    string
	// Store is the system's DynamoDB store.
	Store *store.Store
	// XAPI is the X API the listener reads: X, the server of Options.XBaseURL or
	// the fake's URL; XFake is the fake when it runs.
	XAPI  string
	XFake *xfake.Server
	// PollInterval is how often the listener runs, on the system's clock.
	PollInterval time.Duration
	// Speed is how many times faster than the wall the system's clock runs.
	Speed float64

	log   *slog.Logger
	x     *xapi.Client     // the X API client of the listener and the sender
	clock func() time.Time // their clock (the fake's, with it)
	// samples moves the sample events to the clock, with the fake X API.
	samples *sampleShift
	journal *localsqs.Journal // nil with the data in memory
	dyn     *dynalite.Server
	sqs     *localsqs.Server
	http    *http.Server
	// xchat are the brand's X Chat parts, with the fake X API.
	xchat *xchatParts
	// cleanup runs at Close, after everything else stopped.
	cleanup []func()
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	once    sync.Once
	err     error
}

// Start starts every part and returns when the system answers HTTP. Close stops it.
func Start(ctx context.Context, o Options) (_ *System, err error) {
	if o.Config == nil {
		return nil, errors.New("localdev: Options.Config is required")
	}
	if len(o.Secret) == 0 || o.AgentToken == "" {
		return nil, errors.New("localdev: Options.Secret and Options.AgentToken are required")
	}
	if err := checkTeam(o.AgentToken, o.Team); err != nil {
		return nil, err
	}
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	s := &System{log: log}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if err := s.startDynamoDB(ctx, o); err != nil {
		return nil, err
	}
	q, err := s.startSQS(ctx, o)
	if err != nil {
		return nil, err
	}
	listener, err := s.startX(ctx, o, q.inbound, log)
	if err != nil {
		return nil, err
	}
	if s.XFake != nil {
		if s.xchat, err = s.setUpXChat(ctx, o); err != nil {
			return nil, err
		}
	}
	fns, err := s.functions(o, q, listener)
	if err != nil {
		return nil, err
	}
	if err := s.serve(o.Addr, fns.routes); err != nil {
		return nil, err
	}
	s.run(o, fns)
	if s.XFake != nil {
		if err := s.registerWebhook(ctx, o); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// startDynamoDB starts dynalite, with its data under o.DataDir, and creates the
// table.
func (s *System) startDynamoDB(ctx context.Context, o Options) (err error) {
	s.dyn, err = dynalite.Start(ctx, dynalite.Options{Dir: o.DataDir, Root: o.Root, Stderr: o.Stderr})
	if err != nil {
		return fmt.Errorf("localdev: DynamoDB (dynalite): %w", err)
	}
	s.DynamoEndpoint = s.dyn.Endpoint
	client, err := store.NewClient(ctx, s.dyn.Endpoint)
	if err != nil {
		return fmt.Errorf("localdev: %w", err)
	}
	s.Store = wire.NewStore(o.Config, client, Table, s.log)
	if err := s.Store.CreateTable(ctx); err != nil {
		return fmt.Errorf("localdev: %w", err)
	}
	return nil
}

// queues are the local SQS as the functions use it.
type queues struct {
	// client is goaws, through the journal when the data is on disk.
	client queue.API
	// goaws is goaws itself, for what the journal does not pass on.
	goaws                       *sqs.Client
	inbound, dlq, outbound      *queue.Sender
	outboundURL, outboundDLQURL string
}

// startSQS starts goaws with the four queues and, with the data on disk, the
// journal that keeps what they hold.
func (s *System) startSQS(ctx context.Context, o Options) (*queues, error) {
	var err error
	s.sqs, err = localsqs.Start(localsqs.Queue{Name: InboundQueue}, localsqs.Queue{Name: InboundDLQ}, localsqs.Queue{Name: OutboundQueue}, localsqs.Queue{Name: OutboundDLQ})
	if err != nil {
		return nil, fmt.Errorf("localdev: SQS (goaws): %w", err)
	}
	s.SQSEndpoint = s.sqs.Endpoint
	goaws := s.sqs.Client(ctx)
	var client queue.API = goaws
	if o.DataDir != "" {
		// goaws keeps messages in memory: the journal keeps on disk every message
		// accepted and not yet done, and sends it back to its queue at start.
		urls := map[string]string{}
		for _, q := range []string{InboundQueue, InboundDLQ, OutboundQueue, OutboundDLQ} {
			urls[q] = s.sqs.QueueURL(q)
		}
		j, rec, err := localsqs.OpenJournal(ctx, filepath.Join(o.DataDir, "queues"), goaws, urls)
		if err != nil {
			return nil, fmt.Errorf("localdev: %w", err)
		}
		s.journal, client = j, j
		if n := rec[InboundQueue] + rec[OutboundQueue] + rec[InboundDLQ] + rec[OutboundDLQ]; n > 0 {
			s.log.Info("localdev: recovered what the last run accepted and had not finished",
				"deliveries", rec[InboundQueue], "replies", rec[OutboundQueue], "inbound_dead_letters", rec[InboundDLQ], "outbound_dead_letters", rec[OutboundDLQ])
		}
	}
	return &queues{
		client:      client,
		goaws:       goaws,
		inbound:     &queue.Sender{Client: client, URL: s.sqs.QueueURL(InboundQueue), Log: s.log},
		dlq:         &queue.Sender{Client: client, URL: s.sqs.QueueURL(InboundDLQ), Log: s.log},
		outbound:    &queue.Sender{Client: client, URL: s.sqs.QueueURL(OutboundQueue), Log: s.log},
		outboundURL: s.sqs.QueueURL(OutboundQueue), outboundDLQURL: s.sqs.QueueURL(OutboundDLQ),
	}, nil
}

// running are the functions as the local system runs them: the queues'
// pollers, the schedules' runs, and the HTTP routes.
type running struct {
	inbound, outbound *eventsource.Poller
	listener          *listen.Listener
	monitor           *monitor.Monitor
	routes            http.Handler
}

// functions builds the functions with the builders of package wire, as in
// AWS, on the local stand-ins. One clock for the whole system: the wall's,
// Speed times faster with the fake X API (whose samples move to it,
// redate.go); cases, decisions, replies, deadlines and daily metrics then agree
// with the posts' own times. The metrics CloudWatch reads in AWS would drown
// the log here: they are dropped. Alerts are logged.
func (s *System) functions(o Options, q *queues, listener *listen.Listener) (*running, error) {
	log := s.log
	s.Store.Now = s.clock
	deps := process.Deps{Common: s.common(o), Outbox: q.outbound, DeadLetter: q.dlq}
	var delayer sender.Delayer = &queue.Visibility{Client: q.client, URL: q.outboundURL}
	if s.Speed != 1 {
		// The sender's waits are on the system's clock; SQS's on the wall's.
		delayer = wallDelayer{next: delayer, speed: s.Speed}
	}
	replyDeps := reply.Deps{
		Common: s.common(o), X: s.x, Delayer: delayer,
		// The only sender on this data: claims from before its start are a killed run's.
		Epoch: s.clock(),
	}
	if s.xchat != nil && s.xchat.opener != nil && s.xchat.sender != nil {
		deps.XChat, replyDeps.XChat = s.xchat.opener, s.xchat.sender
	}
	proc, err := process.New(deps)
	if err != nil {
		return nil, fmt.Errorf("localdev: %w", err)
	}
	send, err := reply.New(replyDeps)
	if err != nil {
		return nil, fmt.Errorf("localdev: %w", err)
	}
	mon, err := monitorbuild.New(monitorbuild.Deps{Common: s.common(o), Outbox: q.outbound})
	if err != nil {
		return nil, fmt.Errorf("localdev: %w", err)
	}
	routes, err := s.routes(o, q)
	if err != nil {
		return nil, err
	}
	return &running{
		inbound: &eventsource.Poller{
			Client: q.client, URL: q.inbound.URL, Handler: proc.Handle,
			DeadLetterURL: q.dlq.URL, MaxReceives: maxReceives, Log: log,
		},
		outbound: &eventsource.Poller{
			Client: q.client, URL: q.outboundURL, Handler: send.Handle, BatchSize: 5,
			DeadLetterURL: q.outboundDLQURL, MaxReceives: outboundMaxReceives, Log: log,
		},
		listener: listener,
		monitor:  mon,
		routes:   routes,
	}, nil
}

// common are what every function here is built with: the configuration, the
// store and the system's clock, without CloudWatch's metrics (in AWS CloudWatch
// reads them; here they would drown the log).
func (s *System) common(o Options) wire.Common {
	return wire.Common{Config: o.Config, Store: s.Store, Metrics: io.Discard, Now: s.clock, Log: s.log}
}

// routes are the HTTP routes of API Gateway: the webhook, the agent API (a
// bearer token in place of the JWT authorizer) and the console.
func (s *System) routes(o Options, q *queues) (http.Handler, error) {
	// goaws has no message move tasks: dead letters move by hand, through the
	// journal (when the data is on disk), which keeps what moves.
	deadLetters := &queue.Redrive{Client: localQueues{API: q.client, goaws: q.goaws}, Log: s.log, Queues: []queue.DeadLetterQueue{
		s.deadLetterQueue(agentapi.QueueInbound, InboundQueue, InboundDLQ),
		s.deadLetterQueue(agentapi.QueueOutbound, OutboundQueue, OutboundDLQ),
	}}
	checks := agentapibuild.HealthChecks(o.Config, s.Store, s.x, nil, o.Secret, deadLetters, nil)
	checks.Now = s.clock
	api, err := agentapibuild.New(agentapibuild.Deps{
		Common: s.common(o), Outbox: q.outbound,
		Inbox: q.inbound, DeadLetters: deadLetters, Health: checks,
		Auth: append(agentapi.Tokens{{Token: o.AgentToken, Agent: agentapi.Agent{ID: "local", Name: "Local agent", Role: agentapi.RoleAdmin}}}, o.Team...),
	})
	if err != nil {
		return nil, fmt.Errorf("localdev: %w", err)
	}
	var hook http.Handler = webhook.Handler(o.Config.Brand, o.Secret, q.inbound, s.log)
	if s.XFake != nil {
		hook = s.showFake(o.Secret, hook)
	}
	con, err := console.New(console.Config{}) // a token in the sign-in link
	if err != nil {
		return nil, fmt.Errorf("localdev: %w", err)
	}
	return boot.Routes(hook, api, con, console.Prefix, boot.Clock{Now: s.clock, Speed: s.Speed}), nil
}

// serve starts the HTTP server on addr.
func (s *System) serve(addr string, routes http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("localdev: listen on %s: %w (choose another with --addr)", addr, err)
	}
	s.URL = "http://" + ln.Addr().String()
	s.http = &http.Server{Handler: routes, ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("localdev: HTTP server stopped", "error", err.Error())
		}
	}()
	return nil
}

// run runs the pollers, as SQS event source mappings do, and the listener and
// the monitor on their schedules, until Close.
func (s *System) run(o Options, fns *running) {
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(4)
	go func() {
		defer s.wg.Done()
		if err := fns.inbound.Run(runCtx); err != nil {
			s.log.Error("localdev: inbound poller stopped", "error", err.Error())
		}
	}()
	go func() {
		defer s.wg.Done()
		if err := fns.outbound.Run(runCtx); err != nil {
			s.log.Error("localdev: outbound poller stopped", "error", err.Error())
		}
	}()
	go func() {
		defer s.wg.Done()
		s.every(runCtx, s.wall(s.PollInterval), "listener", func(ctx context.Context) error {
			_, err := fns.listener.Run(ctx)
			return err
		})
	}()
	go func() {
		defer s.wg.Done()
		s.every(runCtx, s.wall(o.Config.MonitorInterval.Std()), "monitor", func(ctx context.Context) error {
			_, err := fns.monitor.Run(ctx)
			return err
		})
	}()
}

// registerWebhook registers the system's webhook with the fake X API and
// subscribes the brand to it, as pajarito webhook register does with X (the
// fake checks the webhook's CRC answer): the fake delivers nothing, but holds
// what X would, so that pajarito doctor finds the local system as a deployment.
func (s *System) registerWebhook(ctx context.Context, o Options) error {
	s.XFake.SetConsumerSecret(string(o.Secret))
	h, err := s.x.CreateWebhook(ctx, s.URL+"/webhooks/x")
	if err != nil {
		return fmt.Errorf("localdev: register the webhook with the fake X API: %w", err)
	}
	for _, ev := range xwebhook.SubscribedEvents {
		sub := xapi.NewActivitySubscription{EventType: ev, Filter: xapi.ActivityFilter{UserID: o.Config.Brand.ID}, WebhookID: h.ID}
		if _, err := s.x.CreateActivitySubscription(ctx, sub); err != nil {
			return fmt.Errorf("localdev: subscribe the brand to %s on the fake X API: %w", ev, err)
		}
	}
	return nil
}

// deadLetterQueue is the local dead-letter queue dlq of the queue source, which
// the agent API names name.
func (s *System) deadLetterQueue(name, source, dlq string) queue.DeadLetterQueue {
	return queue.DeadLetterQueue{
		Name: name, URL: s.sqs.QueueURL(dlq), ARN: localsqs.ARN(dlq),
		SourceURL: s.sqs.QueueURL(source), SourceARN: localsqs.ARN(source),
	}
}

// localQueues is the local SQS as a queue.Redrive uses it: messages move through
// API (the journal, when the data is on disk); depths come from goaws, corrected
// for its quirk: its ApproximateNumberOfMessages counts the messages in flight
// too (see package localsqs).
type localQueues struct {
	queue.API
	goaws *sqs.Client
}

func (q localQueues) GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	out, err := q.goaws.GetQueueAttributes(ctx, in, optFns...)
	if err != nil {
		return nil, err
	}
	visible, inFlight := string(sqstypes.QueueAttributeNameApproximateNumberOfMessages), string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)
	all, err1 := strconv.Atoi(out.Attributes[visible])
	flying, err2 := strconv.Atoi(out.Attributes[inFlight])
	if err1 == nil && err2 == nil {
		out.Attributes[visible] = strconv.Itoa(max(all-flying, 0))
	}
	return out, nil
}

// startX builds the listener over X, an X-compatible server, or the fake X API.
func (s *System) startX(ctx context.Context, o Options, q *queue.Sender, log *slog.Logger) (*listen.Listener, error) {
	creds, base := o.XCredentials, o.XBaseURL
	cfg, clock := o.Config, time.Now
	s.Speed = o.Speed
	if s.Speed <= 0 {
		s.Speed = 1
	}
	if s.Speed != 1 && (base != "" || creds.APIKey != "") {
		return nil, fmt.Errorf("localdev: a clock at %gx needs the fake X API (X and X-compatible servers keep the wall clock): unset the X credentials and %s, or run at speed 1", s.Speed, settings.EnvXBaseURL)
	}
	switch {
	case base != "" && creds.APIKey == "":
		creds = placeholderCredentials(o.Config)
	case base == "" && creds.APIKey == "":
		dir := o.SeedEvents
		if dir == "" {
			return nil, errors.New("localdev: with no X credentials nor XBaseURL, Options.SeedEvents must name the sample events that seed the fake X API")
		}
		posts, users, err := xfake.SeedFromEvents(dir)
		if err != nil {
			return nil, fmt.Errorf("localdev: seed the fake X API from %s: %w", dir, err)
		}
		files, err := xfake.SampleFiles(dir)
		if err != nil {
			return nil, fmt.Errorf("localdev: seed the fake X API from %s: %w", dir, err)
		}
		// The clock is the wall's, Speed times faster from now, or from where
		// the data's last run left it (clock.go); the samples move to the
		// wall's now (redate.go), and the first run looks back far enough to
		// find every one of them.
		start := time.Now()
		if clock, err = newClock(o.DataDir, s.Speed, start); err != nil {
			return nil, err
		}
		if s.samples, err = newSampleShift(files, posts, start); err != nil {
			return nil, err
		}
		if o.DataDir != "" {
			// The samples keep the ids of the first run on this data: moved anew,
			// they would be new posts to the listener, and new cases.
			if err := s.samples.keep(filepath.Join(o.DataDir, sampleShiftFile)); err != nil {
				return nil, err
			}
		}
		for i := range posts {
			posts[i] = s.samples.post(posts[i])
		}
		oldest, _ := xfake.Span(posts)
		s.XFake = xfake.Start()
		if o.DataDir != "" {
			// X keeps its posts: the fake keeps them with the data, so that
			// replies to posts of an earlier run still find them.
			if err := s.XFake.Keep(filepath.Join(o.DataDir, "xfake.jsonl")); err != nil {
				return nil, fmt.Errorf("localdev: %w", err)
			}
		}
		s.XFake.SetClock(clock)
		s.XFake.SetMe(o.Config.Brand.ID)
		s.XFake.SetUser(users...)
		s.XFake.Seed(posts...)
		cfg = new(config.Config)
		*cfg = *o.Config
		cfg.Lookback = protocol.DurationOf(clock().Sub(oldest) + time.Minute)
		creds, base = placeholderCredentials(o.Config), s.XFake.URL
	}
	s.XAPI = base
	if s.XAPI == "" {
		s.XAPI = xapi.DefaultBaseURL
	}
	x, err := xapi.New(creds, xapi.Options{Brand: o.Config.Brand, BaseURL: base, Log: log})
	if err != nil {
		return nil, fmt.Errorf("localdev: %w", err)
	}
	s.x, s.clock = x, clock
	s.PollInterval = o.PollInterval
	if s.PollInterval <= 0 {
		s.PollInterval = o.Config.PollInterval.Std()
	}
	return listenbuild.New(listenbuild.Deps{
		Common: wire.Common{Config: cfg, Store: s.Store, Metrics: io.Discard, Now: clock, Log: log},
		X:      x, Inbox: q,
	}), nil
}

// wall returns how long d on the system's clock lasts on the wall, at least a
// tenth of a second so that a fast clock does not spin its schedules.
func (s *System) wall(d time.Duration) time.Duration {
	return max(time.Duration(float64(d)/s.Speed), 100*time.Millisecond)
}

// showFake shows the fake X API the posts of every signed webhook delivery
// before handling it, as X holds every post it notifies about: the reply sender
// can then answer posts that reached the system only through the webhook
// (pajarito replay). What the fake cannot read is left to the webhook to judge.
func (s *System) showFake(secret []byte, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, xwebhook.DefaultMaxBody+1))
		if err != nil {
			httpjson.WriteError(w, http.StatusBadRequest, "unreadable_body", "request body could not be read")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if xwebhook.Verify(secret, body, r.Header.Get(xwebhook.SignatureHeader)) == nil {
			if moved, n := s.samples.body(body); n > 0 {
				s.log.Info("localdev: a sample delivery re-dated to the local clock, and signed again",
					"times_moved", n, "by", s.samples.by.Round(time.Second).String())
				body = moved
				r.Body = io.NopCloser(bytes.NewReader(body))
				r.ContentLength = int64(len(body))
				r.Header.Set(xwebhook.SignatureHeader, xwebhook.Sign(secret, body))
			}
			if posts, users, err := xfake.EventPosts(body); err == nil {
				s.XFake.SetUser(users...)
				s.XFake.Seed(posts...)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// placeholderCredentials stand in for real ones in front of a fake or an
// X-compatible server, which accept any.
func placeholderCredentials(cfg *config.Config) xapi.Credentials {
	return xapi.Credentials{
		APIKey: "local", APISecret: "local",
		AccessToken: cfg.Brand.ID + "-local", AccessTokenSecret: "local", BearerToken: "local",
		Source: "local dev system",
	}
}

// every runs run now and then every interval until ctx ends, as a schedule does.
func (s *System) every(ctx context.Context, interval time.Duration, name string, run func(context.Context) error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := run(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("localdev: "+name+" run failed", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close stops the system: it stops taking HTTP requests, lets the processor finish
// what is queued (for a few seconds), then stops the queue and DynamoDB.
func (s *System) Close() error {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if s.http != nil {
			if err := s.http.Shutdown(ctx); err != nil {
				s.err = errors.Join(s.err, fmt.Errorf("localdev: HTTP shutdown: %w", err))
			}
		}
		if s.sqs != nil && s.cancel != nil {
			s.drain(ctx)
		}
		if s.cancel != nil {
			s.cancel()
		}
		s.wg.Wait()
		if s.sqs != nil {
			s.sqs.Close()
		}
		if s.journal != nil {
			if err := s.journal.Close(); err != nil {
				s.err = errors.Join(s.err, err)
			}
		}
		if s.XFake != nil {
			s.XFake.Close()
		}
		if s.dyn != nil {
			if err := s.dyn.Close(); err != nil {
				s.err = errors.Join(s.err, err)
			}
		}
		for _, f := range s.cleanup {
			f()
		}
	})
	return s.err
}

// drain waits until the inbound and outbound queues are empty or ctx ends: goaws
// keeps messages in memory only, so with the data in memory what is still queued
// at exit is lost (replies waiting for X's rate limits or the send budget
// included); with a data folder the journal keeps it for the next start.
func (s *System) drain(ctx context.Context) {
	for {
		queued := 0
		for _, q := range []string{InboundQueue, OutboundQueue} {
			visible, inFlight, err := s.sqs.Counts(q)
			if err != nil {
				return
			}
			queued += visible + inFlight
		}
		if queued == 0 {
			return
		}
		select {
		case <-ctx.Done():
			if s.journal != nil {
				s.log.Info("localdev: stopping with messages still queued; the journal keeps them for the next start", "queued", queued)
			} else {
				s.log.Warn("localdev: stopping with messages still queued; they are lost with the in-memory queues (--memory)", "queued", queued)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Idle reports whether the inbound queue is empty (nothing waits to be processed).
func (s *System) Idle() bool {
	visible, inFlight, err := s.sqs.Counts(InboundQueue)
	return err == nil && visible+inFlight == 0
}

// checkTeam refuses a team whose people lack a valid id, role or token of
// their own.
func checkTeam(operator string, team []agentapi.Person) error {
	tokens, ids := map[string]bool{operator: true}, map[string]bool{"local": true}
	for _, p := range team {
		switch {
		case p.ID == "" || ids[p.ID]:
			return fmt.Errorf("localdev: team member %q: each person needs an id of their own (local is the operator's)", p.ID)
		case !p.Role.Valid():
			return fmt.Errorf("localdev: team member %s: role %q is not admin, agent or contributor", p.ID, p.Role)
		case p.Token == "" || tokens[p.Token]:
			return fmt.Errorf("localdev: team member %s: each person needs a token of their own", p.ID)
		}
		tokens[p.Token], ids[p.ID] = true, true
	}
	return nil
}
