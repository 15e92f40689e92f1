package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/xwebhook"
)

// conversations returns three threads over 50 minutes from first: a complaint
// answered after 6 minutes (3 posts), a question answered after 30 (4 posts),
// and a complaint left unanswered (1 post).
func conversations(first time.Time) string {
	at := func(d time.Duration) string { return first.Add(d).UTC().Format(time.RubyDate) }
	return `tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id,lang
1,900001,True,` + at(0) + `,@PajaritoAir el vuelo PJ2104 lleva dos horas de retraso y nadie informa,2,,es
2,PajaritoAir,False,` + at(6*time.Minute) + `,"@900001 Lo sentimos, Laura. Sale a las 12:40 desde la puerta K84. ^AG",3,1,es
3,900001,True,` + at(7*time.Minute+30*time.Second) + `,@PajaritoAir vale gracias,,2,es
4,900002,True,` + at(10*time.Minute) + `,@PajaritoAir how many bags can I take on a basic fare?,5,,en
5,PajaritoAir,False,` + at(40*time.Minute) + `,"@900002 Hi Tom! One small bag under the seat, a cabin bag is extra. ^LC",6,4,en
6,900002,True,` + at(41*time.Minute) + `,@PajaritoAir and a checked one?,7,5,en
7,PajaritoAir,False,` + at(45*time.Minute) + `,@900002 From 25 EUR when you book it online. ^LC,,6,en
8,900003,True,` + at(50*time.Minute) + `,@PajaritoAir me cobrasteis dos veces la maleta,,,es
`
}

// wednesday is when the recording of the tests starts.
var wednesday = time.Date(2026, 8, 19, 10, 0, 0, 0, time.UTC)

// TestReplayConversationsLive runs the local system on a clock 600 times
// faster than the wall and replays recorded conversations at the same speed:
// the cases and the service metrics must show the recording's own timing.
func TestReplayConversationsLive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the local system")
	}
	const token = "test-agent-token"
	t.Setenv("PAJARITO_AGENT_TOKEN", token)
	t.Setenv("X_CONSUMER_SECRET", "")
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	// A deployment that leaves every answer to its agents, and whose fake X
	// holds nothing the listener would find: the store then holds the replay
	// alone, and the metrics can be computed by hand.
	dir := t.TempDir()
	// The brand's days (the monitor's daily roll-ups) in a time zone where it
	// is about noon now: at 600x the recording and the checks below take some
	// hours of the server's clock, which must not cross midnight (yesterday's
	// roll-up keeps a case's posts as of midnight until it settles).
	zone := "Etc/GMT"
	if off := 12 - time.Now().UTC().Hour(); off != 0 {
		zone = fmt.Sprintf("Etc/GMT%+d", -off) // Etc zones' signs are inverted
	}
	writeConfig(t, filepath.Join(repo, "pajarito.json"), filepath.Join(dir, "pajarito.json"), func(c map[string]any) {
		c["protocol"].(map[string]any)["auto_reply"] = []string{}
		c["protocol"].(map[string]any)["timezone"] = zone
	})
	if err := os.Mkdir(filepath.Join(dir, "events"), 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join(repo, "events", "aaa-own-post.json"), filepath.Join(dir, "events", "aaa-own-post.json"))
	recording := filepath.Join(dir, "day.csv")
	t.Setenv("PAJARITO_CONFIG", filepath.Join(dir, "pajarito.json"))
	t.Chdir(repo) // dynalite is in the repository's node_modules

	base, stdout, _, _ := startDev(t, "--addr", "127.0.0.1:0", "--memory", "--speed", "600")
	if !strings.Contains(stdout.String(), "600x") {
		t.Errorf("the banner does not show the clock's speed:\n%s", stdout.String())
	}

	// A recording whose first post was written, in its day, a minute before
	// the time of day the server's clock shows now: it keeps its time of day, so
	// the first post is sent at once and the rest as the server's clock gets
	// there.
	before := serverTime(t, base)
	if err := os.WriteFile(recording, []byte(conversations(wednesday.Truncate(24*time.Hour).Add(before.Sub(before.Truncate(24*time.Hour))-time.Minute))), 0o644); err != nil {
		t.Fatal(err)
	}

	// A replay at another speed than the server's clock would date posts wrong.
	var out syncBuffer
	err = run(t.Context(), []string{"replay", "--url", base + "/webhooks/x", "--speed", "60x", recording}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "runs at 600x") || !strings.Contains(err.Error(), "--speed 600x") {
		t.Fatalf("replay at 60x into a 600x system: err = %v", err)
	}

	began := time.Now()
	if err := run(t.Context(), []string{"replay", "--url", base + "/webhooks/x", "--speed", "600x", recording}, &out, &out); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	// Paced: the 49 minutes of conversation still to come when the server's
	// clock was read above last 4.9 seconds at 600x, less the moments between
	// that reading and the replay's own (10 minutes of the server's clock a
	// second): 4 seconds at least, where a replay at once takes milliseconds.
	if took := time.Since(began); took < 4*time.Second {
		t.Errorf("the replay took %s, want at least 4s (40m at 600x)", took)
	}
	if !strings.Contains(out.String(), "8 posts over 50m0s from ") || !strings.Contains(out.String(), "replayed at 600x") {
		t.Errorf("replay output:\n%s", out.String())
	}

	type caseWant struct{ in, out, frt int }
	want := map[string]caseWant{"900001": {2, 1, 360}, "900002": {2, 2, 1800}, "900003": {1, 0, -1}}
	var got map[string]caseWant
	var first time.Time
	for deadline := time.Now().Add(60 * time.Second); ; {
		got, first = map[string]caseWant{}, time.Time{}
		for _, status := range []string{"open", "pending"} {
			var list agentapi.CaseList
			getJSON(t, base+"/v1/cases?status="+status, token, &list)
			for _, c := range list.Cases {
				var d agentapi.CaseDetail
				getJSON(t, base+"/v1/cases/"+c.ID, token, &d)
				frt := -1
				if r := d.Case.FirstResponseAt; r != nil {
					frt = int(r.Sub(d.Case.FirstInboundAt) / time.Second)
				}
				got[c.CustomerID] = caseWant{d.Case.MessagesIn, d.Case.MessagesOut, frt}
				if c.CustomerID == "900001" {
					first = d.Case.FirstInboundAt
				}
			}
		}
		if fmt.Sprint(got) == fmt.Sprint(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("cases by customer {in out first-response-seconds} = %v, want %v", got, want)
	}
	// The first post is dated a minute before the server's now when the replay
	// began (its clock moves 10 minutes a second: a little slack for the moments
	// between), at its own time of day.
	if want := before.Add(-time.Minute).Truncate(time.Second); first.Before(want) || first.After(want.Add(10*time.Minute)) {
		t.Errorf("the first post is dated %s, want about %s", first, want)
	}

	// The metrics the monitor rolls up: first response 360 s and 1800 s (the
	// nearest-rank median of two is the first; stored roll-ups keep histograms,
	// whose values are within 1%), 3, 4 and 1 posts per case.
	var m agentapi.MetricsReport
	for deadline := time.Now().Add(60 * time.Second); ; {
		getJSON(t, base+"/v1/metrics", token, &m)
		// The monitor rolls the day up again on each run: wait for the roll-up
		// that has every post (a reply recorded after a roll-up is in the next).
		tot := m.Total
		done := tot.Cases == 3 && tot.FirstResponse.Count == 2 && tot.InboundMessages == 5 && tot.Posts.Count == 3 && value(tot.Posts.P90) == 4
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	tot := m.Total
	if tot.Cases != 3 || tot.InboundMessages != 5 || tot.FirstResponse.Count != 2 ||
		value(tot.FirstResponse.Mean) != 1080 || !within1pc(value(tot.FirstResponse.Median), 360) || !within1pc(value(tot.FirstResponse.P90), 1800) ||
		tot.Posts.Count != 3 || value(tot.Posts.Median) != 3 || value(tot.Posts.P90) != 4 {
		b, _ := json.MarshalIndent(tot, "", "  ")
		t.Errorf("metrics total:\n%s\nwant 3 cases, 5 inbound, first response mean 1080 median 360 p90 1800, posts median 3 p90 4", b)
	}
}

func within1pc(got, want float64) bool { return math.Abs(got-want) <= want/100 }

func value(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}

// TestReplayConversationsAtOnce replays without pacing into a server that
// records the deliveries: they come at once, in the recording's order, at the
// recording's time of day, the last in the past.
func TestReplayConversationsAtOnce(t *testing.T) {
	t.Setenv("PAJARITO_CONFIG", "../../pajarito.json")
	now := time.Date(2026, 8, 21, 18, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	var bodies [][]byte
	mux := http.NewServeMux()
	mux.Handle("/", boot.Routes(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if xwebhook.Verify([]byte(devSecret), b, r.Header.Get(xwebhook.SignatureHeader)) != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}), nil, nil, "", boot.Clock{Now: func() time.Time { return now }}))
	ts := httptest.NewServer(mux)
	defer ts.Close()
	t.Setenv("X_CONSUMER_SECRET", "")
	file := filepath.Join(t.TempDir(), "day.csv")
	if err := os.WriteFile(file, []byte(conversations(wednesday)), 0o644); err != nil {
		t.Fatal(err)
	}

	var out syncBuffer
	if err := run(t.Context(), []string{"replay", "--url", ts.URL + "/webhooks/x", filepath.Dir(file)}, &out, &out); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	if len(bodies) != 8 {
		t.Fatalf("%d deliveries, want 8\n%s", len(bodies), out.String())
	}
	var dates []string
	for _, b := range bodies {
		var ev struct {
			Data struct {
				EventType string `json:"event_type"`
				Payload   struct {
					CreatedAt string `json:"created_at"`
				} `json:"payload"`
			} `json:"data"`
		}
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		dates = append(dates, ev.Data.EventType+" "+ev.Data.Payload.CreatedAt)
	}
	// At 18:00 the recording's day, 10:00 to 10:50, is already past today.
	want := []string{
		"post.mention.create 2026-08-21T10:00:00.000Z",
		"post.create 2026-08-21T10:06:00.000Z",
		"post.reply.create 2026-08-21T10:07:30.000Z",
		"post.mention.create 2026-08-21T10:10:00.000Z",
		"post.create 2026-08-21T10:40:00.000Z",
		"post.reply.create 2026-08-21T10:41:00.000Z",
		"post.create 2026-08-21T10:45:00.000Z",
		"post.mention.create 2026-08-21T10:50:00.000Z",
	}
	if strings.Join(dates, "\n") != strings.Join(want, "\n") {
		t.Errorf("deliveries:\n%s\nwant:\n%s", strings.Join(dates, "\n"), strings.Join(want, "\n"))
	}
}

func TestReplayConversationErrors(t *testing.T) {
	t.Setenv("PAJARITO_CONFIG", "../../pajarito.json")
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("tweet_id,author_id,inbound,created_at,text,in_response_to_tweet_id\n1,9,True,ayer,hola,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.csv")
	if err := os.WriteFile(good, []byte(conversations(wednesday)), 0o644); err != nil {
		t.Fatal(err)
	}
	noClock := newStatusServer(t, http.StatusNotFound)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad speed", []string{"--speed", "fast", good}, `--speed "fast"`},
		{"zero speed", []string{"--speed", "0x", good}, `--speed "0x"`},
		{"bad file", []string{"--url", noClock + "/webhooks/x", bad}, `line 2: created_at "ayer"`},
		{"no clock", []string{"--url", noClock + "/webhooks/x", good}, "without the server's time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out syncBuffer
			err := run(t.Context(), append([]string{"replay"}, tt.args...), &out, &out)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one saying %q", err, tt.want)
			}
		})
	}
}

// serverTime reads the server's clock.
func serverTime(t *testing.T, base string) time.Time {
	t.Helper()
	var h boot.Health
	getJSON(t, base+"/healthz", "", &h)
	return h.Time
}

// writeConfig writes the configuration at from, changed by edit, to to.
func writeConfig(t *testing.T, from, to string, edit func(map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	edit(c)
	if b, err = json.Marshal(c); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReplayConversationsOut writes the deliveries of a recording into a folder,
// at its own dates, in order; that folder then replays as webhook bodies.
func TestReplayConversationsOut(t *testing.T) {
	t.Setenv("PAJARITO_CONFIG", "../../pajarito.json")
	dir := t.TempDir()
	file := filepath.Join(dir, "day.csv")
	if err := os.WriteFile(file, []byte(conversations(wednesday)), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "events")
	var buf syncBuffer
	if err := run(t.Context(), []string{"replay", "--out", out, file}, &buf, &buf); err != nil {
		t.Fatalf("replay --out: %v\n%s", err, buf.String())
	}
	files, err := replayFiles([]string{out})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		res, err := xwebhook.Parse(body, care.Brand{ID: "1590000000000000001", Handle: "PajaritoAir"}, wednesday)
		if err != nil || len(res.Envelopes) != 1 {
			t.Fatalf("%s: %v %+v", f, err, res)
		}
		got = append(got, filepath.Base(f)+" "+res.Envelopes[0].Message.CreatedAt.Format("15:04:05"))
	}
	want := []string{
		"day-0001-post.mention.create.json 10:00:00", "day-0002-post.create.json 10:06:00", "day-0003-post.reply.create.json 10:07:30",
		"day-0004-post.mention.create.json 10:10:00", "day-0005-post.create.json 10:40:00", "day-0006-post.reply.create.json 10:41:00",
		"day-0007-post.create.json 10:45:00", "day-0008-post.mention.create.json 10:50:00",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("written:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A webhook body is no recording to convert.
	if err := run(t.Context(), []string{"replay", "--out", out, files[0]}, &buf, &buf); err == nil || !strings.Contains(err.Error(), "webhook body already") {
		t.Errorf("--out of a webhook body: err = %v", err)
	}
}
