/* progress.c - progress line on stderr: carriage return and erase, so it redraws in place. */
#include "progress.h"

#include <stdio.h>
#include <unistd.h>

static void human_bytes(char *out, size_t n, double b)
{
	const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;
	while (b >= 1024 && u < 4) {
		b /= 1024;
		u++;
	}
	snprintf(out, n, "%.1f %s", b, unit[u]);
}

double progress_rate_add(struct progress_rate *r, double t_s, uint64_t n)
{
	r->t[r->head] = t_s;
	r->n[r->head] = n;
	uint32_t newest = r->head;
	r->head = (r->head + 1) % PROGRESS_RATE_SAMPLES;
	if (r->count < PROGRESS_RATE_SAMPLES)
		r->count++;
	/* The oldest sample still inside the window (or the oldest kept when
	 * samples are sparser than the window). */
	uint32_t oldest = newest;
	for (uint32_t k = 1; k < r->count; k++) {
		uint32_t i = (newest + PROGRESS_RATE_SAMPLES - k) % PROGRESS_RATE_SAMPLES;
		if (t_s - r->t[i] > PROGRESS_RATE_WINDOW_S && oldest != newest)
			break;
		oldest = i;
	}
	double dt = t_s - r->t[oldest];
	if (oldest == newest || dt <= 0)
		return 0;
	return (double)(n - r->n[oldest]) / dt;
}

static void with_commas(char *out, size_t n, uint64_t v)
{
	char digits[24];
	int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
	size_t o = 0;
	for (int i = 0; i < len && o + 2 < n; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
}

void progress_draw(const struct progress_state *p)
{
	char line[256], done[32], total[32], eta[32] = "";
	human_bytes(done, sizeof done, (double)p->bytes);
	double rate = p->elapsed_s > 0 ? (double)p->records / p->elapsed_s : 0;
	int n;
	if (p->bytes_total > 0) {
		human_bytes(total, sizeof total, (double)p->bytes_total);
		double frac = (double)p->bytes / (double)p->bytes_total;
		if (frac > 1)
			frac = 1;
		if (frac > 0.01 && p->elapsed_s > 0.5) {
			double left = p->elapsed_s * (1 - frac) / frac;
			snprintf(eta, sizeof eta, " ETA %um%02us", (unsigned)left / 60, (unsigned)left % 60);
		}
		n = snprintf(line, sizeof line, "\r\033[K%s / %s (%.0f%%)  %.0f records/s  %llu rejected%s", done,
			     total, frac * 100, rate, (unsigned long long)p->rejected, eta);
	} else {
		char loaded[32];
		with_commas(loaded, sizeof loaded, p->loaded);
		n = snprintf(line, sizeof line, "\r\033[K%s loaded  %.0f records/s  %llu rejected  %s read", loaded,
			     p->recent_per_s, (unsigned long long)p->rejected, done);
	}
	if (n > 0) {
		ssize_t w = write(STDERR_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
		(void)w;
	}
}

void progress_end(void)
{
	ssize_t w = write(STDERR_FILENO, "\n", 1);
	(void)w;
}
