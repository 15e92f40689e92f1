package main

import (
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/pajarito-care/pajarito/shared/emf"
)

// Pajarito's own metrics. The functions write them as CloudWatch Embedded Metric
// Format lines in their logs (package emf: no PutMetricData, so no IAM grant),
// which CloudWatch turns into metrics of MetricNamespace.
const MetricNamespace = emf.Namespace

// The listener's metrics (shared/listen), one set per source and run, with the
// dimension DimSource (the source's name in pajarito.json).
const (
	DimSource           = "Source"
	MetricPostsRead     = "PostsRead"
	MetricEnqueued      = "Enqueued"
	MetricEstimatedCost = "EstimatedCostUSD" // X's price of what was read (the reply sender adds what it posts)
	MetricBudgetSlowed  = "BudgetSlowed"     // 1 when the budget slowed the source's reads
)

// The monitor's metric (shared/monitor): the crises active at each run, in total
// (no dimension) and per configured topic (dimension DimTopic, 0 or 1).
const (
	MetricActiveCrises = "ActiveCrises"
	DimTopic           = "Topic"
)

// The care metrics the dashboard shows, which the functions are to emit in
// MetricNamespace with exactly these names, units and dimensions:
const (
	// MetricMessages (Count), dimension DimIntent: 1 per new inbound message, by
	// its classified intent (process).
	MetricMessages = "Messages"
	DimIntent      = "Intent"
	// MetricFirstResponse (Seconds), no dimension: from a case's first inbound
	// message to the first reply posted on it (reply).
	MetricFirstResponse = "FirstResponseSeconds"
	// MetricOpenCases (Count), no dimension: the cases open when the monitor runs
	// (monitor).
	MetricOpenCases = "OpenCases"
	// MetricUnanswered (Count), no dimension: the open cases past their
	// first-response target without an answer, which should read 0;
	// MetricUnansweredOverHardLimit, those of them past the hard limit (monitor,
	// every run).
	MetricUnanswered              = "Unanswered"
	MetricUnansweredOverHardLimit = "UnansweredOverHardLimit"
)

// search returns the metrics of MetricNamespace named name, one line per value of
// dimension dim (labelled with it), each aggregated with stat over period.
func search(name, dim, stat string, period time.Duration) awscloudwatch.MathExpression {
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String(searchExpr(name, dim, stat, period)),
		Label:      jsii.String("${PROP('Dim." + dim + "')}"), // CloudWatch's dynamic label
		Period:     awscdk.Duration_Seconds(jsii.Number(period.Seconds())),
	})
}

func searchExpr(name, dim, stat string, period time.Duration) string {
	return fmt.Sprintf(`SEARCH('{%s,%s} MetricName="%s"', '%s', %d)`, MetricNamespace, dim, name, stat, int(period.Seconds()))
}

// custom returns the metric of MetricNamespace named name, without dimensions.
func custom(name, stat, label string, period time.Duration) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:  jsii.String(MetricNamespace),
		MetricName: jsii.String(name),
		Statistic:  jsii.String(stat),
		Label:      jsii.String(label),
		Period:     awscdk.Duration_Seconds(jsii.Number(period.Seconds())),
	})
}

// newDashboard creates the service's CloudWatch dashboard, named
// <stack>-<region> (dashboard names are global to the account): the care
// (inbound volume by intent, first-response time, open and unanswered cases, active crises), X (spend, posts
// read, budget), the queues (depth, age), the functions (errors, duration,
// throttles), the HTTP API (requests, 4xx, 5xx, latency) and every alarm.
func (b *builder) newDashboard(api awsapigatewayv2.HttpApi) awscloudwatch.Dashboard {
	five := 5 * time.Minute
	graph := func(title string, width float64, left []awscloudwatch.IMetric, opts func(*awscloudwatch.GraphWidgetProps)) awscloudwatch.IWidget {
		p := &awscloudwatch.GraphWidgetProps{
			Title:  jsii.String(title),
			Width:  jsii.Number(width),
			Height: jsii.Number(6),
			Left:   &left,
		}
		if opts != nil {
			opts(p)
		}
		return awscloudwatch.NewGraphWidget(p)
	}
	period := awscdk.Duration_Seconds(jsii.Number(five.Seconds()))
	opts := func(stat string) *awscloudwatch.MetricOptions {
		return &awscloudwatch.MetricOptions{Period: period, Statistic: jsii.String(stat)}
	}
	labeled := func(stat, label string) *awscloudwatch.MetricOptions {
		o := opts(stat)
		o.Label = jsii.String(label)
		return o
	}

	care := []awscloudwatch.IWidget{
		graph("Inbound messages by intent (per 5 min)", 6,
			[]awscloudwatch.IMetric{search(MetricMessages, DimIntent, "Sum", five)},
			func(p *awscloudwatch.GraphWidgetProps) { p.Stacked = jsii.Bool(true) }),
		graph("First-response time (seconds)", 6, []awscloudwatch.IMetric{
			custom(MetricFirstResponse, "p50", "median", five),
			custom(MetricFirstResponse, "p90", "p90", five),
		}, nil),
		graph("Open cases; unanswered past target (right)", 6, []awscloudwatch.IMetric{custom(MetricOpenCases, "Maximum", "open cases", five)},
			func(p *awscloudwatch.GraphWidgetProps) {
				p.Right = &[]awscloudwatch.IMetric{
					custom(MetricUnanswered, "Maximum", "unanswered past target", five),
					custom(MetricUnansweredOverHardLimit, "Maximum", "past the hard limit", five),
				}
			}),
		graph("Active crises", 6, []awscloudwatch.IMetric{
			custom(MetricActiveCrises, "Maximum", "all topics", five),
			search(MetricActiveCrises, DimTopic, "Maximum", five),
		}, nil),
	}

	hour := time.Hour
	x := []awscloudwatch.IWidget{
		graph("X spend, estimated USD per hour", 8, []awscloudwatch.IMetric{
			search(MetricEstimatedCost, DimSource, "Sum", hour),
			awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
				Expression: jsii.String("SUM(" + searchExpr(MetricEstimatedCost, DimSource, "Sum", hour) + ")"),
				Label:      jsii.String("all sources"),
				Period:     awscdk.Duration_Seconds(jsii.Number(hour.Seconds())),
			}),
		}, nil),
		graph("Posts read from X by source (per 5 min)", 8,
			[]awscloudwatch.IMetric{search(MetricPostsRead, DimSource, "Sum", five)},
			func(p *awscloudwatch.GraphWidgetProps) { p.Stacked = jsii.Bool(true) }),
		graph("Sources slowed by the X budget (1 = slowed)", 8,
			[]awscloudwatch.IMetric{search(MetricBudgetSlowed, DimSource, "Maximum", five)}, nil),
	}

	queues := []awscloudwatch.IWidget{
		graph("Queue depth (visible messages)", 12, []awscloudwatch.IMetric{
			b.inbound.Queue.MetricApproximateNumberOfMessagesVisible(labeled("Maximum", "inbound")),
			b.outbound.Queue.MetricApproximateNumberOfMessagesVisible(labeled("Maximum", "outbound")),
			b.inbound.DLQ.MetricApproximateNumberOfMessagesVisible(labeled("Maximum", "inbound DLQ")),
			b.outbound.DLQ.MetricApproximateNumberOfMessagesVisible(labeled("Maximum", "outbound DLQ")),
		}, nil),
		graph("Age of the oldest message (seconds)", 12, []awscloudwatch.IMetric{
			b.inbound.Queue.MetricApproximateAgeOfOldestMessage(labeled("Maximum", "inbound")),
			b.outbound.Queue.MetricApproximateAgeOfOldestMessage(labeled("Maximum", "outbound")),
		}, func(p *awscloudwatch.GraphWidgetProps) {
			p.LeftAnnotations = &[]*awscloudwatch.HorizontalAnnotation{
				{Value: jsii.Number(InboundMaxAge.Seconds()), Label: jsii.String("inbound alarm")},
				{Value: jsii.Number(OutboundMaxAge.Seconds()), Label: jsii.String("outbound alarm")},
			}
		}),
	}

	var errs, durations, throttles []awscloudwatch.IMetric
	for _, f := range b.functions {
		errs = append(errs, f.fn.MetricErrors(labeled("Sum", f.Name)))
		durations = append(durations, f.fn.MetricDuration(labeled("p99", f.Name)))
		throttles = append(throttles, f.fn.MetricThrottles(labeled("Sum", f.Name)))
	}
	functions := []awscloudwatch.IWidget{
		graph("Function errors", 8, errs, nil),
		graph("Function duration, p99 (ms)", 8, durations, nil),
		graph("Function throttles", 8, throttles, nil),
	}

	webhook := b.built(WebhookFunction).fn
	httpAPI := []awscloudwatch.IWidget{
		graph("HTTP API requests, 4xx, 5xx", 12, []awscloudwatch.IMetric{
			api.MetricCount(labeled("Sum", "requests")),
			api.MetricClientError(labeled("Sum", "4xx")),
			api.MetricServerError(labeled("Sum", "5xx")),
			webhook.MetricInvocations(labeled("Sum", "webhook invocations")),
		}, nil),
		graph("HTTP API latency (ms)", 12, []awscloudwatch.IMetric{
			api.MetricLatency(labeled("p50", "p50")),
			api.MetricLatency(labeled("p99", "p99")),
		}, nil),
	}

	var refs []interfacesawscloudwatch.IAlarmRef
	for _, a := range b.alarms {
		refs = append(refs, a)
	}
	alarms := awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
		Title:  jsii.String("Alarms"),
		Alarms: &refs,
		Width:  jsii.Number(24),
		Height: jsii.Number(4),
	})

	return awscloudwatch.NewDashboard(b.stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName:   awscdk.Fn_Join(jsii.String("-"), &[]*string{b.stack.StackName(), b.stack.Region()}),
		DefaultInterval: awscdk.Duration_Hours(jsii.Number(24)),
		Widgets:         &[]*[]awscloudwatch.IWidget{&[]awscloudwatch.IWidget{alarms}, &care, &x, &queues, &functions, &httpAPI},
	})
}
