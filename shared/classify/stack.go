package classify

import (
	"fmt"
	"math"
	"strings"
)

// Stacking: how the corrections model and the rules are combined.
//
// A naive Bayes head trained on a few hundred corrections is a poor classifier on
// its own (its posteriors are overconfident), and blending it with the rules by a
// fixed weight made the labels worse on real tweets: on 1,000 corrections of
// airline tweets, English macro-F1 fell from 0.74 to 0.73 and Spanish from 0.59 to
// 0.51. So the combination is learned and checked on the deployment's own
// corrections instead:
//
//  1. cross-validation (stackFolds folds): each correction is predicted by a head
//     trained without it, giving the head's out-of-fold log posterior;
//  2. a small multinomial logistic regression (the Combiner) learns, from those and
//     the rules' label and score, which to believe for which class;
//  3. the combination is validated on held-out corrections (two halves, each
//     predicted by a combiner fitted on the other) against the rules alone on the
//     same corrections; the model takes part only when it beats the rules by
//     minGain macro-F1, and chance by chanceGain — learning from agents must never
//     make Pajarito worse.
//
// The classes the combiner chooses among are the head's ready classes (at least
// MinPerClass corrections each). When the rules say a class that is not ready (say
// "other", which agents rarely correct to), the model has never seen that class
// right, so it overrules it only when it is confident (overruleProb).
const (
	stackFolds = 5
	minGain    = 0.01
	chanceGain = 0.05
	// overruleProb is the combiner probability needed to replace a rules label
	// that is not a ready class.
	overruleProb = 0.6
	// logFloor bounds log posteriors, so that one unseen class does not dominate.
	logFloor = -12.0
)

// Combiner is a multinomial logistic regression over the rules' label, the rules'
// sentiment score and the naive Bayes head's log posteriors.
type Combiner struct {
	// Classes are the ready classes it chooses among.
	Classes []string `json:"classes"`
	// Weights holds one row per class, over the features of combinerInput.
	Weights [][]float64 `json:"weights"`
}

// Validation is how the corrections model did on held-out corrections, against the
// rules on the same corrections.
type Validation struct {
	Corrections  int     `json:"corrections"`
	RulesMacroF1 float64 `json:"rules_macro_f1"`
	ModelMacroF1 float64 `json:"model_macro_f1"`
	// Active is true when the model beat the rules by enough to take part.
	Active bool `json:"active"`
}

func (v *Validation) String() string {
	return fmt.Sprintf("validated on %d corrections: macro-F1 %.2f, rules alone %.2f", v.Corrections, v.ModelMacroF1, v.RulesMacroF1)
}

// stackDoc is one correction seen by the stacking step.
type stackDoc struct {
	nbDoc
	rules string  // the rules' label
	score float64 // the rules' sentiment score (0 for intent)
}

// combinerInput returns the combiner's features: a bias, the rules' label one-hot
// over all classes, the rules' score and the head's log posterior of each ready
// class (from logp, indexed like headClasses).
func combinerInput(all, ready []string, rules string, score float64, headClasses []string, logp []float64) []float64 {
	x := make([]float64, 0, 2+len(all)+len(ready))
	x = append(x, 1)
	for _, c := range all {
		if c == rules {
			x = append(x, 1)
		} else {
			x = append(x, 0)
		}
	}
	x = append(x, score)
	for _, c := range ready {
		v := logFloor
		for i, hc := range headClasses {
			if hc == c && logp != nil {
				v = math.Max(logp[i], logFloor)
			}
		}
		x = append(x, v/4) // log posteriors span ~[-12, 0]: scale them near the others
	}
	return x
}

// softmax returns the combiner's probabilities of its classes for x.
func (cb *Combiner) softmax(x []float64) []float64 {
	z := make([]float64, len(cb.Classes))
	mx := math.Inf(-1)
	for k, w := range cb.Weights {
		for j, v := range x {
			z[k] += w[j] * v
		}
		mx = math.Max(mx, z[k])
	}
	var s float64
	for k := range z {
		z[k] = math.Exp(z[k] - mx)
		s += z[k]
	}
	for k := range z {
		z[k] /= s
	}
	return z
}

// choose returns the combined label and the combiner's probabilities (nil when the
// rules' label is not a ready class and the combiner is not confident enough to
// overrule it).
func (cb *Combiner) choose(x []float64, rules string) (string, map[string]float64) {
	p := cb.softmax(x)
	best, pm := 0, map[string]float64{}
	for k, c := range cb.Classes {
		pm[c] = p[k]
		if p[k] > p[best] {
			best = k
		}
	}
	if !contains(cb.Classes, rules) && p[best] < overruleProb {
		return rules, nil
	}
	return cb.Classes[best], pm
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// fitCombiner fits the combiner by full-batch gradient descent with L2
// regularisation (deterministic: same rows, same weights).
func fitCombiner(ready []string, xs [][]float64, ys []string) *Combiner {
	cb := &Combiner{Classes: ready, Weights: make([][]float64, len(ready))}
	if len(xs) == 0 {
		return cb
	}
	dim := len(xs[0])
	for k := range cb.Weights {
		cb.Weights[k] = make([]float64, dim)
	}
	const (
		iterations = 400
		rate       = 0.5
		l2         = 1e-3
	)
	grad := make([][]float64, len(ready))
	for k := range grad {
		grad[k] = make([]float64, dim)
	}
	n := float64(len(xs))
	for it := 0; it < iterations; it++ {
		for k := range grad {
			for j := range grad[k] {
				grad[k][j] = l2 * cb.Weights[k][j]
			}
		}
		for i, x := range xs {
			p := cb.softmax(x)
			for k, c := range ready {
				g := p[k]
				if c == ys[i] {
					g--
				}
				for j, v := range x {
					grad[k][j] += g * v / n
				}
			}
		}
		for k := range cb.Weights {
			for j := range cb.Weights[k] {
				cb.Weights[k][j] -= rate * grad[k][j]
			}
		}
	}
	return cb
}

// macroF1 over classes, of pred against gold.
func macroF1(classes, gold, pred []string) float64 {
	var sum float64
	for _, c := range classes {
		tp, pp, gp := 0, 0, 0
		for i := range gold {
			if pred[i] == c {
				pp++
			}
			if gold[i] == c {
				gp++
				if pred[i] == c {
					tp++
				}
			}
		}
		if tp > 0 {
			p, r := float64(tp)/float64(pp), float64(tp)/float64(gp)
			sum += 2 * p * r / (p + r)
		}
	}
	return sum / float64(len(classes))
}

// logPosterior returns the head's normalised log posterior of each of its classes
// for a document's distinct features.
func (h *NBHead) logPosterior(feats []string) []float64 {
	n := 0
	for _, d := range h.Docs {
		n += d
	}
	v := float64(len(h.Features))
	lp := make([]float64, len(h.Classes))
	for i := range h.Classes {
		lp[i] = math.Log((float64(h.Docs[i]) + 1) / (float64(n) + float64(len(h.Classes))))
		denom := math.Log(float64(h.Total[i]) + h.Alpha*v)
		for _, f := range feats {
			if counts, ok := h.Features[f]; ok {
				lp[i] += math.Log(float64(counts[i])+h.Alpha) - denom
			}
		}
	}
	return normaliseLog(lp)
}

func normaliseLog(lp []float64) []float64 {
	mx := math.Inf(-1)
	for _, l := range lp {
		mx = math.Max(mx, l)
	}
	var z float64
	for _, l := range lp {
		z += math.Exp(l - mx)
	}
	lz := mx + math.Log(z)
	out := make([]float64, len(lp))
	for i, l := range lp {
		out[i] = l - lz
	}
	return out
}

// stack trains a head on docs and, when at least two classes are ready, learns and
// validates its combination with the rules. all are every class of the label.
func stack(docs []stackDoc, all []string, minPerClass int) *NBHead {
	nb := make([]nbDoc, len(docs))
	for i, d := range docs {
		nb[i] = d.nbDoc
	}
	h := trainHead(nb)
	if h == nil {
		return nil
	}
	ready, _ := h.ready(minPerClass)
	if len(ready) < 2 {
		return h
	}
	// 1. Out-of-fold log posteriors.
	xs := make([][]float64, 0, len(docs))
	var ys, rules []string
	for f := 0; f < stackFolds; f++ {
		var train []nbDoc
		for i, d := range docs {
			if i%stackFolds != f {
				train = append(train, d.nbDoc)
			}
		}
		fh := trainHead(train)
		for i := f; i < len(docs); i += stackFolds {
			d := docs[i]
			var lp []float64
			var cls []string
			if fh != nil {
				lp, cls = fh.logPosterior(d.feats), fh.Classes
			}
			if !contains(ready, d.class) {
				continue // the combiner learns ready classes only
			}
			xs = append(xs, combinerInput(all, ready, d.rules, d.score, cls, lp))
			ys = append(ys, d.class)
			rules = append(rules, d.rules)
		}
	}
	// 2–3. Validate on two halves, then fit on all.
	var pred []string
	halves := [2][]int{}
	for i := range xs {
		halves[i%2] = append(halves[i%2], i)
	}
	gold := make([]string, 0, len(xs))
	ruleLabels := make([]string, 0, len(xs))
	for side := 0; side < 2; side++ {
		var fx [][]float64
		var fy []string
		for _, i := range halves[1-side] {
			fx, fy = append(fx, xs[i]), append(fy, ys[i])
		}
		cb := fitCombiner(ready, fx, fy)
		for _, i := range halves[side] {
			l, _ := cb.choose(xs[i], rules[i])
			pred = append(pred, l)
			gold = append(gold, ys[i])
			ruleLabels = append(ruleLabels, rules[i])
		}
	}
	v := &Validation{
		Corrections:  len(xs),
		RulesMacroF1: round3(macroF1(ready, gold, ruleLabels)),
		ModelMacroF1: round3(macroF1(ready, gold, pred)),
	}
	// Guessing by class frequency scores 1/len(ready) on average: a model must
	// also beat that clearly, or it learned nothing (bad rules are no excuse).
	v.Active = v.ModelMacroF1 >= v.RulesMacroF1+minGain && v.ModelMacroF1 >= 1/float64(len(ready))+chanceGain
	h.Validation = v
	if v.Active {
		h.Combiner = fitCombiner(ready, xs, ys)
	}
	return h
}

// combine applies a head's combiner to a prediction. It returns the label, the
// combiner's probabilities (nil when the rules' label stands) and a description of
// what happened for the reasons.
func (h *NBHead) combine(all []string, hp *HeadPrediction, rules string, score float64, minPerClass int) (string, map[string]float64, string) {
	switch {
	case h == nil:
		return rules, nil, ""
	case h.Validation == nil:
		return rules, nil, fmt.Sprintf(" (corrections model waiting for %d corrections in each of two classes; has %s)", minPerClass, h.counts())
	case !h.Validation.Active || h.Combiner == nil:
		return rules, nil, fmt.Sprintf(" (corrections model off: %s)", h.Validation)
	}
	var lp []float64
	if hp != nil {
		lp = make([]float64, len(h.Classes))
		for i, c := range h.Classes {
			lp[i] = math.Log(math.Max(hp.Probs[c], 1e-300))
		}
	}
	x := combinerInput(all, h.Combiner.Classes, rules, score, h.Classes, lp)
	label, pm := h.Combiner.choose(x, rules)
	if pm == nil {
		return rules, nil, fmt.Sprintf(" (corrections model not confident enough to overrule %s, a class it has few corrections of)", rules)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "blend → %s: rules %s", label, rules)
	return label, pm, b.String()
}
