// Drives X's Chat SDK (@xdevplatform/chat-xdk, its raw WASM Chat class,
// offline) for interop_test.go. Usage: node interop.mjs <package dir>, with a
// JSON request on stdin and a JSON reply on stdout; bytes travel as base64.
//
//   {"op": "setup", ...}   a customer generates keys, starts a one-to-one
//                          with the brand and sends it a message.
//   {"op": "decrypt", ...} the customer decrypts a batch of events.
//   {"op": "keys", ...}    the SDK imports keys Go generated and checks Go's
//                          registration of them; it also generates its own.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = process.argv[2];
const wasm = await import(pathToFileURL(join(dir, 'pkg', 'chat_xdk_wasm.js')).href);
wasm.initSync({ module: readFileSync(join(dir, 'pkg', 'chat_xdk_wasm_bg.wasm')) });

const b64 = (bytes) => Buffer.from(bytes).toString('base64');

function setup(req) {
  const chat = new wasm.Chat();
  const reg = chat.generateKeypairs();
  chat.setIdentity(req.customerId, reg.version);
  const change = chat.prepareConversationKeyChange({
    publicKeys: [
      { userId: req.brandId, publicKey: req.brandIdentityKey, keyVersion: req.brandKeyVersion },
      { userId: req.customerId, publicKey: reg.publicKey.publicKey, keyVersion: reg.version },
    ],
  });
  const payload = chat.encryptMessage({
    conversationId: change.conversationId,
    text: req.text,
    conversationKey: change.conversationKey,
    conversationKeyVersion: change.conversationKeyVersion,
  });
  return {
    customerKeys: b64(chat.exportKeys()),
    customer: {
      userId: req.customerId,
      publicKeyVersion: reg.version,
      publicKey: reg.publicKey.signingPublicKey,
      identityPublicKey: reg.publicKey.publicKey,
      identityPublicKeySignature: reg.publicKey.identityPublicKeySignature,
    },
    conversationId: change.conversationId,
    conversationKey: b64(change.conversationKey),
    conversationKeyVersion: change.conversationKeyVersion,
    keyChange: change.actionSignatures[0],
    participantKeys: change.participantKeys,
    payload,
  };
}

function decrypt(req) {
  const chat = new wasm.Chat();
  chat.importKeys(Buffer.from(req.customerKeys, 'base64'), req.customerVersion);
  chat.setIdentity(req.customerId, req.customerVersion);
  const res = chat.decryptEvents(req.events, req.signingKeys);
  const errors = res.errors instanceof Map ? Object.fromEntries(res.errors) : res.errors;
  const messages = res.messages.map((m) => m.event ?? m);
  return { messages, errors };
}

// keys checks Go's keys and registration with the SDK: the fingerprint it
// computes, the bindings it verifies (the signing key's signature over the
// identity key, and the identity key's over the signing key, arguments
// swapped), and the signatures it makes itself over the same bytes. Keys
// imported in swapped order make the SDK sign with the identity key.
function keys(req) {
  const reg = req.registration;
  const go = new wasm.Chat();
  go.importKeys(Buffer.from(req.keys, 'base64'), '1');
  const swapped = new wasm.Chat();
  swapped.importKeys(Buffer.from(req.swappedKeys, 'base64'), '1');
  const sdk = new wasm.Chat();
  const generated = sdk.generateKeypairs();
  const spki = (k) => Buffer.from(k, 'base64');
  return {
    fingerprint: go.getPublicKeyFingerprint(),
    publicKeys: go.getPublicKeys(),
    matches: go.matchesRegisteredKey(reg.publicKey),
    binding: go.verifyKeyBinding(reg.publicKey, reg.signingPublicKey, reg.identityPublicKeySignature),
    reverseBinding: go.verifyKeyBinding(reg.signingPublicKey, reg.publicKey, reg.signingPublicKeySignature),
    crossedBinding: go.verifyKeyBinding(reg.publicKey, reg.signingPublicKey, reg.signingPublicKeySignature),
    identitySignature: b64(go.sign(spki(reg.publicKey))),
    signingSignature: b64(swapped.sign(spki(reg.signingPublicKey))),
    sdkKeys: b64(sdk.exportKeys()),
    sdkRegistration: { ...generated, publicKey: { ...generated.publicKey } },
  };
}

const ops = { setup, decrypt, keys };
const req = JSON.parse(readFileSync(0, 'utf8'));
const out = ops[req.op](req);
process.stdout.write(JSON.stringify(out, (_, v) => (v instanceof Map ? Object.fromEntries(v) : v)));
