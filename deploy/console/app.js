/* sealbridge console: a static page that speaks MQTT over WebSockets (MQTT.js,
 * through websockify to Mosquitto's TCP listener). Everything it shows comes
 * from the daemon's topics; everything it does goes through the command topics.
 * The broker's ACL, not this page, decides what a login may read and send. */
'use strict';

(function () {
	const HISTORY_HOURS = 6;
	const HOUSEHOLD_ROWS = 300;
	const HISTORY_KEEP_MS = 24 * 3600e3;
	const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
	const LEVELS = ['community', 'street', 'district'];

	const $ = (id) => document.getElementById(id);
	const el = (tag, attrs, ...kids) => {
		const e = document.createElement(tag);
		for (const [k, v] of Object.entries(attrs || {})) {
			if (v === undefined || v === null) continue;
			if (k === 'class') e.className = v;
			else if (k.startsWith('data-') || k === 'title' || k === 'type') e.setAttribute(k, v);
			else e[k] = v;
		}
		for (const c of kids) e.append(c === null || c === undefined ? '' : c);
		return e;
	};

	/* ------------------------------------------------------------ state */
	const S = {
		client: null,
		opts: null,       // connection settings; the password lives only here
		root: 'seal',
		user: '',
		unit: null,       // {level, id}
		access: false,    // the broker let this login read the unit's stats or alerts
		households: new Map(),
		alerts: new Map(),   // alert_id -> merged alert
		closed: [],
		closedIds: new Set(), // alert ids never repeat: a closed one stays closed
		stats: new Map(),    // "level/id" -> stats message
		seals: new Map(),
		placeOf: new Map(),  // "community/c-1" -> "street/st-1", "street/st-1" -> "district/d-1"
		labels: new Map(),   // household_id -> address, kept after release (collection worklist)
		pending: new Map(),  // request_id -> {alert_id, action}
		seq: 0,
		session: Math.random().toString(36).slice(2, 10),
		sound: false,
	};

	/* ----------------------------------------------------------- helpers */
	function fmtTime(iso, relOnly) {
		if (!iso) return '—';
		const d = new Date(iso);
		if (isNaN(d)) return String(iso);
		const now = Date.now(), ms = now - d.getTime();
		const rel = ms < 60e3 ? Math.max(0, Math.round(ms / 1e3)) + ' s ago'
			: ms < 3600e3 ? Math.round(ms / 60e3) + ' min ago'
			: ms < 86400e3 ? Math.round(ms / 3600e3) + ' h ago'
			: Math.round(ms / 86400e3) + ' d ago';
		const sameDay = new Date(now).toDateString() === d.toDateString();
		const abs = sameDay ? d.toLocaleTimeString([], {hour: '2-digit', minute: '2-digit'})
			: d.toLocaleString([], {month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit'});
		return relOnly ? rel : abs + ' (' + rel + ')';
	}
	const unitKey = (u) => u ? u.level + '/' + u.id : '';
	function parseUnit(s) {
		const m = /^(community|street|district)\/([A-Za-z0-9_-]{1,64})$/.exec(s || '');
		return m ? {level: m[1], id: m[2]} : null;
	}
	const typeLabel = (t) => String(t || '').replace(/_/g, ' ');
	function inUnit(obj, unit) {
		if (!unit || !obj) return false;
		return obj[unit.level + '_id'] === unit.id;
	}

	function setLink(state, text) {
		const l = $('link');
		l.dataset.link = state;
		l.className = 'link link-' + state;
		l.textContent = text;
	}

	/* --------------------------------------------------------- URL, login */
	function readUrl() {
		const p = new URLSearchParams(location.search);
		const r = {
			unit: parseUnit(p.get('unit')),
			user: p.get('user') || '',
			password: p.get('password'),
			broker: p.get('broker') || '',
			root: p.get('root') || '',
		};
		if (p.has('password')) {
			// A kiosk URL may carry the password once; it must not stay in the
			// address bar or the history.
			p.delete('password');
			const q = p.toString();
			history.replaceState(null, '', location.pathname + (q ? '?' + q : '') + location.hash);
		}
		return r;
	}

	function defaultBroker() {
		return (location.protocol === 'https:' ? 'wss://' : 'ws://') + (location.host || '127.0.0.1:8080') + '/';
	}

	function replyTopic() {
		// The deploy ACL lets a login read seal/reply/<user>/#; an anonymous
		// broker (scripts/run.sh) has no user, so take a name of our own.
		const who = ID_RE.test(S.user) ? S.user : 'console-' + S.session;
		return S.root + '/reply/' + who + '/console/' + S.session;
	}

	function connect(opts) {
		S.opts = opts;
		S.root = opts.root || 'seal';
		S.user = opts.user || '';
		if (S.client) { S.client.end(true); S.client = null; }
		$('login').hidden = true;
		$('bar').hidden = false;
		$('main').hidden = false;
		$('who').textContent = S.user ? 'logged in as ' + S.user : 'no login';
		setLink('connecting', 'Connecting to the broker…');
		const client = mqtt.connect(opts.broker || defaultBroker(), {
			protocolVersion: 5,
			clientId: 'console-' + S.session,
			username: opts.user || undefined,
			password: opts.password || undefined,
			clean: true,
			keepalive: 20,
			reconnectPeriod: 2000,
			connectTimeout: 10000,
			resubscribe: false, // we subscribe again ourselves on every connect
			// websockify accepts only the "binary" subprotocol
			createWebsocket: (url) => new WebSocket(url, ['binary']),
		});
		S.client = client;
		let everConnected = false, refused = '';
		const lost = () => refused ? 'The broker refused this login (' + refused + ') — retrying'
			: (everConnected ? 'Lost the broker' : 'Cannot reach the broker') + ' — reconnecting by itself…';
		client.on('connect', () => {
			everConnected = true;
			refused = '';
			setLink('up', 'Connected to the broker');
			subscribe();
		});
		client.on('reconnect', () => { if (client === S.client) setLink('down', lost()); });
		client.on('close', () => { if (client === S.client) setLink('down', lost()); });
		client.on('error', (err) => {
			const code = err && err.code;
			// CONNACK: 134 bad user name or password, 135 not authorized (v5); 4, 5 (3.1.1)
			if (code === 134 || code === 135 || code === 4 || code === 5) {
				refused = err.message || String(code);
				if (client === S.client) setLink('down', lost());
			}
		});
		client.on('message', onMessage);
	}

	function subscribe() {
		const R = S.root, subs = [
			R + '/state/household/+', R + '/state/seal/+', R + '/stats/#', R + '/bridge/status',
			replyTopic() + '/#',
		];
		if (S.unit) subs.push(R + '/alert/' + S.unit.level + '/' + S.unit.id);
		// Bound by login: a platform account is named after its unit, and the
		// ACL lets it read that unit's statistics.
		if (!S.unit && ID_RE.test(S.user)) subs.push(R + '/stats/+/' + S.user);
		S.client.subscribe(subs, {qos: 1}, (err) => {
			if (err) setLink('down', 'Subscribing failed: ' + err.message);
		});
	}

	/* ---------------------------------------------------------- messages */
	function onMessage(topic, payload) {
		const R = S.root + '/';
		if (!topic.startsWith(R)) return;
		const rest = topic.slice(R.length).split('/');
		let msg = null;
		if (payload.length) {
			try { msg = JSON.parse(new TextDecoder().decode(payload)); } catch (e) { return; }
			if (!msg || typeof msg !== 'object') return;
		}
		if (rest[0] === 'state' && rest[1] === 'household' && rest.length === 3) onHousehold(rest[2], msg);
		else if (rest[0] === 'state' && rest[1] === 'seal' && rest.length === 3) onSeal(rest[2], msg);
		else if (rest[0] === 'stats' && rest.length === 3 && msg) onStats(rest[1], rest[2], msg);
		else if (rest[0] === 'alert' && rest.length === 3 && msg) onAlert(rest[1], rest[2], msg);
		else if (rest[0] === 'reply' && msg) onReply(msg);
		else if (rest[0] === 'bridge' && rest[1] === 'status' && msg) onStatus(msg);
		scheduleRender();
	}

	function onHousehold(id, h) {
		const old = S.households.get(id);
		if (!h) { S.households.delete(id); dropHouseholdAlerts(id, old); return; }
		S.households.set(id, h);
		if (h.address) S.labels.set(id, h.address);
		if (h.community_id && h.street_id) S.placeOf.set('community/' + h.community_id, 'street/' + h.street_id);
		if (h.street_id && h.district_id) S.placeOf.set('street/' + h.street_id, 'district/' + h.district_id);
		addUnitOption('community/' + h.community_id);
		addUnitOption('street/' + h.street_id);
		addUnitOption('district/' + h.district_id);
		const open = new Set();
		for (const a of h.alerts || []) {
			open.add(a.alert_id);
			if (S.closedIds.has(a.alert_id)) continue; // a state older than the alert's last message
			const cur = S.alerts.get(a.alert_id) || {};
			S.alerts.set(a.alert_id, Object.assign(cur, {
				alert_id: a.alert_id, type: a.type, state: a.state, level: maxLevel(cur.level, a.level),
				count: Math.max(a.count || 1, cur.count || 0), since: a.since, household_id: id,
				address: h.address, community_id: h.community_id, street_id: h.street_id,
				district_id: h.district_id, device_id: h.device_id,
			}));
		}
		// An alert the household no longer lists has been resolved or cleared.
		for (const [aid, a] of S.alerts)
			if (a.household_id === id && !open.has(aid) && (h.alerts || h.open_alerts)) {
				if (h.open_alerts && h.open_alerts.includes(aid)) continue;
				closeAlert(a, a.closedState || 'closed');
			}
	}

	function dropHouseholdAlerts(id) {
		for (const a of [...S.alerts.values()]) if (a.household_id === id) closeAlert(a, 'resolved');
	}

	function maxLevel(a, b) {
		return LEVELS.indexOf(a) > LEVELS.indexOf(b) ? a : (b || a);
	}

	function onAlert(level, unitId, m) {
		if (S.unit && level === S.unit.level && unitId === S.unit.id) grantAccess();
		if (!m.alert_id) return;
		if (S.closedIds.has(m.alert_id)) {
			const c = S.closed.find((x) => x.alert_id === m.alert_id);
			if (c && (m.state === 'resolved' || m.state === 'cleared'))
				Object.assign(c, {state: m.state, by: m.by, note: m.note, outcome: m.outcome});
			return;
		}
		const isNew = !S.alerts.has(m.alert_id) && m.state === 'raised';
		const cur = S.alerts.get(m.alert_id) || {};
		const a = Object.assign(cur, {
			alert_id: m.alert_id, type: m.type, household_id: m.household_id, address: m.address,
			community_id: m.community_id, street_id: m.street_id, district_id: m.district_id,
			device_id: m.device_id, since: m.since, count: Math.max(m.count || 1, cur.count || 0),
			level: maxLevel(cur.level, m.level), by: m.by, note: m.note, outcome: m.outcome,
			gateway_id: m.gateway_id, households: m.households,
		});
		// Messages of one alert may come out of order across levels; a closed
		// alert stays closed.
		if (!a.closedState) a.state = m.state;
		if (m.state === 'resolved' || m.state === 'cleared') closeAlert(a, m.state);
		else S.alerts.set(m.alert_id, a);
		if (isNew && S.sound) beep();
	}

	function closeAlert(a, state) {
		a.state = state;
		a.closedState = state;
		S.closedIds.add(a.alert_id);
		S.alerts.delete(a.alert_id);
		if (!S.closed.some((c) => c.alert_id === a.alert_id)) {
			S.closed.unshift(a);
			S.closed.length = Math.min(S.closed.length, 30);
		}
	}

	function onStats(level, id, m) {
		if (!LEVELS.includes(level)) return;
		S.stats.set(level + '/' + id, m);
		addUnitOption(level + '/' + id);
		if (!S.unit && id === S.user) {
			chooseUnit({level, id}, true);
		}
		if (S.unit && level === S.unit.level && id === S.unit.id) {
			grantAccess();
			recordHistory(m);
		}
	}

	function onSeal(id, s) {
		if (!s) S.seals.delete(id); else S.seals.set(id, s);
		$('seals-panel').hidden = S.seals.size === 0;
	}

	function onStatus(m) {
		if (m.state && m.state !== 'online' && $('link').dataset.link === 'up')
			setLink('up', 'Connected to the broker; the daemon is ' + m.state + (m.error ? ': ' + m.error : ''));
		else if (m.state === 'online' && $('link').dataset.link === 'up') setLink('up', 'Connected to the broker');
	}

	function onReply(m) {
		const p = S.pending.get(m.request_id);
		if (!p) return;
		S.pending.delete(m.request_id);
		const a = S.alerts.get(p.alert_id) || S.closed.find((c) => c.alert_id === p.alert_id);
		if (!a) return;
		a.busy = false;
		a.error = m.ok ? '' : (m.error + (m.message ? ': ' + m.message : ''));
		if (m.ok && p.action === 'ack' && a.state !== 'acked' && !a.closedState) a.state = 'acked';
		if (m.ok && p.action === 'resolve' && !a.closedState) closeAlert(a, 'resolved');
	}

	function grantAccess() {
		if (S.access) return;
		S.access = true;
		scheduleRender();
	}

	/* ---------------------------------------------------------- commands */
	function command(op, body, alert_id) {
		if (!S.client || !S.client.connected) return false;
		const request_id = 'console-' + S.session + '-' + (++S.seq);
		const msg = Object.assign({request_id, reply_to: replyTopic() + '/' + S.seq}, body);
		S.pending.set(request_id, {alert_id, action: op});
		S.client.publish(S.root + '/cmd/' + op, JSON.stringify(msg), {qos: 1});
		return true;
	}

	const byWhom = () => ID_RE.test(S.user) ? S.user : 'console';

	function ack(a) {
		if (command('ack', {alert_id: a.alert_id, by: byWhom(), note: 'acked from the console'}, a.alert_id)) {
			a.busy = true; a.error = '';
		} else a.error = 'not connected';
		render();
	}

	let resolving = null;
	function askResolve(a) {
		resolving = a;
		$('resolve-what').textContent = typeLabel(a.type) + ' — ' + (a.address || a.household_id || a.gateway_id || '');
		const d = $('resolve-dialog');
		d.querySelector('[name=note]').value = '';
		if (d.showModal) d.showModal(); else d.setAttribute('open', '');
	}
	function onResolveClosed() {
		const d = $('resolve-dialog'), a = resolving;
		resolving = null;
		if (d.returnValue !== 'ok' || !a) return;
		const f = $('resolve-form');
		const body = {alert_id: a.alert_id, by: byWhom(), outcome: f.outcome.value};
		if (f.note.value.trim()) body.note = f.note.value.trim();
		if (command('resolve', body, a.alert_id)) { a.busy = true; a.error = ''; } else a.error = 'not connected';
		render();
	}

	/* ------------------------------------------------------------- sound */
	let audio = null;
	function beep() {
		try {
			audio = audio || new AudioContext();
			const o = audio.createOscillator(), g = audio.createGain();
			o.frequency.value = 880; g.gain.value = 0.15;
			o.connect(g); g.connect(audio.destination);
			o.start(); o.stop(audio.currentTime + 0.25);
		} catch (e) { /* no audio here */ }
	}

	/* ----------------------------------------------------------- history */
	const historyKey = () => 'sealbridge-history:' + S.root + ':' + unitKey(S.unit);
	function loadHistory() {
		try { return JSON.parse(localStorage.getItem(historyKey()) || '[]').filter((p) => Array.isArray(p)); }
		catch (e) { return []; }
	}
	function recordHistory(m) {
		const t = Date.parse(m.at) || Date.now(), h = loadHistory();
		if (h.length && h[h.length - 1][0] >= t) return;
		h.push([t, m.open_alerts | 0]);
		const keep = h.filter((p) => p[0] > Date.now() - HISTORY_KEEP_MS).slice(-3000);
		try { localStorage.setItem(historyKey(), JSON.stringify(keep)); } catch (e) { /* full or private */ }
	}

	/* ------------------------------------------------------------- units */
	const seenUnits = new Set();
	function addUnitOption(key) {
		if (!parseUnit(key) || seenUnits.has(key)) return;
		seenUnits.add(key);
		const sel = $('unit-select');
		const opt = el('option', {value: key}, key);
		const after = [...sel.options].find((o) => o.value && o.value > key);
		sel.insertBefore(opt, after || null);
		if (unitKey(S.unit) === key) sel.value = key;
	}

	function chooseUnit(u, fromLogin) {
		const old = S.unit;
		if (S.client && S.client.connected && old) S.client.unsubscribe(S.root + '/alert/' + old.level + '/' + old.id);
		S.unit = u;
		// Without a login there is no account for an ACL to tell apart (the
		// anonymous broker of scripts/run.sh): show what arrives. With one,
		// wait until the broker has let the unit's statistics or alerts through.
		S.access = !S.user;
		for (const [k, m] of S.stats) if (k === unitKey(u)) { S.access = true; recordHistory(m); }
		$('unit-name').textContent = u ? '· ' + unitKey(u) : '';
		addUnitOption(unitKey(u));
		$('unit-select').value = unitKey(u);
		if (u && S.client && S.client.connected)
			S.client.subscribe(S.root + '/alert/' + u.level + '/' + u.id, {qos: 1});
		const p = new URLSearchParams(location.search);
		p.set('unit', unitKey(u));
		if (S.user) p.set('user', S.user);
		history.replaceState(null, '', location.pathname + '?' + p.toString());
		if (fromLogin) document.body.dataset.boundBy = 'login';
		render();
	}

	/* ------------------------------------------------------------ render */
	let renderQueued = false;
	function scheduleRender() {
		if (renderQueued) return;
		renderQueued = true;
		const run = () => { renderQueued = false; render(); };
		// a hidden tab gets no animation frames; it still keeps its rows current
		if (document.hidden) setTimeout(run, 100); else requestAnimationFrame(run);
	}

	function render() {
		const u = S.unit;
		const access = $('access');
		document.body.dataset.access = S.access ? 'yes' : 'no';
		if (!u) {
			access.hidden = false;
			access.textContent = 'Choose a unit above.';
		} else if (!S.access) {
			access.hidden = false;
			access.textContent = 'Nothing from ' + unitKey(u) + ' has reached this page yet. The broker shows a login ' +
				'only the units its ACL allows; statistics come every stats_interval.';
		} else access.hidden = true;
		const show = !!u && S.access;
		renderAlerts(show);
		renderHouseholds(show);
		renderStats();
		renderChart(show);
		renderSeals(show);
	}

	function renderAlerts(show) {
		const list = show ? [...S.alerts.values()].filter((a) => inUnit(a, S.unit)) : [];
		list.sort((a, b) => String(b.since).localeCompare(String(a.since)));
		const tb = $('alerts').tBodies[0];
		tb.replaceChildren(...list.map(alertRow));
		$('alert-count').textContent = list.length;
		$('alerts-empty').hidden = list.length > 0;
		$('alerts').hidden = list.length === 0;
		const closed = show ? S.closed.filter((a) => inUnit(a, S.unit)) : [];
		$('closed').tBodies[0].replaceChildren(...closed.map((a) => el('tr',
			{'data-alert-id': a.alert_id, 'data-state': a.state, class: 'closed'},
			el('td', {'data-label': 'Type'}, typeLabel(a.type)),
			el('td', {'data-label': 'Address', class: 'label'}, a.address || a.household_id || a.gateway_id || ''),
			el('td', {'data-label': 'Since'}, fmtTime(a.since)),
			el('td', {'data-label': 'State'}, a.state + (a.by ? ' by ' + a.by : '') + (a.outcome ? ' (' + typeLabel(a.outcome) + ')' : '')))));
		$('closed-count').textContent = closed.length;
		$('closed-box').hidden = closed.length === 0;
	}

	function alertRow(a) {
		const ackBtn = el('button', {type: 'button', 'data-action': 'ack', disabled: a.busy || a.state === 'acked'}, 'Ack');
		const resBtn = el('button', {type: 'button', 'data-action': 'resolve', disabled: a.busy}, 'Resolve');
		ackBtn.onclick = () => ack(a);
		resBtn.onclick = () => askResolve(a);
		return el('tr', {'data-alert-id': a.alert_id, 'data-state': a.state, class: 'alert alert-' + a.state},
			el('td', {'data-label': 'Type', class: 'type'}, typeLabel(a.type)),
			el('td', {'data-label': 'Address', class: 'label'},
				a.address || (a.gateway_id ? 'gateway ' + a.gateway_id + ' (' + (a.households || 0) + ' households)' : a.household_id || '')),
			el('td', {'data-label': 'Since', class: 'time'}, fmtTime(a.since)),
			el('td', {'data-label': 'Level'}, a.level || ''),
			el('td', {'data-label': 'Count'}, String(a.count || 1)),
			el('td', {'data-label': 'State', class: 'state'}, a.state + (a.busy ? ' …' : ''),
				a.error ? el('div', {class: 'error'}, a.error) : null),
			el('td', {class: 'actions'}, ackBtn, resBtn));
	}

	function renderHouseholds(show) {
		const list = show ? [...S.households.values()].filter((h) => inUnit(h, S.unit)) : [];
		const nAlerts = (h) => (h.open_alerts || []).length;
		list.sort((a, b) => nAlerts(b) - nAlerts(a) || String(a.address || a.household_id).localeCompare(String(b.address || b.household_id)));
		$('household-count').textContent = list.length;
		// A district can hold many thousands: the first rows (those with open
		// alerts come first) and a count of the rest keep the page quick.
		$('households-more').hidden = list.length <= HOUSEHOLD_ROWS;
		$('households-more').textContent = 'and ' + (list.length - HOUSEHOLD_ROWS) +
			' more households (choose a community to see them all)';
		$('households').tBodies[0].replaceChildren(...list.slice(0, HOUSEHOLD_ROWS).map((h) => el('tr',
			{'data-household-id': h.household_id, class: nAlerts(h) ? 'has-alerts' : ''},
			el('td', {'data-label': 'Door label', class: 'label'}, h.address || h.household_id),
			el('td', {'data-label': 'Door', class: 'door-' + h.door}, h.door || 'unknown'),
			el('td', {'data-label': 'Online'}, h.device_id ? (h.online ? 'yes' : 'no') : 'no seal'),
			el('td', {'data-label': 'Battery'}, h.battery === null || h.battery === undefined ? '—' : h.battery + ' %'),
			el('td', {'data-label': 'Last seen', class: 'time', title: h.last_seen || ''}, fmtTime(h.last_seen, true)),
			el('td', {'data-label': 'Open alerts'}, nAlerts(h) ? String(nAlerts(h)) + ': ' +
				(h.alerts || []).map((a) => typeLabel(a.type)).join(', ') : '0'))));
	}

	const STAT_COLS = ['households', 'fitted', 'online', 'silent', 'doors_open', 'open_alerts'];
	function renderStats() {
		// district -> streets -> communities, from what the broker let through;
		// the parents come from the household states.
		const keys = [...S.stats.keys()];
		const children = new Map(), roots = [];
		for (const k of keys) {
			const parent = S.placeOf.get(k);
			if (parent && S.stats.has(parent)) {
				if (!children.has(parent)) children.set(parent, []);
				children.get(parent).push(k);
			} else roots.push(k);
		}
		const order = (a, b) => LEVELS.indexOf(b.split('/')[0]) - LEVELS.indexOf(a.split('/')[0]) || a.localeCompare(b);
		const rows = [];
		const walk = (k, depth) => {
			const m = S.stats.get(k), [level, id] = k.split('/');
			const tr = el('tr', {'data-unit': k, class: 'depth-' + depth + (k === unitKey(S.unit) ? ' current' : '')},
				el('td', {'data-label': 'Unit', class: 'unit'}, el('span', {class: 'lvl'}, level), ' ', id),
				...STAT_COLS.map((c) => el('td', {'data-label': c.replace('_', ' ')}, m[c] === undefined ? '—' : String(m[c]))));
			tr.onclick = () => chooseUnit({level, id});
			rows.push(tr);
			for (const c of (children.get(k) || []).sort(order)) walk(c, depth + 1);
		};
		for (const k of roots.sort(order)) walk(k, 0);
		$('stats').tBodies[0].replaceChildren(...rows);
		$('stats-empty').hidden = rows.length > 0;
	}

	function renderChart(show) {
		const svg = $('chart'), W = 600, H = 160, pad = 24;
		const now = Date.now(), from = now - HISTORY_HOURS * 3600e3;
		const pts = show ? loadHistory().filter((p) => p[0] >= from) : [];
		if (show) pts.push([now, [...S.alerts.values()].filter((a) => inUnit(a, S.unit)).length]);
		const max = Math.max(1, ...pts.map((p) => p[1]));
		const x = (t) => pad + (W - 2 * pad) * (t - from) / (now - from);
		const y = (v) => H - pad - (H - 2 * pad) * v / max;
		const ns = 'http://www.w3.org/2000/svg';
		const mk = (tag, attrs, text) => {
			const e = document.createElementNS(ns, tag);
			for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
			if (text !== undefined) e.textContent = text;
			return e;
		};
		const kids = [mk('line', {x1: pad, y1: H - pad, x2: W - pad, y2: H - pad, class: 'axis'}),
			mk('line', {x1: pad, y1: pad, x2: pad, y2: H - pad, class: 'axis'}),
			mk('text', {x: 2, y: pad + 4, class: 'tick'}, String(max)),
			mk('text', {x: 2, y: H - pad + 4, class: 'tick'}, '0'),
			mk('text', {x: pad, y: H - 6, class: 'tick'}, '-' + HISTORY_HOURS + ' h'),
			mk('text', {x: W - pad - 20, y: H - 6, class: 'tick'}, 'now')];
		if (pts.length) {
			// a step line: the count holds until the next sample
			let d = '';
			pts.forEach((p, i) => {
				d += (i ? ' H' + x(p[0]).toFixed(1) + ' V' : 'M' + x(p[0]).toFixed(1) + ' ') + y(p[1]).toFixed(1);
			});
			kids.push(mk('path', {d, class: 'line'}));
		}
		svg.replaceChildren(...kids);
		$('chart-hours').textContent = HISTORY_HOURS;
	}

	const SEAL_STATES = ['in_stock', 'allocated', 'fitted', 'awaiting_collection', 'collected', 'faulty', 'lost'];
	function renderSeals(show) {
		if (!S.seals.size) return;
		const u = S.unit;
		const mine = show ? [...S.seals.values()].filter((s) => u.level === 'district' ||
			s[u.level + '_id'] === u.id || (s.household_id && inUnit(S.households.get(s.household_id), u))) : [];
		const count = {};
		for (const s of mine) count[s.state] = (count[s.state] || 0) + 1;
		$('seal-stock').replaceChildren(...SEAL_STATES.filter((st) => count[st]).map((st) =>
			el('div', {class: 'stock-item', 'data-seal-state': st}, el('b', {}, String(count[st])), ' ', typeLabel(st))));
		const work = mine.filter((s) => s.state === 'awaiting_collection');
		$('worklist-count').textContent = work.length;
		$('worklist').tBodies[0].replaceChildren(...work.map((s) => el('tr', {'data-device-id': s.device_id},
			el('td', {'data-label': 'Seal'}, s.device_id),
			el('td', {'data-label': 'Household'}, s.household_id || '—'),
			el('td', {'data-label': 'Door label', class: 'label'}, S.labels.get(s.household_id) || '—'),
			el('td', {'data-label': 'Battery'}, s.battery === null || s.battery === undefined ? '—' : s.battery + ' %'),
			el('td', {'data-label': 'Last seen'}, fmtTime(s.last_seen)))));
	}

	/* -------------------------------------------------------------- boot */
	function boot() {
		const url = readUrl();
		$('sound').checked = false;
		$('sound').onchange = (e) => { S.sound = e.target.checked; if (S.sound) beep(); };
		$('unit-select').onchange = (e) => { const u = parseUnit(e.target.value); if (u) chooseUnit(u); };
		$('logout').onclick = () => {
			if (S.client) S.client.end(true);
			S.client = null; S.opts = null;
			location.href = location.pathname;
		};
		$('resolve-dialog').addEventListener('close', onResolveClosed);
		$('login').onsubmit = (e) => {
			e.preventDefault();
			const f = e.target;
			connect({user: f.user.value.trim(), password: f.password.value, broker: f.broker.value.trim(),
				root: f.root.value.trim() || 'seal'});
			f.password.value = '';
			if (S.unit) chooseUnit(S.unit);
		};

		setInterval(render, 30e3); // relative times and the chart move on
		// A kiosk URL (?unit=…, with a login if the broker wants one) opens
		// straight in; otherwise ask.
		if (url.unit || url.user || url.password !== null) {
			connect({user: url.user, password: url.password || '', broker: url.broker, root: url.root || 'seal'});
			if (url.unit) chooseUnit(url.unit); else render();
		} else {
			const f = $('login');
			f.broker.value = url.broker; f.root.value = url.root || 'seal';
			f.hidden = false;
		}
	}
	document.addEventListener('DOMContentLoaded', boot);
	window.sealbridgeConsole = S; // for tests and the curious
})();
