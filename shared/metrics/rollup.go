package metrics

import (
	"encoding/json"
	"fmt"
)

// Roll-ups: a day's groups by each stored dimension, encoded for package store
// (a roll-up item's body).

// AllDimension names the roll-up of a day's totals (one group, key "").
const AllDimension = "all"

// RolledUp lists the dimensions whose groups are rolled up every day, besides
// AllDimension; the day dimension is read from the totals of each day.
var RolledUp = []Dimension{Department, Agent, Lang, Intent}

// RollupVersion is the version of the roll-up encoding this build writes and
// reads.
const RollupVersion = 1

// rollupBody is a roll-up's body.
type rollupBody struct {
	Version int                   `json:"v"`
	Groups  map[string]*Aggregate `json:"groups"`
}

// EncodeGroups returns the body of a roll-up of groups.
func EncodeGroups(groups map[string]*Aggregate) ([]byte, error) {
	if groups == nil {
		groups = map[string]*Aggregate{}
	}
	b, err := json.Marshal(rollupBody{Version: RollupVersion, Groups: groups})
	if err != nil {
		return nil, fmt.Errorf("metrics: encode roll-up: %w", err)
	}
	return b, nil
}

// DecodeGroups returns the groups of a roll-up body. Their distributions have
// their histograms only (see Dist).
func DecodeGroups(body []byte) (map[string]*Aggregate, error) {
	var r rollupBody
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("metrics: decode roll-up: %w", err)
	}
	if r.Version != RollupVersion {
		return nil, fmt.Errorf("metrics: decode roll-up: version %d, this build reads %d", r.Version, RollupVersion)
	}
	if r.Groups == nil {
		r.Groups = map[string]*Aggregate{}
	}
	for k, a := range r.Groups {
		if a == nil {
			return nil, fmt.Errorf("metrics: decode roll-up: group %q is null", k)
		}
		for name, d := range map[string]*Dist{
			"first_response": &a.FirstResponse, "first_response_business": &a.FirstResponseBusiness,
			"resolution": &a.Resolution, "posts": &a.Posts, "dms": &a.DMs,
		} {
			var n int64
			for _, c := range d.Counts {
				n += c
			}
			if n != d.N || d.Lo < 0 {
				return nil, fmt.Errorf("metrics: decode roll-up: group %q: %s counts %d values in its bins from %d, not %d", k, name, n, d.Lo, d.N)
			}
		}
	}
	return r.Groups, nil
}
