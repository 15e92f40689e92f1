// Package staffing sizes a care team with Erlang C, the M/M/c queue: from the
// contacts that arrive per hour and the time an agent spends on each, it finds
// how many agents answer a given fraction of contacts within a given wait, the
// way contact centres size their teams.
//
// The model assumes that contacts arrive at random (a Poisson process), that
// handle times are exponential, that each agent works one contact at a time and
// that nobody gives up while waiting. The agents it counts are agents handling
// contacts: breaks, training and absence (shrinkage) come on top.
//
// Traffic, in erlangs, is the arrival rate times the handle time: 30 cases an
// hour of 10 minutes each are 5 erlangs, five agents kept busy all the time.
// With as many agents as erlangs or fewer the queue never empties: Erlang C
// then gives 1 (every contact waits), ServiceLevel gives 0 and
// AverageSpeedOfAnswer fails with ErrUnstable. Every function computes Erlang C
// from the Erlang B recursion, which stays exact for hundreds of thousands of
// erlangs where factorials and powers overflow; traffic above MaxErlangs is
// refused.
package staffing

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// MaxErlangs is the largest traffic this package sizes: a million agents kept
// busy. Above it the arguments are almost certainly in the wrong unit.
const MaxErlangs = 1e6

// ErrUnstable is wrapped by the errors of AverageSpeedOfAnswer when the agents
// are not more than the traffic: the queue then grows without end and the mean
// wait is infinite.
var ErrUnstable = errors.New("the queue grows without end: there must be more agents than erlangs of traffic")

// Target is the service level to meet: Fraction of contacts answered within
// Within (e.g. 0.8 within 1 h).
type Target struct {
	// Fraction of contacts to answer within Within, strictly between 0 and 1
	// (Erlang C never answers every contact within a finite wait).
	Fraction float64
	// Within is the wait allowed; 0 asks for the fraction answered at once.
	Within time.Duration
	// MaxOccupancy caps the share of time agents spend handling contacts, in
	// (0, 1]; 0 means no cap. E.g. 0.85 keeps 15% of their time free.
	MaxOccupancy float64
}

// Staffing is a number of agents and the service it gives.
type Staffing struct {
	Agents       int           // agents handling contacts (0 when none arrive)
	ServiceLevel float64       // fraction of contacts answered within the target's wait
	Occupancy    float64       // share of the agents' time spent handling contacts
	ASA          time.Duration // average speed of answer: the mean wait, waits of 0 included
	Erlangs      float64       // traffic: arrivals per hour × handle time in hours
}

// ErlangC returns the probability that a contact waits, with agents agents and
// traffic erlangs (arrival rate × handle time). With no traffic it is 0 (no
// contact arrives to wait); with agents ≤ erlangs it is 1, the queue being
// unstable. Negative agents, and traffic that is negative, not finite or above
// MaxErlangs, are errors.
func ErlangC(agents int, erlangs float64) (float64, error) {
	if agents < 0 {
		return 0, fmt.Errorf("staffing: agents %d is negative", agents)
	}
	if err := checkErlangs(erlangs); err != nil {
		return 0, fmt.Errorf("staffing: %w", err)
	}
	return erlangC(agents, erlangs), nil
}

// ServiceLevel returns the fraction of contacts answered within t, with agents
// agents, arrivalsPerHour contacts arriving per hour and handle the mean time an
// agent spends on each. With no arrivals it is 1; with agents ≤ traffic it is 0
// (waits grow without end). Errors name the bad argument: negative agents, t or
// handle, arrivals that are negative or not finite, a zero handle time with
// arrivals, traffic above MaxErlangs.
func ServiceLevel(agents int, arrivalsPerHour float64, handle time.Duration, t time.Duration) (float64, error) {
	if agents < 0 {
		return 0, fmt.Errorf("staffing: agents %d is negative", agents)
	}
	if t < 0 {
		return 0, fmt.Errorf("staffing: answer time %v is negative", t)
	}
	a, err := traffic(arrivalsPerHour, handle)
	if err != nil {
		return 0, fmt.Errorf("staffing: %w", err)
	}
	return serviceLevel(agents, a, handle, t, erlangC(agents, a)), nil
}

// AverageSpeedOfAnswer returns the mean wait, contacts answered at once
// included: ErlangC × handle / (agents − traffic). With no arrivals it is 0. With
// agents ≤ traffic it fails with an error wrapping ErrUnstable; the other errors
// are those of ServiceLevel. A mean wait too long for a time.Duration (about 292
// years) is returned as the longest Duration.
func AverageSpeedOfAnswer(agents int, arrivalsPerHour float64, handle time.Duration) (time.Duration, error) {
	if agents < 0 {
		return 0, fmt.Errorf("staffing: agents %d is negative", agents)
	}
	a, err := traffic(arrivalsPerHour, handle)
	if err != nil {
		return 0, fmt.Errorf("staffing: %w", err)
	}
	if a > 0 && float64(agents) <= a {
		return 0, fmt.Errorf("staffing: %d agents for %.4g erlangs: %w", agents, a, ErrUnstable)
	}
	return averageSpeedOfAnswer(agents, a, handle, erlangC(agents, a)), nil
}

// AgentsNeeded returns the fewest agents meeting target (at least 1 when there
// are arrivals, 0 when none), with the service level, occupancy and ASA they
// give. The agents are always more than the traffic (a stable queue) and, with
// target.MaxOccupancy set, enough to keep the occupancy at or under it. Errors
// name the bad argument: those of ServiceLevel, a target fraction outside
// (0, 1), a negative target wait, a maximum occupancy outside [0, 1].
func AgentsNeeded(arrivalsPerHour float64, handle time.Duration, target Target) (Staffing, error) {
	if err := target.check(); err != nil {
		return Staffing{}, fmt.Errorf("staffing: %w", err)
	}
	s, err := agentsNeeded(arrivalsPerHour, handle, target)
	if err != nil {
		return Staffing{}, fmt.Errorf("staffing: %w", err)
	}
	return s, nil
}

// Plan returns AgentsNeeded for each hour of arrivals (24 values, or any
// length), e.g. the measured arrivals per hour of day. An error names the first
// bad hour (its index in arrivalsPerHour).
func Plan(arrivalsPerHour []float64, handle time.Duration, target Target) ([]Staffing, error) {
	if err := target.check(); err != nil {
		return nil, fmt.Errorf("staffing: %w", err)
	}
	plan := make([]Staffing, len(arrivalsPerHour))
	for hour, arrivals := range arrivalsPerHour {
		s, err := agentsNeeded(arrivals, handle, target)
		if err != nil {
			return nil, fmt.Errorf("staffing: hour %d: %w", hour, err)
		}
		plan[hour] = s
	}
	return plan, nil
}

// agentsNeeded is AgentsNeeded once the target is known to be valid.
func agentsNeeded(arrivalsPerHour float64, handle time.Duration, target Target) (Staffing, error) {
	a, err := traffic(arrivalsPerHour, handle)
	if err != nil {
		return Staffing{}, err
	}
	if a == 0 {
		return Staffing{ServiceLevel: 1}, nil
	}
	// Start from the fewest agents that keep the queue stable and, with a cap,
	// the occupancy under it (the tolerance keeps 8.5 erlangs at 0.85 on 10
	// agents, which floating point puts a hair above 10), then add agents one at
	// a time: the service level only grows with them, and Erlang B follows from
	// one number of agents to the next in constant time.
	n := int(math.Floor(a)) + 1
	if target.MaxOccupancy > 0 {
		if m := int(math.Ceil(a/target.MaxOccupancy - 1e-9)); m > n {
			n = m
		}
	}
	b := erlangB(n, a)
	for {
		c := fromB(n, a, b)
		if sl := serviceLevel(n, a, handle, target.Within, c); sl >= target.Fraction {
			return Staffing{
				Agents:       n,
				ServiceLevel: sl,
				Occupancy:    a / float64(n),
				ASA:          averageSpeedOfAnswer(n, a, handle, c),
				Erlangs:      a,
			}, nil
		}
		n++
		b = a * b / (float64(n) + a*b)
	}
}

func (t Target) check() error {
	switch {
	case math.IsNaN(t.Fraction) || t.Fraction <= 0 || t.Fraction >= 1:
		return fmt.Errorf("target fraction %v is outside (0, 1): it is the share of contacts to answer in time, e.g. 0.8", t.Fraction)
	case t.Within < 0:
		return fmt.Errorf("target wait %v is negative", t.Within)
	case math.IsNaN(t.MaxOccupancy) || t.MaxOccupancy < 0 || t.MaxOccupancy > 1:
		return fmt.Errorf("target max occupancy %v is outside [0, 1] (0 is no cap, e.g. 0.85)", t.MaxOccupancy)
	}
	return nil
}

// traffic returns the erlangs of arrivalsPerHour contacts of handle each.
func traffic(arrivalsPerHour float64, handle time.Duration) (float64, error) {
	switch {
	case math.IsNaN(arrivalsPerHour) || math.IsInf(arrivalsPerHour, 0):
		return 0, fmt.Errorf("arrivals per hour %v is not a finite number", arrivalsPerHour)
	case arrivalsPerHour < 0:
		return 0, fmt.Errorf("arrivals per hour %v is negative", arrivalsPerHour)
	case handle < 0:
		return 0, fmt.Errorf("handle time %v is negative", handle)
	case handle == 0 && arrivalsPerHour > 0:
		return 0, fmt.Errorf("handle time is 0 with %v arrivals per hour: no contact takes no time", arrivalsPerHour)
	}
	a := arrivalsPerHour * handle.Hours()
	if err := checkErlangs(a); err != nil {
		return 0, fmt.Errorf("%v arrivals per hour of %v: %w", arrivalsPerHour, handle, err)
	}
	return a, nil
}

func checkErlangs(a float64) error {
	switch {
	case math.IsNaN(a) || math.IsInf(a, 0):
		return fmt.Errorf("traffic %v erlangs is not a finite number", a)
	case a < 0:
		return fmt.Errorf("traffic %v erlangs is negative", a)
	case a > MaxErlangs:
		return fmt.Errorf("traffic %.4g erlangs is more than the %g this package sizes", a, float64(MaxErlangs))
	}
	return nil
}

// erlangB returns the probability that a contact finds all n agents busy when
// contacts that find them busy are lost (Erlang B), by the recursion
// B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1)), whose every step lies in [0, 1].
func erlangB(n int, a float64) float64 {
	b := 1.0
	for k := 1; k <= n && b > 0; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return b
}

// fromB turns Erlang B into Erlang C for n agents and a erlangs (n > a).
func fromB(n int, a, b float64) float64 {
	c := float64(n) * b / (float64(n) - a*(1-b))
	return min(max(c, 0), 1)
}

func erlangC(n int, a float64) float64 {
	switch {
	case a == 0:
		return 0
	case float64(n) <= a:
		return 1
	}
	return fromB(n, a, erlangB(n, a))
}

// serviceLevel is 1 − C·e^(−(n−a)·t/handle), the share of contacts whose wait
// is at most t; handle is positive whenever a is.
func serviceLevel(n int, a float64, handle, t time.Duration, c float64) float64 {
	switch {
	case a == 0:
		return 1
	case float64(n) <= a:
		return 0
	}
	return 1 - c*math.Exp(-(float64(n)-a)*t.Seconds()/handle.Seconds())
}

// averageSpeedOfAnswer is C·handle/(n−a), for a stable queue or no traffic.
func averageSpeedOfAnswer(n int, a float64, handle time.Duration, c float64) time.Duration {
	if a == 0 {
		return 0
	}
	ns := c * float64(handle) / (float64(n) - a)
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(math.Round(ns))
}
