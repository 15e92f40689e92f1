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
package xchatopen
