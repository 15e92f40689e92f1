package report_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/report"
)

// node is an element of a parsed page.
type node struct {
	Name     string
	Attr     map[string]string
	Children []*node
	Text     string // the text directly inside
}

// parse parses a rendered page as XML (the page is written to be well-formed),
// failing the test when it does not parse.
func parse(t *testing.T, page []byte) *node {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(page))
	dec.Strict = true
	root := &node{Name: "#document"}
	stack := []*node{root}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the page does not parse: %v\n%s", err, page)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{Name: tok.Name.Local, Attr: map[string]string{}}
			for _, a := range tok.Attr {
				n.Attr[a.Name.Local] = a.Value
			}
			top := stack[len(stack)-1]
			top.Children = append(top.Children, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			stack[len(stack)-1].Text += string(tok)
		}
	}
	if len(stack) != 1 {
		t.Fatalf("the page leaves %d elements open", len(stack)-1)
	}
	return root
}

// find returns the elements under n (n included) for which match is true, in
// document order.
func (n *node) find(match func(*node) bool) []*node {
	var out []*node
	if match(n) {
		out = append(out, n)
	}
	for _, c := range n.Children {
		out = append(out, c.find(match)...)
	}
	return out
}

// allText returns the text of n and everything under it.
func (n *node) allText() string {
	var b strings.Builder
	b.WriteString(n.Text)
	for _, c := range n.Children {
		b.WriteString(c.allText())
	}
	return b.String()
}

func hasClass(n *node, class string) bool {
	return slices.Contains(strings.Fields(n.Attr["class"]), class)
}

func byClass(name, class string) func(*node) bool {
	return func(n *node) bool { return n.Name == name && hasClass(n, class) }
}

// chart returns the SVG chart named name, or nil.
func (n *node) chart(name string) *node {
	cs := n.find(func(n *node) bool { return n.Name == "svg" && n.Attr["data-chart"] == name })
	if len(cs) == 0 {
		return nil
	}
	return cs[0]
}

// section returns the page's section with id.
func (n *node) section(t *testing.T, id string) *node {
	t.Helper()
	s := n.find(func(n *node) bool { return n.Name == "section" && n.Attr["id"] == id })
	if len(s) != 1 {
		t.Fatalf("%d sections with id %q, want 1", len(s), id)
	}
	return s[0]
}

// figure returns the headline card named name.
func (n *node) figure(t *testing.T, name string) *node {
	t.Helper()
	c := n.find(func(n *node) bool { return n.Attr["data-figure"] == name })
	if len(c) != 1 {
		t.Fatalf("%d figures %q, want 1", len(c), name)
	}
	return c[0]
}

func sample(t *testing.T) report.Data {
	t.Helper()
	b, err := os.ReadFile("testdata/sample.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var d report.Data
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("testdata/sample.json: %v", err)
	}
	return d
}

func render(t *testing.T, d report.Data, lang string) (*node, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := report.Render(&buf, d, lang); err != nil {
		t.Fatal(err)
	}
	return parse(t, buf.Bytes()), buf.Bytes()
}

func ptr[T any](v T) *T { return &v }

// small is a report with a few of everything, easy to count by hand.
func small() report.Data {
	return report.Data{
		Brand: "PajaritoAir", Timezone: "America/Mexico_City",
		From: time.Date(2026, 8, 3, 6, 0, 0, 0, time.UTC), To: time.Date(2026, 8, 10, 6, 0, 0, 0, time.UTC),
		GeneratedAt: time.Date(2026, 8, 10, 7, 0, 0, 0, time.UTC),
		Summary: report.Summary{
			Cases: 1234, FirstResponseMedian: ptr(45.0), FirstResponseP90: ptr(5310.0), ResolutionMedian: ptr(90000.0),
			CSAT: ptr(4.26), CSATResponses: 12, AutomaticReplies: 1, HumanReplies: 3, XSpendUSD: ptr(12.5),
			XSpendMonths: []string{"2026-07", "2026-08"},
		},
		Volume: []report.HourVolume{
			{Hour: 0, Intents: map[string]int{"complaint": 2}},
			{Hour: 9, Intents: map[string]int{"complaint": 3, "question": 5, "": 1, "refund": 2}},
			{Hour: 23, Intents: map[string]int{"praise": 1, "spam": 0}},
		},
		FirstResponse: report.Histogram{
			Bins:   []report.Bin{{From: 0, To: 300, Count: 4}, {From: 300, To: 3600, Count: 0}, {From: 3600, Count: 2}},
			Median: ptr(200.0), P90: ptr(7200.0),
		},
		CSAT: []report.DayCSAT{
			{Day: "2026-08-05", Mean: 4.5, Responses: 4},
			{Day: "2026-08-03", Mean: 3, Responses: 2},
			{Day: "2026-08-04", Mean: 5, Responses: 0}, // no answers: no point
			{Day: "2026-08-08", Mean: 4.25, Responses: 6},
		},
		Staffing: []report.StaffingHour{
			{Hour: 0, ArrivalsPerHour: 0.3, Agents: 1, ServiceLevel: 0.99, Occupancy: 0.03, ASA: 2},
			{Hour: 9, ArrivalsPerHour: 30, Agents: 4, ServiceLevel: 0.85, Occupancy: 0.75, ASA: 100},
			{Hour: 10, ArrivalsPerHour: 0, Agents: 0, ServiceLevel: 1},
		},
		Target: &report.Target{AnswerWithin: 3600, Fraction: 0.8, HandleTime: 360, MaxOccupancy: 0.85},
	}
}

// TestPageIsSelfContained checks the page parses and loads nothing: no script,
// no link, no URL, no external font or image.
func TestPageIsSelfContained(t *testing.T) {
	for _, d := range []report.Data{sample(t), small(), {}} {
		for _, lang := range report.Langs {
			doc, page := render(t, d, lang)
			html := doc.find(func(n *node) bool { return n.Name == "html" })
			if len(html) != 1 || html[0].Attr["lang"] != lang {
				t.Errorf("%s: html element %v, want one with lang %q", lang, html, lang)
			}
			if n := doc.find(func(n *node) bool {
				return slices.Contains([]string{"script", "link", "img", "iframe", "object"}, n.Name)
			}); len(n) > 0 {
				t.Errorf("%s: the page has a %s element", lang, n[0].Name)
			}
			for _, s := range []string{"://", "url(", "@import", "src=", "href="} {
				if bytes.Contains(page, []byte(s)) {
					t.Errorf("%s: the page contains %q: it must need nothing outside itself", lang, s)
				}
			}
		}
	}
}

// bars returns the chart's bars as "slot/series=value".
func bars(chart *node) []string {
	var out []string
	for _, b := range chart.find(byClass("rect", "bar")) {
		out = append(out, b.Attr["data-slot"]+"/"+b.Attr["data-series"]+"="+b.Attr["data-value"])
	}
	slices.Sort(out)
	return out
}

func TestChartsHaveTheirData(t *testing.T) {
	tests := []struct {
		name string
		data report.Data
	}{
		{"sample", sample(t)},
		{"small", small()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.data
			doc, _ := render(t, d, "en")

			var want []string
			for _, hv := range d.Volume {
				for in, n := range hv.Intents {
					if n > 0 {
						want = append(want, fmt.Sprintf("%d/%s=%d", hv.Hour, in, n))
					}
				}
			}
			slices.Sort(want)
			if got := bars(doc.chart("volume")); !slices.Equal(got, want) {
				t.Errorf("volume bars\n got %v\nwant %v", got, want)
			}

			want = nil
			for i, b := range d.FirstResponse.Bins {
				want = append(want, fmt.Sprintf("%d/cases=%d", i, b.Count))
			}
			slices.Sort(want)
			frt := doc.chart("first-response")
			if got := bars(frt); !slices.Equal(got, want) {
				t.Errorf("first-response bars\n got %v\nwant %v", got, want)
			}
			var markers []string
			for _, m := range frt.find(byClass("line", "marker")) {
				markers = append(markers, m.Attr["data-marker"])
			}
			if !slices.Equal(markers, []string{"median", "p90"}) {
				t.Errorf("first-response markers %v, want median and p90", markers)
			}

			want = nil
			for _, c := range d.CSAT {
				if c.Responses > 0 {
					want = append(want, c.Day+"="+strconv.FormatFloat(c.Mean, 'f', 2, 64))
				}
			}
			slices.Sort(want)
			var got []string
			csat := doc.chart("csat")
			points := csat.find(byClass("circle", "point"))
			for _, p := range points {
				got = append(got, p.Attr["data-slot"]+"="+p.Attr["data-value"])
			}
			if !slices.IsSorted(got) {
				t.Errorf("CSAT points %v are not in date order", got)
			}
			if slices.Sort(got); !slices.Equal(got, want) {
				t.Errorf("CSAT points\n got %v\nwant %v", got, want)
			}
			line := csat.find(byClass("polyline", "line"))
			if len(line) != 1 || len(strings.Fields(line[0].Attr["points"])) != len(want) {
				t.Errorf("CSAT line %v, want one polyline through %d points", line, len(want))
			}

			want = nil
			for _, h := range d.Staffing {
				want = append(want, fmt.Sprintf("%d/agents=%d", h.Hour, h.Agents))
			}
			slices.Sort(want)
			if got := bars(doc.chart("staffing")); !slices.Equal(got, want) {
				t.Errorf("staffing bars\n got %v\nwant %v", got, want)
			}
			if rows := doc.section(t, "staffing").find(func(n *node) bool { return n.Name == "tr" }); len(rows) != len(d.Staffing)+1 {
				t.Errorf("staffing table has %d rows, want a header and %d", len(rows), len(d.Staffing))
			}
		})
	}
}

// TestBarsAreInTheirSlots checks the geometry: a volume stack's segments sit on
// each other from the axis up, in their hour's slot, as tall as their counts.
func TestBarsAreInTheirSlots(t *testing.T) {
	doc, _ := render(t, small(), "es")
	chart := doc.chart("volume")
	axis := chart.find(byClass("line", "axis"))[0]
	bottom := num(t, axis.Attr["y1"])
	stacks := map[string][]*node{}
	for _, b := range chart.find(byClass("rect", "bar")) {
		stacks[b.Attr["data-slot"]] = append(stacks[b.Attr["data-slot"]], b)
	}
	unit := 0.0 // user units per case
	for slot, segs := range stacks {
		base, x := bottom, num(t, segs[0].Attr["x"])
		for _, s := range segs {
			y, h := num(t, s.Attr["y"]), num(t, s.Attr["height"])
			if diff := y + h - base; diff > 0.15 || diff < -0.15 {
				t.Errorf("hour %s: segment %s ends at %.1f, want %.1f (on the one below)", slot, s.Attr["data-series"], y+h, base)
			}
			if num(t, s.Attr["x"]) != x {
				t.Errorf("hour %s: segments not aligned", slot)
			}
			v := num(t, s.Attr["data-value"])
			if unit == 0 {
				unit = h / v
			} else if d := h/v - unit; d > 0.1 || d < -0.1 {
				t.Errorf("hour %s: %s is %.1f tall for %v cases; %.2f per case elsewhere", slot, s.Attr["data-series"], h, v, unit)
			}
			base = y
		}
	}
	if x0, x9 := num(t, stacks["0"][0].Attr["x"]), num(t, stacks["9"][0].Attr["x"]); x9 <= x0 {
		t.Errorf("hour 9 at x %.1f is not right of hour 0 at %.1f", x9, x0)
	}
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("attribute %q is not a number", s)
	}
	return v
}

func TestEmptyCharts(t *testing.T) {
	charts := []string{"volume", "first-response", "csat", "staffing"}
	tests := []struct {
		name  string
		data  func() report.Data
		empty []string
	}{
		{"nothing at all", func() report.Data { return report.Data{} }, charts},
		{"everything", small, nil},
		{"volume of zeros", func() report.Data {
			d := small()
			d.Volume = []report.HourVolume{{Hour: 3, Intents: map[string]int{"complaint": 0}}, {Hour: 4}}
			return d
		}, []string{"volume"}},
		{"histogram of empty bins", func() report.Data {
			d := small()
			h, err := report.NewHistogram(nil, report.FirstResponseEdges)
			if err != nil {
				t.Fatal(err)
			}
			d.FirstResponse = h
			return d
		}, []string{"first-response"}},
		{"days without answers", func() report.Data {
			d := small()
			d.CSAT = []report.DayCSAT{{Day: "2026-08-03", Responses: 0}}
			return d
		}, []string{"csat"}},
		{"no arrivals to staff for", func() report.Data {
			d := small()
			for i := range d.Staffing {
				d.Staffing[i].ArrivalsPerHour = 0
			}
			return d
		}, []string{"staffing"}},
		{"no plan", func() report.Data { d := small(); d.Staffing = nil; return d }, []string{"staffing"}},
	}
	for _, tt := range tests {
		for _, lang := range report.Langs {
			t.Run(tt.name+"/"+lang, func(t *testing.T) {
				doc, _ := render(t, tt.data(), lang)
				noData := map[string]string{"es": "Sin datos todavía", "en": "No data yet"}[lang]
				for _, name := range charts {
					sec := doc.section(t, name)
					empties := sec.find(func(n *node) bool { return n.Attr["data-empty"] == "true" })
					if slices.Contains(tt.empty, name) {
						if sec.chart(name) != nil || len(empties) != 1 || strings.TrimSpace(empties[0].allText()) != noData {
							t.Errorf("%s: want no chart and %q", name, noData)
						}
						continue
					}
					if sec.chart(name) == nil || len(empties) != 0 {
						t.Errorf("%s: want a chart, got none or an empty notice", name)
					}
				}
			})
		}
	}
}

func TestLanguages(t *testing.T) {
	tests := []struct {
		lang    string
		title   string
		figures map[string]string // card → value
		notes   map[string]string // card → note
		legend  []string
		period  string
	}{
		{
			lang:  "es",
			title: "Atención al cliente en X · @PajaritoAir",
			figures: map[string]string{
				"cases": "1.234", "first_response_median": "45\u00a0s", "first_response_p90": "1\u00a0h 29\u00a0min",
				"resolution_median": "1\u00a0d 1\u00a0h", "csat": "4,3 / 5", "unanswered": "0", "automatic_share": "25\u00a0%",
				"x_spend": "12,50\u00a0US$",
			},
			notes: map[string]string{"csat": "12 respuestas", "automatic_share": "de 4 respuestas", "unanswered": "todos los casos respondidos",
				"x_spend": "jul 2026 – ago 2026"},
			legend: []string{"queja", "pregunta", "elogio", "sin etiqueta", "refund"},
			period: "Periodo: 3 ago 2026 – 9 ago 2026",
		},
		{
			lang:  "en",
			title: "Customer care on X · @PajaritoAir",
			figures: map[string]string{
				"cases": "1,234", "first_response_median": "45\u00a0s", "first_response_p90": "1\u00a0h 29\u00a0min",
				"resolution_median": "1\u00a0d 1\u00a0h", "csat": "4.3 / 5", "unanswered": "0", "automatic_share": "25%",
				"x_spend": "$12.50",
			},
			notes: map[string]string{"csat": "12 responses", "automatic_share": "of 4 replies", "unanswered": "every case answered",
				"x_spend": "Jul 2026 – Aug 2026"},
			legend: []string{"complaint", "question", "praise", "unlabelled", "refund"},
			period: "Period: 3 Aug 2026 – 9 Aug 2026",
		},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			doc, _ := render(t, small(), tt.lang)
			if h1 := doc.find(func(n *node) bool { return n.Name == "h1" }); len(h1) != 1 || h1[0].allText() != tt.title {
				t.Errorf("h1 = %v, want %q", h1, tt.title)
			}
			meta := doc.find(byClass("p", "meta"))[0].allText()
			if !strings.HasPrefix(meta, tt.period) || !strings.Contains(meta, "America/Mexico_City") {
				t.Errorf("meta %q, want %q… and the zone", meta, tt.period)
			}
			for name, want := range tt.figures {
				if got := doc.figure(t, name).find(byClass("div", "value"))[0].allText(); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			for name, want := range tt.notes {
				if got := doc.figure(t, name).find(byClass("div", "note"))[0].allText(); got != want {
					t.Errorf("%s note = %q, want %q", name, got, want)
				}
			}
			var legend []string
			for _, li := range doc.section(t, "volume").find(func(n *node) bool { return n.Name == "li" }) {
				legend = append(legend, li.allText())
			}
			if !slices.Equal(legend, tt.legend) {
				t.Errorf("legend %v, want %v", legend, tt.legend)
			}
		})
	}
	if err := report.Render(io.Discard, small(), "fr"); err == nil || !strings.Contains(err.Error(), `"fr"`) {
		t.Errorf("Render in fr: %v, want an error naming the language", err)
	}
}

func TestUnanswered(t *testing.T) {
	tests := []struct {
		unanswered int
		class      string
		note       string
	}{
		{0, "good", "todos los casos respondidos"},
		{3, "alert", "debe ser 0"},
	}
	for _, tt := range tests {
		d := small()
		d.Summary.Unanswered = tt.unanswered
		doc, _ := render(t, d, "es")
		card := doc.figure(t, "unanswered")
		if !hasClass(card, tt.class) || !strings.Contains(card.allText(), tt.note) || !strings.Contains(card.allText(), strconv.Itoa(tt.unanswered)) {
			t.Errorf("unanswered %d: card %q class %q, want class %s and %q", tt.unanswered, card.allText(), card.Attr["class"], tt.class, tt.note)
		}
	}
}

// TestEscaping renders hostile text in every place Data puts text and checks it
// comes back as text, not markup.
func TestEscaping(t *testing.T) {
	const evil = `"><script>alert('x')</script><img src=x onerror=alert(1)>&amp;`
	d := small()
	d.Brand = evil
	d.Volume = append(d.Volume, report.HourVolume{Hour: 5, Intents: map[string]int{evil: 2}})
	for _, lang := range report.Langs {
		doc, page := render(t, d, lang)
		if n := doc.find(func(n *node) bool { return n.Name == "script" || n.Name == "img" }); len(n) > 0 {
			t.Fatalf("%s: the hostile text became a %s element", lang, n[0].Name)
		}
		if h1 := doc.find(func(n *node) bool { return n.Name == "h1" })[0].allText(); !strings.Contains(h1, evil) {
			t.Errorf("%s: h1 %q does not show the brand as text", lang, h1)
		}
		var series []string
		for _, b := range doc.chart("volume").find(byClass("rect", "bar")) {
			series = append(series, b.Attr["data-series"])
		}
		if !slices.Contains(series, evil) {
			t.Errorf("%s: no bar's data-series is the hostile intent as text: %v", lang, series)
		}
		if bytes.Contains(page, []byte("<script")) {
			t.Errorf("%s: the page holds <script", lang)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	d := small()
	d.Timezone = "Mars/Olympus"
	if err := report.Render(io.Discard, d, "en"); err == nil || !strings.Contains(err.Error(), "Mars/Olympus") {
		t.Errorf("Render with a bad zone: %v, want an error naming it", err)
	}
}

func TestNewHistogram(t *testing.T) {
	m := time.Minute
	tests := []struct {
		name    string
		samples []time.Duration
		edges   []time.Duration
		want    []int
		wantErr bool
	}{
		{"none", nil, []time.Duration{5 * m, 15 * m}, []int{0, 0, 0}, false},
		{"each bin", []time.Duration{m, 6 * m, 20 * m, 2 * time.Hour}, []time.Duration{5 * m, 15 * m}, []int{1, 1, 2}, false},
		{"an edge opens the next bin", []time.Duration{5 * m, 15 * m, 0}, []time.Duration{5 * m, 15 * m}, []int{1, 1, 1}, false},
		{"negative counts first", []time.Duration{-m}, []time.Duration{5 * m}, []int{1, 0}, false},
		{"no edges: one bin", []time.Duration{m, time.Hour}, nil, []int{2}, false},
		{"edges not increasing", nil, []time.Duration{15 * m, 5 * m}, nil, true},
		{"zero edge", nil, []time.Duration{0, 5 * m}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := report.NewHistogram(tt.samples, tt.edges)
			if tt.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for i, b := range h.Bins {
				got = append(got, b.Count)
				wantFrom, wantTo := 0.0, 0.0
				if i > 0 {
					wantFrom = tt.edges[i-1].Seconds()
				}
				if i < len(tt.edges) {
					wantTo = tt.edges[i].Seconds()
				}
				if b.From != wantFrom || b.To != wantTo {
					t.Errorf("bin %d bounds [%v, %v), want [%v, %v)", i, b.From, b.To, wantFrom, wantTo)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("counts %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDataJSON checks Data survives JSON both ways, as the agent API sends it.
func TestDataJSON(t *testing.T) {
	d := small()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back report.Data
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	var one, two bytes.Buffer
	if err := report.Render(&one, d, "es"); err != nil {
		t.Fatal(err)
	}
	if err := report.Render(&two, back, "es"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(one.Bytes(), two.Bytes()) {
		t.Error("the report of Data read back from JSON differs")
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	keys := slices.Sorted(maps.Keys(m))
	want := []string{"brand", "crises", "csat", "first_response", "from", "generated_at", "staffing", "summary", "target", "timezone", "to", "volume"}
	if !slices.Equal(keys, want) {
		t.Errorf("JSON keys %v, want %v", keys, want)
	}
}

// TestCrisisTimeline: a crisis of the period reads as its timeline, in the
// report's time zone and language: opened, the statement and its update with
// their text (as text), closed, and its follow-ups' counts; a period without
// one says so.
func TestCrisisTimeline(t *testing.T) {
	const evil = `<script>alert(1)</script>`
	d := small()
	at := time.Date(2026, 8, 4, 15, 10, 0, 0, time.UTC) // 09:10 in Mexico City
	d.Crises = []report.Crisis{{Topic: "delays", Events: []report.CrisisEvent{
		{At: at, Kind: report.EventOpened, By: "auto"},
		{At: at.Add(20 * time.Minute), Kind: report.EventStatement, By: "Sara", Text: "Lo sentimos: los embarques van con retraso. " + evil},
		{At: at.Add(55 * time.Minute), Kind: report.EventUpdate, By: "Sara", Text: "10:05: el embarque vuelve a funcionar."},
		{At: at.Add(2 * time.Hour), Kind: report.EventClosed, By: "Sara"},
		{At: at.Add(130 * time.Minute), Kind: report.EventFollowUpsStarted},
		{At: at.Add(150 * time.Minute), Kind: report.EventFollowUpsDone},
	}, FollowUps: &report.CrisisFollowUps{Customers: 57, Told: 52, Skipped: map[string]int{"answered_by_person": 5}}}}
	for lang, want := range map[string][]string{
		"es": {"Abierta · automática", "Comunicado publicado · Sara", "Actualización publicada", "Cerrada · Sara", "57 clientes afectados, 52 avisados", "Sin aviso: 5 ya atendidos por una persona."},
		"en": {"Opened · automatic", "Statement posted · Sara", "Update posted", "Closed · Sara", "57 customers affected, 52 told it was over", "Not told: 5 already answered by a person."},
	} {
		doc, page := render(t, d, lang)
		crises := doc.find(func(n *node) bool { return n.Attr["id"] == "crises" })
		if len(crises) != 1 {
			t.Fatalf("%s: no crises section", lang)
		}
		var times []string
		for _, n := range crises[0].find(func(n *node) bool { return n.Name == "time" }) {
			times = append(times, n.allText())
		}
		if want := []string{"09:10", "09:30", "10:05", "11:10", "11:20", "11:40"}; len(times) != len(want) || !strings.HasPrefix(times[0], "4 ") {
			t.Errorf("%s: the timeline's times are %q; want the events' in the report's zone, %q", lang, times, want)
		} else {
			for i := range want {
				if !strings.HasSuffix(times[i], want[i]) {
					t.Errorf("%s: event %d at %q; want %s", lang, i, times[i], want[i])
				}
			}
		}
		text := strings.Join(strings.Fields(crises[0].allText()), " ")
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: the crises section reads %q; want %q", lang, text, w)
			}
		}
		if !strings.Contains(text, evil) || bytes.Contains(page, []byte("<script")) {
			t.Errorf("%s: the statement's text is not shown as text", lang)
		}
	}
	d.Crises = nil
	doc, _ := render(t, d, "en")
	if text := doc.find(func(n *node) bool { return n.Attr["id"] == "crises" })[0].allText(); !strings.Contains(text, "No crisis in the period") {
		t.Errorf("a period without a crisis reads %q", text)
	}
}
