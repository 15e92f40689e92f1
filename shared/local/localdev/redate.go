package localdev

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/local/xfake"
)

// The local clock and the samples.
//
// The local system's clock is the wall clock, from the moment it starts
// (Options.Speed times faster when asked). A post delivered with today's date —
// by X itself, by a team's own test client, by `pajarito replay` of a recording
// — therefore makes a case whose created, waiting and due times, its first
// response and the day's metrics all agree with the clock, as in AWS.
//
// The sample events of events/ were written on their own day (August 2026). So
// that they too read as news, the local system moves them by one shift, a
// sampleShift: the fake X API is seeded with them moved so that the newest is a
// minute old when the system starts, and a signed delivery of a sample (`pajarito
// replay events/`) is moved by the same shift on its way in, and signed again
// with the same secret, before the webhook reads it. Post and DM ids are X
// snowflakes, which encode their time: they move with their dates, so the
// listener and the webhook still see one post under one id. Only what falls
// within the samples' span moves: users' ids and dates, the brand's id, and
// every delivery dated otherwise (today's, a recording's) are left as they are.
// Each re-dated delivery is logged ("localdev: a sample delivery re-dated…").
// This happens only in the local system with the fake X API; in AWS, or with
// X's credentials, nothing is re-dated.
type sampleShift struct {
	from, to time.Time       // the samples' span: times within it are the samples'
	by       time.Duration   // whole milliseconds
	ids      map[string]bool // the samples' own post and DM ids: a delivery with none is not a sample
}

// sampleReach is how far before the oldest sample post and after the newest a
// time still belongs to the samples (their DMs and deletions).
const sampleReach = 24 * time.Hour

// newSampleShift returns the shift that moves the samples of files, whose posts
// are posts, so that the newest is a minute before start.
func newSampleShift(files []string, posts []xfake.Post, start time.Time) (*sampleShift, error) {
	oldest, newest := xfake.Span(posts)
	if newest.IsZero() {
		return nil, fmt.Errorf("localdev: the sample events hold no dated post to move to the local clock")
	}
	sh := &sampleShift{from: oldest.Add(-sampleReach), to: newest.Add(sampleReach)}
	// The span is that of every time within reach of the posts, DMs included.
	sh.ids = map[string]bool{}
	lo, hi := newest, oldest
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("localdev: reading sample events: %w", err)
		}
		v, ok := decodeJSON(body)
		if !ok {
			continue
		}
		sh.walk("", v, func(t time.Time) time.Time {
			lo, hi = minTime(lo, t), maxTime(hi, t)
			return t
		})
		sh.collectIDs(v)
	}
	sh.from, sh.to = lo, hi
	sh.by = start.Add(-time.Minute).Sub(hi).Truncate(time.Millisecond)
	return sh, nil
}

// sampleShiftFile keeps, in the data folder, the shift of the first run.
const sampleShiftFile = "sample-shift.json"

// keep makes the shift the one kept in the file at path, or keeps this one
// there when the file does not exist yet: the samples then have the same ids in
// every run on the same data.
func (sh *sampleShift) keep(path string) error {
	var kept struct {
		ByMillis int64 `json:"by_ms"`
	}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &kept); err != nil {
			return fmt.Errorf("localdev: %s is not the samples' shift (%w): delete it to move them anew", path, err)
		}
		sh.by = time.Duration(kept.ByMillis) * time.Millisecond
		return nil
	case errors.Is(err, os.ErrNotExist):
		kept.ByMillis = sh.by.Milliseconds()
		b, _ = json.Marshal(kept)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return fmt.Errorf("localdev: keep the samples' shift: %w", err)
		}
		return nil
	default:
		return fmt.Errorf("localdev: the samples' shift: %w", err)
	}
}

// post returns p moved by the shift.
func (sh *sampleShift) post(p xfake.Post) xfake.Post {
	p.ID, p.ConversationID = sh.id(p.ID), sh.id(p.ConversationID)
	if sh.within(p.CreatedAt) {
		p.CreatedAt = p.CreatedAt.Add(sh.by)
	}
	refs := make([]xfake.Ref, len(p.ReferencedTweets))
	for i, r := range p.ReferencedTweets {
		refs[i] = xfake.Ref{Type: r.Type, ID: sh.id(r.ID)}
	}
	p.ReferencedTweets = refs
	return p
}

// body returns a sample's webhook body (one that names a sample's own post or
// DM id) with every id and time of the samples' span moved by the shift, and how
// many it moved; any other body (not JSON, not a sample: a recording's, today's)
// is returned as it is.
func (sh *sampleShift) body(b []byte) ([]byte, int) {
	v, ok := decodeJSON(b)
	if !ok || !sh.names(v) {
		return b, 0
	}
	moved := 0
	v = sh.walk("", v, func(t time.Time) time.Time {
		moved++
		return t.Add(sh.by)
	})
	if moved == 0 {
		return b, 0
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return b, 0 // cannot happen for what decodeJSON returns
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), moved
}

// collectIDs adds to sh.ids the snowflake ids of the samples' span in v: their
// posts', DM events', conversations' and references' ids; and the X Activity
// delivery's own event_uuid, which names a sample that holds no snowflake (an X
// Chat event's ids are UUIDs).
func (sh *sampleShift) collectIDs(v any) {
	each(v, func(s string) {
		if t, ok := care.IDTime(s); ok && sh.within(t) {
			sh.ids[s] = true
		}
	})
	if data, ok := v.(map[string]any)["data"].(map[string]any); ok {
		if id, ok := data["event_uuid"].(string); ok && id != "" {
			sh.ids[id] = true
		}
	}
}

// names reports whether v holds one of the samples' ids.
func (sh *sampleShift) names(v any) bool {
	found := false
	each(v, func(s string) { found = found || sh.ids[s] })
	return found
}

// each calls f with every string and number in v.
func each(v any, f func(string)) {
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			each(e, f)
		}
	case []any:
		for _, e := range v {
			each(e, f)
		}
	case json.Number:
		f(string(v))
	case string:
		f(v)
	}
}

func (sh *sampleShift) within(t time.Time) bool {
	return !t.IsZero() && !t.Before(sh.from) && !t.After(sh.to)
}

// id returns a snowflake id of the samples' span moved by the shift, and any
// other id as it is.
func (sh *sampleShift) id(id string) string {
	moved, _ := sh.digits("", id, func(t time.Time) time.Time { return t.Add(sh.by) })
	return moved
}

// Layouts of the times in webhook bodies: X API v2 (RFC 3339, milliseconds) and
// v1.1 (Ruby's date).
const v2Time = "2006-01-02T15:04:05.000Z07:00"

// millisKeys hold Unix milliseconds, as strings or numbers.
var millisKeys = map[string]bool{"created_timestamp": true, "timestamp_ms": true, "created_at_msec": true}

// walk calls f with each time of the samples' span that v holds (dates, Unix
// milliseconds under millisKeys, snowflake ids) and puts back what f returns, in
// the form it had. key is the object key v is found under.
func (sh *sampleShift) walk(key string, v any, f func(time.Time) time.Time) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = sh.walk(k, e, f)
		}
		return v
	case []any:
		for i, e := range v {
			v[i] = sh.walk(key, e, f)
		}
		return v
	case json.Number:
		if s, ok := sh.digits(key, string(v), f); ok {
			return json.Number(s)
		}
		return v
	case string:
		if s, ok := sh.digits(key, v, f); ok {
			return s
		}
		for _, layout := range []string{time.RFC3339Nano, time.RubyDate} {
			t, err := time.Parse(layout, v)
			if err != nil || !sh.within(t) {
				continue
			}
			out := f(t)
			switch {
			case layout == time.RubyDate:
				return out.Format(time.RubyDate)
			case strings.Contains(v, "."):
				return out.Format(v2Time)
			default:
				return out.Format(time.RFC3339)
			}
		}
		return v
	default:
		return v
	}
}

// digits moves s when it is Unix milliseconds (under millisKeys) or a snowflake
// id of the samples' span.
func (sh *sampleShift) digits(key, s string, f func(time.Time) time.Time) (string, bool) {
	if millisKeys[key] {
		ms, err := strconv.ParseInt(s, 10, 64)
		if t := time.UnixMilli(ms).UTC(); err == nil && sh.within(t) {
			return strconv.FormatInt(f(t).UnixMilli(), 10), true
		}
		return s, false
	}
	t, ok := care.IDTime(s)
	if !ok || !sh.within(t) {
		return s, false
	}
	n, _ := strconv.ParseUint(s, 10, 64) // IDTime parsed it
	moved := f(t).Sub(t).Milliseconds()
	return strconv.FormatUint(uint64(int64(n)+moved<<22), 10), true
}

// decodeJSON decodes b keeping numbers as they are written (ids exceed float64).
func decodeJSON(b []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return nil, false
	}
	return v, true
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
