package care

import (
	"crypto/sha256"
	"encoding/hex"
	"hash/fnv"
	"strconv"
	"time"
)

// XChatMessageID is the X id Pajarito gives an X Chat message, whose own id
// (the event's message id) is a UUID: a snowflake of the message's time
// whose sequence bits come from that id, so that the message sorts with the
// case's others and a repeated delivery finds the same message.
func XChatMessageID(eventID string, at time.Time) string {
	h := fnv.New64a()
	h.Write([]byte(eventID))
	return strconv.FormatUint(Snowflake(at, h.Sum64()), 10)
}

// XChatReplyMessageID is the X Chat message id of the reply whose idempotency
// key is key: a UUID (version 8, RFC 9562) made from the key, the same for
// every attempt, so that a retry is the same message to X and the copy X's
// webhook delivers back is known as the reply's.
func XChatReplyMessageID(key string) string {
	sum := sha256.Sum256([]byte("pajarito xchat reply\x00" + key))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x80 // version 8
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
