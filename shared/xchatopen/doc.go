// Package xchatopen opens the X Chat messages the brand receives and sends
// (issue 18 §3, "Incoming"), with the brand's X Chat keys, before the
// processor stores them: each message's signature is verified against the
// sender's signing key registered with X (fetched with Signers and cached
// for a few minutes), then its content is decrypted with the conversation's
// key, and its text goes through the same pipeline as any DM's.
//
// Conversation keys come from key changes (the payload's
// conversation_key_change_event, or a key-change event of its own), which
// the brand's identity of the right key version decrypts and whose
// signature is verified; they are kept sealed (Sealer: KMS on AWS, a key
// file in the local system) in the table, one item per conversation and key
// version (store.PutConversationKey), and read from there when a message's
// event carries none.
//
// A message Pajarito cannot open is never dropped and never shown as
// trusted: it keeps no text, and care.XChat.Problem says why ("could not
// verify: …" when its signature did not verify). Only a transient failure
// (X or DynamoDB or KMS unreachable) is an error, for the processor to retry.
// Neither private nor conversation keys appear in errors, problems or logs.
//
// # Sending
//
// Sender sends the brand's DMs in X Chat conversations (the reply sender's
// ChatWriter): encrypted under the conversation's newest kept key, signed with
// the brand's current identity, under the reply's own message id. A
// conversation whose key the brand does not hold is given one first: the
// customer's identity key is read at X (bound to their signing key), a new
// key is encrypted to both participants, the signed change is sent to X
// (POST /2/chat/conversations/{id}/keys) and the key kept, sealed.
//
// # Where it runs
//
// New makes the Opener and the Sender of the X Chat fields of the X secret
// (pajarito xchat setup), in AWS through FromEnv (the process function opens,
// the reply function sends; the stack gives both the KMS key of
// PAJARITO_XCHAT_KMS_KEY_ID, usable only with the conversation keys'
// encryption context, and the secret, whose OAuth 2.0 token they refresh
// under the table's lease), and in the local system with package localseal
// and the fake X (package localdev). Without X Chat keys both are nil, and X
// Chat messages stay unread (issue 18 §1). A key-change event that X delivers
// as a chat.* event of its own is still made a message by the webhook (kept,
// without text, saying it is a key change); reactions, edits and attachments
// are verified but not shown.
package xchatopen
