package agentapi

// AddHoursOfDay exposes addHoursOfDay to the tests.
var AddHoursOfDay = addHoursOfDay

// Summary exposes summary to the tests.
var Summary = summary

// WebhookURL exposes webhookURL to the tests.
var WebhookURL = webhookURL
