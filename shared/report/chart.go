package report

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// chart is an SVG chart laid out for the template: every coordinate is computed
// here, in the SVG's user units.
type chart struct {
	// Name identifies the chart (data-chart): volume, first-response, csat,
	// staffing.
	Name          string
	Width, Height float64
	// Label describes the chart for screen readers.
	Label string
	// Plot is the plotting area.
	Left, Top, Right, Bottom float64
	YTitle                   string
	Grid                     []tick
	XLabels                  []tick
	Bars                     []bar
	// Line is the polyline's points ("x,y x,y"), Points its data points.
	Line    string
	Points  []point
	Markers []marker
	Legend  []legendItem
}

// tick is an axis label at a position (Y for the value axis, X for the other).
type tick struct {
	Pos  float64
	Text string
}

// bar is one rectangle: a data point (Slot, Series, Value) and its tooltip.
type bar struct {
	X, Y, W, H   float64
	Fill         string
	Slot, Series string
	Value        string
	Title        string
	Text         string // a value printed above the bar, if any
	TextX, TextY float64
}

// point is one point of a line chart.
type point struct {
	X, Y  float64
	Slot  string
	Value string
	Title string
}

// marker is a vertical line across the plot (median, p90).
type marker struct {
	Name  string
	X     float64
	Text  string
	TextY float64
	// End puts the label left of the line (near the right edge).
	End bool
}

type legendItem struct {
	Fill, Text string
}

// Chart sizes.
const (
	fullWidth  = 1180.0
	halfWidth  = 570.0
	plotHeight = 300.0
	padLeft    = 52.0
	padRight   = 16.0
	padTop     = 24.0
	padBottom  = 34.0
	// markerRoom is the room above a histogram for its markers' labels.
	markerRoom = 30.0
)

func newChart(name string, width float64, label, yTitle string) *chart {
	return &chart{
		Name: name, Width: width, Height: plotHeight, Label: label, YTitle: yTitle,
		Left: padLeft, Top: padTop, Right: width - padRight, Bottom: plotHeight - padBottom,
	}
}

// y maps v on an axis from lo to hi onto the plot.
func (c *chart) y(v, lo, hi float64) float64 {
	if hi <= lo {
		return c.Bottom
	}
	return c.Bottom - (v-lo)/(hi-lo)*(c.Bottom-c.Top)
}

// valueAxis sets the grid of a value axis from 0 to at least top and returns its
// top: 4 to 6 steps of 1, 2 or 5 times a power of ten (whole numbers when whole
// is true).
func (c *chart) valueAxis(top float64, whole bool, format func(float64) string) float64 {
	step := niceStep(top/5, whole)
	hi := math.Max(step, math.Ceil(top/step)*step)
	for v := 0.0; v <= hi+step/2; v += step {
		c.Grid = append(c.Grid, tick{Pos: c.y(v, 0, hi), Text: format(v)})
	}
	return hi
}

// niceStep returns the smallest of 1, 2 and 5 times a power of ten at least raw
// (at least 1 when whole).
func niceStep(raw float64, whole bool) float64 {
	if whole && raw <= 1 {
		return 1
	}
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// slots divides the plot's width into n slots; it returns a slot's width and the
// left edge of slot i.
func (c *chart) slots(n int) (float64, func(i int) float64) {
	w := (c.Right - c.Left) / float64(n)
	return w, func(i int) float64 { return c.Left + float64(i)*w }
}

// palette colours the intents: the known ones always alike, others in turn.
var (
	intentColours = map[string]string{
		"complaint": "#d1495b", "incident": "#edae49", "question": "#00798c", "sales": "#30638e",
		"praise": "#66a182", "spam": "#9a9a9a", "other": "#b39ddb", "": "#cfd8dc",
	}
	intentOrder  = []string{"incident", "complaint", "question", "sales", "praise", "other", "spam", ""}
	extraColours = []string{"#8e6c8a", "#4f772d", "#c97c5d", "#5c6784", "#a26769", "#2a9d8f"}
)

// barColour fills the bars of one series.
const barColour = "#30638e"

// volumeChart draws cases per hour of day stacked by intent; nil when there are
// none.
func volumeChart(vol []HourVolume, l *labels) *chart {
	var perHour [24]map[string]int
	present := map[string]bool{}
	maxStack := 0
	for _, hv := range vol {
		if hv.Hour < 0 || hv.Hour > 23 {
			continue
		}
		for intent, n := range hv.Intents {
			if n <= 0 {
				continue
			}
			if perHour[hv.Hour] == nil {
				perHour[hv.Hour] = map[string]int{}
			}
			perHour[hv.Hour][intent] += n
			present[intent] = true
		}
	}
	for _, m := range perHour {
		total := 0
		for _, n := range m {
			total += n
		}
		maxStack = max(maxStack, total)
	}
	if maxStack == 0 {
		return nil
	}
	intents := orderIntents(present)
	colour := map[string]string{}
	extra := 0
	for _, in := range intents {
		if c, ok := intentColours[in]; ok {
			colour[in] = c
		} else {
			colour[in] = extraColours[extra%len(extraColours)]
			extra++
		}
	}

	c := newChart("volume", fullWidth, l.Volume, l.CasesAxis)
	hi := c.valueAxis(float64(maxStack), true, func(v float64) string { return l.count(int(v)) })
	w, left := c.slots(24)
	for h := range 24 {
		c.XLabels = append(c.XLabels, tick{Pos: left(h) + w/2, Text: hourLabel(h)})
		base := 0
		for _, in := range intents {
			n := perHour[h][in]
			if n == 0 {
				continue
			}
			top, bottom := c.y(float64(base+n), 0, hi), c.y(float64(base), 0, hi)
			c.Bars = append(c.Bars, bar{
				X: left(h) + w*0.15, Y: top, W: w * 0.7, H: bottom - top, Fill: colour[in],
				Slot: strconv.Itoa(h), Series: in, Value: strconv.Itoa(n),
				Title: hourLabel(h) + ":00 · " + l.intent(in) + ": " + l.count(n),
			})
			base += n
		}
	}
	for _, in := range intents {
		c.Legend = append(c.Legend, legendItem{Fill: colour[in], Text: l.intent(in)})
	}
	return c
}

// orderIntents lists the intents present: the known ones in a fixed order, then
// the others alphabetically.
func orderIntents(present map[string]bool) []string {
	var out, others []string
	for _, in := range intentOrder {
		if present[in] {
			out = append(out, in)
		}
	}
	for in := range present {
		if !slices.Contains(intentOrder, in) {
			others = append(others, in)
		}
	}
	slices.Sort(others)
	return append(out, others...)
}

func hourLabel(h int) string {
	if h < 10 {
		return "0" + strconv.Itoa(h)
	}
	return strconv.Itoa(h)
}

// histogramChart draws the first-response histogram with its median and p90;
// nil when it counts nothing.
func histogramChart(hist Histogram, l *labels) *chart {
	maxCount := 0
	for _, b := range hist.Bins {
		maxCount = max(maxCount, b.Count)
	}
	if maxCount == 0 {
		return nil
	}
	c := newChart("first-response", halfWidth, l.FRT, l.CasesAxis)
	c.Top += markerRoom // the markers' labels go above the bars
	hi := c.valueAxis(float64(maxCount), true, func(v float64) string { return l.count(int(v)) })
	w, left := c.slots(len(hist.Bins))
	for i, b := range hist.Bins {
		label := binLabel(b)
		top := c.y(float64(b.Count), 0, hi)
		c.Bars = append(c.Bars, bar{
			X: left(i) + w*0.08, Y: top, W: w * 0.84, H: c.Bottom - top, Fill: barColour,
			Slot: strconv.Itoa(i), Series: "cases", Value: strconv.Itoa(b.Count),
			Title: label + ": " + l.count(b.Count),
			Text:  l.count(b.Count), TextX: left(i) + w/2, TextY: top - 5,
		})
		c.XLabels = append(c.XLabels, tick{Pos: left(i) + w/2, Text: label})
	}
	mark := func(name, text string, v *float64, textY float64) {
		if v == nil {
			return
		}
		x, ok := histogramX(hist.Bins, *v, w, left)
		if !ok {
			return
		}
		c.Markers = append(c.Markers, marker{Name: name, X: x, Text: text + " " + l.duration(*v), TextY: textY, End: x > c.Right-130})
	}
	mark("median", l.Median, hist.Median, c.Top-markerRoom+4)
	mark("p90", l.P90, hist.P90, c.Top-markerRoom+18)
	return c
}

// histogramX places seconds on the histogram's axis: within its bin, in
// proportion; in the middle of an unbounded last bin.
func histogramX(bins []Bin, seconds, w float64, left func(int) float64) (float64, bool) {
	for i, b := range bins {
		if seconds < b.From || (b.To > 0 && seconds >= b.To) {
			continue
		}
		if b.To == 0 {
			return left(i) + w/2, true
		}
		return left(i) + w*(seconds-b.From)/(b.To-b.From), true
	}
	return 0, false
}

// binLabel names a bin by its bounds: "<5m", "5–15m", "30m–1h", "≥24h".
func binLabel(b Bin) string {
	switch {
	case b.From <= 0 && b.To > 0:
		return "<" + shortDuration(b.To)
	case b.To == 0:
		return "≥" + shortDuration(b.From)
	}
	from, to := shortDuration(b.From), shortDuration(b.To)
	if unit := to[len(to)-1:]; strings.HasSuffix(from, unit) {
		from = strings.TrimSuffix(from, unit) // one unit for both: "5–15m"
	}
	return from + "–" + to
}

// csatChart draws the daily mean CSAT on a 1–5 axis, days placed by date; nil
// when there are no answers.
func csatChart(days []DayCSAT, l *labels) *chart {
	type day struct {
		t time.Time
		DayCSAT
	}
	var ds []day
	for _, d := range days {
		t, err := time.Parse(time.DateOnly, d.Day)
		if err != nil || d.Responses <= 0 {
			continue
		}
		ds = append(ds, day{t, d})
	}
	if len(ds) == 0 {
		return nil
	}
	slices.SortFunc(ds, func(a, b day) int { return a.t.Compare(b.t) })
	c := newChart("csat", halfWidth, l.CSATTrend, "CSAT")
	for v := 1.0; v <= 5; v++ {
		c.Grid = append(c.Grid, tick{Pos: c.y(v, 1, 5), Text: l.number(v, 0)})
	}
	first, last := ds[0].t, ds[len(ds)-1].t
	span := last.Sub(first).Hours() / 24
	pad := 18.0
	x := func(t time.Time) float64 {
		if span == 0 {
			return (c.Left + c.Right) / 2
		}
		return c.Left + pad + (c.Right-c.Left-2*pad)*(t.Sub(first).Hours()/24)/span
	}
	every := max(1, (len(ds)+6)/7) // at most about 7 date labels
	var line []string
	for i, d := range ds {
		px, py := x(d.t), c.y(math.Min(5, math.Max(1, d.Mean)), 1, 5)
		line = append(line, n(px)+","+n(py))
		c.Points = append(c.Points, point{
			X: px, Y: py, Slot: d.Day, Value: strconv.FormatFloat(d.Mean, 'f', 2, 64),
			Title: l.shortDate(d.t) + ": " + l.number(d.Mean, 2) + " (" + l.count(d.Responses) + " " + l.Responses + ")",
		})
		// Every few days, and the last day, with room to the one before.
		if i == len(ds)-1 || (i%every == 0 && len(ds)-1-i >= every) {
			c.XLabels = append(c.XLabels, tick{Pos: px, Text: l.shortDate(d.t)})
		}
	}
	c.Line = strings.Join(line, " ")
	return c
}

// staffingChart draws the agents needed per hour of day; nil when no hour has
// arrivals.
func staffingChart(plan []StaffingHour, l *labels) *chart {
	maxAgents, arrivals := 0, 0.0
	for _, h := range plan {
		maxAgents = max(maxAgents, h.Agents)
		arrivals += h.ArrivalsPerHour
	}
	if arrivals <= 0 || maxAgents == 0 {
		return nil
	}
	c := newChart("staffing", fullWidth, l.Staffing, l.AgentsAxis)
	hi := c.valueAxis(float64(maxAgents), true, func(v float64) string { return l.count(int(v)) })
	w, left := c.slots(24)
	for h := range 24 {
		c.XLabels = append(c.XLabels, tick{Pos: left(h) + w/2, Text: hourLabel(h)})
	}
	for _, h := range plan {
		if h.Hour < 0 || h.Hour > 23 {
			continue
		}
		top := c.y(float64(h.Agents), 0, hi)
		c.Bars = append(c.Bars, bar{
			X: left(h.Hour) + w*0.15, Y: top, W: w * 0.7, H: c.Bottom - top, Fill: barColour,
			Slot: strconv.Itoa(h.Hour), Series: "agents", Value: strconv.Itoa(h.Agents),
			Title: hourLabel(h.Hour) + ":00 · " + l.count(h.Agents) + " " + l.AgentsAxis + " · " +
				l.number(h.ArrivalsPerHour, 1) + " " + l.Arrivals,
			Text: l.count(h.Agents), TextX: left(h.Hour) + w/2, TextY: top - 5,
		})
	}
	return c
}
