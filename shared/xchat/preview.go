package xchat

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/thrift/lib/go/thrift"
)

// A ReplyPreview is what a reply claims about the message it answers. The
// claims travel inside the reply's encrypted content, so the backend cannot
// check them and any participant could forge them; Validation says whether
// they match the signed original embedded in the preview (CRYPTO.md §10,
// "Reply preview validation").
type ReplyPreview struct {
	SenderID   string   // claimed sender of the original
	Text       string   // claimed text, possibly truncated
	Entities   []Entity // claimed entities
	SequenceID string   // claimed sequence id of the original
	MessageID  string   // claimed message id of the original
	Validation PreviewValidation

	// Reason says why Validation is PreviewInvalid.
	Reason error
}

// PreviewValidation is the outcome of checking a reply preview.
type PreviewValidation int

// The outcomes of checking a reply preview. A preview without an embedded
// original is PreviewUnchecked; treat an unchecked or invalid preview's
// claims as untrusted.
const (
	PreviewUnchecked PreviewValidation = iota
	PreviewValid
	PreviewInvalid
)

// String returns "unchecked", "valid" or "invalid".
func (v PreviewValidation) String() string {
	switch v {
	case PreviewValid:
		return "valid"
	case PreviewInvalid:
		return "invalid"
	}
	return "unchecked"
}

// preview is a parsed ReplyingToPreview.
type preview struct {
	senderID                    int64
	text, sequenceID, messageID string
	entities                    []Entity
	attachments                 []Attachment
	hasSender, hasText, hasSeq  bool
	hasID                       bool
	original, edit              *Event
}

// preview reads a ReplyingToPreview.
func (d *decoder) preview() (*preview, error) {
	p := &preview{}
	err := d.fields(func(id int16, t thrift.TType) error {
		switch id {
		case 1:
			return d.i64(t, &p.senderID, &p.hasSender)
		case 2:
			return d.str(t, &p.text, &p.hasText)
		case 3:
			return d.entities(t, &p.entities)
		case 4:
			return d.attachments(t, &p.attachments)
		case 6:
			return d.str(t, &p.sequenceID, &p.hasSeq)
		case 7:
			return d.str(t, &p.messageID, &p.hasID)
		case 8, 9:
			if t != thrift.STRUCT {
				return d.skip(t)
			}
			ev, err := d.event()
			if id == 8 {
				p.original = ev
			} else {
				p.edit = ev
			}
			return err
		}
		return d.skip(t)
	})
	return p, err
}

// public returns the preview's claims, unchecked.
func (p *preview) public() *ReplyPreview {
	r := &ReplyPreview{Text: p.text, Entities: p.entities, SequenceID: p.sequenceID, MessageID: p.messageID}
	if p.hasSender {
		r.SenderID = strconv.FormatInt(p.senderID, 10)
	}
	return r
}

// validate checks a preview that embeds its original the way the SDK does:
// the original must be in the reply's conversation, carry a valid signature
// by its sender's registered key, decrypt under a supplied conversation key,
// and hold what the preview claims. An embedded edit must pass the same
// checks, come from the original's author, and then stands for the text
// and entities.
func (p *preview) validate(reply *Event, keys ConversationKeys, signers SigningKeys) error {
	orig, err := openEmbedded(reply, p.original, keys, signers)
	if err != nil {
		return fmt.Errorf("original: %w", err)
	}
	if orig.Kind != ContentText {
		return errors.New("original is not a text message")
	}
	if err := p.checkIDs(p.original); err != nil {
		return err
	}
	quoted := orig
	if p.edit != nil {
		if !p.edit.hasSenderID || p.edit.SenderID != p.original.SenderID {
			return errors.New("edit is not by the original's author")
		}
		if quoted, err = openEmbedded(reply, p.edit, keys, signers); err != nil {
			return fmt.Errorf("edit: %w", err)
		}
		if quoted.Kind != ContentEdit {
			return errors.New("embedded edit is not an edit")
		}
	}
	return p.checkContent(quoted, orig)
}

// openEmbedded verifies and decrypts an event embedded in a reply preview.
func openEmbedded(reply, ev *Event, keys ConversationKeys, signers SigningKeys) (Content, error) {
	if ev == nil {
		return Content{}, errors.New("missing")
	}
	if !ev.hasConversationID || !reply.hasConversationID || ev.ConversationID != reply.ConversationID {
		return Content{}, errors.New("from another conversation")
	}
	pt, err := open(ev, keys, signers)
	if err != nil {
		return Content{}, err
	}
	defer clear(pt)
	c, _, err := parseContent(pt)
	return c, err
}

// checkIDs compares the claimed sender, sequence id and message id with the
// original's envelope.
func (p *preview) checkIDs(orig *Event) error {
	if p.hasSender && orig.SenderID != strconv.FormatInt(p.senderID, 10) {
		return errors.New("sender differs from the original's")
	}
	if p.hasSeq && orig.SequenceID != p.sequenceID {
		return errors.New("sequence id differs from the original's")
	}
	if p.hasID && (!orig.hasMessageID || orig.MessageID != p.messageID) {
		return errors.New("message id differs from the original's")
	}
	return nil
}

// checkContent compares the claimed text and entities with the quoted
// content and the claimed attachments with the original's. A claimed text
// may be a prefix of the quoted one, previews being truncated on the wire.
func (p *preview) checkContent(quoted, orig Content) error {
	if p.hasText && (!utf8.ValidString(p.text) || !strings.HasPrefix(quoted.Text, p.text)) {
		return errors.New("text differs from the original's")
	}
	for _, e := range p.entities {
		if !slices.Contains(quoted.Entities, e) {
			return errors.New("entities differ from the original's")
		}
	}
	for _, a := range p.attachments {
		if !slices.ContainsFunc(orig.Attachments, func(o Attachment) bool { return string(o.canonical) == string(a.canonical) }) {
			return errors.New("attachments differ from the original's")
		}
	}
	return nil
}
