package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
)

// newAlertTopic creates the topic every alarm (and, later, the crisis and SLA
// alerts) publishes to, subscribing AlertEmail when set. It refuses non-TLS
// publishers. It is not encrypted with KMS: CloudWatch alarms cannot publish to a
// topic under the AWS managed key (aws/sns), and alerts carry alarm names and
// counts, not customer data.
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

// alarm sends an alarm's state changes (into ALARM and back to OK) to the topic.
func (b *builder) alarm(a awscloudwatch.Alarm) awscloudwatch.Alarm {
	action := awscloudwatchactions.NewSnsAction(b.alerts)
	a.AddAlarmAction(action)
	a.AddOkAction(action)
	return a
}

// alarmOnDLQ raises an alarm as soon as a dead-letter queue holds a message: a
// message that failed MaxReceiveCount times, or one the processor could not read
// (it quarantines it and copies it there). Either needs a person.
func (b *builder) alarmOnDLQ(id string, dlq awssqs.Queue) awscloudwatch.Alarm {
	return b.alarm(dlq.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
		Period:    awscdk.Duration_Minutes(jsii.Number(1)),
		Statistic: jsii.String("Maximum"),
	}).CreateAlarm(b.stack, jsii.String(id), &awscloudwatch.CreateAlarmOptions{
		AlarmDescription:   jsii.String("Messages in " + id + "'s dead-letter queue: look at them, fix the cause, redrive them (see the README)."),
		Threshold:          jsii.Number(0),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	}))
}
