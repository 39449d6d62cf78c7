'use strict';
/**
 * The Microsoft Advertising script with fakes of its scripts API: AdsApp.report(query).rows()
 * yields flat objects keyed by Reporting API column names (values as strings); campaigns are
 * selected with AWQL-style conditions (`Name = '...'`); UrlFetchApp answers by route.
 */
const { it } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const script = require(path.join(__dirname, '..', 'apply_budgets.js'));

const ROWS = [
  { TimePeriod: '2026-03-19', AccountId: '42', CurrencyCode: 'EUR', CampaignId: '7', CampaignName: 'Brand, "EU"', Spend: '12.34', Clicks: '10', Impressions: '200', Conversions: '2', Revenue: '80.00' },
  { TimePeriod: '2026-03-20', AccountId: '42', CurrencyCode: 'EUR', CampaignId: '7', CampaignName: 'Brand, "EU"', Spend: '10.00', Clicks: '8', Impressions: '150', Conversions: '1', Revenue: '40.00' },
];  // prettier-ignore

function install(plan) {
  const posts = [];
  const queries = [];
  const budget = { amount: 20, getAmount: () => budget.amount, setAmount: (x) => (budget.amount = x) };
  globalThis.AdsApp = {
    report(q) {
      queries.push(q);
      let i = 0;
      return { rows: () => ({ hasNext: () => i < ROWS.length, next: () => ROWS[i++] }) };
    },
    currentAccount: () => ({ getTimeZone: () => 'Europe/Berlin', getCurrencyCode: () => 'EUR' }),
    campaigns: () => {
      let name = null;
      const sel = {
        withCondition(c) {
          name = /^Name = '(.*)'$/.exec(c)[1].replace(/\\'/g, "'");
          return sel;
        },
        get() {
          const items = name === 'Brand, "EU"' ? [{ getBudget: () => budget }] : [];
          let i = 0;
          return { hasNext: () => i < items.length, next: () => items[i++] };
        },
      };
      return sel;
    },
  };
  globalThis.UrlFetchApp = {
    fetch(url, params) {
      assert.equal(params.muteHttpExceptions, true);
      assert.equal(params.headers.Authorization, 'Bearer k');
      if (params.method === 'post') {
        posts.push({ url: url, params: params });
        return { getResponseCode: () => 200, getContentText: () => '{"updated": 0}' };
      }
      return { getResponseCode: () => 200, getContentText: () => JSON.stringify(plan) };
    },
  };
  globalThis.Utilities = {
    formatDate: (d, tz) =>
      new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d),
  };
  globalThis.Logger = { log: () => {} };
  return { posts: posts, queries: queries, budget: budget };
}

const PLAN = {
  level: 'campaign', date: '2026-03-22', currency: 'EUR', budget: '30.00',
  cap: { status: 'approved' }, rows: [{ campaign: 'Brand, "EU"', recommended_spend: '25.50' }],
};  // prettier-ignore

it('reports the window as a microsoft_ads CSV, then applies the plan', () => {
  const fakes = install(PLAN);
  const s = script.main({ baseUrl: 'https://x/', apiKey: 'k', account: 'a b', apply: true, now: new Date('2026-03-21T06:00:00Z') });
  assert.deepEqual(fakes.queries, [
    'SELECT TimePeriod, AccountId, CurrencyCode, CampaignId, CampaignName, Spend, Clicks, ' +
      'Impressions, Conversions, Revenue FROM CampaignPerformanceReport DURING 2026-02-19,2026-03-20',
  ]);
  assert.equal(fakes.posts[0].url, 'https://x/v1/accounts/a%20b/performance?format=microsoft_ads');
  const lines = fakes.posts[0].params.payload.trim().split('\n');
  assert.equal(lines[0], 'TimePeriod,AccountId,CurrencyCode,CampaignId,CampaignName,Spend,Clicks,Impressions,Conversions,Revenue');
  assert.equal(lines[1], '2026-03-19,42,EUR,7,"Brand, ""EU""",12.34,10,200,2,80.00');
  assert.equal(s.performance.sent, true);
  assert.equal(s.outcome, 'applied');
  assert.equal(fakes.budget.amount, 25.5);
});

it('refuses a plan that adds up to more than its budget and changes nothing', () => {
  const fakes = install({ ...PLAN, budget: '25.49' });
  const s = script.main({ baseUrl: 'https://x', apiKey: 'k', account: 'a', apply: true, now: new Date('2026-03-21T06:00:00Z') });
  assert.equal(s.outcome, 'error');
  assert.equal(fakes.budget.amount, 20);
});
