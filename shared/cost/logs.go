package cost

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

// What CloudWatch Logs ingests, besides what the functions print.
//
// The functions log in Lambda's JSON format (infra: LoggingFormat JSON), so
// Lambda's own records of each invocation are JSON too: platform.start and
// platform.report, and at a cold start platform.initStart (the report then
// carries initDurationMs). The samples below are those records with typical
// values (a UUID request id, the stack's memory size, a generated function
// name): 428 bytes an invocation with the events' overhead (the text format's
// START, END and REPORT lines would be 339). Each log event also counts
// LogEventOverhead bytes.
const (
	PlatformStartSample  = `{"time":"2026-12-06T10:15:30.123Z","type":"platform.start","record":{"requestId":"8f5e6b4a-2c1d-4e3f-9a8b-7c6d5e4f3a2b","version":"$LATEST"}}`
	PlatformReportSample = `{"time":"2026-12-06T10:15:30.156Z","type":"platform.report","record":{"requestId":"8f5e6b4a-2c1d-4e3f-9a8b-7c6d5e4f3a2b","metrics":{"durationMs":32.451,"billedDurationMs":33,"memorySizeMB":256,"maxMemoryUsedMB":41},"status":"success"}}`
	// PlatformInitStartSample is a cold start's platform.initStart, and
	// PlatformInitReportField what it adds to that invocation's report.
	PlatformInitStartSample = `{"time":"2026-12-06T10:15:30.101Z","type":"platform.initStart","record":{"initializationType":"on-demand","phase":"init","runtimeVersion":"provided:al2023.v93","runtimeVersionArn":"arn:aws:lambda:us-east-1::runtime:0cdcfbdefbc5e7d3343f73c2e2dd3cba17d61dea0686b404502a0c9ce83931b9","functionName":"Pajarito-Process7A3F1C2B-AbCdEfGhIjKl","functionVersion":"$LATEST"}}`
	PlatformInitReportField = `,"initDurationMs":12.345`

	// LogEventOverhead is what CloudWatch Logs counts for each event besides
	// its message: 26 bytes (the PutLogEvents API reference, for a batch's
	// size). AWS's pricing page does not say that ingestion is metered the same
	// way; counting it leans high.
	LogEventOverhead = 26
)

// LambdaPlatformBytes is what Lambda's own records of invocations and cold
// starts add to a function's log group.
func LambdaPlatformBytes(invocations, coldStarts int64) int64 {
	perInvocation := int64(len(PlatformStartSample) + len(PlatformReportSample) + 2*LogEventOverhead)
	perColdStart := int64(len(PlatformInitStartSample) + LogEventOverhead + len(PlatformInitReportField))
	return invocations*perInvocation + coldStarts*perColdStart
}

// APIAccessLogSample is one line of the HTTP API's access log (infra: its
// accessLogFormat, JSON with these keys; infra's TestCostTablesAgree holds the
// keys equal) for a webhook delivery, with typical values; HTTP APIs write "-"
// for an empty variable.
const APIAccessLogSample = `{"authorizerError":"-","errorMessage":"-","integrationError":"-","integrationLatency":"31","integrationStatus":"200","ip":"192.0.2.41","method":"POST","path":"/webhooks/x","principal":"-","protocol":"HTTP/1.1","requestId":"Pc3xWj7ZoAMEbVw=","requestTime":"1764976530123","responseLatency":"35","responseLength":"2","routeKey":"POST /webhooks/x","status":"200","userAgent":"X-Webhooks/1.0"}`

// APIAccessLogBytes is what one request adds to the access log group.
func APIAccessLogBytes() int64 { return int64(len(APIAccessLogSample) + LogEventOverhead) }

// APIAccessLogKeys are the keys of APIAccessLogSample, sorted.
func APIAccessLogKeys() []string {
	var m map[string]string
	if err := json.Unmarshal([]byte(APIAccessLogSample), &m); err != nil {
		panic(err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// LogText is what a function printed, measured as CloudWatch Logs ingests it:
// one event per non-empty line (Lambda splits stdout and stderr on newlines),
// its bytes without the newline plus LogEventOverhead.
type LogText struct {
	Events, Bytes int64
	// EMFEvents and EMFBytes are the part of it that is Embedded Metric Format
	// (lines with "_aws").
	EMFEvents, EMFBytes int64
	// Metrics are the distinct custom metrics the EMF lines define: namespace,
	// name and dimension values (see MetricKey).
	Metrics map[string]bool
}

// MeasureLog measures text (a function's stdout and stderr).
func MeasureLog(text string) LogText {
	lt := LogText{Metrics: map[string]bool{}}
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		n := int64(len(line) + LogEventOverhead)
		lt.Events++
		lt.Bytes += n
		if !strings.Contains(line, `"_aws"`) {
			continue
		}
		keys, ok := MetricKeys([]byte(line))
		if !ok {
			continue
		}
		lt.EMFEvents++
		lt.EMFBytes += n
		for _, k := range keys {
			lt.Metrics[k] = true
		}
	}
	return lt
}

// Add adds o to lt.
func (lt *LogText) Add(o LogText) {
	lt.Events += o.Events
	lt.Bytes += o.Bytes
	lt.EMFEvents += o.EMFEvents
	lt.EMFBytes += o.EMFBytes
	if lt.Metrics == nil {
		lt.Metrics = map[string]bool{}
	}
	for k := range o.Metrics {
		lt.Metrics[k] = true
	}
}

// MetricKeys returns the custom metrics an EMF line defines, one key per metric
// name and dimension set: "namespace|name|dim=value,dim=value" (dimensions
// sorted). CloudWatch bills each distinct key as one metric a month. ok is
// false when line is not an EMF document.
func MetricKeys(line []byte) (keys []string, ok bool) {
	var doc map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if dec.Decode(&doc) != nil {
		return nil, false
	}
	var meta struct {
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct {
				Name string `json:"Name"`
			} `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	}
	raw, found := doc["_aws"]
	if !found || json.Unmarshal(raw, &meta) != nil || len(meta.CloudWatchMetrics) == 0 {
		return nil, false
	}
	for _, d := range meta.CloudWatchMetrics {
		sets := d.Dimensions
		if len(sets) == 0 {
			sets = [][]string{nil}
		}
		for _, set := range sets {
			dims := make([]string, 0, len(set))
			for _, name := range set {
				var v string
				if json.Unmarshal(doc[name], &v) != nil {
					v = string(doc[name])
				}
				dims = append(dims, name+"="+v)
			}
			slices.Sort(dims)
			for _, m := range d.Metrics {
				keys = append(keys, d.Namespace+"|"+m.Name+"|"+strings.Join(dims, ","))
			}
		}
	}
	return keys, true
}
