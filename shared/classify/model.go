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
// 5-grams of each word, counted once per message. It is plain data, serialisable
// as JSON so that a deployment can store it next to the corrections.
//
// How it blends with the rules (Classifier.WithModel): a label's model takes part
// once at least two of its classes have MinPerClass corrections each (Config,
// default 30). Then the final label maximises
//
//	(1-w)·P_rules(class) + w·P_model(class),   w = min(0.8, n/(n+60)),
//
// where n counts the corrections of the classes that have enough of them,
// P_rules gives 0.7 to the rules' label and 0.15 to each other sentiment (0.7 and
// the rest shared among intents), and P_model is the model's posterior restricted
// to the classes with enough corrections. The sentiment score is blended the same
// way with P_model(positive) - P_model(negative). The reasons show both sides, the
// weight and the words the model relied on.
type Model struct {
	Version   int       `json:"version"`
	Intent    *NBHead   `json:"intent,omitempty"`
	Sentiment *NBHead   `json:"sentiment,omitempty"`
	Trained   TrainInfo `json:"trained"`
}

// TrainInfo says what a model was trained on.
type TrainInfo struct {
	Corrections int `json:"corrections"`
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

// Train builds a model from corrections. Corrections with no text are skipped.
func Train(corrections []Correction) *Model {
	m := &Model{Version: ModelVersion}
	sc := &scratch{}
	lx := Default().lx
	var intentDocs, sentDocs []nbDoc
	for _, c := range corrections {
		if strings.TrimSpace(c.Text) == "" {
			continue
		}
		feats := features(sc, lx, c.Text)
		if c.Intent != "" {
			intentDocs = append(intentDocs, nbDoc{class: string(c.Intent), feats: feats})
		}
		if c.Sentiment != "" {
			sentDocs = append(sentDocs, nbDoc{class: string(c.Sentiment), feats: feats})
		}
		m.Trained.Corrections++
	}
	m.Intent = trainHead(intentDocs)
	m.Sentiment = trainHead(sentDocs)
	return m
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
			h.Total[ci]++
		}
	}
	return h
}

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
	type acc struct {
		h      *NBHead
		logp   []float64
		denoms []float64
		ev     map[string]float64
		seen   map[string]bool
	}
	var heads []*acc
	for _, h := range []*NBHead{m.Intent, m.Sentiment} {
		if h == nil || len(h.Classes) == 0 {
			heads = append(heads, nil)
			continue
		}
		a := &acc{h: h, logp: make([]float64, len(h.Classes)), denoms: make([]float64, len(h.Classes)), ev: map[string]float64{}, seen: map[string]bool{}}
		n := 0
		for _, d := range h.Docs {
			n += d
		}
		v := float64(len(h.Features))
		for i := range h.Classes {
			a.logp[i] = math.Log((float64(h.Docs[i]) + 1) / (float64(n) + float64(len(h.Classes))))
			a.denoms[i] = math.Log(float64(h.Total[i]) + h.Alpha*v)
		}
		heads = append(heads, a)
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
		// Evidence: words whose likelihood favours the label most.
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
		for i := 0; i < len(fes) && i < 3; i++ {
			hp.Evidence = append(hp.Evidence, fes[i].f[2:])
		}
		if hi == 0 {
			p.Intent = hp
		} else {
			p.Sentiment = hp
		}
	}
	return p
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

// blendWeight is the model's share once n corrections of ready classes exist.
func blendWeight(n int) float64 {
	return math.Min(0.8, float64(n)/(float64(n)+60))
}

// blendHead mixes the rules' label with a head's prediction. classes are all the
// labels of this kind; it returns the chosen label, the model's probabilities
// restricted to ready classes, the weight and whether the model took part.
func blendHead(h *NBHead, hp *HeadPrediction, min int, classes []string, rules string) (string, map[string]float64, float64, bool) {
	readyCls, n := h.ready(min)
	if hp == nil || len(readyCls) < 2 {
		return rules, nil, 0, false
	}
	w := blendWeight(n)
	pm := map[string]float64{}
	var z float64
	for _, c := range readyCls {
		pm[c] = hp.Probs[c]
		z += hp.Probs[c]
	}
	for c := range pm {
		if z > 0 {
			pm[c] /= z
		}
	}
	best, bestP := rules, -1.0
	other := 0.3 / float64(len(classes)-1)
	for _, c := range classes {
		pr := other
		if c == rules {
			pr = 0.7
		}
		p := (1-w)*pr + w*pm[c]
		if p > bestP {
			best, bestP = c, p
		}
	}
	return best, pm, w, true
}

// blend combines the rules with the corrections model (see Model).
func (c *Classifier) blend(text, lang string, label Sentiment, score float64, intent Intent, sWhy, iWhy string) (Sentiment, float64, Intent, string, string) {
	sc := c.pool.Get().(*scratch)
	pred := c.model.predict(sc, c.lx, text)
	c.pool.Put(sc)
	sentClasses := []string{string(Negative), string(Neutral), string(Positive)}
	if best, pm, w, ok := blendHead(c.model.Sentiment, pred.Sentiment, c.minClass, sentClasses, string(label)); ok {
		newScore := (1-w)*score + w*(pm[string(Positive)]-pm[string(Negative)])
		sWhy = fmt.Sprintf("blend → %s: rules %s (%s) ×%.2f + corrections model %s ×%.2f", best, label, sWhy, 1-w, describe(pred.Sentiment, pm), w)
		label, score = Sentiment(best), newScore
	} else if c.model.Sentiment != nil {
		sWhy += fmt.Sprintf(" (corrections model waiting for %d corrections in two classes; has %s)", c.minClass, c.model.Sentiment.counts())
	}
	intentClasses := make([]string, len(Intents))
	for i, in := range Intents {
		intentClasses[i] = string(in)
	}
	if best, pm, w, ok := blendHead(c.model.Intent, pred.Intent, c.minClass, intentClasses, string(intent)); ok {
		iWhy = fmt.Sprintf("blend → %s: rules %s (%s) ×%.2f + corrections model %s ×%.2f", best, intent, iWhy, 1-w, describe(pred.Intent, pm), w)
		intent = Intent(best)
	} else if c.model.Intent != nil {
		iWhy += fmt.Sprintf(" (corrections model waiting for %d corrections in two classes; has %s)", c.minClass, c.model.Intent.counts())
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
