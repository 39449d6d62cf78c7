'use strict';
/**
 * The part of an AdsApp fake that shows an account's structure, shared by the unit tests
 * (test/structure.test.js) and the end-to-end run (e2e/upload_and_apply.test.js). It follows the
 * documented Google Ads scripts API: AdsApp.search(gaql) yields rows as camelCase objects with
 * int64 values (IDs, micros) as strings; campaign.getBudget() returns the one Budget object a
 * shared budget is (getId, getAmount, setAmount, isExplicitlyShared, campaigns()); campaign.bidding()
 * is a CampaignBidding (getStrategyType, getTargetCpa, setTargetCpa, getTargetRoas, setTargetRoas);
 * AdsApp.keywords().withIds() takes [adGroupId, keywordId] pairs and keyword.bidding() is a
 * KeywordBidding (getCpc, setCpc). Amounts in the API are currency units.
 *
 * `acct`: budgets by id ({id, name, amount, shared}); campaigns ({id, name, budgetId, strategy,
 * targetCpa, targetRoas, portfolioId, lostBudget, lostRank, kind: 'search' (default), 'shopping'
 * or 'pmax'}); keywords ({campaignId, adGroupId, adGroup, id, text, matchType, cpc}). Setters
 * change these objects and call record(kind, subject, value) with kind 'budget', 'targetCpa',
 * 'targetRoas' or 'cpc' and the budget, campaign or keyword they changed.
 */
const assert = require('node:assert/strict');

function iterator(items) {
  let i = 0;
  return { hasNext: () => i < items.length, next: () => items[i++], totalNumEntities: () => items.length };
}  // prettier-ignore

function structureFakes(acct, record) {
  const queries = [];
  const budgetObjects = {};
  const campaignObjects = {};
  const budgetObject = (id) => {
    if (budgetObjects[id]) return budgetObjects[id];
    const b = acct.budgets[id];
    budgetObjects[id] = {
      getId: () => b.id,
      getName: () => b.name,
      getAmount: () => b.amount,
      setAmount(x) {
        record('budget', b, x);
        b.amount = x;
      },
      isExplicitlyShared: () => b.shared,
      campaigns: () => ({
        get: () => iterator(acct.campaigns.filter((c) => c.budgetId === b.id).map(campaign)),
      }),
    };
    return budgetObjects[id];
  };
  const campaign = (c) => {
    if (campaignObjects[c.id]) return campaignObjects[c.id];
    const bidding = {
      getStrategyType: () => c.strategy,
      getTargetCpa: () => (c.targetCpa === undefined ? null : c.targetCpa),
      getTargetRoas: () => (c.targetRoas === undefined ? null : c.targetRoas),
      setTargetCpa(x) {
        record('targetCpa', c, x);
        c.targetCpa = x;
      },
      setTargetRoas(x) {
        record('targetRoas', c, x);
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
    let items = acct.campaigns.filter((c) => (c.kind || 'search') === kind);
    const sel = {
      withCondition(cond) {
        const m = /^campaign\.name = "((?:[^"\\]|\\.)*)"$/.exec(cond);
        if (m) items = items.filter((c) => c.name === m[1].replace(/\\(.)/g, '$1'));
        else if (cond !== 'campaign.status != REMOVED') throw new Error('condition: ' + cond);
        return sel;
      },
      withIds(ids) {
        items = items.filter((c) => ids.includes(c.id));
        return sel;
      },
      get: () => iterator(items.map(campaign)),
    };
    return sel;
  };
  const keywords = () => {
    let items = acct.keywords.slice();
    const sel = {
      withIds(pairs) {
        pairs.forEach((p) => {
          assert.ok(Array.isArray(p) && p.length === 2 && p.every((x) => typeof x === 'number'),
            'keyword ids are [adGroupId, keywordId] number pairs');
        });  // prettier-ignore
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
                record('cpc', k, x);
                k.cpc = x;
              },
            }),
          })),
        ),
    };
    return sel;
  };
  const micros = (x) => String(Math.round(x * 1e6));
  const search = (query) => {
    queries.push(query);
    const from = /FROM (\w+)/.exec(query)[1];
    if (from === 'campaign' && query.includes('metrics.')) {
      assert.match(query, /segments\.date DURING LAST_7_DAYS/);
      return iterator(acct.campaigns.map((c) => ({
        campaign: { resourceName: 'customers/1/campaigns/' + c.id, id: String(c.id) },
        metrics: {
          ...(c.lostBudget === undefined ? {} : { searchBudgetLostImpressionShare: Number(c.lostBudget) }),
          ...(c.lostRank === undefined ? {} : { searchRankLostImpressionShare: Number(c.lostRank) }),
        },
      })));  // prettier-ignore
    }
    if (from === 'campaign') {
      return iterator(acct.campaigns.map((c) => {
        const b = acct.budgets[c.budgetId];
        const row = {
          campaign: { resourceName: 'customers/1/campaigns/' + c.id, id: String(c.id),
            name: c.name, biddingStrategyType: c.strategy },
          campaignBudget: { resourceName: 'customers/1/campaignBudgets/' + b.id, id: String(b.id),
            name: b.name, amountMicros: micros(b.amount), explicitlyShared: b.shared },
        };
        if (c.portfolioId) row.campaign.biddingStrategy = 'customers/1/biddingStrategies/' + c.portfolioId;
        else if (c.strategy === 'TARGET_CPA') row.campaign.targetCpa = { targetCpaMicros: micros(c.targetCpa) };
        else if (c.strategy === 'TARGET_ROAS') row.campaign.targetRoas = { targetRoas: c.targetRoas };
        else if (c.strategy === 'MAXIMIZE_CONVERSIONS' && c.targetCpa !== undefined) {
          row.campaign.maximizeConversions = { targetCpaMicros: micros(c.targetCpa) };
        }
        return row;
      }));  // prettier-ignore
    }
    if (from === 'bidding_strategy') {
      return iterator(acct.campaigns.filter((c) => c.portfolioId).map((c) => ({
        biddingStrategy: { resourceName: 'customers/1/biddingStrategies/' + c.portfolioId,
          id: String(c.portfolioId), type: c.strategy, targetRoas: { targetRoas: c.targetRoas } },
      })));  // prettier-ignore
    }
    if (from === 'ad_group_criterion') {
      return iterator(acct.keywords.map((k) => {
        const c = acct.campaigns.find((x) => x.id === k.campaignId);
        const criterion = {
          criterionId: String(k.id),
          keyword: { text: k.text, matchType: k.matchType },
          ...(k.cpc === undefined ? {} : { cpcBidMicros: micros(k.cpc) }),
        };
        return {
          campaign: { id: String(c.id), name: c.name, biddingStrategyType: c.strategy },
          adGroup: { id: String(k.adGroupId), name: k.adGroup },
          adGroupCriterion: criterion,
        };
      }));  // prettier-ignore
    }
    throw new Error('fake AdsApp.search does not know: ' + query);
  };
  return {
    queries: queries,
    search: search,
    campaigns: () => selector('search'),
    shoppingCampaigns: () => selector('shopping'),
    performanceMaxCampaigns: () => selector('pmax'),
    keywords: keywords,
  };
}

module.exports = { iterator: iterator, structureFakes: structureFakes };
