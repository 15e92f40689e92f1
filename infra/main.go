// Command infra is Pajarito's AWS CDK app: `cdk synth|deploy` at the repository root
// runs it (cdk.json). It deploys one stack, Pajarito, from the functions that
// `make build` put in dist/. Settings come from the CDK context (props.go) and the
// team's pajarito.json (the listener's schedule). The stack is checked against
// cdk-nag's AWS Solutions rules at every synthesis (nag.go).
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/pajarito-care/pajarito/shared/config"
)

// StackID is the id (and CloudFormation name) of the stack.
const StackID = "Pajarito"

func main() {
	os.Exit(run())
}

func run() int {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	props, err := PropsFromContext(func(key string) any { return app.Node().TryGetContext(jsii.String(key)) })
	if err == nil {
		err = CheckAssets(props.withDefaults().AssetDir, "functions")
	}
	if err == nil {
		// The team's configuration is validated at synth, and sets the schedule.
		var cfg *config.Config
		if cfg, err = config.FromEnvironment(nil); err == nil {
			props.PollInterval = cfg.PollInterval.Std()
			props.MonitorInterval = cfg.MonitorInterval.Std()
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pajarito infra:", err)
		return 1
	}
	props.Description = jsii.String("Pajarito: customer care on X (webhook, listener, processor, agent API, reply sender, monitor)")
	NewStack(app, StackID, props)
	// cdk-nag's findings are annotations: an unsuppressed error stops `cdk synth`
	// and `cdk deploy`, warnings are printed, and cdk.out gets the CSV report.
	CheckCompliance(app)
	app.Synth(nil)
	return 0
}
