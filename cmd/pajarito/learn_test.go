package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLearnRefusesBadLines(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "\n\n", "no corrections"},
		{"not JSON", "hola\n", "line 1: not a JSON object"},
		{"no text", `{"sentiment":"negative"}`, `line 1: missing "text"`},
		{"no label", `{"text":"hola"}` + "\n", `line 1: no "sentiment" nor "intent"`},
		{"bad sentiment", `{"text":"a","sentiment":"positive"}` + "\n" + `{"text":"b","sentiment":"angry"}`, `line 2: sentiment "angry" is not one of`},
		{"bad intent", `{"text":"a","intent":"rant"}`, `line 1: intent "rant" is not one of`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := runLearn(t.Context(), nil, strings.NewReader(tc.in), &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
			if out.Len() != 0 {
				t.Errorf("wrote a model despite the error: %s", out.String())
			}
		})
	}
}

// A model learned with `pajarito learn` is used by `pajarito classify -model`: the
// brand's slang ("pajarazo": great) becomes positive, with the reason.
func TestLearnThenClassify(t *testing.T) {
	var in strings.Builder
	for i := range 40 {
		for _, l := range []struct{ text, sentiment string }{
			{fmt.Sprintf("el embarque de la puerta %d ha sido un pajarazo", i), "positive"},
			{fmt.Sprintf("el vuelo %d fue un desastre, horas de retraso", i), "negative"},
			{fmt.Sprintf("a qué hora sale el vuelo %d a Lima", i), "neutral"},
		} {
			b, _ := json.Marshal(map[string]string{"text": l.text, "lang": "es", "sentiment": l.sentiment})
			in.Write(append(b, '\n'))
		}
	}
	var model, summary bytes.Buffer
	if err := runLearn(t.Context(), nil, strings.NewReader(in.String()), &model, &summary); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(summary.String(), "learned from 120 corrections") || !strings.Contains(summary.String(), "sentiment: takes part") {
		t.Errorf("summary:\n%s", summary.String())
	}
	path := filepath.Join(t.TempDir(), "model.json")
	if err := os.WriteFile(path, model.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	msg := `{"id":"1","text":"la sala vip nueva es un pajarazo","lang":"es"}` + "\n"
	if err := runClassify(t.Context(), []string{"-model", path}, strings.NewReader(msg), &out, &errOut); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	var got classifyOut
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	why := ""
	for _, r := range got.Reasons {
		if r.Label == "sentiment" {
			why = r.Because
		}
	}
	if got.Sentiment != "positive" || !strings.Contains(why, "corrections model") {
		t.Errorf("classified %s (%s)", got.Sentiment, why)
	}
}
