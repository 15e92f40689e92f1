package metrics

import (
	"math"
	"slices"
)

// Dist is a distribution of non-negative whole numbers (seconds, messages), kept
// so that distributions merge: its count, its sum, and a histogram whose bins are
// exact from 0 to ExactUpTo and then Growth times wider than the one before (a
// bin's value is within 1% of every value counted in it). While every value added
// is known (a Dist filled by Add, or merged from such Dists) it also keeps them,
// and its percentiles are exact; a Dist decoded from JSON has the histogram only.
// The zero Dist is empty and ready to use.
type Dist struct {
	N   int64 `json:"n"`
	Sum int64 `json:"sum"`
	// Counts[i] counts the values of bin Lo+i.
	Lo     int     `json:"lo,omitempty"`
	Counts []int64 `json:"counts,omitempty"`

	// samples are the values added, while there are N of them.
	samples []int64
}

// Bins of a Dist.
const (
	// ExactUpTo is the largest value with a bin of its own.
	ExactUpTo = 100
	// Growth is the ratio of a bin's upper bound to its lower bound above
	// ExactUpTo: bin ExactUpTo+k holds (100·Growth^(k-1), 100·Growth^k].
	Growth = 1.02
)

// binOf returns the bin of v (v >= 0).
func binOf(v int64) int {
	if v <= ExactUpTo {
		return int(v)
	}
	return ExactUpTo + int(math.Ceil(math.Log(float64(v)/ExactUpTo)/math.Log(Growth)))
}

// binValue returns the value a bin stands for: the value itself up to ExactUpTo,
// above it the harmonic mean of the bin's bounds, which is within
// (Growth-1)/(Growth+1) < 1% of every value in the bin, rounded.
func binValue(b int) int64 {
	if b <= ExactUpTo {
		return int64(b)
	}
	hi := ExactUpTo * math.Pow(Growth, float64(b-ExactUpTo))
	lo := hi / Growth
	return int64(math.Round(2 * lo * hi / (lo + hi)))
}

// Add counts v (negative values count as 0).
func (d *Dist) Add(v int64) {
	v = max(v, 0)
	if int64(len(d.samples)) == d.N {
		d.samples = append(d.samples, v)
	}
	d.N++
	d.Sum += v
	d.addBin(binOf(v), 1)
}

func (d *Dist) addBin(b int, n int64) {
	switch {
	case len(d.Counts) == 0:
		d.Lo, d.Counts = b, []int64{0}
	case b < d.Lo:
		d.Counts = append(make([]int64, d.Lo-b), d.Counts...)
		d.Lo = b
	case b >= d.Lo+len(d.Counts):
		d.Counts = append(d.Counts, make([]int64, b-d.Lo-len(d.Counts)+1)...)
	}
	d.Counts[b-d.Lo] += n
}

// exact reports whether d knows every value it counted.
func (d *Dist) exact() bool { return int64(len(d.samples)) == d.N }

// Merge adds o's values to d.
func (d *Dist) Merge(o *Dist) {
	if o.N == 0 {
		return
	}
	if d.exact() && o.exact() {
		d.samples = append(d.samples, o.samples...)
	} else {
		d.samples = nil
	}
	d.N += o.N
	d.Sum += o.Sum
	for i, n := range o.Counts {
		if n != 0 {
			d.addBin(o.Lo+i, n)
		}
	}
}

// Mean returns the mean, or nil when d is empty.
func (d *Dist) Mean() *float64 {
	if d.N == 0 {
		return nil
	}
	m := float64(d.Sum) / float64(d.N)
	return &m
}

// Percentile returns the pct-th percentile (0 < pct <= 100) by the nearest-rank
// method: the value of rank ⌈pct/100 × N⌉ in increasing order (the median of 4
// values is the 2nd). It is exact while d knows its values, else the value of
// the bin holding that rank. It returns nil when d is empty.
func (d *Dist) Percentile(pct int) *float64 {
	if d.N == 0 {
		return nil
	}
	rank := max((int64(pct)*d.N+99)/100, 1)
	var v float64
	if d.exact() {
		s := slices.Clone(d.samples)
		slices.Sort(s)
		v = float64(s[rank-1])
	} else {
		var seen int64
		for i, n := range d.Counts {
			if seen += n; seen >= rank {
				v = float64(binValue(d.Lo + i))
				break
			}
		}
	}
	return &v
}

// Stats summarises d.
func (d *Dist) Stats() Stats {
	return Stats{Count: d.N, Mean: d.Mean(), Median: d.Percentile(50), P90: d.Percentile(90)}
}

// Stats are the summary of a distribution. Mean, Median and P90 are null when
// Count is 0.
type Stats struct {
	Count  int64    `json:"count"`
	Mean   *float64 `json:"mean"`
	Median *float64 `json:"median"`
	P90    *float64 `json:"p90"`
}
