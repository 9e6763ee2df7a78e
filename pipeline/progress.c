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
		n = snprintf(line, sizeof line, "\r\033[K%s  %.0f records/s  %llu rejected", done, rate,
			     (unsigned long long)p->rejected);
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
