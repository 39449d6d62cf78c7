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
 * objects keyed by the GAQL field names, every value a string (micros included); AdsApp.search
 * yields camelCase objects (int64 values as strings); a shared budget is one Budget object that
 * each of its campaigns' getBudget() returns; campaign.bidding() and keyword.bidding() get and set
 * targets and max CPCs in currency units. UrlFetchApp.fetch is synchronous, so it is a child node
 * process doing the HTTP request (the real server answers).
 */
const { it } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const script = require(path.join(__dirname, '..', 'apply_budgets.js'));

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
 * The account as AdsApp shows it. `fx.budgets` by id ({id, name, amount, shared}); each campaign
 * names its budgetId (campaigns on one explicitly shared budget get the same Budget object),
 * its bidding strategy (`strategy`, `targetCpa` / `targetRoas` in currency units) and its `kind`
 * (which selector lists it); `fx.keywords` are keyword criteria with their max CPC (`cpc`).
 * Every setter call is recorded in `sets`, in order.
 */
function makeAdsApp(fx) {
  const queries = [];
  const sets = [];
  const budgets = {};
  Object.keys(fx.budgets).forEach((id) => (budgets[id] = Object.assign({}, fx.budgets[id])));
  const campaigns = fx.campaigns.map((c) => Object.assign({}, c));
  const keywords = (fx.keywords || []).map((k) => Object.assign({}, k));
  const iterator = (items) => {
    let i = 0;
    return { hasNext: () => i < items.length, next: () => items[i++], totalNumEntities: () => items.length };
  };  // prettier-ignore
  const budgetObjects = {};
  const campaignObjects = {};
  const budgetObject = (id) => {
    if (budgetObjects[id]) return budgetObjects[id];
    const b = budgets[id];
    budgetObjects[id] = {
      getId: () => b.id,
      getName: () => b.name,
      getAmount: () => b.amount,
      setAmount(x) {
        sets.push({ kind: 'budget', id: String(b.id), value: x });
        b.amount = x;
      },
      isExplicitlyShared: () => b.shared,
      campaigns: () => ({
        get: () => iterator(campaigns.filter((c) => c.budgetId === b.id).map(wrap)),
      }),
    };
    return budgetObjects[id];
  };
  const wrap = (c) => {
    if (campaignObjects[c.id]) return campaignObjects[c.id];
    const bidding = {
      getStrategyType: () => c.strategy,
      getTargetCpa: () => (c.targetCpa === undefined ? null : c.targetCpa),
      getTargetRoas: () => (c.targetRoas === undefined ? null : c.targetRoas),
      setTargetCpa(x) {
        sets.push({ kind: 'targetCpa', id: String(c.id), value: x });
        c.targetCpa = x;
      },
      setTargetRoas(x) {
        sets.push({ kind: 'targetRoas', id: String(c.id), value: x });
        c.targetRoas = x;
      },
    };
    campaignObjects[c.id] = {
      getName: () => c.name,
      getId: () => c.id,
      getBudget: () => budgetObject(c.budgetId),
      bidding: () => bidding,
      isEnabled: () => true,
      isPaused: () => false,
      isRemoved: () => false,
      labels: () => ({ withCondition: () => ({ get: () => iterator([]) }) }),
    };
    return campaignObjects[c.id];
  };
  const selector = (kind) => {
    let items = campaigns.filter((c) => c.kind === kind);
    const sel = {
      withCondition(cond) {
        const name = /^campaign\.name = "((?:[^"\\]|\\.)*)"$/.exec(cond);
        if (name) {
          const wanted = name[1].replace(/\\(.)/g, '$1');
          items = items.filter((c) => c.name === wanted);
        } else if (cond !== 'campaign.status != REMOVED') {
          throw new Error('fake does not understand condition: ' + cond);
        }
        return sel;
      },
      withIds(ids) {
        items = items.filter((c) => ids.includes(c.id));
        return sel;
      },
      get: () => iterator(items.map(wrap)),
    };
    return sel;
  };
  const keywordSelector = () => {
    let items = keywords.slice();
    const sel = {
      withIds(pairs) {
        pairs.forEach((p) =>
          assert.ok(Array.isArray(p) && p.length === 2 && p.every((x) => typeof x === 'number'),
            'keyword ids are [adGroupId, keywordId] number pairs'));  // prettier-ignore
        items = items.filter((k) => pairs.some((p) => p[0] === k.adGroupId && p[1] === k.id));
        return sel;
      },
      get: () =>
        iterator(
          items.map((k) => ({
            getId: () => k.id,
            getText: () => k.text,
            getAdGroup: () => ({ getId: () => k.adGroupId }),
            bidding: () => ({
              getCpc: () => (k.cpc === undefined ? null : k.cpc),
              setCpc(x) {
                sets.push({ kind: 'cpc', id: k.adGroupId + '~' + k.id, value: x });
                k.cpc = x;
              },
            }),
          })),
        ),
    };
    return sel;
  };
  const micros = (x) => String(Math.round(x * 1e6));
  /** AdsApp.search: rows as camelCase objects, int64 values (IDs, micros) as strings. */
  const search = (query) => {
    queries.push(query);
    const from = /FROM (\w+)/.exec(query)[1];
    if (from === 'campaign' && query.includes('metrics.')) {
      return iterator(campaigns.map((c) => ({
        campaign: { resourceName: 'customers/1/campaigns/' + c.id, id: String(c.id) },
        metrics: {
          ...(c.lostBudget === undefined ? {} : { searchBudgetLostImpressionShare: c.lostBudget }),
          ...(c.lostRank === undefined ? {} : { searchRankLostImpressionShare: c.lostRank }),
        },
      })));  // prettier-ignore
    }
    if (from === 'campaign') {
      return iterator(campaigns.map((c) => {
        const b = budgets[c.budgetId];
        const row = {
          campaign: { resourceName: 'customers/1/campaigns/' + c.id, id: String(c.id),
            name: c.name, biddingStrategyType: c.strategy },
          campaignBudget: { resourceName: 'customers/1/campaignBudgets/' + b.id, id: String(b.id),
            name: b.name, amountMicros: micros(b.amount), explicitlyShared: b.shared },
        };  // prettier-ignore
        if (c.strategy === 'TARGET_CPA') row.campaign.targetCpa = { targetCpaMicros: micros(c.targetCpa) };
        if (c.strategy === 'MAXIMIZE_CONVERSIONS' && c.targetCpa !== undefined) {
          row.campaign.maximizeConversions = { targetCpaMicros: micros(c.targetCpa) };
        }
        if (c.strategy === 'TARGET_ROAS') row.campaign.targetRoas = { targetRoas: c.targetRoas };
        return row;
      }));  // prettier-ignore
    }
    if (from === 'bidding_strategy') return iterator([]);
    if (from === 'ad_group_criterion') {
      return iterator(keywords.map((k) => {
        const c = campaigns.find((x) => x.id === k.campaignId);
        return {
          campaign: { id: String(c.id), name: c.name, biddingStrategyType: c.strategy },
          adGroup: { id: String(k.adGroupId), name: k.adGroup },
          adGroupCriterion: { criterionId: String(k.id), keyword: { text: k.text, matchType: k.matchType },
            ...(k.cpc === undefined ? {} : { cpcBidMicros: micros(k.cpc) }) },
        };
      }));  // prettier-ignore
    }
    throw new Error('fake AdsApp.search does not know: ' + query);
  };
  const byResource = { campaign: fx.campaignRows, keyword_view: fx.keywordRows };
  return {
    queries: queries,
    sets: sets,
    budgetsNow: budgets,
    campaignsNow: campaigns,
    keywordsNow: keywords,
    search: search,
    report(query) {
      queries.push(query);
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
      return {
        rows() {
          let i = 0;
          return { hasNext: () => i < rows.length, next: () => rows[i++] };
        },
      };
    },
    currentAccount: () => ({ getTimeZone: () => fx.timeZone, getCurrencyCode: () => fx.currency }),
    campaigns: () => selector('search'),
    shoppingCampaigns: () => selector('shopping'),
    performanceMaxCampaigns: () => selector('pmax'),
    keywords: keywordSelector,
  };
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
