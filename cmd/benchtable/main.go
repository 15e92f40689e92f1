// Command benchtable reads `go test -bench` output on stdin and prints issue
// 14's figures in one table, so that the end of `make bench` shows them at
// once: the webhook's time and allocations per delivery (BenchmarkHandleWebhook),
// DynamoDB's units per message and per reply (BenchmarkMessageCost,
// BenchmarkAppend, BenchmarkReplyCost), each function's cold start
// (BenchmarkColdStart), the spike (BenchmarkSpike: every figure it reports),
// and the cost per million inbound messages (BenchmarkCostPerMillion). A figure
// whose benchmark did not run reads "not run"; a benchmark run more than once
// (-count) shows its mean.
//
//	go test -run '^$' -bench . -benchmem ./... | tee bench.out
//	go run ./cmd/benchtable < bench.out
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

func main() {
	res, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	if err := res.write(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

// result is one benchmark's figures: the mean of each unit over its runs.
type result struct {
	pkg, name string
	units     []string // in the order reported
	sum       map[string]float64
	runs      map[string]int
}

func (r *result) value(unit string) (float64, bool) {
	n := r.runs[unit]
	if n == 0 {
		return 0, false
	}
	return r.sum[unit] / float64(n), true
}

// results are the benchmarks read, by package path suffix and name, in order.
type results struct {
	list []*result
	// failed are the benchmarks that failed ("--- FAIL: BenchmarkX"), by name:
	// go test prints no figures for them, and may print no "pkg:" line either.
	failed map[string]bool
	// dominant and goal are what BenchmarkCostPerMillion's report says: the
	// costliest AWS line, and whether the goal is met.
	dominant string
}

var (
	gomaxprocs  = regexp.MustCompile(`-\d+$`)
	dominantRe  = regexp.MustCompile(`dominant: (\S+)`)
	pkgLine     = "pkg: "
	benchPrefix = "Benchmark"
)

// parse reads go test's output: "pkg:" lines name the package of the
// benchmark lines after them ("BenchmarkName-P  N  value unit  value unit …").
func parse(r io.Reader) (*results, error) {
	res := &results{failed: map[string]bool{}}
	byKey := map[string]*result{}
	pkg := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, pkgLine); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		if m := dominantRe.FindStringSubmatch(line); m != nil {
			res.dominant = m[1]
		}
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "--- FAIL: "); ok {
			name = strings.Fields(name)[0]
			res.failed[gomaxprocs.ReplaceAllString(name, "")] = true
			continue
		}
		if !strings.HasPrefix(line, benchPrefix) {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || len(f)%2 != 0 {
			continue // a benchmark's name alone (its sub-benchmarks follow), or its log
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := gomaxprocs.ReplaceAllString(f[0], "")
		key := pkg + " " + name
		b := byKey[key]
		if b == nil {
			b = &result{pkg: pkg, name: name, sum: map[string]float64{}, runs: map[string]int{}}
			byKey[key] = b
			res.list = append(res.list, b)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%q: value %q: %w", line, f[i], err)
			}
			unit := f[i+1]
			if b.runs[unit] == 0 {
				b.units = append(b.units, unit)
			}
			b.sum[unit] += v
			b.runs[unit]++
		}
	}
	return res, sc.Err()
}

// find returns the benchmark name of a package whose path ends in pkg.
func (rs *results) find(pkg, name string) *result {
	for _, r := range rs.list {
		if r.name == name && strings.HasSuffix(r.pkg, pkg) {
			return r
		}
	}
	return nil
}

// under returns the sub-benchmarks of name, in order.
func (rs *results) under(pkg, name string) []*result {
	var out []*result
	for _, r := range rs.list {
		if strings.HasPrefix(r.name, name+"/") && strings.HasSuffix(r.pkg, pkg) {
			out = append(out, r)
		}
	}
	return out
}

// row is one line of the table.
type row struct {
	section, figure, value, goal, source string
}

const (
	notRun = "not run"
	failed = "FAILED (see its output)"
)

// missing is what a row of a benchmark that printed no figures reads.
func (rs *results) missing(name string) string {
	for n := name; n != ""; n = n[:max(strings.LastIndex(n, "/"), 0)] {
		if rs.failed[n] {
			return failed
		}
	}
	return notRun
}

// num formats v with unit: three significant digits or so (whole numbers
// from 100), dollars with cents.
func num(v float64, unit string) string {
	if unit == "$" {
		if abs(v) >= 1000 {
			return "$" + strconv.FormatFloat(v, 'f', 0, 64)
		}
		return "$" + strconv.FormatFloat(v, 'f', 2, 64)
	}
	var s string
	switch a := abs(v); {
	case a >= 100:
		s = strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		s = strconv.FormatFloat(v, 'f', 2, 64)
	default:
		s = strconv.FormatFloat(v, 'g', 3, 64)
	}
	if unit == "" {
		return s
	}
	return s + " " + unit
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// goal checks v against a ceiling.
func goal(v float64, ceiling float64, text string) string {
	if v <= ceiling {
		return text + ": met"
	}
	return text + ": NOT met"
}

// metric is a row of one unit of a benchmark, scaled (ns → µs) and with a goal.
func (rs *results) metric(section, figure, pkg, name, unit string, scale float64, shown string, ceiling float64, goalText string) row {
	r := row{section: section, figure: figure, source: shortPkg(pkg) + " " + name, value: rs.missing(name)}
	b := rs.find(pkg, name)
	if b == nil {
		return r
	}
	v, ok := b.value(unit)
	if !ok {
		r.value = "no " + unit
		return r
	}
	v *= scale
	r.value = num(v, shown)
	if unit == "allocs/op" {
		r.value = strconv.FormatFloat(v, 'f', 0, 64)
	}
	if goalText != "" {
		r.goal = goal(v, ceiling, goalText)
	}
	return r
}

func shortPkg(p string) string { return p[strings.LastIndex(p, "/")+1:] }

// rows builds the table.
func (rs *results) rows() []row {
	var out []row
	// The webhook: one delivery of the Spanish mention, and the spread over
	// every sample.
	const xw = "shared/xwebhook"
	// The peer (BenchmarkHandleWebhookPeer) is a plain Node.js handler doing the
	// same work, run beside it.
	out = append(out,
		rs.metric("webhook", "XAA mention, time per delivery", xw, "BenchmarkHandleWebhook/xaa-mention-es.json", "ns/op", 1e-3, "µs", 25, "≤ 25 µs"),
		rs.metric("webhook", "XAA mention, Node.js peer", xw, "BenchmarkHandleWebhookPeer/xaa-mention-es.json", "ns/op", 1e-3, "µs", 0, ""),
		rs.metric("webhook", "XAA mention, allocations per delivery", xw, "BenchmarkHandleWebhook/xaa-mention-es.json", "allocs/op", 1, "", 40, "≤ 40"),
		rs.metric("webhook", "AAA tweet, time per delivery", xw, "BenchmarkHandleWebhook/aaa-tweet-es.json", "ns/op", 1e-3, "µs", 15, "≤ 15 µs"),
		rs.metric("webhook", "AAA tweet, Node.js peer", xw, "BenchmarkHandleWebhookPeer/aaa-tweet-es.json", "ns/op", 1e-3, "µs", 0, ""),
		rs.metric("webhook", "AAA tweet, allocations per delivery", xw, "BenchmarkHandleWebhook/aaa-tweet-es.json", "allocs/op", 1, "", 40, "≤ 40"))
	if subs := rs.under(xw, "BenchmarkHandleWebhook"); len(subs) > 0 {
		out = append(out, spread("webhook", "every sample, time per delivery", subs, "ns/op", 1e-3, "µs"),
			spread("webhook", "every sample, allocations", subs, "allocs/op", 1, ""))
	}
	// DynamoDB's units.
	for _, b := range []struct{ pkg, name, what string }{
		{"shared/intake", "BenchmarkMessageCost/new_case", "message opening a case"},
		{"shared/intake", "BenchmarkMessageCost/new_customer", "message of a new customer"},
		{"shared/intake", "BenchmarkMessageCost/follow_up", "follow-up in an open case"},
		{"shared/store", "BenchmarkAppend", "store.Append of a message"},
		{"shared/sender", "BenchmarkReplyCost", "reply sent"},
	} {
		out = append(out, rs.units("dynamodb", b.what, b.pkg, b.name))
	}
	// Cold starts.
	colds := rs.under("functions", "BenchmarkColdStart")
	if len(colds) == 0 {
		out = append(out, row{section: "cold start", figure: "each function's init", value: rs.missing("BenchmarkColdStart"), source: "functions BenchmarkColdStart"})
	}
	for _, b := range colds {
		fn := strings.TrimPrefix(b.name, "BenchmarkColdStart/")
		r := rs.metric("cold start", fn+": init", "functions", b.name, "init-ms", 1, "ms", 0, "")
		if fn == "webhook" {
			r = rs.metric("cold start", fn+": init", "functions", b.name, "init-ms", 1, "ms", 10, "≤ 10 ms")
		}
		if mb, ok := b.value("MB"); ok {
			r.value += " (" + num(mb, "MB") + " bootstrap)"
		}
		out = append(out, r)
	}
	// The spike: whatever it reports.
	if spike := rs.find("", "BenchmarkSpike"); spike != nil {
		for _, u := range spike.units {
			if u == "ns/op" || u == "B/op" || u == "allocs/op" {
				continue
			}
			v, _ := spike.value(u)
			out = append(out, row{section: "spike", figure: u, value: num(v, ""), source: shortPkg(spike.pkg) + " BenchmarkSpike"})
		}
	} else {
		out = append(out, row{section: "spike", figure: "10,000 complaints in 10 minutes", value: rs.missing("BenchmarkSpike"), source: "BenchmarkSpike"})
	}
	// The cost per million inbound messages.
	const c = "BenchmarkCostPerMillion"
	out = append(out,
		rs.metric("cost", "AWS per million inbound messages", "functions", c, "aws-$/M", 1, "$", 5, "≤ $5"),
		rs.metric("cost", "  Lambda", "functions", c, "lambda-$/M", 1, "$", 0, ""),
		rs.metric("cost", "  DynamoDB", "functions", c, "ddb-$/M", 1, "$", 0, ""),
		rs.metric("cost", "  API Gateway", "functions", c, "apigw-$/M", 1, "$", 0, ""),
		rs.metric("cost", "  CloudWatch Logs", "functions", c, "logs-$/M", 1, "$", 0, ""),
		rs.metric("cost", "  SQS", "functions", c, "sqs-$/M", 1, "$", 0, ""),
		rs.metric("cost", "  Secrets Manager, SNS", "functions", c, "other-$/M", 1, "$", 0, ""),
	)
	if rs.dominant != "" {
		out = append(out, row{section: "cost", figure: "dominant AWS line", value: rs.dominant, source: "functions " + c})
	}
	out = append(out,
		rs.metric("cost", "log bytes per message", "functions", c, "log-B/msg", 1, "B", 0, ""),
		rs.metric("cost", "write units per message", "functions", c, "WCU/msg", 1, "", 0, ""),
		rs.metric("cost", "read units per message", "functions", c, "RCU/msg", 1, "", 0, ""),
		rs.metric("cost", "X per million (apart)", "functions", c, "x-$/M", 1, "$", 0, ""),
		rs.metric("cost", "AWS fixed per month", "functions", c, "fixed-$/month", 1, "$", 0, ""),
	)
	return out
}

// units is a row of a benchmark's write and read units per operation.
func (rs *results) units(section, figure, pkg, name string) row {
	r := row{section: section, figure: figure, source: shortPkg(pkg) + " " + name, value: rs.missing(name)}
	b := rs.find(pkg, name)
	if b == nil {
		return r
	}
	var parts []string
	for _, u := range []string{"WCU/op", "RCU/op", "written-B/op"} {
		if v, ok := b.value(u); ok {
			parts = append(parts, num(v, strings.TrimSuffix(u, "/op")))
		}
	}
	r.value = strings.Join(parts, ", ")
	return r
}

// spread is a row of the median and the largest value of unit over subs.
func spread(section, figure string, subs []*result, unit string, scale float64, shown string) row {
	type kv struct {
		name string
		v    float64
	}
	var vs []kv
	for _, b := range subs {
		if v, ok := b.value(unit); ok {
			vs = append(vs, kv{b.name[strings.LastIndex(b.name, "/")+1:], v * scale})
		}
	}
	r := row{section: section, figure: figure, source: "xwebhook BenchmarkHandleWebhook/*", value: notRun}
	if len(vs) == 0 {
		return r
	}
	slices.SortFunc(vs, func(a, b kv) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	med, top := vs[(len(vs)-1)/2], vs[len(vs)-1]
	f := func(v float64) string { return num(v, shown) }
	if unit == "allocs/op" {
		f = func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
	}
	r.value = fmt.Sprintf("median %s, most %s (%s), %d samples", f(med.v), f(top.v), top.name, len(vs))
	return r
}

func (rs *results) write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "issue 14\tfigure\tvalue\tgoal\tbenchmark")
	for _, r := range rs.rows() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.section, r.figure, r.value, r.goal, r.source)
	}
	return tw.Flush()
}
