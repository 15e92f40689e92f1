package intake

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/store"
)

// fakeOpener opens X Chat messages as told: with text, with a problem, or
// failing; it records the messages it is given.
type fakeOpener struct {
	text, problem string
	err           error
	ids           []string
}

func (o *fakeOpener) Open(_ context.Context, env *care.Envelope) error {
	o.ids = append(o.ids, env.Message.ID)
	switch {
	case o.err != nil:
		return o.err
	case o.problem != "":
		env.Message.XChat.Problem = o.problem
	default:
		env.Message.Text, env.Message.XChat.Verified = o.text, true
	}
	return nil
}

// TestHandleXChatOpener: with an Opener, an X Chat message without text is
// opened before it is stored, in either direction: opened, its text is stored
// and decided on as any DM's; not opened, it is kept without text, saying
// why, and counted unread; the Opener's failure is a retry, nothing stored.
// A message with text, or not X Chat, is not given to the Opener.
func TestHandleXChatOpener(t *testing.T) {
	const unverified = "could not verify: the signature is missing, or not that of the signing key user 2900000000000000001 registered with X"
	tests := []struct {
		name       string
		env        care.Envelope
		opener     fakeOpener
		opened     bool
		wantText   string
		wantProb   string
		wantCount  int64
		wantFailed int
	}{
		{name: "opened", env: chat("1820000000000000201", true, "", t0), opener: fakeOpener{text: "¿Dónde está mi maleta?"},
			opened: true, wantText: "¿Dónde está mi maleta?"},
		{name: "the brand's, opened", env: chat("1820000000000000202", false, "", t0), opener: fakeOpener{text: "Te ayudamos"},
			opened: true, wantText: "Te ayudamos"},
		{name: "could not verify", env: chat("1820000000000000203", true, "", t0), opener: fakeOpener{problem: unverified},
			opened: true, wantProb: unverified, wantCount: 1},
		{name: "X unreachable", env: chat("1820000000000000204", true, "", t0), opener: fakeOpener{err: errors.New("X unreachable")},
			opened: true, wantFailed: 1},
		{name: "with text already", env: chat("1820000000000000205", true, "hola", t0), wantText: "hola"},
		{name: "a DM", env: message("1820000000000000206"), wantText: "@pajarito_air hola, mi vuelo se ha cancelado"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, nil)
			cls := &classifier{}
			var logs bytes.Buffer
			p := &Processor{Store: s, Pipeline: cls, Opener: &tt.opener, Log: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: io.Discard}
			resp, err := p.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{sqsRecord("m-1", envelope(t, tt.env))}})
			if err != nil || len(resp.BatchItemFailures) != tt.wantFailed {
				t.Fatalf("Handle = %+v, %v; want %d failures", resp, err, tt.wantFailed)
			}
			if (len(tt.opener.ids) == 1) != tt.opened {
				t.Errorf("the opener got %v, want it called: %v", tt.opener.ids, tt.opened)
			}
			if got := signalCounts(t, s, store.SignalUnreadChat)[store.SignalKeyAll]; got != tt.wantCount {
				t.Errorf("unread X Chat messages counted %d, want %d", got, tt.wantCount)
			}
			if tt.wantFailed > 0 {
				if len(cls.ids) != 0 || !strings.Contains(logs.String(), `"outcome":"retry"`) {
					t.Errorf("a failed opening reached the pipeline (%v) or was not retried: %s", cls.ids, logs.String())
				}
				return
			}
			checkStored(t, s, tt.env.Message, tt.wantText, tt.wantProb, tt.opened && tt.wantProb == "")
			if len(cls.ids) != 1 {
				t.Errorf("pipeline got %v, want the message", cls.ids)
			}
			if tt.wantProb != "" && !strings.Contains(logs.String(), `"xchat_problem":"`+tt.wantProb+`"`) {
				t.Errorf("the log does not say the problem: %s", logs.String())
			}
		})
	}
}

// checkStored checks the text and X Chat state of the stored message id, the
// first of its case.
func checkStored(t *testing.T, s *store.Store, sent *care.Message, text, problem string, verified bool) {
	t.Helper()
	id, caseID := sent.ID, "t"+sent.ID
	if sent.Channel == care.DM {
		caseID = "d" + id
	}
	_, msgs, err := s.GetCase(t.Context(), caseID)
	if err != nil || len(msgs) != 1 || msgs[0].ID != id {
		t.Fatalf("case of %s: %+v, %v", id, msgs, err)
	}
	m := msgs[0]
	if m.Text != text || (m.XChat != nil && (m.XChat.Problem != problem || m.XChat.Verified != verified)) {
		t.Errorf("stored %q, %+v; want text %q, problem %q, verified %v", m.Text, m.XChat, text, problem, verified)
	}
}
