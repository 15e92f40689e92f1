package emf_test

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/emf"
)

func TestWrite(t *testing.T) {
	var buf bytes.Buffer
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	err := emf.Write(&buf, at, map[string]string{"Topic": "equipaje", "Lang": "es"},
		emf.Metric{Name: "ActiveCrises", Unit: emf.Count, Value: 1},
		emf.Metric{Name: "FirstResponseTime", Unit: emf.Seconds, Value: 42.5},
		emf.Metric{Name: "Ratio", Value: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(buf.String(), "}\n") || strings.Count(buf.String(), "\n") != 1 {
		t.Fatalf("not one JSON line: %q", buf.String())
	}
	var doc struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		Topic, Lang                            string
		ActiveCrises, FirstResponseTime, Ratio float64
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	cw := doc.AWS.CloudWatchMetrics
	if doc.AWS.Timestamp != at.UnixMilli() || len(cw) != 1 || cw[0].Namespace != "Pajarito" {
		t.Fatalf("_aws = %+v", doc.AWS)
	}
	if got := cw[0].Dimensions; len(got) != 1 || strings.Join(got[0], ",") != "Lang,Topic" {
		t.Errorf("dimensions %v, want one set [Lang Topic]", got)
	}
	units := map[string]string{}
	for _, m := range cw[0].Metrics {
		units[m.Name] = m.Unit
	}
	if units["ActiveCrises"] != "Count" || units["FirstResponseTime"] != "Seconds" || units["Ratio"] != "None" {
		t.Errorf("units %v", units)
	}
	if doc.Topic != "equipaje" || doc.Lang != "es" || doc.ActiveCrises != 1 || doc.FirstResponseTime != 42.5 || doc.Ratio != 0.25 {
		t.Errorf("values %+v", doc)
	}
}

func TestWriteRefuses(t *testing.T) {
	var buf bytes.Buffer
	for name, tc := range map[string]struct {
		dims map[string]string
		m    emf.Metric
	}{
		"clash with a dimension": {map[string]string{"Source": "x"}, emf.Metric{Name: "Source", Value: 1}},
		"empty name":             {nil, emf.Metric{Value: 1}},
		"NaN":                    {nil, emf.Metric{Name: "A", Value: math.NaN()}},
		"Inf":                    {nil, emf.Metric{Name: "A", Value: math.Inf(1)}},
	} {
		if err := emf.Write(&buf, time.Now(), tc.dims, tc.m); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("refused metrics wrote %q", buf.String())
	}
	if err := emf.Write(&buf, time.Now(), nil); err != nil || buf.Len() != 0 {
		t.Errorf("no metrics: err %v, wrote %q", err, buf.String())
	}
}
