package agentapi

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/health"
	"github.com/pajarito-care/pajarito/shared/queue"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/xapi"
)

// HealthChecks builds the operator's checks (GET /v1/health) from what the agent API
// is built with: X as the brand (nil, with xErr, when the credentials could not
// be loaded: the checks then say why), the webhook's consumer secret, the queues
// of its dead-letter redrive, and the stack's alarms (nil locally). The webhook
// checked is the one on the request's origin.
func HealthChecks(cfg *config.Config, st *store.Store, x *xapi.Client, xErr error, secret []byte, queues *queue.Redrive, alarms func(context.Context) ([]string, error)) *health.Checker {
	c := &health.Checker{Config: cfg, Store: st, XError: xErr, ConsumerSecret: secret, Alarms: alarms}
	if x != nil {
		c.X = x // a nil *xapi.Client must stay a nil interface
	}
	if queues != nil {
		c.Queues = queueDepths(queues)
	}
	return c
}

// XChatKeys reports the version of the brand's X Chat keys the secret
// secretID holds, and the versions X serves for the brand (read at baseURL, X
// when "", only when the secret holds keys).
func XChatKeys(sm xapi.SecretsGetter, secretID, baseURL, brandID string) health.XChatKeys {
	return func(ctx context.Context, token string) (string, []string, error) {
		fields, err := xapi.XChatFields(ctx, sm, secretID)
		if err != nil || fields[xapi.SecretXChatPrivateKeys] == "" {
			return "", nil, err
		}
		listed, err := xapi.PublicKeys(ctx, nil, baseURL, token, brandID)
		if err != nil {
			return "", nil, err
		}
		var versions []string
		for _, k := range listed {
			versions = append(versions, k.Version)
		}
		return fields[xapi.SecretXChatKeyVersion], versions, nil
	}
}

// queueDepths reads the depth of the source queues and of their dead-letter
// queues.
func queueDepths(r *queue.Redrive) func(context.Context) ([]health.QueueDepth, error) {
	return func(ctx context.Context) ([]health.QueueDepth, error) {
		sources, err := r.SourceDepths(ctx)
		if err != nil {
			return nil, err
		}
		dead, err := r.Depths(ctx)
		if err != nil {
			return nil, err
		}
		var out []health.QueueDepth
		for _, d := range sources {
			out = append(out, health.QueueDepth{Name: d.Queue, Messages: int(d.Visible), InFlight: int(d.InFlight)})
		}
		for _, d := range dead {
			out = append(out, health.QueueDepth{Name: d.Queue, DeadLetter: true, Messages: int(d.Visible), InFlight: int(d.InFlight)})
		}
		return out, nil
	}
}

// AlarmsAPI is the part of CloudWatch the alarm check reads (*cloudwatch.Client).
type AlarmsAPI interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
}

// Alarms returns the names of the alarms whose names start with prefix and that
// are in ALARM.
func Alarms(cw AlarmsAPI, prefix string) func(context.Context) ([]string, error) {
	return func(ctx context.Context) ([]string, error) {
		var names []string
		p := cloudwatch.NewDescribeAlarmsPaginator(cw, &cloudwatch.DescribeAlarmsInput{
			AlarmNamePrefix: aws.String(prefix),
			StateValue:      cwtypes.StateValueAlarm,
			AlarmTypes:      []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm},
		})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("cloudwatch: alarms %s* in ALARM: %w", prefix, err)
			}
			for _, a := range out.MetricAlarms {
				names = append(names, aws.ToString(a.AlarmName))
			}
			for _, a := range out.CompositeAlarms {
				names = append(names, aws.ToString(a.AlarmName))
			}
		}
		return names, nil
	}
}
