/**
 * ppc-budget-optimizer for Microsoft Advertising: report the last days' performance to ppcopt,
 * then apply the latest published campaign budgets.
 *
 * Paste into Microsoft Advertising > Tools > Scripts, fill in the constants, preview (APPLY =
 * false), read the log, then set APPLY = true and schedule it daily. A single file by necessity:
 * Microsoft Advertising scripts cannot import modules, so the little this shares with the Google
 * Ads script (HTTP, micros, the plan checks) is repeated here; see README.md for what is missing
 * compared with the Google Ads script and why.
 */

const BASE_URL = 'https://ppcopt.example.com';
const API_KEY = 'paste-your-api-key-here';
const ACCOUNT = 'acme';
const APPLY = false;
const MAX_CHANGE_FRACTION = 0.3;
// Report the last UPLOAD_DAYS days (up to yesterday) before pulling the plan; a day sent again
// with more conversions replaces the stored one (conversion lag); 30 covers the default conversion
// window, and a day older than the window keeps what it had then. First run: raise it once.
const SEND_PERFORMANCE = true;
const UPLOAD_DAYS = 30;

const MICROS = 1000000;
// Microsoft Advertising Reporting API column names; ppcopt reads them as its microsoft_ads format.
const REPORT_COLUMNS = [
  'TimePeriod',
  'AccountId',
  'CurrencyCode',
  'CampaignId',
  'CampaignName',
  'Spend',
  'Clicks',
  'Impressions',
  'Conversions',
  'Revenue',
];

function main(overrides) {
  const o = overrides || {};
  const pick = (key, fallback) => (o[key] === undefined ? fallback : o[key]);
  const config = {
    baseUrl: String(pick('baseUrl', BASE_URL)).replace(/\/+$/, ''),
    apiKey: pick('apiKey', API_KEY),
    account: pick('account', ACCOUNT),
    apply: pick('apply', APPLY) === true,
    maxChangeFraction: Number(pick('maxChangeFraction', MAX_CHANGE_FRACTION)),
    sendPerformance: pick('sendPerformance', SEND_PERFORMANCE) === true,
    uploadDays: Number(pick('uploadDays', UPLOAD_DAYS)),
    now: pick('now', null) || new Date(),
  };
  const summary = { outcome: 'error', message: '', performance: null, applied: [], skipped: [] };
  if (config.sendPerformance) summary.performance = sendPerformance_(config);
  try {
    applyPlan_(config, summary);
  } catch (e) {
    if (!(e instanceof Stop_)) throw e;
    summary.outcome = e.outcome;
    summary.message = e.message;
  }
  Logger.log('ppcopt: ' + summary.outcome + (summary.message ? ' (' + summary.message + ')' : ''));
  return summary;
}

function Stop_(outcome, message) {
  this.outcome = outcome;
  this.message = message;
}

function call_(config, method, path, contentType, payload) {
  const params = {
    method: method,
    headers: { Authorization: 'Bearer ' + config.apiKey, Accept: 'application/json' },
    muteHttpExceptions: true,
  };
  if (contentType) params.contentType = contentType;
  if (payload !== undefined) params.payload = payload;
  return UrlFetchApp.fetch(config.baseUrl + path, params);
}

function accountPath_(config) {
  return '/v1/accounts/' + encodeURIComponent(config.account);
}

function today_(config) {
  return Utilities.formatDate(config.now, AdsApp.currentAccount().getTimeZone(), 'yyyy-MM-dd');
}

function shiftDay_(isoDate, days) {
  const d = new Date(isoDate + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

// ---------------------------------------------------------------- performance upload

/** The report query: daily rows of CampaignPerformanceReport over the window (YYYY-MM-DD dates). */
function performanceQuery_(start, end) {
  return (
    'SELECT ' + REPORT_COLUMNS.join(', ') + ' FROM CampaignPerformanceReport DURING ' +
    start + ',' + end
  );
}

function csvCell_(value) {
  const text = value === undefined || value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}

function sendPerformance_(config) {
  let rows;
  let start;
  let end;
  try {
    if (typeof AdsApp.report !== 'function') throw new Error('AdsApp.report is not available');
    const today = today_(config);
    start = shiftDay_(today, -config.uploadDays);
    end = shiftDay_(today, -1);
    rows = [];
    const it = AdsApp.report(performanceQuery_(start, end)).rows();
    while (it.hasNext()) rows.push(it.next());
  } catch (e) {
    Logger.log('Performance not sent: could not read the report (' + e.message + ').');
    return { sent: false, message: e.message };
  }
  const lines = [REPORT_COLUMNS.join(',')];
  rows.forEach((r) => lines.push(REPORT_COLUMNS.map((c) => csvCell_(r[c])).join(',')));
  let response;
  try {
    response = call_(
      config,
      'post',
      accountPath_(config) + '/performance?format=microsoft_ads',
      'text/csv; charset=utf-8',
      lines.join('\n') + '\n',
    );
  } catch (e) {
    Logger.log('Performance not sent: could not reach ' + config.baseUrl + ': ' + e.message);
    return { sent: false, message: e.message };
  }
  const status = response.getResponseCode();
  if (status !== 200) {
    Logger.log('Performance not accepted: HTTP ' + status + ': ' + response.getContentText());
    return { sent: false, httpStatus: status, start: start, end: end };
  }
  Logger.log('Performance sent: ' + rows.length + ' row(s), ' + start + ' to ' + end + '.');
  return {
    sent: true,
    httpStatus: status,
    rows: rows.length,
    start: start,
    end: end,
    report: JSON.parse(response.getContentText()),
  };
}

// ---------------------------------------------------------------- applying the plan

/** Decimal string -> integer micros, without passing through a float. */
function parseMicros_(value) {
  const m = /^(\d+)(?:\.(\d{1,6}))?$/.exec(String(value));
  if (!m) throw new Stop_('error', 'Not an amount: "' + value + '".');
  return Number(m[1]) * MICROS + Number(((m[2] || '') + '000000').slice(0, 6));
}

function applyPlan_(config, summary) {
  const response = call_(
    config,
    'get',
    accountPath_(config) + '/recommendations/latest?level=campaign&format=json',
  );
  const status = response.getResponseCode();
  if (status === 404) throw new Stop_('no_plan', 'no plan is published for this account yet');
  if (status !== 200) throw new Stop_('error', 'HTTP ' + status + ': ' + response.getContentText());
  const rec = JSON.parse(response.getContentText());
  if (rec.level !== 'campaign' || !Array.isArray(rec.rows)) {
    throw new Stop_('error', 'not a campaign-level plan');
  }
  if (rec.cap && rec.cap.status !== 'approved') throw new Stop_('error', 'the cap is not approved');
  const account = AdsApp.currentAccount();
  if (rec.currency && account.getCurrencyCode() !== rec.currency) {
    throw new Stop_('error', 'the plan is in ' + rec.currency + ', the account is not');
  }
  const today = today_(config);
  if (rec.date !== today && rec.date !== shiftDay_(today, 1)) {
    throw new Stop_('error', 'the latest plan is for ' + rec.date + ', today is ' + today);
  }
  const budgetMicros = parseMicros_(rec.budget);
  const changes = [];
  let total = 0;
  rec.rows.forEach((row) => {
    const target = parseMicros_(row.recommended_spend);
    total += target;
    const it = AdsApp.campaigns()
      .withCondition("Name = '" + String(row.campaign).replace(/'/g, "\\'") + "'")
      .get();
    const found = [];
    while (it.hasNext()) found.push(it.next());
    if (found.length !== 1) {
      summary.skipped.push({ campaign: row.campaign, reason: found.length + ' campaigns found' });
      return;
    }
    const budget = found[0].getBudget();
    const current = Math.round(budget.getAmount() * MICROS);
    if (target > current && target > current * (1 + config.maxChangeFraction)) {
      summary.skipped.push({ campaign: row.campaign, reason: 'raise over MAX_CHANGE_FRACTION' });
      return;
    }
    changes.push({ campaign: row.campaign, budget: budget, micros: target });
  });
  if (total > budgetMicros) throw new Stop_('error', 'the plan adds up to more than its budget');
  changes.forEach((c) => {
    if (config.apply) c.budget.setAmount(c.micros / MICROS);
    summary.applied.push({ campaign: c.campaign, amount: c.micros / MICROS });
  });
  summary.outcome = config.apply ? 'applied' : 'preview';
}

if (typeof module !== 'undefined') {
  module.exports = { main: main, performanceQuery_: performanceQuery_, parseMicros_: parseMicros_ };
}
