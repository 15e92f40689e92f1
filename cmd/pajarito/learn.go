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
	"slices"
	"strings"

	"github.com/pajarito-care/pajarito/shared/classify"
)

const learnUsage = `Usage: pajarito learn [flags] < corrections.jsonl > model.json

Trains the classifier's corrections model from JSON lines
{"text": "…", "lang": "es"?, "sentiment": "negative|neutral|positive"?, "intent": "…"?}
(the agents' corrections, or any labelled messages) and writes it as JSON, for
"pajarito classify -model". On stderr it says, per label, how the model did on
held-out lines against the rules alone, and whether it takes part. A line that is
not a correction stops the command, naming the line: no model is written.
`

// learnLine is one input line of `pajarito learn`; other fields are ignored.
type learnLine struct {
	Text      *string            `json:"text"`
	Lang      string             `json:"lang"`
	Sentiment classify.Sentiment `json:"sentiment"`
	Intent    classify.Intent    `json:"intent"`
}

// runLearn implements `pajarito learn`.
func runLearn(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("learn", flag.ContinueOnError)
	fs.SetOutput(stderr)
	minPerClass := fs.Int("min-per-class", 30, "corrections a class needs before the model learns it")
	fs.Usage = func() {
		fmt.Fprint(stderr, learnUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("learn: unexpected argument %q (input comes from stdin)", fs.Arg(0))
	}
	c, err := classify.New(classify.Config{MinPerClass: *minPerClass})
	if err != nil {
		return fmt.Errorf("learn: %w", err)
	}
	var cs []classify.Correction
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		var in learnLine
		if err := json.Unmarshal(raw, &in); err != nil {
			return fmt.Errorf("learn: line %d: not a JSON object: %w", n, err)
		}
		switch {
		case in.Text == nil || strings.TrimSpace(*in.Text) == "":
			return fmt.Errorf("learn: line %d: missing \"text\"", n)
		case in.Sentiment == "" && in.Intent == "":
			return fmt.Errorf("learn: line %d: no \"sentiment\" nor \"intent\" to learn", n)
		case in.Sentiment != "" && !slices.Contains(classify.Sentiments, in.Sentiment):
			return fmt.Errorf("learn: line %d: sentiment %q is not one of %v", n, in.Sentiment, classify.Sentiments)
		case in.Intent != "" && !slices.Contains(classify.Intents, in.Intent):
			return fmt.Errorf("learn: line %d: intent %q is not one of %v", n, in.Intent, classify.Intents)
		}
		cs = append(cs, classify.Correction{Text: *in.Text, Lang: in.Lang, Sentiment: in.Sentiment, Intent: in.Intent})
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("learn: reading stdin: %w", err)
	}
	if len(cs) == 0 {
		return errors.New("learn: no corrections on stdin")
	}
	m := c.Train(cs)
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "learned from %d corrections\n", m.Trained.Corrections)
	for _, h := range []struct {
		name string
		head *classify.NBHead
	}{{"sentiment", m.Sentiment}, {"intent", m.Intent}} {
		switch {
		case h.head == nil:
			fmt.Fprintf(stderr, "%s: no corrections\n", h.name)
		case h.head.Validation == nil:
			fmt.Fprintf(stderr, "%s: waiting for %d corrections in each of two classes\n", h.name, *minPerClass)
		case h.head.Validation.Active:
			fmt.Fprintf(stderr, "%s: takes part; %s\n", h.name, h.head.Validation)
		default:
			fmt.Fprintf(stderr, "%s: stays off (not better than the rules); %s\n", h.name, h.head.Validation)
		}
	}
	return nil
}
