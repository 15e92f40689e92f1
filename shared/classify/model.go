package classify

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Correction is an agent's fix of a message's labels. Either label may be empty
// when the agent corrected only the other one.
type Correction struct {
	Text      string    `json:"text"`
	Lang      string    `json:"lang,omitempty"`
	Intent    Intent    `json:"intent,omitempty"`
	Sentiment Sentiment `json:"sentiment,omitempty"`
}

// ModelVersion is the version of the serialised Model format.
const ModelVersion = 1

// Model learns from agents' corrections: one multinomial naive Bayes per label
// ("intent", "sentiment") over word unigrams and bigrams and character 3- to
// 5-grams of each word, counted once per message, combined with the rules by a
// small logistic regression learned and validated on the same corrections (see
// stack.go). It is plain data, serialisable as JSON so that a deployment can store
// it next to the corrections.
//
// A label's model takes part once at least two of its classes have MinPerClass
// corrections each (Config, default 30) and only if, on held-out corrections, the
// combination beat the rules alone (NBHead.Validation). The reasons show the
// rules' label, the model's, the validation scores and the words the model relied
// on.
type Model struct {
	Version   int       `json:"version"`
	Intent    *NBHead   `json:"intent,omitempty"`
	Sentiment *NBHead   `json:"sentiment,omitempty"`
	Trained   TrainInfo `json:"trained"`
}

// TrainInfo says what a model was trained on.
type TrainInfo struct {
	Corrections int `json:"corrections"`
	// MinPerClass is the corrections a class needed to be learned (Config).
	MinPerClass int `json:"min_per_class"`
}

// NBHead is one naive Bayes classifier.
type NBHead struct {
	Classes []string `json:"classes"`
	// Docs counts the corrections per class.
	Docs []int `json:"docs"`
	// Total counts the features seen per class.
	Total []int `json:"total"`
	// Features maps a feature ("w:word", "b:two words", "c:gra") to its count per class.
	Features map[string][]int `json:"features"`
	// Alpha is the additive smoothing.
	Alpha float64 `json:"alpha"`
	// Validation is how the combination with the rules did on held-out
	// corrections; nil while fewer than two classes are ready.
	Validation *Validation `json:"validation,omitempty"`
	// Combiner combines the head with the rules; nil unless Validation is Active.
	Combiner *Combiner `json:"combiner,omitempty"`
}

// HeadPrediction is one head's answer.
type HeadPrediction struct {
	Label string             `json:"label"`
	Prob  float64            `json:"prob"`
	Probs map[string]float64 `json:"probs"`
	// Evidence lists the words that pushed most towards Label.
	Evidence []string `json:"evidence,omitempty"`
}

// Prediction is the model's answer for a message; a head is nil when the model
// was trained without corrections for it.
type Prediction struct {
	Intent    *HeadPrediction `json:"intent,omitempty"`
	Sentiment *HeadPrediction `json:"sentiment,omitempty"`
}

// Train builds a model from corrections with the default rules (Default().Train).
func Train(corrections []Correction) *Model { return Default().Train(corrections) }

// Train builds a model from corrections, learning how to combine it with c's rules.
// Corrections with no text are skipped.
func (c *Classifier) Train(corrections []Correction) *Model {
	rules := c.WithModel(nil)
	m := &Model{Version: ModelVersion, Trained: TrainInfo{MinPerClass: c.minClass}}
	sc := &scratch{}
	var intentDocs, sentDocs []stackDoc
	for _, cr := range corrections {
		if strings.TrimSpace(cr.Text) == "" {
			continue
		}
		feats := features(sc, c.lx, cr.Text)
		r := rules.Classify(Input{Text: cr.Text, Lang: cr.Lang})
		if cr.Intent != "" {
			intentDocs = append(intentDocs, stackDoc{nbDoc: nbDoc{class: string(cr.Intent), feats: feats}, rules: string(r.Intent)})
		}
		if cr.Sentiment != "" {
			sentDocs = append(sentDocs, stackDoc{nbDoc: nbDoc{class: string(cr.Sentiment), feats: feats}, rules: string(r.Sentiment), score: r.Score})
		}
		m.Trained.Corrections++
	}
	m.Intent = stack(intentDocs, intentClasses(), c.minClass)
	m.Sentiment = stack(sentDocs, sentimentClasses(), c.minClass)
	return m
}

func sentimentClasses() []string {
	return []string{string(Negative), string(Neutral), string(Positive)}
}

func intentClasses() []string {
	out := make([]string, len(Intents))
	for i, in := range Intents {
		out[i] = string(in)
	}
	return out
}

type nbDoc struct {
	class string
	feats []string
}

func trainHead(docs []nbDoc) *NBHead {
	if len(docs) == 0 {
		return nil
	}
	h := &NBHead{Features: map[string][]int{}, Alpha: 0.3}
	idx := map[string]int{}
	for _, d := range docs {
		if _, ok := idx[d.class]; !ok {
			idx[d.class] = len(h.Classes)
			h.Classes = append(h.Classes, d.class)
		}
	}
	// Stable class order for reproducible JSON.
	sort.Strings(h.Classes)
	for i, c := range h.Classes {
		idx[c] = i
	}
	k := len(h.Classes)
	h.Docs = make([]int, k)
	h.Total = make([]int, k)
	for _, d := range docs {
		ci := idx[d.class]
		h.Docs[ci]++
		for _, f := range d.feats {
			v := h.Features[f]
			if v == nil {
				v = make([]int, k)
				h.Features[f] = v
			}
			v[ci]++
		}
	}
	// A feature seen in one correction only says nothing about a class and most
	// features are such: dropping them keeps the model small enough to store as one
	// item (about a third of the size) at no cost in accuracy.
	for f, v := range h.Features {
		n := 0
		for _, c := range v {
			n += c
		}
		if n < minFeatureCount {
			delete(h.Features, f)
			continue
		}
		for ci, c := range v {
			h.Total[ci] += c
		}
	}
	return h
}

// minFeatureCount is how many corrections a feature must appear in to be kept.
const minFeatureCount = 2

// features returns the distinct features of a text (for training).
func features(sc *scratch, lx *lexicon, text string) []string {
	seen := map[string]bool{}
	var out []string
	eachFeature(sc, lx, text, func(f []byte) {
		s := string(f)
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	})
	return out
}

// eachFeature calls fn with every feature of the text (possibly repeated). The
// slice is only valid during the call.
func eachFeature(sc *scratch, lx *lexicon, text string, fn func([]byte)) {
	if !validUTF8(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	sc.tokenize(text, lx)
	toks := sc.resolve()
	buf := sc.feat[:0]
	prev := ""
	for k := range toks {
		t := &toks[k]
		w := ""
		switch t.kind {
		case tWord:
			w = t.norm
			if t.alt != "" {
				w = t.alt
			}
		case tNum:
			w = "<num>"
		case tEmoji:
			w = string(t.emo)
		case tEmoticon:
			w = t.norm
		case tURL:
			w = "<url>"
		case tPunct:
			if t.emo == '?' || t.emo == '!' {
				w = string(t.emo)
			} else {
				prev = ""
				continue
			}
		default:
			continue
		}
		buf = append(append(buf[:0], "w:"...), w...)
		fn(buf)
		if prev != "" {
			buf = append(append(append(append(buf[:0], "b:"...), prev...), ' '), w...)
			fn(buf)
		}
		prev = w
		if t.kind == tWord && len(w) >= 2 {
			// Character n-grams of " word ".
			padded := len(w) + 2
			for n := 3; n <= 5; n++ {
				for i := 0; i+n <= padded; i++ {
					buf = append(buf[:0], "c:"...)
					for j := i; j < i+n; j++ {
						switch {
						case j == 0 || j == padded-1:
							buf = append(buf, ' ')
						default:
							buf = append(buf, w[j-1])
						}
					}
					fn(buf)
				}
			}
		}
	}
	sc.feat = buf
}

func validUTF8(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return strings.ToValidUTF8(s, "") == s
		}
	}
	return true
}

// Predict returns the model's answer for a message. lang is accepted for
// symmetry with Correction and is not used yet: the character n-grams carry it.
func (m *Model) Predict(text, lang string) Prediction {
	sc := &scratch{}
	return m.predict(sc, Default().lx, text)
}

func (m *Model) predict(sc *scratch, lx *lexicon, text string) Prediction {
	var p Prediction
	if m == nil {
		return p
	}
	if m.Intent == nil && m.Sentiment == nil {
		return p
	}
	var heads []*headScore
	for _, h := range []*NBHead{m.Intent, m.Sentiment} {
		heads = append(heads, newHeadScore(h))
	}
	eachFeature(sc, lx, text, func(f []byte) {
		for _, a := range heads {
			if a == nil {
				continue
			}
			counts, ok := a.h.Features[string(f)]
			if !ok || a.seen[string(f)] {
				continue
			}
			key := string(f)
			a.seen[key] = true
			for i := range a.h.Classes {
				a.logp[i] += math.Log(float64(counts[i])+a.h.Alpha) - a.denoms[i]
			}
			if key[0] == 'w' || key[0] == 'b' {
				a.ev[key] = 0 // filled once the label is known
			}
		}
	})
	for hi, a := range heads {
		if a == nil {
			continue
		}
		hp := a.prediction()
		if hi == 0 {
			p.Intent = hp
		} else {
			p.Sentiment = hp
		}
	}
	return p
}

// headScore is the score of one head's classes for a text, as its features are
// seen.
type headScore struct {
	h      *NBHead
	logp   []float64
	denoms []float64
	ev     map[string]float64
	seen   map[string]bool
}

// newHeadScore starts scoring with the class priors of h, or returns nil if h
// has no classes.
func newHeadScore(h *NBHead) *headScore {
	if h == nil || len(h.Classes) == 0 {
		return nil
	}
	a := &headScore{h: h, logp: make([]float64, len(h.Classes)), denoms: make([]float64, len(h.Classes)), ev: map[string]float64{}, seen: map[string]bool{}}
	n := 0
	for _, d := range h.Docs {
		n += d
	}
	v := float64(len(h.Features))
	for i := range h.Classes {
		a.logp[i] = math.Log((float64(h.Docs[i]) + 1) / (float64(n) + float64(len(h.Classes))))
		a.denoms[i] = math.Log(float64(h.Total[i]) + h.Alpha*v)
	}
	return a
}

// prediction turns the scores into probabilities and picks the label.
func (a *headScore) prediction() *HeadPrediction {
	hp := &HeadPrediction{Probs: map[string]float64{}}
	mx := math.Inf(-1)
	best := 0
	for i, l := range a.logp {
		if l > mx {
			mx, best = l, i
		}
	}
	var z float64
	for _, l := range a.logp {
		z += math.Exp(l - mx)
	}
	for i, c := range a.h.Classes {
		hp.Probs[c] = math.Exp(a.logp[i]-mx) / z
	}
	hp.Label = a.h.Classes[best]
	hp.Prob = hp.Probs[hp.Label]
	hp.Evidence = a.evidence(best)
	return hp
}

// evidence returns up to three words whose likelihood favours the label (class
// best) most.
func (a *headScore) evidence(best int) []string {
	type fe struct {
		f string
		d float64
	}
	var fes []fe
	for f := range a.ev {
		counts := a.h.Features[f]
		lb := math.Log(float64(counts[best])+a.h.Alpha) - a.denoms[best]
		var other float64
		for i := range a.h.Classes {
			if i != best {
				other += math.Log(float64(counts[i])+a.h.Alpha) - a.denoms[i]
			}
		}
		if len(a.h.Classes) > 1 {
			other /= float64(len(a.h.Classes) - 1)
		}
		if d := lb - other; d > 0.5 {
			fes = append(fes, fe{f, d})
		}
	}
	sort.Slice(fes, func(i, j int) bool {
		if fes[i].d != fes[j].d {
			return fes[i].d > fes[j].d
		}
		return fes[i].f < fes[j].f
	})
	var out []string
	for i := 0; i < len(fes) && i < 3; i++ {
		out = append(out, fes[i].f[2:])
	}
	return out
}

// ready returns the classes of h with at least min corrections and their total.
func (h *NBHead) ready(min int) ([]string, int) {
	if h == nil {
		return nil, 0
	}
	var cls []string
	n := 0
	for i, c := range h.Classes {
		if h.Docs[i] >= min {
			cls = append(cls, c)
			n += h.Docs[i]
		}
	}
	return cls, n
}

func (h *NBHead) counts() string {
	if h == nil {
		return "none"
	}
	parts := make([]string, len(h.Classes))
	for i, c := range h.Classes {
		parts[i] = fmt.Sprintf("%s %d", c, h.Docs[i])
	}
	return strings.Join(parts, ", ")
}

// blend combines the rules with the corrections model (see Model and stack.go).
func (c *Classifier) blend(text, lang string, label Sentiment, score float64, intent Intent, sWhy, iWhy string) (Sentiment, float64, Intent, string, string) {
	sc := c.pool.Get().(*scratch)
	pred := c.model.predict(sc, c.lx, text)
	c.pool.Put(sc)
	if m := c.model.Sentiment; m != nil {
		best, pm, how := m.combine(sentimentClasses(), pred.Sentiment, string(label), score, c.model.Trained.MinPerClass)
		if pm != nil {
			newScore := (score + pm[string(Positive)] - pm[string(Negative)]) / 2
			sWhy = fmt.Sprintf("%s (%s) + corrections model %s; %s", how, sWhy, describe(pred.Sentiment, pm), m.Validation)
			label, score = Sentiment(best), math.Max(-1, math.Min(1, newScore))
		} else {
			sWhy += how
		}
	}
	if m := c.model.Intent; m != nil {
		best, pm, how := m.combine(intentClasses(), pred.Intent, string(intent), 0, c.model.Trained.MinPerClass)
		if pm != nil {
			iWhy = fmt.Sprintf("%s (%s) + corrections model %s; %s", how, iWhy, describe(pred.Intent, pm), m.Validation)
			intent = Intent(best)
		} else {
			iWhy += how
		}
	}
	return label, score, intent, sWhy, iWhy
}

func describe(hp *HeadPrediction, pm map[string]float64) string {
	best, bp := "", -1.0
	keys := make([]string, 0, len(pm))
	for k := range pm {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if pm[k] > bp {
			best, bp = k, pm[k]
		}
	}
	s := fmt.Sprintf("%s %.2f", best, bp)
	if hp != nil && len(hp.Evidence) > 0 && hp.Label == best {
		s += " (learned from '" + strings.Join(hp.Evidence, "', '") + "')"
	}
	return s
}
