package xchat

import (
	"strconv"

	"github.com/apache/thrift/lib/go/thrift"
)

// ContentKind says what a decrypted message holds: the variant of the Thrift
// MessageEntryContents union.
type ContentKind int

// The kinds of content. ContentUnknown covers variants this package does not
// interpret (read markers, calls, drafts…); their union field id is kept in
// Content.TypeID.
const (
	ContentUnknown         ContentKind = iota
	ContentText                        // a text message
	ContentReaction                    // a reaction added to a message
	ContentReactionRemoved             // a reaction removed from a message
	ContentEdit                        // an edit of an earlier message
)

var contentNames = [...]string{"unknown", "text", "reaction", "reactionRemoved", "edit"}

// String returns the content kind's name as the SDK's contentType spells it.
func (k ContentKind) String() string {
	if k >= 0 && int(k) < len(contentNames) {
		return contentNames[k]
	}
	return "ContentKind(" + strconv.Itoa(int(k)) + ")"
}

// Content is a decrypted message's content.
type Content struct {
	Kind ContentKind

	// Text is a text message's text, or an edit's new text.
	Text string

	// Entities are the rich-text entities of a text message or an edit.
	Entities []Entity

	// Attachments are a text message's attachments.
	Attachments []Attachment

	// Emoji is a reaction's emoji.
	Emoji string

	// TargetSequenceID is the sequence id of the message a reaction or an
	// edit applies to.
	TargetSequenceID string

	// TypeID is the union field id of unknown content.
	TypeID int16
}

// An Entity marks a span of text, in the indexes the sender's client used.
type Entity struct {
	Start, End int32
	Kind       EntityKind

	hasStart, hasEnd bool
}

// EntityKind is the variant of the Thrift RichTextContent union.
type EntityKind int16

// The kinds of entity, numbered as the union's field ids.
const (
	EntityUnknown     EntityKind = 0
	EntityHashtag     EntityKind = 1
	EntityCashtag     EntityKind = 2
	EntityMention     EntityKind = 3
	EntityURL         EntityKind = 4
	EntityEmail       EntityKind = 5
	EntityAddress     EntityKind = 6
	EntityPhoneNumber EntityKind = 7
)

// An Attachment is one of a message's attachments. Only its kind is
// interpreted; media are encrypted separately and not handled here.
type Attachment struct {
	Kind AttachmentKind

	canonical []byte // the attachment's canonical encoding, for comparison
}

// AttachmentKind is the variant of the Thrift MessageAttachment union.
type AttachmentKind int16

// The kinds of attachment, numbered as the union's field ids.
const (
	AttachmentMedia       AttachmentKind = 1
	AttachmentPost        AttachmentKind = 2
	AttachmentURL         AttachmentKind = 3
	AttachmentUnifiedCard AttachmentKind = 4
	AttachmentMoney       AttachmentKind = 5
	AttachmentJetfuel     AttachmentKind = 6
)

// parseContent parses a decrypted MessageEntryHolder.
func parseContent(b []byte) (Content, *preview, error) {
	var c Content
	var p *preview
	d := newDecoder(b)
	err := d.fields(func(id int16, t thrift.TType) error {
		if id != 1 || t != thrift.STRUCT {
			return d.skip(t)
		}
		var err error
		c, p, err = d.entryContents()
		return err
	})
	if err == nil && d.buf.Len() != 0 {
		return Content{}, nil, malformed("trailing bytes after content", nil)
	}
	if err != nil {
		return Content{}, nil, malformed("content", err)
	}
	return c, p, nil
}

// entryContents reads the MessageEntryContents union.
func (d *decoder) entryContents() (Content, *preview, error) {
	var c Content
	var p *preview
	known := func(id int16) bool { return id >= 1 && id <= 16 }
	id, err := d.union(known, func(id int16, t thrift.TType) error {
		switch id {
		case 1:
			c.Kind = ContentText
			return d.messageContents(&c, &p)
		case 2, 3:
			c.Kind = ContentReaction
			if id == 3 {
				c.Kind = ContentReactionRemoved
			}
			return d.fields(func(id int16, t thrift.TType) error {
				switch id {
				case 1:
					return d.str(t, &c.TargetSequenceID, nil)
				case 2:
					return d.str(t, &c.Emoji, nil)
				}
				return d.skip(t)
			})
		case 4:
			c.Kind = ContentEdit
			return d.messageEdit(&c)
		}
		return d.skip(t)
	})
	if c.Kind == ContentUnknown {
		c.TypeID = id
	}
	return c, p, err
}

// messageContents reads a MessageContents: a text message.
func (d *decoder) messageContents(c *Content, p **preview) error {
	return d.fields(func(id int16, t thrift.TType) error {
		switch id {
		case 1:
			return d.str(t, &c.Text, nil)
		case 2:
			return d.entities(t, &c.Entities)
		case 3:
			return d.attachments(t, &c.Attachments)
		case 4:
			if t != thrift.STRUCT {
				return d.skip(t)
			}
			var err error
			*p, err = d.preview()
			return err
		}
		return d.skip(t)
	})
}

// messageEdit reads a MessageEdit.
func (d *decoder) messageEdit(c *Content) error {
	return d.fields(func(id int16, t thrift.TType) error {
		switch id {
		case 1:
			return d.str(t, &c.TargetSequenceID, nil)
		case 2:
			return d.str(t, &c.Text, nil)
		case 3:
			return d.entities(t, &c.Entities)
		}
		return d.skip(t)
	})
}

// entities reads a list of RichTextEntity.
func (d *decoder) entities(t thrift.TType, dst *[]Entity) error {
	return d.list(t, func(elem thrift.TType) error {
		if elem != thrift.STRUCT {
			return d.skip(elem)
		}
		var e Entity
		err := d.fields(func(id int16, t thrift.TType) error {
			switch id {
			case 1:
				return d.i32(t, &e.Start, &e.hasStart)
			case 2:
				return d.i32(t, &e.End, &e.hasEnd)
			case 3:
				if t != thrift.STRUCT {
					return d.skip(t)
				}
				known := func(id int16) bool { return id >= 1 && id <= 7 }
				kind, err := d.union(known, func(_ int16, t thrift.TType) error { return d.skip(t) })
				e.Kind = EntityKind(kind)
				return err
			}
			return d.skip(t)
		})
		*dst = append(*dst, e)
		return err
	})
}

// attachments reads a list of MessageAttachment, dropping variants this
// package does not know, as the SDK does.
func (d *decoder) attachments(t thrift.TType, dst *[]Attachment) error {
	return d.list(t, func(elem thrift.TType) error {
		if elem != thrift.STRUCT {
			return d.skip(elem)
		}
		start := d.pos()
		known := func(id int16) bool { return id >= 1 && id <= 6 }
		kind, err := d.union(known, func(_ int16, t thrift.TType) error { return d.skip(t) })
		if err != nil || kind == 0 {
			return err
		}
		c, err := canonical(thrift.STRUCT, d.data[start:d.pos()])
		*dst = append(*dst, Attachment{Kind: AttachmentKind(kind), canonical: c})
		return err
	})
}
