package agentapi

// AddHoursOfDay exposes addHoursOfDay to the tests.
var AddHoursOfDay = addHoursOfDay
