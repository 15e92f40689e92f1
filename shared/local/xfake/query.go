package xfake

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxQueryLength is the longest query GET /2/tweets/search/recent accepts.
const MaxQueryLength = 512

// Query is a parsed recent-search query. The fake understands this subset of X's
// search syntax, enough for a brand's listening queries:
//
//   - keyword: a tokenised, case-insensitive match of a whole word of the post's full
//     text (pajarito matches "Pajarito!", "@Pajarito" and "#pajarito", not
//     "pajaritos"); a keyword with punctuation inside is matched as a phrase;
//   - "exact phrase": the words in sequence;
//   - @handle (the post mentions the account), #hashtag (the post has the hashtag);
//   - from:handle or from:id, conversation_id:id;
//   - lang:xx, is:retweet, is:reply, is:quote, is:verified, has:links,
//     has:mentions, has:hashtags;
//   - A B (both; a space is AND), A OR B, -A (not), and (grouping). AND binds
//     tighter than OR, as on X.
//
// As on X, OR must be upper case, a query needs at least one term that can stand
// alone (lang:, is: and has: cannot, nor a negation), and an unknown operator
// (word: with letters before the colon) is an error. Accents are not folded.
type Query struct {
	text string
	root node
}

// ParseQuery parses a search query.
func ParseQuery(q string) (*Query, error) {
	if strings.TrimSpace(q) == "" {
		return nil, fmt.Errorf("query is empty")
	}
	if n := utf8.RuneCountInString(q); n > MaxQueryLength {
		return nil, fmt.Errorf("query is %d characters long; the maximum is %d", n, MaxQueryLength)
	}
	toks, err := lexQuery(q)
	if err != nil {
		return nil, err
	}
	p := &queryParser{toks: toks}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q at token %d", p.toks[p.pos].text, p.pos+1)
	}
	if !root.standalone() {
		return nil, fmt.Errorf("query %q has no term that can stand alone: lang:, is:, has: and negated terms must be combined with a keyword, phrase, @mention, #hashtag or from:", q)
	}
	return &Query{text: q, root: root}, nil
}

// String returns the query as written.
func (q *Query) String() string { return q.text }

// Match reports whether post, written by author, matches the query.
func (q *Query) Match(post *Post, author User) bool {
	return q.root.match(newDoc(post, author))
}

// doc is what a query is matched against.
type doc struct {
	words    []string // lower-case word tokens of the full text
	mentions set      // lower-case usernames
	hashtags set      // lower-case tags
	links    bool
	post     *Post
	author   User
}

func newDoc(p *Post, author User) *doc {
	text := p.fullText()
	ents := p.Entities
	if p.NoteTweet != nil && p.NoteTweet.Entities != nil {
		ents = p.NoteTweet.Entities
	}
	if ents == nil {
		ents = deriveEntities(text, func(string) string { return "" })
	}
	d := &doc{words: words(text), mentions: set{}, hashtags: set{}, links: len(ents.URLs) > 0, post: p, author: author}
	for _, m := range ents.Mentions {
		d.mentions[strings.ToLower(m.Username)] = true
	}
	for _, h := range ents.Hashtags {
		d.hashtags[strings.ToLower(h.Tag)] = true
	}
	return d
}

// words splits text into lower-case word tokens.
func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !isWordRune(r) })
}

// ---- syntax tree ----

type node interface {
	match(d *doc) bool
	// standalone reports whether the node may form a query on its own.
	standalone() bool
}

type orNode []node

func (n orNode) match(d *doc) bool {
	for _, c := range n {
		if c.match(d) {
			return true
		}
	}
	return false
}

func (n orNode) standalone() bool {
	for _, c := range n {
		if !c.standalone() {
			return false
		}
	}
	return true
}

type andNode []node

func (n andNode) match(d *doc) bool {
	for _, c := range n {
		if !c.match(d) {
			return false
		}
	}
	return true
}

func (n andNode) standalone() bool {
	for _, c := range n {
		if c.standalone() {
			return true
		}
	}
	return false
}

type notNode struct{ n node }

func (n notNode) match(d *doc) bool { return !n.n.match(d) }
func (n notNode) standalone() bool  { return false }

// phraseNode matches words in sequence (a keyword is a one-word phrase).
type phraseNode []string

func (n phraseNode) match(d *doc) bool {
	if len(n) == 0 {
		return false
	}
	for i := 0; i+len(n) <= len(d.words); i++ {
		ok := true
		for j, w := range n {
			if d.words[i+j] != w {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func (n phraseNode) standalone() bool { return true }

// opNode is an operator such as @handle, #tag, from:, lang:, is:, has:.
type opNode struct {
	op, value string // value is lower case except for ids
}

func (n opNode) match(d *doc) bool {
	p := d.post
	switch n.op {
	case "@":
		return d.mentions[n.value]
	case "#":
		return d.hashtags[n.value]
	case "from":
		return strings.EqualFold(d.author.Username, n.value) || p.AuthorID == n.value
	case "conversation_id":
		return p.ConversationID == n.value
	case "lang":
		return strings.EqualFold(p.Lang, n.value)
	case "is":
		switch n.value {
		case "retweet":
			return p.hasRef(RefRetweeted)
		case "reply":
			return p.hasRef(RefRepliedTo) || p.InReplyToUserID != ""
		case "quote":
			return p.hasRef(RefQuoted)
		case "verified":
			return d.author.Verified
		}
	case "has":
		switch n.value {
		case "links":
			return d.links
		case "mentions":
			return len(d.mentions) > 0
		case "hashtags":
			return len(d.hashtags) > 0
		}
	}
	return false
}

func (n opNode) standalone() bool {
	switch n.op {
	case "lang", "is", "has":
		return false
	}
	return true
}

// operator values the fake understands.
var (
	isValues  = set{"retweet": true, "reply": true, "quote": true, "verified": true}
	hasValues = set{"links": true, "mentions": true, "hashtags": true}
)

// ---- lexer and parser ----

type qtoken struct {
	kind byte // '(' ')' 'O' (OR), '-' (negation prefix), 'p' (phrase), 't' (term)
	text string
}

func lexQuery(q string) ([]qtoken, error) {
	var toks []qtoken
	rs := []rune(q)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '(' || r == ')':
			toks = append(toks, qtoken{kind: byte(r), text: string(r)})
			i++
		case r == '-' && i+1 < len(rs) && !unicode.IsSpace(rs[i+1]) && rs[i+1] != ')':
			toks = append(toks, qtoken{kind: '-', text: "-"})
			i++
		case r == '"':
			j := i + 1
			for j < len(rs) && rs[j] != '"' {
				j++
			}
			if j == len(rs) {
				return nil, fmt.Errorf("unterminated quoted phrase starting at character %d", i+1)
			}
			toks = append(toks, qtoken{kind: 'p', text: string(rs[i+1 : j])})
			i = j + 1
		default:
			j := i
			for j < len(rs) && !unicode.IsSpace(rs[j]) && rs[j] != '(' && rs[j] != ')' && rs[j] != '"' {
				j++
			}
			word := string(rs[i:j])
			if word == "OR" {
				toks = append(toks, qtoken{kind: 'O', text: word})
			} else {
				toks = append(toks, qtoken{kind: 't', text: word})
			}
			i = j
		}
	}
	return toks, nil
}

type queryParser struct {
	toks []qtoken
	pos  int
}

func (p *queryParser) peek() (qtoken, bool) {
	if p.pos < len(p.toks) {
		return p.toks[p.pos], true
	}
	return qtoken{}, false
}

func (p *queryParser) or() (node, error) {
	first, err := p.and()
	if err != nil {
		return nil, err
	}
	alts := orNode{first}
	for {
		t, ok := p.peek()
		if !ok || t.kind != 'O' {
			break
		}
		p.pos++
		next, err := p.and()
		if err != nil {
			return nil, err
		}
		alts = append(alts, next)
	}
	if len(alts) == 1 {
		return first, nil
	}
	return alts, nil
}

func (p *queryParser) and() (node, error) {
	var all andNode
	for {
		t, ok := p.peek()
		if !ok || t.kind == ')' || t.kind == 'O' {
			break
		}
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		all = append(all, n)
	}
	switch len(all) {
	case 0:
		if t, ok := p.peek(); ok {
			return nil, fmt.Errorf("unexpected %q at token %d: OR and ) need a term before them", t.text, p.pos+1)
		}
		return nil, fmt.Errorf("query ends where a term is expected")
	case 1:
		return all[0], nil
	}
	return all, nil
}

func (p *queryParser) unary() (node, error) {
	if t, _ := p.peek(); t.kind == '-' {
		p.pos++
		n, err := p.primary()
		if err != nil {
			return nil, err
		}
		return notNode{n}, nil
	}
	return p.primary()
}

func (p *queryParser) primary() (node, error) {
	t, ok := p.peek()
	if !ok {
		return nil, fmt.Errorf("query ends where a term is expected")
	}
	p.pos++
	switch t.kind {
	case '(':
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if c, ok := p.peek(); !ok || c.kind != ')' {
			return nil, fmt.Errorf("missing ) for the ( at token %d", p.pos)
		}
		p.pos++
		return n, nil
	case 'p':
		ws := words(t.text)
		if len(ws) == 0 {
			return nil, fmt.Errorf("quoted phrase %q has no words", t.text)
		}
		return phraseNode(ws), nil
	case 't':
		return term(t.text)
	}
	return nil, fmt.Errorf("unexpected %q at token %d", t.text, p.pos)
}

// term parses a bare term: a keyword or an operator.
func term(s string) (node, error) {
	switch {
	case strings.HasPrefix(s, "@") && len(s) > 1:
		return opNode{op: "@", value: strings.ToLower(s[1:])}, nil
	case strings.HasPrefix(s, "#") && len(s) > 1:
		return opNode{op: "#", value: strings.ToLower(s[1:])}, nil
	}
	if op, value, ok := strings.Cut(s, ":"); ok && op != "" && isLetters(op) {
		if value == "" {
			return nil, fmt.Errorf("operator %q has no value", op+":")
		}
		switch op {
		case "from", "lang":
			return opNode{op: op, value: strings.ToLower(strings.TrimPrefix(value, "@"))}, nil
		case "conversation_id":
			return opNode{op: op, value: value}, nil
		case "is":
			if !isValues[strings.ToLower(value)] {
				return nil, fmt.Errorf("is:%s is not supported by the fake (is:retweet, is:reply, is:quote, is:verified are)", value)
			}
			return opNode{op: op, value: strings.ToLower(value)}, nil
		case "has":
			if !hasValues[strings.ToLower(value)] {
				return nil, fmt.Errorf("has:%s is not supported by the fake (has:links, has:mentions, has:hashtags are)", value)
			}
			return opNode{op: op, value: strings.ToLower(value)}, nil
		}
		return nil, fmt.Errorf("reference to invalid operator %q", op)
	}
	ws := words(s)
	if len(ws) == 0 {
		return nil, fmt.Errorf("term %q has no words", s)
	}
	return phraseNode(ws), nil
}

func isLetters(s string) bool {
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}
