// Drives Debian's headless chromium for tests/integration/test_console.py.
// One JSON request a line on stdin, one JSON answer a line on stdout:
//   {"id": 1, "cmd": "open", "page": "p1", "url": "...", "width": 1280, "height": 900}
//   {"id": 2, "cmd": "wait", "page": "p1", "js": "<expression>", "ms": 20000}
//   {"id": 3, "cmd": "click", "page": "p1", "selector": "..."}
//   {"id": 4, "cmd": "eval", "page": "p1", "js": "<expression>"}
//   {"id": 5, "cmd": "screenshot", "page": "p1", "path": "...", "fullPage": true}
//   {"id": 6, "cmd": "close"}
// Answers: {"id": 1, "ok": true, "value": ...} or {"id": 1, "ok": false, "error": "..."}.
// The python side owns the broker, the daemon and websockify, and decides
// what happens when; this file only works the browser.
import readline from 'node:readline';
import puppeteer from 'puppeteer-core';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const browser = await puppeteer.launch({
	executablePath: CHROMIUM,
	headless: true,
	// --no-sandbox: the tests run as root, where chromium's sandbox refuses to start
	args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--lang=zh-CN,en',
		// several pages are open at once; none may be throttled as a background tab
		'--disable-background-timer-throttling', '--disable-renderer-backgrounding',
		'--disable-backgrounding-occluded-windows'],
});
const pages = new Map();
const logs = new Map();

function send(obj) {
	process.stdout.write(JSON.stringify(obj) + '\n');
}

/* The page re-renders a list when a message arrives: an element found a moment
 * ago may be replaced before the click lands. A person would just click the new
 * one, so look it up again (a few times, briefly). */
async function again(act) {
	for (let i = 0; ; i++) {
		try {
			return await act();
		} catch (e) {
			const msg = String(e && e.message || e);
			if (i >= 9 || !/detached|not clickable|not an Element|No node found/.test(msg))
				throw e;
			await new Promise((r) => setTimeout(r, 100));
		}
	}
}

async function handle(req) {
	const page = pages.get(req.page);
	if (page && req.cmd !== 'log') await page.bringToFront();
	switch (req.cmd) {
	case 'open': {
		const p = pages.get(req.page) || await browser.newPage();
		pages.set(req.page, p);
		logs.set(req.page, []);
		p.on('console', (m) => logs.get(req.page).push(m.type() + ': ' + m.text()));
		p.on('pageerror', (e) => logs.get(req.page).push('pageerror: ' + e.message));
		await p.setViewport({width: req.width || 1280, height: req.height || 900,
			deviceScaleFactor: req.scale || 1, isMobile: !!req.mobile, hasTouch: !!req.mobile});
		await p.goto(req.url, {waitUntil: 'load', timeout: 30000});
		return p.url();
	}
	case 'wait':
		await page.waitForFunction(req.js, {timeout: req.ms || 20000, polling: 100});
		return page.evaluate(req.js);
	case 'click':
		await again(() => page.click(req.selector));
		return true;
	case 'type':
		await again(() => page.type(req.selector, req.text));
		return true;
	case 'eval':
		return page.evaluate(req.js);
	case 'screenshot':
		await page.screenshot({path: req.path, fullPage: req.fullPage !== false});
		return req.path;
	case 'log':
		return logs.get(req.page) || [];
	case 'close':
		await browser.close();
		setTimeout(() => process.exit(0), 10);
		return true;
	default:
		throw new Error('unknown cmd ' + req.cmd);
	}
}

send({ready: true, version: await browser.version()});
const rl = readline.createInterface({input: process.stdin});
for await (const line of rl) {
	if (!line.trim()) continue;
	let req;
	try {
		req = JSON.parse(line);
	} catch (e) {
		send({ok: false, error: 'bad json: ' + e.message});
		continue;
	}
	try {
		send({id: req.id, ok: true, value: await handle(req)});
	} catch (e) {
		send({id: req.id, ok: false, error: String(e && e.stack || e)});
	}
}
await browser.close().catch(() => {});
