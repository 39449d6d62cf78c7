/**
 * ppc-budget-optimizer: apply the latest published daily budgets to this Google Ads account.
 *
 * Paste this file into Google Ads > Tools > Bulk actions > Scripts, fill in the constants below,
 * run it once in preview (APPLY = false) and read the log, then set APPLY = true and schedule it
 * daily. See README.md next to this file for the exact rules.
 *
 * Stops: when the approved cap is spent the plan gives a campaign 0 and names `cap_reached` in
 * its row's `bound`; the script then pauses the campaign and labels it CAP_LABEL. A later plan that
 * funds a paused campaign carrying that label resumes it. Campaigns paused by anyone else are left
 * alone.
 */

const BASE_URL = 'https://ppcopt.example.com';
const API_KEY = 'paste-your-api-key-here';
const ACCOUNT = 'acme';
const APPLY = false;
const MAX_CHANGE_FRACTION = 0.3;
// Optional: the ETag logged by the previous run. The server then answers 304 when nothing new
// was published and the script changes nothing.
const IF_NONE_MATCH = '';
// Send the account's structure (budgets, bidding strategies, keyword bids; read with GAQL) to
// ppcopt before pulling the plan, so the next plan knows shared budgets and Smart Bidding.
const SEND_STRUCTURE = true;
// Set the plan's suggested target CPA / ROAS on campaigns bidding with them (never on portfolio
// strategies). Off: the suggestions are only logged.
const APPLY_BID_TARGETS = false;
// Set the plan's max CPC on keywords in manual or enhanced CPC ad groups. Off: not even fetched.
const APPLY_KEYWORD_BIDS = false;
// Impression share lost is read over this GAQL date range.
const STRUCTURE_DATE_RANGE = 'LAST_7_DAYS';
// At most this many keywords are sent with the structure (largest accounts: raise with care).
const MAX_STRUCTURE_KEYWORDS = 50000;
// Report the account's last UPLOAD_DAYS days (up to yesterday) to ppcopt before pulling the plan.
// The window should cover the conversion window (30 days by default in Google Ads): a day sent
// again with more conversions replaces the stored numbers, and a day older than the window keeps
// what it had then. For a first run, raise it once (e.g. 120) to send the history the fit needs.
const SEND_PERFORMANCE = true;
const UPLOAD_DAYS = 30;
// 'campaign': one row per campaign and day. 'keyword': one per keyword and day (keyword_view),
// plus campaign rows for the campaigns that have no keywords (Performance Max, Shopping, ...).
const UPLOAD_LEVEL = 'campaign';

const MICROS = 1000000;
// AdsApp.campaigns() leaves out Shopping and Performance Max campaigns; each has its own selector.
const CAMPAIGN_SELECTORS = ['campaigns', 'shoppingCampaigns', 'performanceMaxCampaigns'];
// The label marking the campaigns this script paused because the cap was spent; only those are
// ever resumed by it.
const CAP_LABEL = 'ppcopt: cap';
const CAP_TOKEN = 'cap_reached';
const RESUME_REASON = 'paused by ppcopt (label "' + CAP_LABEL + '") and funded again';

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
    paused: [],
    resumed: [],
    performance: null,
    structure: null,
    targets: [],
    keywordBids: [],
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
    sendStructure: pick('sendStructure', SEND_STRUCTURE) === true,
    applyBidTargets: pick('applyBidTargets', APPLY_BID_TARGETS) === true,
    applyKeywordBids: pick('applyKeywordBids', APPLY_KEYWORD_BIDS) === true,
    structureDateRange: pick('structureDateRange', STRUCTURE_DATE_RANGE),
    maxStructureKeywords: Number(pick('maxStructureKeywords', MAX_STRUCTURE_KEYWORDS)),
    sendPerformance: pick('sendPerformance', SEND_PERFORMANCE) === true,
    uploadDays: Number(pick('uploadDays', UPLOAD_DAYS)),
    uploadLevel: pick('uploadLevel', UPLOAD_LEVEL),
  };
}

function run_(config, summary) {
  if (config.sendPerformance) summary.performance = sendPerformance_(config);
  if (config.sendStructure) summary.structure = sendStructure_(config);
  const rec = fetchRecommendation_(config, summary);
  checkRecommendation_(rec, config);
  summary.recommendationId = rec.id;
  summary.date = rec.date;
  summary.currency = rec.currency;
  summary.budget = rec.budget;
  const budgetMicros = parseMicros_(rec.budget, 'budget');

  const sharedIds = sharedBudgetIds_(rec);
  const entries = rec.rows.map((row, i) => {
    const e = planRow_(row, config, summary, sharedIds);
    e.order = i;
    return e;
  });
  markDuplicates_(entries);
  entries.push.apply(entries, planSharedBudgets_(rec, entries, config, summary));
  guardTotal_(entries, budgetMicros, summary);
  collect_(entries, summary, config.apply);

  entries.forEach((e) => Logger.log(describe_(e, config.apply)));
  if (config.apply) applyAll_(entries, summary);
  applyBidTargets_(rec.rows, entries, config, summary);
  if (config.applyKeywordBids) applyKeywordBids_(config, summary);
  summary.outcome = config.apply ? 'applied' : 'preview';
}

function fetchRecommendation_(config, summary, level) {
  const url =
    config.baseUrl +
    '/v1/accounts/' +
    encodeURIComponent(config.account) +
    '/recommendations/latest?level=' + (level || 'campaign') + '&format=json';
  const headers = { Authorization: 'Bearer ' + config.apiKey, Accept: 'application/json' };
  if (config.ifNoneMatch && !level) headers['If-None-Match'] = config.ifNoneMatch;
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

function planRow_(row, config, summary, sharedIds) {
  const entry = {
    campaign: row.campaign,
    campaignId: row.campaign_id ? String(row.campaign_id) : null,
    recommendedMicros: parseMicros_(row.recommended_spend, 'recommended_spend'),
    currentMicros: null,
    budget: null,
    status: null,
    reason: '',
    adsCampaign: null,
    paused: false,
    resume: false,
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
  entry.adsCampaign = campaign;
  entry.paused = campaign.isPaused();
  const budget = campaign.getBudget();
  if (budget) {
    entry.budget = budget;
    entry.currentMicros = Math.round(budget.getAmount() * MICROS);
  }
  if (entry.recommendedMicros <= 0 && capReached_(row.bound)) return planPause_(entry);
  if (entry.recommendedMicros > 0 && entry.paused) {
    if (!hasCapLabel_(campaign)) {
      return settle_(entry, 'skipped', 'paused by hand; ppcopt only resumes campaigns it paused');
    }
    // Label + funded => resume; the budget below is then handled as for any campaign.
    entry.resume = true;
  }
  if (!budget) return settle_(entry, 'skipped', 'the campaign has no budget');
  if (budget.isExplicitlyShared()) {
    const id = Object.keys(sharedIds).length ? String(budget.getId()) : null;
    if (id && sharedIds[id]) {
      entry.sharedBudgetId = id;
      return settle_(entry, 'skipped', 'shares budget ' + id + ': set once on its own line');
    }
    return settle_(entry, 'skipped', 'uses a shared budget; change it by hand');
  }
  if (entry.recommendedMicros <= 0) {
    return settle_(entry, 'skipped', 'recommended 0; pause the campaign by hand if intended');
  }
  return checkChange_(entry, config);
}

/** True when the row's bound names CAP_TOKEN as one of its tokens (separated by "," or ";"). */
function capReached_(bound) {
  if (bound === null || bound === undefined) return false;
  return String(bound)
    .split(/[,;]/)
    .some((token) => token.trim() === CAP_TOKEN);
}

function hasCapLabel_(campaign) {
  return campaign
    .labels()
    .withCondition('label.name = ' + gaqlString_(CAP_LABEL))
    .get()
    .hasNext();
}

/**
 * The cap is spent: pause a running campaign (it is labelled CAP_LABEL when paused, see pause_).
 * A campaign that is already paused is not touched, so one paused by hand never gets the label and
 * is never resumed by this script.
 */
function planPause_(entry) {
  if (!entry.paused) {
    entry.status = 'pause';
    entry.reason = 'cap reached';
    return entry;
  }
  if (hasCapLabel_(entry.adsCampaign)) {
    return settle_(entry, 'skipped', 'cap reached; already paused by ppcopt');
  }
  return settle_(entry, 'skipped', 'cap reached; already paused (not by ppcopt), left as it is');
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

function markDuplicates_(entries) {
  const seen = {};
  entries.forEach((e) => {
    if (e.status !== 'notFound' && e.campaignId) {
      (seen[e.campaignId] = seen[e.campaignId] || []).push(e);
    }
  });
  Object.keys(seen)
    .filter((id) => seen[id].length > 1)
    .forEach((id) =>
      seen[id].forEach((e) => {
        e.resume = false;
        settle_(e, 'skipped', 'the plan names this campaign more than once');
      }),
    );
}

/**
 * Never take the plan's campaigns' total above the published budget: decreases and pauses always go
 * through; an increase, or a resume, is refused when it would take the total (new amounts plus the
 * amounts left as they are) above the budget. A paused campaign spends 0: it counts 0 before, and
 * after unless this run resumes it (a resume raises it from 0 to its new amount, or to its current
 * one when the budget is not changed). A shared budget the plan has a `budgets` row for counts
 * once, on its own line (in the plan order of its first campaign); other shared budgets are not
 * counted: the script does not change them.
 */
function guardTotal_(entries, budgetMicros, summary) {
  const seen = {};
  const own = entries.filter((e) => {
    const counted = e.shared || (e.budget && !e.budget.isExplicitlyShared());
    const first = counted && !seen[e.campaignId];
    if (first) seen[e.campaignId] = true;
    return first;
  });
  const before = own.reduce((sum, e) => sum + (e.paused ? 0 : e.currentMicros), 0);
  let total = own.reduce((sum, e) => sum + keptMicros_(e), 0);
  const above = 'would take the total above the published budget ' + formatMicros_(budgetMicros);
  inPlanOrder_(own)
    .filter((e) => e.resume || isIncrease_(e))
    .forEach((e) => {
      const raise = e.resume ? targetMicros_(e) : e.recommendedMicros - e.currentMicros;
      if (total + raise <= budgetMicros) {
        total += raise;
      } else if (e.resume) {
        e.resume = false;
        const earlier = e.status === 'refused' ? e.reason + '; ' : '';
        settle_(e, 'refused', earlier + 'stays paused: resuming ' + above);
      } else {
        settle_(e, 'refused', above);
      }
    });
  summary.totalBefore = formatMicros_(before);
  summary.totalAfter = formatMicros_(total);
}

/** What a campaign spends after this run before any increase or resume is counted. */
/** Plan order; a shared budget's line stands where its first campaign's row does. */
function inPlanOrder_(entries) {
  return entries
    .map((e, i) => ({ e: e, key: e.order === undefined ? i : e.order }))
    .sort((a, b) => a.key - b.key)
    .map((x) => x.e);
}

function keptMicros_(e) {
  if (e.paused || e.status === 'pause') return 0;
  if (e.status === 'change' && e.recommendedMicros < e.currentMicros) return e.recommendedMicros;
  return e.currentMicros;
}

/** The daily budget a resumed campaign runs with. */
function targetMicros_(e) {
  return e.status === 'change' ? e.recommendedMicros : e.currentMicros;
}

function isIncrease_(e) {
  return e.status === 'change' && !e.paused && e.recommendedMicros > e.currentMicros;
}

/**
 * Sort the entries into the summary's lists. In preview `paused` and `resumed` list what an APPLY
 * run would pause and resume; in an APPLY run they are filled as it happens (applyAll_).
 */
function collect_(entries, summary, apply) {
  entries.forEach((e) => {
    if (e.status === 'skipped' || e.status === 'refused') summary[e.status].push(publicEntry_(e));
    if (e.status === 'change') summary.planned.push(publicEntry_(e));
    if (!apply && e.status === 'pause') summary.paused.push(publicEntry_(e));
    if (!apply && e.resume) summary.resumed.push(resumedEntry_(e));
  });
}

/**
 * Pauses and decreases first: the room for the increases and resumes exists only once every one of
 * them went through. Then increases and resumes, in plan order.
 */
function applyAll_(entries, summary) {
  const label = { ready: false };
  const pauses = entries.filter((e) => e.status === 'pause');
  const downs = entries.filter(
    (e) => e.status === 'change' && !e.resume && e.recommendedMicros < e.currentMicros,
  );
  const failed = [
    [pauses.filter((e) => !pause_(e, summary, label)).length, 'pause(s)'],
    [downs.filter((e) => !apply_(e, summary, '')).length, 'decrease(s)'],
  ].filter((f) => f[0] > 0);
  const holdBack = failed.length
    ? 'held back: ' + failed.map((f) => f[0] + ' ' + f[1]).join(' and ') + ' failed'
    : '';
  inPlanOrder_(entries)
    .filter((e) => e.resume || (e.status === 'change' && e.recommendedMicros > e.currentMicros))
    .forEach((e) => (e.resume ? resume_(e, summary, holdBack) : apply_(e, summary, holdBack)));
}

function apply_(entry, summary, holdBack) {
  try {
    if (holdBack) throw new Error(holdBack);
    entry.budget.setAmount(entry.recommendedMicros / MICROS);
    summary.applied.push(publicEntry_(entry));
    return true;
  } catch (e) {
    return fail_(entry, summary, 'not applied: ' + e.message);
  }
}

/**
 * Label first, then pause: a campaign this script paused always carries CAP_LABEL, so it is resumed
 * once a plan funds it again. If the pause fails the label is taken off again.
 */
function pause_(entry, summary, label) {
  const campaign = entry.adsCampaign;
  try {
    ensureCapLabel_(label);
    campaign.applyLabel(CAP_LABEL);
  } catch (e) {
    return fail_(entry, summary, 'not paused: ' + e.message);
  }
  try {
    campaign.pause();
  } catch (e) {
    try {
      campaign.removeLabel(CAP_LABEL);
    } catch (ignored) {
      Logger.log(entry.campaign + ': remove the label "' + CAP_LABEL + '" by hand');
    }
    return fail_(entry, summary, 'not paused: ' + e.message);
  }
  summary.paused.push(publicEntry_(entry));
  return true;
}

function ensureCapLabel_(label) {
  if (label.ready) return;
  const it = AdsApp.labels().withCondition('label.name = ' + gaqlString_(CAP_LABEL)).get();
  if (!it.hasNext()) {
    AdsApp.createLabel(CAP_LABEL, 'Paused by ppc-budget-optimizer: the approved cap is spent.');
  }
  label.ready = true;
}

/**
 * The new budget is set before the campaign is enabled, so a resumed campaign never runs with an
 * amount the total guard did not count; if that fails it stays paused and labelled (retried on the
 * next run). Then enable, then take the label off.
 */
function resume_(entry, summary, holdBack) {
  const campaign = entry.adsCampaign;
  try {
    if (holdBack) throw new Error(holdBack);
    if (entry.status === 'change') {
      entry.budget.setAmount(entry.recommendedMicros / MICROS);
      summary.applied.push(publicEntry_(entry));
    }
    campaign.enable();
  } catch (e) {
    entry.resume = false;
    return fail_(entry, summary, 'not resumed: ' + e.message);
  }
  summary.resumed.push(resumedEntry_(entry));
  try {
    campaign.removeLabel(CAP_LABEL);
  } catch (e) {
    Logger.log(
      entry.campaign + ': resumed, but the label "' + CAP_LABEL + '" could not be removed (' +
        e.message + '); remove it by hand',
    );
  }
  return true;
}

function fail_(entry, summary, reason) {
  settle_(entry, 'skipped', reason);
  summary.skipped.push(publicEntry_(entry));
  Logger.log(entry.campaign + ': ' + entry.reason);
  return false;
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

/** An entry of `resumed` says why; the budget's own outcome is in applied/skipped/refused. */
function resumedEntry_(entry) {
  const e = publicEntry_(entry);
  e.reason = RESUME_REASON;
  return e;
}

function describe_(entry, apply) {
  const pct = changePct_(entry);
  const current = entry.currentMicros === null ? '?' : formatMicros_(entry.currentMicros);
  const change = pct === null ? 'n/a' : (pct > 0 ? '+' : '') + pct.toFixed(2) + '%';
  let verdict = {
    change: apply ? 'APPLY' : 'PREVIEW (would apply)',
    skipped: 'SKIPPED: ' + entry.reason,
    refused: 'REFUSED: ' + entry.reason,
    notFound: 'NOT FOUND in this account',
    pause: (apply ? 'PAUSE' : 'PREVIEW (would pause)') + ': cap reached, label "' + CAP_LABEL + '"',
  }[entry.status];
  if (entry.resume) {
    const how = RESUME_REASON;
    if (entry.status === 'change') {
      verdict = apply ? 'RESUME and APPLY: ' + how : 'PREVIEW (would resume and apply): ' + how;
    } else {
      verdict = (apply ? 'RESUME: ' : 'PREVIEW (would resume): ') + how + '; budget ' + verdict;
    }
  }
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
  const stops =
    s.paused.length || s.resumed.length
      ? '. ' + (s.outcome === 'applied' ? 'Paused ' : 'Would pause ') + s.paused.length +
        (s.outcome === 'applied' ? ', resumed ' : ', resume ') + s.resumed.length +
        ' campaign(s) (label "' + CAP_LABEL + '")'
      : '';
  Logger.log(
    head + counts + '. Plan ' + s.recommendationId + ' for ' + s.date + ', budget ' + s.budget +
      ' ' + s.currency + '; total of these campaigns ' + s.totalBefore + ' -> ' + s.totalAfter +
      '. ETag ' + s.etag + stops,
  );
}

// ---------------------------------------------------------------- performance upload (issue 21)

// GAQL columns, written as the CSV header under exactly these names: ppcopt reads them as its
// `google_ads_api` format (the names AdsApp.report rows are keyed by).
const PERFORMANCE_METRICS = [
  'metrics.cost_micros',
  'metrics.clicks',
  'metrics.impressions',
  'metrics.conversions',
  'metrics.conversions_value',
];
const CAMPAIGN_PERFORMANCE_FIELDS = [
  'segments.date',
  'customer.id',
  'customer.currency_code',
  'campaign.id',
  'campaign.name',
].concat(PERFORMANCE_METRICS, ['metrics.search_budget_lost_impression_share']);
const KEYWORD_PERFORMANCE_FIELDS = [
  'segments.date',
  'customer.id',
  'customer.currency_code',
  'campaign.id',
  'campaign.name',
  'ad_group.id',
  'ad_group.name',
  'ad_group_criterion.criterion_id',
  'ad_group_criterion.keyword.text',
  'ad_group_criterion.keyword.match_type',
].concat(PERFORMANCE_METRICS);
const UPLOAD_COLUMNS = KEYWORD_PERFORMANCE_FIELDS.concat([
  'metrics.search_budget_lost_impression_share',
]);

/** The first and last day to report: UPLOAD_DAYS days up to yesterday, in the account's zone. */
function uploadWindow_(config) {
  const today = Utilities.formatDate(config.now, AdsApp.currentAccount().getTimeZone(), 'yyyy-MM-dd');
  const day = (offset) => {
    const d = new Date(today + 'T00:00:00Z');
    d.setUTCDate(d.getUTCDate() + offset);
    return d.toISOString().slice(0, 10);
  };
  return { start: day(-config.uploadDays), end: day(-1) };
}

function performanceQuery_(fields, resource, window) {
  return (
    'SELECT ' + fields.join(', ') + ' FROM ' + resource + ' WHERE segments.date BETWEEN ' +
    gaqlString_(window.start) + ' AND ' + gaqlString_(window.end)
  );
}

/** AdsApp.report rows: flat objects keyed by the GAQL field names. */
function reportRows_(query) {
  const rows = [];
  const it = AdsApp.report(query).rows();
  while (it.hasNext()) rows.push(it.next());
  return rows;
}

/** The window's rows at the configured level, each a plain object keyed by GAQL field names. */
function readPerformance_(config, window) {
  if (config.uploadLevel !== 'campaign' && config.uploadLevel !== 'keyword') {
    throw new Error('UPLOAD_LEVEL must be "campaign" or "keyword", not "' + config.uploadLevel + '"');
  }
  const campaigns = reportRows_(performanceQuery_(CAMPAIGN_PERFORMANCE_FIELDS, 'campaign', window));
  if (config.uploadLevel === 'campaign') return campaigns;
  const keywords = reportRows_(performanceQuery_(KEYWORD_PERFORMANCE_FIELDS, 'keyword_view', window));
  const withKeywords = {};
  keywords.forEach((r) => (withKeywords[String(r['campaign.id'])] = true));
  return keywords.concat(campaigns.filter((r) => !withKeywords[String(r['campaign.id'])]));
}

function csvCell_(value) {
  const text = value === undefined || value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}

function performanceCsv_(rows) {
  const lines = [UPLOAD_COLUMNS.join(',')];
  rows.forEach((r) => lines.push(UPLOAD_COLUMNS.map((c) => csvCell_(r[c])).join(',')));
  return lines.join('\n') + '\n';
}

/**
 * POST the last days' performance to ppcopt (an idempotent upsert by entity and day). A failure
 * is logged and the run goes on with the plan ppcopt already has.
 */
function sendPerformance_(config) {
  let window;
  let rows;
  try {
    if (typeof AdsApp.report !== 'function') throw new Error('AdsApp.report is not available');
    window = uploadWindow_(config);
    rows = readPerformance_(config, window);
  } catch (e) {
    Logger.log('Performance not sent: could not read it with GAQL (' + e.message + ').');
    return { sent: false, message: e.message };
  }
  const url =
    config.baseUrl + '/v1/accounts/' + encodeURIComponent(config.account) +
    '/performance?format=google_ads_api';
  let response;
  try {
    response = UrlFetchApp.fetch(url, {
      method: 'post',
      contentType: 'text/csv; charset=utf-8',
      payload: performanceCsv_(rows),
      headers: { Authorization: 'Bearer ' + config.apiKey, Accept: 'application/json' },
      muteHttpExceptions: true,
    });
  } catch (e) {
    Logger.log('Performance not sent: could not reach ' + config.baseUrl + ': ' + e.message);
    return { sent: false, message: e.message };
  }
  const status = response.getResponseCode();
  const text = response.getContentText();
  if (status !== 200 && status !== 201) {
    const message = httpProblem_(status, text, config);
    Logger.log('Performance not accepted: ' + message);
    return { sent: false, httpStatus: status, message: message, start: window.start, end: window.end };
  }
  let answer = {};
  try {
    answer = JSON.parse(text);
  } catch (e) {
    answer = {};
  }
  Logger.log(
    'Performance sent: ' + rows.length + ' row(s), ' + window.start + ' to ' + window.end + '.',
  );
  return {
    sent: true,
    httpStatus: status,
    rows: rows.length,
    start: window.start,
    end: window.end,
    report: answer,
  };
}

// ---------------------------------------------------------------- platform structure (issue 21)

const STRUCTURE_CAMPAIGNS_GAQL =
  'SELECT campaign.id, campaign.name, campaign.bidding_strategy_type, campaign.bidding_strategy, ' +
  'campaign.target_cpa.target_cpa_micros, campaign.target_roas.target_roas, ' +
  'campaign.maximize_conversions.target_cpa_micros, ' +
  'campaign.maximize_conversion_value.target_roas, campaign_budget.id, campaign_budget.name, ' +
  'campaign_budget.amount_micros, campaign_budget.explicitly_shared ' +
  "FROM campaign WHERE campaign.status != 'REMOVED'";
const STRUCTURE_METRICS_GAQL =
  'SELECT campaign.id, metrics.search_budget_lost_impression_share, ' +
  'metrics.search_rank_lost_impression_share ' +
  "FROM campaign WHERE campaign.status != 'REMOVED' AND segments.date DURING ";
const STRUCTURE_PORTFOLIOS_GAQL =
  'SELECT bidding_strategy.id, bidding_strategy.type, ' +
  'bidding_strategy.target_cpa.target_cpa_micros, bidding_strategy.target_roas.target_roas, ' +
  'bidding_strategy.maximize_conversions.target_cpa_micros, ' +
  'bidding_strategy.maximize_conversion_value.target_roas FROM bidding_strategy';
const STRUCTURE_KEYWORDS_GAQL =
  'SELECT campaign.id, campaign.name, campaign.bidding_strategy_type, ad_group.id, ' +
  'ad_group.name, ad_group_criterion.criterion_id, ad_group_criterion.keyword.text, ' +
  'ad_group_criterion.keyword.match_type, ad_group_criterion.cpc_bid_micros ' +
  "FROM ad_group_criterion WHERE ad_group_criterion.type = 'KEYWORD' " +
  "AND ad_group_criterion.negative = FALSE AND ad_group_criterion.status != 'REMOVED' " +
  "AND ad_group.status != 'REMOVED' AND campaign.status != 'REMOVED'";
const KEYWORD_IDS_PER_SELECTOR = 5000;

/** Rows of a GAQL query (AdsApp.search: camelCase objects, int64 values as strings). */
function searchRows_(query) {
  const rows = [];
  const it = AdsApp.search(query);
  while (it.hasNext()) rows.push(it.next());
  return rows;
}

/** The last path segment of a resource name, e.g. customers/1/biddingStrategies/42 -> "42". */
function resourceId_(name) {
  return name ? String(name).split('/').pop() : '';
}

/** Read the account's structure with GAQL (see README: "Structure"). */
function readStructure_(config) {
  const lost = {};
  searchRows_(STRUCTURE_METRICS_GAQL + config.structureDateRange).forEach((r) => {
    lost[String(r.campaign.id)] = r.metrics || {};
  });
  const portfolios = {};
  searchRows_(STRUCTURE_PORTFOLIOS_GAQL).forEach((r) => {
    portfolios[String(r.biddingStrategy.id)] = r.biddingStrategy;
  });
  const campaigns = searchRows_(STRUCTURE_CAMPAIGNS_GAQL).map((r) => {
    const c = r.campaign;
    const budget = r.campaignBudget || {};
    const portfolioId = resourceId_(c.biddingStrategy);
    const scheme = portfolioId ? portfolios[portfolioId] || {} : c;
    const metrics = lost[String(c.id)] || {};
    return {
      campaign_id: String(c.id),
      campaign: c.name,
      budget_id: String(budget.id),
      budget_name: budget.name || '',
      budget_amount_micros: String(budget.amountMicros || '0'),
      budget_explicitly_shared: budget.explicitlyShared === true,
      bidding_strategy_type: portfolioId && scheme.type ? scheme.type : c.biddingStrategyType,
      portfolio_strategy_id: portfolioId,
      target_cpa_micros: targetCpaMicros_(scheme),
      target_roas: targetRoas_(scheme),
      search_budget_lost_impression_share: fraction_(metrics.searchBudgetLostImpressionShare),
      search_rank_lost_impression_share: fraction_(metrics.searchRankLostImpressionShare),
    };
  });
  const keywords = searchRows_(STRUCTURE_KEYWORDS_GAQL + ' LIMIT ' + config.maxStructureKeywords)
    .map((r) => ({
      campaign_id: String(r.campaign.id),
      campaign: r.campaign.name,
      ad_group_id: String(r.adGroup.id),
      ad_group: r.adGroup.name,
      keyword_id: String(r.adGroupCriterion.criterionId),
      keyword: r.adGroupCriterion.keyword.text,
      match_type: r.adGroupCriterion.keyword.matchType,
      bidding_strategy_type: r.campaign.biddingStrategyType,
      cpc_bid_micros: optionalText_(r.adGroupCriterion.cpcBidMicros),
    }));
  return { campaigns: campaigns, keywords: keywords };
}

function optionalText_(value) {
  return value === undefined || value === null ? null : String(value);
}

function targetCpaMicros_(scheme) {
  const t = (scheme.targetCpa && scheme.targetCpa.targetCpaMicros) ||
    (scheme.maximizeConversions && scheme.maximizeConversions.targetCpaMicros);
  return t ? String(t) : null;
}

function targetRoas_(scheme) {
  const t = (scheme.targetRoas && scheme.targetRoas.targetRoas) ||
    (scheme.maximizeConversionValue && scheme.maximizeConversionValue.targetRoas);
  return t ? Number(t) : null;
}

function fraction_(value) {
  return value === undefined || value === null || value === '' ? null : Number(value);
}

/**
 * PUT the structure to ppcopt. A failure is logged and the run goes on: the plan is still applied
 * (made with the structure ppcopt had before).
 */
function sendStructure_(config) {
  let body;
  try {
    if (typeof AdsApp.search !== 'function') throw new Error('AdsApp.search is not available');
    body = readStructure_(config);
  } catch (e) {
    Logger.log('Structure not sent: could not read it with GAQL (' + e.message + ').');
    return { sent: false, message: e.message };
  }
  const url =
    config.baseUrl + '/v1/accounts/' + encodeURIComponent(config.account) + '/structure';
  let response;
  try {
    response = UrlFetchApp.fetch(url, {
      method: 'put',
      contentType: 'application/json',
      payload: JSON.stringify(body),
      headers: { Authorization: 'Bearer ' + config.apiKey, Accept: 'application/json' },
      muteHttpExceptions: true,
    });
  } catch (e) {
    Logger.log('Structure not sent: could not reach ' + config.baseUrl + ': ' + e.message);
    return { sent: false, message: e.message };
  }
  const status = response.getResponseCode();
  const text = response.getContentText();
  if (status !== 200) {
    const message = httpProblem_(status, text, config);
    Logger.log('Structure not accepted: ' + message);
    return { sent: false, httpStatus: status, message: message };
  }
  const answer = JSON.parse(text);
  Logger.log(
    'Structure sent: ' + body.campaigns.length + ' campaign(s), ' + body.keywords.length +
      ' keyword(s), ' + (answer.changed ? 'changed' : 'unchanged since the last run') + '.',
  );
  return {
    sent: true,
    httpStatus: status,
    changed: answer.changed === true,
    campaigns: body.campaigns.length,
    keywords: body.keywords.length,
  };
}

/** The plan's shared budgets (one row each, set once), by budget id. */
function sharedBudgetIds_(rec) {
  const ids = {};
  (Array.isArray(rec.budgets) ? rec.budgets : []).forEach((b) => (ids[String(b.budget_id)] = b));
  return ids;
}

/**
 * One entry per shared budget of the plan: its amount is set once (never once per campaign), under
 * the same rules as a campaign's budget (change limit, total guard). Its campaigns' own lines are
 * skipped ("shares budget ...").
 */
function planSharedBudgets_(rec, entries, config, summary) {
  return (Array.isArray(rec.budgets) ? rec.budgets : []).map((b) => {
    const id = String(b.budget_id);
    const members = entries.filter((e) => e.sharedBudgetId === id);
    const entry = {
      campaign: 'shared budget "' + (b.budget_name || id) + '" (' + b.campaigns.join(', ') + ')',
      campaignId: 'budget:' + id,
      recommendedMicros: parseMicros_(b.recommended_spend, 'budgets.recommended_spend'),
      currentMicros: null,
      budget: null,
      status: null,
      reason: '',
      adsCampaign: null,
      paused: false,
      resume: false,
      shared: true,
    };
    if (members.length === 0) {
      return settle_(entry, 'skipped', 'none of its campaigns uses shared budget ' + id + ' here');
    }
    const budget = members[0].budget;
    entry.order = members[0].order + 0.5;
    entry.budget = budget;
    entry.currentMicros = Math.round(budget.getAmount() * MICROS);
    const outside = outsideCampaigns_(budget, b);
    if (outside > 0) {
      return settle_(
        entry,
        'skipped',
        'also spent by ' + outside + ' campaign(s) outside the plan; change it by hand',
      );
    }
    if (members.some((m) => m.status === 'pause')) {
      return settle_(entry, 'skipped', 'a campaign on it is being paused (cap reached)');
    }
    return checkChange_(entry, config);
  });
}

/** Campaigns on the budget that the plan's budget row does not name (0 when unknown). */
function outsideCampaigns_(budget, row) {
  if (typeof budget.campaigns !== 'function') return 0;
  const it = budget.campaigns().get();
  let outside = 0;
  while (it.hasNext()) {
    const c = it.next();
    if (row.campaign_ids.indexOf(String(c.getId())) < 0 && !c.isRemoved()) outside += 1;
  }
  return outside;
}

/**
 * The change rules every budget line obeys: 0, already there, a raise larger than the change
 * limit. Only raises are guarded: a cut never spends more, and finance must be able to cut to
 * the cap (bids and targets, which move spend either way, keep the limit both ways: tooLarge_).
 */
function checkChange_(entry, config) {
  if (entry.recommendedMicros <= 0) {
    return settle_(entry, 'skipped', 'recommended 0; change it by hand if intended');
  }
  if (entry.recommendedMicros === entry.currentMicros) {
    return settle_(entry, 'skipped', 'already at the recommended amount');
  }
  // Half a micro of slack: a raise of exactly MAX_CHANGE_FRACTION passes despite float error.
  const raise = entry.recommendedMicros - entry.currentMicros;
  if (raise > 0 && (entry.currentMicros <= 0 ||
      raise > config.maxChangeFraction * entry.currentMicros + 0.5)) {
    const pct = Math.round(config.maxChangeFraction * 100);
    return settle_(entry, 'refused', 'raise larger than ' + pct + '% (MAX_CHANGE_FRACTION)');
  }
  entry.status = 'change';
  return entry;
}

function changeLimit_(config) {
  const pct = Math.round(config.maxChangeFraction * 100);
  return 'change larger than ' + pct + '% (MAX_CHANGE_FRACTION)';
}

function tooLarge_(currentMicros, newMicros, config) {
  const delta = Math.abs(newMicros - currentMicros);
  return currentMicros <= 0 || delta > config.maxChangeFraction * currentMicros + 0.5;
}

/**
 * Smart Bidding targets: the plan suggests, beside the budget, the target CPA (or ROAS) matching
 * its marginal CPA (ROAS). Applied only with APPLY_BID_TARGETS (and APPLY), on the campaign's own
 * strategy (a portfolio strategy steers other campaigns too: never), within MAX_CHANGE_FRACTION.
 */
function applyBidTargets_(rows, entries, config, summary) {
  rows.forEach((row, i) => {
    const cpa = row.suggested_target_cpa;
    const roas = row.suggested_target_roas;
    if (cpa === undefined && roas === undefined) return;
    if ((cpa === null || cpa === undefined) && (roas === null || roas === undefined)) return;
    const e = entries[i];
    const kind = cpa !== null && cpa !== undefined ? 'target CPA' : 'target ROAS';
    const t = {
      campaign: row.campaign,
      kind: kind,
      current: null,
      suggested: null,
      status: '',
      reason: '',
    };
    summary.targets.push(t);
    const done = (status, reason) => {
      t.status = status;
      t.reason = reason;
      Logger.log(
        row.campaign + ': ' + kind + ' ' + (t.current === null ? '?' : t.current) + ' -> ' +
          t.suggested + ' ' + status.toUpperCase() + (reason ? ': ' + reason : ''),
      );
    };
    t.suggested = kind === 'target CPA' ? String(cpa) : Number(roas);
    if (!e || !e.adsCampaign) return done('skipped', 'campaign not found');
    if (row.portfolio_strategy_id) {
      return done(
        'advisory',
        'portfolio strategy ' + row.portfolio_strategy_id + '; change it in the shared library',
      );
    }
    const bidding = e.adsCampaign.bidding();
    const type = bidding.getStrategyType();
    if (type !== row.bidding_strategy_type) {
      return done(
        'skipped',
        'the campaign now bids with ' + type + ', the plan assumed ' + row.bidding_strategy_type,
      );
    }
    const isCpa = kind === 'target CPA';
    const current = isCpa ? bidding.getTargetCpa() : bidding.getTargetRoas();
    const currentMicros = Math.round((current || 0) * MICROS);
    const newMicros = isCpa
      ? parseMicros_(cpa, 'suggested_target_cpa')
      : Math.round(Number(roas) * MICROS);
    t.current = isCpa ? formatMicros_(currentMicros) : currentMicros / MICROS;
    if (!config.applyBidTargets) return done('suggested', 'set APPLY_BID_TARGETS = true to apply');
    if (newMicros === currentMicros) return done('skipped', 'already at the suggested target');
    if (tooLarge_(currentMicros, newMicros, config)) {
      return done('refused', changeLimit_(config));
    }
    if (!config.apply) return done('preview', 'would apply');
    try {
      if (isCpa) bidding.setTargetCpa(newMicros / MICROS);
      else bidding.setTargetRoas(newMicros / MICROS);
    } catch (err) {
      return done('failed', err.message);
    }
    return done('applied', '');
  });
}

/**
 * Keyword max CPCs from the keyword-level plan (same plan id), for keywords in manual or enhanced
 * CPC ad groups: each within MAX_CHANGE_FRACTION of its current bid, set with
 * keyword.bidding().setCpc() when APPLY. Rows without a bid stay advisory (their bid_note says
 * why).
 */
function applyKeywordBids_(config, summary) {
  let rec;
  try {
    rec = fetchRecommendation_(config, {}, 'keyword');
  } catch (e) {
    if (!(e instanceof Stop_)) throw e;
    Logger.log('Keyword bids not applied: ' + e.message);
    return;
  }
  if (rec.id !== summary.recommendationId) {
    Logger.log(
      'Keyword bids not applied: the keyword plan is ' + rec.id + ', not ' +
        summary.recommendationId + '.',
    );
    return;
  }
  const wanted = rec.rows.filter((r) => r.recommended_cpc_bid && r.keyword_id && r.ad_group_id);
  const advisory = rec.rows.length - wanted.length;
  const found = findKeywords_(wanted.map((r) => [Number(r.ad_group_id), Number(r.keyword_id)]));
  wanted.forEach((row) => {
    const k = { campaign: row.campaign, adGroup: row.ad_group, keyword: row.keyword, current: null,
      recommended: row.recommended_cpc_bid, status: '', reason: '' };  // prettier-ignore
    summary.keywordBids.push(k);
    const done = (status, reason) => {
      k.status = status;
      k.reason = reason;
      Logger.log(
        row.campaign + ' / ' + row.ad_group + ' / ' + row.keyword + ': max CPC ' +
          (k.current === null ? '?' : k.current) + ' -> ' + k.recommended + ' ' +
          status.toUpperCase() + (reason ? ': ' + reason : ''),
      );
    };
    const keyword = found[row.ad_group_id + '~' + row.keyword_id];
    if (!keyword) return done('skipped', 'keyword not found');
    const currentMicros = Math.round((keyword.bidding().getCpc() || 0) * MICROS);
    const newMicros = parseMicros_(row.recommended_cpc_bid, 'recommended_cpc_bid');
    k.current = formatMicros_(currentMicros);
    if (newMicros === currentMicros) return done('skipped', 'already at the recommended bid');
    if (tooLarge_(currentMicros, newMicros, config)) {
      return done('refused', changeLimit_(config));
    }
    if (!config.apply) return done('preview', 'would apply');
    try {
      keyword.bidding().setCpc(newMicros / MICROS);
    } catch (err) {
      return done('failed', err.message);
    }
    return done('applied', '');
  });
  Logger.log(
    'Keyword bids: ' + summary.keywordBids.filter((k) => k.status === 'applied').length +
      ' applied of ' + wanted.length + '; ' + advisory + ' keyword row(s) advisory (see bid_note).',
  );
}

/** Keywords by "adGroupId~keywordId"; keyword IDs are [ad group ID, keyword ID] pairs. */
function findKeywords_(pairs) {
  const out = {};
  for (let i = 0; i < pairs.length; i += KEYWORD_IDS_PER_SELECTOR) {
    const it = AdsApp.keywords().withIds(pairs.slice(i, i + KEYWORD_IDS_PER_SELECTOR)).get();
    while (it.hasNext()) {
      const k = it.next();
      out[String(k.getAdGroup().getId()) + '~' + String(k.getId())] = k;
    }
  }
  return out;
}

if (typeof module !== 'undefined') {
  module.exports = {
    main: main,
    parseMicros_: parseMicros_,
    nextDay_: nextDay_,
    capReached_: capReached_,
    readStructure_: readStructure_,
    performanceCsv_: performanceCsv_,
    uploadWindow_: uploadWindow_,
    CAP_LABEL: CAP_LABEL,
  };
}
