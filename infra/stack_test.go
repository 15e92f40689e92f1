package main

//lint:file-ignore SA1019 cxapi.SynthesisMessage is deprecated for @aws-cdk/cloud-assembly-api, which has no Go binding in aws-cdk-go v2 yet

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/jsii-runtime-go"

	agentroles "github.com/pajarito-care/pajarito/shared/agentapi"
	"github.com/pajarito-care/pajarito/shared/console"
	"github.com/pajarito-care/pajarito/shared/sender"
	"github.com/pajarito-care/pajarito/shared/settings"
	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/wire/agentapi"
	"github.com/pajarito-care/pajarito/shared/xchatopen"
)

// The stacks are synthesized once per test binary (a synthesis costs seconds), in
// one app: a dev stack with the defaults, a prod stack with tracing, an alert
// email, its own sign-in domain prefix and a custom domain for the console, and
// dev stacks trusting an external JWT issuer, without and with a console client
// there (the latter with a role claim of its own, the former with the default).
const (
	devStack             = "Dev"
	prodStack            = "Prod"
	externalStack        = "External"
	externalConsoleStack = "ExternalConsole"

	externalIssuer        = "https://login.example.com/realms/care"
	externalConsoleClient = "pajarito-console"
	externalRoleClaim     = "https://care.example.com/roles"
	prodDomainPrefix      = "care-example-prod"
	prodConsoleURL        = "https://care.example.com/console/"
)

// allStacks lists every stack synthesized.
var allStacks = []string{devStack, prodStack, externalStack, externalConsoleStack}

// synthesized is one stack's template, as raw JSON and for the assertions library,
// and the messages the synthesis left on its constructs (cdk-nag's findings among
// them).
type synthesized struct {
	raw      map[string]any
	template assertions.Template
	messages []message
	// nagReport is cdk-nag's CSV report of the stack.
	nagReport [][]string
}

// message is an annotation of the synthesis: level is "error", "warning" or
// "info".
type message struct {
	path, level, text string
}

var (
	synthOnce sync.Once
	synthErr  error
	stacks    map[string]*synthesized
	tmpDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if tmpDir != "" {
		os.RemoveAll(tmpDir)
	}
	jsii.Close()
	os.Exit(code)
}

// stack returns the synthesized template of the stack id.
func stack(t *testing.T, id string) *synthesized {
	t.Helper()
	synthOnce.Do(func() { synthErr = synthesize() })
	if synthErr != nil {
		t.Fatalf("synthesize: %v", synthErr)
	}
	return stacks[id]
}

func synthesize() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	tmpDir, err = os.MkdirTemp("", "pajarito-infra-test-")
	if err != nil {
		return err
	}
	// Placeholder bootstraps: the test must not depend on `make build`.
	assets := filepath.Join(tmpDir, "dist")
	for _, f := range Functions() {
		if err := os.MkdirAll(filepath.Join(assets, f.Name), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(assets, f.Name, "bootstrap"), []byte("placeholder "+f.Name), 0o755); err != nil {
			return err
		}
	}
	// The same feature flags as `cdk synth` (cdk.json's context).
	ctx, err := cdkContext()
	if err != nil {
		return err
	}
	app := awscdk.NewApp(&awscdk.AppProps{
		Context: &ctx,
		Outdir:  jsii.String(filepath.Join(tmpDir, "cdk.out")),
	})
	NewStack(app, devStack, StackProps{AssetDir: assets, Environment: Dev})
	NewStack(app, prodStack, StackProps{AssetDir: assets, Environment: Prod, Tracing: true, AlertEmail: "care-alerts@example.com",
		AuthDomainPrefix: prodDomainPrefix, ConsoleURLs: []string{prodConsoleURL}})
	NewStack(app, externalStack, StackProps{AssetDir: assets, Environment: Dev, JWTIssuer: externalIssuer, JWTAudience: []string{"pajarito-agents"}})
	NewStack(app, externalConsoleStack, StackProps{AssetDir: assets, Environment: Dev, JWTIssuer: externalIssuer,
		JWTAudience: []string{"pajarito-agents", externalConsoleClient}, ConsoleClientID: externalConsoleClient, RoleClaim: externalRoleClaim})
	CheckCompliance(app) // as `cdk synth` does (main.go)
	asm := app.Synth(nil)
	stacks = map[string]*synthesized{}
	for _, id := range allStacks {
		artifact := asm.GetStackArtifact(jsii.String(id))
		b, err := json.Marshal(artifact.Template())
		if err != nil {
			return err
		}
		var raw map[string]any
		if err := json.Unmarshal(b, &raw); err != nil {
			return err
		}
		st := &synthesized{raw: raw, template: assertions.Template_FromJSON(&raw, nil)}
		for _, m := range *artifact.Messages() {
			text, _ := m.Entry.Data.(string)
			if text == "" {
				j, _ := json.Marshal(m.Entry.Data)
				text = string(j)
			}
			st.messages = append(st.messages, message{path: *m.Id, level: strings.ToLower(string(m.Level)), text: text})
		}
		f, err := os.Open(filepath.Join(*asm.Directory(), "AwsSolutions-"+id+"-NagReport.csv"))
		if err != nil {
			return fmt.Errorf("cdk-nag's report: %w", err)
		}
		st.nagReport, err = csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			return fmt.Errorf("cdk-nag's report of %s: %w", id, err)
		}
		stacks[id] = st
	}
	return nil
}

func cdkContext() (map[string]any, error) {
	b, err := os.ReadFile("../cdk.json")
	if err != nil {
		return nil, err
	}
	var cfg struct {
		App     string         `json:"app"`
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("cdk.json: %w", err)
	}
	if cfg.App != "go run ./infra" {
		return nil, fmt.Errorf("cdk.json: app is %q, want \"go run ./infra\"", cfg.App)
	}
	return cfg.Context, nil
}

// check runs an assertion of the assertions library, which panics on failure.
func check(t *testing.T, what string, assertion func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	assertion()
}

// resources returns the stack's resources of type typ by logical id.
func (s *synthesized) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range s.raw["Resources"].(map[string]any) {
		r := r.(map[string]any)
		if r["Type"] == typ {
			out[id] = r
		}
	}
	return out
}

func props(r map[string]any) map[string]any {
	p, _ := r["Properties"].(map[string]any)
	return p
}

// function returns the logical id and properties of the function functions/name.
func (s *synthesized) function(t *testing.T, name string) (string, map[string]any) {
	t.Helper()
	for id, r := range s.resources("AWS::Lambda::Function") {
		p := props(r)
		tags, _ := p["Tags"].([]any)
		for _, tag := range tags {
			tag := tag.(map[string]any)
			if tag["Key"] == TagFunction && tag["Value"] == name {
				return id, p
			}
		}
	}
	t.Fatalf("no function tagged %s=%s", TagFunction, name)
	return "", nil
}

// queue returns the logical ids of the queue name ("Inbound", "Outbound": the one
// with a redrive policy) and of its DLQ.
func (s *synthesized) queue(t *testing.T, name string) (q, dlq string) {
	t.Helper()
	for id, r := range s.resources("AWS::SQS::Queue") {
		if rp, ok := props(r)["RedrivePolicy"].(map[string]any); ok && strings.HasPrefix(id, name) && !strings.HasPrefix(id, name+"DLQ") {
			q = id
			dlq = refs(rp["deadLetterTargetArn"])[0]
		}
	}
	if q == "" || dlq == "" {
		t.Fatalf("no %s queue with a redrive policy", name)
	}
	return q, dlq
}

// queues returns the logical ids of the inbound queue and of its DLQ.
func (s *synthesized) queues(t *testing.T) (inbound, dlq string) {
	t.Helper()
	return s.queue(t, "Inbound")
}

// outbound returns the logical id of the outbound queue.
func (s *synthesized) outbound(t *testing.T) string {
	t.Helper()
	q, _ := s.queue(t, "Outbound")
	return q
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}

func (s *synthesized) only(t *testing.T, typ string) (string, map[string]any) {
	t.Helper()
	rs := s.resources(typ)
	if len(rs) != 1 {
		t.Fatalf("%d resources of type %s, want 1", len(rs), typ)
	}
	for id, r := range rs {
		return id, r
	}
	return "", nil
}

// refs returns the logical ids an intrinsic expression refers to (Ref, GetAtt).
func refs(v any) []string {
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["Ref"].(string); ok && !strings.HasPrefix(r, "AWS::") {
				out = append(out, r)
			}
			if ga, ok := v["Fn::GetAtt"].([]any); ok {
				out = append(out, ga[0].(string))
			}
			for k, x := range v {
				if k != "Ref" && k != "Fn::GetAtt" {
					walk(x)
				}
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return out
}

func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			out = append(out, x.(string))
		}
		return out
	}
	return nil
}

func TestResourceCounts(t *testing.T) {
	s := stack(t, devStack)
	n := len(Functions())
	for typ, want := range map[string]int{
		"AWS::Lambda::Function":           n,
		"AWS::Lambda::EventSourceMapping": 2,     // process and reply
		"AWS::IAM::Role":                  n + 2, // + the schedules'
		"AWS::Scheduler::Schedule":        2,     // listen and monitor
		"AWS::Lambda::EventInvokeConfig":  2,
		"AWS::SQS::Queue":                 4, // inbound, outbound and their DLQs
		"AWS::DynamoDB::Table":            1,
		"AWS::ApiGatewayV2::Api":          1,
		"AWS::ApiGatewayV2::Stage":        1,
		"AWS::ApiGatewayV2::Route":        6, // webhook (2), health, /v1/, console (2)
		"AWS::ApiGatewayV2::Integration":  2, // webhook and agentapi
		"AWS::ApiGatewayV2::Authorizer":   1,
		"AWS::Cognito::UserPool":          1,
		"AWS::Cognito::UserPoolClient":    1,
		"AWS::Cognito::UserPoolDomain":    1,
		"AWS::Cognito::UserPoolGroup":     3, // the roles
		// The managed login's style for the client (Cognito's own).
		"AWS::Cognito::ManagedLoginBranding": 1,
		"AWS::SecretsManager::Secret":        1,
		"AWS::SNS::Topic":                    1,
		"AWS::SNS::Subscription":             0,
		// 2 DLQs, errors of each function, API 5xx, 2 queue ages, listener throttles,
		// unanswered cases.
		"AWS::CloudWatch::Alarm":     2 + n + 1 + 2 + 1 + 1,
		"AWS::CloudWatch::Dashboard": 1,
		"AWS::Logs::LogGroup":        n + 1, // + API access logs
		"AWS::IAM::ManagedPolicy":    0,
	} {
		check(t, typ, func() { s.template.ResourceCountIs(jsii.String(typ), jsii.Number(want)) })
	}
	for _, id := range []string{externalStack, externalConsoleStack} {
		ext := stack(t, id)
		for typ, want := range map[string]int{
			"AWS::Cognito::UserPool":             0,
			"AWS::Cognito::UserPoolClient":       0,
			"AWS::Cognito::UserPoolDomain":       0,
			"AWS::Cognito::UserPoolGroup":        0,
			"AWS::Cognito::ManagedLoginBranding": 0,
			"AWS::ApiGatewayV2::Authorizer":      1,
			"AWS::ApiGatewayV2::Route":           6,
		} {
			check(t, id+": "+typ, func() { ext.template.ResourceCountIs(jsii.String(typ), jsii.Number(want)) })
		}
	}
	check(t, "alert email subscription", func() {
		stack(t, prodStack).template.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), &map[string]any{
			"Protocol": "email", "Endpoint": "care-alerts@example.com",
		})
	})
}

// notDeployedYet lists the functions in functions/ that the stack does not deploy
// yet, and what deploying them takes. A new folder in functions/ fails
// TestEveryFunctionDeployed until it is deployed or listed here.
var notDeployedYet = map[string]string{}

// Every function in functions/ is deployed (or knowingly not yet), and every
// function the stack deploys has its folder: `make build` builds the folders, and
// `cdk synth` stops on a function it has no bootstrap for (CheckAssets).
func TestEveryFunctionDeployed(t *testing.T) {
	entries, err := os.ReadDir("../functions")
	if err != nil {
		t.Fatal(err)
	}
	folders := map[string]bool{}
	for _, e := range entries {
		if e.IsDir() {
			folders[e.Name()] = true
		}
	}
	deployed := map[string]bool{}
	for _, f := range Functions() {
		deployed[f.Name] = true
		if !folders[f.Name] {
			t.Errorf("functions/%s is deployed by the stack but has no folder: `make build` cannot build it and `cdk synth` stops", f.Name)
		}
		if why := notDeployedYet[f.Name]; why != "" {
			t.Errorf("%s is deployed: take it off notDeployedYet", f.Name)
		}
	}
	for name := range folders {
		if !deployed[name] && notDeployedYet[name] == "" {
			t.Errorf("functions/%s is not deployed by the stack: add it to Functions (functions.go) and wire it in NewStack, or list it in notDeployedYet with what deploying it takes", name)
		}
	}
}

func TestFunctions(t *testing.T) {
	for _, id := range []string{devStack, prodStack} {
		s := stack(t, id)
		check(t, id+": runtime, architecture, handler, JSON logs", func() {
			s.template.AllResourcesProperties(jsii.String("AWS::Lambda::Function"), &map[string]any{
				"Runtime":       "provided.al2023",
				"Architectures": []any{"arm64"},
				"Handler":       "bootstrap",
				"LoggingConfig": assertions.Match_ObjectLike(&map[string]any{"LogFormat": "JSON"}),
			})
		})
		for _, f := range Functions() {
			_, p := s.function(t, f.Name)
			if got := p["MemorySize"]; got != f.MemoryMB {
				t.Errorf("%s %s: memory %v, want %v", id, f.Name, got, f.MemoryMB)
			}
			if got := p["Timeout"]; got != f.Timeout.Seconds() {
				t.Errorf("%s %s: timeout %v, want %v", id, f.Name, got, f.Timeout.Seconds())
			}
			// Each function logs to its own log group, with a retention.
			lg := refs(p["LoggingConfig"].(map[string]any)["LogGroup"])
			if len(lg) != 1 {
				t.Fatalf("%s %s: log group %v", id, f.Name, lg)
			}
			if r := props(s.resources("AWS::Logs::LogGroup")[lg[0]]); r["RetentionInDays"] != 30.0 {
				t.Errorf("%s %s: log retention %v, want 30 days", id, f.Name, r["RetentionInDays"])
			}
			tracing, _ := p["TracingConfig"].(map[string]any)
			if want := id == prodStack; (tracing["Mode"] == "Active") != want {
				t.Errorf("%s %s: tracing %v, want active=%v", id, f.Name, tracing, want)
			}
		}
	}
	if WebhookFunction.Timeout.Seconds() > 10 {
		t.Errorf("the webhook's timeout %v is beyond X's 10 s", WebhookFunction.Timeout)
	}
	if ProcessFunction.Timeout >= store.DefaultClaimLease {
		t.Errorf("the processor's timeout %v must stay below store.DefaultClaimLease %v", ProcessFunction.Timeout, store.DefaultClaimLease)
	}
	// A send claimed longer ago than the lease is taken for interrupted: the
	// sender that claimed it must be surely gone (its function timed out).
	if ReplyFunction.Timeout < sender.DefaultCallTime+30*time.Second {
		t.Errorf("the reply sender's timeout %v leaves no room for a call: the sender starts one only with sender.DefaultCallTime %v left", ReplyFunction.Timeout, sender.DefaultCallTime)
	}
	if ReplyFunction.Timeout >= sender.DefaultLease {
		t.Errorf("the reply sender's timeout %v must stay below sender.DefaultLease %v", ReplyFunction.Timeout, sender.DefaultLease)
	}
}

func TestEnvironment(t *testing.T) {
	s := stack(t, devStack)
	tableID, _ := s.only(t, "AWS::DynamoDB::Table")
	secretID, _ := s.only(t, "AWS::SecretsManager::Secret")
	topicID, _ := s.only(t, "AWS::SNS::Topic")
	inbound, dlq := s.queues(t)
	outbound, outboundDLQ := s.queue(t, "Outbound")
	keyID, _ := s.only(t, "AWS::KMS::Key")
	want := map[string]map[string]string{
		"webhook": {settings.EnvInboundQueue: inbound, settings.EnvXSecretID: secretID},
		"process": {settings.EnvTable: tableID, settings.EnvInboundDLQ: dlq, settings.EnvOutboundQueue: outbound, settings.EnvAlertTopic: topicID,
			settings.EnvXSecretID: secretID, settings.EnvXChatKey: keyID},
		"agentapi": {settings.EnvTable: tableID, settings.EnvOutboundQueue: outbound, settings.EnvAlertTopic: topicID, settings.EnvXSecretID: secretID,
			settings.EnvInboundQueue: inbound, settings.EnvInboundQueueARN: inbound, settings.EnvInboundDLQ: dlq, settings.EnvInboundDLQARN: dlq,
			settings.EnvOutboundQueueARN: outbound, settings.EnvOutboundDLQ: outboundDLQ, settings.EnvOutboundDLQARN: outboundDLQ},
		"listen": {settings.EnvTable: tableID, settings.EnvInboundQueue: inbound, settings.EnvXSecretID: secretID},
		"reply": {settings.EnvTable: tableID, settings.EnvOutboundQueue: outbound, settings.EnvXSecretID: secretID, settings.EnvAlertTopic: topicID,
			settings.EnvXChatKey: keyID},
		"monitor": {settings.EnvTable: tableID, settings.EnvOutboundQueue: outbound, settings.EnvAlertTopic: topicID, settings.EnvXSecretID: secretID},
	}
	if len(want) != len(Functions()) {
		t.Errorf("the test knows the environment of %d functions, the stack deploys %d", len(want), len(Functions()))
	}
	// Every setting a function's builder requires (settings.Functions), and the X
	// secret for those that call X, is set: a function missing one would fail at
	// start in AWS.
	for _, f := range Functions() {
		required, ok := settings.Functions[f.Name]
		if !ok {
			t.Errorf("settings.Functions has no entry for functions/%s", f.Name)
		}
		if slices.Contains(settings.UsesX, f.Name) {
			required = append(slices.Clone(required), settings.EnvXSecretID)
		}
		for _, v := range required {
			if _, ok := want[f.Name][v]; !ok {
				t.Errorf("functions/%s requires %s (settings.Functions), which the stack does not set", f.Name, v)
			}
		}
	}
	for name, vars := range want {
		_, p := s.function(t, name)
		env := p["Environment"].(map[string]any)["Variables"].(map[string]any)
		got := map[string]string{}
		for k, v := range env {
			if k == settings.EnvConsole && name == "agentapi" {
				continue // the console's settings, a JSON document (TestConsoleSettings)
			}
			if k == settings.EnvRoleClaim && name == "agentapi" {
				continue // a claim's name (TestRoleClaim)
			}
			if k == settings.EnvAlarmPrefix && name == "agentapi" {
				if v != "Dev-" {
					t.Errorf("agentapi: %s=%v, want the stack's name and a dash (Dev-), which starts its alarms' names", k, v)
				}
				continue
			}
			r := refs(v)
			if len(r) != 1 {
				t.Errorf("%s: %s=%v is not a reference to a stack resource", name, k, v)
				continue
			}
			got[k] = r[0]
		}
		if !reflect.DeepEqual(got, vars) {
			t.Errorf("%s: environment refers to %v, want %v", name, got, vars)
		}
	}
}

// Each queue has a DLQ that keeps messages longer than it, a visibility timeout
// above what its consumer may hold a batch, SSE and TLS only.
func TestQueues(t *testing.T) {
	s := stack(t, devStack)
	for _, c := range []struct {
		name     string
		consumer Function
		window   time.Duration
		receives float64
	}{
		{"Inbound", ProcessFunction, ProcessBatchWindow, 5},
		{"Outbound", ReplyFunction, 0, 15},
	} {
		id, dlq := s.queue(t, c.name)
		q := props(s.resources("AWS::SQS::Queue")[id])
		rp := q["RedrivePolicy"].(map[string]any)
		if rp["maxReceiveCount"] != c.receives {
			t.Errorf("%s: redrive maxReceiveCount %v, want %v", c.name, rp["maxReceiveCount"], c.receives)
		}
		_, fn := s.function(t, c.consumer.Name)
		timeout := fn["Timeout"].(float64)
		if vis, want := q["VisibilityTimeout"].(float64), 6*timeout+c.window.Seconds(); vis < want {
			t.Errorf("%s: visibility timeout %v s < 6 x %s's timeout + batching window = %v s", c.name, vis, c.consumer.Name, want)
		}
		d := props(s.resources("AWS::SQS::Queue")[dlq])
		if d["MessageRetentionPeriod"].(float64) <= q["MessageRetentionPeriod"].(float64) {
			t.Errorf("%s: the DLQ keeps messages %v s, no longer than the queue (%v s)", c.name, d["MessageRetentionPeriod"], q["MessageRetentionPeriod"])
		}
		if _, ok := d["RedrivePolicy"]; ok {
			t.Errorf("%s: the DLQ has a DLQ itself", c.name)
		}
	}
	check(t, "queues encrypted", func() {
		s.template.AllResourcesProperties(jsii.String("AWS::SQS::Queue"), &map[string]any{"SqsManagedSseEnabled": true})
	})
	// EnforceSSL: each queue's policy denies requests without TLS.
	for id, r := range s.resources("AWS::SQS::QueuePolicy") {
		b, _ := json.Marshal(props(r)["PolicyDocument"])
		if !strings.Contains(string(b), `"aws:SecureTransport":"false"`) || !strings.Contains(string(b), `"Effect":"Deny"`) {
			t.Errorf("queue policy %s does not deny insecure transport: %s", id, b)
		}
	}
	if n := len(s.resources("AWS::SQS::QueuePolicy")); n != 4 {
		t.Errorf("%d queue policies, want 4 (TLS only on every queue)", n)
	}
}

// The processor consumes the inbound queue and the reply sender the outbound one,
// each reporting per-message failures, within its concurrency bound.
func TestEventSource(t *testing.T) {
	s := stack(t, devStack)
	processID, _ := s.function(t, "process")
	replyID, _ := s.function(t, "reply")
	inbound, _ := s.queues(t)
	type source struct {
		queue       string
		batch       float64
		window      any // nil: none
		concurrency float64
	}
	want := map[string]source{
		processID: {inbound, ProcessBatchSize, ProcessBatchWindow.Seconds(), ProcessMaxConcurrency},
		replyID:   {s.outbound(t), ReplyBatchSize, nil, ReplyMaxConcurrency},
	}
	got := map[string]source{}
	for id, esm := range s.resources("AWS::Lambda::EventSourceMapping") {
		p := props(esm)
		fn := refs(p["FunctionName"])
		if len(fn) != 1 {
			t.Fatalf("event source %s invokes %v", id, p["FunctionName"])
		}
		if got := strs(p["FunctionResponseTypes"]); !slices.Equal(got, []string{"ReportBatchItemFailures"}) {
			t.Errorf("%s: FunctionResponseTypes %v, want ReportBatchItemFailures", fn[0], got)
		}
		sc, _ := p["ScalingConfig"].(map[string]any)
		got[fn[0]] = source{refs(p["EventSourceArn"])[0], p["BatchSize"].(float64), p["MaximumBatchingWindowInSeconds"], sc["MaximumConcurrency"].(float64)}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("event sources %+v, want %+v", got, want)
	}
	// SQS event sources accept a maximum concurrency of 2 to 1000; the reply
	// sender's is the lowest, for X's per-user post limits.
	if ReplyMaxConcurrency != 2 {
		t.Errorf("ReplyMaxConcurrency %d, want 2", ReplyMaxConcurrency)
	}
}

func TestTable(t *testing.T) {
	s := stack(t, devStack)
	_, r := s.only(t, "AWS::DynamoDB::Table")
	p := props(r)
	in := store.TableInput("")

	keys := func(ks []types.KeySchemaElement) []any {
		var out []any
		for _, k := range ks {
			out = append(out, map[string]any{"AttributeName": *k.AttributeName, "KeyType": string(k.KeyType)})
		}
		return out
	}
	var attrs []any
	for _, a := range in.AttributeDefinitions {
		attrs = append(attrs, map[string]any{"AttributeName": *a.AttributeName, "AttributeType": string(a.AttributeType)})
	}
	var gsis []any
	for _, g := range in.GlobalSecondaryIndexes {
		proj := map[string]any{"ProjectionType": string(g.Projection.ProjectionType)}
		if len(g.Projection.NonKeyAttributes) > 0 {
			var nk []any
			for _, a := range g.Projection.NonKeyAttributes {
				nk = append(nk, a)
			}
			proj["NonKeyAttributes"] = nk
		}
		gsis = append(gsis, map[string]any{"IndexName": *g.IndexName, "KeySchema": keys(g.KeySchema), "Projection": proj})
	}
	if got, want := p["KeySchema"], keys(in.KeySchema); !reflect.DeepEqual(got, want) {
		t.Errorf("KeySchema %v, want %v", got, want)
	}
	if got := p["AttributeDefinitions"].([]any); !sameElements(got, attrs) {
		t.Errorf("AttributeDefinitions %v, want %v", got, attrs)
	}
	if got := p["GlobalSecondaryIndexes"]; !reflect.DeepEqual(got, gsis) {
		t.Errorf("GlobalSecondaryIndexes %v, want %v", got, gsis)
	}
	// The projection is the store's, attribute for attribute.
	if got := p["GlobalSecondaryIndexes"].([]any)[0].(map[string]any)["Projection"].(map[string]any)["NonKeyAttributes"]; !slices.Equal(strs(got), store.QueueProjection()) {
		t.Errorf("GSI1 projects %v, want store.QueueProjection() %v", got, store.QueueProjection())
	}
	if p["BillingMode"] != string(in.BillingMode) || p["BillingMode"] != "PAY_PER_REQUEST" {
		t.Errorf("BillingMode %v, want PAY_PER_REQUEST", p["BillingMode"])
	}
	check(t, "PITR, TTL, encryption", func() {
		s.template.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), &map[string]any{
			"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
			"TimeToLiveSpecification":          map[string]any{"AttributeName": store.TTLAttribute, "Enabled": true},
			"SSESpecification":                 map[string]any{"SSEEnabled": true},
		})
	})
}

func sameElements(a, b []any) bool {
	key := func(xs []any) []string {
		out := make([]string, len(xs))
		for i, x := range xs {
			j, _ := json.Marshal(x)
			out[i] = string(j)
		}
		sort.Strings(out)
		return out
	}
	return slices.Equal(key(a), key(b))
}

// The webhook and the health check are public (on the webhook function), the
// agent API is behind the JWT authorizer, and the console's files are public, on
// the agent API's function.
func TestRoutes(t *testing.T) {
	for _, id := range allStacks {
		s := stack(t, id)
		authID, auth := s.only(t, "AWS::ApiGatewayV2::Authorizer")
		webhookID, _ := s.function(t, "webhook")
		agentID, _ := s.function(t, "agentapi")
		integrations := map[string]string{} // integration -> function
		for iid, r := range s.resources("AWS::ApiGatewayV2::Integration") {
			p := props(r)
			if p["PayloadFormatVersion"] != "2.0" {
				t.Errorf("%s: integration %s payload format %v, want 2.0 (boot.APIGateway)", id, iid, p["PayloadFormatVersion"])
			}
			integrations[iid] = refs(p["IntegrationUri"])[0]
		}
		got := map[string]string{}
		for rid, r := range s.resources("AWS::ApiGatewayV2::Route") {
			p := props(r)
			key := p["RouteKey"].(string)
			target := integrations[refs(p["Target"])[0]]
			switch {
			case strings.Contains(key, " /v1/"):
				if p["AuthorizationType"] != "JWT" || !slices.Equal(refs(p["AuthorizerId"]), []string{authID}) {
					t.Errorf("%s: route %s (%s) is not behind the JWT authorizer: %v", id, key, rid, p)
				}
				if target != agentID {
					t.Errorf("%s: route %s goes to %s, want agentapi", id, key, target)
				}
			case strings.HasPrefix(key, "GET "+RouteConsole):
				// Static files: the agent signs in on them, then calls /v1/.
				if p["AuthorizationType"] != "NONE" || p["AuthorizerId"] != nil {
					t.Errorf("%s: console route %s has an authorizer (agents sign in on the console's pages): %v", id, key, p)
				}
				if target != agentID {
					t.Errorf("%s: route %s goes to %s, want agentapi (it serves the console)", id, key, target)
				}
			default:
				if p["AuthorizationType"] != "NONE" || p["AuthorizerId"] != nil {
					t.Errorf("%s: route %s has an authorizer (the webhook's auth is X's signature): %v", id, key, p)
				}
				if target != webhookID {
					t.Errorf("%s: route %s goes to %s, want webhook", id, key, target)
				}
			}
			got[key] = p["AuthorizationType"].(string)
		}
		want := map[string]string{
			"GET " + RouteWebhook:      "NONE",
			"POST " + RouteWebhook:     "NONE",
			"GET " + RouteHealth:       "NONE",
			"ANY " + RouteAgentAPI:     "JWT",
			"GET " + RouteConsole:      "NONE",
			"GET " + RouteConsoleFiles: "NONE",
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: routes %v, want %v", id, got, want)
		}

		jwt := props(auth)["JwtConfiguration"].(map[string]any)
		if props(auth)["AuthorizerType"] != "JWT" {
			t.Errorf("%s: authorizer type %v", id, props(auth)["AuthorizerType"])
		}
		switch id {
		case externalStack, externalConsoleStack:
			audience := []string{"pajarito-agents"}
			if id == externalConsoleStack {
				audience = append(audience, externalConsoleClient)
			}
			if jwt["Issuer"] != externalIssuer || !slices.Equal(strs(jwt["Audience"]), audience) {
				t.Errorf("%s: authorizer %v, want the external issuer and audience %v", id, jwt, audience)
			}
		default:
			clientID, _ := s.only(t, "AWS::Cognito::UserPoolClient")
			poolID, _ := s.only(t, "AWS::Cognito::UserPool")
			if got := refs(jwt["Audience"]); !slices.Equal(got, []string{clientID}) {
				t.Errorf("%s: audience %v, want the app client %s", id, got, clientID)
			}
			issuer, _ := json.Marshal(jwt["Issuer"])
			if !strings.Contains(string(issuer), `"https://cognito-idp."`) || !slices.Equal(refs(jwt["Issuer"]), []string{poolID}) {
				t.Errorf("%s: issuer %s, want https://cognito-idp.<region>.<suffix>/<pool>", id, issuer)
			}
		}
	}
	s := stack(t, devStack)
	check(t, "no self sign-up", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Cognito::UserPool"), &map[string]any{
			"AdminCreateUserConfig": map[string]any{"AllowAdminCreateUserOnly": true},
		})
	})
	check(t, "public app client", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Cognito::UserPoolClient"), &map[string]any{"GenerateSecret": false})
	})
	check(t, "stage: throttling and access logs", func() {
		s.template.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Stage"), &map[string]any{
			"StageName":  "$default",
			"AutoDeploy": true,
			"DefaultRouteSettings": map[string]any{
				"ThrottlingRateLimit":  float64(ThrottleRate),
				"ThrottlingBurstLimit": float64(ThrottleBurst),
			},
			"AccessLogSettings": map[string]any{
				"DestinationArn": assertions.Match_AnyValue(),
				"Format":         assertions.Match_SerializedJson(assertions.Match_ObjectLike(&map[string]any{"status": "$context.status", "routeKey": "$context.routeKey"})),
			},
		})
	})
}

// statement is one IAM policy statement, with the logical ids its resources name.
type statement struct {
	Effect    string
	Actions   []string
	Resources []string
	Wildcard  bool     // a resource is "*"
	Raw       []string // each resource as JSON
	Condition any
}

// roleStatements returns the identity policy statements of every role, by role
// logical id (inline policies of the role and AWS::IAM::Policy resources).
func (s *synthesized) roleStatements(t *testing.T) map[string][]statement {
	t.Helper()
	parse := func(doc any) []statement {
		var out []statement
		for _, st := range doc.(map[string]any)["Statement"].([]any) {
			st := st.(map[string]any)
			x := statement{Effect: st["Effect"].(string), Actions: strs(st["Action"]), Condition: st["Condition"]}
			if st["NotAction"] != nil || st["NotResource"] != nil {
				t.Errorf("NotAction/NotResource statement: %v", st)
			}
			for _, r := range func() []any {
				if l, ok := st["Resource"].([]any); ok {
					return l
				}
				return []any{st["Resource"]}
			}() {
				raw, _ := json.Marshal(r)
				x.Raw = append(x.Raw, string(raw))
				if r == "*" {
					x.Wildcard = true
					continue
				}
				x.Resources = append(x.Resources, refs(r)...)
			}
			out = append(out, x)
		}
		return out
	}
	out := map[string][]statement{}
	for id, r := range s.resources("AWS::IAM::Role") {
		p := props(r)
		if p["ManagedPolicyArns"] != nil {
			t.Errorf("role %s has managed policies %v: grant what it needs instead", id, p["ManagedPolicyArns"])
		}
		for _, pol := range func() []any { l, _ := p["Policies"].([]any); return l }() {
			out[id] = append(out[id], parse(pol.(map[string]any)["PolicyDocument"])...)
		}
		if _, ok := out[id]; !ok {
			out[id] = nil // a role with no inline policy still counts
		}
	}
	for id, r := range s.resources("AWS::IAM::Policy") {
		p := props(r)
		for _, role := range refs(p["Roles"]) {
			if _, ok := out[role]; !ok {
				t.Errorf("policy %s attached to unknown role %s", id, role)
			}
			out[role] = append(out[role], parse(p["PolicyDocument"])...)
		}
	}
	return out
}

// No identity policy allows a wildcard action, and "*" resources appear only for
// X-Ray (which has no resource-level permissions).
func TestIAMNoWildcards(t *testing.T) {
	for _, id := range allStacks {
		s := stack(t, id)
		for role, sts := range s.roleStatements(t) {
			for _, st := range sts {
				for _, a := range st.Actions {
					if strings.Contains(a, "*") {
						t.Errorf("%s: role %s: wildcard action %q", id, role, a)
					}
				}
				if st.Wildcard && !slices.ContainsFunc(st.Actions, func(a string) bool { return strings.HasPrefix(a, "xray:") }) {
					t.Errorf("%s: role %s: resource * for %v", id, role, st.Actions)
				}
				if st.Wildcard && slices.ContainsFunc(st.Actions, func(a string) bool { return !strings.HasPrefix(a, "xray:") }) {
					t.Errorf("%s: role %s: resource * mixes X-Ray with %v", id, role, st.Actions)
				}
			}
		}
	}
}

// Each function may do exactly what it needs, on exactly the resources it needs.
func TestIAMLeastPrivilege(t *testing.T) {
	s := stack(t, devStack)
	tableID, _ := s.only(t, "AWS::DynamoDB::Table")
	secretID, _ := s.only(t, "AWS::SecretsManager::Secret")
	topicID, _ := s.only(t, "AWS::SNS::Topic")
	inbound, dlq := s.queues(t)
	outbound, outboundDLQ := s.queue(t, "Outbound")
	keyID, _ := s.only(t, "AWS::KMS::Key")
	roles := s.roleStatements(t)

	table := map[string][]string{
		"dynamodb:GetItem":    {tableID},
		"dynamodb:Query":      {tableID}, // the table and its indexes (see below)
		"dynamodb:PutItem":    {tableID},
		"dynamodb:UpdateItem": {tableID},
	}
	xSecret := map[string][]string{
		"secretsmanager:GetSecretValue": {secretID},
		"secretsmanager:DescribeSecret": {secretID},
	}
	consume := func(q string) map[string][]string {
		return map[string][]string{
			"sqs:ReceiveMessage":          {q},
			"sqs:DeleteMessage":           {q},
			"sqs:ChangeMessageVisibility": {q},
			"sqs:GetQueueAttributes":      {q},
			"sqs:GetQueueUrl":             {q},
		}
	}
	publish := map[string][]string{"sns:Publish": {topicID}}
	merge := func(ms ...map[string][]string) map[string][]string {
		out := map[string][]string{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	// action -> resource logical ids.
	want := map[string]map[string][]string{
		"webhook": merge(xSecret, map[string][]string{"sqs:SendMessage": {inbound}}),
		// X Chat: the brand's keys and OAuth 2.0 token (refreshed), and the
		// conversation keys sealed (TestXChatKey checks the condition).
		"process": merge(table, consume(inbound), publish, xSecret, map[string][]string{"sqs:SendMessage": sorted(dlq, outbound),
			"secretsmanager:PutSecretValue": {secretID}, "kms:Encrypt": {keyID}, "kms:Decrypt": {keyID}}),
		// Replies to the outbound queue; quarantined deliveries back to the inbound
		// queue; dead letters back to theirs with SQS's move tasks.
		"agentapi": merge(table, publish, map[string][]string{
			"sqs:SendMessage":          sorted(outbound, inbound),
			"sqs:StartMessageMoveTask": sorted(dlq, outboundDLQ),
			"sqs:ListMessageMoveTasks": sorted(dlq, outboundDLQ),
			"sqs:ReceiveMessage":       sorted(dlq, outboundDLQ),
			"sqs:DeleteMessage":        sorted(dlq, outboundDLQ),
			// The health checks: the queues' depth, X as the brand, the alarms.
			"sqs:GetQueueAttributes":        sorted(dlq, outboundDLQ, inbound, outbound),
			"secretsmanager:GetSecretValue": {secretID},
			"secretsmanager:DescribeSecret": {secretID},
			"secretsmanager:PutSecretValue": {secretID}, // the OAuth 2.0 token, refreshed
			"cloudwatch:DescribeAlarms":     nil,        // the stack's alarms, checked below
		}),
		"listen": merge(table, xSecret, map[string][]string{"sqs:SendMessage": {inbound}}),
		"reply": merge(table, xSecret, consume(outbound), publish, map[string][]string{
			"secretsmanager:PutSecretValue": {secretID}, "kms:Decrypt": {keyID}}),
		// Each run keeps the brand's OAuth 2.0 token fresh (X Chat).
		"monitor": merge(table, publish, xSecret, map[string][]string{"sqs:SendMessage": {outbound}, "secretsmanager:PutSecretValue": {secretID}}),
	}
	if len(want) != len(Functions()) {
		t.Errorf("the test knows the grants of %d functions, the stack deploys %d", len(want), len(Functions()))
	}
	for name, actions := range want {
		_, fn := s.function(t, name)
		role := refs(fn["Role"])[0]
		logGroup := refs(fn["LoggingConfig"].(map[string]any)["LogGroup"])[0]
		actions["logs:CreateLogStream"] = []string{logGroup}
		actions["logs:PutLogEvents"] = []string{logGroup}

		got := map[string][]string{}
		for _, st := range roles[role] {
			if st.Effect != "Allow" {
				continue
			}
			for _, a := range st.Actions {
				got[a] = append(got[a], st.Resources...)
			}
		}
		for a := range got {
			slices.Sort(got[a])
			got[a] = slices.Compact(got[a])
		}
		if !reflect.DeepEqual(got, actions) {
			t.Errorf("%s may do\n\t%v\nwant\n\t%v", name, got, actions)
		}
		if name == "webhook" {
			for a := range got {
				if strings.HasPrefix(a, "dynamodb:") {
					t.Errorf("the webhook may touch DynamoDB: %s", a)
				}
			}
		}
	}

	// The agent API's health checks list the stack's own alarms, no others.
	_, agentFn := s.function(t, "agentapi")
	alarms := 0
	for _, st := range roles[refs(agentFn["Role"])[0]] {
		if !slices.Contains(st.Actions, "cloudwatch:DescribeAlarms") {
			continue
		}
		for _, r := range st.Raw {
			alarms++
			if !strings.Contains(r, `:alarm:Dev-*"`) {
				t.Errorf("the agent API may list the alarms %s, want the stack's own (alarm:Dev-*)", r)
			}
		}
	}
	if alarms == 0 {
		t.Error("the agent API may not list the stack's alarms: GET /v1/health cannot report them")
	}

	// The processor may make every data call the store makes (store.API, less the
	// table management calls used for local tables).
	_, fn := s.function(t, "process")
	var granted []string
	for _, st := range roles[refs(fn["Role"])[0]] {
		granted = append(granted, st.Actions...)
	}
	api := reflect.TypeFor[store.API]()
	for i := range api.NumMethod() {
		m := api.Method(i).Name
		if m == "CreateTable" || m == "DescribeTable" {
			continue
		}
		if !slices.Contains(granted, "dynamodb:"+m) {
			t.Errorf("the store calls %s but the processor may not", m)
		}
	}

	// Every function that queries may query each index, by name, and nothing
	// else is allowed on the indexes.
	var indexes []string
	for _, g := range store.TableInput("").GlobalSecondaryIndexes {
		indexes = append(indexes, *g.IndexName)
	}
	if len(indexes) == 0 {
		t.Fatal("store.TableInput has no index: this check checks nothing")
	}
	for name, actions := range want {
		if _, ok := actions["dynamodb:Query"]; !ok {
			continue
		}
		_, fn := s.function(t, name)
		var queried []string
		for _, st := range roles[refs(fn["Role"])[0]] {
			for _, r := range st.Raw {
				if !strings.Contains(r, "/index/") {
					continue
				}
				if !slices.Equal(st.Actions, []string{"dynamodb:Query"}) {
					t.Errorf("%s may do %v on an index (%s): Query only", name, st.Actions, r)
				}
				if strings.Contains(r, "/index/*") {
					t.Errorf("%s: index wildcard %s: name the indexes", name, r)
				}
				queried = append(queried, r)
			}
		}
		for _, index := range indexes {
			if !slices.ContainsFunc(queried, func(r string) bool { return strings.Contains(r, `"/index/`+index+`"`) }) {
				t.Errorf("%s may query the table but not its index %s: %v", name, index, queried)
			}
		}
	}
}

// TestXChatKey: the X Chat conversation keys are sealed with a key of the
// stack's own, rotated, kept in production, that the functions may use with
// the conversation keys' encryption context only (xchatopen.SealPurpose).
func TestXChatKey(t *testing.T) {
	for _, tt := range []struct{ stack, policy string }{{devStack, "Delete"}, {prodStack, "Retain"}} {
		s := stack(t, tt.stack)
		_, key := s.only(t, "AWS::KMS::Key")
		if props(key)["EnableKeyRotation"] != true {
			t.Errorf("%s: X Chat key rotation %v, want on", tt.stack, props(key)["EnableKeyRotation"])
		}
		if got := key["DeletionPolicy"]; got != tt.policy {
			t.Errorf("%s: X Chat key deletion policy %v, want %s", tt.stack, got, tt.policy)
		}
	}
	s := stack(t, devStack)
	keyID, _ := s.only(t, "AWS::KMS::Key")
	roles := s.roleStatements(t)
	uses := 0
	for name := range map[string]bool{"process": true, "reply": true} {
		_, fn := s.function(t, name)
		for _, st := range roles[refs(fn["Role"])[0]] {
			if !slices.ContainsFunc(st.Actions, func(a string) bool { return strings.HasPrefix(a, "kms:") }) {
				continue
			}
			uses++
			want := map[string]any{"StringEquals": map[string]any{"kms:EncryptionContext:purpose": xchatopen.SealPurpose}}
			if !reflect.DeepEqual(st.Condition, want) || !slices.Equal(st.Resources, []string{keyID}) {
				t.Errorf("%s may do %v on %v under %v; want the X Chat key under %v", name, st.Actions, st.Resources, st.Condition, want)
			}
		}
	}
	if uses != 2 {
		t.Errorf("%d KMS statements for process and reply, want 2", uses)
	}
}

func TestTracingGrants(t *testing.T) {
	s := stack(t, prodStack)
	roles := s.roleStatements(t)
	for _, f := range Functions() {
		_, fn := s.function(t, f.Name)
		var actions []string
		for _, st := range roles[refs(fn["Role"])[0]] {
			actions = append(actions, st.Actions...)
		}
		if !slices.Contains(actions, "xray:PutTraceSegments") {
			t.Errorf("prod %s traces but may not put trace segments: %v", f.Name, actions)
		}
	}
}

var secretish = regexp.MustCompile(`(?i)secret|token|password|passwd|private|api_?key|credential`)

// No secret value is in the template: the secret is generated by CloudFormation,
// and no function gets a credential in its environment, only the secret's id.
func TestNoSecretValues(t *testing.T) {
	for _, id := range allStacks {
		s := stack(t, id)
		secretID, secret := s.only(t, "AWS::SecretsManager::Secret")
		p := props(secret)
		if _, ok := p["SecretString"]; ok {
			t.Errorf("%s: the secret has a SecretString in the template", id)
		}
		if _, ok := p["GenerateSecretString"]; !ok {
			t.Errorf("%s: the secret is not generated: %v", id, p)
		}
		b, _ := json.Marshal(s.raw)
		// A dynamic reference would put the secret's value in a resource's
		// properties at deploy time (a function's environment, say).
		for _, key := range []string{`"SecretString"`, `"SecretBinary"`, `"ClientSecret"`, `{{resolve:secretsmanager`, `{{resolve:ssm-secure`} {
			if strings.Contains(string(b), key) {
				t.Errorf("%s: the template contains %s", id, key)
			}
		}
		for fid, fn := range s.resources("AWS::Lambda::Function") {
			env, _ := props(fn)["Environment"].(map[string]any)
			vars, _ := env["Variables"].(map[string]any)
			for k, v := range vars {
				if !secretish.MatchString(k) {
					continue
				}
				if k != settings.EnvXSecretID || !reflect.DeepEqual(v, map[string]any{"Ref": secretID}) {
					t.Errorf("%s: function %s has %s=%v in its environment", id, fid, k, v)
				}
			}
		}
	}
}

func TestOutputs(t *testing.T) {
	s := stack(t, devStack)
	for _, o := range []string{"WebhookUrl", "ApiUrl", "ConsoleUrl", "UserPoolId", "UserPoolClientId", "SignInDomain", "AgentGroups", "XSecretName", "AlertTopicArn", "TableName", "DashboardUrl"} {
		check(t, "output "+o, func() { s.template.HasOutput(jsii.String(o), &map[string]any{"Value": assertions.Match_AnyValue()}) })
	}
	url, _ := json.Marshal(s.raw["Outputs"].(map[string]any)["WebhookUrl"])
	if !strings.Contains(string(url), `"`+RouteWebhook+`"`) {
		t.Errorf("WebhookUrl %s does not end in %s", url, RouteWebhook)
	}
	domainID, _ := s.only(t, "AWS::Cognito::UserPoolDomain")
	if got, want := join(t, s.raw["Outputs"].(map[string]any)["SignInDomain"].(map[string]any)["Value"]), "https://"+domainID+".auth.AWS::Region.amazoncognito.com"; got != want {
		t.Errorf("SignInDomain %s, want %s", got, want)
	}
	poolID, _ := s.only(t, "AWS::Cognito::UserPool")
	if got := join(t, s.raw["Outputs"].(map[string]any)["AgentGroups"].(map[string]any)["Value"]); !strings.HasPrefix(got, "admin, agent, contributor: ") ||
		!strings.Contains(got, "admin-add-user-to-group --user-pool-id "+poolID+" ") {
		t.Errorf("AgentGroups %q, want the groups and the command that adds a person to one, with the pool's id", got)
	}
	for _, id := range allStacks {
		st := stack(t, id)
		apiID, _ := st.only(t, "AWS::ApiGatewayV2::Api")
		check(t, id+": output ConsoleUrl", func() {
			st.template.HasOutput(jsii.String("ConsoleUrl"), &map[string]any{"Value": consoleURLOf(apiID)})
		})
		outputs := st.raw["Outputs"].(map[string]any)
		cognito := id == devStack || id == prodStack
		for _, o := range []string{"UserPoolId", "UserPoolClientId", "SignInDomain", "AgentGroups"} {
			if _, ok := outputs[o]; ok != cognito {
				t.Errorf("%s: output %s present %v, want %v (Cognito only)", id, o, ok, cognito)
			}
		}
	}
}

// consoleURLOf is <ApiEndpoint>/console/ of the HTTP API apiID, as the template
// writes it.
func consoleURLOf(apiID string) map[string]any {
	return map[string]any{"Fn::Join": []any{"", []any{map[string]any{"Fn::GetAtt": []any{apiID, "ApiEndpoint"}}, console.Prefix}}}
}

// With the stack's Cognito user pool, the console signs agents in with the
// authorization code flow (PKCE, no secret) on the pool's app client, at the
// pool's own domain with managed login, and Cognito sends them back to the
// console; the CLI and scripts keep signing in with SRP or the password.
func TestAgentSignIn(t *testing.T) {
	for _, c := range []struct {
		stack string
		// prefix is the domain prefix, as the template writes it.
		prefix any
		// extra are the console's addresses besides <ApiEndpoint>/console/.
		extra []any
	}{
		{devStack, map[string]any{"Fn::Join": []any{"-", []any{"dev", map[string]any{"Ref": "AWS::AccountId"}}}}, nil},
		{prodStack, prodDomainPrefix, []any{prodConsoleURL}},
	} {
		s := stack(t, c.stack)
		apiID, _ := s.only(t, "AWS::ApiGatewayV2::Api")
		poolID, _ := s.only(t, "AWS::Cognito::UserPool")
		clientID, _ := s.only(t, "AWS::Cognito::UserPoolClient")
		urls := append([]any{consoleURLOf(apiID)}, c.extra...)
		check(t, c.stack+": app client", func() {
			s.template.HasResourceProperties(jsii.String("AWS::Cognito::UserPoolClient"), &map[string]any{
				"UserPoolId":                      map[string]any{"Ref": poolID},
				"AllowedOAuthFlows":               []any{"code"}, // no implicit grant
				"AllowedOAuthFlowsUserPoolClient": true,
				"AllowedOAuthScopes":              []any{"openid", "email", "profile"},
				"CallbackURLs":                    urls,
				"LogoutURLs":                      urls,
				"SupportedIdentityProviders":      []any{"COGNITO"},
				"ExplicitAuthFlows":               assertions.Match_ArrayWith(&[]any{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH"}),
				"GenerateSecret":                  false,
				// Minutes: access and ID tokens for an hour, refresh tokens for 30 days.
				"AccessTokenValidity":   60.0,
				"IdTokenValidity":       60.0,
				"RefreshTokenValidity":  30 * 24 * 60.0,
				"EnableTokenRevocation": true,
			})
		})
		check(t, c.stack+": sign-in domain with managed login", func() {
			s.template.HasResourceProperties(jsii.String("AWS::Cognito::UserPoolDomain"), &map[string]any{
				"UserPoolId":          map[string]any{"Ref": poolID},
				"Domain":              c.prefix,
				"ManagedLoginVersion": 2.0,
				"CustomDomainConfig":  assertions.Match_Absent(),
			})
		})
		check(t, c.stack+": the client's managed login style", func() {
			s.template.HasResourceProperties(jsii.String("AWS::Cognito::ManagedLoginBranding"), &map[string]any{
				"UserPoolId":               map[string]any{"Ref": poolID},
				"ClientId":                 map[string]any{"Ref": clientID},
				"UseCognitoProvidedValues": true,
				"Settings":                 assertions.Match_Absent(),
				"Assets":                   assertions.Match_Absent(),
			})
		})
	}
}

// With the stack's Cognito user pool, each role (issue 19) is a group of the
// pool, named after it, saying what it may do, the most allowed first; an
// external issuer has its own groups, and the stack creates none.
func TestRoleGroups(t *testing.T) {
	if got := roleGroupNames(); got != "admin, agent, contributor" {
		t.Errorf("roles %q, want admin, agent, contributor", got)
	}
	// The groups are the agent API's roles, in its order.
	if len(RoleGroups) != len(agentroles.Roles) {
		t.Fatalf("%d groups for the agent API's %d roles", len(RoleGroups), len(agentroles.Roles))
	}
	for i, r := range agentroles.Roles {
		if RoleGroups[i].Name != string(r) {
			t.Errorf("group %d is %q, the agent API's role %d is %q", i, RoleGroups[i].Name, i, r)
		}
	}
	for _, id := range []string{devStack, prodStack} {
		s := stack(t, id)
		poolID, _ := s.only(t, "AWS::Cognito::UserPool")
		byName := map[string]map[string]any{}
		for _, r := range s.resources("AWS::Cognito::UserPoolGroup") {
			byName[fmt.Sprint(props(r)["GroupName"])] = props(r)
		}
		if len(byName) != len(RoleGroups) {
			t.Errorf("%s: groups %v, want %s", id, slices.Sorted(maps.Keys(byName)), roleGroupNames())
		}
		for i, g := range RoleGroups {
			p := byName[g.Name]
			if p == nil {
				t.Errorf("%s: no group %s", id, g.Name)
				continue
			}
			if d, _ := p["Description"].(string); d != g.Description || len(d) < 40 || !strings.Contains(d, g.Name) {
				t.Errorf("%s: group %s's description %q, want what the role may do (%q)", id, g.Name, d, g.Description)
			}
			if !reflect.DeepEqual(p["UserPoolId"], map[string]any{"Ref": poolID}) {
				t.Errorf("%s: group %s is in %v, want the user pool %s", id, g.Name, p["UserPoolId"], poolID)
			}
			if p["Precedence"] != float64(i) {
				t.Errorf("%s: group %s's precedence %v, want %d", id, g.Name, p["Precedence"], i)
			}
		}
	}
	for _, id := range []string{externalStack, externalConsoleStack} {
		if n := len(stack(t, id).resources("AWS::Cognito::UserPoolGroup")); n != 0 {
			t.Errorf("%s: %d Cognito groups with an external issuer, want none", id, n)
		}
	}
}

// The agent API reads the person's role from the claim settings.EnvRoleClaim
// names: cognito:groups with the stack's user pool, the external issuer's
// StackProps.RoleClaim ("groups" by default) otherwise. No other function gets
// it.
func TestRoleClaim(t *testing.T) {
	for id, want := range map[string]string{
		devStack:             CognitoRoleClaim,
		prodStack:            CognitoRoleClaim,
		externalStack:        DefaultRoleClaim,
		externalConsoleStack: externalRoleClaim,
	} {
		s := stack(t, id)
		for _, f := range Functions() {
			_, p := s.function(t, f.Name)
			got, ok := p["Environment"].(map[string]any)["Variables"].(map[string]any)[settings.EnvRoleClaim]
			switch {
			case f.Name == AgentAPIFunction.Name && got != want:
				t.Errorf("%s: agentapi %s=%v, want %q", id, settings.EnvRoleClaim, got, want)
			case f.Name != AgentAPIFunction.Name && ok:
				t.Errorf("%s: %s has %s=%v, want it on agentapi only", id, f.Name, settings.EnvRoleClaim, got)
			}
		}
	}
	for _, c := range []struct {
		props StackProps
		want  string
	}{
		{StackProps{}, ""}, // the stack's user pool: cognito:groups, whatever the props
		{StackProps{JWTIssuer: externalIssuer}, DefaultRoleClaim},
		{StackProps{JWTIssuer: externalIssuer, RoleClaim: "roles"}, "roles"},
	} {
		if got := c.props.withDefaults().RoleClaim; got != c.want {
			t.Errorf("%+v: default role claim %q, want %q", c.props, got, c.want)
		}
	}
	bad := StackProps{JWTIssuer: externalIssuer, JWTAudience: []string{"pajarito-agents"}, RoleClaim: "roles\t"}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), CtxRoleClaim) {
		t.Errorf("a role claim with a tab: %v, want an error naming %s", err, CtxRoleClaim)
	}
}

// The agent API serves the console the settings it signs agents in with
// (settings.EnvConsole): Cognito's issuer, the app client and the endpoints on the
// pool's domain; an external issuer and the console's client there; or nothing
// (a pasted token). The function accepts them (agentapi.Console).
func TestConsoleSettings(t *testing.T) {
	// Deploy-time values for the references, so that the settings can be read as
	// the function reads them.
	const region = "eu-west-1"
	value := func(ref string) string {
		switch ref {
		case "AWS::Region":
			return region
		case "AWS::URLSuffix":
			return "amazonaws.com"
		}
		return strings.ToLower(ref)
	}
	for _, id := range allStacks {
		s := stack(t, id)
		_, fn := s.function(t, "agentapi")
		v, ok := fn["Environment"].(map[string]any)["Variables"].(map[string]any)[settings.EnvConsole]
		var want map[string]string
		switch id {
		case devStack, prodStack:
			poolID, _ := s.only(t, "AWS::Cognito::UserPool")
			clientID, _ := s.only(t, "AWS::Cognito::UserPoolClient")
			domainID, _ := s.only(t, "AWS::Cognito::UserPoolDomain")
			signIn := "https://" + value(domainID) + ".auth." + region + ".amazoncognito.com"
			want = map[string]string{
				"issuer":                 "https://cognito-idp." + region + ".amazonaws.com/" + value(poolID),
				"client_id":              value(clientID),
				"scopes":                 "openid email profile",
				"authorization_endpoint": signIn + "/oauth2/authorize",
				"token_endpoint":         signIn + "/oauth2/token",
				"end_session_endpoint":   signIn + "/logout",
			}
			// Resolved at deploy: a join of the pool's, the client's and the
			// domain's references.
			check(t, id+": "+settings.EnvConsole+" refers to the pool, the client and the domain", func() {
				s.template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), &map[string]any{
					"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{
						settings.EnvConsole: map[string]any{"Fn::Join": []any{"", assertions.Match_ArrayWith(&[]any{
							assertions.Match_StringLikeRegexp(jsii.String(`"client_id":"$`)), map[string]any{"Ref": clientID},
						})}},
					})},
				})
			})
			if got := refs(v); !slices.Contains(got, poolID) || !slices.Contains(got, domainID) {
				t.Errorf("%s: %s refers to %v, want the pool %s and the domain %s too", id, settings.EnvConsole, got, poolID, domainID)
			}
		case externalConsoleStack:
			want = map[string]string{"issuer": externalIssuer, "client_id": externalConsoleClient}
		case externalStack:
			if ok {
				t.Errorf("%s: %s=%v without a console client: want it unset (the console asks for a token)", id, settings.EnvConsole, v)
			}
			continue
		}
		if !ok {
			t.Errorf("%s: the agent API has no %s", id, settings.EnvConsole)
			continue
		}
		raw := joinWith(t, v, value)
		var got map[string]string
		if err := json.Unmarshal([]byte(raw), &got); err != nil {
			t.Errorf("%s: %s is not a JSON object of strings: %v\n%s", id, settings.EnvConsole, err, raw)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %s\n\t%v\nwant\n\t%v", id, settings.EnvConsole, got, want)
		}
		if _, err := agentapi.Console(func(k string) string { return map[string]string{settings.EnvConsole: raw}[k] }); err != nil {
			t.Errorf("%s: the agent API would not start with %s=%s: %v", id, settings.EnvConsole, raw, err)
		}
	}
}

// Every alarm tells the alert topic when it goes off and when it clears, says
// what to do, and the stack has exactly these: a DLQ holding a message, a function
// failing, the HTTP API answering 5xx, a queue's oldest message too old, the
// listener's runs overlapping, cases unanswered past their first-response target.
func TestAlarms(t *testing.T) {
	s := stack(t, devStack)
	inbound, inboundDLQ := s.queue(t, "Inbound")
	outbound, outboundDLQ := s.queue(t, "Outbound")
	topicID, _ := s.only(t, "AWS::SNS::Topic")
	apiID, _ := s.only(t, "AWS::ApiGatewayV2::Api")
	accessLogs := ""
	for id := range s.resources("AWS::Logs::LogGroup") {
		if strings.HasPrefix(id, "ApiAccessLogs") {
			accessLogs = id
		}
	}
	listenID, _ := s.function(t, "listen")

	// What each alarm watches: "namespace metric dimension-resource" (Pajarito's
	// own metrics: "namespace metric", they have no dimension) -> the
	// alarm's statistic, comparison, threshold, evaluation periods and datapoints,
	// and a resource its description must name (a log group).
	type rule struct {
		stat, comparison   string
		threshold          float64
		periods, datapoint float64
		names              string
	}
	sustained := func(names string) rule {
		return rule{"Sum", "GreaterThanOrEqualToThreshold", 1, AlarmPeriods, AlarmDatapoints, names}
	}
	want := map[string]rule{
		"AWS/SQS ApproximateNumberOfMessagesVisible " + inboundDLQ:  {"Maximum", "GreaterThanThreshold", 0, 1, 1, ""},
		"AWS/SQS ApproximateNumberOfMessagesVisible " + outboundDLQ: {"Maximum", "GreaterThanThreshold", 0, 1, 1, ""},
		"AWS/SQS ApproximateAgeOfOldestMessage " + inbound:          {"Maximum", "GreaterThanThreshold", InboundMaxAge.Seconds(), 1, 1, ""},
		"AWS/SQS ApproximateAgeOfOldestMessage " + outbound:         {"Maximum", "GreaterThanThreshold", OutboundMaxAge.Seconds(), 1, 1, ""},
		"AWS/ApiGateway 5xx " + apiID:                               sustained(accessLogs),
		"AWS/Lambda Throttles " + listenID:                          {"Sum", "GreaterThanOrEqualToThreshold", 1, AlarmPeriods, AlarmPeriods, ""},
		// Cases past their first-response target (the monitor), in 2 of 3 periods.
		MetricNamespace + " " + MetricUnanswered: {"Maximum", "GreaterThanThreshold", 0, AlarmPeriods, AlarmDatapoints, ""},
	}
	for _, f := range Functions() {
		id, fn := s.function(t, f.Name)
		want["AWS/Lambda Errors "+id] = sustained(refs(fn["LoggingConfig"].(map[string]any)["LogGroup"])[0])
	}

	got := map[string]rule{}
	for id, alarm := range s.resources("AWS::CloudWatch::Alarm") {
		p := props(alarm)
		dims := refs(p["Dimensions"])
		key := fmt.Sprint(p["Namespace"], " ", p["MetricName"])
		switch {
		case p["Namespace"] == MetricNamespace && p["Dimensions"] == nil:
		case len(dims) == 1:
			key += " " + dims[0]
		default:
			t.Errorf("alarm %s: dimensions %v, want one resource", id, p["Dimensions"])
			continue
		}
		w, ok := want[key]
		if !ok {
			t.Errorf("alarm %s watches %s, which the test does not know", id, key)
			continue
		}
		datapoints, _ := p["DatapointsToAlarm"].(float64)
		if datapoints == 0 {
			datapoints = p["EvaluationPeriods"].(float64)
		}
		r := rule{p["Statistic"].(string), p["ComparisonOperator"].(string), p["Threshold"].(float64), p["EvaluationPeriods"].(float64), datapoints, ""}
		description, _ := json.Marshal(p["AlarmDescription"])
		if w.names != "" && slices.Contains(refs(p["AlarmDescription"]), w.names) {
			r.names = w.names
		}
		got[key] = r
		if got, want := refs(p["AlarmActions"]), []string{topicID}; !slices.Equal(got, want) {
			t.Errorf("alarm %s notifies %v, want the alert topic %s", key, got, topicID)
		}
		if got, want := refs(p["OKActions"]), []string{topicID}; !slices.Equal(got, want) {
			t.Errorf("alarm %s tells %v when it clears, want the alert topic %s", key, got, topicID)
		}
		if p["TreatMissingData"] != "notBreaching" {
			t.Errorf("alarm %s: TreatMissingData %v, want notBreaching (no traffic is no failure)", key, p["TreatMissingData"])
		}
		if len(description) < 120 || len(description) > 1024 {
			t.Errorf("alarm %s: description of %d characters, want what to look at and what to do (up to 1024): %s", key, len(description), description)
		}
		if period := p["Period"].(float64); period > AlarmPeriod.Seconds() {
			t.Errorf("alarm %s: period %v s", key, period)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("alarms\n\t%v\nwant\n\t%v", got, want)
	}
	check(t, "alert topic TLS only", func() {
		s.template.HasResourceProperties(jsii.String("AWS::SNS::TopicPolicy"), &map[string]any{
			"PolicyDocument": assertions.Match_ObjectLike(&map[string]any{
				"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
					"Effect":    "Deny",
					"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
				})}),
			}),
		})
	})
}

// join renders an intrinsic string expression with each reference replaced by
// the logical id it names (Ref) or <id>.<attribute> (Fn::GetAtt).
func join(t *testing.T, v any) string {
	t.Helper()
	return joinWith(t, v, func(ref string) string { return ref })
}

// joinWith renders an intrinsic string expression with each reference replaced
// by value(<logical id>) (Ref, pseudo parameters included) or
// value(<id>.<attribute>) (Fn::GetAtt).
func joinWith(t *testing.T, v any, value func(ref string) string) string {
	t.Helper()
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		if r, ok := v["Ref"].(string); ok {
			return value(r)
		}
		if ga, ok := v["Fn::GetAtt"].([]any); ok {
			return value(ga[0].(string) + "." + ga[1].(string))
		}
		if j, ok := v["Fn::Join"].([]any); ok {
			var parts []string
			for _, p := range j[1].([]any) {
				parts = append(parts, joinWith(t, p, value))
			}
			return strings.Join(parts, j[0].(string))
		}
	}
	t.Fatalf("not a string expression: %v", v)
	return ""
}

// The dashboard shows the care, X, the queues, the functions, the API and the
// alarms, with the metrics the functions emit (names, namespace and dimensions).
func TestDashboard(t *testing.T) {
	s := stack(t, devStack)
	_, r := s.only(t, "AWS::CloudWatch::Dashboard")
	var body struct {
		Widgets []struct {
			Type       string `json:"type"`
			Properties struct {
				Title   string  `json:"title"`
				Metrics [][]any `json:"metrics"`
				Alarms  []string
			} `json:"properties"`
		} `json:"widgets"`
	}
	raw := join(t, props(r)["DashboardBody"])
	if err := json.Unmarshal([]byte(raw), &body); err != nil {
		t.Fatalf("dashboard body: %v\n%s", err, raw)
	}
	metrics := map[string]bool{} // "namespace name dim=value,..." and "expression"
	var alarms []string
	for _, w := range body.Widgets {
		alarms = append(alarms, w.Properties.Alarms...)
		for _, m := range w.Properties.Metrics {
			if opts, ok := m[0].(map[string]any); ok {
				metrics[fmt.Sprint(opts["expression"])] = true
				continue
			}
			key := fmt.Sprint(m[0], " ", m[1])
			for i := 2; i+1 < len(m); i += 2 {
				name, ok := m[i].(string)
				if !ok {
					break
				}
				key += fmt.Sprint(" ", name, "=", m[i+1])
			}
			metrics[key] = true
		}
	}

	inbound, inboundDLQ := s.queue(t, "Inbound")
	outbound, outboundDLQ := s.queue(t, "Outbound")
	apiID, _ := s.only(t, "AWS::ApiGatewayV2::Api")
	want := []string{
		// Care: the metrics the process, reply and monitor functions are to emit.
		`SEARCH('{Pajarito,Intent} MetricName="Messages"', 'Sum', 300)`,
		"Pajarito FirstResponseSeconds",
		"Pajarito OpenCases",
		"Pajarito " + MetricUnanswered,
		"Pajarito " + MetricUnansweredOverHardLimit,
		"Pajarito ActiveCrises",
		`SEARCH('{Pajarito,Topic} MetricName="ActiveCrises"', 'Maximum', 300)`,
		// X: the listener's metrics (shared/listen), dimension Source.
		`SEARCH('{Pajarito,Source} MetricName="EstimatedCostUSD"', 'Sum', 3600)`,
		`SUM(SEARCH('{Pajarito,Source} MetricName="EstimatedCostUSD"', 'Sum', 3600))`,
		`SEARCH('{Pajarito,Source} MetricName="PostsRead"', 'Sum', 300)`,
		`SEARCH('{Pajarito,Source} MetricName="BudgetSlowed"', 'Maximum', 300)`,
		"AWS/ApiGateway Count ApiId=" + apiID,
		"AWS/ApiGateway 4xx ApiId=" + apiID,
		"AWS/ApiGateway 5xx ApiId=" + apiID,
		"AWS/ApiGateway Latency ApiId=" + apiID,
	}
	for _, q := range []string{inbound, outbound, inboundDLQ, outboundDLQ} {
		want = append(want, "AWS/SQS ApproximateNumberOfMessagesVisible QueueName="+q+".QueueName")
	}
	for _, q := range []string{inbound, outbound} {
		want = append(want, "AWS/SQS ApproximateAgeOfOldestMessage QueueName="+q+".QueueName")
	}
	for _, f := range Functions() {
		id, _ := s.function(t, f.Name)
		for _, m := range []string{"Errors", "Duration", "Throttles"} {
			want = append(want, "AWS/Lambda "+m+" FunctionName="+id)
		}
	}
	for _, m := range want {
		if !metrics[m] {
			t.Errorf("the dashboard does not show %s", m)
		}
	}
	if t.Failed() {
		t.Logf("it shows %v", slices.Sorted(maps.Keys(metrics)))
	}
	var alarmIDs []string
	for id := range s.resources("AWS::CloudWatch::Alarm") {
		alarmIDs = append(alarmIDs, id+".Arn")
	}
	if !slices.Equal(sorted(alarms...), sorted(alarmIDs...)) {
		t.Errorf("the dashboard's alarm widget shows %v, want every alarm %v", alarms, alarmIDs)
	}

	// The listener and the monitor emit the metrics the dashboard reads (package
	// emf, namespace MetricNamespace), under these names and dimensions.
	for pkg, res := range map[string][]string{
		"../shared/listen": {
			`"` + DimSource + `":\s*r\.Source`,
			`Name:\s*"` + MetricPostsRead + `"`,
			`Name:\s*"` + MetricEstimatedCost + `"`,
			`Name:\s*"` + MetricBudgetSlowed + `"`,
		},
		"../shared/monitor": {
			`"` + DimTopic + `":\s*t\b`,
			`Name:\s*"` + MetricActiveCrises + `"`,
			`Name:\s*"` + MetricUnanswered + `"`,
			`Name:\s*"` + MetricUnansweredOverHardLimit + `"`,
		},
	} {
		// The package's source, tests left out.
		files, err := filepath.Glob(filepath.Join(pkg, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", pkg, err)
		}
		var src []byte
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			src = append(src, b...)
		}
		if !strings.Contains(string(src), "emf.Write(") {
			t.Errorf("%s does not write its metrics with package emf", pkg)
		}
		for _, re := range res {
			if !regexp.MustCompile(re).Match(src) {
				t.Errorf("%s does not emit %s: the dashboard's widget would be empty", pkg, re)
			}
		}
	}
}

// The listener and the monitor run on EventBridge Scheduler at their intervals,
// one run at a time, and a run that cannot start is dropped rather than retried.
// Each schedule's role may invoke its function and nothing else.
func TestSchedules(t *testing.T) {
	s := stack(t, devStack)
	roles := s.roleStatements(t)
	targets := map[string]map[string]any{} // function id -> schedule
	for _, r := range s.resources("AWS::Scheduler::Schedule") {
		p := props(r)
		targets[refs(p["Target"].(map[string]any)["Arn"])[0]] = p
	}
	invokeConfigs := map[string]map[string]any{} // function id -> config
	for _, r := range s.resources("AWS::Lambda::EventInvokeConfig") {
		invokeConfigs[refs(props(r)["FunctionName"])[0]] = props(r)
	}
	for _, c := range []struct {
		f    Function
		rate string
	}{
		{ListenFunction, "rate(1 minute)"}, // pajarito.json's default poll_interval
		{MonitorFunction, "rate(1 minute)"},
	} {
		id, p := s.function(t, c.f.Name)
		if got := p["ReservedConcurrentExecutions"]; got != 1.0 {
			t.Errorf("%s reserved concurrency %v, want 1", c.f.Name, got)
		}
		sched := targets[id]
		if sched == nil {
			t.Errorf("no schedule invokes %s", c.f.Name)
			continue
		}
		if got := sched["ScheduleExpression"]; got != c.rate {
			t.Errorf("%s: schedule %v, want %s", c.f.Name, got, c.rate)
		}
		target := sched["Target"].(map[string]any)
		if rp := target["RetryPolicy"].(map[string]any); rp["MaximumRetryAttempts"] != 0.0 {
			t.Errorf("%s: schedule retries %v, want 0", c.f.Name, rp)
		}
		role := refs(target["RoleArn"])[0]
		for _, st := range roles[role] {
			if !slices.Equal(st.Actions, []string{"lambda:InvokeFunction"}) || !slices.Equal(slices.Compact(st.Resources), []string{id}) || st.Wildcard {
				t.Errorf("%s: the schedule's role may %v on %v", c.f.Name, st.Actions, st.Raw)
			}
		}
		trust, _ := json.Marshal(props(s.resources("AWS::IAM::Role")[role])["AssumeRolePolicyDocument"])
		if !strings.Contains(string(trust), `"Service":"scheduler.amazonaws.com"`) || !strings.Contains(string(trust), `"aws:SourceAccount"`) {
			t.Errorf("%s: the schedule's role trusts %s, want EventBridge Scheduler on behalf of this account", c.f.Name, trust)
		}
		cfg := invokeConfigs[id]
		if cfg["MaximumRetryAttempts"] != 0.0 || cfg["MaximumEventAgeInSeconds"] != 60.0 {
			t.Errorf("%s async invoke config %v, want no retries and 60 s of event age", c.f.Name, cfg)
		}
	}
	if len(targets) != 2 {
		t.Errorf("%d schedules, want 2", len(targets))
	}
	for _, p := range []StackProps{{PollInterval: 90 * time.Second}, {MonitorInterval: 90 * time.Second}} {
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "whole minutes") {
			t.Errorf("%+v: %v, want a whole-minutes error", p, err)
		}
	}
}

// The stacks pass cdk-nag's AWS Solutions rules, which `cdk synth` applies too
// (main.go): no error or warning is left on any construct (an error stops
// `cdk synth` and `cdk deploy`), and the rules suppressed are exactly these, each
// where the stack says why (the reasons are in the code, next to the resources).
func TestNag(t *testing.T) {
	roleFindings := func(ids ...string) []string {
		var out []string
		for _, id := range ids {
			out = append(out, "AwsSolutions-IAM5 "+id+"/DefaultPolicy/Resource")
		}
		return out
	}
	common := append([]string{
		"AwsSolutions-SMG4 XCredentials/Resource",
		"AwsSolutions-APIG4 Api/GET--webhooks--x/Resource",
		"AwsSolutions-APIG4 Api/POST--webhooks--x/Resource",
		"AwsSolutions-APIG4 Api/GET--healthz/Resource",
		"AwsSolutions-APIG4 Api/GET--console/Resource",
		"AwsSolutions-APIG4 Api/GET--console--{proxy+}/Resource",
	}, roleFindings("ListenScheduleRole", "MonitorScheduleRole",
		"AgentApiRole", // the stack's alarms, <stack name>-*, for GET /v1/health
	)...)
	cognito := []string{"AwsSolutions-COG2 Agents/Resource", "AwsSolutions-COG3 Agents/Resource"}
	var tracing []string // X-Ray's Resource "*" on every function's role
	for _, f := range Functions() {
		tracing = append(tracing, roleFindings(f.ID+"Role")...)
	}
	for id, suppressed := range map[string][]string{
		devStack:             slices.Concat(common, cognito),
		prodStack:            slices.Concat(common, cognito, tracing),
		externalStack:        common,
		externalConsoleStack: common,
	} {
		s := stack(t, id)
		for _, m := range s.messages {
			if m.level == "error" || m.level == "warning" {
				t.Errorf("%s: %s at %s: %s", id, m.level, m.path, m.text)
			}
		}
		if len(s.nagReport) < 2 || !slices.Equal(s.nagReport[0], []string{"Rule ID", "Resource ID", "Compliance", "Exception Reason", "Rule Level", "Rule Info"}) {
			t.Fatalf("%s: cdk-nag's report: %v", id, s.nagReport[:min(2, len(s.nagReport))])
		}
		var got []string
		checked := map[string]bool{}
		for _, r := range s.nagReport[1:] {
			checked[r[0]] = true
			finding := r[0] + " " + strings.TrimPrefix(r[1], id+"/")
			switch r[2] {
			case "Compliant":
			case "Suppressed":
				got = append(got, finding)
				if len(r[3]) < 60 {
					t.Errorf("%s: %s suppressed with a thin reason: %q", id, finding, r[3])
				}
			default:
				t.Errorf("%s: %s: %s (%s)", id, finding, r[2], r[5])
			}
		}
		// The rules of the resources that hold or move data were checked.
		for _, rule := range []string{"AwsSolutions-DDB3", "AwsSolutions-SQS2", "AwsSolutions-SQS3", "AwsSolutions-SQS4", "AwsSolutions-SNS3",
			"AwsSolutions-IAM4", "AwsSolutions-IAM5", "AwsSolutions-APIG1", "AwsSolutions-APIG4", "AwsSolutions-SMG4"} {
			if !checked[rule] {
				t.Errorf("%s: cdk-nag did not check %s", id, rule)
			}
		}
		if !slices.Equal(sorted(got...), sorted(suppressed...)) {
			t.Errorf("%s: cdk-nag findings suppressed\n\t%v\nwant\n\t%v", id, sorted(got...), sorted(suppressed...))
		}
	}
}

// The context keys of the console's sign-in are read as `-c` strings and as
// cdk.json values, and a value the stack cannot deploy is an error that names
// the key and the rule.
func TestPropsFromContext(t *testing.T) {
	external := map[string]any{CtxJWTIssuer: externalIssuer, CtxJWTAudience: "pajarito-agents"}
	with := func(base map[string]any, kv ...any) map[string]any {
		out := maps.Clone(base)
		if out == nil {
			out = map[string]any{}
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	// What the cases look at.
	type got struct {
		JWTAudience, ConsoleURLs                     []string
		ConsoleClientID, AuthDomainPrefix, RoleClaim string
	}
	for _, c := range []struct {
		name string
		ctx  map[string]any
		want got
		// errs are the substrings of the error, none when empty.
		errs []string
	}{
		{name: "nothing set", ctx: nil},
		{name: "audiences, comma-separated", ctx: with(external, CtxJWTAudience, " a, b ,,"),
			want: got{JWTAudience: []string{"a", "b"}}},
		{name: "audiences, JSON array", ctx: with(external, CtxJWTAudience, []any{"a", " b "}),
			want: got{JWTAudience: []string{"a", "b"}}},
		{name: "console client at the external issuer", ctx: with(external, CtxConsoleClientID, " pajarito-console "),
			want: got{JWTAudience: []string{"pajarito-agents"}, ConsoleClientID: "pajarito-console"}},
		{name: "console client without an external issuer", ctx: with(nil, CtxConsoleClientID, "pajarito-console"),
			errs: []string{CtxConsoleClientID, CtxJWTIssuer}},
		{name: "domain prefix", ctx: with(nil, CtxAuthDomainPrefix, "care-example-2"),
			want: got{AuthDomainPrefix: "care-example-2"}},
		{name: "domain prefix with an upper-case letter", ctx: with(nil, CtxAuthDomainPrefix, "Care"),
			errs: []string{CtxAuthDomainPrefix + `="Care"`, "lowercase letters, digits and hyphens"}},
		{name: "domain prefix with a dot", ctx: with(nil, CtxAuthDomainPrefix, "care.example"),
			errs: []string{CtxAuthDomainPrefix, "lowercase letters, digits and hyphens"}},
		{name: "domain prefix starting with a hyphen", ctx: with(nil, CtxAuthDomainPrefix, "-care"),
			errs: []string{CtxAuthDomainPrefix, "neither starts nor ends with a hyphen"}},
		{name: "domain prefix of 64 characters", ctx: with(nil, CtxAuthDomainPrefix, strings.Repeat("a", 64)),
			errs: []string{CtxAuthDomainPrefix, "1 to 63"}},
		{name: "domain prefix of 63 characters", ctx: with(nil, CtxAuthDomainPrefix, strings.Repeat("p", 63)),
			want: got{AuthDomainPrefix: strings.Repeat("p", 63)}},
		{name: "domain prefix with aws", ctx: with(nil, CtxAuthDomainPrefix, "care-aws-prod"),
			errs: []string{CtxAuthDomainPrefix, `may not contain "aws"`}},
		{name: "domain prefix with amazon", ctx: with(nil, CtxAuthDomainPrefix, "amazonia-care"),
			errs: []string{CtxAuthDomainPrefix, `may not contain "amazon"`}},
		{name: "domain prefix with cognito", ctx: with(nil, CtxAuthDomainPrefix, "care-cognito"),
			errs: []string{CtxAuthDomainPrefix, `may not contain "cognito"`}},
		{name: "domain prefix with an external issuer", ctx: with(external, CtxAuthDomainPrefix, "care"),
			errs: []string{CtxAuthDomainPrefix, CtxJWTIssuer, "no Cognito user pool"}},
		{name: "console URLs, comma-separated", ctx: with(nil, CtxConsoleURLs, "https://care.example.com/console/, https://example.com/care/console/"),
			want: got{ConsoleURLs: []string{"https://care.example.com/console/", "https://example.com/care/console/"}}},
		{name: "console URLs, JSON array", ctx: with(nil, CtxConsoleURLs, []any{"https://care.example.com/console/"}),
			want: got{ConsoleURLs: []string{"https://care.example.com/console/"}}},
		{name: "console URL over http", ctx: with(nil, CtxConsoleURLs, "http://care.example.com/console/"),
			errs: []string{CtxConsoleURLs, `"http://care.example.com/console/" is not an https URL ending in /console/`}},
		{name: "console URL without the console's path", ctx: with(nil, CtxConsoleURLs, "https://care.example.com"),
			errs: []string{CtxConsoleURLs, "https URL ending in /console/"}},
		{name: "console URL with a fragment", ctx: with(nil, CtxConsoleURLs, "https://care.example.com/console/#x"),
			errs: []string{CtxConsoleURLs, "https URL ending in /console/"}},
		{name: "console URLs, not strings", ctx: with(nil, CtxConsoleURLs, []any{1.0}),
			errs: []string{CtxConsoleURLs, "want strings"}},
		{name: "console URLs, not a list", ctx: with(nil, CtxConsoleURLs, true),
			errs: []string{CtxConsoleURLs, "comma-separated string or a list"}},
		{name: "role claim at the external issuer", ctx: with(external, CtxRoleClaim, " https://care.example.com/roles "),
			want: got{JWTAudience: []string{"pajarito-agents"}, RoleClaim: "https://care.example.com/roles"}},
		{name: "role claim with a space", ctx: with(external, CtxRoleClaim, "care roles"),
			errs: []string{CtxRoleClaim + `="care roles"`, "no spaces"}},
		{name: "role claim, not a string", ctx: with(external, CtxRoleClaim, []any{"groups"}),
			errs: []string{CtxRoleClaim, "want a string"}},
		{name: "role claim without an external issuer", ctx: with(nil, CtxRoleClaim, "groups"),
			errs: []string{CtxRoleClaim + `="groups"`, CtxJWTIssuer, "the role is in the claim cognito:groups"}},
		{name: "Cognito's role claim without an external issuer", ctx: with(nil, CtxRoleClaim, CognitoRoleClaim),
			want: got{RoleClaim: CognitoRoleClaim}},
		{name: "console URLs with an external issuer", ctx: with(external, CtxConsoleURLs, "https://care.example.com/console/"),
			errs: []string{CtxConsoleURLs, CtxJWTIssuer, CtxConsoleClientID}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := PropsFromContext(func(key string) any { return c.ctx[key] })
			if len(c.errs) == 0 {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if g := (got{p.JWTAudience, p.ConsoleURLs, p.ConsoleClientID, p.AuthDomainPrefix, p.RoleClaim}); !reflect.DeepEqual(g, c.want) {
					t.Errorf("props %+v, want %+v", g, c.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want one with %q", c.errs)
			}
			for _, e := range c.errs {
				if !strings.Contains(err.Error(), e) {
					t.Errorf("error %q does not say %q", err, e)
				}
			}
		})
	}
}

// The default domain prefix is the stack's name made valid, and stays valid
// with the account id after it.
func TestDefaultAuthDomainPrefix(t *testing.T) {
	for name, want := range map[string]string{
		StackID:                   "pajarito",
		"Dev":                     "dev",
		"Pajarito-Care2":          "pajarito-care2",
		"Pajarito_AWS-Care":       "pajarito-care",
		"CognitoAmazonAws":        "pajarito", // nothing left
		"aawsws":                  "pajarito", // "aws" again once "aws" is taken out
		"my--Stack-":              "my-stack",
		strings.Repeat("ab-", 40): strings.TrimSuffix(strings.Repeat("ab-", 17), "-"),
	} {
		got := defaultAuthDomainPrefix(name)
		if got != want {
			t.Errorf("defaultAuthDomainPrefix(%q) = %q, want %q", name, got, want)
		}
		if err := checkAuthDomainPrefix(got + "-123456789012"); err != nil {
			t.Errorf("defaultAuthDomainPrefix(%q) = %q: with an account id: %v", name, got, err)
		}
	}
}
