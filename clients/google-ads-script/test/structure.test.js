'use strict';
/**
 * Platform structure (issue 21): the script reads the account's structure with GAQL, sends it, sets
 * each shared budget once, and touches Smart Bidding targets and keyword bids only when told to.
 *
 * The AdsApp fake (fakes/structure.js) follows the documented Google Ads scripts API; `ops` lists
 * its setter calls as "setAmount <budget> <amount>", "setTargetCpa <campaign> <target>", ...
 *
 * UrlFetchApp is a fake that answers by route (PUT structure, GET the campaign / keyword plan).
 * When PPCOPT_TEST_BASE_URL, PPCOPT_TEST_KEY and PPCOPT_TEST_ACCOUNT are set, the structure the
 * script read is also sent to that real server, which must accept it.
 */
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const script = require(path.join(__dirname, '..', 'apply_budgets.js'));
const { iterator, structureFakes } = require(path.join(__dirname, '..', 'fakes', 'structure.js'));

const DAY = '2026-12-02';
const NOW = new Date(DAY + 'T12:00:00Z');

// ---------------------------------------------------------------- the account

/** Brand and Generic share budget 900; Shop bids tCPA (own), Pmax tROAS (portfolio 77). */
function account() {
  const budgets = {
    900: { id: 900, name: 'Search pool', amount: 200.0, shared: true },
    901: { id: 901, name: 'Shop', amount: 100.0, shared: false },
    902: { id: 902, name: 'Pmax', amount: 150.0, shared: false },
    903: { id: 903, name: 'Manual', amount: 80.0, shared: false },
  };
  const campaigns = [
    { id: 101, name: 'Brand', budgetId: 900, strategy: 'MANUAL_CPC', lostBudget: '0.31', lostRank: '0.02' },
    { id: 102, name: 'Generic', budgetId: 900, strategy: 'MANUAL_CPC', lostBudget: '0.12', lostRank: '0.05' },
    { id: 103, name: 'Shop', budgetId: 901, strategy: 'TARGET_CPA', targetCpa: 25.0, lostRank: '0.45' },
    { id: 104, name: 'Pmax', budgetId: 902, strategy: 'TARGET_ROAS', portfolioId: 77, targetRoas: 4.0 },
    { id: 105, name: 'Manual', budgetId: 903, strategy: 'ENHANCED_CPC' },
  ];
  const keywords = [
    { campaignId: 105, adGroupId: 5001, adGroup: 'Shoes', id: 7001, text: 'red shoes', matchType: 'EXACT', cpc: 1.2 },
    { campaignId: 105, adGroupId: 5001, adGroup: 'Shoes', id: 7002, text: 'shoes', matchType: 'BROAD', cpc: 0.8 },
    { campaignId: 103, adGroupId: 5002, adGroup: 'Smart', id: 7003, text: 'buy shoes', matchType: 'PHRASE' },
  ];
  return { budgets: budgets, campaigns: campaigns, keywords: keywords };
}  // prettier-ignore

function makeAdsApp(acct) {
  const ops = [];
  const names = { budget: 'setAmount', targetCpa: 'setTargetCpa', targetRoas: 'setTargetRoas', cpc: 'setCpc' };
  const fakes = structureFakes(acct, (kind, subject, value) => {
    const shown = kind === 'budget' || kind === 'cpc' ? value.toFixed(2) : String(value);
    ops.push(names[kind] + ' ' + (subject.name || subject.text) + ' ' + shown);
  });  // prettier-ignore
  return Object.assign(fakes, {
    ops: ops,
    labels: () => ({ withCondition: () => ({ get: () => iterator([]) }) }),
    currentAccount: () => ({ getTimeZone: () => 'UTC', getCurrencyCode: () => 'EUR' }),
  });
}

// ---------------------------------------------------------------- the published plan

function campaignRow(name, id, current, recommended, extra) {
  return {
    date: DAY, campaign: name, ad_group: '', keyword: '', match_type: '',
    current_spend: current, recommended_spend: recommended, change_pct: 0,
    expected_conversions: 4, expected_conversions_low: 3, expected_conversions_high: 5,
    expected_value: 400, marginal_cpa: 22.5, bound: 'none',
    campaign_id: id, budget_id: null, budget_shared: false, shared_budget_recommended: null,
    bidding_strategy_type: 'MANUAL_CPC', portfolio_strategy_id: null,
    current_target_cpa: null, suggested_target_cpa: null, current_target_roas: null,
    suggested_target_roas: null, lost_is_budget: null, lost_is_rank: null, structure_note: '',
    ...extra,
  };
}  // prettier-ignore

function campaignPlan() {
  return {
    id: 41, account: 'acme', date: DAY, level: 'campaign', currency: 'EUR',
    created_at: '2026-12-01T05:31:02Z',
    cap: { id: 3, period_start: '2026-12-01', period_end: '2026-12-31', amount: '30000.00', currency: 'EUR', status: 'approved' },
    budget: '600.00', total_recommended: '585.00', pacing: '', notes: [],
    rows: [
      campaignRow('Brand', '101', '130.00', '150.00', { budget_id: '900', budget_shared: true, shared_budget_recommended: '230.00' }),
      campaignRow('Generic', '102', '70.00', '80.00', { budget_id: '900', budget_shared: true, shared_budget_recommended: '230.00' }),
      campaignRow('Shop', '103', '100.00', '110.00', { budget_id: '901', bidding_strategy_type: 'TARGET_CPA', current_target_cpa: '25.00', suggested_target_cpa: '22.50' }),
      campaignRow('Pmax', '104', '150.00', '160.00', { budget_id: '902', bidding_strategy_type: 'TARGET_ROAS', portfolio_strategy_id: '77', current_target_roas: 4.0, suggested_target_roas: 4.44 }),
      campaignRow('Manual', '105', '80.00', '85.00', { budget_id: '903', bidding_strategy_type: 'ENHANCED_CPC' }),
    ],
    budgets: [
      { budget_id: '900', budget_name: 'Search pool', campaigns: ['Brand', 'Generic'], campaign_ids: ['101', '102'],
        current_amount: '200.00', recommended_spend: '230.00', micros: 230000000, assumption: 'split as recent spend' },
    ],
  };
}  // prettier-ignore

function keywordPlan() {
  const kw = (adGroup, adGroupId, keyword, keywordId, match, recommended, bid, note) => ({
    ...campaignRow('Manual', '105', '10.00', recommended, {}),
    ad_group: adGroup, keyword: keyword, match_type: match, ad_group_id: adGroupId,
    keyword_id: keywordId, current_cpc_bid: null, recommended_cpc_bid: bid, bid_note: note,
  });  // prettier-ignore
  return {
    ...campaignPlan(),
    level: 'keyword',
    rows: [
      kw('Shoes', '5001', 'red shoes', '7001', 'EXACT', '12.00', '1.32', 'max CPC from history'),
      kw('Shoes', '5001', 'shoes', '7002', 'BROAD', '8.00', '0.72', 'max CPC from history'),
      { ...kw('Smart', '5002', 'buy shoes', '7003', 'PHRASE', '9.00', null,
        'advisory: the ad group bids with TARGET_CPA'), campaign: 'Shop' },  // prettier-ignore
    ],
  };
}

function fakeUrlFetchApp(answers) {
  const calls = [];
  return {
    calls: calls,
    fetch(url, params) {
      calls.push({ url: url, params: params });
      assert.equal(params.muteHttpExceptions, true);
      assert.equal(params.headers.Authorization, 'Bearer k');
      const route = /\/structure$/.test(url)
        ? 'structure'
        : /level=keyword/.test(url)
          ? 'keyword'
          : 'campaign';
      const [status, body] = answers[route];
      return {
        getResponseCode: () => status,
        getContentText: () => JSON.stringify(body),
        getHeaders: () => ({ ETag: '"e"' }),
      };
    },
  };
}

function run(options) {
  const o = options || {};
  const acct = o.account || account();
  const ads = makeAdsApp(acct);
  const fetcher = fakeUrlFetchApp({
    structure: o.structureAnswer || [200, { changed: true }],
    campaign: [200, o.plan || campaignPlan()],
    keyword: [200, o.keywordPlan || keywordPlan()],
  });
  const lines = [];
  Object.assign(globalThis, {
    AdsApp: ads,
    UrlFetchApp: fetcher,
    Utilities: { formatDate: (d) => d.toISOString().slice(0, 10) },
    Logger: { log: (m) => lines.push(String(m)) },
  });
  try {
    const summary = script.main({
      baseUrl: 'https://ppcopt.test',
      apiKey: 'k',
      account: 'acme',
      now: NOW,
      apply: o.apply === true,
      sendStructure: o.sendStructure !== false,
      applyBidTargets: o.applyBidTargets === true,
      applyKeywordBids: o.applyKeywordBids === true,
      maxChangeFraction: o.maxChangeFraction,
    });
    return { summary, ads, fetcher, lines, acct };
  } finally {
    ['AdsApp', 'UrlFetchApp', 'Utilities', 'Logger'].forEach((g) => delete globalThis[g]);
  }
}

function sentStructure(fetcher) {
  const put = fetcher.calls.find((c) => /\/structure$/.test(c.url));
  assert.ok(put, 'the structure was sent');
  assert.equal(put.params.method, 'put');
  assert.equal(put.params.contentType, 'application/json');
  return JSON.parse(put.params.payload);
}

// ---------------------------------------------------------------- tests

describe('structure (GAQL -> PUT /structure)', () => {
  it('reads budgets, sharing, bidding, targets, impression share and keyword bids in micros', () => {
    const { fetcher, ads } = run();
    assert.match(fetcher.calls[0].url, /\/v1\/accounts\/acme\/structure$/);
    assert.match(fetcher.calls[1].url, /level=campaign/, 'the structure is sent before the pull');
    const body = sentStructure(fetcher);
    const brand = body.campaigns.find((c) => c.campaign === 'Brand');
    assert.deepEqual(brand, {
      campaign_id: '101', campaign: 'Brand', budget_id: '900', budget_name: 'Search pool',
      budget_amount_micros: '200000000', budget_explicitly_shared: true,
      bidding_strategy_type: 'MANUAL_CPC', portfolio_strategy_id: '', target_cpa_micros: null,
      target_roas: null, search_budget_lost_impression_share: 0.31,
      search_rank_lost_impression_share: 0.02,
    });  // prettier-ignore
    const shop = body.campaigns.find((c) => c.campaign === 'Shop');
    assert.equal(shop.target_cpa_micros, '25000000');
    const pmax = body.campaigns.find((c) => c.campaign === 'Pmax');
    assert.equal(pmax.portfolio_strategy_id, '77');
    assert.equal(pmax.target_roas, 4);
    assert.equal(pmax.search_budget_lost_impression_share, null);
    const red = body.keywords.find((k) => k.keyword === 'red shoes');
    assert.deepEqual(red, {
      campaign_id: '105', campaign: 'Manual', ad_group_id: '5001', ad_group: 'Shoes',
      keyword_id: '7001', keyword: 'red shoes', match_type: 'EXACT',
      bidding_strategy_type: 'ENHANCED_CPC', cpc_bid_micros: '1200000',
    });  // prettier-ignore
    assert.equal(body.keywords.find((k) => k.keyword === 'buy shoes').cpc_bid_micros, null);
    for (const field of ['campaign_budget.explicitly_shared', 'campaign_budget.amount_micros',
      'campaign.bidding_strategy_type', 'campaign.target_cpa.target_cpa_micros',
      'campaign.maximize_conversions.target_cpa_micros', 'ad_group_criterion.cpc_bid_micros',
      'metrics.search_budget_lost_impression_share', 'metrics.search_rank_lost_impression_share',
      'bidding_strategy.target_roas.target_roas']) {  // prettier-ignore
      assert.ok(ads.queries.some((q) => q.includes(field)), field + ' is queried');
    }
  });

  it('a refused structure is logged and the plan is still applied', () => {
    const answer = [422, { error: 'invalid_input', detail: 'campaigns[0].budget_id: required' }];
    const { summary, lines } = run({ apply: true, structureAnswer: answer });
    assert.equal(summary.structure.sent, false);
    assert.ok(lines.some((l) => l.includes('campaigns[0].budget_id: required')));
    assert.equal(summary.outcome, 'applied');
  });

  it('SEND_STRUCTURE off: only the plan is pulled', () => {
    const { fetcher } = run({ sendStructure: false });
    assert.equal(fetcher.calls.length, 1);
    assert.match(fetcher.calls[0].url, /level=campaign/);
  });

  it('the structure it reads is accepted by the real server', { skip: !process.env.PPCOPT_TEST_BASE_URL }, async () => {
    const body = sentStructure(run().fetcher);
    const url = process.env.PPCOPT_TEST_BASE_URL.replace(/\/+$/, '') + '/v1/accounts/' +
      encodeURIComponent(process.env.PPCOPT_TEST_ACCOUNT) + '/structure';
    const headers = { Authorization: 'Bearer ' + process.env.PPCOPT_TEST_KEY, 'Content-Type': 'application/json' };
    const res = await fetch(url, { method: 'PUT', headers: headers, body: JSON.stringify(body) });
    assert.equal(res.status, 200, await res.text());
    const again = await fetch(url, { method: 'PUT', headers: headers, body: JSON.stringify(body) });
    assert.equal((await again.json()).changed, false);
  });  // prettier-ignore
});

describe('shared budgets', () => {
  it('sets a shared budget once, to the plan\'s one amount, and its campaigns not one by one', () => {
    const { summary, ads, acct } = run({ apply: true });
    const sets = ads.ops.filter((op) => op.startsWith('setAmount Search pool'));
    assert.deepEqual(sets, ['setAmount Search pool 230.00']);
    assert.equal(acct.budgets[900].amount, 230);
    const brand = summary.skipped.find((e) => e.campaign === 'Brand');
    assert.match(brand.reason, /shares budget 900: set once/);
    const line = summary.applied.find((e) => e.campaignId === 'budget:900');
    assert.equal(line.recommended, '230.00');
    // own budgets still go through
    assert.ok(ads.ops.includes('setAmount Shop 110.00'));
  });

  it('counts the shared budget once in the total guard', () => {
    // 230 (shared, where Brand stands) + 110 + 160 + 85 = 585: with a budget of 580 the last
    // raise in plan order (Manual) is refused; counting 230 twice would refuse more
    const plan = { ...campaignPlan(), budget: '580.00' };
    const { summary } = run({ apply: true, plan: plan });
    assert.equal(summary.totalBefore, '530.00');
    assert.equal(summary.totalAfter, '580.00');
    assert.deepEqual(summary.refused.map((e) => e.campaign), ['Manual']);
  });

  it('refuses a shared budget change above MAX_CHANGE_FRACTION and leaves it as it is', () => {
    const { summary, ads } = run({ apply: true, maxChangeFraction: 0.1 });
    assert.ok(!ads.ops.some((op) => op.startsWith('setAmount Search pool')));
    assert.ok(summary.refused.some((e) => e.campaignId === 'budget:900'));
  });

  it('a shared budget also spent by a campaign outside the plan is left to a person', () => {
    const acct = account();
    acct.campaigns.push({ id: 106, name: 'Other', budgetId: 900, strategy: 'MANUAL_CPC' });
    const { summary, ads } = run({ apply: true, account: acct });
    assert.ok(!ads.ops.some((op) => op.startsWith('setAmount Search pool')));
    const line = summary.skipped.find((e) => e.campaignId === 'budget:900');
    assert.match(line.reason, /1 campaign\(s\) outside the plan/);
  });

  it('an older plan without budgets rows skips shared budgets as before', () => {
    const plan = campaignPlan();
    delete plan.budgets;
    const { summary, ads } = run({ apply: true, plan: plan });
    assert.ok(!ads.ops.some((op) => op.startsWith('setAmount Search pool')));
    assert.match(summary.skipped.find((e) => e.campaign === 'Brand').reason, /change it by hand/);
  });
});

describe('Smart Bidding targets', () => {
  it('only suggested (logged) unless APPLY_BID_TARGETS is on', () => {
    const { summary, ads, lines } = run({ apply: true });
    assert.ok(!ads.ops.some((op) => op.startsWith('setTarget')));
    const shop = summary.targets.find((t) => t.campaign === 'Shop');
    assert.equal(shop.status, 'suggested');
    assert.ok(lines.some((l) => l.includes('Shop: target CPA 25.00 -> 22.50 SUGGESTED')));
  });

  it('APPLY_BID_TARGETS sets the campaign\'s own target, never a portfolio strategy\'s', () => {
    const { summary, ads } = run({ apply: true, applyBidTargets: true });
    assert.deepEqual(ads.ops.filter((op) => op.startsWith('setTarget')), ['setTargetCpa Shop 22.5']);
    assert.equal(summary.targets.find((t) => t.campaign === 'Pmax').status, 'advisory');
  });

  it('in preview (APPLY off) nothing is set even with APPLY_BID_TARGETS', () => {
    const { summary, ads } = run({ apply: false, applyBidTargets: true });
    assert.equal(ads.ops.length, 0);
    assert.equal(summary.targets.find((t) => t.campaign === 'Shop').status, 'preview');
  });

  it('a campaign whose strategy changed since the plan is skipped', () => {
    const acct = account();
    acct.campaigns[2].strategy = 'MAXIMIZE_CLICKS';
    const { summary, ads } = run({ apply: true, applyBidTargets: true, account: acct });
    assert.ok(!ads.ops.some((op) => op.startsWith('setTarget')));
    assert.match(summary.targets.find((t) => t.campaign === 'Shop').reason, /now bids with/);
  });
});

describe('keyword bids', () => {
  it('not fetched nor set unless APPLY_KEYWORD_BIDS is on', () => {
    const { fetcher, ads } = run({ apply: true });
    assert.ok(!fetcher.calls.some((c) => /level=keyword/.test(c.url)));
    assert.ok(!ads.ops.some((op) => op.startsWith('setCpc')));
  });

  it('APPLY_KEYWORD_BIDS sets each manual keyword\'s max CPC; others stay advisory', () => {
    const { summary, ads, lines } = run({ apply: true, applyKeywordBids: true });
    assert.deepEqual(ads.ops.filter((op) => op.startsWith('setCpc')),
      ['setCpc red shoes 1.32', 'setCpc shoes 0.72']);  // prettier-ignore
    assert.equal(summary.keywordBids.length, 2);
    assert.ok(lines.some((l) => l.includes('1 keyword row(s) advisory')));
  });

  it('refuses a bid change above MAX_CHANGE_FRACTION', () => {
    const { summary, ads } = run({ apply: true, applyKeywordBids: true, maxChangeFraction: 0.05 });
    assert.ok(!ads.ops.some((op) => op.startsWith('setCpc')));
    assert.deepEqual(summary.keywordBids.map((k) => k.status), ['refused', 'refused']);
  });

  it('a keyword plan of another publication is not applied', () => {
    const { ads, lines } = run({
      apply: true,
      applyKeywordBids: true,
      keywordPlan: { ...keywordPlan(), id: 40 },
    });
    assert.ok(!ads.ops.some((op) => op.startsWith('setCpc')));
    assert.ok(lines.some((l) => l.includes('Keyword bids not applied')));
  });
});
