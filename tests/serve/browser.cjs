// browser.cjs - the approvals inbox in a real browser: Debian's headless
// Chromium driven by puppeteer-core (one browser for the whole suite).
//   node browser.cjs CONFIG.json      (browser.sh writes it and starts the server)
// A person signs in, sees a request appear live, opens it, approves, and
// watches the run resume and finish; a second tenant sees nothing; a forged
// cross-site form and a cross-site fetch answer nothing; a request whose
// text is HTML and script is shown as text and runs nothing; the pages work
// from the keyboard and on a phone's width. Screenshots go to cfg.artifacts.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const puppeteer = require(path.join(cfg.node_modules, 'puppeteer-core'));
let checks = 0;
function expect(cond, what) {
  if (!cond) throw new Error('FAIL: ' + what);
  checks++;
}
async function api(method, p, token, body) {
  const r = await fetch(cfg.url + p, {
    method,
    headers: Object.assign({Authorization: 'Bearer ' + token}, body ? {'Content-Type': 'application/json'} : {}),
    body: body ? JSON.stringify(body) : undefined,
  });
  return {status: r.status, doc: await r.json()};
}
async function waitFor(what, fn, ms = 30000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('FAIL: timed out waiting for ' + what);
}
async function pendingOf(runId, token = cfg.tokens.approver) {
  const {doc} = await api('GET', '/v1/approvals', token);
  return doc.approvals.filter((q) => q.run_id === runId);
}
async function submit(procedure, inputs) {
  const {status, doc} = await api('POST', '/v1/runs', cfg.tokens.submitter, {procedure, inputs: inputs || {}});
  expect(status === 201, 'submit ' + procedure + ': ' + status);
  return doc.run_id;
}
async function shot(page, name) {
  await page.screenshot({path: path.join(cfg.artifacts, name + '.png'), fullPage: true});
}
async function signIn(page, token) {
  await page.goto(cfg.url + '/');
  expect(page.url().endsWith('/ui/login'), 'an anonymous visitor is sent to sign in: ' + page.url());
  // keyboard only: the token field takes the focus by itself, Enter submits
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'token');
  await page.keyboard.type(token);
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  expect(new URL(page.url()).pathname === '/', 'signed in, on the inbox: ' + page.url());
}

(async () => {
  fs.mkdirSync(cfg.artifacts, {recursive: true});
  const browser = await puppeteer.launch({
    executablePath: cfg.chromium,
    headless: true,
    args: ['--no-sandbox', '--no-proxy-server', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  // The attacker's site: another origin, whose page posts to the server.
  let forged = '';
  const evil = http.createServer((req, res) => {
    res.writeHead(200, {'Content-Type': 'text/html'});
    res.end(forged);
  });
  await new Promise((r) => evil.listen(0, '127.0.0.1', r));
  const evilUrl = 'http://127.0.0.1:' + evil.address().port + '/';
  try {
    const alice = await browser.newPage();
    const pageErrors = [];
    alice.on('pageerror', (e) => pageErrors.push(String(e)));
    await signIn(alice, cfg.tokens.approver);
    const cookies = await alice.cookies();
    const session = cookies.find((c) => c.name === 'tactus_session');
    expect(session && session.httpOnly && session.sameSite === 'Strict', 'the session cookie is HttpOnly and SameSite=Strict');
    await alice.waitForSelector('body[data-live="yes"]');
    await shot(alice, '01-inbox-empty');

    // A run asks; the request appears on the open page, without a reload.
    const run = await submit('gate.tac', {release: '9.9'});
    await alice.waitForFunction(
      () => Array.from(document.querySelectorAll('#pending li')).some((li) => li.textContent.includes('Ship release 9.9?')),
      {timeout: 30000});
    expect((await alice.$eval('#pending-count', (e) => e.textContent)) >= '1', 'the count is live');
    await shot(alice, '02-inbox-live');

    // Open it from the keyboard: Tab to its link, Enter.
    for (let i = 0; i < 15; i++) {
      const href = await alice.evaluate(() => document.activeElement && document.activeElement.getAttribute('href'));
      if (href && href.startsWith('/ui/approvals/' + run)) break;
      await alice.keyboard.press('Tab');
    }
    await Promise.all([alice.waitForNavigation(), alice.keyboard.press('Enter')]);
    expect(alice.url().includes('/ui/approvals/' + run), 'opened the request with the keyboard: ' + alice.url());
    expect((await alice.$eval('#message', (e) => e.textContent)) === 'Ship release 9.9?', 'the message');
    expect(JSON.parse(await alice.$eval('#inputs', (e) => e.textContent)).release === '9.9', 'the run\'s inputs');
    expect((await alice.$eval('main', (e) => e.textContent)).includes('gate.tac'), 'the run\'s procedure');
    expect((await alice.$eval('main', (e) => e.textContent)).includes('then the default applies'), 'the timeout and its default');
    await shot(alice, '03-request');

    // The forged cross-site form (the attacker even knows the hash), and a
    // cross-site fetch with the person's cookies: nothing is answered.
    const [q] = await pendingOf(run);
    forged = `<!doctype html><form id=f method=post action="${cfg.url}/ui/approvals/${q.request_id}">` +
      `<input name=csrf value="${'0'.repeat(64)}"><input name=request_hash value="${q.request_hash}">` +
      `<input name=decision value=approve></form><script>` +
      `fetch(${JSON.stringify(cfg.url + '/v1/approvals/' + q.request_id)}, {method: 'POST', mode: 'no-cors', credentials: 'include',` +
      ` headers: {'Content-Type': 'text/plain'}, body: JSON.stringify({approved: true, request_hash: ${JSON.stringify(q.request_hash)}})})` +
      `.finally(() => document.getElementById('f').submit());</script>`;
    const victim = await browser.newPage();
    const forgedReply = victim.waitForResponse((r) => r.url().includes('/ui/approvals/') && r.request().method() === 'POST');
    await victim.goto(evilUrl);
    const fr = await forgedReply;
    expect(fr.status() === 403, 'the forged form is refused: ' + fr.status());
    await new Promise((r) => setTimeout(r, 500));
    expect((await pendingOf(run)).length === 1, 'the forged requests answered nothing');
    await victim.close();

    // Approve; the page shows who and when, then the run resumes and finishes live.
    await Promise.all([alice.waitForNavigation(), alice.click('#approve')]);
    expect((await alice.$eval('#request-status', (e) => e.textContent)) === 'answered', 'answered');
    expect((await alice.$eval('#answered-by', (e) => e.textContent)) === 'alice', 'answered by the token\'s person');
    await alice.waitForFunction(() => document.getElementById('run-status').textContent === 'completed', {timeout: 30000});
    expect((await alice.$$eval('#run-events li', (l) => l.map((e) => e.textContent).join('\n'))).includes('host.echo'),
      'the run\'s events after the answer are shown live');
    const positions = await alice.$$eval('#run-events li', (l) => l.map((e) => e.dataset.position));
    expect(new Set(positions).size === positions.length, 'each event is listed once: ' + positions);
    await shot(alice, '04-answered-completed');
    const {doc: done} = await api('GET', '/v1/runs/' + run, cfg.tokens.approver);
    expect(done.status === 'completed' && done.output.approved === true, 'the run took the approved path');

    // The inbox lists the answered request: who and when.
    await alice.goto(cfg.url + '/');
    const answeredRow = await alice.$$eval('table.answered tbody tr', (rows) => rows.map((r) => r.textContent));
    expect(answeredRow.some((t) => t.includes(run + '.1') && t.includes('alice') && t.includes('true')),
      'the inbox lists the answer with who: ' + answeredRow.join(' | '));
    expect(await alice.$eval('table.answered time', (e) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/.test(e.textContent)),
      'and when');

    // Text from a procedure is shown as text and runs nothing.
    const xss = await submit('xss.tac');
    await waitFor('the xss request', async () => (await pendingOf(xss)).length === 1);
    const [x] = await pendingOf(xss);
    await alice.goto(cfg.url + '/');
    await alice.waitForSelector('body[data-live="yes"]');
    await alice.goto(cfg.url + '/ui/approvals/' + x.request_id);
    const msg = await alice.$eval('#message', (e) => e.textContent);
    expect(msg === x.message && msg.includes('<script>') && msg.includes('onerror='), 'the message is shown as its text');
    expect(await alice.evaluate(() => document.body.dataset.pwned === undefined), 'no script of the message ran');
    expect((await alice.$$('main img, main script, main b')).length === 0, 'no element came from the message');
    await alice.goto(cfg.url + '/');
    await alice.waitForSelector('body[data-live="yes"]');
    expect(await alice.evaluate(() => document.body.dataset.pwned === undefined), 'nothing ran on the live inbox');
    expect((await alice.$$('#pending img, #pending script, #pending b')).length === 0, 'the live list made no element of it');
    await shot(alice, '05-xss-as-text');

    // A tool approval shows the exact tool and arguments that would run.
    const dep = await submit('deploy.tac', {target: 'staging'});
    await waitFor('the tool approval', async () => (await pendingOf(dep)).length === 1);
    const [t] = await pendingOf(dep);
    await alice.goto(cfg.url + '/ui/approvals/' + t.request_id);
    expect((await alice.$eval('#tool', (e) => e.textContent)) === 'host.deploy', 'the tool');
    expect(JSON.parse(await alice.$eval('#tool-args', (e) => e.textContent)).line === 'v2 to staging', 'its arguments');
    await shot(alice, '055-tool-approval');
    await Promise.all([alice.waitForNavigation(), alice.click('#deny')]);
    expect((await alice.$eval('#answer', (e) => e.textContent)) === 'false', 'denied from the page');

    // The forms of the other kinds: a select, a text input, a review with an edited artifact.
    const kinds = await submit('kinds.tac');
    async function openPending(kind) {
      await waitFor('the ' + kind, async () => (await pendingOf(kinds)).some((q) => q.kind === kind));
      const [q] = await pendingOf(kinds);
      await alice.goto(cfg.url + '/ui/approvals/' + q.request_id);
      return q;
    }
    await openPending('select');
    await alice.click('label.option:nth-of-type(2) input'); // "green"
    await Promise.all([alice.waitForNavigation(), alice.click('#submit')]);
    expect((await alice.$eval('#answer', (e) => e.textContent)) === '"green"', 'the select answered from the page');
    await openPending('input');
    await alice.type('#value', 'Aurora <b>borealis</b>');
    await Promise.all([alice.waitForNavigation(), alice.click('#submit')]);
    expect((await alice.$eval('#answer', (e) => e.textContent)) === '"Aurora <b>borealis</b>"', 'the input answered as typed');
    await openPending('review');
    expect((await alice.$eval('#edited', (e) => e.value)) === 'draft notes', 'the review shows the artifact to edit');
    await alice.select('#decision', 'Approve');
    await alice.$eval('#edited', (e) => { e.value = ''; });
    await alice.type('#edited', 'final notes');
    await alice.type('#feedback', 'looks good');
    await Promise.all([alice.waitForNavigation(), alice.click('#submit')]);
    const {doc: k} = await waitFor('kinds to finish', async () => {
      const r = await api('GET', '/v1/runs/' + kinds, cfg.tokens.approver);
      return r.doc.status === 'completed' ? r : null;
    });
    expect(k.output.color === 'green' && k.output.name === 'Aurora <b>borealis</b>' && k.output.decision === 'Approve' &&
      k.output.edited === 'final notes', 'every form\'s answer reached the procedure: ' + JSON.stringify(k.output));

    // A second tenant's token sees nothing of the first's.
    const ctx = await browser.createBrowserContext();
    const mallory = await ctx.newPage();
    await signIn(mallory, cfg.tokens.other);
    await mallory.waitForSelector('body[data-live="yes"]');
    expect((await mallory.$eval('#pending-count', (e) => e.textContent)) === '0', 'another tenant sees no request');
    expect(!(await mallory.content()).includes(x.request_id), 'another tenant sees no id');
    const r404 = await mallory.goto(cfg.url + '/ui/approvals/' + x.request_id);
    expect(r404.status() === 404, 'another tenant opening the request: ' + r404.status());
    await shot(mallory, '06-other-tenant');
    await ctx.close();

    // A phone: nothing wider than the screen.
    await alice.setViewport({width: 390, height: 844, isMobile: true});
    await alice.goto(cfg.url + '/ui/approvals/' + x.request_id);
    expect(await alice.evaluate(() => document.documentElement.scrollWidth <= 391), 'readable on a phone: no sideways scroll');
    await shot(alice, '07-phone');
    // Signing out ends the session: the old cookie no longer reads anything.
    const old = (await alice.cookies()).find((c) => c.name === 'tactus_session').value;
    await alice.goto(cfg.url + '/');
    await Promise.all([alice.waitForNavigation(), alice.click('form.logout button')]);
    expect(alice.url().endsWith('/ui/login'), 'signed out: ' + alice.url());
    const stale = await fetch(cfg.url + '/v1/approvals', {headers: {Cookie: 'tactus_session=' + old}});
    expect(stale.status === 401, 'the signed-out session reads nothing: ' + stale.status);
    expect(pageErrors.length === 0, 'no script errors: ' + pageErrors.join('; '));
    console.log(`browser: ${checks} checks passed; screenshots in ${cfg.artifacts}`);
  } finally {
    evil.close();
    await browser.close();
  }
})().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
