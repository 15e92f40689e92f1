package main

import (
	"encoding/json"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/pajarito-care/pajarito/shared/console"
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

// Routes of the HTTP API, the same as the local dev system's (boot.Routes). The
// console has two, as in boot.Routes: /console (which also receives /console/:
// API Gateway routes both to it) and the files under /console/.
const (
	RouteWebhook      = "/webhooks/x"
	RouteHealth       = "/healthz"
	RouteAgentAPI     = "/v1/{proxy+}"
	RouteConsole      = "/console"
	RouteConsoleFiles = "/console/{proxy+}"
)

// RoleGroup is a Pajarito role (issue 19), as a Cognito group of the stack's
// user pool: each person is added to one, and the agent API reads it from the
// access token's cognito:groups claim (CognitoRoleClaim).
type RoleGroup struct {
	// ID is the group's construct id.
	ID string
	// Name is the group's name, the role's.
	Name string
	// Description says what the role may do.
	Description string
}

// RoleGroups are the roles, from the most to the least allowed: a group's
// precedence is its index.
var RoleGroups = []RoleGroup{
	{ID: "AdminGroup", Name: "admin", Description: "Pajarito admin: everything an agent does, plus the team's settings: " +
		"opening and closing crises, assigning cases to anyone, redriving dead letters."},
	{ID: "AgentGroup", Name: "agent", Description: "Pajarito agent, a trained person: claims cases, answers customers, writes notes, " +
		"relabels and triages cases, approves the replies contributors draft."},
	{ID: "ContributorGroup", Name: "contributor", Description: "Pajarito contributor: reads cases, writes notes and drafts replies, " +
		"which wait for an agent's approval before they are sent."},
}

// roleGroupNames lists the roles' names, for messages: "admin, agent, contributor".
func roleGroupNames() string {
	names := make([]string, len(RoleGroups))
	for i, g := range RoleGroups {
		names[i] = g.Name
	}
	return strings.Join(names, ", ")
}

// agentAuth is how agents sign in: a JWT authorizer trusting either the stack's
// Cognito user pool (UserPool, Client and Domain set) or an external issuer.
type agentAuth struct {
	Authorizer awsapigatewayv2authorizers.HttpJwtAuthorizer
	UserPool   awscognito.UserPool
	Client     awscognito.UserPoolClient
	// Domain is the pool's Cognito domain, where agents sign in (managed login).
	Domain awscognito.UserPoolDomain
	// RoleClaim is the claim of the access tokens that holds the person's role,
	// for the agent API's settings.EnvRoleClaim.
	RoleClaim string
	// Console is the agent console's sign-in settings for the agent API's
	// settings.EnvConsole (console.Config as JSON, resolved at deploy); nil when agents
	// sign in to the console with a pasted token.
	Console *string
}

// consoleURL is the console's address on the HTTP API, <ApiEndpoint>/console/:
// where it is served, and where the identity provider sends agents back after
// signing in and out.
func consoleURL(api awsapigatewayv2.HttpApi) *string {
	return jsii.String(*api.ApiEndpoint() + console.Prefix)
}

// consoleScopes are the OAuth scopes the console asks for.
var consoleScopes = []awscognito.OAuthScope{awscognito.OAuthScope_OPENID(), awscognito.OAuthScope_EMAIL(), awscognito.OAuthScope_PROFILE()}

// newAgentAuth creates the JWT authorizer of the agent API and the console's
// sign-in, for api (the console is served on it).
//
// With an external issuer it trusts that issuer's tokens for the configured
// audiences; the console signs in with the issuer (its discovery document) when
// StackProps.ConsoleClientID names the console's client there, with a pasted
// token otherwise. The role is in the issuer's StackProps.RoleClaim.
//
// Without one it creates a Cognito user pool for the agents: no self sign-up (an
// admin creates each agent), email sign-in, optional TOTP MFA, recovery by email.
// Its app client has no secret and serves both the CLI and scripts (SRP, or the
// password over TLS) and the console (the authorization code flow with PKCE at the
// pool's domain, whose managed login pages have Cognito's default branding, back
// to <ApiEndpoint>/console/ and StackProps.ConsoleURLs). API Gateway checks a
// Cognito access token's client_id against the audience. The pool has a group
// per role (RoleGroups), which its access tokens list in cognito:groups.
func (b *builder) newAgentAuth(api awsapigatewayv2.HttpApi) agentAuth {
	if b.props.JWTIssuer != "" {
		auth := agentAuth{
			Authorizer: awsapigatewayv2authorizers.NewHttpJwtAuthorizer(
				jsii.String("AgentJwt"), jsii.String(b.props.JWTIssuer),
				&awsapigatewayv2authorizers.HttpJwtAuthorizerProps{JwtAudience: jsii.Strings(b.props.JWTAudience...)},
			),
			RoleClaim: b.props.RoleClaim,
		}
		if b.props.ConsoleClientID != "" {
			auth.Console = b.stack.ToJsonString(map[string]any{
				"issuer":    b.props.JWTIssuer,
				"client_id": b.props.ConsoleClientID,
			}, nil)
		}
		return auth
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
	consoleURLs := append([]*string{consoleURL(api)}, *jsii.Strings(b.props.ConsoleURLs...)...)
	client := pool.AddClient(jsii.String("AgentClient"), &awscognito.UserPoolClientOptions{
		GenerateSecret: jsii.Bool(false),
		AuthFlows:      &awscognito.AuthFlow{UserSrp: jsii.Bool(true), UserPassword: jsii.Bool(true)},
		OAuth: &awscognito.OAuthSettings{
			Flows:        &awscognito.OAuthFlows{AuthorizationCodeGrant: jsii.Bool(true)},
			Scopes:       &consoleScopes,
			CallbackUrls: &consoleURLs,
			LogoutUrls:   &consoleURLs,
		},
		SupportedIdentityProviders: &[]awscognito.UserPoolClientIdentityProvider{awscognito.UserPoolClientIdentityProvider_COGNITO()},
		PreventUserExistenceErrors: jsii.Bool(true),
		EnableTokenRevocation:      jsii.Bool(true),
		AccessTokenValidity:        awscdk.Duration_Hours(jsii.Number(1)),
		IdTokenValidity:            awscdk.Duration_Hours(jsii.Number(1)),
		RefreshTokenValidity:       awscdk.Duration_Days(jsii.Number(30)),
	})
	addRoleGroups(pool)
	prefix := jsii.String(b.props.AuthDomainPrefix)
	if b.props.AuthDomainPrefix == "" {
		prefix = awscdk.Fn_Join(jsii.String("-"), &[]*string{jsii.String(defaultAuthDomainPrefix(*b.stack.StackName())), b.stack.Account()})
	}
	domain := pool.AddDomain(jsii.String("SignIn"), &awscognito.UserPoolDomainOptions{
		CognitoDomain:       &awscognito.CognitoDomainOptions{DomainPrefix: prefix},
		ManagedLoginVersion: awscognito.ManagedLoginVersion_NEWER_MANAGED_LOGIN,
	})
	// Managed login shows a client's pages only once the client has a style.
	awscognito.NewCfnManagedLoginBranding(pool, jsii.String("SignInBranding"), &awscognito.CfnManagedLoginBrandingProps{
		UserPoolId:               pool.UserPoolId(),
		ClientId:                 client.UserPoolClientId(),
		UseCognitoProvidedValues: jsii.Bool(true),
	})
	// The issuer of Cognito's tokens (the pool's ProviderURL attribute lacks the
	// scheme, which API Gateway requires).
	issuer := awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("https://cognito-idp."), b.stack.Region(), jsii.String("."), b.stack.UrlSuffix(), jsii.String("/"), pool.UserPoolId(),
	})
	// Cognito's OAuth endpoints are on the pool's domain, apart from the issuer,
	// whose discovery document the console therefore does not need.
	signIn := *domain.BaseUrl(nil)
	scopes := make([]string, len(consoleScopes))
	for i, s := range consoleScopes {
		scopes[i] = *s.ScopeName()
	}
	return agentAuth{
		Authorizer: awsapigatewayv2authorizers.NewHttpJwtAuthorizer(
			jsii.String("AgentJwt"), issuer,
			&awsapigatewayv2authorizers.HttpJwtAuthorizerProps{JwtAudience: jsii.Strings(*client.UserPoolClientId())},
		),
		UserPool:  pool,
		Client:    client,
		Domain:    domain,
		RoleClaim: CognitoRoleClaim,
		Console: b.stack.ToJsonString(map[string]any{
			"issuer":                 issuer,
			"client_id":              client.UserPoolClientId(),
			"scopes":                 strings.Join(scopes, " "),
			"authorization_endpoint": signIn + "/oauth2/authorize",
			"token_endpoint":         signIn + "/oauth2/token",
			"end_session_endpoint":   signIn + "/logout",
		}, nil),
	}
}

// addRoleGroups creates the groups of RoleGroups in pool.
func addRoleGroups(pool awscognito.UserPool) {
	for i, g := range RoleGroups {
		pool.AddGroup(jsii.String(g.ID), &awscognito.UserPoolGroupOptions{
			GroupName:   jsii.String(g.Name),
			Description: jsii.String(g.Description),
			Precedence:  jsii.Number(i),
		})
	}
}

// newHTTPAPI creates the HTTP API and its $default stage, which deploys
// automatically, throttles and writes JSON access logs. Its routes come once the
// functions behind them exist (addRoutes).
func (b *builder) newHTTPAPI() awsapigatewayv2.HttpApi {
	api := awsapigatewayv2.NewHttpApi(b.stack, jsii.String("Api"), &awsapigatewayv2.HttpApiProps{
		Description:        jsii.String("Pajarito: X webhook, agent API and console"),
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
	return api
}

// addRoutes routes api: the X webhook and the health check to webhook (no
// authorizer: X's signature on each delivery is the authentication, checked by
// the function); everything under /v1/ to agentapi behind auth; and the
// console's files to agentapi too, without an authorizer (the console carries no
// data: it calls /v1/ with the agent's bearer token).
func (b *builder) addRoutes(api awsapigatewayv2.HttpApi, webhook, agentAPI awslambda.IFunction, auth agentAuth) {
	// Payload format 2.0 is what the functions decode (boot.APIGateway).
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
	agentIntegration := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("AgentApiIntegration"), agentAPI, nil)
	api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
		Path:        jsii.String(RouteAgentAPI),
		Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_ANY},
		Integration: agentIntegration,
		Authorizer:  auth.Authorizer,
	})
	for _, path := range []string{RouteConsole, RouteConsoleFiles} {
		for _, r := range *api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(path),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_GET},
			Integration: agentIntegration,
		}) {
			suppress(r, "AwsSolutions-APIG4",
				"The console's static files (HTML, JavaScript, CSS, its sign-in settings: public client id and endpoints) must load before the agent signs in, "+
					"and carry no data: every case is read through /v1/, behind the JWT authorizer, with the agent's bearer token. GET only.")
		}
	}
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
