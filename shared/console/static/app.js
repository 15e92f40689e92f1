// app.js is the agent console: sign-in, the queue, a case, and what an agent
// does with it. Every string shown comes from i18n.js; everything from X is
// put in the page as text (dom.js).
import { h, replace } from './dom.js';
import { t, setLang, getLang } from './i18n.js';
import * as api from './api.js';
import * as auth from './auth.js';

// The queue asks the API again every POLL_SECONDS.
const POLL_SECONDS = 15;
const INTENTS = ['complaint', 'incident', 'question', 'sales', 'praise', 'spam', 'other'];
const SENTIMENTS = ['negative', 'neutral', 'positive'];
const VIEWS = {
  mine: { status: 'open', assigned: 'me' },
  unassigned: { status: 'open', assigned: 'none' },
  open: { status: 'open' },
  pending: { status: 'pending' },
  resolved: { status: 'resolved' },
};
const RETURN = 'pajarito.return';
const LANG = 'pajarito.lang';

const main = document.getElementById('main');
const bar = document.getElementById('bar');
const banner = document.getElementById('banner');

const state = {
  me: null, // GET /v1/agents/me
  view: 'open',
  filters: { department: '', intent: '', lang: '', crisis: '' },
  cases: [], // the queue as shown
  latest: null, // the queue as last polled, when it differs from what is shown
  selected: 0,
  crises: [],
  agents: [],
  templates: [],
  departments: new Set(),
  timers: [],
  caseID: '',
  follow: null, // {caseID, key, channel, text}: the reply this agent just sent
};

// ---- sign-in -------------------------------------------------------------

async function boot() {
  setLang(localStorage.getItem(LANG) || navigator.language);
  document.title = t('title');
  document.querySelector('.skip').textContent = t('skip');
  try {
    await auth.loadConfig();
  } catch { /* a token, then */ }
  if (auth.oidc()) {
    try {
      await auth.completeSignIn();
    } catch (e) {
      showSignIn(false, e.message);
      return;
    }
    auth.keepFresh();
  } else {
    takeToken();
  }
  api.whenUnauthorized(async () => {
    if (await auth.refresh()) return true;
    api.token.clear();
    if (!location.hash.startsWith('#token=')) sessionStorage.setItem(RETURN, location.hash || '#/');
    showSignIn(true);
    return false;
  });
  window.addEventListener('hashchange', () => {
    if (takeToken()) start();
    else route();
  });
  document.addEventListener('keydown', onKey);
  if (!api.token.get()) {
    showSignIn(false);
    return;
  }
  start();
}

// takeToken keeps the token of a sign-in link (#token=…[&go=/case/<id>]) for
// this tab and takes it out of the address bar, on to the view the link names or
// back to where the agent was; the fragment never reaches a server.
function takeToken() {
  const m = location.hash.match(/^#token=([^&]+)(?:&go=(\/[A-Za-z0-9_/-]*))?/);
  if (!m) return false;
  api.token.set(decodeURIComponent(m[1]));
  const back = m[2] ? '#' + m[2] : sessionStorage.getItem(RETURN) || '#/';
  sessionStorage.removeItem(RETURN);
  history.replaceState(null, '', location.pathname + location.search + back);
  return true;
}

function showSignIn(expired, problem) {
  stopTimers();
  replace(bar);
  replace(banner);
  if (auth.oidc()) {
    replace(main, h('section', { class: 'signin', 'aria-labelledby': 'signin-title' },
      h('h1', { id: 'signin-title' }, t('signin_title')),
      expired ? h('p', { class: 'warn', role: 'alert' }, t('signin_expired')) : null,
      problem ? h('p', { class: 'error', role: 'alert' }, t('error', { msg: problem })) : null,
      h('p', {}, t('signin_idp')),
      h('button', {
        type: 'button', id: 'signin',
        onclick: () => auth.signIn(sessionStorage.getItem(RETURN) || location.hash || '#/').catch((e) => showSignIn(expired, e.message)),
      }, t('signin_go')),
      ' ', langButton()));
    return;
  }
  const input = h('input', { id: 'token', type: 'password', autocomplete: 'off', 'aria-label': t('signin_token') });
  replace(main, h('section', { class: 'signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, t('signin_title')),
    expired ? h('p', { class: 'warn', role: 'alert' }, t('signin_expired')) : null,
    h('p', {}, t('signin_local')),
    h('p', {}, t('signin_aws')),
    h('form', {
      onsubmit: (e) => {
        e.preventDefault();
        if (!input.value.trim()) return;
        api.token.set(input.value.trim());
        const back = sessionStorage.getItem(RETURN) || '#/';
        sessionStorage.removeItem(RETURN);
        history.replaceState(null, '', location.pathname + back);
        start();
      },
    }, h('label', { for: 'token' }, t('signin_token')), ' ', input, ' ', h('button', { type: 'submit' }, t('signin_go'))),
    langButton()));
}

async function start() {
  try {
    state.me = await api.get('/v1/agents/me');
  } catch (e) {
    if (e.status !== 401) showError(e);
    return;
  }
  const prof = state.me.agent || {};
  if (!localStorage.getItem(LANG) && prof.languages && prof.languages.length) setLang(prof.languages[0]);
  document.title = t('title');
  // The team's lists, once per sign-in; a failure leaves them empty.
  [state.agents, state.templates, state.crises] = await Promise.all([
    api.get('/v1/agents').then((r) => r.agents || []).catch(() => []),
    api.get('/v1/templates').then((r) => r.templates || []).catch(() => []),
    api.get('/v1/crisis').then((r) => r.crises || []).catch(() => []),
  ]);
  renderBar();
  renderCrisis();
  route();
}

function langButton() {
  return h('button', {
    type: 'button', class: 'link', lang: getLang() === 'es' ? 'en' : 'es',
    onclick: () => {
      localStorage.setItem(LANG, setLang(getLang() === 'es' ? 'en' : 'es'));
      document.title = t('title');
      if (state.me) { renderBar(); renderCrisis(); route(); } else showSignIn(false);
    },
  }, t('lang_switch'));
}

// can reports whether the signed-in person's role allows what needs role
// need (admin > agent > contributor). The console offers only that; the server
// checks every call.
const ROLE_RANK = { admin: 3, agent: 2, contributor: 1 };
function can(need) {
  return (ROLE_RANK[state.me && state.me.role] || 0) >= ROLE_RANK[need];
}

function renderBar() {
  const me = state.me || {};
  replace(bar,
    h('a', { href: '#/', class: 'brand' }, 'Pajarito'),
    h('nav', { 'aria-label': 'main' },
      h('a', { href: '#/' }, t('nav_queue')), ' ',
      can('agent') ? [h('a', { href: '#/approvals', id: 'nav-approvals' }, t('nav_approvals')), ' '] : null,
      h('a', { href: '#/crisis' }, t('nav_crisis')), ' ',
      h('a', { href: '#/profile' }, t('nav_profile')), ' ',
      h('button', { type: 'button', class: 'link', onclick: openReport }, t('nav_report')), ' ',
      h('button', { type: 'button', class: 'link', onclick: showHelp }, t('nav_help'))),
    h('span', { class: 'who' }, (me.agent && me.agent.display_name) || '', ' ', h('span', { class: 'muted' }, me.signs_as || ''),
      me.role ? [' ', h('span', { class: 'tag role', 'data-role': me.role }, t('role_' + me.role))] : null),
    langButton(),
    h('button', {
      type: 'button', class: 'link',
      onclick: async () => {
        if (!(await auth.signOut())) showSignIn(false);
      },
    }, t('signout')));
}

// renderCrisis shows a banner for each open crisis: its topic, since when, why,
// its public statement and updates as they went out, and the protocol's crisis
// template for customers in the interface's language.
function renderCrisis() {
  const open = state.crises.filter((c) => c.active);
  const template = (kind) => state.templates.find((x) => x.kind === kind && x.lang === getLang() && !x.tone) || state.templates.find((x) => x.kind === kind && !x.tone);
  // Once the statement is out, customers get the template that points to it.
  const templateOf = (c) => (c.statement_id && template('crisis_statement')) || template('crisis');
  const hhmm = (iso) => new Date(iso).toLocaleTimeString(getLang(), { hour: '2-digit', minute: '2-digit' });
  replace(banner, open.map((c) => [c, templateOf(c)]).map(([c, tpl]) => h('div', { class: 'crisis', role: 'status', 'data-topic': c.topic },
    h('strong', {}, t('crisis_open', { topic: c.topic })), ' ',
    h('span', {}, t('crisis_since', { t: when(c.since) })),
    // Opened by hand: who, in the interface's words; by itself: the
    // detection's reason (the server's, in English).
    c.manual ? [' — ', h('span', {}, t('crisis_opened_by', { who: agentName(c.opened_by) }))] : c.reason ? [' — ', h('span', {}, c.reason)] : null, ' ',
    h('a', { href: '#/crisis' }, t('crisis_panel')),
    statementLatest(c),
    // The template is there when asked for: the banner stays short on a phone.
    tpl ? h('details', { class: 'template', 'data-template': tpl.id }, h('summary', {}, t('crisis_template')), h('q', {}, tpl.text.replaceAll('{topic}', c.topic)
      .replaceAll('{statement_time}', c.statement_id ? hhmm(c.statement_at) : '').replaceAll('{signature}', '').trim())) : null)));
}

async function refreshCrises() {
  try {
    state.crises = (await api.get('/v1/crisis')).crises || [];
    renderCrisis();
  } catch { /* the next poll tries again */ }
}

// A statement's post is gone from its thread when rejected, refused by X or
// lost; the others are the thread, the last one out or on its way.
const GONE = ['rejected', 'failed', 'unknown'];

// postItem is one post of a crisis's statement: what it is, when, by whom,
// where it stands when not out yet, and its text.
function postItem(p) {
  return h('li', { class: 'post ' + p.state, 'data-draft': p.draft_id, 'data-state': p.state },
    h('div', { class: 'meta' },
      h('strong', {}, t(p.kind === 'statement' ? 'post_statement' : 'post_update')), ' · ',
      h('time', { datetime: p.sent_at || p.created_at }, when(p.sent_at || p.created_at)), ' · ',
      h('span', {}, p.author_name || p.author),
      p.state === 'sent' ? null : [' · ', h('span', { class: 'state' }, t('post_' + p.state))]),
    h('p', { class: 'text' }, p.text),
    p.state === 'rejected' ? h('p', { class: 'error' }, t('post_rejected_by', { who: p.decided_by_name || '', reason: p.reason || '' })) : null,
    p.problem && p.state !== 'sent' ? h('p', { class: 'muted problem' }, p.problem) : null);
}

// statementThread lists a crisis's public statement and its updates, oldest
// first, those gone from the thread included, with why (the crisis panel).
function statementThread(c) {
  const posts = (c.statement && c.statement.posts) || [];
  if (!posts.length) return null;
  return h('ol', { class: 'statement-thread', 'aria-label': t('statement_of', { topic: c.topic }) }, posts.map(postItem));
}

// statementLatest is the banner's word of the statement: its latest post in
// the thread (out, or on its way), and how many came before, in the panel.
function statementLatest(c) {
  const posts = ((c.statement && c.statement.posts) || []).filter((p) => !GONE.includes(p.state));
  if (!posts.length) return null;
  const before = posts.length - 1;
  return h('ul', { class: 'statement-thread latest', 'aria-label': t('statement_of', { topic: c.topic }) }, postItem(posts[before]),
    before ? h('li', { class: 'more' }, h('a', { href: '#/crisis' }, t('statement_before', { n: before }))) : null);
}

// ---- the crisis panel ----------------------------------------------------

async function showCrisisPanel(note) {
  await refreshCrises();
  const status = h('div', { id: 'crisis-status', role: 'status', 'aria-live': 'polite' });
  const set = async (topic, active) => {
    replace(status);
    try {
      await api.put('/v1/crisis/' + encodeURIComponent(topic), { active });
      await refreshCrises();
      showCrisisPanel();
    } catch (e) {
      if (e.status !== 401) replace(status, h('p', { class: 'error', role: 'alert' }, t('error', { msg: e.message })));
    }
  };
  const sections = state.crises.filter((c) => c.active || c.statement || c.followup).map((c) => statementSection(c, note && note.topic === c.topic ? note : null));
  replace(main,
    h('h1', {}, t('crisis_panel')),
    h('p', { class: 'muted' }, t('crisis_help')),
    status,
    h('table', { class: 'crises' },
      h('thead', {}, h('tr', {}, ['crisis_topic', 'crisis_state', 'crisis_window', 'crisis_by', ''].map((k) => h('th', { scope: 'col' }, k ? t(k) : '')))),
      h('tbody', {}, state.crises.map((c) => h('tr', { 'data-topic': c.topic, class: c.active ? 'active' : '' },
        h('th', { scope: 'row' }, c.topic),
        h('td', {}, c.active ? t('crisis_active', { t: when(c.since) }) + (c.manual ? ' · ' + t('crisis_manual') : '') : t('crisis_closed')),
        h('td', {}, c.window_count + ' / ' + c.threshold + (c.baseline ? ' (' + t('crisis_baseline', { n: Math.round(c.baseline * 10) / 10 }) + ')' : '')),
        h('td', {}, c.active ? (c.opened_by && c.opened_by !== 'auto' ? agentName(c.opened_by) : t('crisis_auto')) : c.closed_by === 'auto' ? t('crisis_auto') : agentName(c.closed_by || '')),
        h('td', {}, c.active
          ? (can('admin') ? h('button', { type: 'button', class: 'close-crisis', onclick: () => set(c.topic, false) }, t('crisis_close')) : null)
          : (can('admin') ? h('button', { type: 'button', class: 'open-crisis', onclick: () => set(c.topic, true) }, t('crisis_open_btn')) : null)))))),
    sections.map((x) => x.el));
  // Posts on their way are followed until they are out (or gone).
  const pending = () => state.crises.some((c) => ((c.statement && c.statement.posts) || []).some((p) => !GONE.includes(p.state) && p.state !== 'sent'));
  if (pending()) {
    state.timers.push(setInterval(async () => {
      await refreshCrises();
      for (const x of sections) x.update(state.crises.find((c) => c.topic === x.topic));
      if (!pending()) stopTimers();
    }, 2000));
  }
}

// statementDrafts keeps, per crisis topic, the draft id of the post being
// written and the text it was sent with: sending the same text again (after a
// network error, say) is the same post, never a second one.
const statementDrafts = {};

// statementSection is a crisis's public statement in the crisis panel: its
// thread and, for an admin while the crisis is open, the form for the
// statement (the first post) or the next update, once the post before it is
// out (after the crisis closed too, when it has a statement). It returns the
// section and how to show the thread anew.
function statementSection(c, note) {
  const status = h('div', { class: 'statement-status', role: 'status', 'aria-live': 'polite' },
    note ? h('p', { class: 'ok' }, note.msg) : null);
  const thread = h('div', { class: 'thread' });
  const form = h('div', { class: 'statement-write' });
  const render = (cr) => {
    replace(thread, statementThread(cr) || h('p', { class: 'muted' }, t('statement_none')));
    const live = ((cr.statement && cr.statement.posts) || []).filter((p) => !GONE.includes(p.state));
    const first = live.length === 0;
    // A closed crisis's statement still takes updates (the last word).
    if (!can('admin') || (!cr.active && first)) {
      replace(form);
    } else if (!first && live[live.length - 1].state !== 'sent') {
      replace(form, h('p', { class: 'muted' }, t('statement_busy')));
    } else if (!form.querySelector('form') || form.dataset.first !== String(first)) {
      form.dataset.first = String(first);
      replace(form, statementForm(cr, first, status));
    }
  };
  render(c);
  const el = h('section', { class: 'statement', 'data-topic': c.topic },
    h('h2', {}, t('statement_of', { topic: c.topic })), thread, form, status,
    c.followup ? followUpBlock(c) : null);
  return { el, topic: c.topic, update: (cr) => cr && render(cr) };
}

// followUpBlock is where a crisis's follow-ups stand (every affected customer
// gets one when it is over) and, for an admin until they start, their text
// per language, the template's unless someone wrote another.
function followUpBlock(c) {
  const f = c.followup;
  const status = h('div', { class: 'followup-status', role: 'status', 'aria-live': 'polite' });
  const when_ = f.done ? t('followup_done', { n: f.customers, sent: f.queued, skipped: Object.entries(f.skipped || {}).map(([k, v]) => v + ' ' + t('skip_' + k)).join(', ') || '0' })
    : f.started_at ? t('followup_started', { t: when(f.started_at) })
      : f.starts_at ? t('followup_starts', { t: when(f.starts_at) }) : t('followup_on_close');
  const head = [h('h3', {}, t('followup_title')), h('p', { class: 'followup-when' }, when_)];
  const editable = can('admin') && !f.done && !f.started_at;
  const langs = ['es', 'en'];
  const template = (lang) => (state.templates.find((x) => x.kind === 'crisis_followup' && x.lang === lang && !x.tone) || {}).text || '';
  if (!editable) {
    const texts = Object.entries(f.texts || {});
    return h('div', { class: 'followup' }, head, texts.length ? h('ul', {}, texts.map(([l, s]) => h('li', { lang: l }, h('strong', {}, l), ' ', s))) : null);
  }
  const areas = langs.map((l) => h('textarea', { class: 'followup-text', 'data-lang': l, lang: l, rows: 3, maxlength: 1000, 'aria-label': t('followup_text', { lang: l }) }, (f.texts && f.texts[l]) || template(l)));
  return h('form', {
    class: 'followup',
    onsubmit: async (e) => {
      e.preventDefault();
      replace(status);
      const texts = {};
      areas.forEach((a) => { if (a.value.trim()) texts[a.dataset.lang] = a.value.trim(); });
      try {
        await api.put('/v1/crisis/' + encodeURIComponent(c.topic) + '/followup', { texts });
        replace(status, h('p', { class: 'ok' }, t('followup_saved')));
      } catch (err) {
        if (err.status === 401) return;
        replace(status, h('p', { class: 'error', role: 'alert' }, t('error', { msg: err.message })));
      }
    },
  }, head, h('p', { class: 'muted' }, t('followup_help')),
  areas.map((a) => h('label', { class: 'followup-lang' }, h('span', {}, a.dataset.lang), a)),
  h('button', { type: 'submit' }, t('followup_save')), status);
}

function statementForm(c, first, status) {
  const text = h('textarea', { class: 'statement-text', rows: 4, maxlength: 10000, 'aria-label': t(first ? 'statement_write' : 'update_write'), placeholder: t(first ? 'statement_hint' : 'update_hint') });
  const lang = h('select', { class: 'statement-lang', 'aria-label': t('statement_lang') }, ['es', 'en'].map((l) => h('option', { value: l, selected: l === getLang() }, l)));
  return h('form', {
    class: 'statement-form',
    onsubmit: async (e) => {
      e.preventDefault();
      replace(status);
      const body = text.value.trim();
      if (!body) { text.focus(); return; }
      let d = statementDrafts[c.topic];
      if (!d || d.text !== body || d.lang !== lang.value) d = statementDrafts[c.topic] = { id: newDraftID(), text: body, lang: lang.value };
      try {
        const res = await api.post('/v1/crisis/' + encodeURIComponent(c.topic) + '/statement', { draft_id: d.id, text: body, lang: d.lang });
        delete statementDrafts[c.topic];
        showCrisisPanel({ topic: c.topic, msg: t(res.approval && res.approval.state === 'pending' ? 'statement_awaits' : 'statement_queued') });
      } catch (err) {
        if (err.status === 401) return;
        const rules = err.body && err.body.issues ? ': ' + err.body.issues.map((i) => i.message).join('; ') : '';
        replace(status, h('p', { class: 'error', role: 'alert' }, t('error', { msg: err.message + rules })));
      }
    },
  }, text, h('div', { class: 'row' }, lang, ' ', h('button', { type: 'submit' }, t(first ? 'statement_post' : 'update_post'))));
}

// ---- approvals -----------------------------------------------------------

// showApprovals lists the replies awaiting an approval, oldest first: an
// agent sends one as written, or edited (the linter checks the edit on the
// server, the author's signature is added), or rejects it with a reason its
// author sees. Nobody decides their own.
async function showApprovals() {
  stopTimers();
  const list = await fetchApprovals();
  if (!list) return;
  const me = state.me && state.me.agent && state.me.agent.id;
  const render = (l) => replace(main,
    h('h1', {}, t('approvals_title')),
    h('p', { class: 'muted' }, t('approvals_help')),
    l.length === 0 ? h('p', { class: 'muted', id: 'no-approvals' }, t('approvals_none')) : h('ol', { class: 'approvals' }, l.map((a) => approvalItem(a, me))));
  render(list);
  // New replies to approve show up by themselves: the list is drawn again
  // when it changed, unless the agent is writing an edit or a reason.
  const keyOf = (l) => l.map((a) => a.case_id + '/' + a.draft_id).join(' ');
  let shown = keyOf(list);
  state.timers.push(setInterval(async () => {
    const next = await fetchApprovals(true);
    const writing = [...main.querySelectorAll('.approval-edit, .approval-reason')].some((el) => el.value.trim() || el === document.activeElement);
    if (!next || keyOf(next) === shown || writing || !location.hash.startsWith('#/approvals')) return;
    shown = keyOf(next);
    render(next);
  }, POLL_SECONDS * 1000));
}

// fetchApprovals reads the replies awaiting approval; null on an error
// (shown, unless quiet: a poll tries again).
async function fetchApprovals(quiet) {
  try {
    return (await api.get('/v1/approvals')).approvals || [];
  } catch (e) {
    if (e.status !== 401 && !quiet) showError(e);
    return null;
  }
}

// whyText says, in the interface's language, why a reply needs an approval
// (the server's reason, in English, when it is not one the console knows).
function whyText(why) {
  let m;
  if (why === 'written by a contributor') return t('why_contributor');
  if (why === 'a crisis statement, posted from the brand account') return t('why_statement');
  if ((m = why.match(/^a crisis is open on (.+)$/))) return t('why_crisis', { topic: m[1] });
  if ((m = why.match(/^the customer has (\d+) followers \(over (\d+)\)$/))) return t('why_followers', { n: m[1], max: m[2] });
  return why;
}

function approvalItem(a, me) {
  const status = h('div', { class: 'approval-status', role: 'status', 'aria-live': 'polite' });
  const edit = h('textarea', { class: 'approval-edit', rows: 3, 'aria-label': t('approval_edit'), placeholder: t('approval_edit') });
  const reason = h('input', { class: 'approval-reason', maxlength: 500, 'aria-label': t('approval_reason'), placeholder: t('approval_reason') });
  const base = '/v1/cases/' + encodeURIComponent(a.case_id) + '/approvals/' + encodeURIComponent(a.draft_id);
  const decide = async (path, body, done) => {
    replace(status);
    try {
      await api.post(base + path, body);
      replace(status, h('p', { class: 'ok' }, done));
      // The list again, unless the agent went on to another view meanwhile.
      setTimeout(() => { if (location.hash.startsWith('#/approvals')) showApprovals(); }, 800);
    } catch (e) {
      if (e.status === 401) return;
      const rules = e.body && e.body.issues ? ': ' + e.body.issues.map((i) => i.message).join('; ') : '';
      replace(status, h('p', { class: 'error', role: 'alert' }, t('error', { msg: e.message + rules })));
    }
  };
  const own = a.reply.author === me;
  return h('li', { class: 'approval', 'data-case': a.case_id, 'data-draft': a.draft_id },
    h('div', { class: 'meta' },
      a.crisis_topic
        ? h('a', { href: '#/crisis' }, t('approval_statement', { topic: a.crisis_topic }))
        : h('a', { href: '#/case/' + a.case_id }, a.customer_handle ? '@' + a.customer_handle : t('approval_case')), ' · ',
      h('strong', {}, a.reply.author_name || a.reply.author), ' · ',
      h('span', { class: 'chan ' + a.reply.channel }, t(a.reply.channel === 'dm' ? 'dm' : 'public')), ' · ',
      h('span', { class: 'muted' }, whyText(a.why)), ' · ', h('time', { datetime: a.created_at }, when(a.created_at))),
    h('p', { class: 'text' }, a.reply.text),
    own ? h('p', { class: 'muted' }, t('approval_own')) : [
      edit,
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'approve', onclick: () => decide('/approve', edit.value.trim() ? { text: edit.value.trim() } : {}, t('approval_sent')) }, t('approve')), ' ',
        reason, ' ',
        h('button', { type: 'button', class: 'reject', onclick: () => reason.value.trim() ? decide('/reject', { reason: reason.value.trim() }, t('approval_rejected')) : reason.focus() }, t('reject'))),
    ],
    status);
}

// ---- the agent's profile -------------------------------------------------

function showProfile() {
  const a = (state.me && state.me.agent) || {};
  const status = h('div', { id: 'profile-status', role: 'status', 'aria-live': 'polite' });
  const name = h('input', { id: 'profile-name', required: true, maxlength: 80, value: a.display_name || '' });
  const sig = h('input', { id: 'profile-signature', maxlength: 40, value: a.signature || '', placeholder: (state.me && state.me.signs_as) || '' });
  const langs = ['es', 'en'].map((l) => h('label', {}, h('input', { type: 'checkbox', name: 'profile-lang', value: l, checked: (a.languages || []).includes(l) }), ' ' + l));
  const dept = h('select', { id: 'profile-department' }, h('option', { value: '' }, t('any')),
    [...new Set([...state.departments, a.department].filter(Boolean))].sort().map((d) => h('option', { value: d, selected: d === a.department }, d)));
  replace(main,
    h('h1', {}, t('nav_profile')),
    h('form', {
      class: 'profile',
      onsubmit: async (e) => {
        e.preventDefault();
        replace(status);
        try {
          const body = {
            display_name: name.value.trim(), signature: sig.value.trim() || undefined,
            languages: langs.map((l) => l.querySelector('input')).filter((i) => i.checked).map((i) => i.value),
            department: dept.value || undefined,
          };
          await api.put('/v1/agents/me', body);
          state.me = await api.get('/v1/agents/me');
          renderBar();
          replace(status, h('p', { class: 'ok' }, t('profile_saved', { sig: state.me.signs_as })));
        } catch (err) {
          if (err.status !== 401) replace(status, h('p', { class: 'error', role: 'alert' }, t('error', { msg: err.message })));
        }
      },
    },
    h('p', {}, h('label', { for: 'profile-name' }, t('profile_name')), ' ', name),
    h('p', {}, h('label', { for: 'profile-signature' }, t('profile_signature')), ' ', sig),
    h('fieldset', {}, h('legend', {}, t('profile_langs')), langs),
    h('p', {}, h('label', { for: 'profile-department' }, t('col_department')), ' ', dept),
    h('button', { type: 'submit', id: 'profile-save' }, t('profile_save'))),
    status);
}

// openReport downloads the service report (GET /v1/report) as a file: it needs
// the token, so it cannot be a plain link, and a page made from a blob here
// would inherit the console's CSP, which refuses the report's own styles.
async function openReport() {
  try {
    const resp = await fetch('/v1/report?lang=' + getLang(), { headers: { Authorization: 'Bearer ' + api.token.get() } });
    if (resp.status === 401) {
      await api.get('/v1/agents/me').catch(() => {}); // refreshes the token, or signs in
      return;
    }
    if (!resp.ok) throw new Error('GET /v1/report: ' + resp.status);
    const url = URL.createObjectURL(await resp.blob());
    const a = h('a', { href: url, download: 'pajarito-report-' + new Date().toISOString().slice(0, 10) + '.html' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  } catch (e) { showError(e); }
}

// ---- routing -------------------------------------------------------------

function route() {
  if (!api.token.get()) return;
  stopTimers();
  const m = location.hash.match(/^#\/case\/([A-Za-z0-9_-]+)/);
  if (m) {
    showCase(m[1]);
    return;
  }
  state.caseID = '';
  if (location.hash.startsWith('#/crisis')) {
    showCrisisPanel();
    return;
  }
  if (location.hash.startsWith('#/approvals')) {
    showApprovals();
    return;
  }
  if (location.hash.startsWith('#/profile')) {
    showProfile();
    return;
  }
  const v = location.hash.match(/^#\/queue\/([a-z]+)/);
  if (v && VIEWS[v[1]] && v[1] !== state.view) {
    state.view = v[1];
    state.selected = 0;
  }
  showQueue();
}

function stopTimers() {
  for (const id of state.timers) clearInterval(id);
  state.timers = [];
}

// ---- the queue -----------------------------------------------------------

function queuePath() {
  const q = new URLSearchParams(VIEWS[state.view]);
  for (const [k, v] of Object.entries(state.filters)) if (v) q.set(k, v);
  q.set('limit', '200');
  return '/v1/cases?' + q.toString();
}

async function showQueue() {
  state.caseID = '';
  const list = h('div', { id: 'queue', role: 'region', 'aria-live': 'polite', 'aria-busy': 'true' }, t('loading'));
  const notice = h('div', { id: 'notice' });
  replace(main,
    h('h1', { class: 'sr-only' }, t('nav_queue')),
    h('div', { class: 'views', role: 'tablist' }, Object.keys(VIEWS).map((v) => h('button', {
      type: 'button', role: 'tab', 'aria-selected': String(v === state.view), class: v === state.view ? 'on' : '',
      onclick: () => { location.hash = '#/queue/' + v; },
    }, t('view_' + v)))),
    filters(),
    h('p', { class: 'muted small' }, t('refresh_every', { s: POLL_SECONDS })),
    notice, list);
  await loadQueue(list, notice, true);
  state.timers.push(setInterval(() => { loadQueue(list, notice, false); refreshCrises(); }, POLL_SECONDS * 1000));
  state.timers.push(setInterval(() => tickWaiting(list), 1000));
}

function filters() {
  const sel = (name, options) => h('label', {}, t('filter_' + name) + ' ',
    h('select', {
      name, onchange: (e) => { state.filters[name] = e.target.value; state.selected = 0; showQueue(); },
    }, h('option', { value: '' }, t('any')), options.map((o) => h('option', { value: o, selected: state.filters[name] === o }, labelOf(name, o)))));
  return h('div', { class: 'filters' },
    sel('department', [...state.departments].sort()),
    sel('intent', INTENTS),
    sel('lang', ['es', 'en']),
    sel('crisis', state.crises.map((c) => c.topic)));
}

async function loadQueue(list, notice, show) {
  let cases;
  try {
    cases = (await api.get(queuePath())).cases || [];
  } catch (e) {
    if (e.status !== 401) replace(notice, h('p', { class: 'error', role: 'alert' }, t('error', { msg: e.message })));
    return;
  }
  for (const c of cases) if (c.department) state.departments.add(c.department);
  if (show) {
    state.cases = cases;
    state.latest = null;
    replace(notice);
    renderQueue(list);
    return;
  }
  // New cases are announced, not slid under the agent's cursor.
  const shown = new Set(state.cases.map((c) => c.id));
  const added = cases.filter((c) => !shown.has(c.id)).length;
  state.latest = cases;
  if (added > 0) {
    replace(notice, h('button', {
      type: 'button', class: 'notice', onclick: () => { state.cases = state.latest; state.latest = null; replace(notice); renderQueue(list); },
    }, added === 1 ? t('new_case') : t('new_cases', { n: added })));
  }
}

function renderQueue(list) {
  list.setAttribute('aria-busy', 'false');
  if (state.cases.length === 0) {
    replace(list, h('p', { class: 'empty' }, t('no_cases')));
    return;
  }
  state.selected = Math.min(state.selected, state.cases.length - 1);
  const rows = state.cases.map((c, i) => h('li', {
    class: 'case' + (i === state.selected ? ' selected' : '') + (c.crisis_topic ? ' in-crisis' : ''),
    'data-id': c.id, 'data-priority': c.priority,
  },
  h('a', { href: '#/case/' + c.id, class: 'row', 'aria-current': i === state.selected ? 'true' : null },
    h('span', { class: 'prio', title: t('col_priority') }, String(c.priority)),
    h('span', { class: 'who' },
      h('span', { class: 'chan ' + c.channel }, t(c.channel === 'dm' ? 'dm' : 'public')), ' ',
      '@' + (c.customer_handle || c.customer_id)),
    h('span', { class: 'subject' }, firstLine(c.subject || '')),
    h('span', { class: 'tags' },
      c.intent ? h('span', { class: 'tag intent-' + c.intent }, labelOf('intent', c.intent)) : null,
      c.lang ? h('span', { class: 'tag' }, c.lang) : null,
      c.department ? h('span', { class: 'tag dept' }, c.department) : null,
      c.crisis_topic ? h('span', { class: 'tag crisis' }, t('crisis') + ': ' + c.crisis_topic) : null),
    h('span', { class: 'assignee' }, c.assignee_name || c.assignee || t('nobody')),
    h('span', { class: 'clock' },
      h('time', { class: 'waiting', title: t('col_waiting'), datetime: c.waiting_since, 'data-since': c.waiting_since }, since(c.waiting_since)),
      c.due ? h('time', { class: 'due' + (Date.parse(c.due) <= Date.now() ? ' breached' : ''), datetime: c.due, 'data-due': c.due }, dueText(c.due)) : null))));
  replace(list, h('ol', { class: 'cases' }, rows));
}

function tickWaiting(list) {
  for (const el of list.querySelectorAll('time[data-since]')) el.textContent = since(el.dataset.since);
  for (const el of list.querySelectorAll('time[data-due]')) {
    el.textContent = dueText(el.dataset.due);
    el.classList.toggle('breached', Date.parse(el.dataset.due) <= Date.now());
  }
}

function moveSelection(d) {
  const list = document.getElementById('queue');
  if (!list || state.cases.length === 0) return;
  state.selected = Math.max(0, Math.min(state.cases.length - 1, state.selected + d));
  renderQueue(list);
  const sel = list.querySelector('.selected a');
  if (sel) { sel.focus(); sel.scrollIntoView({ block: 'nearest' }); }
}

// ---- a case --------------------------------------------------------------

async function showCase(id) {
  state.caseID = id;
  state.lateTicks = 0;
  replace(main, h('p', {}, t('loading')));
  let d;
  try {
    d = await api.get('/v1/cases/' + encodeURIComponent(id));
  } catch (e) {
    if (e.status !== 401) showError(e);
    return;
  }
  if (state.caseID !== id) return;
  renderCase(d);
  main.focus({ preventScroll: true }); // a new view: the keyboard and screen readers start here
  // A reply on its way is followed until X has it (or refuses it).
  if (onItsWay(d)) {
    state.timers.push(setInterval(async () => {
      try {
        const nd = await api.get('/v1/cases/' + encodeURIComponent(id));
        if (state.caseID !== id) return;
        renderCase(nd, composerState());
        if (!onItsWay(nd)) stopTimers();
      } catch { /* the next tick tries again */ }
    }, 1000));
  }
}

// onItsWay reports whether a reply of case d is still on its way to X: one the
// API lists as waiting or sending, or the one this agent just sent, which the
// API lists once the sender takes it.
function onItsWay(d) {
  const replies = d.replies || [];
  if (replies.some((r) => r.state === 'waiting' || r.state === 'sending')) return true;
  // Sent, but not yet in the case's messages (the sender records X's id, then
  // the message): followed a little longer (a minute at most), so that it
  // shows.
  if (replies.some((r) => r.state === 'sent' && !inCase(d, r)) && (state.lateTicks = (state.lateTicks || 0) + 1) < 60) return true;
  const f = state.follow;
  if (!f || f.caseID !== d.case.id) return false;
  const r = replies.find((x) => x.key === f.key);
  if (r && r.state !== 'waiting' && r.state !== 'sending') {
    state.follow = null;
    return false;
  }
  return true;
}

// inCase reports whether the message of sent reply r is among case d's: by
// X's id, or by its text (X's own copy of an X Chat reply may have reached the
// case first, under the id of its delivery).
function inCase(d, r) {
  return (d.messages || []).some((m) => m.id === r.x_id || (m.direction === 'out' && r.text && m.text === r.text));
}

function renderCase(d, keep) {
  const c = d.case;
  const msgs = [...(d.messages || [])].sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
  const byX = new Map((d.replies || []).filter((r) => r.x_id).map((r) => [r.x_id, r]));
  // Replies on their way, and a sent one whose message the case does not
  // hold yet (it shows as soon as it does).
  const pending = (d.replies || []).filter((r) => !r.x_id || !inCase(d, r));
  const waiting = (d.approvals || []).filter((a) => a.state !== 'approved');
  const f = state.follow;
  if (f && f.caseID === c.id && !(d.replies || []).some((r) => r.key === f.key)) {
    pending.push({ key: f.key, state: 'waiting', channel: f.channel, text: f.text });
  }
  const mine = state.me && state.me.agent && c.assignee === state.me.agent.id;
  const held = c.assignee && !mine;
  const status = h('div', { id: 'case-status', role: 'status', 'aria-live': 'polite' });

  const act = async (f, okMsg) => {
    replace(status);
    try {
      await f();
      if (okMsg) replace(status, h('p', { class: 'ok' }, okMsg));
      const nd = await api.get('/v1/cases/' + encodeURIComponent(c.id));
      renderCase(nd, composerState());
      if (okMsg) replace(document.getElementById('case-status'), h('p', { class: 'ok' }, okMsg));
    } catch (e) {
      if (e.status === 401) return;
      const who = e.body && (e.body.assignee_name || e.body.assignee);
      replace(document.getElementById('case-status') || status, h('p', { class: 'error', role: 'alert' },
        e.code === 'case_assigned' && who ? t('held_by', { who }) : t('error', { msg: e.message })));
    }
  };
  const base = '/v1/cases/' + encodeURIComponent(c.id);

  const assignSel = h('select', { 'aria-label': t('assign_to') }, h('option', { value: '' }, t('assign_to')),
    state.agents.map((a) => h('option', { value: a.id }, a.display_name || a.id)));

  replace(main,
    h('p', {}, h('a', { href: '#/queue/' + state.view, class: 'back' }, t('back'))),
    h('header', { class: 'case-head' },
      h('h1', {}, h('span', { class: 'chan ' + c.channel }, t(c.channel === 'dm' ? 'dm' : 'public')), ' @' + (c.customer_handle || c.customer_id)),
      h('p', { class: 'tags' },
        h('span', { class: 'tag status-' + c.status }, t('status_' + c.status)),
        h('span', { class: 'tag' }, t('col_priority') + ' ' + c.priority),
        c.intent ? h('span', { class: 'tag intent-' + c.intent }, labelOf('intent', c.intent)) : null,
        c.sentiment ? h('span', { class: 'tag' }, labelOf('sentiment', c.sentiment)) : null,
        c.lang ? h('span', { class: 'tag' }, c.lang) : null,
        c.department ? h('span', { class: 'tag dept' }, c.department) : null,
        c.crisis_topic ? h('span', { class: 'tag crisis' }, t('crisis') + ': ' + c.crisis_topic) : null,
        h('span', { class: 'tag' }, t('col_assignee') + ': ' + (c.assignee_name || c.assignee || t('nobody')))),
      h('div', { class: 'actions' },
        can('agent') && !c.assignee ? h('button', { type: 'button', id: 'claim', onclick: () => act(() => api.post(base + '/claim')) }, t('claim')) : null,
        can('agent') && mine ? h('button', { type: 'button', id: 'unassign', onclick: () => act(() => api.post(base + '/unassign')) }, t('unassign')) : null,
        can('admin') ? h('span', { class: 'assign' }, assignSel, h('button', {
          type: 'button', onclick: () => assignSel.value && act(() => api.post(base + '/assign', { agent_id: assignSel.value, replace: c.assignee || undefined })),
        }, t('assign'))) : null,
        !can('agent') ? null : c.status !== 'resolved'
          ? h('button', { type: 'button', id: 'resolve', onclick: () => act(() => api.post(base + '/resolve')) }, t('resolve'))
          : h('button', { type: 'button', id: 'reopen', onclick: () => act(() => api.post(base + '/reopen')) }, t('reopen'))),
      held ? h('p', { class: 'warn' }, t('held_by', { who: c.assignee_name || c.assignee })) : null,
      status),
    h('div', { class: 'case-body' },
      h('section', { class: 'conversation', 'aria-labelledby': 'conv-title' },
        h('h2', { id: 'conv-title' }, t('conversation')),
        h('ol', { class: 'messages' }, msgs.map((m) => message(m, byX.get(m.id), authors(msgs)))),
        pending.length ? h('ul', { class: 'replies' }, pending.map((r) => h('li', { class: 'msg out ' + r.channel },
          h('p', { class: 'text' }, r.text || ''), replyLine(r)))) : null,
        waiting.length ? h('ul', { class: 'approvals-of-case' }, waiting.map((a) => h('li', { class: 'msg out awaiting ' + a.reply.channel, 'data-draft': a.draft_id, 'data-approval': a.state },
          h('div', { class: 'meta' }, h('strong', {}, a.reply.author_name || a.reply.author)),
          h('p', { class: 'text' }, a.reply.text),
          h('p', { class: 'approval-state state-' + a.state }, a.state === 'rejected'
            ? t('approval_was_rejected', { who: a.decided_by_name || a.decided_by, reason: a.reason })
            : t('approval_waiting', { why: whyText(a.why) }))))) : null,
        composer(c, msgs, keep, act)),
      h('aside', { class: 'side' },
        labelsPanel(d),
        can('agent') ? relabel(c, act) : null,
        can('agent') ? triage(c, act) : null,
        notes(d, act),
        caseHistory(d),
        otherCases(c))));
}

// authors maps each author id of msgs to the name and handle one of their
// messages carries: X Chat events carry none, the author's other messages may.
function authors(msgs) {
  const who = new Map();
  for (const m of msgs) {
    if (m.author_handle && !who.has(m.author_id)) who.set(m.author_id, { name: m.author_name || '', handle: m.author_handle });
  }
  return who;
}

function message(m, reply, who) {
  const out = m.direction === 'out';
  const known = (!m.author_handle && who && who.get(m.author_id)) || { name: m.author_name || '', handle: m.author_handle || '' };
  return h('li', { class: 'msg ' + (out ? 'out' : 'in') + ' ' + m.channel + (m.deleted_at ? ' deleted' : ''), 'data-id': m.id },
    h('div', { class: 'meta' },
      h('span', { class: 'chan ' + m.channel }, t(m.channel === 'dm' ? 'dm' : 'public')), ' ',
      m.xchat ? [xchatTag(m), ' '] : null,
      h('strong', {}, known.name), ' ', h('span', { class: 'muted' }, known.handle ? '@' + known.handle : ''),
      out ? [' ', h('span', { class: 'tag' }, t('brand'))] : null, ' ',
      h('time', { datetime: m.created_at, title: m.created_at }, when(m.created_at))),
    m.deleted_at ? h('p', { class: 'deleted-note' }, t('deleted')) : null,
    m.xchat && !m.text ? xchatNote(m) : h('p', { class: 'text' }, m.text || ''),
    reply ? replyLine(reply) : (out && m.channel === 'public' ? xLink(m.id) : null));
}

// xchatTag marks an X Chat message, and says when its signature was verified
// against the sender's key registered with X.
function xchatTag(m) {
  if (!m.xchat.verified) return h('span', { class: 'tag xchat' }, t('xchat'));
  return h('span', { class: 'tag xchat verified', title: t('xchat_verified_title') }, t('xchat_verified'));
}

// xchatNote says why an X Chat message shows no text: Pajarito holds no X
// Chat keys, or could not open it (its problem, from the server, shown as
// text), or could not verify it (then its text is never shown as trusted).
function xchatNote(m) {
  const p = m.xchat.problem || '';
  if (!p) return h('p', { class: 'xchat-note', role: 'note' }, t(m.direction === 'out' ? 'xchat_unread_out' : 'xchat_unread'));
  const key = p.startsWith('could not verify') ? 'xchat_unverified' : 'xchat_unopened';
  return h('p', { class: 'xchat-note ' + key, role: 'note' }, t(key, { problem: p }));
}

function replyLine(r) {
  return h('p', { class: 'reply-state state-' + r.state, 'data-state': r.state },
    t('reply_state', { state: t('state_' + r.state) }),
    r.author_name ? ' · ' + r.author_name : '',
    r.reason ? ' — ' + r.reason : '',
    r.state === 'sent' && r.channel === 'public' && r.x_id ? [' ', xLink(r.x_id)] : null);
}

function xLink(id) {
  return h('a', { href: 'https://x.com/i/web/status/' + encodeURIComponent(id), rel: 'noopener noreferrer', target: '_blank' }, t('view_on_x'));
}

function labelsPanel(d) {
  const last = (d.decisions || []).at(-1);
  if (!last) return null;
  const l = last.labels || {};
  return h('section', { class: 'labels', 'aria-labelledby': 'labels-title' },
    h('h2', { id: 'labels-title' }, t('labels')),
    h('dl', {}, (l.reasons || []).map((r) => [h('dt', {}, labelOf('label', r.label) + ': ' + labelOf(r.label, r.value)), h('dd', {}, r.because)])),
    h('h3', {}, t('priority_factors', { p: last.priority })),
    h('ul', {}, (last.priority_factors || []).map((f) => h('li', { 'data-factor': f.factor }, (f.points >= 0 ? '+' : '') + f.points + ' · ' + factorText(f)))),
    h('h3', {}, t('department_why')),
    h('p', {}, (last.department || '') + (last.department_why ? ' — ' + last.department_why : '')),
    h('h3', {}, t('decisions')),
    h('ul', {}, (last.actions || []).map((a) => h('li', {}, a.kind + ': ' + a.why))));
}

function relabel(c, act) {
  const intent = h('select', { id: 'relabel-intent' }, INTENTS.map((i) => h('option', { value: i, selected: i === c.intent }, labelOf('intent', i))));
  const sentiment = h('select', { id: 'relabel-sentiment' }, SENTIMENTS.map((s) => h('option', { value: s, selected: s === c.sentiment }, labelOf('sentiment', s))));
  return h('section', { class: 'relabel', 'aria-labelledby': 'relabel-title' },
    h('h2', { id: 'relabel-title' }, t('relabel')),
    h('label', { for: 'relabel-intent' }, t('intent')), ' ', intent, ' ',
    h('label', { for: 'relabel-sentiment' }, t('sentiment')), ' ', sentiment, ' ',
    h('button', {
      type: 'button', id: 'save-labels',
      onclick: () => act(() => api.put('/v1/cases/' + encodeURIComponent(c.id) + '/labels', { intent: intent.value, sentiment: sentiment.value }), t('labels_saved')),
    }, t('save_labels')));
}

function triage(c, act) {
  const prio = h('input', { id: 'triage-priority', type: 'number', min: 0, max: 999, value: String(c.priority) });
  const dept = h('select', { id: 'triage-department' },
    [...new Set([...state.departments, c.department].filter(Boolean))].sort().map((d) => h('option', { value: d, selected: d === c.department }, d)));
  return h('section', { class: 'triage', 'aria-labelledby': 'triage-title' },
    h('h2', { id: 'triage-title' }, t('triage')),
    h('label', { for: 'triage-priority' }, t('col_priority')), ' ', prio, ' ',
    h('label', { for: 'triage-department' }, t('col_department')), ' ', dept, ' ',
    h('button', {
      type: 'button', id: 'save-triage',
      onclick: () => act(() => api.put('/v1/cases/' + encodeURIComponent(c.id) + '/triage', { priority: Number(prio.value), department: dept.value || undefined }), t('triage_saved')),
    }, t('save_triage')),
    (c.overridden || []).length ? h('p', { class: 'muted small' }, t('overridden', { f: c.overridden.join(', ') })) : null);
}

// history is the case's audit trail: who did what, and when, oldest first.
function caseHistory(d) {
  const entries = d.audit || [];
  return h('section', { class: 'history', 'aria-labelledby': 'history-title' },
    h('h2', { id: 'history-title' }, t('history')),
    entries.length === 0 ? h('p', { class: 'muted' }, t('history_none')) : h('ol', { id: 'history' }, entries.map((e) => h('li', { 'data-action': e.action },
      h('time', { datetime: e.at }, when(e.at)), ' · ', h('strong', {}, e.actor_name || e.actor),
      e.role ? [' ', h('span', { class: 'muted' }, '(' + t('role_' + e.role) + ')')] : null, ' · ',
      actionText(e)))));
}

// actionText says what an audit entry did, in the interface's language.
function actionText(e) {
  const key = 'audit_' + e.action;
  const s = t(key, e.detail || {});
  return s === key ? e.action : s;
}

// otherCases lists the customer's other cases, filled in when the API answers.
function otherCases(c) {
  const list = h('ul', { id: 'other-cases' }, h('li', { class: 'muted' }, t('loading')));
  api.get('/v1/customers/' + encodeURIComponent(c.customer_id) + '/cases?limit=10&exclude=' + encodeURIComponent(c.id))
    .then((r) => replace(list, (r.cases || []).length === 0
      ? h('li', { class: 'muted' }, t('no_other_cases'))
      : r.cases.map((o) => h('li', { 'data-id': o.id },
        h('a', { href: '#/case/' + o.id }, h('span', { class: 'chan ' + o.channel }, t(o.channel === 'dm' ? 'dm' : 'public')), ' ', firstLine(o.subject || o.id)),
        ' ', h('span', { class: 'muted small' }, t('status_' + o.status) + ' · ' + when(o.created_at))))))
    .catch((e) => { if (e.status !== 401) replace(list, h('li', { class: 'error' }, t('error', { msg: e.message }))); });
  return h('section', { class: 'others', 'aria-labelledby': 'others-title' }, h('h2', { id: 'others-title' }, t('other_cases')), list);
}

function notes(d, act) {
  const text = h('textarea', { id: 'note-text', rows: 2, 'aria-label': t('note_text'), placeholder: t('note_text') });
  return h('section', { class: 'notes', 'aria-labelledby': 'notes-title' },
    h('h2', { id: 'notes-title' }, t('notes')),
    h('ol', {}, (d.notes || []).map((n) => h('li', { class: 'note' },
      h('div', { class: 'meta' }, h('strong', {}, n.author_name || n.author_id), ' ', h('time', { datetime: n.created_at }, when(n.created_at))),
      h('p', { class: 'text' }, n.text)))),
    h('form', {
      onsubmit: (e) => {
        e.preventDefault();
        if (text.value.trim()) act(() => api.post('/v1/cases/' + encodeURIComponent(d.case.id) + '/notes', { text: text.value }));
      },
    }, text, h('button', { type: 'submit', id: 'add-note' }, t('add_note'))));
}

// ---- the reply -----------------------------------------------------------

// A draft is kept in the tab's session storage with its draft_id, through
// reloads and a new sign-in, until the API has taken it: a retry of the same
// draft is answered as a duplicate, never sent twice.
const draftKey = (caseID) => 'pajarito.draft.' + caseID;

function loadDraft(caseID) {
  try { return JSON.parse(sessionStorage.getItem(draftKey(caseID))) || null; } catch { return null; }
}

function saveDraft(caseID, d) { sessionStorage.setItem(draftKey(caseID), JSON.stringify(d)); }

function newDraftID() {
  return 'd-' + (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2));
}

function composerState() {
  const ta = document.getElementById('reply-text');
  return ta ? { focused: document.activeElement === ta } : null;
}

function composer(c, msgs, keep, act) {
  const draft = loadDraft(c.id) || { id: newDraftID(), text: '', channel: c.channel };
  if (c.channel === 'dm') draft.channel = 'dm'; // a DM case is answered by DM only
  const text = h('textarea', { id: 'reply-text', rows: 4, 'aria-label': t('reply_text'), placeholder: t('reply_text'), value: draft.text });
  const lint = h('div', { id: 'lint', role: 'status', 'aria-live': 'polite' });
  const count = h('span', { id: 'chars', class: 'muted' });
  const sendLabel = can('agent') ? t('send') : t('send_for_approval');
  const send = h('button', { type: 'submit', id: 'send', disabled: true }, sendLabel);
  const chan = (v) => h('label', {}, h('input', {
    type: 'radio', name: 'reply-channel', value: v, checked: draft.channel === v,
    disabled: c.channel === 'dm' && v === 'public',
    onchange: () => { draft.channel = v; saveDraft(c.id, draft); check(); },
  }), ' ', t(v === 'dm' ? 'reply_dm' : 'reply_public'));
  const firstName = ((msgs.find((m) => m.direction === 'in' && m.author_name) || {}).author_name || '').split(/\s+/)[0] || '@' + (c.customer_handle || '');
  const tpls = state.templates.filter((x) => (!c.lang || x.lang === c.lang) && (!c.intent || x.kind === c.intent || x.kind === 'question'));
  const picker = h('select', {
    id: 'template', 'aria-label': t('template'),
    onchange: (e) => {
      const tp = state.templates.find((x) => x.id === e.target.value);
      if (!tp) return;
      text.value = tp.text.replaceAll('{first_name}', firstName).replaceAll('{handle}', '@' + (c.customer_handle || ''))
        .replaceAll('{signature}', '').trim();
      e.target.value = '';
      onInput();
    },
  }, h('option', { value: '' }, t('template')), tpls.map((x) => h('option', { value: x.id }, x.id)));

  let seq = 0;
  let timer = 0;
  let ok = false;
  async function check() {
    const mySeq = ++seq;
    ok = false;
    send.disabled = true;
    if (!text.value.trim()) { replace(lint); replace(count); return; }
    replace(lint, h('p', { class: 'muted' }, t('lint_checking')));
    let res;
    try {
      res = await api.post('/v1/cases/' + encodeURIComponent(c.id) + '/lint', { text: text.value, channel: draft.channel });
    } catch (e) {
      if (mySeq === seq && e.status !== 401) replace(lint, h('p', { class: 'error' }, t('error', { msg: e.message })));
      return;
    }
    if (mySeq !== seq) return; // the agent typed on: a newer check answers
    const left = res.limit - res.length;
    replace(count, left >= 0 ? t('chars_left', { n: left }) : t('chars_over', { n: -left }));
    count.className = left >= 0 ? 'muted' : 'error';
    const items = [...res.errors.map((i) => h('li', { class: 'lint-error', 'data-rule': i.rule }, i.message)),
      ...res.warnings.map((i) => h('li', { class: 'lint-warning', 'data-rule': i.rule }, i.message))];
    replace(lint, items.length ? h('ul', {}, items) : null, res.ok ? h('p', { class: 'ok' }, t('lint_ok')) : null);
    ok = res.ok;
    send.disabled = !ok;
  }
  function onInput() {
    draft.text = text.value;
    saveDraft(c.id, draft);
    clearTimeout(timer);
    send.disabled = true;
    timer = setTimeout(check, 250);
  }
  text.addEventListener('input', onInput);

  const form = h('form', {
    class: 'composer', 'aria-labelledby': 'reply-title',
    onsubmit: async (e) => {
      e.preventDefault();
      if (!ok) return;
      send.disabled = true;
      send.textContent = t('sending');
      try {
        const res = await api.post('/v1/cases/' + encodeURIComponent(c.id) + '/replies', { draft_id: draft.id, text: draft.text, channel: draft.channel });
        sessionStorage.removeItem(draftKey(c.id));
        if (!res.approval) state.follow = { caseID: c.id, key: res.reply.idempotency_key, channel: res.reply.channel, text: res.reply.text };
        route(); // follows the reply until X has it (or shows it awaiting approval)
      } catch (err) {
        send.textContent = sendLabel;
        send.disabled = false;
        if (err.status === 401) return; // the draft waits in session storage
        const who = err.body && (err.body.assignee_name || err.body.assignee);
        replace(lint, h('p', { class: 'error', role: 'alert' }, err.code === 'case_assigned' && who ? t('held_by', { who }) : t('error', { msg: err.message })));
      }
    },
  },
  h('h2', { id: 'reply-title' }, t('reply')),
  h('div', { class: 'row' }, chan('public'), ' ', chan('dm'), ' ', picker),
  text,
  h('div', { class: 'row' }, count, ' ', h('span', { class: 'muted' }, t('signs_as', { sig: (state.me && state.me.signs_as) || '' })), ' ',
    can('agent') ? null : h('span', { class: 'muted', id: 'for-approval' }, t('for_approval')), ' ', send),
  lint);
  if (draft.text) setTimeout(check, 0);
  if (keep && keep.focused) setTimeout(() => text.focus(), 0);
  return form;
}

// ---- help, keys, errors --------------------------------------------------

function showHelp() {
  const dlg = h('dialog', { id: 'help', 'aria-labelledby': 'help-title' },
    h('h2', { id: 'help-title' }, t('shortcuts')),
    h('ul', {}, ['sc_next', 'sc_open', 'sc_reply', 'sc_note', 'sc_resolve', 'sc_queue', 'sc_help'].map((k) => h('li', {}, t(k)))),
    h('form', { method: 'dialog' }, h('button', { type: 'submit' }, t('close'))));
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
}

function onKey(e) {
  const tag = (e.target && e.target.tagName) || '';
  if (e.ctrlKey || e.metaKey || e.altKey || tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || document.getElementById('help')) return;
  const inCase = !!state.caseID;
  const click = (id) => { const b = document.getElementById(id); if (b) { e.preventDefault(); b.click(); } };
  switch (e.key) {
    case '?': e.preventDefault(); showHelp(); break;
    case 'j': e.preventDefault(); if (inCase) stepCase(1); else moveSelection(1); break;
    case 'k': e.preventDefault(); if (inCase) stepCase(-1); else moveSelection(-1); break;
    case 'Enter': if (!inCase && state.cases[state.selected] && tag !== 'A' && tag !== 'BUTTON') location.hash = '#/case/' + state.cases[state.selected].id; break;
    case 'g': e.preventDefault(); location.hash = '#/'; break;
    case 'r': if (inCase) { e.preventDefault(); document.getElementById('reply-text')?.focus(); } break;
    case 'n': if (inCase) { e.preventDefault(); document.getElementById('note-text')?.focus(); } break;
    case 'e': if (inCase) click('resolve'); break;
    default:
  }
}

// stepCase opens the next (d = 1) or previous (-1) case of the queue last shown.
function stepCase(d) {
  const i = state.cases.findIndex((c) => c.id === state.caseID);
  const next = state.cases[i + d];
  if (i < 0 || !next) return;
  state.selected = i + d;
  location.hash = '#/case/' + next.id;
}

function showError(e) {
  replace(main, h('p', { class: 'error', role: 'alert' }, t('error', { msg: e.message || String(e) })));
}

// ---- formatting ----------------------------------------------------------

// labelOf names a label value (intent complaint, sentiment negative) in the
// interface's language; values without a name (departments, topics) show as
// they are.
// agentName is the display name of the agent of id (the id when unknown).
function agentName(id) {
  const a = state.agents.find((x) => x.id === id);
  return (a && a.display_name) || id;
}

// factorText says why a priority factor counts, in the interface's language
// (the server's English when the factor is not one the console knows).
function factorText(f) {
  const a = { ...(f.args || {}) };
  if (a.intent) a.intent = labelOf('intent', a.intent);
  if (a.sentiment) a.sentiment = labelOf('sentiment', a.sentiment);
  if (a.level) a.level = labelOf('urgency', a.level);
  if (a.kinds) a.kinds = labelOf('kind', a.kinds);
  const key = 'factor_' + f.factor + (f.factor === 'urgency_kinds' && a.max ? '_capped' : '');
  const s = f.args || ['verified', 'public_pii'].includes(f.factor) ? t(key, a) : key;
  return s === key ? f.factor + ': ' + f.because : s;
}

function labelOf(kind, value) {
  if (value.includes(',')) return value.split(',').map((v) => labelOf(kind, v)).join(', '); // pii: email,phone
  const key = kind + '_' + value;
  const name = t(key);
  return name === key ? value : name;
}

function firstLine(s) {
  const line = s.split('\n')[0];
  return line.length > 140 ? line.slice(0, 139) + '…' : line;
}

function since(iso) {
  const ms = Date.now() - Date.parse(iso);
  return ms >= 0 ? span(ms) : '';
}

// dueText counts down to a due time, or says how long ago it passed.
function dueText(iso) {
  const ms = Date.parse(iso) - Date.now();
  if (Number.isNaN(ms)) return '';
  const d = span(Math.abs(ms));
  return ms > 0 ? t('due_in', { t: d }) : t('overdue', { t: d });
}

function span(ms) {
  const m = Math.floor(ms / 60000);
  if (m < 60) return m + ' min';
  const hrs = Math.floor(m / 60);
  return hrs < 48 ? hrs + ' h ' + (m % 60) + ' min' : Math.floor(hrs / 24) + ' d';
}

function when(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleString(getLang() === 'es' ? 'es-ES' : 'en-GB', { dateStyle: 'short', timeStyle: 'short' });
}

boot();
