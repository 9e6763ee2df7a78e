// report.js - the bench report: reads the figures' JSON the page carries and draws it.
//
// The JSON is what bench --json writes. The report does not assume which
// figures there are: every object with a records_per_minute is a figure,
// drawn in the chart of the section it stands in (end_to_end, stages,
// scaling), labelled by its own "label"; any numeric field of an
// end-to-end figure whose name says cpu goes to the CPU chart, and every
// field of every figure goes to the raw tables. A figure or field the
// bench adds later shows up without a change here.
"use strict";

(() => {
	const $ = (id) => document.getElementById(id);
	const data = JSON.parse($("bench-data").textContent);

	const isFigure = (v) => v !== null && typeof v === "object" && !Array.isArray(v) && "records_per_minute" in v;
	const figuresOf = (obj) =>
		Array.isArray(obj)
			? obj.filter(isFigure).map((f, i) => [String(i), f])
			: Object.entries(obj || {}).filter(([, v]) => isFigure(v));
	const measured = (f) => typeof f.records_per_minute === "number" && f.records_per_minute > 0;
	const labelOf = (key, f) => f.label || key.replace(/_/g, " ");

	// Numeric leaves of an object as [path, value]: nested objects give
	// "a.b"; arrays (the runs' seconds) are left to the raw tables.
	const leaves = (obj, prefix = "") =>
		Object.entries(obj).flatMap(([k, v]) => {
			const path = prefix ? prefix + "." + k : k;
			if (typeof v === "number") return [[path, v]];
			if (v !== null && typeof v === "object" && !Array.isArray(v)) return leaves(v, path);
			return [];
		});

	const perMinute = (v) => Chart.si(v) + "/min";

	const header = () => {
		$("kind").textContent = data.quick ? "--quick" : "full run";
		let line = `${Chart.int(data.rows)} orders records, ${Chart.bytes(data.bytes)} csv, ${data.cpus} CPUs, ` +
			`${data.workers} workers, median of ${data.runs} run${data.runs === 1 ? "" : "s"}`;
		if (data.finished_at) line += " · " + data.finished_at;
		$("headline").textContent = line;
		const v = $("verdict");
		const floor = Chart.int(data.floor_records_per_minute);
		v.textContent = data.passed ? `every end-to-end line at or above ${floor} records/min` : `below the floor of ${floor} records/min`;
		v.className = "badge " + (data.passed ? "pass" : "fail");
		document.title = "edonu-ingest bench" + (data.quick ? " --quick" : "") + (data.finished_at ? " · " + data.finished_at : "");
	};

	const e2eClass = (key) =>
		/floor/.test(key) ? "floor" : /^(psql|pgloader)/.test(key) ? "them" : /redis/.test(key) ? "redis" : "";

	const endToEnd = () => {
		const figs = figuresOf(data.end_to_end);
		const psql = data.end_to_end && data.end_to_end.psql;
		const items = figs.map(([key, f]) => {
			let text = measured(f) ? perMinute(f.records_per_minute) + " · " + f.seconds_median.toFixed(3) + " s" : f.reason || "not measured";
			if (measured(f) && psql && measured(psql) && key !== "psql") text += " · ×" + (f.seconds_median / psql.seconds_median).toFixed(2) + " psql's time";
			return {label: labelOf(key, f), value: measured(f) ? f.records_per_minute : null, text, cls: e2eClass(key)};
		});
		const refs = typeof data.floor_records_per_minute === "number" ? [{value: data.floor_records_per_minute, label: perMinute(data.floor_records_per_minute) + " floor"}] : [];
		$("chart-e2e").innerHTML = Chart.bars({title: "end to end, records per minute", items, refs, labelWidth: 260});
		const notes = [];
		// ratio_to_X: edonu-ingest's time over X's, for each X the bench compares with.
		for (const [k, v] of Object.entries(data.end_to_end || {})) {
			const m = /^ratio_to_(.+)$/.exec(k);
			if (m && typeof v === "number") {
				const other = data.end_to_end[m[1]] || Object.entries(data.end_to_end).find(([key]) => key.includes(m[1]))?.[1];
				const name = isFigure(other) ? labelOf(m[1], other) : m[1].replace(/_/g, " ");
				notes.push(`edonu-ingest takes ${v.toFixed(2)}× the time of ${name}.`);
			}
		}
		for (const [key, f] of figs) if (f.keys_invalidated) notes.push(`${labelOf(key, f)}: ${Chart.int(f.keys_invalidated)} cache keys invalidated per run (${f.invalidate || "template"}).`);
		$("e2e-notes").textContent = notes.join(" ");
		cpu(figs);
	};

	// Fields named cpu: seconds (cpu_loader_s, cpu_seconds.server, ...) in
	// one chart, figures per million records (..._per_million_records) in
	// another, so that no chart mixes units.
	const cpu = (figs) => {
		const seconds = [], perMillion = [];
		for (const [key, f] of figs)
			for (const [path, v] of leaves(f)) {
				if (!/cpu/i.test(path)) continue;
				const item = {label: labelOf(key, f) + " · " + path.replace(/_/g, " "), value: v, text: v.toFixed(2) + " s", cls: /server|postgres/i.test(path) ? "them" : e2eClass(key)};
				if (/per_?million/i.test(path)) perMillion.push(item);
				else if (!/per_/i.test(path)) seconds.push(item);
			}
		$("cpu-panel").hidden = seconds.length + perMillion.length === 0;
		let html = "";
		if (seconds.length) html += Chart.bars({title: "CPU seconds per run", items: seconds, labelWidth: 200});
		if (perMillion.length) html += `<h3 class="small">per million records</h3>` + Chart.bars({title: "CPU seconds per million records", items: perMillion, labelWidth: 200});
		$("chart-cpu").innerHTML = html;
	};

	const stages = () => {
		const items = figuresOf(data.stages).map(([key, f]) => ({
			label: labelOf(key, f),
			value: measured(f) ? f.records_per_minute : null,
			text: measured(f) ? perMinute(f.records_per_minute) + " · " + f.mb_per_s.toFixed(0) + " MB/s" : f.reason || "not measured",
		}));
		$("stages-note").textContent = `records per minute, ${data.stage_threads || 1} thread each, input in the page cache`;
		$("chart-stages").innerHTML = Chart.bars({title: "stages, records per minute", items, labelWidth: 260});
	};

	const scaling = () => {
		const figs = figuresOf(data.scaling).map(([, f]) => f).filter(measured);
		$("scaling-panel").hidden = figs.length === 0;
		if (!figs.length) return;
		const byRows = new Map();
		for (const f of figs) {
			if (!byRows.has(f.records)) byRows.set(f.records, []);
			byRows.get(f.records).push([f.workers, f.records_per_minute]);
		}
		const series = [...byRows].map(([rows, pts]) => ({name: Chart.int(rows) + " rows", points: pts.sort((a, b) => a[0] - b[0])}));
		const workers = [...new Set(figs.map((f) => f.workers))].sort((a, b) => a - b);
		$("chart-scaling").innerHTML = Chart.lines({
			title: "records per minute by workers",
			series,
			xTicks: workers,
			xFormat: (w) => w + (w === 1 ? " worker" : " workers"),
			dots: true,
		});
	};

	const keyValueTable = (id, rows) => {
		$(id).innerHTML = rows.map(([k, v]) => `<tr><th>${Chart.esc(k)}</th><td>${Chart.esc(v)}</td></tr>`).join("");
	};

	const machine = () => {
		const names = {cpu_model: "CPU", cpus: "CPUs", memory_bytes: "memory", kernel: "Linux", postgresql: "PostgreSQL", redis: "Redis", edonu_ingest: "edonu-ingest"};
		keyValueTable("machine", Object.entries(data.machine || {}).map(([k, v]) => [names[k] || k, k === "memory_bytes" ? Chart.bytes(v) : v]));
		const run = Object.entries(data).filter(([, v]) => v === null || typeof v !== "object");
		for (const [k, v] of Object.entries(data.end_to_end || {})) if (typeof v === "number") run.push([k, v]);
		keyValueTable("run", run.map(([k, v]) => [k.replace(/_/g, " "), typeof v === "number" && Math.abs(v) >= 1e4 ? Chart.int(v) : String(v)]));
	};

	// One table per section: a row a figure, a column per field any of
	// them has.
	const rawTables = () => {
		let html = "";
		for (const [section, value] of Object.entries(data)) {
			const figs = figuresOf(value);
			if (!figs.length) continue;
			const cols = [];
			for (const [, f] of figs)
				for (const [k, v] of Object.entries(f)) {
					const names = v !== null && typeof v === "object" && !Array.isArray(v) ? leaves(v, k).map(([p]) => p) : [k];
					for (const n of names) if (!cols.includes(n) && n !== "label") cols.push(n);
				}
			const cell = (f, col) => {
				const v = col.split(".").reduce((o, k) => (o === null || o === undefined ? undefined : o[k]), f);
				if (v === undefined || v === null) return "";
				if (Array.isArray(v)) return v.join(" ");
				return typeof v === "number" && Math.abs(v) >= 1e4 ? Chart.int(v) : String(v);
			};
			html += `<h3>${Chart.esc(section.replace(/_/g, " "))}</h3><div class="scroll"><table data-section="${Chart.esc(section)}"><thead><tr><th>figure</th>` +
				cols.map((c) => `<th class="num">${Chart.esc(c.replace(/_/g, " "))}</th>`).join("") + "</tr></thead><tbody>" +
				figs.map(([key, f]) => `<tr data-figure="${Chart.esc(key)}"><td>${Chart.esc(labelOf(key, f))}</td>` + cols.map((c) => `<td class="num">${Chart.esc(cell(f, c))}</td>`).join("") + "</tr>").join("") +
				"</tbody></table></div>";
		}
		$("raw-tables").innerHTML = html;
	};

	header();
	endToEnd();
	stages();
	scaling();
	machine();
	rawTables();
	document.body.dataset.rendered = "1";
})();
