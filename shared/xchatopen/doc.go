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
// # Not wired yet
//
// The process function does not build an Opener yet (intake.Processor.Opener
// is nil, and X Chat messages stay unread, as before). Switching it on needs:
// a KMS symmetric key for conversation keys in the stack, its id in the
// process function's environment, and kms:Encrypt and kms:Decrypt on it for
// that function only, conditioned on the encryption context's purpose
// (xchat-conversation-key); secretsmanager:GetSecretValue on the X secret for
// the process function (the private keys, read once per cold start with
// Identities, and the OAuth 2.0 token, through an xapi.OAuth2Keeper with the
// table's lease, which also needs PutSecretValue to refresh it, or a keeper
// that only reads and leaves refreshing to the monitor); in the local system,
// package localseal over the data folder and the fake X's key registry. A
// key-change event that X delivers as a chat.* event of its own is still made
// a message by the webhook (kept, without text, saying it is a key change);
// reactions, edits and attachments are verified but not shown.
package xchatopen
