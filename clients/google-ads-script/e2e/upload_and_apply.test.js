'use strict';
/**
 * End to end against a real ppcopt server (driven by tests/clients/test_ads_script_e2e.py): the
 * script reports the account's days with AdsApp.report, then pulls the plan and sets budgets.
 *
 * Skipped unless PPCOPT_E2E_BASE_URL, PPCOPT_E2E_KEY, PPCOPT_E2E_ACCOUNT, PPCOPT_E2E_FIXTURE and
 * PPCOPT_E2E_OUT are set. PPCOPT_E2E_OVERRIDES (JSON) is passed to main(); the summary and the
 * account's budgets afterwards are written to PPCOPT_E2E_OUT for the Python side to check.
 *
 * The fakes follow the documented Google Ads scripts API: AdsApp.report(gaql).rows() iterates flat
 * objects keyed by the GAQL field names, every value a string (micros included); the structure
 * (AdsApp.search, budgets, bidding) is fakes/structure.js. UrlFetchApp.fetch is synchronous, so it
 * is a child node process doing the HTTP request (the real server answers).
 */
const { it } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const script = require(path.join(__dirname, '..', 'apply_budgets.js'));
const { iterator, structureFakes } = require(path.join(__dirname, '..', 'fakes', 'structure.js'));

const ENV = {
  base: process.env.PPCOPT_E2E_BASE_URL,
  key: process.env.PPCOPT_E2E_KEY,
  account: process.env.PPCOPT_E2E_ACCOUNT,
  fixture: process.env.PPCOPT_E2E_FIXTURE,
  out: process.env.PPCOPT_E2E_OUT,
};
const READY = Object.values(ENV).every(Boolean);

/** One HTTP request in a child process, so that fetch() can be synchronous as UrlFetchApp's is. */
const CHILD = `
let input = '';
process.stdin.on('data', (c) => (input += c));
process.stdin.on('end', async () => {
  const r = JSON.parse(input);
  const res = await fetch(r.url, { method: r.method, headers: r.headers, body: r.body });
  process.stdout.write(JSON.stringify({
    status: res.status, headers: Object.fromEntries(res.headers.entries()), text: await res.text(),
  }));
});`;

function makeUrlFetchApp() {
  const calls = [];
  return {
    calls: calls,
    fetch(url, params) {
      const p = params || {};
      assert.equal(p.muteHttpExceptions, true);
      const headers = Object.assign({}, p.headers || {});
      if (p.contentType) headers['Content-Type'] = p.contentType;
      const method = (p.method || 'get').toUpperCase();
      calls.push({ url: url, method: method });
      const child = spawnSync(process.execPath, ['-e', CHILD], {
        input: JSON.stringify({ url: url, method: method, headers: headers, body: p.payload }),
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      });
      if (child.status !== 0) throw new Error('Address unavailable: ' + url + ' ' + child.stderr);
      const r = JSON.parse(child.stdout);
      return {
        getResponseCode: () => r.status,
        getContentText: () => r.text,
        getHeaders: () => r.headers,
        getAllHeaders: () => r.headers,
      };
    },
  };
}

/** `SELECT a, b FROM resource WHERE segments.date BETWEEN "x" AND "y"` -> its parts. */
function parseQuery(query) {
  const m = /^SELECT (.+) FROM (\w+) WHERE segments\.date BETWEEN "(\d{4}-\d\d-\d\d)" AND "(\d{4}-\d\d-\d\d)"$/.exec(
    query,
  );
  if (!m) throw new Error('fake AdsApp.report does not understand: ' + query);
  return { fields: m[1].split(', '), resource: m[2], start: m[3], end: m[4] };
}

/**
 * The account as AdsApp shows it: its structure (fakes/structure.js: budgets, campaigns with their
 * bidding, keywords with their max CPC; copied, so each run starts from the fixture) and its GAQL
 * report rows. Every setter call is recorded in `sets`, in order.
 */
function makeAdsApp(fx) {
  const sets = [];
  const copy = (o) => Object.assign({}, o);
  const budgets = {};
  Object.keys(fx.budgets).forEach((id) => (budgets[id] = copy(fx.budgets[id])));
  const acct = { budgets: budgets, campaigns: fx.campaigns.map(copy), keywords: (fx.keywords || []).map(copy) };
  const fakes = structureFakes(acct, (kind, subject, value) => {
    const id = kind === 'cpc' ? subject.adGroupId + '~' + subject.id : String(subject.id);
    sets.push({ kind: kind, id: id, value: value });
  });  // prettier-ignore
  const byResource = { campaign: fx.campaignRows, keyword_view: fx.keywordRows };
  return Object.assign(fakes, {
    sets: sets,
    budgetsNow: budgets,
    campaignsNow: acct.campaigns,
    report(query) {
      fakes.queries.push(query);
      const q = parseQuery(query);
      const source = byResource[q.resource];
      if (!source) throw new Error('fake has no resource ' + q.resource);
      const rows = source
        .filter((r) => r['segments.date'] >= q.start && r['segments.date'] <= q.end)
        .map((r) => {
          const out = {};
          q.fields.forEach((f) => {
            if (!(f in r)) throw new Error('fake row has no field ' + f);
            out[f] = String(r[f]);
          });
          return out;
        });
      return { rows: () => iterator(rows) };
    },
    currentAccount: () => ({ getTimeZone: () => fx.timeZone, getCurrencyCode: () => fx.currency }),
  });
}

const Utilities = {
  formatDate(date, timeZone, format) {
    assert.equal(format, 'yyyy-MM-dd');
    return new Intl.DateTimeFormat('en-CA', {
      timeZone: timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    }).format(date);
  },
};

it('uploads, pulls the plan and sets budgets against a real server', { skip: !READY }, () => {
  const fx = JSON.parse(fs.readFileSync(ENV.fixture, 'utf8'));
  const ads = makeAdsApp(fx);
  const urlFetch = makeUrlFetchApp();
  const lines = [];
  Object.assign(globalThis, {
    AdsApp: ads,
    UrlFetchApp: urlFetch,
    Utilities: Utilities,
    Logger: { log: (msg) => lines.push(String(msg)) },
  });
  try {
    const overrides = JSON.parse(process.env.PPCOPT_E2E_OVERRIDES || '{}');
    const summary = script.main(
      Object.assign(
        { baseUrl: ENV.base, apiKey: ENV.key, account: ENV.account, now: new Date(fx.now) },
        overrides,
      ),
    );
    const budgets = {};
    ads.campaignsNow.forEach((c) => (budgets[c.name] = ads.budgetsNow[c.budgetId].amount));
    fs.writeFileSync(
      ENV.out,
      JSON.stringify({
        summary: summary,
        budgets: budgets,
        sets: ads.sets,
        queries: ads.queries,
        calls: urlFetch.calls,
        log: lines,
      }),
    );
    assert.equal(summary.performance.sent, true, lines.join('\n'));
  } finally {
    ['AdsApp', 'UrlFetchApp', 'Utilities', 'Logger'].forEach((g) => delete globalThis[g]);
  }
});
