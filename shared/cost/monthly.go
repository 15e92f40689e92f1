package cost

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// The fixed monthly costs: what the stack costs whatever the volume of messages.
const (
	// ESMIdleReceivesPerMinute is how many ReceiveMessage calls an SQS event
	// source mapping makes on an empty queue each minute: Lambda long-polls with
	// 5 pollers, 20 s each, about 15 a minute. AWS documents the long polling
	// but not the pollers; 15 a minute is what CloudWatch's NumberOfEmptyReceives
	// shows on an idle queue (github.com/getlift/lift issue 132, 2021).
	ESMIdleReceivesPerMinute = 15
	// ColdStartsPerFunctionMonth is the cold starts assumed for each function in
	// a month: one an hour. Lambda replaces an execution environment after a few
	// hours even when it is busy, and sooner when idle; a spike that needs more
	// environments adds some. An assumption, not a measurement: a cold start's
	// cost is measured (init billed, the secret read, its log records).
	ColdStartsPerFunctionMonth = HoursPerMonth
)

// StackAlarms is how many CloudWatch alarms the stack creates (infra: the two
// dead-letter queues, each function's errors, the API's 5xx, the two queues'
// age, the listener's throttles, unanswered cases); infra's
// TestCostTablesAgree holds it to the synthesized template.
const StackAlarms = 13

// Monthly is what the stack runs every month whatever the volume.
type Monthly struct {
	// Schedules are the scheduled functions (listen, monitor): each run's
	// measured usage when there is nothing new, and how often it runs.
	Schedules []Schedule
	// ESMQueues are the queues an SQS event source mapping polls (inbound,
	// outbound).
	ESMQueues int
	// ColdStarts is one cold start of each function, measured: the init's billed
	// duration (as Lambda{BilledMS}), the secret read, Lambda's init records.
	// Each happens ColdStartsPerFunctionMonth times.
	ColdStarts map[string]Usage
	// Secrets, Metrics and Alarms count the stack's secrets, the distinct custom
	// metrics its EMF lines define, and its CloudWatch alarms.
	Secrets, Metrics, Alarms int
}

// Schedule is a scheduled function's run.
type Schedule struct {
	Function string
	Every    time.Duration
	// Run is one run's usage.
	Run Usage
}

// RunsPerMonth is how many times it runs in HoursPerMonth.
func (s Schedule) RunsPerMonth() int64 {
	if s.Every <= 0 {
		return 0
	}
	return int64(HoursPerMonth * time.Hour / s.Every)
}

// Names of Monthly's lines besides "schedule.<function>".
const (
	LineIdlePolling = "sqs.idle-polling"
	LineColdStarts  = "lambda.cold-starts"
	LineSecret      = "secretsmanager.secrets"
	LineMetrics     = "cloudwatch.metrics"
	LineAlarms      = "cloudwatch.alarms"
)

// Monthly prices m: a month's fixed costs (Estimate.Messages is 0). The
// schedules' X reads, if any, are X's lines.
func (p Prices) Monthly(m Monthly) Estimate {
	var e Estimate
	for _, s := range m.Schedules {
		runs := s.RunsPerMonth()
		run := p.Estimate(s.Run, 0)
		e.AWS = append(e.AWS, Line{"schedule." + s.Function, run.AWSUSD() * float64(runs), fmt.Sprintf("%d runs every %v", runs, s.Every)})
		if x := run.XUSD(); x > 0 {
			e.X = append(e.X, Line{"schedule." + s.Function, x * float64(runs), fmt.Sprintf("%d runs every %v", runs, s.Every)})
		}
	}
	idle := int64(m.ESMQueues) * ESMIdleReceivesPerMinute * HoursPerMonth * 60
	e.AWS = append(e.AWS, Line{LineIdlePolling, float64(idle) * p.SQSRequest, fmt.Sprintf("%d receives on %d queues", idle, m.ESMQueues)})
	var cold float64
	for _, name := range slices.Sorted(maps.Keys(m.ColdStarts)) {
		cold += p.Estimate(m.ColdStarts[name], 0).AWSUSD()
	}
	e.AWS = append(e.AWS,
		Line{LineColdStarts, cold * ColdStartsPerFunctionMonth, fmt.Sprintf("%d functions, %d cold starts each", len(m.ColdStarts), ColdStartsPerFunctionMonth)},
		Line{LineSecret, float64(m.Secrets) * p.SecretMonth, fmt.Sprintf("%d secrets", m.Secrets)},
		Line{LineMetrics, float64(m.Metrics) * p.MetricMonth, fmt.Sprintf("%d metrics", m.Metrics)},
		Line{LineAlarms, float64(m.Alarms) * p.AlarmMonth, fmt.Sprintf("%d alarms", m.Alarms)},
	)
	return e
}
