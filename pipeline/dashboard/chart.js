// chart.js - small SVG charts as markup strings, for the live dashboard and the bench report.
//
// Every chart is returned as an <svg> element's markup, to be set as a
// container's innerHTML: the HTML parser gives it the SVG namespace, so
// the pages never name it (they name no URL at all). Values are numbers;
// labels are escaped here. Nothing is fetched and nothing is kept between
// calls.
"use strict";

const Chart = (() => {
	const esc = (s) =>
		String(s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})[c]);

	// 1234567 -> "1,234,567"; null and non-numbers -> "–".
	const int = (v) => {
		if (typeof v !== "number" || !isFinite(v)) return "–";
		const s = Math.round(Math.abs(v)).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
		return v < 0 ? "-" + s : s;
	};

	// 1234567 -> "1.23M": axis labels and bar values.
	const si = (v) => {
		if (typeof v !== "number" || !isFinite(v)) return "–";
		const a = Math.abs(v);
		const units = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];
		for (const [d, u] of units) if (a >= d) return +(v / d).toPrecision(3) + u;
		return +v.toPrecision(3) + "";
	};

	const bytes = (v) => {
		if (typeof v !== "number" || !isFinite(v)) return "–";
		const units = ["B", "KiB", "MiB", "GiB", "TiB"];
		let u = 0;
		while (Math.abs(v) >= 1024 && u < units.length - 1) {
			v /= 1024;
			u++;
		}
		return (u === 0 ? v.toFixed(0) : v.toFixed(1)) + " " + units[u];
	};

	// Seconds -> "1h 02m", "3m 05s", "42s", "2.5s", "850ms".
	const duration = (s) => {
		if (typeof s !== "number" || !isFinite(s) || s < 0) return "–";
		if (s < 1) return +(s * 1000).toPrecision(3) + "ms";
		if (s < 10) return +s.toPrecision(2) + "s";
		s = Math.round(s);
		const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
		const two = (n) => (n < 10 ? "0" : "") + n;
		if (h > 0) return h + "h " + two(m) + "m";
		if (m > 0) return m + "m " + two(r) + "s";
		return r + "s";
	};

	// A round upper bound and step for an axis from 0 to max.
	const niceAxis = (max, ticks) => {
		if (!(max > 0)) return {max: 1, step: 0.25};
		const raw = max / ticks;
		const mag = Math.pow(10, Math.floor(Math.log10(raw)));
		const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((s) => s >= raw);
		return {max: step * Math.ceil(max / step - 1e-9), step};
	};

	const svgOpen = (w, h, label, cls) =>
		`<svg class="chart ${cls}" viewBox="0 0 ${w} ${h}" width="100%" role="img" aria-label="${esc(label)}">` +
		`<title>${esc(label)}</title>`;

	// Lines over a numeric x axis. opts: {title, series: [{name, points:
	// [[x, y], ...]}] (y null breaks a line), xFormat, yFormat, xLabel,
	// width, height, area (fill under a single series)}.
	const lines = (opts) => {
		const W = opts.width || 720, H = opts.height || 220;
		const L = 64, R = 16, T = opts.series.length > 1 ? 28 : 12, B = 34;
		const pts = opts.series.flatMap((s) => s.points.filter((p) => p[1] !== null && isFinite(p[1])));
		const xs = pts.map((p) => p[0]);
		let x0 = opts.xMin !== undefined ? opts.xMin : Math.min(...xs);
		let x1 = opts.xMax !== undefined ? opts.xMax : Math.max(...xs);
		if (!pts.length) {
			x0 = 0;
			x1 = 1;
		}
		if (x1 === x0) x1 = x0 + 1;
		const ax = niceAxis(Math.max(0, ...pts.map((p) => p[1])), 4);
		const X = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
		const Y = (y) => T + (1 - y / ax.max) * (H - T - B);
		const yf = opts.yFormat || si, xf = opts.xFormat || si;
		let out = svgOpen(W, H, opts.title, "lines");
		for (let v = 0; v <= ax.max + 1e-9; v += ax.step) {
			out += `<line class="grid" x1="${L}" x2="${W - R}" y1="${Y(v)}" y2="${Y(v)}"/>`;
			out += `<text class="tick" x="${L - 6}" y="${Y(v) + 4}" text-anchor="end">${esc(yf(v))}</text>`;
		}
		const xticks = opts.xTicks || [x0, x0 + (x1 - x0) / 3, x0 + (2 * (x1 - x0)) / 3, x1];
		for (const x of xticks) {
			// The ends' labels stay inside the chart.
			const anchor = x <= x0 ? "start" : x >= x1 ? "end" : "middle";
			out += `<text class="tick" x="${X(x)}" y="${H - B + 16}" text-anchor="${anchor}">${esc(xf(x))}</text>`;
		}
		if (opts.xLabel)
			out += `<text class="axis-label" x="${(L + W - R) / 2}" y="${H - 4}" text-anchor="middle">${esc(opts.xLabel)}</text>`;
		opts.series.forEach((s, i) => {
			let d = "", pen = "M";
			for (const [x, y] of s.points) {
				if (y === null || !isFinite(y)) {
					pen = "M";
					continue;
				}
				d += `${pen}${X(x).toFixed(1)} ${Y(y).toFixed(1)} `;
				pen = "L";
			}
			if (opts.area && opts.series.length === 1 && s.points.length > 1 && d)
				out += `<path class="area" d="${d}L${X(s.points[s.points.length - 1][0]).toFixed(1)} ${Y(0)} ` +
					`L${X(s.points[0][0]).toFixed(1)} ${Y(0)} Z"/>`;
			out += `<path class="line s${i % 6}" d="${d}"/>`;
			for (const [x, y] of s.points)
				if (y !== null && isFinite(y) && (s.points.length < 40 || opts.dots))
					out += `<circle class="dot s${i % 6}" cx="${X(x).toFixed(1)}" cy="${Y(y).toFixed(1)}" r="3"><title>${esc(s.name + ": " + yf(y) + " at " + xf(x))}</title></circle>`;
			if (opts.series.length > 1)
				out += `<rect class="key s${i % 6}" x="${L + i * 150}" y="6" width="12" height="12"/>` +
					`<text class="legend" x="${L + i * 150 + 18}" y="16">${esc(s.name)}</text>`;
		});
		return out + "</svg>";
	};

	// Horizontal bars. opts: {title, items: [{label, value, text, cls}]
	// (value null: the bar is left out and text says why), refs: [{value,
	// label}] drawn as vertical lines, max, width, labelWidth}.
	const bars = (opts) => {
		const W = opts.width || 720, row = 26, T = opts.refs && opts.refs.length ? 22 : 6;
		// Labels get the room they need (about 6.2 px a character at
		// 11 px), at least labelWidth, at most half the chart and a bit.
		const longest = Math.max(0, ...opts.items.map((it) => String(it.label).length));
		const LW = Math.min(W * 0.55, Math.max(opts.labelWidth || 0, 14 + 6.2 * longest));
		const H = T + opts.items.length * row + 8;
		const vals = opts.items.map((it) => it.value).filter((v) => typeof v === "number" && isFinite(v));
		const refs = opts.refs || [];
		const max = opts.max || Math.max(1e-9, ...vals, ...refs.map((r) => r.value));
		// Room right of the longest bar for its value (about 6.6 px a
		// character at 11 px).
		const room = Math.min(W / 2, 16 + 6.6 * Math.max(4, ...opts.items.map((it) => String(it.text || "").length)));
		const X = (v) => LW + (Math.max(0, v) / max) * (W - LW - room);
		let out = svgOpen(W, H, opts.title, "bars");
		opts.items.forEach((it, i) => {
			const y = T + i * row;
			out += `<text class="bar-label" x="${LW - 8}" y="${y + 17}" text-anchor="end">${esc(it.label)}</text>`;
			if (typeof it.value === "number" && isFinite(it.value)) {
				out += `<rect class="bar ${esc(it.cls || "")}" x="${LW}" y="${y + 4}" width="${Math.max(1, X(it.value) - LW).toFixed(1)}" height="${row - 8}"><title>${esc(it.label + ": " + (it.text || si(it.value)))}</title></rect>`;
				out += `<text class="bar-value" x="${X(it.value) + 6}" y="${y + 17}">${esc(it.text || si(it.value))}</text>`;
			} else {
				out += `<text class="bar-missing" x="${LW + 4}" y="${y + 17}">${esc(it.text || "not measured")}</text>`;
			}
		});
		for (const r of refs) {
			const x = X(r.value).toFixed(1);
			out += `<line class="ref" x1="${x}" x2="${x}" y1="${T - 4}" y2="${H - 4}"/>`;
			out += `<text class="ref-label" x="${x}" y="${T - 8}" text-anchor="middle">${esc(r.label)}</text>`;
		}
		return out + "</svg>";
	};

	return {esc, int, si, bytes, duration, niceAxis, lines, bars};
})();
