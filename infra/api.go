package main

import (
	"encoding/json"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

// Default stage throttling of the HTTP API (requests per second, and burst). X
// delivers one request per event, agents a few per minute each: 100/s is some
// 250x the average at 1M inbound messages a month, and still caps what a flood of
// forged webhook calls (each one a Lambda invocation before its signature is
// rejected) can cost.
const (
	ThrottleRate  = 100
	ThrottleBurst = 200
)

// Routes of the HTTP API, the same as the local dev system's (wire.Routes).
const (
	RouteWebhook  = "/webhooks/x"
	RouteHealth   = "/healthz"
	RouteAgentAPI = "/v1/{proxy+}"
)

// agentAuth is how the agent API authenticates: a JWT authorizer trusting either
// the stack's Cognito user pool (UserPool and Client set) or an external issuer.
type agentAuth struct {
	Authorizer awsapigatewayv2authorizers.HttpJwtAuthorizer
	UserPool   awscognito.UserPool
	Client     awscognito.UserPoolClient
}

// newAgentAuth creates the JWT authorizer of the agent API. Without an external
// issuer it creates a Cognito user pool for the agents: no self sign-up (an admin
// creates each agent), email sign-in, optional TOTP MFA, recovery by email; and
// an app client without secret (CLI, browser) that signs in with SRP or, for
// scripts and the CLI, with the password over TLS. API Gateway checks a Cognito
// access token's client_id against the audience.
func (b *builder) newAgentAuth() agentAuth {
	if b.props.JWTIssuer != "" {
		return agentAuth{Authorizer: awsapigatewayv2authorizers.NewHttpJwtAuthorizer(
			jsii.String("AgentJwt"), jsii.String(b.props.JWTIssuer),
			&awsapigatewayv2authorizers.HttpJwtAuthorizerProps{JwtAudience: jsii.Strings(b.props.JWTAudience...)},
		)}
	}
	pool := awscognito.NewUserPool(b.stack, jsii.String("Agents"), &awscognito.UserPoolProps{
		SelfSignUpEnabled: jsii.Bool(false),
		SignInAliases:     &awscognito.SignInAliases{Email: jsii.Bool(true)},
		AutoVerify:        &awscognito.AutoVerifiedAttrs{Email: jsii.Bool(true)},
		PasswordPolicy: &awscognito.PasswordPolicy{
			MinLength:        jsii.Number(12),
			RequireLowercase: jsii.Bool(true),
			RequireUppercase: jsii.Bool(true),
			RequireDigits:    jsii.Bool(true),
			RequireSymbols:   jsii.Bool(true),
		},
		Mfa:                awscognito.Mfa_OPTIONAL,
		MfaSecondFactor:    &awscognito.MfaSecondFactor{Otp: jsii.Bool(true), Sms: jsii.Bool(false)},
		AccountRecovery:    awscognito.AccountRecovery_EMAIL_ONLY,
		DeletionProtection: jsii.Bool(b.props.Environment == Prod),
		RemovalPolicy:      b.statefulRemovalPolicy(),
	})
	suppress(pool, "AwsSolutions-COG2",
		"MFA is optional (TOTP) until the agents' sign-in client handles Cognito's MFA_SETUP challenge; each agent can turn it on. "+
			"Agents are created by an admin, passwords are 12+ characters with every class, access tokens last 1 hour.")
	suppress(pool, "AwsSolutions-COG3",
		"Threat protection (AdvancedSecurityMode ENFORCED) needs Cognito's Plus feature plan, billed per active user, and a risk configuration the team chooses; "+
			"the pool has a handful of admin-created agents, no self sign-up and a strong password policy.")
	client := pool.AddClient(jsii.String("AgentClient"), &awscognito.UserPoolClientOptions{
		GenerateSecret:             jsii.Bool(false),
		AuthFlows:                  &awscognito.AuthFlow{UserSrp: jsii.Bool(true), UserPassword: jsii.Bool(true)},
		DisableOAuth:               jsii.Bool(true), // no hosted UI (yet): tokens come from InitiateAuth
		PreventUserExistenceErrors: jsii.Bool(true),
		EnableTokenRevocation:      jsii.Bool(true),
		AccessTokenValidity:        awscdk.Duration_Hours(jsii.Number(1)),
		IdTokenValidity:            awscdk.Duration_Hours(jsii.Number(1)),
		RefreshTokenValidity:       awscdk.Duration_Days(jsii.Number(30)),
	})
	// The issuer of Cognito's tokens (the pool's ProviderURL attribute lacks the
	// scheme, which API Gateway requires).
	issuer := awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("https://cognito-idp."), b.stack.Region(), jsii.String("."), b.stack.UrlSuffix(), jsii.String("/"), pool.UserPoolId(),
	})
	return agentAuth{
		Authorizer: awsapigatewayv2authorizers.NewHttpJwtAuthorizer(
			jsii.String("AgentJwt"), issuer,
			&awsapigatewayv2authorizers.HttpJwtAuthorizerProps{JwtAudience: jsii.Strings(*client.UserPoolClientId())},
		),
		UserPool: pool,
		Client:   client,
	}
}

// newHTTPAPI creates the HTTP API: the X webhook and the health check on webhook
// (no authorizer: X's signature on each delivery is the authentication, checked by
// the function), and everything under /v1/ on agentapi behind auth. Its $default
// stage deploys automatically, throttles and writes JSON access logs.
func (b *builder) newHTTPAPI(webhook, agentAPI awslambda.IFunction, auth agentAuth) awsapigatewayv2.HttpApi {
	api := awsapigatewayv2.NewHttpApi(b.stack, jsii.String("Api"), &awsapigatewayv2.HttpApiProps{
		Description:        jsii.String("Pajarito: X webhook and agent API"),
		CreateDefaultStage: jsii.Bool(false),
	})
	b.accessLogs = awslogs.NewLogGroup(b.stack, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention:     b.props.LogRetention,
		RemovalPolicy: b.logRemovalPolicy(),
	})
	awsapigatewayv2.NewHttpStage(b.stack, jsii.String("ApiStage"), &awsapigatewayv2.HttpStageProps{
		HttpApi:    api,
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(ThrottleRate),
			BurstLimit: jsii.Number(ThrottleBurst),
		},
		AccessLogSettings: &accessLogSettings{
			destination: awsapigatewayv2.NewLogGroupLogDestination(b.accessLogs),
			format:      awsapigateway.AccessLogFormat_Custom(jsii.String(accessLogFormat())),
		},
	})

	// Payload format 2.0 is what the functions decode (wire.APIGateway).
	webhookIntegration := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("WebhookIntegration"), webhook, nil)
	for _, r := range *api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
		Path:        jsii.String(RouteWebhook),
		Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_GET, awsapigatewayv2.HttpMethod_POST},
		Integration: webhookIntegration,
	}) {
		suppress(r, "AwsSolutions-APIG4",
			"X calls the webhook without API credentials: each request is authenticated by the function, which checks X's HMAC-SHA256 signature "+
				"(or answers the CRC challenge with it) and rejects the rest with 401.")
	}
	for _, r := range *api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
		Path:        jsii.String(RouteHealth),
		Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_GET},
		Integration: webhookIntegration,
	}) {
		suppress(r, "AwsSolutions-APIG4", "The health check is public on purpose, for uptime monitors: it answers {\"status\":\"ok\"} and reads nothing.")
	}
	api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
		Path:        jsii.String(RouteAgentAPI),
		Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_ANY},
		Integration: awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("AgentApiIntegration"), agentAPI, nil),
		Authorizer:  auth.Authorizer,
	})
	return api
}

// accessLogSettings implements awsapigatewayv2.IAccessLogSettings.
type accessLogSettings struct {
	destination awsapigatewayv2.IAccessLogDestination
	format      awsapigateway.AccessLogFormat
}

func (s *accessLogSettings) Destination() awsapigatewayv2.IAccessLogDestination {
	return s.destination
}
func (s *accessLogSettings) Format() awsapigateway.AccessLogFormat { return s.format }

// accessLogFormat is one JSON object per request, with HTTP API's context
// variables: who called what, how it ended, how long API Gateway and the function
// took, and why the authorizer or the integration failed.
func accessLogFormat() string {
	f, err := json.Marshal(map[string]string{
		"requestId":          "$context.requestId",
		"requestTime":        "$context.requestTimeEpoch",
		"ip":                 "$context.identity.sourceIp",
		"userAgent":          "$context.identity.userAgent",
		"method":             "$context.httpMethod",
		"path":               "$context.path",
		"routeKey":           "$context.routeKey",
		"protocol":           "$context.protocol",
		"status":             "$context.status",
		"responseLength":     "$context.responseLength",
		"responseLatency":    "$context.responseLatency",
		"integrationStatus":  "$context.integrationStatus",
		"integrationLatency": "$context.integrationLatency",
		"integrationError":   "$context.integrationErrorMessage",
		"authorizerError":    "$context.authorizer.error",
		"principal":          "$context.authorizer.claims.sub",
		"errorMessage":       "$context.error.message",
	})
	if err != nil {
		panic(err)
	}
	return string(f)
}
