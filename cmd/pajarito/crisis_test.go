package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/replay"
	"github.com/pajarito-care/pajarito/shared/report"
)

// crisisCustomers is how many customers the replayed crisis's burst has.
const crisisCustomers = 40

// TestCrisisReplayed runs a crisis end to end on a local system at 60x, as
// its own process with a data folder: a crisis opened by hand, a burst of
// complaints about delays (the crisis template answers them, up to its cap
// per window), two customers answered by a person, the public statement and
// two updates posted from the brand account, the crisis closed by hand, and
// the follow-ups; the process is killed with SIGKILL as soon as the first
// follow-up is on X, and restarted on the same data. Every affected customer
// not answered by a person is followed up exactly once, the two answered
// ones are not, no reply goes out twice, and the brand keeps within X's 100
// posts per 15 minutes. The report's timeline tells the crisis. The counts are
// logged (go test ./cmd/pajarito -run TestCrisisReplayed -v).
func TestCrisisReplayed(t *testing.T) {
	bin := buildPajarito(t)
	cfg, err := config.Load("../../pajarito.json", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	p := startDevProcess(t, bin, "--data", data, "--speed", "60")
	const token = "crash-test-token"
	c := &crisisRun{t: t, p: p, token: token}

	c.put("/v1/crisis/delays", `{"active":true}`)
	for _, e := range c.burst(cfg) {
		if code := p.deliver(t, e.Body); code != http.StatusOK {
			t.Fatalf("delivery answered %d", code)
		}
	}
	p.settle(t)
	cases := c.crisisCases()
	if len(cases) != crisisCustomers {
		t.Fatalf("%d cases of the delays crisis, want %d", len(cases), crisisCustomers)
	}
	// Two customers answered by a person, after the crisis template.
	answered := map[string]bool{}
	for i, cs := range cases[:2] {
		// X refuses the same text twice from one account: each its own.
		code, body := postJSON(t, p.base+"/v1/cases/"+cs.ID+"/replies", token,
			fmt.Sprintf(`{"draft_id":"person-%d","text":"Lo sentimos mucho: te hemos recolocado en el vuelo de las 18:%d0, sin coste."}`, i, 4+i))
		if code != http.StatusAccepted {
			t.Fatalf("a person's reply: %d %s", code, body)
		}
		answered[cs.CustomerID] = true
	}
	for i, text := range []string{
		"Lo sentimos: desde las 9:10 un fallo del sistema de embarque retrasa los vuelos de Madrid. Lo estamos arreglando y contamos aquí cada avance.",
		"Actualización: el sistema de embarque vuelve a funcionar y recuperamos la programación poco a poco.",
		"Actualización: todos los vuelos salen ya a su hora. Gracias por la paciencia.",
	} {
		code, body := postJSON(t, p.base+"/v1/crisis/delays/statement", token, fmt.Sprintf(`{"draft_id":"statement-%d","text":%q}`, i, text))
		if code != http.StatusAccepted {
			t.Fatalf("statement post %d: %d %s", i, code, body)
		}
		c.waitPostsSent(i + 1)
	}
	p.settle(t)
	c.put("/v1/crisis/delays", `{"active":false}`)

	// SIGKILL as soon as the first follow-up is on X.
	c.waitFor("the first follow-up on X", func() bool { return len(followUpsOnX(t, data)) > 0 })
	p.kill()
	before := len(followUpsOnX(t, data))
	p = startDevProcess(t, bin, "--data", data, "--speed", "60")
	c.p = p
	var f *agentapi.FollowUp
	c.waitFor("the follow-ups done", func() bool {
		f = c.crisis().FollowUp
		return f != nil && f.Done
	})
	p.settle(t)

	// Each affected customer not answered by a person, once; the others never.
	got := followUpsOnX(t, data)
	per := map[string]int{}
	for _, fu := range got {
		per[fu.customer]++
	}
	for _, cs := range cases {
		want := 1
		if answered[cs.CustomerID] {
			want = 0
		}
		if per[cs.CustomerID] != want {
			t.Errorf("customer %s got %d follow-ups on X; want %d", cs.CustomerID, per[cs.CustomerID], want)
		}
	}
	if f.Customers != crisisCustomers || f.Queued != crisisCustomers-2 || f.Skipped["answered_by_person"] != 2 {
		t.Errorf("the follow-ups' counts: %+v; want %d customers, %d followed up, 2 skipped (answered by a person)", f, crisisCustomers, crisisCustomers-2)
	}
	c.checkLimits(data)
	c.checkTimeline()
	skipped := 0
	for _, n := range f.Skipped {
		skipped += n
	}
	recovered := grepLines(p.stderr(), "localdev: recovered")
	t.Logf("crisis replayed at 60x: %d customers affected, %d followed up (%d on X before the SIGKILL, the rest after the restart), %d skipped %v; %d follow-ups on X, none twice; after the restart: %s",
		f.Customers, f.Queued, before, skipped, f.Skipped, len(got), strings.TrimSpace(recovered))
}

// crisisRun is the replayed crisis's calls to its local system.
type crisisRun struct {
	t     *testing.T
	p     *devProcess
	token string
}

func (c *crisisRun) put(path, body string) {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.t.Context(), http.MethodPut, c.p.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("PUT %s: %d", path, resp.StatusCode)
	}
}

// burst returns the deliveries of crisisCustomers complaints about delays,
// one customer each, a second apart from the server's now on (after the
// crisis opened: it follows up those who wrote while it was open).
func (c *crisisRun) burst(cfg *config.Config) []replay.Event {
	c.t.Helper()
	var h boot.Health
	getJSON(c.t, c.p.base+"/healthz", c.token, &h)
	var csv strings.Builder
	csv.WriteString("tweet_id,author_id,inbound,created_at,text,in_response_to_tweet_id\n")
	for i := range crisisCustomers {
		fmt.Fprintf(&csv, "%d,%d,True,2026-12-01T10:00:%02dZ,\"@PajaritoAir mi vuelo lleva dos horas de retraso y nadie nos dice nada (%d)\",\n",
			i+1, 910000+i, i, i+1)
	}
	posts, err := replay.ReadCSV(strings.NewReader(csv.String()))
	if err != nil {
		c.t.Fatal(err)
	}
	events, err := replay.Events(posts, cfg.Brand, h.Time)
	if err != nil {
		c.t.Fatal(err)
	}
	return events
}

// crisisCases lists the cases of the delays crisis, oldest first.
func (c *crisisRun) crisisCases() []agentapi.QueueCase {
	c.t.Helper()
	var out []agentapi.QueueCase
	for _, status := range []string{"open", "pending", "resolved"} {
		var list agentapi.CaseList
		getJSON(c.t, c.p.base+"/v1/cases?limit=200&crisis=delays&status="+status, c.token, &list)
		out = append(out, list.Cases...)
	}
	slices.SortFunc(out, func(a, b agentapi.QueueCase) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out
}

func (c *crisisRun) crisis() agentapi.Crisis {
	c.t.Helper()
	var list agentapi.CrisisList
	getJSON(c.t, c.p.base+"/v1/crisis", c.token, &list)
	for _, cr := range list.Crises {
		if cr.Topic == "delays" {
			return cr
		}
	}
	c.t.Fatal("no delays crisis")
	return agentapi.Crisis{}
}

// waitPostsSent waits until n posts of the statement thread are on X.
func (c *crisisRun) waitPostsSent(n int) {
	c.t.Helper()
	c.waitFor(fmt.Sprintf("statement post %d sent", n), func() bool {
		st := c.crisis().Statement
		sent := 0
		for _, p := range st.Posts {
			if p.State == "sent" {
				sent++
			}
		}
		return st != nil && sent >= n
	})
}

func (c *crisisRun) waitFor(what string, cond func() bool) {
	c.t.Helper()
	for deadline := time.Now().Add(3 * time.Minute); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			var list agentapi.CrisisList
			getJSON(c.t, c.p.base+"/v1/crisis", c.token, &list)
			b, _ := json.Marshal(list)
			c.t.Fatalf("%s: not after 3 minutes; the crises: %s\n%s", what, b, grepLines(c.p.stderr(), "follow", "crisis", "WARN", "ERROR"))
		}
	}
}

// xPost is a post as the fake X keeps it in the data folder (xfake.Keep).
type xPost struct {
	ID               string
	Text             string
	AuthorID         string
	CreatedAt        time.Time
	ReferencedTweets []struct{ Type, ID string }
}

// brandPosts reads the brand's posts the fake X kept, and every post's
// author by id.
func brandPosts(t *testing.T, data, brand string) (own []xPost, authors map[string]string) {
	t.Helper()
	f, err := os.Open(filepath.Join(data, "xfake.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	authors = map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		var r struct{ Post *xPost }
		if json.Unmarshal(sc.Bytes(), &r) != nil || r.Post == nil {
			continue
		}
		authors[r.Post.ID] = r.Post.AuthorID
		if r.Post.AuthorID == brand {
			own = append(own, *r.Post)
		}
	}
	return own, authors
}

// followUp is a follow-up the fake X holds: to whom.
type followUp struct{ customer, id string }

// followUpsOnX lists the crisis follow-ups the fake X holds.
func followUpsOnX(t *testing.T, data string) []followUp {
	t.Helper()
	cfg, err := config.Load("../../pajarito.json", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	own, authors := brandPosts(t, data, cfg.Brand.ID)
	var out []followUp
	for _, p := range own {
		if !strings.HasPrefix(p.Text, "Lo sentimos de nuevo") {
			continue
		}
		for _, r := range p.ReferencedTweets {
			if r.Type == "replied_to" {
				out = append(out, followUp{customer: authors[r.ID], id: p.ID})
			}
		}
	}
	return out
}

// checkLimits checks the brand's posts keep within X's 100 per 15 minutes
// (on the system's clock, the fake X's), that the crisis template answered
// the complaints (within its cap per window: TestSpike counts it), and that
// no text went out twice.
func (c *crisisRun) checkLimits(data string) {
	c.t.Helper()
	cfg, err := config.Load("../../pajarito.json", func(string) string { return "" })
	if err != nil {
		c.t.Fatal(err)
	}
	own, _ := brandPosts(c.t, data, cfg.Brand.ID)
	slices.SortFunc(own, func(a, b xPost) int { return a.CreatedAt.Compare(b.CreatedAt) })
	for i := range own {
		n := 0
		for j := i; j < len(own) && own[j].CreatedAt.Sub(own[i].CreatedAt) < 15*time.Minute; j++ {
			n++
		}
		if n > 100 {
			c.t.Errorf("%d posts of the brand within 15 minutes from %s; X allows 100", n, own[i].CreatedAt)
		}
	}
	template := 0
	for _, p := range own {
		if strings.Contains(p.Text, "Estamos al tanto de la incidencia") || strings.Contains(p.Text, "Hemos publicado en nuestro perfil") {
			template++
		}
	}
	if template == 0 || template > crisisCustomers {
		c.t.Errorf("%d crisis template replies to %d complaints", template, crisisCustomers)
	}
	seen := map[string]bool{}
	for _, p := range own {
		if seen[p.Text] {
			c.t.Errorf("the brand posted %q twice", p.Text)
		}
		seen[p.Text] = true
	}
}

// checkTimeline checks the service report tells the crisis: opened, the
// statement, two updates, closed, the follow-ups started and done.
func (c *crisisRun) checkTimeline() {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.t.Context(), http.MethodGet, c.p.base+"/v1/report", nil)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var d report.Data
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || resp.StatusCode != http.StatusOK {
		c.t.Fatalf("GET /v1/report: %d, %v", resp.StatusCode, err)
	}
	var kinds []string
	for _, cr := range d.Crises {
		if cr.Topic != "delays" {
			continue
		}
		for _, e := range cr.Events {
			kinds = append(kinds, e.Kind)
		}
		if cr.FollowUps == nil || cr.FollowUps.Told != crisisCustomers-2 {
			c.t.Errorf("the report's follow-ups: %+v", cr.FollowUps)
		}
	}
	want := []string{report.EventOpened, report.EventStatement, report.EventUpdate, report.EventUpdate, report.EventClosed, report.EventFollowUpsStarted, report.EventFollowUpsDone}
	if !slices.Equal(kinds, want) {
		c.t.Errorf("the report's crisis timeline: %v; want %v", kinds, want)
	}
}
