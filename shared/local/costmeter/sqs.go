package costmeter

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/pajarito-care/pajarito/shared/cost"
)

// SQS is a proxy in front of an SQS endpoint (and SNS on the same one, as goaws
// serves both) that counts requests as SQS bills them: each call one request per
// 64 KiB chunk of the messages it carries (cost.Chunks; a batch call is one
// call), by action. A receive that returned nothing is counted apart too
// (EmptyReceives), for the event source mapping's idle polling is priced as a
// fixed cost. SNS calls (query protocol, Action=…) are counted by action.
type SQS struct {
	proxy // URL is the proxy's endpoint

	mu sync.Mutex
	c  SQSCounts
}

// SQSCounts are the requests counted so far.
type SQSCounts struct {
	// Calls counts the SQS calls by action (SendMessageBatch, …); Billed the
	// requests SQS bills for them.
	Calls  map[string]int64
	Billed int64
	// EmptyReceives are the ReceiveMessage calls that returned no message (in
	// Calls and Billed too); Received the messages received.
	EmptyReceives, Received int64
	// SNS counts the SNS calls by action (Publish, …).
	SNS map[string]int64
}

// Sub returns c − o.
func (c SQSCounts) Sub(o SQSCounts) SQSCounts {
	r := newSQSCounts()
	r.Billed, r.EmptyReceives, r.Received = c.Billed-o.Billed, c.EmptyReceives-o.EmptyReceives, c.Received-o.Received
	for k, v := range c.Calls {
		r.Calls[k] = v - o.Calls[k]
	}
	for k, v := range c.SNS {
		r.SNS[k] = v - o.SNS[k]
	}
	return r
}

// StartSQS serves a proxy to backend (goaws's endpoint) on a free local port.
func StartSQS(backend string) (*SQS, error) {
	s := &SQS{c: newSQSCounts()}
	s.observe = func(r *http.Request, body []byte, _ int, answer []byte) {
		s.count(r.Header.Get("X-Amz-Target"), body, answer)
	}
	if err := s.start(backend); err != nil {
		return nil, err
	}
	return s, nil
}

// Counts returns what was counted so far.
func (s *SQS) Counts() SQSCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return newSQSCounts().add(s.c)
}

func newSQSCounts() SQSCounts {
	return SQSCounts{Calls: map[string]int64{}, SNS: map[string]int64{}}
}

// Add returns c + o.
func (c SQSCounts) Add(o SQSCounts) SQSCounts { return newSQSCounts().add(c).add(o) }

func (c SQSCounts) add(o SQSCounts) SQSCounts {
	c.Billed += o.Billed
	c.EmptyReceives += o.EmptyReceives
	c.Received += o.Received
	for k, v := range o.Calls {
		c.Calls[k] += v
	}
	for k, v := range o.SNS {
		c.SNS[k] += v
	}
	return c
}

// sqsMessages is the part of a request or an answer that carries messages.
type sqsMessages struct {
	MessageBody string `json:"MessageBody"`
	Entries     []struct {
		MessageBody string `json:"MessageBody"`
	} `json:"Entries"`
	Messages []struct {
		Body string `json:"Body"`
	} `json:"Messages"`
}

func (s *SQS) count(target string, body, answer []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	action, ok := strings.CutPrefix(target, "AmazonSQS.")
	if !ok { // SNS speaks the query protocol
		form, err := url.ParseQuery(string(body))
		a := form.Get("Action")
		if err != nil || a == "" {
			a = "unknown"
		}
		s.c.SNS[a]++
		return
	}
	s.c.Calls[action]++
	var in, out sqsMessages
	_ = json.Unmarshal(body, &in)
	var payload int64
	switch action {
	case "SendMessage":
		payload = int64(len(in.MessageBody))
	case "SendMessageBatch":
		for _, e := range in.Entries {
			payload += int64(len(e.MessageBody))
		}
	case "ReceiveMessage":
		_ = json.Unmarshal(answer, &out)
		for _, m := range out.Messages {
			payload += int64(len(m.Body))
		}
		s.c.Received += int64(len(out.Messages))
		if len(out.Messages) == 0 {
			s.c.EmptyReceives++
		}
	}
	s.c.Billed += cost.Chunks(payload, cost.SQSChunkBytes)
}
