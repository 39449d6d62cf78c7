'use strict';
/**
 * The performance upload: AdsApp.report(gaql).rows() yields flat objects keyed by the GAQL field
 * names with every value a string (micros included), as the scripts reference documents; the
 * script posts them as CSV under those names. UrlFetchApp records the POST and answers 404 to the
 * plan, so each run stops before applying anything.
 */
const { it } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const script = require(path.join(__dirname, '..', 'apply_budgets.js'));

const NOW = new Date('2026-03-21T06:00:00Z');
const base = { 'segments.date': '2026-03-20', 'customer.id': '1', 'customer.currency_code': 'EUR' };
const CAMPAIGN_ROWS = [
  { ...base, 'campaign.id': '11', 'campaign.name': 'Search, "A"', 'metrics.cost_micros': '1230000', 'metrics.clicks': '3', 'metrics.impressions': '40', 'metrics.conversions': '1.0', 'metrics.conversions_value': '9.5', 'metrics.search_budget_lost_impression_share': '0.12' },
  { ...base, 'campaign.id': '12', 'campaign.name': 'PMax', 'metrics.cost_micros': '5000000', 'metrics.clicks': '7', 'metrics.impressions': '90', 'metrics.conversions': '0.0', 'metrics.conversions_value': '0.0', 'metrics.search_budget_lost_impression_share': '' },
];  // prettier-ignore
const KEYWORD_ROWS = [
  { ...base, 'campaign.id': '11', 'campaign.name': 'Search, "A"', 'ad_group.id': '5', 'ad_group.name': 'G', 'ad_group_criterion.criterion_id': '77', 'ad_group_criterion.keyword.text': 'red shoes', 'ad_group_criterion.keyword.match_type': 'EXACT', 'metrics.cost_micros': '1230000', 'metrics.clicks': '3', 'metrics.impressions': '40', 'metrics.conversions': '1.0', 'metrics.conversions_value': '9.5' },
];  // prettier-ignore

function run(options, reportThrows) {
  const queries = [];
  const posts = [];
  const lines = [];
  Object.assign(globalThis, {
    AdsApp: {
      report(q) {
        queries.push(q);
        if (reportThrows) throw new Error(reportThrows);
        const rows = / FROM keyword_view /.test(q) ? KEYWORD_ROWS : CAMPAIGN_ROWS;
        const fields = /^SELECT (.+) FROM/.exec(q)[1].split(', ');
        const picked = rows.map((r) => Object.fromEntries(fields.map((f) => [f, r[f]])));
        let i = 0;
        return { rows: () => ({ hasNext: () => i < picked.length, next: () => picked[i++] }) };
      },
      currentAccount: () => ({ getTimeZone: () => 'Europe/Berlin', getCurrencyCode: () => 'EUR' }),
    },
    UrlFetchApp: {
      fetch(url, params) {
        assert.equal(params.muteHttpExceptions, true);
        if ((params.method || 'get') === 'post') {
          posts.push({ url: url, params: params });
          return { getResponseCode: () => 200, getContentText: () => '{"inserted": 2}' };
        }
        return { getResponseCode: () => 404, getContentText: () => '{}', getHeaders: () => ({}), getAllHeaders: () => ({}) };
      },
    },
    Utilities: {
      formatDate: (d, tz) =>
        new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d),
    },
    Logger: { log: (m) => lines.push(String(m)) },
  });
  try {
    const summary = script.main({ baseUrl: 'https://ppc.example/', apiKey: 'k', account: 'acme', now: NOW, sendStructure: false, ...options });
    return { summary: summary, queries: queries, posts: posts, lines: lines };
  } finally {
    ['AdsApp', 'UrlFetchApp', 'Utilities', 'Logger'].forEach((g) => delete globalThis[g]);
  }
}  // prettier-ignore

it('campaign level: one GAQL query over the window, posted under the GAQL names', () => {
  const r = run({ uploadDays: 14 });
  assert.equal(r.queries.length, 1);
  assert.match(r.queries[0], / FROM campaign WHERE segments\.date BETWEEN "2026-03-07" AND "2026-03-20"$/);
  assert.equal(r.posts.length, 1);
  assert.equal(r.posts[0].url, 'https://ppc.example/v1/accounts/acme/performance?format=google_ads_api');
  assert.equal(r.posts[0].params.headers.Authorization, 'Bearer k');
  assert.match(r.posts[0].params.contentType, /^text\/csv/);
  const csv = r.posts[0].params.payload.trim().split('\n');
  assert.equal(csv.length, 3);
  assert.ok(csv[0].startsWith('segments.date,customer.id,customer.currency_code,campaign.id,campaign.name,'));
  assert.ok(csv[1].includes(',"Search, ""A""",') && csv[1].includes(',1230000,3,40,1.0,9.5,0.12'));
  assert.deepEqual([r.summary.performance.sent, r.summary.performance.rows], [true, 2]);
});  // prettier-ignore

it('keyword level: keyword rows, plus campaign rows only for campaigns without keywords', () => {
  const r = run({ uploadDays: 3, uploadLevel: 'keyword' });
  assert.deepEqual(r.queries.map((q) => / FROM (\w+) /.exec(q)[1]), ['campaign', 'keyword_view']);
  const csv = r.posts[0].params.payload.trim().split('\n').slice(1);
  assert.equal(csv.length, 2);
  assert.ok(csv[0].includes(',red shoes,EXACT,1230000,'));
  assert.ok(csv[1].includes(',12,PMax,,,,,,5000000,'));
});  // prettier-ignore

it('a report that cannot be read is logged and the run goes on to the plan', () => {
  const r = run({}, 'quota exceeded');
  assert.equal(r.posts.length, 0);
  assert.equal(r.summary.performance.sent, false);
  assert.ok(r.lines.some((l) => l.includes('Performance not sent') && l.includes('quota exceeded')));
  assert.notEqual(r.summary.outcome, 'applied');
});

it('an unknown UPLOAD_LEVEL is refused before anything is sent', () => {
  const r = run({ uploadLevel: 'adgroup' });
  assert.equal(r.posts.length, 0);
  assert.match(r.summary.performance.message, /UPLOAD_LEVEL/);
});
