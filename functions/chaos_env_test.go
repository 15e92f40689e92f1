package functions_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pajarito-care/pajarito/shared/local/dynalite"
	"github.com/pajarito-care/pajarito/shared/local/xfake"
	"github.com/pajarito-care/pajarito/shared/replay"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

// The fault-injection suite's fixtures (chaos_test.go runs the trials): a
// DynamoDB of its own that it can kill and restart, behind a proxy that can slow
// it down or drop its connections; queues of its own; and the stream of
// deliveries every trial replays.

// The chaos queues of a trial, made with CreateQueue on the package's goaws: each
// trial has its own, so that a long poll of the trial before, which goaws may
// still answer after its client left, cannot take the next trial's messages.
const (
	chaosInbound     = "in"
	chaosInboundDLQ  = "in-dlq"
	chaosOutbound    = "out"
	chaosOutboundDLQ = "out-dlq"
)

// chaosEnv is what every trial shares.
type chaosEnv struct {
	// dyn keeps its data in a directory, so that a restart keeps it.
	dyn *dynalite.Server
	// dynLog is dynalite's output, shown when a trial fails.
	dynLog syncBuffer
	// proxy stands between the functions and dyn.
	proxy *faultProxy
	// db reaches dyn directly: the suite's own reads (the checks) and the clock
	// warp (see chaosTrial.warp).
	db  *dynamodb.Client
	sqs *sqs.Client
	// recording is the part of the recorded day each trial replays.
	recording []replay.Post
	// samples are sample deliveries (events/) added to it: DMs, and public posts
	// of the same customers.
	samples map[string][]byte
}

// chaosRecordedPosts is how many posts of the recorded day a trial replays, and
// chaosTimeScale how much faster than recorded (their ids are of the last few
// minutes, where the listener's first run finds them).
const (
	chaosRecordedPosts = 22
	chaosTimeScale     = 40
)

// chaosSampleFiles are the sample deliveries replayed besides the recording: María's
// complaint, her reply and her DM with her booking code, and the lost-bag
// customer's post and DM; the DM texts must never be posted in public.
var chaosSampleFiles = []string{
	"xaa-mention-es.json", "xaa-reply-es.json", "xaa-dm-received-es.json",
	"xaa-mention-en.json", "aaa-dm-en.json",
}

func newChaosEnv(t *testing.T) *chaosEnv {
	t.Helper()
	ctx := t.Context()
	e := &chaosEnv{samples: map[string][]byte{}}
	var err error
	e.dyn, err = dynalite.Start(ctx, dynalite.Options{Root: system.root, Dir: t.TempDir(), Stderr: &e.dynLog})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.dyn.Close() })
	if e.proxy, err = startFaultProxy(e.dyn.Endpoint); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.proxy.Close)
	if e.db, err = store.NewClient(ctx, e.dyn.Endpoint); err != nil {
		t.Fatal(err)
	}
	e.sqs = system.sqs.Client(ctx)
	f, err := os.Open(filepath.Join(system.root, "events", "conversations", "pajarito-air-day.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := replay.ReadCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortStableFunc(all, func(a, b replay.Post) int { return a.CreatedAt.Compare(b.CreatedAt) })
	e.recording = all[:chaosRecordedPosts]
	kept := map[string]bool{}
	for _, p := range e.recording {
		kept[p.ID] = true
	}
	for i, p := range e.recording {
		if !kept[p.InReplyTo] {
			e.recording[i].InReplyTo = "" // its parent is not replayed
		}
	}
	for _, name := range chaosSampleFiles {
		if e.samples[name], err = os.ReadFile(filepath.Join(system.root, "events", name)); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// chaosDelivery is one webhook delivery of the stream.
type chaosDelivery struct {
	name string // "rec:<recorded id>" or the sample's file name
	body []byte
}

// chaosStream is what one trial replays: the deliveries, and the posts and users
// the fake X holds (the listener finds the same posts).
type chaosStream struct {
	deliveries []chaosDelivery
	// keyOf names each message X id of the stream by what it is in every trial
	// (the recording's post id, or the sample's X id): the replayed posts get new
	// ids of their new times in each trial.
	keyOf map[string]string
	posts []xfake.Post
	users []xfake.User
}

// stream returns the trial's deliveries: the recording written again over the last
// few minutes up to now (new ids), then the samples.
func (e *chaosEnv) stream(t *testing.T, now time.Time) *chaosStream {
	t.Helper()
	posts := slices.Clone(e.recording)
	first := posts[0].CreatedAt
	var span time.Duration
	for i := range posts {
		offset := posts[i].CreatedAt.Sub(first) / chaosTimeScale
		posts[i].CreatedAt = first.Add(offset)
		span = max(span, offset)
	}
	brand := system.config.Brand
	evs, err := replay.Events(posts, brand, now.Add(-span-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	s := &chaosStream{keyOf: map[string]string{}}
	add := func(name string, body []byte) {
		s.deliveries = append(s.deliveries, chaosDelivery{name: name, body: body})
		ps, us, err := xfake.EventPosts(body)
		if err != nil {
			t.Fatalf("posts of %s: %v", name, err)
		}
		s.posts, s.users = append(s.posts, ps...), append(s.users, us...)
	}
	for i, ev := range evs { // in the order of posts (sorted by time)
		s.keyOf[ev.PostID] = "rec:" + posts[i].ID
		add("rec:"+posts[i].ID, ev.Body)
	}
	for _, name := range chaosSampleFiles {
		body := e.samples[name]
		res, err := xwebhook.Parse(body, brand, now)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		for _, env := range res.Envelopes {
			if env.Message != nil {
				s.keyOf[env.Message.ID] = "x:" + env.Message.ID
			}
		}
		add(name, body)
	}
	return s
}

// queues makes a trial's queues (prefix-in, -in-dlq, -out, -out-dlq) and returns
// their names and URLs by role (chaosInbound, …).
func (e *chaosEnv) queues(t *testing.T, prefix string) (names, urls map[string]string) {
	t.Helper()
	names, urls = map[string]string{}, map[string]string{}
	for _, role := range []string{chaosInbound, chaosInboundDLQ, chaosOutbound, chaosOutboundDLQ} {
		name := prefix + "-" + role
		out, err := e.sqs.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(name),
			Attributes: map[string]string{"VisibilityTimeout": strconv.Itoa(int(chaosBackoff / time.Second))}})
		if err != nil {
			t.Fatalf("create queue %s: %v", name, err)
		}
		names[role], urls[role] = name, aws.ToString(out.QueueUrl)
	}
	return names, urls
}

// faultProxy is a TCP proxy in front of a server (dynalite) that can slow every
// transfer down or drop every connection for a while.
type faultProxy struct {
	URL     string
	backend string
	ln      net.Listener

	mu    sync.Mutex
	delay time.Duration
	down  bool
	conns map[net.Conn]bool
}

func startFaultProxy(backendURL string) (*faultProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	backend := strings.TrimPrefix(backendURL, "http://")
	p := &faultProxy{URL: "http://" + ln.Addr().String(), backend: backend, ln: ln, conns: map[net.Conn]bool{}}
	go p.serve()
	return p, nil
}

func (p *faultProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *faultProxy) handle(c net.Conn) {
	p.mu.Lock()
	down := p.down
	p.mu.Unlock()
	if down {
		reset(c)
		return
	}
	b, err := net.DialTimeout("tcp", p.backend, 2*time.Second)
	if err != nil {
		reset(c) // as the server's own refusal would look to the client
		return
	}
	if !p.track(c, b) {
		reset(c)
		b.Close()
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.pipe(b, c) }()
	go func() { defer wg.Done(); p.pipe(c, b) }()
	wg.Wait()
	p.untrack(c, b)
}

func (p *faultProxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return false
	}
	for _, c := range cs {
		p.conns[c] = true
	}
	return true
}

func (p *faultProxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
		c.Close()
	}
}

// pipe copies src to dst, each chunk after the delay in force, and closes both
// when src ends.
func (p *faultProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			d := p.delay
			p.mu.Unlock()
			if d > 0 {
				time.Sleep(d) // the fault itself: a slow network
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// SetDelay delays every chunk either way by d from now on (0: no delay).
func (p *faultProxy) SetDelay(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = d
}

// Drop resets every open connection and refuses new ones (with a reset) until
// Drop(false).
func (p *faultProxy) Drop(down bool) {
	p.mu.Lock()
	p.down = down
	var open []net.Conn
	if down {
		for c := range p.conns {
			open = append(open, c)
		}
	}
	p.mu.Unlock()
	for _, c := range open {
		reset(c)
	}
}

func (p *faultProxy) Close() {
	p.ln.Close()
	p.Drop(true)
}

// reset closes c with a TCP reset.
func reset(c net.Conn) {
	if tcp, ok := c.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = c.Close()
}

// waitFor polls cond every few milliseconds until it holds, ctx ends or timeout
// passes; it reports whether cond held.
func waitFor(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// discard is a writer for logs nobody reads.
var discard io.Writer = io.Discard

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
