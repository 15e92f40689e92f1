package report

import (
	"fmt"
	"html/template"
	"strconv"
	"time"
)

// page is the template's view of a report.
type page struct {
	Lang                        string
	L                           *labels
	Brand                       string
	Period, Timezone, Generated string
	Cards                       []card
	Volume, FRT, CSAT, Staffing *chart
	VolumeNote, StaffingNote    string
	TargetText                  string
	Plan                        []planRow
	Crises                      []crisisView
}

// card is one headline figure; Class is "good" or "alert" when the figure is
// judged.
type card struct {
	Name, Label, Value, Note, Class string
}

type planRow struct {
	Hour, Arrivals, Agents, ServiceLevel, Occupancy, ASA string
}

const none = "—"

func newPage(d Data, lang string, l *labels) (*page, error) {
	loc := time.UTC
	tz := d.Timezone
	if tz == "" {
		tz = "UTC"
	} else {
		var err error
		if loc, err = time.LoadLocation(tz); err != nil {
			return nil, fmt.Errorf("report: timezone %q: %w", tz, err)
		}
	}
	p := &page{Lang: lang, L: l, Brand: d.Brand, Timezone: tz, Period: none, Generated: none}
	if !d.From.IsZero() && d.To.After(d.From) {
		from, last := d.From.In(loc), d.To.Add(-time.Nanosecond).In(loc)
		p.Period = l.date(from)
		if last.YearDay() != from.YearDay() || last.Year() != from.Year() {
			p.Period += " – " + l.date(last)
		}
	}
	if !d.GeneratedAt.IsZero() {
		g := d.GeneratedAt.In(loc)
		p.Generated = l.date(g) + " " + g.Format("15:04")
	}
	p.Cards = cards(d.Summary, l)
	p.Crises = crisisViews(d.Crises, loc, l)
	p.Volume = volumeChart(d.Volume, l)
	p.FRT = histogramChart(d.FirstResponse, l)
	p.CSAT = csatChart(d.CSAT, l)
	p.Staffing = staffingChart(d.Staffing, l)
	p.VolumeNote = fmt.Sprintf(l.VolumeNote, tz)
	p.StaffingNote = fmt.Sprintf(l.StaffingNote, tz)
	if t := d.Target; t != nil {
		p.TargetText = fmt.Sprintf(l.Target, l.percent(t.Fraction), l.duration(t.AnswerWithin), l.duration(t.HandleTime), l.percent(t.MaxOccupancy))
	}
	if p.Staffing != nil {
		for _, h := range d.Staffing {
			p.Plan = append(p.Plan, planRow{
				Hour: hourLabel(h.Hour) + ":00", Arrivals: l.number(h.ArrivalsPerHour, 1), Agents: l.count(h.Agents),
				ServiceLevel: l.percent(h.ServiceLevel), Occupancy: l.percent(h.Occupancy), ASA: l.duration(h.ASA),
			})
		}
	}
	return p, nil
}

// cards lays out the headline figures.
func cards(s Summary, l *labels) []card {
	dur := func(v *float64) string {
		if v == nil {
			return none
		}
		return l.duration(*v)
	}
	out := []card{
		{Name: "cases", Label: l.Cases, Value: l.count(s.Cases)},
		{Name: "first_response_median", Label: l.FRTMedian, Value: dur(s.FirstResponseMedian)},
		{Name: "first_response_p90", Label: l.FRTP90, Value: dur(s.FirstResponseP90)},
		{Name: "resolution_median", Label: l.ResolutionMedian, Value: dur(s.ResolutionMedian)},
	}
	csat := card{Name: "csat", Label: l.CSAT, Value: none}
	if s.CSAT != nil {
		csat.Value = l.number(*s.CSAT, 1) + " / 5"
		csat.Note = l.count(s.CSATResponses) + " " + l.Responses
	}
	unanswered := card{Name: "unanswered", Label: l.Unanswered, Value: l.count(s.Unanswered), Class: "good", Note: l.UnansweredOK}
	if s.Unanswered != 0 {
		unanswered.Class, unanswered.Note = "alert", l.UnansweredAlert
	}
	auto := card{Name: "automatic_share", Label: l.AutomaticShare, Value: none}
	if share, ok := s.AutomaticShare(); ok {
		auto.Value = l.percent(share)
		auto.Note = fmt.Sprintf(l.OfReplies, l.count(s.AutomaticReplies+s.HumanReplies))
	}
	spend := card{Name: "x_spend", Label: l.XSpend, Value: none}
	if s.XSpendUSD != nil {
		spend.Value = l.usd(*s.XSpendUSD)
		spend.Note = l.months(s.XSpendMonths)
	}
	return append(out, csat, unanswered, auto, spend)
}

// n formats an SVG coordinate.
func n(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"n":   n,
	"add": func(a, b float64) float64 { return a + b },
	"sub": func(a, b float64) float64 { return a - b },
}).Parse(pageHTML))

// pageHTML is the page. It is also well-formed XML (void elements closed, no
// named entities, nothing in the CSS that XML would read as markup), so that the
// tests can parse it with encoding/xml.
const pageHTML = `<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>{{.L.Title}}{{with .Brand}} · @{{.}}{{end}} · {{.Period}}</title>
<style>
*{box-sizing:border-box}
body{margin:0;background:#f4f6f8;color:#1f2933;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1240px;margin:0 auto;padding:28px 30px 40px}
h1{font-size:26px;margin:0 0 4px}
h2{font-size:17px;margin:0 0 2px}
p{margin:0}
.meta,.note,footer{color:#52606d;font-size:13px}
.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:14px;margin:22px 0}
.card,.panel{background:#fff;border:1px solid #dde3e9;border-radius:10px;padding:14px 16px}
.card .label{color:#52606d;font-size:13px}
.card .value{font-size:28px;font-weight:650;margin:2px 0;font-variant-numeric:tabular-nums}
.card.good{border-top:4px solid #3f8f5a}
.card.good .value{color:#2f7a48}
.card.alert{border-top:4px solid #d1495b;background:#fff5f6}
.card.alert .value{color:#b3283c}
.panel{margin-bottom:16px}
.row{display:grid;grid-template-columns:1fr 1fr;gap:16px}
svg.chart{display:block;margin-top:8px;font-size:12px}
svg.chart .xtick{font-size:11px}
svg.chart text{fill:#52606d}
svg.chart .grid line{stroke:#e4e8ec}
svg.chart .axis{stroke:#9aa5b1}
svg.chart .ytick{text-anchor:end}
svg.chart .xtick,svg.chart .barvalue{text-anchor:middle}
svg.chart .barvalue{fill:#1f2933;font-weight:600}
svg.chart .marker{stroke:#d1495b;stroke-width:2;stroke-dasharray:5 4}
svg.chart .markerlabel{fill:#b3283c;font-weight:600}
svg.chart .markerlabel.end{text-anchor:end}
svg.chart .line{fill:none;stroke:#00798c;stroke-width:2.5}
svg.chart .point{fill:#fff;stroke:#00798c;stroke-width:2.5}
.empty{display:flex;align-items:center;justify-content:center;height:180px;margin-top:8px;border:2px dashed #cbd2d9;border-radius:8px;color:#7b8794;font-size:16px}
.timeline{margin:6px 0;padding-left:20px;font-size:14px}.timeline li{margin:2px 0}.timeline time{font-variant-numeric:tabular-nums;margin-right:6px}.timeline q{display:block;color:#444;margin:2px 0 4px}.crisis h3{font-size:15px;margin:10px 0 2px}.followups{font-size:14px;margin:4px 0}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:6px 16px;padding:0;margin:8px 0 0;font-size:13px}
.legend svg{vertical-align:-1px;margin-right:5px}
details{margin-top:10px}
summary{cursor:pointer;color:#30638e}
table{border-collapse:collapse;margin-top:8px;font-size:13px;font-variant-numeric:tabular-nums}
th,td{padding:3px 12px;border-bottom:1px solid #e4e8ec;text-align:right}
th:first-child,td:first-child{text-align:left}
footer{margin-top:24px}
</style>
</head>
<body>
<main>
<header>
<h1>{{.L.Title}}{{with .Brand}} · @{{.}}{{end}}</h1>
<p class="meta">{{.L.Period}}: {{.Period}} · {{.L.Timezone}}: {{.Timezone}} · {{.L.Generated}}: {{.Generated}}</p>
</header>
<section class="cards">
{{- range .Cards}}
<div class="card {{.Class}}" data-figure="{{.Name}}"><div class="label">{{.Label}}</div><div class="value">{{.Value}}</div>{{with .Note}}<div class="note">{{.}}</div>{{end}}</div>
{{- end}}
</section>
<section class="panel" id="volume">
<h2>{{.L.Volume}}</h2>
<p class="note">{{.VolumeNote}}</p>
{{if .Volume}}{{template "chart" .Volume}}{{else}}{{template "empty" .L}}{{end}}
</section>
<div class="row">
<section class="panel" id="first-response">
<h2>{{.L.FRT}}</h2>
<p class="note">{{.L.FRTNote}}</p>
{{if .FRT}}{{template "chart" .FRT}}{{else}}{{template "empty" .L}}{{end}}
</section>
<section class="panel" id="csat">
<h2>{{.L.CSATTrend}}</h2>
<p class="note">{{.L.CSATNote}}</p>
{{if .CSAT}}{{template "chart" .CSAT}}{{else}}{{template "empty" .L}}{{end}}
</section>
</div>
<section class="panel" id="staffing">
<h2>{{.L.Staffing}}</h2>
<p class="note">{{.StaffingNote}}{{with .TargetText}} {{.}}{{end}}</p>
{{if .Staffing}}{{template "chart" .Staffing}}
<details>
<summary>{{.L.StaffingTable}}</summary>
<table>
<thead><tr><th>{{.L.Hour}}</th><th>{{.L.Arrivals}}</th><th>{{.L.Agents}}</th><th>{{.L.ServiceLevel}}</th><th>{{.L.Occupancy}}</th><th>{{.L.ASA}}</th></tr></thead>
<tbody>
{{- range .Plan}}
<tr><td>{{.Hour}}</td><td>{{.Arrivals}}</td><td>{{.Agents}}</td><td>{{.ServiceLevel}}</td><td>{{.Occupancy}}</td><td>{{.ASA}}</td></tr>
{{- end}}
</tbody>
</table>
</details>{{else}}{{template "empty" .L}}{{end}}
</section>
<section class="panel" id="crises">
<h2>{{.L.Crises}}</h2>
<p class="note">{{.L.CrisesNote}}</p>
{{- range .Crises}}
<div class="crisis" data-topic="{{.Topic}}">
<h3>{{.Topic}}</h3>
<ol class="timeline">
{{- range .Events}}
<li><time>{{.When}}</time> {{.What}}{{with .Text}}<q>{{.}}</q>{{end}}</li>
{{- end}}
</ol>
{{- with .FollowUps}}<p class="followups">{{.}}</p>{{end}}
</div>
{{- else}}
<div class="empty" data-empty="crises">{{.L.NoCrisis}}</div>
{{- end}}
</section>
<footer>{{.L.Footer}}</footer>
</main>
</body>
</html>
{{define "empty"}}<div class="empty" data-empty="true">{{.NoData}}</div>{{end}}
{{define "chart"}}<svg class="chart" data-chart="{{.Name}}" viewBox="0 0 {{n .Width}} {{n .Height}}" width="100%" role="img" aria-label="{{.Label}}">
<g class="grid">
{{- range .Grid}}
<line x1="{{n $.Left}}" y1="{{n .Pos}}" x2="{{n $.Right}}" y2="{{n .Pos}}"/><text class="ytick" x="{{n (sub $.Left 8)}}" y="{{n (add .Pos 4)}}">{{.Text}}</text>
{{- end}}
</g>
<text class="ytitle" x="{{n $.Left}}" y="{{n (sub $.Top 10)}}">{{.YTitle}}</text>
<g class="bars">
{{- range .Bars}}
<rect class="bar" x="{{n .X}}" y="{{n .Y}}" width="{{n .W}}" height="{{n .H}}" fill="{{.Fill}}" data-slot="{{.Slot}}" data-series="{{.Series}}" data-value="{{.Value}}"><title>{{.Title}}</title></rect>
{{- if .Text}}<text class="barvalue" x="{{n .TextX}}" y="{{n .TextY}}">{{.Text}}</text>{{end}}
{{- end}}
</g>
{{- with .Line}}
<polyline class="line" points="{{.}}"/>
{{- end}}
{{- range .Points}}
<circle class="point" cx="{{n .X}}" cy="{{n .Y}}" r="4.5" data-slot="{{.Slot}}" data-value="{{.Value}}"><title>{{.Title}}</title></circle>
{{- end}}
{{- range .Markers}}
<line class="marker" data-marker="{{.Name}}" x1="{{n .X}}" y1="{{n (sub .TextY 12)}}" x2="{{n .X}}" y2="{{n $.Bottom}}"/>
{{- if .End}}<text class="markerlabel end" x="{{n (sub .X 5)}}" y="{{n .TextY}}">{{.Text}}</text>
{{- else}}<text class="markerlabel" x="{{n (add .X 5)}}" y="{{n .TextY}}">{{.Text}}</text>{{end}}
{{- end}}
<line class="axis" x1="{{n .Left}}" y1="{{n .Bottom}}" x2="{{n .Right}}" y2="{{n .Bottom}}"/>
{{- range .XLabels}}
<text class="xtick" x="{{n .Pos}}" y="{{n (add $.Bottom 20)}}">{{.Text}}</text>
{{- end}}
</svg>
{{- if .Legend}}
<ul class="legend">
{{- range .Legend}}
<li><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" rx="2" fill="{{.Fill}}"/></svg>{{.Text}}</li>
{{- end}}
</ul>
{{- end}}
{{end}}`
