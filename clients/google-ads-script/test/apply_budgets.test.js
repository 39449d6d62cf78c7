'use strict';
/**
 * Tests for apply_budgets.js with stubbed Google Ads globals.
 *
 * Google Ads' UrlFetchApp is synchronous and node has no synchronous HTTP, so each test fetches
 * the response first (global fetch) and hands the script a UrlFetchApp that replays it, after
 * asserting the script asked for exactly that URL and those headers.
 *
 * The "contract" suite runs against the real API when PPCOPT_TEST_BASE_URL, PPCOPT_TEST_KEY and
 * PPCOPT_TEST_ACCOUNT are set (it only relies on the rows it fetched), otherwise against the fake
 * server below. The "fake server" suite always runs: it pins exact cases the real data may lack.
 */
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const crypto = require('node:crypto');
const path = require('node:path');

const script = require(path.join(__dirname, '..', 'apply_budgets.js'));

const KEY = 'test-key-acme';
const OTHER_KEY = 'test-key-other';

// ---------------------------------------------------------------- fake API server

function plan(overrides) {
  return {
    id: 12,
    account: 'acme',
    date: '2026-12-02',
    level: 'campaign',
    currency: 'EUR',
    created_at: '2026-12-01T05:31:02Z',
    cap: {
      id: 3,
      period_start: '2026-12-01',
      period_end: '2026-12-31',
      amount: '30000.00',
      currency: 'EUR',
      status: 'approved',
    },
    budget: '1000.00',
    total_recommended: '1000.00',
    rows: [
      row('Brand', '120.00', '131.50'),
      row('Generic', '400.00', '360.00'),
      row('Shopping DE', '200.00', '230.00'),
      { ...row('PMax Sale', '150.00', '180.00'), campaign_id: '9001' },
      row('Kid\'s "Toys" \\ more', '50.00', '58.45'),
      row('Display Big', '10.00', '20.00'),
      row('Shared A', '20.00', '20.05'),
      row('Ghost', '0.00', '0.00'),
    ],
    ...overrides,
  };
}

function row(campaign, current, recommended) {
  return {
    date: '2026-12-02',
    campaign: campaign,
    ad_group: '',
    keyword: '',
    match_type: '',
    current_spend: current,
    recommended_spend: recommended,
    change_pct: 0,
    expected_conversions: 1,
    expected_conversions_low: 0.5,
    expected_conversions_high: 1.5,
    expected_value: 10,
    marginal_cpa: 5,
    bound: 'none',
  };
}

/** Accounts: acme (plan above), tiny* (rounding), empty (404), nocap (409). */
const PLANS = {
  acme: plan(),
  tiny: plan({
    account: 'tiny',
    budget: '0.30',
    total_recommended: '0.30',
    rows: [row('A', '0.09', '0.10'), row('B', '0.18', '0.20')],
  }),
  // A faulty plan whose rows add up to one cent more than its budget.
  'tiny-over': plan({
    account: 'tiny-over',
    budget: '0.29',
    total_recommended: '0.30',
    rows: [row('A', '0.09', '0.10'), row('B', '0.18', '0.20')],
  }),
  // Cap stops: the cap is spent for Brand and Generic (0, and the bound names cap_reached among
  // other tokens); Display gets 0 for another reason; Shopping DE, PMax Sale and Hand Paused are
  // funded (in the stub account they are paused: the first two by ppcopt, the last by hand).
  stops: plan({
    account: 'stops',
    budget: '300.00',
    total_recommended: '230.00',
    rows: [
      { ...row('Brand', '100.00', '0.00'), bound: 'cap_reached' },
      { ...row('Generic', '200.00', '0.00'), bound: 'max_spend; cap_reached' },
      { ...row('Display', '50.00', '0.00'), bound: 'max_change' },
      row('Shopping DE', '80.00', '80.00'),
      { ...row('PMax Sale', '100.00', '110.00'), campaign_id: '9001' },
      row('Hand Paused', '40.00', '40.00'),
    ],
  }),
  // The first plan of the next cap period funds the campaigns paused in the previous one.
  'stops-january': plan({
    account: 'stops-january',
    id: 31,
    date: '2027-01-01',
    cap: {
      id: 4,
      period_start: '2027-01-01',
      period_end: '2027-01-31',
      amount: '31000.00',
      currency: 'EUR',
      status: 'approved',
    },
    budget: '1000.00',
    total_recommended: '190.00',
    rows: [
      { ...row('Shopping DE', '80.00', '80.00'), date: '2027-01-01' },
      { ...row('PMax Sale', '100.00', '110.00'), date: '2027-01-01', campaign_id: '9001' },
    ],
  }),
};
const KEYS = { [KEY]: '*', [OTHER_KEY]: ['other'] };

function send(res, status, body, headers) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(body === null ? undefined : JSON.stringify(body));
}

function handle(req, res) {
  const url = new URL(req.url, 'http://x');
  if (url.pathname.startsWith('/html/')) {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    return res.end('<html>login page</html>');
  }
  const m = /^\/v1\/accounts\/([^/]+)\/recommendations\/latest$/.exec(url.pathname);
  if (!m || req.method !== 'GET') return send(res, 404, { error: 'not_found', detail: 'no route' });
  if (url.searchParams.get('level') !== 'campaign' || url.searchParams.get('format') !== 'json') {
    return send(res, 422, { error: 'invalid_input', detail: 'level/format' });
  }
  const account = decodeURIComponent(m[1]);
  const auth = /^Bearer (.+)$/.exec(req.headers.authorization || '');
  const scope = auth && KEYS[auth[1]];
  if (!scope) return send(res, 401, { error: 'unauthorized', detail: 'unknown API key' });
  if (scope !== '*' && !scope.includes(account)) {
    return send(res, 403, { error: 'forbidden', detail: 'key is not valid for ' + account });
  }
  if (account === 'nocap') {
    return send(res, 409, { error: 'conflict', detail: 'no approved cap for December' });
  }
  const body = PLANS[account];
  if (!body) return send(res, 404, { error: 'not_found', detail: 'nothing published yet' });
  const text = JSON.stringify(body);
  const etag = '"' + crypto.createHash('sha1').update(text).digest('hex') + '"';
  if (req.headers['if-none-match'] === etag) return send(res, 304, null, { ETag: etag });
  res.writeHead(200, { 'Content-Type': 'application/json', ETag: etag });
  return res.end(text);
}

function startFakeServer() {
  return new Promise((resolve) => {
    const server = http.createServer(handle);
    server.listen(0, '127.0.0.1', () => {
      resolve({ server: server, base: 'http://127.0.0.1:' + server.address().port });
    });
  });
}

// ---------------------------------------------------------------- Google Ads stubs

function budget(amount, shared) {
  return {
    amount: amount,
    sets: [],
    getAmount() {
      return this.amount;
    },
    setAmount(x) {
      this.sets.push(x);
      this.amount = x;
    },
    isExplicitlyShared() {
      return Boolean(shared);
    },
  };
}

/**
 * campaigns: [{id, name, budget, kind: 'search' | 'shopping' | 'pmax',
 *              status: 'ENABLED' (default) | 'PAUSED' | 'REMOVED', labels: [label names],
 *              failPause / failEnable: error message thrown by pause() / enable()}]
 * opts.labels: the label names that exist in the account.
 * Every mutation of a campaign or label is recorded in `ops`, in order.
 */
function makeAdsApp(campaigns, opts) {
  const conditions = [];
  const ops = [];
  const accountLabels = (opts.labels || []).slice();
  /** A LabelSelector over the names `names()` returns (AdsApp.labels(), campaign.labels()). */
  const labelSelector = (names) => {
    let wanted = null;
    const sel = {
      withCondition(cond) {
        conditions.push(cond);
        const m = /^label\.name = "((?:[^"\\]|\\.)*)"$/.exec(cond);
        if (!m) throw new Error('stub does not understand label condition: ' + cond);
        wanted = m[1].replace(/\\(.)/g, '$1');
        return sel;
      },
      get() {
        const items = names().filter((n) => wanted === null || n === wanted);
        let i = 0;
        return {
          hasNext: () => i < items.length,
          next: () => ({ getName: () => items[i++] }),
          totalNumEntities: () => items.length,
        };
      },
    };
    return sel;
  };
  const selector = (kind) => {
    let items = campaigns.filter((c) => (c.kind || 'search') === kind);
    const sel = {
      withCondition(cond) {
        conditions.push(cond);
        const name = /^campaign\.name = "((?:[^"\\]|\\.)*)"$/.exec(cond);
        if (name) {
          const wanted = name[1].replace(/\\(.)/g, '$1');
          items = items.filter((c) => c.name === wanted);
        } else if (cond === 'campaign.status != REMOVED') {
          items = items.filter((c) => c.status !== 'REMOVED');
        } else {
          throw new Error('stub does not understand condition: ' + cond);
        }
        return sel;
      },
      withIds(ids) {
        assert.ok(ids.every((id) => typeof id === 'number'));
        items = items.filter((c) => ids.includes(c.id));
        return sel;
      },
      get() {
        let i = 0;
        return {
          hasNext: () => i < items.length,
          next: () => wrap(items[i++]),
          totalNumEntities: () => items.length,
        };
      },
    };
    return sel;
  };
  const status = (c) => c.status || 'ENABLED';
  const wrap = (c) => ({
    getName: () => c.name,
    getId: () => c.id,
    getBudget: () => c.budget,
    isEnabled: () => status(c) === 'ENABLED',
    isPaused: () => status(c) === 'PAUSED',
    isRemoved: () => status(c) === 'REMOVED',
    pause() {
      ops.push('pause ' + c.name);
      if (c.failPause) throw new Error(c.failPause);
      c.status = 'PAUSED';
    },
    enable() {
      ops.push('enable ' + c.name);
      if (c.failEnable) throw new Error(c.failEnable);
      c.status = 'ENABLED';
    },
    labels: () => labelSelector(() => c.labels || []),
    applyLabel(name) {
      ops.push('applyLabel ' + c.name + ': ' + name);
      if (!accountLabels.includes(name)) throw new Error('no label named ' + name);
      c.labels = c.labels || [];
      if (!c.labels.includes(name)) c.labels.push(name);
    },
    removeLabel(name) {
      ops.push('removeLabel ' + c.name + ': ' + name);
      c.labels = (c.labels || []).filter((n) => n !== name);
    },
  });
  return {
    conditions: conditions,
    ops: ops,
    accountLabels: accountLabels,
    labels: () => labelSelector(() => accountLabels),
    createLabel(name, description, backgroundColor) {
      ops.push('createLabel ' + name);
      if (accountLabels.includes(name)) throw new Error('label already exists: ' + name);
      accountLabels.push(name);
    },
    currentAccount: () => ({
      getTimeZone: () => opts.timeZone,
      getCurrencyCode: () => opts.currency,
    }),
    campaigns: () => selector('search'),
    shoppingCampaigns: () => selector('shopping'),
    performanceMaxCampaigns: () => selector('pmax'),
  };
}

const Utilities = {
  formatDate(date, timeZone, format) {
    assert.equal(format, 'yyyy-MM-dd');
    const f = new Intl.DateTimeFormat('en-CA', {
      timeZone: timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    return f.format(date);
  },
};

function expectedUrl(base, account) {
  return (
    base.replace(/\/+$/, '') +
    '/v1/accounts/' +
    encodeURIComponent(account) +
    '/recommendations/latest?level=campaign&format=json'
  );
}

async function prefetch(url, key, ifNoneMatch) {
  const headers = { Authorization: 'Bearer ' + key };
  if (ifNoneMatch) headers['If-None-Match'] = ifNoneMatch;
  const res = await fetch(url, { headers: headers });
  return {
    url: url,
    sent: headers,
    status: res.status,
    headers: Object.fromEntries(res.headers.entries()),
    text: await res.text(),
  };
}

/** UrlFetchApp that replays `recorded` after checking the script asked for the same request. */
function replayingUrlFetchApp(recorded) {
  const calls = [];
  return {
    calls: calls,
    fetch(url, params) {
      calls.push({ url: url, params: params });
      assert.equal(url, recorded.url);
      assert.equal(params.muteHttpExceptions, true);
      const sent = {};
      Object.keys(params.headers).forEach((k) => (sent[k.toLowerCase()] = params.headers[k]));
      assert.equal(sent.authorization, recorded.sent.Authorization);
      assert.equal(sent['if-none-match'], recorded.sent['If-None-Match']);
      return {
        getResponseCode: () => recorded.status,
        getContentText: () => recorded.text,
        getHeaders: () => recorded.headers,
        getAllHeaders: () => recorded.headers,
      };
    },
  };
}

/** Pre-fetch, install the globals, run main(), and return what the script did. */
async function runScript(target, ads, options) {
  const o = options || {};
  const account = o.account || target.account;
  const key = o.key || target.key;
  const recorded = await prefetch(expectedUrl(target.base, account), key, o.ifNoneMatch);
  const urlFetch = replayingUrlFetchApp(recorded);
  const lines = [];
  Object.assign(globalThis, {
    AdsApp: ads,
    UrlFetchApp: urlFetch,
    Utilities: Utilities,
    Logger: { log: (msg) => lines.push(String(msg)) },
  });
  try {
    const summary = script.main({
      baseUrl: target.base,
      apiKey: key,
      account: account,
      apply: o.apply,
      maxChangeFraction: o.maxChangeFraction,
      ifNoneMatch: o.ifNoneMatch,
      now: o.now,
    });
    assert.equal(urlFetch.calls.length, 1);
    return { summary: summary, lines: lines, recorded: recorded };
  } finally {
    ['AdsApp', 'UrlFetchApp', 'Utilities', 'Logger'].forEach((g) => delete globalThis[g]);
  }
}

function micros(decimal) {
  return script.parseMicros_(decimal, 'test');
}

function allSets(campaigns) {
  return campaigns.flatMap((c) => c.budget.sets);
}

/** Campaigns built from a plan's rows: each row's campaign exists with budget = current_spend. */
function campaignsFromRows(rows) {
  return rows.map((r, i) => ({
    id: r.campaign_id && /^\d+$/.test(r.campaign_id) ? Number(r.campaign_id) : 7000000 + i,
    name: r.campaign,
    budget: budget(micros(r.current_spend) / 1e6, false),
  }));
}

function noonUtc(isoDate) {
  return new Date(isoDate + 'T12:00:00Z');
}

// ---------------------------------------------------------------- contract suite

const ENV = process.env;
const REAL = Boolean(ENV.PPCOPT_TEST_BASE_URL && ENV.PPCOPT_TEST_KEY && ENV.PPCOPT_TEST_ACCOUNT);

const CONTRACT_TARGET = REAL ? 'real server ' + ENV.PPCOPT_TEST_BASE_URL : 'fake server';

describe('contract (' + CONTRACT_TARGET + ')', () => {
  let fake = null;
  let target = null;
  let published = null;

  before(async () => {
    if (REAL) {
      target = {
        base: ENV.PPCOPT_TEST_BASE_URL,
        key: ENV.PPCOPT_TEST_KEY,
        account: ENV.PPCOPT_TEST_ACCOUNT,
      };
    } else {
      fake = await startFakeServer();
      target = { base: fake.base, key: KEY, account: 'acme' };
    }
    const first = await prefetch(expectedUrl(target.base, target.account), target.key);
    assert.equal(first.status, 200, 'the test account must have a published plan: ' + first.text);
    published = { body: JSON.parse(first.text), etag: first.headers.etag };
    assert.ok(published.body.rows.length > 0, 'the published plan has no rows');
  });

  after(() => fake && fake.server.close());

  const setup = () => {
    const campaigns = campaignsFromRows(published.body.rows);
    const ads = makeAdsApp(campaigns, { timeZone: 'UTC', currency: published.body.currency });
    return { campaigns: campaigns, ads: ads, now: noonUtc(published.body.date) };
  };

  it('preview changes nothing and logs every campaign', async () => {
    const { campaigns, ads, now } = setup();
    const { summary, lines } = await runScript(target, ads, { now: now, maxChangeFraction: 1e9 });
    assert.equal(summary.outcome, 'preview');
    assert.deepEqual(allSets(campaigns), []);
    assert.deepEqual(summary.applied, []);
    assert.deepEqual(summary.notFound, []);
    published.body.rows.forEach((r) => {
      assert.ok(lines.some((l) => l.startsWith(r.campaign + ': current ')), r.campaign);
    });
    assert.match(lines[lines.length - 1], /^Preview: \d+ changes to apply/);
  });

  it('APPLY=true sets every changed budget to the exact recommended amount', async () => {
    const { campaigns, ads, now } = setup();
    const { summary } = await runScript(target, ads, {
      now: now,
      apply: true,
      maxChangeFraction: 1e9,
    });
    assert.equal(summary.outcome, 'applied');
    const rows = published.body.rows;
    const changing = rows.filter(
      (r) => micros(r.current_spend) > 0 && micros(r.recommended_spend) > 0 &&
        r.recommended_spend !== r.current_spend,
    );
    assert.deepEqual(
      summary.applied.map((e) => e.campaign).sort(),
      changing.map((r) => r.campaign).sort(),
    );
    rows.forEach((r, i) => {
      const expected = changing.includes(r) ? [micros(r.recommended_spend)] : [];
      const sets = campaigns[i].budget.sets.map((x) => Math.round(x * 1e6));
      assert.deepEqual(sets, expected, r.campaign);
    });
  });

  it('never leaves the total above the published budget (exact micros)', async () => {
    const { campaigns, ads, now } = setup();
    await runScript(target, ads, { now: now, apply: true, maxChangeFraction: 1e9 });
    const budgetMicros = micros(published.body.budget);
    assert.ok(micros(published.body.total_recommended) <= budgetMicros);
    const after = campaigns.reduce((s, c) => s + Math.round(c.budget.getAmount() * 1e6), 0);
    const before = published.body.rows.reduce((s, r) => s + micros(r.current_spend), 0);
    assert.ok(after <= Math.max(budgetMicros, before), after + ' > ' + budgetMicros);
  });

  it('refuses a raise larger than MAX_CHANGE_FRACTION', async () => {
    const { campaigns, ads, now } = setup();
    const i = published.body.rows.findIndex((r) => micros(r.recommended_spend) > 0);
    assert.ok(i >= 0, 'needs one row with a positive recommendation');
    const name = published.body.rows[i].campaign;
    campaigns[i].budget.amount = micros(published.body.rows[i].recommended_spend) / 3 / 1e6;
    const { summary, lines } = await runScript(target, ads, {
      now: now,
      apply: true,
      maxChangeFraction: 0.3,
    });
    assert.deepEqual(campaigns[i].budget.sets, []);
    assert.ok(summary.refused.some((e) => e.campaign === name && /raise .*30%/.test(e.reason)));
    assert.ok(lines.some((l) => l.startsWith(name + ':') && /REFUSED/.test(l)));
  });

  it('applies a cut of any size: finance must be able to cut to the cap', async () => {
    const { campaigns, ads, now } = setup();
    const i = published.body.rows.findIndex((r) => micros(r.recommended_spend) > 0);
    const recommended = micros(published.body.rows[i].recommended_spend);
    campaigns[i].budget.amount = (recommended * 3) / 1e6;
    const { summary } = await runScript(target, ads, { now: now, apply: true });
    assert.deepEqual(campaigns[i].budget.sets, [recommended / 1e6]);
    assert.ok(!summary.refused.some((e) => e.campaign === published.body.rows[i].campaign));
  });

  it('reports a campaign missing from the account as not found', async () => {
    const { campaigns, now } = setup();
    const missing = campaigns.shift();
    const ads = makeAdsApp(campaigns, { timeZone: 'UTC', currency: published.body.currency });
    const { summary } = await runScript(target, ads, { now: now, apply: true });
    assert.deepEqual(summary.notFound.map((e) => e.campaign), [missing.name]);
    assert.deepEqual(missing.budget.sets, []);
  });

  it('304 with the last ETag: logs that nothing is new and changes nothing', async () => {
    assert.ok(published.etag, 'the server must send an ETag');
    const { campaigns, ads, now } = setup();
    const { summary, lines, recorded } = await runScript(target, ads, {
      now: now,
      apply: true,
      ifNoneMatch: published.etag,
    });
    assert.equal(recorded.status, 304);
    assert.equal(summary.outcome, 'unchanged');
    assert.deepEqual(allSets(campaigns), []);
    assert.match(lines.join('\n'), /Nothing new published since ETag/);
  });

  it('401 with a wrong key: clear log, no changes', async () => {
    const { campaigns, ads, now } = setup();
    const { summary, lines } = await runScript(target, ads, {
      now: now,
      apply: true,
      key: 'wrong-' + crypto.randomUUID(),
    });
    assert.equal(summary.httpStatus, 401);
    assert.equal(summary.outcome, 'error');
    assert.deepEqual(allSets(campaigns), []);
    assert.match(lines.join('\n'), /NOTHING CHANGED\. The API key was rejected/);
  });

  it('an account without a plan (404, or 403 for a scoped key): no changes', async () => {
    const { campaigns, ads, now } = setup();
    const account = 'no-such-account-' + crypto.randomUUID().slice(0, 8);
    const { summary, lines } = await runScript(target, ads, { now: now, apply: true, account });
    assert.ok([403, 404].includes(summary.httpStatus), String(summary.httpStatus));
    assert.equal(summary.outcome, 'error');
    assert.deepEqual(allSets(campaigns), []);
    assert.match(lines.join('\n'), new RegExp('NOTHING CHANGED\\. .*"' + account + '"'));
  });
});

// ---------------------------------------------------------------- fake-server suite

describe('fake server', () => {
  let fake = null;
  let target = null;
  const NOW = new Date('2026-12-01T20:00:00Z'); // 21:00 in Berlin: the 2026-12-02 plan is tomorrow

  before(async () => {
    fake = await startFakeServer();
    target = { base: fake.base, key: KEY, account: 'acme' };
  });
  after(() => fake.server.close());

  function acmeAccount() {
    const shared = budget(20, true);
    const campaigns = [
      { id: 1, name: 'Brand', budget: budget(120) },
      { id: 2, name: 'Generic', budget: budget(400) },
      { id: 3, name: 'Shopping DE', budget: budget(200), kind: 'shopping' },
      { id: 9001, name: 'PMax Sale (renamed)', budget: budget(150), kind: 'pmax' },
      { id: 5, name: 'Kid\'s "Toys" \\ more', budget: budget(50) },
      { id: 6, name: 'Display Big', budget: budget(10) },
      { id: 7, name: 'Shared A', budget: shared },
      { id: 8, name: 'Shared B', budget: shared },
      { id: 9, name: 'Ghost', budget: budget(5), status: 'REMOVED' },
    ];
    const ads = makeAdsApp(campaigns, { timeZone: 'Europe/Berlin', currency: 'EUR' });
    return { campaigns: campaigns, ads: ads };
  }

  const byName = (list) => list.map((e) => e.campaign).sort();

  it('sorts each row into applied / skipped / refused / not found', async () => {
    const { campaigns, ads } = acmeAccount();
    const { summary, lines } = await runScript(target, ads, { now: NOW, apply: true });
    assert.deepEqual(byName(summary.applied), [
      'Brand',
      'Generic',
      'Kid\'s "Toys" \\ more',
      'PMax Sale',
      'Shopping DE',
    ]);
    assert.deepEqual(byName(summary.refused), ['Display Big']);
    assert.deepEqual(byName(summary.skipped), ['Shared A']);
    assert.match(summary.skipped[0].reason, /shared budget/);
    assert.deepEqual(byName(summary.notFound), ['Ghost']);
    const amounts = Object.fromEntries(campaigns.map((c) => [c.name, c.budget.sets]));
    assert.deepEqual(amounts, {
      Brand: [131.5],
      Generic: [360],
      'Shopping DE': [230],
      'PMax Sale (renamed)': [180],
      'Kid\'s "Toys" \\ more': [58.45],
      'Display Big': [],
      'Shared A': [],
      'Shared B': [],
      Ghost: [],
    });
    assert.equal(summary.totalBefore, '930.00');
    assert.equal(summary.totalAfter, '969.95');
    assert.ok(lines.includes('Brand: current 120.00, recommended 131.50 (+9.58%) -> APPLY'));
    assert.match(
      lines[lines.length - 1],
      /^Applied 5 of 5 changes, 1 skipped, 1 refused, 1 not found\. Plan 12 for 2026-12-02/,
    );
    assert.ok(ads.conditions.includes('campaign.name = "Kid\'s \\"Toys\\" \\\\ more"'));
  });

  it('preview logs the same decisions and sets nothing', async () => {
    const { campaigns, ads } = acmeAccount();
    const { summary, lines } = await runScript(target, ads, { now: NOW });
    assert.equal(summary.outcome, 'preview');
    assert.equal(summary.planned.length, 5);
    assert.deepEqual(summary.applied, []);
    assert.deepEqual(allSets(campaigns), []);
    assert.ok(lines.includes('Generic: current 400.00, recommended 360.00 (-10.00%) -> ' +
      'PREVIEW (would apply)'));
  });

  it('applies cuts beyond MAX_CHANGE_FRACTION, so the total can fall to the cap', async () => {
    const { campaigns, ads } = acmeAccount();
    campaigns[5].budget.amount = 100; // Display Big 100 -> 20 (-80%): a cut, applied
    const { summary } = await runScript(target, ads, { now: NOW, apply: true });
    // 1020 before; Generic -40 and Display -80 -> 900; the four raises (+79.95) -> 979.95.
    assert.deepEqual(byName(summary.applied), [
      'Brand',
      'Display Big',
      'Generic',
      'Kid\'s "Toys" \\ more',
      'PMax Sale',
      'Shopping DE',
    ]);
    assert.deepEqual(campaigns[5].budget.sets, [20]);
    assert.equal(summary.totalBefore, '1020.00');
    assert.equal(summary.totalAfter, '979.95');
  });

  it('holds back every increase when a decrease fails in Google Ads', async () => {
    const { campaigns, ads } = acmeAccount();
    campaigns[1].budget.setAmount = () => {
      throw new Error('budget is below the minimum');
    };
    const { summary, lines } = await runScript(target, ads, { now: NOW, apply: true });
    assert.deepEqual(summary.applied, []);
    assert.deepEqual(allSets(campaigns), []);
    const notApplied = summary.skipped.filter((e) => /^not applied: /.test(e.reason));
    assert.equal(notApplied.length, 5);
    assert.ok(lines.includes('Generic: not applied: budget is below the minimum'));
    assert.ok(lines.includes('Brand: not applied: held back: 1 decrease(s) failed'));
  });

  for (const [account, budgetText, expectApplied] of [
    ['tiny', '0.30', ['A', 'B']],
    ['tiny-over', '0.29', ['A']],
  ]) {
    it('compares totals in exact micros (' + account + ', budget ' + budgetText + ')', async () => {
      const campaigns = [
        { id: 1, name: 'A', budget: budget(0.09) },
        { id: 2, name: 'B', budget: budget(0.18) },
      ];
      const ads = makeAdsApp(campaigns, { timeZone: 'Europe/Berlin', currency: 'EUR' });
      const { summary } = await runScript(target, ads, { now: NOW, apply: true, account });
      assert.deepEqual(byName(summary.applied), expectApplied);
      const total = campaigns.reduce((s, c) => s + Math.round(c.budget.getAmount() * 1e6), 0);
      assert.ok(total <= micros(budgetText), total + ' micros');
    });
  }

  for (const [id, status, pattern] of [
    ['404 nothing published', 'empty', /No recommendation is published for account "empty": no/],
    ['409 no approved cap', 'nocap', /No approved spend cap .*: no approved cap for December/],
    ['403 key for another account', 'acme', /may not read account "acme": key is not valid/],
  ]) {
    it(id + ': clear log, no changes', async () => {
      const { campaigns, ads } = acmeAccount();
      const key = id.startsWith('403') ? OTHER_KEY : KEY;
      const { summary, lines } = await runScript(target, ads, {
        now: NOW,
        apply: true,
        account: status,
        key,
      });
      assert.equal(summary.outcome, 'error');
      assert.equal(summary.httpStatus, Number(id.slice(0, 3)));
      assert.deepEqual(allSets(campaigns), []);
      assert.match(lines.join('\n'), pattern);
    });
  }

  it('a 200 that is not JSON is refused', async () => {
    const { campaigns, ads } = acmeAccount();
    const html = { base: fake.base + '/html', key: KEY, account: 'acme' };
    const { summary, lines } = await runScript(html, ads, { now: NOW, apply: true });
    assert.equal(summary.outcome, 'error');
    assert.deepEqual(allSets(campaigns), []);
    assert.match(lines.join('\n'), /not with JSON: <html>login page/);
  });

  for (const [id, now, timeZone, ok] of [
    ['tomorrow in Berlin', '2026-12-01T20:00:00Z', 'Europe/Berlin', true],
    ['today in Berlin just after midnight', '2026-12-01T23:30:00Z', 'Europe/Berlin', true],
    ['stale: the day after', '2026-12-03T12:00:00Z', 'Europe/Berlin', false],
    ['two days ahead in Los Angeles', '2026-11-30T20:00:00Z', 'America/Los_Angeles', false],
    ['tomorrow in LA, already the 2nd in UTC', '2026-12-02T02:00:00Z', 'America/Los_Angeles', true],
  ]) {
    it('date check: ' + id, async () => {
      const { campaigns } = acmeAccount();
      const ads = makeAdsApp(campaigns, { timeZone: timeZone, currency: 'EUR' });
      const { summary, lines } = await runScript(target, ads, { now: new Date(now), apply: true });
      assert.equal(summary.outcome, ok ? 'applied' : 'error');
      assert.equal(allSets(campaigns).length > 0, ok);
      if (!ok) assert.match(lines.join('\n'), /only plans for today or tomorrow are applied/);
    });
  }

  it('refuses a plan in another currency than the account', async () => {
    const { campaigns } = acmeAccount();
    const ads = makeAdsApp(campaigns, { timeZone: 'Europe/Berlin', currency: 'USD' });
    const { summary, lines } = await runScript(target, ads, { now: NOW, apply: true });
    assert.equal(summary.outcome, 'error');
    assert.deepEqual(allSets(campaigns), []);
    assert.match(lines.join('\n'), /in EUR but this Google Ads account uses USD/);
  });
});

// ---------------------------------------------------------------- cap stops (pause / resume)

describe('cap stops (fake server)', () => {
  const CAP = script.CAP_LABEL;
  const NOW = new Date('2026-12-01T20:00:00Z'); // 21:00 in Berlin: the 2026-12-02 plan is tomorrow
  let fake = null;
  let target = null;

  before(async () => {
    fake = await startFakeServer();
    target = { base: fake.base, key: KEY, account: 'stops' };
  });
  after(() => fake.server.close());

  /** The account behind the "stops" plan; `c` indexes the campaigns by name for mutation. */
  function stopsAccount() {
    const campaigns = [
      { id: 11, name: 'Brand', budget: budget(100), status: 'ENABLED' },
      { id: 12, name: 'Generic', budget: budget(200), status: 'ENABLED' },
      { id: 13, name: 'Display', budget: budget(50), status: 'ENABLED' },
      {
        id: 14,
        name: 'Shopping DE',
        budget: budget(80),
        kind: 'shopping',
        status: 'PAUSED',
        labels: [CAP],
      },
      {
        id: 9001,
        name: 'PMax Sale',
        budget: budget(100),
        kind: 'pmax',
        status: 'PAUSED',
        labels: [CAP],
      },
      { id: 16, name: 'Hand Paused', budget: budget(40), status: 'PAUSED', labels: ['seasonal'] },
    ];
    const c = Object.fromEntries(campaigns.map((x) => [x.name, x]));
    const makeAds = (labels) =>
      makeAdsApp(campaigns, {
        timeZone: 'Europe/Berlin',
        currency: 'EUR',
        labels: labels || ['seasonal', CAP],
      });
    return { campaigns: campaigns, c: c, makeAds: makeAds };
  }

  const byName = (list) => list.map((e) => e.campaign).sort();
  const opsOf = (ads, name) => ads.ops.filter((o) => o.includes(' ' + name));

  it('cap_reached: pauses the campaign and labels it "ppcopt: cap" (label created)', async () => {
    const { c, makeAds } = stopsAccount();
    ['Shopping DE', 'PMax Sale'].forEach((n) => {
      Object.assign(c[n], { status: 'ENABLED', labels: [] });
    });
    const ads = makeAds(['seasonal']); // the label does not exist yet
    const { summary, lines } = await runScript(target, ads, { now: NOW, apply: true });
    assert.equal(summary.outcome, 'applied');
    assert.deepEqual(
      ads.ops.filter((o) => !/PMax Sale|Shopping DE/.test(o)),
      [
        'createLabel ' + CAP,
        'applyLabel Brand: ' + CAP,
        'pause Brand',
        'applyLabel Generic: ' + CAP,
        'pause Generic',
      ],
    );
    assert.deepEqual(ads.accountLabels, ['seasonal', CAP]);
    for (const name of ['Brand', 'Generic']) {
      assert.equal(c[name].status, 'PAUSED', name);
      assert.deepEqual(c[name].labels, [CAP], name);
      assert.deepEqual(c[name].budget.sets, [], name + ': a pause leaves the budget alone');
    }
    assert.deepEqual(byName(summary.paused), ['Brand', 'Generic']);
    assert.deepEqual(summary.paused[0], {
      campaign: 'Brand',
      campaignId: '11',
      current: '100.00',
      recommended: '0.00',
      changePct: -100,
      reason: 'cap reached',
    });
    assert.deepEqual(summary.resumed, []);
    assert.ok(
      lines.includes('Brand: current 100.00, recommended 0.00 (-100.00%) -> PAUSE: cap reached, ' +
        'label "ppcopt: cap"'),
    );
    // Paused campaigns spend 0: 530 before, 50 (Display) + 80 + 110 after.
    assert.deepEqual(byName(summary.applied), ['PMax Sale']);
    assert.equal(summary.totalBefore, '530.00');
    assert.equal(summary.totalAfter, '240.00');
    assert.match(
      lines[lines.length - 1],
      /^Applied 1 of 1 changes, .*Paused 2, resumed 0 campaign/,
    );
  });

  it('preview logs every pause and resume it would do and changes nothing', async () => {
    const { campaigns, makeAds } = stopsAccount();
    const before = JSON.stringify(campaigns);
    const ads = makeAds();
    const { summary, lines } = await runScript(target, ads, { now: NOW });
    assert.equal(summary.outcome, 'preview');
    assert.deepEqual(ads.ops, []);
    assert.deepEqual(allSets(campaigns), []);
    assert.equal(JSON.stringify(campaigns), before);
    assert.deepEqual(summary.applied, []);
    assert.deepEqual(byName(summary.paused), ['Brand', 'Generic']);
    assert.deepEqual(byName(summary.resumed), ['PMax Sale', 'Shopping DE']);
    const how = 'paused by ppcopt (label "ppcopt: cap") and funded again';
    assert.ok(lines.includes('Generic: current 200.00, recommended 0.00 (-100.00%) -> ' +
      'PREVIEW (would pause): cap reached, label "ppcopt: cap"'));
    assert.ok(lines.includes('PMax Sale: current 100.00, recommended 110.00 (+10.00%) -> ' +
      'PREVIEW (would resume and apply): ' + how));
    assert.ok(lines.includes('Shopping DE: current 80.00, recommended 80.00 (0.00%) -> ' +
      'PREVIEW (would resume): ' + how + '; budget SKIPPED: already at the recommended amount'));
    assert.match(lines[lines.length - 1], /^Preview: .*Would pause 2, resume 2 campaign/);
  });

  it('resumes a paused campaign labelled "ppcopt: cap" when the plan funds it', async () => {
    const { c, makeAds } = stopsAccount();
    const ads = makeAds();
    c['PMax Sale'].budget.setAmount = function (x) {
      ads.ops.push('setAmount PMax Sale ' + x);
      this.sets.push(x);
      this.amount = x;
    };
    const { summary } = await runScript(target, ads, { now: NOW, apply: true });
    assert.deepEqual(opsOf(ads, 'PMax Sale'), [
      'setAmount PMax Sale 110',
      'enable PMax Sale',
      'removeLabel PMax Sale: ' + CAP,
    ]);
    assert.deepEqual(opsOf(ads, 'Shopping DE'), [
      'enable Shopping DE',
      'removeLabel Shopping DE: ' + CAP,
    ]);
    for (const name of ['PMax Sale', 'Shopping DE']) {
      assert.equal(c[name].status, 'ENABLED', name);
      assert.deepEqual(c[name].labels, [], name);
    }
    assert.deepEqual(c['PMax Sale'].budget.sets, [110]);
    assert.deepEqual(c['Shopping DE'].budget.sets, []);
    assert.deepEqual(byName(summary.resumed), ['PMax Sale', 'Shopping DE']);
    assert.ok(summary.resumed.every((e) => /^paused by ppcopt .* funded again$/.test(e.reason)));
    assert.deepEqual(byName(summary.applied), ['PMax Sale']);
    assert.ok(!ads.ops.some((o) => o.startsWith('createLabel')), 'the label exists already');
    // 350 running before (paused campaigns count 0); after: 50 + 80 + 110.
    assert.equal(summary.totalBefore, '350.00');
    assert.equal(summary.totalAfter, '240.00');
  });

  it('resumes with the current budget when the budget change is refused', async () => {
    const { c, makeAds } = stopsAccount();
    c['PMax Sale'].budget.amount = 50; // 50 -> 110 is beyond MAX_CHANGE_FRACTION
    const ads = makeAds();
    const { summary, lines } = await runScript(target, ads, { now: NOW, apply: true });
    assert.equal(c['PMax Sale'].status, 'ENABLED');
    assert.deepEqual(c['PMax Sale'].labels, []);
    assert.deepEqual(c['PMax Sale'].budget.sets, []);
    assert.ok(byName(summary.resumed).includes('PMax Sale'));
    const refused = summary.refused.find((e) => e.campaign === 'PMax Sale');
    assert.match(refused.reason, /^raise larger than 30%/);
    const line = lines.find((l) => l.startsWith('PMax Sale: '));
    assert.match(line, /-> RESUME: .*; budget REFUSED: raise larger than 30%/);
    // Counted at the budget it runs with: 50 (Display) + 80 + 50.
    assert.equal(summary.totalAfter, '180.00');
  });

  it('resumes a labelled campaign in a new cap period the same way', async () => {
    const { c, makeAds } = stopsAccount();
    const ads = makeAds();
    const { summary } = await runScript({ ...target, account: 'stops-january' }, ads, {
      now: new Date('2026-12-31T20:00:00Z'),
      apply: true,
    });
    assert.equal(summary.outcome, 'applied');
    assert.deepEqual(byName(summary.resumed), ['PMax Sale', 'Shopping DE']);
    assert.equal(c['PMax Sale'].status, 'ENABLED');
    assert.deepEqual(c['PMax Sale'].labels, []);
    assert.deepEqual(c['PMax Sale'].budget.sets, [110]);
    assert.equal(c['Shopping DE'].status, 'ENABLED');
  });

  it('never resumes a campaign paused by hand (no "ppcopt: cap" label)', async () => {
    const { c, makeAds } = stopsAccount();
    const ads = makeAds();
    const { summary, lines } = await runScript(target, ads, { now: NOW, apply: true });
    const reason = 'paused by hand; ppcopt only resumes campaigns it paused';
    assert.equal(c['Hand Paused'].status, 'PAUSED');
    assert.deepEqual(c['Hand Paused'].labels, ['seasonal']);
    assert.deepEqual(c['Hand Paused'].budget.sets, []);
    assert.deepEqual(opsOf(ads, 'Hand Paused'), []);
    const skipped = summary.skipped.filter((e) => e.campaign === 'Hand Paused');
    assert.deepEqual(skipped.map((e) => e.reason), [reason]);
    assert.ok(!byName(summary.resumed).includes('Hand Paused'));
    assert.ok(lines.some((l) => l.startsWith('Hand Paused: ') && l.endsWith('SKIPPED: ' + reason)));
  });

  it('a recommendation of 0 without cap_reached is still skipped, not paused', async () => {
    const { c, makeAds } = stopsAccount();
    const ads = makeAds();
    const { summary } = await runScript(target, ads, { now: NOW, apply: true });
    assert.equal(c.Display.status, 'ENABLED');
    assert.equal(c.Display.labels, undefined);
    assert.deepEqual(opsOf(ads, 'Display'), []);
    assert.deepEqual(c.Display.budget.sets, []);
    const display = summary.skipped.find((e) => e.campaign === 'Display');
    assert.equal(display.reason, 'recommended 0; pause the campaign by hand if intended');
    assert.ok(!byName(summary.paused).includes('Display'));
  });

  it('a campaign already paused when the cap is reached is not touched nor labelled', async () => {
    const { c, campaigns, makeAds } = stopsAccount();
    c.Brand.status = 'PAUSED'; // by hand: no label
    Object.assign(c.Generic, { status: 'PAUSED', labels: [CAP] }); // by ppcopt on an earlier day
    const ads = makeAds();
    const { summary } = await runScript(target, ads, { now: NOW, apply: true });
    assert.deepEqual(opsOf(ads, 'Brand'), []);
    assert.deepEqual(opsOf(ads, 'Generic'), []);
    assert.equal(c.Brand.labels, undefined);
    assert.deepEqual(c.Generic.labels, [CAP]);
    assert.deepEqual(summary.paused, []);
    const reasons = Object.fromEntries(summary.skipped.map((e) => [e.campaign, e.reason]));
    assert.equal(reasons.Brand, 'cap reached; already paused (not by ppcopt), left as it is');
    assert.equal(reasons.Generic, 'cap reached; already paused by ppcopt');
    // So a later plan that funds Brand again leaves it paused.
    const later = makeAdsApp(campaigns, {
      timeZone: 'Europe/Berlin',
      currency: 'EUR',
      labels: [CAP],
    });
    const next = await runScript({ ...target, account: 'acme' }, later, { now: NOW, apply: true });
    assert.equal(c.Brand.status, 'PAUSED');
    assert.deepEqual(c.Brand.budget.sets, []);
    assert.equal(
      next.summary.skipped.find((e) => e.campaign === 'Brand').reason,
      'paused by hand; ppcopt only resumes campaigns it paused',
    );
  });

  it('total guard: paused campaigns count 0; a resume that does not fit stays paused', async () => {
    const { c, makeAds } = stopsAccount();
    c.Display.budget.amount = 150; // stays running at 150 (its 0 is skipped)
    const ads = makeAds();
    const { summary } = await runScript(target, ads, { now: NOW, apply: true });
    // 450 running before; after the pauses 150; Shopping DE +80 -> 230; PMax Sale +110 -> 340.
    assert.equal(summary.totalBefore, '450.00');
    assert.equal(summary.totalAfter, '230.00');
    assert.deepEqual(byName(summary.resumed), ['Shopping DE']);
    const pmax = summary.refused.find((e) => e.campaign === 'PMax Sale');
    assert.equal(
      pmax.reason,
      'stays paused: resuming would take the total above the published budget 300.00',
    );
    assert.equal(c['PMax Sale'].status, 'PAUSED');
    assert.deepEqual(c['PMax Sale'].labels, [CAP]);
    assert.deepEqual(c['PMax Sale'].budget.sets, []);
  });

  it('a failed pause takes the label off again and holds back increases and resumes', async () => {
    const { c, makeAds } = stopsAccount();
    c.Brand.failPause = 'campaign is being edited';
    const ads = makeAds();
    const { summary, lines } = await runScript(target, ads, { now: NOW, apply: true });
    assert.equal(c.Brand.status, 'ENABLED');
    assert.deepEqual(c.Brand.labels, []);
    assert.equal(c.Generic.status, 'PAUSED');
    assert.deepEqual(byName(summary.paused), ['Generic']);
    assert.deepEqual(summary.resumed, []);
    for (const name of ['PMax Sale', 'Shopping DE']) {
      assert.equal(c[name].status, 'PAUSED', name);
      assert.deepEqual(c[name].labels, [CAP], name);
    }
    assert.deepEqual(c['PMax Sale'].budget.sets, []);
    assert.ok(lines.includes('Brand: not paused: campaign is being edited'));
    assert.ok(lines.includes('PMax Sale: not resumed: held back: 1 pause(s) failed'));
  });

  it('capReached_ matches the cap_reached token, not a substring or the whole string', () => {
    const yes = ['cap_reached', 'max_spend, cap_reached', 'cap_reached;min_spend', ' cap_reached '];
    for (const bound of yes) {
      assert.equal(script.capReached_(bound), true, bound);
    }
    const no = ['none', '', null, undefined, 'cap_reached_soon', 'no_cap_reached', 'cap reached'];
    for (const bound of no) {
      assert.equal(script.capReached_(bound), false, String(bound));
    }
  });
});
