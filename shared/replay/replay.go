// Package replay turns recorded customer-care conversations on X into the
// webhook deliveries X would have made for them, on a new clock, so that a
// Pajarito system can live through them again with their original timing.
//
// Conversations are read from CSV in the layout of the public "Customer Support
// on Twitter" dataset (tweet_id, author_id, inbound, created_at, text,
// response_tweet_id, in_response_to_tweet_id), with an optional lang column. The
// posts written by the brand (inbound False) become the configured brand's, the
// customers keep their anonymised ids, and every post gets a new X id of its new
// time, as X's ids carry their time.
package replay

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Post is one post of a recorded conversation, with the recording's ids.
type Post struct {
	ID        string
	AuthorID  string // a customer's id, or the brand's name in the recording
	Inbound   bool   // written by a customer, not the brand
	CreatedAt time.Time
	Text      string
	InReplyTo string // the id of the post this one answers, if in the recording
	Lang      string // BCP 47 code, or empty when the recording has none
}

// Columns are the CSV columns ReadCSV needs; lang and response_tweet_id may be
// there too (the replies are known from in_response_to_tweet_id).
var Columns = []string{"tweet_id", "author_id", "inbound", "created_at", "text", "in_response_to_tweet_id"}

// timeLayouts are the created_at formats understood: X's v1.1 format (the
// dataset's) and RFC 3339 (X API v2's).
var timeLayouts = []string{time.RubyDate, time.RFC3339}

// ReadCSV reads the posts of a conversations file. A post that answers one
// missing from the file (datasets are often cut from a larger one) starts a
// thread of its own. Errors name the line and the column.
func ReadCSV(r io.Reader) ([]Post, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("replay: empty conversations file: want a header line with " + strings.Join(Columns, ","))
	}
	if err != nil {
		return nil, fmt.Errorf("replay: header: %w", err)
	}
	col := map[string]int{}
	for i, name := range header {
		col[strings.TrimSpace(strings.TrimPrefix(name, "\ufeff"))] = i
	}
	for _, name := range Columns {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("replay: the header has no %s column: want %s (lang optional)", name, strings.Join(Columns, ","))
		}
	}
	langCol, hasLang := col["lang"]

	var posts []Post
	seen := map[string]int{} // id → line
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
		field := func(name string) string {
			if i := col[name]; i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		p := Post{
			ID:        field("tweet_id"),
			AuthorID:  field("author_id"),
			Text:      field("text"),
			InReplyTo: field("in_response_to_tweet_id"),
		}
		if hasLang && langCol < len(rec) {
			p.Lang = strings.TrimSpace(rec[langCol])
		}
		switch {
		case p.ID == "":
			return nil, fmt.Errorf("replay: line %d: tweet_id is empty", line)
		case seen[p.ID] != 0:
			return nil, fmt.Errorf("replay: line %d: tweet_id %s is already on line %d", line, p.ID, seen[p.ID])
		case p.AuthorID == "":
			return nil, fmt.Errorf("replay: line %d: author_id is empty", line)
		case p.Text == "":
			return nil, fmt.Errorf("replay: line %d: text is empty", line)
		}
		seen[p.ID] = line
		switch strings.ToLower(field("inbound")) {
		case "true", "1":
			p.Inbound = true
		case "false", "0":
		default:
			return nil, fmt.Errorf("replay: line %d: inbound %q: want True (a customer's post) or False (the brand's)", line, field("inbound"))
		}
		if p.CreatedAt, err = parseTime(field("created_at")); err != nil {
			return nil, fmt.Errorf("replay: line %d: %w", line, err)
		}
		posts = append(posts, p)
	}
	if len(posts) == 0 {
		return nil, errors.New("replay: the conversations file has a header but no posts")
	}
	for i := range posts {
		if _, ok := seen[posts[i].InReplyTo]; !ok {
			posts[i].InReplyTo = ""
		}
	}
	return posts, nil
}

// Span is how long the recording lasts, from its first post to its last.
func Span(posts []Post) time.Duration {
	first := First(posts)
	last := first
	for _, p := range posts {
		if p.CreatedAt.After(last) {
			last = p.CreatedAt
		}
	}
	return last.Sub(first)
}

// Start returns when a recording whose first post was written at first starts
// on a new clock, at the latest by latest: the same time of day (UTC) as in the
// recording, within the 24 hours up to latest, so that business hours, the
// hours of the day in reports and staffing see the day as it was.
func Start(first, latest time.Time) time.Time {
	first, latest = first.UTC(), latest.UTC()
	y, m, d := latest.Date()
	start := time.Date(y, m, d, first.Hour(), first.Minute(), first.Second(), first.Nanosecond(), time.UTC)
	if start.After(latest) {
		start = start.AddDate(0, 0, -1)
	}
	return start
}

// First returns when the recording's first post was written.
func First(posts []Post) time.Time {
	var first time.Time
	for i, p := range posts {
		if i == 0 || p.CreatedAt.Before(first) {
			first = p.CreatedAt
		}
	}
	return first
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("created_at %q: want X's format (Tue Oct 31 22:10:47 +0000 2017) or RFC 3339", s)
}
