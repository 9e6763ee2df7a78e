// dashboard.js - the live dashboard: polls stats (the loader's /stats) once a second and draws it.
//
// Every figure comes from the JSON as the loader computed it (rates, ETAs,
// latency quantiles); this script only lays them out. Each figure's element
// carries the raw value in data-value beside the formatted text, so that a
// test reading the DOM compares numbers, not formatting.
"use strict";

(() => {
	const POLL_MS = 1000;
	// Charts in a half-width panel are drawn this wide, so that their text
	// keeps the size of the full-width ones'.
	const HALF = 480;
	const $ = (id) => document.getElementById(id);

	const setValue = (id, value, text) => {
		const el = $(id);
		el.dataset.value = value === null || value === undefined ? "" : String(value);
		el.textContent = text !== undefined ? text : Chart.int(value);
	};

	const seconds = (v) => (typeof v === "number" ? Chart.duration(v) : "–");

	const renderHeader = (s) => {
		$("command").textContent = s.command;
		$("table").textContent = s.table ? "into " + s.table : "";
		const state = $("state");
		state.textContent = s.up ? "running" : "finished";
		state.className = "badge " + (s.up ? "up" : "down");
		const started = new Date(s.start_time_unix * 1000);
		let meta = "version " + s.version + " · started " + started.toLocaleString() + " · " + s.workers_count + " workers";
		if (s.last_success_unix) meta += " · last success " + new Date(s.last_success_unix * 1000).toLocaleString();
		$("meta").textContent = meta;
		document.title = "edonu-ingest " + s.command + (s.table ? " · " + s.table : "");
	};

	const renderTotals = (s) => {
		for (const k of ["loaded", "rejected", "ignored", "skipped"]) setValue("v-" + k, s.records[k]);
		setValue("v-rate", s.rate.records_per_s, Chart.int(s.rate.records_per_s));
		setValue("v-bytes", s.bytes_read, Chart.bytes(s.bytes_read));
		setValue("v-batches", s.batches);
		setValue("v-retries", s.retries + s.isolation_retries);
		setValue("v-keys-invalidated", s.cache.keys_invalidated);
		setValue("v-keys-pending", s.cache.keys_pending);
		setValue("v-round-trips", s.cache.round_trips);
		setValue("v-queue", s.queue_depth);
	};

	const renderRate = (s) => {
		const h = s.history;
		$("rate-window").textContent = "now " + Chart.int(s.rate.records_per_s) + "/s over the last " + s.rate.window_s + " s";
		const points = h.seconds_ago.map((ago, i) => [-ago, h.records_per_s[i]]);
		const span = Math.max(60, ...h.seconds_ago);
		$("chart-rate").innerHTML = Chart.lines({
			title: "records per second",
			series: [{name: "records/s", points}],
			xMin: -span,
			xMax: 0,
			xTicks: [-span, (-span * 2) / 3, -span / 3, 0],
			xFormat: (x) => (x === 0 ? "now" : "-" + Chart.duration(-x)),
			area: true,
		});
		const commit = h.seconds_ago.map((ago, i) => [-ago, h.commit_mean_ms[i]]);
		$("chart-commit").innerHTML = Chart.lines({
			title: "mean commit latency per second (ms)",
			series: [{name: "mean commit ms", points: commit}],
			xMin: -span,
			xMax: 0,
			xTicks: [-span, -span / 2, 0],
			xFormat: (x) => (x === 0 ? "now" : "-" + Chart.duration(-x)),
			yFormat: (v) => Chart.si(v) + "ms",
			width: HALF,
			height: 180,
		});
	};

	const fileRow = (f) => {
		const tr = document.createElement("tr");
		tr.className = "state-" + f.state;
		tr.dataset.name = f.name;
		tr.dataset.state = f.state;
		tr.dataset.bytes = f.bytes;
		tr.dataset.percent = f.percent === null ? "" : f.percent;
		const pct = f.percent === null ? "" : f.percent.toFixed(1) + " %";
		tr.innerHTML =
			`<td class="name">${Chart.esc(f.name === "-" ? "standard input" : f.name)}</td>` +
			`<td>${Chart.esc(f.state)}</td>` +
			`<td class="num">${Chart.bytes(f.bytes)}</td>` +
			`<td class="num">${f.size === null ? "unknown" : Chart.bytes(f.size)}</td>` +
			`<td><div class="progress" title="${pct}"><div class="fill" style="width:${f.percent === null ? 0 : f.percent}%"></div></div></td>` +
			`<td class="num">${f.eta_s === null ? "" : Chart.duration(f.eta_s)}</td>`;
		return tr;
	};

	const renderJob = (s) => {
		const j = s.job;
		const panel = $("job-panel");
		panel.dataset.active = j ? "1" : "0";
		if (!j) {
			$("job-summary").textContent = s.up ? "between jobs" : "done";
			$("files").replaceChildren();
			$("files-more").textContent = "";
			return;
		}
		let sum = Chart.bytes(j.bytes) + (j.bytes_total === null ? " read (size unknown)" : " of " + Chart.bytes(j.bytes_total));
		if (j.percent !== null) sum += " · " + j.percent.toFixed(1) + " %";
		if (j.eta_s !== null) sum += " · ETA " + Chart.duration(j.eta_s);
		$("job-summary").textContent = sum;
		$("job-fill").style.width = (j.percent === null ? 0 : j.percent) + "%";
		$("files").replaceChildren(...j.files.map(fileRow));
		const shown = j.files.length;
		$("files-more").textContent = shown < j.files_total ? `inputs ${j.files_first + 1}–${j.files_first + shown} of ${j.files_total}` : "";
	};

	const renderWorkers = (s) => {
		const items = [];
		for (const w of s.workers) {
			items.push({label: "worker " + w.id + " queue", value: w.queue_depth, text: String(w.queue_depth), cls: w.queue_depth ? "" : "them"});
		}
		const depth = $("chart-workers");
		depth.dataset.workers = s.workers.length;
		if (!items.length) {
			depth.textContent = "no job running";
			return;
		}
		const loaded = s.workers.map((w) => ({label: "worker " + w.id + " loaded", value: w.loaded, text: Chart.int(w.loaded) + " in " + Chart.int(w.batches) + " batches", cls: "redis"}));
		depth.innerHTML =
			Chart.bars({title: "chunks waiting per worker", items, max: Math.max(3, ...s.workers.map((w) => w.queue_depth)), labelWidth: 130, width: HALF}) +
			Chart.bars({title: "records loaded per worker", items: loaded, labelWidth: 130, width: HALF});
	};

	const renderCommit = (s) => {
		const c = s.commit_seconds;
		setValue("v-commit-mean", c.mean, c.count ? Chart.duration(c.mean) : "–");
		setValue("v-commit-p50", c.p50, c.count ? Chart.duration(c.p50) : "–");
		setValue("v-commit-p90", c.p90, c.count ? Chart.duration(c.p90) : "–");
		setValue("v-commit-p99", c.p99, c.count ? Chart.duration(c.p99) : "–");
		const items = c.buckets.map((b, i) => ({
			label: b.le === null ? "> " + Chart.duration(c.buckets[i - 1].le) : "≤ " + Chart.duration(b.le),
			value: b.count,
			text: Chart.int(b.count),
		}));
		$("chart-commit-hist").innerHTML = Chart.bars({title: "batches by commit latency", items, labelWidth: 80, width: HALF});
	};

	const renderRun = (s) => {
		const r = s.run;
		$("run-panel").hidden = !r;
		if (!r) return;
		setValue("v-run-done", r.done);
		setValue("v-run-failed", r.failed);
		setValue("v-run-waiting", r.waiting);
		setValue("v-run-left", r.left);
		$("run-current").textContent = (r.current ? "loading " + r.current + " · " : "") + r.files_total + " files in this run";
		$("run-recent").replaceChildren(
			...r.recent.map((f) => {
				const tr = document.createElement("tr");
				tr.dataset.name = f.name;
				tr.dataset.outcome = f.outcome;
				tr.innerHTML =
					`<td class="name">${Chart.esc(f.name)}</td><td class="outcome-${f.outcome}">${f.outcome}</td>` +
					`<td class="num">${Chart.int(f.loaded)}</td><td class="num">${Chart.int(f.rejected)}</td>`;
				return tr;
			})
		);
	};

	const render = (s) => {
		renderHeader(s);
		renderTotals(s);
		renderRate(s);
		renderJob(s);
		renderWorkers(s);
		renderCommit(s);
		renderRun(s);
		document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
		document.body.dataset.up = s.up ? "1" : "0";
	};

	// The loader gone (the load ended): the last figures stay on the page.
	const lost = () => {
		const state = $("state");
		state.textContent = "loader not answering: last figures shown";
		state.className = "badge lost";
	};

	const poll = async () => {
		try {
			const r = await fetch("stats", {cache: "no-store"});
			if (r.ok) render(await r.json());
			else lost();
		} catch (e) {
			lost();
		}
		setTimeout(poll, POLL_MS);
	};
	poll();
})();
