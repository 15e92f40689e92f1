package monitor_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/storetest"
	"github.com/pajarito-care/pajarito/shared/local/testclock"
	"github.com/pajarito-care/pajarito/shared/monitor"
	"github.com/pajarito-care/pajarito/shared/store"
)

// xchatMonitor is a monitor of unread X Chat messages over st, at clk's time,
// alerting through n.
func xchatMonitor(st *store.Store, clk *testclock.Clock, n care.Notifier) *monitor.Monitor {
	return &monitor.Monitor{
		Crises: noCrises{}, XChat: &monitor.XChat{Signals: st, Notifier: n},
		Metrics: &bytes.Buffer{}, Now: clk.Now, Log: slog.New(slog.DiscardHandler),
	}
}

// unread counts n unread X Chat messages at at, as the processor does.
func unread(t *testing.T, st *store.Store, n int, at time.Time) {
	t.Helper()
	for range n {
		if err := st.AddSignal(t.Context(), store.SignalUnreadChat, store.SignalKeyAll, at); err != nil {
			t.Fatal(err)
		}
	}
}

// TestXChatAlertsOncePerDay: a run alerts once a day while unread X Chat
// messages arrive, on the monitor's UTC day.
func TestXChatAlertsOncePerDay(t *testing.T) {
	day := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	st := storetest.New(t)
	clk := testclock.New(day.Add(8 * time.Hour))
	al := &alerts{}
	m := xchatMonitor(st, clk, al)
	unread(t, st, 2, day.Add(-time.Hour)) // yesterday's

	steps := []struct {
		name    string
		arrive  int // unread messages arriving just before the run
		advance time.Duration
		want    monitor.XChatReport
		summary string // of the alert the run sends
	}{
		{name: "only yesterday's", want: monitor.XChatReport{}},
		{name: "three arrive", arrive: 3, advance: time.Hour, want: monitor.XChatReport{Unread: 3, Alerted: true},
			summary: "3 encrypted X Chat messages today could not be read (Pajarito holds no X Chat keys, or could not open or verify them: each case says why); answer them in X's app (README: X Chat)"},
		{name: "the next run", advance: time.Minute, want: monitor.XChatReport{Unread: 3}},
		{name: "more arrive the same day", arrive: 1, advance: 10 * time.Hour, want: monitor.XChatReport{Unread: 4}},
		{name: "the next day, none yet", advance: 6 * time.Hour, want: monitor.XChatReport{}},
		{name: "the next day, one arrives", arrive: 1, advance: time.Hour, want: monitor.XChatReport{Unread: 1, Alerted: true},
			summary: "1 encrypted X Chat message today could not be read"},
	}
	for _, s := range steps {
		clk.Advance(s.advance)
		unread(t, st, s.arrive, clk.Now().Add(-time.Second))
		before := len(al.got)
		rep, err := m.Run(t.Context())
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if rep.XChat == nil || *rep.XChat != s.want {
			t.Errorf("%s: report %+v, want %+v", s.name, rep.XChat, s.want)
		}
		sent := al.got[before:]
		switch {
		case s.summary == "" && len(sent) > 0:
			t.Errorf("%s: alerts %+v, want none", s.name, sent)
		case s.summary != "" && (len(sent) != 1 || sent[0].Kind != care.AlertXChatUnread || !strings.HasPrefix(sent[0].Summary, s.summary) || !sent[0].At.Equal(clk.Now())):
			t.Errorf("%s: alerts %+v, want one %s saying %q", s.name, sent, care.AlertXChatUnread, s.summary)
		}
	}
}

// TestXChatConcurrentRuns: of overlapping runs, one alerts.
func TestXChatConcurrentRuns(t *testing.T) {
	st := storetest.New(t)
	clk := testclock.New(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	unread(t, st, 1, clk.Now().Add(-time.Minute))
	al := &alerts{}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, err := xchatMonitor(st, clk, al).Run(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := al.kinds(); len(got) != 1 || got[0] != care.AlertXChatUnread+":" {
		t.Errorf("alerts %v, want one %s", got, care.AlertXChatUnread)
	}
}

// TestXChatAlertFailure: an alert that cannot be sent fails the run and is sent
// by the next one.
func TestXChatAlertFailure(t *testing.T) {
	st := storetest.New(t)
	clk := testclock.New(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	unread(t, st, 2, clk.Now().Add(-time.Minute))
	rep, err := xchatMonitor(st, clk, failingNotifier{}).Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "sns: throttled") || rep.XChat == nil || rep.XChat.Alerted {
		t.Fatalf("run with a failing notifier: %+v, %v; want the notifier's error", rep.XChat, err)
	}
	clk.Advance(time.Minute)
	al := &alerts{}
	rep, err = xchatMonitor(st, clk, al).Run(t.Context())
	if err != nil || !rep.XChat.Alerted || len(al.got) != 1 {
		t.Errorf("the next run: %+v, %v, alerts %v; want the alert", rep.XChat, err, al.kinds())
	}
}

// TestXChatReportOmitted: a monitor without the check reports nothing of it.
func TestXChatReportOmitted(t *testing.T) {
	m := &monitor.Monitor{Crises: noCrises{}, Metrics: &bytes.Buffer{}, Log: slog.New(slog.DiscardHandler)}
	rep, err := m.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "xchat") {
		t.Errorf("report %s mentions xchat", b)
	}
}
