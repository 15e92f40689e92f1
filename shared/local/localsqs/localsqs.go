// Package localsqs runs goaws (github.com/Admiral-Piett/goaws), an SQS-compatible
// server, inside the current process, so that the local system and the tests talk
// to a real SQS protocol endpoint with the real aws-sdk-go-v2 client and no AWS
// account.
//
// goaws keeps its queues in package-level variables, so a process can run only one
// Server at a time: a second Start before Close returns an error. Tests share one
// Server per test binary (start it in TestMain) and use distinct queue names.
//
// goaws logs through logrus. Its output is discarded unless LOCALSQS_DEBUG is set to a
// non-empty value, in which case it is written to stderr at debug level.
//
// # goaws v0.5.4 quirks (verified with aws-sdk-go-v2 service/sqs v1.52, AWS JSON 1.0)
//
// Supported and working: CreateQueue, GetQueueUrl, SendMessage, SendMessageBatch,
// ReceiveMessage (with WaitTimeSeconds and VisibilityTimeout), DeleteMessage,
// DeleteMessageBatch, ChangeMessageVisibility, GetQueueAttributes, PurgeQueue.
// Where it differs from SQS:
//
//   - SendMessageBatch answers with its entries under a key the SDK does not know,
//     so the output's Successful and Failed lists are always empty even though the
//     messages are queued. Callers must treat "not in Failed" as sent (package queue
//     does). SendMessageBatch also ignores MaximumMessageSize and DelaySeconds.
//   - Errors are not mapped to the SDK's typed errors (no *types.QueueDoesNotExist):
//     they arrive as a generic smithy.APIError whose ErrorCode is goaws's legacy
//     query-protocol code, e.g. "AWS.SimpleQueueService.NonExistentQueue". Unknown
//     queues in GetQueueAttributes give "InvalidParameterValue" instead.
//   - ApproximateReceiveCount is always "1": goaws never counts receives. Package
//     queue's Poller counts attempts itself.
//   - ApproximateNumberOfMessages counts every message in the queue, in flight or
//     not; ApproximateNumberOfMessagesNotVisible counts those in flight. The number
//     SQS would report as ApproximateNumberOfMessages is the difference (see
//     Server.Counts).
//   - No ChangeMessageVisibilityBatch; use ChangeMessageVisibility per message.
//   - A message whose visibility timeout ends becomes receivable again only on the
//     next housekeeping tick; this package ticks every 100 ms (goaws's own binary,
//     every second). ChangeMessageVisibility with 0 makes it visible at once.
//   - Redrive (Queue.DeadLetter) counts visibility timeouts that expired and
//     ChangeMessageVisibility calls with 0, not receives; the moved message keeps
//     its MessageId.
//   - Queues made through CreateQueue get URLs built from this server's address and
//     ARNs with an empty region ("arn:aws:sqs::000000000000:name"); the queues given
//     to Start get full ARNs in Region.
//   - FIFO queues are unreliable; Start refuses names ending in ".fifo".
//   - Message retention is not enforced.
package localsqs

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Admiral-Piett/goaws/app/gosqs"
	"github.com/Admiral-Piett/goaws/app/models"
	"github.com/Admiral-Piett/goaws/app/router"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/sirupsen/logrus"
)

// Fixed identity of the local server.
const (
	// Region is the region the Client signs for and the queue ARNs name.
	Region = "us-east-1"
	// AccountID is the account in queue URLs and ARNs.
	AccountID = "000000000000"
	// DefaultVisibilityTimeout is used when Queue.VisibilityTimeout is 0 (as in SQS).
	DefaultVisibilityTimeout = 30
	// MaxMessageBytes is the queues' maximum message size (256 KiB).
	MaxMessageBytes = 256 << 10
	// DebugEnv, when set to a non-empty value, sends goaws's logs to stderr.
	DebugEnv = "LOCALSQS_DEBUG"

	tick = 100 * time.Millisecond
)

// Queue describes a queue created when the server starts.
type Queue struct {
	// Name is the queue name (the last segment of its URL).
	Name string
	// VisibilityTimeout is the default visibility timeout in seconds
	// (DefaultVisibilityTimeout when 0).
	VisibilityTimeout int
	// DeadLetter, when set, names another queue given to the same Start, to which
	// goaws moves a message after MaxReceiveCount failed deliveries (see the package
	// doc for how goaws counts them). Leave it empty when a eventsource.Poller with
	// DeadLetterURL does the moving, as in the local system.
	DeadLetter string
	// MaxReceiveCount is the redrive threshold for DeadLetter (required with it).
	MaxReceiveCount int
}

// Server is a running goaws.
type Server struct {
	// Endpoint is the base URL of the SQS API, e.g. "http://127.0.0.1:41233".
	Endpoint string

	srv      *http.Server
	cancel   context.CancelFunc
	quit     chan bool
	tasks    chan struct{}
	closeOne sync.Once
}

var (
	mu      sync.Mutex
	running *Server
)

// Start configures goaws with queues, serves it on 127.0.0.1 on a free port and
// starts its housekeeping (visibility timeouts, redrive). goaws never reads a
// goaws.yaml: this function sets its configuration directly.
//
// Only one Server may run per process; Start returns an error while another one is
// running.
func Start(queues ...Queue) (*Server, error) {
	mu.Lock()
	defer mu.Unlock()
	if running != nil {
		return nil, fmt.Errorf("localsqs: a server is already running at %s; goaws keeps global state, so a process can run only one (share it, e.g. from TestMain)", running.Endpoint)
	}
	if err := validate(queues); err != nil {
		return nil, err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("localsqs: listen: %w", err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)

	configureLogging()
	configure(port, queues)

	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		Endpoint: "http://127.0.0.1:" + port,
		srv: &http.Server{
			Handler:           router.New(),
			ReadHeaderTimeout: 10 * time.Second,
			// Requests see this context, so Close ends long polls at once.
			BaseContext: func(net.Listener) context.Context { return ctx },
		},
		cancel: cancel,
		quit:   make(chan bool),
		tasks:  make(chan struct{}),
	}
	go func() {
		defer close(s.tasks)
		gosqs.PeriodicTasks(tick, s.quit)
	}()
	go func() { _ = s.srv.Serve(ln) }()
	running = s
	return s, nil
}

func validate(queues []Queue) error {
	names := make(map[string]bool, len(queues))
	for _, q := range queues {
		switch {
		case q.Name == "" || strings.ContainsAny(q.Name, "/:"):
			return fmt.Errorf("localsqs: queue name %q is empty or has a / or :", q.Name)
		case strings.HasSuffix(q.Name, ".fifo"):
			return fmt.Errorf("localsqs: queue %q: goaws's FIFO queues are unreliable; use standard queues locally", q.Name)
		case names[q.Name]:
			return fmt.Errorf("localsqs: queue %q is given twice", q.Name)
		case q.VisibilityTimeout < 0 || q.VisibilityTimeout > 43200:
			return fmt.Errorf("localsqs: queue %q: visibility timeout %d is outside 0–43200 s", q.Name, q.VisibilityTimeout)
		}
		names[q.Name] = true
	}
	for _, q := range queues {
		if q.DeadLetter == "" {
			continue
		}
		if !names[q.DeadLetter] || q.DeadLetter == q.Name {
			return fmt.Errorf("localsqs: queue %q: dead-letter queue %q is not another queue given to Start", q.Name, q.DeadLetter)
		}
		if q.MaxReceiveCount < 1 {
			return fmt.Errorf("localsqs: queue %q: a dead-letter queue needs MaxReceiveCount ≥ 1", q.Name)
		}
	}
	return nil
}

// configureLogging silences logrus (goaws's logger) unless DebugEnv is set.
func configureLogging() {
	if os.Getenv(DebugEnv) != "" {
		logrus.SetOutput(os.Stderr)
		logrus.SetFormatter(&logrus.JSONFormatter{})
		logrus.SetLevel(logrus.DebugLevel)
		return
	}
	logrus.SetOutput(io.Discard)
	logrus.SetLevel(logrus.PanicLevel)
}

// configure sets goaws's globals the way conf.LoadYamlConfig would, without a file.
func configure(port string, queues []Queue) {
	models.CurrentEnvironment = models.Environment{
		Host: "127.0.0.1",
		Port: port,
		// An empty region keeps the URLs goaws builds for CreateQueue resolvable
		// ("http://<region>.<host>:<port>/…" otherwise).
		Region:    "",
		AccountID: AccountID,
		QueueAttributeDefaults: models.EnvQueueAttributes{
			VisibilityTimeout:      DefaultVisibilityTimeout,
			MaximumMessageSize:     MaxMessageBytes,
			MessageRetentionPeriod: 345600,
		},
	}
	models.LogMessages = false

	models.SyncQueues.Lock()
	defer models.SyncQueues.Unlock()
	models.SyncQueues.Queues = make(map[string]*models.Queue, len(queues))
	for _, q := range queues {
		vt := q.VisibilityTimeout
		if vt == 0 {
			vt = DefaultVisibilityTimeout
		}
		models.SyncQueues.Queues[q.Name] = &models.Queue{
			Name:                   q.Name,
			URL:                    "http://127.0.0.1:" + port + "/" + AccountID + "/" + q.Name,
			Arn:                    ARN(q.Name),
			VisibilityTimeout:      vt,
			MaximumMessageSize:     MaxMessageBytes,
			MessageRetentionPeriod: 345600,
			Duplicates:             make(map[string]time.Time),
		}
	}
	for _, q := range queues {
		if q.DeadLetter != "" {
			models.SyncQueues.Queues[q.Name].DeadLetterQueue = models.SyncQueues.Queues[q.DeadLetter]
			models.SyncQueues.Queues[q.Name].MaxReceiveCount = q.MaxReceiveCount
		}
	}
}

// ARN returns the ARN of the queue name as Start creates it.
func ARN(name string) string {
	return "arn:aws:sqs:" + Region + ":" + AccountID + ":" + name
}

// QueueURL returns the URL of the queue name on this server.
func (s *Server) QueueURL(name string) string {
	return s.Endpoint + "/" + AccountID + "/" + name
}

// Client returns an SQS client for this server: static fake credentials, Region,
// and BaseEndpoint set to s.Endpoint. It reads no AWS environment variables or
// shared configuration files. ctx is unused; it is there for symmetry with
// config.LoadDefaultConfig.
func (s *Server) Client(ctx context.Context) *sqs.Client {
	_ = ctx
	return sqs.NewFromConfig(aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider("localsqs", "localsqs", ""),
	}, func(o *sqs.Options) {
		o.BaseEndpoint = aws.String(s.Endpoint)
	})
}

// SNS returns an SNS client for this server, configured like Client: goaws serves
// SNS (CreateTopic, Subscribe with protocol "sqs", Publish) on the same endpoint,
// delivering to its own queues.
func (s *Server) SNS(ctx context.Context) *sns.Client {
	_ = ctx
	return sns.NewFromConfig(aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider("localsqs", "localsqs", ""),
	}, func(o *sns.Options) {
		o.BaseEndpoint = aws.String(s.Endpoint)
	})
}

// Counts reports how many messages the queue name holds: visible (what SQS calls
// ApproximateNumberOfMessages) and in flight (received, neither deleted nor visible
// again). It reads goaws's state directly, so it is exact.
func (s *Server) Counts(name string) (visible, inFlight int, err error) {
	models.SyncQueues.RLock()
	defer models.SyncQueues.RUnlock()
	q, ok := models.SyncQueues.Queues[name]
	if !ok {
		return 0, 0, fmt.Errorf("localsqs: queue %q does not exist", name)
	}
	for _, m := range q.Messages {
		if m.ReceiptHandle != "" {
			inFlight++
		} else {
			visible++
		}
	}
	return visible, inFlight, nil
}

// Bodies returns the bodies of every message in the queue name, in flight or not, in
// queue order, without receiving them. It is meant for tests and diagnostics.
func (s *Server) Bodies(name string) ([]string, error) {
	models.SyncQueues.RLock()
	defer models.SyncQueues.RUnlock()
	q, ok := models.SyncQueues.Queues[name]
	if !ok {
		return nil, fmt.Errorf("localsqs: queue %q does not exist", name)
	}
	out := make([]string, len(q.Messages))
	for i, m := range q.Messages {
		out[i] = m.MessageBody
	}
	return out, nil
}

// Purge deletes every message of the queue name, in flight or not.
func (s *Server) Purge(name string) error {
	models.SyncQueues.Lock()
	defer models.SyncQueues.Unlock()
	q, ok := models.SyncQueues.Queues[name]
	if !ok {
		return fmt.Errorf("localsqs: queue %q does not exist", name)
	}
	q.Messages = nil
	return nil
}

// Close stops the server, ends its long polls, and clears goaws's queues so that a
// later Start begins afresh. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOne.Do(func() {
		s.cancel()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			_ = s.srv.Close()
		}
		close(s.quit)
		<-s.tasks
		models.ResetResources()

		mu.Lock()
		if running == s {
			running = nil
		}
		mu.Unlock()
	})
}
