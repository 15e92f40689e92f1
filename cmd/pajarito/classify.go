package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/classify"
)

// classifyLine is one input line of `pajarito classify`. Other fields (such as a
// gold "sentiment") are ignored, so evaluation files can be piped in directly.
type classifyLine struct {
	ID      json.RawMessage `json:"id"`
	Text    *string         `json:"text"`
	Lang    string          `json:"lang"`
	Channel care.Channel    `json:"channel"`
}

// classifyOut is one output line.
type classifyOut struct {
	ID         json.RawMessage    `json:"id"`
	Lang       string             `json:"lang"`
	LangSource string             `json:"lang_source"`
	Intent     classify.Intent    `json:"intent"`
	Sentiment  classify.Sentiment `json:"sentiment"`
	Score      float64            `json:"score"`
	Urgency    classify.Urgency   `json:"urgency"`
	PII        []classify.PII     `json:"pii"`
	Forbidden  []string           `json:"forbidden,omitempty"`
	Reasons    []classify.Reason  `json:"reasons"`
}

type classifyErr struct {
	ID    json.RawMessage `json:"id,omitempty"`
	Line  int             `json:"line"`
	Error string          `json:"error"`
}

const classifyUsage = `Usage: pajarito classify [flags] < messages.jsonl > labels.jsonl

Reads one JSON object per line, {"id": …, "text": "…", "lang": "es"?, "channel": "public"|"dm"?},
and writes one line per input with id, lang, intent, sentiment, score, urgency, pii and
reasons. A bad line gets {"id"?, "line", "error"} instead; the command goes on and
exits non-zero at the end, saying how many lines failed.
`

// runClassify implements `pajarito classify`.
func runClassify(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("classify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "JSON file with the brand's classify.Config (keywords, neutral and forbidden words)")
	modelPath := fs.String("model", "", "JSON file with a corrections model (classify.Model) to blend with the rules")
	channel := fs.String("channel", "", `channel of lines that do not say ("public" or "dm")`)
	fs.Usage = func() {
		fmt.Fprint(stderr, classifyUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("classify: unexpected argument %q (input comes from stdin)", fs.Arg(0))
	}
	if *channel != "" && *channel != string(care.Public) && *channel != string(care.DM) {
		return fmt.Errorf("classify: -channel must be %q or %q", care.Public, care.DM)
	}
	var cfg classify.Config
	if *configPath != "" {
		b, err := os.ReadFile(*configPath)
		if err != nil {
			return fmt.Errorf("classify: %w", err)
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return fmt.Errorf("classify: config %s: %w", *configPath, err)
		}
	}
	c, err := classify.New(cfg)
	if err != nil {
		return fmt.Errorf("classify: %w", err)
	}
	if *modelPath != "" {
		b, err := os.ReadFile(*modelPath)
		if err != nil {
			return fmt.Errorf("classify: %w", err)
		}
		var m classify.Model
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("classify: model %s: %w", *modelPath, err)
		}
		if m.Version != classify.ModelVersion {
			return fmt.Errorf("classify: model %s has version %d; this build reads %d", *modelPath, m.Version, classify.ModelVersion)
		}
		c = c.WithModel(&m)
	}

	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	w := bufio.NewWriterSize(stdout, 64<<10)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	var physical, lines, failed int // physical counts every line, lines the non-blank ones
	fail := func(id json.RawMessage, msg string) error {
		failed++
		return enc.Encode(classifyErr{ID: id, Line: physical, Error: msg})
	}
	for sc.Scan() {
		if physical%1024 == 0 {
			if err := ctx.Err(); err != nil {
				w.Flush()
				return err
			}
		}
		physical++
		raw := sc.Bytes()
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		lines++
		var in classifyLine
		if err := json.Unmarshal(raw, &in); err != nil {
			if err := fail(nil, "not a JSON object: "+err.Error()); err != nil {
				return err
			}
			continue
		}
		id := in.ID
		if len(id) == 0 || string(id) == "null" {
			if err := fail(nil, `missing "id"`); err != nil {
				return err
			}
			continue
		}
		if id[0] != '"' && !isJSONNumber(id) {
			if err := fail(nil, `"id" must be a string or a number`); err != nil {
				return err
			}
			continue
		}
		if in.Text == nil {
			if err := fail(id, `missing "text"`); err != nil {
				return err
			}
			continue
		}
		ch := in.Channel
		if ch == "" {
			ch = care.Channel(*channel)
		}
		r := c.Classify(classify.Input{Text: *in.Text, Lang: in.Lang, Channel: ch})
		out := classifyOut{
			ID: id, Lang: r.Lang, LangSource: r.LangSource, Intent: r.Intent, Sentiment: r.Sentiment,
			Score: r.Score, Urgency: r.Urgency, PII: r.PII, Forbidden: r.Forbidden, Reasons: r.Reasons,
		}
		if err := enc.Encode(out); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("classify: line %d is longer than 16 MiB", physical+1)
		}
		return fmt.Errorf("classify: reading stdin: %w", err)
	}
	if failed > 0 {
		return fmt.Errorf("classify: %d of %d lines failed", failed, lines)
	}
	return nil
}

func isJSONNumber(b []byte) bool {
	var n json.Number
	return json.Unmarshal(b, &n) == nil
}
