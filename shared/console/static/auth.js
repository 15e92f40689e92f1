// auth.js signs the agent in. Locally: the token of the sign-in link (or a
// pasted one). With an identity provider (config.json's issuer: the stack's
// Cognito managed login, or the team's own OpenID Connect issuer): the OAuth 2.0
// authorization code flow with PKCE, the access token kept fresh with the
// refresh token a minute before it expires. Tokens live in the tab's session
// storage only.
import * as api from './api.js';

const PENDING = 'pajarito.oidc'; // {verifier, state, returnTo} during a sign-in
const SESSION = 'pajarito.session'; // {refresh_token, id_token, expires_at}
const REFRESH_BEFORE = 60 * 1000;

let config = { sign_in: 'token' };
let endpoints = null;
let timer = 0;

// loadConfig reads how this deployment signs agents in.
export async function loadConfig() {
  const r = await fetch('/console/config.json', { cache: 'no-cache' });
  if (r.ok) config = await r.json();
  return config;
}

// oidc reports whether agents sign in with an identity provider.
export const oidc = () => config.sign_in === 'oidc';

async function discover() {
  if (endpoints) return endpoints;
  let doc = {};
  if (!config.authorization_endpoint || !config.token_endpoint) {
    const r = await fetch(config.issuer.replace(/\/$/, '') + '/.well-known/openid-configuration');
    if (!r.ok) throw new Error('the identity provider\'s discovery document answered ' + r.status);
    doc = await r.json();
  }
  endpoints = {
    authorization: config.authorization_endpoint || doc.authorization_endpoint,
    token: config.token_endpoint || doc.token_endpoint,
    endSession: config.end_session_endpoint || doc.end_session_endpoint || '',
  };
  return endpoints;
}

const b64url = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

function random(n) {
  const a = new Uint8Array(n);
  crypto.getRandomValues(a);
  return b64url(a);
}

// The console's own address, where the identity provider sends the agent back
// (the one registered with it, whether this page was reached as /console or
// /console/).
const home = () => location.origin + '/console/';

// signIn sends the agent to the identity provider; they come back to returnTo.
export async function signIn(returnTo) {
  const ep = await discover();
  const verifier = random(32);
  const state = random(16);
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, returnTo }));
  const q = new URLSearchParams({
    response_type: 'code', client_id: config.client_id, redirect_uri: home(), scope: config.scopes,
    state, code_challenge: challenge, code_challenge_method: 'S256',
  });
  location.assign(ep.authorization + '?' + q.toString());
}

// completeSignIn ends a sign-in when the identity provider sent the agent back
// (?code&state, or ?error): it trades the code for tokens and returns the view
// to go back to; null when the address is no such return.
export async function completeSignIn() {
  const q = new URLSearchParams(location.search);
  if (!q.has('code') && !q.has('error')) return null;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || 'null');
  sessionStorage.removeItem(PENDING);
  const back = (pending && pending.returnTo) || '#/';
  history.replaceState(null, '', '/console/' + back); // the code leaves the address bar
  if (q.has('error')) throw new Error(q.get('error_description') || q.get('error'));
  if (!pending || q.get('state') !== pending.state) throw new Error('this sign-in was not started here (state mismatch): sign in again');
  await tokens({
    grant_type: 'authorization_code', code: q.get('code'), redirect_uri: home(),
    client_id: config.client_id, code_verifier: pending.verifier,
  });
  return back;
}

async function tokens(params) {
  const ep = await discover();
  const r = await fetch(ep.token, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok || !body.access_token) throw new Error(body.error_description || body.error || 'the token endpoint answered ' + r.status);
  const old = JSON.parse(sessionStorage.getItem(SESSION) || '{}');
  api.token.set(body.access_token);
  sessionStorage.setItem(SESSION, JSON.stringify({
    refresh_token: body.refresh_token || old.refresh_token || '',
    id_token: body.id_token || old.id_token || '',
    expires_at: Date.now() + (body.expires_in || 3600) * 1000,
  }));
  keepFresh();
}

// keepFresh refreshes the access token a minute before it expires.
export function keepFresh() {
  clearTimeout(timer);
  const s = JSON.parse(sessionStorage.getItem(SESSION) || 'null');
  if (!oidc() || !s || !s.refresh_token) return;
  timer = setTimeout(refresh, Math.max(0, s.expires_at - Date.now() - REFRESH_BEFORE));
}

// refresh gets a new access token with the refresh token; false when it cannot.
export async function refresh() {
  const s = JSON.parse(sessionStorage.getItem(SESSION) || 'null');
  if (!oidc() || !s || !s.refresh_token) return false;
  try {
    await tokens({ grant_type: 'refresh_token', refresh_token: s.refresh_token, client_id: config.client_id });
    return true;
  } catch {
    sessionStorage.removeItem(SESSION);
    return false;
  }
}

// signOut forgets the tokens and, with an identity provider that has an
// end-session endpoint, signs out there too (true: the page is leaving).
export async function signOut() {
  clearTimeout(timer);
  const s = JSON.parse(sessionStorage.getItem(SESSION) || 'null');
  api.token.clear();
  sessionStorage.removeItem(SESSION);
  if (!oidc()) return false;
  const ep = await discover().catch(() => ({}));
  if (!ep.endSession) return false;
  // Cognito's /logout takes client_id and logout_uri; OpenID Connect's
  // end_session_endpoint, id_token_hint and post_logout_redirect_uri.
  const q = new URLSearchParams({ client_id: config.client_id, logout_uri: home(), post_logout_redirect_uri: home() });
  if (s && s.id_token) q.set('id_token_hint', s.id_token);
  location.assign(ep.endSession + '?' + q.toString());
  return true;
}
