package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/pajarito-care/pajarito/shared/settings"
)

// An alarm on failures goes off when they persist: in AlarmDatapoints of the last
// AlarmPeriods periods of AlarmPeriod. A lone failure is retried anyway (SQS
// redelivers the message, X resends the webhook, the schedule runs again), and
// the DLQ alarms catch the messages that run out of retries.
const (
	AlarmPeriod     = 5 * time.Minute
	AlarmPeriods    = 3
	AlarmDatapoints = 2
)

// How long a message may wait on a queue before its age alarm goes off. The
// processor drains the inbound queue in seconds; 10 minutes is a backlog or a
// message failing its retries (the DLQ takes it after 5 tries, some 15 minutes).
// The reply sender waits out X's 15-minute rate-limit windows: 30 minutes is two
// windows without catching up.
const (
	InboundMaxAge  = 10 * time.Minute
	OutboundMaxAge = 30 * time.Minute
)

// newAlertTopic creates the topic every alarm and the functions' alerts (package
// notify) publish to, subscribing AlertEmail when set. It refuses non-TLS
// publishers. It is not encrypted with KMS: CloudWatch alarms cannot publish to a
// topic under the AWS managed key (aws/sns), and alerts carry alarm names, crisis
// topics, case and message ids and counts, never a customer's words (keep it so:
// e-mail subscriptions leave AWS anyway).
func (b *builder) newAlertTopic() awssns.Topic {
	topic := awssns.NewTopic(b.stack, jsii.String("Alerts"), &awssns.TopicProps{
		DisplayName: jsii.String("Pajarito alerts"),
		EnforceSSL:  jsii.Bool(true),
	})
	if b.props.AlertEmail != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(b.props.AlertEmail), nil))
	}
	return topic
}

// useAlerts lets fn publish to the alert topic, whose ARN it finds in
// settings.EnvAlertTopic: process (crises, escalations), reply (replies X refused) and
// monitor (crises closing, SLA).
func (b *builder) useAlerts(fn awslambda.Function) {
	fn.AddEnvironment(jsii.String(settings.EnvAlertTopic), b.alerts.TopicArn(), nil)
	b.alerts.GrantPublish(fn)
}

// alarm sends an alarm's state changes (into ALARM and back to OK) to the topic.
func (b *builder) alarm(a awscloudwatch.Alarm) awscloudwatch.Alarm {
	action := awscloudwatchactions.NewSnsAction(b.alerts)
	a.AddAlarmAction(action)
	a.AddOkAction(action)
	b.alarms = append(b.alarms, a)
	return a
}

// alarmOnDLQ raises an alarm as soon as a dead-letter queue holds a message: a
// message that failed every receive its queue allows, or one the processor could not read
// (it quarantines it and copies it there). Either needs a person.
func (b *builder) alarmOnDLQ(id string, dlq awssqs.Queue) awscloudwatch.Alarm {
	return b.alarm(dlq.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
		Period:    awscdk.Duration_Minutes(jsii.Number(1)),
		Statistic: jsii.String("Maximum"),
	}).CreateAlarm(b.stack, jsii.String(id), &awscloudwatch.CreateAlarmOptions{
		AlarmDescription: jsii.String("A message is in a dead-letter queue (" + id + "): it failed every attempt its queue allows, or could not be read. " +
			"Look at it (SQS console, Poll for messages) and at its consumer's logs around its first attempt; fix the cause, " +
			"then redrive it to its queue (SQS console, Start DLQ redrive). Until then that message's customer is not served."),
		Threshold:          jsii.Number(0),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	}))
}

// alarmOnErrors raises an alarm when f fails (Lambda's Errors: the invocation
// failed, not a message it reported as failed) in AlarmDatapoints of AlarmPeriods
// periods.
func (b *builder) alarmOnErrors(f deployed) awscloudwatch.Alarm {
	return b.alarm(f.fn.MetricErrors(&awscloudwatch.MetricOptions{
		Period:    awscdk.Duration_Seconds(jsii.Number(AlarmPeriod.Seconds())),
		Statistic: jsii.String("Sum"),
	}).CreateAlarm(b.stack, jsii.String(f.ID+"Errors"), &awscloudwatch.CreateAlarmOptions{
		AlarmDescription: jsii.String(fmt.Sprintf("Pajarito's %s function keeps failing. %s Logs: log group %s.",
			f.Name, f.OnErrors, *f.fn.LogGroup().LogGroupName())),
		Threshold:          jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		EvaluationPeriods:  jsii.Number(AlarmPeriods),
		DatapointsToAlarm:  jsii.Number(AlarmDatapoints),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	}))
}

// alarmOnServerErrors raises an alarm when the HTTP API answers 5xx in
// AlarmDatapoints of AlarmPeriods periods: X's webhook deliveries failing (X
// retries, then drops them) or the agent API. The access log's routeKey says
// which.
func (b *builder) alarmOnServerErrors(api awsapigatewayv2.HttpApi) awscloudwatch.Alarm {
	return b.alarm(api.MetricServerError(&awscloudwatch.MetricOptions{
		Period:    awscdk.Duration_Seconds(jsii.Number(AlarmPeriod.Seconds())),
		Statistic: jsii.String("Sum"),
	}).CreateAlarm(b.stack, jsii.String("ApiServerErrors"), &awscloudwatch.CreateAlarmOptions{
		AlarmDescription: jsii.String("The HTTP API keeps answering 5xx. On " + RouteWebhook + ", X's deliveries fail: X retries, then drops them. " +
			"Find the route and the cause in the access logs (log group " + *b.accessLogs.LogGroupName() + ": routeKey, status, integrationError), " +
			"then in that function's logs (webhook or agentapi). A 503 with no integration error is Lambda throttling: look at the account's concurrency."),
		Threshold:          jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		EvaluationPeriods:  jsii.Number(AlarmPeriods),
		DatapointsToAlarm:  jsii.Number(AlarmDatapoints),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	}))
}

// alarmOnQueueAge raises an alarm when the oldest message on the queue name has
// waited more than maxAge; what says what that means and what to do.
func (b *builder) alarmOnQueueAge(name string, q awssqs.Queue, maxAge time.Duration, what string) awscloudwatch.Alarm {
	return b.alarm(q.MetricApproximateAgeOfOldestMessage(&awscloudwatch.MetricOptions{
		Period:    awscdk.Duration_Seconds(jsii.Number(AlarmPeriod.Seconds())),
		Statistic: jsii.String("Maximum"),
	}).CreateAlarm(b.stack, jsii.String(name+"QueueAge"), &awscloudwatch.CreateAlarmOptions{
		AlarmDescription:   jsii.String(fmt.Sprintf("A message has waited more than %s on the %s queue. %s", maxAge, strings.ToLower(name), what)),
		Threshold:          jsii.Number(maxAge.Seconds()),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	}))
}

// alarmOnThrottles raises an alarm when a scheduled function (reserved
// concurrency 1) is throttled in each of AlarmPeriods periods: its runs last
// longer than its schedule's interval, so runs are being dropped. what says what
// that means and what to do.
func (b *builder) alarmOnThrottles(f deployed, what string) awscloudwatch.Alarm {
	return b.alarm(f.fn.MetricThrottles(&awscloudwatch.MetricOptions{
		Period:    awscdk.Duration_Seconds(jsii.Number(AlarmPeriod.Seconds())),
		Statistic: jsii.String("Sum"),
	}).CreateAlarm(b.stack, jsii.String(f.ID+"Throttles"), &awscloudwatch.CreateAlarmOptions{
		AlarmDescription:   jsii.String(fmt.Sprintf("Pajarito's %s function is throttled: its runs overlap. %s", f.Name, what)),
		Threshold:          jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		EvaluationPeriods:  jsii.Number(AlarmPeriods),
		DatapointsToAlarm:  jsii.Number(AlarmPeriods),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	}))
}

// alarmOnUnanswered raises an alarm when cases wait past their first-response
// target without an answer (the monitor's MetricUnanswered, which should read 0)
// in AlarmDatapoints of AlarmPeriods periods. Each such case has also had one
// sla_breach alert naming it (shared/monitor).
func (b *builder) alarmOnUnanswered() awscloudwatch.Alarm {
	unanswered := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{ // no label: a plain metric alarm
		Namespace:  jsii.String(MetricNamespace),
		MetricName: jsii.String(MetricUnanswered),
		Statistic:  jsii.String("Maximum"),
		Period:     awscdk.Duration_Seconds(jsii.Number(AlarmPeriod.Seconds())),
	})
	return b.alarm(unanswered.CreateAlarm(b.stack, jsii.String("UnansweredCases"), &awscloudwatch.CreateAlarmOptions{
		AlarmDescription: jsii.String("Customers are waiting past their first-response target without an answer (metric " + MetricNamespace + " " + MetricUnanswered + ", written by the monitor every minute; it should read 0). " +
			"Each of those cases had one sla_breach alert on this topic naming it, its customer, priority and department: answer them first " +
			"(agent API GET /v1/cases: open cases, highest priority first) and move agents to those departments. " +
			MetricUnansweredOverHardLimit + " counts the cases past the hard limit. If it keeps firing, the team is understaffed for its hours, " +
			"or the targets in pajarito.json (protocol.sla: first_response by priority, business_hours, hard_limit) do not match them."),
		Threshold:          jsii.Number(0),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(AlarmPeriods),
		DatapointsToAlarm:  jsii.Number(AlarmDatapoints),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	}))
}
