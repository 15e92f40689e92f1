package care

// Labels is what the classifier found in a message, kept with the decision made on
// it so that agents see the labels and the reasons behind them. The values are
// those of package classify (intent "complaint", sentiment "negative", urgency
// "high", …), as strings, so that readers of cases need not import the classifier.
type Labels struct {
	Lang      string  `json:"lang"`
	Intent    string  `json:"intent"`
	Sentiment string  `json:"sentiment"`
	Score     float64 `json:"score"`
	// Urgency is the level (none, low, high, critical); UrgencyKinds say why.
	Urgency      string   `json:"urgency"`
	UrgencyKinds []string `json:"urgency_kinds,omitempty"`
	// PII lists the kinds of personal data found (email, phone, booking, …) and
	// PIIMasked the same data masked (only their last characters shown).
	PII       []string `json:"pii,omitempty"`
	PIIMasked []string `json:"pii_masked,omitempty"`
	// Reasons explain each label.
	Reasons []LabelReason `json:"reasons,omitempty"`
}

// LabelReason explains one label: Label is "lang", "intent", "sentiment",
// "urgency" or "pii"; Value the label's value; Because is for people.
type LabelReason struct {
	Label   string `json:"label"`
	Value   string `json:"value"`
	Because string `json:"because"`
}

// Factor is one term of a case's priority: Points added (or, negative, taken) for
// Factor ("intent", "urgency", "waiting", …), Because says why.
type Factor struct {
	Factor  string `json:"factor"`
	Points  int    `json:"points"`
	Because string `json:"because"`
	// Args are Because's values by name (n, intent, sentiment, score, level,
	// kinds, max, waited, from), for saying it in other languages.
	Args map[string]string `json:"args,omitempty"`
}
