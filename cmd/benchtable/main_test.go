package main

import (
	"strings"
	"testing"
)

// Output of go test -bench over several packages, as make bench prints it
// (trimmed), with the cost benchmark's report and a second run of one
// benchmark (-count 2).
const sample = `goos: linux
goarch: amd64
pkg: github.com/pajarito-care/pajarito/functions
cpu: AMD EPYC
BenchmarkColdStart/listen-2         	      20	  30000000 ns/op	        30.50 init-ms	        31.2 MB
BenchmarkColdStart/webhook-2        	      20	  12000000 ns/op	        11.80 init-ms	        20.1 MB
cost: 116 inbound messages stored from 191 webhook deliveries (1 run(s))
  AWS total                   19.5151           goal ≤ $5: NOT met; dominant: dynamodb.write
BenchmarkCostPerMillion-2   	       1	7168914339 ns/op	        16.35 RCU/msg	        15.79 WCU/msg	         2.241 apigw-$/M	        19.53 aws-$/M	        11.91 ddb-$/M	        12.24 fixed-$/month	         0.8641 lambda-$/M	      4999 log-B/msg	         2.499 logs-$/M	         0.1767 other-$/M	         1.838 sqs-$/M	     11672 x-$/M
PASS
ok  	github.com/pajarito-care/pajarito/functions	19.573s
pkg: github.com/pajarito-care/pajarito/shared/xwebhook
BenchmarkHandleWebhook
BenchmarkHandleWebhook/aaa-delete.json-2         	   20000	     40000 ns/op	  10.00 MB/s	   20000 B/op	      80 allocs/op
BenchmarkHandleWebhook/xaa-mention-en.json-2     	   20000	     99284 ns/op	  52.52 MB/s	   33903 B/op	     112 allocs/op
BenchmarkHandleWebhook/xaa-mention-es.json-2     	   20000	     59495 ns/op	  87.87 MB/s	   33533 B/op	     108 allocs/op
BenchmarkHandleWebhook/xaa-mention-es.json-2     	   20000	     60505 ns/op	  87.87 MB/s	   33533 B/op	     110 allocs/op
pkg: github.com/pajarito-care/pajarito/shared/store
BenchmarkAppend-2   	     200	   7290277 ns/op	         3.000 WCU/op	  214850 B/op	    2615 allocs/op
pkg: github.com/pajarito-care/pajarito/shared/intake
BenchmarkMessageCost/new_case-2         	      20	  27794762 ns/op	         6.950 RCU/op	        11.00 WCU/op	      2542 written-B/op
`

func TestTable(t *testing.T) {
	res, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := res.write(&out); err != nil {
		t.Fatal(err)
	}
	table := out.String()
	for _, want := range []struct{ figure, value string }{
		// The mean of two runs: (59495 + 60505) / 2 ns = 60.0 µs; (108 + 110) / 2 allocs.
		{"XAA mention, time per delivery", "60.0 µs"},
		{"XAA mention, allocations per delivery", "109 "},
		{"every sample, allocations", "median 109, most 112 (xaa-mention-en.json)"},
		// 40, 60 and 99.3 µs: the median is 60, the most the English mention's.
		{"every sample, time per delivery", "median 60.0 µs, most 99.3 µs (xaa-mention-en.json), 3 samples"},
		{"message opening a case", "11.0 WCU, 6.95 RCU, 2542 written-B"},
		{"store.Append of a message", "3.00 WCU"},
		{"webhook: init", "11.8 ms (20.1 MB bootstrap)"},
		{"webhook: init", "≤ 10 ms: NOT met"},
		{"listen: init", "30.5 ms"},
		{"AWS per million inbound messages", "$19.53"},
		{"AWS per million inbound messages", "≤ $5: NOT met"},
		{"DynamoDB", "$11.91"},
		{"dominant AWS line", "dynamodb.write"},
		{"log bytes per message", "4999 B"},
		{"write units per message", "15.8"},
		{"X per million (apart)", "$11672"},
	} {
		if line := lineWith(table, want.figure); !strings.Contains(line, want.value) {
			t.Errorf("%s: %q, want %q in it:\n%s", want.figure, line, want.value, table)
		}
	}
	for _, notRunYet := range []string{"follow-up in an open case", "reply sent", "10,000 complaints in 10 minutes"} {
		line := lineWith(table, notRunYet)
		if !strings.Contains(line, notRun) {
			t.Errorf("%q: %q, want %q", notRunYet, line, notRun)
		}
	}
}

func TestSpikeRows(t *testing.T) {
	res, err := parse(strings.NewReader("pkg: github.com/pajarito-care/pajarito/shared/localdev\n" +
		"BenchmarkSpike-2   1   300000000000 ns/op   41.5 posts/s   2.300 worst-200-to-stored-s   0 x-429s\n"))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := res.write(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"posts/s", "41.5", "worst-200-to-stored-s", "2.30", "x-429s"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "ns/op") {
		t.Errorf("the spike's ns/op is in the table:\n%s", out.String())
	}
}

// A benchmark that failed prints no figures: its rows say so, rather than
// "not run".
func TestFailed(t *testing.T) {
	res, err := parse(strings.NewReader("ok  \tgithub.com/pajarito-care/pajarito/shared/listen\t0.138s\n" +
		"--- FAIL: BenchmarkSpike\n    spike_test.go:182: spike: 1 invariants broken:\n" +
		"pkg: github.com/pajarito-care/pajarito/functions\n--- FAIL: BenchmarkCostPerMillion-2\n"))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := res.write(&out); err != nil {
		t.Fatal(err)
	}
	for _, figure := range []string{"10,000 complaints in 10 minutes", "AWS per million inbound messages", "log bytes per message"} {
		if line := lineWith(out.String(), figure); !strings.Contains(line, failed) {
			t.Errorf("%s: %q, want %q", figure, line, failed)
		}
	}
	if line := lineWith(out.String(), "message opening a case"); !strings.Contains(line, notRun) {
		t.Errorf("a benchmark that did not run: %q", line)
	}
}

func TestParseErrors(t *testing.T) {
	if _, err := parse(strings.NewReader("BenchmarkX-2   1   abc ns/op\n")); err == nil {
		t.Error("a value that is not a number was taken")
	}
}

func lineWith(table, s string) string {
	for line := range strings.SplitSeq(table, "\n") {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}
