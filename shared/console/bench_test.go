package console_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/boot"
	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/console"
)

// queueAPI answers the console's calls for a queue of n open cases: what the
// benchmark measures is the browser's work, not the API's.
func queueAPI(n int) http.Handler {
	now := time.Now().UTC()
	cases := make([]agentapi.QueueCase, n)
	intents := []string{"complaint", "incident", "question", "sales", "praise", "other"}
	for i := range cases {
		due := now.Add(time.Duration(i-n/2) * time.Minute)
		cases[i] = agentapi.QueueCase{CaseSummary: care.CaseSummary{
			ID: fmt.Sprintf("t%d", 2100000000000000000+i), Channel: care.Public, Status: care.Open,
			CustomerID: fmt.Sprint(900000 + i), CustomerHandle: fmt.Sprintf("cliente_%d", i),
			Subject: fmt.Sprintf("@PajaritoAir llevo %d minutos esperando el equipaje del vuelo PJ%d y nadie me dice nada, ¿alguien puede ayudarme?", i%90, 1000+i),
			Lang:    "es", Priority: 999 - i%999, Department: "baggage", Intent: intents[i%len(intents)],
			CreatedAt: now.Add(-time.Hour), WaitingSince: now.Add(-time.Duration(i) * time.Minute),
		}, Due: &due}
	}
	list, _ := json.Marshal(agentapi.CaseList{Cases: cases})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/cases", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(list)
	})
	mux.HandleFunc("GET /v1/agents/me", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"agent":{"id":"local","display_name":"Bench"},"signs_as":"^Bench"}`))
	})
	for _, p := range []string{"/v1/agents", "/v1/templates", "/v1/crisis"} {
		mux.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{}`)) })
	}
	return mux
}

// BenchmarkConsoleQueue measures, in Debian's Chromium, the console's first
// load (bytes gzipped) and a queue of 500 cases: the time from navigation to the
// 500 rows on screen, and scrolling through them frame by frame (the slowest
// frame, and how many frames took longer than 50 ms, the budget of a smooth
// scroll). Run it with make bench-console.
func BenchmarkConsoleQueue(b *testing.B) {
	const n = 500
	con, err := console.New(console.Config{})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(boot.Routes(nil, queueAPI(n), con, console.Prefix, boot.Clock{}))
	defer srv.Close()
	gz := 0
	for _, sz := range con.Files() {
		gz += sz[1]
	}
	ctx := browser(b)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/console/#token=bench&go=/queue/open"), until(`document.querySelectorAll('li.case').length === 500`)); err != nil {
		b.Fatal(err)
	}
	var render, worst, long, frames float64
	b.ResetTimer()
	for range b.N {
		// A fresh page each time: load, list, render.
		start := time.Now()
		if err := chromedp.Do(ctx, chromedp.Reload(), until(`document.querySelectorAll('li.case').length === 500`)); err != nil {
			b.Fatal(err)
		}
		render += float64(time.Since(start).Milliseconds())
		// Scroll to the end in steps of 300 px, one per frame, timing each frame.
		res, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](`new Promise(done => {
			const times = []; let last = performance.now();
			window.scrollTo(0, 0);
			const step = (t) => {
				times.push(t - last); last = t;
				if (window.scrollY + window.innerHeight >= document.body.scrollHeight - 1 || times.length > 2000) {
					done({worst: Math.max(...times.slice(1)), long: times.slice(1).filter(x => x > 50).length, frames: times.length - 1});
					return;
				}
				window.scrollBy(0, 300);
				requestAnimationFrame(step);
			};
			requestAnimationFrame(step);
		})`, chromedp.EvalAsValue, chromedp.EvalAwaitPromise))
		if err != nil {
			b.Fatal(err)
		}
		worst = max(worst, res["worst"])
		long += res["long"]
		frames += res["frames"]
	}
	b.ReportMetric(render/float64(b.N), "ms-to-500-rows")
	b.ReportMetric(worst, "ms-worst-frame")
	b.ReportMetric(long/float64(b.N), "long-frames/scroll")
	b.ReportMetric(frames/float64(b.N), "frames/scroll")
	b.ReportMetric(float64(gz), "first-load-gz-bytes")
}
