package cost

import (
	"github.com/pajarito-care/pajarito/shared/config"
	"github.com/pajarito-care/pajarito/shared/protocol"
	"github.com/pajarito-care/pajarito/shared/sender"
)

// Region is where OnDemand's prices apply: the stack's functions run on arm64
// (Graviton) there, at on-demand rates.
const Region = "us-east-1"

// PricesChecked is when OnDemand's prices were last checked against the sources
// cited on each field (their own dates are there too).
const PricesChecked = "2026-12-06"

// Prices are the unit prices an Estimate multiplies Usage by, in US dollars.
// Free tiers are left out on purpose: a deployment's other workloads may use
// them up, and what matters here is the marginal cost of a message.
type Prices struct {
	// LambdaRequest is the price of one invocation; LambdaGBSecond of one
	// GB-second of billed duration on arm64 (first 7.5 billion GB-s a month).
	LambdaRequest, LambdaGBSecond float64
	// SQSRequest is the price of one standard-queue request, each 64 KiB chunk
	// of a request's payload counting as one (SQSChunkBytes); a batch call is one
	// request (first 100 billion a month).
	SQSRequest float64
	// DynamoWRU and DynamoRRU are the prices of one on-demand write and read
	// request unit.
	DynamoWRU, DynamoRRU float64
	// APIRequest is the price of one HTTP API request, metered in 512 KiB
	// increments (APIChunkBytes; first 300 million a month).
	APIRequest float64
	// LogsGB is the price of one GB (LogsBytesPerGB) ingested by CloudWatch
	// Logs, standard class (Lambda's logs: first tier, 10 TB a month).
	LogsGB float64
	// MetricMonth is the price of one custom metric (a name and a set of
	// dimension values) for a month (first 10,000), EMF's included.
	MetricMonth float64
	// AlarmMonth is the price of one standard-resolution alarm for a month.
	AlarmMonth float64
	// SecretMonth is the price of one Secrets Manager secret for a month;
	// SecretsCall of one API call.
	SecretMonth, SecretsCall float64
	// SNSPublish is the price of one publish to a standard topic; SNSEmail of
	// one e-mail delivery (the alert topic's subscription).
	SNSPublish, SNSEmail float64
	// X is what X charges, apart from AWS.
	X XPrices
}

// XPrices are X's pay-per-use prices, in dollars. The project keeps them where
// they are used, and they are not restated here: reads in config (the defaults
// of pajarito.json's x_budget.price_per_post_usd), posts in protocol (the reply
// linter warns about links with them), DMs in sender (which adds each reply's
// price to the month's spend). DESIGN.md cites X's pricing (2026-08).
type XPrices struct {
	// MentionRead is a post returned by the mentions timeline (an owned read);
	// SearchRead a post returned by recent search.
	MentionRead, SearchRead float64
	// Post is a public reply; PostSummoned one to an author who addressed the
	// brand; PostLink one with a URL.
	Post, PostSummoned, PostLink float64
	// DM is a direct message.
	DM float64
}

// OnDemand are the on-demand prices in Region for arm64, checked on
// PricesChecked:
//
//   - Lambda: $0.20 per million requests, $0.0000133334 per GB-second on Arm,
//     billed per millisecond rounded up, the Init phase included for OS-only
//     runtimes (provided.al2023) — https://aws.amazon.com/lambda/pricing/ (the
//     prices unchanged since Arm's launch, September 2021; the AWS Compute blog
//     "AWS Lambda standardizes billing for INIT Phase", April 2025, for the init:
//     custom runtimes were always billed, every runtime from 2025-08-01).
//   - SQS standard: $0.40 per million requests, each 64 KB chunk a request —
//     https://aws.amazon.com/sqs/pricing/ (as quoted for us-east-1 by
//     cloudburn.io, March 2026, and factualminds.com, June 2026).
//   - DynamoDB on-demand: $0.625 per million write request units, $0.125 per
//     million read request units — https://aws.amazon.com/dynamodb/pricing/on-demand/
//     after the 50 % cut of 2024-11-01 (the AWS News Blog post on on-demand,
//     updated 2025-01-31 for the cut; airbyte.com, July 2025, quoting these
//     figures for US East); before the cut $1.25 and $0.25.
//   - API Gateway HTTP API: $1.00 per million requests, metered in 512 KB
//     increments — https://aws.amazon.com/api-gateway/pricing/ (the AWS
//     whitepaper "Best Practices for Designing Amazon API Gateway Private APIs",
//     table 4).
//   - CloudWatch Logs: $0.50 per GB ingested (standard class; Lambda's logs are
//     "vended" with tiered pricing since 2025-05-01, whose first tier, 10 TB, is
//     the same $0.50); custom metrics $0.30 per metric-month; standard alarms
//     $0.10 per alarm-month — https://aws.amazon.com/cloudwatch/pricing/ (the
//     Duckbill Group on the May 2025 change; c3x.dev, 2026).
//   - Secrets Manager: $0.40 per secret-month, $0.05 per 10,000 API calls —
//     https://aws.amazon.com/secrets-manager/pricing/ (hivebook.wiki, 2026).
//   - SNS: $0.50 per million publishes, $2.00 per 100,000 e-mail deliveries —
//     https://aws.amazon.com/sns/pricing/ (factualminds.com, June 2026).
//
// Secondary sources are named where the AWS page itself could not be read from
// here; each quoted the same figure for us-east-1.
var OnDemand = Prices{
	LambdaRequest:  0.20 / 1e6,
	LambdaGBSecond: 0.0000133334,
	SQSRequest:     0.40 / 1e6,
	DynamoWRU:      0.625 / 1e6,
	DynamoRRU:      0.125 / 1e6,
	APIRequest:     1.00 / 1e6,
	LogsGB:         0.50,
	MetricMonth:    0.30,
	AlarmMonth:     0.10,
	SecretMonth:    0.40,
	SecretsCall:    0.05 / 10_000,
	SNSPublish:     0.50 / 1e6,
	SNSEmail:       2.00 / 100_000,
	X: XPrices{
		MentionRead:  config.DefaultMentionsPriceUSD,
		SearchRead:   config.DefaultSearchPriceUSD,
		Post:         protocol.PricePostUSD,
		PostSummoned: protocol.PricePostSummonedUSD,
		PostLink:     protocol.PricePostLinkUSD,
		DM:           sender.PriceDMUSD,
	},
}

// Units of metering.
const (
	// SQSChunkBytes: SQS bills each 64 KiB chunk of a request's payload as one
	// request.
	SQSChunkBytes = 64 << 10
	// APIChunkBytes: HTTP APIs meter requests in 512 KiB increments.
	APIChunkBytes = 512 << 10
	// LogsBytesPerGB is the GB CloudWatch Logs bills: taken as 10^9 bytes, the
	// larger of the two readings (2^30 would make logs 7 % cheaper).
	LogsBytesPerGB = 1e9
	// HoursPerMonth is the month AWS's pricing examples use.
	HoursPerMonth = 730
)

// Chunks returns how many chunks of size bytes a payload of n bytes is metered
// as: at least one (an empty request is still a request).
func Chunks(n, size int64) int64 {
	if n <= size {
		return 1
	}
	return (n + size - 1) / size
}

// MemoryMB is each function's memory size (functions/<name>), as the stack
// deploys it: infra.Function.MemoryMB. This package must not import infra (it
// links the CDK); infra's TestCostTablesAgree holds the two tables equal.
var MemoryMB = map[string]float64{
	"webhook":  256,
	"process":  256,
	"listen":   256,
	"agentapi": 256,
	"reply":    256,
	"monitor":  256,
}
