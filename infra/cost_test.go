package main

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/pajarito-care/pajarito/shared/cost"
)

// Package cost prices what the stack deploys without importing it (this
// package links the CDK): it keeps its own copy of what it needs, and this test
// holds the copies to the stack — each function's memory size, the keys of the
// API's access log (whose line cost.APIAccessLogSample measures), the number
// of alarms.
func TestCostTablesAgree(t *testing.T) {
	deployed := map[string]float64{}
	for _, f := range Functions() {
		deployed[f.Name] = f.MemoryMB
	}
	if !maps.Equal(deployed, cost.MemoryMB) {
		t.Errorf("cost.MemoryMB = %v, the stack's functions have %v: change cost.MemoryMB with infra.Function.MemoryMB", cost.MemoryMB, deployed)
	}

	var format map[string]string
	if err := json.Unmarshal([]byte(accessLogFormat()), &format); err != nil {
		t.Fatal(err)
	}
	if keys := slices.Sorted(maps.Keys(format)); !slices.Equal(keys, cost.APIAccessLogKeys()) {
		t.Errorf("the access log's keys are %v, cost.APIAccessLogSample's %v: write the sample again with the format's keys", keys, cost.APIAccessLogKeys())
	}

	s := stack(t, devStack)
	check(t, "cost.StackAlarms", func() {
		s.template.ResourceCountIs(jsii.String("AWS::CloudWatch::Alarm"), jsii.Number(cost.StackAlarms))
	})
}
