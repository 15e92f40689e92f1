// A plain Node.js X webhook handler doing the work of Pajarito's webhook
// (xwebhook.Handler, POST) the way X's own samples do it: verify the
// x-twitter-webhooks-signature (crypto.createHmac, timingSafeEqual), JSON.parse
// the body, normalise the posts of both payload generations (X Activity API
// post events, Account Activity API tweet_create_events) with the same fields
// and drops (other users, reposts, the brand's own posts), and JSON.stringify
// the SQS batch entries (one envelope per message, with the item's own JSON).
// It is the peer BenchmarkHandleWebhookPeer runs beside BenchmarkHandleWebhook:
//
//	node handler.mjs <body.json> <iterations>
//
// prints the nanoseconds per delivery, after a warm-up.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

const secret = 'test-consumer-secret';
const brand = { id: '1590000000000000001', handle: 'pajaritoair' };

function sign(body) {
  return 'sha256=' + createHmac('sha256', secret).update(body).digest('base64');
}

function verify(body, header) {
  const want = Buffer.from(sign(body));
  const got = Buffer.from(header || '');
  return got.length === want.length && timingSafeEqual(got, want);
}

function userIndex(list) {
  const users = new Map();
  for (const u0 of list || []) {
    const u = u0.data || u0;
    const id = u.id_str || String(u.id || '');
    if (id) {
      users.set(id, {
        handle: u.username || u.screen_name || '',
        name: u.name || '',
        followers: Math.max(u.followers_count || 0, (u.public_metrics || {}).followers_count || 0),
        verified: !!u.verified,
      });
    }
  }
  return users;
}

function summons(text, mentioned) {
  return mentioned.includes(brand.id) || text.toLowerCase().includes('@' + brand.handle);
}

function message(m, users) {
  const p = users.get(m.author_id);
  if (p) {
    m.author_handle = p.handle;
    m.author_name = p.name;
    m.author_followers = p.followers;
    m.author_verified = p.verified;
  }
  m.direction = m.author_id === brand.id ? 'outbound' : 'inbound';
  return m;
}

function xaa(data, received, out) {
  if (String((data.filter || {}).user_id) !== brand.id) return;
  if (!data.event_type.startsWith('post.')) return;
  const post = data.payload;
  const users = userIndex((data.includes || {}).users);
  const ents = post.entities || {};
  const mentioned = (ents.mentions || []).map((x) => String(x.id));
  if ((post.referenced_tweets || []).some((r) => r.type === 'retweeted')) return;
  const text = (post.note_tweet && post.note_tweet.text) || post.text;
  const m = message({
    channel: 'public', id: String(post.id), author_id: String(post.author_id), text, lang: post.lang,
    created_at: new Date(post.created_at).toISOString(), conversation_id: String(post.conversation_id || ''),
    in_reply_to_user_id: String(post.in_reply_to_user_id || ''), mentioned_ids: mentioned,
    summoned: data.event_type !== 'post.create' || summons(text, mentioned),
    has_url: (ents.urls || []).length > 0 || /https?:\/\//i.test(text),
  }, users);
  if (m.direction === 'outbound' && !m.in_reply_to_user_id) return;
  out.push({ v: 1, kind: 'message', source: 'xaa', event_id: String(data.event_uuid), received_at: received, message: m, raw: post });
}

function aaa(body, received, out) {
  if (String(body.for_user_id) !== brand.id) return;
  for (const t of body.tweet_create_events || []) {
    if (t.retweeted_status) continue;
    const ext = t.extended_tweet || {};
    const text = ext.full_text || t.full_text || t.text;
    const ents = ext.entities || t.entities || {};
    const mentioned = (ents.user_mentions || []).map((x) => x.id_str);
    const users = userIndex([t.user]);
    const m = message({
      channel: 'public', id: t.id_str, author_id: t.user.id_str, text, lang: t.lang,
      created_at: new Date(t.created_at).toISOString(), in_reply_to_id: t.in_reply_to_status_id_str || '',
      in_reply_to_user_id: t.in_reply_to_user_id_str || '', quoted_id: t.quoted_status_id_str || '',
      mentioned_ids: mentioned,
      summoned: summons(text, mentioned) || t.in_reply_to_user_id_str === brand.id,
      has_url: (ents.urls || []).length > 0 || /https?:\/\//i.test(text),
    }, users);
    if (m.direction === 'outbound' && !m.in_reply_to_user_id) continue;
    out.push({ v: 1, kind: 'message', source: 'aaa', received_at: received, message: m, raw: t });
  }
}

// handle is one POST: what the Lambda would answer, with the SQS batch entries.
function handle(body, header) {
  if (!verify(body, header)) return { status: 401 };
  let parsed;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { status: 400 };
  }
  const received = new Date().toISOString();
  const envs = [];
  if (parsed.data) xaa(parsed.data, received, envs);
  else aaa(parsed, received, envs);
  const entries = envs.map((e, i) => ({ Id: String(i), MessageBody: JSON.stringify(e) }));
  return { status: 200, body: JSON.stringify({ enqueued: entries.length }), entries };
}

const [file, n] = [process.argv[2], Number(process.argv[3] || 10000)];
const body = readFileSync(file, 'utf8');
const header = sign(body);
for (let i = 0; i < 2000; i++) handle(body, header); // warm-up: let the JIT compile
let entries = 0;
const start = process.hrtime.bigint();
for (let i = 0; i < n; i++) entries += handle(body, header).entries.length;
const ns = Number(process.hrtime.bigint() - start) / n;
if (entries === 0) {
  console.error(`handler.mjs: ${file}: no message queued`);
  process.exit(1);
}
console.log(ns.toFixed(0));
