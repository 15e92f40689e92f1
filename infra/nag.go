package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// CheckCompliance checks every stack under scope against cdk-nag's AWS Solutions
// rules when the app is synthesized. Findings become annotations on the offending
// constructs: errors stop `cdk synth` and `cdk deploy`, warnings are printed, and
// cdk.out gets a CSV report (AwsSolutions-<stack>-NagReport.csv). The stack fixes
// what the rules flag, or suppresses a rule on one construct with the reason it
// does not apply there (suppress); the tests fail on any unsuppressed finding.
//
// It runs as a read-only aspect, after the aspects that change the tree (tags).
func CheckCompliance(scope constructs.IConstruct) {
	awscdk.Aspects_Of(scope).Add(
		cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}),
		&awscdk.AspectOptions{Priority: awscdk.AspectPriority_READONLY()},
	)
}

// suppress records why cdk-nag's rule does not apply to c and the constructs
// under it. appliesTo, when given, narrows the suppression to those findings of
// the rule, each a string (for AwsSolutions-IAM5, the wildcard resource or action,
// e.g. "Resource::*") or a cdknag.RegexAppliesTo; a finding outside them is still
// reported.
func suppress(c constructs.IConstruct, rule, reason string, appliesTo ...any) {
	s := &cdknag.NagPackSuppression{Id: jsii.String(rule), Reason: jsii.String(reason)}
	if len(appliesTo) > 0 {
		s.AppliesTo = &appliesTo
	}
	cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{s}, jsii.Bool(true))
}
