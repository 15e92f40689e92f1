package config

import (
	"strings"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/protocol"
)

func TestStaffingSection(t *testing.T) {
	const brand = `"brand":{"id":"1","handle":"a"}`
	tests := []struct {
		name string
		file string
		want Staffing
	}{
		{
			name: "absent: the defaults",
			file: `{` + brand + `}`,
			want: DefaultStaffing(),
		},
		{
			name: "whole section",
			file: `{` + brand + `,"staffing":{"answer_within":"30m","fraction":0.9,"handle_time":"4m30s","max_occupancy":1}}`,
			want: Staffing{AnswerWithin: protocol.DurationOf(30 * time.Minute), Fraction: 0.9, HandleTime: protocol.DurationOf(270 * time.Second), MaxOccupancy: 1},
		},
		{
			name: "partial section keeps the other defaults",
			file: `{` + brand + `,"staffing":{"handle_time":"10m"}}`,
			want: Staffing{AnswerWithin: protocol.DurationOf(DefaultAnswerWithin), Fraction: DefaultFraction, HandleTime: protocol.DurationOf(10 * time.Minute), MaxOccupancy: DefaultMaxOccupancy},
		},
		{
			name: "days",
			file: `{` + brand + `,"staffing":{"answer_within":"1d"}}`,
			want: Staffing{AnswerWithin: protocol.DurationOf(24 * time.Hour), Fraction: DefaultFraction, HandleTime: protocol.DurationOf(DefaultHandleTime), MaxOccupancy: DefaultMaxOccupancy},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(writeConfig(t, tt.file), envOf(nil))
			if err != nil {
				t.Fatal(err)
			}
			if c.Staffing != tt.want {
				t.Errorf("staffing = %+v, want %+v", c.Staffing, tt.want)
			}
		})
	}
}

func TestRepositoryStaffing(t *testing.T) {
	p, err := Find(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(p, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.origin["staffing"] != p {
		t.Errorf("the repository's %s has no staffing section (origin %q)", FileName, c.origin["staffing"])
	}
}

func TestStaffingValidation(t *testing.T) {
	tests := []struct {
		name    string
		section string
		want    []string // substrings that must all appear
	}{
		{"answer_within not a duration", `{"answer_within":"an hour"}`, []string{"staffing.answer_within", FileName, "not a duration"}},
		{"answer_within a number", `{"answer_within":3600}`, []string{"staffing.answer_within", "in quotes"}},
		{"answer_within too short", `{"answer_within":"1s"}`, []string{"staffing.answer_within", "out of range", "at least 10s"}},
		{"answer_within too long", `{"answer_within":"8d"}`, []string{"staffing.answer_within", "at most 7d"}},
		{"fraction 1", `{"fraction":1}`, []string{"staffing.fraction", "below 1"}},
		{"fraction a percentage", `{"fraction":80}`, []string{"staffing.fraction", "0.8 is 80%"}},
		{"fraction 0", `{"fraction":0}`, []string{"staffing.fraction", "above 0"}},
		{"handle_time too short", `{"handle_time":"0s"}`, []string{"staffing.handle_time", "at least 10s"}},
		{"handle_time too long", `{"handle_time":"9h"}`, []string{"staffing.handle_time", "at most 8h"}},
		{"max_occupancy over 1", `{"max_occupancy":85}`, []string{"staffing.max_occupancy", "at most 1"}},
		{"max_occupancy negative", `{"max_occupancy":-0.5}`, []string{"staffing.max_occupancy", "above 0"}},
		{"unknown field", `{"handle":"6m"}`, []string{"unknown field", "handle"}},
		{"several at once", `{"fraction":2,"max_occupancy":0}`, []string{"staffing.fraction", "staffing.max_occupancy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, `{"brand":{"id":"1","handle":"a"},"staffing":`+tt.section+`}`), envOf(nil))
			if err == nil {
				t.Fatalf("Load succeeded, want an error containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
