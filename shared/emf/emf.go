// Package emf writes CloudWatch metrics as Embedded Metric Format log lines: a
// Lambda function prints one JSON object per line on stdout and CloudWatch Logs
// extracts the metrics from it, with no PutMetricData call, no extra permission and
// no latency on the request path.
//
// Every Pajarito metric lives in the namespace "Pajarito".
package emf

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// Namespace is the CloudWatch namespace of Pajarito's metrics.
const Namespace = "Pajarito"

// Unit is a CloudWatch metric unit.
type Unit string

// Units used by Pajarito.
const (
	Count        Unit = "Count"
	Seconds      Unit = "Seconds"
	Milliseconds Unit = "Milliseconds"
	None         Unit = "None"
)

// Metric is one value.
type Metric struct {
	Name  string
	Unit  Unit
	Value float64
}

// Write writes one EMF line to w: metrics at time at, under one dimension set made
// of every key of dims (none is fine: the metrics are then aggregated only). A
// metric name must not repeat a dimension's.
func Write(w io.Writer, at time.Time, dims map[string]string, metrics ...Metric) error {
	if len(metrics) == 0 {
		return nil
	}
	keys := make([]string, 0, len(dims))
	for k := range dims {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	defs := make([]map[string]string, 0, len(metrics))
	doc := make(map[string]any, len(metrics)+len(dims)+1)
	for k, v := range dims {
		doc[k] = v
	}
	for _, m := range metrics {
		if _, clash := doc[m.Name]; clash || m.Name == "" {
			return fmt.Errorf("emf: metric name %q is empty or repeats a dimension or another metric", m.Name)
		}
		if math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
			return fmt.Errorf("emf: metric %s is %v, which CloudWatch refuses", m.Name, m.Value)
		}
		unit := m.Unit
		if unit == "" {
			unit = None
		}
		defs = append(defs, map[string]string{"Name": m.Name, "Unit": string(unit)})
		doc[m.Name] = m.Value
	}
	doc["_aws"] = map[string]any{
		"Timestamp": at.UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  Namespace,
			"Dimensions": [][]string{keys},
			"Metrics":    defs,
		}},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("emf: encode: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("emf: write: %w", err)
	}
	return nil
}
