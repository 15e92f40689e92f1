package main

import (
	"encoding/json"
	"fmt"
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

	"github.com/pajarito-care/pajarito/shared/store"
	"github.com/pajarito-care/pajarito/shared/wire"
)

// The stacks are synthesized once per test binary (a synthesis costs seconds), in
// one app: a dev stack with the defaults, a prod stack with tracing and an alert
// email, and a dev stack trusting an external JWT issuer.
const (
	devStack      = "Dev"
	prodStack     = "Prod"
	externalStack = "External"

	externalIssuer = "https://login.example.com/realms/care"
)

// synthesized is one stack's template, as raw JSON and for the assertions library.
type synthesized struct {
	raw      map[string]any
	template assertions.Template
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
	NewStack(app, prodStack, StackProps{AssetDir: assets, Environment: Prod, Tracing: true, AlertEmail: "care-alerts@example.com"})
	NewStack(app, externalStack, StackProps{AssetDir: assets, Environment: Dev, JWTIssuer: externalIssuer, JWTAudience: []string{"pajarito-agents"}})
	asm := app.Synth(nil)
	stacks = map[string]*synthesized{}
	for _, id := range []string{devStack, prodStack, externalStack} {
		b, err := json.Marshal(asm.GetStackArtifact(jsii.String(id)).Template())
		if err != nil {
			return err
		}
		var raw map[string]any
		if err := json.Unmarshal(b, &raw); err != nil {
			return err
		}
		stacks[id] = &synthesized{raw: raw, template: assertions.Template_FromJSON(&raw, nil)}
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

// queues returns the logical ids of the inbound queue (the one with a redrive
// policy) and of its DLQ.
func (s *synthesized) queues(t *testing.T) (inbound, dlq string) {
	t.Helper()
	for id, r := range s.resources("AWS::SQS::Queue") {
		if rp, ok := props(r)["RedrivePolicy"].(map[string]any); ok && strings.HasPrefix(id, "Inbound") {
			inbound = id
			dlq = refs(rp["deadLetterTargetArn"])[0]
		}
	}
	if inbound == "" || dlq == "" {
		t.Fatal("no queue with a redrive policy")
	}
	return inbound, dlq
}

// outbound returns the logical id of the outbound queue.
func (s *synthesized) outbound(t *testing.T) string {
	t.Helper()
	for id, r := range s.resources("AWS::SQS::Queue") {
		if _, ok := props(r)["RedrivePolicy"]; ok && strings.HasPrefix(id, "Outbound") {
			return id
		}
	}
	t.Fatal("no outbound queue")
	return ""
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
	for typ, n := range map[string]int{
		"AWS::Lambda::Function":           len(Functions()),
		"AWS::Lambda::EventSourceMapping": 1,
		"AWS::IAM::Role":                  len(Functions()) + 1, // + the schedule's
		"AWS::Scheduler::Schedule":        1,
		"AWS::Lambda::EventInvokeConfig":  1,
		"AWS::SQS::Queue":                 4, // inbound, outbound and their DLQs
		"AWS::DynamoDB::Table":            1,
		"AWS::ApiGatewayV2::Api":          1,
		"AWS::ApiGatewayV2::Stage":        1,
		"AWS::ApiGatewayV2::Route":        4,
		"AWS::ApiGatewayV2::Integration":  2,
		"AWS::ApiGatewayV2::Authorizer":   1,
		"AWS::Cognito::UserPool":          1,
		"AWS::Cognito::UserPoolClient":    1,
		"AWS::SecretsManager::Secret":     1,
		"AWS::SNS::Topic":                 1,
		"AWS::SNS::Subscription":          0,
		"AWS::CloudWatch::Alarm":          2,
		"AWS::Logs::LogGroup":             len(Functions()) + 1, // + API access logs
		"AWS::IAM::ManagedPolicy":         0,
	} {
		check(t, typ, func() { s.template.ResourceCountIs(jsii.String(typ), jsii.Number(n)) })
	}
	ext := stack(t, externalStack)
	check(t, "external issuer: no user pool", func() { ext.template.ResourceCountIs(jsii.String("AWS::Cognito::UserPool"), jsii.Number(0)) })
	check(t, "external issuer: authorizer", func() { ext.template.ResourceCountIs(jsii.String("AWS::ApiGatewayV2::Authorizer"), jsii.Number(1)) })
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

// Every function in functions/ is deployed (or knowingly not yet), and the stack
// deploys nothing else.
func TestEveryFunctionDeployed(t *testing.T) {
	entries, err := os.ReadDir("../functions")
	if err != nil {
		t.Fatal(err)
	}
	var dirs, deployed []string
	for _, e := range entries {
		if e.IsDir() && notDeployedYet[e.Name()] == "" {
			dirs = append(dirs, e.Name())
		}
	}
	for _, f := range Functions() {
		deployed = append(deployed, f.Name)
	}
	sort.Strings(deployed)
	if !slices.Equal(dirs, deployed) {
		t.Errorf("functions/ holds %v (less those not deployed yet), the stack deploys %v", dirs, deployed)
	}
	for name := range notDeployedYet {
		if slices.Contains(deployed, name) {
			t.Errorf("%s is deployed: take it off notDeployedYet", name)
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
}

func TestEnvironment(t *testing.T) {
	s := stack(t, devStack)
	tableID, _ := s.only(t, "AWS::DynamoDB::Table")
	secretID, _ := s.only(t, "AWS::SecretsManager::Secret")
	inbound, dlq := s.queues(t)
	want := map[string]map[string]string{
		"webhook":  {wire.EnvInboundQueue: inbound, wire.EnvXSecretID: secretID},
		"process":  {wire.EnvTable: tableID, wire.EnvInboundDLQ: dlq, wire.EnvOutboundQueue: s.outbound(t)},
		"agentapi": {wire.EnvTable: tableID},
		"listen":   {wire.EnvTable: tableID, wire.EnvInboundQueue: inbound, wire.EnvXSecretID: secretID},
	}
	for name, vars := range want {
		_, p := s.function(t, name)
		env := p["Environment"].(map[string]any)["Variables"].(map[string]any)
		got := map[string]string{}
		for k, v := range env {
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

func TestQueues(t *testing.T) {
	s := stack(t, devStack)
	inbound, dlq := s.queues(t)
	q := props(s.resources("AWS::SQS::Queue")[inbound])
	rp := q["RedrivePolicy"].(map[string]any)
	if rp["maxReceiveCount"] != float64(MaxReceiveCount) || MaxReceiveCount != 5 {
		t.Errorf("redrive maxReceiveCount %v, want 5", rp["maxReceiveCount"])
	}
	_, process := s.function(t, "process")
	timeout := process["Timeout"].(float64)
	if vis := q["VisibilityTimeout"].(float64); vis < 6*timeout {
		t.Errorf("inbound visibility timeout %v s < 6 x the processor's timeout %v s", vis, timeout)
	}
	d := props(s.resources("AWS::SQS::Queue")[dlq])
	if d["MessageRetentionPeriod"].(float64) <= q["MessageRetentionPeriod"].(float64) {
		t.Errorf("the DLQ keeps messages %v s, no longer than the inbound queue (%v s)", d["MessageRetentionPeriod"], q["MessageRetentionPeriod"])
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

func TestEventSource(t *testing.T) {
	s := stack(t, devStack)
	processID, _ := s.function(t, "process")
	inbound, _ := s.queues(t)
	_, esm := s.only(t, "AWS::Lambda::EventSourceMapping")
	p := props(esm)
	if got := refs(p["FunctionName"]); !slices.Equal(got, []string{processID}) {
		t.Errorf("event source invokes %v, want the processor %s", got, processID)
	}
	if got := refs(p["EventSourceArn"]); !slices.Equal(got, []string{inbound}) {
		t.Errorf("event source reads %v, want the inbound queue %s", got, inbound)
	}
	if got := strs(p["FunctionResponseTypes"]); !slices.Equal(got, []string{"ReportBatchItemFailures"}) {
		t.Errorf("FunctionResponseTypes %v, want ReportBatchItemFailures", got)
	}
	if p["BatchSize"] != float64(ProcessBatchSize) || p["MaximumBatchingWindowInSeconds"] != ProcessBatchWindow.Seconds() {
		t.Errorf("batch size %v, window %v", p["BatchSize"], p["MaximumBatchingWindowInSeconds"])
	}
	if sc, _ := p["ScalingConfig"].(map[string]any); sc["MaximumConcurrency"] != float64(ProcessMaxConcurrency) {
		t.Errorf("scaling %v, want maximum concurrency %d", sc, ProcessMaxConcurrency)
	}
	vis := props(s.resources("AWS::SQS::Queue")[inbound])["VisibilityTimeout"].(float64)
	if want := 6*ProcessFunction.Timeout.Seconds() + ProcessBatchWindow.Seconds(); vis < want {
		t.Errorf("visibility %v s < 6 x timeout + batching window = %v s", vis, want)
	}
}

// The table is the one store.TableInput describes, plus what CreateTable cannot say.
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

func TestRoutes(t *testing.T) {
	for _, id := range []string{devStack, externalStack} {
		s := stack(t, id)
		authID, auth := s.only(t, "AWS::ApiGatewayV2::Authorizer")
		webhookID, _ := s.function(t, "webhook")
		agentID, _ := s.function(t, "agentapi")
		integrations := map[string]string{} // integration -> function
		for iid, r := range s.resources("AWS::ApiGatewayV2::Integration") {
			p := props(r)
			if p["PayloadFormatVersion"] != "2.0" {
				t.Errorf("%s: integration %s payload format %v, want 2.0 (wire.APIGateway)", id, iid, p["PayloadFormatVersion"])
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
			"GET " + RouteWebhook:  "NONE",
			"POST " + RouteWebhook: "NONE",
			"GET " + RouteHealth:   "NONE",
			"ANY " + RouteAgentAPI: "JWT",
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: routes %v, want %v", id, got, want)
		}

		jwt := props(auth)["JwtConfiguration"].(map[string]any)
		if props(auth)["AuthorizerType"] != "JWT" {
			t.Errorf("%s: authorizer type %v", id, props(auth)["AuthorizerType"])
		}
		switch id {
		case externalStack:
			if jwt["Issuer"] != externalIssuer || !slices.Equal(strs(jwt["Audience"]), []string{"pajarito-agents"}) {
				t.Errorf("%s: authorizer %v, want the external issuer and audience", id, jwt)
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
	Wildcard  bool // a resource is "*"
}

// roleStatements returns the identity policy statements of every role, by role
// logical id (inline policies of the role and AWS::IAM::Policy resources).
func (s *synthesized) roleStatements(t *testing.T) map[string][]statement {
	t.Helper()
	parse := func(doc any) []statement {
		var out []statement
		for _, st := range doc.(map[string]any)["Statement"].([]any) {
			st := st.(map[string]any)
			x := statement{Effect: st["Effect"].(string), Actions: strs(st["Action"])}
			if st["NotAction"] != nil || st["NotResource"] != nil {
				t.Errorf("NotAction/NotResource statement: %v", st)
			}
			for _, r := range func() []any {
				if l, ok := st["Resource"].([]any); ok {
					return l
				}
				return []any{st["Resource"]}
			}() {
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
	for _, id := range []string{devStack, prodStack, externalStack} {
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
	inbound, dlq := s.queues(t)
	roles := s.roleStatements(t)

	// action -> resource logical ids.
	want := map[string]map[string][]string{
		"webhook": {
			"sqs:SendMessage":               {inbound},
			"secretsmanager:GetSecretValue": {secretID},
			"secretsmanager:DescribeSecret": {secretID},
		},
		"process": {
			"dynamodb:GetItem":            {tableID},
			"dynamodb:Query":              {tableID},
			"dynamodb:PutItem":            {tableID},
			"dynamodb:UpdateItem":         {tableID},
			"sqs:SendMessage":             sorted(dlq, s.outbound(t)),
			"sqs:ReceiveMessage":          {inbound},
			"sqs:DeleteMessage":           {inbound},
			"sqs:ChangeMessageVisibility": {inbound},
			"sqs:GetQueueAttributes":      {inbound},
			"sqs:GetQueueUrl":             {inbound},
		},
		"agentapi": {
			"dynamodb:GetItem": {tableID},
			"dynamodb:Query":   {tableID},
		},
		"listen": {
			"dynamodb:GetItem":              {tableID},
			"dynamodb:Query":                {tableID},
			"dynamodb:PutItem":              {tableID},
			"dynamodb:UpdateItem":           {tableID},
			"sqs:SendMessage":               {inbound},
			"secretsmanager:GetSecretValue": {secretID},
			"secretsmanager:DescribeSecret": {secretID},
		},
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
	for _, id := range []string{devStack, prodStack, externalStack} {
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
				if k != wire.EnvXSecretID || !reflect.DeepEqual(v, map[string]any{"Ref": secretID}) {
					t.Errorf("%s: function %s has %s=%v in its environment", id, fid, k, v)
				}
			}
		}
	}
}

func TestOutputs(t *testing.T) {
	s := stack(t, devStack)
	for _, o := range []string{"WebhookUrl", "ApiUrl", "UserPoolId", "UserPoolClientId", "XSecretName", "AlertTopicArn", "TableName"} {
		check(t, "output "+o, func() { s.template.HasOutput(jsii.String(o), &map[string]any{"Value": assertions.Match_AnyValue()}) })
	}
	url, _ := json.Marshal(s.raw["Outputs"].(map[string]any)["WebhookUrl"])
	if !strings.Contains(string(url), `"`+RouteWebhook+`"`) {
		t.Errorf("WebhookUrl %s does not end in %s", url, RouteWebhook)
	}
	ext := stack(t, externalStack).raw["Outputs"].(map[string]any)
	if _, ok := ext["UserPoolId"]; ok {
		t.Error("external issuer: UserPoolId output without a user pool")
	}
}

func TestAlarms(t *testing.T) {
	s := stack(t, devStack)
	_, inboundDLQ := s.queues(t)
	outboundDLQ := refs(props(s.resources("AWS::SQS::Queue")[s.outbound(t)])["RedrivePolicy"].(map[string]any)["deadLetterTargetArn"])[0]
	topicID, _ := s.only(t, "AWS::SNS::Topic")
	var watched []string
	for _, alarm := range s.resources("AWS::CloudWatch::Alarm") {
		p := props(alarm)
		if p["Namespace"] != "AWS/SQS" || p["MetricName"] != "ApproximateNumberOfMessagesVisible" ||
			p["Threshold"] != 0.0 || p["ComparisonOperator"] != "GreaterThanThreshold" {
			t.Errorf("DLQ alarm %v", p)
		}
		watched = append(watched, refs(p["Dimensions"])...)
		if got := refs(p["AlarmActions"]); !slices.Equal(got, []string{topicID}) {
			t.Errorf("the alarm notifies %v, want the alert topic %s", got, topicID)
		}
	}
	if !slices.Equal(sorted(watched...), sorted(inboundDLQ, outboundDLQ)) {
		t.Errorf("the alarms watch %v, want both DLQs %s, %s", watched, inboundDLQ, outboundDLQ)
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

// Production keeps its data (and refuses to delete it); dev stacks leave nothing.
func TestRemovalPolicies(t *testing.T) {
	stateful := []string{"AWS::DynamoDB::Table", "AWS::Cognito::UserPool", "AWS::SecretsManager::Secret", "AWS::Logs::LogGroup"}
	for id, want := range map[string]string{prodStack: "Retain", devStack: "Delete"} {
		s := stack(t, id)
		for _, typ := range stateful {
			for rid, r := range s.resources(typ) {
				if r["DeletionPolicy"] != want || r["UpdateReplacePolicy"] != want {
					t.Errorf("%s: %s %s: DeletionPolicy %v, UpdateReplacePolicy %v, want %s", id, typ, rid, r["DeletionPolicy"], r["UpdateReplacePolicy"], want)
				}
			}
		}
		prod := id == prodStack
		_, table := s.only(t, "AWS::DynamoDB::Table")
		if got := props(table)["DeletionProtectionEnabled"] == true; got != prod {
			t.Errorf("%s: table deletion protection %v, want %v", id, got, prod)
		}
		_, pool := s.only(t, "AWS::Cognito::UserPool")
		if got := props(pool)["DeletionProtection"] == "ACTIVE"; got != prod {
			t.Errorf("%s: user pool deletion protection %v, want %v", id, props(pool)["DeletionProtection"], prod)
		}
	}
}

func TestPropsFromContext(t *testing.T) {
	ctx, err := cdkContext()
	if err != nil {
		t.Fatal(err)
	}
	get := func(m map[string]any) func(string) any { return func(k string) any { return m[k] } }
	p, err := PropsFromContext(get(ctx))
	if err != nil {
		t.Fatalf("cdk.json's context: %v", err)
	}
	if p = p.withDefaults(); p.Environment != Prod || p.AssetDir != DefaultAssetDir || p.Tracing || p.AlertEmail != "" || p.JWTIssuer != "" {
		t.Errorf("cdk.json's context gives %+v, want a production stack with the defaults", p)
	}

	p, err = PropsFromContext(get(map[string]any{
		CtxEnv: "dev", CtxAlertEmail: "ops@example.com", CtxTracing: "true", CtxAssets: "out",
		CtxJWTIssuer: "https://id.example.com/", CtxJWTAudience: "a, b",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := StackProps{AssetDir: "out", Environment: Dev, AlertEmail: "ops@example.com", JWTIssuer: "https://id.example.com/", JWTAudience: []string{"a", "b"}, Tracing: true}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got %+v, want %+v", p, want)
	}
	p, err = PropsFromContext(get(map[string]any{CtxJWTIssuer: "https://id.example.com/", CtxJWTAudience: []any{"x"}, CtxTracing: true}))
	if err != nil || !slices.Equal(p.JWTAudience, []string{"x"}) || !p.Tracing {
		t.Errorf("JSON context: %+v, %v", p, err)
	}

	for name, bad := range map[string]map[string]any{
		"env":               {CtxEnv: "staging"},
		"issuer only":       {CtxJWTIssuer: "https://id.example.com/"},
		"audience only":     {CtxJWTAudience: "a"},
		"http issuer":       {CtxJWTIssuer: "http://id.example.com/", CtxJWTAudience: "a"},
		"tracing":           {CtxTracing: "yes"},
		"email":             {CtxAlertEmail: "ops"},
		"audience not list": {CtxJWTIssuer: "https://id.example.com/", CtxJWTAudience: 3.0},
	} {
		if _, err := PropsFromContext(get(bad)); err == nil {
			t.Errorf("%s: %v accepted", name, bad)
		}
	}
}

func TestCheckAssets(t *testing.T) {
	dir := t.TempDir()
	err := CheckAssets(dir)
	if err == nil || !strings.Contains(err.Error(), "make build") || !strings.Contains(err.Error(), filepath.Join(dir, "webhook", "bootstrap")) {
		t.Errorf("CheckAssets on an empty folder: %v", err)
	}
	for _, f := range Functions() {
		os.MkdirAll(filepath.Join(dir, f.Name), 0o755)
		os.WriteFile(filepath.Join(dir, f.Name, "bootstrap"), nil, 0o755)
	}
	if err := CheckAssets(dir); err != nil {
		t.Errorf("CheckAssets with every bootstrap: %v", err)
	}
}

// The listener runs on EventBridge Scheduler at the configured poll interval, one
// run at a time, and a run that cannot start is dropped rather than retried.
func TestListenSchedule(t *testing.T) {
	s := stack(t, devStack)
	listenID, p := s.function(t, "listen")
	if got := p["ReservedConcurrentExecutions"]; got != 1.0 {
		t.Errorf("listen reserved concurrency %v, want 1", got)
	}
	_, r := s.only(t, "AWS::Scheduler::Schedule")
	sched := props(r)
	if got := sched["ScheduleExpression"]; got != "rate(1 minute)" {
		t.Errorf("schedule %v, want rate(1 minute) (pajarito.json's default poll_interval)", got)
	}
	target := sched["Target"].(map[string]any)
	if r := refs(target["Arn"]); len(r) != 1 || r[0] != listenID {
		t.Errorf("schedule target %v, want the listen function %s", target["Arn"], listenID)
	}
	if rp := target["RetryPolicy"].(map[string]any); rp["MaximumRetryAttempts"] != 0.0 {
		t.Errorf("schedule retries %v, want 0", rp)
	}
	_, r = s.only(t, "AWS::Lambda::EventInvokeConfig")
	cfg := props(r)
	if cfg["MaximumRetryAttempts"] != 0.0 || cfg["MaximumEventAgeInSeconds"] != 60.0 {
		t.Errorf("listen async invoke config %v, want no retries and 60 s of event age", cfg)
	}
	if err := (StackProps{PollInterval: 90 * time.Second}).Validate(); err == nil || !strings.Contains(err.Error(), "whole minutes") {
		t.Errorf("a 90 s poll interval: %v, want a whole-minutes error", err)
	}
}
