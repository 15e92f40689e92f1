package metrics

import (
	"encoding/json"
	"testing"
)

func TestBins(t *testing.T) {
	// Above 100, bin 100+k holds (100·1.02^(k-1), 100·1.02^k] and stands for the
	// harmonic mean of those bounds, 2·hi/2.02. For 3600: ln(36)/ln(1.02) =
	// 180.96, so k = 181, hi = 100·1.02^181 = 3602.7 and the value 3567.
	tests := []struct {
		v     int64
		bin   int
		value int64
	}{
		{0, 0, 0},
		{7, 7, 7},
		{100, 100, 100},
		{101, 101, 101}, // k = ⌈0.50⌉ = 1: (100, 102] → 100.99
		{150, 121, 150}, // k = ⌈20.48⌉ = 21: hi 151.6 → 150.1
		{600, 191, 600}, // k = ⌈90.48⌉ = 91: hi 606.2 → 600.2
		{1800, 246, 1784},
		{3600, 281, 3567},
		{7200, 316, 7134},
		{14400, 351, 14267},
	}
	for _, tt := range tests {
		if b := binOf(tt.v); b != tt.bin || binValue(b) != tt.value {
			t.Errorf("%d: bin %d (value %d), want %d (value %d)", tt.v, b, binValue(b), tt.bin, tt.value)
		}
	}
	// Every value is within 1% of its bin's.
	for v := int64(0); v < 1_000_000; v += 7 {
		got := binValue(binOf(v))
		if d := float64(got - v); d > 0.01*float64(v)+0.5 || -d > 0.01*float64(v)+0.5 {
			t.Fatalf("%d stands as %d", v, got)
		}
	}
}

func TestDistPercentiles(t *testing.T) {
	tests := []struct {
		name            string
		values          []int64
		roundTrip       bool // through JSON: the histogram only
		median, p90     float64
		mean            float64
		wantCount       int64
		wantEmptyFigure bool
	}{
		// Nearest rank: median of 4 is rank ⌈2⌉ = 2, p90 rank ⌈3.6⌉ = 4.
		{name: "four values", values: []int64{5, 1, 4, 2}, median: 2, p90: 5, mean: 3, wantCount: 4},
		// 10 values: ranks 5 and 9.
		{name: "ten values", values: []int64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, median: 5, p90: 9, mean: 5.5, wantCount: 10},
		{name: "one value", values: []int64{3600}, median: 3600, p90: 3600, mean: 3600, wantCount: 1},
		{name: "negative counts as 0", values: []int64{-5, 10}, median: 0, p90: 10, mean: 5, wantCount: 2},
		// Ranks 3 and 5 of 5; from the histogram 600 and 3600 stand as 600 and
		// 3567; the mean stays exact: 6330 / 5.
		{name: "exact", values: []int64{3600, 30, 600, 300, 1800}, median: 600, p90: 3600, mean: 1266, wantCount: 5},
		{name: "from the histogram", values: []int64{3600, 30, 600, 300, 1800}, roundTrip: true, median: 600, p90: 3567, mean: 1266, wantCount: 5},
		// Ranks 2 and 4 of 4: 3600 (bin value 3567) and 7200 (7134).
		{name: "from the histogram, larger", values: []int64{30, 3600, 3600, 7200}, roundTrip: true, median: 3567, p90: 7134, mean: 3607.5, wantCount: 4},
		{name: "empty", wantEmptyFigure: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Dist
			for _, v := range tt.values {
				d.Add(v)
			}
			if tt.roundTrip {
				b, err := json.Marshal(d)
				if err != nil {
					t.Fatal(err)
				}
				d = Dist{}
				if err := json.Unmarshal(b, &d); err != nil {
					t.Fatal(err)
				}
			}
			s := d.Stats()
			if s.Count != tt.wantCount {
				t.Errorf("count %d, want %d", s.Count, tt.wantCount)
			}
			if tt.wantEmptyFigure {
				if s.Mean != nil || s.Median != nil || s.P90 != nil {
					t.Errorf("empty: %+v", s)
				}
				return
			}
			if s.Median == nil || *s.Median != tt.median || *s.P90 != tt.p90 || *s.Mean != tt.mean {
				t.Errorf("median %v p90 %v mean %v, want %v %v %v", val(s.Median), val(s.P90), val(s.Mean), tt.median, tt.p90, tt.mean)
			}
		})
	}
}

func TestDistMerge(t *testing.T) {
	dist := func(vs ...int64) *Dist {
		var d Dist
		for _, v := range vs {
			d.Add(v)
		}
		return &d
	}
	decoded := func(vs ...int64) *Dist {
		b, _ := json.Marshal(dist(vs...))
		var d Dist
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		return &d
	}
	tests := []struct {
		name        string
		parts       []*Dist
		median, p90 float64
		n, sum      int64
	}{
		// [30 300 600 1800 3600]: ranks 3 and 5, exact.
		{"exact parts stay exact", []*Dist{dist(3600, 30), dist(600, 300, 1800)}, 600, 3600, 5, 6330},
		{"a decoded part makes it a histogram", []*Dist{dist(3600, 30), decoded(600, 300, 1800)}, 600, 3567, 5, 6330},
		{"empty parts change nothing", []*Dist{{}, dist(7), {}}, 7, 7, 1, 7},
		// Bins below the first part's: 5 goes before 150 (bin 121).
		{"bins grow both ways", []*Dist{decoded(150), decoded(5), decoded(14400)}, 150, 14267, 3, 14555},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Dist
			for _, p := range tt.parts {
				d.Merge(p)
			}
			s := d.Stats()
			if s.Count != tt.n || d.Sum != tt.sum || *s.Median != tt.median || *s.P90 != tt.p90 {
				t.Errorf("n %d sum %d median %v p90 %v, want %d %d %v %v", s.Count, d.Sum, *s.Median, *s.P90, tt.n, tt.sum, tt.median, tt.p90)
			}
		})
	}
}

func val(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
