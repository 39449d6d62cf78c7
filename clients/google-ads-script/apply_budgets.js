/**
 * ppc-budget-optimizer: apply the latest published daily budgets to this Google Ads account.
 *
 * Paste this file into Google Ads > Tools > Bulk actions > Scripts, fill in the four constants
 * below, run it once in preview (APPLY = false) and read the log, then set APPLY = true and
 * schedule it daily. See README.md next to this file for the exact rules.
 */

const BASE_URL = 'https://ppcopt.example.com';
const API_KEY = 'paste-your-api-key-here';
const ACCOUNT = 'acme';
const APPLY = false;
const MAX_CHANGE_FRACTION = 0.3;
// Optional: the ETag logged by the previous run. The server then answers 304 when nothing new
// was published and the script changes nothing.
const IF_NONE_MATCH = '';

const MICROS = 1000000;
// AdsApp.campaigns() leaves out Shopping and Performance Max campaigns; each has its own selector.
const CAMPAIGN_SELECTORS = ['campaigns', 'shoppingCampaigns', 'performanceMaxCampaigns'];

function main(overrides) {
  const config = resolveConfig_(overrides || {});
  const summary = {
    outcome: 'error',
    mode: config.apply ? 'apply' : 'preview',
    account: config.account,
    httpStatus: null,
    message: '',
    recommendationId: null,
    date: null,
    etag: null,
    currency: null,
    budget: null,
    totalBefore: null,
    totalAfter: null,
    applied: [],
    planned: [],
    skipped: [],
    refused: [],
    notFound: [],
  };
  try {
    run_(config, summary);
  } catch (e) {
    if (!(e instanceof Stop_)) throw e;
    summary.outcome = e.outcome;
    summary.message = e.message;
  }
  logSummary_(summary);
  return summary;
}

function Stop_(outcome, message) {
  this.outcome = outcome;
  this.message = message;
}

function resolveConfig_(o) {
  const pick = (key, fallback) => (o[key] === undefined ? fallback : o[key]);
  return {
    baseUrl: String(pick('baseUrl', BASE_URL)).replace(/\/+$/, ''),
    apiKey: pick('apiKey', API_KEY),
    account: pick('account', ACCOUNT),
    apply: pick('apply', APPLY) === true,
    maxChangeFraction: Number(pick('maxChangeFraction', MAX_CHANGE_FRACTION)),
    ifNoneMatch: pick('ifNoneMatch', IF_NONE_MATCH),
    now: pick('now', null) || new Date(),
  };
}

function run_(config, summary) {
  const rec = fetchRecommendation_(config, summary);
  checkRecommendation_(rec, config);
  summary.recommendationId = rec.id;
  summary.date = rec.date;
  summary.currency = rec.currency;
  summary.budget = rec.budget;
  const budgetMicros = parseMicros_(rec.budget, 'budget');

  const entries = rec.rows.map((row) => planRow_(row, config, summary));
  markDuplicates_(entries, summary);
  guardTotal_(entries, budgetMicros, summary);

  entries.forEach((e) => Logger.log(describe_(e, config.apply)));
  if (config.apply) applyAll_(entries, summary);
  summary.outcome = config.apply ? 'applied' : 'preview';
}

function fetchRecommendation_(config, summary) {
  const url =
    config.baseUrl +
    '/v1/accounts/' +
    encodeURIComponent(config.account) +
    '/recommendations/latest?level=campaign&format=json';
  const headers = { Authorization: 'Bearer ' + config.apiKey, Accept: 'application/json' };
  if (config.ifNoneMatch) headers['If-None-Match'] = config.ifNoneMatch;
  let response;
  try {
    response = UrlFetchApp.fetch(url, {
      method: 'get',
      headers: headers,
      muteHttpExceptions: true,
    });
  } catch (e) {
    throw new Stop_('error', 'Could not reach ' + config.baseUrl + ': ' + e.message);
  }
  const status = response.getResponseCode();
  summary.httpStatus = status;
  summary.etag = header_(response, 'etag');
  const text = response.getContentText();
  if (status === 304) {
    throw new Stop_(
      'unchanged',
      'Nothing new published since ETag ' + config.ifNoneMatch + '; no budget was changed.',
    );
  }
  if (status !== 200) throw new Stop_('error', httpProblem_(status, text, config));
  let body;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new Stop_('error', 'The server answered 200 but not with JSON: ' + clip_(text));
  }
  return body;
}

function httpProblem_(status, text, config) {
  let detail = '';
  try {
    const body = JSON.parse(text);
    detail = body && (body.detail || body.error) ? String(body.detail || body.error) : '';
  } catch (e) {
    detail = clip_(text);
  }
  const what = {
    401: 'The API key was rejected (check API_KEY)',
    403: 'The API key may not read account "' + config.account + '"',
    404: 'No recommendation is published for account "' + config.account + '"',
    409: 'No approved spend cap for account "' + config.account + '", so nothing to apply',
  }[status];
  return (what || 'The server answered HTTP ' + status) + (detail ? ': ' + detail : '') + '.';
}

function header_(response, name) {
  const headers = response.getHeaders() || {};
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? null : String(headers[key]);
}

function clip_(text) {
  const s = String(text);
  return s.length > 200 ? s.slice(0, 197) + '...' : s;
}

/** Refuse the whole plan unless it is a current, approved, campaign-level plan for this account. */
function checkRecommendation_(rec, config) {
  if (!rec || typeof rec !== 'object' || !Array.isArray(rec.rows)) {
    throw new Stop_('error', 'The response has no "rows" list; is BASE_URL the ppcopt API?');
  }
  if (rec.level !== 'campaign') {
    throw new Stop_('error', 'Expected a campaign-level plan, got level "' + rec.level + '".');
  }
  if (rec.cap && rec.cap.status !== 'approved') {
    throw new Stop_('error', 'The plan\'s cap is "' + rec.cap.status + '", not approved.');
  }
  const account = AdsApp.currentAccount();
  const currency = account.getCurrencyCode ? account.getCurrencyCode() : null;
  if (currency && rec.currency && currency !== rec.currency) {
    throw new Stop_(
      'error',
      'The plan is in ' + rec.currency + ' but this Google Ads account uses ' + currency + '.',
    );
  }
  const timeZone = account.getTimeZone();
  const today = Utilities.formatDate(config.now, timeZone, 'yyyy-MM-dd');
  const tomorrow = nextDay_(today);
  if (rec.date !== today && rec.date !== tomorrow) {
    throw new Stop_(
      'error',
      'The latest plan is for ' + rec.date + ' but today is ' + today + ' in ' + timeZone +
        ' (only plans for today or tomorrow are applied).',
    );
  }
}

function nextDay_(isoDate) {
  const d = new Date(isoDate + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/** Decimal string -> integer micros, without passing through a float. */
function parseMicros_(value, what) {
  const m = /^(-?)(\d+)(?:\.(\d{1,6}))?$/.exec(String(value));
  if (!m) throw new Stop_('error', 'Field ' + what + ' is not a decimal amount: "' + value + '".');
  const micros = Number(m[2]) * MICROS + Number((m[3] || '').padEnd(6, '0'));
  return m[1] ? -micros : micros;
}

function formatMicros_(micros) {
  return (micros / MICROS).toFixed(2);
}

function planRow_(row, config, summary) {
  const entry = {
    campaign: row.campaign,
    campaignId: row.campaign_id ? String(row.campaign_id) : null,
    recommendedMicros: parseMicros_(row.recommended_spend, 'recommended_spend'),
    currentMicros: null,
    budget: null,
    status: null,
    reason: '',
  };
  if (row.keyword || row.ad_group) return settle_(entry, 'skipped', 'not a campaign-level row');
  const found = findCampaigns_(entry);
  if (found.length === 0) {
    summary.notFound.push(publicEntry_(entry));
    entry.status = 'notFound';
    return entry;
  }
  if (found.length > 1) {
    return settle_(entry, 'skipped', found.length + ' campaigns have this name');
  }
  const campaign = found[0];
  entry.campaignId = String(campaign.getId());
  const budget = campaign.getBudget();
  if (!budget) return settle_(entry, 'skipped', 'the campaign has no budget');
  entry.budget = budget;
  entry.currentMicros = Math.round(budget.getAmount() * MICROS);
  if (budget.isExplicitlyShared()) {
    return settle_(entry, 'skipped', 'uses a shared budget; change it by hand');
  }
  if (entry.recommendedMicros <= 0) {
    return settle_(entry, 'skipped', 'recommended 0; pause the campaign by hand if intended');
  }
  if (entry.recommendedMicros === entry.currentMicros) {
    return settle_(entry, 'skipped', 'already at the recommended amount');
  }
  const delta = Math.abs(entry.recommendedMicros - entry.currentMicros);
  // Half a micro of slack: a change of exactly MAX_CHANGE_FRACTION passes despite float error.
  if (entry.currentMicros <= 0 || delta > config.maxChangeFraction * entry.currentMicros + 0.5) {
    return settle_(
      entry,
      'refused',
      'change larger than ' + Math.round(config.maxChangeFraction * 100) +
        '% (MAX_CHANGE_FRACTION)',
    );
  }
  entry.status = 'change';
  return entry;
}

/** Campaign ID is authoritative when the plan has one; otherwise the exact (non-removed) name. */
function findCampaigns_(entry) {
  const byId = {};
  CAMPAIGN_SELECTORS.filter((name) => typeof AdsApp[name] === 'function').forEach((name) => {
    let selector = AdsApp[name]();
    if (entry.campaignId) {
      if (!/^\d+$/.test(entry.campaignId)) return;
      selector = selector.withIds([Number(entry.campaignId)]);
    } else {
      selector = selector.withCondition('campaign.name = ' + gaqlString_(entry.campaign));
    }
    const it = selector.withCondition('campaign.status != REMOVED').get();
    while (it.hasNext()) {
      const c = it.next();
      if (entry.campaignId || c.getName() === entry.campaign) byId[String(c.getId())] = c;
    }
  });
  return Object.keys(byId).map((id) => byId[id]);
}

function gaqlString_(s) {
  return '"' + String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

function settle_(entry, status, reason) {
  entry.status = status;
  entry.reason = reason;
  return entry;
}

function markDuplicates_(entries, summary) {
  const seen = {};
  entries.forEach((e) => {
    if (e.status !== 'notFound' && e.campaignId) {
      (seen[e.campaignId] = seen[e.campaignId] || []).push(e);
    }
  });
  Object.keys(seen)
    .filter((id) => seen[id].length > 1)
    .forEach((id) =>
      seen[id].forEach((e) => settle_(e, 'skipped', 'the plan names this campaign more than once')),
    );
  entries
    .filter((e) => e.status === 'skipped' || e.status === 'refused')
    .forEach((e) => summary[e.status].push(publicEntry_(e)));
}

/**
 * Never take the plan's campaigns' total above the published budget: decreases always go through;
 * an increase is refused when it would take the total (new amounts plus the amounts left as they
 * are) above the budget. Shared budgets are not counted: the script never changes them.
 */
function guardTotal_(entries, budgetMicros, summary) {
  const seen = {};
  const own = entries.filter((e) => {
    const first = e.budget && !e.budget.isExplicitlyShared() && !seen[e.campaignId];
    if (first) seen[e.campaignId] = true;
    return first;
  });
  const before = own.reduce((sum, e) => sum + e.currentMicros, 0);
  let total = own.reduce(
    (sum, e) =>
      sum +
      (e.status === 'change' && e.recommendedMicros < e.currentMicros
        ? e.recommendedMicros
        : e.currentMicros),
    0,
  );
  own
    .filter((e) => e.status === 'change' && e.recommendedMicros > e.currentMicros)
    .forEach((e) => {
      const raise = e.recommendedMicros - e.currentMicros;
      if (total + raise > budgetMicros) {
        const reason = 'would take the total above the published budget ';
        settle_(e, 'refused', reason + formatMicros_(budgetMicros));
        summary.refused.push(publicEntry_(e));
      } else {
        total += raise;
      }
    });
  entries
    .filter((e) => e.status === 'change')
    .forEach((e) => summary.planned.push(publicEntry_(e)));
  summary.totalBefore = formatMicros_(before);
  summary.totalAfter = formatMicros_(total);
}

/** Decreases first: the room for the increases exists only once every decrease went through. */
function applyAll_(entries, summary) {
  const changes = entries.filter((e) => e.status === 'change');
  const down = changes.filter((e) => e.recommendedMicros < e.currentMicros);
  const failed = down.filter((e) => !apply_(e, summary, '')).length;
  const reason = failed ? 'held back: ' + failed + ' decrease(s) failed' : '';
  changes.filter((e) => e.recommendedMicros > e.currentMicros).forEach((e) => {
    apply_(e, summary, reason);
  });
}

function apply_(entry, summary, holdBack) {
  try {
    if (holdBack) throw new Error(holdBack);
    entry.budget.setAmount(entry.recommendedMicros / MICROS);
    summary.applied.push(publicEntry_(entry));
    return true;
  } catch (e) {
    settle_(entry, 'skipped', 'not applied: ' + e.message);
    summary.skipped.push(publicEntry_(entry));
    Logger.log(entry.campaign + ': ' + entry.reason);
    return false;
  }
}

function changePct_(entry) {
  if (entry.currentMicros === null || entry.currentMicros <= 0) return null;
  const pct = ((entry.recommendedMicros - entry.currentMicros) / entry.currentMicros) * 100;
  return Math.round(pct * 100) / 100;
}

function publicEntry_(entry) {
  return {
    campaign: entry.campaign,
    campaignId: entry.campaignId,
    current: entry.currentMicros === null ? null : formatMicros_(entry.currentMicros),
    recommended: formatMicros_(entry.recommendedMicros),
    changePct: changePct_(entry),
    reason: entry.reason,
  };
}

function describe_(entry, apply) {
  const pct = changePct_(entry);
  const current = entry.currentMicros === null ? '?' : formatMicros_(entry.currentMicros);
  const change = pct === null ? 'n/a' : (pct > 0 ? '+' : '') + pct.toFixed(2) + '%';
  const verdict = {
    change: apply ? 'APPLY' : 'PREVIEW (would apply)',
    skipped: 'SKIPPED: ' + entry.reason,
    refused: 'REFUSED: ' + entry.reason,
    notFound: 'NOT FOUND in this account',
  }[entry.status];
  return (
    entry.campaign + ': current ' + current + ', recommended ' +
    formatMicros_(entry.recommendedMicros) + ' (' + change + ') -> ' + verdict
  );
}

function logSummary_(s) {
  if (s.outcome === 'error' || s.outcome === 'unchanged') {
    Logger.log((s.outcome === 'error' ? 'NOTHING CHANGED. ' : '') + s.message);
    return;
  }
  const counts =
    s.skipped.length + ' skipped, ' + s.refused.length + ' refused, ' + s.notFound.length +
    ' not found';
  const head =
    s.outcome === 'applied'
      ? 'Applied ' + s.applied.length + ' of ' + s.planned.length + ' changes, '
      : 'Preview: ' + s.planned.length + ' changes to apply (set APPLY = true), ';
  Logger.log(
    head + counts + '. Plan ' + s.recommendationId + ' for ' + s.date + ', budget ' + s.budget +
      ' ' + s.currency + '; total of these campaigns ' + s.totalBefore + ' -> ' + s.totalAfter +
      '. ETag ' + s.etag,
  );
}

if (typeof module !== 'undefined') {
  module.exports = { main: main, parseMicros_: parseMicros_, nextDay_: nextDay_ };
}
