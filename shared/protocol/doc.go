// Package protocol is the care team's protocol as configuration: it prioritises and
// routes every new message of a case, decides what to do about it (acknowledge it,
// move the conversation to DM, answer out of hours, answer with a crisis template,
// escalate, leave it to an agent, or nothing) and writes the replies, checked by
// the reply linter, as reply requests for the outbound queue. Every decision is
// recorded with its reasons, in words an agent can read.
//
// # Pieces
//
//   - Config: the "protocol" section of pajarito.json (tier, languages, time zone,
//     business hours and holidays, other channels, signatures, cooldown,
//     templates, forbidden words, departments and routing rules, priority weights,
//     crisis topics and thresholds), with DefaultConfig and Validate.
//   - Engine (New): Decide, the pure decision on one message; AgentReply, which
//     signs and lints an agent's reply; CrisisTopics and Monitor for crises.
//   - Weights.Priority: a score from 0 to 999 and the factors that add up to it.
//   - Router: departments by rules on intent, urgency kind, language, channel,
//     personal data and keywords; the first rule that matches wins.
//   - Linter (Lint): the rules every reply obeys, automatic or written by an agent.
//   - Monitor: crisis detection over DynamoDB counters (see CrisisStore).
//   - Pipeline: what follows the processor's store (intake.Pipeline): classify,
//     decide, record, set the case's priority, department (a message that matches
//     no routing rule leaves it) and labels (the most serious intent of its
//     messages, the latest sentiment), enqueue the replies, notify escalations.
//
// # The protocol's rules
//
// Templates exist per kind (complaint, incident, question, praise, sales,
// move_to_dm, out_of_hours, crisis) × language (a message in a language without
// templates is answered in the brand's default language) × tone (the plain text;
// "apology" for complaints and incidents; "serious" for grave cases). They are
// signed with the team signature ("^Equipo"); agents sign with their first name
// ("^Ana"). Placeholders: {handle}, {first_name}, {hours}, {channels},
// {signature} and, in the crisis template, {topic}. Complaints and incidents are
// answered with an apology first ("Lo sentimos…", "We're sorry…"); praise is
// thanked and never apologised to; "problema" is never written (say
// "incidencia"). Validation enforces all of it on the configured templates.
//
// The automatic reply to a message is, in this order of precedence:
//
//  1. move_to_dm, for a public message with personal data, asking about a
//     private matter (a department such as billing or bookings, or a keyword such
//     as "mi cuenta"; praise, spam and chatter ask nothing), or grave (critical
//     urgency, or an urgency kind such as safety, medical, legal threat, fraud): a
//     public reply inviting to DM that never repeats the personal data;
//  2. crisis, for a message about a topic in crisis (not praise, not sales);
//  3. out_of_hours, outside business hours (weekday ranges in the brand's time
//     zone, daylight saving included; holidays closed), with the hours and the other
//     channels (praise is thanked instead);
//  4. the acknowledgement of the intent (praise: a thank-you).
//
// It is sent only when the intent is in auto_reply (move_to_dm always), when on the
// self-serve tier the author summoned the brand (mentioned or quoted it, or wrote
// a DM: X allows no other automatic replies on that tier), when the case got no
// automatic reply within the cooldown (24 h by default; the Pipeline claims the
// cooldown with a conditional write, so that concurrent messages of one case get
// one reply), and when the linter finds no error. Otherwise the reply is withheld
// and the record says which rule withheld it. Spam and the brand's own messages get
// no action; everything else stays in the agents' queue ("queue_for_agent"), and
// grave cases are escalated (a care.Notifier alert). A message in a DM is answered by
// DM.
//
// # The reply linter
//
// See Linter.Lint: length as X counts it (280, links 23, see Length), apology
// first on complaints and incidents, no apology to praise, forbidden words (whole
// words, without regard to case or accents), no personal data in public and only
// the customer's own in a DM, no DM content in public, no links in automatic replies
// unless their template opts in, and a warning on the cost of links. Errors block a
// reply; warnings travel with it to the agent. Every issue is explained in Spanish
// and English.
//
// # Crisis mode
//
// See Monitor. Counters per topic and minute and per topic and hour are single-item
// ADD writes; the sliding window (15 minutes) is one Query of minute counters, the
// baseline (the 24 hours before) one Query of hour counters; the state item of a
// topic is opened and closed with conditional writes, so that exactly one writer
// opens a crisis and sends the alert. It closes when the window falls below half the
// threshold that opened it (after a minimum duration), unless a person opened it.
// Under a spike nothing is dropped: every message is stored, classified and decided
// (unlike Zammad, which drops tweets beyond 120 per 15 minutes); related messages
// get the crisis template instead of an individual acknowledgement, at most
// max_replies_per_window of them per topic and window (X's 100 posts per 15
// minutes are shared with every other reply); the rest wait for an agent.
//
// # Text matching
//
// Terms (routing keywords, topics, forbidden words, apologies) are matched on whole
// words without regard to case or accents: a word, a word ending in * (a prefix),
// a phrase, or alternatives separated by | ("retraso*|delay*"). @handles and links
// are not words.
package protocol
