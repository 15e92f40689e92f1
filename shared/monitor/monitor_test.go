package monitor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/storetest"
	"github.com/pajarito-care/pajarito/shared/monitor"
	"github.com/pajarito-care/pajarito/shared/protocol"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

type alerts struct {
	mu  sync.Mutex
	got []care.Alert
}

func (a *alerts) Notify(_ context.Context, al care.Alert) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, al)
	return nil
}

func (a *alerts) kinds() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, al := range a.got {
		out = append(out, al.Kind+":"+al.Topic)
	}
	return out
}

// A burst of complaints opens a crisis; nothing more arrives; the scheduled runs
// close it once it has calmed down (and been open the minimum time), alerting once.
func TestRunClosesACalmCrisis(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	cfg := protocol.DefaultConfig()
	cfg.Crisis.Topics = []protocol.CrisisTopic{
		{Name: "baggage", Keywords: []string{"maleta*|equipaje*"}, Label: map[string]string{"es": "el equipaje", "en": "baggage"}},
		{Name: "app", Keywords: []string{"app"}, Label: map[string]string{"es": "la app", "en": "the app"}},
	}
	eng, err := protocol.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	al := &alerts{}
	crises := eng.Monitor(st, al, nil)
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 40; i++ { // 40 complaints in 4 minutes, none before
		at := t0.Add(time.Duration(i) * 6 * time.Second)
		if _, err := crises.Observe(ctx, at, at, []string{"baggage"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := al.kinds(); len(got) != 1 || got[0] != "crisis_opened:baggage" {
		t.Fatalf("alerts after the burst: %v", got)
	}

	var metrics bytes.Buffer
	now := t0.Add(10 * time.Minute)
	m := &monitor.Monitor{Crises: crises, Cases: st, Topics: []string{"baggage", "app"}, Metrics: &metrics, Now: func() time.Time { return now }}
	rep, err := m.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.ActiveCrises) != 1 || rep.ActiveCrises[0].Topic != "baggage" {
		t.Fatalf("10 minutes in: active %+v", rep.ActiveCrises)
	}
	if rep.OpenCases == nil || *rep.OpenCases != 0 || !strings.Contains(metrics.String(), `"OpenCases":0`) {
		t.Errorf("open cases: report %v, metrics %s", rep.OpenCases, metrics.String())
	}
	if v := activeCrises(t, metrics.String()); v[""] != 1 || v["baggage"] != 1 || v["app"] != 0 || len(v) != 3 {
		t.Errorf("ActiveCrises metrics %v", v)
	}

	// 40 minutes in: the window is quiet and the crisis has been open 30 minutes.
	now = t0.Add(40 * time.Minute)
	metrics.Reset()
	for range 2 { // twice: the second run changes nothing
		if rep, err = m.Run(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(rep.ActiveCrises) != 0 {
		t.Errorf("40 minutes in: still active %+v", rep.ActiveCrises)
	}
	if got := al.kinds(); len(got) != 2 || got[1] != "crisis_closed:baggage" {
		t.Errorf("alerts: %v, want one opened then one closed", got)
	}
	if v := activeCrises(t, metrics.String()); v[""] != 0 || v["baggage"] != 0 {
		t.Errorf("ActiveCrises metrics after closing %v", v)
	}
}

// activeCrises reads the last ActiveCrises value per Topic ("" for the total)
// from EMF lines.
func activeCrises(t *testing.T, lines string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, l := range strings.Split(strings.TrimSpace(lines), "\n") {
		var doc struct {
			Topic        string
			ActiveCrises *float64
			OpenCases    *float64
		}
		if err := json.Unmarshal([]byte(l), &doc); err != nil || (doc.ActiveCrises == nil) == (doc.OpenCases == nil) {
			t.Fatalf("not an ActiveCrises or OpenCases EMF line: %q (%v)", l, err)
		}
		if doc.ActiveCrises == nil {
			continue
		}
		out[doc.Topic] = *doc.ActiveCrises
	}
	return out
}

type failing struct{}

func (failing) Sweep(context.Context, time.Time) ([]care.CrisisState, error) {
	return nil, errors.New("dynamodb: throttled")
}

func TestRunReportsSweepErrors(t *testing.T) {
	m := &monitor.Monitor{Crises: failing{}, Metrics: &bytes.Buffer{}}
	if _, err := m.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "crisis sweep") || !strings.Contains(err.Error(), "throttled") {
		t.Errorf("Run error = %v", err)
	}
}
